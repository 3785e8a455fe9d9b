/* Calibration of a scenario to its targets (docs/calibration.md): the
 * `calibration:` block, the distance between a simulated particle and the
 * targets, the ABC-SMC run (talentsim/abc.h) with its results directory,
 * and runs over posterior draws.
 *
 * A calibration file is a scenario file with a `calibration:` block:
 *   calibration:
 *     method: abc-smc
 *     parameters:                  free parameters, each with a prior
 *       suspicion.adaptation: {uniform: [0.05, 0.95]}
 *       utility.fear: {normal: [1.35, 0.5]}   truncated to the range
 *     particles: 300               N
 *     generations: 10              at most, generation 0 included
 *     budget: 20000                simulations of particles, at most
 *     replications: 4              per particle
 *     sample_fraction: 0.1         per particle (default: the scenario's)
 *     quantile: 0.5                tolerance quantile alpha
 *     first_quantile: 0.5          generation 1's (q0; default: quantile)
 *     min_acceptance: 0.01
 *     min_decrease: 0.01           relative tolerance decrease to go on
 *     seed: 1                      default: the scenario's seed
 *     trend: {metric: flows.us_to_cn_academic, from: 2017, to: 2021,
 *             weight: 1}           soft constraint: a rising series
 * A key is a base parameter or `policies.NAME.KEY` (ts_scenario_ref).
 *
 * Distance (docs/calibration.md): with m_j the particle's mean over its
 * replications of target j's metric in its year, o_j the observed value
 * and s_j its uncertainty (sqrt(o (1 - o) / n) for a share, sqrt(o) for a
 * count), z_j = (m_j - o_j) / s_j; for the trend, each yearly step that
 * goes down, D_y = max(0, m_y - m_{y+1}), is scaled by the Poisson error
 * of a difference of two counts, u_y = D_y / sqrt(m_y + m_{y+1});
 *   d = sqrt((sum_j z_j^2 + weight sum_y u_y^2) / J).
 * A particle whose simulation fails, or whose target metric is undefined,
 * has distance +inf. */
#ifndef TALENTSIM_CALIBRATE_H
#define TALENTSIM_CALIBRATE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "talentsim/abc.h"
#include "talentsim/error.h"
#include "talentsim/metrics.h"
#include "talentsim/results.h"
#include "talentsim/scenario.h"
#include "talentsim/sim.h"

#define TS_CALIB_MAX_PARAMS 32

typedef struct {
    char *key;           /* as written */
    ts_scenario_ref ref; /* what it sets */
    ts_abc_prior prior;  /* support inside the parameter's allowed range */
} ts_calib_param;

typedef struct {
    int on;              /* 0: no trend term */
    ts_metric metric;
    int64_t from, to;    /* years, from < to */
    double weight;       /* >= 0 */
} ts_calib_trend;

typedef struct {
    ts_scenario *base;       /* the scenario without its calibration block */
    ts_calib_param *param;   /* in file order */
    size_t k;
    ts_abc_options abc;      /* particles, generations, budget, quantiles, seed */
    int64_t replications;    /* per particle */
    double sample_fraction;  /* per particle */
    ts_calib_trend trend;
    int64_t last_year;       /* the last year a target or the trend needs */
    char id[17];             /* hash of the resolved calibration file */
} ts_calibration;

/* Reads sc->block[TS_BLOCK_CALIBRATION]; TS_EINPUT with file:line:col and
 * the key when it is missing or wrong, or when sc has no targets. */
ts_calibration *ts_calibration_from_scenario(const ts_scenario *sc, ts_error *err);
void ts_calibration_free(ts_calibration *c);

/* The base scenario with theta's values. eval = 1: as a particle is
 * simulated (the block's replications and sample_fraction, the years cut
 * at last_year with the policies cut to match, a seed drawn from theta's
 * bits so that particles have independent noise yet the same theta always
 * gives the same distance). eval = 0: the scenario as it would run with
 * these values. TS_EINPUT (*out set, why filled) when the model rejects
 * the values; TS_ERUNTIME (*out NULL) when out of memory. */
ts_status ts_calibration_particle(const ts_calibration *c, const double *theta, int eval,
                                  ts_scenario **out, ts_error *why);

/* The distance of results r (of a particle scenario) to the targets; the
 * standardised error of each target into z[0..ntargets) when z is not
 * NULL (NaN when undefined) and the trend's penalty sum_y u_y^2 into
 * *trend_pen when not NULL. */
double ts_calibration_distance(const ts_calibration *c, const ts_results *r, double *z,
                               double *trend_pen);

/* Simulates the n particles theta[i * k ..] (each with one thread, the
 * particles side by side on opt->threads threads) and fills dist. */
ts_status ts_calibration_evaluate(const ts_calibration *c, const double *theta, size_t n,
                                  const ts_run_opts *opt, double *dist, ts_error *err);

/* ---- the results directory ---- */

/* What the run reports while it works (called on the calling thread). */
typedef struct {
    size_t generation;     /* in progress */
    double eps;            /* its tolerance (+inf for generation 0) */
    double prev_acceptance;/* of the last completed generation (1 at first) */
    size_t evaluations;    /* of the whole run so far */
    size_t budget;
    double seconds;        /* since the run (or the resume) started */
} ts_calib_status;

typedef void (*ts_calib_progress_fn)(void *ctx, const ts_calib_status *s);

typedef struct {
    ts_run_opts run;               /* threads, stop flag */
    ts_calib_progress_fn progress; /* may be NULL */
    void *progress_ctx;
    int resume;                    /* continue from the last generation in dir */
    int force;                     /* start afresh over an earlier calibration */
    int no_write;                  /* 1: read dir but write nothing (MPI ranks
                                      other than 0 run the same sampler) */
    /* May be NULL (ts_calibration_evaluate on run.threads): evaluates a
     * batch, e.g. spread over MPI ranks. Must give each particle the
     * distance ts_calibration_evaluate gives. */
    ts_status (*eval)(void *ctx, const ts_calibration *c, const double *theta, size_t n,
                      double *dist, ts_error *err);
    void *eval_ctx;
} ts_calib_opts;

/* Runs the calibration into dir:
 *   calibration.resolved.yaml   the input resolved (identifies the run)
 *   generations/gen-NNN.csv     each completed generation's particles
 *   generations.csv             tolerance, acceptance, ESS per generation
 *   posterior.csv               the last completed generation
 *   summary.csv                 per parameter: prior, mean, sd, quantiles
 *   calibrated.yaml             the input (`extends:`) with posterior medians
 * Each file is replaced atomically after every generation, so an
 * interrupted or stalled run keeps every completed generation.
 * TS_EINPUT when dir holds another calibration, or an earlier run of this
 * one without resume or force; resume without a completed generation
 * starts afresh. src_path is the input file (for calibrated.yaml's
 * `extends:`). res holds the generations of this run (ts_abc_result_free). */
ts_status ts_calibration_run(const ts_calibration *c, const ts_scenario *input,
                             const char *dir, const ts_calib_opts *opt, ts_abc_result *res,
                             ts_error *err);

/* ---- posterior draws ---- */

/* A posterior sample read from posterior.csv: n particles of k keys. */
typedef struct {
    size_t n, k;
    char **key;            /* parameter keys (ts_scenario_ref_find) */
    double *theta;         /* n x k */
    double *weight;        /* n, normalised */
} ts_posterior;

/* Reads a posterior.csv: TS_EINPUT (file:line, the column) when it is not
 * one or has no positive weight. */
ts_posterior *ts_posterior_load(const char *path, ts_error *err);
void ts_posterior_free(ts_posterior *p);

/* Runs sc over posterior draws: replication r simulates draw r of a
 * systematic resample of the weighted particles (one uniform from the
 * scenario's seed), with its own seed derived from (seed, r); so scenarios
 * run with one posterior are paired replication by replication. The
 * results have sc's replications. TS_EINPUT when a key names nothing in a
 * scenario or a draw does not fit it. */
ts_status ts_posterior_run(const ts_posterior *p, const ts_scenario *const *sc, size_t n,
                           const ts_run_opts *opt, ts_results **out, ts_error *err);

#endif
