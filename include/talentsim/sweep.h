/* Parameter sweeps: a design of points, a runner that evaluates points and
 * stores their results, and a merge (docs/sweeps.md).
 *
 * A sweep file is a scenario file with a `sweep:` block (it names the
 * scenario it extends with `base:`). The block lists the swept parameters
 * by dotted key and the design method; each point of the design is the
 * scenario with those base values replaced. Every point runs with the
 * scenario's seed, so points share their random numbers (common random
 * numbers: differences between points are not blurred by noise).
 *
 * The results of a sweep live in one directory:
 *   sweep.resolved.yaml   the sweep file resolved (it reloads to the same
 *                         design; merge and sensitivity read it)
 *   points/part-ID-*.csv  completed points, a batch of points per file,
 *                         each written atomically (temporary + rename);
 *                         ID is the sweep's definition hash, so files of
 *                         another sweep are recognised and refused
 *   sweep.csv             the merge, long format
 *   failures.csv          the merge's failed points (status and error)
 * Each point is keyed by a hash of its resolved scenario: a re-run skips
 * points whose key is already stored, so a killed run loses only the batch
 * in flight.
 * The merge is sorted by point, so it is byte-identical however the points
 * were run (one process, shards, MPI ranks, resumed). */
#ifndef TALENTSIM_SWEEP_H
#define TALENTSIM_SWEEP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "talentsim/error.h"
#include "talentsim/metrics.h"
#include "talentsim/results.h"
#include "talentsim/scenario.h"
#include "talentsim/sim.h"

#define TS_SWEEP_MAX_PARAMS 32        /* swept parameters in one sweep */
#define TS_SWEEP_MAX_POINTS 1000000   /* points of one design */
#define TS_SWEEP_LARGE_POINTS 10000   /* more points need --allow-large (CLI) */
#define TS_SWEEP_MAX_VALUES 100000    /* values of one grid parameter */
#define TS_SWEEP_KEY_LEN 16           /* hex digits of a point's key */

typedef enum { TS_SWEEP_GRID, TS_SWEEP_LHS, TS_SWEEP_SOBOL, TS_SWEEP_SALTELLI } ts_sweep_method;

/* "grid", "lhs", "sobol", "saltelli". */
const char *ts_sweep_method_name(ts_sweep_method m);

/* A swept value: a base parameter ("visa.student_approval"), or the value a
 * policy sets ("policies.NAME.suspicion.level": the setting of the base
 * scenario's policy NAME, added to it when it does not set that parameter). */
typedef struct {
    char *key;                  /* the key as written */
    ts_scenario_ref ref;        /* what it sets in the base scenario */
    const ts_param_info *param; /* ref.param */
    double *values;   /* grid: the values, in file order */
    size_t nvalues;
    double min, max;  /* sampled methods: the range */
} ts_sweep_param;

typedef struct {
    ts_scenario *base;          /* the scenario without its sweep block,
                                   replications set from the block */
    ts_sweep_method method;
    ts_sweep_param *param;      /* in file order */
    size_t k;
    size_t samples;             /* sampled methods: design size (saltelli:
                                   base samples, points = samples * (k + 2)) */
    uint64_t design_seed;       /* `seed:` of the block, else the scenario's */
    unsigned char keep_metric[TS_NMETRICS]; /* 1: the metric is kept */
    int64_t *years;             /* kept years, ascending */
    size_t nyears;
    size_t npoints;
    double *x;                  /* x[i * k + j]: parameter j at point i */
    char id[TS_SWEEP_KEY_LEN + 1]; /* hash of the sweep's definition (its
                                      resolved YAML, block included) */
} ts_sweep;

/* Reads sc->block[TS_BLOCK_SWEEP] (TS_EINPUT with file:line:col and key when
 * it is missing or wrong) and builds the design. */
ts_sweep *ts_sweep_from_scenario(const ts_scenario *sc, ts_error *err);
void ts_sweep_free(ts_sweep *sw);

/* Point i as a scenario (the base with the point's values). TS_OK when it
 * is valid; TS_EINPUT, with *out still set and why filled, when the model
 * rejects the combination (a failed point); TS_ERUNTIME (*out NULL) when
 * out of memory. */
ts_status ts_sweep_point(const ts_sweep *sw, size_t i, ts_scenario **out, ts_error *why);

/* The key of a scenario: the first TS_SWEEP_KEY_LEN hex digits of the
 * SHA-256 of its resolved YAML (a point's key; a sweep's id). */
ts_status ts_sweep_point_key(const ts_scenario *pt, char key[TS_SWEEP_KEY_LEN + 1],
                             ts_error *err);

/* The value of parameter j at point i as text (ts_param_format). */
void ts_sweep_value_text(const ts_sweep *sw, size_t i, size_t j, char *buf, size_t n);

/* The design as CSV: "point" and one column per swept key, then a row per
 * point (the parameter columns of sweep.csv). 0, or -1 on a stream error. */
int ts_sweep_write_design(FILE *f, const ts_sweep *sw);

/* ---- the store (a results directory) ---- */

/* Prepares dir for sw: creates dir and dir/points, writes
 * sweep.resolved.yaml, or checks that the one there describes the same
 * sweep (TS_EINPUT when dir holds another sweep). */
ts_status ts_sweep_store_open(const char *dir, const ts_scenario *sweep_sc, ts_error *err);

/* Marks done[i] = 1 for every point i whose current key has a row in a part
 * file of dir (done has sw->npoints entries, zeroed by the caller). keys
 * holds the points' keys (npoints * (TS_SWEEP_KEY_LEN + 1) chars, from
 * ts_sweep_keys). */
ts_status ts_sweep_store_done(const char *dir, const ts_sweep *sw, const char *keys,
                              unsigned char *done, ts_error *err);

/* Every point's key, npoints * (TS_SWEEP_KEY_LEN + 1) chars (NUL after
 * each); NULL when out of memory. */
char *ts_sweep_keys(const ts_sweep *sw, ts_error *err);

/* Runs points idx[0..n) together (ts_sim_run_many, sharing their common
 * prefix) and writes their rows as one new part file of dir, atomically.
 * A point the model rejects is stored as a failed row. keys from
 * ts_sweep_keys. */
ts_status ts_sweep_run_batch(const ts_sweep *sw, const char *keys, const size_t *idx, size_t n,
                             const ts_run_opts *opt, const char *dir, ts_error *err);

/* What a merge found (all lists are point indices, ascending). */
typedef struct {
    size_t npoints, ok, failed;
    size_t *missing, nmissing;
    size_t *duplicated, nduplicated; /* stored more than once, identically */
    size_t *conflicting, nconflicting; /* stored more than once, differently */
    size_t stale;                    /* stored rows whose point key does not
                                        match the design's: ignored */
} ts_sweep_merge_report;

void ts_sweep_merge_report_free(ts_sweep_merge_report *r);

/* Per point, the mean of each kept (year, metric) over replications:
 * m[(i * nyears + y) * TS_NMETRICS + metric], NaN for a failed point, a
 * metric not kept, or an undefined value. status[i]: 1 ok, 2 failed, 0
 * missing. Filled by ts_sweep_merge when the caller passes a non-NULL
 * table. */
typedef struct {
    double *m;
    unsigned char *status;
} ts_sweep_table;

void ts_sweep_table_free(ts_sweep_table *t);

/* Reads every part file of dir. When the sweep is complete (no missing or
 * conflicting point), writes sweep.csv (point, one column per swept
 * parameter, year, metric, mean, sd, p2_5, p50, p97_5) and failures.csv
 * (point, parameters, status, error) atomically; otherwise writes nothing.
 * Fills rep either way; table (may be NULL) gets the point means. */
ts_status ts_sweep_merge(const char *dir, const ts_sweep *sw, ts_sweep_merge_report *rep,
                         ts_sweep_table *table, ts_error *err);

/* Loads dir/sweep.resolved.yaml and its design. */
ts_sweep *ts_sweep_load_dir(const char *dir, ts_scenario **sc_out, ts_error *err);

#endif
