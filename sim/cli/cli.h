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

/* Prints err as "file:line:col: error: msg" on stderr; returns the exit
 * code for it (2 bad input, 1 runtime failure). */
int ts_cli_report_error(const ts_error *err);

/* Human summary on f: headline metrics and the targets table. */
void ts_report_print(FILE *f, const ts_scenario *sc, const ts_results *res);

/* `talentsim bench [options]`; returns the exit code. */
int ts_bench_main(int argc, char **argv);

#endif
