/* A scenario: base parameter values, time-bounded policies and targets.
 *
 * Loaded from YAML (libyaml). A scenario may `extends:` another file (path
 * relative to the extending file; `base:` is the same key, as sweep files
 * write it); the child's keys override the parent's,
 * the child's policies are appended after the parent's, and the child's
 * targets replace the parent's when it lists any. The effective parameters of
 * year t are the base values with every policy active in t applied in list
 * order (later entries win): ts_scenario_params_at. */
#ifndef TALENTSIM_SCENARIO_H
#define TALENTSIM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "talentsim/error.h"
#include "talentsim/node.h"
#include "talentsim/params.h"

/* Limits on what a scenario may ask for, each defined here once and enforced
 * while reading, before any work that grows faster than the input
 * (docs/limits.md lists them with where they are checked). */
#define TS_MAX_INPUT_BYTES 1048576 /* bytes in one scenario file (1 MiB) */
#define TS_MAX_NESTING 64          /* nested YAML lists and mappings */
#define TS_MAX_NODES 100000        /* YAML nodes (keys, values, lists,
                                      mappings) in one file */
#define TS_MAX_EXTENDS 16          /* files in one `extends:` chain */
#define TS_MAX_YEARS_SPAN 200      /* years.end - years.start */
#define TS_MAX_NAME_LEN 100        /* characters in a scenario name */

typedef struct {
    const ts_param_info *param; /* row of the parameter table */
    double value;               /* checked against the row's range */
} ts_setting;

typedef struct {
    char *name;
    int64_t from, to;  /* inclusive; `to` omitted in YAML = years.end */
    int to_open;       /* 1 when `to` was omitted (dumped as omitted) */
    ts_setting *set;
    size_t nset;
} ts_policy;

typedef struct {
    char *metric;    /* a name from metrics.h */
    int64_t year;
    double observed;
    double n;        /* survey sample size, NaN for counts ("-") */
    char *source;
} ts_target;

/* Blocks a scenario file may carry for a later layer, kept as read
 * (talentsim/node.h): `sweep:` (talentsim/sweep.h), `calibration:`
 * (talentsim/calibrate.h). A file's block replaces the one of the file it
 * extends. A plain run ignores them. */
typedef enum { TS_BLOCK_SWEEP, TS_BLOCK_CALIBRATION, TS_NBLOCKS } ts_block_id;

/* The block's key in YAML ("sweep"). */
const char *ts_block_name(ts_block_id b);

typedef struct {
    char *name;        /* `name:` of the top file, else the file's stem; a
                          directory name for results (ts_scenario_name_ok) */
    char *description; /* `description:`, or "" */
    char *path;        /* file it was loaded from, or "" */
    ts_params base;    /* effective base values (defaults + files + --set) */
    ts_policy *policies;
    size_t npolicies;
    ts_target *targets;
    size_t ntargets;
    ts_node *block[TS_NBLOCKS]; /* NULL when absent */
} ts_scenario;

/* A scenario with default parameters, no policies, no targets. */
ts_scenario *ts_scenario_alloc(const char *name);
void ts_scenario_free(ts_scenario *sc);
ts_scenario *ts_scenario_copy(const ts_scenario *sc);

/* Loads and validates a YAML scenario (following `extends:`). On error returns
 * NULL and fills err with file, line, column and key. */
ts_scenario *ts_scenario_load(const char *path, ts_error *err);

/* Sets a base parameter by key path from text ("visa.work_approval", "0.5").
 * `src` names the origin for messages (e.g. "--set"). Validates the range. */
ts_status ts_scenario_set(ts_scenario *sc, const char *key, const char *value,
                          const char *src, ts_error *err);

/* Parses "key.path=value" and applies it with ts_scenario_set. */
ts_status ts_scenario_set_assignment(ts_scenario *sc, const char *assignment,
                                     ts_error *err);

/* Appends a policy (copies name and settings). */
ts_status ts_scenario_add_policy(ts_scenario *sc, const ts_policy *pol,
                                 ts_error *err);

/* 1 when name can name a results directory: 1 to TS_MAX_NAME_LEN
 * characters from A-Z a-z 0-9 . _ -, not starting with '.'; else 0. */
int ts_scenario_name_ok(const char *name);

/* Checks the name (ts_scenario_name_ok), cross-parameter constraints, policy
 * years against the base years (from <= to, inside [years.start,
 * years.end]), targets (year inside [years.start, years.end], observed in
 * [0, 1] for a share and >= 0 for a count) and that the run simulates at
 * least one agent (start population or inflow after sample_fraction). */
ts_status ts_scenario_validate(const ts_scenario *sc, ts_error *err);

/* A value of a scenario that a sweep or a calibration may vary: a base
 * parameter ("visa.student_approval"), or the value policy NAME sets
 * ("policies.NAME.suspicion.level"; added to the policy when it does not
 * set that parameter yet). */
typedef struct {
    const ts_param_info *param;
    long policy; /* index into sc->policies, or -1: the base value */
} ts_scenario_ref;

/* Resolves key in sc. TS_EINPUT, with the reason (a suggestion for a
 * misspelt key, the scenario's policy names) and key in err but no
 * position, when key names nothing or a policy key names a parameter
 * fixed for a run. */
ts_status ts_scenario_ref_find(const ts_scenario *sc, const char *key, ts_scenario_ref *ref,
                               ts_error *err);

/* The value ref names: the base value, or the policy's setting (the base
 * value when the policy does not set the parameter). */
double ts_scenario_ref_get(const ts_scenario *sc, const ts_scenario_ref *ref);

/* Sets the value ref names (not range-checked: ts_scenario_validate does).
 * TS_ERUNTIME when out of memory. */
ts_status ts_scenario_ref_put(ts_scenario *sc, const ts_scenario_ref *ref, double v,
                              ts_error *err);

/* P_t: base values with every policy active in year applied in order. */
void ts_scenario_params_at(const ts_scenario *sc, int64_t year, ts_params *out);

#endif
