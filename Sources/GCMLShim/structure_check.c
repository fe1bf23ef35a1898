// Checks the file structures libhdf5 1.10 follows without checking them, BEFORE the library
// touches them (the same idea as vlen_check.c, for other structures):
//
// - the superblock's driver information block: its declared size (4 bytes) is allocated and
//   read in full while the file is opened, so a damaged one made H5Fopen take gigabytes;
// - old-style groups (a symbol-table message naming a version-1 B-tree and a local heap):
//   H5G__stab_count and H5B_find recurse through B-tree nodes without checking that a child's
//   level is below its parent's, so a node naming itself (or an ancestor) recursed until the
//   stack overflowed (SIGSEGV), and a symbol node declaring more entries than it can hold
//   overran its buffer.
//
// Everything is read from the file with pread and walked as the library walks it (HDF5 file
// format specification, version 0/1 superblock, object headers v1 and v2, v1 B-trees, symbol
// nodes, local heaps). Only damage the library would follow blindly is refused; structures the
// library itself refuses cleanly (wrong version, unknown header) are left to it.
#include "gcml_shim.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_BTREE_LEVEL 64          // far beyond any real group (2K^64 entries)
#define MAX_VISITS 200000           // B-tree nodes and objects walked per file
#define MAX_HEAP_BYTES (64u << 20)  // a group's link names
#define MAX_GROUP_DEPTH 256         // nested groups (the walk recurses; so does the library)

typedef struct {
    int fd;
    uint64_t size, base;
    unsigned sa, ss;                // address and length widths
    unsigned leaf_k, internal_k;    // symbol node and group B-tree K
    uint64_t *visited;              // object header addresses already walked
    size_t visited_count, visited_capacity, visits;
    int depth;                      // groups nested above the current one
    char *why;
    size_t why_capacity;
} walker;

static uint64_t decode(const unsigned char *p, unsigned width) {
    uint64_t value = 0;
    for (unsigned i = 0; i < width; i++) value |= (uint64_t)p[i] << (8 * i);
    return value;
}

static int undefined_address(uint64_t address, unsigned width) {
    return width >= 8 ? address == UINT64_MAX : address == (((uint64_t)1 << (8 * width)) - 1);
}

static int refuse(walker *w, const char *format, ...) {
    va_list args;
    va_start(args, format);
    if (w->why_capacity) vsnprintf(w->why, w->why_capacity, format, args);
    va_end(args);
    return 1;
}

// The file offset of `length` bytes at relative `address`, or UINT64_MAX when they are not
// all inside the file.
static uint64_t inside(const walker *w, uint64_t address, uint64_t length) {
    uint64_t at = w->base + address;
    if (at < address || at > w->size || w->size - at < length) return UINT64_MAX;
    return at;
}

static int read_at(const walker *w, uint64_t address, void *buffer, uint64_t length) {
    uint64_t at = inside(w, address, length);
    if (at == UINT64_MAX) return -1;
    return pread(w->fd, buffer, (size_t)length, (off_t)at) == (ssize_t)length ? 0 : -1;
}

// ---------------------------------------------------------------- superblock

int gcml_h5_check_superblock(const char *path, char *why, size_t capacity) {
    walker w = {.fd = open(path, O_RDONLY | O_CLOEXEC), .why = why, .why_capacity = capacity};
    struct stat info;
    if (w.fd < 0 || fstat(w.fd, &info) != 0) {
        if (w.fd >= 0) close(w.fd);
        return 0;   // the library reports why it cannot open the file
    }
    w.size = (uint64_t)info.st_size;
    static const unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char head[96];
    int result = 0;
    // The superblock is at 0 or at 512, 1024, 2048, ... (after a user block).
    for (uint64_t at = 0; at + sizeof head <= w.size; at = at ? at * 2 : 512) {
        if (pread(w.fd, head, sizeof head, (off_t)at) != (ssize_t)sizeof head) break;
        if (memcmp(head, signature, 8) != 0) continue;
        unsigned version = head[8];
        if (version > 1) break;                     // v2/v3 carry no driver information block
        w.sa = head[13];
        w.ss = head[14];
        if ((w.sa != 2 && w.sa != 4 && w.sa != 8) || (w.ss != 2 && w.ss != 4 && w.ss != 8)) break;
        unsigned p = version == 0 ? 24 : 28;        // v1 adds the indexed storage K and 2 reserved bytes
        uint64_t base = decode(head + p, w.sa);
        uint64_t driver = decode(head + p + 3 * w.sa, w.sa);
        if (undefined_address(driver, w.sa)) break;
        w.base = base;
        unsigned char block[16];                    // version, 3 reserved, size (4), driver id (8)
        if (read_at(&w, driver, block, sizeof block) != 0) {
            result = refuse(&w, "a superblock whose driver information block (address %llu) lies beyond the end of the file (%llu bytes)",
                            (unsigned long long)driver, (unsigned long long)w.size);
            break;
        }
        uint64_t declared = decode(block + 4, 4);
        if (inside(&w, driver, 16 + declared) == UINT64_MAX)
            result = refuse(&w, "a superblock whose driver information block (address %llu) declares %llu bytes, beyond the end of the file (%llu bytes)",
                            (unsigned long long)driver, (unsigned long long)declared, (unsigned long long)w.size);
        break;
    }
    close(w.fd);
    return result;
}

// ---------------------------------------------------------------- groups

static int check_object(walker *w, uint64_t address, const char *path);

// Marks an object header as walked (open addressing on the address); 0 when it was already.
static int first_visit(walker *w, uint64_t address) {
    uint64_t key = address + 1;     // 0 marks a free slot
    if (w->visited_count * 2 >= w->visited_capacity) {
        size_t capacity = w->visited_capacity ? w->visited_capacity * 2 : 256;
        uint64_t *table = calloc(capacity, sizeof(uint64_t));
        if (!table) return 0;
        for (size_t i = 0; i < w->visited_capacity; i++) {
            if (!w->visited[i]) continue;
            size_t slot = (size_t)(w->visited[i] * 0x9E3779B97F4A7C15ull) & (capacity - 1);
            while (table[slot]) slot = (slot + 1) & (capacity - 1);
            table[slot] = w->visited[i];
        }
        free(w->visited);
        w->visited = table;
        w->visited_capacity = capacity;
    }
    size_t slot = (size_t)(key * 0x9E3779B97F4A7C15ull) & (w->visited_capacity - 1);
    while (w->visited[slot]) {
        if (w->visited[slot] == key) return 0;
        slot = (slot + 1) & (w->visited_capacity - 1);
    }
    w->visited[slot] = key;
    w->visited_count++;
    return 1;
}

typedef struct {
    uint64_t dat_size, data_address;
    unsigned char *names;   // the data segment
} local_heap;

static int load_heap(walker *w, uint64_t address, local_heap *heap, const char *path) {
    unsigned char head[32];
    unsigned length = 8 + 2 * w->ss + w->sa;        // "HEAP", version, 3 reserved, sizes, data address
    if (read_at(w, address, head, length) != 0)
        return refuse(w, "group '%s': a local heap at address %llu beyond the end of the file (%llu bytes)", path,
                      (unsigned long long)address, (unsigned long long)w->size);
    if (memcmp(head, "HEAP", 4) != 0 || head[4] != 0)
        return refuse(w, "group '%s': no local heap (signature HEAP, version 0) at address %llu", path, (unsigned long long)address);
    heap->dat_size = decode(head + 8, w->ss);
    heap->data_address = decode(head + 8 + 2 * w->ss, w->sa);
    if (heap->dat_size > MAX_HEAP_BYTES || inside(w, heap->data_address, heap->dat_size) == UINT64_MAX)
        return refuse(w, "group '%s': a local heap (address %llu) whose data segment of %llu bytes at address %llu lies outside the file (%llu bytes)",
                      path, (unsigned long long)address, (unsigned long long)heap->dat_size,
                      (unsigned long long)heap->data_address, (unsigned long long)w->size);
    heap->names = malloc(heap->dat_size ? heap->dat_size : 1);
    if (!heap->names || read_at(w, heap->data_address, heap->names, heap->dat_size) != 0)
        return refuse(w, "group '%s': an unreadable local heap at address %llu", path, (unsigned long long)address);
    return 0;
}

// Reads the `length` bytes of a node at `address` that starts with `signature` and the byte
// `kind` (its version or type); NULL after refusing (`what`: the node in messages, `expected`:
// its signature in words). The caller frees the node.
static unsigned char *read_node(walker *w, uint64_t address, uint64_t length, const char *signature, unsigned char kind,
                                const char *what, const char *expected, const char *path) {
    unsigned char *node = malloc(length);
    if (!node) { refuse(w, "out of memory"); return NULL; }
    if (read_at(w, address, node, length) != 0) {
        refuse(w, "group '%s': a %s at address %llu beyond the end of the file (%llu bytes)", path, what,
               (unsigned long long)address, (unsigned long long)w->size);
    } else if (memcmp(node, signature, 4) != 0 || node[4] != kind) {
        refuse(w, "group '%s': no %s at address %llu", path, expected, (unsigned long long)address);
    } else {
        return node;
    }
    free(node);
    return NULL;
}

// A symbol node: its entries name children by heap offset and object header address.
static int check_symbol_node(walker *w, uint64_t address, const local_heap *heap, const char *path) {
    unsigned entry = w->ss + w->sa + 4 + 4 + 16;
    uint64_t length = 8 + (uint64_t)2 * w->leaf_k * entry;
    unsigned char *node = read_node(w, address, length, "SNOD", 1, "symbol table node",
                                    "symbol table node (signature SNOD, version 1)", path);
    if (!node) return 1;
    int result = 0;
    unsigned symbols = (unsigned)decode(node + 6, 2);
    if (symbols > 2 * w->leaf_k)
        result = refuse(w, "group '%s': a symbol table node at address %llu declaring %u entries (it holds at most %u)", path,
                        (unsigned long long)address, symbols, 2 * w->leaf_k);
    for (unsigned i = 0; i < symbols && result == 0; i++) {
        const unsigned char *e = node + 8 + (size_t)i * entry;
        uint64_t offset = decode(e, w->ss), object = decode(e + w->ss, w->sa);
        const unsigned char *end = offset < heap->dat_size ? memchr(heap->names + offset, 0, heap->dat_size - offset) : NULL;
        if (!end) {
            result = refuse(w, "group '%s': entry %u of the symbol table node at address %llu names offset %llu, outside its local heap of %llu bytes",
                            path, i, (unsigned long long)address, (unsigned long long)offset, (unsigned long long)heap->dat_size);
            break;
        }
        char child[4096];
        snprintf(child, sizeof child, "%s%s%.*s", path, strcmp(path, "/") ? "/" : "", (int)(end - (heap->names + offset)),
                 (const char *)heap->names + offset);
        result = check_object(w, object, child);
    }
    free(node);
    return result;
}

// A group B-tree node at `level` (-1: the root, any level); children one level down.
static int check_btree(walker *w, uint64_t address, int level, const local_heap *heap, const char *path) {
    if (++w->visits > MAX_VISITS)
        return refuse(w, "group '%s': more than %d B-tree nodes and objects", path, MAX_VISITS);
    uint64_t children = 2 * (uint64_t)w->internal_k;
    uint64_t length = 8 + 2 * (uint64_t)w->sa + children * w->sa + (children + 1) * w->ss;
    unsigned char *node = read_node(w, address, length, "TREE", 0, "B-tree node", "group B-tree node (signature TREE, type 0)", path);
    if (!node) return 1;
    int result = 0;
    int found = node[5];
    unsigned used = (unsigned)decode(node + 6, 2);
    if (level >= 0 && found != level) {
        result = refuse(w, "group '%s': a B-tree node at address %llu of level %d where its parent expects level %d (a node naming itself or an ancestor)",
                        path, (unsigned long long)address, found, level);
    } else if (found > MAX_BTREE_LEVEL) {
        result = refuse(w, "group '%s': a B-tree node at address %llu of level %d (at most %d)", path, (unsigned long long)address,
                        found, MAX_BTREE_LEVEL);
    } else if (used > children) {
        result = refuse(w, "group '%s': a B-tree node at address %llu declaring %u children (it holds at most %llu)", path,
                        (unsigned long long)address, used, (unsigned long long)children);
    }
    const unsigned char *p = node + 8 + 2 * w->sa + w->ss;   // child 0 follows key 0
    for (unsigned i = 0; i < used && result == 0; i++, p += w->sa + w->ss) {
        uint64_t child = decode(p, w->sa);
        result = found > 0 ? check_btree(w, child, found - 1, heap, path) : check_symbol_node(w, child, heap, path);
    }
    free(node);
    return result;
}

// One message of an object header: what a group is made of.
typedef struct {
    int has_table;
    uint64_t btree, heap;
    uint64_t links[64];      // hard links of a new-style (compact) group
    char link_names[64][256];
    unsigned link_count;
} group_messages;

static void take_message(walker *w, unsigned type, const unsigned char *data, uint64_t size, group_messages *m) {
    if (type == 0x11 && size >= 2 * (uint64_t)w->sa) {            // symbol table: B-tree and local heap
        m->has_table = 1;
        m->btree = decode(data, w->sa);
        m->heap = decode(data + w->sa, w->sa);
    } else if (type == 0x06 && size >= 2 && data[0] == 1 && m->link_count < 64) {   // link message
        unsigned flags = data[1];
        uint64_t p = 2;
        unsigned link_type = 0;
        if (flags & 0x08) { if (p >= size) return; link_type = data[p++]; }
        if (flags & 0x04) p += 8;
        if (flags & 0x10) p += 1;
        unsigned width = 1u << (flags & 3);
        if (p + width > size) return;
        uint64_t length = decode(data + p, width);
        p += width;
        if (link_type != 0 || length > size || p + length + w->sa > size) return;
        snprintf(m->link_names[m->link_count], 256, "%.*s", (int)(length < 255 ? length : 255), (const char *)data + p);
        m->links[m->link_count++] = decode(data + p + length, w->sa);
    }
}

// Reads the messages of the object header at `address` (v1 or v2) into `m`; 0 when the
// header is not one the walk understands (the library judges it when it opens it).
static int read_messages(walker *w, uint64_t address, group_messages *m) {
    unsigned char prefix[16];
    if (read_at(w, address, prefix, sizeof prefix) != 0) return 0;
    int v2 = memcmp(prefix, "OHDR", 4) == 0;
    if (!v2 && prefix[0] != 1) return 0;
    uint64_t chunk_address, chunk_length;
    unsigned creation_order = 0;
    if (v2) {
        if (prefix[4] != 2) return 0;
        unsigned flags = prefix[5], p = 6;
        if (flags & 0x20) p += 16;
        if (flags & 0x10) p += 4;
        unsigned width = 1u << (flags & 3);
        unsigned char size[8];
        if (read_at(w, address + p, size, width) != 0) return 0;
        creation_order = flags & 0x04 ? 2 : 0;
        chunk_address = address + p + width;
        chunk_length = decode(size, width);
        chunk_length = chunk_length >= 4 ? chunk_length - 4 : 0;   // the checksum
    } else {
        chunk_address = address + 16;
        chunk_length = decode(prefix + 8, 4);
    }
    for (int chunks = 0; chunks < 64; chunks++) {
        if (chunk_length > ((uint64_t)1 << 30) || inside(w, chunk_address, chunk_length) == UINT64_MAX) return 0;
        unsigned char *bytes = malloc(chunk_length ? chunk_length : 1);
        if (!bytes || read_at(w, chunk_address, bytes, chunk_length) != 0) { free(bytes); return 0; }
        uint64_t next_address = 0, next_length = 0;
        unsigned header = v2 ? 4 + creation_order : 8;
        for (uint64_t p = 0; p + header <= chunk_length;) {
            unsigned type = v2 ? bytes[p] : (unsigned)decode(bytes + p, 2);
            uint64_t size = decode(bytes + p + (v2 ? 1 : 2), 2);
            const unsigned char *data = bytes + p + header;
            if (size > chunk_length - p - header) break;
            if (type == 0x10 && size >= (uint64_t)w->sa + w->ss) {   // continuation
                next_address = decode(data, w->sa);
                next_length = decode(data + w->sa, w->ss);
            } else {
                take_message(w, type, data, size, m);
            }
            p += header + size;
        }
        free(bytes);
        if (!next_length) break;
        if (v2) {   // "OCHK", messages, checksum
            unsigned char signature[4];
            if (read_at(w, next_address, signature, 4) != 0 || memcmp(signature, "OCHK", 4) != 0 || next_length < 8) return 0;
            chunk_address = next_address + 4;
            chunk_length = next_length - 8;
        } else {
            chunk_address = next_address;
            chunk_length = next_length;
        }
    }
    return 1;
}

static int check_object(walker *w, uint64_t address, const char *path) {
    if (!first_visit(w, address)) return 0;     // reached again through another link
    if (++w->visits > MAX_VISITS)
        return refuse(w, "group '%s': more than %d B-tree nodes and objects", path, MAX_VISITS);
    if (w->depth >= MAX_GROUP_DEPTH)
        return refuse(w, "group '%s': groups nested more than %d deep", path, MAX_GROUP_DEPTH);
    group_messages *m = calloc(1, sizeof *m);
    if (!m) return refuse(w, "out of memory");
    int result = 0;
    w->depth++;
    if (read_messages(w, address, m)) {
        if (m->has_table) {
            local_heap heap = {0};
            result = load_heap(w, m->heap, &heap, path);
            if (result == 0) result = check_btree(w, m->btree, -1, &heap, path);
            free(heap.names);
        }
        for (unsigned i = 0; i < m->link_count && result == 0; i++) {
            char child[4096];
            snprintf(child, sizeof child, "%s%s%s", path, strcmp(path, "/") ? "/" : "", m->link_names[i]);
            result = check_object(w, m->links[i], child);
        }
    }
    w->depth--;
    free(m);
    return result;
}

int gcml_h5_check_groups(hid_t file, char *why, size_t capacity) {
    walker w = {.fd = -1, .why = why, .why_capacity = capacity};
    int result = -1;
    hid_t create = H5Fget_create_plist(file);
    size_t sizeof_addr = 0, sizeof_size = 0;
    hsize_t userblock = 0;
    unsigned internal_k = 0, leaf_k = 0;
    H5O_info_t root;
    if (create < 0 || H5Pget_sizes(create, &sizeof_addr, &sizeof_size) < 0 || H5Pget_userblock(create, &userblock) < 0 ||
        H5Pget_sym_k(create, &internal_k, &leaf_k) < 0 || H5Oget_info2(file, &root, H5O_INFO_BASIC) < 0)
        goto done;
    result = 0;
    if (sizeof_addr == 0 || sizeof_addr > 8 || sizeof_size == 0 || sizeof_size > 8 || internal_k == 0 || leaf_k == 0) goto done;
    char name[4096];
    if (H5Fget_name(file, name, sizeof name) < 0) { result = -1; goto done; }
    w.fd = open(name, O_RDONLY | O_CLOEXEC);
    struct stat info;
    if (w.fd < 0 || fstat(w.fd, &info) != 0) goto done;   // the library has it open; nothing to add
    w.size = (uint64_t)info.st_size;
    w.base = userblock;
    w.sa = (unsigned)sizeof_addr;
    w.ss = (unsigned)sizeof_size;
    w.internal_k = internal_k;
    w.leaf_k = leaf_k;
    result = check_object(&w, root.addr, "/");
done:
    if (w.fd >= 0) close(w.fd);
    free(w.visited);
    if (create >= 0) H5Pclose(create);
    return result;
}
