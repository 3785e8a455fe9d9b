/* Pattern-oriented validation: the patterns P1-P6 of MODEL.md section 10.
 *
 * ts_patterns_check runs a scenario and, for P5, paired variants of it with
 * the same seed (common random numbers: replication r of every run sees the
 * same draws), and evaluates each pattern against its criterion. The
 * building blocks (the P5 variant table, paired differences) are public so
 * that tests can check single directions on small populations. */
#ifndef TALENTSIM_PATTERNS_H
#define TALENTSIM_PATTERNS_H

#include <stddef.h>

#include "talentsim/error.h"
#include "talentsim/metrics.h"
#include "talentsim/scenario.h"
#include "talentsim/sim.h"

/* One checked row of the table: P1..P6, P5 with one row per direction. */
typedef struct {
    char id[8];          /* "P1", "P5a", ... */
    char pattern[96];    /* what must hold, in words */
    char figure[160];    /* what the run shows */
    char criterion[128]; /* the rule applied */
    int pass;            /* 1 pass, 0 fail */
} ts_pattern_row;

typedef struct {
    ts_pattern_row *rows;
    size_t n;
    size_t nfail;
} ts_pattern_report;

void ts_pattern_report_free(ts_pattern_report *r);

/* A P5 variant: from year `from` on, key is moved by `amount` from the
 * scenario's value in that year (ADD, clipped to the parameter's range) or
 * set to it (SET). */
typedef enum { TS_VARY_ADD, TS_VARY_SET } ts_vary_op;

typedef struct {
    const char *name;   /* "more_suspicion" */
    const char *key;    /* parameter key */
    ts_vary_op op;
    double amount;
} ts_p5_variant;

/* A direction of P5: metric in the variant minus the baseline, averaged
 * over years from + offset .. years.end, has the sign `sign`. */
typedef struct {
    const char *id;      /* "P5a" */
    const char *what;    /* "more suspicion -> more academic departures" */
    size_t variant;      /* index into the variant table */
    ts_metric metric;
    int offset;          /* first year of the window, years after `from` */
    int sign;            /* +1: variant above baseline; -1 below */
} ts_p5_direction;

size_t ts_p5_variant_count(void);
const ts_p5_variant *ts_p5_variant_at(size_t i);
size_t ts_p5_direction_count(void);
const ts_p5_direction *ts_p5_direction_at(size_t i);

/* The scenario sc with variant v applied from year `from` (a new policy
 * named after the variant). Fails with TS_EINPUT when `from` is outside the
 * simulated years or the variant would not change the parameter. */
ts_status ts_p5_variant_make(const ts_scenario *sc, size_t v, int64_t from,
                             ts_scenario **out, ts_error *err);

/* Paired difference of metric m, averaged per replication over year indices
 * y0..y1 (NaN years skipped), variant minus base: mean and standard error
 * over replications. Both results must have the same shape. Returns the
 * number of replications used. */
size_t ts_paired_difference(const ts_results *base, const ts_results *var, ts_metric m,
                            size_t y0, size_t y1, double *mean, double *se);

typedef struct {
    int64_t p5_from;  /* year the P5 variants diverge (MODEL 9: 2023) */
    double k_se;      /* P5 margin in standard errors (default 3) */
    int no_variants;  /* 1: skip P5 (one run instead of six) */
} ts_pattern_opts;

/* Runs sc (and its P5 variants) and evaluates P1-P6 into *out. */
ts_status ts_patterns_check(const ts_scenario *sc, const ts_run_opts *run,
                            const ts_pattern_opts *opt, ts_pattern_report *out,
                            ts_error *err);

#endif
