/* Loading scenarios from YAML: the format, extends, --set, and every error
 * path (each must be TS_EINPUT with a position, the key and a useful
 * message). Fixture files go into a fresh temporary directory per test. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <criterion/criterion.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "talentsim/scenario.h"

typedef struct {
    char dir[64];
    char path[512]; /* last file written */
} tmpdir_t;

static void tmp_init(tmpdir_t *t) {
    snprintf(t->dir, sizeof t->dir, "/tmp/ts_scenario_XXXXXX");
    cr_assert_not_null(mkdtemp(t->dir));
}

static int rm_entry(const char *p, const struct stat *st, int flag,
                    struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static void tmp_done(tmpdir_t *t) {
    nftw(t->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Writes text to dir/name (creating one level of subdirectory). */
static const char *tmp_write(tmpdir_t *t, const char *name, const char *text) {
    const char *slash = strchr(name, '/');
    if (slash) {
        snprintf(t->path, sizeof t->path, "%s/%.*s", t->dir,
                 (int)(slash - name), name);
        mkdir(t->path, 0700);
    }
    snprintf(t->path, sizeof t->path, "%s/%s", t->dir, name);
    FILE *f = fopen(t->path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return t->path;
}

/* Loads text as a scenario file; returns the error, asserting failure. */
static ts_error load_fail(const char *text) {
    tmpdir_t t;
    ts_error err;
    tmp_init(&t);
    ts_error_clear(&err);
    ts_scenario *sc = ts_scenario_load(tmp_write(&t, "s.yaml", text), &err);
    tmp_done(&t);
    cr_assert_null(sc, "loaded although invalid:\n%s", text);
    cr_assert_eq(err.status, TS_EINPUT, "%s", err.msg);
    cr_assert_gt(err.line, 0, "no position for: %s", err.msg);
    cr_assert(strstr(err.file, "s.yaml"), "file %s", err.file);
    return err;
}

static ts_scenario *load_ok(tmpdir_t *t, const char *name, const char *text) {
    ts_error err;
    ts_error_clear(&err);
    ts_scenario *sc = ts_scenario_load(tmp_write(t, name, text), &err);
    cr_assert_not_null(sc, "%s:%d:%d: %s", err.file, err.line, err.col,
                       err.msg);
    return sc;
}

#define ASSERT_MSG_HAS(err, s) \
    cr_assert(strstr((err).msg, (s)), "message '%s' lacks '%s'", (err).msg, (s))

/* ---- format ------------------------------------------------------------- */

Test(scenario_format, nested_and_dotted_keys) {
    tmpdir_t t;
    tmp_init(&t);
    ts_scenario *sc = load_ok(&t, "my_case.yaml",
        "description: >-\n  two\n  lines\n"
        "seed: 7\n"
        "years: {start: 2016, end: 2030, spinup: 3}\n"
        "population:\n  us: {students: 100, early: 50}\n  cn.senior: 9\n"
        "visa.work_approval: 0.8\n"
        "funding: {federal_ban: noncitizens}\n"
        "utility.asc_cn: -1.5\n"
        "policies: []\n");
    cr_assert_str_eq(sc->name, "my_case");
    cr_assert_str_eq(sc->description, "two lines");
    cr_assert(strstr(sc->path, "my_case.yaml"));
    cr_assert_eq(sc->base.seed, 7);
    cr_assert_eq(sc->base.years.start, 2016);
    cr_assert_eq(sc->base.years.end, 2030);
    cr_assert_eq(sc->base.years.spinup, 3);
    cr_assert_eq(sc->base.population.us.students, 100);
    cr_assert_eq(sc->base.population.us.early, 50);
    cr_assert_eq(sc->base.population.us.senior, 9500, "unset: the v2 default");
    cr_assert_eq(sc->base.population.cn.senior, 9);
    cr_assert_eq(sc->base.visa.work_approval, 0.8);
    cr_assert_eq(sc->base.funding.federal_ban, TS_BAN_NONCITIZENS);
    cr_assert_eq(sc->base.utility.asc_cn, -1.5);
    cr_assert_eq(sc->npolicies, 0);
    cr_assert_eq(sc->ntargets, 0);
    ts_scenario_free(sc);
    tmp_done(&t);
}

Test(scenario_format, policies_and_targets) {
    tmpdir_t t;
    tmp_init(&t);
    ts_scenario *sc = load_ok(&t, "b.yml",
        "name: baseline\n"
        "policies:\n"
        "  - name: china_initiative\n    from: 2018\n    to: 2021\n"
        "    set:\n      suspicion.level: 0.55\n"
        "  - name: covid_travel\n    from: 2020\n    to: 2022\n"
        "    set: {visa: {student_approval: 0.5}, collaboration.openness: 0.6}\n"
        "  - {name: renamed, from: 2022, set: {suspicion: {level: 0.45}}}\n"
        "targets:\n"
        "  - {metric: survey.feel_unsafe, year: 2021, observed: 0.72, n: 1300,"
        " source: \"AASF survey (seed 000)\"}\n"
        "  - {metric: flows.us_to_cn_academic, year: 2017, observed: 175,"
        " n: \"-\", source: AASF}\n"
        "  - {metric: flows.us_to_cn_academic, year: 2021, observed: 298,"
        " source: AASF}\n");
    cr_assert_str_eq(sc->name, "baseline");
    cr_assert_eq(sc->npolicies, 3);
    cr_assert_str_eq(sc->policies[0].name, "china_initiative");
    cr_assert_eq(sc->policies[0].from, 2018);
    cr_assert_eq(sc->policies[0].to, 2021);
    cr_assert_eq(sc->policies[0].to_open, 0);
    cr_assert_eq(sc->policies[0].nset, 1);
    cr_assert_str_eq(sc->policies[0].set[0].param->key, "suspicion.level");
    cr_assert_eq(sc->policies[0].set[0].value, 0.55);
    cr_assert_eq(sc->policies[1].nset, 2);
    cr_assert_str_eq(sc->policies[1].set[0].param->key,
                     "visa.student_approval");
    cr_assert_eq(sc->policies[2].to_open, 1);
    cr_assert_eq(sc->policies[2].to, 2035);
    cr_assert_eq(sc->ntargets, 3);
    cr_assert_str_eq(sc->targets[0].metric, "survey.feel_unsafe");
    cr_assert_eq(sc->targets[0].year, 2021);
    cr_assert_eq(sc->targets[0].observed, 0.72);
    cr_assert_eq(sc->targets[0].n, 1300);
    cr_assert_str_eq(sc->targets[0].source, "AASF survey (seed 000)");
    cr_assert(isnan(sc->targets[1].n));
    cr_assert(isnan(sc->targets[2].n));
    ts_scenario *c = ts_scenario_copy(sc);
    cr_assert_not_null(c);
    ts_scenario_free(sc);
    cr_assert_str_eq(c->policies[1].name, "covid_travel");
    cr_assert_str_eq(c->targets[0].source, "AASF survey (seed 000)");
    cr_assert_eq(c->policies[1].set[1].value, 0.6);
    ts_scenario_free(c);
    ts_scenario_free(NULL);
    tmp_done(&t);
}

/* ---- file-level errors ---------------------------------------------------- */

Test(scenario_errors, empty_file) {
    ts_error err = load_fail("");
    ASSERT_MSG_HAS(err, "empty");
    err = load_fail("# only a comment\n");
    ASSERT_MSG_HAS(err, "empty");
}

Test(scenario_errors, not_a_mapping) {
    ts_error err = load_fail("- 1\n- 2\n");
    ASSERT_MSG_HAS(err, "mapping");
    err = load_fail("just text\n");
    ASSERT_MSG_HAS(err, "mapping");
}

Test(scenario_errors, yaml_syntax_position) {
    ts_error err = load_fail("seed: 1\nvisa: {work_approval: 0.5\n");
    ASSERT_MSG_HAS(err, "invalid YAML");
    err = load_fail("seed: 1\nyears: a: b\n");
    cr_assert_eq(err.line, 2);
    cr_assert_eq(err.col, 9);
    ASSERT_MSG_HAS(err, "invalid YAML: mapping values are not allowed");
}

Test(scenario_errors, two_documents_and_aliases) {
    ts_error err = load_fail("seed: 1\n---\nseed: 2\n");
    ASSERT_MSG_HAS(err, "one YAML document");
    err = load_fail("a: &x {level: 0.2}\nsuspicion: *x\n");
    ASSERT_MSG_HAS(err, "aliases");
}

Test(scenario_errors, missing_top_file) {
    ts_error err;
    ts_error_clear(&err);
    cr_assert_null(ts_scenario_load("/nonexistent/dir/none.yaml", &err));
    cr_assert_eq(err.status, TS_EINPUT);
    cr_assert_str_eq(err.file, "/nonexistent/dir/none.yaml");
    cr_assert_eq(err.line, 0);
    cr_assert_str_eq(err.msg, "cannot open: No such file or directory");
    char buf[1024];
    ts_error_format(&err, buf, sizeof buf);
    cr_assert_str_eq(buf, "/nonexistent/dir/none.yaml: error: cannot open: "
                          "No such file or directory");
}

Test(scenario_errors, directory_is_not_a_file) {
    ts_error err;
    ts_error_clear(&err);
    cr_assert_null(ts_scenario_load("/tmp", &err));
    cr_assert_eq(err.status, TS_EINPUT);
}

/* ---- keys and values -------------------------------------------------------- */

Test(scenario_errors, unknown_key_did_you_mean) {
    ts_error err = load_fail("seed: 1\nvisa:\n  work_aproval: 0.5\n");
    cr_assert_eq(err.line, 3);
    cr_assert_eq(err.col, 3);
    cr_assert_str_eq(err.key, "visa.work_aproval");
    cr_assert_str_eq(err.msg, "unknown key 'visa.work_aproval'; did you mean "
                              "'visa.work_approval'?");
    err = load_fail("viza: {work_approval: 0.5}\n");
    ASSERT_MSG_HAS(err, "did you mean 'visa.work_approval'?");
    err = load_fail("sead: 3\n");
    ASSERT_MSG_HAS(err, "did you mean 'seed'?");
    err = load_fail("zzzzzzzzzzzzzz: 3\n");
    cr_assert_str_eq(err.msg, "unknown key 'zzzzzzzzzzzzzz'");
    err = load_fail("nothing: {}\n");
    ASSERT_MSG_HAS(err, "unknown key 'nothing'");
}

Test(scenario_errors, group_given_a_value) {
    ts_error err = load_fail("visa: 0.5\n");
    ASSERT_MSG_HAS(err, "group of parameters");
    cr_assert_str_eq(err.key, "visa");
}

Test(scenario_errors, wrong_type) {
    ts_error err = load_fail("visa.work_approval: {a: 1}\n");
    cr_assert_str_eq(err.msg, "expected a value for visa.work_approval (real "
                              "in [0, 1]), got a mapping");
    cr_assert_eq(err.line, 1);
    cr_assert_eq(err.col, 21);
    err = load_fail("visa:\n  work_approval: abc\n");
    cr_assert_str_eq(err.msg, "expected a number for visa.work_approval (real "
                              "in [0, 1]), got 'abc'");
    cr_assert_eq(err.line, 2);
    cr_assert_eq(err.col, 18);
    err = load_fail("replications: [1, 2]\n");
    ASSERT_MSG_HAS(err, "got a list");
    err = load_fail("replications: 2.5\n");
    ASSERT_MSG_HAS(err, "expected an integer for replications");
    err = load_fail("funding.federal_ban: some\n");
    ASSERT_MSG_HAS(err, "one of none, noncitizens, all");
    err = load_fail("visa.work_approval:\n");
    ASSERT_MSG_HAS(err, "got an empty value");
    err = load_fail("name: [a]\n");
    ASSERT_MSG_HAS(err, "name must be a non-empty string");
}

Test(scenario_errors, out_of_range) {
    struct { const char *yaml, *key, *range; } cases[] = {
        {"visa.work_approval: 1.5\n", "visa.work_approval", "allowed: [0, 1]"},
        {"career.attrition: {early: -0.1}\n", "career.attrition.early",
         "allowed: [0, 1]"},
        {"population.us.early: -1\n", "population.us.early",
         "allowed: integer in [0, 100000000]"},
        {"replications: 0\n", "replications", "allowed: integer in [1, 100000]"},
        {"replications: 100001\n", "replications", "[1, 100000]"},
        {"sample_fraction: 0\n", "sample_fraction", "allowed: (0, 1]"},
        {"sample_fraction: 1.5\n", "sample_fraction", "allowed: (0, 1]"},
        {"survey.window: 9\n", "survey.window", "integer in [1, 8]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ts_error err = load_fail(cases[i].yaml);
        cr_assert_str_eq(err.key, cases[i].key);
        ASSERT_MSG_HAS(err, cases[i].key);
        ASSERT_MSG_HAS(err, "is out of range");
        ASSERT_MSG_HAS(err, cases[i].range);
    }
}

Test(scenario_errors, duplicate_keys) {
    ts_error err = load_fail("seed: 1\nseed: 2\n");
    ASSERT_MSG_HAS(err, "duplicate key 'seed' (first at line 1)");
    cr_assert_eq(err.line, 2);
    err = load_fail("visa: {work_approval: 0.5}\nvisa.work_approval: 0.6\n");
    ASSERT_MSG_HAS(err, "set twice");
    err = load_fail("policies:\n  - {name: a, from: 2016, set: "
                    "{suspicion.level: 0.2, suspicion: {level: 0.3}}}\n");
    ASSERT_MSG_HAS(err, "sets suspicion.level twice");
}

Test(scenario_errors, years_order) {
    ts_error err = load_fail("seed: 1\nyears:\n  start: 2020\n  end: 2019\n");
    cr_assert_str_eq(err.key, "years.end");
    cr_assert_eq(err.line, 4);
    cr_assert_eq(err.col, 8);
    ASSERT_MSG_HAS(err, "years.end = 2019 is before years.start = 2020");
    err = load_fail("years.start: 2040\n");
    cr_assert_eq(err.line, 1, "points at years.start when end is a default");
}

/* ---- policies ----------------------------------------------------------------- */

Test(scenario_policy_errors, years) {
    ts_error err = load_fail(
        "policies:\n  - name: backwards\n    from: 2021\n    to: 2018\n"
        "    set: {suspicion.level: 0.5}\n");
    ASSERT_MSG_HAS(err, "policy 'backwards': from = 2021 is after to = 2018");
    cr_assert_eq(err.line, 4);
    err = load_fail("policies:\n  - {name: early, from: 2010, set: {}}\n");
    ASSERT_MSG_HAS(err, "policy 'early': from = 2010 is outside the simulated "
                        "years [2015, 2035]");
    err = load_fail("years.end: 2030\n"
                    "policies:\n  - {name: late, from: 2020, to: 2031, set: {}}\n");
    ASSERT_MSG_HAS(err, "policy 'late': to = 2031 is outside");
    err = load_fail("policies:\n  - {name: y, from: soon, set: {}}\n");
    ASSERT_MSG_HAS(err, "from must be a year");
}

Test(scenario_policy_errors, keys) {
    ts_error err = load_fail(
        "policies:\n  - name: p\n    from: 2020\n    set:\n"
        "      suspicion.levle: 0.5\n");
    ASSERT_MSG_HAS(err, "unknown key 'suspicion.levle' in policy 'p'; did you "
                        "mean 'suspicion.level'?");
    cr_assert_eq(err.line, 5);
    cr_assert_eq(err.col, 7);
    err = load_fail("policies:\n  - {name: p, from: 2020, set: {seed: 3}}\n");
    ASSERT_MSG_HAS(err, "policy 'p' may not set seed (fixed for a run)");
    err = load_fail("policies:\n  - {name: p, from: 2020, set: "
                    "{years: {end: 2030}}}\n");
    ASSERT_MSG_HAS(err, "may not set years.end");
    err = load_fail("policies:\n  - {name: p, from: 2020, set: "
                    "{visa.work_approval: 2}}\n");
    ASSERT_MSG_HAS(err, "visa.work_approval = 2 is out of range; allowed: [0, 1]");
}

Test(scenario_policy_errors, fields) {
    ts_error err = load_fail("policies:\n  - {from: 2020, set: {}}\n");
    ASSERT_MSG_HAS(err, "policy #1 needs a name");
    err = load_fail("policies:\n  - {name: p, set: {}}\n");
    ASSERT_MSG_HAS(err, "policy 'p' has no 'from' year");
    err = load_fail("policies:\n  - {name: p, from: 2020}\n");
    ASSERT_MSG_HAS(err, "policy 'p' needs a 'set' mapping");
    err = load_fail("policies:\n  - {name: p, from: 2020, set: 3}\n");
    ASSERT_MSG_HAS(err, "needs a 'set' mapping");
    err = load_fail("policies:\n  - {name: p, from: 2020, until: 2021, set: {}}\n");
    ASSERT_MSG_HAS(err, "unknown field 'until' in policy #1 (allowed: name, "
                        "from, to, set)");
    err = load_fail("policies: {name: p}\n");
    ASSERT_MSG_HAS(err, "policies must be a list");
    err = load_fail("policies:\n  - 3\n");
    ASSERT_MSG_HAS(err, "policy #1 must be a mapping");
}

/* ---- targets ------------------------------------------------------------------- */

Test(scenario_target_errors, metric_and_fields) {
    ts_error err = load_fail(
        "targets:\n  - {metric: survey.feel_unsafee, year: 2021, observed: 0.7,"
        " source: s}\n");
    ASSERT_MSG_HAS(err, "target #1: unknown metric 'survey.feel_unsafee'; did "
                        "you mean 'survey.feel_unsafe'?");
    err = load_fail("targets:\n  - {metric: survey.feel_unsafe, observed: 0.7,"
                    " source: s}\n");
    ASSERT_MSG_HAS(err, "target #1 has no 'year'");
    err = load_fail("targets:\n  - {metric: fear.us_mean, year: 2021, source: s}\n");
    ASSERT_MSG_HAS(err, "has no 'observed'");
    err = load_fail("targets:\n  - {year: 2021, observed: 1, source: s}\n");
    ASSERT_MSG_HAS(err, "has no 'metric'");
    err = load_fail("targets:\n  - {metric: fear.us_mean, year: 2021, "
                    "observed: 1}\n");
    ASSERT_MSG_HAS(err, "has no 'source'");
    err = load_fail("targets:\n  - {metric: fear.us_mean, year: 2021, "
                    "observed: x, source: s}\n");
    ASSERT_MSG_HAS(err, "observed must be a finite number");
    err = load_fail("targets:\n  - {metric: fear.us_mean, year: 2021, "
                    "observed: 1, n: 0, source: s}\n");
    ASSERT_MSG_HAS(err, "n must be a positive number or '-'");
    err = load_fail("targets:\n  - {metric: fear.us_mean, year: 2021, "
                    "observed: 1, sd: 3, source: s}\n");
    ASSERT_MSG_HAS(err, "unknown field 'sd' in target #1");
}

/* ---- extends ------------------------------------------------------------------ */

static const char parent_yaml[] =
    "name: parent_name\n"
    "description: the parent\n"
    "seed: 11\n"
    "visa: {work_approval: 0.7, green_card_rate: 0.2}\n"
    "policies:\n  - {name: from_parent, from: 2018, to: 2020, "
    "set: {suspicion.level: 0.5}}\n"
    "targets:\n  - {metric: fear.us_mean, year: 2020, observed: 0.3, source: p}\n";

Test(scenario_extends, inherit_override_append) {
    tmpdir_t t;
    tmp_init(&t);
    tmp_write(&t, "base/parent.yaml", parent_yaml);
    ts_scenario *sc = load_ok(&t, "cases/child.yaml",
        "extends: ../base/parent.yaml\n"
        "visa.work_approval: 0.4\n"
        "policies:\n  - {name: from_child, from: 2019, "
        "set: {suspicion.level: 0.6}}\n");
    cr_assert_str_eq(sc->name, "child", "name is not inherited");
    cr_assert_str_eq(sc->description, "", "description is not inherited");
    cr_assert_eq(sc->base.seed, 11);
    cr_assert_eq(sc->base.visa.work_approval, 0.4);
    cr_assert_eq(sc->base.visa.green_card_rate, 0.2);
    cr_assert_eq(sc->npolicies, 2);
    cr_assert_str_eq(sc->policies[0].name, "from_parent");
    cr_assert_str_eq(sc->policies[1].name, "from_child");
    cr_assert_eq(sc->ntargets, 1, "targets inherited when the child has none");
    cr_assert_str_eq(sc->targets[0].source, "p");
    ts_scenario_free(sc);
    tmp_done(&t);
}

Test(scenario_extends, targets_replace_and_chain) {
    tmpdir_t t;
    tmp_init(&t);
    tmp_write(&t, "parent.yaml", parent_yaml);
    tmp_write(&t, "mid.yaml", "extends: parent.yaml\nseed: 12\n"
                              "years.end: 2030\n");
    ts_scenario *sc = load_ok(&t, "leaf.yaml",
        "extends: mid.yaml\n"
        "targets:\n  - {metric: flows.cn_to_us, year: 2021, observed: 5, "
        "n: 10, source: c}\n"
        "policies:\n  - {name: open, from: 2025, set: {suspicion.level: 0}}\n");
    cr_assert_eq(sc->base.seed, 12);
    cr_assert_eq(sc->base.visa.work_approval, 0.7);
    cr_assert_eq(sc->ntargets, 1);
    cr_assert_str_eq(sc->targets[0].metric, "flows.cn_to_us");
    cr_assert_eq(sc->policies[1].to, 2030, "open policy ends at years.end");
    ts_scenario_free(sc);
    sc = load_ok(&t, "none.yaml", "extends: parent.yaml\ntargets: []\n");
    cr_assert_eq(sc->ntargets, 0);
    ts_scenario_free(sc);
    tmp_done(&t);
}

Test(scenario_extends, parent_years_checked_after_override) {
    tmpdir_t t;
    tmp_init(&t);
    tmp_write(&t, "parent.yaml", parent_yaml);
    ts_error err;
    ts_error_clear(&err);
    cr_assert_null(ts_scenario_load(
        tmp_write(&t, "child.yaml", "extends: parent.yaml\nyears.start: 2019\n"),
        &err));
    ASSERT_MSG_HAS(err, "policy 'from_parent': from = 2018 is outside");
    cr_assert(strstr(err.file, "parent.yaml"), "%s", err.file);
    cr_assert_eq(err.line, 6);
    tmp_done(&t);
}

Test(scenario_extends, cycle) {
    tmpdir_t t;
    tmp_init(&t);
    tmp_write(&t, "a.yaml", "extends: b.yaml\nseed: 1\n");
    tmp_write(&t, "b.yaml", "seed: 2\nextends: a.yaml\n");
    ts_error err;
    ts_error_clear(&err);
    char path[600];
    snprintf(path, sizeof path, "%s/a.yaml", t.dir);
    cr_assert_null(ts_scenario_load(path, &err));
    cr_assert_eq(err.status, TS_EINPUT);
    ASSERT_MSG_HAS(err, "extends cycle: ");
    ASSERT_MSG_HAS(err, "a.yaml -> ");
    ASSERT_MSG_HAS(err, "b.yaml -> ");
    cr_assert(strstr(err.file, "b.yaml"));
    cr_assert_eq(err.line, 2);
    cr_assert_eq(err.col, 10);
    tmp_write(&t, "self.yaml", "extends: self.yaml\n");
    cr_assert_null(ts_scenario_load(t.path, &err));
    ASSERT_MSG_HAS(err, "extends cycle");
    tmp_done(&t);
}

Test(scenario_extends, missing_parent) {
    ts_error err = load_fail("seed: 1\nextends: nowhere.yaml\n");
    cr_assert_str_eq(err.key, "extends");
    cr_assert_eq(err.line, 2);
    ASSERT_MSG_HAS(err, "cannot open extends file");
    ASSERT_MSG_HAS(err, "nowhere.yaml': No such file or directory");
}

Test(scenario_extends, parent_error_points_into_parent) {
    tmpdir_t t;
    tmp_init(&t);
    tmp_write(&t, "parent.yaml", "seed: 1\nvisa.work_approval: 7\n");
    ts_error err;
    ts_error_clear(&err);
    cr_assert_null(ts_scenario_load(
        tmp_write(&t, "child.yaml", "extends: parent.yaml\n"), &err));
    cr_assert(strstr(err.file, "parent.yaml"), "%s", err.file);
    cr_assert_eq(err.line, 2);
    tmp_done(&t);
}

/* ---- --set -------------------------------------------------------------------- */

Test(scenario_set, assignments) {
    ts_scenario *sc = ts_scenario_alloc("x");
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_scenario_set_assignment(sc, "visa.work_approval=0.25", &err),
                 TS_OK, "%s", err.msg);
    cr_assert_eq(sc->base.visa.work_approval, 0.25);
    cr_assert_eq(ts_scenario_set_assignment(sc, "funding.federal_ban = all",
                                            &err), TS_OK, "%s", err.msg);
    cr_assert_eq(sc->base.funding.federal_ban, TS_BAN_ALL);
    cr_assert_eq(ts_scenario_set(sc, "seed", "42", "cli", &err), TS_OK);
    cr_assert_eq(sc->base.seed, 42);
    ts_scenario_free(sc);
}

Test(scenario_set, errors) {
    ts_scenario *sc = ts_scenario_alloc("x");
    ts_error err;
    char buf[1024];
    const char *bad[] = {"visa.work_approval", "=0.5", "visa.work_approval=",
                         "visa.work_approvl=0.5", "visa.work_approval=2",
                         "replications=many"};
    const char *want[] = {"expected key=value", "missing key",
                          "missing value for visa.work_approval",
                          "did you mean 'visa.work_approval'?",
                          "allowed: [0, 1]", "expected an integer"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ts_error_clear(&err);
        cr_assert_eq(ts_scenario_set_assignment(sc, bad[i], &err), TS_EINPUT,
                     "%s", bad[i]);
        cr_assert_str_eq(err.file, "--set");
        ASSERT_MSG_HAS(err, want[i]);
    }
    ts_error_format(&err, buf, sizeof buf);
    cr_assert(strncmp(buf, "--set: error: ", 14) == 0, "%s", buf);
    cr_assert_eq(sc->base.visa.work_approval, 0.9, "unchanged on errors");
    ts_scenario_free(sc);
}

/* ---- programmatic API ------------------------------------------------------ */

Test(scenario_api, add_policy_and_validate) {
    ts_scenario *sc = ts_scenario_alloc(NULL);
    ts_error err;
    ts_setting s = {ts_param_find("seed"), 3};
    ts_policy pol = {.name = "bad", .from = 2020, .to = 2021, .set = &s,
                     .nset = 1};
    cr_assert_str_eq(sc->name, "");
    ts_error_clear(&err);
    cr_assert_eq(ts_scenario_add_policy(sc, &pol, &err), TS_EINPUT);
    ASSERT_MSG_HAS(err, "may not set seed");
    s.param = ts_param_find("visa.work_approval");
    s.value = 0.5;
    cr_assert_eq(ts_scenario_add_policy(sc, &pol, &err), TS_OK);
    cr_assert_eq(sc->npolicies, 1);
    cr_assert_eq(ts_scenario_validate(sc, &err), TS_OK, "%s", err.msg);
    sc->policies[0].from = 2022;
    cr_assert_eq(ts_scenario_validate(sc, &err), TS_EINPUT);
    ASSERT_MSG_HAS(err, "policy 'bad': from = 2022 is after to = 2021");
    sc->policies[0].from = 2000;
    cr_assert_eq(ts_scenario_validate(sc, &err), TS_EINPUT);
    ASSERT_MSG_HAS(err, "outside the simulated years");
    sc->policies[0].from = 2020;
    sc->base.years.end = 2016;
    cr_assert_eq(ts_scenario_validate(sc, &err), TS_EINPUT);
    ts_scenario_free(sc);
}
