// The inner loop of full-corpus rank counting (LinearAlgebra's CorpusRanking): for each of a few
// thresholds, how many scores of a row are >= it, added to its running count. It is here, in C, because Swift compiles for
// baseline x86-64 (SSE2) and cannot choose an instruction set per function at run time: the AVX2
// version, chosen by CPUID, does twice the compares per instruction. Every version only compares
// (ordered >=, so NaN counts for no threshold), so all give the same counts.
#include "gcml_shim.h"
#include <math.h>

// Thresholds per pass over the row: one broadcast and one accumulator register each (8 measured fastest).
#define GROUP 8

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2")))
static void count_at_least_avx2(const float *thresholds, long threshold_count, const float *row, long count, int64_t *counts) {
    for (long p = 0; p < threshold_count; p += GROUP) {
        long group = threshold_count - p < GROUP ? threshold_count - p : GROUP;
        __m256 limit[GROUP];
        __m256i tally[GROUP];
        for (int i = 0; i < GROUP; i++) {
            limit[i] = _mm256_set1_ps(i < group ? thresholds[p + i] : INFINITY);
            tally[i] = _mm256_setzero_si256();
        }
        long j = 0;
        for (; j + 8 <= count; j += 8) {
            __m256 x = _mm256_loadu_ps(row + j);
            // A true compare lane is all ones, i.e. -1: subtracting it counts the lane.
            for (int i = 0; i < GROUP; i++)
                tally[i] = _mm256_sub_epi32(tally[i], _mm256_castps_si256(_mm256_cmp_ps(x, limit[i], _CMP_GE_OQ)));
        }
        for (long i = 0; i < group; i++) {
            int32_t lanes[8];
            _mm256_storeu_si256((__m256i *)lanes, tally[i]);
            int64_t total = 0;
            for (int l = 0; l < 8; l++) total += lanes[l];
            for (long k = j; k < count; k++) total += row[k] >= thresholds[p + i];
            counts[p + i] += total;
        }
    }
}

// Baseline x86-64: the same loop four lanes wide.
static void count_at_least_sse2(const float *thresholds, long threshold_count, const float *row, long count, int64_t *counts) {
    for (long p = 0; p < threshold_count; p += GROUP) {
        long group = threshold_count - p < GROUP ? threshold_count - p : GROUP;
        __m128 limit[GROUP];
        __m128i tally[GROUP];
        for (int i = 0; i < GROUP; i++) {
            limit[i] = _mm_set1_ps(i < group ? thresholds[p + i] : INFINITY);
            tally[i] = _mm_setzero_si128();
        }
        long j = 0;
        for (; j + 4 <= count; j += 4) {
            __m128 x = _mm_loadu_ps(row + j);
            for (int i = 0; i < GROUP; i++) tally[i] = _mm_sub_epi32(tally[i], _mm_castps_si128(_mm_cmpge_ps(x, limit[i])));
        }
        for (long i = 0; i < group; i++) {
            int32_t lanes[4];
            _mm_storeu_si128((__m128i *)lanes, tally[i]);
            int64_t total = (int64_t)lanes[0] + lanes[1] + lanes[2] + lanes[3];
            for (long k = j; k < count; k++) total += row[k] >= thresholds[p + i];
            counts[p + i] += total;
        }
    }
}
#endif

// Any other machine: plain loops (the compiler vectorises what it can).
static void count_at_least_portable(const float *thresholds, long threshold_count, const float *row, long count, int64_t *counts) {
    for (long p = 0; p < threshold_count; p++) {
        int64_t total = 0;
        for (long k = 0; k < count; k++) total += row[k] >= thresholds[p];
        counts[p] += total;
    }
}

int gcml_count_at_least_best_kernel(void) {
#if defined(__x86_64__)
    return __builtin_cpu_supports("avx2") ? GCML_COUNT_AVX2 : GCML_COUNT_SSE2;
#else
    return GCML_COUNT_PORTABLE;
#endif
}

void gcml_count_at_least(int kernel, const float *thresholds, long threshold_count, const float *row, long count, int64_t *counts) {
    switch (kernel) {
#if defined(__x86_64__)
    case GCML_COUNT_AVX2: count_at_least_avx2(thresholds, threshold_count, row, count, counts); return;
    case GCML_COUNT_SSE2: count_at_least_sse2(thresholds, threshold_count, row, count, counts); return;
#endif
    default: count_at_least_portable(thresholds, threshold_count, row, count, counts); return;
    }
}
