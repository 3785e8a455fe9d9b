/* Shared prefixes (ts_sim_run_many): scenarios run together give, byte for
 * byte, what each gives alone, whatever they share: the spin-up, the years
 * before a policy, or nothing (another seed, another start population). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "talentsim/scenario.h"
#include "talentsim/sim.h"

#define NSHIPPED 6
static const char *const shipped[NSHIPPED] = {
    "scenarios/baseline.yaml",        "scenarios/secure_campus.yaml",
    "scenarios/china_talent_push.yaml", "scenarios/collaboration_ban.yaml",
    "scenarios/de_escalation.yaml",   "scenarios/us_talent_drive.yaml"};

static ts_scenario *load(const char *path, const char *fraction, const char *reps) {
    ts_error err;
    ts_scenario *sc = ts_scenario_load(path, &err);
    cr_assert_not_null(sc, "%s", err.msg);
    cr_assert_eq(ts_scenario_set(sc, "sample_fraction", fraction, "test", &err), TS_OK);
    cr_assert_eq(ts_scenario_set(sc, "replications", reps, "test", &err), TS_OK);
    return sc;
}

static void expect_identical(const ts_results *a, const ts_results *b, const char *what) {
    cr_assert_eq(a->nrep, b->nrep, "%s", what);
    cr_assert_eq(a->nyear, b->nyear, "%s", what);
    size_t n = a->nrep * a->nyear * TS_NMETRICS;
    cr_expect_eq(memcmp(a->v, b->v, n * sizeof(double)), 0, "%s: results differ", what);
    cr_expect_eq(a->agent_years, b->agent_years, "%s: agent-years differ", what);
}

/* Runs sc[0..n) together and one by one at the given thread count and
 * compares. */
static void check_many(ts_scenario **sc, size_t n, int threads) {
    ts_run_opts opt = {.threads = threads};
    ts_error err;
    ts_results *together[8] = {0};
    cr_assert(n <= 8);
    cr_assert_eq(ts_sim_run_many((const ts_scenario *const *)sc, n, &opt, together, &err),
                 TS_OK, "%s", err.msg);
    for (size_t i = 0; i < n; i++) {
        ts_results *alone = NULL;
        cr_assert_eq(ts_sim_run(sc[i], &opt, &alone, &err), TS_OK, "%s", err.msg);
        expect_identical(together[i], alone, sc[i]->name);
        ts_results_free(alone);
        ts_results_free(together[i]);
    }
}

Test(prefix, baseline_and_five_policies_match_separate_runs) {
    ts_scenario *sc[NSHIPPED];
    for (int i = 0; i < NSHIPPED; i++)
        sc[i] = load(shipped[i], "0.02", "3");
    check_many(sc, NSHIPPED, 1);
    check_many(sc, NSHIPPED, 2); /* one replication at a time, agents split */
    for (int i = 0; i < NSHIPPED; i++)
        ts_scenario_free(sc[i]);
}

Test(prefix, replications_side_by_side_match_separate_runs) {
    ts_scenario *sc[3];
    for (int i = 0; i < 3; i++)
        sc[i] = load(shipped[i], "0.01", "5");
    check_many(sc, 3, 2);
    for (int i = 0; i < 3; i++)
        ts_scenario_free(sc[i]);
}

/* Scenarios that share nothing or only part: another seed (its own group),
 * fewer replications, an earlier end, another start population (parts in
 * the first year), a policy from the first recorded year, and the same
 * scenario twice. */
Test(prefix, partial_and_no_sharing_match_separate_runs) {
    ts_error err;
    ts_scenario *sc[7];
    for (int i = 0; i < 7; i++)
        sc[i] = load(i == 1 ? shipped[1] : shipped[0], "0.02", "3");
    cr_assert_eq(ts_scenario_set(sc[2], "seed", "99", "test", &err), TS_OK);
    cr_assert_eq(ts_scenario_set(sc[3], "replications", "2", "test", &err), TS_OK);
    cr_assert_eq(ts_scenario_set(sc[4], "years.end", "2025", "test", &err), TS_OK);
    cr_assert_eq(ts_scenario_set(sc[5], "population.us.senior", "30000", "test", &err), TS_OK);
    cr_assert_eq(ts_scenario_set(sc[6], "years.spinup", "10", "test", &err), TS_OK);
    check_many(sc, 7, 1);
    ts_scenario *twice[2] = {sc[1], sc[1]};
    check_many(twice, 2, 1);
    for (int i = 0; i < 7; i++)
        ts_scenario_free(sc[i]);
}

Test(prefix, interrupted_run_returns_no_results) {
    ts_scenario *sc[2] = {load(shipped[0], "0.01", "2"), load(shipped[1], "0.01", "2")};
    volatile sig_atomic_t stop = 1;
    ts_run_opts opt = {.threads = 1, .stop = &stop};
    ts_results *out[2] = {(ts_results *)1, (ts_results *)1};
    ts_error err;
    cr_expect_eq(ts_sim_run_many((const ts_scenario *const *)sc, 2, &opt, out, &err),
                 TS_ERUNTIME);
    cr_expect_null(out[0]);
    cr_expect_null(out[1]);
    ts_scenario_free(sc[0]);
    ts_scenario_free(sc[1]);
}
