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

/* Checks target i of sc: a known metric, n positive or NaN, year inside
 * [years.start, years.end], observed finite, in [0, 1] for a share and
 * >= 0 for a count. year_pos/obs_pos locate its `year`/`observed` values
 * (NULL: sc->path, position unknown). (scenario.c) */
ts_status ts_scenario_check_target(const ts_scenario *sc, size_t i,
                                   const ts_src_pos *year_pos,
                                   const ts_src_pos *obs_pos, ts_error *err);

/* Checks that the run simulates at least one agent: some start count or
 * some year's inflow is at least one agent after sample_fraction. On
 * failure err->key is sample_fraction (when below 1) or
 * population.us.students, and the position is unknown. (scenario.c) */
ts_status ts_scenario_check_agents(const ts_scenario *sc, ts_error *err);

/* Checks name with ts_scenario_name_ok; the message gives the rule, and
 * says where the name came from when origin is not NULL ("the file
 * name"). (scenario.c) */
ts_status ts_scenario_check_name(const char *name, const ts_src_pos *pos,
                                 const char *origin, ts_error *err);

/* Sets `to` of every open-ended policy to base.years.end. (scenario.c) */
void ts_scenario_sync_open(ts_scenario *sc);

#endif
