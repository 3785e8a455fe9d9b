/* ABC-SMC sampler (abc.h has the algorithm and its formulas).
 *
 * Invariant of a run: res->gen[res->ngen - 1] is the last completed
 * generation, and everything generation t + 1 does is a function of that
 * record, the options and the seed (the kernel is refitted from it, the
 * random numbers come from a generator seeded from (seed, t + 1)). That
 * is what makes a resumed run bit-identical to an uninterrupted one.
 * Proposals and weights are computed on the calling thread; only the
 * distance callback may run in parallel. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics.h>
#include <gsl/gsl_vector.h>

#include "../seed.h"
#include "talentsim/abc.h"
#include "talentsim/design.h"

/* Generation t >= 1 draws from stream TS_STREAM_ABC + t of the seed
 * (sim/seed.h). */
/* Ridge of the kernel covariance, relative to each prior's range: it
 * keeps the kernel positive definite (so GSL's Cholesky cannot fail) when
 * the population collapses, and is 1e-10 of a range squared otherwise. */
#define KERNEL_RIDGE 1e-5
/* Proposals in a row outside the support before giving up. */
#define MAX_REDRAWS 1000000


/* ---- priors ---------------------------------------------------------- */

/* MODEL: Z = Phi(b) - Phi(a) = (erf(b/sqrt 2) - erf(a/sqrt 2)) / 2 with
 * a = (lo - mu)/sd <= 0 <= b = (hi - mu)/sd: the two erf have opposite
 * signs, so the difference never cancels. */
static double normal_mass(const ts_abc_prior *p) {
    double a = (p->lo - p->mu) / p->sd, b = (p->hi - p->mu) / p->sd;
    return 0.5 * (erf(b / M_SQRT2) - erf(a / M_SQRT2));
}

/* MODEL: log p(x) = -log(hi - lo) (uniform), or
 * -z^2/2 - log(sd Z sqrt(2 pi)) with z = (x - mu)/sd (truncated normal),
 * in logs so that the tails never underflow to a zero weight. */
double ts_abc_prior_log_pdf(const ts_abc_prior *p, double x) {
    if (!(x >= p->lo && x <= p->hi))
        return -INFINITY;
    if (p->kind == TS_ABC_UNIFORM)
        return -log(p->hi - p->lo);
    double z = (x - p->mu) / p->sd;
    return -0.5 * z * z - log(p->sd * normal_mass(p)) - 0.5 * log(2.0 * M_PI);
}

/* MODEL: uniform (hi - lo) / sqrt 12; truncated normal
 * sd sqrt(1 + (a phi(a) - b phi(b)) / Z - ((phi(a) - phi(b)) / Z)^2). */
double ts_abc_prior_sd(const ts_abc_prior *p) {
    if (p->kind == TS_ABC_UNIFORM)
        return (p->hi - p->lo) / sqrt(12.0);
    double a = (p->lo - p->mu) / p->sd, b = (p->hi - p->mu) / p->sd, z = normal_mass(p);
    double pa = gsl_ran_ugaussian_pdf(a), pb = gsl_ran_ugaussian_pdf(b);
    double m = (pa - pb) / z, v = 1 + (a * pa - b * pb) / z - m * m;
    return p->sd * sqrt(fmax(v, 0.0));
}

double ts_abc_prior_pdf(const ts_abc_prior *p, double x) {
    return exp(ts_abc_prior_log_pdf(p, x));
}

/* MODEL: x = lo + u (hi - lo), or mu + sd Phi^-1(Phi(a) + u Z). */
double ts_abc_prior_quantile(const ts_abc_prior *p, double u) {
    double x;
    if (p->kind == TS_ABC_UNIFORM) {
        x = p->lo + u * (p->hi - p->lo);
    } else {
        double a = (p->lo - p->mu) / p->sd;
        double q = gsl_cdf_ugaussian_P(a) + u * normal_mass(p);
        x = p->mu + p->sd * gsl_cdf_ugaussian_Pinv(fmin(fmax(q, 0.0), 1.0));
    }
    return fmin(fmax(x, p->lo), p->hi);
}

static ts_status check_prior(const ts_abc_prior *p, size_t j, ts_error *err) {
    if (p->kind != TS_ABC_UNIFORM && p->kind != TS_ABC_NORMAL)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "prior %zu: unknown kind %d", j, (int)p->kind);
    if (!isfinite(p->lo) || !isfinite(p->hi) || !(p->lo < p->hi))
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "prior %zu: the range [%g, %g] needs finite "
                            "lo < hi", j, p->lo, p->hi);
    if (!isfinite((p->hi - p->lo) * (p->hi - p->lo)))
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "prior %zu: the range [%g, %g] is too wide", j,
                            p->lo, p->hi);
    if (p->kind == TS_ABC_UNIFORM)
        return TS_OK;
    if (!(p->sd > 0.0) || !isfinite(p->sd))
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "prior %zu: a normal prior needs a finite sd > 0, "
                            "not %g", j, p->sd);
    if (!(p->mu >= p->lo && p->mu <= p->hi))
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "prior %zu: the normal mean %g lies outside the "
                            "range [%g, %g]", j, p->mu, p->lo, p->hi);
    return TS_OK;
}

ts_status ts_abc_prior_check(const ts_abc_prior *p, size_t k, ts_error *err) {
    if (!p)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "", "no priors given");
    for (size_t j = 0; j < k; j++) {
        ts_status st = check_prior(&p[j], j, err);
        if (st != TS_OK)
            return st;
    }
    return TS_OK;
}

/* Sum of the k log prior densities: -inf outside the support. */
static double log_prior(const ts_abc_prior *prior, size_t k,
                        const double *theta) {
    double s = 0.0;
    for (size_t j = 0; j < k; j++)
        s += ts_abc_prior_log_pdf(&prior[j], theta[j]);
    return s;
}

static int in_support(const ts_abc_prior *prior, size_t k,
                      const double *theta) {
    for (size_t j = 0; j < k; j++)
        if (!(theta[j] >= prior[j].lo && theta[j] <= prior[j].hi))
            return 0;
    return 1;
}

/* ---- options and stop reasons --------------------------------------- */

void ts_abc_options_default(ts_abc_options *o) {
    *o = (ts_abc_options){.particles = 1000, .max_generations = 20,
                          .budget = 1000000, .q0 = 0.5, .alpha = 0.5,
                          .min_acceptance = 0.01, .min_eps_decrease = 0.01,
                          .eps_target = 0.0, .seed = 1};
}

/* The real-valued options: each must lie in (lo, hi) or [lo, hi). */
static const struct {
    const char *name;
    size_t offset;
    double lo, hi;
    int lo_open;
} real_options[] = {
    {"q0", offsetof(ts_abc_options, q0), 0.0, 1.0, 1},
    {"alpha", offsetof(ts_abc_options, alpha), 0.0, 1.0, 1},
    {"min_acceptance", offsetof(ts_abc_options, min_acceptance), 0.0, 1.0, 0},
    {"min_eps_decrease", offsetof(ts_abc_options, min_eps_decrease), 0.0, 1.0, 0},
    {"eps_target", offsetof(ts_abc_options, eps_target), 0.0, INFINITY, 0},
};

static const char *const stop_names[TS_ABC_STOP_COUNT] = {
    [TS_ABC_STOP_NONE] = "none",
    [TS_ABC_STOP_MAX_GENERATIONS] = "max_generations",
    [TS_ABC_STOP_TARGET] = "target",
    [TS_ABC_STOP_LOW_ACCEPTANCE] = "low_acceptance",
    [TS_ABC_STOP_STALLED] = "stalled",
    [TS_ABC_STOP_BUDGET] = "budget",
    [TS_ABC_STOP_ERROR] = "error",
};

const char *ts_abc_stop_name(ts_abc_stop s) {
    return (unsigned)s < TS_ABC_STOP_COUNT ? stop_names[s] : NULL;
}

static ts_status check_real_options(const ts_abc_options *o, ts_error *err) {
    for (size_t i = 0; i < sizeof real_options / sizeof *real_options; i++) {
        double x = *(const double *)((const char *)o + real_options[i].offset);
        double lo = real_options[i].lo, hi = real_options[i].hi;
        int open = real_options[i].lo_open;
        if (!((open ? x > lo : x >= lo) && x < hi))
            return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                                "ABC option %s = %g must lie in %c%g, %g)",
                                real_options[i].name, x, open ? '(' : '[',
                                lo, hi);
    }
    return TS_OK;
}

static ts_status check_counts(const ts_abc_options *o, ts_error *err) {
    if (o->particles == 0 || o->particles > TS_DESIGN_SOBOL_MAXN)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "ABC needs 1 to %lu particles, not %zu",
                            TS_DESIGN_SOBOL_MAXN, o->particles);
    if (o->max_generations == 0)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "ABC needs max_generations >= 1");
    if (o->budget == 0 || o->budget < o->particles)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "ABC budget of %zu evaluations cannot cover "
                            "generation 0 (%zu particles)", o->budget,
                            o->particles);
    return TS_OK;
}

static ts_status check_problem(const ts_abc_problem *pb,
                               const ts_abc_options *opt, ts_error *err) {
    if (!pb || !opt)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "ABC needs a problem and options");
    if (pb->k == 0 || pb->k > TS_DESIGN_SOBOL_MAXDIM)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "ABC needs 1 to %d parameters, not %zu",
                            TS_DESIGN_SOBOL_MAXDIM, pb->k);
    if (!pb->eval)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "ABC needs a distance callback");
    ts_status st = ts_abc_prior_check(pb->prior, pb->k, err);
    if (st == TS_OK)
        st = check_counts(opt, err);
    return st == TS_OK ? check_real_options(opt, err) : st;
}

/* ---- generations ----------------------------------------------------- */

static int gen_alloc(ts_abc_generation *g, size_t n, size_t k) {
    *g = (ts_abc_generation){.n = n, .k = k};
    g->theta = malloc(n * (k + 2) * sizeof *g->theta);
    if (!g->theta)
        return 0;
    g->weight = g->theta + n * k;
    g->dist = g->weight + n;
    return 1;
}

static void gen_free(ts_abc_generation *g) {
    free(g->theta);
    g->theta = g->weight = g->dist = NULL;
}

static int gen_copy(ts_abc_generation *dst, const ts_abc_generation *src) {
    if (!gen_alloc(dst, src->n, src->k))
        return 0;
    double *theta = dst->theta, *w = dst->weight, *d = dst->dist;
    *dst = *src;
    dst->theta = theta, dst->weight = w, dst->dist = d;
    memcpy(theta, src->theta, src->n * src->k * sizeof *theta);
    memcpy(w, src->weight, src->n * sizeof *w);
    memcpy(d, src->dist, src->n * sizeof *d);
    return 1;
}

void ts_abc_result_free(ts_abc_result *res) {
    if (!res)
        return;
    for (size_t t = 0; t < res->ngen; t++)
        gen_free(&res->gen[t]);
    free(res->gen);
    res->gen = NULL;
    res->ngen = 0;
}

/* Appends g (the result takes its block); capacity doubles at powers of 2. */
static int result_push(ts_abc_result *res, const ts_abc_generation *g) {
    size_t n = res->ngen;
    if ((n & (n - 1)) == 0) {
        size_t cap = n ? 2 * n : 1;
        ts_abc_generation *p = realloc(res->gen, cap * sizeof *p);
        if (!p)
            return 0;
        res->gen = p;
    }
    res->gen[res->ngen++] = *g;
    return 1;
}

/* A resume record must be a generation this problem could have made. */
static ts_status check_resume(const ts_abc_problem *pb,
                              const ts_abc_options *opt,
                              const ts_abc_generation *g, ts_error *err) {
    const char *bad = NULL;
    double wsum = 0.0;
    if (g->n != opt->particles || g->k != pb->k)
        bad = "its particles or parameters differ from the options";
    else if (!g->theta || !g->weight || !g->dist)
        bad = "it has no theta, weights or distances";
    else if (isnan(g->eps) || g->eps < 0.0 || g->evaluations < g->n ||
             !(g->acceptance > 0.0 && g->acceptance <= 1.0))
        bad = "its tolerance, acceptance rate or evaluations are invalid";
    for (size_t i = 0; !bad && i < g->n; i++) {
        if (!in_support(pb->prior, pb->k, g->theta + i * pb->k))
            bad = "a particle lies outside the priors' support";
        else if (!(g->weight[i] >= 0.0) || !isfinite(g->weight[i]))
            bad = "a weight is negative or not finite";
        else if (!(g->dist[i] >= 0.0))
            bad = "a distance is negative or NaN";
        wsum += bad ? 0.0 : g->weight[i];
    }
    if (!bad && !(wsum > 0.0 && isfinite(wsum)))
        bad = "its weights do not sum to a positive number";
    if (!bad)
        return TS_OK;
    return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                        "cannot resume ABC from generation %zu: %s",
                        g->index, bad);
}

/* ---- the kernel ------------------------------------------------------ */

typedef struct {
    gsl_matrix *L;    /* lower triangle: Cholesky factor of the covariance */
    gsl_vector *mean; /* weighted mean of the population */
    gsl_vector *work; /* for gsl_ran_multivariate_gaussian_log_pdf */
} kernel;

static void kernel_free(kernel *kn) {
    gsl_matrix_free(kn->L);
    gsl_vector_free(kn->mean);
    gsl_vector_free(kn->work);
}

static int kernel_alloc(kernel *kn, size_t k) {
    kn->L = gsl_matrix_alloc(k, k);
    kn->mean = gsl_vector_alloc(k);
    kn->work = gsl_vector_alloc(k);
    return kn->L && kn->mean && kn->work;
}

/* MODEL: Sigma = 2 sum_i w_i (theta_i - m)(theta_i - m)^T / sum w
 * (Beaumont et al. 2009) + diag((KERNEL_RIDGE (hi - lo))^2), factored
 * Sigma = L L^T. */
static void kernel_fit(kernel *kn, const ts_abc_generation *g,
                       const ts_abc_prior *prior) {
    size_t n = g->n, k = g->k;
    double wsum = 0.0;
    for (size_t i = 0; i < n; i++)
        wsum += g->weight[i];
    for (size_t a = 0; a < k; a++)
        gsl_vector_set(kn->mean, a,
                       gsl_stats_wmean(g->weight, 1, g->theta + a, k, n));
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b <= a; b++) {
            double ma = gsl_vector_get(kn->mean, a);
            double mb = gsl_vector_get(kn->mean, b), c = 0.0;
            for (size_t i = 0; i < n; i++)
                c += g->weight[i] * (g->theta[i * k + a] - ma) *
                     (g->theta[i * k + b] - mb);
            gsl_matrix_set(kn->L, a, b, 2.0 * c / wsum);
            gsl_matrix_set(kn->L, b, a, 2.0 * c / wsum);
        }
    for (size_t a = 0; a < k; a++) {
        double r = KERNEL_RIDGE * (prior[a].hi - prior[a].lo);
        gsl_matrix_set(kn->L, a, a, gsl_matrix_get(kn->L, a, a) + r * r);
    }
    gsl_linalg_cholesky_decomp1(kn->L);
}

/* log K(x | centre): the multivariate normal log density. */
static double kernel_log_pdf(kernel *kn, const double *x,
                             const double *centre, size_t k) {
    gsl_vector_const_view xv = gsl_vector_const_view_array(x, k);
    gsl_vector_const_view cv = gsl_vector_const_view_array(centre, k);
    double lp;
    gsl_ran_multivariate_gaussian_log_pdf(&xv.vector, &cv.vector, kn->L, &lp,
                                          kn->work);
    return lp;
}

/* One proposal into theta: a particle of prev picked by weight, moved by
 * the kernel, redrawn until it lies inside the support. */
static ts_status propose(gsl_rng *r, const gsl_ran_discrete_t *pick,
                         const ts_abc_generation *prev, kernel *kn,
                         const ts_abc_prior *prior, double *theta,
                         ts_error *err) {
    size_t k = prev->k;
    gsl_vector_view out = gsl_vector_view_array(theta, k);
    for (long tries = 0; tries < MAX_REDRAWS; tries++) {
        size_t j = gsl_ran_discrete(r, pick);
        gsl_vector_const_view c =
            gsl_vector_const_view_array(prev->theta + j * k, k);
        gsl_ran_multivariate_gaussian(r, &c.vector, kn->L, &out.vector);
        if (in_support(prior, k, theta))
            return TS_OK;
    }
    return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "",
                        "ABC generation %zu: %d proposals in a row fell "
                        "outside the priors' support", prev->index + 1,
                        MAX_REDRAWS);
}

/* exp(x_i - max x) / sum, in place: normalised weights from logs. */
static void normalise_logs(double *x, size_t n) {
    double mx = -INFINITY, s = 0.0;
    for (size_t i = 0; i < n; i++)
        mx = fmax(mx, x[i]);
    for (size_t i = 0; i < n; i++)
        s += x[i] = exp(x[i] - mx);
    for (size_t i = 0; i < n; i++)
        x[i] /= s;
}

/* MODEL: w_i ∝ prior(theta_i) / sum_j w_j K(theta_i | theta_j), the sum
 * taken as a log-sum-exp over the particles of prev with w_j > 0; lw has
 * room for prev->n doubles. */
static void importance_weights(const ts_abc_generation *prev, kernel *kn,
                               const ts_abc_prior *prior,
                               ts_abc_generation *g, double *lw) {
    size_t k = g->k;
    double wsum = 0.0;
    for (size_t j = 0; j < prev->n; j++)
        wsum += prev->weight[j];
    for (size_t i = 0; i < g->n; i++) {
        const double *x = g->theta + i * k;
        double mx = -INFINITY, s = 0.0;
        for (size_t j = 0; j < prev->n; j++) {
            lw[j] = -INFINITY;
            if (prev->weight[j] > 0.0)
                lw[j] = log(prev->weight[j] / wsum) +
                        kernel_log_pdf(kn, x, prev->theta + j * k, k);
            mx = fmax(mx, lw[j]);
        }
        for (size_t j = 0; j < prev->n; j++)
            s += exp(lw[j] - mx);
        g->weight[i] = log_prior(prior, k, x) - (mx + log(s));
    }
    normalise_logs(g->weight, g->n);
}

/* MODEL: ESS = 1 / sum w^2 for normalised w. */
static double ess_of(const double *w, size_t n) {
    double s = 0.0, s2 = 0.0;
    for (size_t i = 0; i < n; i++)
        s += w[i], s2 += w[i] * w[i];
    return s * s / s2;
}

/* MODEL: the p-quantile of the distances, d_(ceil(p n)). */
static double order_stat(const double *d, size_t n, double p, double *work) {
    memcpy(work, d, n * sizeof *work);
    gsl_sort(work, 1, n);
    size_t r = (size_t)ceil(p * (double)n);
    r = r < 1 ? 1 : r > n ? n : r;
    return work[r - 1];
}

/* ---- the sampler ----------------------------------------------------- */

typedef struct {
    const ts_abc_problem *pb;
    const ts_abc_options *opt;
    ts_abc_result *res;
    kernel kn;
    double *batch; /* proposals of one round, up to
                      TS_ABC_ROUND_FACTOR x particles rows of k */
    double *bdist; /* their distances */
    double *work;  /* particles doubles */
} sampler;

static void sampler_free(sampler *s) {
    kernel_free(&s->kn);
    free(s->batch);
    free(s->bdist);
    free(s->work);
}

static int sampler_alloc(sampler *s, const ts_abc_problem *pb,
                         const ts_abc_options *opt, ts_abc_result *res) {
    size_t n = opt->particles, k = pb->k;
    *s = (sampler){.pb = pb, .opt = opt, .res = res};
    size_t nb = n * TS_ABC_ROUND_FACTOR;
    s->batch = malloc(nb * k * sizeof *s->batch);
    s->bdist = malloc(nb * sizeof *s->bdist);
    s->work = malloc(n * sizeof *s->work);
    return kernel_alloc(&s->kn, k) && s->batch && s->bdist && s->work;
}

static ts_status out_of_memory(ts_error *err) {
    return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "out of memory");
}

/* Records why the run stops; returns 1. */
static int set_stop(ts_abc_result *res, ts_abc_stop stop, const char *fmt,
                    ...) __attribute__((format(printf, 3, 4)));
static int set_stop(ts_abc_result *res, ts_abc_stop stop, const char *fmt,
                    ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->why, sizeof res->why, fmt, ap);
    va_end(ap);
    res->stop = stop;
    return 1;
}

/* Distances of n proposals through the callback, counted against the
 * budget; NaN becomes +inf, a negative distance is an error. */
static ts_status evaluate(sampler *s, const double *theta, size_t n,
                          double *dist, ts_error *err) {
    ts_status st = s->pb->eval(s->pb->eval_ctx, theta, n, dist, err);
    s->res->evaluations += n;
    if (st != TS_OK)
        return err->status == TS_OK
                   ? ts_error_set(err, st, "", 0, 0, "",
                                  "the ABC distance callback failed")
                   : st;
    for (size_t i = 0; i < n; i++) {
        if (isnan(dist[i]))
            dist[i] = INFINITY;
        else if (dist[i] < 0.0)
            return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "",
                                "the ABC distance callback returned %g; "
                                "distances are >= 0", dist[i]);
    }
    return TS_OK;
}

/* Generation 0: the Sobol design through the priors' inverse CDFs. */
static ts_status generation_zero(sampler *s, ts_abc_generation *g,
                                 ts_error *err) {
    size_t n = s->opt->particles, k = s->pb->k;
    if (!gen_alloc(g, n, k))
        return out_of_memory(err);
    ts_status st = ts_design_sobol(n, k, s->opt->seed, g->theta, err);
    for (size_t i = 0; st == TS_OK && i < n * k; i++)
        g->theta[i] = ts_abc_prior_quantile(&s->pb->prior[i % k], g->theta[i]);
    if (st == TS_OK)
        st = evaluate(s, g->theta, n, g->dist, err);
    if (st != TS_OK) {
        gen_free(g);
        return st;
    }
    for (size_t i = 0; i < n; i++)
        g->weight[i] = 1.0 / (double)n;
    g->eps = INFINITY;
    g->acceptance = 1.0;
    g->ess = (double)n;
    g->evaluations = s->res->evaluations;
    return TS_OK;
}

/* Before a round of generation t that still needs `need` particles after
 * gen_evals evaluations: 1 (and the stop recorded) when the budget is
 * spent or the acceptance rate can no longer reach the minimum. */
static int stop_within(sampler *s, size_t t, size_t need, size_t gen_evals) {
    const ts_abc_options *o = s->opt;
    if (s->res->evaluations >= o->budget)
        return set_stop(s->res, TS_ABC_STOP_BUDGET,
                        "the budget of %zu evaluations ran out during "
                        "generation %zu", o->budget, t);
    if ((double)(gen_evals + need) * o->min_acceptance > (double)o->particles)
        return set_stop(s->res, TS_ABC_STOP_LOW_ACCEPTANCE,
                        "the acceptance rate of generation %zu fell below "
                        "%g (%zu particles still needed after %zu "
                        "evaluations)", t, o->min_acceptance, need,
                        gen_evals);
    return 0;
}

/* Proposals in the next round of generation prev->index + 1, when `need`
 * particles are still missing after gen_evals evaluations: need divided by
 * the previous generation's acceptance rate (rounded up), so that a round
 * is expected to bring about what is missing and a parallel callback gets
 * large batches; at most TS_ABC_ROUND_FACTOR x particles, the budget left,
 * and the evaluations the minimum acceptance rate still allows (at least
 * need: stop_within checked that). A function of the record of prev, so
 * a resumed run makes the same rounds. */
static size_t round_size(const sampler *s, const ts_abc_generation *prev,
                         size_t need, size_t gen_evals) {
    const ts_abc_options *o = s->opt;
    double want = fmin(ceil((double)need / prev->acceptance),
                       (double)TS_ABC_ROUND_FACTOR * (double)o->particles);
    if (o->min_acceptance > 0.0)
        want = fmin(want, floor((double)o->particles / o->min_acceptance) -
                              (double)gen_evals);
    size_t nb = (size_t)want, left = o->budget - s->res->evaluations;
    return nb < left ? nb : left;
}

/* Rounds of proposals until g holds N particles with d <= eps (finite),
 * or a stop; *gen_evals counts this generation's evaluations. Accepted
 * proposals beyond the N-th of a round are evaluated but not kept. */
static ts_status fill_generation(sampler *s, gsl_rng *r,
                                 const gsl_ran_discrete_t *pick,
                                 const ts_abc_generation *prev, double eps,
                                 ts_abc_generation *g, size_t *gen_evals,
                                 ts_error *err) {
    size_t n = g->n, k = g->k, got = 0;
    while (got < n && !stop_within(s, prev->index + 1, n - got, *gen_evals)) {
        size_t nb = round_size(s, prev, n - got, *gen_evals);
        for (size_t i = 0; i < nb; i++) {
            ts_status st = propose(r, pick, prev, &s->kn, s->pb->prior,
                                   s->batch + i * k, err);
            if (st != TS_OK)
                return st;
        }
        ts_status st = evaluate(s, s->batch, nb, s->bdist, err);
        *gen_evals += nb;
        for (size_t i = 0; st == TS_OK && i < nb && got < n; i++)
            if (s->bdist[i] <= eps && isfinite(s->bdist[i])) {
                memcpy(g->theta + got * k, s->batch + i * k, k * sizeof *g->theta);
                g->dist[got++] = s->bdist[i];
            }
        if (st != TS_OK)
            return st;
    }
    return TS_OK;
}

/* Generation prev->index + 1 at tolerance eps into g (allocated here and
 * freed again unless it completes: g->theta != NULL on return means g is
 * a completed generation). */
static ts_status next_generation(sampler *s, const ts_abc_generation *prev,
                                 double eps, ts_abc_generation *g,
                                 ts_error *err) {
    size_t gen_evals = 0;
    if (!gen_alloc(g, prev->n, prev->k))
        return out_of_memory(err);
    kernel_fit(&s->kn, prev, s->pb->prior);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_ran_discrete_t *pick = gsl_ran_discrete_preproc(prev->n, prev->weight);
    ts_status st = r && pick ? TS_OK : out_of_memory(err);
    if (st == TS_OK) {
        gsl_rng_set(r, ts_seed32(s->opt->seed, TS_STREAM_ABC + prev->index + 1));
        st = fill_generation(s, r, pick, prev, eps, g, &gen_evals, err);
    }
    gsl_rng_free(r);
    gsl_ran_discrete_free(pick);
    if (st != TS_OK || s->res->stop != TS_ABC_STOP_NONE) {
        gen_free(g);
        return st;
    }
    importance_weights(prev, &s->kn, s->pb->prior, g, s->work);
    g->index = prev->index + 1;
    g->eps = eps;
    g->acceptance = (double)g->n / (double)gen_evals;
    g->ess = ess_of(g->weight, g->n);
    g->evaluations = s->res->evaluations;
    return TS_OK;
}

/* After completed generation g: 1 (and the stop recorded) when the run
 * ends there; else *eps is the next tolerance. */
static int stop_after(sampler *s, const ts_abc_generation *g, double *eps) {
    const ts_abc_options *o = s->opt;
    ts_abc_result *res = s->res;
    if (g->index + 1 >= o->max_generations)
        return set_stop(res, TS_ABC_STOP_MAX_GENERATIONS,
                        "%zu generations completed", g->index + 1);
    if (g->eps <= o->eps_target)
        return set_stop(res, TS_ABC_STOP_TARGET,
                        "tolerance %g of generation %zu reached the target %g",
                        g->eps, g->index, o->eps_target);
    if (g->acceptance < o->min_acceptance)
        return set_stop(res, TS_ABC_STOP_LOW_ACCEPTANCE,
                        "acceptance rate %g of generation %zu is below %g",
                        g->acceptance, g->index, o->min_acceptance);
    *eps = order_stat(g->dist, g->n, g->index == 0 ? o->q0 : o->alpha, s->work);
    if (g->eps - *eps < o->min_eps_decrease * g->eps)
        return set_stop(res, TS_ABC_STOP_STALLED,
                        "the tolerance stalls: %g after %g of generation %zu "
                        "(a relative decrease below %g)", *eps, g->eps,
                        g->index, o->min_eps_decrease);
    if (res->evaluations >= o->budget)
        return set_stop(res, TS_ABC_STOP_BUDGET,
                        "the budget of %zu evaluations is spent", o->budget);
    return 0;
}

/* Appends a completed generation and reports it. */
static ts_status complete(sampler *s, ts_abc_generation *g, int report,
                          ts_error *err) {
    if (!result_push(s->res, g)) {
        gen_free(g);
        return out_of_memory(err);
    }
    const ts_abc_problem *pb = s->pb;
    if (!report || !pb->report)
        return TS_OK;
    ts_status st = pb->report(pb->report_ctx, g, err);
    if (st != TS_OK && err->status == TS_OK)
        ts_error_set(err, st, "", 0, 0, "", "the ABC report callback failed");
    return st;
}

static ts_status run_generations(sampler *s, const ts_abc_generation *resume,
                                 ts_error *err) {
    ts_abc_generation g;
    ts_status st;
    if (resume) {
        s->res->evaluations = resume->evaluations;
        st = gen_copy(&g, resume) ? complete(s, &g, 0, err)
                                  : out_of_memory(err);
    } else {
        if (s->pb->start)
            s->pb->start(s->pb->report_ctx, 0, INFINITY);
        st = generation_zero(s, &g, err);
        if (st == TS_OK)
            st = complete(s, &g, 1, err);
    }
    double eps = INFINITY;
    while (st == TS_OK &&
           !stop_after(s, &s->res->gen[s->res->ngen - 1], &eps)) {
        if (s->pb->start)
            s->pb->start(s->pb->report_ctx, s->res->gen[s->res->ngen - 1].index + 1, eps);
        st = next_generation(s, &s->res->gen[s->res->ngen - 1], eps, &g, err);
        if (st == TS_OK && g.theta)
            st = complete(s, &g, 1, err);
        if (st == TS_OK && !g.theta)
            break; /* abandoned: the stop is recorded */
    }
    return st;
}

ts_status ts_abc_run(const ts_abc_problem *pb, const ts_abc_options *opt,
                     const ts_abc_generation *resume, ts_abc_result *res,
                     ts_error *err) {
    ts_error local;
    err = err ? err : &local;
    ts_error_clear(err);
    if (!res)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "ABC needs a result to fill");
    *res = (ts_abc_result){.stop = TS_ABC_STOP_NONE};
    ts_status st = check_problem(pb, opt, err);
    if (st == TS_OK && resume)
        st = check_resume(pb, opt, resume, err);
    if (st != TS_OK)
        return st;
    sampler s;
    if (!sampler_alloc(&s, pb, opt, res))
        st = out_of_memory(err);
    else
        st = run_generations(&s, resume, err);
    sampler_free(&s);
    if (st != TS_OK)
        set_stop(res, TS_ABC_STOP_ERROR, "%s", err->msg);
    return st;
}

/* ---- posterior summaries --------------------------------------------- */

static ts_status check_population(const ts_abc_generation *g, ts_error *err) {
    double s = 0.0;
    int ok = g && g->n > 0 && g->k > 0 && g->theta && g->weight;
    for (size_t i = 0; ok && i < g->n; i++) {
        ok = g->weight[i] >= 0.0;
        s += g->weight[i];
    }
    if (ok && s > 0.0 && isfinite(s))
        return TS_OK;
    return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                        "an ABC posterior summary needs particles whose "
                        "weights are >= 0 and sum to a positive number");
}

/* MODEL: the smallest theta_(i) (ascending, w_(i) > 0) whose cumulative
 * weight reaches p sum w; perm holds parameter j's ascending order.
 * check_population guarantees a positive weight. */
static double column_quantile(const ts_abc_generation *g, size_t j,
                              const size_t *perm, double p) {
    double wsum = 0.0, c = 0.0;
    size_t last = perm[0];
    for (size_t i = 0; i < g->n; i++)
        wsum += g->weight[i];
    for (size_t r = 0; r < g->n; r++) {
        size_t i = perm[r];
        if (!(g->weight[i] > 0.0))
            continue;
        c += g->weight[i];
        last = i;
        if (c >= p * wsum)
            break;
    }
    return g->theta[last * g->k + j]; /* else rounding left c < p sum w */
}

/* Ascending order of parameter j into perm; col has room for n doubles. */
static void order_column(const ts_abc_generation *g, size_t j, double *col,
                         size_t *perm) {
    for (size_t i = 0; i < g->n; i++)
        col[i] = g->theta[i * g->k + j];
    gsl_sort_index(perm, col, 1, g->n);
}

ts_status ts_abc_quantile(const ts_abc_generation *g, size_t j, double p,
                          double *q, ts_error *err) {
    ts_status st = check_population(g, err);
    if (st != TS_OK)
        return st;
    if (j >= g->k || !(p >= 0.0 && p <= 1.0) || !q)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "ABC quantile %g of parameter %zu: needs p in "
                            "[0, 1] and one of %zu parameters", p, j, g->k);
    double *col = malloc(g->n * sizeof *col);
    size_t *perm = malloc(g->n * sizeof *perm);
    if (col && perm) {
        order_column(g, j, col, perm);
        *q = column_quantile(g, j, perm, p);
    }
    free(col);
    free(perm);
    return col && perm ? TS_OK : out_of_memory(err);
}

ts_status ts_abc_summarize(const ts_abc_generation *g, ts_abc_summary *out,
                           ts_error *err) {
    ts_status st = check_population(g, err);
    if (st != TS_OK || !out)
        return st != TS_OK ? st : ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                                               "no summary array given");
    double *col = malloc(g->n * sizeof *col);
    size_t *perm = malloc(g->n * sizeof *perm);
    for (size_t j = 0; col && perm && j < g->k; j++) {
        ts_abc_summary *o = &out[j];
        o->mean = gsl_stats_wmean(g->weight, 1, g->theta + j, g->k, g->n);
        o->sd = gsl_stats_wsd_m(g->weight, 1, g->theta + j, g->k, g->n,
                                o->mean);
        order_column(g, j, col, perm);
        o->p2_5 = column_quantile(g, j, perm, 0.025);
        o->p50 = column_quantile(g, j, perm, 0.5);
        o->p97_5 = column_quantile(g, j, perm, 0.975);
    }
    st = col && perm ? TS_OK : out_of_memory(err);
    free(col);
    free(perm);
    return st;
}

/* MODEL: C_ab = sum w (theta_a - m_a)(theta_b - m_b) / sum w,
 * r_ab = C_ab / sqrt(C_aa C_bb). */
ts_status ts_abc_correlation(const ts_abc_generation *g, double *corr,
                             ts_error *err) {
    ts_status st = check_population(g, err);
    if (st != TS_OK || !corr)
        return st != TS_OK ? st : ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                                               "no correlation array given");
    size_t n = g->n, k = g->k;
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b <= a; b++) {
            double ma = gsl_stats_wmean(g->weight, 1, g->theta + a, k, n);
            double mb = gsl_stats_wmean(g->weight, 1, g->theta + b, k, n);
            double c = 0.0;
            for (size_t i = 0; i < n; i++)
                c += g->weight[i] * (g->theta[i * k + a] - ma) *
                     (g->theta[i * k + b] - mb);
            corr[a * k + b] = corr[b * k + a] = c; /* scale cancels */
        }
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b < k; b++)
            if (a != b)
                corr[a * k + b] /= sqrt(corr[a * k + a] * corr[b * k + b]);
    for (size_t a = 0; a < k; a++)
        corr[a * k + a] = corr[a * k + a] > 0.0 ? 1.0 : NAN;
    return TS_OK;
}
