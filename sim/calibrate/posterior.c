/* Runs over posterior draws (talentsim/calibrate.h): replication r of a
 * scenario simulates one parameter vector of the posterior, so the spread
 * over replications carries the parameter uncertainty as well as the Monte
 * Carlo noise.
 *
 * Draws: a systematic resample of the weighted particles, R positions
 * (u + r) / R, r = 0..R-1, on the cumulative normalised weights, with u
 * one uniform from (seed, TS_STREAM_POSTERIOR). Each particle then appears
 * floor(R w_i) or ceil(R w_i) times, the least noisy unbiased resample.
 * Replication r runs as its own one-replication scenario with the seed
 * ts_seed32(seed, TS_STREAM_POSTERIOR + 1 + r): two scenarios run with the
 * same posterior, seed and replications use the same draw and the same
 * random numbers in replication r, so their difference stays paired. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../scenario/scenario_priv.h"
#include "../seed.h"
#include "calib_priv.h"
#include "talentsim/calibrate.h"

static ts_status oom(ts_error *err) {
    return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "out of memory");
}

void ts_posterior_free(ts_posterior *p) {
    if (!p)
        return;
    for (size_t j = 0; p->key && j < p->k; j++)
        free(p->key[j]);
    free(p->key);
    free(p->theta);
    free(p->weight);
    free(p);
}

/* Weights into p->weight, normalised; TS_EINPUT when one is negative or
 * not finite, or none is positive. */
static ts_status normalise(ts_posterior *p, const char *path, ts_error *err) {
    double sum = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (!(p->weight[i] >= 0) || !isfinite(p->weight[i]))
            return ts_error_set(err, TS_EINPUT, path, (int)i + 2, 0, "weight", "weight of "
                                "particle %zu must be a finite number >= 0", i + 1);
        sum += p->weight[i];
    }
    if (!(sum > 0))
        return ts_error_set(err, TS_EINPUT, path, 2, 0, "weight", "no particle has a "
                            "positive weight");
    for (size_t i = 0; i < p->n; i++)
        p->weight[i] /= sum;
    return TS_OK;
}

ts_posterior *ts_posterior_load(const char *path, ts_error *err) {
    ts_particles pp;
    if (ts_particles_read(path, &pp, err) != TS_OK)
        return NULL;
    ts_posterior *p = calloc(1, sizeof *p);
    if (!p) {
        ts_particles_free(&pp);
        oom(err);
        return NULL;
    }
    *p = (ts_posterior){.n = pp.n, .k = pp.k, .key = pp.key, .theta = pp.theta,
                        .weight = pp.weight};
    free(pp.dist);
    if (normalise(p, path, err) != TS_OK) {
        ts_posterior_free(p);
        return NULL;
    }
    return p;
}

/* The particle of each of the R replications (systematic resampling). */
static void draws(const ts_posterior *p, uint64_t seed, size_t R, size_t *pick) {
    double u = ts_seed32(seed, TS_STREAM_POSTERIOR) / 4294967296.0, cum = p->weight[0];
    size_t i = 0;
    for (size_t r = 0; r < R; r++) {
        double pos = (u + (double)r) / (double)R;
        while (pos > cum && i + 1 < p->n)
            cum += p->weight[++i];
        pick[r] = i;
    }
}

/* Replication r of sc as a one-replication scenario with draw theta. */
static ts_status draw_scenario(const ts_posterior *p, const ts_scenario *sc, size_t r,
                               const double *theta, ts_scenario **out, ts_error *err) {
    ts_scenario *d = ts_scenario_copy(sc);
    *out = d;
    if (!d)
        return oom(err);
    for (size_t j = 0; j < p->k; j++) {
        ts_scenario_ref ref;
        if (ts_scenario_ref_find(sc, p->key[j], &ref, err) != TS_OK)
            return ts_error_set(err, TS_EINPUT, sc->path, 0, 0, p->key[j], "column '%s' of "
                                "the posterior does not fit scenario '%s': %s", p->key[j],
                                sc->name, err->msg);
        if (ts_scenario_ref_put(d, &ref, theta[j], err) != TS_OK)
            return TS_ERUNTIME;
    }
    d->base.replications = 1;
    d->base.seed = (int64_t)ts_seed32((uint64_t)sc->base.seed, TS_STREAM_POSTERIOR + 1 + r);
    ts_scenario_sync_open(d);
    if (ts_scenario_validate(d, err) != TS_OK)
        return ts_error_set(err, TS_EINPUT, sc->path, 0, 0, err->key, "posterior draw %zu "
                            "does not fit scenario '%s': %s", r + 1, sc->name, err->msg);
    return TS_OK;
}

/* The n scenarios' draw scenarios, scenario-major, into all[]. */
static ts_status build(const ts_posterior *p, const ts_scenario *const *sc, size_t n,
                       ts_scenario **all, ts_error *err) {
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t R = (size_t)sc[i]->base.replications, *pick = malloc(R * sizeof *pick);
        if (!pick)
            return oom(err);
        draws(p, (uint64_t)sc[i]->base.seed, R, pick);
        ts_status st = TS_OK;
        for (size_t r = 0; r < R && st == TS_OK; r++)
            st = draw_scenario(p, sc[i], r, &p->theta[pick[r] * p->k], &all[at++], err);
        free(pick);
        if (st != TS_OK)
            return st;
    }
    return TS_OK;
}

/* Joins the one-replication results of scenario i into out. */
static ts_results *join(const ts_scenario *sc, ts_results *const *one) {
    size_t R = (size_t)sc->base.replications, nyear = one[0]->nyear, row = nyear * TS_NMETRICS;
    ts_results *r = ts_results_alloc(R, nyear, one[0]->year0);
    for (size_t k = 0; r && k < R; k++) {
        memcpy(&r->v[k * row], one[k]->v, row * sizeof *r->v);
        r->agent_years += one[k]->agent_years;
    }
    return r;
}

ts_status ts_posterior_run(const ts_posterior *p, const ts_scenario *const *sc, size_t n,
                           const ts_run_opts *opt, ts_results **out, ts_error *err) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = NULL;
        total += (size_t)sc[i]->base.replications;
    }
    ts_scenario **all = calloc(total, sizeof *all);
    ts_results **res = calloc(total, sizeof *res);
    ts_status st = all && res ? build(p, sc, n, all, err) : oom(err);
    if (st == TS_OK)
        st = ts_sim_run_many((const ts_scenario *const *)all, total, opt, res, err);
    for (size_t i = 0, at = 0; i < n && st == TS_OK; i++) {
        if (!(out[i] = join(sc[i], &res[at])))
            st = oom(err);
        at += (size_t)sc[i]->base.replications;
    }
    for (size_t i = 0; i < total && all && res; i++) {
        ts_scenario_free(all[i]);
        ts_results_free(res[i]);
    }
    for (size_t i = 0; i < n && st != TS_OK; i++) {
        ts_results_free(out[i]);
        out[i] = NULL;
    }
    free(all);
    free(res);
    return st;
}
