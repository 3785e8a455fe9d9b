/* The yearly tally: what the engine counts and sums over the agents of one
 * block in one year (MODEL.md section 6), and the metrics computed from it.
 *
 * Internal to the engine (and its tests). The metric table TS_METRICS in
 * talentsim/metrics.h names, per metric, the slots below it is computed
 * from; ts_metrics_of is the only reader. Integer slots are order-free;
 * floating slots are combined in block order (sim.c) for determinism. */
#ifndef TS_TALLY_H
#define TS_TALLY_H

#include <stdint.h>

#include "talentsim/metrics.h"
#include "talentsim/params.h"

/* Integer tallies. The stock slots are indexed TS_C_STOCK + 4 loc + stage,
 * with the location's total at stage 3. */
typedef enum {
    TS_C_AGENT_YEARS,     /* active at the start of the year */
    TS_C_START_US_ACAD,   /* US EARLY+SENIOR ACADEMIA at the start of the year */
    TS_C_STOCK,           /* end of year, by location and stage */
    TS_C_STOCK_US_STUDENT = TS_C_STOCK, TS_C_STOCK_US_EARLY, TS_C_STOCK_US_SENIOR,
    TS_C_STOCK_US_TOTAL, TS_C_STOCK_CN_STUDENT, TS_C_STOCK_CN_EARLY,
    TS_C_STOCK_CN_SENIOR, TS_C_STOCK_CN_TOTAL,
    TS_C_US_ACADEMIA,     /* US EARLY+SENIOR ACADEMIA at the end of the year */
    TS_C_US_INDUSTRY,
    TS_C_TOP_ALL, TS_C_TOP_US,     /* active with q >= top-decile cut; in the US */
    TS_C_US_TO_CN,        /* US->CN moves of agents EARLY/SENIOR when they move */
    TS_C_US_TO_CN_ACAD,   /* ... ACADEMIA and EARLY/SENIOR at the start of the year */
    TS_C_CN_TO_US,
    TS_C_FORCED,          /* visa_expiry + no_work_visa */
    TS_C_FORCED_ACAD,     /* forced moves among TS_C_US_TO_CN_ACAD */
    TS_C_VOLUNTARY,       /* US->CN moves by choice (graduates choosing China included) */
    TS_C_STAYERS,         /* US EARLY/SENIOR at the end of the year that did not move */
    TS_C_GRAD_US, TS_C_GRAD_STAY_US,
    TS_C_INFLOW_US, TS_C_INFLOW_CN, /* new students (set by the engine, not agents) */
    TS_C_UNSAFE, TS_C_CONSIDERED, TS_C_COLLAB_WORRY, TS_C_GRANT_RELUCTANT,
    TS_C_US_ACAD_COLLAB,  /* US academics with a collaboration */
    TS_C_COHORT_ALL, TS_C_COHORT_US, /* active US graduates of t-5; in the US */
    TS_NCOUNT
} ts_count;

/* Floating sums. */
typedef enum {
    TS_S_TALENT_US, TS_S_TALENT_CN, TS_S_FEAR_US_ACAD,
    TS_S_PAPERS_US, TS_S_PAPERS_CN, TS_S_PAPERS_JOINT,
    TS_S_Q_VOLUNTARY,     /* sum of q over TS_C_VOLUNTARY */
    TS_S_Q_STAYERS,       /* sum of q over TS_C_STAYERS */
    TS_S_ECO_GAP,         /* A_CN - A_US of the year (set by the engine) */
    TS_NSUM
} ts_sum;

/* Rows per block (pop.h): the engine forms floating sums per block of this
 * many rows and adds the blocks in order (sim.c). */
#define TS_BLOCK 4096

typedef struct {
    int64_t n[TS_NCOUNT];
    double s[TS_NSUM];
} ts_tally;

/* MODEL 6: one year's metrics m[TS_NMETRICS] from the combined tally, counts
 * divided by fraction (sample_fraction). */
void ts_metrics_of(const ts_tally *t, double fraction, double *m);

/* The aggregates carried from one year to the next (MODEL 4 step 5). */
typedef struct {
    double share0[2];     /* S_c,0: talent shares of the start population, by ts_loc */
    double share_prev[2]; /* S_c,t-1 */
    double d_prev;        /* d_{t-1}: last year's academic departure rate */
    int have_prev;        /* 0 in the first simulated year */
} ts_carry;

/* The carry of the first simulated year from the start population's talent
 * sums T_US, T_CN. */
void ts_carry_start(ts_carry *c, const double talent[2]);

/* MODEL 4 step 5: S_c,t = T_c / (T_US + T_CN) and d_t = academic US->CN
 * moves in t / US academic stock at the start of t (0 when that is 0). */
void ts_carry_update(ts_carry *c, const ts_tally *t);

/* MODEL 5: A_c = eco.elasticity (S_c,t-1 - S_c,0), 0 in the first year. */
void ts_carry_eco(const ts_carry *c, const ts_params *p, double a[2]);

#endif
