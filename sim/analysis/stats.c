/* Summaries over replications and the target check (MODEL.md sections 6-7).
 *
 * A summary ignores NaN (a metric undefined in a replication-year) and uses
 * GSL's quantile rule on the sorted values: with idx = (n-1) f, the value is
 * x[floor(idx)] interpolated linearly towards x[floor(idx)+1]. */
#include <math.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics.h>

#include "talentsim/metrics.h"
#include "talentsim/stats.h"

static void summary_set_nan(ts_summary *s) {
    s->mean = s->sd = NAN;
    s->p2_5 = s->p50 = s->p97_5 = NAN;
    s->n = 0;
}

/* Copies the non-NaN values of x into work; returns how many. x may equal
 * work: the write position never passes the read position. */
static size_t drop_nan(const double *x, size_t n, double *work) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i]))
            work[k++] = x[i];
    return k;
}

void ts_summary_of(const double *x, size_t n, double *work, ts_summary *s) {
    size_t k = drop_nan(x, n, work);
    if (k == 0) {
        summary_set_nan(s);
        return;
    }
    gsl_sort(work, 1, k);
    s->n = k;
    s->mean = gsl_stats_mean(work, 1, k);
    s->sd = k > 1 ? gsl_stats_sd_m(work, 1, k, s->mean) : 0.0;
    s->p2_5 = gsl_stats_quantile_from_sorted_data(work, 1, k, 0.025);
    s->p50 = gsl_stats_quantile_from_sorted_data(work, 1, k, 0.5);
    s->p97_5 = gsl_stats_quantile_from_sorted_data(work, 1, k, 0.975);
}

/* work has room for r->nrep doubles; the values are gathered into it and
 * summarised in place. */
void ts_summary_metric(const ts_results *r, size_t y, ts_metric m,
                       double *work, ts_summary *s) {
    if (!r || y >= r->nyear || (unsigned)m >= TS_NMETRICS) {
        summary_set_nan(s);
        return;
    }
    for (size_t rep = 0; rep < r->nrep; rep++)
        work[rep] = ts_results_get(r, rep, y, m);
    ts_summary_of(work, r->nrep, work, s);
}

/* MODEL 7: the survey's sampling error sqrt(p(1-p)/n) for a share target (n
 * given), the Poisson error sqrt(observed) for a count target (n = NaN). */
static double target_extra(const ts_target *t) {
    if (isnan(t->n))
        return sqrt(t->observed);
    return sqrt(t->observed * (1.0 - t->observed) / t->n);
}

/* Year index of the target in r, or -1 when the year is outside the run. */
void ts_target_evaluate(const ts_target *t, const ts_results *r,
                        double *work, ts_target_eval *out) {
    out->target = t;
    out->halfwidth_extra = target_extra(t);
    out->met = -1;
    summary_set_nan(&out->sim);
    int m = ts_metric_find(t->metric);
    long y = r ? ts_results_year_index(r, t->year) : -1;
    if (m < 0 || y < 0)
        return;
    ts_summary_metric(r, (size_t)y, (ts_metric)m, work, &out->sim);
    double e = out->halfwidth_extra;
    if (out->sim.n == 0 || !isfinite(e) || isnan(t->observed))
        return;
    out->met = out->sim.p2_5 - e <= t->observed &&
               t->observed <= out->sim.p97_5 + e;
}
