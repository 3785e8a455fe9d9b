/* The command-line program: the only code that prints or exits. */
#ifndef TS_CLI_H
#define TS_CLI_H

#include <stdio.h>

#include "talentsim/scenario.h"
#include "talentsim/sim.h"

/* Progress bar on stderr (only when it is a terminal). */
typedef struct {
    int enabled;
    double start, last_draw;
} ts_bar;

void ts_bar_start(ts_bar *bar, int enabled);
void ts_bar_update(void *bar, double done);
void ts_bar_finish(ts_bar *bar);

double ts_now(void);

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_CHECK_FAILED = 3, TS_MAX_OVERRIDES = 256 };

/* Prints err as "file:line:col: error: msg" on stderr; returns the exit
 * code for it (2 bad input, 1 runtime failure). */
int ts_cli_report_error(const ts_error *err);

/* "PROG: error: MSG" and a pointer to --help on stderr; returns EXIT_USAGE. */
int ts_cli_usage_error(const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* --threads: an integer in [1, 4096]; 0 or -1. */
int ts_cli_parse_threads(const char *s, int *out);

/* Parameter overrides ("key=value") in command-line order. */
typedef struct {
    const char *items[TS_MAX_OVERRIDES];
    char owned[TS_MAX_OVERRIDES][64]; /* storage for --reps/--seed forms */
    int n;
} ts_overrides;

/* Adds "key=value" (key NULL: value is already an assignment); -1 when full. */
int ts_overrides_add(ts_overrides *o, const char *key, const char *value);

/* Loads the scenario at path, applies the overrides and validates it. */
ts_scenario *ts_cli_load(const char *path, const ts_overrides *o, ts_error *err);

/* Human summary on f: headline metrics and the targets table. */
void ts_report_print(FILE *f, const ts_scenario *sc, const ts_results *res);

/* `talentsim bench [options]`; returns the exit code. */
int ts_bench_main(int argc, char **argv);

/* `talentsim check-patterns SCENARIO [options]`; returns the exit code. */
int ts_patterns_main(int argc, char **argv);

#endif
