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

Test(sim, accounting_identities_and_inflow_formula) {
    ts_scenario *sc = small_scenario("2");
    ts_results *r = run(sc, 2);
    const ts_params *p = &sc->base;
    for (size_t y = 0; y < r->nyear; y++) {
        for (size_t k = 0; k < r->nrep; k++) {
#define M(id) ts_results_get(r, k, y, TS_M_##id)
            cr_expect_float_eq(M(STOCK_US_TOTAL), M(STOCK_US_STUDENT) + M(STOCK_US_EARLY) +
                               M(STOCK_US_SENIOR), 1e-6);
            cr_expect_float_eq(M(STOCK_US_ACADEMIA) + M(STOCK_US_INDUSTRY),
                               M(STOCK_US_EARLY) + M(STOCK_US_SENIOR), 1e-6);
            cr_expect_leq(M(FLOWS_GRADUATES_STAY_US), M(FLOWS_GRADUATES_US));
            cr_expect_leq(M(FLOWS_US_TO_CN_ACADEMIC), M(FLOWS_US_TO_CN));
            double want = (double)llround(3000.0 * pow(1.02, (double)y) * 0.95 * 0.02) / 0.02;
            cr_expect_float_eq(M(INFLOW_US_STUDENTS), want, 1e-9, "year %zu", y);
            cr_expect(M(SURVEY_FEEL_UNSAFE) >= 0.0 && M(SURVEY_FEEL_UNSAFE) <= 1.0);
            /* Initial students graduate from the second year on (MODEL 2b). */
            cr_expect_eq(isnan(M(COHORT_STAY_RATE_5Y)), y < 6, "stay rate from year 6");
            cr_expect_eq(M(FLOWS_GRADUATES_US) == 0.0, y == 0);
#undef M
        }
    }
    (void)p;
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
