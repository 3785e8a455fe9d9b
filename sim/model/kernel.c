/* The yearly step over a population, chunk by chunk: the passes of mech.h
 * (ts_chunk_year).
 *
 * Compiled once per instruction set (Makefile: -DTS_ISA=scalar with
 * -fno-tree-vectorize, avx2 with -mavx2, avx512 with -mavx512f
 * -mavx512dq -mavx512vl -mavx512bw); the function names carry the suffix.
 * The loops are plain C: the compiler vectorises them for the target. */
#include "kernel.h"
#include "mech.h"

#ifndef TS_ISA
#define TS_ISA scalar
#endif
#define TS_CAT2_(a, b) a##_##b
#define TS_CAT_(a, b) TS_CAT2_(a, b)
#define TS_KERNEL(name) TS_CAT_(name, TS_ISA)

void TS_KERNEL(ts_kernel_philox)(const ts_year *y, const ts_cols *c, size_t i0, size_t m,
                                 unsigned block, uint32_t (*w)[TS_CHUNK]) {
    ts_philox_rows(y, c, i0, m, block, w);
}

/* MODEL 4 step 2: rows [first, first + n) become new students at loc of
 * cohort group, with indices idx0, idx0 + 1, ... */
void TS_KERNEL(ts_kernel_births)(const ts_year *y, const ts_cols *cols, size_t first, size_t n,
                                 uint32_t idx0, uint16_t group, ts_loc loc) {
    const ts_cols cl = *cols, *c = &cl;
    const uint8_t visa = loc == TS_LOC_US ? TS_VISA_STUDENT : TS_VISA_NONE;
    uint32_t w[4][TS_CHUNK];
    for (size_t i0 = first; i0 < first + n; i0 += TS_CHUNK) {
        size_t m = first + n - i0 < TS_CHUNK ? first + n - i0 : TS_CHUNK;
        for (size_t j = 0; j < m; j++) {
            size_t i = i0 + j;
            c->idx[i] = idx0 + (uint32_t)(i - first);
            c->group[i] = group;
            c->grad_year[i] = -1;
            c->loc[i] = (uint8_t)loc;
            c->stage[i] = TS_STAGE_STUDENT;
            c->sector[i] = TS_SECTOR_ACADEMIA;
            c->visa[i] = visa;
            c->collab[i] = 0;
            c->grad_in_us[i] = 0;
            c->years_in_stage[i] = 0;
            c->years_in_us[i] = 0;
            c->years_on_visa[i] = 0;
            c->considered[i] = 0;
        }
        ts_philox_rows(y, c, i0, m, (unsigned)TS_D_Q >> 2, w);
        for (size_t j = 0; j < m; j++) {
            size_t i = i0 + j;
            ts_birth_draws(y, w[TS_D_Q & 3][j], w[TS_D_SENS & 3][j], &c->q[i], &c->lq[i],
                           &c->sens[i], &c->h[i]);
        }
    }
}

size_t TS_KERNEL(ts_kernel_year)(const ts_year *y, const ts_cols *c, size_t n, ts_tally *t) {
    ts_chunk k;
    size_t out = 0;
    for (size_t i0 = 0; i0 < n; i0 += TS_CHUNK) {
        size_t m = n - i0 < TS_CHUNK ? n - i0 : TS_CHUNK;
        out = ts_chunk_year(y, c, i0, m, &k, out, t);
    }
    return out;
}
