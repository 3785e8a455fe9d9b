/* Memory estimate of a run before it starts, so that a run too large for
 * the machine is refused with a message instead of being killed by the
 * out-of-memory killer half way.
 *
 * The estimate is an upper bound of the peak resident memory of ts_sim_run
 * (and of writing its results), built from what the engine (sim.c) holds:
 * per replication in memory at once, one array of agent records that grows
 * by doubling and is compacted once half of it is inactive, and one tally
 * per block of agents; for the whole run, the result array and the per-year
 * parameters; and a fixed part for the program, its libraries and its
 * threads. The agent count is bounded year by year from the start
 * population and the inflow (MODEL 2b, 4.2, spin-up included), with the
 * smallest attrition rate of the year as a survival factor (MODEL 3.1) and a
 * margin for chance. docs/limits.md compares it with measured peaks. */
#ifndef TALENTSIM_ESTIMATE_H
#define TALENTSIM_ESTIMATE_H

#include <stddef.h>
#include <stdint.h>

#include "talentsim/error.h"
#include "talentsim/scenario.h"

typedef struct {
    double peak_bytes;     /* upper bound of the run's peak resident memory */
    double peak_agents;    /* most agent records one replication holds at once */
    double created_agents; /* agents one replication creates (start + inflow) */
    double agent_bytes;    /* agent arrays and tallies of the replications held at once */
    double results_bytes;  /* the result array: replications x years x metrics doubles */
    double timeline_bytes; /* P_t of every simulated year */
    double fixed_bytes;    /* program, libraries, thread stacks and arenas */
    int threads;           /* threads of the run (at least 1) */
    int concurrent;        /* replications in memory at once */
    int64_t years;         /* simulated years, spin-up included */
    const char *file;      /* sc->path for messages: valid while sc lives */
} ts_memory_estimate;

/* Estimates the memory of ts_sim_run(sc) at `threads` threads (values below
 * 1 count as 1). Validates sc first (TS_EINPUT and err as ts_scenario_validate). */
ts_status ts_estimate_memory(const ts_scenario *sc, int threads, ts_memory_estimate *out,
                             ts_error *err);

/* TS_OK when e->peak_bytes fits in limit_bytes; else TS_EINPUT with a
 * one-line message giving the estimate, what it is made of and the limit. */
ts_status ts_estimate_check(const ts_memory_estimate *e, double limit_bytes, ts_error *err);

/* Writes bytes as text for messages: "512 B", "3.5 KiB", ..., "1.2 TiB". */
void ts_estimate_format_bytes(double bytes, char *buf, size_t n);

#endif
