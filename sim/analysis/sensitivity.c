/* Sobol indices from a Saltelli design with bootstrap intervals
 * (sensitivity.h has the estimators).
 *
 * Every estimate, the point estimate and each bootstrap replicate, is a
 * function of a list of base-sample indices (with repeats for a
 * resample), so one routine computes both. The list of usable base
 * samples is built once; a resample draws positions in that list. */
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics.h>

#include "../seed.h"
#include "talentsim/sensitivity.h"


/* Outputs of base sample i: f(A_i), f(B_i), f(AB_i^(0)), ... */
static const double *base_of(const double *y, size_t k, size_t i) {
    return y + i * (k + 2);
}


/* Indices of the base samples whose k+2 outputs are all finite, into
 * keep; returns how many. */
static size_t usable_samples(const double *y, size_t n, size_t k,
                             size_t *keep) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const double *f = base_of(y, k, i);
        size_t c = 0;
        while (c < k + 2 && isfinite(f[c]))
            c++;
        if (c == k + 2)
            keep[m++] = i;
    }
    return m;
}

/* Mean of the pooled f(A), f(B) over base samples idx[0..m-1]; *spread
 * is 0 when those values are all equal. */
static double pooled_mean(const double *y, size_t k, const size_t *idx,
                          size_t m, double *spread) {
    const double *f0 = base_of(y, k, idx[0]);
    double sum = 0.0, lo = f0[0], hi = f0[0];
    for (size_t t = 0; t < m; t++) {
        const double *f = base_of(y, k, idx[t]);
        sum += f[0] + f[1];
        lo = fmin(lo, fmin(f[0], f[1]));
        hi = fmax(hi, fmax(f[0], f[1]));
    }
    *spread = hi - lo;
    return sum / (double)(2 * m);
}

/* Saltelli (2010) S_j and Jansen (1999) ST_j over base samples
 * idx[0..m-1], m >= 1, into s1[0..k-1] and st[0..k-1]. Returns 0 (and
 * sets them NaN) when the pooled f(A), f(B) are all equal. */
static int estimate(const double *y, size_t k, const size_t *idx, size_t m,
                    double *s1, double *st) {
    double spread, mean = pooled_mean(y, k, idx, m, &spread), ss = 0.0;
    for (size_t j = 0; j < k; j++)
        s1[j] = st[j] = 0.0;
    for (size_t t = 0; t < m; t++) {
        const double *f = base_of(y, k, idx[t]);
        double a = f[0] - mean, b = f[1] - mean;
        ss += a * a + b * b;
        for (size_t j = 0; j < k; j++) {
            double d = f[2 + j] - f[0]; /* f(AB^(j)) - f(A) */
            s1[j] += b * d;
            st[j] += d * d;
        }
    }
    double var = ss / (double)(2 * m - 1);
    for (size_t j = 0; j < k; j++) {
        s1[j] = spread > 0.0 ? s1[j] / (double)m / var : NAN;
        st[j] = spread > 0.0 ? st[j] / (double)(2 * m) / var : NAN;
    }
    return spread > 0.0;
}

/* Interval and sd of the non-NaN replicates rep[0], rep[stride], ...
 * (nrep of them); work has room for nrep doubles. */
static void percentile_interval(const double *rep, size_t stride,
                                size_t nrep, double *work, double *lo,
                                double *hi, double *se) {
    size_t c = 0;
    for (size_t b = 0; b < nrep; b++)
        if (!isnan(rep[b * stride]))
            work[c++] = rep[b * stride];
    *lo = *hi = *se = NAN;
    if (c < 2)
        return;
    gsl_sort(work, 1, c);
    *lo = gsl_stats_quantile_from_sorted_data(work, 1, c, 0.025);
    *hi = gsl_stats_quantile_from_sorted_data(work, 1, c, 0.975);
    *se = gsl_stats_sd(work, 1, c);
}

/* Workspace of one analysis, one allocation each, freed together. */
typedef struct {
    size_t *keep; /* usable base samples */
    size_t *draw; /* the base samples of one resample */
    double *rep;  /* rep[b*2k + j] = S_j, rep[b*2k + k + j] = ST_j of replicate b */
    double *work; /* nboot doubles: one index's replicates, sorted */
    double *est;  /* est[j] = S_j, est[k + j] = ST_j over all usable samples */
} workspace;

static void workspace_free(workspace *w) {
    free(w->keep);
    free(w->draw);
    free(w->rep);
    free(w->work);
    free(w->est);
}

static int workspace_alloc(workspace *w, size_t n, size_t k, size_t nboot) {
    w->keep = malloc(n * sizeof *w->keep);
    w->draw = malloc(n * sizeof *w->draw);
    w->rep = malloc((nboot ? nboot : 1) * 2 * k * sizeof *w->rep);
    w->work = malloc((nboot ? nboot : 1) * sizeof *w->work);
    w->est = malloc(2 * k * sizeof *w->est);
    if (w->keep && w->draw && w->rep && w->work && w->est)
        return 1;
    workspace_free(w);
    return 0;
}

/* nboot replicates over the m usable base samples of w->keep; 0 when the
 * random number generator cannot be allocated. */
static int bootstrap(const double *y, size_t k, size_t m, size_t nboot,
                     uint64_t seed, workspace *w) {
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return 0;
    gsl_rng_set(r, ts_seed32(seed, TS_STREAM_BOOTSTRAP));
    for (size_t b = 0; b < nboot; b++) {
        for (size_t t = 0; t < m; t++)
            w->draw[t] = w->keep[gsl_rng_uniform_int(r, (unsigned long)m)];
        double *rep = w->rep + b * 2 * k;
        estimate(y, k, w->draw, m, rep, rep + k);
    }
    gsl_rng_free(r);
    return 1;
}

static void set_nan(ts_sobol_index *out, size_t k) {
    for (size_t j = 0; j < k; j++)
        out[j] = (ts_sobol_index){NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
}

static ts_status check_args(const double *y, size_t n, size_t k,
                            size_t nboot, const ts_sobol_index *out,
                            ts_error *err) {
    if (!y || !out || n == 0 || k == 0)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "Sobol indices need outputs, n > 0 base samples "
                            "and k > 0 parameters (n = %zu, k = %zu)", n, k);
    if (k > SIZE_MAX / 2 / sizeof(double) - 1 ||
        n > SIZE_MAX / sizeof(double) / (k + 2) ||
        (nboot > 0 && nboot > SIZE_MAX / sizeof(double) / 2 / k))
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "Sobol indices of %zu base samples, %zu "
                            "parameters and %zu bootstrap resamples do not "
                            "fit in memory", n, k, nboot);
    if (nboot > 0 && n > 0xFFFFFFFFu) /* gsl_rng_uniform_int's range */
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "the bootstrap handles at most 2^32 - 1 base "
                            "samples, not %zu", n);
    return TS_OK;
}

/* Point estimates over the m usable samples (w->est holds them) and the
 * bootstrap intervals from w->rep, into out. */
static void fill(size_t k, size_t nboot, workspace *w, ts_sobol_index *out) {
    for (size_t j = 0; j < k; j++) {
        ts_sobol_index *o = &out[j];
        o->s1 = w->est[j];
        o->st = w->est[k + j];
        percentile_interval(w->rep + j, 2 * k, nboot, w->work, &o->s1_lo,
                            &o->s1_hi, &o->s1_se);
        percentile_interval(w->rep + k + j, 2 * k, nboot, w->work, &o->st_lo,
                            &o->st_hi, &o->st_se);
    }
}

ts_status ts_sensitivity_saltelli(const double *y, size_t n, size_t k,
                                  size_t nboot, uint64_t seed,
                                  ts_sobol_index *out, size_t *nused,
                                  ts_error *err) {
    if (nused)
        *nused = 0;
    ts_status st = check_args(y, n, k, nboot, out, err);
    if (st != TS_OK)
        return st;
    set_nan(out, k);
    workspace w;
    if (!workspace_alloc(&w, n, k, nboot))
        return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "out of memory");
    size_t m = usable_samples(y, n, k, w.keep);
    if (nused)
        *nused = m;
    if (m < 2)
        st = ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                          "Sobol indices need at least 2 base samples with "
                          "finite outputs; %zu of %zu have them", m, n);
    else if (!estimate(y, k, w.keep, m, w.est, w.est + k))
        st = ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                          "Sobol indices are undefined: the output does not "
                          "vary over the %zu usable base samples", m);
    else if (!bootstrap(y, k, m, nboot, seed, &w))
        st = ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "out of memory");
    else
        fill(k, nboot, &w, out);
    workspace_free(&w);
    return st;
}
