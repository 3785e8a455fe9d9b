/* The yearly step over a population, chunk by chunk: the passes of mech.h
 * (ts_chunk_passes, then the survivors moved down).
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

#if defined(__AVX512F__) && defined(__AVX512BW__)
#include <immintrin.h>

/* The rows of size w (1, 2, 4 or 8 bytes) at from, from+1, ..., from+m-1
 * whose bit is set in alive (bit j % 64 of alive[j / 64]) to rows to,
 * to+1, ... (to <= from), one 64-byte vector at a time. A store never
 * reaches past the bytes already loaded, and the tail is loaded and stored
 * under masks, so no row outside [to, from + m) is read or written. */
__attribute__((target("avx512vbmi2"))) static void
compress_column(uint8_t *base, size_t w, size_t to, size_t from, size_t m,
                const uint64_t *alive) {
    const size_t per = 64 / w;
    size_t n = 0;
    for (size_t j = 0; j < m; j += per) {
        size_t len = m - j < per ? m - j : per;
        uint64_t in = len == 64 ? ~0ull : (1ull << len) - 1;
        uint64_t sel = (alive[j / 64] >> (j % 64)) & in;
        size_t kept = (size_t)__builtin_popcountll(sel);
        uint64_t outm = kept == 64 ? ~0ull : (1ull << kept) - 1;
        const uint8_t *src = base + (from + j) * w;
        uint8_t *dst = base + (to + n) * w;
        switch (w) {
        case 1: {
            __m512i v = _mm512_maskz_compress_epi8(sel, _mm512_maskz_loadu_epi8(in, src));
            _mm512_mask_storeu_epi8(dst, outm, v);
            break;
        }
        case 2: {
            __m512i v = _mm512_maskz_compress_epi16((__mmask32)sel,
                                                    _mm512_maskz_loadu_epi16((__mmask32)in, src));
            _mm512_mask_storeu_epi16(dst, (__mmask32)outm, v);
            break;
        }
        case 4: {
            __m512i v = _mm512_maskz_compress_epi32((__mmask16)sel,
                                                    _mm512_maskz_loadu_epi32((__mmask16)in, src));
            _mm512_mask_storeu_epi32(dst, (__mmask16)outm, v);
            break;
        }
        default: {
            __m512i v = _mm512_maskz_compress_epi64((__mmask8)sel,
                                                    _mm512_maskz_loadu_epi64((__mmask8)in, src));
            _mm512_mask_storeu_epi64(dst, (__mmask8)outm, v);
            break;
        }
        }
        n += kept;
    }
}

/* ts_pass_compact with the VBMI2 compress instructions (Ice Lake and
 * later): every column's survivors move down a vector at a time instead of
 * one memmove per run of survivors and column. The rows end up where
 * ts_pass_compact puts them. */
__attribute__((target("avx512vbmi2"))) static size_t
compact_vbmi2(const ts_cols *c, size_t i0, size_t m, const ts_chunk *k, size_t out) {
    uint64_t alive[TS_CHUNK / 64];
    size_t kept = 0;
    for (size_t j = 0; j < m; j += 64) {
        uint64_t in = m - j < 64 ? (1ull << (m - j)) - 1 : ~0ull;
        __m512i v = _mm512_maskz_loadu_epi8(in, k->alive + j);
        alive[j / 64] = _mm512_test_epi8_mask(v, v);
        kept += (size_t)__builtin_popcountll(alive[j / 64]);
    }
    if (kept == m && out == i0)
        return out + m;
#define TS_COMPRESS_(type, name, doc) \
    compress_column((uint8_t *)c->name, sizeof(type), out, i0, m, alive);
    TS_COLUMNS(TS_COMPRESS_)
#undef TS_COMPRESS_
    return out + kept;
}
#define TS_HAVE_VBMI2_PATH 1
#endif

size_t TS_KERNEL(ts_kernel_year)(const ts_year *y, const ts_cols *c, size_t n, ts_tally *t) {
    ts_chunk k;
    memset(k.acc, 0, sizeof k.acc);
    size_t out = 0;
#ifdef TS_HAVE_VBMI2_PATH
    __builtin_cpu_init();
    const int vbmi2 = __builtin_cpu_supports("avx512vbmi2");
#endif
    for (size_t i0 = 0; i0 < n; i0 += TS_CHUNK) {
        size_t m = n - i0 < TS_CHUNK ? n - i0 : TS_CHUNK;
        ts_chunk_passes(y, c, i0, m, &k, t);
#ifdef TS_HAVE_VBMI2_PATH
        if (vbmi2) {
            out = compact_vbmi2(c, i0, m, &k, out);
            continue;
        }
#endif
        out = ts_pass_compact(c, i0, m, &k, out);
    }
    ts_record_fold((const double(*)[TS_LANES])k.acc, t);
    return out;
}
