/* Metamorphic tests of MODEL.md section 10, P5: from 2023, everything else
 * equal, each policy moves its outcome in the direction its mechanism
 * implies. A sign error in the mechanism (suspicion in fear and V_US, the
 * student-visa factor of the inflow, the tax relief in Δw, openness in joint
 * output, the federal ban in F_US and grant reluctance) reverses the
 * direction, so these tests fail.
 *
 * Size. Each test runs the baseline history (scenarios/baseline.yaml,
 * spin-up included) and one variant with common random numbers, and asserts
 * that the paired mean difference, variant minus baseline, is beyond
 * K_SE = 4 standard errors in the implied direction; the standard error is
 * sd / sqrt(n) of the per-replication differences. At full scale with 20
 * replications `talentsim check-patterns` measured z = 97 (P5a), 57 (P5b),
 * 2450 (P5c), 144 (P5d), 1440 (P5e) and 375 (P5f). The standard error of a
 * paired difference grows as 1 / sqrt(sample_fraction x replications), so
 * SAMPLE_FRACTION 0.05 with REPS 10 keeps z near 57 sqrt(0.5 / 20) = 9 for the
 * weakest direction (measured at this seed: the z of every direction is
 * printed by cr_log_info) - the direction is certain by twice the margin.
 *
 * The pattern evaluators themselves are checked on runs that must fail: the
 * v1-style start without a spin-up shows a start-up transient (P3). */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <math.h>
#include <string.h>

#include "talentsim/patterns.h"
#include "talentsim/scenario.h"
#include "talentsim/sim.h"

#define BASELINE "scenarios/baseline.yaml"
#define SAMPLE_FRACTION "0.05"
#define REPS "10"
#define K_SE 4.0
#define P5_FROM 2023

static ts_scenario *small_baseline(const char *spinup) {
    ts_error err;
    ts_error_clear(&err);
    ts_scenario *sc = ts_scenario_load(BASELINE, &err);
    cr_assert_not_null(sc, "%s", err.msg);
    cr_assert_eq(ts_scenario_set(sc, "sample_fraction", SAMPLE_FRACTION, "test", &err), TS_OK);
    cr_assert_eq(ts_scenario_set(sc, "replications", REPS, "test", &err), TS_OK);
    cr_assert_eq(ts_scenario_set(sc, "years.spinup", spinup, "test", &err), TS_OK);
    return sc;
}

static ts_results *run(const ts_scenario *sc) {
    ts_run_opts opt = {.threads = 2};
    ts_results *res = NULL;
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_sim_run(sc, &opt, &res, &err), TS_OK, "%s", err.msg);
    return res;
}

static const ts_p5_direction *direction(const char *id) {
    for (size_t i = 0; i < ts_p5_direction_count(); i++)
        if (strcmp(ts_p5_direction_at(i)->id, id) == 0)
            return ts_p5_direction_at(i);
    cr_assert_fail("no direction %s", id);
    return NULL;
}

/* Runs the baseline and the variant of direction id; asserts the sign. */
static void expect_direction(const char *id) {
    const ts_p5_direction *d = direction(id);
    ts_scenario *base = small_baseline("20");
    ts_scenario *var = NULL;
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_p5_variant_make(base, d->variant, P5_FROM, &var, &err), TS_OK, "%s",
                 err.msg);
    ts_results *rb = run(base), *rv = run(var);
    double mean, se;
    size_t y0 = (size_t)(P5_FROM + d->offset - rb->year0);
    size_t n = ts_paired_difference(rb, rv, d->metric, y0, rb->nyear - 1, &mean, &se);
    cr_assert_eq(n, rb->nrep, "%s: a replication without data", id);
    double z = d->sign * mean / se;
    cr_log_info("%s (%s): paired difference %.4g, se %.3g, z %.1f\n", id, d->what, mean, se,
                z);
    cr_expect(z > K_SE, "%s (%s): paired difference %.4g is %.1f se in the implied direction, "
              "need > %.0f", id, d->what, mean, z, K_SE);
    ts_results_free(rb);
    ts_results_free(rv);
    ts_scenario_free(var);
    ts_scenario_free(base);
}

Test(p5, more_suspicion_more_academic_departures) { expect_direction("P5a"); }
Test(p5, more_suspicion_lower_stay_rates) { expect_direction("P5b"); }
Test(p5, fewer_student_visas_fewer_us_students) { expect_direction("P5c"); }
Test(p5, more_tax_relief_more_departures) { expect_direction("P5d"); }
Test(p5, less_openness_fewer_joint_papers) { expect_direction("P5e"); }
Test(p5, federal_ban_more_grant_reluctance) { expect_direction("P5f"); }

Test(p5, every_variant_has_a_direction_and_changes_its_parameter) {
    ts_scenario *base = small_baseline("20");
    for (size_t v = 0; v < ts_p5_variant_count(); v++) {
        size_t uses = 0;
        for (size_t i = 0; i < ts_p5_direction_count(); i++)
            uses += ts_p5_direction_at(i)->variant == v;
        cr_expect(uses > 0, "variant %s is checked by no direction", ts_p5_variant_at(v)->name);
        ts_scenario *var = NULL;
        ts_error err;
        cr_expect_eq(ts_p5_variant_make(base, v, P5_FROM, &var, &err), TS_OK, "%s", err.msg);
        ts_scenario_free(var);
    }
    ts_scenario_free(base);
}

Test(p5, variant_outside_the_years_or_without_effect_is_refused) {
    ts_scenario *base = small_baseline("20");
    ts_scenario *var = NULL;
    ts_error err;
    cr_expect_eq(ts_p5_variant_make(base, 0, 2040, &var, &err), TS_EINPUT);
    cr_expect_null(var);
    /* the federal-ban variant sets `noncitizens`: no change when already so */
    cr_assert_eq(ts_scenario_set(base, "funding.federal_ban", "noncitizens", "test", &err),
                 TS_OK);
    cr_expect_eq(ts_p5_variant_make(base, 4, P5_FROM, &var, &err), TS_EINPUT);
    cr_expect(strstr(err.msg, "unchanged") != NULL, "%s", err.msg);
    ts_scenario_free(base);
}

/* Row of id in a report. */
static const ts_pattern_row *row(const ts_pattern_report *rep, const char *id) {
    for (size_t i = 0; i < rep->n; i++)
        if (strcmp(rep->rows[i].id, id) == 0)
            return &rep->rows[i];
    cr_assert_fail("no row %s", id);
    return NULL;
}

static void check_without_variants(const char *spinup, ts_pattern_report *rep) {
    ts_scenario *sc = small_baseline(spinup);
    ts_run_opts run = {.threads = 2};
    ts_pattern_opts opt = {.p5_from = P5_FROM, .k_se = 3.0, .no_variants = 1};
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_patterns_check(sc, &run, &opt, rep, &err), TS_OK, "%s", err.msg);
    ts_scenario_free(sc);
}

/* With the spin-up the first recorded years are on a steady path; without
 * it (v1's start) the half-filled survey window and the cohort structure of
 * the start population make a transient that P3 must catch. */
Test(patterns, p3_passes_with_spinup_and_catches_the_v1_start) {
    ts_pattern_report with, without;
    check_without_variants("20", &with);
    check_without_variants("0", &without);
    cr_expect(row(&with, "P3")->pass, "with spin-up: %s", row(&with, "P3")->figure);
    cr_expect(!row(&without, "P3")->pass, "without spin-up: %s", row(&without, "P3")->figure);
    cr_expect(row(&with, "P4")->pass, "%s", row(&with, "P4")->figure);
    cr_expect(row(&with, "P6")->pass, "%s", row(&with, "P6")->figure);
    cr_expect_eq(with.n, 5, "P1-P4 and P6 without the variants");
    ts_pattern_report_free(&with);
    ts_pattern_report_free(&without);
}
