/* Shared by the calibration's store (store.c) and posterior runs
 * (posterior.c). Not part of the public API. */
#ifndef TALENTSIM_CALIB_PRIV_H
#define TALENTSIM_CALIB_PRIV_H

#include <stddef.h>

#include "talentsim/error.h"

/* A particles file: particle,<k keys>,weight,distance. */
typedef struct {
    size_t n, k;
    char **key;      /* k column names */
    double *theta;   /* n x k */
    double *weight;  /* n */
    double *dist;    /* n */
} ts_particles;

/* Reads path; TS_EINPUT (path:line, the column) when it is not such a
 * file, TS_ERUNTIME on an I/O error or out of memory. */
ts_status ts_particles_read(const char *path, ts_particles *p, ts_error *err);
void ts_particles_free(ts_particles *p);

#endif
