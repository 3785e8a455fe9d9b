/* `talentsim bench`: a fixed workload that measures throughput, thread
 * scaling and memory per agent. Figures go to stdout; the targets of the
 * brief are printed beside them. This is a measurement, not a test. */
#include <getopt.h>
#include <gsl/gsl_statistics_double.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

#define TS_TARGET_RATE_PER_CORE 20e6
/* Targets of the issue "Engine performance" (docs/performance.md). */
#define TS_TARGET_SCALING_MANY 1.9 /* replications side by side, 1 -> 2 threads */
#define TS_TARGET_SCALING_ONE 1.85 /* one large replication */
#define TS_TARGET_BYTES 48
#define TS_TARGET_BASELINE_S 30.0

typedef struct {
    double seconds, agent_years;
} ts_timing;

/* Machines here are noisy: each figure is the median of TS_BENCH_REPEAT runs. */
#define TS_BENCH_REPEAT 3

static int time_once(const ts_scenario *sc, int threads, ts_timing *out) {
    ts_run_opts opt = {.threads = threads};
    ts_results *res = NULL;
    ts_error err;
    ts_error_clear(&err);
    double t0 = ts_now();
    if (ts_sim_run(sc, &opt, &res, &err) != TS_OK) {
        ts_cli_report_error(&err);
        return -1;
    }
    out->seconds = ts_now() - t0;
    out->agent_years = res->agent_years;
    ts_results_free(res);
    return 0;
}

static int by_seconds(const void *a, const void *b) {
    double x = ((const ts_timing *)a)->seconds, y = ((const ts_timing *)b)->seconds;
    return (x > y) - (x < y);
}

/* The run of median time among TS_BENCH_REPEAT. */
static int time_run(const ts_scenario *sc, int threads, ts_timing *out) {
    ts_timing t[TS_BENCH_REPEAT];
    for (int i = 0; i < TS_BENCH_REPEAT; i++)
        if (time_once(sc, threads, &t[i]) != 0)
            return -1;
    qsort(t, TS_BENCH_REPEAT, sizeof t[0], by_seconds);
    *out = t[TS_BENCH_REPEAT / 2];
    return 0;
}

static const char *verdict(int ok) { return ok ? "PASS" : "FAIL"; }

/* Default parameters with reps replications at sample_fraction fraction. */
static ts_scenario *workload(const char *reps, const char *fraction) {
    ts_error err;
    ts_scenario *sc = ts_scenario_alloc("bench");
    if (!sc || ts_scenario_set(sc, "replications", reps, "bench", &err) != TS_OK ||
        ts_scenario_set(sc, "sample_fraction", fraction, "bench", &err) != TS_OK) {
        ts_scenario_free(sc);
        return NULL;
    }
    return sc;
}

/* Pairs of runs for the scaling: a run at 1 thread, then one at all. */
#define TS_BENCH_PAIRS 7

/* Runs the workload at 1 and at `threads` threads in TS_BENCH_PAIRS
 * interleaved pairs, so that a drift of the machine's speed hits both
 * alike; the scaling is the median of the pairs' ratios, the rates are
 * those of the median runs. */
static int bench_mode(const char *label, const char *reps, const char *fraction, int threads,
                      double *rate1, double *scaling) {
    ts_scenario *sc = workload(reps, fraction);
    if (!sc)
        return -1;
    ts_timing one_t[TS_BENCH_PAIRS], all_t[TS_BENCH_PAIRS];
    double ratio[TS_BENCH_PAIRS];
    int rc = 0;
    for (int i = 0; i < TS_BENCH_PAIRS && rc == 0; i++) {
        rc = time_once(sc, 1, &one_t[i]) == 0 && time_once(sc, threads, &all_t[i]) == 0 ? 0 : -1;
        if (rc == 0)
            ratio[i] = one_t[i].seconds / all_t[i].seconds;
    }
    ts_scenario_free(sc);
    if (rc != 0)
        return -1;
    qsort(one_t, TS_BENCH_PAIRS, sizeof one_t[0], by_seconds);
    qsort(all_t, TS_BENCH_PAIRS, sizeof all_t[0], by_seconds);
    ts_timing one = one_t[TS_BENCH_PAIRS / 2], all = all_t[TS_BENCH_PAIRS / 2];
    *rate1 = one.agent_years / one.seconds;
    double rate_all = all.agent_years / all.seconds;
    *scaling = gsl_stats_median(ratio, 1, TS_BENCH_PAIRS);
    printf("%-34s %.3g agent-years; 1 thread: %.3g /s (%.2f s); %d threads: %.3g /s (%.2f s); "
           "scaling %.2fx\n", label, one.agent_years, *rate1, one.seconds, threads, rate_all,
           all.seconds, *scaling);
    return 0;
}

/* MODEL 2: the spin-up is part of the model; this says what it costs, on
 * the one-replication workload at `threads` threads. */
static int bench_spinup(int threads) {
    ts_error err;
    ts_scenario *with = ts_scenario_alloc("bench");
    ts_scenario *without = NULL;
    int rc = -1;
    if (with && ts_scenario_set(with, "replications", "1", "bench", &err) == TS_OK &&
        (without = ts_scenario_copy(with)) != NULL &&
        ts_scenario_set(without, "years.spinup", "0", "bench", &err) == TS_OK) {
        ts_timing a, b;
        rc = time_run(with, threads, &a) == 0 && time_run(without, threads, &b) == 0 ? 0 : -1;
        if (rc == 0)
            printf("spin-up of %lld years: %.3g of %.3g agent-years (%.0f%%); run time %.2f s "
                   "with, %.2f s without (%.2fx)\n", (long long)with->base.years.spinup,
                   a.agent_years - b.agent_years, a.agent_years,
                   100.0 * (a.agent_years - b.agent_years) / a.agent_years, a.seconds,
                   b.seconds, a.seconds / b.seconds);
    }
    ts_scenario_free(with);
    ts_scenario_free(without);
    return rc;
}

static int bench_baseline(const ts_scenario *sc, int threads) {
    ts_timing t;
    int rc = time_once(sc, threads, &t);
    if (rc == 0)
        printf("%-34s %lld replications, %.3g agent-years in %.1f s at %d threads "
               "(target < %.0f s: %s)\n", sc->path, (long long)sc->base.replications,
               t.agent_years, t.seconds, threads, TS_TARGET_BASELINE_S,
               verdict(t.seconds < TS_TARGET_BASELINE_S));
    return rc;
}

#define PROG "talentsim bench"
#define usage_error(...) ts_cli_usage_error(PROG, __VA_ARGS__)

typedef struct {
    int threads;
    const char *baseline;   /* --baseline, or NULL */
    const char *max_memory; /* --max-memory, or NULL */
} ts_bench_opts;

static void usage(FILE *f) {
    fprintf(f,
        "Usage: " PROG " [--threads N] [--baseline FILE] [--max-memory SIZE]\n"
        "\n"
        "Measures throughput (agent-years per second) at 1 and N threads on two\n"
        "fixed workloads with default parameters (8 replications at\n"
        "sample_fraction 0.25; 1 replication of the full population), the bytes\n"
        "of state per agent and the cost of the spin-up, and prints them beside\n"
        "their targets (docs/performance.md). Throughput and scaling come from %d\n"
        "interleaved pairs of runs (1 thread, then N): the medians of the runs\n"
        "and of the pairs' ratios; the spin-up's cost is the median of %d runs.\n"
        "\n"
        "Options:\n"
        "  -t, --threads N      threads of the parallel runs, 1 to %d\n"
        "                       (default: all cores)\n"
        "  -b, --baseline FILE  also time this scenario once at sample_fraction 1\n"
        "      --max-memory SIZE\n"
        "                       refuse workloads estimated to need more (e.g. 512M,\n"
        "                       8G); the available memory is always a limit\n"
        "  -h, --help           show this help and exit\n"
        "\n"
        "Exit status: 0 measured (a FAIL beside a target is not an error),\n"
        "1 runtime failure, 2 bad usage or bad input.\n", TS_BENCH_PAIRS, TS_BENCH_REPEAT,
        TS_MAX_THREADS);
}

/* Returns -1 to continue, else an exit code. */
static int parse_args(ts_bench_opts *o, int argc, char **argv) {
    enum { OPT_MAX_MEMORY = 256 };
    static const struct option opts[] = {{"threads", required_argument, 0, 't'},
                                         {"baseline", required_argument, 0, 'b'},
                                         {"max-memory", required_argument, 0, OPT_MAX_MEMORY},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c, rc;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:b:h", opts, NULL)) != -1) {
        if (c == 't' && (rc = ts_cli_opt_threads(PROG, optarg, &o->threads)) >= 0)
            return rc;
        if (c == OPT_MAX_MEMORY && (rc = ts_cli_opt_max_memory(PROG, optarg, &o->max_memory)) >= 0)
            return rc;
        if (c == 'b')
            o->baseline = optarg;
        else if (c == 'h')
            return usage(stdout), 0;
        else if (c == ':')
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        else if (c != 't' && c != OPT_MAX_MEMORY)
            return usage_error("unknown option '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    return -1;
}

/* Loads --baseline at sample_fraction 1 (NULL path: *out = NULL) and
 * refuses, before anything runs, a workload that would not fit in memory.
 * Returns 0 or an exit code. */
static int prepare(const ts_bench_opts *o, ts_scenario **out) {
    static const char *const workloads[][2] = {{"8", "0.25"}, {"1", "1"}};
    ts_error err;
    ts_error_clear(&err);
    *out = NULL;
    for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; i++) {
        ts_scenario *sc = workload(workloads[i][0], workloads[i][1]);
        int rc = sc ? ts_cli_memory_guard(sc, o->threads, o->max_memory) : EXIT_RUNTIME;
        ts_scenario_free(sc);
        if (rc != 0)
            return rc;
    }
    if (!o->baseline)
        return 0;
    ts_scenario *sc = ts_scenario_load(o->baseline, &err);
    if (!sc || ts_scenario_set(sc, "sample_fraction", "1", "bench", &err) != TS_OK) {
        ts_scenario_free(sc);
        return ts_cli_report_error(&err);
    }
    int rc = ts_cli_memory_guard(sc, o->threads, o->max_memory);
    if (rc == 0)
        *out = sc;
    else
        ts_scenario_free(sc);
    return rc;
}

/* Every figure, in order; 0 or 1. */
static int bench_all(int threads, const ts_scenario *baseline) {
    ts_params d;
    ts_params_default(&d);
    printf("talentsim bench: default parameters, years %lld-%lld after a %lld-year spin-up "
           "(included in every figure), %d threads, medians of %d interleaved pairs\n",
           (long long)d.years.start, (long long)d.years.end, (long long)d.years.spinup, threads,
           TS_BENCH_PAIRS);
    double r_many, s_many, r_one, s_one;
    if (bench_mode("replications side by side (8 x 0.25)", "8", "0.25", threads, &r_many,
                   &s_many) != 0 ||
        bench_mode("one large replication (1 x 1.0)", "1", "1", threads, &r_one, &s_one) != 0)
        return 1;
    double per_core = r_many < r_one ? r_many : r_one;
    size_t bytes = ts_sim_agent_bytes();
    printf("\nagent-years per second per core: %.3g (target >= %.0e: %s)\n", per_core,
           TS_TARGET_RATE_PER_CORE, verdict(per_core >= TS_TARGET_RATE_PER_CORE));
    printf("thread scaling 1 -> %d: %.2fx side by side (target >= %.2fx: %s), %.2fx one "
           "replication (target >= %.2fx: %s)\n", threads, s_many, TS_TARGET_SCALING_MANY,
           verdict(s_many >= TS_TARGET_SCALING_MANY), s_one, TS_TARGET_SCALING_ONE,
           verdict(s_one >= TS_TARGET_SCALING_ONE));
    printf("bytes of state per agent: %zu (target <= %d: %s)\n", bytes, TS_TARGET_BYTES,
           verdict(bytes <= TS_TARGET_BYTES));
    if (bench_spinup(threads) != 0)
        return 1;
    return baseline && bench_baseline(baseline, threads) != 0 ? 1 : 0;
}

int ts_bench_main(int argc, char **argv) {
    int procs = omp_get_num_procs();
    ts_bench_opts o = {.threads = procs < TS_MAX_THREADS ? procs : TS_MAX_THREADS};
    int rc = parse_args(&o, argc, argv);
    if (rc >= 0)
        return rc;
    ts_scenario *baseline = NULL;
    rc = prepare(&o, &baseline);
    if (rc == 0)
        rc = bench_all(o.threads, baseline);
    ts_scenario_free(baseline);
    return rc;
}
