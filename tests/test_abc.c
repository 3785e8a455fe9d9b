/* ABC-SMC (abc.h) on problems whose posterior is known: the conjugate
 * normal mean, a deterministic two-parameter model, a non-identifiable
 * sum; reproducibility across callback threads and across a resume; the
 * stopping rules; the input checks; the priors and posterior summaries. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "talentsim/abc.h"

/* ---- a small deterministic generator for the callbacks ---------------- */

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double unif(uint64_t *s) { /* in (0, 1) */
    return ((double)(splitmix(s) >> 11) + 0.5) * 0x1p-53;
}

static double gauss(uint64_t *s) { /* Box-Muller */
    double u = unif(s), v = unif(s);
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* A stream seeded from the bits of theta: each particle's simulation is
 * a fixed function of its parameters, whichever thread runs it. */
static uint64_t seed_of(const double *theta, size_t k, uint64_t salt) {
    uint64_t s = salt;
    for (size_t j = 0; j < k; j++) {
        uint64_t b;
        memcpy(&b, &theta[j], sizeof b);
        s ^= b;
        s = splitmix(&s);
    }
    return s;
}

/* ---- the conjugate normal mean ---------------------------------------- */

/* y_1..y_M ~ N(mu, SIGMA^2), prior mu ~ N(MU0, TAU^2) truncated to
 * [-5, 5] (10 prior sds: the truncation removes 1.5e-23 of the mass). The
 * summary is the sample mean, sufficient for mu, so the ABC target
 * prior(mu) P(|ybar_sim - ybar_obs| <= eps | mu) tends to the exact
 * posterior N(mu_n, s_n^2) as eps -> 0, with
 *   1/s_n^2 = 1/TAU^2 + M/SIGMA^2,  mu_n = s_n^2 (MU0/TAU^2 + M ybar/SIGMA^2).
 * At eps > 0 it is the posterior given ybar_obs + U, U ~ uniform(-eps,
 * eps) (to first order in a nearly flat marginal): the sd becomes
 * sqrt(s_n^2 + c^2 eps^2 / 3), c = s_n^2 M / SIGMA^2 < 1. */
#define CONJ_M 10
#define CONJ_SIGMA 1.0
#define CONJ_MU0 0.0
#define CONJ_TAU 0.5
#define CONJ_TRUE_MU 0.8

typedef struct {
    double ybar;  /* observed sample mean */
    int threads;  /* OpenMP threads of the callback */
    size_t calls; /* batches evaluated */
} conj_ctx;

static double conj_observed_mean(void) {
    uint64_t s = 42;
    double sum = 0.0;
    for (int i = 0; i < CONJ_M; i++)
        sum += CONJ_TRUE_MU + CONJ_SIGMA * gauss(&s);
    return sum / CONJ_M;
}

static ts_status conj_eval(void *vctx, const double *theta, size_t n,
                           double *dist, ts_error *err) {
    (void)err;
    conj_ctx *c = vctx;
    c->calls++;
#pragma omp parallel for num_threads(c->threads) schedule(dynamic, 7) if (n >= 256)
    for (size_t i = 0; i < n; i++) {
        uint64_t s = seed_of(theta + i, 1, 7);
        double sum = 0.0;
        for (int r = 0; r < CONJ_M; r++)
            sum += theta[i] + CONJ_SIGMA * gauss(&s);
        dist[i] = fabs(sum / CONJ_M - c->ybar);
    }
    return TS_OK;
}

static const ts_abc_prior conj_prior = {TS_ABC_NORMAL, -5.0, 5.0, CONJ_MU0,
                                        CONJ_TAU};

static ts_abc_problem conj_problem(conj_ctx *c) {
    return (ts_abc_problem){.k = 1, .prior = &conj_prior, .eval = conj_eval,
                            .eval_ctx = c};
}

/* Generations reported through the callback. */
typedef struct {
    size_t count, last_index, last_evals;
    int in_order; /* indices consecutive, evaluations increasing */
    size_t fail_at; /* return TS_EINPUT at this index (0: never) */
} report_log;

static ts_status log_report(void *vctx, const ts_abc_generation *g,
                            ts_error *err) {
    report_log *l = vctx;
    if (l->count > 0 &&
        (g->index != l->last_index + 1 || g->evaluations <= l->last_evals))
        l->in_order = 0;
    l->count++;
    l->last_index = g->index;
    l->last_evals = g->evaluations;
    if (l->fail_at && g->index == l->fail_at)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "", "report refused");
    return TS_OK;
}

static void run_ok(const ts_abc_problem *pb, const ts_abc_options *o,
                   const ts_abc_generation *resume, ts_abc_result *res) {
    ts_error err;
    ts_status st = ts_abc_run(pb, o, resume, res, &err);
    cr_assert_eq(st, TS_OK, "%s", err.msg);
}

/* Invariants of every completed generation: inside the support, within
 * its tolerance, normalised weights, ESS = 1 / sum w^2. */
static void assert_generation(const ts_abc_generation *g,
                              const ts_abc_prior *prior) {
    double ws = 0.0, w2 = 0.0;
    for (size_t i = 0; i < g->n; i++) {
        for (size_t j = 0; j < g->k; j++) {
            double x = g->theta[i * g->k + j];
            cr_assert(x >= prior[j].lo && x <= prior[j].hi,
                      "gen %zu: theta %g outside [%g, %g]", g->index, x,
                      prior[j].lo, prior[j].hi);
        }
        cr_assert(g->dist[i] <= g->eps, "gen %zu: d = %g > eps = %g",
                  g->index, g->dist[i], g->eps);
        ws += g->weight[i], w2 += g->weight[i] * g->weight[i];
    }
    cr_assert_float_eq(ws, 1.0, 1e-12, "gen %zu: weights sum to %.15g",
                       g->index, ws);
    cr_assert_float_eq(g->ess, 1.0 / w2, 1e-9 * g->ess);
    cr_assert(g->acceptance > 0.0 && g->acceptance <= 1.0);
}

Test(abc, conjugate_normal_mean_matches_the_exact_posterior) {
    conj_ctx c = {.ybar = conj_observed_mean(), .threads = 2};
    report_log log = {.in_order = 1};
    ts_abc_problem pb = conj_problem(&c);
    pb.report = log_report, pb.report_ctx = &log;
    ts_abc_options o;
    ts_abc_options_default(&o);
    o.particles = 2000, o.max_generations = 7, o.seed = 11;
    ts_abc_result res;
    run_ok(&pb, &o, NULL, &res);
    cr_assert_eq(res.stop, TS_ABC_STOP_MAX_GENERATIONS, "%s", res.why);
    cr_assert_eq(log.count, res.ngen);
    cr_assert(log.in_order);
    for (size_t t = 0; t < res.ngen; t++) {
        assert_generation(&res.gen[t], &conj_prior);
        cr_assert(t == 0 || res.gen[t].eps < res.gen[t - 1].eps);
    }
    const ts_abc_generation *g = &res.gen[res.ngen - 1];
    double prec = 1.0 / (CONJ_TAU * CONJ_TAU) + CONJ_M / (CONJ_SIGMA * CONJ_SIGMA);
    double sn2 = 1.0 / prec, sn = sqrt(sn2);
    double mun = sn2 * (CONJ_MU0 / (CONJ_TAU * CONJ_TAU) +
                        CONJ_M * c.ybar / (CONJ_SIGMA * CONJ_SIGMA));
    double cc = sn2 * CONJ_M / (CONJ_SIGMA * CONJ_SIGMA);
    double sd_eps = sqrt(sn2 + cc * cc * g->eps * g->eps / 3.0);
    /* The final eps must be small enough that the target is the exact
     * posterior to within 2% in sd, else the check below is too weak. */
    cr_assert(sd_eps / sn - 1.0 < 0.02, "eps %g inflates the sd by %.2f%%",
              g->eps, 100.0 * (sd_eps / sn - 1.0));
    ts_abc_summary s;
    ts_error err;
    cr_assert_eq(ts_abc_summarize(g, &s, &err), TS_OK, "%s", err.msg);
    /* Mean: 4 standard errors sd_eps / sqrt(ESS) (the eps-inflated sd,
     * not the estimated one, so a too-wide population cannot widen it). */
    double se = sd_eps / sqrt(g->ess);
    cr_assert(fabs(s.mean - mun) <= 4.0 * se,
              "mean %.5f, exact %.5f, 4 se = %.5f (ESS %.0f)", s.mean, mun,
              4.0 * se, g->ess);
    /* sd: the sd of n normal draws has standard error sd / sqrt(2 n);
     * allowed: 4 of those (with n = ESS) around the eps-inflated sd, i.e.
     * a relative tolerance 4/sqrt(2 ESS) + (sd_eps/s_n - 1) about s_n. */
    double tol = 4.0 / sqrt(2.0 * g->ess);
    cr_assert(fabs(s.sd / sd_eps - 1.0) <= tol,
              "sd %.5f, exact %.5f (eps-inflated %.5f), relative tol %.3f",
              s.sd, sn, sd_eps, tol);
    cr_log_info("conjugate: mean %.5f (exact %.5f, se %.5f) sd %.5f (exact "
                "%.5f, tol %.3f) eps %.4g ESS %.0f evals %zu",
                s.mean, mun, se, s.sd, sn, tol, g->eps, g->ess, g->evaluations);
    ts_abc_result_free(&res);
}

/* ---- a deterministic two-parameter model --------------------------------- */

/* (a, b) uniform on [0, 2] x [-1, 1]; summaries s = (a + b, a b), the
 * distance Euclidean in s. With a in [0, 2] and b in [-1, 1], s fixes
 * (a, b) (the roots of x^2 - s1 x + s2, the larger one being a), so the
 * posterior shrinks onto the truth: to first order {|s - s*| <= eps} is
 * the ellipse |J (theta - theta*)| <= eps, J = [[1, 1], [b, a]], inside
 * the disc of radius eps ||J^-1||_2 around the truth. */
static const double true_ab[2] = {1.3, -0.4};

static ts_status ab_eval(void *ctx, const double *theta, size_t n,
                         double *dist, ts_error *err) {
    (void)ctx, (void)err;
    double s1 = true_ab[0] + true_ab[1], s2 = true_ab[0] * true_ab[1];
    for (size_t i = 0; i < n; i++) {
        double a = theta[2 * i], b = theta[2 * i + 1];
        dist[i] = hypot(a + b - s1, a * b - s2);
    }
    return TS_OK;
}

/* ||J^-1||_2 at the truth: 1 / the smallest singular value of J. */
static double jinv_norm(void) {
    double a = true_ab[0], b = true_ab[1];
    double m11 = 1 + b * b, m12 = 1 + a * b, m22 = 1 + a * a; /* J^T J */
    double tr = m11 + m22, det = m11 * m22 - m12 * m12;
    double lmin = 0.5 * (tr - sqrt(tr * tr - 4 * det));
    return 1.0 / sqrt(lmin);
}

Test(abc, uniform_prior_recovers_a_known_parameter) {
    ts_abc_prior pr[2] = {{TS_ABC_UNIFORM, 0.0, 2.0, 0, 0},
                          {TS_ABC_UNIFORM, -1.0, 1.0, 0, 0}};
    ts_abc_problem pb = {.k = 2, .prior = pr, .eval = ab_eval};
    ts_abc_options o;
    ts_abc_options_default(&o);
    o.particles = 1000, o.max_generations = 10, o.seed = 5;
    ts_abc_result res;
    run_ok(&pb, &o, NULL, &res);
    const ts_abc_generation *g = &res.gen[res.ngen - 1];
    assert_generation(g, pr);
    ts_abc_summary s[2];
    cr_assert_eq(ts_abc_summarize(g, s, NULL), TS_OK);
    double r = g->eps * jinv_norm();
    for (size_t j = 0; j < 2; j++) {
        cr_log_info("recovery: theta_%zu 95%% [%.5f, %.5f] truth %.2f "
                    "(eps %.3g, radius %.3g)", j, s[j].p2_5, s[j].p97_5,
                    true_ab[j], g->eps, r);
        cr_assert(s[j].p2_5 <= true_ab[j] && true_ab[j] <= s[j].p97_5,
                  "theta_%zu: truth %.3f outside [%.5f, %.5f]", j,
                  true_ab[j], s[j].p2_5, s[j].p97_5);
        /* 1.5 r: the first-order disc, widened for the curvature of s */
        cr_assert(s[j].p2_5 >= true_ab[j] - 1.5 * r &&
                      s[j].p97_5 <= true_ab[j] + 1.5 * r,
                  "theta_%zu: [%.5f, %.5f] wider than the eps disc %.5f",
                  j, s[j].p2_5, s[j].p97_5, r);
    }
    cr_assert(r < 0.05, "eps %g did not shrink", g->eps);
    ts_abc_result_free(&res);
}

/* ---- a non-identifiable sum -------------------------------------------- */

/* (a, b) uniform on [0, 1]^2, distance |a + b - 1|: only the sum is
 * identified. The ABC target is uniform on the band |a + b - 1| <= eps;
 * with u = a + b - 1 ~ U(-eps, eps) and v = a - b ~ U(-1, 1) (the band's
 * ends, cut by the square, change this by O(eps^3)), a = (1 + u + v)/2:
 *   E a = 1/2, sd a = sqrt((1 + eps^2)/12),
 *   corr(a, b) = (var u - var v)/(var u + var v) = -(1 - eps^2)/(1 + eps^2). */
static ts_status sum_eval(void *ctx, const double *theta, size_t n,
                          double *dist, ts_error *err) {
    (void)ctx, (void)err;
    for (size_t i = 0; i < n; i++)
        dist[i] = fabs(theta[2 * i] + theta[2 * i + 1] - 1.0);
    return TS_OK;
}

Test(abc, non_identifiable_sum_gives_the_theoretical_correlation) {
    ts_abc_prior pr[2] = {{TS_ABC_UNIFORM, 0.0, 1.0, 0, 0},
                          {TS_ABC_UNIFORM, 0.0, 1.0, 0, 0}};
    ts_abc_problem pb = {.k = 2, .prior = pr, .eval = sum_eval};
    ts_abc_options o;
    ts_abc_options_default(&o);
    o.particles = 1000, o.max_generations = 5, o.seed = 3;
    ts_abc_result res;
    run_ok(&pb, &o, NULL, &res);
    const ts_abc_generation *g = &res.gen[res.ngen - 1];
    assert_generation(g, pr);
    double e2 = g->eps * g->eps, rho = -(1.0 - e2) / (1.0 + e2);
    double sd = sqrt((1.0 + e2) / 12.0), n = g->ess;
    ts_abc_summary s[2];
    double corr[4];
    cr_assert_eq(ts_abc_summarize(g, s, NULL), TS_OK);
    cr_assert_eq(ts_abc_correlation(g, corr, NULL), TS_OK);
    cr_assert(corr[0] == 1.0 && corr[3] == 1.0 && corr[1] == corr[2]);
    /* corr: se (1 - rho^2)/sqrt(n) (Fisher), plus eps^3 for the ends */
    cr_assert(fabs(corr[1] - rho) <= 4.0 * (1.0 - rho * rho) / sqrt(n) + e2 * g->eps,
              "corr %.6f, theory %.6f (eps %.4f, ESS %.0f)", corr[1], rho,
              g->eps, n);
    for (size_t j = 0; j < 2; j++) {
        cr_assert(fabs(s[j].mean - 0.5) <= 4.0 * sd / sqrt(n),
                  "mean %.4f, theory 0.5, se %.4f", s[j].mean, sd / sqrt(n));
        cr_assert(fabs(s[j].sd / sd - 1.0) <= 4.0 / sqrt(2.0 * n),
                  "sd %.4f, theory %.4f", s[j].sd, sd);
    }
    cr_log_info("sum: corr %.6f (theory %.6f) means %.4f %.4f sds %.4f %.4f "
                "(theory %.4f) eps %.4f ESS %.0f", corr[1], rho, s[0].mean,
                s[1].mean, s[0].sd, s[1].sd, sd, g->eps, n);
    ts_abc_result_free(&res);
}

/* ---- reproducibility ------------------------------------------------------ */

static void assert_same_generation(const ts_abc_generation *a,
                                   const ts_abc_generation *b) {
    cr_assert_eq(a->index, b->index);
    cr_assert_eq(a->evaluations, b->evaluations, "gen %zu: %zu vs %zu evals",
                 a->index, a->evaluations, b->evaluations);
    cr_assert(memcmp(&a->eps, &b->eps, sizeof a->eps) == 0);
    cr_assert(memcmp(&a->ess, &b->ess, sizeof a->ess) == 0);
    cr_assert(memcmp(a->theta, b->theta, a->n * a->k * sizeof(double)) == 0,
              "gen %zu: theta differs", a->index);
    cr_assert(memcmp(a->weight, b->weight, a->n * sizeof(double)) == 0,
              "gen %zu: weights differ", a->index);
    cr_assert(memcmp(a->dist, b->dist, a->n * sizeof(double)) == 0,
              "gen %zu: distances differ", a->index);
}

Test(abc, same_seed_same_bits_with_one_and_two_callback_threads) {
    conj_ctx c1 = {.ybar = conj_observed_mean(), .threads = 1};
    conj_ctx c2 = {.ybar = c1.ybar, .threads = 2};
    ts_abc_problem p1 = conj_problem(&c1), p2 = conj_problem(&c2);
    ts_abc_options o;
    ts_abc_options_default(&o);
    o.particles = 500, o.max_generations = 6, o.seed = 99;
    ts_abc_result r1, r2;
    run_ok(&p1, &o, NULL, &r1);
    run_ok(&p2, &o, NULL, &r2);
    cr_assert_eq(r1.ngen, 6);
    cr_assert_eq(r1.ngen, r2.ngen);
    cr_assert_eq(c1.calls, c2.calls);
    for (size_t t = 0; t < r1.ngen; t++)
        assert_same_generation(&r1.gen[t], &r2.gen[t]);
    ts_abc_result_free(&r1);
    ts_abc_result_free(&r2);
}

/* A copy of g in caller-owned separate arrays, as a resume would read it. */
typedef struct {
    ts_abc_generation g;
    double theta[4096], weight[2048], dist[2048];
} saved_generation;

static void save_generation(saved_generation *s, const ts_abc_generation *g) {
    cr_assert(g->n <= 2048 && g->n * g->k <= 4096);
    s->g = *g;
    memcpy(s->theta, g->theta, g->n * g->k * sizeof(double));
    memcpy(s->weight, g->weight, g->n * sizeof(double));
    memcpy(s->dist, g->dist, g->n * sizeof(double));
    s->g.theta = s->theta, s->g.weight = s->weight, s->g.dist = s->dist;
}

Test(abc, resumed_run_is_bit_identical_to_an_uninterrupted_one) {
    conj_ctx c = {.ybar = conj_observed_mean(), .threads = 2};
    ts_abc_problem pb = conj_problem(&c);
    ts_abc_options o;
    ts_abc_options_default(&o);
    o.particles = 500, o.max_generations = 7, o.seed = 2024;
    ts_abc_result full, part, rest;
    run_ok(&pb, &o, NULL, &full);
    cr_assert_eq(full.ngen, 7, "%s", full.why);
    o.max_generations = 3; /* stop after generation 2 */
    run_ok(&pb, &o, NULL, &part);
    cr_assert_eq(part.ngen, 3);
    static saved_generation saved;
    save_generation(&saved, &part.gen[2]);
    ts_abc_result_free(&part);
    o.max_generations = 7;
    report_log log = {.in_order = 1};
    pb.report = log_report, pb.report_ctx = &log;
    run_ok(&pb, &o, &saved.g, &rest);
    cr_assert_eq(rest.ngen, 5); /* the resumed generation 2, then 3..6 */
    cr_assert_eq(log.count, 4);
    cr_assert_eq(rest.stop, full.stop);
    cr_assert_eq(rest.evaluations, full.evaluations);
    for (size_t t = 0; t < rest.ngen; t++)
        assert_same_generation(&rest.gen[t], &full.gen[2 + t]);
    ts_abc_result_free(&full);
    ts_abc_result_free(&rest);
}

/* ---- stopping rules ------------------------------------------------------- */

Test(abc, stops_at_max_generations) {
    conj_ctx c = {.ybar = conj_observed_mean(), .threads = 1};
    ts_abc_problem pb = conj_problem(&c);
    ts_abc_options o;
    ts_abc_options_default(&o);
    o.particles = 200, o.max_generations = 4;
    ts_abc_result res;
    run_ok(&pb, &o, NULL, &res);
    cr_assert_eq(res.stop, TS_ABC_STOP_MAX_GENERATIONS);
    cr_assert_str_eq(ts_abc_stop_name(res.stop), "max_generations");
    cr_assert_eq(res.ngen, 4);
    for (size_t t = 0; t < res.ngen; t++)
        cr_assert_eq(res.gen[t].index, t);
    cr_assert_eq(res.evaluations, res.gen[3].evaluations);
    ts_abc_result_free(&res);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* eps_1 = d_(ceil(q0 N)) of generation 0, eps_t = d_(ceil(alpha N)) of
 * generation t-1 (order statistics, abc.h). */
Test(abc, tolerances_are_the_stated_quantiles) {
    conj_ctx c = {.ybar = conj_observed_mean(), .threads = 1};
    ts_abc_problem pb = conj_problem(&c);
    ts_abc_options o;
    ts_abc_options_default(&o);
    o.particles = 250, o.max_generations = 5, o.q0 = 0.3, o.alpha = 0.7;
    ts_abc_result res;
    run_ok(&pb, &o, NULL, &res);
    cr_assert_eq(res.ngen, 5);
    double d[250];
    for (size_t t = 1; t < res.ngen; t++) {
        memcpy(d, res.gen[t - 1].dist, sizeof d);
        qsort(d, 250, sizeof *d, cmp_double);
        size_t rank = (size_t)ceil((t == 1 ? o.q0 : o.alpha) * 250);
        cr_assert_eq(res.gen[t].eps, d[rank - 1], "eps_%zu = %g, not %g",
                     t, res.gen[t].eps, d[rank - 1]);
        assert_generation(&res.gen[t], &conj_prior);
    }
    ts_abc_result_free(&res);
}

Test(abc, stops_when_the_budget_runs_out) {
    conj_ctx c = {.ybar = conj_observed_mean(), .threads = 1};
    ts_abc_problem pb = conj_problem(&c);
    ts_abc_options o;
    ts_abc_options_default(&o);
    o.particles = 200, o.budget = 1500;
    ts_abc_result res;
    run_ok(&pb, &o, NULL, &res);
    cr_assert_eq(res.stop, TS_ABC_STOP_BUDGET, "%s: %s",
                 ts_abc_stop_name(res.stop), res.why);
    cr_assert(strstr(res.why, "budget"), "%s", res.why);
    /* batches are capped by what is left: the budget is spent exactly */
    cr_assert_eq(res.evaluations, 1500);
    cr_assert(res.ngen >= 2);
    const ts_abc_generation *g = &res.gen[res.ngen - 1];
    cr_assert(g->evaluations <= 1500);
    assert_generation(g, &conj_prior);
    ts_abc_result_free(&res);
}

/* d = max(FLOOR, |theta - 1/2|): the tolerance cannot go below FLOOR. */
#define STALL_FLOOR 0.1
static ts_status floor_eval(void *ctx, const double *theta, size_t n,
                            double *dist, ts_error *err) {
    (void)ctx, (void)err;
    for (size_t i = 0; i < n; i++)
        dist[i] = fmax(STALL_FLOOR, fabs(theta[i] - 0.5));
    return TS_OK;
}

Test(abc, stops_when_the_tolerance_stalls) {
    ts_abc_prior pr = {TS_ABC_UNIFORM, 0.0, 1.0, 0, 0};
    ts_abc_problem pb = {.k = 1, .prior = &pr, .eval = floor_eval};
    ts_abc_options o;
    ts_abc_options_default(&o);
    o.particles = 400;
    ts_abc_result res;
    run_ok(&pb, &o, NULL, &res);
    cr_assert_eq(res.stop, TS_ABC_STOP_STALLED, "%s: %s",
                 ts_abc_stop_name(res.stop), res.why);
    const ts_abc_generation *g = &res.gen[res.ngen - 1];
    /* Stalled at the floor: all distances equal it, the next eps too; the
     * stop is decided before spending a generation on it. */
    cr_assert_eq(g->eps, STALL_FLOOR);
    cr_assert(res.ngen < o.max_generations);
    cr_assert_eq(res.evaluations, g->evaluations);
    cr_assert(res.gen[res.ngen - 2].eps > STALL_FLOOR);
    ts_abc_result_free(&res);
}

/* A distance that ignores theta: uniform on (0, 1) from the bits. The
 * acceptance rate of generation t is about eps_t, halving each time. */
static ts_status noise_eval(void *ctx, const double *theta, size_t n,
                            double *dist, ts_error *err) {
    (void)ctx, (void)err;
    for (size_t i = 0; i < n; i++) {
        uint64_t s = seed_of(theta + i, 1, 3);
        dist[i] = unif(&s);
    }
    return TS_OK;
}

Test(abc, stops_when_the_acceptance_rate_falls_below_the_minimum) {
    ts_abc_prior pr = {TS_ABC_UNIFORM, 0.0, 1.0, 0, 0};
    ts_abc_problem pb = {.k = 1, .prior = &pr, .eval = noise_eval};
    ts_abc_options o;
    ts_abc_options_default(&o);
    o.particles = 200, o.min_acceptance = 0.05;
    ts_abc_result res;
    run_ok(&pb, &o, NULL, &res);
    cr_assert_eq(res.stop, TS_ABC_STOP_LOW_ACCEPTANCE, "%s: %s",
                 ts_abc_stop_name(res.stop), res.why);
    for (size_t t = 0; t < res.ngen; t++)
        cr_assert(res.gen[t].acceptance >= 0.05);
    /* the abandoned generation spent no more than particles / 0.05 */
    size_t spent = res.evaluations - res.gen[res.ngen - 1].evaluations;
    cr_assert(spent > 0 && spent <= 4000, "abandoned after %zu", spent);
    cr_assert(res.ngen >= 4 && res.ngen <= 6, "%zu generations", res.ngen);
    ts_abc_result_free(&res);
}

Test(abc, stops_when_the_target_tolerance_is_reached) {
    conj_ctx c = {.ybar = conj_observed_mean(), .threads = 1};
    ts_abc_problem pb = conj_problem(&c);
    ts_abc_options o;
    ts_abc_options_default(&o);
    o.particles = 200, o.eps_target = 0.05;
    ts_abc_result res;
    run_ok(&pb, &o, NULL, &res);
    cr_assert_eq(res.stop, TS_ABC_STOP_TARGET, "%s", res.why);
    cr_assert(res.gen[res.ngen - 1].eps <= 0.05);
    cr_assert(res.gen[res.ngen - 2].eps > 0.05);
    ts_abc_result_free(&res);
}

/* Fails on its third batch. */
static ts_status failing_eval(void *vctx, const double *theta, size_t n,
                              double *dist, ts_error *err) {
    conj_ctx *c = vctx;
    if (c->calls == 2)
        return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "simulator died");
    return conj_eval(vctx, theta, n, dist, err);
}

Test(abc, callback_errors_stop_and_keep_completed_generations) {
    conj_ctx c = {.ybar = conj_observed_mean(), .threads = 1};
    ts_abc_problem pb = conj_problem(&c);
    pb.eval = failing_eval;
    ts_abc_options o;
    ts_abc_options_default(&o);
    o.particles = 200;
    ts_abc_result res;
    ts_error err;
    cr_assert_eq(ts_abc_run(&pb, &o, NULL, &res, &err), TS_ERUNTIME);
    cr_assert_str_eq(err.msg, "simulator died");
    cr_assert_eq(res.stop, TS_ABC_STOP_ERROR);
    cr_assert(res.ngen >= 1 && res.ngen <= 2);
    ts_abc_result_free(&res);

    c.calls = 0;
    pb.eval = conj_eval;
    report_log log = {.in_order = 1, .fail_at = 1};
    pb.report = log_report, pb.report_ctx = &log;
    cr_assert_eq(ts_abc_run(&pb, &o, NULL, &res, &err), TS_EINPUT);
    cr_assert_str_eq(err.msg, "report refused");
    cr_assert_eq(res.ngen, 2);
    cr_assert_eq(log.count, 2);
    ts_abc_result_free(&res);
}

static ts_status negative_eval(void *ctx, const double *theta, size_t n,
                               double *dist, ts_error *err) {
    (void)ctx, (void)theta, (void)err;
    for (size_t i = 0; i < n; i++)
        dist[i] = i == n / 2 ? -1.0 : 1.0;
    return TS_OK;
}

Test(abc, negative_distance_is_a_runtime_error) {
    ts_abc_prior pr = {TS_ABC_UNIFORM, 0.0, 1.0, 0, 0};
    ts_abc_problem pb = {.k = 1, .prior = &pr, .eval = negative_eval};
    ts_abc_options o;
    ts_abc_options_default(&o);
    o.particles = 10;
    ts_abc_result res;
    ts_error err;
    cr_assert_eq(ts_abc_run(&pb, &o, NULL, &res, &err), TS_ERUNTIME);
    cr_assert(strstr(err.msg, "-1"), "%s", err.msg);
    cr_assert_eq(res.ngen, 0);
    ts_abc_result_free(&res);
}

/* ---- input checks ----------------------------------------------------------- */

typedef struct {
    ts_abc_problem pb;
    ts_abc_prior prior[2];
    ts_abc_options o;
} setup;

static void k_zero(setup *s) { s->pb.k = 0; }
static void particles_zero(setup *s) { s->o.particles = 0; }
static void budget_zero(setup *s) { s->o.budget = 0; }
static void budget_below_n(setup *s) { s->o.budget = s->o.particles - 1; }
static void generations_zero(setup *s) { s->o.max_generations = 0; }
static void lo_eq_hi(setup *s) { s->prior[1].lo = s->prior[1].hi; }
static void lo_gt_hi(setup *s) { s->prior[0].lo = 6.0; }
static void lo_inf(setup *s) { s->prior[0].lo = -INFINITY; }
static void sd_zero(setup *s) { s->prior[1].sd = 0.0; }
static void sd_negative(setup *s) { s->prior[1].sd = -1.0; }
static void mu_outside(setup *s) { s->prior[1].mu = 3.5; }
static void q0_zero(setup *s) { s->o.q0 = 0.0; }
static void q0_one(setup *s) { s->o.q0 = 1.0; }
static void alpha_nan(setup *s) { s->o.alpha = NAN; }
static void alpha_big(setup *s) { s->o.alpha = 1.5; }
static void min_acc_one(setup *s) { s->o.min_acceptance = 1.0; }
static void target_negative(setup *s) { s->o.eps_target = -0.1; }
static void no_eval(setup *s) { s->pb.eval = NULL; }
static void no_prior(setup *s) { s->pb.prior = NULL; }
static void bad_kind(setup *s) { s->prior[0].kind = (ts_abc_prior_kind)7; }

static const struct {
    void (*edit)(setup *);
    const char *msg; /* part of the error message */
} bad_inputs[] = {
    {k_zero, "1 to 40 parameters, not 0"},
    {particles_zero, "particles, not 0"},
    {budget_zero, "budget of 0 evaluations"},
    {budget_below_n, "budget of 99 evaluations cannot cover"},
    {generations_zero, "max_generations >= 1"},
    {lo_eq_hi, "prior 1: the range [2, 2] needs finite lo < hi"},
    {lo_gt_hi, "prior 0: the range [6, 5] needs finite lo < hi"},
    {lo_inf, "prior 0: the range [-inf, 5]"},
    {sd_zero, "prior 1: a normal prior needs a finite sd > 0, not 0"},
    {sd_negative, "sd > 0, not -1"},
    {mu_outside, "prior 1: the normal mean 3.5 lies outside the range [-2, 2]"},
    {q0_zero, "q0 = 0 must lie in (0, 1)"},
    {q0_one, "q0 = 1 must lie in (0, 1)"},
    {alpha_nan, "alpha = nan must lie in (0, 1)"},
    {alpha_big, "alpha = 1.5 must lie in (0, 1)"},
    {min_acc_one, "min_acceptance = 1 must lie in [0, 1)"},
    {target_negative, "eps_target = -0.1 must lie in [0, inf)"},
    {no_eval, "distance callback"},
    {no_prior, "no priors"},
    {bad_kind, "prior 0: unknown kind 7"},
};

static ts_status never_called(void *ctx, const double *theta, size_t n,
                              double *dist, ts_error *err) {
    (void)ctx, (void)theta, (void)n, (void)dist, (void)err;
    cr_assert_fail("the callback ran despite an input error");
    return TS_OK;
}

static void default_setup(setup *s) {
    s->prior[0] = (ts_abc_prior){TS_ABC_UNIFORM, 0.0, 5.0, 0, 0};
    s->prior[1] = (ts_abc_prior){TS_ABC_NORMAL, -2.0, 2.0, 0.5, 1.0};
    s->pb = (ts_abc_problem){.k = 2, .prior = s->prior, .eval = never_called};
    ts_abc_options_default(&s->o);
    s->o.particles = 100;
}

Test(abc, input_errors_are_einput_with_a_clear_message) {
    for (size_t c = 0; c < sizeof bad_inputs / sizeof *bad_inputs; c++) {
        setup s;
        default_setup(&s);
        bad_inputs[c].edit(&s);
        ts_abc_result res;
        ts_error err;
        cr_assert_eq(ts_abc_run(&s.pb, &s.o, NULL, &res, &err), TS_EINPUT,
                     "case %zu (%s) accepted", c, bad_inputs[c].msg);
        cr_assert(strstr(err.msg, bad_inputs[c].msg), "case %zu: \"%s\"", c,
                  err.msg);
        cr_assert_eq(res.ngen, 0);
        cr_assert_eq(res.stop, TS_ABC_STOP_NONE);
        ts_abc_result_free(&res);
    }
    setup s;
    default_setup(&s);
    s.pb.eval = negative_eval; /* a valid setup passes the checks */
    ts_abc_result res;
    cr_assert_eq(ts_abc_run(&s.pb, &s.o, NULL, &res, NULL), TS_ERUNTIME);
    ts_abc_result_free(&res);
}

Test(abc, resume_records_that_do_not_fit_are_refused) {
    setup s;
    default_setup(&s);
    static double theta[200], weight[100], dist[100];
    for (size_t i = 0; i < 100; i++) {
        theta[2 * i] = 1.0, theta[2 * i + 1] = 0.0;
        weight[i] = 0.01, dist[i] = 0.5;
    }
    ts_abc_generation g = {.index = 3, .n = 100, .k = 2, .eps = 1.0,
                           .acceptance = 0.5, .ess = 100, .evaluations = 900,
                           .theta = theta, .weight = weight, .dist = dist};
    ts_abc_generation bad[6];
    for (size_t c = 0; c < 6; c++)
        bad[c] = g;
    bad[0].n = 99;
    bad[1].eps = NAN;
    bad[2].acceptance = 0.0;
    bad[3].evaluations = 10;
    bad[4].weight = NULL;
    const char *msgs[] = {"differ from the options", "tolerance", "acceptance",
                          "evaluations", "no theta"};
    ts_abc_result res;
    ts_error err;
    for (size_t c = 0; c < 5; c++) {
        cr_assert_eq(ts_abc_run(&s.pb, &s.o, &bad[c], &res, &err), TS_EINPUT);
        cr_assert(strstr(err.msg, msgs[c]), "%s", err.msg);
        cr_assert(strstr(err.msg, "generation 3"), "%s", err.msg);
        ts_abc_result_free(&res);
    }
    struct { double *at, v; const char *msg; } cell[] = {
        {&theta[3], 2.5, "outside the priors' support"},
        {&weight[7], -0.01, "weight is negative"},
        {&dist[9], NAN, "distance is negative or NaN"},
    };
    for (size_t c = 0; c < 3; c++) {
        double keep = *cell[c].at;
        *cell[c].at = cell[c].v;
        cr_assert_eq(ts_abc_run(&s.pb, &s.o, &g, &res, &err), TS_EINPUT);
        cr_assert(strstr(err.msg, cell[c].msg), "%s", err.msg);
        ts_abc_result_free(&res);
        *cell[c].at = keep;
    }
    for (size_t i = 0; i < 100; i++)
        weight[i] = 0.0;
    cr_assert_eq(ts_abc_run(&s.pb, &s.o, &g, &res, &err), TS_EINPUT);
    cr_assert(strstr(err.msg, "sum to a positive"), "%s", err.msg);
    ts_abc_result_free(&res);
}

/* ---- priors, generation 0 and posterior summaries -------------------------- */

Test(abc, truncated_normal_prior_density_and_quantile_agree) {
    ts_abc_prior p = {TS_ABC_NORMAL, -1.0, 3.0, 0.5, 1.5};
    double a = (p.lo - p.mu) / p.sd, b = (p.hi - p.mu) / p.sd;
    double z = gsl_cdf_ugaussian_P(b) - gsl_cdf_ugaussian_P(a);
    /* the density is phi(z)/(sd Z) inside, 0 outside */
    double x = 2.0, zx = (x - p.mu) / p.sd;
    cr_assert_float_eq(ts_abc_prior_pdf(&p, x),
                       exp(-0.5 * zx * zx) / sqrt(2 * M_PI) / (p.sd * z), 1e-14);
    cr_assert_eq(ts_abc_prior_pdf(&p, 3.0001), 0.0);
    cr_assert_eq(ts_abc_prior_log_pdf(&p, -1.0001), -INFINITY);
    cr_assert_eq(ts_abc_prior_quantile(&p, 0.0), -1.0);
    cr_assert_eq(ts_abc_prior_quantile(&p, 1.0), 3.0);
    /* quantile inverts the truncated CDF: F(Q(u)) = u */
    for (double u = 0.05; u < 1.0; u += 0.1) {
        double q = ts_abc_prior_quantile(&p, u);
        double f = (gsl_cdf_ugaussian_P((q - p.mu) / p.sd) -
                    gsl_cdf_ugaussian_P(a)) / z;
        cr_assert_float_eq(f, u, 1e-12, "F(Q(%g)) = %.15g", u, f);
    }
    /* the density integrates to 1 over [lo, hi] (Simpson, 2000 panels) */
    double h = (p.hi - p.lo) / 2000, s = 0.0;
    for (int i = 0; i <= 2000; i++)
        s += (i == 0 || i == 2000 ? 1 : i % 2 ? 4 : 2) *
             ts_abc_prior_pdf(&p, p.lo + i * h);
    cr_assert_float_eq(s * h / 3, 1.0, 1e-10);
    ts_abc_prior u = {TS_ABC_UNIFORM, 2.0, 6.0, 0, 0};
    cr_assert_eq(ts_abc_prior_pdf(&u, 3.0), 0.25);
    cr_assert_eq(ts_abc_prior_quantile(&u, 0.75), 5.0);
}

static ts_status zero_eval(void *ctx, const double *theta, size_t n,
                           double *dist, ts_error *err) {
    (void)ctx, (void)theta, (void)err;
    for (size_t i = 0; i < n; i++)
        dist[i] = 1.0;
    return TS_OK;
}

/* Generation 0 is the shifted Sobol design through the inverse CDFs: with
 * 1024 particles each 1/1024 stratum of each prior's CDF holds exactly one
 * particle. */
Test(abc, generation_zero_is_stratified_in_each_prior) {
    ts_abc_prior pr[2] = {{TS_ABC_UNIFORM, 2.0, 6.0, 0, 0},
                          {TS_ABC_NORMAL, -1.0, 3.0, 0.5, 1.5}};
    ts_abc_problem pb = {.k = 2, .prior = pr, .eval = zero_eval};
    ts_abc_options o;
    ts_abc_options_default(&o);
    o.particles = 1024, o.max_generations = 1;
    ts_abc_result res;
    run_ok(&pb, &o, NULL, &res);
    cr_assert_eq(res.ngen, 1);
    const ts_abc_generation *g = &res.gen[0];
    cr_assert_eq(g->eps, INFINITY);
    cr_assert_eq(g->evaluations, 1024);
    double a = (pr[1].lo - pr[1].mu) / pr[1].sd, b = (pr[1].hi - pr[1].mu) / pr[1].sd;
    double pa = gsl_cdf_ugaussian_P(a), z = gsl_cdf_ugaussian_P(b) - pa;
    int seen[2][1024] = {{0}};
    for (size_t i = 0; i < 1024; i++) {
        double u0 = (g->theta[2 * i] - 2.0) / 4.0;
        double u1 = (gsl_cdf_ugaussian_P((g->theta[2 * i + 1] - pr[1].mu) /
                                         pr[1].sd) - pa) / z;
        seen[0][(int)floor(u0 * 1024 + 1e-9)]++;
        seen[1][(int)floor(u1 * 1024 + 1e-9)]++;
        cr_assert_eq(g->weight[i], 1.0 / 1024);
    }
    for (size_t s = 0; s < 1024; s++)
        cr_assert(seen[0][s] == 1 && seen[1][s] == 1, "stratum %zu: %d %d",
                  s, seen[0][s], seen[1][s]);
    ts_abc_result_free(&res);
}

Test(abc, summaries_of_a_hand_made_population) {
    /* theta {3, 1, 4, 2}, weights {.3, .1, .4, .2}; second column
     * 1 - 2 theta (correlation -1), third constant (NaN) */
    double theta[12] = {3, -5, 7, 1, -1, 7, 4, -7, 7, 2, -3, 7};
    double w[4] = {0.3, 0.1, 0.4, 0.2}, d[4] = {0};
    ts_abc_generation g = {.n = 4, .k = 3, .theta = theta, .weight = w,
                           .dist = d};
    ts_abc_summary s[3];
    cr_assert_eq(ts_abc_summarize(&g, s, NULL), TS_OK);
    /* mean 3; sum w (x - 3)^2 = 1, times 1/(1 - sum w^2) = 1/0.7 */
    cr_assert_float_eq(s[0].mean, 3.0, 1e-14);
    cr_assert_float_eq(s[0].sd, sqrt(1.0 / 0.7), 1e-14);
    /* cumulative weight in ascending order: 0.1, 0.3, 0.6, 1.0 */
    cr_assert_eq(s[0].p2_5, 1.0);
    cr_assert_eq(s[0].p50, 3.0);
    cr_assert_eq(s[0].p97_5, 4.0);
    double q;
    cr_assert_eq(ts_abc_quantile(&g, 0, 0.3, &q, NULL), TS_OK);
    cr_assert_eq(q, 2.0);
    cr_assert_eq(ts_abc_quantile(&g, 0, 0.31, &q, NULL), TS_OK);
    cr_assert_eq(q, 3.0);
    cr_assert_eq(ts_abc_quantile(&g, 1, 0.0, &q, NULL), TS_OK);
    cr_assert_eq(q, -7.0);
    cr_assert_eq(s[2].sd, 0.0);
    double corr[9];
    cr_assert_eq(ts_abc_correlation(&g, corr, NULL), TS_OK);
    cr_assert_float_eq(corr[1], -1.0, 1e-14);
    cr_assert_float_eq(corr[3], -1.0, 1e-14);
    cr_assert(corr[0] == 1.0 && corr[4] == 1.0);
    cr_assert(isnan(corr[2]) && isnan(corr[5]) && isnan(corr[8]));
    ts_error err;
    cr_assert_eq(ts_abc_quantile(&g, 3, 0.5, &q, &err), TS_EINPUT);
    cr_assert_eq(ts_abc_quantile(&g, 0, 1.5, &q, &err), TS_EINPUT);
    w[1] = -0.1;
    cr_assert_eq(ts_abc_summarize(&g, s, &err), TS_EINPUT);
    cr_assert(strstr(err.msg, "weights"), "%s", err.msg);
}
