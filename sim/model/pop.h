/* The population of one replication: agent columns (agent.h), grown by
 * births, shrunk every year to the agents still active, and copied whole
 * for a snapshot (shared prefixes, sim.c).
 *
 * Layout: block b holds rows [b TS_BLOCK, (b + 1) TS_BLOCK); its len[b]
 * agents, all active between years, are the first rows of the block, in
 * agent order. A year moves each block's survivors to the front of the
 * block; the gaps between blocks are closed only when the active agents
 * fill less than TS_POP_MIN_FILL of the rows up to the last one, so most
 * years move no block. Births go after the last agent.
 *
 * Internal to the engine. Determinism: the kernel forms each block's
 * floating sums in agent order, the blocks' tallies are added in block
 * order, and where the blocks start depends on the agents only, so the
 * result is the same for any thread count. */
#ifndef TS_POP_H
#define TS_POP_H

#include <stddef.h>

#include "agent.h"
#include "tally.h"

/* Least share of the rows up to the last agent that hold active agents
 * between years: at 38 bytes of columns, at most 43.5 bytes per agent. */
#define TS_POP_MIN_FILL 0.875

typedef struct {
    ts_cols c;
    size_t n, cap;      /* rows up to the last agent (the end of the last block's agents),
                         * capacity */
    ts_tally *tallies;  /* one per block */
    size_t *len;        /* agents per block, at its front */
    size_t bcap;        /* blocks the two arrays above hold */
} ts_pop;

void ts_pop_free(ts_pop *pop);

/* Room for at least rows rows without growing (columns grow by copying);
 * 0 or -1 (out of memory). Rows never written are never touched. */
int ts_pop_reserve(ts_pop *pop, size_t rows);

/* Makes dst a copy of src, with src's capacity, reusing dst's memory, in
 * parallel over threads; 0 or -1 (out of memory). */
int ts_pop_copy(ts_pop *dst, const ts_pop *src, int threads);

/* MODEL 2b: the start population, numbered US then CN, STUDENT..SENIOR, in
 * parallel over threads; y is the first simulated year. 0 or -1. */
int ts_pop_init(ts_pop *pop, const ts_year *y, int threads);

/* Talent sums of the population by location (block order). */
void ts_pop_talent(const ts_pop *pop, double out[2]);

/* One simulated year: the inflow (MODEL 4 step 2), every agent's year, the
 * engine's own tallies into *sum, and the removal of the agents who left.
 * 0 or -1 (out of memory). */
int ts_pop_year(ts_pop *pop, const ts_year *y, int threads, ts_tally *sum);

#endif
