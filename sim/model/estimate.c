/* Memory estimate of a run (talentsim/estimate.h): an upper bound of the
 * peak resident memory of ts_sim_run, from the same quantities the engine
 * (sim.c) allocates.
 *
 * Agent records of one replication. Let I_t be the inflow of simulated year
 * t (MODEL 4.2: round(base (1 + growth)^(t - years.start) approval
 * sample_fraction) per location, with the P_t of that year, spin-up years
 * included) and P_0 the scaled start population (MODEL 2b). The engine's
 * columns hold only active agents between years (pop.c drops the others at
 * the end of every year), so after the inflow of year t they hold
 *     n_t  =  L_{t-1} + I_t   (L before year 0: P_0),
 * L = active agents.
 * Attrition is the first step of every active agent's year and the only way
 * out of the simulation (MODEL 3.1), with a rate of at least a_t, the
 * smallest of the three of year t. So an agent is active after year t only
 * if each of its attrition draws (counter-based uniforms, rng.h) was at
 * least that year's a_t: events independent across agents, so L_t is at
 * most a sum of independent indicators with mean
 *     mu_t = (mu_{t-1} + I_t)(1 - a_t),   mu before year 0: P_0,
 * which by Bernstein's inequality exceeds mu_t + 8 sqrt(mu_t) + 24 with
 * probability below e^-32 (1e-14) in any replication and year.
 *
 * The peak of n over the years bounds the records ever written, hence the
 * resident pages of the array: the capacity beyond it (doubling) is never
 * touched. Arrays below glibc's largest mmap threshold (32 MiB) may live on
 * the heap, where realloc copies: the old copy is counted too. */
#include <math.h>
#include <stdio.h>

#include "agent.h"
#include "pop.h"
#include "tally.h"
#include "talentsim/estimate.h"
#include "talentsim/metrics.h"

/* Chance margin on the active count: mu + 8 sqrt(mu) + 24 (see above). */
#define TS_EST_MARGIN_SQRT 8.0
#define TS_EST_MARGIN_ABS 24.0
/* glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems: larger blocks are
 * mmapped, and realloc moves their pages instead of copying them. */
#define TS_EST_HEAP_SLACK (32.0 * 1024 * 1024)
/* Resident memory of the program before any agent: code, libraries
 * (libgomp, GSL, libyaml, libc), the scenario, stdio buffers; 3.8 MiB
 * measured for a tiny run (docs/limits.md), with room for other builds. */
#define TS_EST_FIXED (8.0 * 1024 * 1024)
/* Per OpenMP thread: the touched part of its stack, libgomp's team data and
 * the thread's malloc arena (8.6 KiB measured at 512 threads). */
#define TS_EST_PER_THREAD (32.0 * 1024)

/* New students of year (MODEL 4.2), as the engine rounds them. */
static double inflow_of(const ts_params *p, int64_t year) {
    double sf = p->sample_fraction;
    return floor(ts_params_inflow(p, 0, year) * sf + 0.5) +
           floor(ts_params_inflow(p, 1, year) * sf + 0.5);
}

/* MODEL 2b: the start population as the engine rounds it. */
static double start_population(const ts_params *p) {
    const ts_pop_loc *locs[2] = {&p->population.us, &p->population.cn};
    double n = 0.0;
    for (int l = 0; l < 2; l++) {
        const int64_t counts[3] = {locs[l]->students, locs[l]->early, locs[l]->senior};
        for (int s = 0; s < 3; s++)
            n += floor((double)counts[s] * p->sample_fraction + 0.5);
    }
    return n;
}

static double min_attrition(const ts_params *p) {
    double a = p->career.attrition.student;
    a = p->career.attrition.early < a ? p->career.attrition.early : a;
    return p->career.attrition.senior < a ? p->career.attrition.senior : a;
}

/* The bounds of the header comment, year by year over the simulated years. */
static void agent_bounds(const ts_scenario *sc, int64_t year0, int64_t nsim,
                         ts_memory_estimate *e) {
    ts_params p;
    ts_scenario_params_at(sc, year0, &p);
    double created = start_population(&p), mu = created, live = created, n = created;
    double peak = created;
    for (int64_t yi = 0; yi < nsim; yi++) {
        ts_scenario_params_at(sc, year0 + yi, &p);
        double in = inflow_of(&p, year0 + yi);
        created += in;
        n = live + in;
        peak = fmax(peak, n);
        mu = (mu + in) * (1.0 - min_attrition(&p));
        live = fmin(created, mu + TS_EST_MARGIN_SQRT * sqrt(mu) + TS_EST_MARGIN_ABS);
    }
    e->peak_agents = peak;
    e->created_agents = created;
}

/* Resident bytes of one replication's agent columns and per-block tallies
 * and survivor counts. Each column is its own allocation: below the mmap
 * threshold realloc may copy it, so the old copy is counted too. */
static double replication_bytes(double peak_agents) {
    double columns = 0.0;
#define TS_COUNT_COL_(type, name, doc) columns += 1.0;
    TS_COLUMNS(TS_COUNT_COL_)
#undef TS_COUNT_COL_
    /* rows up to the last agent: the gaps left by agents who left are
     * closed when the agents fill less than TS_POP_MIN_FILL of them */
    double agents = peak_agents / TS_POP_MIN_FILL * (double)ts_agent_bytes();
    double blocks = ceil(peak_agents / TS_BLOCK) * (double)(sizeof(ts_tally) + sizeof(size_t));
    return agents + fmin(agents, columns * TS_EST_HEAP_SLACK) + 2.0 * blocks;
}

ts_status ts_estimate_memory(const ts_scenario *sc, int threads, ts_memory_estimate *out,
                             ts_error *err) {
    ts_status st = ts_scenario_validate(sc, err);
    if (st != TS_OK)
        return st;
    const ts_params *b = &sc->base;
    int64_t nyear = b->years.end - b->years.start + 1;
    double nrep = (double)b->replications;
    *out = (ts_memory_estimate){.threads = threads > 1 ? threads : 1,
                                .years = b->years.spinup + nyear, .file = sc->path};
    /* sim.c run_all: side by side, one replication per thread, when there
     * are at least two per thread; else one at a time */
    out->concurrent = out->threads > 1 && nrep >= 2.0 * out->threads ? out->threads : 1;
    agent_bounds(sc, b->years.start - b->years.spinup, out->years, out);
    out->agent_bytes = out->concurrent * replication_bytes(out->peak_agents);
    /* the result array, and a work array of nrep doubles of the summaries */
    out->results_bytes =
        nrep * (double)nyear * (double)(TS_NMETRICS * sizeof(double)) + nrep * 8.0;
    out->timeline_bytes = (double)out->years * (double)sizeof(ts_params);
    out->fixed_bytes = TS_EST_FIXED + out->threads * TS_EST_PER_THREAD;
    out->peak_bytes = out->agent_bytes + out->results_bytes + out->timeline_bytes +
                      out->fixed_bytes;
    return TS_OK;
}

void ts_estimate_format_bytes(double bytes, char *buf, size_t n) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    size_t u = 0;
    while (bytes >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
        bytes /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, n, "%.0f B", bytes);
    else
        snprintf(buf, n, "%.3g %s", bytes, units[u]);
}

ts_status ts_estimate_check(const ts_memory_estimate *e, double limit_bytes, ts_error *err) {
    if (e->peak_bytes <= limit_bytes)
        return TS_OK;
    char need[32], limit[32], agents[32], results[32];
    ts_estimate_format_bytes(e->peak_bytes, need, sizeof need);
    ts_estimate_format_bytes(limit_bytes, limit, sizeof limit);
    ts_estimate_format_bytes(e->agent_bytes, agents, sizeof agents);
    ts_estimate_format_bytes(e->results_bytes, results, sizeof results);
    return ts_error_set(err, TS_EINPUT, e->file, 0, 0, "",
                        "the run needs an estimated %s of memory, more than the limit of %s "
                        "(agents: %s for %.3g agents per replication x %d in memory at once "
                        "over %lld years; results: %s); lower sample_fraction, replications, "
                        "years or threads", need, limit, agents, e->peak_agents, e->concurrent,
                        (long long)e->years, results);
}
