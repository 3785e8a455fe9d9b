/* Summaries over replications and the target rule of MODEL.md section 7. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "talentsim/stats.h"

#define EPS 1e-12

Test(stats_summary, quantiles_of_1_to_100_follow_gsl_interpolation) {
    double x[100], work[100];
    for (int i = 0; i < 100; i++)
        x[99 - i] = i + 1; /* descending: the summary must sort */
    ts_summary s;
    ts_summary_of(x, 100, work, &s);
    cr_assert_eq(s.n, 100);
    cr_assert_float_eq(s.mean, 50.5, EPS);
    /* variance of 1..N with n-1 denominator: N(N+1)/12 */
    cr_assert_float_eq(s.sd, sqrt(100.0 * 101.0 / 12.0), 1e-10);
    /* idx = 99 f: 2.475 -> 3 + 0.475; 49.5 -> 50.5; 96.525 -> 97 + 0.525 */
    cr_assert_float_eq(s.p2_5, 3.475, 1e-9);
    cr_assert_float_eq(s.p50, 50.5, EPS);
    cr_assert_float_eq(s.p97_5, 97.525, 1e-9);
    cr_assert_eq(x[0], 100.0, "input must not be modified");
}

Test(stats_summary, nan_values_are_skipped) {
    double x[] = {NAN, 4.0, NAN, 2.0, 6.0, NAN}, work[6];
    ts_summary s;
    ts_summary_of(x, 6, work, &s);
    cr_assert_eq(s.n, 3);
    cr_assert_float_eq(s.mean, 4.0, EPS);
    cr_assert_float_eq(s.sd, 2.0, EPS);
    cr_assert_float_eq(s.p50, 4.0, EPS);
    /* idx = 2 * 0.025 = 0.05 between 2 and 4 */
    cr_assert_float_eq(s.p2_5, 2.1, 1e-12);
    cr_assert_float_eq(s.p97_5, 5.9, 1e-12);
}

Test(stats_summary, no_values_gives_all_nan) {
    double x[] = {NAN, NAN}, work[2];
    ts_summary s;
    ts_summary_of(x, 2, work, &s);
    cr_assert_eq(s.n, 0);
    cr_assert(isnan(s.mean) && isnan(s.sd) && isnan(s.p2_5) && isnan(s.p50) &&
              isnan(s.p97_5));
    ts_summary_of(x, 0, work, &s);
    cr_assert_eq(s.n, 0);
    cr_assert(isnan(s.mean));
}

Test(stats_summary, single_value_has_zero_sd) {
    double x[] = {NAN, 7.5}, work[2];
    ts_summary s;
    ts_summary_of(x, 2, work, &s);
    cr_assert_eq(s.n, 1);
    cr_assert_eq(s.sd, 0.0);
    cr_assert_eq(s.mean, 7.5);
    cr_assert_eq(s.p2_5, 7.5);
    cr_assert_eq(s.p97_5, 7.5);
}

Test(stats_summary, in_place_work_is_allowed) {
    double x[] = {3.0, NAN, 1.0, 2.0};
    ts_summary s;
    ts_summary_of(x, 4, x, &s);
    cr_assert_eq(s.n, 3);
    cr_assert_float_eq(s.mean, 2.0, EPS);
    cr_assert_float_eq(s.sd, 1.0, EPS);
}

Test(stats_summary, metric_summary_reads_one_year_over_replications) {
    ts_results *r = ts_results_alloc(4, 3, 2020);
    cr_assert_not_null(r);
    for (size_t rep = 0; rep < 4; rep++)
        for (size_t y = 0; y < 3; y++)
            r->v[(rep * 3 + y) * TS_NMETRICS + TS_M_FLOWS_FORCED] =
                (double)(10 * y + rep);
    double work[4];
    ts_summary s;
    ts_summary_metric(r, 1, TS_M_FLOWS_FORCED, work, &s);
    cr_assert_eq(s.n, 4);
    cr_assert_float_eq(s.mean, 11.5, EPS);
    ts_summary_metric(r, 1, TS_M_TALENT_US, work, &s); /* never set: NaN */
    cr_assert_eq(s.n, 0);
    ts_summary_metric(r, 3, TS_M_FLOWS_FORCED, work, &s); /* past the end */
    cr_assert_eq(s.n, 0);
    ts_results_free(r);
}

/* A run 2020..2022 with `nrep` replications where metric m in 2021 is v. */
static ts_results *constant_run(size_t nrep, ts_metric m, double v) {
    ts_results *r = ts_results_alloc(nrep, 3, 2020);
    cr_assert_not_null(r);
    for (size_t rep = 0; rep < nrep; rep++)
        r->v[(rep * 3 + 1) * TS_NMETRICS + m] = v;
    return r;
}

static int evaluate(const char *metric, int64_t year, double observed,
                    double n, const ts_results *r, ts_target_eval *ev) {
    ts_target t = {.metric = (char *)metric, .year = year,
                   .observed = observed, .n = n, .source = (char *)"test"};
    double work[64];
    ts_target_evaluate(&t, r, work, ev);
    cr_assert_eq(ev->target, &t);
    return ev->met;
}

Test(stats_target, share_widened_by_survey_sampling_error) {
    double p = 0.72, n = 1300, e = sqrt(p * (1 - p) / n); /* 0.01245 */
    ts_target_eval ev;
    ts_results *in = constant_run(20, TS_M_SURVEY_FEEL_UNSAFE, p - 0.999 * e);
    cr_assert_eq(evaluate("survey.feel_unsafe", 2021, p, n, in, &ev), 1);
    cr_assert_float_eq(ev.halfwidth_extra, e, 1e-15);
    cr_assert_eq(ev.sim.n, 20);
    ts_results *out = constant_run(20, TS_M_SURVEY_FEEL_UNSAFE, p - 1.001 * e);
    cr_assert_eq(evaluate("survey.feel_unsafe", 2021, p, n, out, &ev), 0);
    ts_results *above = constant_run(20, TS_M_SURVEY_FEEL_UNSAFE, p + 1.001 * e);
    cr_assert_eq(evaluate("survey.feel_unsafe", 2021, p, n, above, &ev), 0);
    ts_results_free(in);
    ts_results_free(out);
    ts_results_free(above);
}

Test(stats_target, count_widened_by_poisson_error) {
    ts_target_eval ev;
    /* sqrt(175) = 13.23: 162 + 13.23 >= 175, 161 + 13.23 < 175 */
    ts_results *in = constant_run(10, TS_M_FLOWS_US_TO_CN_ACADEMIC, 162);
    cr_assert_eq(evaluate("flows.us_to_cn_academic", 2021, 175, NAN, in, &ev), 1);
    cr_assert_float_eq(ev.halfwidth_extra, sqrt(175.0), 1e-12);
    ts_results *out = constant_run(10, TS_M_FLOWS_US_TO_CN_ACADEMIC, 161);
    cr_assert_eq(evaluate("flows.us_to_cn_academic", 2021, 175, NAN, out, &ev), 0);
    ts_results_free(in);
    ts_results_free(out);
}

Test(stats_target, interval_uses_simulated_quantiles) {
    ts_results *r = ts_results_alloc(41, 3, 2020);
    cr_assert_not_null(r);
    for (size_t rep = 0; rep < 41; rep++) /* 100, 101, ..., 140 */
        r->v[(rep * 3 + 1) * TS_NMETRICS + TS_M_FLOWS_CN_TO_US] = 100.0 + (double)rep;
    ts_target_eval ev;
    /* idx 40 * 0.975 = 39 -> p97_5 = 139; 139 + sqrt(144) = 151 */
    cr_assert_eq(evaluate("flows.cn_to_us", 2021, 144, NAN, r, &ev), 1);
    cr_assert_float_eq(ev.sim.p97_5, 139.0, 1e-9);
    cr_assert_float_eq(ev.sim.p2_5, 101.0, 1e-9);
    cr_assert_eq(evaluate("flows.cn_to_us", 2021, 169, NAN, r, &ev), 0);
    ts_results_free(r);
}

Test(stats_target, not_evaluable_cases) {
    ts_results *r = constant_run(5, TS_M_SURVEY_FEEL_UNSAFE, 0.7);
    ts_target_eval ev;
    cr_assert_eq(evaluate("survey.feel_unsafe", 2019, 0.72, 1300, r, &ev), -1);
    cr_assert_eq(ev.sim.n, 0);
    cr_assert(isnan(ev.sim.mean));
    cr_assert_eq(evaluate("survey.feel_unsafe", 2023, 0.72, 1300, r, &ev), -1);
    /* inside the run but no data (all NaN) */
    cr_assert_eq(evaluate("survey.feel_unsafe", 2020, 0.72, 1300, r, &ev), -1);
    cr_assert_eq(evaluate("no.such_metric", 2021, 0.72, 1300, r, &ev), -1);
    cr_assert_eq(evaluate("survey.feel_unsafe", 2021, 0.72, 1300, NULL, &ev), -1);
    ts_results_free(r);
}
