/* Paired statistics of two scenarios run with common random numbers
 * (talentsim/compare.h, docs/compare.md).
 *
 * For a metric and year, replication r gives the pair (x_r, ref_r) and the
 * difference d_r = x_r - ref_r. The mean, sd and 2.5/97.5% quantiles of d
 * are those of ts_summary_of (stats.c), so a comparison reads like the
 * summaries. Replications where either value is NaN are left out.
 *
 * Variance reduction. Under independent streams the difference of one
 * replication of each scenario would have variance V_ind = Var(x) +
 * Var(ref); under common random numbers it has V_pair = Var(x) + Var(ref) -
 * 2 Cov(x, ref). Replications r and r+1 use independent streams, so x_r -
 * ref_{r+1 mod R} is a difference of independent runs, and
 *     variance_reduction = var_r(x_r - ref_{r+1}) / var_r(x_r - ref_r)
 * estimates V_ind / V_pair (how many times as many replications independent
 * runs would need for the same precision) from the same R replications. It
 * is an estimate: a ratio of two sample variances, and neighbouring terms of
 * the shifted sum share a replication (x_{r+1} with ref_{r+1}), which biases
 * the numerator by about 2 Cov(x, ref) / (R - 1). */
#include <gsl/gsl_statistics_double.h>
#include <inttypes.h>
#include <math.h>

#include "talentsim/compare.h"
#include "talentsim/stats.h"

ts_status ts_compare_check_results(const ts_results *ref, const ts_results *x,
                                   ts_error *err) {
    if (!ref || !x)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "", "comparison without results");
    if (ref->nrep == x->nrep && ref->nyear == x->nyear && ref->year0 == x->year0)
        return TS_OK;
    return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                        "cannot pair results of %zu replications over %zu years from %" PRId64
                        " with %zu replications over %zu years from %" PRId64,
                        x->nrep, x->nyear, x->year0, ref->nrep, ref->nyear, ref->year0);
}

ts_status ts_compare_check_years(const ts_scenario *ref, const ts_scenario *sc,
                                 ts_error *err) {
    const ts_params *a = &ref->base, *b = &sc->base;
    if (a->years.start == b->years.start && a->years.end == b->years.end &&
        a->years.spinup == b->years.spinup)
        return TS_OK;
    return ts_error_set(err, TS_EINPUT, sc->path, 0, 0, "years",
                        "years %" PRId64 "-%" PRId64 " (spinup %" PRId64 ") differ from those "
                        "of the reference '%s', %" PRId64 "-%" PRId64 " (spinup %" PRId64 "); "
                        "compared scenarios need the same years.start, years.end and "
                        "years.spinup", b->years.start, b->years.end, b->years.spinup,
                        ref->path, a->years.start, a->years.end, a->years.spinup);
}

static void stat_set_nan(ts_compare_stat *s) {
    s->mean_diff = s->sd_diff = s->p2_5 = s->p97_5 = NAN;
    s->rel_diff = s->variance_reduction = NAN;
    s->n = 0;
}

/* d[r] = x_{r} - ref_{(r + shift) mod R}, NaN when either is missing. */
static void differences(const ts_results *ref, const ts_results *x, size_t y, ts_metric m,
                        size_t shift, double *d) {
    size_t nrep = ref->nrep;
    for (size_t r = 0; r < nrep; r++)
        d[r] = ts_results_get(x, r, y, m) - ts_results_get(ref, (r + shift) % nrep, y, m);
}

/* Sample variance (n-1) of the non-NaN values of d[0..n-1], copied into
 * work; NaN with fewer than two. */
static double variance_of(const double *d, size_t n, double *work) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(d[i]))
            work[k++] = d[i];
    return k < 2 ? NAN : gsl_stats_variance(work, 1, k);
}

/* mean_diff over the mean of ref_r in the replications where d_r exists. */
static double relative(const ts_results *ref, size_t y, ts_metric m, const double *d,
                       double mean_diff) {
    double sum = 0.0;
    size_t k = 0;
    for (size_t r = 0; r < ref->nrep; r++)
        if (!isnan(d[r])) {
            sum += ts_results_get(ref, r, y, m);
            k++;
        }
    double mean = k ? sum / (double)k : 0.0;
    return mean != 0.0 ? mean_diff / mean : NAN;
}

/* V_ind / V_pair (see the top); NaN when V_pair is 0 or undefined. */
static double reduction(const ts_results *ref, const ts_results *x, size_t y, ts_metric m,
                        double *work) {
    size_t nrep = ref->nrep;
    double *d = work, *tmp = work + nrep;
    differences(ref, x, y, m, 0, d);
    double paired = variance_of(d, nrep, tmp);
    if (!(paired > 0.0))
        return NAN;
    differences(ref, x, y, m, 1, d);
    return variance_of(d, nrep, tmp) / paired;
}

void ts_compare_metric(const ts_results *ref, const ts_results *x, size_t y,
                       ts_metric m, double *work, ts_compare_stat *out) {
    stat_set_nan(out);
    if (ts_compare_check_results(ref, x, NULL) != TS_OK || y >= ref->nyear ||
        (unsigned)m >= TS_NMETRICS)
        return;
    double *d = work, *tmp = work + ref->nrep;
    differences(ref, x, y, m, 0, d);
    ts_summary s;
    ts_summary_of(d, ref->nrep, tmp, &s);
    if (s.n == 0)
        return;
    out->n = s.n;
    out->mean_diff = s.mean;
    out->sd_diff = s.sd;
    out->p2_5 = s.p2_5;
    out->p97_5 = s.p97_5;
    out->rel_diff = relative(ref, y, m, d, s.mean);
    out->variance_reduction = reduction(ref, x, y, m, work);
}
