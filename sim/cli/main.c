/* talentsim: run a YAML policy scenario end to end.
 *
 * Exit codes: 0 success, 1 runtime failure (standard output that cannot be
 * written included), 2 bad usage or bad input (a busy output directory
 * included), 128 + signal number when SIGINT or SIGTERM stopped a run. */
#include <errno.h>
#include <getopt.h>
#include <gsl/gsl_errno.h>
#include <limits.h>
#include <omp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "talentsim/calibrate.h"
#include "talentsim/output.h"
#include "talentsim/stats.h"
#include "talentsim/params.h"

/* Scenario files on one command line (they run together, sharing prefixes). */
#define TS_MAX_SCENARIOS 64

typedef struct {
    const char *scenario[TS_MAX_SCENARIOS];
    int nscenario;
    const char *outdir;
    const char *max_memory; /* --max-memory, or NULL */
    const char *posterior;  /* --posterior FILE, or NULL */
    int threads, force, quiet, dump, check_targets;
    char command[4096];     /* argv as typed, before getopt permutes it */
    ts_overrides overrides; /* --set, --reps, --seed in command-line order */
} ts_cli;

static void usage(FILE *f) {
    fprintf(f,
        "Usage: talentsim SCENARIO.yaml [SCENARIO.yaml...] [options]\n"
        "       talentsim check-patterns SCENARIO.yaml [options]\n"
        "       talentsim compare REFERENCE.yaml SCENARIO.yaml... [options]\n"
        "       talentsim bench [--threads N] [--baseline FILE] [--max-memory SIZE]\n"
        "       talentsim sweep SWEEP.yaml [--shard K/N] [-o DIR] [--list] [--dry-run]\n"
        "       talentsim merge DIR\n"
        "       talentsim sensitivity DIR\n"
        "       talentsim calibrate CALIBRATION.yaml [--resume] [-o DIR]\n"
        "       talentsim plot DIR\n"
        "\n"
        "Simulates the scenario's replications and writes CSV results to\n"
        "results/<scenario name>/ (summary.csv, replications.csv, targets.csv,\n"
        "scenario.resolved.yaml, manifest.json), then prints headline metrics\n"
        "and the calibration targets.\n"
        "\n"
        "Several scenario files (up to 64) run together with common random\n"
        "numbers: years in which their parameters agree (the spin-up, the years\n"
        "before a policy) are simulated once. Each scenario's results are\n"
        "byte-identical to running it alone, in results/<name>/ (or DIR/<name>/\n"
        "with -o DIR).\n"
        "\n"
        "Options:\n"
        "  -r, --reps N         number of replications (same as --set replications=N)\n"
        "  -s, --seed S         master seed (same as --set seed=S)\n"
        "  -t, --threads N      OpenMP threads, 1 to 1024 (default: all cores); results\n"
        "                       do not depend on it\n"
        "      --set KEY=VALUE  override a parameter by its dotted key, repeatable,\n"
        "                       e.g. --set visa.work_approval=0.8 (see docs/parameters.md)\n"
        "  -o, --output DIR     results directory (default: results/<scenario name>);\n"
        "                       with several scenarios, the parent of their directories\n"
        "  -f, --force          overwrite the results of an earlier run in DIR\n"
        "      --max-memory SIZE\n"
        "                       refuse a run estimated to need more memory than SIZE\n"
        "                       (e.g. 512M, 8G); the available memory is always a limit\n"
        "      --posterior FILE run over posterior draws (a calibration's posterior.csv):\n"
        "                       replication r simulates draw r of the weighted particles,\n"
        "                       so intervals carry the parameter uncertainty too\n"
        "      --check-targets  exit with status 3 when a target is missed\n"
        "  -q, --quiet          print nothing but errors; no progress bar\n"
        "      --dump           print the resolved scenario (YAML) and exit\n"
        "      --params-markdown\n"
        "                       print the parameter reference (Markdown) and exit\n"
        "  -h, --help           show this help and exit\n"
        "  -V, --version        show the version and exit\n"
        "\n"
        "Subcommands (each has --help):\n"
        "  check-patterns       check the patterns of MODEL.md section 10 (P1-P6)\n"
        "  compare              paired differences of scenarios against a reference\n"
        "                       (common random numbers) into compare.csv\n"
        "  bench                measure throughput, thread scaling and memory\n"
        "  sweep                run the points of a parameter sweep (grid, lhs, sobol,\n"
        "                       saltelli), locally, as a Slurm array shard or under MPI\n"
        "  merge                join a sweep's results into sweep.csv\n"
        "  sensitivity          Sobol indices of a saltelli sweep\n"
        "  calibrate            fit a scenario's free parameters to its targets (ABC-SMC)\n"
        "  plot                 figures and an HTML report of a run, comparison, sweep\n"
        "                       or calibration directory (Python and matplotlib)\n"
        "\n"
        "Exit status: 0 success, 1 runtime failure (I/O, memory, unwritable standard\n"
        "output), 2 bad usage, bad input (the message says file:line:col, the key and\n"
        "the allowed range), a run too large for the memory, or an output directory\n"
        "in use or holding an earlier run; 3 a target missed with --check-targets;\n"
        "130/143 interrupted by SIGINT/SIGTERM.\n");
}

#define PROG "talentsim"
#define usage_error(...) ts_cli_usage_error(PROG, __VA_ARGS__)

/* The one line for a run that a signal stopped; returns 128 + signal. */
static int report_stop(int complete, const char *dir) {
    const char *name = ts_stop_signal == SIGINT ? "SIGINT" : "SIGTERM";
    if (complete)
        fprintf(stderr, "talentsim: interrupted by %s after the results were "
                "written to %s/\n", name, dir);
    else
        fprintf(stderr, "talentsim: interrupted by %s; no results written\n", name);
    return 128 + ts_stop_signal;
}

static int write_markdown(void *ctx, const char *s, size_t n) {
    return fwrite(s, 1, n, (FILE *)ctx) == n ? 0 : -1;
}

/* Returns -1 to continue, else an exit code. */
static int parse_args(ts_cli *cli, int argc, char **argv) {
    enum { OPT_SET = 256, OPT_DUMP, OPT_PARAMS_MD, OPT_MAX_MEMORY, OPT_POSTERIOR, OPT_CHECK };
    static const struct option opts[] = {
        {"reps", required_argument, 0, 'r'},    {"seed", required_argument, 0, 's'},
        {"threads", required_argument, 0, 't'}, {"set", required_argument, 0, OPT_SET},
        {"output", required_argument, 0, 'o'},  {"force", no_argument, 0, 'f'},
        {"quiet", no_argument, 0, 'q'},         {"dump", no_argument, 0, OPT_DUMP},
        {"params-markdown", no_argument, 0, OPT_PARAMS_MD},
        {"max-memory", required_argument, 0, OPT_MAX_MEMORY},
        {"posterior", required_argument, 0, OPT_POSTERIOR},
        {"check-targets", no_argument, 0, OPT_CHECK},
        {"help", no_argument, 0, 'h'},          {"version", no_argument, 0, 'V'},
        {0, 0, 0, 0}};
    int c, rc = -1;
    opterr = 0;
    while (rc < 0 && (c = getopt_long(argc, argv, ":r:s:t:o:fqhV", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
        case 's':
        case OPT_SET:
            rc = ts_cli_opt_override(PROG, &cli->overrides,
                                     c == 'r' ? "replications" : c == 's' ? "seed" : NULL,
                                     optarg);
            break;
        case 't': rc = ts_cli_opt_threads(PROG, optarg, &cli->threads); break;
        case OPT_MAX_MEMORY: rc = ts_cli_opt_max_memory(PROG, optarg, &cli->max_memory); break;
        case 'o': cli->outdir = optarg; break;
        case 'f': cli->force = 1; break;
        case 'q': cli->quiet = 1; break;
        case OPT_DUMP: cli->dump = 1; break;
        case OPT_POSTERIOR: cli->posterior = optarg; break;
        case OPT_CHECK: cli->check_targets = 1; break;
        case OPT_PARAMS_MD: return ts_params_write_markdown(write_markdown, stdout) == 0 ? 0 : 1;
        case 'h': usage(stdout); return 0;
        case 'V': printf("talentsim %s (git %s)\n", TS_VERSION, TS_GIT_COMMIT); return 0;
        case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (rc >= 0)
        return rc;
    if (optind >= argc)
        return usage_error("no scenario file given");
    if (argc - optind > TS_MAX_SCENARIOS)
        return usage_error("at most %d scenario files, got %d", TS_MAX_SCENARIOS, argc - optind);
    if (cli->dump && argc - optind > 1)
        return usage_error("--dump takes one scenario file, got %d", argc - optind);
    for (int i = optind; i < argc; i++)
        cli->scenario[cli->nscenario++] = argv[i];
    return -1;
}

/* rc, or EXIT_RUNTIME (when rc is 0) with one line on stderr when what was
 * printed to standard output could not all be written (full disk, closed
 * pipe, ...). A failed write leaves the stream's error flag set but may leave
 * nothing for fflush to fail on: errno is then still that of the write, as
 * long as this is called right after the printing. */
static int check_stdout(int rc) {
    int e = errno;
    if (fflush(stdout) != 0)
        e = errno;
    else if (!ferror(stdout))
        return rc;
    __fpurge(stdout); /* what could not be written is dropped, */
    clearerr(stdout); /* so that a later check finds nothing to report */
    fprintf(stderr, "talentsim: error: cannot write to standard output: %s\n",
            strerror(e ? e : EIO));
    return rc == 0 ? EXIT_RUNTIME : rc;
}

static void print_report(const ts_cli *cli, const ts_scenario *sc, const ts_results *res,
                         double seconds, const char *dir) {
    printf("talentsim %s: scenario '%s', %lld replications, %lld-%lld, seed %lld, %d threads\n\n",
           TS_VERSION, sc->name, (long long)sc->base.replications,
           (long long)sc->base.years.start, (long long)sc->base.years.end,
           (long long)sc->base.seed, cli->threads);
    ts_report_print(stdout, sc, res);
    printf("\n%.4g agent-years in %.2f s; results in %s/\n", res->agent_years, seconds, dir);
}

/* Targets of sc that res misses (MODEL.md section 7). */
static int count_missed(const ts_scenario *sc, const ts_results *res) {
    double *work = malloc(res->nrep * sizeof *work);
    int missed = 0;
    for (size_t i = 0; work && i < sc->ntargets; i++) {
        ts_target_eval ev;
        ts_target_evaluate(&sc->targets[i], res, work, &ev);
        missed += ev.met == 0;
    }
    free(work);
    return work ? missed : (int)sc->ntargets;
}

/* Simulates the n scenarios together (over posterior draws when post), writes each one's results into its
 * od[i] and reports; the exit code. */
static int simulate(const ts_cli *cli, const ts_posterior *post, ts_scenario **sc,
                    ts_output_dir **od, char (*dir)[4096], int n) {
    ts_error err;
    ts_error_clear(&err);
    ts_bar bar;
    ts_bar_start(&bar, !cli->quiet && isatty(STDERR_FILENO));
    ts_run_opts opt = {.threads = cli->threads, .progress = ts_bar_update,
                       .progress_ctx = &bar, .stop = &ts_stop_signal};
    ts_results *res[TS_MAX_SCENARIOS] = {0};
    double t0 = ts_now();
    ts_status st = post ? ts_posterior_run(post, (const ts_scenario *const *)sc, (size_t)n, &opt,
                                           res, &err)
                        : ts_sim_run_many((const ts_scenario *const *)sc, (size_t)n, &opt, res,
                                          &err);
    ts_bar_finish(&bar);
    double seconds = ts_now() - t0;
    int rc = 0, written = 0, missed = 0;
    for (int i = 0; i < n && st == TS_OK && !ts_stop_signal; i++) {
        ts_run_info info =
            ts_cli_run_info(cli->command, cli->scenario[i], cli->threads, seconds);
        st = ts_output_dir_write(od[i], sc[i], res[i], &info, &err);
        written += st == TS_OK;
        if (st == TS_OK && !cli->quiet && !ts_stop_signal) {
            if (i > 0)
                printf("\n");
            print_report(cli, sc[i], res[i], seconds, dir[i]);
            rc = check_stdout(0);
        }
        missed += st == TS_OK && cli->check_targets ? count_missed(sc[i], res[i]) : 0;
    }
    for (int i = 0; i < n; i++)
        ts_results_free(res[i]);
    if (ts_stop_signal)
        return report_stop(st == TS_OK && written == n, n == 1 ? dir[0] : "their directories");
    if (st != TS_OK)
        return ts_cli_report_error(&err);
    if (missed && rc == 0) {
        fprintf(stderr, "talentsim: %d target(s) missed (--check-targets)\n", missed);
        rc = EXIT_CHECK_FAILED;
    }
    return rc;
}

/* The scenarios' output directories: DIR, results/<name>, or DIR/<name> for
 * several; two scenarios may not share one. */
static int output_dirs(const ts_cli *cli, ts_scenario **sc, char (*dir)[4096], int n) {
    for (int i = 0; i < n; i++) {
        if (cli->outdir && n == 1)
            snprintf(dir[i], sizeof dir[i], "%s", cli->outdir);
        else
            snprintf(dir[i], sizeof dir[i], "%s/%s", cli->outdir ? cli->outdir : "results",
                     sc[i]->name);
        for (int j = 0; j < i; j++)
            if (strcmp(dir[i], dir[j]) == 0)
                return usage_error("scenarios '%s' and '%s' would both write to %s/; give "
                                   "them different names", cli->scenario[j], cli->scenario[i],
                                   dir[i]);
    }
    return -1;
}

static void free_all(ts_scenario **sc, ts_output_dir **od, int n) {
    for (int i = 0; i < n; i++) {
        ts_output_dir_close(od[i]);
        ts_scenario_free(sc[i]);
    }
}

static int run(const ts_cli *cli) {
    ts_error err;
    ts_error_clear(&err);
    int n = cli->nscenario, rc = -1;
    ts_scenario *sc[TS_MAX_SCENARIOS] = {0};
    ts_output_dir *od[TS_MAX_SCENARIOS] = {0};
    static char dir[TS_MAX_SCENARIOS][4096];
    for (int i = 0; i < n && rc < 0; i++) {
        sc[i] = ts_cli_load(cli->scenario[i], &cli->overrides, &err);
        if (!sc[i])
            rc = ts_cli_report_error(&err);
    }
    if (rc < 0 && cli->dump)
        rc = check_stdout(ts_write_resolved_yaml(stdout, sc[0]) == 0 ? 0 : EXIT_RUNTIME);
    for (int i = 0; i < n && rc < 0; i++) {
        int guard = ts_cli_memory_guard(sc[i], cli->threads, cli->max_memory);
        rc = guard != 0 ? guard : -1;
    }
    if (rc < 0)
        rc = output_dirs(cli, sc, dir, n);
    if (rc < 0)
        ts_cli_catch_stop_signals();
    for (int i = 0; i < n && rc < 0; i++) {
        od[i] = ts_output_dir_open(dir[i], cli->force, &err);
        if (!od[i])
            rc = ts_cli_report_error(&err);
    }
    ts_posterior *post = NULL;
    if (rc < 0 && cli->posterior && !(post = ts_posterior_load(cli->posterior, &err)))
        rc = ts_cli_report_error(&err);
    if (rc < 0)
        rc = simulate(cli, post, sc, od, dir, n);
    ts_posterior_free(post);
    free_all(sc, od, n);
    return rc;
}

static int dispatch(int argc, char **argv) {
    static const struct {
        const char *name;
        int (*main)(int, char **);
    } subcommands[] = {{"bench", ts_bench_main},
                       {"check-patterns", ts_patterns_main},
                       {"compare", ts_compare_main},
                       {"sweep", ts_sweep_main},
                       {"merge", ts_merge_main},
                       {"sensitivity", ts_sensitivity_main},
                       {"calibrate", ts_calibrate_main},
                       {"plot", ts_plot_main}};
    for (size_t i = 0; argc >= 2 && i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].main(argc - 1, argv + 1);
    static ts_cli cli;
    cli.threads = omp_get_num_procs() < TS_MAX_THREADS ? omp_get_num_procs() : TS_MAX_THREADS;
    ts_cli_join_args(argc, argv, cli.command, sizeof cli.command);
    int rc = parse_args(&cli, argc, argv);
    if (rc >= 0)
        return rc;
    return run(&cli);
}

int main(int argc, char **argv) {
    gsl_set_error_handler_off(); /* GSL's default handler aborts; we check status codes */
    return check_stdout(dispatch(argc, argv));
}
