/* Philox4x32-10 (Salmon et al., SC11, as defined by Random123) for a batch
 * of agents: lane j gets the four words at counter (idx[j], group[j],
 * year * 256 + block, rep) and key seed.
 *
 * Internal to the engine (mech.h). Ten rounds of two 32 x 32 -> 64-bit
 * multiplications, the key bumped by the Weyl constants between rounds. The
 * AVX-512 and AVX2 variants (kernel.c compiled with those flags) run 16 or 8
 * agents per vector with explicit intrinsics (the two widths are the same
 * steps; SIMD types differ, so they are written out twice): the compiler vectorises the
 * plain loop with 64-bit multiplies and shuffles at about half the speed.
 * Integer arithmetic only, so every variant gives Random123's words
 * (tests/test_kernels.c compares them). */
#ifndef TS_PHILOX_LANES_H
#define TS_PHILOX_LANES_H

#include <stddef.h>
#include <stdint.h>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#define TS_PHILOX_M0 0xD2511F53u
#define TS_PHILOX_M1 0xCD9E8D57u
#define TS_PHILOX_W0 0x9E3779B9u
#define TS_PHILOX_W1 0xBB67AE85u

/* Rows [j, m) one at a time; returns m. */
static inline size_t ts_philox_rows_scalar(uint32_t k0, uint32_t k1, uint32_t c2, uint32_t c3,
                                           const uint32_t *restrict idx,
                                           const uint16_t *restrict group, size_t j, size_t m,
                                           uint32_t *restrict w0, uint32_t *restrict w1,
                                           uint32_t *restrict w2, uint32_t *restrict w3) {
    for (; j < m; j++) {
        uint32_t x0 = idx[j], x1 = group[j], x2 = c2, x3 = c3, a = k0, b = k1;
        for (int round = 0; round < 10; round++) {
            uint64_t p0 = (uint64_t)TS_PHILOX_M0 * x0, p1 = (uint64_t)TS_PHILOX_M1 * x2;
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ x1 ^ a;
            uint32_t n2 = (uint32_t)(p0 >> 32) ^ x3 ^ b;
            x1 = (uint32_t)p1;
            x3 = (uint32_t)p0;
            x0 = n0;
            x2 = n2;
            a += TS_PHILOX_W0;
            b += TS_PHILOX_W1;
        }
        w0[j] = x0;
        w1[j] = x1;
        w2[j] = x2;
        w3[j] = x3;
    }
    return m;
}

#if defined(__AVX512F__)
/* High and low halves of the 16 products x * mult: the multiply takes the
 * even 32-bit lanes, so the odd ones are shifted down for a second one. */
static inline void ts_mulhilo_16(__m512i x, __m512i mult, __m512i *hi, __m512i *lo) {
    __m512i even = _mm512_mul_epu32(x, mult);
    __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(x, 32), mult);
    *hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
    *lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
}

static inline size_t ts_philox_rows_16(uint32_t k0, uint32_t k1, uint32_t c2, uint32_t c3,
                                       const uint32_t *restrict idx,
                                       const uint16_t *restrict group, size_t m,
                                       uint32_t *restrict w0, uint32_t *restrict w1,
                                       uint32_t *restrict w2, uint32_t *restrict w3) {
    const __m512i m0 = _mm512_set1_epi32((int)TS_PHILOX_M0),
                  m1 = _mm512_set1_epi32((int)TS_PHILOX_M1);
    size_t j = 0;
    for (; j + 16 <= m; j += 16) {
        __m512i x0 = _mm512_loadu_si512(idx + j);
        __m512i x1 = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(group + j)));
        __m512i x2 = _mm512_set1_epi32((int)c2), x3 = _mm512_set1_epi32((int)c3);
        uint32_t a = k0, b = k1;
        for (int round = 0; round < 10; round++) {
            __m512i hi0, lo0, hi1, lo1;
            ts_mulhilo_16(x0, m0, &hi0, &lo0);
            ts_mulhilo_16(x2, m1, &hi1, &lo1);
            /* 0x96: the three-way exclusive or */
            x0 = _mm512_ternarylogic_epi32(hi1, x1, _mm512_set1_epi32((int)a), 0x96);
            x2 = _mm512_ternarylogic_epi32(hi0, x3, _mm512_set1_epi32((int)b), 0x96);
            x1 = lo1;
            x3 = lo0;
            a += TS_PHILOX_W0;
            b += TS_PHILOX_W1;
        }
        _mm512_storeu_si512(w0 + j, x0);
        _mm512_storeu_si512(w1 + j, x1);
        _mm512_storeu_si512(w2 + j, x2);
        _mm512_storeu_si512(w3 + j, x3);
    }
    return j;
}
#endif

#if defined(__AVX2__)
/* ts_mulhilo_16 for 8 lanes. */
static inline void ts_mulhilo_8(__m256i x, __m256i mult, __m256i *hi, __m256i *lo) {
    __m256i even = _mm256_mul_epu32(x, mult);
    __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), mult);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
    *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

static inline size_t ts_philox_rows_8(uint32_t k0, uint32_t k1, uint32_t c2, uint32_t c3,
                                      const uint32_t *restrict idx,
                                      const uint16_t *restrict group, size_t j, size_t m,
                                      uint32_t *restrict w0, uint32_t *restrict w1,
                                      uint32_t *restrict w2, uint32_t *restrict w3) {
    const __m256i m0 = _mm256_set1_epi32((int)TS_PHILOX_M0),
                  m1 = _mm256_set1_epi32((int)TS_PHILOX_M1);
    for (; j + 8 <= m; j += 8) {
        __m256i x0 = _mm256_loadu_si256((const __m256i *)(idx + j));
        __m256i x1 = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(group + j)));
        __m256i x2 = _mm256_set1_epi32((int)c2), x3 = _mm256_set1_epi32((int)c3);
        uint32_t a = k0, b = k1;
        for (int round = 0; round < 10; round++) {
            __m256i hi0, lo0, hi1, lo1;
            ts_mulhilo_8(x0, m0, &hi0, &lo0);
            ts_mulhilo_8(x2, m1, &hi1, &lo1);
            x0 = _mm256_xor_si256(_mm256_xor_si256(hi1, x1), _mm256_set1_epi32((int)a));
            x2 = _mm256_xor_si256(_mm256_xor_si256(hi0, x3), _mm256_set1_epi32((int)b));
            x1 = lo1;
            x3 = lo0;
            a += TS_PHILOX_W0;
            b += TS_PHILOX_W1;
        }
        _mm256_storeu_si256((__m256i *)(w0 + j), x0);
        _mm256_storeu_si256((__m256i *)(w1 + j), x1);
        _mm256_storeu_si256((__m256i *)(w2 + j), x2);
        _mm256_storeu_si256((__m256i *)(w3 + j), x3);
    }
    return j;
}
#endif

/* The words of rows [0, m): 16 lanes at a time (AVX-512), then 8 (AVX2,
 * also the AVX-512 variant's tail), then one at a time. */
static inline void ts_philox_lanes(uint64_t seed, uint32_t c2, uint32_t c3,
                                   const uint32_t *restrict idx, const uint16_t *restrict group,
                                   size_t m, uint32_t *restrict w0, uint32_t *restrict w1,
                                   uint32_t *restrict w2, uint32_t *restrict w3) {
    const uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    size_t j = 0;
#if defined(__AVX512F__)
    j = ts_philox_rows_16(k0, k1, c2, c3, idx, group, m, w0, w1, w2, w3);
#endif
#if defined(__AVX2__)
    j = ts_philox_rows_8(k0, k1, c2, c3, idx, group, j, m, w0, w1, w2, w3);
#endif
    ts_philox_rows_scalar(k0, k1, c2, c3, idx, group, j, m, w0, w1, w2, w3);
}

#endif
