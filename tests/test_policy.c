/* The policy timeline (MODEL.md section 3): P_t is the base with every
 * policy active in t applied in list order, later entries winning. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "talentsim/scenario.h"

/* Adds {name, from, to (or open when to < 0), key: value}. */
static void add(ts_scenario *sc, const char *name, int64_t from, int64_t to,
                const char *key, double value) {
    ts_setting s = {ts_param_find(key), value};
    ts_policy pol = {.name = (char *)name, .from = from, .to = to < 0 ? 0 : to,
                     .to_open = to < 0, .set = &s, .nset = 1};
    ts_error err;
    ts_error_clear(&err);
    cr_assert_not_null(s.param, "%s", key);
    cr_assert_eq(ts_scenario_add_policy(sc, &pol, &err), TS_OK, "%s", err.msg);
}

static double level_at(const ts_scenario *sc, int64_t year) {
    ts_params p;
    ts_scenario_params_at(sc, year, &p);
    return p.suspicion.level;
}

/* The baseline history of MODEL.md section 9. */
static ts_scenario *baseline(void) {
    ts_scenario *sc = ts_scenario_alloc("baseline");
    cr_assert_not_null(sc);
    add(sc, "china_initiative", 2018, 2021, "suspicion.level", 0.55);
    add(sc, "covid_travel", 2020, 2022, "visa.student_approval", 0.5);
    add(sc, "covid_travel_collab", 2020, 2022, "collaboration.openness", 0.6);
    add(sc, "initiative_renamed", 2022, -1, "suspicion.level", 0.45);
    return sc;
}

Test(policy_timeline, before_inside_after) {
    ts_scenario *sc = baseline();
    ts_params p;
    cr_assert_eq(level_at(sc, 2015), 0.15);
    cr_assert_eq(level_at(sc, 2017), 0.15);
    cr_assert_eq(level_at(sc, 2018), 0.55, "from is inclusive");
    cr_assert_eq(level_at(sc, 2021), 0.55, "to is inclusive");
    cr_assert_eq(level_at(sc, 2022), 0.45);
    ts_scenario_params_at(sc, 2019, &p);
    cr_assert_eq(p.visa.student_approval, 0.95);
    cr_assert_eq(p.collaboration.openness, 1.0);
    ts_scenario_params_at(sc, 2020, &p);
    cr_assert_eq(p.visa.student_approval, 0.5);
    cr_assert_eq(p.collaboration.openness, 0.6);
    cr_assert_eq(p.suspicion.level, 0.55);
    ts_scenario_params_at(sc, 2023, &p);
    cr_assert_eq(p.visa.student_approval, 0.95);
    cr_assert_eq(p.collaboration.openness, 1.0);
    cr_assert_eq(sc->base.suspicion.level, 0.15, "base is never modified");
    ts_scenario_free(sc);
}

Test(policy_timeline, later_policies_win) {
    ts_scenario *sc = ts_scenario_alloc("x");
    add(sc, "long", 2018, 2025, "suspicion.level", 0.55);
    add(sc, "short", 2020, 2021, "suspicion.level", 0.3);
    cr_assert_eq(level_at(sc, 2019), 0.55);
    cr_assert_eq(level_at(sc, 2020), 0.3);
    cr_assert_eq(level_at(sc, 2021), 0.3);
    cr_assert_eq(level_at(sc, 2022), 0.55);
    add(sc, "last", 2015, 2035, "suspicion.level", 0.05);
    cr_assert_eq(level_at(sc, 2020), 0.05, "list order, not start year");
    ts_scenario_free(sc);
}

Test(policy_timeline, open_end_runs_to_years_end) {
    ts_scenario *sc = ts_scenario_alloc("x");
    ts_error err;
    add(sc, "forever", 2030, -1, "funding.federal_ban", TS_BAN_ALL);
    cr_assert_eq(sc->policies[0].to, 2035);
    ts_params p;
    ts_scenario_params_at(sc, 2035, &p);
    cr_assert_eq(p.funding.federal_ban, TS_BAN_ALL);
    ts_scenario_params_at(sc, 2029, &p);
    cr_assert_eq(p.funding.federal_ban, TS_BAN_NONE);
    ts_error_clear(&err);
    cr_assert_eq(ts_scenario_set(sc, "years.end", "2050", "--set", &err), TS_OK);
    cr_assert_eq(sc->policies[0].to, 2050, "open end follows years.end");
    ts_scenario_params_at(sc, 2050, &p);
    cr_assert_eq(p.funding.federal_ban, TS_BAN_ALL);
    cr_assert_eq(ts_scenario_validate(sc, &err), TS_OK, "%s", err.msg);
    ts_scenario_free(sc);
}

Test(policy_timeline, copy_keeps_timeline) {
    ts_scenario *sc = baseline();
    ts_scenario *c = ts_scenario_copy(sc);
    ts_scenario_free(sc);
    cr_assert_not_null(c);
    cr_assert_eq(c->npolicies, 4);
    cr_assert_eq(level_at(c, 2019), 0.55);
    cr_assert_eq(level_at(c, 2030), 0.45);
    ts_scenario_free(c);
}

Test(policy_timeline, several_settings_in_one_policy) {
    ts_scenario *sc = ts_scenario_alloc("x");
    ts_setting s[2] = {{ts_param_find("suspicion.level"), 0.0},
                       {ts_param_find("collaboration.openness"), 1.0}};
    ts_policy pol = {.name = "deescalation", .from = 2025, .to_open = 1,
                     .set = s, .nset = 2};
    ts_error err;
    sc->base.collaboration.openness = 0.5;
    cr_assert_eq(ts_scenario_add_policy(sc, &pol, &err), TS_OK);
    ts_params p;
    ts_scenario_params_at(sc, 2024, &p);
    cr_assert_eq(p.collaboration.openness, 0.5);
    ts_scenario_params_at(sc, 2025, &p);
    cr_assert_eq(p.collaboration.openness, 1.0);
    cr_assert_eq(p.suspicion.level, 0.0);
    ts_scenario_free(sc);
}
