/* Approximate Bayesian Computation by sequential Monte Carlo (ABC-SMC,
 * Toni et al. 2009; the adaptive weights and kernel of Beaumont et al.
 * 2009), independent of the simulator: the model is a callback that
 * returns, for a batch of parameter vectors, the distance between the
 * simulated and the observed summaries.
 *
 * A population is N particles theta_i (k parameters each) with weights
 * w_i and distances d_i. Generation t targets
 *   pi_t(theta) ∝ prior(theta) 1{d(theta) <= eps_t}.
 *   t = 0: N points of a shifted Sobol sequence (ts_design_sobol) mapped
 *          through each prior's inverse CDF, all kept, w_i = 1/N,
 *          eps_0 = +inf: a space-filling, reproducible prior sample.
 *   t = 1: eps_1 = the q0-quantile of the generation-0 distances.
 *   t > 1: eps_t = the alpha-quantile of the distances of generation t-1.
 *          The p-quantile of N distances is the order statistic
 *          d_(ceil(p N)) (no interpolation, so it is always one of the
 *          distances and +inf distances are harmless).
 *   t >= 1: a proposal picks theta_j of generation t-1 with probability
 *          w_j and moves it by a multivariate normal kernel K of
 *          covariance 2 Cov_w(theta^(t-1)) (Beaumont 2009; weighted
 *          covariance with normalised weights, plus a ridge of
 *          (1e-5 (hi_j - lo_j))^2 on the diagonal so that a collapsed
 *          population still has a positive definite kernel); proposals
 *          outside the priors' support are redrawn before evaluation.
 *          Accepted when d <= eps_t. Weights
 *            w_i ∝ prior(theta_i) / sum_j w_j^(t-1) K(theta_i | theta_j),
 *          normalised; ESS = 1 / sum w_i^2.
 *
 * Rounds: generation t evaluates its proposals in batches ("rounds"); a
 * round holds the m particles still missing divided by the acceptance
 * rate of generation t-1, rounded up (so it is expected to bring about
 * m, and a parallel callback gets large batches), capped at
 * TS_ABC_ROUND_FACTOR x N, the budget left and N / min_acceptance
 * evaluations per generation. Accepted proposals beyond the N-th of a
 * round are evaluated (and counted) but not kept: a stopping rule that
 * does not look at the values, so the kept ones are still a sample of
 * the target. The acceptance rate is N / evaluations of the generation.
 *
 * Determinism: every random number is drawn on the calling thread, in a
 * fixed order, from a GSL mt19937 seeded from (seed, t) for generation t,
 * and the rounds' sizes are functions of the previous generation's record
 * and of the count still missing, so the result depends only on
 * (problem, options, seed) and on
 * the distances the callback returns: a callback that evaluates the batch
 * in parallel, with any number of threads, gives the same bits as long as
 * each distance is a function of its theta. Because a generation depends
 * only on the previous generation's record, a run resumed from generation
 * g is bit-identical to an uninterrupted run.
 *
 * A distance is >= 0; NaN (a failed simulation) counts as +inf, never
 * accepted; a negative distance is a callback error (TS_ERUNTIME). */
#ifndef TALENTSIM_ABC_H
#define TALENTSIM_ABC_H

#include <stddef.h>
#include <stdint.h>

#include "talentsim/error.h"

#define TS_ABC_ROUND_FACTOR 16 /* a round is at most 16 x particles */

typedef enum { TS_ABC_UNIFORM, TS_ABC_NORMAL } ts_abc_prior_kind;

/* A parameter's prior: uniform on [lo, hi], or normal(mu, sd) truncated
 * to [lo, hi] (the parameter's allowed range). lo < hi, both finite;
 * normal: sd > 0 and lo <= mu <= hi. A mean outside the allowed range is
 * refused (TS_EINPUT): it is almost always a typo, and with mu inside the
 * truncation mass Phi(b) - Phi(a), a <= 0 <= b, is computed without
 * cancellation. */
typedef struct {
    ts_abc_prior_kind kind;
    double lo, hi; /* support */
    double mu, sd; /* normal only */
} ts_abc_prior;

/* TS_EINPUT, naming parameter j, when a prior of p[0..k-1] is invalid. */
ts_status ts_abc_prior_check(const ts_abc_prior *p, size_t k, ts_error *err);

/* Density at x (0 outside [lo, hi]) and its log (-inf outside). */
double ts_abc_prior_pdf(const ts_abc_prior *p, double x);
double ts_abc_prior_log_pdf(const ts_abc_prior *p, double x);

/* The prior's standard deviation (of the truncated law for a normal). */
double ts_abc_prior_sd(const ts_abc_prior *p);

/* Inverse CDF at u in [0, 1], clamped to [lo, hi]. Truncated normal:
 * mu + sd Phi^-1(Phi(a) + u (Phi(b) - Phi(a))). */
double ts_abc_prior_quantile(const ts_abc_prior *p, double u);

/* Distances of the n parameter vectors theta[i*k .. i*k+k-1] into
 * dist[0..n-1]. May evaluate them in parallel; non-OK stops the sampler
 * with that status. */
typedef ts_status (*ts_abc_eval_fn)(void *ctx, const double *theta, size_t n,
                                    double *dist, ts_error *err);

/* One completed generation. theta, weight and dist point into one block
 * of n * (k + 2) doubles (theta first) owned by the result. */
typedef struct {
    size_t index;       /* t; 0 = the prior sample */
    size_t n, k;        /* particles, parameters */
    double eps;         /* tolerance eps_t; +inf for generation 0 */
    double acceptance;  /* n / evaluations of this generation; 1 for t = 0 */
    double ess;         /* 1 / sum w^2 of the normalised weights */
    size_t evaluations; /* of the whole run so far, this generation included */
    double *theta;      /* n x k, row-major */
    double *weight;     /* n, normalised */
    double *dist;       /* n, each <= eps */
} ts_abc_generation;

/* Called after each generation this run completes (not for the resumed
 * one). Non-OK stops the sampler with that status. */
typedef ts_status (*ts_abc_report_fn)(void *ctx, const ts_abc_generation *g,
                                      ts_error *err);

typedef struct {
    size_t k;                   /* parameters, 1..TS_DESIGN_SOBOL_MAXDIM */
    const ts_abc_prior *prior;  /* k priors */
    ts_abc_eval_fn eval;        /* required */
    void *eval_ctx;
    ts_abc_report_fn report;    /* may be NULL */
    void *report_ctx;           /* for report and start */
    /* May be NULL: called when generation t starts, with its tolerance
     * (+inf for generation 0), before any of its evaluations. */
    void (*start)(void *report_ctx, size_t t, double eps);
} ts_abc_problem;

typedef struct {
    size_t particles;        /* N > 0 (at most TS_DESIGN_SOBOL_MAXN) */
    size_t max_generations;  /* generations including 0; > 0 */
    size_t budget;           /* total evaluations, >= particles */
    double q0;               /* eps_1 quantile of generation 0, in (0, 1) */
    double alpha;            /* eps_t quantile of generation t-1, in (0, 1) */
    double min_acceptance;   /* in [0, 1): stop below this acceptance rate */
    double min_eps_decrease; /* in [0, 1): stop when the next eps would be
                                above (1 - this) eps_t */
    double eps_target;       /* >= 0: stop once eps_t <= this */
    uint64_t seed;
} ts_abc_options;

/* N = 1000, 20 generations, budget 10^6, q0 = alpha = 0.5, minimum
 * acceptance 0.01, minimum relative eps decrease 0.01, eps target 0,
 * seed 1. */
void ts_abc_options_default(ts_abc_options *o);

typedef enum {
    TS_ABC_STOP_NONE,            /* not stopped (the result of an error
                                    before the first generation) */
    TS_ABC_STOP_MAX_GENERATIONS, /* max_generations completed */
    TS_ABC_STOP_TARGET,          /* eps_t <= eps_target */
    TS_ABC_STOP_LOW_ACCEPTANCE,  /* the generation in progress could no
                                    longer reach min_acceptance (its
                                    evaluations plus the particles still
                                    missing exceed N / min_acceptance): it
                                    is abandoned; or a resumed generation's
                                    rate is below the minimum */
    TS_ABC_STOP_STALLED,         /* the next tolerance would not decrease
                                    by min_eps_decrease relative to eps_t */
    TS_ABC_STOP_BUDGET,          /* the budget ran out (a generation in
                                    progress is abandoned) */
    TS_ABC_STOP_ERROR,           /* a callback failed; its status returned */
    TS_ABC_STOP_COUNT
} ts_abc_stop;

/* "max_generations", "target", "low_acceptance", "stalled", "budget",
 * "error", "none"; NULL for values out of range. */
const char *ts_abc_stop_name(ts_abc_stop s);

typedef struct {
    ts_abc_generation *gen; /* completed generations, oldest first; with a
                               resume, gen[0] is a copy of the resumed one */
    size_t ngen;
    size_t evaluations;     /* total, abandoned generation included */
    ts_abc_stop stop;
    char why[256];          /* the stop in words, one line */
} ts_abc_result;

/* Runs the sampler from generation 0, or after `resume` (a completed
 * generation of a run with the same problem and options; NULL to start
 * afresh). *res is always initialised, and holds every generation
 * completed before a stop or a callback error; free it with
 * ts_abc_result_free whatever the status.
 * TS_EINPUT: k == 0 or > TS_DESIGN_SOBOL_MAXDIM, no priors or eval, an
 * invalid prior, particles == 0, max_generations == 0, budget == 0 or
 * below particles, q0 or alpha outside (0, 1), min_acceptance or
 * min_eps_decrease outside [0, 1), eps_target < 0, or a resume record that
 * does not fit (sizes, theta outside the support, weights, distances).
 * TS_ERUNTIME: out of memory, a negative distance, a kernel whose
 * proposals keep leaving the support. Else the callbacks' status. */
ts_status ts_abc_run(const ts_abc_problem *pb, const ts_abc_options *opt,
                     const ts_abc_generation *resume, ts_abc_result *res,
                     ts_error *err);

/* Frees the generations; res is left empty. NULL is a no-op. */
void ts_abc_result_free(ts_abc_result *res);

/* Weighted posterior summary of one parameter. */
typedef struct {
    double mean;              /* sum w theta / sum w */
    double sd;                /* gsl_stats_wsd: reliability-weights
                                 correction 1 / (1 - sum w^2) */
    double p2_5, p50, p97_5;  /* inverse of the weighted empirical CDF:
                                 the smallest theta whose cumulative
                                 weight reaches p */
} ts_abc_summary;

/* out[0..k-1] for the k parameters of g. TS_EINPUT when g is empty or its
 * weights do not sum to a positive number; TS_ERUNTIME out of memory. */
ts_status ts_abc_summarize(const ts_abc_generation *g, ts_abc_summary *out,
                           ts_error *err);

/* The p-quantile (p in [0, 1]) of parameter j, by the rule above. */
ts_status ts_abc_quantile(const ts_abc_generation *g, size_t j, double p,
                          double *q, ts_error *err);

/* Weighted correlation matrix, k x k row-major, into corr. A parameter
 * that does not vary has NaN in its row and column (diagonal included). */
ts_status ts_abc_correlation(const ts_abc_generation *g, double *corr,
                             ts_error *err);

#endif
