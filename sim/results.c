/* Result arrays: one value per replication, year and metric. */
#include <math.h>
#include <stdlib.h>

#include "talentsim/results.h"

ts_results *ts_results_alloc(size_t nrep, size_t nyear, int64_t year0) {
    if (nrep == 0 || nyear == 0 || nrep > SIZE_MAX / nyear / TS_NMETRICS)
        return NULL;
    ts_results *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    size_t n = nrep * nyear * TS_NMETRICS;
    r->v = malloc(n * sizeof *r->v);
    if (!r->v) {
        free(r);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        r->v[i] = NAN;
    r->nrep = nrep;
    r->nyear = nyear;
    r->year0 = year0;
    return r;
}

void ts_results_free(ts_results *r) {
    if (!r)
        return;
    free(r->v);
    free(r);
}
