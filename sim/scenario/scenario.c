/* A scenario in memory: base parameters, policies and targets, with the
 * operations that do not touch YAML (see scenario_yaml.c for loading).
 *
 * Invariants: name, description and path are never NULL; every setting of
 * a policy points at a row of the parameter table that is not TS_PF_STATIC;
 * a policy with to_open set has `to` equal to base.years.end (kept in sync by
 * ts_scenario_set). */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_priv.h"
#include "talentsim/metrics.h"

static char *dup_str(const char *s) {
    if (!s)
        s = "";
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

ts_scenario *ts_scenario_alloc(const char *name) {
    ts_scenario *sc = calloc(1, sizeof *sc);
    if (!sc)
        return NULL;
    sc->name = dup_str(name);
    sc->description = dup_str("");
    sc->path = dup_str("");
    if (!sc->name || !sc->description || !sc->path) {
        ts_scenario_free(sc);
        return NULL;
    }
    ts_params_default(&sc->base);
    return sc;
}

static void policy_clear(ts_policy *p) {
    free(p->name);
    free(p->set);
    memset(p, 0, sizeof *p);
}

static void target_clear(ts_target *t) {
    free(t->metric);
    free(t->source);
    memset(t, 0, sizeof *t);
}

void ts_scenario_free(ts_scenario *sc) {
    if (!sc)
        return;
    for (size_t i = 0; i < sc->npolicies; i++)
        policy_clear(&sc->policies[i]);
    for (size_t i = 0; i < sc->ntargets; i++)
        target_clear(&sc->targets[i]);
    free(sc->policies);
    free(sc->targets);
    free(sc->name);
    free(sc->description);
    free(sc->path);
    free(sc);
}

/* Deep copy of a policy into dst; 0 on success, -1 (dst cleared) on OOM. */
static int copy_policy(ts_policy *dst, const ts_policy *src) {
    *dst = *src;
    dst->name = dup_str(src->name);
    dst->set = src->nset ? malloc(src->nset * sizeof *dst->set) : NULL;
    if (!dst->name || (src->nset && !dst->set)) {
        policy_clear(dst);
        return -1;
    }
    if (src->nset)
        memcpy(dst->set, src->set, src->nset * sizeof *dst->set);
    return 0;
}

static int copy_target(ts_target *dst, const ts_target *src) {
    *dst = *src;
    dst->metric = dup_str(src->metric);
    dst->source = dup_str(src->source);
    if (!dst->metric || !dst->source) {
        target_clear(dst);
        return -1;
    }
    return 0;
}

static int copy_lists(ts_scenario *c, const ts_scenario *sc) {
    if (sc->npolicies) {
        c->policies = calloc(sc->npolicies, sizeof *c->policies);
        if (!c->policies)
            return -1;
        for (; c->npolicies < sc->npolicies; c->npolicies++)
            if (copy_policy(&c->policies[c->npolicies],
                            &sc->policies[c->npolicies]))
                return -1;
    }
    if (sc->ntargets) {
        c->targets = calloc(sc->ntargets, sizeof *c->targets);
        if (!c->targets)
            return -1;
        for (; c->ntargets < sc->ntargets; c->ntargets++)
            if (copy_target(&c->targets[c->ntargets],
                            &sc->targets[c->ntargets]))
                return -1;
    }
    return 0;
}

ts_scenario *ts_scenario_copy(const ts_scenario *sc) {
    if (!sc)
        return NULL;
    ts_scenario *c = ts_scenario_alloc(sc->name);
    if (!c)
        return NULL;
    free(c->description);
    free(c->path);
    c->description = dup_str(sc->description);
    c->path = dup_str(sc->path);
    c->base = sc->base;
    if (!c->description || !c->path || copy_lists(c, sc)) {
        ts_scenario_free(c);
        return NULL;
    }
    return c;
}

/* Open-ended policies last until years.end, whatever it currently is. */
static void sync_open_policies(ts_scenario *sc) {
    for (size_t i = 0; i < sc->npolicies; i++)
        if (sc->policies[i].to_open)
            sc->policies[i].to = sc->base.years.end;
}

static ts_status unknown_param(ts_error *err, const char *src,
                               const char *key) {
    const ts_param_info *near = ts_param_suggest(key);
    if (near)
        return ts_error_set(err, TS_EINPUT, src, 0, 0, key,
                            "unknown parameter '%s'; did you mean '%s'?", key,
                            near->key);
    return ts_error_set(err, TS_EINPUT, src, 0, 0, key,
                        "unknown parameter '%s'", key);
}

ts_status ts_scenario_set(ts_scenario *sc, const char *key, const char *value,
                          const char *src, ts_error *err) {
    const ts_param_info *pi = ts_param_find(key);
    if (!pi)
        return unknown_param(err, src, key ? key : "");
    double v;
    if (ts_param_parse(pi, value, &v, src, 0, 0, err) != TS_OK)
        return TS_EINPUT;
    ts_param_put(&sc->base, pi, v);
    sync_open_policies(sc);
    return TS_OK;
}

/* Copies s[0..n) without surrounding blanks into a new string. */
static char *dup_trimmed(const char *s, size_t n) {
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

ts_status ts_scenario_set_assignment(ts_scenario *sc, const char *assignment,
                                     ts_error *err) {
    const char *a = assignment ? assignment : "";
    const char *eq = strchr(a, '=');
    if (!eq)
        return ts_error_set(err, TS_EINPUT, "--set", 0, 0, "",
                            "expected key=value, got '%.80s'", a);
    char *key = dup_trimmed(a, (size_t)(eq - a));
    char *val = dup_trimmed(eq + 1, strlen(eq + 1));
    ts_status st;
    if (!key || !val)
        st = ts_error_set(err, TS_ERUNTIME, "--set", 0, 0, "", "out of memory");
    else if (!*key)
        st = ts_error_set(err, TS_EINPUT, "--set", 0, 0, "",
                          "missing key in '%.80s' (expected key=value)", a);
    else if (!*val)
        st = ts_error_set(err, TS_EINPUT, "--set", 0, 0, key,
                          "missing value for %s (expected key=value)", key);
    else
        st = ts_scenario_set(sc, key, val, "--set", err);
    free(key);
    free(val);
    return st;
}

/* A setting is usable by a policy: a known, non-static key and a value in
 * range. */
static ts_status check_setting(const char *polname, const ts_setting *s,
                               const ts_src_pos *pos, ts_error *err) {
    if (!s->param)
        return ts_error_set(err, TS_EINPUT, pos->file, pos->line, pos->col,
                            "", "policy '%s' sets an unknown parameter",
                            polname);
    if (s->param->flags & TS_PF_STATIC)
        return ts_error_set(err, TS_EINPUT, pos->file, pos->line, pos->col,
                            s->param->key,
                            "policy '%s' may not set %s (fixed for a run)",
                            polname, s->param->key);
    return ts_param_check(s->param, s->value, pos->file, pos->line, pos->col,
                          err);
}

ts_status ts_scenario_add_policy(ts_scenario *sc, const ts_policy *pol,
                                 ts_error *err) {
    ts_src_pos pos = {sc->path, 0, 0};
    if (!pol->name || !*pol->name)
        return ts_error_set(err, TS_EINPUT, pos.file, 0, 0, "",
                            "a policy needs a name");
    if (pol->nset && !pol->set)
        return ts_error_set(err, TS_EINPUT, pos.file, 0, 0, "",
                            "policy '%s' has no settings array", pol->name);
    for (size_t i = 0; i < pol->nset; i++)
        if (check_setting(pol->name, &pol->set[i], &pos, err) != TS_OK)
            return TS_EINPUT;
    ts_policy *grown =
        realloc(sc->policies, (sc->npolicies + 1) * sizeof *sc->policies);
    if (!grown)
        return ts_error_set(err, TS_ERUNTIME, pos.file, 0, 0, "",
                            "out of memory");
    sc->policies = grown;
    if (copy_policy(&sc->policies[sc->npolicies], pol))
        return ts_error_set(err, TS_ERUNTIME, pos.file, 0, 0, "",
                            "out of memory");
    sc->npolicies++;
    sync_open_policies(sc);
    return TS_OK;
}

static ts_status year_outside(ts_error *err, const ts_src_pos *pos,
                              const char *pol, const char *field, int64_t y,
                              const ts_params *b) {
    return ts_error_set(err, TS_EINPUT, pos->file, pos->line, pos->col, field,
                        "policy '%s': %s = %" PRId64 " is outside the "
                        "simulated years [%" PRId64 ", %" PRId64 "]",
                        pol, field, y, b->years.start, b->years.end);
}

ts_status ts_scenario_check_policy(const ts_scenario *sc, size_t i,
                                   const ts_src_pos *from_pos,
                                   const ts_src_pos *to_pos, ts_error *err) {
    const ts_policy *pol = &sc->policies[i];
    const ts_params *b = &sc->base;
    ts_src_pos none = {sc->path, 0, 0};
    const ts_src_pos *fp = from_pos ? from_pos : &none;
    const ts_src_pos *tp = to_pos ? to_pos : fp;
    const char *name = pol->name ? pol->name : "?";
    if (!pol->to_open && pol->from > pol->to)
        return ts_error_set(err, TS_EINPUT, tp->file, tp->line, tp->col, "to",
                            "policy '%s': from = %" PRId64 " is after to = "
                            "%" PRId64, name, pol->from, pol->to);
    if (pol->from < b->years.start || pol->from > b->years.end)
        return year_outside(err, fp, name, "from", pol->from, b);
    if (!pol->to_open && (pol->to < b->years.start || pol->to > b->years.end))
        return year_outside(err, tp, name, "to", pol->to, b);
    for (size_t k = 0; k < pol->nset; k++)
        if (check_setting(name, &pol->set[k], fp, err) != TS_OK)
            return TS_EINPUT;
    return TS_OK;
}

static ts_status check_target(const ts_scenario *sc, size_t i, ts_error *err) {
    const ts_target *t = &sc->targets[i];
    if (!t->metric || ts_metric_find(t->metric) < 0)
        return ts_error_set(err, TS_EINPUT, sc->path, 0, 0, "metric",
                            "target #%zu: unknown metric '%s'", i + 1,
                            t->metric ? t->metric : "");
    if (!isfinite(t->observed) || !(isnan(t->n) || t->n > 0))
        return ts_error_set(err, TS_EINPUT, sc->path, 0, 0, "observed",
                            "target #%zu (%s): observed must be finite and n "
                            "positive or '-'", i + 1, t->metric);
    return TS_OK;
}

ts_status ts_scenario_validate(const ts_scenario *sc, ts_error *err) {
    if (ts_params_validate(&sc->base, sc->path, err) != TS_OK)
        return TS_EINPUT;
    for (size_t i = 0; i < sc->npolicies; i++)
        if (ts_scenario_check_policy(sc, i, NULL, NULL, err) != TS_OK)
            return TS_EINPUT;
    for (size_t i = 0; i < sc->ntargets; i++)
        if (check_target(sc, i, err) != TS_OK)
            return TS_EINPUT;
    return TS_OK;
}

/* MODEL 3: P_t = base values with every policy active in t applied in list
 * order, later entries winning. */
void ts_scenario_params_at(const ts_scenario *sc, int64_t year,
                           ts_params *out) {
    *out = sc->base;
    for (size_t i = 0; i < sc->npolicies; i++) {
        const ts_policy *pol = &sc->policies[i];
        int64_t to = pol->to_open ? sc->base.years.end : pol->to;
        if (year < pol->from || year > to)
            continue;
        for (size_t k = 0; k < pol->nset; k++)
            ts_param_put(out, pol->set[k].param, pol->set[k].value);
    }
}
