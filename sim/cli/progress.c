/* A progress bar with ETA on stderr, drawn at most ten times a second. */
#include <stdio.h>
#include <time.h>

#include "cli.h"

#define TS_BAR_WIDTH 30

double ts_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void ts_bar_start(ts_bar *bar, int enabled) {
    bar->enabled = enabled;
    bar->start = ts_now();
    bar->last_draw = 0.0;
    bar->last_len = 0;
}

static void fmt_duration(double s, char *buf, size_t n) {
    long t = (long)(s + 0.5);
    snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
}

void ts_bar_update(void *ctx, double done) { ts_bar_update_text(ctx, done, ""); }

void ts_bar_update_text(ts_bar *bar, double done, const char *label) {
    double now = ts_now();
    if (!bar->enabled || (now - bar->last_draw < 0.1 && done < 1.0))
        return;
    bar->last_draw = now;
    int fill = (int)(done * TS_BAR_WIDTH);
    char line[TS_BAR_WIDTH + 1];
    for (int i = 0; i < TS_BAR_WIDTH; i++)
        line[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
    line[TS_BAR_WIDTH] = '\0';
    char eta[32] = "--:--:--";
    double elapsed = now - bar->start;
    if (done > 0.0)
        fmt_duration(elapsed * (1.0 - done) / done, eta, sizeof eta);
    int len = fprintf(stderr, "\r%s[%s] %3d%%  ETA %s ", label, line, (int)(done * 100.0), eta);
    bar->last_len = len > bar->last_len ? len : bar->last_len;
    fflush(stderr);
}

void ts_bar_finish(ts_bar *bar) {
    if (!bar->enabled)
        return;
    fprintf(stderr, "\r%*s\r", bar->last_len, "");
    fflush(stderr);
}
