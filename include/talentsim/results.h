/* Simulation results: one value per replication, year and metric, as a flat
 * array. The engine (sim.h) fills them; the writers (output.h) and the
 * analyses (stats.h, patterns.h) read them. */
#ifndef TALENTSIM_RESULTS_H
#define TALENTSIM_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include "talentsim/metrics.h"

typedef struct {
    size_t nrep, nyear;  /* replications, years (years.end - years.start + 1) */
    int64_t year0;       /* years.start */
    double *v;           /* v[(rep * nyear + y) * TS_NMETRICS + m] */
    double agent_years;  /* active agent-years simulated, spin-up included, all replications */
} ts_results;

static inline double ts_results_get(const ts_results *r, size_t rep, size_t y,
                                    ts_metric m) {
    return r->v[(rep * r->nyear + y) * TS_NMETRICS + (size_t)m];
}

/* Index of year among the recorded years of r, or -1 when it was not
 * recorded. */
static inline long ts_results_year_index(const ts_results *r, int64_t year) {
    if (year < r->year0)
        return -1;
    uint64_t d = (uint64_t)(year - r->year0);
    return d < r->nyear ? (long)d : -1;
}

ts_results *ts_results_alloc(size_t nrep, size_t nyear, int64_t year0);
void ts_results_free(ts_results *r);

#endif
