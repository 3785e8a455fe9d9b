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
 * Invariants: every value goes through ts_param_parse with its file, line
 * and column; anchors and aliases are rejected (every node is used once), so
 * walking the document always terminates; cross-field checks run once the
 * whole chain is loaded and report the position of the offending value;
 * policies and targets are read by their field tables (fields.h), which also
 * give the text of their messages. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "fields.h"
#include "scenario_priv.h"
#include "talentsim/metrics.h"

#define MAX_EXTENDS 16 /* files in one extends chain */
#define MAX_NESTING 64 /* nesting of YAML collections */
#define KEY_MAX 160    /* longest key path (ts_error.key) */

/* State of one ts_scenario_load call, across the extends chain. */
typedef struct {
    ts_scenario *sc;
    ts_error *err;
    char **files;                     /* display path of every file read */
    size_t nfiles;
    char *canon[MAX_EXTENDS];         /* realpath of the files being read */
    const char *shown[MAX_EXTENDS];   /* their display paths */
    size_t depth;                     /* files in the chain being read */
    ts_src_pos *param_pos;            /* where each parameter was last set */
    ts_src_pos (*pol_pos)[2];         /* `from` and `to` of each policy */
    size_t pol_cap;
} load_ctx;

/* One file being read. */
typedef struct {
    load_ctx *ctx;
    yaml_document_t doc;
    const char *file; /* display path (owned by ctx->files) */
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

static ts_status fail(const file_ctx *fc, const yaml_node_t *n,
                      const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static ts_status fail(const file_ctx *fc, const yaml_node_t *n,
                      const char *key, const char *fmt, ...) {
    char msg[sizeof fc->ctx->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ts_src_pos p = node_pos(fc, n);
    return ts_error_set(fc->ctx->err, TS_EINPUT, p.file, p.line, p.col, key,
                        "%s", msg);
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

/* Rejects anchors/aliases (a node reached twice) and deep nesting. */
static ts_status check_tree(file_ctx *fc, int id, char *used, int depth) {
    yaml_node_t *n = node_at(fc, id);
    if (used[id - 1])
        return fail(fc, n, "", "anchors and aliases are not supported");
    used[id - 1] = 1;
    if (depth > MAX_NESTING)
        return fail(fc, n, "", "nesting deeper than %d levels", MAX_NESTING);
    if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = n->data.sequence.items.start;
             it < n->data.sequence.items.top; it++)
            if (check_tree(fc, *it, used, depth + 1))
                return TS_EINPUT;
    } else if (n->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
             p < n->data.mapping.pairs.top; p++)
            if (check_tree(fc, p->key, used, depth + 1) ||
                check_tree(fc, p->value, used, depth + 1))
                return TS_EINPUT;
    }
    return TS_OK;
}

/* The key of pair p of mapping map: a non-empty string not used by an
 * earlier pair. */
static ts_status pair_key(file_ctx *fc, const yaml_node_t *map,
                          const yaml_node_pair_t *p, const char **key) {
    yaml_node_t *k = node_at(fc, p->key);
    const char *s = scalar_text(k);
    if (!s || !*s)
        return fail(fc, k, "", "a key must be a non-empty string");
    const yaml_node_pair_t *q = map->data.mapping.pairs.start;
    for (; q < p; q++) {
        yaml_node_t *kq = node_at(fc, q->key);
        const char *o = scalar_text(kq);
        if (o && strcmp(o, s) == 0)
            return fail(fc, k, s, "duplicate key '%s' (first at line %d)", s,
                        (int)kq->start_mark.line + 1);
    }
    *key = s;
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
        if (pair_key(fc, map, p, &key))
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
        if (pair_key(fc, n, p, &key))
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

static ts_status record_policy_pos(file_ctx *fc, const record_nodes *r) {
    load_ctx *ctx = fc->ctx;
    size_t i = ctx->sc->npolicies - 1;
    if (i >= ctx->pol_cap) {
        size_t cap = ctx->pol_cap ? 2 * ctx->pol_cap : 8;
        void *grown = realloc(ctx->pol_pos, cap * sizeof *ctx->pol_pos);
        if (!grown)
            return out_of_memory(ctx);
        ctx->pol_pos = grown;
        ctx->pol_cap = cap;
    }
    yaml_node_t *from = field_node(r, "from"), *to = field_node(r, "to");
    ctx->pol_pos[i][0] = node_pos(fc, from);
    ctx->pol_pos[i][1] = node_pos(fc, to ? to : from);
    return TS_OK;
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
    record_nodes r = {.rec = &ts_target_record, .node = n, .idx = idx};
    ts_target t = {0};
    ts_status st = read_record(fc, &r, &t);
    return st ? st : append_target(fc->ctx, &t);
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

/* ---- files -------------------------------------------------------------- */

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

static ts_status read_extends(file_ctx *fc, yaml_node_t *root) {
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
         p < root->data.mapping.pairs.top; p++) {
        const char *key;
        if (pair_key(fc, root, p, &key))
            return TS_EINPUT;
        if (strcmp(key, "extends") != 0)
            continue;
        yaml_node_t *v = node_at(fc, p->value);
        const char *ext = scalar_text(v);
        if (!ext || !*ext)
            return fail(fc, v, "extends", "extends must be a file name");
        char *path = extends_path(fc->file, ext);
        if (!path)
            return out_of_memory(fc->ctx);
        ts_status st = read_file(fc->ctx, path, fc, v);
        free(path);
        return st;
    }
    return TS_OK;
}

/* name or description of the top file (parents' are not inherited). */
static ts_status read_text(file_ctx *fc, yaml_node_t *v, const char *key,
                           char **dst) {
    const char *s = scalar_text(v);
    if (!s || (!*s && strcmp(key, "name") == 0))
        return fail(fc, v, key, "%s must be a non-empty string", key);
    if (fc->top && set_string(dst, s))
        return out_of_memory(fc->ctx);
    return TS_OK;
}

static ts_status read_entry(file_ctx *fc, yaml_node_t *root,
                            yaml_node_pair_t *p) {
    ts_scenario *sc = fc->ctx->sc;
    const char *key;
    if (pair_key(fc, root, p, &key))
        return TS_EINPUT;
    yaml_node_t *v = node_at(fc, p->value);
    if (strcmp(key, "extends") == 0)
        return TS_OK;
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
    char *used = calloc(nnodes, 1);
    if (!used)
        return out_of_memory(fc->ctx);
    ts_status st = check_tree(fc, 1, used, 0);
    free(used);
    if (st != TS_OK || (st = read_extends(fc, root)) != TS_OK)
        return st;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
         p < root->data.mapping.pairs.top; p++)
        if ((st = read_entry(fc, root, p)) != TS_OK)
            return st;
    return TS_OK;
}

static ts_status syntax_error(file_ctx *fc, const yaml_parser_t *ps) {
    load_ctx *ctx = fc->ctx;
    if (ps->error == YAML_MEMORY_ERROR)
        return out_of_memory(ctx);
    const char *problem = ps->problem ? ps->problem : "unreadable input";
    if (ps->error == YAML_READER_ERROR)
        return ts_error_set(ctx->err, TS_EINPUT, fc->file, 0, 0, "",
                            "invalid YAML: %s (at byte %zu)", problem,
                            ps->problem_offset);
    char ctxt[200] = "";
    if (ps->context)
        snprintf(ctxt, sizeof ctxt, " (%s at line %zu)", ps->context,
                 ps->context_mark.line + 1);
    return ts_error_set(ctx->err, TS_EINPUT, fc->file,
                        (int)ps->problem_mark.line + 1,
                        (int)ps->problem_mark.column + 1, "",
                        "invalid YAML: %s%s", problem, ctxt);
}

/* Parses the single document of f into fc->doc. */
static ts_status parse_doc(file_ctx *fc, FILE *f) {
    yaml_parser_t ps;
    yaml_document_t extra;
    if (!yaml_parser_initialize(&ps))
        return out_of_memory(fc->ctx);
    yaml_parser_set_input_file(&ps, f);
    ts_status st = TS_OK;
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

static ts_status open_failed(load_ctx *ctx, const char *path,
                             const file_ctx *parent, const yaml_node_t *ext,
                             int errnum) {
    if (parent)
        return fail(parent, ext, "extends", "cannot open extends file '%s': %s",
                    path, strerror(errnum));
    return ts_error_set(ctx->err, TS_EINPUT, path, 0, 0, "",
                        "cannot open: %s", strerror(errnum));
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
    return fail(parent, ext, "extends", "extends cycle: %s%s", chain, path);
}

/* Registers path as a file being read: canonical name, cycle and depth
 * checks. On success the caller pops it with pop_file. */
static ts_status push_file(load_ctx *ctx, const char *path,
                           const file_ctx *parent, const yaml_node_t *ext,
                           const char **shown) {
    char *canon = realpath(path, NULL);
    if (!canon)
        return open_failed(ctx, path, parent, ext, errno);
    for (size_t k = 0; k < ctx->depth; k++)
        if (strcmp(ctx->canon[k], canon) == 0) {
            free(canon);
            return extends_cycle(ctx, k, path, parent, ext);
        }
    char **files = realloc(ctx->files, (ctx->nfiles + 1) * sizeof *files);
    char *copy = files ? strdup(path) : NULL;
    if (files)
        ctx->files = files;
    if (!copy || ctx->depth == MAX_EXTENDS) {
        free(canon);
        free(copy);
        return copy ? fail(parent, ext, "extends", "extends chain longer than "
                           "%d files", MAX_EXTENDS)
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

/* Opens path for reading; directories are refused. */
static FILE *open_regular(const char *path, int *errnum) {
    FILE *f = fopen(path, "r");
    struct stat st;
    if (f && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        errno = EISDIR;
        f = NULL;
    }
    *errnum = errno;
    return f;
}

/* Reads one file of the chain (its parent first) into ctx->sc. */
static ts_status read_file(load_ctx *ctx, const char *path,
                           const file_ctx *parent, const yaml_node_t *ext) {
    file_ctx fc = {.ctx = ctx, .top = parent == NULL};
    int errnum = 0;
    FILE *f = open_regular(path, &errnum);
    if (!f)
        return open_failed(ctx, path, parent, ext, errnum);
    ts_status st = push_file(ctx, path, parent, ext, &fc.file);
    if (st) {
        fclose(f);
        return st;
    }
    fc.seen = calloc(ts_param_count(), sizeof *fc.seen);
    st = fc.seen ? parse_doc(&fc, f) : out_of_memory(ctx);
    fclose(f);
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

/* Cross-field checks, reported at the value that breaks them. */
static ts_status check_loaded(load_ctx *ctx) {
    ts_scenario *sc = ctx->sc;
    ts_error *err = ctx->err;
    if (ts_params_validate(&sc->base, sc->path, err) != TS_OK) {
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
    for (size_t i = 0; i < sc->npolicies; i++)
        if (ts_scenario_check_policy(sc, i, &ctx->pol_pos[i][0],
                                     &ctx->pol_pos[i][1], err) != TS_OK)
            return TS_EINPUT;
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
    if (st != TS_OK) {
        ts_scenario_free(ctx.sc);
        ctx.sc = NULL;
    }
    if (err)
        *err = local;
    return ctx.sc;
}
