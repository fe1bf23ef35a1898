// The zstd HDF5 filter (registered id 32015). Chunk layout follows the
// registered filter: the chunk is one zstd frame; cd_values[0], when given,
// is the compression level. Frames carry their content size and a content
// checksum (XXH64), so a damaged chunk fails to decode (HDF5 then reports a
// read error naming the dataset) instead of decoding to garbage; frames
// without a size (other writers may stream) are decoded with the streaming API.
#include "gcml_shim.h"
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

static size_t decompress_streaming(const void *src, size_t src_size, void **out) {
    ZSTD_DStream *stream = ZSTD_createDStream();
    if (!stream) return 0;
    size_t capacity = src_size * 4 + 1024, used = 0;
    char *dst = malloc(capacity);
    if (!dst) { ZSTD_freeDStream(stream); return 0; }
    ZSTD_inBuffer input = {src, src_size, 0};
    for (;;) {
        if (used == capacity) {
            if (capacity >= GCML_MAX_CHUNK_BYTES) { free(dst); ZSTD_freeDStream(stream); return 0; }
            char *bigger = realloc(dst, capacity * 2);
            if (!bigger) { free(dst); ZSTD_freeDStream(stream); return 0; }
            dst = bigger; capacity *= 2;
        }
        ZSTD_outBuffer output = {dst + used, capacity - used, 0};
        size_t status = ZSTD_decompressStream(stream, &output, &input);
        if (ZSTD_isError(status)) { free(dst); ZSTD_freeDStream(stream); return 0; }
        used += output.pos;
        if (status == 0 && input.pos == input.size) break;
        if (input.pos == input.size && output.pos < output.size) break;
    }
    ZSTD_freeDStream(stream);
    *out = dst;
    return used;
}

static size_t zstd_filter(unsigned int flags, size_t cd_nelmts, const unsigned int cd_values[],
                          size_t nbytes, size_t *buf_size, void **buf) {
    if (flags & H5Z_FLAG_REVERSE) {
        unsigned long long size = ZSTD_getFrameContentSize(*buf, nbytes);
        void *out = NULL;
        size_t produced;
        if (size == ZSTD_CONTENTSIZE_ERROR) return 0;
        if (size != ZSTD_CONTENTSIZE_UNKNOWN && size > GCML_MAX_CHUNK_BYTES) return 0;   // a damaged frame header
        if (size == ZSTD_CONTENTSIZE_UNKNOWN) {
            produced = decompress_streaming(*buf, nbytes, &out);
            if (!out) return 0;
        } else {
            out = malloc(size ? (size_t)size : 1);
            if (!out) return 0;
            produced = ZSTD_decompress(out, (size_t)size, *buf, nbytes);
            if (ZSTD_isError(produced) || produced != (size_t)size) { free(out); return 0; }
        }
        free(*buf);
        *buf = out;
        *buf_size = produced ? produced : 1;
        return produced;
    }
    int level = cd_nelmts > 0 ? (int)cd_values[0] : 3;
    if (level > ZSTD_maxCLevel()) level = ZSTD_maxCLevel();
    size_t bound = ZSTD_compressBound(nbytes);
    void *out = malloc(bound);
    if (!out) return 0;
    ZSTD_CCtx *context = ZSTD_createCCtx();
    if (!context) { free(out); return 0; }
    size_t written = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level);
    if (!ZSTD_isError(written)) written = ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1);
    if (!ZSTD_isError(written)) written = ZSTD_compress2(context, out, bound, *buf, nbytes);
    ZSTD_freeCCtx(context);
    if (ZSTD_isError(written)) { free(out); return 0; }
    free(*buf);
    *buf = out;
    *buf_size = bound;
    return written;
}

const H5Z_class2_t gcml_zstd_filter_class = {
    H5Z_CLASS_T_VERS, (H5Z_filter_t)GCML_ZSTD_FILTER_ID, 1, 1, "Zstandard compression (gcml)",
    NULL, NULL, (H5Z_func_t)zstd_filter,
};

int gcml_register_zstd_filter(void) {
    if (H5Zfilter_avail(GCML_ZSTD_FILTER_ID) > 0) return 0;
    return H5Zregister(&gcml_zstd_filter_class) < 0 ? -1 : 0;
}

// Entry points of an HDF5 dynamic filter plugin, so h5dump and other HDF5
// programs load this same filter from HDF5_PLUGIN_PATH (the Makefile builds
// this file into plugins/libh5zstd_gcml.so).
#ifdef GCML_BUILD_PLUGIN
#include <H5PLextern.h>
H5PL_type_t H5PLget_plugin_type(void) { return H5PL_TYPE_FILTER; }
const void *H5PLget_plugin_info(void) { return &gcml_zstd_filter_class; }
#endif
