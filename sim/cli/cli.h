/* The command-line program: the only code that prints or exits. */
#ifndef TS_CLI_H
#define TS_CLI_H

#include <signal.h>
#include <stdio.h>

#include "talentsim/compare.h"
#include "talentsim/estimate.h"
#include "talentsim/output.h"
#include "talentsim/scenario.h"
#include "talentsim/sim.h"

/* This build's version and commit (the Makefile defines them). */
#ifndef TS_VERSION
#define TS_VERSION "0.0.0"
#endif
#ifndef TS_GIT_COMMIT
#define TS_GIT_COMMIT "unknown"
#endif

/* Progress bar on stderr (only when it is a terminal). */
typedef struct {
    int enabled;
    double start, last_draw;
    int last_len; /* widest line drawn, for the final clear */
} ts_bar;

void ts_bar_start(ts_bar *bar, int enabled);
void ts_bar_update(void *bar, double done);
/* The same with a label before the bar (e.g. "generation 3, ..."). */
void ts_bar_update_text(ts_bar *bar, double done, const char *label);
void ts_bar_finish(ts_bar *bar);

double ts_now(void);

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_CHECK_FAILED = 3, TS_MAX_OVERRIDES = 256 };

/* Most OpenMP threads a run may ask for (docs/limits.md): results do not
 * depend on the count, and beyond the cores of the largest common machines
 * more threads only cost memory and start-up time (libgomp crashed at
 * 100000). */
enum { TS_MAX_THREADS = 1024 };

/* The number of the SIGINT or SIGTERM that asked the run to stop, else 0
 * (set by the handler ts_cli_catch_stop_signals installs). */
extern volatile sig_atomic_t ts_stop_signal;

/* From here on, SIGINT and SIGTERM ask the run to stop at its next safe
 * point (ts_stop_signal); a second one takes its default action at once. */
void ts_cli_catch_stop_signals(void);

/* Prints err as "file:line:col: error: msg" on stderr; returns the exit
 * code for it (2 bad input, 1 runtime failure). */
int ts_cli_report_error(const ts_error *err);

/* "PROG: error: MSG" and a pointer to --help on stderr; returns EXIT_USAGE. */
int ts_cli_usage_error(const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* --threads: an integer in [1, TS_MAX_THREADS]; 0 or -1. */
int ts_cli_parse_threads(const char *s, int *out);

/* --max-memory: a positive size in bytes with an optional binary suffix
 * K, M, G, T (also KB/KiB...; 512M = 512 MiB, 1.5G); 0 or -1. */
int ts_cli_parse_size(const char *s, double *bytes);

/* Memory this process may still use, in bytes: the smaller of MemAvailable
 * (/proc/meminfo, else free pages) and, for the cgroup of the process and
 * each cgroup above it, its memory limit less its usage (v2 memory.max,
 * v1 memory.limit_in_bytes; reclaimable page cache counts as free).
 * -1 when none of them can be read. */
double ts_cli_available_memory(void);

/* Refuses a run whose memory estimate (talentsim/estimate.h) exceeds the
 * available memory, or max_memory_text (--max-memory, may be NULL) when
 * that is lower. Returns 0 to go on, else prints the error and returns
 * the exit code (2 with the estimate and the limit). */
int ts_cli_memory_guard(const ts_scenario *sc, int threads, const char *max_memory_text);

/* The same for an estimate made by the caller (e.g. several runs). */
int ts_cli_memory_check(const ts_memory_estimate *e, const char *max_memory_text);

/* Parameter overrides in command-line order. The texts are borrowed (argv)
 * and used whole: nothing is copied or cut here. */
typedef struct {
    const char *keys[TS_MAX_OVERRIDES];   /* "replications", "seed", or NULL */
    const char *values[TS_MAX_OVERRIDES]; /* the value, or "key=value" when key is NULL */
    int n;
} ts_overrides;

/* Adds key=value (key NULL: value is already an assignment). Returns -1
 * when TS_MAX_OVERRIDES are already there: the caller must report it. */
int ts_overrides_add(ts_overrides *o, const char *key, const char *value);

/* The option values every subcommand shares, checked the same way with the
 * same message: each stores a good value and returns -1 (go on), or prints
 * the usage error under prog and returns EXIT_USAGE. key: "replications"
 * (-r), "seed" (-s) or NULL (--set, whose value is key=value). */
int ts_cli_opt_threads(const char *prog, const char *arg, int *threads);
int ts_cli_opt_max_memory(const char *prog, const char *arg, const char **max_memory);
int ts_cli_opt_override(const char *prog, ts_overrides *o, const char *key, const char *arg);

/* Loads the scenario at path, applies the overrides and validates it. */
ts_scenario *ts_cli_load(const char *path, const ts_overrides *o, ts_error *err);

/* Human summary on f: headline metrics and the targets table. */
void ts_report_print(FILE *f, const ts_scenario *sc, const ts_results *res);

/* The headline effects of x against ref in the last year: mean paired
 * difference, its 95% interval, and "*" where the interval excludes 0. */
void ts_report_print_compare(FILE *f, const ts_compare_run *ref, const ts_compare_run *x);

/* argv[0..argc-1] joined by spaces into buf (cut to n - 1 characters), for
 * the manifest's command line. */
void ts_cli_join_args(int argc, char **argv, char *buf, size_t n);

/* What a run's manifest records of the program (this build's version and
 * commit) and of the command; its writing stops on ts_stop_signal. */
ts_run_info ts_cli_run_info(const char *command, const char *input, int threads,
                            double seconds);

/* `talentsim bench [options]`; returns the exit code. */
int ts_bench_main(int argc, char **argv);

/* `talentsim sweep FILE`, `talentsim merge DIR`, `talentsim sensitivity
 * DIR` (sweep.c); each returns the exit code. */
int ts_sweep_main(int argc, char **argv);
int ts_merge_main(int argc, char **argv);
int ts_sensitivity_main(int argc, char **argv);

/* `talentsim calibrate FILE [options]` (calibrate.c); the exit code. */
int ts_calibrate_main(int argc, char **argv);
/* `talentsim plot DIR`: runs scripts/plot.py (plot.c); returns its exit
 * code, or 1 when Python or the script is missing, 2 on bad usage. */
int ts_plot_main(int argc, char **argv);

/* `talentsim check-patterns SCENARIO [options]`; returns the exit code. */
int ts_patterns_main(int argc, char **argv);

/* `talentsim compare REFERENCE SCENARIO... [options]`; returns the exit
 * code. */
int ts_compare_main(int argc, char **argv);

#endif
