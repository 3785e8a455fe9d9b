/* Paired comparison of scenarios run with common random numbers.
 *
 * Replication r of two scenarios run with the same seed uses the same random
 * number for the same agent, year and decision, so x_r (the scenario) and
 * ref_r (the reference) are a matched pair. The comparison summarises the
 * per-replication differences d_r = x_r - ref_r, whose spread is that of the
 * policy's effect rather than of two independent sampling noises.
 *
 * The statistics are in sim/analysis/compare.c; the CSV writer (compare.csv,
 * written atomically) in sim/io/compare_csv.c, beside the other writers
 * whose number format it shares. docs/compare.md describes the columns. */
#ifndef TALENTSIM_COMPARE_H
#define TALENTSIM_COMPARE_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "talentsim/error.h"
#include "talentsim/results.h"
#include "talentsim/scenario.h"

/* The file the comparison writes into its output directory. */
#define TS_COMPARE_CSV "compare.csv"

/* The paired statistics of one metric in one year. A pair is a replication
 * in which both scenarios have a value (not NaN); the others are left out. */
typedef struct {
    double mean_diff, sd_diff; /* mean and sd (n-1 denominator, 0 for one pair) of d_r */
    double p2_5, p97_5;        /* quantiles of d_r, the rule of talentsim/stats.h */
    double rel_diff;           /* mean_diff / mean of ref_r over the pairs; NaN when
                                  that mean is 0 or there is no pair */
    double variance_reduction; /* var(x_r - ref_{r+1 mod R}) / var(d_r): the variance
                                  of a difference of independent runs over the paired
                                  one, estimated from the same replications; NaN
                                  with fewer than 2 pairs or a paired variance of 0 */
    size_t n;                  /* pairs; every other field is NaN when 0 */
} ts_compare_stat;

/* 0 when ref and x can be compared (same replications and recorded years),
 * else TS_EINPUT with the sizes in the message. */
ts_status ts_compare_check_results(const ts_results *ref, const ts_results *x,
                                   ts_error *err);

/* TS_OK when sc simulates the same years as ref (years.start, years.end and
 * years.spinup); else TS_EINPUT naming both files and their values. */
ts_status ts_compare_check_years(const ts_scenario *ref, const ts_scenario *sc,
                                 ts_error *err);

/* Paired statistics of metric m in year index y, x against ref. work has
 * room for 2 * ref->nrep doubles. All fields NaN (n = 0) when the results
 * cannot be compared (ts_compare_check_results) or y is out of range. */
void ts_compare_metric(const ts_results *ref, const ts_results *x, size_t y,
                       ts_metric m, double *work, ts_compare_stat *out);

/* A scenario's name and results, as the writer needs them. */
typedef struct {
    const char *name;
    const ts_results *res;
} ts_compare_run;

/* compare.csv to f: a header, then for each of runs[0..n-1] (in that
 * order), each year and each metric (metrics.h order) one row against ref.
 * The results must pass ts_compare_check_results. 0, or -1 on a stream
 * error or when out of memory. */
int ts_compare_write_csv(FILE *f, const ts_compare_run *ref,
                         const ts_compare_run *runs, size_t n);

/* compare.csv into dir, atomically (talentsim/output.h, ts_atomic_*): a
 * reader sees the complete file or none. When *stop (may be NULL) is set
 * once the rows are written, nothing is renamed into place: TS_ERUNTIME,
 * "interrupted". TS_EINPUT when a run cannot be compared with ref. */
ts_status ts_compare_write_file(const char *dir, const ts_compare_run *ref,
                                const ts_compare_run *runs, size_t n,
                                volatile sig_atomic_t *stop, ts_error *err);

#endif
