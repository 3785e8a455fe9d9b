/* The engine: replications of the yearly process (MODEL.md section 4).
 *
 * Determinism: every draw is keyed by (seed, replication, agent, year,
 * decision) (rng.h), integer tallies are order-free, and floating sums are
 * formed per block of TS_BLOCK rows (pop.h), in a fixed order of partial
 * sums, and added in block order. So a
 * replication gives the same bits whether its blocks run on one thread or
 * many, and whether replications run one after another or side by side. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "pop.h"
#include "talentsim/estimate.h"
#include "talentsim/sim.h"

/* One scenario of a run. Simulated years are indexed yi = 0..nsim-1 from
 * year0 = years.start - years.spinup; the first nspin of them are the
 * unrecorded spin-up (MODEL 2). */
typedef struct {
    const ts_scenario *sc;
    ts_params *pt; /* P_t for every simulated year */
    size_t rows;   /* rows its populations may reach (ts_estimate_memory) */
    size_t nsim, nspin;
    int64_t year0;
    uint64_t seed;
    ts_results *res;
} ts_run;

/* A run of scenarios that share a seed and a first simulated year, so that
 * replication r of each sees the same random numbers. */
typedef struct {
    ts_run *runs;
    size_t nrun;
    size_t maxrep;               /* over the runs */
    size_t rows;                 /* rows a replication's population may reach (reserved) */
    volatile sig_atomic_t *stop; /* ts_run_opts.stop, may be NULL */
    void (*tick)(void *ctx, size_t years);
    void *tick_ctx;
} ts_group;

/* How a replication ended; run_all or's them over replications. */
enum { REP_DONE = 0, REP_NOMEM = 1, REP_STOPPED = 2 };

/* Whether two timelines simulate year yi alike: every parameter but the
 * ones that only say how much to run (replications, years.end). */
static int same_year(const ts_run *a, const ts_run *b, size_t yi) {
    for (size_t k = 0; k < ts_param_count(); k++) {
        const ts_param_info *pi = ts_param_at(k);
        if (strcmp(pi->key, "replications") == 0 || strcmp(pi->key, "years.end") == 0)
            continue;
        if (ts_param_get(&a->pt[yi], pi) != ts_param_get(&b->pt[yi], pi))
            return 0;
    }
    return 1;
}

/* The state a set of scenarios shares up to a year: the population and the
 * carried aggregates. */
typedef struct {
    ts_pop pop;
    ts_carry carry;
} ts_state;

/* Per thread: states for the branches of the prefix tree, reused from one
 * replication to the next (at most one per scenario). */
typedef struct {
    ts_state *st;
    size_t *set; /* scenario indices */
    size_t n;
} ts_workspace;

static void workspace_free(ts_workspace *ws) {
    for (size_t i = 0; i < ws->n; i++)
        ts_pop_free(&ws->st[i].pop);
    free(ws->st);
    free(ws->set);
    ws->st = NULL;
    ws->set = NULL;
    ws->n = 0;
}

/* The context of year yi of run; record says whether its metrics are kept. */
static void year_context(ts_year *y, const ts_run *run, const ts_carry *c, size_t yi,
                         uint32_t rep, int record) {
    double a[2];
    ts_carry_eco(c, &run->pt[yi], a);
    ts_year_init(y, &run->pt[yi], run->year0 + (int64_t)yi, run->seed, rep, c->d_prev,
                 a[TS_LOC_US], a[TS_LOC_CN]);
    y->record = record;
}

/* Moves the scenarios of set[0..n) that simulate year yi as set[0] does to
 * the front; returns how many they are (at least 1). */
static size_t partition_by_year(const ts_group *g, size_t *set, size_t n, size_t yi) {
    const ts_run *lead = &g->runs[set[0]];
    size_t same = 1;
    for (size_t i = 1; i < n; i++)
        if (same_year(lead, &g->runs[set[i]], yi)) {
            size_t t = set[same];
            set[same++] = set[i];
            set[i] = t;
        }
    return same;
}

/* MODEL 2b: the start population of the first simulated year of run, and
 * the carry from it, into st. */
static int start_state(const ts_group *g, const ts_run *run, uint32_t rep, int threads,
                       ts_state *st) {
    ts_year y;
    double talent0[2] = {0.0, 0.0};
    ts_carry_start(&st->carry, talent0);
    year_context(&y, run, &st->carry, 0, rep, 1);
    (void)ts_pop_reserve(&st->pop, g->rows); /* a hint: without it the columns grow */
    if (ts_pop_init(&st->pop, &y, threads) != 0)
        return REP_NOMEM;
    ts_pop_talent(&st->pop, talent0);
    ts_carry_start(&st->carry, talent0);
    return REP_DONE;
}

/* Runs replication rep of the scenarios set[0..n) from year yi on, from
 * state st (which they share up to yi). While their parameters agree, a
 * year is simulated once for all; where they part, the state is copied into
 * the next free workspace slot (depth) for every class but the last, which
 * goes on with st. Returns a REP_ code. */
static int run_set(const ts_group *g, size_t *set, size_t n, size_t yi, uint32_t rep,
                   int threads, ts_state *st, ts_workspace *ws, size_t depth) {
    while (n > 0) {
        /* scenarios that are complete leave the set */
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (yi < g->runs[set[i]].nsim)
                set[k++] = set[i];
        n = k;
        if (n == 0)
            return REP_DONE;
        /* the class of set[0]: the scenarios that simulate year yi as it does */
        const ts_run *lead = &g->runs[set[0]];
        size_t same = partition_by_year(g, set, n, yi);
        if (same < n) {
            /* the others go on from a copy, recursively */
            ts_state *copy = &ws->st[depth];
            if (ts_pop_copy(&copy->pop, &st->pop, threads) != 0)
                return REP_NOMEM;
            copy->carry = st->carry;
            int rc = run_set(g, set + same, n - same, yi, rep, threads, copy, ws, depth + 1);
            if (rc != REP_DONE)
                return rc;
            n = same;
        }
        if (g->stop && *g->stop)
            return REP_STOPPED;
        /* some scenario of the set keeps this year's metrics, or may read
         * its considerations in a later one */
        int record = 0, consider = 0;
        for (size_t i = 0; i < n; i++) {
            const ts_run *run = &g->runs[set[i]];
            record |= yi >= run->nspin;
            consider |= ts_consider_matters(run->year0 + (int64_t)yi,
                                            run->year0 + (int64_t)run->nspin);
        }
        ts_year y;
        year_context(&y, lead, &st->carry, yi, rep, record);
        y.consider = consider;
        ts_tally sum;
        if (ts_pop_year(&st->pop, &y, threads, &sum) != 0)
            return REP_NOMEM;
        sum.s[TS_S_ECO_GAP] = y.a_cn - y.a_us;
        for (size_t i = 0; i < n; i++) {
            const ts_run *run = &g->runs[set[i]];
            ts_results *res = run->res;
            if (yi >= run->nspin)
                ts_metrics_of(&sum, y.p->sample_fraction,
                              &res->v[(rep * res->nyear + yi - run->nspin) * TS_NMETRICS]);
#pragma omp atomic
            res->agent_years += (double)sum.n[TS_C_AGENT_YEARS];
        }
        ts_carry_update(&st->carry, &sum);
        if (g->tick)
            g->tick(g->tick_ctx, n);
        yi++;
    }
    return REP_DONE;
}

/* Replication rep of every scenario of the group that has one. */
static int run_replication(const ts_group *g, uint32_t rep, int threads, ts_workspace *ws) {
    if (!ws->st) {
        ws->st = calloc(g->nrun, sizeof *ws->st);
        ws->set = calloc(g->nrun, sizeof *ws->set);
        if (!ws->st || !ws->set)
            return REP_NOMEM;
        ws->n = g->nrun;
    }
    size_t *set = ws->set;
    size_t n = 0;
    for (size_t i = 0; i < g->nrun; i++)
        if (rep < g->runs[i].res->nrep)
            set[n++] = i;
    if (n == 0)
        return REP_DONE;
    /* Scenarios whose first year agrees share the start population; each
     * other one starts from its own. */
    ts_state *st = &ws->st[0];
    size_t same = partition_by_year(g, set, n, 0);
    int rc = start_state(g, &g->runs[set[0]], rep, threads, st);
    if (rc == REP_DONE)
        rc = run_set(g, set, same, 0, rep, threads, st, ws, 1);
    for (size_t i = same; i < n && rc == REP_DONE; i++) {
        rc = start_state(g, &g->runs[set[i]], rep, threads, st);
        if (rc == REP_DONE)
            rc = run_set(g, &set[i], 1, 0, rep, threads, st, ws, 1);
    }
    return rc;
}

typedef struct {
    const ts_run_opts *opt;
    size_t done, total; /* scenario-years completed, over all replications */
} ts_ticker;

/* Counts finished scenario-years; reports progress from the calling thread
 * only (thread 0 of a parallel region is the caller). */
static void tick(void *ctx, size_t years) {
    ts_ticker *tk = ctx;
    size_t done;
#pragma omp atomic capture
    done = tk->done += years;
    if (tk->opt->progress && omp_get_thread_num() == 0)
        tk->opt->progress(tk->opt->progress_ctx, (double)done / (double)tk->total);
}

/* P_t of the nsim simulated years from year0 (spin-up years have no policy). */
static ts_params *params_timeline(const ts_scenario *sc, int64_t year0, size_t nsim) {
    ts_params *pt = malloc(nsim * sizeof *pt);
    if (!pt)
        return NULL;
    for (size_t i = 0; i < nsim; i++)
        ts_scenario_params_at(sc, year0 + (int64_t)i, &pt[i]);
    return pt;
}

/* Replications side by side when there are enough of them to keep every
 * thread busy (each thread reusing its workspace); otherwise each
 * replication's agents are split over threads. Returns the REP_ codes of
 * the replications or'ed together. */
static int run_group(const ts_group *g, int threads) {
    size_t nrep = g->maxrep;
    int failed = 0;
    if (threads > 1 && nrep >= 2 * (size_t)threads) {
#pragma omp parallel num_threads(threads) reduction(| : failed)
        {
            ts_workspace ws = {0};
#pragma omp for schedule(dynamic, 1)
            for (size_t r = 0; r < nrep; r++)
                failed |= run_replication(g, (uint32_t)r, 1, &ws);
            workspace_free(&ws);
        }
    } else {
        ts_workspace ws = {0};
        for (size_t r = 0; r < nrep && !failed; r++)
            failed = run_replication(g, (uint32_t)r, threads, &ws);
        workspace_free(&ws);
    }
    return failed;
}

static void runs_free(ts_run *runs, size_t n, int keep_results) {
    for (size_t i = 0; i < n; i++) {
        free(runs[i].pt);
        if (!keep_results)
            ts_results_free(runs[i].res);
    }
    free(runs);
}

ts_status ts_sim_run_many(const ts_scenario *const *sc, size_t n, const ts_run_opts *opt,
                          ts_results **out, ts_error *err) {
    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    for (size_t i = 0; i < n; i++) {
        ts_status st = ts_scenario_validate(sc[i], err);
        if (st != TS_OK)
            return st;
    }
    ts_run *runs = calloc(n > 0 ? n : 1, sizeof *runs);
    if (!runs)
        return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "out of memory");
    ts_ticker tk = {.opt = opt};
    for (size_t i = 0; i < n; i++) {
        const ts_params *b = &sc[i]->base;
        size_t nyear = (size_t)(b->years.end - b->years.start + 1);
        ts_run *r = &runs[i];
        *r = (ts_run){.sc = sc[i], .nspin = (size_t)b->years.spinup,
                      .nsim = (size_t)b->years.spinup + nyear,
                      .year0 = b->years.start - b->years.spinup, .seed = (uint64_t)b->seed};
        r->res = ts_results_alloc((size_t)b->replications, nyear, b->years.start);
        r->pt = params_timeline(sc[i], r->year0, r->nsim);
        if (!r->res || !r->pt) {
            runs_free(runs, n, 0);
            return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "out of memory");
        }
        r->res->agent_years = 0.0;
        /* the rows of the memory estimate's bound of agents, reserved at the
         * start so that the columns are not copied as they grow (pop.h) */
        ts_memory_estimate e;
        ts_error ignored;
        if (ts_estimate_memory(sc[i], 1, &e, &ignored) == TS_OK &&
            e.peak_agents < TS_POP_MIN_FILL * 1e12)
            r->rows = (size_t)(e.peak_agents / TS_POP_MIN_FILL) + TS_BLOCK;
        tk.total += r->res->nrep * r->nsim;
    }
    /* groups: scenarios with the same seed and first simulated year, in
     * order of their first member */
    int threads = opt->threads > 0 ? opt->threads : 1;
    int rc = REP_DONE;
    uint8_t *done = calloc(n > 0 ? n : 1, 1);
    ts_run *members = calloc(n > 0 ? n : 1, sizeof *members);
    if (!done || !members)
        rc = REP_NOMEM;
    for (size_t i = 0; i < n && rc == REP_DONE; i++) {
        if (done[i])
            continue;
        ts_group g = {.runs = members, .stop = opt->stop, .tick = tick, .tick_ctx = &tk};
        for (size_t j = i; j < n; j++)
            if (!done[j] && runs[j].seed == runs[i].seed && runs[j].year0 == runs[i].year0) {
                done[j] = 1;
                members[g.nrun++] = runs[j];
                g.maxrep = runs[j].res->nrep > g.maxrep ? runs[j].res->nrep : g.maxrep;
                g.rows = runs[j].rows > g.rows ? runs[j].rows : g.rows;
            }
        rc = run_group(&g, threads);
    }
    free(done);
    free(members);
    if (rc != REP_DONE) {
        runs_free(runs, n, 0);
        if (rc & REP_NOMEM)
            return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "",
                                "out of memory while simulating (try a smaller sample_fraction)");
        return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "interrupted");
    }
    for (size_t i = 0; i < n; i++)
        out[i] = runs[i].res;
    runs_free(runs, n, 1);
    return TS_OK;
}

ts_status ts_sim_run(const ts_scenario *sc, const ts_run_opts *opt, ts_results **out,
                     ts_error *err) {
    return ts_sim_run_many(&sc, 1, opt, out, err);
}

const char *ts_sim_rng_name(void) { return TS_RNG_NAME; }

size_t ts_sim_agent_bytes(void) { return ts_agent_bytes(); }
