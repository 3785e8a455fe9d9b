/* Seeds of the GSL generators that the analysis layers use (designs,
 * bootstrap, ABC-SMC): one 64-bit seed and a stream id hashed together, so
 * each use of one seed draws unrelated numbers. Private to the library. The
 * engine's own random numbers are Philox streams (sim/model/rng.h), not these. */
#ifndef TALENTSIM_SEED_H
#define TALENTSIM_SEED_H

#include <stdint.h>

/* The stream ids, one per use. */
enum {
    TS_STREAM_LHS = 1,         /* Latin hypercube (sim/sweep/design.c) */
    TS_STREAM_SOBOL_SHIFT = 2, /* digital shift of the Sobol sequence */
    TS_STREAM_BOOTSTRAP = 3,   /* bootstrap of the Sobol indices */
    TS_STREAM_PARTICLE = 4,    /* a calibration particle's seed (calibrate.c) */
    TS_STREAM_POSTERIOR = 5,   /* posterior draws of a run (posterior.c) */
    TS_STREAM_ABC = 16,        /* ABC-SMC: generation t uses 16 + t */
};

/* splitmix64's finaliser of seed + stream, folded to the 32 bits that GSL's
 * mt19937 takes (it ignores the high bits of a seed). */
static inline unsigned long ts_seed32(uint64_t seed, uint64_t stream) {
    uint64_t z = seed + stream * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (unsigned long)((z ^ (z >> 32)) & 0xFFFFFFFFu);
}

#endif
