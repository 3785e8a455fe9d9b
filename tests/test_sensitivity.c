/* Sobol indices (sensitivity.h) on functions whose indices are known in
 * closed form, evaluated on a Saltelli design (design.h). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "talentsim/design.h"
#include "talentsim/sensitivity.h"

#define ISHIGAMI_A 7.0
#define ISHIGAMI_B 0.1

typedef double (*model_fn)(const double *u, size_t k);

/* Ishigami: f = sin x1 + a sin^2 x2 + b x3^4 sin x1, x in [-pi, pi]^3. */
static double ishigami(const double *u, size_t k) {
    (void)k;
    double x1 = M_PI * (2.0 * u[0] - 1.0), x2 = M_PI * (2.0 * u[1] - 1.0);
    double x3 = M_PI * (2.0 * u[2] - 1.0), s2 = sin(x2);
    return sin(x1) + ISHIGAMI_A * s2 * s2 +
           ISHIGAMI_B * pow(x3, 4) * sin(x1);
}

/* The Ishigami function's indices in closed form (Sobol' and Levitan
 * 1999): V1 = (1 + b pi^4/5)^2 / 2, V2 = a^2/8, V3 = 0,
 * V13 = b^2 pi^8 (1/18 - 1/50), V = V1 + V2 + V13. */
static void ishigami_indices(double s1[3], double st[3]) {
    double a = ISHIGAMI_A, b = ISHIGAMI_B, pi4 = pow(M_PI, 4);
    double v1 = 0.5 * (1.0 + b * pi4 / 5.0) * (1.0 + b * pi4 / 5.0);
    double v2 = a * a / 8.0, v13 = b * b * pi4 * pi4 * (1.0 / 18 - 1.0 / 50);
    double v = v1 + v2 + v13;
    s1[0] = v1 / v, s1[1] = v2 / v, s1[2] = 0.0;
    st[0] = (v1 + v13) / v, st[1] = v2 / v, st[2] = v13 / v;
}

/* Linear y = sum c_j x_j with x uniform on [0, 1): additive, so
 * S_j = ST_j = c_j^2 / sum c^2. The last parameter is inert. */
static const double linear_c[] = {1.0, 2.0, 3.0, 0.0};
#define LINEAR_K 4

static double linear(const double *u, size_t k) {
    double y = 0.0;
    for (size_t j = 0; j < k; j++)
        y += linear_c[j] * u[j];
    return y;
}

/* The model at every row of a Saltelli design (n base samples, k
 * parameters, seed 2024); the caller frees the outputs. */
static double *saltelli_outputs(model_fn f, size_t n, size_t k) {
    size_t rows = ts_design_saltelli_count(n, k);
    double *u = malloc(rows * k * sizeof *u), *y = malloc(rows * sizeof *y);
    cr_assert(u && y);
    cr_assert_eq(ts_design_saltelli(n, k, 2024, u, NULL), TS_OK);
    for (size_t r = 0; r < rows; r++)
        y[r] = f(u + r * k, k);
    free(u);
    return y;
}

static void analyse(const double *y, size_t n, size_t k, size_t nboot,
                    uint64_t seed, ts_sobol_index *out, size_t *nused) {
    ts_error err;
    ts_error_clear(&err);
    ts_status st = ts_sensitivity_saltelli(y, n, k, nboot, seed, out, nused,
                                           &err);
    cr_assert_eq(st, TS_OK, "%s", err.msg);
}

/* est within 4 bootstrap sds of the exact value, and the exact value
 * inside the 95% interval widened by one sd. The bootstrap treats the QMC
 * points as independent, which overstates the error, so both bounds are
 * conservative; se < 0.05 keeps them sharp enough to catch a wrong
 * estimator (iid theory gives se ~ 1/sqrt(N) ~ 0.016 at N = 4096). */
static void assert_index(const char *what, size_t j, double est, double lo,
                         double hi, double se, double exact) {
    cr_assert(se > 0.0 && se < 0.05, "%s_%zu: bootstrap sd %g", what, j + 1, se);
    cr_assert(fabs(est - exact) <= 4.0 * se,
              "%s_%zu = %.4f, exact %.4f, bootstrap sd %.4f", what, j + 1,
              est, exact, se);
    cr_assert(lo <= est && est <= hi, "%s_%zu = %.4f outside [%.4f, %.4f]",
              what, j + 1, est, lo, hi);
    cr_assert(lo - se <= exact && exact <= hi + se,
              "%s_%zu: exact %.4f far outside [%.4f, %.4f]", what, j + 1,
              exact, lo, hi);
}

Test(sensitivity, closed_form_ishigami_indices_match_the_literature) {
    double s1[3], st[3];
    ishigami_indices(s1, st);
    double lit_s1[] = {0.3139, 0.4424, 0.0}, lit_st[] = {0.5576, 0.4424, 0.2437};
    for (size_t j = 0; j < 3; j++) {
        cr_assert_float_eq(s1[j], lit_s1[j], 5e-5, "S%zu = %.5f", j + 1, s1[j]);
        cr_assert_float_eq(st[j], lit_st[j], 5e-5, "ST%zu = %.5f", j + 1, st[j]);
    }
}

Test(sensitivity, ishigami_indices_within_bootstrap_error) {
    size_t n = 4096, k = 3, nused;
    double *y = saltelli_outputs(ishigami, n, k);
    ts_sobol_index out[3];
    analyse(y, n, k, 300, 1, out, &nused);
    cr_assert_eq(nused, n);
    double s1[3], st[3];
    ishigami_indices(s1, st);
    for (size_t j = 0; j < k; j++) {
        assert_index("S", j, out[j].s1, out[j].s1_lo, out[j].s1_hi,
                     out[j].s1_se, s1[j]);
        assert_index("ST", j, out[j].st, out[j].st_lo, out[j].st_hi,
                     out[j].st_se, st[j]);
    }
    free(y);
}

Test(sensitivity, additive_linear_model_has_equal_first_and_total_order) {
    size_t n = 4096, k = LINEAR_K, nused;
    double *y = saltelli_outputs(linear, n, k);
    ts_sobol_index out[LINEAR_K];
    analyse(y, n, k, 300, 1, out, &nused);
    double c2 = 0.0;
    for (size_t j = 0; j < k; j++)
        c2 += linear_c[j] * linear_c[j];
    for (size_t j = 0; j + 1 < k; j++) {
        double exact = linear_c[j] * linear_c[j] / c2;
        assert_index("S", j, out[j].s1, out[j].s1_lo, out[j].s1_hi,
                     out[j].s1_se, exact);
        assert_index("ST", j, out[j].st, out[j].st_lo, out[j].st_hi,
                     out[j].st_se, exact);
    }
    /* the inert parameter: f(AB^(3)) == f(A) bit for bit, so exactly 0 */
    ts_sobol_index z = out[k - 1];
    cr_assert(z.s1 == 0.0 && z.s1_lo == 0.0 && z.s1_hi == 0.0 && z.s1_se == 0.0);
    cr_assert(z.st == 0.0 && z.st_lo == 0.0 && z.st_hi == 0.0 && z.st_se == 0.0);
    free(y);
}

/* Centring on the pooled mean makes the indices invariant to a constant
 * added to the output; the raw Saltelli product f(B) (f(AB) - f(A)) is
 * not (it adds 1000 mean(f(AB) - f(A)) to V_j). */
Test(sensitivity, indices_ignore_a_constant_offset) {
    size_t n = 1024, k = 3, nused;
    double *y = saltelli_outputs(ishigami, n, k);
    ts_sobol_index a[3], b[3];
    analyse(y, n, k, 50, 9, a, &nused);
    for (size_t r = 0; r < n * (k + 2); r++)
        y[r] += 1000.0;
    analyse(y, n, k, 50, 9, b, &nused);
    for (size_t j = 0; j < k; j++) {
        cr_assert_float_eq(a[j].s1, b[j].s1, 1e-8, "S%zu: %g vs %g", j + 1,
                           a[j].s1, b[j].s1);
        cr_assert_float_eq(a[j].st, b[j].st, 1e-8);
        cr_assert_float_eq(a[j].s1_hi, b[j].s1_hi, 1e-8);
    }
    free(y);
}

/* At N = 4096 the bootstrap distribution of each index is close to normal
 * (central limit theorem), so the 2.5% and 97.5% quantiles lie 1.96 sd
 * either side of the estimate. The sampling sd of a quantile of B = 1000
 * replicates is sqrt(p(1-p)/B) / phi(1.96) = 0.085 sd: 4 of those is the
 * tolerance. A 50% or 90% interval would sit at 0.67 or 1.64 sd. */
Test(sensitivity, bootstrap_interval_spans_the_central_95_percent) {
    size_t n = 4096, k = LINEAR_K, nused, B = 1000;
    double *y = saltelli_outputs(linear, n, k);
    ts_sobol_index out[LINEAR_K];
    analyse(y, n, k, B, 17, out, &nused);
    double tol = 4.0 * sqrt(0.025 * 0.975 / (double)B) / gsl_ran_ugaussian_pdf(1.96);
    for (size_t j = 0; j + 1 < k; j++) {
        double z[] = {(out[j].s1 - out[j].s1_lo) / out[j].s1_se,
                      (out[j].s1_hi - out[j].s1) / out[j].s1_se,
                      (out[j].st - out[j].st_lo) / out[j].st_se,
                      (out[j].st_hi - out[j].st) / out[j].st_se};
        for (size_t t = 0; t < 4; t++)
            cr_assert(fabs(z[t] - 1.96) < tol,
                      "index %zu, bound %zu: %.3f sd from the estimate", j + 1,
                      t, z[t]);
    }
    free(y);
}

Test(sensitivity, bootstrap_is_deterministic_for_a_seed) {
    size_t n = 256, k = 3, nused;
    double *y = saltelli_outputs(ishigami, n, k);
    ts_sobol_index a[3], b[3], c[3];
    analyse(y, n, k, 100, 5, a, &nused);
    analyse(y, n, k, 100, 5, b, &nused);
    analyse(y, n, k, 100, 6, c, &nused);
    cr_assert_eq(memcmp(a, b, sizeof a), 0, "same seed, different result");
    for (size_t j = 0; j < k; j++) {
        cr_assert_eq(a[j].s1, c[j].s1, "point estimates do not resample");
        cr_assert_eq(a[j].st, c[j].st);
        cr_assert_neq(a[j].s1_lo, c[j].s1_lo, "S%zu: seed ignored", j + 1);
        cr_assert_neq(a[j].st_se, c[j].st_se, "ST%zu: seed ignored", j + 1);
    }
    free(y);
}

/* Base samples 3, 10 and 20 fail (NaN in f(A), f(B), f(AB^(1))) and 30 has
 * an infinite output: the result is bit for bit that of the design
 * without them. */
Test(sensitivity, failed_base_samples_are_dropped) {
    size_t n = 128, k = 3, kk = k + 2, nused;
    size_t bad[] = {3, 10, 20, 30}, slot[] = {0, 1, 3, 4};
    double *y = saltelli_outputs(ishigami, n, k);
    double *kept = malloc(n * kk * sizeof *kept);
    cr_assert_not_null(kept);
    for (size_t b = 0; b < 4; b++)
        y[bad[b] * kk + slot[b]] = b == 3 ? INFINITY : NAN;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (i != 3 && i != 10 && i != 20 && i != 30)
            memcpy(kept + m++ * kk, y + i * kk, kk * sizeof *kept);
    cr_assert_eq(m, n - 4);
    ts_sobol_index a[3], b[3];
    analyse(y, n, k, 100, 3, a, &nused);
    cr_assert_eq(nused, n - 4);
    analyse(kept, m, k, 100, 3, b, &nused);
    cr_assert_eq(nused, m);
    cr_assert_eq(memcmp(a, b, sizeof a), 0, "dropping differs from removing");
    cr_assert(isfinite(a[0].s1) && isfinite(a[2].st_hi));
    free(kept);
    free(y);
}

static int all_nan(const ts_sobol_index *o, size_t k) {
    for (size_t j = 0; j < k; j++) {
        const double *f = &o[j].s1;
        for (size_t t = 0; t < sizeof o[j] / sizeof(double); t++)
            if (!isnan(f[t]))
                return 0;
    }
    return 1;
}

Test(sensitivity, too_few_samples_or_constant_output_give_nan_and_an_error) {
    size_t n = 4, k = 2, nused = 99;
    double y[4 * 4];
    for (size_t r = 0; r < n * (k + 2); r++)
        y[r] = (double)(r % 3);
    y[0] = y[4 + 1] = y[8 + 2] = NAN; /* only base sample 3 is usable */
    ts_sobol_index out[2];
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_sensitivity_saltelli(y, n, k, 10, 1, out, &nused, &err),
                 TS_EINPUT);
    cr_assert_eq(nused, 1);
    cr_assert(all_nan(out, k));
    cr_assert_not_null(strstr(err.msg, "1 of 4"), "%s", err.msg);
    for (size_t r = 0; r < n * (k + 2); r++)
        y[r] = 0.1;
    y[2] = 0.7; /* only an AB output varies: f(A), f(B) are constant */
    ts_error_clear(&err);
    cr_assert_eq(ts_sensitivity_saltelli(y, n, k, 10, 1, out, &nused, &err),
                 TS_EINPUT);
    cr_assert_eq(nused, n);
    cr_assert(all_nan(out, k));
    cr_assert_not_null(strstr(err.msg, "does not vary"), "%s", err.msg);
}

Test(sensitivity, without_bootstrap_intervals_are_nan) {
    size_t n = 64, k = 3, nused;
    double *y = saltelli_outputs(ishigami, n, k);
    ts_sobol_index out[3];
    analyse(y, n, k, 0, 1, out, &nused);
    for (size_t j = 0; j < k; j++) {
        cr_assert(isfinite(out[j].s1) && isfinite(out[j].st));
        cr_assert(isnan(out[j].s1_lo) && isnan(out[j].s1_hi) && isnan(out[j].s1_se));
        cr_assert(isnan(out[j].st_lo) && isnan(out[j].st_hi) && isnan(out[j].st_se));
    }
    free(y);
}

Test(sensitivity, bad_arguments_are_refused) {
    double y[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    ts_sobol_index out[2] = {{.s1 = 42.0}, {.s1 = 42.0}};
    size_t nused = 99;
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_sensitivity_saltelli(NULL, 2, 3, 10, 1, out, &nused, &err),
                 TS_EINPUT);
    cr_assert_eq(nused, 0);
    cr_assert_neq(err.msg[0], '\0');
    cr_assert_eq(ts_sensitivity_saltelli(y, 2, 3, 10, 1, NULL, &nused, NULL),
                 TS_EINPUT);
    cr_assert_eq(ts_sensitivity_saltelli(y, 0, 3, 10, 1, out, &nused, NULL),
                 TS_EINPUT);
    cr_assert_eq(ts_sensitivity_saltelli(y, 2, 0, 10, 1, out, NULL, NULL),
                 TS_EINPUT);
    ts_error_clear(&err);
    cr_assert_eq(ts_sensitivity_saltelli(y, SIZE_MAX / 4, 1, 10, 1, out, &nused,
                                         &err), TS_EINPUT);
    cr_assert_not_null(strstr(err.msg, "do not fit"), "%s", err.msg);
    cr_assert_eq(ts_sensitivity_saltelli(y, 2, 1, SIZE_MAX / 2, 1, out, &nused,
                                         NULL), TS_EINPUT);
    cr_assert_eq(out[0].s1, 42.0, "out written on invalid arguments");
}
