/* Variance-based (Sobol) sensitivity indices from a Saltelli design.
 *
 * The model is run at every row of ts_design_saltelli(n, k, ...) (design.h)
 * and its outputs y[] keep the design's layout: for base sample i,
 *   y[i*(k+2) + 0]     = f(A_i)
 *   y[i*(k+2) + 1]     = f(B_i)
 *   y[i*(k+2) + 2 + j] = f(AB_i^(j)), A_i with column j from B_i.
 *
 * With the N usable base samples, m the mean and V the variance (2N - 1
 * denominator) of the 2N pooled values f(A_i), f(B_i):
 *   S_j  = (1/N) sum_i (f(B_i) - m) (f(AB_i^(j)) - f(A_i)) / V
 *          (Saltelli et al. 2010, Table 2 (b); centring the outputs on m
 *          leaves its expectation unchanged and makes the estimate
 *          invariant to adding a constant to y)
 *   ST_j = (1/(2N)) sum_i (f(A_i) - f(AB_i^(j)))^2 / V   (Jansen 1999)
 *
 * Confidence: nboot bootstrap resamples of the base samples (drawn with
 * replacement, GSL mt19937 seeded from seed, so the same seed gives the
 * same bits); the interval is the 2.5% and 97.5% quantiles of the
 * replicates (GSL's interpolation rule, as in stats.h), se their standard
 * deviation. Replicates whose pooled f(A), f(B) are all equal are left
 * out. For a Sobol (QMC) design the bootstrap treats the points as
 * independent and so overstates the error: the intervals are conservative. */
#ifndef TALENTSIM_SENSITIVITY_H
#define TALENTSIM_SENSITIVITY_H

#include <stddef.h>
#include <stdint.h>

#include "talentsim/error.h"

typedef struct {
    double s1, s1_lo, s1_hi, s1_se; /* first order, 95% interval, bootstrap sd */
    double st, st_lo, st_hi, st_se; /* total order, likewise */
} ts_sobol_index;

/* Sobol indices of the k parameters into out[0..k-1] from y[0..n*(k+2)-1].
 *
 * A base sample with any non-finite output (NaN: a failed run, or
 * infinite) among its k+2 is dropped; *nused (if nused is not NULL)
 * receives the number kept. nboot == 0 skips the bootstrap: the _lo, _hi
 * and _se fields are NaN; they are also NaN when fewer than two
 * replicates are usable.
 *
 * TS_EINPUT, out untouched and *nused = 0: y or out NULL, n or k zero,
 * n*(k+2) or nboot*2k overflowing.
 * TS_EINPUT with every field of out NaN and *nused set: fewer than 2
 * usable base samples, or the pooled f(A), f(B) all equal (zero
 * variance: the indices are undefined). A caller sweeping many outputs
 * may treat this as "no indices" and go on.
 * TS_ERUNTIME: out of memory. */
ts_status ts_sensitivity_saltelli(const double *y, size_t n, size_t k,
                                  size_t nboot, uint64_t seed,
                                  ts_sobol_index *out, size_t *nused,
                                  ts_error *err);

#endif
