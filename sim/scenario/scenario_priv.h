/* Library-internal helpers shared by params.c, scenario.c and
 * scenario_yaml.c (sim/scenario/). Not part of the public API (not in include/). */
#ifndef TALENTSIM_SCENARIO_PRIV_H
#define TALENTSIM_SCENARIO_PRIV_H

#include <stddef.h>

#include "talentsim/scenario.h"

/* Where a value was written, for messages; file "" and line 0 if unknown. */
typedef struct {
    const char *file;
    int line, col;
} ts_src_pos;

/* Levenshtein distance (params.c); very long strings count as far apart. */
size_t ts_edit_distance(const char *a, const char *b);

/* Checks policy i of sc against the base years (from <= to, both inside
 * [years.start, years.end]) and its settings (a known, non-static key and a
 * value in range). from_pos/to_pos locate its `from`/`to` values (NULL:
 * sc->path, position unknown). (scenario.c) */
ts_status ts_scenario_check_policy(const ts_scenario *sc, size_t i,
                                   const ts_src_pos *from_pos,
                                   const ts_src_pos *to_pos, ts_error *err);

#endif
