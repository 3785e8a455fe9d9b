/* Counter-based random numbers: every random decision of the model reads a
 * fixed slot of a Philox4x32-10 stream keyed by (seed, replication, agent id,
 * year, decision).
 *
 * key     = the 64-bit seed
 * counter = (agent index, agent group, year * 256 + block, replication)
 *
 * One Philox call yields four 32-bit words; a decision slot s lives in block
 * s / 4, word s % 4. No state is carried between draws, so the numbers an
 * agent sees do not depend on thread count, agent order or on what other
 * agents do: two scenarios share every draw for the same agent, year and
 * decision (common random numbers). */
#ifndef TS_RNG_H
#define TS_RNG_H

#include <stdint.h>

#include "dmath.h"

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wconversion"
#endif
#include <Random123/philox.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#define TS_RNG_NAME "philox4x32-10 (Random123), counter = (agent, group, year, decision, replication)"

/* Decision slots. Yearly decisions use blocks 0-3, birth/initialisation
 * draws blocks 8-9 (in the agent's birth year, or years.start). Slots are
 * grouped so that an agent in China usually needs one Philox call a year. */
typedef enum {
    /* block 0: every agent, every year */
    TS_D_ATTRITION = 0, TS_D_COLLAB, TS_D_REVIEW, TS_D_PROMOTE,
    /* block 1: agents in the US */
    TS_D_FEAR = 4, TS_D_VISA, TS_D_CONSIDER, TS_D_RELIEF_CONSIDER,
    /* block 2: graduation and location decisions */
    TS_D_GRAD_SECTOR = 8, TS_D_WORK_VISA, TS_D_MOVE, TS_D_RELIEF_MOVE,
    /* block 3: rare events */
    TS_D_EXTEND = 12,
    /* blocks 8-9: birth and initialisation */
    TS_D_Q = 32, TS_D_SENS, TS_D_INIT_SECTOR, TS_D_INIT_COLLAB,
    TS_D_INIT_YIS = 36, TS_D_INIT_VISA, TS_D_INIT_YOV,
} ts_decision;

#define TS_RNG_BLOCKS 10

typedef struct {
    philox4x32_key_t key;  /* seed */
    uint32_t idx, group;   /* agent id */
    uint32_t year, rep;
    uint32_t have;         /* bit b set when block b is filled */
    uint32_t w[TS_RNG_BLOCKS][4];
} ts_draws;

static inline void ts_draws_init(ts_draws *d, uint64_t seed, uint32_t rep,
                                 uint32_t idx, uint32_t group, uint32_t year) {
    d->key.v[0] = (uint32_t)seed;
    d->key.v[1] = (uint32_t)(seed >> 32);
    d->idx = idx;
    d->group = group;
    d->year = year;
    d->rep = rep;
    d->have = 0;
}

/* The raw 32-bit word of a decision slot. Blocks are filled on first use;
 * GCC cannot see that `have` guards every read of w, hence the pragma. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
static inline __attribute__((always_inline)) uint32_t ts_draw_word(ts_draws *d, ts_decision s) {
    unsigned b = (unsigned)s >> 2;
    if (!(d->have & (1u << b))) {
        philox4x32_ctr_t c = {{d->idx, d->group, d->year * 256u + b, d->rep}};
        philox4x32_ctr_t r = philox4x32(c, d->key);
        for (int k = 0; k < 4; k++)
            d->w[b][k] = r.v[k];
        d->have |= 1u << b;
    }
    return d->w[b][(unsigned)s & 3u];
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/* Uniform on the open interval (0, 1): (x + 1/2) / 2^32. */
static inline __attribute__((always_inline)) double ts_draw_u(ts_draws *d, ts_decision s) {
    return ((double)ts_draw_word(d, s) + 0.5) * (1.0 / 4294967296.0);
}

/* Bernoulli(p): 1 with probability p (p <= 0 never, p >= 1 always). */
static inline int ts_draw_bern(ts_draws *d, ts_decision s, double p) {
    return ts_draw_u(d, s) < p;
}

/* Standard normal by inversion of one uniform slot (dmath.h). */
static inline double ts_draw_normal(ts_draws *d, ts_decision s) {
    return ts_m_norm_quantile(ts_draw_u(d, s));
}

/* Uniform integer on 0..n-1 (n >= 1). */
static inline unsigned ts_draw_int(ts_draws *d, ts_decision s, unsigned n) {
    return (unsigned)(((uint64_t)ts_draw_word(d, s) * n) >> 32);
}

#endif
