/* talentsim: run a YAML policy scenario end to end.
 *
 * Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad input. */
#include <getopt.h>
#include <gsl/gsl_errno.h>
#include <limits.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "talentsim/output.h"
#include "talentsim/params.h"

#ifndef TS_VERSION
#define TS_VERSION "0.0.0"
#endif
#ifndef TS_GIT_COMMIT
#define TS_GIT_COMMIT "unknown"
#endif

typedef struct {
    const char *scenario;
    const char *outdir;
    int threads, force, quiet, dump;
    char command[4096];     /* argv as typed, before getopt permutes it */
    ts_overrides overrides; /* --set, --reps, --seed in command-line order */
} ts_cli;

static void usage(FILE *f) {
    fprintf(f,
        "Usage: talentsim SCENARIO.yaml [options]\n"
        "       talentsim check-patterns SCENARIO.yaml [options]\n"
        "       talentsim bench [--threads N] [--baseline FILE]\n"
        "\n"
        "Simulates the scenario's replications and writes CSV results to\n"
        "results/<scenario name>/ (summary.csv, replications.csv, targets.csv,\n"
        "scenario.resolved.yaml, manifest.json), then prints headline metrics\n"
        "and the calibration targets.\n"
        "\n"
        "Options:\n"
        "  -r, --reps N         number of replications (same as --set replications=N)\n"
        "  -s, --seed S         master seed (same as --set seed=S)\n"
        "  -t, --threads N      OpenMP threads (default: all cores); results do not\n"
        "                       depend on it\n"
        "      --set KEY=VALUE  override a parameter by its dotted key, repeatable,\n"
        "                       e.g. --set visa.work_approval=0.8 (see docs/parameters.md)\n"
        "  -o, --output DIR     results directory (default: results/<scenario name>)\n"
        "  -f, --force          overwrite the results of an earlier run in DIR\n"
        "  -q, --quiet          print nothing but errors; no progress bar\n"
        "      --dump           print the resolved scenario (YAML) and exit\n"
        "      --params-markdown\n"
        "                       print the parameter reference (Markdown) and exit\n"
        "  -h, --help           show this help and exit\n"
        "  -V, --version        show the version and exit\n"
        "\n"
        "Subcommands (each has --help):\n"
        "  check-patterns       check the patterns of MODEL.md section 10 (P1-P6)\n"
        "  bench                measure throughput, thread scaling and memory\n"
        "\n"
        "Exit status: 0 success, 1 runtime failure (I/O, memory), 2 bad usage or\n"
        "bad input (the message says file:line:col, the key and the allowed range).\n");
}

#define usage_error(...) ts_cli_usage_error("talentsim", __VA_ARGS__)

static int write_markdown(void *ctx, const char *s, size_t n) {
    return fwrite(s, 1, n, (FILE *)ctx) == n ? 0 : -1;
}

/* Returns -1 to continue, else an exit code. */
static int parse_args(ts_cli *cli, int argc, char **argv) {
    enum { OPT_SET = 256, OPT_DUMP, OPT_PARAMS_MD };
    static const struct option opts[] = {
        {"reps", required_argument, 0, 'r'},    {"seed", required_argument, 0, 's'},
        {"threads", required_argument, 0, 't'}, {"set", required_argument, 0, OPT_SET},
        {"output", required_argument, 0, 'o'},  {"force", no_argument, 0, 'f'},
        {"quiet", no_argument, 0, 'q'},         {"dump", no_argument, 0, OPT_DUMP},
        {"params-markdown", no_argument, 0, OPT_PARAMS_MD},
        {"help", no_argument, 0, 'h'},          {"version", no_argument, 0, 'V'},
        {0, 0, 0, 0}};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":r:s:t:o:fqhV", opts, NULL)) != -1) {
        switch (c) {
        case 'r': ts_overrides_add(&cli->overrides, "replications", optarg); break;
        case 's': ts_overrides_add(&cli->overrides, "seed", optarg); break;
        case OPT_SET:
            if (ts_overrides_add(&cli->overrides, NULL, optarg) != 0)
                return usage_error("too many --set options (at most %d)", TS_MAX_OVERRIDES);
            break;
        case 't':
            if (ts_cli_parse_threads(optarg, &cli->threads) != 0)
                return usage_error("--threads must be an integer in [1, 4096], got '%s'", optarg);
            break;
        case 'o': cli->outdir = optarg; break;
        case 'f': cli->force = 1; break;
        case 'q': cli->quiet = 1; break;
        case OPT_DUMP: cli->dump = 1; break;
        case OPT_PARAMS_MD: return ts_params_write_markdown(write_markdown, stdout) == 0 ? 0 : 1;
        case 'h': usage(stdout); return 0;
        case 'V': printf("talentsim %s (git %s)\n", TS_VERSION, TS_GIT_COMMIT); return 0;
        case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return usage_error("no scenario file given");
    if (optind != argc - 1)
        return usage_error("exactly one scenario file expected, got extra '%s'", argv[optind + 1]);
    cli->scenario = argv[optind];
    return -1;
}

static void join_args(int argc, char **argv, char *buf, size_t n) {
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < argc && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? " " : "", argv[i]);
}

static int simulate(const ts_cli *cli, ts_scenario *sc, const char *dir) {
    ts_error err;
    ts_error_clear(&err);
    ts_bar bar;
    ts_bar_start(&bar, !cli->quiet && isatty(STDERR_FILENO));
    ts_run_opts opt = {.threads = cli->threads, .progress = ts_bar_update, .progress_ctx = &bar};
    ts_results *res = NULL;
    double t0 = ts_now();
    ts_status st = ts_sim_run(sc, &opt, &res, &err);
    ts_bar_finish(&bar);
    if (st != TS_OK)
        return ts_cli_report_error(&err);
    ts_run_info info = {.program_version = TS_VERSION, .git_commit = TS_GIT_COMMIT,
                        .command_line = cli->command, .input_path = cli->scenario,
                        .threads = cli->threads, .wall_seconds = ts_now() - t0};
    st = ts_output_write_all(dir, sc, res, &info, &err);
    if (st == TS_OK && !cli->quiet) {
        printf("talentsim %s: scenario '%s', %lld replications, %lld-%lld, seed %lld, %d threads\n\n",
               TS_VERSION, sc->name, (long long)sc->base.replications,
               (long long)sc->base.years.start, (long long)sc->base.years.end,
               (long long)sc->base.seed, cli->threads);
        ts_report_print(stdout, sc, res);
        printf("\n%.4g agent-years in %.2f s; results in %s/\n", res->agent_years,
               info.wall_seconds, dir);
    }
    ts_results_free(res);
    return st == TS_OK ? 0 : ts_cli_report_error(&err);
}

static int run(const ts_cli *cli) {
    ts_error err;
    ts_error_clear(&err);
    ts_scenario *sc = ts_cli_load(cli->scenario, &cli->overrides, &err);
    if (!sc)
        return ts_cli_report_error(&err);
    if (cli->dump) {
        int rc = ts_write_resolved_yaml(stdout, sc) == 0 ? 0 : EXIT_RUNTIME;
        ts_scenario_free(sc);
        return rc;
    }
    char dir[4096];
    if (cli->outdir)
        snprintf(dir, sizeof dir, "%s", cli->outdir);
    else
        snprintf(dir, sizeof dir, "results/%s", sc->name);
    int rc = ts_output_prepare_dir(dir, cli->force, &err) == TS_OK
                 ? simulate(cli, sc, dir) : ts_cli_report_error(&err);
    ts_scenario_free(sc);
    return rc;
}

int main(int argc, char **argv) {
    gsl_set_error_handler_off(); /* GSL's default handler aborts; we check status codes */
    if (argc >= 2 && strcmp(argv[1], "bench") == 0)
        return ts_bench_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "check-patterns") == 0)
        return ts_patterns_main(argc - 1, argv + 1);
    static ts_cli cli;
    cli.threads = omp_get_num_procs();
    join_args(argc, argv, cli.command, sizeof cli.command);
    int rc = parse_args(&cli, argc, argv);
    if (rc >= 0)
        return rc;
    return run(&cli);
}
