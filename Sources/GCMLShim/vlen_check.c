// Checks the variable-length string references of a dataset selection or an attribute
// against the global heap collections they point into, BEFORE HDF5 dereferences them.
//
// Why: libhdf5 1.10 trusts the global heap. A damaged collection (an object size larger
// than the collection, an index the collection never held) makes H5HG_read copy from
// memory it does not own, and the process dies of SIGSEGV inside the library.
//
// How, with public 1.10 API only: a soft conversion from variable-length strings to an
// opaque type of the same size (registered here, tagged so it matches nothing else) hands
// us the stored elements untouched: sequence length (4 bytes), collection address
// (sizeof_addr bytes) and object index (4 bytes), all little-endian. Each referenced
// collection is then read from the file and walked exactly as the library walks it
// (H5HG__cache_heap_deserialize), and the reference must name an object that exists,
// fits inside the collection and holds exactly the declared number of bytes.
#include "gcml_shim.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RAW_TAG "gcml: raw variable-length string elements"

// The conversion: the stored bytes are already what we want, so there is nothing to do;
// it only has to exist so HDF5 reads without dereferencing.
static herr_t raw_vlen_conversion(hid_t src, hid_t dst, H5T_cdata_t *cdata, size_t nelmts, size_t buf_stride,
                                  size_t bkg_stride, void *buf, void *bkg, hid_t dxpl) {
    (void)nelmts; (void)buf_stride; (void)bkg_stride; (void)buf; (void)bkg; (void)dxpl;
    switch (cdata->command) {
    case H5T_CONV_INIT: {
        if (H5Tget_class(src) != H5T_STRING || H5Tis_variable_str(src) <= 0) return -1;
        if (H5Tget_class(dst) != H5T_OPAQUE || H5Tget_size(dst) != H5Tget_size(src)) return -1;
        char *tag = H5Tget_tag(dst);
        int ours = tag && strcmp(tag, RAW_TAG) == 0;
        H5free_memory(tag);
        if (!ours) return -1;
        cdata->need_bkg = H5T_BKG_NO;
        return 0;
    }
    case H5T_CONV_CONV:
    case H5T_CONV_FREE:
        return 0;
    default:
        return -1;
    }
}

static int register_raw_conversion(void) {
    static int registered = 0;
    if (registered) return 0;
    hid_t src = H5Tcopy(H5T_C_S1);
    H5Tset_size(src, H5T_VARIABLE);
    hid_t dst = H5Tcreate(H5T_OPAQUE, 16);
    H5Tset_tag(dst, RAW_TAG);
    herr_t status = H5Tregister(H5T_PERS_SOFT, "gcml_raw_vlen", src, dst, raw_vlen_conversion);
    H5Tclose(src);
    H5Tclose(dst);
    if (status < 0) return -1;
    registered = 1;
    return 0;
}

// One parsed collection: the size of each object index in use (UINT64_MAX = no object).
typedef struct {
    uint64_t address;
    int valid;               // 0: the collection itself is damaged (why in `problem`)
    char problem[160];
    uint32_t used;           // objects 0 ..< used may exist
    uint64_t *sizes;
} collection;

typedef struct {
    int fd;
    uint64_t file_size;
    uint64_t base;           // userblock: addresses are relative to it
    unsigned sizeof_addr, sizeof_size;
    collection *table;       // open addressing by address
    size_t capacity, count;
} heap_checker;

static uint64_t decode(const unsigned char *p, unsigned width) {
    uint64_t value = 0;
    for (unsigned i = 0; i < width; i++) value |= (uint64_t)p[i] << (8 * i);
    return value;
}

static void parse_collection(heap_checker *checker, collection *c) {
    const unsigned header = 4 + 1 + 3 + checker->sizeof_size;      // "GCOL", version, reserved, size
    const unsigned object_header = 2 + 2 + 4 + checker->sizeof_size; // index, references, reserved, size
    uint64_t at = checker->base + c->address;
    if (at < checker->base || at > checker->file_size || checker->file_size - at < header) {
        snprintf(c->problem, sizeof c->problem, "a global heap collection at address %llu, beyond the end of the file (%llu bytes)",
                 (unsigned long long)c->address, (unsigned long long)checker->file_size);
        return;
    }
    unsigned char head[32];
    if (pread(checker->fd, head, header, (off_t)at) != (ssize_t)header) {
        snprintf(c->problem, sizeof c->problem, "an unreadable global heap collection at address %llu", (unsigned long long)c->address);
        return;
    }
    uint64_t size = decode(head + 8, checker->sizeof_size);
    if (memcmp(head, "GCOL", 4) != 0 || head[4] != 1) {
        snprintf(c->problem, sizeof c->problem, "no global heap collection (signature GCOL, version 1) at address %llu",
                 (unsigned long long)c->address);
        return;
    }
    if (size < header || size > checker->file_size - at || size > ((uint64_t)1 << 30)) {
        snprintf(c->problem, sizeof c->problem, "a global heap collection at address %llu declaring %llu bytes (the file holds %llu from there; at most 1 GiB is read)",
                 (unsigned long long)c->address, (unsigned long long)size, (unsigned long long)(checker->file_size - at));
        return;
    }
    unsigned char *bytes = malloc(size);
    if (!bytes || pread(checker->fd, bytes, size, (off_t)at) != (ssize_t)size) {
        free(bytes);
        snprintf(c->problem, sizeof c->problem, "an unreadable global heap collection at address %llu", (unsigned long long)c->address);
        return;
    }
    uint32_t highest = 0, capacity = 0;
    uint64_t p = header;
    while (p < size) {
        if (size - p < object_header) break;   // too small for an object: the library calls it free space
        unsigned index = (unsigned)decode(bytes + p, 2);
        uint64_t object_size = decode(bytes + p + 8, checker->sizeof_size);
        uint64_t need;
        if (index > 0) {
            // Object header plus the data padded to 8 bytes; it must end inside the collection.
            if (object_size > size - p - object_header) {
                snprintf(c->problem, sizeof c->problem,
                         "a global heap object (collection at address %llu, index %u) declaring %llu bytes, beyond its collection of %llu",
                         (unsigned long long)c->address, index, (unsigned long long)object_size, (unsigned long long)size);
                free(bytes);
                return;
            }
            need = object_header + ((object_size + 7) / 8) * 8;
            if (index > highest) highest = index;
        } else {
            need = object_size;   // free space: its size counts its own header
            if (need < object_header || need > size - p) {
                snprintf(c->problem, sizeof c->problem,
                         "a global heap collection at address %llu whose free space declares %llu bytes at offset %llu of %llu",
                         (unsigned long long)c->address, (unsigned long long)object_size, (unsigned long long)p,
                         (unsigned long long)size);
                free(bytes);
                return;
            }
        }
        if (index >= capacity) {
            uint32_t grown = index + 1 > capacity * 2 ? index + 1 : capacity * 2;
            uint64_t *sizes = realloc(c->sizes, grown * sizeof(uint64_t));
            if (!sizes) { free(bytes); snprintf(c->problem, sizeof c->problem, "out of memory"); return; }
            for (uint32_t i = capacity; i < grown; i++) sizes[i] = UINT64_MAX;
            c->sizes = sizes;
            capacity = grown;
        }
        c->sizes[index] = object_size;
        p += need;
    }
    free(bytes);
    if (p > size) {   // the padding of the last object overran the collection
        snprintf(c->problem, sizeof c->problem, "a global heap collection at address %llu whose objects overrun its %llu bytes",
                 (unsigned long long)c->address, (unsigned long long)size);
        return;
    }
    c->used = highest + 1;
    c->valid = 1;
}

static collection *find_collection(heap_checker *checker, uint64_t address) {
    if (checker->count * 2 >= checker->capacity) {
        size_t capacity = checker->capacity ? checker->capacity * 2 : 64;
        collection *table = calloc(capacity, sizeof(collection));
        if (!table) return NULL;
        for (size_t i = 0; i < checker->capacity; i++) {
            collection *old = &checker->table[i];
            if (old->address == 0) continue;
            size_t slot = (size_t)(old->address * 0x9E3779B97F4A7C15ull) & (capacity - 1);
            while (table[slot].address != 0) slot = (slot + 1) & (capacity - 1);
            table[slot] = *old;
        }
        free(checker->table);
        checker->table = table;
        checker->capacity = capacity;
    }
    size_t slot = (size_t)(address * 0x9E3779B97F4A7C15ull) & (checker->capacity - 1);
    while (checker->table[slot].address != 0 && checker->table[slot].address != address)
        slot = (slot + 1) & (checker->capacity - 1);
    collection *c = &checker->table[slot];
    if (c->address == 0) {
        c->address = address;
        checker->count++;
        parse_collection(checker, c);
    }
    return c;
}

static void release(heap_checker *checker) {
    for (size_t i = 0; i < checker->capacity; i++) free(checker->table[i].sizes);
    free(checker->table);
    if (checker->fd >= 0) close(checker->fd);
}

static void say(char *why, size_t capacity, const char *format, ...) {
    if (!capacity) return;
    va_list args;
    va_start(args, format);
    vsnprintf(why, capacity, format, args);
    va_end(args);
}

// Checks `count` raw elements; 0 when every reference is sound, 1 with `why` otherwise, -1 on error.
static int check_elements(hid_t object, const unsigned char *raw, size_t count, unsigned element_size, char *why, size_t capacity) {
    heap_checker checker = {.fd = -1};
    int result = -1;
    hid_t file = H5Iget_file_id(object);
    hid_t create = file >= 0 ? H5Fget_create_plist(file) : -1;
    size_t sizeof_addr = 0, sizeof_size = 0;
    hsize_t userblock = 0;
    if (create < 0 || H5Pget_sizes(create, &sizeof_addr, &sizeof_size) < 0 || H5Pget_userblock(create, &userblock) < 0) goto done;
    if (sizeof_addr > 8 || sizeof_size > 8 || sizeof_addr == 0 || sizeof_size == 0 || element_size != 4 + sizeof_addr + 4) {
        say(why, capacity, "variable-length strings in a file with %zu-byte addresses and %zu-byte sizes", sizeof_addr, sizeof_size);
        result = 1;
        goto done;
    }
    char name[4096];
    if (H5Fget_name(file, name, sizeof name) < 0) goto done;
    checker.fd = open(name, O_RDONLY | O_CLOEXEC);
    struct stat info;
    if (checker.fd < 0 || fstat(checker.fd, &info) != 0) {
        say(why, capacity, "the file could not be read to check its variable-length strings (%s)", strerror(errno));
        result = 1;
        goto done;
    }
    checker.file_size = (uint64_t)info.st_size;
    checker.base = userblock;
    checker.sizeof_addr = (unsigned)sizeof_addr;
    checker.sizeof_size = (unsigned)sizeof_size;
    result = 0;
    for (size_t i = 0; i < count && result == 0; i++) {
        const unsigned char *element = raw + i * element_size;
        uint64_t length = decode(element, 4);
        uint64_t address = decode(element + 4, checker.sizeof_addr);
        uint64_t index = decode(element + 4 + checker.sizeof_addr, 4);
        if (address == 0) continue;   // a null string: HDF5 never looks at the heap
        collection *c = find_collection(&checker, address);
        if (!c) { say(why, capacity, "out of memory"); result = 1; break; }
        if (!c->valid) {
            say(why, capacity, "element %zu points into %s", i, c->problem);
            result = 1;
        } else if (index == 0 || index >= c->used || c->sizes[index] == UINT64_MAX) {
            say(why, capacity, "element %zu points to object %llu of the global heap collection at address %llu, which holds no such object",
                i, (unsigned long long)index, (unsigned long long)address);
            result = 1;
        } else if (c->sizes[index] != length) {
            say(why, capacity, "element %zu declares %llu bytes but its global heap object (collection at address %llu, index %llu) holds %llu",
                i, (unsigned long long)length, (unsigned long long)address, (unsigned long long)index,
                (unsigned long long)c->sizes[index]);
            result = 1;
        }
    }
done:
    release(&checker);
    if (create >= 0) H5Pclose(create);
    if (file >= 0) H5Fclose(file);
    return result;
}

// The stored size of one element: H5Dget_type/H5Aget_type report the memory size
// (a pointer), so take it from the file's address size.
static unsigned stored_element_size(hid_t object) {
    hid_t file = H5Iget_file_id(object);
    hid_t create = file >= 0 ? H5Fget_create_plist(file) : -1;
    size_t sizeof_addr = 0, sizeof_size = 0;
    if (create >= 0) H5Pget_sizes(create, &sizeof_addr, &sizeof_size);
    if (create >= 0) H5Pclose(create);
    if (file >= 0) H5Fclose(file);
    return (unsigned)(4 + sizeof_addr + 4);
}

/* Reads `count` stored references of `object` (a dataset selection or an attribute) as raw
   bytes, without the library following them, and checks every one. */
typedef herr_t (*raw_reader)(hid_t object, hid_t raw_type, hid_t memory_space, hid_t file_space, void *buffer);

static herr_t read_dataset_raw(hid_t dataset, hid_t raw_type, hid_t memory_space, hid_t file_space, void *buffer) {
    return H5Dread(dataset, raw_type, memory_space, file_space, H5P_DEFAULT, buffer);
}

static herr_t read_attribute_raw(hid_t attribute, hid_t raw_type, hid_t memory_space, hid_t file_space, void *buffer) {
    (void)memory_space; (void)file_space;
    return H5Aread(attribute, raw_type, buffer);
}

static int check_raw_references(hid_t object, hssize_t count, raw_reader read, hid_t memory_space, hid_t file_space,
                                char *why, size_t capacity) {
    if (count < 0) return -1;
    if (count == 0) return 0;
    // The library allocates (and clears) length x the stored base type's size per string before
    // it reads the heap: a base type damaged to a huge size took gigabytes for a 100-byte string.
    hid_t stored = H5Iget_type(object) == H5I_DATASET ? H5Dget_type(object) : H5Aget_type(object);
    hid_t base = stored >= 0 ? H5Tget_super(stored) : -1;
    size_t base_size = base >= 0 ? H5Tget_size(base) : 0;
    if (base >= 0) H5Tclose(base);
    if (stored >= 0) H5Tclose(stored);
    if (base < 0) return -1;
    if (base_size != 1) {
        say(why, capacity, "variable-length strings of %zu-byte characters (a damaged datatype; strings have 1-byte characters)", base_size);
        return 1;
    }
    unsigned element_size = stored_element_size(object);
    hid_t type = H5Tcreate(H5T_OPAQUE, element_size);
    if (type < 0) return -1;
    H5Tset_tag(type, RAW_TAG);
    unsigned char *raw = malloc((size_t)count * element_size);
    if (!raw) { H5Tclose(type); say(why, capacity, "out of memory"); return 1; }
    int result = -1;
    if (read(object, type, memory_space, file_space, raw) >= 0)
        result = check_elements(object, raw, (size_t)count, element_size, why, capacity);
    free(raw);
    H5Tclose(type);
    return result;
}

int gcml_h5_check_vlen_strings(hid_t dataset, hid_t memory_space, hid_t file_space, char *why, size_t capacity) {
    if (register_raw_conversion() < 0) return -1;
    hssize_t count;
    if (memory_space != H5S_ALL) count = H5Sget_select_npoints(memory_space);
    else if (file_space != H5S_ALL) count = H5Sget_select_npoints(file_space);
    else {
        hid_t space = H5Dget_space(dataset);
        count = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
        if (space >= 0) H5Sclose(space);
    }
    return check_raw_references(dataset, count, read_dataset_raw, memory_space, file_space, why, capacity);
}

int gcml_h5_check_vlen_string_attribute(hid_t attribute, char *why, size_t capacity) {
    if (register_raw_conversion() < 0) return -1;
    hid_t space = H5Aget_space(attribute);
    hssize_t count = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (space >= 0) H5Sclose(space);
    return check_raw_references(attribute, count, read_attribute_raw, H5S_ALL, H5S_ALL, why, capacity);
}
