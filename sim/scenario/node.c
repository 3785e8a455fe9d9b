/* YAML blocks kept as read (talentsim/node.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "talentsim/node.h"

static void node_clear(ts_node *n) {
    for (size_t i = 0; i < n->nitem; i++)
        node_clear(&n->item[i]);
    free(n->item);
    free(n->text);
    free(n->key);
    free(n->file);
}

void ts_node_free(ts_node *n) {
    if (!n)
        return;
    node_clear(n);
    free(n);
}

static char *dup_or_null(const char *s, int *fail) {
    if (!s)
        return NULL;
    char *d = strdup(s);
    *fail |= !d;
    return d;
}

/* Copies src into dst (zeroed); 0, or -1 with what was copied left in dst. */
static int copy_into(ts_node *dst, const ts_node *src) {
    int fail = 0;
    dst->kind = src->kind;
    dst->line = src->line;
    dst->col = src->col;
    dst->text = dup_or_null(src->text, &fail);
    dst->key = dup_or_null(src->key, &fail);
    dst->file = dup_or_null(src->file, &fail);
    if (fail)
        return -1;
    if (src->nitem) {
        dst->item = calloc(src->nitem, sizeof *dst->item);
        if (!dst->item)
            return -1;
        for (; dst->nitem < src->nitem; dst->nitem++)
            if (copy_into(&dst->item[dst->nitem], &src->item[dst->nitem])) {
                dst->nitem++; /* the half-copied item is freed with the rest */
                return -1;
            }
    }
    return 0;
}

ts_node *ts_node_copy(const ts_node *n) {
    if (!n)
        return NULL;
    ts_node *c = calloc(1, sizeof *c);
    if (c && copy_into(c, n)) {
        ts_node_free(c);
        c = NULL;
    }
    return c;
}

const ts_node *ts_node_get(const ts_node *map, const char *key) {
    if (!map || map->kind != TS_NODE_MAP)
        return NULL;
    for (size_t i = 0; i < map->nitem; i++)
        if (strcmp(map->item[i].key, key) == 0)
            return &map->item[i];
    return NULL;
}

const char *ts_node_kind_name(const ts_node *n) {
    return n->kind == TS_NODE_MAP ? "a mapping" : n->kind == TS_NODE_LIST ? "a list" : "a value";
}

ts_status ts_node_error(ts_error *err, const ts_node *n, const char *key, const char *fmt, ...) {
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ts_error_set(err, TS_EINPUT, n->file, n->line, n->col, key, "%s", msg);
}

ts_status ts_node_need(const ts_node *n, ts_node_kind kind, const char *key, ts_error *err) {
    static const char *const want[] = {"a value", "a list", "a mapping"};
    if (n->kind == kind)
        return TS_OK;
    return ts_node_error(err, n, key, "%s must be %s, got %s", key, want[kind],
                         ts_node_kind_name(n));
}

ts_status ts_node_known_keys(const ts_node *n, const char *path, const char *const *allowed,
                             ts_error *err) {
    for (size_t i = 0; i < n->nitem; i++) {
        size_t a = 0;
        while (allowed[a] && strcmp(allowed[a], n->item[i].key) != 0)
            a++;
        if (allowed[a])
            continue;
        char list[256] = "";
        for (a = 0; allowed[a]; a++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", a ? ", " : "",
                     allowed[a]);
        return ts_node_error(err, &n->item[i], path, "unknown key '%s' in %s (allowed: %s)",
                             n->item[i].key, path, list);
    }
    return TS_OK;
}

/* A number in [lo, hi] from scalar n; whole: an integer. */
static ts_status node_number(const ts_node *n, const char *key, double lo, double hi, int whole,
                             double *out, ts_error *err) {
    if (ts_node_need(n, TS_NODE_SCALAR, key, err))
        return TS_EINPUT;
    char *end;
    double v = strtod(n->text, &end);
    if (end == n->text || *end || !(v >= lo && v <= hi) || (whole && v != floor(v)))
        return ts_node_error(err, n, key, "%s must be %s in [%.*g, %.*g], got '%s'", key,
                             whole ? "an integer" : "a number", whole ? 17 : 6, lo,
                             whole ? 17 : 6, hi, n->text);
    *out = v;
    return TS_OK;
}

ts_status ts_node_whole(const ts_node *n, const char *key, double lo, double hi, double *out,
                        ts_error *err) {
    return node_number(n, key, lo, hi, 1, out, err);
}

ts_status ts_node_number(const ts_node *n, const char *key, double lo, double hi, double *out,
                         ts_error *err) {
    return node_number(n, key, lo, hi, 0, out, err);
}
