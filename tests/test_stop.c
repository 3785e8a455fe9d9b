/* The engine's stop flag (ts_run_opts.stop): a run stops before the next
 * simulated year once it is set, with TS_ERUNTIME "interrupted" and no
 * results. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "talentsim/scenario.h"
#include "talentsim/sim.h"

static ts_scenario *small_scenario(const char *reps) {
    ts_error err;
    ts_scenario *sc = ts_scenario_alloc("small");
    cr_assert_not_null(sc);
    cr_assert_eq(ts_scenario_set(sc, "sample_fraction", "0.01", "test", &err), TS_OK);
    cr_assert_eq(ts_scenario_set(sc, "replications", reps, "test", &err), TS_OK);
    cr_assert_eq(ts_scenario_set(sc, "years.end", "2025", "test", &err), TS_OK);
    return sc;
}

/* Sets the stop flag once `after` simulated years are done; counts the
 * progress reports that come after it. */
typedef struct {
    volatile sig_atomic_t *stop;
    double after;        /* share of the run */
    int reports_after;   /* progress reports once the flag was set */
} stopper;

static void stop_midway(void *ctx, double done) {
    stopper *s = ctx;
    if (*s->stop)
        s->reports_after++;
    else if (done >= s->after)
        *s->stop = SIGTERM;
}

static ts_status run_with(const ts_scenario *sc, int threads, stopper *s, ts_results **res,
                          ts_error *err) {
    ts_run_opts opt = {.threads = threads, .progress = stop_midway, .progress_ctx = s,
                       .stop = s->stop};
    ts_error_clear(err);
    return ts_sim_run(sc, &opt, res, err);
}

Test(stop, flag_set_before_the_run_stops_it_at_once) {
    ts_scenario *sc = small_scenario("2");
    volatile sig_atomic_t flag = SIGINT;
    stopper s = {.stop = &flag, .after = 2.0};
    ts_results dummy, *res = &dummy; /* must be reset to NULL */
    ts_error err;
    cr_assert_eq(run_with(sc, 1, &s, &res, &err), TS_ERUNTIME);
    cr_assert_str_eq(err.msg, "interrupted");
    cr_assert_null(res);
    cr_assert_eq(s.reports_after, 0, "%d years simulated after the stop", s.reports_after);
    ts_scenario_free(sc);
}

Test(stop, flag_set_midway_stops_before_the_next_year) {
    ts_scenario *sc = small_scenario("3");
    volatile sig_atomic_t flag = 0;
    stopper s = {.stop = &flag, .after = 0.4};
    ts_results *res = NULL;
    ts_error err;
    cr_assert_eq(run_with(sc, 1, &s, &res, &err), TS_ERUNTIME);
    cr_assert_str_eq(err.msg, "interrupted");
    cr_assert_null(res);
    cr_assert_eq(s.reports_after, 0, "%d years simulated after the stop", s.reports_after);
    ts_scenario_free(sc);
}

Test(stop, replications_side_by_side_stop_too) {
    ts_scenario *sc = small_scenario("8");
    volatile sig_atomic_t flag = 0;
    stopper s = {.stop = &flag, .after = 0.3};
    ts_results *res = NULL;
    ts_error err;
    cr_assert_eq(run_with(sc, 2, &s, &res, &err), TS_ERUNTIME);
    cr_assert_str_eq(err.msg, "interrupted");
    cr_assert_null(res);
    ts_scenario_free(sc);
}

Test(stop, unset_flag_changes_nothing) {
    ts_scenario *sc = small_scenario("2");
    volatile sig_atomic_t flag = 0;
    ts_run_opts with = {.threads = 2, .stop = &flag}, without = {.threads = 2};
    ts_results *a = NULL, *b = NULL;
    ts_error err;
    cr_assert_eq(ts_sim_run(sc, &with, &a, &err), TS_OK, "%s", err.msg);
    cr_assert_eq(ts_sim_run(sc, &without, &b, &err), TS_OK, "%s", err.msg);
    size_t n = a->nrep * a->nyear * TS_NMETRICS;
    cr_assert_eq(memcmp(a->v, b->v, n * sizeof(double)), 0);
    ts_results_free(a);
    ts_results_free(b);
    ts_scenario_free(sc);
}
