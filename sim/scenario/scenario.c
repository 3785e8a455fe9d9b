/* A scenario in memory: base parameters, policies and targets, with the
 * operations that do not touch YAML (see scenario_yaml.c for loading).
 *
 * Invariants: name, description and path are never NULL; every setting of
 * a policy points at a row of the parameter table that is not TS_PF_STATIC;
 * a policy with to_open set has `to` equal to base.years.end (kept in sync by
 * ts_scenario_set and ts_scenario_add_policy, and by the loader through
 * ts_scenario_sync_open once every file is read). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
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

const char *ts_block_name(ts_block_id b) {
    static const char *const names[TS_NBLOCKS] = {[TS_BLOCK_SWEEP] = "sweep",
                                                  [TS_BLOCK_CALIBRATION] = "calibration"};
    return (unsigned)b < TS_NBLOCKS ? names[b] : "";
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
    for (int b = 0; b < TS_NBLOCKS; b++)
        ts_node_free(sc->block[b]);
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
    for (int b = 0; b < TS_NBLOCKS; b++)
        if (sc->block[b] && !(c->block[b] = ts_node_copy(sc->block[b])))
            return -1;
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
void ts_scenario_sync_open(ts_scenario *sc) {
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
    ts_scenario_sync_open(sc);
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
    ts_policy *added = &sc->policies[sc->npolicies++];
    if (added->to_open) /* the others are in sync already */
        added->to = sc->base.years.end;
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

/* ---- targets ------------------------------------------------------------- */

/* observed lies in the range of its metric's kind: [0, 1] for a share,
 * >= 0 for a count, any finite number for a mean. */
static ts_status check_observed(const ts_target *t, size_t i, ts_metric m,
                                const ts_src_pos *pos, ts_error *err) {
    ts_metric_kind kind = ts_metric_kind_of(m);
    double v = t->observed;
    if (isfinite(v) && (kind == TS_MK_MEAN ||
                        (v >= 0 && (kind == TS_MK_COUNT || v <= 1))))
        return TS_OK;
    const char *allowed = kind == TS_MK_SHARE   ? "a share in [0, 1]"
                          : kind == TS_MK_COUNT ? "a count >= 0"
                                                : "a finite number";
    return ts_error_set(err, TS_EINPUT, pos->file, pos->line, pos->col,
                        "observed", "target #%zu (%s): observed = %.6g is "
                        "out of range; allowed: %s", i + 1, t->metric, v,
                        allowed);
}

ts_status ts_scenario_check_target(const ts_scenario *sc, size_t i,
                                   const ts_src_pos *year_pos,
                                   const ts_src_pos *obs_pos, ts_error *err) {
    const ts_target *t = &sc->targets[i];
    const ts_params *b = &sc->base;
    ts_src_pos none = {sc->path, 0, 0};
    const ts_src_pos *yp = year_pos ? year_pos : &none;
    int m = t->metric ? ts_metric_find(t->metric) : -1;
    if (m < 0)
        return ts_error_set(err, TS_EINPUT, sc->path, 0, 0, "metric",
                            "target #%zu: unknown metric '%s'", i + 1,
                            t->metric ? t->metric : "");
    if (!(isnan(t->n) || t->n > 0))
        return ts_error_set(err, TS_EINPUT, sc->path, 0, 0, "n",
                            "target #%zu (%s): n must be positive or '-'",
                            i + 1, t->metric);
    if (t->year < b->years.start || t->year > b->years.end)
        return ts_error_set(err, TS_EINPUT, yp->file, yp->line, yp->col,
                            "year", "target #%zu (%s): year = %" PRId64
                            " is outside the simulated years; allowed: [%"
                            PRId64 ", %" PRId64 "] (years.start, years.end)",
                            i + 1, t->metric, t->year, b->years.start,
                            b->years.end);
    return check_observed(t, i, (ts_metric)m, obs_pos ? obs_pos : &none, err);
}

/* ---- at least one agent -------------------------------------------------- */

/* The largest unscaled start count or yearly inflow seen, and whether one
 * of them gives at least one agent once scaled. */
typedef struct {
    double largest;
    int some;
} agent_scan;

/* As the engine counts agents (sim/model/sim.c): llround(c * fraction),
 * which is at least 1 exactly when c * fraction >= 0.5. */
static void scan_count(agent_scan *a, double c, double fraction) {
    if (c > a->largest)
        a->largest = c;
    if (c * fraction >= 0.5)
        a->some = 1;
}

/* MODEL 2b: the start population. */
static void scan_start(agent_scan *a, const ts_params *p) {
    const ts_pop_loc *locs[2] = {&p->population.us, &p->population.cn};
    for (int l = 0; l < 2; l++) {
        scan_count(a, (double)locs[l]->students, p->sample_fraction);
        scan_count(a, (double)locs[l]->early, p->sample_fraction);
        scan_count(a, (double)locs[l]->senior, p->sample_fraction);
    }
}

/* MODEL 4 step 2: the students of year, base (1 + growth)^(year -
 * years.start), times visa.student_approval in the US. */
static void scan_inflow(agent_scan *a, const ts_params *p, int64_t year) {
    scan_count(a, ts_params_inflow(p, 0, year), p->sample_fraction);
    scan_count(a, ts_params_inflow(p, 1, year), p->sample_fraction);
}

/* The smallest sample_fraction with three significant digits that makes
 * a count of largest persons one agent (scan_count). */
static double fraction_for(double largest) {
    double x = 0.5 / largest, unit = pow(10.0, floor(log10(x)) - 2.0);
    double f = round(x / unit) * unit;
    while (f * largest < 0.5)
        f += unit;
    return f;
}

ts_status ts_scenario_check_agents(const ts_scenario *sc, ts_error *err) {
    const ts_params *b = &sc->base;
    agent_scan a = {0.0, 0};
    scan_start(&a, b);
    for (int64_t t = b->years.start - b->years.spinup;
         !a.some && t <= b->years.end; t++) {
        ts_params p;
        ts_scenario_params_at(sc, t, &p);
        scan_inflow(&a, &p, t);
    }
    if (a.some)
        return TS_OK;
    if (b->sample_fraction < 1 && a.largest >= 0.5)
        return ts_error_set(err, TS_EINPUT, sc->path, 0, 0, "sample_fraction",
                            "sample_fraction = %.6g leaves no agent to "
                            "simulate (the largest start count or yearly "
                            "inflow, %.6g persons, scales to less than one); "
                            "allowed: sample_fraction >= %.3g for this "
                            "population, up to 1", b->sample_fraction,
                            a.largest, fraction_for(a.largest));
    return ts_error_set(err, TS_EINPUT, sc->path, 0, 0,
                        "population.us.students",
                        "no agent to simulate: every population count and "
                        "every year's student inflow is zero; allowed: at "
                        "least one population.* count or inflow.*.base of "
                        "1 or more");
}

/* ---- names and the whole scenario ---------------------------------------- */

#define NAME_CHARS \
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

int ts_scenario_name_ok(const char *name) {
    if (!name || !*name || *name == '.')
        return 0;
    size_t n = strspn(name, NAME_CHARS);
    return name[n] == '\0' && n <= TS_MAX_NAME_LEN;
}

ts_status ts_scenario_check_name(const char *name, const ts_src_pos *pos,
                                 const char *origin, ts_error *err) {
    if (ts_scenario_name_ok(name))
        return TS_OK;
    const char *s = name ? name : "";
    char from[80] = "";
    if (origin)
        snprintf(from, sizeof from, " (from %.40s; set name: instead)", origin);
    return ts_error_set(err, TS_EINPUT, pos->file, pos->line, pos->col, "name",
                        "name '%.60s%s'%s cannot name a results directory; "
                        "allowed: 1 to %d characters from A-Z a-z 0-9 . _ -, "
                        "not starting with '.'", s, strlen(s) > 60 ? "..." : "",
                        from, TS_MAX_NAME_LEN);
}

ts_status ts_scenario_validate(const ts_scenario *sc, ts_error *err) {
    ts_src_pos none = {sc->path, 0, 0};
    if (ts_scenario_check_name(sc->name, &none, NULL, err) != TS_OK ||
        ts_params_validate(&sc->base, sc->path, err) != TS_OK)
        return TS_EINPUT;
    for (size_t i = 0; i < sc->npolicies; i++)
        if (ts_scenario_check_policy(sc, i, NULL, NULL, err) != TS_OK)
            return TS_EINPUT;
    for (size_t i = 0; i < sc->ntargets; i++)
        if (ts_scenario_check_target(sc, i, NULL, NULL, err) != TS_OK)
            return TS_EINPUT;
    return ts_scenario_check_agents(sc, err);
}

/* MODEL 3: P_t = base values with every policy active in t applied in list
 * order, later entries winning. */
void ts_scenario_params_at(const ts_scenario *sc, int64_t year,
                           ts_params *out) {
    *out = sc->base;
    for (size_t i = 0; i < sc->npolicies; i++) {
        const ts_policy *pol = sc->policies + i; /* later policies win */
        int64_t to = pol->to_open ? sc->base.years.end : pol->to;
        if (year < pol->from || year > to)
            continue;
        for (size_t k = 0; k < pol->nset; k++)
            ts_param_put(out, pol->set[k].param, pol->set[k].value);
    }
}

/* ---- references to a settable value (ts_scenario_ref) ---- */

/* "NAME.KEY" after "policies.": the policy NAME of sc and the KEY. */
static ts_status find_policy_ref(const ts_scenario *sc, const char *key, ts_scenario_ref *ref,
                                 ts_error *err) {
    const char *name = key + strlen("policies.");
    for (size_t i = 0; i < sc->npolicies; i++) {
        size_t n = strlen(sc->policies[i].name);
        if (strncmp(name, sc->policies[i].name, n) != 0 || name[n] != '.')
            continue;
        ref->policy = (long)i;
        if (!(ref->param = ts_param_find(name + n + 1)))
            return ts_error_set(err, TS_EINPUT, "", 0, 0, key, "policy '%s' has no parameter "
                                "'%s'", sc->policies[i].name, name + n + 1);
        if (ref->param->flags & TS_PF_STATIC)
            return ts_error_set(err, TS_EINPUT, "", 0, 0, key, "%s is fixed for a run: a "
                                "policy cannot set it", ref->param->key);
        return TS_OK;
    }
    char names[256] = "";
    for (size_t i = 0; i < sc->npolicies; i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                 sc->policies[i].name);
    return ts_error_set(err, TS_EINPUT, "", 0, 0, key, "'%s' names no policy of the scenario "
                        "(policies: %s)", key, sc->npolicies ? names : "none");
}

ts_status ts_scenario_ref_find(const ts_scenario *sc, const char *key, ts_scenario_ref *ref,
                               ts_error *err) {
    ref->policy = -1;
    ref->param = NULL;
    if (strncmp(key, "policies.", 9) == 0)
        return find_policy_ref(sc, key, ref, err);
    if ((ref->param = ts_param_find(key)))
        return TS_OK;
    const ts_param_info *near = ts_param_suggest(key);
    return ts_error_set(err, TS_EINPUT, "", 0, 0, key, "unknown parameter '%s'%s%s%s", key,
                        near ? " (did you mean '" : "", near ? near->key : "",
                        near ? "'?)" : "");
}

/* The setting of ref->param in its policy, or NULL. */
static ts_setting *ref_setting(const ts_scenario *sc, const ts_scenario_ref *ref) {
    ts_policy *pol = &sc->policies[ref->policy];
    for (size_t s = 0; s < pol->nset; s++)
        if (pol->set[s].param == ref->param)
            return &pol->set[s];
    return NULL;
}

double ts_scenario_ref_get(const ts_scenario *sc, const ts_scenario_ref *ref) {
    const ts_setting *s = ref->policy < 0 ? NULL : ref_setting(sc, ref);
    return s ? s->value : ts_param_get(&sc->base, ref->param);
}

ts_status ts_scenario_ref_put(ts_scenario *sc, const ts_scenario_ref *ref, double v,
                              ts_error *err) {
    if (ref->policy < 0) {
        ts_param_put(&sc->base, ref->param, v);
        return TS_OK;
    }
    ts_setting *s = ref_setting(sc, ref);
    if (!s) {
        ts_policy *pol = &sc->policies[ref->policy];
        ts_setting *ns = realloc(pol->set, (pol->nset + 1) * sizeof *ns);
        if (!ns)
            return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "out of memory");
        pol->set = ns;
        s = &pol->set[pol->nset++];
        s->param = ref->param;
    }
    s->value = v;
    return TS_OK;
}
