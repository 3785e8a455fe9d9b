/* The limit kernel: a lower bound on the cost of one agent-year in talentsim.
 *
 * Per agent-year it does only what any agent-year of the engine must do at
 * least: one Philox4x32-10 call keyed like the engine (sim/model/rng.h:
 * key = 64-bit seed, counter = (agent index, group, year * 256 + block,
 * replication)), two of its four words turned into uniforms (w + 0.5) / 2^32,
 * one libm exp, and an update of a 32-byte agent record held in a flat array
 * (the engine's record is 32 bytes too). No model logic, no tallies: the
 * engine's agent-years per second can approach this figure but not pass it
 * on the same machine and compiler flags.
 *
 * Build: cc -std=c11 -D_POSIX_C_SOURCE=200809L -O3 -fno-math-errno -Wall -Wextra \
 *           -o limit bench/limit.c -lm
 * Run:   ./limit [-n AGENTS] [-y YEARS] [-r RUNS] [-s SEED]
 * Prints one line: limit_kernel agents=N years=Y runs=R agent_years_per_s=...
 *   ns_per_agent_year=... seconds=... checksum=...
 * (the median run; the checksum over the final states keeps the work alive). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* 32 bytes, laid out like the engine's ts_agent. */
typedef struct {
    float q, sens, h;
    uint32_t idx;
    uint16_t group;
    int16_t grad_year;
    uint8_t active, loc, stage, sector, visa, collab, grad_in_us, years_in_stage;
    uint8_t years_in_us, years_on_visa, considered, pad_;
} rec;

_Static_assert(sizeof(rec) == 32, "the agent record must be 32 bytes");

#define U32_SCALE (1.0 / 4294967296.0)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void init_agents(rec *a, size_t n) {
    for (size_t i = 0; i < n; i++) {
        memset(&a[i], 0, sizeof a[i]);
        a[i].q = 1.0f;
        a[i].sens = 0.5f + (float)(i % 7) * 0.15f;
        a[i].h = 0.1f;
        a[i].idx = (uint32_t)i;
        a[i].group = 0;
        a[i].grad_year = -1;
        a[i].active = 1;
    }
}

/* Y years over n agents: per agent-year one Philox call, two uniforms, one
 * exp and the record update. */
static void run_kernel(rec *restrict a, size_t n, uint32_t years, uint64_t seed, uint32_t rep,
                       uint32_t year0) {
    const philox4x32_key_t key = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
    const float lam = 0.35f;
    for (uint32_t y = 0; y < years; y++) {
        const uint32_t yc = (year0 + y) * 256u; /* block 0 */
        for (size_t i = 0; i < n; i++) {
            rec *r = &a[i];
            philox4x32_ctr_t c = {{r->idx, r->group, yc, rep}};
            philox4x32_ctr_t w = philox4x32(c, key);
            double u1 = ((double)w.v[0] + 0.5) * U32_SCALE;
            double u2 = ((double)w.v[1] + 0.5) * U32_SCALE;
            /* fear-like update: h <- (1-λ) h + λ exp(-sens u1) */
            float target = (float)exp(-(double)r->sens * u1);
            r->h = (1.0f - lam) * r->h + lam * target;
            /* flags and counters from the uniforms */
            r->collab = (uint8_t)(r->collab ^ (u2 < 0.1));
            r->considered = (uint8_t)((r->considered << 1) | (u2 < (double)r->h));
            r->years_in_stage = (uint8_t)(r->years_in_stage + 1u);
        }
    }
}

static double checksum_of(const rec *a, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i].h + a[i].collab + a[i].considered + a[i].years_in_stage;
    return s;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void usage(const char *prog) {
    fprintf(stderr, "usage: %s [-n AGENTS] [-y YEARS] [-r RUNS] [-s SEED]\n", prog);
}

int main(int argc, char **argv) {
    long long n_arg = 1000000, y_arg = 50, r_arg = 3;
    unsigned long long seed = 20221103ULL;
    int opt;
    while ((opt = getopt(argc, argv, "n:y:r:s:h")) != -1) {
        char *end = NULL;
        switch (opt) {
        case 'n': n_arg = strtoll(optarg, &end, 10); break;
        case 'y': y_arg = strtoll(optarg, &end, 10); break;
        case 'r': r_arg = strtoll(optarg, &end, 10); break;
        case 's': seed = strtoull(optarg, &end, 10); break;
        case 'h': usage(argv[0]); return 0;
        default: usage(argv[0]); return 2;
        }
        if (!end || *end != '\0') {
            usage(argv[0]);
            return 2;
        }
    }
    if (optind != argc || n_arg < 1 || n_arg > (1LL << 32) || y_arg < 1 || y_arg > 100000 ||
        r_arg < 1 || r_arg > 1000) {
        usage(argv[0]);
        return 2;
    }
    size_t n = (size_t)n_arg;
    uint32_t years = (uint32_t)y_arg;
    int runs = (int)r_arg;

    rec *a = malloc(n * sizeof *a);
    double *t = malloc((size_t)runs * sizeof *t);
    if (!a || !t) {
        fprintf(stderr, "limit: out of memory\n");
        return 1;
    }
    double checksum = 0.0;
    for (int k = 0; k < runs; k++) {
        init_agents(a, n); /* untimed; also faults the pages in */
        double t0 = now_s();
        run_kernel(a, n, years, seed, (uint32_t)k, 1995u);
        t[k] = now_s() - t0;
        checksum += checksum_of(a, n);
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    double med = runs % 2 ? t[runs / 2] : 0.5 * (t[runs / 2 - 1] + t[runs / 2]);
    double ay = (double)n * (double)years;
    printf("limit_kernel agents=%zu years=%u runs=%d agent_years_per_s=%.4g "
           "ns_per_agent_year=%.3f seconds=%.4f checksum=%.6e\n",
           n, years, runs, ay / med, 1e9 * med / ay, med, checksum);
    free(a);
    free(t);
    return 0;
}
