/* Unit-cube designs for parameter sweeps: Latin hypercube, shifted Sobol,
 * Saltelli, cartesian grid (design.h).
 *
 * Sobol points come from gsl_qrng_sobol, whose coordinates are 30-bit
 * fractions c / 2^30. GSL starts at the sequence's second point (it skips
 * the origin), which breaks the net property of the first 2^m points; the
 * stream below returns the origin first, so point i is the i-th point of
 * the sequence in Gray-code order.
 *
 * Digital shift: each coordinate x is written as the 32-bit fixed-point
 * value v = x * 2^32 (exact) and replaced by (v XOR s_j) / 2^32, with one
 * random 32-bit s_j per dimension. A b-adic elementary interval of length
 * 2^-d in dimension j is the set of x whose leading d bits equal a given
 * pattern; the XOR maps it one-to-one onto the elementary interval whose
 * pattern is XORed with the leading d bits of s_j. A box of elementary
 * intervals is thus mapped onto a box of the same shape, and the boxes of
 * one shape are permuted among themselves, so a box that held exactly 2^t
 * points before the shift has a partner holding exactly those points
 * after it: a (t,m,s)-net stays a (t,m,s)-net. In particular each
 * coordinate of the first 2^m points still has one point in each
 * [s/2^m, (s+1)/2^m). The shift makes the design random (an unbiased
 * estimate of an integral) and distinct per seed without losing that. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_qrng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "../seed.h"
#include "talentsim/design.h"

#define FIXED_ONE 4294967296.0 /* 2^32: scale of the fixed-point shift */



static gsl_rng *rng_alloc(uint64_t seed, uint64_t stream) {
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (r)
        gsl_rng_set(r, ts_seed32(seed, stream));
    return r;
}

static ts_status out_of_memory(ts_error *err) {
    return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "out of memory");
}

/* n points of k doubles: n, k > 0, u given, n * k doubles addressable. */
static ts_status check_nk(const char *what, size_t n, size_t k,
                          const double *u, ts_error *err) {
    if (n == 0 || k == 0)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "%s design needs at least one point and one "
                            "dimension (n = %zu, k = %zu)", what, n, k);
    if (n > SIZE_MAX / sizeof(double) / k)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "%s design of %zu points in %zu dimensions is "
                            "too large", what, n, k);
    if (!u)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "%s design: no output array", what);
    return TS_OK;
}

/* (s + v) / n for a jitter v in [0, 1): inside stratum s. gsl_rng_uniform
 * gives multiples of 2^-32 below 1, so s + v is exact for n < 2^21. */
static double stratum_point(size_t s, size_t n, double v) {
    return ((double)s + v) / (double)n;
}

ts_status ts_design_lhs(size_t n, size_t k, uint64_t seed, double *u,
                        ts_error *err) {
    ts_status st = check_nk("Latin hypercube", n, k, u, err);
    if (st != TS_OK)
        return st;
    size_t *perm = malloc(n * sizeof *perm);
    gsl_rng *r = perm ? rng_alloc(seed, TS_STREAM_LHS) : NULL;
    if (!r) {
        free(perm);
        return out_of_memory(err);
    }
    for (size_t j = 0; j < k; j++) {
        for (size_t s = 0; s < n; s++)
            perm[s] = s;
        gsl_ran_shuffle(r, perm, n, sizeof *perm);
        for (size_t i = 0; i < n; i++)
            u[i * k + j] = stratum_point(perm[i], n, gsl_rng_uniform(r));
    }
    gsl_rng_free(r);
    free(perm);
    return TS_OK;
}

/* The shifted Sobol sequence, one point at a time. */
typedef struct {
    gsl_qrng *q;
    size_t dim;
    size_t count;                           /* points returned so far */
    uint32_t shift[TS_DESIGN_SOBOL_MAXDIM]; /* digital shift per dimension */
} sobol_stream;

static ts_status sobol_check(size_t n, size_t dim, ts_error *err) {
    if (dim > TS_DESIGN_SOBOL_MAXDIM)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "a Sobol design has at most %d dimensions "
                            "(GSL's gsl_qrng_sobol), not %zu",
                            TS_DESIGN_SOBOL_MAXDIM, dim);
    if (n > TS_DESIGN_SOBOL_MAXN)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "a Sobol design has at most %lu points, not %zu",
                            TS_DESIGN_SOBOL_MAXN, n);
    return TS_OK;
}

/* dim <= TS_DESIGN_SOBOL_MAXDIM (checked by the caller). */
static ts_status sobol_open(sobol_stream *s, size_t dim, uint64_t seed,
                            ts_error *err) {
    gsl_rng *r = rng_alloc(seed, TS_STREAM_SOBOL_SHIFT);
    s->q = r ? gsl_qrng_alloc(gsl_qrng_sobol, (unsigned)dim) : NULL;
    if (!s->q) {
        gsl_rng_free(r);
        return out_of_memory(err);
    }
    s->dim = dim;
    s->count = 0;
    for (size_t j = 0; j < dim; j++)
        s->shift[j] = (uint32_t)gsl_rng_get(r); /* mt19937: 32 random bits */
    gsl_rng_free(r);
    return TS_OK;
}

/* Next point into x[0..dim-1]: the origin first, then GSL's points, each
 * digitally shifted. Fewer than TS_DESIGN_SOBOL_MAXN calls (checked by the
 * caller), so GSL never runs out of points. */
static void sobol_next(sobol_stream *s, double *x) {
    if (s->count++ == 0)
        memset(x, 0, s->dim * sizeof *x);
    else
        gsl_qrng_get(s->q, x);
    for (size_t j = 0; j < s->dim; j++) {
        uint32_t v = (uint32_t)(x[j] * FIXED_ONE);
        x[j] = (double)(v ^ s->shift[j]) / FIXED_ONE;
    }
}

static void sobol_close(sobol_stream *s) {
    gsl_qrng_free(s->q);
    s->q = NULL;
}

ts_status ts_design_sobol(size_t n, size_t k, uint64_t seed, double *u,
                          ts_error *err) {
    ts_status st = check_nk("Sobol", n, k, u, err);
    if (st == TS_OK)
        st = sobol_check(n, k, err);
    sobol_stream s;
    if (st == TS_OK)
        st = sobol_open(&s, k, seed, err);
    if (st != TS_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        sobol_next(&s, u + i * k);
    sobol_close(&s);
    return TS_OK;
}

size_t ts_design_saltelli_count(size_t n, size_t k) {
    if (k > SIZE_MAX - 2 || n > SIZE_MAX / (k + 2))
        return 0;
    size_t rows = n * (k + 2);
    if (k != 0 && rows > SIZE_MAX / sizeof(double) / k)
        return 0;
    return rows;
}

/* Rows A_i, B_i and AB_i^(j) of base sample i from the 2k-dimensional
 * point ab = (A_i, B_i). */
static void saltelli_rows(const double *ab, size_t k, double *row) {
    memcpy(row, ab, k * sizeof *row);
    memcpy(row + k, ab + k, k * sizeof *row);
    for (size_t j = 0; j < k; j++) {
        double *abj = row + (2 + j) * k;
        memcpy(abj, ab, k * sizeof *abj);
        abj[j] = ab[k + j];
    }
}

ts_status ts_design_saltelli(size_t n, size_t k, uint64_t seed, double *u,
                             ts_error *err) {
    ts_status st = check_nk("Saltelli", n, k, u, err);
    if (st == TS_OK && k > TS_DESIGN_SALTELLI_MAXK)
        st = ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                          "a Saltelli design has at most %d parameters "
                          "(a %d-dimensional Sobol sequence), not %zu",
                          TS_DESIGN_SALTELLI_MAXK, TS_DESIGN_SOBOL_MAXDIM, k);
    if (st == TS_OK && ts_design_saltelli_count(n, k) == 0)
        st = ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                          "a Saltelli design of %zu base samples in %zu "
                          "dimensions is too large", n, k);
    if (st == TS_OK)
        st = sobol_check(n, 2 * k, err);
    sobol_stream s;
    if (st == TS_OK)
        st = sobol_open(&s, 2 * k, seed, err);
    if (st != TS_OK)
        return st;
    double ab[TS_DESIGN_SOBOL_MAXDIM];
    for (size_t i = 0; i < n; i++) {
        sobol_next(&s, ab);
        saltelli_rows(ab, k, u + i * (k + 2) * k);
    }
    sobol_close(&s);
    return TS_OK;
}

size_t ts_design_grid_count(const size_t *nvalues, size_t k, ts_error *err) {
    if (k == 0 || !nvalues) {
        ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                     "a grid needs at least one parameter");
        return 0;
    }
    size_t c = 1;
    for (size_t j = 0; j < k; j++) {
        if (nvalues[j] == 0) {
            ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                         "grid parameter %zu has no values", j);
            return 0;
        }
        if (c > TS_DESIGN_GRID_MAX / nvalues[j]) {
            ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                         "a grid has at most %lu points: parameters 1..%zu "
                         "already give more", TS_DESIGN_GRID_MAX, j + 1);
            return 0;
        }
        c *= nvalues[j];
    }
    return c;
}

ts_status ts_design_grid_index(const size_t *nvalues, size_t k, size_t point,
                               size_t *idx, ts_error *err) {
    size_t count = ts_design_grid_count(nvalues, k, err);
    if (count == 0)
        return TS_EINPUT;
    if (!idx || point >= count)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "grid point %zu out of range (%zu points)",
                            point, count);
    for (size_t j = k; j-- > 0;) {
        idx[j] = point % nvalues[j];
        point /= nvalues[j];
    }
    return TS_OK;
}
