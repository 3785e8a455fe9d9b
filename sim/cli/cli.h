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

/* Human summary on f: headline metrics and the targets table. */
void ts_report_print(FILE *f, const ts_scenario *sc, const ts_results *res);

/* `talentsim bench [options]`; returns the exit code. */
int ts_bench_main(int argc, char **argv);

#endif
