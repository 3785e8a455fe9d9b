/* Summaries over replications and the target check of MODEL.md section 7. */
#ifndef TALENTSIM_STATS_H
#define TALENTSIM_STATS_H

#include <stddef.h>

#include "talentsim/scenario.h"
#include "talentsim/results.h"

typedef struct {
    double mean, sd;           /* sd with n-1 denominator (0 when n == 1) */
    double p2_5, p50, p97_5;   /* quantiles, GSL's interpolation rule */
    size_t n;                  /* non-NaN values used; all fields NaN if 0 */
} ts_summary;

/* Summary of x[0..n-1] ignoring NaN; work has room for n doubles. */
void ts_summary_of(const double *x, size_t n, double *work, ts_summary *s);

/* Summary of metric m in year index y over all replications. */
void ts_summary_metric(const ts_results *r, size_t y, ts_metric m,
                       double *work, ts_summary *s);

typedef struct {
    const ts_target *target;
    ts_summary sim;  /* simulated distribution of the metric in that year */
    double halfwidth_extra; /* sqrt(p(1-p)/n) for shares, sqrt(observed) for counts */
    int met;         /* 1 met, 0 missed, -1 not evaluable (year outside run or no data) */
} ts_target_eval;

/* MODEL 7: a target is met when observed lies in [p2_5 - e, p97_5 + e]. */
void ts_target_evaluate(const ts_target *t, const ts_results *r,
                        double *work, ts_target_eval *out);

#endif
