/* `talentsim calibrate FILE`: ABC-SMC of a scenario's free parameters to
 * its targets (talentsim/calibrate.h, docs/calibration.md).
 *
 * In the MPI build every rank runs the same sampler: each batch of
 * particles is split into contiguous slices, one per rank, and the
 * distances are gathered on every rank (MPI_Allgatherv), so all ranks hold
 * the same population and draw the same proposals; only rank 0 writes. */
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef TS_MPI
#include <mpi.h>
#endif

#include "cli.h"
#include "talentsim/calibrate.h"

#define PROG "talentsim calibrate"

typedef struct {
    const char *file, *outdir;
    int threads, resume, force, quiet;
    ts_overrides overrides;
    int rank, size; /* MPI; 0 and 1 without */
} calib_cli;

static void usage(FILE *f) {
    fprintf(f,
        "Usage: talentsim calibrate CALIBRATION.yaml [options]\n"
        "       mpirun -np P talentsim-mpi calibrate CALIBRATION.yaml [options]\n"
        "\n"
        "Fits the free parameters of the scenario's calibration: block to its\n"
        "targets: by ABC-SMC (Approximate Bayesian Computation by sequential Monte\n"
        "Carlo; docs/calibration.md). Writes to results/<name>/calibration/:\n"
        "posterior.csv, generations.csv, summary.csv and calibrated.yaml (the\n"
        "input with the posterior medians), each replaced after every generation.\n"
        "The result is the same bits for any number of threads or MPI ranks.\n"
        "\n"
        "Options:\n"
        "  -o, --output DIR     results directory (default: results/<name>/calibration)\n"
        "      --resume         continue from the last completed generation in DIR\n"
        "  -f, --force          start afresh over an earlier calibration in DIR\n"
        "  -t, --threads N      particles simulated side by side (default: all cores)\n"
        "      --set KEY=VALUE  override a parameter of the scenario, repeatable\n"
        "  -q, --quiet          no progress, no summary table\n"
        "  -h, --help           show this help and exit\n"
        "\n"
        "Exit status: 0 calibrated (whatever the stop: generations, target,\n"
        "stalled tolerance, low acceptance, budget), 1 runtime failure, 2 bad\n"
        "input (file:line:col, the key, the allowed range) or a directory holding\n"
        "another run, 130/143 interrupted (completed generations are kept:\n"
        "--resume continues).\n");
}

static int parse(calib_cli *cli, int argc, char **argv) {
    enum { OPT_SET = 256, OPT_RESUME };
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"resume", no_argument, 0, OPT_RESUME},
        {"force", no_argument, 0, 'f'},        {"threads", required_argument, 0, 't'},
        {"set", required_argument, 0, OPT_SET}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    int c, rc = -1;
    opterr = 0;
    while (rc < 0 && (c = getopt_long(argc, argv, ":o:ft:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': cli->outdir = optarg; break;
        case OPT_RESUME: cli->resume = 1; break;
        case 'f': cli->force = 1; break;
        case 't': rc = ts_cli_opt_threads(PROG, optarg, &cli->threads); break;
        case OPT_SET: rc = ts_cli_opt_override(PROG, &cli->overrides, NULL, optarg); break;
        case 'q': cli->quiet = 1; break;
        case 'h': usage(stdout); return 0;
        case ':': return ts_cli_usage_error(PROG, "option '%s' needs a value", argv[optind - 1]);
        default: return ts_cli_usage_error(PROG, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (rc >= 0)
        return rc;
    if (cli->resume && cli->force)
        return ts_cli_usage_error(PROG, "--resume and --force exclude each other");
    if (optind != argc - 1)
        return ts_cli_usage_error(PROG, optind >= argc ? "no calibration file given"
                                                        : "one calibration file, got %d",
                                  argc - optind);
    cli->file = argv[optind];
    return -1;
}

/* ---- progress ---- */

typedef struct {
    ts_bar bar;
    const ts_calibration *c;
} progress_ctx;

/* The share of the run done: evaluations against an estimate of the total
 * (the generations left at the last acceptance rate, within the budget). */
static void on_progress(void *ctx, const ts_calib_status *s) {
    progress_ctx *p = ctx;
    const ts_abc_options *o = &p->c->abc;
    double left_gens = (double)(o->max_generations - s->generation);
    double per_gen = (double)o->particles / (s->prev_acceptance > 0 ? s->prev_acceptance : 1);
    double total = fmin((double)o->budget, (double)s->evaluations + left_gens * per_gen);
    char label[160];
    snprintf(label, sizeof label, "generation %zu, tolerance %.3g, acceptance %.2f, %zu "
             "simulations ", s->generation, s->eps, s->prev_acceptance, s->evaluations);
    ts_bar_update_text(&p->bar, total > 0 ? fmin((double)s->evaluations / total, 1) : 0, label);
}

/* ---- MPI ---- */

#ifdef TS_MPI
/* Rank r evaluates particles [n r / P, n (r + 1) / P); every rank gets all. */
static ts_status mpi_eval(void *ctx, const ts_calibration *c, const double *theta, size_t n,
                          double *dist, ts_error *err) {
    const calib_cli *cli = ctx;
    int P = cli->size, *counts = malloc(2 * (size_t)P * sizeof *counts), *displs = counts + P;
    if (!counts)
        return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "out of memory");
    for (int r = 0; r < P; r++) {
        displs[r] = (int)(n * (size_t)r / (size_t)P);
        counts[r] = (int)(n * (size_t)(r + 1) / (size_t)P) - displs[r];
    }
    ts_run_opts opt = {.threads = cli->threads, .stop = &ts_stop_signal};
    ts_status st = ts_calibration_evaluate(c, theta + (size_t)displs[cli->rank] * c->k,
                                           (size_t)counts[cli->rank], &opt,
                                           dist + displs[cli->rank], err);
    int mine = st, worst = 0;
    MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (worst == TS_OK)
        MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DOUBLE, dist, counts, displs, MPI_DOUBLE,
                       MPI_COMM_WORLD);
    else if (st == TS_OK)
        st = ts_error_set(err, (ts_status)worst, "", 0, 0, "", "another MPI rank failed");
    free(counts);
    return st;
}
#endif

/* ---- the run ---- */

static void print_summary(const ts_calibration *c, const ts_abc_result *res, const char *dir) {
    const ts_abc_generation *g = &res->gen[res->ngen - 1];
    ts_abc_summary s[TS_CALIB_MAX_PARAMS];
    ts_error err;
    if (ts_abc_summarize(g, s, &err) != TS_OK)
        return;
    printf("calibration: generation %zu, %zu particles, tolerance %.4g, %zu simulations\n"
           "stopped: %s\n\n", g->index, g->n, g->eps, res->evaluations, res->why);
    printf("%-40s %10s %10s %10s %10s %10s\n", "parameter", "mean", "sd", "p2.5", "median",
           "p97.5");
    for (size_t j = 0; j < c->k; j++)
        printf("%-40s %10.4g %10.4g %10.4g %10.4g %10.4g\n", c->param[j].key, s[j].mean,
               s[j].sd, s[j].p2_5, s[j].p50, s[j].p97_5);
    printf("\nresults in %s/ (calibrated.yaml runs the posterior medians)\n", dir);
}

static int run(calib_cli *cli) {
    ts_error err;
    ts_error_clear(&err);
    ts_scenario *sc = ts_cli_load(cli->file, &cli->overrides, &err);
    ts_calibration *c = sc ? ts_calibration_from_scenario(sc, &err) : NULL;
    if (!c) {
        ts_scenario_free(sc);
        return cli->rank == 0 ? ts_cli_report_error(&err) : EXIT_USAGE;
    }
    char dir[4096];
    if (cli->outdir)
        snprintf(dir, sizeof dir, "%s", cli->outdir);
    else
        snprintf(dir, sizeof dir, "results/%s/calibration", sc->name);
    progress_ctx pc = {.c = c};
    ts_bar_start(&pc.bar, !cli->quiet && cli->rank == 0 && isatty(STDERR_FILENO));
    ts_calib_opts opt = {.run = {.threads = cli->threads, .stop = &ts_stop_signal},
                         .progress = on_progress, .progress_ctx = &pc, .resume = cli->resume,
                         .force = cli->force, .no_write = cli->rank != 0};
#ifdef TS_MPI
    if (cli->size > 1) {
        opt.eval = mpi_eval;
        opt.eval_ctx = cli;
    }
#endif
    ts_cli_catch_stop_signals();
    ts_abc_result res;
    ts_status st = ts_calibration_run(c, sc, dir, &opt, &res, &err);
    ts_bar_finish(&pc.bar);
    int rc = 0;
    if (ts_stop_signal) {
        if (cli->rank == 0)
            fprintf(stderr, "talentsim: interrupted; %zu generation(s) kept in %s/ "
                    "(--resume continues)\n", res.ngen, dir);
        rc = 128 + ts_stop_signal;
    } else if (st != TS_OK) {
        rc = cli->rank == 0 ? ts_cli_report_error(&err) : 1;
    } else if (cli->rank == 0 && !cli->quiet && res.ngen) {
        print_summary(c, &res, dir);
    }
    ts_abc_result_free(&res);
    ts_calibration_free(c);
    ts_scenario_free(sc);
    return rc;
}

int ts_calibrate_main(int argc, char **argv) {
    calib_cli cli = {.threads = omp_get_num_procs() < TS_MAX_THREADS ? omp_get_num_procs()
                                                                      : TS_MAX_THREADS,
                     .size = 1};
#ifdef TS_MPI
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &cli.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &cli.size);
#endif
    int rc = parse(&cli, argc, argv);
    if (rc < 0)
        rc = run(&cli);
#ifdef TS_MPI
    MPI_Finalize();
#endif
    return rc;
}
