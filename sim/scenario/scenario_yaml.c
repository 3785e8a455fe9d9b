/* Loading a scenario from YAML (libyaml document API).
 *
 * A scenario file holds one YAML document, a mapping. The reserved top-level
 * keys are name, description, extends, policies and targets; every other key
 * is a parameter path, where nested mappings and dotted keys combine freely
 * (`population: {us.students: 1}` sets population.us.students). A file's
 * `extends:` parent (a path relative to the file's directory) is loaded first
 * into the same scenario, so the file's own parameters override the
 * parent's, its policies come after the parent's, and its `targets:` (when
 * present) replace the parent's. Name and description are never inherited.
 *
 * Limits (scenario.h, docs/limits.md) are enforced while reading: a file is
 * opened without blocking and read only when it is a regular file of at
 * most TS_MAX_INPUT_BYTES; a pass over libyaml's events stops at the first
 * node nested deeper than TS_MAX_NESTING, beyond TS_MAX_NODES, or an alias,
 * before the document is built; duplicate keys are found by sorting each
 * mapping's keys. Nothing after that grows faster than n log n.
 *
 * Invariants: every value goes through ts_param_parse with its file, line
 * and column; aliases are rejected (every node is used once) and nesting is
 * bounded, so walking the document always terminates; cross-field checks
 * run once the whole chain is loaded and report the position of the
 * offending value; policies and targets are read by their field tables
 * (fields.h), which also give the text of their messages; a problem with
 * the file an `extends:` names (missing, not a regular file, too large) is
 * reported at that `extends:` value. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "fields.h"
#include "scenario_priv.h"
#include "talentsim/metrics.h"

#define KEY_MAX 160 /* longest key path (ts_error.key) */

/* State of one ts_scenario_load call, across the extends chain. */
typedef struct {
    ts_scenario *sc;
    ts_error *err;
    char **files;                     /* display path of every file read */
    size_t nfiles;
    char *canon[TS_MAX_EXTENDS];      /* realpath of the files being read */
    const char *shown[TS_MAX_EXTENDS]; /* their display paths */
    size_t depth;                     /* files in the chain being read */
    ts_src_pos *param_pos;            /* where each parameter was last set */
    ts_src_pos (*pol_pos)[2];         /* `from` and `to` of each policy */
    size_t pol_cap;
    ts_src_pos (*tgt_pos)[2];         /* `year` and `observed` of each target */
    size_t tgt_cap;
    int named;                        /* the top file has a `name:` */
} load_ctx;

/* One file being read. */
typedef struct {
    load_ctx *ctx;
    yaml_document_t doc;
    const char *file; /* display path (owned by ctx->files) */
    const char *text; /* the file's bytes while they are parsed, else NULL */
    size_t len;
    int *seen;        /* per parameter: line this file set it on, or 0 */
    int top;          /* the caller's file: its name, description count */
} file_ctx;

/* Where to put parsed parameter values: the base (policy == NULL) or the
 * settings (set, nset) of the policy being read. */
typedef struct {
    const char *policy;
    ts_setting **set;
    size_t *nset;
    size_t cap;
} param_sink;

static ts_status read_file(load_ctx *ctx, const char *path,
                           const file_ctx *parent, const yaml_node_t *ext);

/* ---- nodes and messages ------------------------------------------------ */

static ts_src_pos node_pos(const file_ctx *fc, const yaml_node_t *n) {
    ts_src_pos p = {fc->file, (int)n->start_mark.line + 1,
                    (int)n->start_mark.column + 1};
    return p;
}

static ts_status vfail(const file_ctx *fc, yaml_mark_t m, const char *key,
                       const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static ts_status vfail(const file_ctx *fc, yaml_mark_t m, const char *key,
                       const char *fmt, va_list ap) {
    char msg[sizeof fc->ctx->err->msg];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return ts_error_set(fc->ctx->err, TS_EINPUT, fc->file, (int)m.line + 1,
                        (int)m.column + 1, key, "%s", msg);
}

static ts_status fail(const file_ctx *fc, const yaml_node_t *n,
                      const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An input error at node n. */
static ts_status fail(const file_ctx *fc, const yaml_node_t *n,
                      const char *key, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ts_status st = vfail(fc, n->start_mark, key, fmt, ap);
    va_end(ap);
    return st;
}

static ts_status fail_at(const file_ctx *fc, yaml_mark_t m, const char *key,
                         const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An input error at mark m (an event's position). */
static ts_status fail_at(const file_ctx *fc, yaml_mark_t m, const char *key,
                         const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ts_status st = vfail(fc, m, key, fmt, ap);
    va_end(ap);
    return st;
}

static ts_status out_of_memory(load_ctx *ctx) {
    return ts_error_set(ctx->err, TS_ERUNTIME, "", 0, 0, "", "out of memory");
}

static yaml_node_t *node_at(file_ctx *fc, int id) {
    return yaml_document_get_node(&fc->doc, id);
}

/* The text of a scalar node without NUL bytes, else NULL. */
static const char *scalar_text(const yaml_node_t *n) {
    if (!n || n->type != YAML_SCALAR_NODE)
        return NULL;
    const char *s = (const char *)n->data.scalar.value;
    return strlen(s) == n->data.scalar.length ? s : NULL;
}

static const char *kind_name(const yaml_node_t *n) {
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    return "a string with a NUL byte";
}

static int set_string(char **dst, const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (!d)
        return -1;
    memcpy(d, s, n);
    free(*dst);
    *dst = d;
    return 0;
}

/* One key of a mapping, for the duplicate check. */
typedef struct {
    const char *s;
    size_t idx; /* its pair's position in the mapping */
} key_ref;

static int key_cmp(const void *a, const void *b) {
    const key_ref *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* The first pair of map (in document order) whose key an earlier pair has,
 * or NULL; *first is that earlier pair. The keys are sorted into work (room
 * for every pair), so a mapping of n keys costs n log n. */
static const yaml_node_pair_t *first_duplicate(file_ctx *fc,
                                               const yaml_node_t *map,
                                               key_ref *work, size_t *first) {
    const yaml_node_pair_t *p0 = map->data.mapping.pairs.start;
    size_t n = 0, dup = SIZE_MAX;
    for (const yaml_node_pair_t *p = p0; p < map->data.mapping.pairs.top; p++) {
        const char *s = scalar_text(node_at(fc, p->key));
        if (s)
            work[n++] = (key_ref){s, (size_t)(p - p0)};
    }
    qsort(work, n, sizeof *work, key_cmp);
    for (size_t i = 1, g = 0; i < n; i++) {
        if (strcmp(work[i].s, work[g].s) != 0)
            g = i; /* a new key; work[g] is its first pair */
        else if (work[i].idx < dup) {
            dup = work[i].idx;
            *first = work[g].idx;
        }
    }
    return dup == SIZE_MAX ? NULL : p0 + dup;
}

/* Rejects a key used twice in one mapping, anywhere under node id. */
static ts_status check_keys(file_ctx *fc, int id, key_ref *work) {
    yaml_node_t *n = node_at(fc, id);
    if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = n->data.sequence.items.start;
             it < n->data.sequence.items.top; it++)
            if (check_keys(fc, *it, work))
                return TS_EINPUT;
    } else if (n->type == YAML_MAPPING_NODE) {
        size_t first = 0;
        const yaml_node_pair_t *d = first_duplicate(fc, n, work, &first);
        if (d) {
            yaml_node_t *k = node_at(fc, d->key);
            const yaml_node_pair_t *p0 = n->data.mapping.pairs.start;
            int line0 = (int)node_at(fc, p0[first].key)->start_mark.line + 1;
            return fail(fc, k, scalar_text(k), "duplicate key '%s' (first at "
                        "line %d)", scalar_text(k), line0);
        }
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
             p < n->data.mapping.pairs.top; p++)
            if (check_keys(fc, p->key, work) || check_keys(fc, p->value, work))
                return TS_EINPUT;
    }
    return TS_OK;
}

/* The key of pair p: a non-empty string (check_keys made it unique). */
static ts_status pair_key(file_ctx *fc, const yaml_node_pair_t *p,
                          const char **key) {
    yaml_node_t *k = node_at(fc, p->key);
    const char *s = scalar_text(k);
    *key = s ? s : "";
    if (!**key)
        return fail(fc, k, "", "a key must be a non-empty string");
    return TS_OK;
}

/* ---- parameters --------------------------------------------------------- */

static int is_group(const char *path) {
    size_t n = strlen(path);
    for (size_t i = 0; i < ts_param_count(); i++) {
        const char *k = ts_param_at(i)->key;
        if (strncmp(k, path, n) == 0 && k[n] == '.')
            return 1;
    }
    return 0;
}

static ts_status unknown_key(file_ctx *fc, const yaml_node_t *k,
                             const char *path, const char *policy) {
    const ts_param_info *near = ts_param_suggest(path);
    char where[200] = "";
    if (policy)
        snprintf(where, sizeof where, " in policy '%.150s'", policy);
    if (near)
        return fail(fc, k, path, "unknown key '%s'%s; did you mean '%s'?",
                    path, where, near->key);
    return fail(fc, k, path, "unknown key '%s'%s", path, where);
}

static ts_status put_base(file_ctx *fc, const ts_param_info *pi, double v,
                          const yaml_node_t *val) {
    size_t i = (size_t)(pi - ts_param_at(0));
    ts_src_pos pos = node_pos(fc, val);
    if (fc->seen[i])
        return fail(fc, val, pi->key,
                    "%s is set twice in this file (first at line %d)",
                    pi->key, fc->seen[i]);
    fc->seen[i] = pos.line;
    ts_param_put(&fc->ctx->sc->base, pi, v);
    fc->ctx->param_pos[i] = pos;
    return TS_OK;
}

static ts_status put_setting(file_ctx *fc, param_sink *sk,
                             const ts_param_info *pi, double v,
                             const yaml_node_t *val) {
    size_t n = *sk->nset;
    for (size_t i = 0; i < n; i++)
        if ((*sk->set)[i].param == pi)
            return fail(fc, val, pi->key, "policy '%s' sets %s twice",
                        sk->policy, pi->key);
    if (n == sk->cap) {
        size_t cap = sk->cap ? 2 * sk->cap : 8;
        ts_setting *s = realloc(*sk->set, cap * sizeof *s);
        if (!s)
            return out_of_memory(fc->ctx);
        *sk->set = s;
        sk->cap = cap;
    }
    (*sk->set)[n].param = pi;
    (*sk->set)[n].value = v;
    *sk->nset = n + 1;
    return TS_OK;
}

static ts_status param_value(file_ctx *fc, param_sink *sk,
                             const ts_param_info *pi, const yaml_node_t *k,
                             const yaml_node_t *val) {
    if (sk->policy && (pi->flags & TS_PF_STATIC))
        return fail(fc, k, pi->key,
                    "policy '%s' may not set %s (fixed for a run)",
                    sk->policy, pi->key);
    const char *text = scalar_text(val);
    if (!text) {
        char range[300];
        ts_param_range_text(pi, range, sizeof range);
        return fail(fc, val, pi->key, "expected a value for %s (%s%s), got %s",
                    pi->key, pi->type == TS_T_REAL ? "real in " : "", range,
                    kind_name(val));
    }
    ts_src_pos p = node_pos(fc, val);
    double v;
    if (ts_param_parse(pi, text, &v, p.file, p.line, p.col, fc->ctx->err))
        return TS_EINPUT;
    return sk->policy ? put_setting(fc, sk, pi, v, val)
                      : put_base(fc, pi, v, val);
}

static ts_status walk_params(file_ctx *fc, param_sink *sk,
                             const yaml_node_t *map, const char *prefix);

/* One `key: value` whose full key path is path. */
static ts_status param_entry(file_ctx *fc, param_sink *sk, const yaml_node_t *k,
                             const char *path, const yaml_node_t *val) {
    const ts_param_info *pi = ts_param_find(path);
    if (pi)
        return param_value(fc, sk, pi, k, val);
    int group = is_group(path);
    if (val->type == YAML_MAPPING_NODE &&
        (group || val->data.mapping.pairs.top > val->data.mapping.pairs.start))
        return walk_params(fc, sk, val, path); /* leaves report bad keys */
    if (group)
        return fail(fc, k, path,
                    "'%s' is a group of parameters, not a value; write a "
                    "mapping (%s: {...}) or dotted keys (%s.x: ...)",
                    path, path, path);
    return unknown_key(fc, k, path, sk->policy);
}

static ts_status walk_params(file_ctx *fc, param_sink *sk,
                             const yaml_node_t *map, const char *prefix) {
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        const char *key;
        if (pair_key(fc, p, &key))
            return TS_EINPUT;
        char path[KEY_MAX];
        int n = snprintf(path, sizeof path, "%s%s%s", prefix,
                         *prefix ? "." : "", key);
        if (n < 0 || (size_t)n >= sizeof path)
            return fail(fc, node_at(fc, p->key), "",
                        "key '%.60s...' is too long", key);
        ts_status st = param_entry(fc, sk, node_at(fc, p->key), path,
                                   node_at(fc, p->value));
        if (st != TS_OK)
            return st;
    }
    return TS_OK;
}

/* ---- records: policies and targets -------------------------------------- */

/* One record of a `policies:` or `targets:` list, read by its table
 * (fields.h) in three passes: keys, then presence and shape in table order,
 * then values in table order. */
typedef struct {
    const ts_record *rec;
    yaml_node_t *node;               /* the record */
    size_t idx;                      /* its position in the list, from 0 */
    const char *name;                /* its TS_FK_NAME value once checked */
    yaml_node_t *val[TS_FIELDS_MAX]; /* each row's value; NULL if absent */
} record_nodes;

/* How messages call the record: "policy 'p'" once its name is known, else
 * "target #2". */
static const char *record_label(const record_nodes *r, char *buf, size_t n) {
    if (r->name)
        snprintf(buf, n, "%s '%s'", r->rec->what, r->name);
    else
        snprintf(buf, n, "%s #%zu", r->rec->what, r->idx + 1);
    return buf;
}

static yaml_node_t *field_node(const record_nodes *r, const char *name) {
    const ts_field *f = ts_field_find(r->rec, name);
    return f ? r->val[f - r->rec->fields] : NULL;
}

/* Every key names a row of the table. */
static ts_status record_fields(file_ctx *fc, record_nodes *r) {
    const yaml_node_t *n = r->node;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
         p < n->data.mapping.pairs.top; p++) {
        const char *key;
        if (pair_key(fc, p, &key))
            return TS_EINPUT;
        const ts_field *f = ts_field_find(r->rec, key);
        if (f) {
            r->val[f - r->rec->fields] = node_at(fc, p->value);
            continue;
        }
        char allowed[200];
        ts_field_names(r->rec, ", ", allowed, sizeof allowed);
        return fail(fc, node_at(fc, p->key), key,
                    "unknown field '%s' in %s #%zu (allowed: %s)", key,
                    r->rec->what, r->idx + 1, allowed);
    }
    return TS_OK;
}

/* NAME and SETTINGS values are checked with the record's shape (the name
 * labels every later message); other kinds with their value. */
static int shape_ok(const ts_field *f, const yaml_node_t *v) {
    const char *s = scalar_text(v);
    if (f->kind == TS_FK_NAME)
        return s && *s;
    return f->kind != TS_FK_SETTINGS || v->type == YAML_MAPPING_NODE;
}

/* Required fields are present and NAME/SETTINGS values have their shape. */
static ts_status record_shape(file_ctx *fc, record_nodes *r) {
    char label[sizeof fc->ctx->err->msg];
    for (size_t k = 0; k < r->rec->nfields; k++) {
        const ts_field *f = &r->rec->fields[k];
        yaml_node_t *v = r->val[k];
        if (v ? shape_ok(f, v) : !f->required) {
            if (v && f->kind == TS_FK_NAME)
                r->name = scalar_text(v);
            continue;
        }
        record_label(r, label, sizeof label);
        if (f->missing)
            return fail(fc, v ? v : r->node, f->name, "%s %s", label,
                        f->missing);
        return fail(fc, v ? v : r->node, f->name, "%s has no '%s'", label,
                    f->name);
    }
    return TS_OK;
}

static ts_status bad_value(file_ctx *fc, const record_nodes *r,
                           const ts_field *f, const yaml_node_t *v) {
    char label[sizeof fc->ctx->err->msg];
    const char *s = scalar_text(v);
    return fail(fc, v, f->name, "%s: %s must be %s, got %s%.60s%s",
                record_label(r, label, sizeof label), f->name, f->expect,
                s ? "'" : "", s ? s : kind_name(v), s ? "'" : "");
}

/* The metric closest to name by edit distance, or NULL. */
static const char *suggest_metric(const char *name) {
    size_t len = strlen(name), lim = len / 3 > 2 ? len / 3 : 2;
    const char *best = NULL;
    for (int m = 0; m < TS_NMETRICS; m++) {
        size_t d = ts_edit_distance(name, ts_metric_name((ts_metric)m));
        if (d <= lim) {
            lim = d;
            best = ts_metric_name((ts_metric)m);
        }
    }
    return best;
}

static ts_status check_metric(file_ctx *fc, const record_nodes *r,
                              const ts_field *f, const yaml_node_t *v) {
    char label[sizeof fc->ctx->err->msg];
    const char *s = scalar_text(v);
    if (!s)
        return bad_value(fc, r, f, v);
    if (ts_metric_find(s) >= 0)
        return TS_OK;
    const char *near = suggest_metric(s);
    record_label(r, label, sizeof label);
    if (near)
        return fail(fc, v, f->name, "%s: unknown metric '%s'; did you mean "
                    "'%s'?", label, s, near);
    return fail(fc, v, f->name, "%s: unknown metric '%s'", label, s);
}

/* The value of one present field into rec; strings point into the
 * document. A SETTINGS field needs the record's name (a NAME row before
 * it): its settings are a policy's, never the base. */
static ts_status field_value(file_ctx *fc, const record_nodes *r,
                             const ts_field *f, yaml_node_t *v, void *rec) {
    void *p = ts_field_at(rec, f->offset);
    const char *s = scalar_text(v);
    if (f->kind == TS_FK_SETTINGS) {
        param_sink sk = {r->name, p, ts_field_at(rec, f->count), 0};
        return walk_params(fc, &sk, v, "");
    }
    if (f->kind == TS_FK_METRIC && check_metric(fc, r, f, v))
        return TS_EINPUT;
    if (f->kind == TS_FK_METRIC || f->kind == TS_FK_NAME ||
        f->kind == TS_FK_TEXT) {
        if (!s)
            return bad_value(fc, r, f, v);
        *(char **)p = (char *)s;
        return TS_OK;
    }
    if (!s || ts_field_parse_number(f, s, rec))
        return bad_value(fc, r, f, v);
    return TS_OK;
}

/* An absent optional field: its `omitted` flag, or "-" for a SIZE. */
static void field_absent(const ts_field *f, void *rec) {
    if (f->omitted != TS_FIELD_NONE)
        *(int *)ts_field_at(rec, f->omitted) = 1;
    else if (f->kind == TS_FK_SIZE)
        *(double *)ts_field_at(rec, f->offset) = NAN;
}

/* Reads r->node into rec, a zeroed record of kind r->rec. */
static ts_status read_record(file_ctx *fc, record_nodes *r, void *rec) {
    if (r->node->type != YAML_MAPPING_NODE) {
        char names[200];
        ts_field_names(r->rec, " and ", names, sizeof names);
        return fail(fc, r->node, r->rec->list,
                    "%s #%zu must be a mapping with %s", r->rec->what,
                    r->idx + 1, names);
    }
    if (record_fields(fc, r) || record_shape(fc, r))
        return TS_EINPUT;
    for (size_t k = 0; k < r->rec->nfields; k++) {
        const ts_field *f = &r->rec->fields[k];
        if (!r->val[k]) {
            field_absent(f, rec);
            continue;
        }
        ts_status st = field_value(fc, r, f, r->val[k], rec);
        if (st != TS_OK)
            return st;
    }
    return TS_OK;
}

typedef ts_status (*read_one_fn)(file_ctx *fc, yaml_node_t *n, size_t idx);

/* n is a list of records of kind rec; reads each with one. */
static ts_status read_list(file_ctx *fc, const ts_record *rec,
                           yaml_node_t *n, read_one_fn one) {
    if (n->type != YAML_SEQUENCE_NODE) {
        char names[200];
        ts_field_names(rec, ", ", names, sizeof names);
        return fail(fc, n, rec->list, "%s must be a list of {%s}", rec->list,
                    names);
    }
    size_t idx = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start;
         it < n->data.sequence.items.top; it++, idx++) {
        ts_status st = one(fc, node_at(fc, *it), idx);
        if (st != TS_OK)
            return st;
    }
    return TS_OK;
}

/* ---- policies ----------------------------------------------------------- */

/* Stores a and b as entry i of a table of position pairs (*tab, *cap),
 * growing it; entries are stored in order, so i <= *cap. */
static ts_status put_pos(load_ctx *ctx, ts_src_pos (**tab)[2], size_t *cap,
                         size_t i, ts_src_pos a, ts_src_pos b) {
    if (i >= *cap) {
        size_t n = *cap ? 2 * *cap : 8;
        ts_src_pos (*grown)[2] = realloc(*tab, n * sizeof **tab);
        if (!grown)
            return out_of_memory(ctx);
        *tab = grown;
        *cap = n;
    }
    (*tab)[i][0] = a;
    (*tab)[i][1] = b;
    return TS_OK;
}

static ts_status record_policy_pos(file_ctx *fc, const record_nodes *r) {
    load_ctx *ctx = fc->ctx;
    yaml_node_t *from = field_node(r, "from"), *to = field_node(r, "to");
    return put_pos(ctx, &ctx->pol_pos, &ctx->pol_cap, ctx->sc->npolicies - 1,
                   node_pos(fc, from), node_pos(fc, to ? to : from));
}

static ts_status read_policy(file_ctx *fc, yaml_node_t *n, size_t idx) {
    record_nodes r = {.rec = &ts_policy_record, .node = n, .idx = idx};
    ts_policy pol = {0};
    ts_status st = read_record(fc, &r, &pol);
    if (st == TS_OK)
        st = ts_scenario_add_policy(fc->ctx->sc, &pol, fc->ctx->err);
    free(pol.set);
    return st ? st : record_policy_pos(fc, &r);
}

/* A file's policies come after those it inherited. */
static ts_status read_policies(file_ctx *fc, yaml_node_t *n) {
    return read_list(fc, &ts_policy_record, n, read_policy);
}

/* ---- targets ------------------------------------------------------------ */

static ts_status append_target(load_ctx *ctx, const ts_target *t) {
    ts_scenario *sc = ctx->sc;
    ts_target *grown =
        realloc(sc->targets, (sc->ntargets + 1) * sizeof *sc->targets);
    if (!grown)
        return out_of_memory(ctx);
    sc->targets = grown;
    ts_target *d = &sc->targets[sc->ntargets];
    *d = *t;
    d->metric = d->source = NULL;
    if (set_string(&d->metric, t->metric) ||
        set_string(&d->source, t->source)) {
        free(d->metric);
        free(d->source);
        return out_of_memory(ctx);
    }
    sc->ntargets++;
    return TS_OK;
}

static ts_status read_target(file_ctx *fc, yaml_node_t *n, size_t idx) {
    load_ctx *ctx = fc->ctx;
    record_nodes r = {.rec = &ts_target_record, .node = n, .idx = idx};
    ts_target t = {0};
    ts_status st = read_record(fc, &r, &t);
    if (st != TS_OK || (st = append_target(ctx, &t)) != TS_OK)
        return st;
    return put_pos(ctx, &ctx->tgt_pos, &ctx->tgt_cap, ctx->sc->ntargets - 1,
                   node_pos(fc, field_node(&r, "year")),
                   node_pos(fc, field_node(&r, "observed")));
}

/* A file's targets replace those it inherited (read_list reports a
 * `targets:` that is not a list). */
static ts_status read_targets(file_ctx *fc, yaml_node_t *n) {
    ts_scenario *sc = fc->ctx->sc;
    if (n->type == YAML_SEQUENCE_NODE) {
        for (size_t i = 0; i < sc->ntargets; i++) {
            free(sc->targets[i].metric);
            free(sc->targets[i].source);
        }
        free(sc->targets);
        sc->targets = NULL;
        sc->ntargets = 0;
    }
    return read_list(fc, &ts_target_record, n, read_target);
}

/* ---- the entries of a file ---------------------------------------------- */

/* The parent's path: ext relative to the directory of file. */
static char *extends_path(const char *file, const char *ext) {
    const char *slash = strrchr(file, '/');
    size_t dir = ext[0] == '/' || !slash ? 0 : (size_t)(slash - file) + 1;
    char *p = malloc(dir + strlen(ext) + 1);
    if (p) {
        memcpy(p, file, dir);
        strcpy(p + dir, ext);
    }
    return p;
}

/* `extends:` or its synonym `base:` (sweep files), at most one of them. */
static ts_status read_extends(file_ctx *fc, yaml_node_t *root) {
    yaml_node_t *v = NULL;
    const char *vkey = NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
         p < root->data.mapping.pairs.top; p++) {
        const char *key;
        if (pair_key(fc, p, &key))
            return TS_EINPUT;
        if (strcmp(key, "extends") != 0 && strcmp(key, "base") != 0)
            continue;
        if (v)
            return fail(fc, node_at(fc, p->key), key, "'%s' and '%s' name the same "
                        "thing, the file this one extends; give one of them", vkey, key);
        v = node_at(fc, p->value);
        vkey = key;
    }
    if (!v)
        return TS_OK;
    const char *ext = scalar_text(v);
    if (!ext || !*ext)
        return fail(fc, v, vkey, "%s must be a file name", vkey);
    char *path = extends_path(fc->file, ext);
    if (!path)
        return out_of_memory(fc->ctx);
    ts_status st = read_file(fc->ctx, path, fc, v);
    free(path);
    return st;
}

/* Copies the YAML subtree n into dst (zeroed), positions included; -1 when
 * out of memory (what was copied stays in dst, for ts_node_free). */
static int copy_block(file_ctx *fc, const yaml_node_t *n, ts_node *dst) {
    dst->file = strdup(fc->file);
    dst->line = (int)n->start_mark.line + 1;
    dst->col = (int)n->start_mark.column + 1;
    if (!dst->file)
        return -1;
    if (n->type == YAML_SCALAR_NODE) {
        dst->kind = TS_NODE_SCALAR;
        const char *t = scalar_text(n);
        return (dst->text = strdup(t ? t : "")) ? 0 : -1;
    }
    int map = n->type == YAML_MAPPING_NODE;
    size_t count = map ? (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start)
                       : (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    dst->kind = map ? TS_NODE_MAP : TS_NODE_LIST;
    if (count && !(dst->item = calloc(count, sizeof *dst->item)))
        return -1;
    for (size_t i = 0; i < count; i++) {
        ts_node *it = &dst->item[dst->nitem++];
        int child = map ? n->data.mapping.pairs.start[i].value : n->data.sequence.items.start[i];
        if (map) {
            const char *k = scalar_text(node_at(fc, n->data.mapping.pairs.start[i].key));
            if (!(it->key = strdup(k ? k : "")))
                return -1;
        }
        if (copy_block(fc, node_at(fc, child), it))
            return -1;
    }
    return 0;
}

/* A block kept for a later layer (talentsim/node.h); this file's replaces
 * the parent's. */
static ts_status read_block(file_ctx *fc, yaml_node_t *v, ts_block_id b) {
    ts_node *n = calloc(1, sizeof *n);
    if (!n || copy_block(fc, v, n)) {
        ts_node_free(n);
        return out_of_memory(fc->ctx);
    }
    ts_node_free(fc->ctx->sc->block[b]);
    fc->ctx->sc->block[b] = n;
    return TS_OK;
}

/* name or description of the top file (parents' are not inherited, but
 * their names are checked all the same). */
static ts_status read_text(file_ctx *fc, yaml_node_t *v, const char *key,
                           char **dst) {
    const char *s = scalar_text(v);
    int is_name = strcmp(key, "name") == 0;
    if (!s || (!*s && is_name))
        return fail(fc, v, key, "%s must be a non-empty string", key);
    ts_src_pos pos = node_pos(fc, v);
    if (is_name && ts_scenario_check_name(s, &pos, NULL, fc->ctx->err))
        return TS_EINPUT;
    if (fc->top && set_string(dst, s))
        return out_of_memory(fc->ctx);
    fc->ctx->named |= fc->top && is_name;
    return TS_OK;
}

static ts_status read_entry(file_ctx *fc, yaml_node_pair_t *p) {
    ts_scenario *sc = fc->ctx->sc;
    const char *key;
    if (pair_key(fc, p, &key))
        return TS_EINPUT;
    yaml_node_t *v = node_at(fc, p->value);
    if (strcmp(key, "extends") == 0 || strcmp(key, "base") == 0)
        return TS_OK;
    for (int b = 0; b < TS_NBLOCKS; b++)
        if (strcmp(key, ts_block_name((ts_block_id)b)) == 0)
            return read_block(fc, v, (ts_block_id)b);
    if (strcmp(key, "name") == 0)
        return read_text(fc, v, key, &sc->name);
    if (strcmp(key, "description") == 0)
        return read_text(fc, v, key, &sc->description);
    if (strcmp(key, "policies") == 0)
        return read_policies(fc, v);
    if (strcmp(key, "targets") == 0)
        return read_targets(fc, v);
    param_sink base = {NULL, NULL, NULL, 0};
    return param_entry(fc, &base, node_at(fc, p->key), key, v);
}

static ts_status read_root(file_ctx *fc) {
    yaml_node_t *root = yaml_document_get_root_node(&fc->doc);
    if (!root)
        return ts_error_set(fc->ctx->err, TS_EINPUT, fc->file, 1, 1, "",
                            "the scenario file is empty");
    if (root->type != YAML_MAPPING_NODE)
        return fail(fc, root, "", "a scenario must be a mapping of keys to "
                    "values, got %s", root->type == YAML_SEQUENCE_NODE
                                          ? "a list" : "a single value");
    size_t nnodes = (size_t)(fc->doc.nodes.top - fc->doc.nodes.start);
    key_ref *work = malloc(nnodes * sizeof *work);
    if (!work)
        return out_of_memory(fc->ctx);
    ts_status st = check_keys(fc, 1, work);
    free(work);
    if (st != TS_OK || (st = read_extends(fc, root)) != TS_OK)
        return st;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
         p < root->data.mapping.pairs.top; p++)
        if ((st = read_entry(fc, p)) != TS_OK)
            return st;
    return TS_OK;
}

/* ---- reading with limits ------------------------------------------------ */

/* Bytes of the line break at s (n bytes left): LF, CR, CR LF, NEL, U+2028,
 * U+2029 (those libyaml counts); 0 if none. */
static size_t line_break(const unsigned char *s, size_t n) {
    if (s[0] == '\n')
        return 1;
    if (s[0] == '\r')
        return n > 1 && s[1] == '\n' ? 2 : 1;
    if (n > 1 && s[0] == 0xC2 && s[1] == 0x85)
        return 2;
    if (n > 2 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9))
        return 3;
    return 0;
}

/* The mark (0-based line and column) of byte offset in fc's text, counted
 * as libyaml counts its marks: columns in characters, a leading BOM not
 * counted. libyaml gives only the offset for the bytes its reader refuses
 * (bad UTF-8, NUL, control characters). */
static yaml_mark_t offset_mark(const file_ctx *fc, size_t offset) {
    const unsigned char *s = (const unsigned char *)fc->text;
    size_t end = offset < fc->len ? offset : fc->len;
    size_t i = end >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    yaml_mark_t m = {offset, 0, 0};
    while (i < end) {
        size_t br = line_break(s + i, fc->len - i);
        if (br) {
            m.line++;
            m.column = 0;
        } else if ((s[i] & 0xC0) != 0x80) {
            m.column++; /* a character starts here */
        }
        i += br ? br : 1;
    }
    return m;
}

static ts_status syntax_error(file_ctx *fc, const yaml_parser_t *ps) {
    if (ps->error == YAML_MEMORY_ERROR)
        return out_of_memory(fc->ctx);
    const char *problem = ps->problem ? ps->problem : "unreadable input";
    if (ps->error == YAML_READER_ERROR) {
        char value[32] = "";
        if (ps->problem_value >= 0)
            snprintf(value, sizeof value, " (0x%X)",
                     (unsigned)ps->problem_value);
        return fail_at(fc, offset_mark(fc, ps->problem_offset), "",
                       "invalid YAML: %s%s", problem, value);
    }
    char ctxt[200] = "";
    if (ps->context)
        snprintf(ctxt, sizeof ctxt, " (%s at line %zu)", ps->context,
                 ps->context_mark.line + 1);
    return fail_at(fc, ps->problem_mark, "", "invalid YAML: %s%s", problem,
                   ctxt);
}

/* Open collections and nodes so far in the event pass. */
typedef struct {
    size_t depth, nodes;
} event_count;

static ts_status check_event(file_ctx *fc, const yaml_event_t *ev,
                             event_count *c) {
    yaml_event_type_t t = ev->type;
    if (t == YAML_ALIAS_EVENT)
        return fail_at(fc, ev->start_mark, "",
                       "anchors and aliases are not supported");
    if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT)
        c->depth--;
    if (t != YAML_SCALAR_EVENT && t != YAML_SEQUENCE_START_EVENT &&
        t != YAML_MAPPING_START_EVENT)
        return TS_OK;
    if (++c->nodes > TS_MAX_NODES)
        return fail_at(fc, ev->start_mark, "", "more than %d YAML nodes in "
                       "one file; allowed: at most %d keys, values, lists and "
                       "mappings", TS_MAX_NODES, TS_MAX_NODES);
    if (c->depth > TS_MAX_NESTING)
        return fail_at(fc, ev->start_mark, "", "nesting deeper than %d "
                       "levels; allowed: at most %d nested lists and mappings",
                       TS_MAX_NESTING, TS_MAX_NESTING);
    c->depth += t != YAML_SCALAR_EVENT;
    return TS_OK;
}

/* Runs libyaml's event parser over fc's text and stops at the first syntax
 * error, alias, or node beyond a limit; libyaml scans lazily, so the input
 * after that point is never read (a deep `[[[...` costs its first levels
 * only, where building the document first took time quadratic in it). */
static ts_status check_events(file_ctx *fc) {
    yaml_parser_t ps;
    if (!yaml_parser_initialize(&ps))
        return out_of_memory(fc->ctx);
    yaml_parser_set_input_string(&ps, (const unsigned char *)fc->text, fc->len);
    event_count count = {0, 0};
    ts_status st = TS_OK;
    for (int done = 0; !done && st == TS_OK;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&ps, &ev)) {
            st = syntax_error(fc, &ps);
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        st = check_event(fc, &ev, &count);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&ps);
    return st;
}

/* Parses the single document of fc's text into fc->doc, once check_events
 * has passed it. */
static ts_status parse_doc(file_ctx *fc) {
    yaml_parser_t ps;
    yaml_document_t extra;
    ts_status st = check_events(fc);
    if (st != TS_OK)
        return st;
    if (!yaml_parser_initialize(&ps))
        return out_of_memory(fc->ctx);
    yaml_parser_set_input_string(&ps, (const unsigned char *)fc->text, fc->len);
    if (!yaml_parser_load(&ps, &fc->doc)) {
        st = syntax_error(fc, &ps);
        memset(&fc->doc, 0, sizeof fc->doc);
    } else if (yaml_document_get_root_node(&fc->doc)) {
        if (!yaml_parser_load(&ps, &extra))
            st = syntax_error(fc, &ps);
        else if (yaml_document_get_root_node(&extra))
            st = ts_error_set(fc->ctx->err, TS_EINPUT, fc->file,
                              (int)extra.start_mark.line + 1, 1, "",
                              "a scenario file holds one YAML document");
        if (ps.error == YAML_NO_ERROR)
            yaml_document_delete(&extra);
        if (st != TS_OK)
            yaml_document_delete(&fc->doc);
    }
    yaml_parser_delete(&ps);
    return st;
}

/* ---- files -------------------------------------------------------------- */

/* Why a file could not be read. */
typedef struct {
    enum { RD_OPEN, RD_READ, RD_KIND, RD_SIZE, RD_MEMORY } what;
    int errnum;     /* RD_OPEN, RD_READ */
    mode_t mode;    /* RD_KIND */
    long long size; /* RD_SIZE: bytes (at least) */
} read_why;

/* What a file that is not a regular file is. */
static const char *file_kind(mode_t m) {
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO"
           : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device"
           : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

/* Reads the open file fd whole into a new buffer, refusing more than
 * TS_MAX_INPUT_BYTES even if the file grew since it was measured. */
static char *read_fd(int fd, size_t *len, read_why *why) {
    size_t cap = (size_t)TS_MAX_INPUT_BYTES + 1, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        why->what = RD_MEMORY;
        return NULL;
    }
    for (ssize_t r = 1; r != 0 && n < cap;) {
        r = read(fd, buf + n, cap - n);
        if (r < 0 && errno != EINTR) {
            *why = (read_why){.what = RD_READ, .errnum = errno};
            free(buf);
            return NULL;
        }
        n += r > 0 ? (size_t)r : 0;
    }
    if (n == cap) {
        *why = (read_why){.what = RD_SIZE, .size = (long long)n};
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Reads path whole when it is a regular file of at most TS_MAX_INPUT_BYTES;
 * else NULL with the reason. The open never blocks (O_NONBLOCK: a FIFO is
 * refused for its type, not waited on), and the size is checked before
 * anything is read. */
static char *read_whole(const char *path, size_t *len, read_why *why) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    char *text = NULL;
    if (fd < 0) {
        *why = (read_why){.what = RD_OPEN, .errnum = errno};
        return NULL;
    }
    if (fstat(fd, &st) != 0)
        *why = (read_why){.what = RD_READ, .errnum = errno};
    else if (!S_ISREG(st.st_mode))
        *why = (read_why){.what = RD_KIND, .mode = st.st_mode};
    else if (st.st_size > TS_MAX_INPUT_BYTES)
        *why = (read_why){.what = RD_SIZE, .size = (long long)st.st_size};
    else
        text = read_fd(fd, len, why);
    close(fd);
    return text;
}

/* The message for why: about the top file (path NULL: its name is the
 * error's file) or about the file path an `extends:` names. */
static void read_problem(const read_why *why, const char *path, char *buf,
                         size_t n) {
    char q[320] = "";
    if (path)
        snprintf(q, sizeof q, "'%.300s'", path);
    if (why->what == RD_OPEN || why->what == RD_READ)
        snprintf(buf, n, "cannot %s%s%s: %s", why->what == RD_OPEN ? "open"
                 : "read", path ? " " : "", q, strerror(why->errnum));
    else if (why->what == RD_KIND)
        snprintf(buf, n, "%s%s%s, not a regular file", q, path ? " is " : "",
                 file_kind(why->mode));
    else
        snprintf(buf, n, "%s has %lld bytes; allowed: at most %d bytes (1 MiB) "
                 "per scenario file", path ? q : "the file", why->size,
                 TS_MAX_INPUT_BYTES);
}

/* A file of the chain cannot be read: reported at the `extends:` value
 * that names it (quoted as written there), or against the top file itself
 * (at 1:1 when it is too large, without a position when it cannot be
 * opened or read). */
static ts_status read_failed(load_ctx *ctx, const char *path,
                             const file_ctx *parent, const yaml_node_t *ext,
                             const read_why *why) {
    char msg[512];
    if (why->what == RD_MEMORY)
        return out_of_memory(ctx);
    read_problem(why, parent ? scalar_text(ext) : NULL, msg, sizeof msg);
    if (parent)
        return fail(parent, ext, "extends", "extends: %s", msg);
    int at = why->what == RD_SIZE;
    return ts_error_set(ctx->err, TS_EINPUT, path, at, at, "", "%s", msg);
}

static ts_status extends_cycle(load_ctx *ctx, size_t k, const char *path,
                               const file_ctx *parent, const yaml_node_t *ext) {
    char chain[600] = "";
    size_t used = 0;
    for (; k < ctx->depth && used < sizeof chain; k++) {
        int w = snprintf(chain + used, sizeof chain - used, "%s -> ",
                         ctx->shown[k]);
        used += w > 0 ? (size_t)w : 0;
    }
    return fail(parent, ext, "extends", "extends: cycle %s%s", chain, path);
}

/* Registers path as a file being read: canonical name, cycle and depth
 * checks. On success the caller pops it with pop_file. */
static ts_status push_file(load_ctx *ctx, const char *path,
                           const file_ctx *parent, const yaml_node_t *ext,
                           const char **shown) {
    char *canon = realpath(path, NULL);
    if (!canon) {
        read_why why = {.what = RD_OPEN, .errnum = errno};
        return read_failed(ctx, path, parent, ext, &why);
    }
    for (size_t k = 0; k < ctx->depth; k++)
        if (strcmp(ctx->canon[k], canon) == 0) {
            free(canon);
            return extends_cycle(ctx, k, path, parent, ext);
        }
    char **files = realloc(ctx->files, (ctx->nfiles + 1) * sizeof *files);
    char *copy = files ? strdup(path) : NULL;
    if (files)
        ctx->files = files;
    if (!copy || ctx->depth == TS_MAX_EXTENDS) {
        free(canon);
        free(copy);
        return copy ? fail(parent, ext, "extends", "extends: chain longer "
                           "than %d files; allowed: at most %d",
                           TS_MAX_EXTENDS, TS_MAX_EXTENDS)
                    : out_of_memory(ctx);
    }
    ctx->files[ctx->nfiles++] = copy;
    ctx->canon[ctx->depth] = canon;
    ctx->shown[ctx->depth++] = copy;
    *shown = copy;
    return TS_OK;
}

static void pop_file(load_ctx *ctx) {
    free(ctx->canon[--ctx->depth]);
}

/* Reads one file of the chain (its parent first) into ctx->sc. */
static ts_status read_file(load_ctx *ctx, const char *path,
                           const file_ctx *parent, const yaml_node_t *ext) {
    file_ctx fc = {.ctx = ctx, .top = parent == NULL};
    read_why why;
    char *text = read_whole(path, &fc.len, &why);
    if (!text)
        return read_failed(ctx, path, parent, ext, &why);
    ts_status st = push_file(ctx, path, parent, ext, &fc.file);
    if (st) {
        free(text);
        return st;
    }
    fc.text = text;
    fc.seen = calloc(ts_param_count(), sizeof *fc.seen);
    st = fc.seen ? parse_doc(&fc) : out_of_memory(ctx);
    free(text);
    fc.text = NULL;
    fc.len = 0;
    if (st == TS_OK) {
        st = read_root(&fc);
        yaml_document_delete(&fc.doc);
    }
    free(fc.seen);
    pop_file(ctx);
    return st;
}

/* ---- whole scenario ----------------------------------------------------- */

/* The file name without directory and .yaml/.yml suffix. */
static char *file_stem(const char *path) {
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".yaml") == 0)
        n -= 5;
    else if (n > 4 && strcmp(base + n - 4, ".yml") == 0)
        n -= 4;
    return strndup(base, n);
}

/* Moves an error about the parameter err->key (found without positions)
 * to where a file set that parameter, else to where years.start was set;
 * returns TS_EINPUT. */
static ts_status locate_param_error(load_ctx *ctx) {
    ts_error *err = ctx->err;
    const ts_param_info *pi = ts_param_find(err->key);
    size_t i = pi ? (size_t)(pi - ts_param_at(0)) : 0;
    const ts_src_pos *pos = pi ? &ctx->param_pos[i] : NULL;
    if (pos && !pos->file)
        pos = &ctx->param_pos[(size_t)(ts_param_find("years.start") -
                                       ts_param_at(0))];
    if (pos && pos->file)
        ts_error_set(err, err->status, pos->file, pos->line, pos->col,
                     err->key, "%s", err->msg);
    return TS_EINPUT;
}

/* Cross-field checks, reported at the value that breaks them (a name taken
 * from the file name has no position). */
static ts_status check_loaded(load_ctx *ctx) {
    ts_scenario *sc = ctx->sc;
    ts_error *err = ctx->err;
    ts_src_pos file = {sc->path, 0, 0};
    ts_scenario_sync_open(sc); /* years.end may have changed after them */
    if (!ctx->named &&
        ts_scenario_check_name(sc->name, &file, "the file name", err))
        return TS_EINPUT;
    if (ts_params_validate(&sc->base, sc->path, err) != TS_OK)
        return locate_param_error(ctx);
    for (size_t i = 0; i < sc->npolicies; i++)
        if (ts_scenario_check_policy(sc, i, &ctx->pol_pos[i][0],
                                     &ctx->pol_pos[i][1], err) != TS_OK)
            return TS_EINPUT;
    for (size_t i = 0; i < sc->ntargets; i++)
        if (ts_scenario_check_target(sc, i, &ctx->tgt_pos[i][0],
                                     &ctx->tgt_pos[i][1], err) != TS_OK)
            return TS_EINPUT;
    if (ts_scenario_check_agents(sc, err) != TS_OK)
        return locate_param_error(ctx);
    return TS_OK;
}

static ts_status load_into(load_ctx *ctx, const char *path) {
    char *stem = file_stem(path);
    ctx->sc = stem ? ts_scenario_alloc(stem) : NULL;
    ctx->param_pos = calloc(ts_param_count(), sizeof *ctx->param_pos);
    free(stem);
    if (!ctx->sc || !ctx->param_pos || set_string(&ctx->sc->path, path))
        return out_of_memory(ctx);
    ts_status st = read_file(ctx, path, NULL, NULL);
    return st ? st : check_loaded(ctx);
}

ts_scenario *ts_scenario_load(const char *path, ts_error *err) {
    ts_error local;
    ts_error_clear(&local);
    load_ctx ctx = {.err = &local};
    ts_status st = path ? load_into(&ctx, path)
                        : ts_error_set(&local, TS_EINPUT, "", 0, 0, "",
                                       "no scenario file given");
    for (size_t i = 0; i < ctx.nfiles; i++)
        free(ctx.files[i]);
    free(ctx.files);
    free(ctx.param_pos);
    free(ctx.pol_pos);
    free(ctx.tgt_pos);
    if (st != TS_OK) {
        ts_scenario_free(ctx.sc);
        ctx.sc = NULL;
    }
    if (err)
        *err = local;
    return ctx.sc;
}
