/* The choice of the kernel variant (kernel.h): once per process, from the
 * CPU's features and the TALENTSIM_SIMD environment variable. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

typedef struct {
    const char *name;
    ts_year_kernel year;
    ts_births_kernel births;
    ts_philox_kernel philox;
    int (*supported)(void);
} ts_variant;

static int always(void) { return 1; }

#if defined(TS_X86_KERNELS)
static int has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

static int has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
}
#endif

/* Best last. */
static const ts_variant variants[] = {
    {"scalar", ts_kernel_year_scalar, ts_kernel_births_scalar, ts_kernel_philox_scalar, always},
#if defined(TS_X86_KERNELS)
    {"avx2", ts_kernel_year_avx2, ts_kernel_births_avx2, ts_kernel_philox_avx2, has_avx2},
    {"avx512", ts_kernel_year_avx512, ts_kernel_births_avx512, ts_kernel_philox_avx512, has_avx512},
#endif
};

#define NVARIANTS (sizeof variants / sizeof variants[0])

static const ts_variant *chosen;
static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;

static void choose(void) {
    size_t best = 0;
    for (size_t v = 0; v < NVARIANTS; v++)
        if (variants[v].supported())
            best = v;
    const char *want = getenv("TALENTSIM_SIMD");
    for (size_t v = 0; want && v < NVARIANTS; v++)
        if (strcmp(want, variants[v].name) == 0 && variants[v].supported())
            best = v;
    chosen = &variants[best];
}

static const ts_variant *variant(void) {
    pthread_once(&chosen_once, choose);
    return chosen;
}

ts_year_kernel ts_kernel_year(void) { return variant()->year; }

ts_births_kernel ts_kernel_births(void) { return variant()->births; }

ts_philox_kernel ts_kernel_philox(void) { return variant()->philox; }

const char *ts_kernel_isa(void) { return variant()->name; }
