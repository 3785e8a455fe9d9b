/* The `calibration:` block, particles as scenarios, the distance to the
 * targets and the parallel evaluation of particles (talentsim/calibrate.h).
 *
 * A particle is evaluated on its own seed, drawn from the bits of its
 * parameter vector: particles then carry independent Monte Carlo noise (a
 * common seed would let the sampler fit one noise realisation), yet a
 * particle's distance is a function of theta alone, so the posterior is
 * the same bits for any thread count. It is simulated only up to the last
 * year a target needs: every draw is keyed by (seed, replication, agent,
 * year, decision), so cutting later years changes nothing before them. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../scenario/scenario_priv.h"
#include "../seed.h"
#include "talentsim/calibrate.h"
#include "talentsim/design.h"
#include "talentsim/sweep.h"

#define BLOCK "calibration"

static ts_status oom(ts_error *err) {
    return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "out of memory");
}

/* ---- the block ---- */

/* [a, b] from a list of two numbers. */
static ts_status pair(const ts_node *n, const char *key, double *a, double *b, ts_error *err) {
    if (ts_node_need(n, TS_NODE_LIST, key, err))
        return TS_EINPUT;
    if (n->nitem != 2)
        return ts_node_error(err, n, key, "%s takes two numbers, got %zu", key, n->nitem);
    if (ts_node_number(&n->item[0], key, -HUGE_VAL, HUGE_VAL, a, err) ||
        ts_node_number(&n->item[1], key, -HUGE_VAL, HUGE_VAL, b, err))
        return TS_EINPUT;
    return TS_OK;
}

/* The prior of parameter cp from mapping pn ({uniform: [lo, hi]} or
 * {normal: [mu, sd]}), inside the parameter's allowed range. */
static ts_status read_prior(const ts_node *pn, ts_calib_param *cp, const char *path,
                            ts_error *err) {
    static const char *const keys[] = {"uniform", "normal", NULL};
    const ts_param_info *pi = cp->ref.param;
    if (ts_node_need(pn, TS_NODE_MAP, path, err) || ts_node_known_keys(pn, path, keys, err))
        return TS_EINPUT;
    if (pn->nitem != 1)
        return ts_node_error(err, pn, path, "%s needs one prior: uniform: [lo, hi] or "
                             "normal: [mu, sd]", path);
    char key[300];
    snprintf(key, sizeof key, "%s.%s", path, pn->item[0].key);
    double a, b, lo = pi->min, hi = pi->max;
    if (pair(&pn->item[0], key, &a, &b, err))
        return TS_EINPUT;
    ts_abc_prior *p = &cp->prior;
    if (strcmp(pn->item[0].key, "uniform") == 0) {
        *p = (ts_abc_prior){.kind = TS_ABC_UNIFORM, .lo = a, .hi = b};
        int open = (pi->flags & TS_PF_MIN_OPEN) != 0;
        if (!(a < b) || (open ? !(a > lo) : !(a >= lo)) || !(b <= hi))
            return ts_node_error(err, &pn->item[0], key, "%s = [%g, %g] must be an interval "
                                 "lo < hi inside %s's allowed range %s%g, %g]", key, a, b,
                                 pi->key, open ? "(" : "[", lo, hi);
        return TS_OK;
    }
    *p = (ts_abc_prior){.kind = TS_ABC_NORMAL, .lo = lo, .hi = hi, .mu = a, .sd = b};
    if (!(b > 0) || !(a >= lo && a <= hi))
        return ts_node_error(err, &pn->item[0], key, "%s = [%g, %g]: the mean must lie in "
                             "%s's allowed range [%g, %g] and the sd be above 0", key, a, b,
                             pi->key, lo, hi);
    return TS_OK;
}

static ts_status read_param(const ts_node *pn, ts_calibration *c, ts_calib_param *cp,
                            ts_error *err) {
    char path[240];
    snprintf(path, sizeof path, BLOCK ".parameters.%s", pn->key);
    if (!(cp->key = strdup(pn->key)))
        return oom(err);
    if (ts_scenario_ref_find(c->base, pn->key, &cp->ref, err) != TS_OK)
        return ts_node_error(err, pn, path, "%s", err->msg);
    if (cp->ref.param->type != TS_T_REAL || (cp->ref.param->flags & TS_PF_STATIC))
        return ts_node_error(err, pn, path, "%s cannot be calibrated: only real-valued "
                             "model parameters can (not integers, names or run settings)",
                             cp->ref.param->key);
    for (ts_calib_param *q = c->param; q < cp; q++)
        if (q->ref.param == cp->ref.param && q->ref.policy == cp->ref.policy)
            return ts_node_error(err, pn, path, "%s is given twice (also as '%s')", pn->key,
                                 q->key);
    return read_prior(pn, cp, path, err);
}

static ts_status read_params(const ts_node *blk, ts_calibration *c, ts_error *err) {
    const ts_node *ps = ts_node_get(blk, "parameters");
    if (!ps)
        return ts_node_error(err, blk, BLOCK ".parameters", "calibration.parameters is "
                             "missing (the free parameters, each with a prior)");
    if (ts_node_need(ps, TS_NODE_MAP, BLOCK ".parameters", err))
        return TS_EINPUT;
    if (ps->nitem == 0 || ps->nitem > TS_CALIB_MAX_PARAMS)
        return ts_node_error(err, ps, BLOCK ".parameters", "calibration.parameters must name "
                             "1 to %d parameters, got %zu", TS_CALIB_MAX_PARAMS, ps->nitem);
    if (!(c->param = calloc(ps->nitem, sizeof *c->param)))
        return oom(err);
    while (c->k < ps->nitem) { /* k counts the one being read, for the free */
        ts_calib_param *cp = &c->param[c->k++];
        if (read_param(&ps->item[c->k - 1], c, cp, err))
            return TS_EINPUT;
    }
    return TS_OK;
}

enum { OPEN_LO = 1, OPEN_HI = 2 }; /* an end of [lo, hi] excluded */

/* One row of the table of the block's numeric settings. */
typedef struct {
    const char *key;
    double lo, hi;
    int whole;
    unsigned open;  /* OPEN_LO | OPEN_HI */
    size_t offset; /* into ts_calibration; a double, or a size_t when whole */
    const char *meaning;
} num_field;

#define SZ(f) offsetof(ts_calibration, f)
static const num_field fields[] = {
    {"particles", 1, (double)TS_DESIGN_SOBOL_MAXN, 1, 0, SZ(abc.particles),
     "particles per generation"},
    {"generations", 1, 1000, 1, 0, SZ(abc.max_generations), "generations, generation 0 included"},
    {"budget", 1, 1e12, 1, 0, SZ(abc.budget), "simulated particles at most"},
    {"quantile", 0, 1, 0, OPEN_LO | OPEN_HI, SZ(abc.alpha), "tolerance quantile"},
    {"first_quantile", 0, 1, 0, OPEN_LO | OPEN_HI, SZ(abc.q0), "generation 1's tolerance quantile"},
    {"min_acceptance", 0, 1, 0, OPEN_HI, SZ(abc.min_acceptance), "lowest acceptance rate"},
    {"min_decrease", 0, 1, 0, OPEN_HI, SZ(abc.min_eps_decrease),
     "lowest relative tolerance decrease"},
    {"sample_fraction", 0, 1, 0, OPEN_LO, SZ(sample_fraction), "share of the population simulated"},
};

static ts_status read_numbers(const ts_node *blk, ts_calibration *c, ts_error *err) {
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const num_field *f = &fields[i];
        const ts_node *n = ts_node_get(blk, f->key);
        char key[64];
        double v;
        snprintf(key, sizeof key, BLOCK ".%s", f->key);
        if (!n)
            continue;
        if (f->whole ? ts_node_whole(n, key, f->lo, f->hi, &v, err)
                     : ts_node_number(n, key, f->lo, f->hi, &v, err))
            return TS_EINPUT;
        if (((f->open & OPEN_LO) && v == f->lo) || ((f->open & OPEN_HI) && v == f->hi))
            return ts_node_error(err, n, key, "%s (%s) must be in %s%g, %g%s, got '%s'", key,
                                 f->meaning, f->open & OPEN_LO ? "(" : "[", f->lo, f->hi,
                                 f->open & OPEN_HI ? ")" : "]", n->text);
        if (f->whole)
            *(size_t *)((char *)c + f->offset) = (size_t)v;
        else
            *(double *)((char *)c + f->offset) = v;
    }
    if (!ts_node_get(blk, "first_quantile"))
        c->abc.q0 = c->abc.alpha;
    return TS_OK;
}

static ts_status read_trend(const ts_node *blk, ts_calibration *c, ts_error *err) {
    static const char *const keys[] = {"metric", "from", "to", "weight", NULL};
    const ts_node *t = ts_node_get(blk, "trend");
    if (!t)
        return TS_OK;
    const ts_params *p = &c->base->base;
    if (ts_node_need(t, TS_NODE_MAP, BLOCK ".trend", err) ||
        ts_node_known_keys(t, BLOCK ".trend", keys, err))
        return TS_EINPUT;
    const ts_node *m = ts_node_get(t, "metric"), *from = ts_node_get(t, "from"),
                  *to = ts_node_get(t, "to"), *w = ts_node_get(t, "weight");
    if (!m || !from || !to)
        return ts_node_error(err, t, BLOCK ".trend", "calibration.trend needs metric, from "
                             "and to");
    int id = m->kind == TS_NODE_SCALAR ? ts_metric_find(m->text) : -1;
    if (id < 0)
        return ts_node_error(err, m, BLOCK ".trend.metric", "unknown metric '%s' (see "
                             "docs/outputs.md)", m->kind == TS_NODE_SCALAR ? m->text : "?");
    double y0, y1, wt = 1;
    if (ts_node_whole(from, BLOCK ".trend.from", (double)p->years.start, (double)p->years.end,
                      &y0, err) ||
        ts_node_whole(to, BLOCK ".trend.to", y0 + 1, (double)p->years.end, &y1, err) ||
        (w && ts_node_number(w, BLOCK ".trend.weight", 0, 1e6, &wt, err)))
        return TS_EINPUT;
    c->trend = (ts_calib_trend){.on = 1, .metric = (ts_metric)id, .from = (int64_t)y0,
                                .to = (int64_t)y1, .weight = wt};
    return TS_OK;
}

static ts_status read_misc(const ts_node *blk, ts_calibration *c, ts_error *err) {
    const ts_node *n = ts_node_get(blk, "method");
    if (n && (ts_node_need(n, TS_NODE_SCALAR, BLOCK ".method", err) ||
              strcmp(n->text, "abc-smc") != 0))
        return ts_node_error(err, n, BLOCK ".method", "calibration.method must be abc-smc, "
                             "got '%s'", n->text ? n->text : "?");
    double v;
    if ((n = ts_node_get(blk, "replications"))) {
        const ts_param_info *reps = ts_param_find("replications");
        if (ts_node_whole(n, BLOCK ".replications", reps->min, reps->max, &v, err))
            return TS_EINPUT;
        c->replications = (int64_t)v;
    }
    if ((n = ts_node_get(blk, "seed"))) {
        const ts_param_info *seed = ts_param_find("seed");
        if (ts_node_whole(n, BLOCK ".seed", seed->min, seed->max, &v, err))
            return TS_EINPUT;
        c->abc.seed = (uint64_t)v;
    }
    if (c->abc.budget < c->abc.particles) {
        const ts_node *b = ts_node_get(blk, "budget");
        return ts_node_error(err, b ? b : blk, BLOCK ".budget", "calibration.budget (%zu) must "
                             "be at least calibration.particles (%zu): generation 0 alone "
                             "simulates every particle", c->abc.budget, c->abc.particles);
    }
    return TS_OK;
}

/* Defaults, then the block, then the last year the distance needs. */
static ts_status read_block(const ts_node *blk, ts_calibration *c, ts_error *err) {
    static const char *const keys[] = {"method", "parameters", "particles", "generations",
                                       "budget", "replications", "sample_fraction", "quantile", "first_quantile",
                                       "min_acceptance", "min_decrease", "seed", "trend", NULL};
    ts_abc_options_default(&c->abc);
    c->abc.particles = 200;
    c->abc.budget = 20000;
    c->abc.max_generations = 10;
    c->abc.seed = (uint64_t)c->base->base.seed;
    c->replications = 4;
    c->sample_fraction = c->base->base.sample_fraction;
    if (ts_node_need(blk, TS_NODE_MAP, BLOCK, err) || ts_node_known_keys(blk, BLOCK, keys, err) ||
        read_params(blk, c, err) || read_numbers(blk, c, err) || read_misc(blk, c, err) ||
        read_trend(blk, c, err))
        return err->status;
    const ts_scenario *b = c->base;
    if (b->ntargets == 0)
        return ts_node_error(err, blk, BLOCK, "the scenario has no targets: to calibrate, list "
                             "them under targets: (MODEL.md section 7)");
    c->last_year = c->trend.on ? c->trend.to : b->targets[0].year;
    for (size_t j = 0; j < b->ntargets; j++)
        c->last_year = b->targets[j].year > c->last_year ? b->targets[j].year : c->last_year;
    return TS_OK;
}

ts_calibration *ts_calibration_from_scenario(const ts_scenario *sc, ts_error *err) {
    const ts_node *blk = sc->block[TS_BLOCK_CALIBRATION];
    if (!blk) {
        ts_error_set(err, TS_EINPUT, sc->path, 0, 0, BLOCK, "%s has no calibration: block "
                     "(see docs/calibration.md)", sc->path);
        return NULL;
    }
    ts_calibration *c = calloc(1, sizeof *c);
    if (!c || !(c->base = ts_scenario_copy(sc))) {
        oom(err);
        ts_calibration_free(c);
        return NULL;
    }
    ts_node_free(c->base->block[TS_BLOCK_CALIBRATION]);
    c->base->block[TS_BLOCK_CALIBRATION] = NULL;
    if (ts_sweep_point_key(sc, c->id, err) != TS_OK || read_block(blk, c, err) != TS_OK) {
        ts_calibration_free(c);
        return NULL;
    }
    return c;
}

void ts_calibration_free(ts_calibration *c) {
    if (!c)
        return;
    for (size_t j = 0; j < c->k; j++)
        free(c->param[j].key);
    free(c->param);
    ts_scenario_free(c->base);
    free(c);
}

/* ---- particles ---- */

/* A seed in the seed parameter's range from theta's bits (talentsim/seed.h's
 * mixer, chained over the coordinates). */
static double particle_seed(const ts_calibration *c, const double *theta) {
    uint64_t h = c->abc.seed;
    for (size_t j = 0; j < c->k; j++) {
        uint64_t bits;
        memcpy(&bits, &theta[j], sizeof bits);
        h = ((uint64_t)ts_seed32(h, TS_STREAM_PARTICLE) << 32) ^ ts_seed32(bits, h);
    }
    return (double)(h >> 11); /* 53 bits: inside the seed parameter's range, [0, 2^53] */
}

/* Cuts the run at year `last`: later policies go, later ends are cut. */
static void cut_years(ts_scenario *pt, int64_t last) {
    size_t kept = 0;
    pt->base.years.end = last;
    for (size_t i = 0; i < pt->npolicies; i++) {
        ts_policy *pol = &pt->policies[i];
        if (pol->from > last) {
            free(pol->name);
            free(pol->set);
            continue;
        }
        if (pol->to > last)
            pol->to = last;
        pt->policies[kept++] = *pol;
    }
    pt->npolicies = kept;
}

ts_status ts_calibration_particle(const ts_calibration *c, const double *theta, int eval,
                                  ts_scenario **out, ts_error *why) {
    ts_scenario *pt = ts_scenario_copy(c->base);
    *out = pt;
    if (!pt)
        return oom(why);
    for (size_t j = 0; j < c->k; j++)
        if (ts_scenario_ref_put(pt, &c->param[j].ref, theta[j], why) != TS_OK)
            return TS_ERUNTIME;
    if (eval) {
        pt->base.replications = c->replications;
        pt->base.sample_fraction = c->sample_fraction;
        pt->base.seed = (int64_t)particle_seed(c, theta);
        cut_years(pt, c->last_year);
    }
    ts_scenario_sync_open(pt);
    return ts_scenario_validate(pt, why);
}

/* ---- the distance ---- */

/* Mean over replications of metric m in year; NaN when not recorded. */
static double rep_mean(const ts_results *r, ts_metric m, int64_t year) {
    long y = ts_results_year_index(r, year);
    if (y < 0 || r->nrep == 0)
        return NAN;
    double s = 0;
    for (size_t i = 0; i < r->nrep; i++)
        s += ts_results_get(r, i, (size_t)y, m);
    return s / (double)r->nrep;
}

/* MODEL 7's uncertainty of an observation: sqrt(o (1 - o) / n) for a
 * survey share, sqrt(o) for a count (floored at one respondent's and one
 * event's worth, so that an observed 0 or 1 still has a scale). */
static double target_scale(const ts_target *t) {
    if (isfinite(t->n))
        return sqrt(fmax(t->observed * (1 - t->observed), 1 / t->n) / t->n);
    return sqrt(fmax(t->observed, 1));
}

static double trend_penalty(const ts_calib_trend *tr, const ts_results *r) {
    double pen = 0;
    for (int64_t y = tr->from; y < tr->to; y++) {
        double a = rep_mean(r, tr->metric, y), b = rep_mean(r, tr->metric, y + 1);
        double down = fmax(a - b, 0), sd = sqrt(fmax(a + b, 1));
        pen += isnan(a) || isnan(b) ? INFINITY : (down / sd) * (down / sd);
    }
    return pen;
}

double ts_calibration_distance(const ts_calibration *c, const ts_results *r, double *z,
                               double *trend_pen) {
    const ts_scenario *b = c->base;
    double ss = 0;
    for (size_t j = 0; j < b->ntargets; j++) {
        const ts_target *t = &b->targets[j];
        double m = rep_mean(r, (ts_metric)ts_metric_find(t->metric), t->year);
        double zj = (m - t->observed) / target_scale(t);
        if (z)
            z[j] = zj;
        ss += isnan(zj) ? INFINITY : zj * zj;
    }
    double pen = c->trend.on ? trend_penalty(&c->trend, r) : 0;
    if (trend_pen)
        *trend_pen = pen;
    return sqrt((ss + c->trend.weight * pen) / (double)b->ntargets);
}

/* ---- evaluation ---- */

/* Distance of particle theta; TS_ERUNTIME (err) when out of memory or
 * interrupted; a particle the model rejects, or whose simulation fails
 * otherwise, is +inf. */
static ts_status eval_one(const ts_calibration *c, const double *theta, const ts_run_opts *opt,
                          double *dist, ts_error *err) {
    ts_scenario *pt = NULL;
    ts_results *r = NULL;
    ts_run_opts one = {.threads = 1, .stop = opt->stop};
    ts_status st = ts_calibration_particle(c, theta, 1, &pt, err);
    *dist = INFINITY;
    if (st == TS_OK && (st = ts_sim_run(pt, &one, &r, err)) == TS_OK)
        *dist = ts_calibration_distance(c, r, NULL, NULL);
    int stopped = opt->stop && *opt->stop;
    ts_results_free(r);
    ts_scenario_free(pt);
    if (stopped)
        return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "interrupted");
    return st == TS_EINPUT ? TS_OK : st; /* rejected values: +inf */
}

ts_status ts_calibration_evaluate(const ts_calibration *c, const double *theta, size_t n,
                                  const ts_run_opts *opt, double *dist, ts_error *err) {
    size_t first_bad = n;
    ts_error bad;
    ts_error_clear(&bad);
#pragma omp parallel for schedule(dynamic, 1) num_threads(opt->threads > 0 ? opt->threads : 1)
    for (size_t i = 0; i < n; i++) {
        ts_error e;
        ts_error_clear(&e);
        if (eval_one(c, theta + i * c->k, opt, &dist[i], &e) == TS_OK)
            continue;
#pragma omp critical(ts_calib_eval)
        if (i < first_bad) { /* the lowest index: the same message for any threads */
            first_bad = i;
            bad = e;
        }
    }
    if (first_bad < n) {
        *err = bad;
        return bad.status;
    }
    return TS_OK;
}
