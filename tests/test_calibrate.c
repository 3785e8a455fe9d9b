/* Calibration (talentsim/calibrate.h, sim/cli/calibrate.c): the block's
 * errors, the distance formula, ABC-SMC recovering parameters from targets
 * the model generated itself, the same posterior for 1 and 2 threads and
 * after an interrupt and resume, a stalled tolerance, the results
 * directory's guards, runs over posterior draws and --check-targets.
 *
 * The runs use a small configuration (2% of the population, a 5-year
 * spin-up), so the whole suite takes seconds. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "talentsim/calibrate.h"

#define TS_TEST_TMP_PREFIX "/tmp/ts_calib_"
#include "cli_util.h"

TestSuite(calibrate, .init = make_tmp, .fini = remove_tmp);

static void expect_output(const char *needle) {
    char *out = tmp_file("out.txt");
    cr_assert_not_null(out);
    cr_expect(strstr(out, needle) != NULL, "expected '%s' in:\n%s", needle, out);
    free(out);
}

/* The small configuration every file here extends. */
#define SMALL                                                                                \
    "sample_fraction: 0.02\nyears: {spinup: 5}\nreplications: 4\n"

/* Writes tmp/name: extends the shipped baseline, then body. */
static void write_file(const char *name, const char *body) {
    char path[512], cwd[1024];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "extends: %s/scenarios/baseline.yaml\n%s", cwd, body);
    fclose(f);
}

/* A two-parameter calibration of the small configuration. */
static void write_small_calibration(const char *name, const char *extra) {
    char body[2048];
    snprintf(body, sizeof body, SMALL "calibration:\n"
             "  parameters:\n"
             "    utility.fear: {uniform: [0.5, 2.5]}\n"
             "    survey.threshold_unsafe: {uniform: [0.2, 0.8]}\n"
             "  particles: 24\n  generations: 3\n  budget: 600\n  replications: 2\n%s",
             extra);
    write_file(name, body);
}

/* ---- the block's errors ---- */

Test(calibrate, bad_blocks_name_the_key) {
    static const struct {
        const char *block, *expect;
    } cases[] = {
        {"  parameters:\n    suspicion.adaptation: {uniform: [0.5, 1.5]}\n",
         "calibration.parameters.suspicion.adaptation.uniform"},
        {"  parameters:\n    suspicion.adaptation: {uniform: [0.5, 1.5]}\n", "[0, 1]"},
        {"  parameters:\n    utility.fear: {normal: [-1, 0.5]}\n", "allowed range"},
        {"  parameters:\n    utility.fear: {normal: [1, 0]}\n", "sd be above 0"},
        {"  parameters:\n    utility.feer: {uniform: [0, 1]}\n", "did you mean 'utility.fear'"},
        {"  parameters:\n    utility.fear: {uniform: [0, 1]}\n    utility.fear: {uniform: [0, 2]}\n",
         "duplicate key 'utility.fear'"},
        {"  parameters:\n    policies.china_initiative.suspicion.level: {uniform: [0.3, 0.8]}\n"
         "    policies.china_initiative.suspicion.level: {uniform: [0.3, 0.9]}\n",
         "duplicate key"},
        {"  parameters:\n    policies.nosuch.suspicion.level: {uniform: [0.3, 0.8]}\n",
         "names no policy"},
        {"  parameters:\n    career.phd_years: {uniform: [3, 6]}\n", "cannot be calibrated"},
        {"  parameters:\n    utility.fear: {uniform: [0.5, 2]}\n  budget: 0\n",
         "calibration.budget"},
        {"  parameters:\n    utility.fear: {uniform: [0.5, 2]}\n  budget: 10\n  particles: 20\n",
         "at least calibration.particles"},
        {"  parameters:\n    utility.fear: {uniform: [0.5, 2]}\n  particle: 10\n",
         "unknown key 'particle'"},
        {"  parameters:\n    utility.fear: {uniform: [0.5, 2]}\n"
         "  trend: {metric: flows.us_to_cn_academic, from: 2010, to: 2021}\n",
         "calibration.trend.from"},
        {"  parameters:\n    utility.fear: {uniform: [0.5, 2]}\n"
         "  trend: {metric: flows.nowhere, from: 2017, to: 2021}\n", "unknown metric"},
        {"  parameters: {}\n", "1 to 32 parameters"},
        {"  method: mcmc\n  parameters:\n    utility.fear: {uniform: [0.5, 2]}\n", "abc-smc"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[1024];
        snprintf(body, sizeof body, SMALL "calibration:\n%s", cases[i].block);
        write_file("bad.yaml", body);
        cr_expect_eq(run_fmt("calibrate %s/bad.yaml -o %s/out", tmp, tmp), 2, "case %zu", i);
        expect_output(cases[i].expect);
        expect_output("bad.yaml:");
    }
}

Test(calibrate, bad_targets_are_input_errors) {
    static const char *const bodies[] = {
        "targets:\n  - {metric: survey.nowhere, year: 2021, observed: 0.5, n: 100, source: t}\n",
        "targets:\n  - {metric: survey.feel_unsafe, year: 2040, observed: 0.5, n: 100, source: t}\n",
    };
    for (size_t i = 0; i < 2; i++) {
        char body[1024];
        snprintf(body, sizeof body, SMALL "%scalibration:\n  parameters:\n"
                 "    utility.fear: {uniform: [0.5, 2]}\n", bodies[i]);
        write_file("bad.yaml", body);
        cr_expect_eq(run_fmt("calibrate %s/bad.yaml -o %s/out", tmp, tmp), 2, "case %zu", i);
        expect_output(i == 0 ? "survey.nowhere" : "2040");
    }
}

/* ---- the distance ---- */

Test(calibrate, distance_is_the_rms_of_standardised_errors) {
    write_small_calibration("c.yaml", "  trend: {metric: flows.us_to_cn_academic, from: 2017, "
                            "to: 2019, weight: 2}\n");
    char path[512];
    snprintf(path, sizeof path, "%s/c.yaml", tmp);
    ts_error err;
    ts_scenario *sc = ts_scenario_load(path, &err);
    cr_assert_not_null(sc, "%s", err.msg);
    ts_calibration *c = ts_calibration_from_scenario(sc, &err);
    cr_assert_not_null(c, "%s", err.msg);
    cr_assert_eq(c->base->ntargets, 6, "the baseline's six targets");
    ts_results *r = ts_results_alloc(2, 21, 2015);
    for (size_t i = 0; i < 2 * 21 * TS_NMETRICS; i++)
        r->v[i] = 0.5;
    /* flows: 200, 100 (a step down) and 300 in 2017, 2018, 2019; two
     * replications differing by +-10 (their mean is what counts) */
    double flows[3] = {200, 100, 300};
    for (size_t rep = 0; rep < 2; rep++)
        for (size_t y = 0; y < 3; y++)
            r->v[(rep * 21 + 2 + y) * TS_NMETRICS + TS_M_FLOWS_US_TO_CN_ACADEMIC] =
                flows[y] + (rep ? 10 : -10);
    r->v[(0 * 21 + 6) * TS_NMETRICS + TS_M_FLOWS_US_TO_CN_ACADEMIC] = 298; /* 2021 */
    r->v[(1 * 21 + 6) * TS_NMETRICS + TS_M_FLOWS_US_TO_CN_ACADEMIC] = 298 + 34;
    double z[6], pen;
    double d = ts_calibration_distance(c, r, z, &pen);
    /* shares all 0.5 against 0.72, 0.61, 0.65, 0.45 with n = 1300 */
    double obs[4] = {0.72, 0.61, 0.65, 0.45}, ss = 0;
    for (int j = 0; j < 4; j++) {
        double zj = (0.5 - obs[j]) / sqrt(obs[j] * (1 - obs[j]) / 1300);
        cr_expect_float_eq(z[j], zj, 1e-12, "share target %d", j);
        ss += zj * zj;
    }
    cr_expect_float_eq(z[4], (200 - 175) / sqrt(175), 1e-12, "2017 count");
    cr_expect_float_eq(z[5], 17 / sqrt(298), 1e-12, "2021 count, mean of 298 and 332");
    ss += z[4] * z[4] + z[5] * z[5];
    double u = 100 / sqrt(300); /* the step 200 -> 100; 100 -> 300 rises */
    cr_expect_float_eq(pen, u * u, 1e-12);
    cr_expect_float_eq(d, sqrt((ss + 2 * u * u) / 6), 1e-12);
    r->v[(0 * 21 + 6) * TS_NMETRICS + TS_M_FLOWS_US_TO_CN_ACADEMIC] = NAN;
    cr_expect(isinf(ts_calibration_distance(c, r, NULL, NULL)), "an undefined metric: +inf");
    ts_results_free(r);
    ts_calibration_free(c);
    ts_scenario_free(sc);
}

/* ---- end to end ---- */

/* Mean of metric in year from a run's summary.csv. */
static double summary_mean(const char *dir, const char *metric, int year) {
    char path[512], *s, want[128];
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    cr_assert_not_null(s = slurp(path));
    snprintf(want, sizeof want, ",%d,%s,", year, metric);
    char *at = strstr(s, want);
    cr_assert_not_null(at, "%s in %s", want, path);
    double v = strtod(at + strlen(want), NULL);
    free(s);
    return v;
}

/* One row of summary.csv: the posterior 2.5% and 97.5% of key. */
static void posterior_interval(const char *dir, const char *key, double *lo, double *hi) {
    char path[512], *s, want[128];
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    cr_assert_not_null(s = slurp(path));
    snprintf(want, sizeof want, "\n%s,", key);
    char *at = strstr(s, want), *f[16];
    cr_assert_not_null(at);
    at++;
    *strchr(at, '\n') = '\0';
    size_t n = 0;
    for (char *p = strtok(at, ","); p && n < 16; p = strtok(NULL, ","))
        f[n++] = p;
    cr_assert_geq(n, 9);
    *lo = strtod(f[6], NULL);
    *hi = strtod(f[8], NULL);
    free(s);
}

/* Targets generated by the model at fear 1.6, threshold 0.45 (40
 * replications, so their own noise is small beside the particles'); the
 * 95% posterior interval of each parameter must hold its true value. */
Test(calibrate, recovers_known_parameters) {
    write_file("truth.yaml", SMALL "utility.fear: 1.6\nsurvey.threshold_unsafe: 0.45\n");
    cr_assert_eq(run_fmt("%s/truth.yaml -q -r 40 -o %s/truth", tmp, tmp), 0);
    char dir[400], body[4096];
    snprintf(dir, sizeof dir, "%s/truth", tmp);
    snprintf(body, sizeof body, SMALL "targets:\n"
             "  - {metric: survey.feel_unsafe, year: 2021, observed: %.6f, n: 1300, source: t}\n"
             "  - {metric: survey.considered_leaving, year: 2021, observed: %.6f, n: 1300, source: t}\n"
             "  - {metric: flows.us_to_cn_academic, year: 2021, observed: %.3f, source: t}\n"
             "  - {metric: flows.us_to_cn, year: 2021, observed: %.3f, source: t}\n"
             "calibration:\n  parameters:\n"
             "    utility.fear: {uniform: [0.5, 2.5]}\n"
             "    survey.threshold_unsafe: {uniform: [0.2, 0.8]}\n"
             "  particles: 100\n  generations: 5\n  budget: 3000\n  replications: 4\n"
             "  seed: 11\n",
             summary_mean(dir, "survey.feel_unsafe", 2021),
             summary_mean(dir, "survey.considered_leaving", 2021),
             summary_mean(dir, "flows.us_to_cn_academic", 2021),
             summary_mean(dir, "flows.us_to_cn", 2021));
    write_file("fit.yaml", body);
    cr_assert_eq(run_fmt("calibrate %s/fit.yaml -q -o %s/fit", tmp, tmp), 0);
    snprintf(dir, sizeof dir, "%s/fit", tmp);
    double lo, hi;
    posterior_interval(dir, "utility.fear", &lo, &hi);
    cr_expect(lo <= 1.6 && 1.6 <= hi, "fear 1.6 in [%g, %g]", lo, hi);
    cr_expect(hi - lo < 0.8 * 2.0, "the data narrow fear's prior: [%g, %g]", lo, hi);
    posterior_interval(dir, "survey.threshold_unsafe", &lo, &hi);
    cr_expect(lo <= 0.45 && 0.45 <= hi, "threshold 0.45 in [%g, %g]", lo, hi);
    cr_expect(hi - lo < 0.5 * 0.6, "the data narrow the threshold's prior: [%g, %g]", lo, hi);
}

static void expect_same_file(const char *a, const char *b) {
    char *x = tmp_file(a), *y = tmp_file(b);
    cr_assert_not_null(x, "%s", a);
    cr_assert_not_null(y, "%s", b);
    cr_expect_str_eq(x, y, "%s and %s differ", a, b);
    free(x);
    free(y);
}

Test(calibrate, same_posterior_for_one_and_two_threads) {
    write_small_calibration("c.yaml", "");
    cr_assert_eq(run_fmt("calibrate %s/c.yaml -q -t 1 -o %s/t1", tmp, tmp), 0);
    cr_assert_eq(run_fmt("calibrate %s/c.yaml -q -t 2 -o %s/t2", tmp, tmp), 0);
    expect_same_file("t1/posterior.csv", "t2/posterior.csv");
    expect_same_file("t1/summary.csv", "t2/summary.csv");
    expect_same_file("t1/generations/gen-001.csv", "t2/generations/gen-001.csv");
    expect_same_file("t1/correlations.csv", "t2/correlations.csv");
    char *corr = tmp_file("t1/correlations.csv");
    cr_assert_not_null(corr);
    cr_expect(strncmp(corr, "parameter_a,parameter_b,correlation\nutility.fear,"
                      "survey.threshold_unsafe,", 70) == 0, "%s", corr);
    free(corr);
    char *g = tmp_file("t1/generations.csv");
    cr_assert_not_null(g);
    const char *head = "generation,tolerance,acceptance_rate,ess,evaluations,seconds\n0,Inf,1,";
    cr_expect(strncmp(g, head, strlen(head)) == 0, "%s", g);
    cr_expect(strstr(g, "\n2,") != NULL, "three generations: %s", g);
    free(g);
}

/* Stops the run when generation `at` starts. */
typedef struct {
    volatile sig_atomic_t *flag;
    size_t at;
} stopper;

static void stop_at(void *ctx, const ts_calib_status *s) {
    const stopper *st = ctx;
    if (s->generation == st->at)
        *st->flag = 1;
}

static ts_status calibrate_lib(const char *file, const char *dir, int resume,
                               volatile sig_atomic_t *flag, size_t stop_gen, ts_error *err) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp, file);
    ts_scenario *sc = ts_scenario_load(path, err);
    cr_assert_not_null(sc, "%s", err->msg);
    ts_calibration *c = ts_calibration_from_scenario(sc, err);
    cr_assert_not_null(c, "%s", err->msg);
    stopper s = {flag, stop_gen};
    ts_calib_opts opt = {.run = {.threads = 2, .stop = flag}, .progress = stop_at,
                         .progress_ctx = &s, .resume = resume};
    ts_abc_result res;
    snprintf(path, sizeof path, "%s/%s", tmp, dir);
    ts_status st = ts_calibration_run(c, sc, path, &opt, &res, err);
    ts_abc_result_free(&res);
    ts_calibration_free(c);
    ts_scenario_free(sc);
    return st;
}

Test(calibrate, resume_after_an_interrupt_is_bit_identical) {
    write_small_calibration("c.yaml", "");
    volatile sig_atomic_t flag = 0;
    ts_error err;
    cr_assert_eq(calibrate_lib("c.yaml", "whole", 0, &flag, 99, &err), TS_OK, "%s", err.msg);
    cr_assert_eq(calibrate_lib("c.yaml", "cut", 0, &flag, 2, &err), TS_ERUNTIME);
    cr_expect_str_eq(err.msg, "interrupted");
    char *g = tmp_file("cut/generations.csv");
    cr_assert_not_null(g, "the completed generations are kept");
    cr_expect(strstr(g, "\n1,") && !strstr(g, "\n2,"), "generations 0 and 1 only: %s", g);
    free(g);
    flag = 0;
    cr_assert_eq(calibrate_lib("c.yaml", "cut", 1, &flag, 99, &err), TS_OK, "%s", err.msg);
    expect_same_file("whole/posterior.csv", "cut/posterior.csv");
    expect_same_file("whole/generations/gen-002.csv", "cut/generations/gen-002.csv");
}

Test(calibrate, directory_guards) {
    write_small_calibration("c.yaml", "");
    write_small_calibration("d.yaml", "  seed: 5\n");
    cr_assert_eq(run_fmt("calibrate %s/c.yaml -q -o %s/out", tmp, tmp), 0);
    cr_expect_eq(run_fmt("calibrate %s/c.yaml -q -o %s/out", tmp, tmp), 2);
    expect_output("--resume continues it, --force starts again");
    cr_expect_eq(run_fmt("calibrate %s/d.yaml -q -o %s/out", tmp, tmp), 2);
    expect_output("holds another calibration");
    cr_expect_eq(run_fmt("calibrate %s/d.yaml -q -f -o %s/out", tmp, tmp), 0,
                 "--force replaces another calibration");
    cr_expect_eq(run_fmt("calibrate %s/d.yaml -q --resume -o %s/out", tmp, tmp), 0,
                 "nothing left to do");
    cr_expect_eq(run_fmt("calibrate %s/d.yaml --resume --force -o %s/out", tmp, tmp), 2);
    cr_expect_eq(run_fmt("calibrate --help"), 0);
    expect_output("Usage: talentsim calibrate");
}

Test(calibrate, a_stalled_tolerance_ends_cleanly) {
    write_small_calibration("c.yaml", "  min_decrease: 0.99\n");
    cr_assert_eq(run_fmt("calibrate %s/c.yaml -o %s/out", tmp, tmp), 0);
    expect_output("stopped: the tolerance stalls");
    char *p = tmp_file("out/posterior.csv"), *y = tmp_file("out/calibrated.yaml");
    cr_expect_not_null(p, "the posterior so far is kept");
    cr_expect_not_null(y);
    cr_expect(y && strstr(y, "utility.fear: ") && strstr(y, "extends: \"../c.yaml\""), "%s", y);
    free(p);
    free(y);
    cr_expect_eq(run_fmt("%s/out/calibrated.yaml -q -r 2 -o %s/run", tmp, tmp), 0,
                 "calibrated.yaml runs");
}

/* ---- posterior draws and --check-targets ---- */

/* Replications that feel unsafe in 2021 (the share is near 0 at threshold
 * 2, near 1 at threshold 0): the systematic resample gives particle i
 * exactly R w_i replications when R w_i is whole. */
Test(calibrate, posterior_draws_follow_the_weights) {
    write_file("s.yaml", SMALL);
    write_tmp("post.csv", "particle,survey.threshold_unsafe,weight,distance\n"
                                "1,2,1,0.5\n2,0,3,0.7\n");
    cr_assert_eq(run_fmt("%s/s.yaml -q -r 8 --posterior %s/post.csv -o %s/a", tmp, tmp, tmp), 0);
    char *rep = tmp_file("a/replications.csv");
    cr_assert_not_null(rep);
    int low = 0, high = 0;
    for (char *l = strstr(rep, "\n"); l && *l; l = strchr(l + 1, '\n')) {
        int r, year;
        char metric[64];
        double v;
        if (sscanf(l + 1, "%*[^,],%d,%d,%63[^,],%lf", &r, &year, metric, &v) == 4 &&
            year == 2021 && strcmp(metric, "survey.feel_unsafe") == 0)
            *(v < 0.5 ? &low : &high) += 1;
    }
    free(rep);
    cr_expect_eq(low, 2, "weight 1/4 of 8 replications");
    cr_expect_eq(high, 6, "weight 3/4 of 8 replications");
    cr_assert_eq(run_fmt("%s/s.yaml -q -r 8 --posterior %s/post.csv -o %s/b", tmp, tmp, tmp), 0);
    expect_same_file("a/replications.csv", "b/replications.csv");
}

Test(calibrate, bad_posteriors_are_input_errors) {
    write_file("s.yaml", SMALL);
    static const struct {
        const char *rows, *expect;
    } cases[] = {
        {"particle,utility.fear,distance\n1,1,0\n", "header must be"},
        {"particle,utility.feer,weight,distance\n1,1,1,0\n", "utility.feer"},
        {"particle,utility.fear,weight,distance\n1,x,1,0\n", "not a number"},
        {"particle,utility.fear,weight,distance\n1,1,0,0\n", "positive weight"},
        {"particle,utility.fear,weight,distance\n1,99,1,0\n", "utility.fear"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_tmp("post.csv", cases[i].rows);
        cr_expect_eq(run_fmt("%s/s.yaml -q -r 2 --posterior %s/post.csv -o %s/o%zu", tmp, tmp, tmp,
                         i), 2, "case %zu", i);
        expect_output(cases[i].expect);
        char path[512];
        snprintf(path, sizeof path, "%s/o%zu/summary.csv", tmp, i);
        cr_expect(access(path, F_OK) != 0, "nothing written for case %zu", i);
    }
    cr_expect_eq(run_fmt("%s/s.yaml -q -r 2 --posterior %s/none.csv -o %s/x", tmp, tmp, tmp), 2);
}

Test(calibrate, check_targets_exit_status) {
    write_file("s.yaml", SMALL);
    cr_expect_eq(run_fmt("%s/s.yaml -q -r 2 --set survey.threshold_unsafe=2 -o %s/a", tmp, tmp), 0,
                 "missed targets alone do not fail a run");
    cr_expect_eq(run_fmt("%s/s.yaml -q -r 2 --set survey.threshold_unsafe=2 --check-targets "
                     "-o %s/b", tmp, tmp), 3);
    expect_output("missed (--check-targets)");
}

/* compare --posterior: both scenarios see draw r in replication r, so a
 * scenario against a copy of itself differs by exactly 0. */
Test(calibrate, compare_over_posterior_draws_stays_paired) {
    write_file("a.yaml", SMALL "name: a\n");
    write_file("b.yaml", SMALL "name: b\n");
    write_tmp("post.csv", "particle,utility.fear,weight,distance\n1,1.0,1,0\n2,2.0,1,0\n");
    cr_assert_eq(run_fmt("compare %s/a.yaml %s/b.yaml -q -r 4 --posterior %s/post.csv -o %s/c",
                     tmp, tmp, tmp, tmp), 0);
    char *csv = tmp_file("c/compare.csv");
    cr_assert_not_null(csv);
    size_t rows = 0;
    for (char *l = strchr(csv, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        double mean, sd;
        if (sscanf(l + 1, "%*[^,],%*[^,],%*d,%*[^,],%lf,%lf", &mean, &sd) == 2) {
            rows++;
            cr_expect(mean == 0 && sd == 0, "row %zu: %g %g", rows, mean, sd);
        }
    }
    cr_expect_gt(rows, 100);
    free(csv);
    char *a = tmp_file("c/a/replications.csv");
    cr_assert_not_null(a);
    write_file("plain.yaml", SMALL "name: a\n");
    cr_assert_eq(run_fmt("%s/plain.yaml -q -r 4 -o %s/plain", tmp, tmp), 0);
    char *p = tmp_file("plain/replications.csv");
    cr_expect(p && strcmp(a, p) != 0, "the draws changed the runs");
    free(a);
    free(p);
}

/* The prior's sd for the identifiability ratio in summary.csv: uniform
 * (hi - lo) / sqrt 12; a normal truncated at its mean is half-normal,
 * sd sqrt(1 - 2 / pi); a normal truncated far out is the normal. */
Test(calibrate, prior_sd) {
    ts_abc_prior u = {.kind = TS_ABC_UNIFORM, .lo = 1, .hi = 4};
    cr_expect_float_eq(ts_abc_prior_sd(&u), 3 / sqrt(12.0), 1e-15);
    ts_abc_prior half = {.kind = TS_ABC_NORMAL, .lo = 0, .hi = 50, .mu = 0, .sd = 2};
    cr_expect_float_eq(ts_abc_prior_sd(&half), 2 * sqrt(1 - 2 / M_PI), 1e-12);
    ts_abc_prior wide = {.kind = TS_ABC_NORMAL, .lo = -40, .hi = 40, .mu = 1, .sd = 0.5};
    cr_expect_float_eq(ts_abc_prior_sd(&wide), 0.5, 1e-12);
}
