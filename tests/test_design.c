/* Unit-cube designs (design.h): Latin hypercube strata, the net property of
 * the shifted Sobol sequence, the Saltelli layout and the grid. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "talentsim/design.h"

static double *alloc_points(size_t n, size_t k) {
    double *u = malloc(n * k * sizeof *u);
    cr_assert_not_null(u);
    return u;
}

/* Stratum of x among n equal strata of [0, 1); asserts 0 <= x < 1. */
static size_t stratum(double x, size_t n) {
    cr_assert(x >= 0.0 && x < 1.0, "coordinate %.17g outside [0, 1)", x);
    return (size_t)floor(x * (double)n);
}

/* Asserts that column j of the first npts points of u (k columns) has
 * exactly one point in each of npts strata. */
static void assert_one_per_stratum(const double *u, size_t npts, size_t k,
                                   size_t j) {
    unsigned char *seen = calloc(npts, 1);
    cr_assert_not_null(seen);
    for (size_t i = 0; i < npts; i++) {
        size_t s = stratum(u[i * k + j], npts);
        cr_assert(!seen[s], "column %zu: stratum %zu of %zu holds two points",
                  j, s, npts);
        seen[s] = 1;
    }
    free(seen);
}

Test(design, lhs_has_one_point_per_stratum_in_every_column) {
    size_t sizes[] = {1, 2, 97, 256};
    for (size_t t = 0; t < sizeof sizes / sizeof *sizes; t++) {
        size_t n = sizes[t], k = 5;
        double *u = alloc_points(n, k);
        ts_error err;
        ts_error_clear(&err);
        cr_assert_eq(ts_design_lhs(n, k, 42, u, &err), TS_OK, "%s", err.msg);
        for (size_t j = 0; j < k; j++)
            assert_one_per_stratum(u, n, k, j);
        free(u);
    }
}

/* The position inside its stratum, x n - floor(x n), is uniform on [0, 1):
 * mean 1/2 (sd of the mean sqrt(1/12 / M)) and variance 1/12 (sd of the
 * sample variance about sqrt(Var((U - 1/2)^2) / M) = sqrt(1/180 / M)).
 * Stratum corners (no jitter) or centres fail one of the two. */
Test(design, lhs_jitter_is_uniform_within_strata) {
    size_t n = 200, k = 5, M = n * k;
    double *u = alloc_points(n, k);
    cr_assert_eq(ts_design_lhs(n, k, 7, u, NULL), TS_OK);
    double sum = 0.0, ss = 0.0;
    for (size_t t = 0; t < M; t++) {
        double f = u[t] * (double)n - floor(u[t] * (double)n);
        sum += f;
        ss += (f - 0.5) * (f - 0.5);
    }
    double mean = sum / (double)M, var = ss / (double)M;
    cr_assert(fabs(mean - 0.5) < 4.0 * sqrt(1.0 / 12.0 / (double)M),
              "mean position in stratum %g", mean);
    cr_assert(fabs(var - 1.0 / 12.0) < 4.0 * sqrt(1.0 / 180.0 / (double)M),
              "variance of the position in stratum %g", var);
    free(u);
}

/* Independent random permutations: the correlation of two columns has sd
 * 1/sqrt(n-1) (permutation distribution); equal permutations give 1. */
Test(design, lhs_columns_are_independent_permutations) {
    size_t n = 200, k = 4;
    double *u = alloc_points(n, k);
    cr_assert_eq(ts_design_lhs(n, k, 3, u, NULL), TS_OK);
    for (size_t a = 0; a < k; a++)
        for (size_t b = a + 1; b < k; b++) {
            double sxy = 0.0, sxx = 0.0, syy = 0.0;
            for (size_t i = 0; i < n; i++) {
                double x = u[i * k + a] - 0.5, y = u[i * k + b] - 0.5;
                sxy += x * y;
                sxx += x * x;
                syy += y * y;
            }
            double r = sxy / sqrt(sxx * syy);
            cr_assert(fabs(r) < 4.0 / sqrt((double)(n - 1)),
                      "columns %zu and %zu correlate: r = %g", a, b, r);
        }
    free(u);
}

/* Same seed: the same bits; another seed (also one differing only in its
 * high 32 bits, which mt19937's 32-bit seed would drop): another design. */
static void assert_seeded(ts_status (*make)(size_t, size_t, uint64_t, double *,
                                            ts_error *)) {
    size_t n = 64, k = 3;
    uint64_t seeds[] = {1, 2, 1 + (UINT64_C(1) << 32)};
    double *u0 = alloc_points(n, k), *u1 = alloc_points(n, k);
    cr_assert_eq(make(n, k, 1, u0, NULL), TS_OK);
    cr_assert_eq(make(n, k, 1, u1, NULL), TS_OK);
    cr_assert_eq(memcmp(u0, u1, n * k * sizeof *u0), 0, "not reproducible");
    for (size_t s = 1; s < 3; s++) {
        cr_assert_eq(make(n, k, seeds[s], u1, NULL), TS_OK);
        size_t same = 0;
        for (size_t t = 0; t < n * k; t++)
            same += u0[t] == u1[t];
        cr_assert_eq(same, 0, "seed %llu shares %zu coordinates with seed 1",
                     (unsigned long long)seeds[s], same);
    }
    free(u0);
    free(u1);
}

Test(design, lhs_is_reproducible_and_depends_on_the_seed) {
    assert_seeded(ts_design_lhs);
}

Test(design, sobol_is_reproducible_and_depends_on_the_seed) {
    assert_seeded(ts_design_sobol);
}

/* A (0,m,1)-net in every coordinate: for each m <= 10, the first 2^m
 * points have exactly one point in each [s/2^m, (s+1)/2^m), in all 40
 * dimensions. It holds for Sobol's sequence started at the origin and
 * survives the digital shift; GSL's own start (second point) breaks it. */
Test(design, sobol_first_2m_points_stratify_each_coordinate) {
    size_t m_max = 10, n = (size_t)1 << m_max, k = TS_DESIGN_SOBOL_MAXDIM;
    double *u = alloc_points(n, k);
    cr_assert_eq(ts_design_sobol(n, k, 99, u, NULL), TS_OK);
    for (size_t m = 0; m <= m_max; m++)
        for (size_t j = 0; j < k; j++)
            assert_one_per_stratum(u, (size_t)1 << m, k, j);
    free(u);
}

/* Sobol's first two dimensions (identity and Pascal generator matrices)
 * are a (0,2)-sequence: the first 2^m points have one point in every box
 * [a/2^d, (a+1)/2^d) x [b/2^(m-d), (b+1)/2^(m-d)), for every d. A digital
 * shift permutes those boxes, so it still holds after it. */
Test(design, sobol_first_two_coordinates_form_a_0m2_net) {
    size_t m = 8, n = (size_t)1 << m, k = 2;
    double *u = alloc_points(n, k);
    unsigned char *seen = malloc(n);
    cr_assert_not_null(seen);
    cr_assert_eq(ts_design_sobol(n, k, 5, u, NULL), TS_OK);
    for (size_t d = 0; d <= m; d++) {
        memset(seen, 0, n);
        size_t n1 = (size_t)1 << d, n2 = (size_t)1 << (m - d);
        for (size_t i = 0; i < n; i++) {
            size_t box = stratum(u[2 * i], n1) * n2 + stratum(u[2 * i + 1], n2);
            cr_assert(!seen[box], "d = %zu: box %zu holds two points", d, box);
            seen[box] = 1;
        }
    }
    free(seen);
    free(u);
}

Test(design, sobol_rejects_more_than_40_dimensions) {
    double *u = alloc_points(4, 41);
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_design_sobol(4, 41, 1, u, &err), TS_EINPUT);
    cr_assert_eq(err.status, TS_EINPUT);
    cr_assert_not_null(strstr(err.msg, "at most 40 dimensions"), "%s", err.msg);
    cr_assert_eq(ts_design_sobol(4, 40, 1, u, NULL), TS_OK);
    /* more points than GSL's 30-bit sequence has: refused before writing */
    ts_error_clear(&err);
    cr_assert_eq(ts_design_sobol(TS_DESIGN_SOBOL_MAXN + 1, 1, 1, u, &err),
                 TS_EINPUT);
    cr_assert_not_null(strstr(err.msg, "points"), "%s", err.msg);
    free(u);
}

Test(design, designs_reject_bad_arguments) {
    ts_status (*make[])(size_t, size_t, uint64_t, double *, ts_error *) = {
        ts_design_lhs, ts_design_sobol, ts_design_saltelli};
    double u[8];
    for (size_t f = 0; f < 3; f++) {
        ts_error err;
        ts_error_clear(&err);
        cr_assert_eq(make[f](0, 2, 1, u, &err), TS_EINPUT);
        cr_assert_neq(err.msg[0], '\0');
        cr_assert_eq(make[f](2, 0, 1, u, &err), TS_EINPUT);
        cr_assert_eq(make[f](2, 2, 1, NULL, &err), TS_EINPUT);
        ts_error_clear(&err);
        cr_assert_eq(make[f](SIZE_MAX / 2, 3, 1, u, &err), TS_EINPUT);
        cr_assert_not_null(strstr(err.msg, "too large"), "%s", err.msg);
        cr_assert_eq(make[f](0, 0, 1, NULL, NULL), TS_EINPUT); /* no err */
    }
}

/* Rows of base sample i: A_i, B_i, then AB^(j) = A_i with column j from
 * B_i, where (A_i, B_i) is point i of the 2k-dimensional shifted Sobol
 * sequence of the same seed. */
Test(design, saltelli_rows_are_a_b_and_a_with_one_column_of_b) {
    size_t n = 64, k = 4, rows = ts_design_saltelli_count(n, k);
    cr_assert_eq(rows, n * (k + 2));
    double *u = alloc_points(rows, k), *ab = alloc_points(n, 2 * k);
    cr_assert_eq(ts_design_saltelli(n, k, 11, u, NULL), TS_OK);
    cr_assert_eq(ts_design_sobol(n, 2 * k, 11, ab, NULL), TS_OK);
    for (size_t i = 0; i < n; i++) {
        const double *a = ab + i * 2 * k, *b = a + k;
        const double *row = u + i * (k + 2) * k;
        for (size_t c = 0; c < k; c++) {
            cr_assert_eq(row[c], a[c], "A_%zu[%zu]", i, c);
            cr_assert_eq(row[k + c], b[c], "B_%zu[%zu]", i, c);
        }
        for (size_t j = 0; j < k; j++)
            for (size_t c = 0; c < k; c++)
                cr_assert_eq(row[(2 + j) * k + c], c == j ? b[c] : a[c],
                             "AB_%zu^(%zu)[%zu]", i, j, c);
    }
    free(u);
    free(ab);
}

Test(design, saltelli_count_and_limits) {
    cr_assert_eq(ts_design_saltelli_count(8, 3), 40);
    cr_assert_eq(ts_design_saltelli_count(SIZE_MAX / 4, 3), 0);
    cr_assert_eq(ts_design_saltelli_count(1, SIZE_MAX), 0);
    size_t n = 4, k = TS_DESIGN_SALTELLI_MAXK;
    double *u = alloc_points(ts_design_saltelli_count(n, k + 1), k + 1);
    cr_assert_eq(ts_design_saltelli(n, k, 1, u, NULL), TS_OK);
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_design_saltelli(n, k + 1, 1, u, &err), TS_EINPUT);
    cr_assert_not_null(strstr(err.msg, "at most 20 parameters"), "%s", err.msg);
    free(u);
}

/* Every point of a 3 x 1 x 4 x 2 grid is a distinct tuple of value
 * indices, in range, the last parameter varying fastest. */
Test(design, grid_enumerates_the_cartesian_product_once) {
    size_t nv[] = {3, 1, 4, 2}, k = 4, idx[4];
    size_t count = ts_design_grid_count(nv, k, NULL);
    cr_assert_eq(count, 24);
    unsigned char seen[24] = {0};
    for (size_t p = 0; p < count; p++) {
        cr_assert_eq(ts_design_grid_index(nv, k, p, idx, NULL), TS_OK);
        size_t code = 0;
        for (size_t j = 0; j < k; j++) {
            cr_assert_lt(idx[j], nv[j]);
            code = code * nv[j] + idx[j];
        }
        cr_assert(!seen[code], "point %zu repeats a tuple", p);
        seen[code] = 1;
    }
    cr_assert_eq(ts_design_grid_index(nv, k, 1, idx, NULL), TS_OK);
    cr_assert(idx[0] == 0 && idx[1] == 0 && idx[2] == 0 && idx[3] == 1);
    cr_assert_eq(ts_design_grid_index(nv, k, 2, idx, NULL), TS_OK);
    cr_assert(idx[0] == 0 && idx[2] == 1 && idx[3] == 0);
    cr_assert_eq(ts_design_grid_index(nv, k, 23, idx, NULL), TS_OK);
    cr_assert(idx[0] == 2 && idx[1] == 0 && idx[2] == 3 && idx[3] == 1);
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_design_grid_index(nv, k, 24, idx, &err), TS_EINPUT);
    cr_assert_not_null(strstr(err.msg, "out of range"), "%s", err.msg);
    cr_assert_eq(ts_design_grid_index(nv, k, 0, NULL, NULL), TS_EINPUT);
}

Test(design, grid_count_refuses_empty_and_oversized_grids) {
    size_t at_max[] = {10000, 1000}, over[] = {10000, 1001};
    size_t huge[] = {SIZE_MAX, SIZE_MAX}, empty[] = {3, 0};
    cr_assert_eq(ts_design_grid_count(at_max, 2, NULL), TS_DESIGN_GRID_MAX);
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_design_grid_count(over, 2, &err), 0);
    cr_assert_eq(err.status, TS_EINPUT);
    cr_assert_not_null(strstr(err.msg, "at most 10000000 points"), "%s", err.msg);
    cr_assert_eq(ts_design_grid_count(huge, 2, NULL), 0);
    cr_assert_eq(ts_design_grid_count(empty, 2, NULL), 0);
    cr_assert_eq(ts_design_grid_count(empty, 0, NULL), 0);
    cr_assert_eq(ts_design_grid_count(NULL, 2, NULL), 0);
    size_t idx[2];
    cr_assert_eq(ts_design_grid_index(over, 2, 0, idx, NULL), TS_EINPUT);
}
