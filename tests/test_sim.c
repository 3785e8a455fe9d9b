/* Whole-run properties of the engine: bit-identical results for any thread
 * count, common random numbers across scenarios, and accounting identities. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "talentsim/scenario.h"
#include "talentsim/sim.h"

static ts_scenario *small_scenario(const char *reps) {
    ts_error err;
    ts_scenario *sc = ts_scenario_alloc("small");
    cr_assert_not_null(sc);
    cr_assert_eq(ts_scenario_set(sc, "sample_fraction", "0.02", "test", &err), TS_OK);
    cr_assert_eq(ts_scenario_set(sc, "replications", reps, "test", &err), TS_OK);
    cr_assert_eq(ts_scenario_set(sc, "years.end", "2030", "test", &err), TS_OK);
    return sc;
}

static void add_policy(ts_scenario *sc, const char *name, int64_t from, const char *key,
                       double value) {
    ts_setting set = {.param = ts_param_find(key), .value = value};
    cr_assert_not_null(set.param, "%s", key);
    ts_policy pol = {.name = (char *)name, .from = from, .to = sc->base.years.end,
                     .to_open = 1, .set = &set, .nset = 1};
    ts_error err;
    cr_assert_eq(ts_scenario_add_policy(sc, &pol, &err), TS_OK);
}

static ts_results *run(const ts_scenario *sc, int threads) {
    ts_run_opts opt = {.threads = threads};
    ts_results *res = NULL;
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_sim_run(sc, &opt, &res, &err), TS_OK, "%s", err.msg);
    return res;
}

static size_t nvalues(const ts_results *r) { return r->nrep * r->nyear * TS_NMETRICS; }

static void expect_identical(const ts_results *a, const ts_results *b) {
    cr_assert_eq(nvalues(a), nvalues(b));
    cr_expect_eq(memcmp(a->v, b->v, nvalues(a) * sizeof(double)), 0, "results differ");
    cr_expect_eq(a->agent_years, b->agent_years);
}

Test(sim, identical_for_one_and_two_threads_one_replication_split) {
    ts_scenario *sc = small_scenario("1");
    ts_results *a = run(sc, 1), *b = run(sc, 2);
    expect_identical(a, b);
    ts_results_free(a);
    ts_results_free(b);
    ts_scenario_free(sc);
}

Test(sim, identical_for_one_and_two_threads_replications_side_by_side) {
    ts_scenario *sc = small_scenario("5");
    ts_results *a = run(sc, 1), *b = run(sc, 2), *c = run(sc, 3);
    expect_identical(a, b);
    expect_identical(a, c);
    ts_results_free(a);
    ts_results_free(b);
    ts_results_free(c);
    ts_scenario_free(sc);
}

Test(sim, replications_differ_and_seed_matters) {
    ts_scenario *sc = small_scenario("2");
    ts_results *a = run(sc, 1);
    size_t row = a->nyear * TS_NMETRICS;
    cr_expect_neq(memcmp(a->v, a->v + row, row * sizeof(double)), 0, "replications equal");
    ts_error err;
    cr_assert_eq(ts_scenario_set(sc, "seed", "7", "test", &err), TS_OK);
    ts_results *b = run(sc, 1);
    cr_expect_neq(memcmp(a->v, b->v, nvalues(a) * sizeof(double)), 0, "seed ignored");
    ts_results_free(a);
    ts_results_free(b);
    ts_scenario_free(sc);
}

/* A policy from 2023 leaves every earlier year bit-identical (common random
 * numbers) and changes later years. */
Test(sim, policy_from_2023_leaves_earlier_years_identical) {
    ts_scenario *base = small_scenario("2");
    add_policy(base, "china_initiative", 2018, "suspicion.level", 0.55);
    ts_scenario *alt = ts_scenario_copy(base);
    add_policy(alt, "secure_campus", 2023, "visa.student_approval", 0.0);
    add_policy(alt, "ban", 2023, "funding.federal_ban", TS_BAN_NONCITIZENS);
    ts_results *a = run(base, 2), *b = run(alt, 1);
    size_t pre = (size_t)(2023 - a->year0);
    for (size_t r = 0; r < a->nrep; r++) {
        size_t off = r * a->nyear * TS_NMETRICS;
        cr_expect_eq(memcmp(a->v + off, b->v + off, pre * TS_NMETRICS * sizeof(double)), 0,
                     "replication %zu differs before 2023", r);
        cr_expect_neq(memcmp(a->v + off + pre * TS_NMETRICS, b->v + off + pre * TS_NMETRICS,
                             (a->nyear - pre) * TS_NMETRICS * sizeof(double)), 0,
                      "the policy changed nothing");
    }
    cr_expect_eq(ts_results_get(b, 0, pre, TS_M_INFLOW_US_STUDENTS), 0.0);
    ts_results_free(a);
    ts_results_free(b);
    ts_scenario_free(base);
    ts_scenario_free(alt);
}

/* Identities that hold in every recorded year and replication. The inflow
 * exponent counts from years.start (MODEL 4 step 2), so recorded year y has
 * 3000 * 1.02^y * 0.95 new US students. With the default spin-up of 20 years
 * (MODEL 2) the recorded years see a mature population: US graduates every
 * year and a defined 5-year stay rate from the first recorded year on
 * (the cohort of years.start - 5 graduated in the spin-up). Exact up to the
 * division by sample_fraction. */
Test(sim, accounting_identities_and_inflow_formula) {
    ts_scenario *sc = small_scenario("2");
    ts_results *r = run(sc, 2);
    cr_assert_eq(sc->base.years.spinup, 20);
    for (size_t y = 0; y < r->nyear; y++) {
        for (size_t k = 0; k < r->nrep; k++) {
#define M(id) ts_results_get(r, k, y, TS_M_##id)
            cr_expect_float_eq(M(STOCK_US_TOTAL), M(STOCK_US_STUDENT) + M(STOCK_US_EARLY) +
                               M(STOCK_US_SENIOR), 1e-6);
            cr_expect_float_eq(M(STOCK_US_ACADEMIA) + M(STOCK_US_INDUSTRY),
                               M(STOCK_US_EARLY) + M(STOCK_US_SENIOR), 1e-6);
            cr_expect_leq(M(FLOWS_GRADUATES_STAY_US), M(FLOWS_GRADUATES_US));
            cr_expect_leq(M(FLOWS_US_TO_CN_ACADEMIC), M(FLOWS_US_TO_CN));
            cr_expect_leq(M(FLOWS_FORCED_ACADEMIC), M(FLOWS_US_TO_CN_ACADEMIC));
            double want = (double)llround(3000.0 * pow(1.02, (double)y) * 0.95 * 0.02) / 0.02;
            cr_expect_float_eq(M(INFLOW_US_STUDENTS), want, 1e-9, "year %zu", y);
            double want_cn = (double)llround(16000.0 * pow(1.06, (double)y) * 0.02) / 0.02;
            cr_expect_float_eq(M(INFLOW_CN_STUDENTS), want_cn, 1e-9, "year %zu", y);
            cr_expect(M(SURVEY_FEEL_UNSAFE) >= 0.0 && M(SURVEY_FEEL_UNSAFE) <= 1.0);
            cr_expect_not(isnan(M(COHORT_STAY_RATE_5Y)), "stay rate defined in year %zu", y);
            cr_expect_gt(M(FLOWS_GRADUATES_US), 0.0, "graduates in year %zu", y);
#undef M
        }
    }
    ts_results_free(r);
    ts_scenario_free(sc);
}

/* Without a spin-up (years.spinup 0) recording starts with the start
 * population of MODEL 2b: students have at most phd_years - 1 years in
 * stage, so nobody graduates in the first year, and the first US cohort
 * (graduated in year 1) reaches its 5-year stay rate in year 6. */
Test(sim, no_spinup_starts_with_the_start_population) {
    ts_scenario *sc = small_scenario("2");
    ts_error err;
    cr_assert_eq(ts_scenario_set(sc, "years.spinup", "0", "test", &err), TS_OK);
    cr_assert_eq(ts_scenario_set(sc, "years.end", "2022", "test", &err), TS_OK);
    ts_results *r = run(sc, 2);
    for (size_t y = 0; y < r->nyear; y++) {
        for (size_t k = 0; k < r->nrep; k++) {
#define M(id) ts_results_get(r, k, y, TS_M_##id)
            cr_expect_eq(isnan(M(COHORT_STAY_RATE_5Y)), y < 6, "stay rate from year 6");
            cr_expect_eq(M(FLOWS_GRADUATES_US) == 0.0, y == 0);
#undef M
        }
    }
    ts_results_free(r);
    ts_scenario_free(sc);
}

/* Stocks account for the spin-up (MODEL 2, 2b, 4 step 2). Without attrition
 * nobody leaves research, so the agents alive at the end of the first
 * recorded year are the start population (round(count * f) per location
 * and stage, set up years.spinup years before years.start) plus every
 * year's inflow from years.start - spinup to years.start, with the growth
 * exponent t - years.start negative in the spin-up; and from then on each
 * year adds exactly its inflow, while the US stock changes by its inflow
 * and its net moves. Integers, divided by f: tolerance 1e-6. */
Test(sim, stocks_account_for_spinup_inflow_and_moves) {
    ts_scenario *sc = small_scenario("2");
    ts_error err;
    const char *zero[] = {"career.attrition.student", "career.attrition.early",
                          "career.attrition.senior"};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(ts_scenario_set(sc, zero[i], "0", "test", &err), TS_OK);
    cr_assert_eq(ts_scenario_set(sc, "years.spinup", "12", "test", &err), TS_OK);
    cr_assert_eq(ts_scenario_set(sc, "years.end", "2020", "test", &err), TS_OK);
    ts_results *r = run(sc, 2);
    const double f = 0.02;
    /* 8500, 10500, 9500 in the US and 20500, 21500, 14500 in China, times f */
    long long agents = 170 + 210 + 190 + 410 + 430 + 290;
    for (int k = -12; k <= 0; k++)
        agents += llround(3000.0 * pow(1.02, k) * 0.95 * f) + llround(16000.0 * pow(1.06, k) * f);
    for (size_t k = 0; k < r->nrep; k++) {
#define M(y, id) ts_results_get(r, k, y, TS_M_##id)
        cr_expect_float_eq(M(0, STOCK_US_TOTAL) + M(0, STOCK_CN_TOTAL), (double)agents / f, 1e-6,
                           "replication %zu", k);
        for (size_t y = 1; y < r->nyear; y++) {
            cr_expect_float_eq(M(y, STOCK_US_TOTAL) + M(y, STOCK_CN_TOTAL),
                               M(y - 1, STOCK_US_TOTAL) + M(y - 1, STOCK_CN_TOTAL) +
                                   M(y, INFLOW_US_STUDENTS) + M(y, INFLOW_CN_STUDENTS),
                               1e-6);
            cr_expect_float_eq(M(y, STOCK_US_TOTAL),
                               M(y - 1, STOCK_US_TOTAL) + M(y, INFLOW_US_STUDENTS) -
                                   M(y, FLOWS_US_TO_CN) + M(y, FLOWS_CN_TO_US),
                               1e-6, "US balance, year %zu", y);
        }
#undef M
    }
    ts_results_free(r);
    ts_scenario_free(sc);
}

/* Scale check (make check-long): the full baseline population, one
 * replication split over 1 and 2 threads, gives identical bits. */
Test(sim, full_scale_identical_for_thread_counts) {
    if (!getenv("TALENTSIM_LONG"))
        cr_skip_test("long test: run with make check-long");
    ts_error err;
    ts_scenario *sc = ts_scenario_alloc("full");
    cr_assert_eq(ts_scenario_set(sc, "replications", "4", "test", &err), TS_OK);
    ts_results *a = run(sc, 1), *b = run(sc, 2);
    expect_identical(a, b);
    cr_expect_gt(a->agent_years, 3e7);
    ts_results_free(a);
    ts_results_free(b);
    ts_scenario_free(sc);
}
