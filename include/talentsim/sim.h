/* The simulation engine: a resolved scenario goes in, per-replication metric
 * arrays come out. No global state; many scenarios may run in one process. */
#ifndef TALENTSIM_SIM_H
#define TALENTSIM_SIM_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "talentsim/error.h"
#include "talentsim/metrics.h"
#include "talentsim/results.h"
#include "talentsim/scenario.h"

/* Called on the calling thread between units of work; done in [0, 1]. */
typedef void (*ts_progress_fn)(void *ctx, double done);

typedef struct {
    int threads;             /* OpenMP threads, >= 1 */
    ts_progress_fn progress; /* may be NULL */
    void *progress_ctx;
    /* May be NULL. Read before every simulated year of every replication;
     * when nonzero (a signal handler may set it), the run stops there. */
    volatile sig_atomic_t *stop;
} ts_run_opts;

/* Runs sc->base.replications replications. Bit-identical for any threads.
 * When opt->stop is set during the run: TS_ERUNTIME, message "interrupted",
 * *out NULL. */
ts_status ts_sim_run(const ts_scenario *sc, const ts_run_opts *opt,
                     ts_results **out, ts_error *err);

/* Runs n scenarios with common random numbers; out[i] is byte-identical to
 * what ts_sim_run gives for sc[i] alone. Scenarios with the same seed and
 * first simulated year share, per replication, every year whose parameters
 * agree (the spin-up, and the years before a policy diverges): the engine
 * simulates that prefix once, snapshots the population and runs each
 * scenario on from the snapshot. On failure every out[i] is NULL. */
ts_status ts_sim_run_many(const ts_scenario *const *sc, size_t n, const ts_run_opts *opt,
                          ts_results **out, ts_error *err);

/* Name of the random-number generator, for the manifest. */
const char *ts_sim_rng_name(void);

/* Bytes of state per agent (for the benchmark). */
size_t ts_sim_agent_bytes(void);

#endif
