/* The yearly step of a chunked population, compiled once per instruction
 * set from kernel.c, and the choice among them.
 *
 * Internal to the engine. Every variant runs the same passes (mech.h) on the
 * same IEEE operations without contraction, and the batched Philox of every
 * variant gives the words of Random123's scalar philox4x32, so all variants
 * give the same bits; they differ only in speed. */
#ifndef TS_KERNEL_H
#define TS_KERNEL_H

#include <stddef.h>

#include "agent.h"
#include "mech.h"

/* ts_agents_year of one instruction set. */
typedef size_t (*ts_year_kernel)(const ts_year *y, const ts_cols *c, size_t n, ts_tally *t);

/* Philox blocks of rows [i0, i0+m) of c, m <= TS_CHUNK, as four words per
 * row: w[k][j] = word k of philox4x32 at counter (idx, group, year * 256 +
 * block, rep). */
typedef void (*ts_philox_kernel)(const ts_year *y, const ts_cols *c, size_t i0, size_t m,
                                 unsigned block, uint32_t (*w)[TS_CHUNK]);

/* ts_kernel_births: rows [first, first + n) become new students. */
typedef void (*ts_births_kernel)(const ts_year *y, const ts_cols *c, size_t first, size_t n,
                                 uint32_t idx0, uint16_t group, ts_loc loc);

#define TS_KERNEL_DECLARE_(isa)                                                            \
    size_t ts_kernel_year_##isa(const ts_year *y, const ts_cols *c, size_t n, ts_tally *t); \
    void ts_kernel_births_##isa(const ts_year *y, const ts_cols *c, size_t first, size_t n, \
                                uint32_t idx0, uint16_t group, ts_loc loc);                 \
    void ts_kernel_philox_##isa(const ts_year *y, const ts_cols *c, size_t i0, size_t m,    \
                                unsigned block, uint32_t (*w)[TS_CHUNK]);
TS_KERNEL_DECLARE_(scalar)
#if defined(TS_X86_KERNELS)
TS_KERNEL_DECLARE_(avx2)
TS_KERNEL_DECLARE_(avx512)
#endif
#undef TS_KERNEL_DECLARE_

/* The variant in use: the best the CPU runs, unless the environment
 * variable TALENTSIM_SIMD names one (scalar, avx2, avx512; a variant the
 * CPU cannot run falls back to the best it can). Chosen once per process. */
ts_year_kernel ts_kernel_year(void);

ts_births_kernel ts_kernel_births(void);

/* The batched Philox of the variant in use (tests). */
ts_philox_kernel ts_kernel_philox(void);

/* Name of the variant in use ("scalar", "avx2", "avx512"). */
const char *ts_kernel_isa(void);

#endif
