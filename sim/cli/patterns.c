/* `talentsim check-patterns`: runs a scenario and its P5 variants and prints
 * the patterns of MODEL.md section 10 as a table. Exit 0 when every pattern
 * holds, 3 when one fails, 1/2 on runtime or input errors. */
#include <getopt.h>
#include <inttypes.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "talentsim/patterns.h"

#define PROG "talentsim check-patterns"
#define usage_error(...) ts_cli_usage_error(PROG, __VA_ARGS__)

/* MODEL 9: scenarios diverge from 2023. */
#define P5_FROM_DEFAULT 2023
#define P5_K_SE_DEFAULT 3.0

static void usage(FILE *f) {
    fprintf(f,
        "Usage: " PROG " SCENARIO.yaml [options]\n"
        "\n"
        "Runs the scenario, then five paired variants of it that diverge in\n"
        "--from (default %d) with the same seed (common random numbers), and\n"
        "checks the patterns of MODEL.md section 10:\n"
        "  P1 the targets are met            P4 academic switches are mostly chosen\n"
        "  P2 steady uptick of switches      P5 policies move outcomes their way\n"
        "     2017-2021                      P6 voluntary movers are less talented\n"
        "  P3 no start-up transient             than those who stay\n"
        "Prints one row per pattern: the figure, the criterion, PASS or FAIL.\n"
        "\n"
        "Options:\n"
        "  -r, --reps N         replications per run (same as --set replications=N)\n"
        "  -s, --seed S         master seed (same as --set seed=S)\n"
        "  -t, --threads N      OpenMP threads, 1 to %d (default: all cores)\n"
        "      --set KEY=VALUE  override a parameter, repeatable\n"
        "      --from YEAR      first year of the P5 variants (default %d)\n"
        "      --max-memory SIZE\n"
        "                       refuse a run estimated to need more (e.g. 512M, 8G);\n"
        "                       the available memory is always a limit\n"
        "  -q, --quiet          no progress bar\n"
        "  -h, --help           show this help and exit\n"
        "\n"
        "Exit status: 0 every pattern holds, 3 a pattern fails, 1 runtime\n"
        "failure, 2 bad usage or bad input.\n",
        P5_FROM_DEFAULT, TS_MAX_THREADS, P5_FROM_DEFAULT);
}

typedef struct {
    const char *scenario;
    const char *max_memory; /* --max-memory, or NULL */
    int threads, quiet;
    int64_t from;
    ts_overrides overrides;
} ts_pat_cli;

static int parse_year(const char *s, int64_t *out) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1700 || v > 2300)
        return -1;
    *out = v;
    return 0;
}


enum { OPT_SET = 256, OPT_FROM, OPT_MAX_MEMORY };

/* One option; -1 to go on, else an exit code. */
static int parse_option(ts_pat_cli *c, int ch, char **argv) {
    switch (ch) {
    case 'r': case 's': case OPT_SET:
        return ts_cli_opt_override(PROG, &c->overrides,
                                   ch == 'r' ? "replications" : ch == 's' ? "seed" : NULL,
                                   optarg);
    case 't': return ts_cli_opt_threads(PROG, optarg, &c->threads);
    case OPT_FROM:
        return parse_year(optarg, &c->from) == 0
                   ? -1 : usage_error("--from must be a year, got '%s'", optarg);
    case OPT_MAX_MEMORY: return ts_cli_opt_max_memory(PROG, optarg, &c->max_memory);
    case 'q': c->quiet = 1; return -1;
    case 'h': usage(stdout); return 0;
    case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
    default: return usage_error("unknown option '%s'", argv[optind - 1]);
    }
}

/* Returns -1 to continue, else an exit code. */
static int parse_args(ts_pat_cli *c, int argc, char **argv) {
    static const struct option opts[] = {
        {"reps", required_argument, 0, 'r'},    {"seed", required_argument, 0, 's'},
        {"threads", required_argument, 0, 't'}, {"set", required_argument, 0, OPT_SET},
        {"from", required_argument, 0, OPT_FROM},
        {"max-memory", required_argument, 0, OPT_MAX_MEMORY},
        {"quiet", no_argument, 0, 'q'},         {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int ch, rc;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":r:s:t:qh", opts, NULL)) != -1)
        if ((rc = parse_option(c, ch, argv)) >= 0)
            return rc;
    if (optind != argc - 1)
        return usage_error(optind >= argc ? "no scenario file given"
                                          : "exactly one scenario file expected");
    c->scenario = argv[optind];
    return -1;
}

/* The check runs the scenario, then each P5 variant while the scenario's
 * results are kept: its peak is the larger of the first run and the
 * largest variant plus those results. Variants that cannot be made are
 * left to ts_patterns_check to report. */
static int memory_guard(const ts_pat_cli *c, const ts_scenario *sc) {
    ts_memory_estimate e, v;
    ts_error err;
    ts_error_clear(&err);
    if (ts_estimate_memory(sc, c->threads, &e, &err) != TS_OK)
        return ts_cli_report_error(&err);
    double kept = e.results_bytes;
    for (size_t i = 0; i < ts_p5_variant_count(); i++) {
        ts_scenario *vs = NULL;
        if (ts_p5_variant_make(sc, i, c->from, &vs, &err) == TS_OK &&
            ts_estimate_memory(vs, c->threads, &v, &err) == TS_OK &&
            v.peak_bytes + kept > e.peak_bytes) {
            v.peak_bytes += kept;
            v.results_bytes += kept;
            v.file = sc->path;
            e = v;
        }
        ts_scenario_free(vs);
    }
    return ts_cli_memory_check(&e, c->max_memory);
}

static void print_report(const ts_scenario *sc, const ts_pattern_report *rep, int threads) {
    printf("talentsim check-patterns: scenario '%s', %lld replications per run, seed %lld, "
           "%d threads\n\n", sc->name, (long long)sc->base.replications,
           (long long)sc->base.seed, threads);
    printf("%-4s  %-52s  %-58s  %-70s  %s\n", "id", "pattern", "figure", "criterion", "result");
    for (size_t i = 0; i < rep->n; i++) {
        const ts_pattern_row *r = &rep->rows[i];
        printf("%-4s  %-52s  %-58s  %-70s  %s\n", r->id, r->pattern, r->figure, r->criterion,
               r->pass ? "PASS" : "FAIL");
    }
    printf("\n%zu of %zu checks pass\n", rep->n - rep->nfail, rep->n);
}

int ts_patterns_main(int argc, char **argv) {
    static ts_pat_cli c;
    c.threads = omp_get_num_procs() < TS_MAX_THREADS ? omp_get_num_procs() : TS_MAX_THREADS;
    c.from = P5_FROM_DEFAULT;
    int rc = parse_args(&c, argc, argv);
    if (rc >= 0)
        return rc;
    ts_error err;
    ts_error_clear(&err);
    ts_scenario *sc = ts_cli_load(c.scenario, &c.overrides, &err);
    if (!sc)
        return ts_cli_report_error(&err);
    if ((rc = memory_guard(&c, sc)) != 0) {
        ts_scenario_free(sc);
        return rc;
    }
    ts_bar bar;
    ts_bar_start(&bar, !c.quiet && isatty(STDERR_FILENO));
    ts_run_opts run = {.threads = c.threads, .progress = ts_bar_update, .progress_ctx = &bar};
    ts_pattern_opts opt = {.p5_from = c.from, .k_se = P5_K_SE_DEFAULT};
    ts_pattern_report rep;
    ts_status st = ts_patterns_check(sc, &run, &opt, &rep, &err);
    ts_bar_finish(&bar);
    if (st != TS_OK) {
        ts_scenario_free(sc);
        return ts_cli_report_error(&err);
    }
    print_report(sc, &rep, c.threads);
    rc = rep.nfail ? EXIT_CHECK_FAILED : 0;
    if (fflush(stdout) != 0)
        rc = EXIT_RUNTIME;
    ts_pattern_report_free(&rep);
    ts_scenario_free(sc);
    return rc;
}
