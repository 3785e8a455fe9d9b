/* YAML blocks kept as read (talentsim/node.h). */
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
