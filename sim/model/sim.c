/* The engine: replications of the yearly process (MODEL.md section 4).
 *
 * Determinism: every draw is keyed by (seed, replication, agent, year,
 * decision) (rng.h), integer tallies are order-free, and floating sums are
 * formed per fixed block of TS_BLOCK agents and added in block order. So a
 * replication gives the same bits whether its blocks run on one thread or
 * many, and whether replications run one after another or side by side. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "talentsim/sim.h"

/* More agents than any machine holds (2^40 records of 32 bytes); guards the
 * size arithmetic. */
#define TS_MAX_AGENTS ((size_t)1 << 40)

/* Workspace of one replication, allocated once and grown between years. */
typedef struct {
    ts_agent *agents;
    size_t n, cap;       /* agents in use (active or not), capacity */
    size_t inactive;     /* inactive agents among the first n */
    ts_tally *tallies;   /* one per block */
    size_t tcap;
} ts_pop;

/* Read-only inputs shared by all replications. Simulated years are indexed
 * yi = 0..nsim-1 from year0 = years.start - years.spinup; the first nspin
 * of them are the unrecorded spin-up (MODEL 2). */
typedef struct {
    const ts_scenario *sc;
    const ts_params *pt; /* P_t for every simulated year */
    size_t nsim, nspin;
    int64_t year0;
    volatile sig_atomic_t *stop; /* ts_run_opts.stop, may be NULL */
} ts_run;

/* How a replication ended; run_all or's them over replications. */
enum { REP_DONE = 0, REP_NOMEM = 1, REP_STOPPED = 2 };

static void pop_free(ts_pop *pop) {
    free(pop->agents);
    free(pop->tallies);
    memset(pop, 0, sizeof *pop);
}

static int pop_reserve(ts_pop *pop, size_t extra) {
    if (extra > TS_MAX_AGENTS - pop->n)
        return -1;
    size_t need = pop->n + extra;
    if (need > pop->cap) {
        size_t cap = pop->cap ? pop->cap : 1024;
        while (cap < need)
            cap *= 2;
        ts_agent *a = realloc(pop->agents, cap * sizeof *a);
        if (!a)
            return -1;
        pop->agents = a;
        pop->cap = cap;
    }
    size_t nb = (need + TS_BLOCK - 1) / TS_BLOCK;
    if (nb > pop->tcap) {
        ts_tally *t = realloc(pop->tallies, nb * sizeof *t);
        if (!t)
            return -1;
        pop->tallies = t;
        pop->tcap = nb;
    }
    return 0;
}

/* Drops inactive agents, keeping order, once they are half the array. */
static void pop_compact(ts_pop *pop) {
    if (pop->inactive * 2 < pop->n)
        return;
    size_t k = 0;
    for (size_t i = 0; i < pop->n; i++)
        if (pop->agents[i].active)
            pop->agents[k++] = pop->agents[i];
    pop->n = k;
    pop->inactive = 0;
}

/* One past the last agent of block b of n agents. */
static size_t block_end(size_t b, size_t n) {
    return (b + 1) * TS_BLOCK < n ? (b + 1) * TS_BLOCK : n;
}

/* round(count * fraction), or -1 when that is beyond any population. */
static int64_t scaled(double count, double fraction) {
    double x = count * fraction;
    return x < (double)TS_MAX_AGENTS ? llround(x) : -1;
}

/* MODEL 2b: the start population, numbered US then CN, STUDENT..SENIOR. */
static int pop_init(ts_pop *pop, const ts_year *y) {
    const ts_params *p = y->p;
    const ts_pop_loc *locs[2] = {&p->population.us, &p->population.cn};
    uint32_t idx = 0;
    for (int l = 0; l < 2; l++) {
        const int64_t counts[3] = {locs[l]->students, locs[l]->early, locs[l]->senior};
        for (int s = 0; s < 3; s++) {
            int64_t n = scaled((double)counts[s], p->sample_fraction);
            if (n < 0 || pop_reserve(pop, (size_t)n) != 0)
                return -1;
            for (int64_t i = 0; i < n; i++)
                ts_agent_init(y, &pop->agents[pop->n++], idx++, (ts_loc)l, (ts_stage)s);
        }
    }
    return 0;
}

/* MODEL 4 step 2: this year's students; returns the number added, or -1. */
static int64_t pop_inflow(ts_pop *pop, const ts_year *y, ts_loc loc, int threads) {
    const ts_params *p = y->p;
    int64_t n = scaled(ts_params_inflow(p, loc == TS_LOC_CN, y->year), p->sample_fraction);
    if (n < 0)
        return -1;
    if (n == 0)
        return 0;
    if (pop_reserve(pop, (size_t)n) != 0)
        return -1;
    uint16_t group = ts_agent_group(y->year, loc);
    ts_agent *born = pop->agents + pop->n;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (int64_t i = 0; i < n; i++)
        ts_agent_birth(y, &born[i], (uint32_t)i, group, loc, TS_STAGE_STUDENT);
    pop->n += (size_t)n;
    return n;
}

/* MODEL 4 step 3 for all agents, blocks in parallel; tallies combined in
 * block order into *sum. */
static void pop_step(ts_pop *pop, const ts_year *y, int threads, ts_tally *sum) {
    size_t nb = (pop->n + TS_BLOCK - 1) / TS_BLOCK;
    ts_agent *agents = pop->agents;
    ts_tally *tl = pop->tallies;
    size_t n = pop->n;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
    for (size_t b = 0; b < nb; b++) {
        ts_tally t;
        memset(&t, 0, sizeof t);
        size_t end = block_end(b, n);
        for (size_t i = b * TS_BLOCK; i < end; i++)
            if (agents[i].active)
                ts_agent_year(y, &agents[i], &t);
        tl[b] = t;
    }
    memset(sum, 0, sizeof *sum);
    for (size_t b = 0; b < nb; b++) {
        for (int c = 0; c < TS_NCOUNT; c++)
            sum->n[c] += tl[b].n[c];
        for (int s = 0; s < TS_NSUM; s++)
            sum->s[s] += tl[b].s[s];
    }
}

/* Active agents at the end of the year. */
static int64_t active_at_end(const ts_tally *t) {
    return t->n[TS_C_STOCK_US_TOTAL] + t->n[TS_C_STOCK_CN_TOTAL];
}

static void year_context(ts_year *y, const ts_run *run, const ts_carry *c, size_t yi,
                         uint32_t rep) {
    double a[2];
    ts_carry_eco(c, &run->pt[yi], a);
    ts_year_init(y, &run->pt[yi], run->year0 + (int64_t)yi, (uint64_t)run->sc->base.seed, rep,
                 c->d_prev, a[TS_LOC_US], a[TS_LOC_CN]);
}

static void initial_talent(const ts_pop *pop, double out[2]) {
    out[0] = out[1] = 0.0;
    for (size_t b = 0; b * TS_BLOCK < pop->n; b++) {
        double part[2] = {0.0, 0.0};
        size_t end = block_end(b, pop->n);
        for (size_t i = b * TS_BLOCK; i < end; i++)
            part[pop->agents[i].loc] += pop->agents[i].q;
        out[0] += part[0];
        out[1] += part[1];
    }
}

/* One simulated year of a replication: inflow, the agents' year, the
 * engine's own tallies; 0 or -1 (out of memory). */
static int sim_year(ts_pop *pop, const ts_year *y, int threads, ts_tally *sum) {
    int64_t in_us = pop_inflow(pop, y, TS_LOC_US, threads);
    int64_t in_cn = pop_inflow(pop, y, TS_LOC_CN, threads);
    if (in_us < 0 || in_cn < 0 || pop_reserve(pop, 0) != 0)
        return -1;
    pop_step(pop, y, threads, sum);
    sum->n[TS_C_INFLOW_US] = in_us;
    sum->n[TS_C_INFLOW_CN] = in_cn;
    sum->s[TS_S_ECO_GAP] = y->a_cn - y->a_us;
    return 0;
}

/* One replication; recorded years into res row rep. Calls tick after each
 * simulated year; checks the stop flag before each. Returns a REP_ code. */
static int run_replication(const ts_run *run, uint32_t rep, int threads, ts_results *res,
                           void (*tick)(void *), void *tick_ctx) {
    ts_pop pop = {0};
    ts_carry carry;
    ts_year y;
    double talent0[2] = {0.0, 0.0};
    ts_carry_start(&carry, talent0);
    year_context(&y, run, &carry, 0, rep);
    if (pop_init(&pop, &y) != 0) {
        pop_free(&pop);
        return REP_NOMEM;
    }
    initial_talent(&pop, talent0);
    ts_carry_start(&carry, talent0);
    double agent_years = 0.0;
    for (size_t yi = 0; yi < run->nsim; yi++) {
        year_context(&y, run, &carry, yi, rep);
        ts_tally sum;
        int rc = run->stop && *run->stop ? REP_STOPPED
                 : sim_year(&pop, &y, threads, &sum) != 0 ? REP_NOMEM : REP_DONE;
        if (rc != REP_DONE) {
            pop_free(&pop);
            return rc;
        }
        agent_years += (double)sum.n[TS_C_AGENT_YEARS];
        if (yi >= run->nspin)
            ts_metrics_of(&sum, y.p->sample_fraction,
                          &res->v[(rep * res->nyear + yi - run->nspin) * TS_NMETRICS]);
        ts_carry_update(&carry, &sum);
        pop.inactive += (size_t)(sum.n[TS_C_AGENT_YEARS] - active_at_end(&sum));
        pop_compact(&pop);
        if (tick)
            tick(tick_ctx);
    }
    pop_free(&pop);
#pragma omp atomic
    res->agent_years += agent_years;
    return REP_DONE;
}

typedef struct {
    const ts_run_opts *opt;
    size_t done, total; /* years completed, over all replications */
} ts_ticker;

/* Counts a finished year; reports progress from the calling thread only
 * (thread 0 of a parallel region is the caller). */
static void tick(void *ctx) {
    ts_ticker *tk = ctx;
    size_t done;
#pragma omp atomic capture
    done = ++tk->done;
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
 * thread busy; otherwise each replication's agents are split over threads.
 * Returns the REP_ codes of the replications or'ed together. */
static int run_all(const ts_run *run, const ts_run_opts *opt, ts_results *res, ts_ticker *tk) {
    int threads = opt->threads > 0 ? opt->threads : 1;
    size_t nrep = res->nrep;
    int failed = 0;
    if (threads > 1 && nrep >= 2 * (size_t)threads) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) reduction(| : failed)
        for (size_t r = 0; r < nrep; r++)
            failed |= run_replication(run, (uint32_t)r, 1, res, tick, tk);
    } else {
        for (size_t r = 0; r < nrep && !failed; r++)
            failed = run_replication(run, (uint32_t)r, threads, res, tick, tk);
    }
    return failed;
}

ts_status ts_sim_run(const ts_scenario *sc, const ts_run_opts *opt, ts_results **out,
                     ts_error *err) {
    *out = NULL;
    ts_status st = ts_scenario_validate(sc, err);
    if (st != TS_OK)
        return st;
    const ts_params *b = &sc->base;
    size_t nyear = (size_t)(b->years.end - b->years.start + 1);
    ts_run run = {.sc = sc, .nspin = (size_t)b->years.spinup,
                  .nsim = (size_t)b->years.spinup + nyear,
                  .year0 = b->years.start - b->years.spinup, .stop = opt->stop};
    ts_results *res = ts_results_alloc((size_t)b->replications, nyear, b->years.start);
    ts_params *pt = params_timeline(sc, run.year0, run.nsim);
    if (!res || !pt) {
        free(pt);
        ts_results_free(res);
        return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "out of memory");
    }
    res->agent_years = 0.0;
    run.pt = pt;
    ts_ticker tk = {.opt = opt, .done = 0, .total = res->nrep * run.nsim};
    int rc = run_all(&run, opt, res, &tk);
    free(pt);
    if (rc != REP_DONE)
        ts_results_free(res);
    if (rc & REP_NOMEM)
        return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "",
                            "out of memory while simulating (try a smaller sample_fraction)");
    if (rc & REP_STOPPED)
        return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "interrupted");
    *out = res;
    return TS_OK;
}

ts_status ts_sim_run_many(const ts_scenario *const *sc, size_t n, const ts_run_opts *opt,
                          ts_results **out, ts_error *err) {
    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    for (size_t i = 0; i < n; i++) {
        ts_status st = ts_sim_run(sc[i], opt, &out[i], err);
        if (st != TS_OK) {
            for (size_t j = 0; j < i; j++) {
                ts_results_free(out[j]);
                out[j] = NULL;
            }
            return st;
        }
    }
    return TS_OK;
}

const char *ts_sim_rng_name(void) { return TS_RNG_NAME; }

size_t ts_sim_agent_bytes(void) { return sizeof(ts_agent); }
