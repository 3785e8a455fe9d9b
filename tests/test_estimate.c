/* The memory estimate (talentsim/estimate.h): it grows with every size of a
 * run, follows the engine's own agent counts, refuses what cannot fit, and
 * (make check-long) bounds the measured peak resident memory of real runs
 * from above by at most a factor TS_EST_MAX_RATIO. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "talentsim/estimate.h"
#include "talentsim/sim.h"

/* Default parameters with the given assignments ("key=value", NULL-terminated). */
static ts_scenario *scenario(const char *const *set) {
    ts_error err;
    ts_scenario *sc = ts_scenario_alloc("estimate");
    cr_assert_not_null(sc);
    for (; *set; set++)
        cr_assert_eq(ts_scenario_set_assignment(sc, *set, &err), TS_OK, "%s: %s", *set, err.msg);
    return sc;
}

static ts_memory_estimate estimate(const ts_scenario *sc, int threads) {
    ts_memory_estimate e;
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_estimate_memory(sc, threads, &e, &err), TS_OK, "%s", err.msg);
    return e;
}

/* The estimate at threads after setting key to each value in turn. */
static void estimates_over(const char *key, const char *const *values, int threads,
                           double *peak, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char a[128];
        snprintf(a, sizeof a, "%s=%s", key, values[i]);
        const char *set[] = {"replications=64", a, NULL};
        ts_scenario *sc = scenario(set);
        peak[i] = estimate(sc, threads).peak_bytes;
        ts_scenario_free(sc);
    }
}

static void expect_increasing(const char *what, const double *v, size_t n) {
    for (size_t i = 1; i < n; i++)
        cr_expect_gt(v[i], v[i - 1], "%s: estimate %zu (%g) not above %zu (%g)", what, i, v[i],
                     i - 1, v[i - 1]);
}

Test(estimate, grows_with_replications_sample_fraction_and_years) {
    static const char *const reps[] = {"1", "10", "1000", "100000"};
    static const char *const fractions[] = {"0.001", "0.01", "0.1", "1"};
    static const char *const ends[] = {"2015", "2035", "2080", "2150"};
    static const char *const spinups[] = {"0", "20", "100"};
    double peak[4];
    estimates_over("replications", reps, 1, peak, 4);
    expect_increasing("replications", peak, 4);
    estimates_over("sample_fraction", fractions, 1, peak, 4);
    expect_increasing("sample_fraction", peak, 4);
    estimates_over("years.end", ends, 1, peak, 4);
    expect_increasing("years.end", peak, 4);
    estimates_over("years.spinup", spinups, 1, peak, 3);
    expect_increasing("years.spinup", peak, 3);
}

/* Up to threads = nrep / 2 the replications run side by side (one per
 * thread): the estimate grows with the threads. Beyond, sim.c runs one
 * replication at a time, and the estimate drops to one agent array. */
Test(estimate, follows_the_threads_and_the_engines_schedule) {
    const char *set[] = {"replications=64", NULL};
    ts_scenario *sc = scenario(set);
    static const int threads[] = {1, 2, 4, 8, 32};
    ts_memory_estimate one = estimate(sc, 1), e;
    double prev = 0.0;
    for (size_t i = 0; i < sizeof threads / sizeof threads[0]; i++) {
        e = estimate(sc, threads[i]);
        cr_expect_gt(e.peak_bytes, prev, "%d threads", threads[i]);
        cr_expect_eq(e.concurrent, threads[i]);
        cr_expect_eq(e.threads, threads[i]);
        cr_expect_eq(e.agent_bytes, threads[i] * one.agent_bytes);
        prev = e.peak_bytes;
    }
    e = estimate(sc, 33);
    cr_expect_eq(e.concurrent, 1, "64 replications < 2 x 33 threads: one at a time");
    cr_expect_eq(e.agent_bytes, one.agent_bytes);
    cr_expect_gt(e.fixed_bytes, one.fixed_bytes, "each thread costs");
    cr_expect_lt(estimate(sc, 1024).peak_bytes, prev);
    cr_expect_eq(estimate(sc, 0).threads, 1, "threads below 1 count as 1");
    ts_scenario_free(sc);
}

Test(estimate, sums_its_parts) {
    const char *set[] = {"replications=10", "years.end=2040", NULL};
    ts_scenario *sc = scenario(set);
    ts_memory_estimate e = estimate(sc, 2);
    cr_expect_eq(e.peak_bytes, e.agent_bytes + e.results_bytes + e.timeline_bytes + e.fixed_bytes);
    cr_expect_geq(e.results_bytes, 10.0 * 26 * TS_NMETRICS * sizeof(double));
    cr_expect_eq(e.years, 20 + 26);
    cr_expect_geq(e.agent_bytes, e.concurrent * e.peak_agents * (double)ts_sim_agent_bytes());
    ts_scenario_free(sc);
}

/* The agents the engine creates in a run without spin-up: the scaled start
 * population plus every year's inflow (from the result metrics). */
static double engine_agents(const ts_scenario *sc, double *max_active) {
    ts_run_opts opt = {.threads = 2};
    ts_results *res = NULL;
    ts_error err;
    cr_assert_eq(ts_sim_run(sc, &opt, &res, &err), TS_OK, "%s", err.msg);
    const ts_params *p = &sc->base;
    double sf = p->sample_fraction, n = 0.0;
    const int64_t cells[6] = {p->population.us.students, p->population.us.early,
                              p->population.us.senior,   p->population.cn.students,
                              p->population.cn.early,    p->population.cn.senior};
    for (int i = 0; i < 6; i++)
        n += round((double)cells[i] * sf);
    *max_active = 0.0;
    for (size_t y = 0; y < res->nyear; y++) {
        n += round((ts_results_get(res, 0, y, TS_M_INFLOW_US_STUDENTS) +
                    ts_results_get(res, 0, y, TS_M_INFLOW_CN_STUDENTS)) * sf);
        *max_active = fmax(*max_active, round((ts_results_get(res, 0, y, TS_M_STOCK_US_TOTAL) +
                                               ts_results_get(res, 0, y, TS_M_STOCK_CN_TOTAL)) *
                                              sf));
    }
    ts_results_free(res);
    return n;
}

Test(estimate, counts_the_agents_the_engine_creates) {
    const char *set[] = {"replications=1", "sample_fraction=0.02", "years.spinup=0", NULL};
    ts_scenario *sc = scenario(set);
    /* a policy changes the inflow: the estimate must read P_t of every year */
    ts_setting s = {.param = ts_param_find("inflow.cn_students.growth"), .value = 0.2};
    ts_policy pol = {.name = (char *)"push", .from = 2020, .to = 2035, .set = &s, .nset = 1};
    ts_error err;
    cr_assert_eq(ts_scenario_add_policy(sc, &pol, &err), TS_OK, "%s", err.msg);
    double max_active, created = engine_agents(sc, &max_active);
    ts_memory_estimate e = estimate(sc, 2);
    cr_expect_eq(e.created_agents, created);
    /* the columns hold the active agents and the year's inflow, never all
     * agents ever created once some have left */
    cr_expect_lt(e.peak_agents, created);
    cr_expect_geq(e.peak_agents, max_active);
    cr_expect_geq(e.peak_bytes, max_active * (double)ts_sim_agent_bytes());
    ts_scenario_free(sc);
}

/* Over 201 years without growth attrition and compaction keep the array far
 * below the agents created; the bound still covers the active agents. */
Test(estimate, bounds_long_runs_with_attrition) {
    const char *set[] = {"replications=1", "sample_fraction=0.004", "years.spinup=0",
                         "years.start=2000", "years.end=2200", "inflow.us_students.growth=0",
                         "inflow.cn_students.growth=0", NULL};
    ts_scenario *sc = scenario(set);
    double max_active, created = engine_agents(sc, &max_active);
    ts_memory_estimate e = estimate(sc, 1);
    cr_expect_eq(e.created_agents, created);
    cr_expect_lt(e.peak_agents, 0.5 * created, "survival bound not applied");
    cr_expect_geq(e.peak_agents, max_active);
    ts_scenario_free(sc);
}

Test(estimate, refuses_what_does_not_fit) {
    static const char *const cells[] = {"us.students", "us.early", "us.senior",
                                        "cn.students", "cn.early", "cn.senior"};
    ts_scenario *sc = ts_scenario_alloc("huge");
    ts_error err;
    for (size_t i = 0; i < 6; i++) {
        char key[64];
        snprintf(key, sizeof key, "population.%s", cells[i]);
        cr_assert_eq(ts_scenario_set(sc, key, "100000000", "test", &err), TS_OK);
    }
    ts_memory_estimate e = estimate(sc, 1);
    cr_expect_geq(e.peak_agents, 6e8);
    cr_expect_geq(e.peak_bytes, 6e8 * (double)ts_sim_agent_bytes());
    ts_error_clear(&err);
    cr_expect_eq(ts_estimate_check(&e, 16.0 * 0x1p30, &err), TS_EINPUT);
    cr_expect_eq(err.status, TS_EINPUT);
    cr_expect(strstr(err.msg, "the run needs an estimated ") == err.msg, "%s", err.msg);
    cr_expect(strstr(err.msg, "more than the limit of 16 GiB"), "%s", err.msg);
    cr_expect(strstr(err.msg, "6e+08 agents per replication"), "%s", err.msg);
    ts_error_clear(&err);
    cr_expect_eq(ts_estimate_check(&e, e.peak_bytes, &err), TS_OK);
    cr_expect_eq(err.status, TS_OK);
    ts_scenario_free(sc);
}

Test(estimate, rejects_an_invalid_scenario) {
    ts_scenario *sc = ts_scenario_alloc("bad");
    sc->base.years.end = sc->base.years.start - 1;
    ts_memory_estimate e;
    ts_error err;
    cr_expect_eq(ts_estimate_memory(sc, 1, &e, &err), TS_EINPUT);
    cr_expect_str_eq(err.key, "years.end");
    ts_scenario_free(sc);
}

Test(estimate, formats_bytes) {
    static const struct { double bytes; const char *text; } cases[] = {
        {0, "0 B"}, {512, "512 B"}, {1024, "1 KiB"}, {1536, "1.5 KiB"},
        {64.0 * 0x1p20, "64 MiB"}, {1.25 * 0x1p30, "1.25 GiB"}, {3.0 * 0x1p40, "3 TiB"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[32];
        ts_estimate_format_bytes(cases[i].bytes, buf, sizeof buf);
        cr_expect_str_eq(buf, cases[i].text);
    }
}

/* ---- make check-long: the estimate against the measured peak ---- */

/* The estimate may exceed the measured peak by at most this factor: the
 * bound counts a heap copy of arrays below 32 MiB that glibc does not
 * always make (up to 2x on the agents), and a fixed part for the program
 * and per thread that is about twice what is measured here. */
#define TS_EST_MAX_RATIO 3.0

typedef struct {
    const char *label;
    int threads;
    const char *set[8]; /* --set assignments on scenarios/baseline.yaml */
} ts_size_case;

static const ts_size_case size_cases[] = {
    {"tiny (2 x 0.001)", 1, {"replications=2", "sample_fraction=0.001"}},
    {"one full replication", 1, {"replications=1"}},
    {"8 x 0.25 side by side", 2, {"replications=8", "sample_fraction=0.25"}},
    {"201 years, no growth, 0.25", 2,
     {"replications=1", "sample_fraction=0.25", "years.start=2000", "years.end=2200",
      "inflow.us_students.growth=0", "inflow.cn_students.growth=0"}},
    {"1 x 1.0, 2015-2060", 2, {"replications=1", "years.end=2060"}},
    {"256 threads, 512 x 0.001", 256, {"replications=512", "sample_fraction=0.001"}},
    {"5000 x 0.0001, no spin-up", 2,
     {"replications=5000", "sample_fraction=0.0001", "years.spinup=0"}},
};

/* Runs talentsim on the case; returns the child's peak RSS in bytes. */
static double measured_peak(const ts_size_case *c, const char *outdir) {
    const char *bin = getenv("TALENTSIM_BIN") ? getenv("TALENTSIM_BIN") : "./talentsim";
    char threads[16];
    snprintf(threads, sizeof threads, "%d", c->threads);
    const char *argv[32] = {bin, "scenarios/baseline.yaml", "-q", "-f", "-t", threads,
                            "-o", outdir};
    int n = 8;
    for (int i = 0; c->set[i]; i++) {
        argv[n++] = "--set";
        argv[n++] = c->set[i];
    }
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    cr_assert_eq(wait4(pid, &status, 0, &ru), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: status %d", c->label, status);
    return (double)ru.ru_maxrss * 1024.0;
}

static double estimated_peak(const ts_size_case *c) {
    ts_error err;
    ts_scenario *sc = ts_scenario_load("scenarios/baseline.yaml", &err);
    cr_assert_not_null(sc, "%s", err.msg);
    for (int i = 0; c->set[i]; i++)
        cr_assert_eq(ts_scenario_set_assignment(sc, c->set[i], &err), TS_OK, "%s", err.msg);
    double e = estimate(sc, c->threads).peak_bytes;
    ts_scenario_free(sc);
    return e;
}

Test(estimate, bounds_measured_peak_rss, .timeout = 600) {
    if (!getenv("TALENTSIM_LONG"))
        cr_skip_test("long test: run with make check-long");
    char dir[] = "/tmp/ts_estimate_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    fprintf(stderr, "| run | threads | estimate (MiB) | measured peak RSS (MiB) | ratio |\n"
                    "|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof size_cases / sizeof size_cases[0]; i++) {
        const ts_size_case *c = &size_cases[i];
        char out[64];
        snprintf(out, sizeof out, "%s/out", dir);
        double rss = measured_peak(c, out), est = estimated_peak(c);
        fprintf(stderr, "| %s | %d | %.1f | %.1f | %.2f |\n", c->label, c->threads,
                est / 0x1p20, rss / 0x1p20, est / rss);
        cr_expect_geq(est, rss, "%s: estimate %.1f MiB below the measured %.1f MiB", c->label,
                      est / 0x1p20, rss / 0x1p20);
        cr_expect_leq(est, TS_EST_MAX_RATIO * rss, "%s: estimate %.1f MiB over %.0fx the "
                      "measured %.1f MiB", c->label, est / 0x1p20, TS_EST_MAX_RATIO,
                      rss / 0x1p20);
    }
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}
