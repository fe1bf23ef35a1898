// What Swift cannot import by itself: HDF5's macro constants, the zstd HDF5
// filter (id 32015, the registered id hdf5plugin and h5dump plugins use), the
// LAPACK prototypes that Debian's OpenBLAS exports without a header, and a
// rank-counting loop that picks AVX2 at run time (Swift compiles for baseline x86-64).
#ifndef GCML_SHIM_H
#define GCML_SHIM_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#define GCML_ZSTD_FILTER_ID 32015

// HDF5 constants (macros that hide library globals or casts).
hid_t gcml_h5p_default(void);
hid_t gcml_h5s_all(void);
hsize_t gcml_h5s_unlimited(void);
hid_t gcml_h5e_default(void);
unsigned gcml_h5f_acc_trunc(void);
unsigned gcml_h5f_acc_excl(void);
unsigned gcml_h5f_acc_rdonly(void);
unsigned gcml_h5f_acc_rdwr(void);
hid_t gcml_h5p_dataset_create(void);
hid_t gcml_h5p_group_create(void);
hid_t gcml_h5p_file_access(void);
hid_t gcml_h5p_dataset_access(void);
hid_t gcml_h5p_link_create(void);
size_t gcml_h5t_variable(void);

hid_t gcml_h5t_native_float(void);
hid_t gcml_h5t_native_double(void);
hid_t gcml_h5t_native_int8(void);
hid_t gcml_h5t_native_uint8(void);
hid_t gcml_h5t_native_int32(void);
hid_t gcml_h5t_native_int64(void);
hid_t gcml_h5t_c_s1(void);
// Little-endian file types, so files look the same on every machine.
hid_t gcml_h5t_ieee_f32le(void);
hid_t gcml_h5t_ieee_f64le(void);
hid_t gcml_h5t_std_i8le(void);
hid_t gcml_h5t_std_u8le(void);
hid_t gcml_h5t_std_i32le(void);
hid_t gcml_h5t_std_i64le(void);

// Turn off HDF5's automatic printing of its error stack (we report it ourselves).
void gcml_h5_silence_errors(void);
// Copy the current error stack as text ("func: message; ...") into buf and clear it.
void gcml_h5_take_error_stack(char *buf, size_t capacity);

// Register the zstd filter with this process's HDF5 library. Returns < 0 on failure.
int gcml_register_zstd_filter(void);
// Whether a filter id is available (registered or loadable as a plugin).
int gcml_filter_available(int filter_id);

// Free a vlen string buffer read by H5Dread/H5Aread.
herr_t gcml_h5_free_vlen_strings(hid_t type, hid_t space, void *buffer);
// Check the variable-length string references a read would follow (a dataset selection, or a
// whole attribute) against the global heap they point into, before HDF5 dereferences them:
// libhdf5 1.10 copies from a damaged heap without checking and dies of SIGSEGV (vlen_check.c).
// 0: sound; 1: damaged, what is wrong in `why`; -1: an HDF5 error (on its error stack).
int gcml_h5_check_vlen_strings(hid_t dataset, hid_t memory_space, hid_t file_space, char *why, size_t capacity);
int gcml_h5_check_vlen_string_attribute(hid_t attribute, char *why, size_t capacity);

// Cleanup on SIGINT/SIGTERM/SIGHUP: the handler unlinks every registered path and
// exits with 128 + the signal number. Install once; register/unregister any time.
void gcml_install_cleanup_handlers(void);
int gcml_cleanup_register(const char *path);   // slot, or -1 when the table is full
void gcml_cleanup_unregister(int slot);
// Hold SIGINT/SIGTERM/SIGHUP while nonzero (nested), e.g. across a set of renames.
void gcml_defer_signals(int defer);
// open(O_CREAT) + flock(LOCK_EX|LOCK_NB): the descriptor, -1 (open failed) or
// -2 (another process holds the lock); errno in *found_errno.
int gcml_lock_exclusive(const char *path, int *found_errno);
// Whether a process with this id runs on this machine (kill(pid, 0)).
int gcml_process_is_running(long pid);

// LAPACK (Fortran ABI) exported by libopenblas.
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
             double *w, double *work, const int *lwork, int *iwork, const int *liwork, int *info);
void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda,
             float *w, float *work, const int *lwork, int *iwork, const int *liwork, int *info);
void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda, float *s,
             float *u, const int *ldu, float *vt, const int *ldvt, float *work, const int *lwork,
             int *iwork, int *info);

// OpenBLAS thread control (declared here so Swift sees one prototype).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);

// Rank counting (rank_count.c): counts[p] += how many of row[0..<count] are >= thresholds[p] (NaN: none).
// Kernels give identical counts; a kernel must be at most the best one this CPU runs.
enum { GCML_COUNT_PORTABLE = 0, GCML_COUNT_SSE2 = 1, GCML_COUNT_AVX2 = 2 };
int gcml_count_at_least_best_kernel(void);
void gcml_count_at_least(int kernel, const float *thresholds, long threshold_count, const float *row, long count, int64_t *counts);

#endif
