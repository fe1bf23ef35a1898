#include "gcml_shim.h"
#include <stdio.h>
#include <string.h>

hid_t gcml_h5p_default(void) { return H5P_DEFAULT; }
hid_t gcml_h5s_all(void) { return H5S_ALL; }
hsize_t gcml_h5s_unlimited(void) { return H5S_UNLIMITED; }
hid_t gcml_h5e_default(void) { return H5E_DEFAULT; }
unsigned gcml_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
unsigned gcml_h5f_acc_excl(void) { return H5F_ACC_EXCL; }
unsigned gcml_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
unsigned gcml_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
hid_t gcml_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
hid_t gcml_h5p_group_create(void) { return H5P_GROUP_CREATE; }
hid_t gcml_h5p_file_access(void) { return H5P_FILE_ACCESS; }
hid_t gcml_h5p_dataset_access(void) { return H5P_DATASET_ACCESS; }
hid_t gcml_h5p_link_create(void) { return H5P_LINK_CREATE; }
size_t gcml_h5t_variable(void) { return H5T_VARIABLE; }

hid_t gcml_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
hid_t gcml_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
hid_t gcml_h5t_native_int8(void) { return H5T_NATIVE_INT8; }
hid_t gcml_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
hid_t gcml_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
hid_t gcml_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
hid_t gcml_h5t_c_s1(void) { return H5T_C_S1; }
hid_t gcml_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
hid_t gcml_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
hid_t gcml_h5t_std_i8le(void) { return H5T_STD_I8LE; }
hid_t gcml_h5t_std_u8le(void) { return H5T_STD_U8LE; }
hid_t gcml_h5t_std_i32le(void) { return H5T_STD_I32LE; }
hid_t gcml_h5t_std_i64le(void) { return H5T_STD_I64LE; }

void gcml_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

typedef struct { char *buf; size_t capacity; size_t used; } error_text;

static herr_t append_error(unsigned n, const H5E_error2_t *err, void *client) {
    error_text *text = (error_text *)client;
    if (text->used + 1 >= text->capacity) return 0;
    int written = snprintf(text->buf + text->used, text->capacity - text->used, "%s%s: %s",
                           text->used ? "; " : "", err->func_name ? err->func_name : "?",
                           err->desc ? err->desc : "");
    if (written > 0) {
        size_t w = (size_t)written;
        text->used += (w < text->capacity - text->used) ? w : text->capacity - text->used - 1;
    }
    (void)n;
    return 0;
}

void gcml_h5_take_error_stack(char *buf, size_t capacity) {
    if (capacity == 0) return;
    buf[0] = 0;
    error_text text = {buf, capacity, 0};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, append_error, &text);
    H5Eclear2(H5E_DEFAULT);
}

int gcml_filter_available(int filter_id) { return H5Zfilter_avail((H5Z_filter_t)filter_id) > 0; }

herr_t gcml_h5_free_vlen_strings(hid_t type, hid_t space, void *buffer) {
    return H5Dvlen_reclaim(type, space, H5P_DEFAULT, buffer);
}
