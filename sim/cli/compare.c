/* `talentsim compare REFERENCE SCENARIO...`: runs the scenarios together
 * with common random numbers (the reference's seed and replications for
 * all), writes each one's results into DIR/<name>/ and the paired
 * differences against the reference into DIR/compare.csv, and prints the
 * headline effects in the last year (docs/compare.md).
 *
 * compare.csv is renamed into place last, after every scenario's results:
 * a directory holding it holds a complete comparison. Bad input (one
 * scenario, different years, two scenarios of one name, a bad file) stops
 * with exit code 2 before anything is created. */
#include <getopt.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "talentsim/calibrate.h"
#include "talentsim/output.h"

#define PROG "talentsim compare"
#define usage_error(...) ts_cli_usage_error(PROG, __VA_ARGS__)

/* Scenario files on one command line, the reference included (as for a
 * plain run of several scenarios). */
#define CMP_MAX_SCENARIOS 64
#define CMP_PATH_MAX 4096

typedef struct {
    const char *scenario[CMP_MAX_SCENARIOS]; /* [0] is the reference */
    int nscenario;
    const char *outdir;     /* -o, or NULL for results/compare-<reference name> */
    const char *max_memory; /* --max-memory, or NULL */
    int threads, force, quiet;
    /* --posterior FILE, or NULL: replication r of every scenario simulates
     * posterior draw r with the same seed (ts_posterior_run), so the pairs
     * stay matched and the intervals carry parameter uncertainty. */
    const char *posterior;
    char command[4096];     /* the command line, for the manifests */
    ts_overrides overrides; /* --set, --reps, --seed, applied to every scenario */
} cmp_cli;

/* What a comparison holds while it runs. */
typedef struct {
    int n;
    ts_scenario *sc[CMP_MAX_SCENARIOS];
    ts_results *res[CMP_MAX_SCENARIOS];
    ts_output_dir *od[CMP_MAX_SCENARIOS]; /* DIR/<name> of each scenario */
    ts_output_dir *top;                   /* DIR, locked while compare.csv is made */
    char dir[CMP_PATH_MAX];
    char sub[CMP_MAX_SCENARIOS][CMP_PATH_MAX];
} cmp_run;

static void usage(FILE *f) {
    fprintf(f,
        "Usage: " PROG " REFERENCE.yaml SCENARIO.yaml [SCENARIO.yaml...] [options]\n"
        "\n"
        "Runs the reference and the other scenarios (up to %d files in all) with\n"
        "the same seed and replications (the reference's, unless -r, -s or --set\n"
        "change them for all): replication r of every scenario uses the same\n"
        "random numbers (common random numbers), so the per-replication\n"
        "differences d_r = scenario_r - reference_r measure the policy's effect\n"
        "without the sampling noise of two independent runs. Writes\n"
        "  DIR/compare.csv   scenario,reference,year,metric,mean_diff,sd_diff,\n"
        "                    p2_5,p97_5,rel_diff,variance_reduction\n"
        "  DIR/<name>/       each scenario's results, as a plain run writes them\n"
        "and prints the effects in the last year. DIR is results/compare-<reference\n"
        "name> unless -o gives it. The scenarios must simulate the same years\n"
        "(years.start, years.end, years.spinup) and have different names.\n"
        "\n"
        "Options:\n"
        "  -r, --reps N         replications of every scenario (same as --set replications=N)\n"
        "  -s, --seed S         master seed of every scenario (same as --set seed=S)\n"
        "      --set KEY=VALUE  override a parameter in every scenario, repeatable\n"
        "  -t, --threads N      OpenMP threads, 1 to %d (default: all cores); results\n"
        "                       do not depend on it\n"
        "  -o, --output DIR     output directory (default: results/compare-<reference name>)\n"
        "  -f, --force          overwrite an earlier comparison or run in DIR\n"
        "      --max-memory SIZE\n"
        "                       refuse a run estimated to need more (e.g. 512M, 8G)\n"
        "      --posterior FILE run every scenario over the same posterior draws (a\n"
        "                       calibration's posterior.csv), pair by pair\n"
        "  -q, --quiet          print nothing but errors; no progress bar\n"
        "  -h, --help           show this help and exit\n"
        "\n"
        "Exit status: 0 success, 1 runtime failure, 2 bad usage or bad input;\n"
        "130/143 interrupted by SIGINT/SIGTERM (compare.csv is then not written).\n",
        CMP_MAX_SCENARIOS, TS_MAX_THREADS);
}

enum { OPT_SET = 256, OPT_MAX_MEMORY, OPT_POSTERIOR };

/* One option; -1 to go on, else an exit code. */
static int parse_option(cmp_cli *c, int ch, char **argv) {
    switch (ch) {
    case 'r': case 's': case OPT_SET:
        return ts_cli_opt_override(PROG, &c->overrides,
                                   ch == 'r' ? "replications" : ch == 's' ? "seed" : NULL,
                                   optarg);
    case 't': return ts_cli_opt_threads(PROG, optarg, &c->threads);
    case OPT_MAX_MEMORY: return ts_cli_opt_max_memory(PROG, optarg, &c->max_memory);
    case 'o': c->outdir = optarg; return -1;
    case 'f': c->force = 1; return -1;
    case 'q': c->quiet = 1; return -1;
    case OPT_POSTERIOR: c->posterior = optarg; return -1;
    case 'h': usage(stdout); return 0;
    case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
    default: return usage_error("unknown option '%s'", argv[optind - 1]);
    }
}

/* Returns -1 to continue, else an exit code. */
static int parse_args(cmp_cli *c, int argc, char **argv) {
    static const struct option opts[] = {
        {"reps", required_argument, 0, 'r'},    {"seed", required_argument, 0, 's'},
        {"threads", required_argument, 0, 't'}, {"set", required_argument, 0, OPT_SET},
        {"output", required_argument, 0, 'o'},  {"force", no_argument, 0, 'f'},
        {"max-memory", required_argument, 0, OPT_MAX_MEMORY},
        {"posterior", required_argument, 0, OPT_POSTERIOR},
        {"quiet", no_argument, 0, 'q'},         {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int ch, rc;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":r:s:t:o:fqh", opts, NULL)) != -1)
        if ((rc = parse_option(c, ch, argv)) >= 0)
            return rc;
    int n = argc - optind;
    if (n < 2)
        return usage_error("compare needs a reference and at least one other scenario "
                           "file, got %d file%s", n, n == 1 ? "" : "s");
    if (n > CMP_MAX_SCENARIOS)
        return usage_error("at most %d scenario files, got %d", CMP_MAX_SCENARIOS, n);
    for (int i = optind; i < argc; i++)
        c->scenario[c->nscenario++] = argv[i];
    return -1;
}

/* Loads every scenario with the overrides; then every one takes the
 * reference's seed and replications, so that replication r is a pair. */
static int load_all(const cmp_cli *c, cmp_run *run) {
    ts_error err;
    ts_error_clear(&err);
    for (int i = 0; i < c->nscenario; i++) {
        run->sc[run->n] = ts_cli_load(c->scenario[i], &c->overrides, &err);
        if (!run->sc[run->n])
            return ts_cli_report_error(&err);
        run->n++;
    }
    for (int i = 1; i < run->n; i++) {
        run->sc[i]->base.seed = run->sc[0]->base.seed;
        run->sc[i]->base.replications = run->sc[0]->base.replications;
    }
    return -1;
}

/* The same years everywhere, and names that give distinct directories
 * beside compare.csv. */
static int check_inputs(const cmp_run *run) {
    ts_error err;
    ts_error_clear(&err);
    for (int i = 1; i < run->n; i++)
        if (ts_compare_check_years(run->sc[0], run->sc[i], &err) != TS_OK)
            return ts_cli_report_error(&err);
    for (int i = 0; i < run->n; i++) {
        const ts_scenario *s = run->sc[i];
        if (strcmp(s->name, TS_COMPARE_CSV) == 0)
            ts_error_set(&err, TS_EINPUT, s->path, 0, 0, "name", "a compared scenario "
                         "may not be named '%s'", TS_COMPARE_CSV);
        for (int j = 0; j < i && err.status == TS_OK; j++)
            if (strcmp(s->name, run->sc[j]->name) == 0)
                ts_error_set(&err, TS_EINPUT, s->path, 0, 0, "name", "scenario name '%s' "
                             "is also that of '%s'; each compared scenario writes its "
                             "results to DIR/<name>/, so the names must differ", s->name,
                             run->sc[j]->path);
        if (err.status != TS_OK)
            return ts_cli_report_error(&err);
    }
    return -1;
}

static int memory_guard(const cmp_cli *c, const cmp_run *run) {
    for (int i = 0; i < run->n; i++) {
        int rc = ts_cli_memory_guard(run->sc[i], c->threads, c->max_memory);
        if (rc != 0)
            return rc;
    }
    return -1;
}

/* DIR and DIR/<name> of each scenario; 0, or -1 when a path is too long. */
static int make_paths(const cmp_cli *c, cmp_run *run) {
    int k = c->outdir ? snprintf(run->dir, sizeof run->dir, "%s", c->outdir)
                      : snprintf(run->dir, sizeof run->dir, "results/compare-%s",
                                 run->sc[0]->name);
    if (k < 0 || (size_t)k >= sizeof run->dir)
        return -1;
    for (int i = 0; i < run->n; i++) {
        k = snprintf(run->sub[i], sizeof run->sub[i], "%s/%s", run->dir, run->sc[i]->name);
        if (k < 0 || (size_t)k >= sizeof run->sub[i])
            return -1;
    }
    return 0;
}

/* Refuses a DIR holding an earlier compare.csv unless forced. */
static int check_earlier(const cmp_cli *c, const cmp_run *run) {
    char path[CMP_PATH_MAX + sizeof "/" TS_COMPARE_CSV];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", run->dir, TS_COMPARE_CSV);
    if (c->force || lstat(path, &sb) != 0)
        return -1;
    ts_error err;
    ts_error_clear(&err);
    ts_error_set(&err, TS_EINPUT, "", 0, 0, "", "'%s' holds an earlier comparison (%s); "
                 "use --force to overwrite", run->dir, TS_COMPARE_CSV);
    return ts_cli_report_error(&err);
}

/* Takes DIR, then each DIR/<name> (created, locked, earlier results
 * refused unless forced). */
static int open_dirs(const cmp_cli *c, cmp_run *run) {
    ts_error err;
    ts_error_clear(&err);
    if (make_paths(c, run) != 0)
        return usage_error("output directory name too long");
    if (!(run->top = ts_output_dir_open(run->dir, c->force, &err)))
        return ts_cli_report_error(&err);
    int rc = check_earlier(c, run);
    for (int i = 0; i < run->n && rc < 0; i++)
        if (!(run->od[i] = ts_output_dir_open(run->sub[i], c->force, &err)))
            rc = ts_cli_report_error(&err);
    return rc;
}

/* Every scenario's results into its directory, then compare.csv. */
static ts_status write_all(const cmp_cli *c, cmp_run *run, double seconds, ts_error *err) {
    ts_status st = TS_OK;
    for (int i = 0; i < run->n && st == TS_OK; i++) {
        ts_run_info info = ts_cli_run_info(c->command, c->scenario[i], c->threads, seconds);
        st = ts_output_dir_write(run->od[i], run->sc[i], run->res[i], &info, err);
    }
    if (st != TS_OK)
        return st;
    ts_compare_run ref = {run->sc[0]->name, run->res[0]};
    ts_compare_run others[CMP_MAX_SCENARIOS];
    for (int i = 1; i < run->n; i++)
        others[i - 1] = (ts_compare_run){run->sc[i]->name, run->res[i]};
    return ts_compare_write_file(run->dir, &ref, others, (size_t)(run->n - 1),
                                 &ts_stop_signal, err);
}

static void print_report(const cmp_cli *c, const cmp_run *run, double seconds) {
    const ts_params *p = &run->sc[0]->base;
    printf("talentsim %s compare: reference '%s', %lld replications, %lld-%lld, seed %lld, "
           "%d threads\n", TS_VERSION, run->sc[0]->name, (long long)p->replications,
           (long long)p->years.start, (long long)p->years.end, (long long)p->seed,
           c->threads);
    ts_compare_run ref = {run->sc[0]->name, run->res[0]};
    for (int i = 1; i < run->n; i++) {
        ts_compare_run x = {run->sc[i]->name, run->res[i]};
        printf("\n");
        ts_report_print_compare(stdout, &ref, &x);
    }
    printf("\n%d scenarios in %.2f s; paired differences in %s/%s\n", run->n, seconds,
           run->dir, TS_COMPARE_CSV);
}

/* The one line for a comparison a signal stopped; 128 + signal. */
static int report_stop(void) {
    fprintf(stderr, PROG ": interrupted by %s; %s not written\n",
            ts_stop_signal == SIGINT ? "SIGINT" : "SIGTERM", TS_COMPARE_CSV);
    return 128 + ts_stop_signal;
}

/* Runs the scenarios together, writes and reports; the exit code. */
static int simulate(const cmp_cli *c, cmp_run *run) {
    ts_error err;
    ts_error_clear(&err);
    ts_bar bar;
    ts_bar_start(&bar, !c->quiet && isatty(STDERR_FILENO));
    ts_run_opts opt = {.threads = c->threads, .progress = ts_bar_update,
                       .progress_ctx = &bar, .stop = &ts_stop_signal};
    double t0 = ts_now();
    const ts_scenario *const *sc = (const ts_scenario *const *)run->sc;
    ts_posterior *post = c->posterior ? ts_posterior_load(c->posterior, &err) : NULL;
    ts_status st = c->posterior && !post ? err.status
                   : post ? ts_posterior_run(post, sc, (size_t)run->n, &opt, run->res, &err)
                          : ts_sim_run_many(sc, (size_t)run->n, &opt, run->res, &err);
    ts_posterior_free(post);
    ts_bar_finish(&bar);
    double seconds = ts_now() - t0;
    if (st == TS_OK && !ts_stop_signal)
        st = write_all(c, run, seconds, &err);
    if (ts_stop_signal)
        return report_stop();
    if (st != TS_OK)
        return ts_cli_report_error(&err);
    if (!c->quiet)
        print_report(c, run, seconds);
    return 0;
}

/* Closes the scenario directories before DIR, so that directories this run
 * created and left empty are removed from the deepest up. */
static void free_run(cmp_run *run) {
    for (int i = 0; i < run->n; i++) {
        ts_output_dir_close(run->od[i]);
        ts_results_free(run->res[i]);
        ts_scenario_free(run->sc[i]);
    }
    ts_output_dir_close(run->top);
}

int ts_compare_main(int argc, char **argv) {
    static cmp_cli c;
    static cmp_run run;
    c.threads = omp_get_num_procs() < TS_MAX_THREADS ? omp_get_num_procs() : TS_MAX_THREADS;
    int k = snprintf(c.command, sizeof c.command, "talentsim ");
    ts_cli_join_args(argc, argv, c.command + k, sizeof c.command - (size_t)k);
    int rc = parse_args(&c, argc, argv);
    if (rc < 0)
        rc = load_all(&c, &run);
    if (rc < 0)
        rc = check_inputs(&run);
    if (rc < 0)
        rc = memory_guard(&c, &run);
    if (rc < 0) {
        ts_cli_catch_stop_signals();
        rc = open_dirs(&c, &run);
    }
    if (rc < 0)
        rc = simulate(&c, &run);
    free_run(&run);
    return rc;
}
