/* A YAML block kept as read, for a layer that interprets it later: the
 * `sweep:` block of a sweep file and the `calibration:` block of a scenario.
 * The scenario loader stores the block (sim/scenario/scenario_yaml.c) with
 * every node's position, so the layer that reads it reports
 * "file:line:col: error: ..." like the loader itself. */
#ifndef TALENTSIM_NODE_H
#define TALENTSIM_NODE_H

#include <stddef.h>

#include "talentsim/error.h"

typedef enum { TS_NODE_SCALAR, TS_NODE_LIST, TS_NODE_MAP } ts_node_kind;

typedef struct ts_node {
    ts_node_kind kind;
    char *text;            /* a scalar's text, else NULL */
    char *key;             /* the key of a mapping's entry, else NULL */
    struct ts_node *item;  /* entries of a list or a mapping, in file order */
    size_t nitem;
    char *file;            /* where the node was read */
    int line, col;         /* 1-based */
} ts_node;

/* Deep copy (NULL on NULL or out of memory); ts_node_free frees a tree made
 * by ts_node_copy or by the loader (the root itself included). */
ts_node *ts_node_copy(const ts_node *n);
void ts_node_free(ts_node *n);

/* The entry of mapping `map` under key, or NULL (also when map is not a
 * mapping). */
const ts_node *ts_node_get(const ts_node *map, const char *key);

/* "a mapping", "a list" or "a value", for messages. */
const char *ts_node_kind_name(const ts_node *n);

/* ---- reading a block, with messages at the node's position ---- */

/* TS_EINPUT at n's position about key path `key`; returns TS_EINPUT. */
ts_status ts_node_error(ts_error *err, const ts_node *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* TS_EINPUT, naming key path and n's kind, unless n is of kind `kind`. */
ts_status ts_node_need(const ts_node *n, ts_node_kind kind, const char *key, ts_error *err);

/* TS_EINPUT when mapping n has a key not in allowed (NULL-terminated); the
 * message lists the allowed keys. */
ts_status ts_node_known_keys(const ts_node *n, const char *path, const char *const *allowed,
                             ts_error *err);

/* A whole number in [lo, hi] from scalar n. */
ts_status ts_node_whole(const ts_node *n, const char *key, double lo, double hi, double *out,
                        ts_error *err);

/* A finite number in [lo, hi] from scalar n. */
ts_status ts_node_number(const ts_node *n, const char *key, double lo, double hi, double *out,
                         ts_error *err);

#endif
