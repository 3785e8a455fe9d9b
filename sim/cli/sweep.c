/* `talentsim sweep`, `talentsim merge` and `talentsim sensitivity`
 * (talentsim/sweep.h, docs/sweeps.md).
 *
 * A sweep runs its points in batches; each batch runs its points together
 * (ts_sim_run_many, all threads) and is stored as one part file. Locally
 * every point of the shard is run; in the MPI build (make MPI=1,
 * talentsim-mpi) under mpirun, rank 0 hands batches to the other ranks as
 * they ask for work (dynamic load balancing) and each rank writes its own
 * part files. Either way a re-run skips stored points. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef TS_MPI
#include <mpi.h>
#endif

#include "cli.h"
#include "talentsim/output.h"
#include "talentsim/sensitivity.h"
#include "talentsim/sweep.h"

#define MAX_FILES_PER_RUN 32 /* part files one shard writes in one run */
#define MAX_BATCH 64         /* points run together */

typedef struct {
    const char *file, *outdir, *task_time;
    int threads, quiet, list, dry_run, shard_k, shard_n, cpus_per_task, allow_large;
    long batch;
    ts_overrides overrides;
} sweep_cli;

static void sweep_usage(FILE *f) {
    fprintf(f,
        "Usage: talentsim sweep SWEEP.yaml [options]\n"
        "       mpirun -np P talentsim-mpi sweep SWEEP.yaml [options]\n"
        "\n"
        "Runs every point of the sweep's design (a scenario file with base: and a\n"
        "sweep: block, docs/sweeps.md) and stores each batch of completed points in\n"
        "DIR/points/. A re-run skips the points already stored, so an interrupted\n"
        "sweep resumes. Join the results with 'talentsim merge DIR'.\n"
        "\n"
        "Options:\n"
        "  -o, --output DIR     results directory (default: results/<sweep name>)\n"
        "      --shard K/N      run only shard K of N (1 <= K <= N): the points whose\n"
        "                       index i has i mod N = K - 1. For a Slurm job array:\n"
        "                       --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT\n"
        "                       with --array=1-N (scripts/slurm/sweep.sbatch)\n"
        "  -t, --threads N      OpenMP threads, 1 to 1024 (default: all cores)\n"
        "      --set KEY=VALUE  override a base parameter for every point, repeatable\n"
        "      --batch N        points per part file, 1 to %d (default: enough that a\n"
        "                       shard writes at most %d files per run)\n"
        "      --allow-large    run a design of more than %d points\n"
        "      --list           print the design (point index and values, CSV) and exit\n"
        "      --dry-run        print the points, runs and agent-years, and the time per\n"
        "                       point from a short timed sample; run nothing\n"
        "      --task-time T    with --dry-run: wall time of one Slurm task, for the\n"
        "                       suggested array size (default 1h; e.g. 30m, 2h, 1:30:00)\n"
        "      --cpus-per-task N\n"
        "                       with --dry-run: CPUs of one Slurm task (default 2)\n"
        "  -q, --quiet          print nothing but errors; no progress bar\n"
        "  -h, --help           show this help and exit\n"
        "\n"
        "Exit status: 0 done, 1 runtime failure, 2 bad usage or input, 130/143\n"
        "interrupted (the points completed so far are kept).\n",
        MAX_BATCH, MAX_FILES_PER_RUN, TS_SWEEP_LARGE_POINTS);
}

#define SPROG "talentsim sweep"

static int parse_shard(const char *s, int *k, int *n) {
    char *e1, *e2;
    long a = strtol(s, &e1, 10);
    if (e1 == s || *e1 != '/')
        return -1;
    long b = strtol(e1 + 1, &e2, 10);
    if (e2 == e1 + 1 || *e2 || b < 1 || b > 1000000 || a < 1 || a > b)
        return -1;
    *k = (int)a;
    *n = (int)b;
    return 0;
}

/* "1h", "30m", "90s", "2d", "1:30:00", "45:00" or plain seconds; -1 if bad. */
static double parse_duration(const char *s) {
    char *e;
    double v = strtod(s, &e);
    if (e == s || !(v > 0) || !isfinite(v))
        return -1;
    if (*e == ':') {
        int h = 0, m = 0, sec = 0;
        if (sscanf(s, "%d:%d:%d", &h, &m, &sec) == 3)
            return h * 3600.0 + m * 60.0 + sec;
        if (sscanf(s, "%d:%d", &m, &sec) == 2)
            return m * 60.0 + sec;
        return -1;
    }
    static const struct { char c; double mult; } units[] = {
        {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'\0', 1}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (*e == units[i].c && (*e == '\0' || e[1] == '\0'))
            return v * units[i].mult;
    return -1;
}

static int sweep_args(sweep_cli *c, int argc, char **argv) {
    enum { OPT_SHARD = 256, OPT_SET, OPT_BATCH, OPT_LIST, OPT_DRY, OPT_TASK, OPT_CPT, OPT_LARGE };
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"shard", required_argument, 0, OPT_SHARD},
        {"threads", required_argument, 0, 't'}, {"set", required_argument, 0, OPT_SET},
        {"batch", required_argument, 0, OPT_BATCH}, {"list", no_argument, 0, OPT_LIST},
        {"dry-run", no_argument, 0, OPT_DRY}, {"task-time", required_argument, 0, OPT_TASK},
        {"cpus-per-task", required_argument, 0, OPT_CPT}, {"quiet", no_argument, 0, 'q'},
        {"allow-large", no_argument, 0, OPT_LARGE},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int o, rc = -1;
    char *end;
    opterr = 0;
    optind = 1;
    while (rc < 0 && (o = getopt_long(argc, argv, ":o:t:qh", opts, NULL)) != -1) {
        switch (o) {
        case 'o': c->outdir = optarg; break;
        case 't': rc = ts_cli_opt_threads(SPROG, optarg, &c->threads); break;
        case OPT_SET: rc = ts_cli_opt_override(SPROG, &c->overrides, NULL, optarg); break;
        case OPT_SHARD:
            if (parse_shard(optarg, &c->shard_k, &c->shard_n))
                rc = ts_cli_usage_error(SPROG, "--shard must be K/N with 1 <= K <= N <= "
                                        "1000000, got '%s'", optarg);
            break;
        case OPT_BATCH:
            c->batch = strtol(optarg, &end, 10);
            if (end == optarg || *end || c->batch < 1 || c->batch > MAX_BATCH)
                rc = ts_cli_usage_error(SPROG, "--batch must be an integer in [1, %d], got "
                                        "'%s'", MAX_BATCH, optarg);
            break;
        case OPT_LIST: c->list = 1; break;
        case OPT_LARGE: c->allow_large = 1; break;
        case OPT_DRY: c->dry_run = 1; break;
        case OPT_TASK:
            c->task_time = optarg;
            if (parse_duration(optarg) < 0)
                rc = ts_cli_usage_error(SPROG, "--task-time must be a positive duration "
                                        "such as 30m, 2h or 1:30:00, got '%s'", optarg);
            break;
        case OPT_CPT:
            c->cpus_per_task = (int)strtol(optarg, &end, 10);
            if (end == optarg || *end || c->cpus_per_task < 1 || c->cpus_per_task > 4096)
                rc = ts_cli_usage_error(SPROG, "--cpus-per-task must be an integer in "
                                        "[1, 4096], got '%s'", optarg);
            break;
        case 'q': c->quiet = 1; break;
        case 'h': sweep_usage(stdout); return 0;
        case ':': return ts_cli_usage_error(SPROG, "option '%s' needs a value", argv[optind - 1]);
        default: return ts_cli_usage_error(SPROG, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (rc >= 0)
        return rc;
    if (optind >= argc)
        return ts_cli_usage_error(SPROG, "no sweep file given");
    if (argc - optind > 1)
        return ts_cli_usage_error(SPROG, "one sweep file, got %d", argc - optind);
    c->file = argv[optind];
    return -1;
}

/* ---- shared by the modes ---- */

typedef struct {
    sweep_cli *cli;
    ts_scenario *sc;
    ts_sweep *sw;
    char *keys;
    char dir[4096];
    size_t *todo, ntodo, nshard; /* points of the shard not yet stored */
    int rank, size;              /* MPI rank and size (0, 1 without MPI) */
} sweep_job;

static void job_free(sweep_job *j) {
    ts_sweep_free(j->sw);
    ts_scenario_free(j->sc);
    free(j->keys);
    free(j->todo);
}

static int in_shard(const sweep_cli *c, size_t i) {
    return c->shard_n == 0 || (int)(i % (size_t)c->shard_n) == c->shard_k - 1;
}

/* The points of the shard that are not stored yet (rank 0 only). */
static int find_todo(sweep_job *j) {
    ts_error err;
    ts_error_clear(&err);
    unsigned char *done = calloc(j->sw->npoints, 1);
    j->todo = malloc(j->sw->npoints * sizeof *j->todo);
    if (!done || !j->todo) {
        free(done);
        fprintf(stderr, "talentsim: error: out of memory\n");
        return EXIT_RUNTIME;
    }
    if (ts_sweep_store_done(j->dir, j->sw, j->keys, done, &err) != TS_OK) {
        free(done);
        return ts_cli_report_error(&err);
    }
    for (size_t i = 0; i < j->sw->npoints; i++) {
        if (!in_shard(j->cli, i))
            continue;
        j->nshard++;
        if (!done[i])
            j->todo[j->ntodo++] = i;
    }
    free(done);
    return -1;
}

static size_t batch_size(const sweep_job *j, size_t workers) {
    if (j->cli->batch)
        return (size_t)j->cli->batch;
    size_t per = workers > 1 ? 4 * workers : MAX_FILES_PER_RUN;
    size_t b = (j->ntodo + per - 1) / per;
    return b < 1 ? 1 : b > MAX_BATCH ? MAX_BATCH : b;
}

/* Progress over the points of one process: done points plus the fraction
 * of the batch in flight. */
typedef struct {
    ts_bar bar;
    size_t done, total, inflight;
} sweep_progress;

static void batch_progress(void *ctx, double f) {
    sweep_progress *p = ctx;
    if (p->total)
        ts_bar_update(&p->bar, ((double)p->done + f * (double)p->inflight) / (double)p->total);
}

static int run_batch(sweep_job *j, const size_t *idx, size_t n, sweep_progress *pg) {
    ts_error err;
    ts_error_clear(&err);
    pg->inflight = n;
    ts_run_opts opt = {.threads = j->cli->threads, .progress = batch_progress,
                       .progress_ctx = pg, .stop = &ts_stop_signal};
    ts_status st = ts_sweep_run_batch(j->sw, j->keys, idx, n, &opt, j->dir, &err);
    pg->inflight = 0;
    if (st == TS_OK) {
        pg->done += n;
        return -1;
    }
    if (ts_stop_signal)
        return 128 + ts_stop_signal;
    return ts_cli_report_error(&err);
}

static int run_local(sweep_job *j) {
    sweep_progress pg = {.total = j->ntodo};
    ts_bar_start(&pg.bar, !j->cli->quiet && isatty(STDERR_FILENO));
    size_t b = batch_size(j, 1);
    int rc = -1;
    for (size_t s = 0; s < j->ntodo && rc < 0; s += b)
        rc = run_batch(j, j->todo + s, j->ntodo - s < b ? j->ntodo - s : b, &pg);
    ts_bar_finish(&pg.bar);
    if (rc > 128)
        fprintf(stderr, "talentsim: interrupted by %s; %zu points of this run are stored in "
                "%s/points/; run the same command again to resume\n",
                rc == 130 ? "SIGINT" : "SIGTERM", pg.done, j->dir);
    return rc;
}

/* ---- MPI: rank 0 hands out batches, the other ranks run them ---- */

#ifdef TS_MPI
enum { TAG_ASK = 1, TAG_WORK = 2 };

static void mpi_wait_request(MPI_Request *rq, MPI_Status *st) {
    int flag = 0;
    struct timespec nap = {0, 1000000}; /* poll: a blocking wait spins a core */
    while (MPI_Test(rq, &flag, st) == MPI_SUCCESS && !flag)
        nanosleep(&nap, NULL);
}

static int mpi_master(sweep_job *j) {
    size_t workers = (size_t)j->size - 1, b = batch_size(j, workers), next = 0, stopped = 0;
    sweep_progress pg = {.total = j->ntodo};
    ts_bar_start(&pg.bar, !j->cli->quiet && isatty(STDERR_FILENO));
    unsigned long long buf[MAX_BATCH + 1];
    while (stopped < workers) {
        int dummy;
        MPI_Request rq;
        MPI_Status st;
        MPI_Irecv(&dummy, 1, MPI_INT, MPI_ANY_SOURCE, TAG_ASK, MPI_COMM_WORLD, &rq);
        mpi_wait_request(&rq, &st);
        size_t n = next < j->ntodo ? (j->ntodo - next < b ? j->ntodo - next : b) : 0;
        pg.done += dummy;
        batch_progress(&pg, 0);
        buf[0] = n;
        for (size_t i = 0; i < n; i++)
            buf[1 + i] = j->todo[next + i];
        next += n;
        stopped += n == 0;
        MPI_Send(buf, (int)(n + 1), MPI_UNSIGNED_LONG_LONG, st.MPI_SOURCE, TAG_WORK,
                 MPI_COMM_WORLD);
    }
    ts_bar_finish(&pg.bar);
    return -1;
}

static int mpi_worker(sweep_job *j) {
    unsigned long long buf[MAX_BATCH + 1];
    size_t idx[MAX_BATCH];
    sweep_progress pg = {0};
    int last = 0;
    for (;;) {
        MPI_Send(&last, 1, MPI_INT, 0, TAG_ASK, MPI_COMM_WORLD);
        MPI_Recv(buf, MAX_BATCH + 1, MPI_UNSIGNED_LONG_LONG, 0, TAG_WORK, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
        size_t n = (size_t)buf[0];
        if (n == 0)
            return -1;
        for (size_t i = 0; i < n; i++)
            idx[i] = (size_t)buf[1 + i];
        int rc = run_batch(j, idx, n, &pg);
        if (rc >= 0) {
            fprintf(stderr, "talentsim: rank %d stopped; the points stored so far are kept\n",
                    j->rank);
            MPI_Abort(MPI_COMM_WORLD, rc);
        }
        last = (int)n;
    }
}
#endif

/* Runs the shard's remaining points: locally, or over the MPI ranks. */
static int run_points(sweep_job *j) {
#ifdef TS_MPI
    unsigned long long n = j->ntodo;
    MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    if (j->size > 1)
        return j->rank == 0 ? mpi_master(j) : mpi_worker(j);
#endif
    return run_local(j);
}

/* ---- dry run ---- */

static int dry_run(sweep_job *j) {
    ts_error err;
    ts_error_clear(&err);
    for (size_t i = 0; i < j->sw->npoints; i++)
        j->nshard += in_shard(j->cli, i);
    if (j->nshard == 0) {
        printf("shard %d/%d of sweep '%s' has no points (the design has %zu)\n", j->cli->shard_k,
               j->cli->shard_n, j->sw->base->name, j->sw->npoints);
        return 0;
    }
    const ts_sweep *sw = j->sw;
    double reps = (double)sw->base->base.replications;
    size_t first = 0;
    ts_scenario *pt = NULL;
    while (first < sw->npoints && !in_shard(j->cli, first))
        first++;
    ts_status st = ts_sweep_point(sw, first, &pt, &err);
    if (st != TS_OK) {
        ts_scenario_free(pt);
        fprintf(stderr, "talentsim: the first point of the shard is rejected by the model, so "
                "it cannot be timed:\n");
        return ts_cli_report_error(&err);
    }
    pt->base.replications = 1;
    ts_results *res = NULL;
    ts_run_opts opt = {.threads = 1, .stop = &ts_stop_signal};
    double t0 = ts_now();
    st = ts_sim_run(pt, &opt, &res, &err);
    double t1 = ts_now() - t0;
    ts_scenario_free(pt);
    if (st != TS_OK)
        return ts_cli_report_error(&err);
    double ay = res->agent_years;
    ts_results_free(res);
    double npts = (double)j->nshard, core_s = t1 * reps * npts;
    double task = parse_duration(j->cli->task_time ? j->cli->task_time : "1h");
    int cpt = j->cli->cpus_per_task ? j->cli->cpus_per_task : 2;
    double tasks = ceil(core_s / (task * cpt * 0.8)); /* 80%: slack for uneven points */
    printf("sweep '%s': method %s, %zu parameters, %zu points", sw->base->name,
           ts_sweep_method_name(sw->method), sw->k, sw->npoints);
    if (j->cli->shard_n)
        printf(" (shard %d/%d: %zu points)", j->cli->shard_k, j->cli->shard_n, j->nshard);
    printf("\nreplications per point: %.0f; runs: %.0f\n", reps, reps * npts);
    printf("agent-years: about %.3g per run, %.3g in all (from point %zu)\n", ay, ay * reps * npts,
           first);
    printf("time per point: about %.3g s on 1 core (one replication of point %zu took %.3g s)\n",
           t1 * reps, first, t1);
    printf("total: about %.3g core-hours; %.3g h on %d threads\n", core_s / 3600,
           core_s / 3600 / j->cli->threads, j->cli->threads);
    printf("suggested Slurm array for %s per task on %d CPUs: --array=1-%.0f (then --shard "
           "$SLURM_ARRAY_TASK_ID/%.0f)\n", j->cli->task_time ? j->cli->task_time : "1h", cpt,
           tasks < 1 ? 1 : tasks, tasks < 1 ? 1 : tasks);
    return 0;
}

/* ---- the subcommand ---- */

static int prepare(sweep_job *j) {
    ts_error err;
    ts_error_clear(&err);
    sweep_cli *c = j->cli;
    j->sc = ts_cli_load(c->file, &c->overrides, &err);
    if (j->sc)
        j->sw = ts_sweep_from_scenario(j->sc, &err);
    if (!j->sw)
        return j->rank == 0 ? ts_cli_report_error(&err) : (err.status == TS_EINPUT ? 2 : 1);
    const ts_node *blk = j->sc->block[TS_BLOCK_SWEEP];
    const ts_node *at = ts_node_get(blk, j->sw->method == TS_SWEEP_GRID ? "parameters" : "samples");
    if (j->sw->npoints > TS_SWEEP_LARGE_POINTS && !c->allow_large && !c->list) {
        ts_error_set(&err, TS_EINPUT, at->file, at->line, at->col, "sweep", "the design has %zu "
                     "points, more than %d; check it with --list or --dry-run and add "
                     "--allow-large to run it", j->sw->npoints, TS_SWEEP_LARGE_POINTS);
        return j->rank == 0 ? ts_cli_report_error(&err) : 2;
    }
    if (c->outdir)
        snprintf(j->dir, sizeof j->dir, "%s", c->outdir);
    else
        snprintf(j->dir, sizeof j->dir, "results/%s", j->sc->name);
    return -1;
}

static int sweep_run(sweep_job *j) {
    ts_error err;
    ts_error_clear(&err);
    int rc = ts_cli_memory_guard(j->sw->base, j->cli->threads, NULL);
    if (rc != 0)
        return rc;
    rc = -1;
    omp_set_num_threads(j->cli->threads);
    if (!(j->keys = ts_sweep_keys(j->sw, &err)))
        return ts_cli_report_error(&err);
    if (j->rank == 0 && ts_sweep_store_open(j->dir, j->sc, &err) != TS_OK)
        rc = ts_cli_report_error(&err);
    if (rc < 0 && j->rank == 0)
        rc = find_todo(j);
#ifdef TS_MPI
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
#endif
    if (rc >= 0)
        return rc;
    ts_cli_catch_stop_signals();
    double t0 = ts_now();
    size_t skipped = j->nshard - j->ntodo;
    rc = run_points(j);
    if (rc < 0 && j->rank == 0 && !j->cli->quiet) {
        printf("sweep '%s': %zu points", j->sc->name, j->nshard);
        if (j->cli->shard_n)
            printf(" in shard %d/%d", j->cli->shard_k, j->cli->shard_n);
        printf(" (%zu run now, %zu already stored) in %.1f s; results in %s/points/\n",
               j->ntodo, skipped, ts_now() - t0, j->dir);
        printf("join them with: talentsim merge %s\n", j->dir);
    }
    return rc < 0 ? 0 : rc;
}

int ts_sweep_main(int argc, char **argv) {
    static sweep_cli cli;
    sweep_job job = {.cli = &cli, .size = 1};
    cli.threads = omp_get_num_procs() < TS_MAX_THREADS ? omp_get_num_procs() : TS_MAX_THREADS;
#ifdef TS_MPI
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &job.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &job.size);
    /* ranks share a node's cores: OMP_NUM_THREADS sets each rank's share */
    const char *omp = getenv("OMP_NUM_THREADS");
    if (omp && atoi(omp) > 0 && atoi(omp) <= TS_MAX_THREADS)
        cli.threads = atoi(omp);
#endif
    int rc = sweep_args(&cli, argc, argv);
    if (rc < 0)
        rc = prepare(&job);
    if (rc < 0 && cli.list)
        rc = job.rank == 0 ? (ts_sweep_write_design(stdout, job.sw) == 0 ? 0 : EXIT_RUNTIME) : 0;
    if (rc < 0 && cli.dry_run)
        rc = job.rank == 0 ? dry_run(&job) : 0;
    if (rc < 0)
        rc = sweep_run(&job);
    job_free(&job);
#ifdef TS_MPI
    MPI_Finalize();
#endif
    return rc;
}

/* ---- merge ---- */

/* "3, 7-9, 12" (at most about 20 items, then "..."). */
static void print_ranges(FILE *f, const size_t *v, size_t n) {
    size_t shown = 0;
    for (size_t i = 0; i < n; shown++) {
        size_t j = i;
        while (j + 1 < n && v[j + 1] == v[j] + 1)
            j++;
        if (shown == 20) {
            fprintf(f, ", ...");
            break;
        }
        fprintf(f, "%s%zu", i ? ", " : "", v[i]);
        if (j > i)
            fprintf(f, "-%zu", v[j]);
        i = j + 1;
    }
    fputc('\n', f);
}

static void dir_usage(FILE *f, const char *cmd, const char *what) {
    fprintf(f, "Usage: talentsim %s DIR [options]\n\n%s\n", cmd, what);
}

static const char *merge_help =
    "Joins the part files of a sweep's results directory into DIR/sweep.csv (long\n"
    "format: point, one column per swept parameter, year, metric, mean, sd, p2_5,\n"
    "p50, p97_5) and DIR/failures.csv (points the model rejected, with status and\n"
    "error). Reports missing, duplicated and failed points by index.\n"
    "\n"
    "Options:\n"
    "  -q, --quiet   print nothing but errors\n"
    "  -h, --help    show this help and exit\n"
    "\n"
    "Exit status: 0 merged, 1 runtime failure, 2 bad usage or not a sweep directory,\n"
    "3 incomplete (missing points, or a point stored twice with different results):\n"
    "nothing is written then.\n";

static int dir_args(const char *prog, const char *help, int argc, char **argv, int *quiet,
                    const char **dir, long *boot) {
    static const struct option opts[] = {{"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {"bootstrap", required_argument, 0, 'b'},
                                         {0, 0, 0, 0}};
    int o;
    char *end;
    opterr = 0;
    optind = 1;
    while ((o = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
        switch (o) {
        case 'q': *quiet = 1; break;
        case 'h': dir_usage(stdout, prog + strlen("talentsim "), help); return 0;
        case 'b':
            if (!boot)
                return ts_cli_usage_error(prog, "unknown option '%s'", argv[optind - 1]);
            *boot = strtol(optarg, &end, 10);
            if (end == optarg || *end || *boot < 0 || *boot > 100000)
                return ts_cli_usage_error(prog, "--bootstrap must be an integer in [0, "
                                          "100000], got '%s'", optarg);
            break;
        case ':': return ts_cli_usage_error(prog, "option '%s' needs a value", argv[optind - 1]);
        default: return ts_cli_usage_error(prog, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return ts_cli_usage_error(prog, optind >= argc ? "no results directory given"
                                                       : "one results directory, got more");
    *dir = argv[optind];
    return -1;
}

/* Loads the sweep of results directory dir into *sw and *sc; -1, or the
 * exit code of the error it printed. */
static int load_dir(const char *dir, ts_sweep **sw, ts_scenario **sc) {
    ts_error err;
    ts_error_clear(&err);
    *sw = ts_sweep_load_dir(dir, sc, &err);
    return *sw ? -1 : ts_cli_report_error(&err);
}

/* Merges dir, whose sweep is sw; prints the report. -1 when complete
 * (table filled if given). */
static int merge_dir(const char *dir, const ts_sweep *sw, int quiet, ts_sweep_table *table) {
    ts_error err;
    ts_error_clear(&err);
    ts_sweep_merge_report rep;
    if (ts_sweep_merge(dir, sw, &rep, table, &err) != TS_OK)
        return ts_cli_report_error(&err);
    int rc = -1;
    if (rep.nduplicated) {
        fprintf(stderr, "talentsim: warning: %zu points are stored more than once with "
                "identical results (kept once): ", rep.nduplicated);
        print_ranges(stderr, rep.duplicated, rep.nduplicated);
    }
    if (rep.stale)
        fprintf(stderr, "talentsim: warning: %zu stored points do not match the design (their "
                "point key differs) and were ignored\n", rep.stale);
    if (rep.nconflicting) {
        fprintf(stderr, "talentsim: error: %zu points are stored twice with different "
                "results (different program versions?): ", rep.nconflicting);
        print_ranges(stderr, rep.conflicting, rep.nconflicting);
        rc = EXIT_CHECK_FAILED;
    }
    if (rep.nmissing) {
        fprintf(stderr, "talentsim: error: the sweep is incomplete: %zu of %zu points are "
                "missing: ", rep.nmissing, rep.npoints);
        print_ranges(stderr, rep.missing, rep.nmissing);
        fprintf(stderr, "run the missing shards, or the sweep again (it skips stored points); "
                "nothing was written\n");
        rc = EXIT_CHECK_FAILED;
    }
    if (rc < 0 && rep.failed)
        fprintf(stderr, "talentsim: %zu points failed (the model rejected their parameters); "
                "see %s/failures.csv\n", rep.failed, dir);
    if (rc < 0 && !quiet)
        printf("merged %zu points (%zu ok, %zu failed) into %s/sweep.csv\n", rep.npoints,
               rep.ok, rep.failed, dir);
    ts_sweep_merge_report_free(&rep);
    return rc;
}

int ts_merge_main(int argc, char **argv) {
    int quiet = 0;
    const char *dir = NULL;
    int rc = dir_args("talentsim merge", merge_help, argc, argv, &quiet, &dir, NULL);
    if (rc >= 0)
        return rc;
    ts_sweep *sw = NULL;
    ts_scenario *sc = NULL;
    rc = load_dir(dir, &sw, &sc);
    if (rc < 0)
        rc = merge_dir(dir, sw, quiet, NULL);
    ts_sweep_free(sw);
    ts_scenario_free(sc);
    return rc < 0 ? 0 : rc;
}

/* ---- sensitivity ---- */

static const char *sens_help =
    "Sobol sensitivity indices of a sweep with method saltelli: merges DIR (as\n"
    "'talentsim merge'), then for every kept metric and year computes first-order\n"
    "(Saltelli 2010) and total-order (Jansen 1999) indices of each parameter on the\n"
    "points' means over replications, with bootstrap 95% intervals. Writes\n"
    "DIR/sensitivity.csv and prints the parameters ranked by total order for the\n"
    "last kept year of each metric.\n"
    "\n"
    "Options:\n"
    "  -b, --bootstrap N  bootstrap resamples, 0 to 100000 (default 1000)\n"
    "  -q, --quiet        print nothing but errors\n"
    "  -h, --help         show this help and exit\n"
    "\n"
    "Exit status: 0 done, 1 runtime failure, 2 bad usage or not a Saltelli sweep,\n"
    "3 incomplete sweep.\n";

typedef struct {
    size_t param;
    ts_sobol_index ix;
} ranked;

static int by_total(const void *a, const void *b) {
    double x = ((const ranked *)a)->ix.st, y = ((const ranked *)b)->ix.st;
    if (isnan(x) || isnan(y))
        return isnan(x) - isnan(y);
    return (x < y) - (x > y);
}

static void print_ranked(const ts_sweep *sw, int m, int64_t year, const ts_sobol_index *ix,
                         size_t nused) {
    ranked r[TS_SWEEP_MAX_PARAMS];
    for (size_t j = 0; j < sw->k; j++)
        r[j] = (ranked){j, ix[j]};
    qsort(r, sw->k, sizeof r[0], by_total);
    printf("\n%s, %lld (%zu base samples)\n", ts_metric_name((ts_metric)m), (long long)year,
           nused);
    printf("  %-44s %22s %22s\n", "parameter", "total order [95%]", "first order [95%]");
    for (size_t j = 0; j < sw->k; j++)
        printf("  %-44s %6.3f [%6.3f, %6.3f] %6.3f [%6.3f, %6.3f]\n",
               sw->param[r[j].param].key, r[j].ix.st, r[j].ix.st_lo, r[j].ix.st_hi,
               r[j].ix.s1, r[j].ix.s1_lo, r[j].ix.s1_hi);
}

static void put_csv_num(FILE *f, double v) {
    if (isnan(v))
        fputs(",", f);
    else
        fprintf(f, ",%.17g", v);
}

static ts_status write_sensitivity(const char *dir, const ts_sweep *sw, const ts_sweep_table *t,
                                   long boot, int quiet, ts_error *err) {
    ts_atomic *a = ts_atomic_open(dir, "sensitivity.csv", err);
    if (!a)
        return TS_ERUNTIME;
    FILE *f = ts_atomic_stream(a);
    fputs("metric,year,parameter,S1,S1_lo,S1_hi,ST,ST_lo,ST_hi,base_samples\n", f);
    size_t n = sw->samples, k = sw->k;
    double *y = malloc(sw->npoints * sizeof *y);
    ts_sobol_index ix[TS_SWEEP_MAX_PARAMS];
    if (!y) {
        ts_atomic_abort(a);
        return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "out of memory");
    }
    for (int m = 0; m < TS_NMETRICS; m++) {
        if (!sw->keep_metric[m])
            continue;
        for (size_t yi = 0; yi < sw->nyears; yi++) {
            for (size_t i = 0; i < sw->npoints; i++)
                y[i] = t->m[(i * sw->nyears + yi) * TS_NMETRICS + (size_t)m];
            size_t nused = 0;
            ts_error e;
            ts_error_clear(&e);
            ts_status st = ts_sensitivity_saltelli(y, n, k, (size_t)boot, sw->design_seed, ix,
                                                   &nused, &e);
            if (st == TS_ERUNTIME) {
                free(y);
                ts_atomic_abort(a);
                *err = e;
                return st;
            }
            for (size_t j = 0; j < k; j++) {
                fprintf(f, "%s,%lld,%s", ts_metric_name((ts_metric)m), (long long)sw->years[yi],
                        sw->param[j].key);
                const double v[] = {ix[j].s1, ix[j].s1_lo, ix[j].s1_hi,
                                    ix[j].st, ix[j].st_lo, ix[j].st_hi};
                for (size_t c = 0; c < sizeof v / sizeof v[0]; c++)
                    put_csv_num(f, st == TS_OK ? v[c] : 0.0 / 0.0);
                fprintf(f, ",%zu\n", nused);
            }
            if (!quiet && st == TS_OK && yi + 1 == sw->nyears)
                print_ranked(sw, m, sw->years[yi], ix, nused);
        }
    }
    free(y);
    return ts_atomic_commit(a, err);
}

int ts_sensitivity_main(int argc, char **argv) {
    int quiet = 0;
    long boot = 1000;
    const char *dir = NULL;
    int rc = dir_args("talentsim sensitivity", sens_help, argc, argv, &quiet, &dir, &boot);
    if (rc >= 0)
        return rc;
    ts_sweep *sw = NULL;
    ts_scenario *sc = NULL;
    ts_sweep_table t = {0};
    ts_error err;
    ts_error_clear(&err);
    rc = load_dir(dir, &sw, &sc);
    if (rc < 0 && sw->method != TS_SWEEP_SALTELLI) {
        fprintf(stderr, "talentsim sensitivity: error: the sweep in %s uses method %s; Sobol "
                "indices need method saltelli\n", dir, ts_sweep_method_name(sw->method));
        rc = EXIT_USAGE;
    }
    if (rc < 0)
        rc = merge_dir(dir, sw, 1, &t);
    if (rc < 0 && write_sensitivity(dir, sw, &t, boot, quiet, &err) != TS_OK)
        rc = ts_cli_report_error(&err);
    if (rc < 0 && !quiet)
        printf("\nindices for every kept metric and year in %s/sensitivity.csv\n", dir);
    ts_sweep_table_free(&t);
    ts_sweep_free(sw);
    ts_scenario_free(sc);
    return rc < 0 ? 0 : rc;
}
