/* The `sweep:` block of a sweep file and its design (talentsim/sweep.h).
 *
 * The block is read from the node tree the scenario loader kept
 * (talentsim/node.h), so every message carries the file, line and column
 * of the value at fault and the dotted key path (sweep.parameters.KEY.min,
 * ...). Unit-cube designs come from talentsim/design.h; each column is
 * mapped to its parameter's range (integers: floor(min + u (max - min + 1)),
 * so every integer of the range is equally likely). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../scenario/scenario_priv.h"
#include "talentsim/design.h"
#include "talentsim/output.h"
#include "talentsim/sweep.h"

#define BLOCK "sweep"

const char *ts_sweep_method_name(ts_sweep_method m) {
    static const char *const names[] = {"grid", "lhs", "sobol", "saltelli"};
    return (unsigned)m < sizeof names / sizeof names[0] ? names[m] : "";
}

static ts_status oom(ts_error *err) {
    return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "out of memory");
}

static ts_status read_method(const ts_node *blk, ts_sweep *sw, ts_error *err) {
    const ts_node *n = ts_node_get(blk, "method");
    if (!n)
        return ts_node_error(err, blk, BLOCK ".method",
                   "sweep.method is missing (one of grid, lhs, sobol, saltelli)");
    if (ts_node_need(n, TS_NODE_SCALAR, BLOCK ".method", err))
        return TS_EINPUT;
    for (int m = TS_SWEEP_GRID; m <= TS_SWEEP_SALTELLI; m++)
        if (strcmp(n->text, ts_sweep_method_name((ts_sweep_method)m)) == 0) {
            sw->method = (ts_sweep_method)m;
            return TS_OK;
        }
    return ts_node_error(err, n, BLOCK ".method", "sweep.method must be one of grid, lhs, sobol, "
               "saltelli, got '%s'", n->text);
}

/* A parameter value (number or enum name) from scalar n, range-checked. */
static ts_status param_value(const ts_sweep_param *sp, const ts_node *n, const char *key,
                             double *v, ts_error *err) {
    if (ts_node_need(n, TS_NODE_SCALAR, key, err))
        return TS_EINPUT;
    if (ts_param_parse(sp->param, n->text, v, n->file, n->line, n->col, err) != TS_OK) {
        snprintf(err->key, sizeof err->key, "%.159s", key);
        return TS_EINPUT;
    }
    return TS_OK;
}

static ts_status read_values(const ts_node *vals, ts_sweep_param *sp, const char *key,
                             ts_error *err) {
    if (ts_node_need(vals, TS_NODE_LIST, key, err))
        return TS_EINPUT;
    if (vals->nitem == 0 || vals->nitem > TS_SWEEP_MAX_VALUES)
        return ts_node_error(err, vals, key, "%s must list 1 to %d values, got %zu", key,
                   TS_SWEEP_MAX_VALUES, vals->nitem);
    if (!(sp->values = malloc(vals->nitem * sizeof *sp->values)))
        return oom(err);
    for (; sp->nvalues < vals->nitem; sp->nvalues++)
        if (param_value(sp, &vals->item[sp->nvalues], key, &sp->values[sp->nvalues], err))
            return TS_EINPUT;
    return TS_OK;
}

static ts_status read_range(const ts_node *pn, ts_sweep_param *sp, const char *path,
                            ts_error *err) {
    char key[256];
    const char *ends[2] = {"min", "max"};
    double *dst[2] = {&sp->min, &sp->max};
    if (sp->param->type == TS_T_ENUM)
        return ts_node_error(err, pn, path, "%s takes names, so a sampled design cannot vary it; "
                   "sweep it with method: grid and values: [...]", sp->param->key);
    for (int e = 0; e < 2; e++) {
        snprintf(key, sizeof key, "%s.%s", path, ends[e]);
        const ts_node *n = ts_node_get(pn, ends[e]);
        if (!n)
            return ts_node_error(err, pn, key, "%s is missing (a sampled design needs min and max)", key);
        if (param_value(sp, n, key, dst[e], err))
            return TS_EINPUT;
    }
    if (!(sp->min < sp->max))
        return ts_node_error(err, ts_node_get(pn, "max"), path, "%s: max must be above min (%g, %g)",
                   path, sp->min, sp->max);
    return TS_OK;
}

static ts_status read_param(const ts_node *pn, ts_sweep *sw, ts_sweep_param *sp,
                            ts_error *err) {
    char path[200];
    snprintf(path, sizeof path, BLOCK ".parameters.%s", pn->key);
    if (!(sp->key = strdup(pn->key)))
        return oom(err);
    if (ts_scenario_ref_find(sw->base, pn->key, &sp->ref, err) != TS_OK)
        return ts_node_error(err, pn, path, "%s", err->msg);
    sp->param = sp->ref.param;
    if (strcmp(pn->key, "replications") == 0)
        return ts_node_error(err, pn, path, "replications cannot be swept; set sweep.replications");
    if (ts_node_need(pn, TS_NODE_MAP, path, err))
        return TS_EINPUT;
    int grid = sw->method == TS_SWEEP_GRID;
    static const char *const grid_keys[] = {"values", NULL}, *const range_keys[] = {"min", "max",
                                                                                    NULL};
    if (ts_node_known_keys(pn, path, grid ? grid_keys : range_keys, err))
        return TS_EINPUT;
    if (!grid)
        return read_range(pn, sp, path, err);
    const ts_node *vals = ts_node_get(pn, "values");
    if (!vals)
        return ts_node_error(err, pn, path, "%s.values is missing (method grid takes a list of values)",
                   path);
    snprintf(path + strlen(path), sizeof path - strlen(path), ".values");
    return read_values(vals, sp, path, err);
}

static ts_status read_params(const ts_node *blk, ts_sweep *sw, ts_error *err) {
    const ts_node *ps = ts_node_get(blk, "parameters");
    if (!ps)
        return ts_node_error(err, blk, BLOCK ".parameters", "sweep.parameters is missing");
    if (ts_node_need(ps, TS_NODE_MAP, BLOCK ".parameters", err))
        return TS_EINPUT;
    size_t lim = sw->method == TS_SWEEP_SALTELLI ? TS_DESIGN_SALTELLI_MAXK
                 : sw->method == TS_SWEEP_GRID   ? TS_SWEEP_MAX_PARAMS
                                                 : TS_DESIGN_SOBOL_MAXDIM < TS_SWEEP_MAX_PARAMS
                                                       ? TS_DESIGN_SOBOL_MAXDIM
                                                       : TS_SWEEP_MAX_PARAMS;
    if (ps->nitem == 0 || ps->nitem > lim)
        return ts_node_error(err, ps, BLOCK ".parameters", "sweep.parameters must name 1 to %zu "
                   "parameters for method %s, got %zu", lim, ts_sweep_method_name(sw->method),
                   ps->nitem);
    if (!(sw->param = calloc(ps->nitem, sizeof *sw->param)))
        return oom(err);
    while (sw->k < ps->nitem) { /* k counts the one being read, for ts_sweep_free */
        const ts_node *pn = &ps->item[sw->k];
        ts_sweep_param *sp = &sw->param[sw->k++];
        if (read_param(pn, sw, sp, err))
            return TS_EINPUT;
    }
    return TS_OK;
}

static ts_status read_metrics(const ts_node *blk, ts_sweep *sw, ts_error *err) {
    const ts_node *ms = ts_node_get(blk, "metrics");
    memset(sw->keep_metric, !ms, sizeof sw->keep_metric);
    if (!ms)
        return TS_OK;
    if (ts_node_need(ms, TS_NODE_LIST, BLOCK ".metrics", err))
        return TS_EINPUT;
    if (ms->nitem == 0)
        return ts_node_error(err, ms, BLOCK ".metrics", "sweep.metrics lists no metric (leave it out "
                   "to keep every metric)");
    for (size_t i = 0; i < ms->nitem; i++) {
        const ts_node *m = &ms->item[i];
        int id = m->kind == TS_NODE_SCALAR ? ts_metric_find(m->text) : -1;
        if (id < 0)
            return ts_node_error(err, m, BLOCK ".metrics", "unknown metric '%s' in sweep.metrics (see "
                       "docs/outputs.md)", m->kind == TS_NODE_SCALAR ? m->text : "?");
        sw->keep_metric[id] = 1;
    }
    return TS_OK;
}

static int cmp_year(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static ts_status read_years(const ts_node *blk, ts_sweep *sw, ts_error *err) {
    const ts_params *p = &sw->base->base;
    const ts_node *ys = ts_node_get(blk, "years");
    size_t n = ys ? ys->nitem : (size_t)(p->years.end - p->years.start + 1);
    if (ys && ts_node_need(ys, TS_NODE_LIST, BLOCK ".years", err))
        return TS_EINPUT;
    if (n == 0)
        return ts_node_error(err, ys, BLOCK ".years", "sweep.years lists no year (leave it out to keep "
                   "every year)");
    if (!(sw->years = malloc(n * sizeof *sw->years)))
        return oom(err);
    for (sw->nyears = 0; sw->nyears < n; sw->nyears++) {
        double y = (double)(p->years.start + (int64_t)sw->nyears);
        if (ys && ts_node_whole(&ys->item[sw->nyears], BLOCK ".years", (double)p->years.start,
                        (double)p->years.end, &y, err))
            return TS_EINPUT;
        sw->years[sw->nyears] = (int64_t)y;
    }
    qsort(sw->years, n, sizeof *sw->years, cmp_year);
    for (size_t i = 1; i < n; i++)
        if (sw->years[i] == sw->years[i - 1])
            return ts_node_error(err, ys, BLOCK ".years", "year %lld is listed twice in sweep.years",
                       (long long)sw->years[i]);
    return TS_OK;
}

/* samples, replications and seed. */
static ts_status read_sizes(const ts_node *blk, ts_sweep *sw, ts_error *err) {
    const ts_node *n = ts_node_get(blk, "samples");
    double v;
    if (sw->method == TS_SWEEP_GRID && n)
        return ts_node_error(err, n, BLOCK ".samples", "sweep.samples is for sampled methods; a grid "
                   "has one point per combination of values");
    if (sw->method != TS_SWEEP_GRID) {
        if (!n)
            return ts_node_error(err, blk, BLOCK ".samples", "sweep.samples is missing (method %s needs "
                       "a number of samples)", ts_sweep_method_name(sw->method));
        if (ts_node_whole(n, BLOCK ".samples", 1, TS_SWEEP_MAX_POINTS, &v, err))
            return TS_EINPUT;
        sw->samples = (size_t)v;
    }
    const ts_param_info *reps = ts_param_find("replications");
    if ((n = ts_node_get(blk, "replications"))) {
        if (ts_node_whole(n, BLOCK ".replications", reps->min, reps->max, &v, err))
            return TS_EINPUT;
        sw->base->base.replications = (int64_t)v;
    }
    sw->design_seed = (uint64_t)sw->base->base.seed;
    if ((n = ts_node_get(blk, "seed"))) {
        const ts_param_info *seed = ts_param_find("seed");
        if (ts_node_whole(n, BLOCK ".seed", seed->min, seed->max, &v, err))
            return TS_EINPUT;
        sw->design_seed = (uint64_t)v;
    }
    return TS_OK;
}

/* Maps unit-cube coordinate u to parameter sp's range. */
static double from_unit(const ts_sweep_param *sp, double u) {
    if (sp->param->type == TS_T_INT) {
        double v = floor(sp->min + u * (sp->max - sp->min + 1));
        return v > sp->max ? sp->max : v;
    }
    return sp->min + u * (sp->max - sp->min);
}

static ts_status build_grid(ts_sweep *sw, const ts_node *blk, ts_error *err) {
    size_t nv[TS_SWEEP_MAX_PARAMS], idx[TS_SWEEP_MAX_PARAMS];
    for (size_t j = 0; j < sw->k; j++)
        nv[j] = sw->param[j].nvalues;
    sw->npoints = ts_design_grid_count(nv, sw->k, NULL);
    if (sw->npoints == 0 || sw->npoints > TS_SWEEP_MAX_POINTS)
        return ts_node_error(err, ts_node_get(blk, "parameters"), BLOCK ".parameters",
                   "the grid has more than %d points (the product of the numbers of values)",
                   TS_SWEEP_MAX_POINTS);
    if (!(sw->x = malloc(sw->npoints * sw->k * sizeof *sw->x)))
        return oom(err);
    for (size_t i = 0; i < sw->npoints; i++) {
        if (ts_design_grid_index(nv, sw->k, i, idx, err))
            return TS_ERUNTIME;
        for (size_t j = 0; j < sw->k; j++)
            sw->x[i * sw->k + j] = sw->param[j].values[idx[j]];
    }
    return TS_OK;
}

static ts_status build_sampled(ts_sweep *sw, const ts_node *blk, ts_error *err) {
    size_t n = sw->samples, k = sw->k;
    sw->npoints = sw->method == TS_SWEEP_SALTELLI ? ts_design_saltelli_count(n, k) : n;
    if (sw->npoints == 0 || sw->npoints > TS_SWEEP_MAX_POINTS)
        return ts_node_error(err, ts_node_get(blk, "samples"), BLOCK ".samples",
                   "the design would have more than %d points", TS_SWEEP_MAX_POINTS);
    if (!(sw->x = malloc(sw->npoints * k * sizeof *sw->x)))
        return oom(err);
    ts_status st = sw->method == TS_SWEEP_LHS     ? ts_design_lhs(n, k, sw->design_seed, sw->x, err)
                   : sw->method == TS_SWEEP_SOBOL ? ts_design_sobol(n, k, sw->design_seed, sw->x, err)
                                                  : ts_design_saltelli(n, k, sw->design_seed, sw->x,
                                                                       err);
    if (st != TS_OK) {
        /* the design's own limits (dimensions, size): an input error here */
        const ts_node *at = ts_node_get(blk, "samples");
        ts_error_set(err, st, at->file, at->line, at->col, BLOCK ".samples", "%s", err->msg);
        return st;
    }
    for (size_t i = 0; i < sw->npoints; i++)
        for (size_t j = 0; j < k; j++)
            sw->x[i * k + j] = from_unit(&sw->param[j], sw->x[i * k + j]);
    return TS_OK;
}

static ts_status read_block(const ts_node *blk, ts_sweep *sw, ts_error *err) {
    static const char *const keys[] = {"method", "parameters", "samples", "replications",
                                       "seed",   "metrics",    "years",   NULL};
    if (ts_node_need(blk, TS_NODE_MAP, BLOCK, err) || ts_node_known_keys(blk, BLOCK, keys, err) ||
        read_method(blk, sw, err) || read_params(blk, sw, err) || read_sizes(blk, sw, err) ||
        read_metrics(blk, sw, err) || read_years(blk, sw, err))
        return err->status;
    return sw->method == TS_SWEEP_GRID ? build_grid(sw, blk, err) : build_sampled(sw, blk, err);
}

ts_sweep *ts_sweep_from_scenario(const ts_scenario *sc, ts_error *err) {
    const ts_node *blk = sc->block[TS_BLOCK_SWEEP];
    if (!blk) {
        ts_error_set(err, TS_EINPUT, sc->path, 0, 0, BLOCK, "%s has no sweep: block (a sweep "
                     "file names its scenario with base: and adds a sweep: block; see "
                     "docs/sweeps.md)", sc->path);
        return NULL;
    }
    ts_sweep *sw = calloc(1, sizeof *sw);
    if (!sw || !(sw->base = ts_scenario_copy(sc))) {
        oom(err);
        ts_sweep_free(sw);
        return NULL;
    }
    ts_node_free(sw->base->block[TS_BLOCK_SWEEP]);
    sw->base->block[TS_BLOCK_SWEEP] = NULL;
    if (ts_sweep_point_key(sc, sw->id, err) != TS_OK || read_block(blk, sw, err) != TS_OK) {
        ts_sweep_free(sw);
        return NULL;
    }
    return sw;
}

void ts_sweep_free(ts_sweep *sw) {
    if (!sw)
        return;
    for (size_t j = 0; j < sw->k; j++) {
        free(sw->param[j].values);
        free(sw->param[j].key);
    }
    free(sw->param);
    free(sw->years);
    free(sw->x);
    ts_scenario_free(sw->base);
    free(sw);
}

ts_status ts_sweep_point(const ts_sweep *sw, size_t i, ts_scenario **out, ts_error *why) {
    ts_scenario *pt = ts_scenario_copy(sw->base);
    *out = pt;
    if (!pt)
        return oom(why);
    for (size_t j = 0; j < sw->k; j++)
        if (ts_scenario_ref_put(pt, &sw->param[j].ref, sw->x[i * sw->k + j], why) != TS_OK)
            return TS_ERUNTIME;
    ts_scenario_sync_open(pt);
    return ts_scenario_validate(pt, why);
}

ts_status ts_sweep_point_key(const ts_scenario *pt, char key[TS_SWEEP_KEY_LEN + 1],
                             ts_error *err) {
    char *text, hex[65];
    size_t len;
    if (ts_resolved_yaml_text(pt, &text, &len, err) != TS_OK)
        return TS_ERUNTIME;
    ts_sha256_hex(text, len, hex);
    free(text);
    memcpy(key, hex, TS_SWEEP_KEY_LEN);
    key[TS_SWEEP_KEY_LEN] = '\0';
    return TS_OK;
}

char *ts_sweep_keys(const ts_sweep *sw, ts_error *err) {
    char *keys = malloc(sw->npoints * (TS_SWEEP_KEY_LEN + 1));
    if (!keys) {
        oom(err);
        return NULL;
    }
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 64) reduction(| : failed)
    for (size_t i = 0; i < sw->npoints; i++) {
        ts_scenario *pt = NULL;
        ts_error e;
        ts_error_clear(&e);
        ts_status s = ts_sweep_point(sw, i, &pt, &e);
        if (s == TS_ERUNTIME || ts_sweep_point_key(pt, keys + i * (TS_SWEEP_KEY_LEN + 1), &e))
            failed = 1;
        ts_scenario_free(pt);
    }
    if (failed) {
        free(keys);
        oom(err);
        return NULL;
    }
    return keys;
}

void ts_sweep_value_text(const ts_sweep *sw, size_t i, size_t j, char *buf, size_t n) {
    ts_param_format(sw->param[j].param, sw->x[i * sw->k + j], buf, n);
}
