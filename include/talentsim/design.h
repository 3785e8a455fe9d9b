/* Experimental designs on the unit cube for parameter sweeps.
 *
 * A design of n points in k dimensions is a row-major array of n * k
 * doubles: u[i * k + j] is coordinate j of point i, always in [0, 1). The
 * caller maps each column to a parameter's range. Designs are pure
 * functions of (n, k, seed): the same arguments give the same bits.
 *
 * Every function checks its arguments before calling GSL, so GSL's error
 * handler can only be reached when GSL runs out of memory (the CLI turns
 * that handler off). Seeds: GSL's mt19937 takes a 32-bit seed, so the
 * 64-bit seed is hashed (splitmix64) and folded to 32 bits first; seeds
 * that differ only in their high bits still give different designs. */
#ifndef TALENTSIM_DESIGN_H
#define TALENTSIM_DESIGN_H

#include <stddef.h>
#include <stdint.h>

#include "talentsim/error.h"

#define TS_DESIGN_SOBOL_MAXDIM 40          /* GSL's gsl_qrng_sobol limit */
#define TS_DESIGN_SOBOL_MAXN (1UL << 30)   /* GSL's Sobol has 30-bit numerators */
#define TS_DESIGN_SALTELLI_MAXK (TS_DESIGN_SOBOL_MAXDIM / 2)
#define TS_DESIGN_GRID_MAX 10000000UL      /* points of a cartesian grid */

/* Latin hypercube: in every column each stratum [s/n, (s+1)/n) holds
 * exactly one point. Per column, an independent random permutation of the
 * strata (gsl_ran_shuffle) and a uniform jitter inside each stratum
 * (exact in floating point for n < 2^21; beyond, rounding may put a point
 * on the upper edge of its stratum).
 * u has room for n * k doubles. TS_EINPUT on n == 0, k == 0, u == NULL or
 * n * k overflowing; TS_ERUNTIME when out of memory. */
ts_status ts_design_lhs(size_t n, size_t k, uint64_t seed, double *u,
                        ts_error *err);

/* The first n points of the k-dimensional Sobol sequence (gsl_qrng_sobol,
 * origin included: GSL itself starts at the second point), randomised by a
 * digital shift drawn from seed. The first 2^m points of each coordinate
 * then hold exactly one point in each [s/2^m, (s+1)/2^m) (see design.c).
 * TS_EINPUT also when k > TS_DESIGN_SOBOL_MAXDIM or n > TS_DESIGN_SOBOL_MAXN.
 * Power-of-two n keeps the balance properties of the sequence. */
ts_status ts_design_sobol(size_t n, size_t k, uint64_t seed, double *u,
                          ts_error *err);

/* Rows of a Saltelli design: n * (k + 2), or 0 when that overflows or
 * n * (k + 2) * k doubles would not fit in memory's address range. */
size_t ts_design_saltelli_count(size_t n, size_t k);

/* Saltelli design for Sobol indices (see sensitivity.h), from the first n
 * points of a 2k-dimensional shifted Sobol sequence (ts_design_sobol with
 * the same seed): columns 0..k-1 form matrix A, columns k..2k-1 matrix B.
 * Rows are grouped per base sample i, each of k columns:
 *   row i*(k+2) + 0     = A_i
 *   row i*(k+2) + 1     = B_i
 *   row i*(k+2) + 2 + j = AB_i^(j): A_i with column j taken from B_i.
 * u has room for ts_design_saltelli_count(n, k) * k doubles. TS_EINPUT
 * also when k > TS_DESIGN_SALTELLI_MAXK (20). */
ts_status ts_design_saltelli(size_t n, size_t k, uint64_t seed, double *u,
                             ts_error *err);

/* Points of the cartesian product of k parameters taking nvalues[j]
 * values each. 0, with err filled (if not NULL), when k == 0, nvalues is
 * NULL, some nvalues[j] == 0 or the product exceeds TS_DESIGN_GRID_MAX. */
size_t ts_design_grid_count(const size_t *nvalues, size_t k, ts_error *err);

/* Value index idx[j] < nvalues[j] of each parameter at grid point `point`
 * (0 <= point < ts_design_grid_count): mixed-radix digits of point, the
 * last parameter varying fastest. TS_EINPUT when the grid is invalid, idx
 * is NULL or point is out of range. */
ts_status ts_design_grid_index(const size_t *nvalues, size_t k, size_t point,
                               size_t *idx, ts_error *err);

#endif
