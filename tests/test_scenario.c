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
#include <time.h>
#include <unistd.h>

#include "talentsim/scenario.h"
#include "talentsim/sim.h"

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

/* Writes n bytes (NULs and all) to dir/name. */
static const char *tmp_write_bytes(tmpdir_t *t, const char *name,
                                   const char *data, size_t n) {
    snprintf(t->path, sizeof t->path, "%s/%s", t->dir, name);
    FILE *f = fopen(t->path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    fclose(f);
    return t->path;
}

/* 1-based column of the first needle in text, on its line. */
static int col_of(const char *text, const char *needle) {
    const char *at = strstr(text, needle), *line = at;
    cr_assert_not_null(at, "'%s' not in the text", needle);
    while (line > text && line[-1] != '\n')
        line--;
    return (int)(at - line) + 1;
}

/* A test that used to hang or take minutes arms a watchdog: SIGALRM ends
 * its process after s seconds, which fails it without holding up the
 * suite. (Criterion's .timeout leaves a watchdog record that LeakSanitizer
 * reports in make test-san.) Disarmed with watchdog(0). */
static void watchdog(unsigned s) {
    alarm(s);
}

static double seconds_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) +
           1e-9 * (double)(t1.tv_nsec - t0->tv_nsec);
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
    ASSERT_MSG_HAS(err, "extends: cycle ");
    ASSERT_MSG_HAS(err, "a.yaml -> ");
    ASSERT_MSG_HAS(err, "b.yaml -> ");
    cr_assert(strstr(err.file, "b.yaml"));
    cr_assert_eq(err.line, 2);
    cr_assert_eq(err.col, 10);
    tmp_write(&t, "self.yaml", "extends: self.yaml\n");
    cr_assert_null(ts_scenario_load(t.path, &err));
    ASSERT_MSG_HAS(err, "extends: cycle");
    tmp_done(&t);
}

Test(scenario_extends, missing_parent) {
    ts_error err = load_fail("seed: 1\nextends: nowhere.yaml\n");
    cr_assert_str_eq(err.key, "extends");
    cr_assert_eq(err.line, 2);
    cr_assert_str_eq(err.msg, "extends: cannot open 'nowhere.yaml': No such "
                              "file or directory");
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
    cr_assert_eq(ts_scenario_validate(sc, &err), TS_EINPUT, "empty name");
    cr_assert_str_eq(err.key, "name");
    free(sc->name);
    sc->name = strdup("api");
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

/* ---- limits, enforced while reading (docs/limits.md) ---------------------- */

/* 49,000 distinct keys (98,001 nodes, inside TS_MAX_NODES): the duplicate
 * check sorts each mapping's keys, where comparing every pair took 17 s. */
Test(scenario_limits, many_distinct_keys_are_fast) {
    watchdog(30);
    enum { N = 49000 };
    char *text = malloc(N * 16 + 64), *w = text;
    cr_assert_not_null(text);
    for (size_t i = 0; i < N; i++)
        w += sprintf(w, "kk_%05zu: 1\n", i);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ts_error err = load_fail(text);
    double dt = seconds_since(&t0);
    cr_assert_str_eq(err.msg, "unknown key 'kk_00000'");
    cr_assert_lt(dt, 8.0, "%.1f s for %d distinct keys", dt, N);
    sprintf(w, "kk_00007: 2\n"); /* a duplicate after them all */
    err = load_fail(text);
    cr_assert_eq(err.line, N + 1);
    cr_assert_str_eq(err.msg, "duplicate key 'kk_00007' (first at line 8)");
    cr_assert_lt(seconds_since(&t0), 16.0);
    free(text);
    watchdog(0);
}

/* "x:" and a block list of n items: nodes 1 (root), 2 (x), 3 (the list),
 * then item j is node 3 + j, on line 1 + j, column 3. */
static char *node_list(size_t n) {
    char *text = malloc(4 * n + 8), *w = text;
    cr_assert_not_null(text);
    w += sprintf(w, "x:\n");
    for (size_t j = 0; j < n; j++)
        w += sprintf(w, "- 1\n");
    return text;
}

Test(scenario_limits, nodes) {
    char *text = node_list(TS_MAX_NODES - 3); /* exactly TS_MAX_NODES */
    ts_error err = load_fail(text);
    cr_assert_str_eq(err.msg, "unknown key 'x'");
    free(text);
    text = node_list(TS_MAX_NODES - 2);
    err = load_fail(text);
    cr_assert_eq(err.line, TS_MAX_NODES - 1);
    cr_assert_eq(err.col, 3);
    cr_assert_str_eq(err.msg, "more than 100000 YAML nodes in one file; "
                              "allowed: at most 100000 keys, values, lists "
                              "and mappings");
    free(text);
}

/* "x: " and depth '[' (closed again when close is set). */
static char *brackets(size_t depth, int close) {
    char *text = malloc(2 * depth + 8);
    cr_assert_not_null(text);
    memcpy(text, "x: ", 3);
    memset(text + 3, '[', depth);
    memset(text + 3 + depth, ']', close ? depth : 0);
    text[3 + depth + (close ? depth : 0)] = '\0';
    return text;
}

/* The depth limit stops the parser at level 65, where building the whole
 * document of 80 KB of '[' first took 23 s. */
Test(scenario_limits, nesting_stops_while_reading) {
    watchdog(30);
    char *text = brackets(80000, 0);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ts_error err = load_fail(text);
    double dt = seconds_since(&t0);
    cr_assert_str_eq(err.msg, "nesting deeper than 64 levels; allowed: at "
                              "most 64 nested lists and mappings");
    cr_assert_eq(err.line, 1);
    cr_assert_eq(err.col, 3 + 65);
    cr_assert_lt(dt, 2.0, "%.1f s for 80,000 '['", dt);
    free(text);
    text = brackets(TS_MAX_NESTING, 1); /* allowed: fails on its key */
    err = load_fail(text);
    cr_assert_str_eq(err.msg, "unknown key 'x'");
    free(text);
    text = brackets(TS_MAX_NESTING + 1, 1);
    err = load_fail(text);
    ASSERT_MSG_HAS(err, "nesting deeper than 64 levels");
    free(text);
    watchdog(0);
}

/* "seed: 1\n" and a comment line, n bytes in all. */
static char *file_of_size(size_t n) {
    char *text = malloc(n + 1);
    cr_assert_not_null(text);
    memcpy(text, "seed: 1\n", 8);
    memset(text + 8, '#', n - 9);
    text[n - 1] = '\n';
    text[n] = '\0';
    return text;
}

Test(scenario_limits, input_size) {
    tmpdir_t t;
    tmp_init(&t);
    char *text = file_of_size(TS_MAX_INPUT_BYTES);
    ts_scenario *sc = load_ok(&t, "big.yaml", text);
    cr_assert_eq(sc->base.seed, 1);
    ts_scenario_free(sc);
    free(text);
    text = file_of_size(TS_MAX_INPUT_BYTES + 1);
    ts_error err;
    ts_error_clear(&err);
    cr_assert_null(ts_scenario_load(tmp_write(&t, "big.yaml", text), &err));
    cr_assert_eq(err.status, TS_EINPUT);
    cr_assert(strstr(err.file, "big.yaml"));
    cr_assert_eq(err.line, 1);
    cr_assert_eq(err.col, 1);
    cr_assert_str_eq(err.msg, "the file has 1048577 bytes; allowed: at most "
                              "1048576 bytes (1 MiB) per scenario file");
    cr_assert_null(ts_scenario_load(
        tmp_write(&t, "child.yaml", "seed: 2\nextends: big.yaml\n"), &err));
    cr_assert(strstr(err.file, "child.yaml"), "%s", err.file);
    cr_assert_eq(err.line, 2);
    cr_assert_eq(err.col, 10);
    cr_assert_str_eq(err.key, "extends");
    cr_assert_str_eq(err.msg, "extends: 'big.yaml' has 1048577 bytes; "
                              "allowed: at most 1048576 bytes (1 MiB) per "
                              "scenario file");
    free(text);
    tmp_done(&t);
}

/* Expects loading child (which names its parent on line 1, column 10) to
 * fail there with msg. */
static void expect_extends_error(tmpdir_t *t, const char *parent,
                                 const char *msg) {
    char text[600];
    snprintf(text, sizeof text, "extends: %s\nseed: 1\n", parent);
    ts_error err;
    ts_error_clear(&err);
    cr_assert_null(ts_scenario_load(tmp_write(t, "child.yaml", text), &err));
    cr_assert_eq(err.status, TS_EINPUT);
    cr_assert(strstr(err.file, "child.yaml"), "%s: %s", err.file, err.msg);
    cr_assert_eq(err.line, 1);
    cr_assert_eq(err.col, 10);
    cr_assert_str_eq(err.key, "extends");
    cr_assert_str_eq(err.msg, msg);
}

/* A FIFO is refused by its type instead of waited on (this hung), and a
 * device or directory is reported at the `extends:` that names it. */
Test(scenario_extends, only_regular_files) {
    watchdog(20);
    tmpdir_t t;
    tmp_init(&t);
    char path[600];
    snprintf(path, sizeof path, "%s/p.fifo", t.dir);
    cr_assert_eq(mkfifo(path, 0600), 0);
    expect_extends_error(&t, "p.fifo",
                         "extends: 'p.fifo' is a FIFO, not a regular file");
    expect_extends_error(&t, "/dev/zero", "extends: '/dev/zero' is a "
                         "character device, not a regular file");
    expect_extends_error(&t, "/tmp", "extends: '/tmp' is a directory, not a "
                         "regular file");
    ts_error err;
    ts_error_clear(&err);
    cr_assert_null(ts_scenario_load(path, &err));
    cr_assert_eq(err.status, TS_EINPUT);
    cr_assert_str_eq(err.file, path);
    cr_assert_str_eq(err.msg, "a FIFO, not a regular file");
    tmp_done(&t);
    watchdog(0);
}

/* ---- reader errors and file names in messages ------------------------------- */

/* Bytes libyaml's reader refuses are reported at their line and column
 * (columns count characters), not "at byte N". */
Test(scenario_errors, reader_errors_have_line_and_column) {
#define BYTES(s) s, sizeof s - 1
    static const struct {
        const char *text;
        size_t len;
        int line, col;
        const char *msg;
    } cases[] = {
        {BYTES("seed: 1\nname: ab\xff\n"), 2, 9,
         "invalid YAML: invalid leading UTF-8 octet (0xFF)"},
        {BYTES("seed: 1\n# caf\xc3\xa9 \x01\n"), 2, 8,
         "invalid YAML: control characters are not allowed (0x1)"},
        {BYTES("seed: 1\nx: a\0b\n"), 2, 5,
         "invalid YAML: control characters are not allowed (0x0)"},
        {BYTES("a: 1\r\nb: 2\r\nc: \x1b\n"), 3, 4,
         "invalid YAML: control characters are not allowed (0x1B)"},
        {BYTES("\xef\xbb\xbfseed: 1\nname: \xc3"), 2, 7,
         "invalid YAML: incomplete UTF-8 octet sequence"},
    };
#undef BYTES
    tmpdir_t t;
    tmp_init(&t);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ts_error err;
        ts_error_clear(&err);
        cr_assert_null(ts_scenario_load(tmp_write_bytes(&t, "r.yaml",
                                        cases[i].text, cases[i].len), &err));
        cr_assert_eq(err.status, TS_EINPUT);
        cr_expect_eq(err.line, cases[i].line, "case %zu: line %d", i, err.line);
        cr_expect_eq(err.col, cases[i].col, "case %zu: col %d", i, err.col);
        cr_expect_str_eq(err.msg, cases[i].msg, "case %zu", i);
    }
    tmp_done(&t);
}

/* A file name with a newline or a Unicode line break stays on one line. */
Test(scenario_errors, file_name_with_line_breaks) {
    tmpdir_t t;
    tmp_init(&t);
    ts_error err;
    ts_error_clear(&err);
    cr_assert_null(ts_scenario_load(
        tmp_write(&t, "a\nb\xe2\x80\xa8.yaml", "sead: 1\n"), &err));
    char buf[2048], want[600];
    ts_error_format(&err, buf, sizeof buf);
    snprintf(want, sizeof want, "%s/a\\nb\\u2028.yaml:1:1: error: unknown key "
             "'sead'; did you mean 'seed'?", t.dir);
    cr_assert_str_eq(buf, want);
    tmp_done(&t);
}

/* ---- scenario names ------------------------------------------------------------ */

Test(scenario_names, rule) {
    char longest[TS_MAX_NAME_LEN + 2];
    memset(longest, 'a', TS_MAX_NAME_LEN);
    longest[TS_MAX_NAME_LEN] = '\0';
    const char *ok[] = {"a", "baseline", "v1.2_x-Y", "0", "a..b", longest};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        cr_expect(ts_scenario_name_ok(ok[i]), "'%s' refused", ok[i]);
    const char *bad[] = {NULL, "", ".", "..", ".hidden", "../../x", "a/b",
                         "a b", "caf\xc3\xa9", "a\nb", "a\\b", "~x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_not(ts_scenario_name_ok(bad[i]), "'%s' accepted", bad[i]);
    longest[TS_MAX_NAME_LEN] = 'a';
    longest[TS_MAX_NAME_LEN + 1] = '\0';
    cr_expect_not(ts_scenario_name_ok(longest), "101 characters accepted");
}

/* `name:` becomes a directory under results/: a path is refused at the
 * name's position, in a parent too. */
Test(scenario_names, name_key_checked_at_its_position) {
    ts_error err = load_fail("seed: 1\nname: \"../../x\"\n");
    cr_assert_eq(err.line, 2);
    cr_assert_eq(err.col, 7);
    cr_assert_str_eq(err.key, "name");
    cr_assert_str_eq(err.msg, "name '../../x' cannot name a results "
                              "directory; allowed: 1 to 100 characters from "
                              "A-Z a-z 0-9 . _ -, not starting with '.'");
    tmpdir_t t;
    tmp_init(&t);
    tmp_write(&t, "parent.yaml", "name: my parent\n");
    ts_error_clear(&err);
    cr_assert_null(ts_scenario_load(
        tmp_write(&t, "child.yaml", "extends: parent.yaml\nname: ok\n"), &err));
    cr_assert(strstr(err.file, "parent.yaml"), "%s", err.file);
    ASSERT_MSG_HAS(err, "name 'my parent' cannot name");
    tmp_done(&t);
}

/* Without `name:`, the file's stem names the results: "...yaml" would
 * write into results/.. */
Test(scenario_names, file_stem_checked) {
    tmpdir_t t;
    tmp_init(&t);
    ts_error err;
    ts_error_clear(&err);
    cr_assert_null(ts_scenario_load(tmp_write(&t, "...yaml", "seed: 1\n"), &err));
    cr_assert_eq(err.status, TS_EINPUT);
    cr_assert_str_eq(err.key, "name");
    ASSERT_MSG_HAS(err, "name '..' (from the file name; set name: instead) "
                        "cannot name a results directory");
    ts_scenario *sc = load_ok(&t, "...yaml", "seed: 1\nname: dots\n");
    cr_assert_str_eq(sc->name, "dots");
    ts_scenario_free(sc);
    tmp_done(&t);
}

Test(scenario_names, validate_refuses_api_names) {
    ts_scenario *sc = ts_scenario_alloc("../x");
    ts_error err;
    cr_assert_eq(ts_scenario_validate(sc, &err), TS_EINPUT);
    cr_assert_str_eq(err.key, "name");
    cr_assert_eq(err.line, 0);
    ts_scenario_free(sc);
}

/* ---- targets: years and observed values ----------------------------------------- */

/* Expects text to fail at the first needle with key and message msg. */
static void expect_fail_at(const char *text, const char *needle,
                           const char *key, const char *msg) {
    ts_error err = load_fail(text);
    const char *at = strstr(text, needle);
    int line = 1;
    for (const char *c = text; c < at; c++)
        line += *c == '\n';
    cr_assert_eq(err.line, line, "%s", err.msg);
    cr_assert_eq(err.col, col_of(text, needle), "%s", err.msg);
    cr_assert_str_eq(err.key, key);
    cr_assert_str_eq(err.msg, msg);
}

Test(scenario_target_errors, year_and_observed_ranges) {
    expect_fail_at("targets:\n  - {metric: fear.us_mean, year: 2036, "
                   "observed: 1, source: s}\n", "2036", "year",
                   "target #1 (fear.us_mean): year = 2036 is outside the "
                   "simulated years; allowed: [2015, 2035] (years.start, "
                   "years.end)");
    expect_fail_at("years.start: 2016\ntargets:\n  - {metric: fear.us_mean, "
                   "year: 2015, observed: 1, source: s}\n", "2015", "year",
                   "target #1 (fear.us_mean): year = 2015 is outside the "
                   "simulated years; allowed: [2016, 2035] (years.start, "
                   "years.end)");
    expect_fail_at("targets:\n  - {metric: fear.us_mean, year: 2020, "
                   "observed: 1, source: s}\n  - {metric: survey.feel_unsafe,"
                   " year: 2021, observed: 1.7, n: 10, source: s}\n", "1.7",
                   "observed", "target #2 (survey.feel_unsafe): observed = "
                   "1.7 is out of range; allowed: a share in [0, 1]");
    expect_fail_at("targets:\n  - {metric: survey.feel_unsafe, year: 2021, "
                   "observed: -0.1, source: s}\n", "-0.1", "observed",
                   "target #1 (survey.feel_unsafe): observed = -0.1 is out of "
                   "range; allowed: a share in [0, 1]");
    expect_fail_at("targets:\n  - {metric: flows.cn_to_us, year: 2021, "
                   "observed: -5, source: s}\n", "-5", "observed",
                   "target #1 (flows.cn_to_us): observed = -5 is out of range;"
                   " allowed: a count >= 0");
    tmpdir_t t;
    tmp_init(&t);
    ts_scenario *sc = load_ok(&t, "ok.yaml", "years.end: 2040\ntargets:\n"
        "  - {metric: survey.feel_unsafe, year: 2015, observed: 0, source: s}\n"
        "  - {metric: survey.feel_unsafe, year: 2040, observed: 1, source: s}\n"
        "  - {metric: flows.cn_to_us, year: 2021, observed: 0, source: s}\n"
        "  - {metric: fear.us_mean, year: 2021, observed: -3, source: s}\n");
    cr_assert_eq(sc->ntargets, 4);
    ts_error err;
    cr_assert_eq(ts_scenario_set(sc, "years.start", "2016", "--set", &err),
                 TS_OK);
    cr_assert_eq(ts_scenario_validate(sc, &err), TS_EINPUT);
    cr_assert_str_eq(err.key, "year");
    cr_assert_eq(err.line, 0, "no position after --set");
    ASSERT_MSG_HAS(err, "year = 2015 is outside the simulated years");
    ts_scenario_free(sc);
    tmp_done(&t);
}

/* ---- at least one agent ----------------------------------------------------------- */

static const char zero_population[] =
    "population:\n"
    "  us: {students: 0, early: 0, senior: 0}\n"
    "  cn: {students: 0, early: 0, senior: 0}\n";

Test(scenario_agents, tiny_sample_fraction_refused) {
    expect_fail_at("seed: 1\nsample_fraction: 1e-12\n", "1e-12",
                   "sample_fraction", "sample_fraction = 1e-12 leaves no "
                   "agent to simulate (the largest start count or yearly "
                   "inflow, 51314.2 persons, scales to less than one); "
                   "allowed: sample_fraction >= 9.75e-06 for this population,"
                   " up to 1");
}

Test(scenario_agents, empty_population_refused) {
    char text[600];
    snprintf(text, sizeof text, "%sinflow: {us_students.base: 0, "
             "cn_students.base: 0}\n", zero_population);
    expect_fail_at(text, "0, early", "population.us.students",
                   "no agent to simulate: every population count and every "
                   "year's student inflow is zero; allowed: at least one "
                   "population.* count or inflow.*.base of 1 or more");
    /* US students a visa ban keeps out are no inflow either */
    snprintf(text, sizeof text, "%sinflow: {us_students.base: 100, "
             "cn_students.base: 0}\nvisa.student_approval: 0\n",
             zero_population);
    ts_error err = load_fail(text);
    ASSERT_MSG_HAS(err, "no agent to simulate");
    /* an inflow, or a policy that opens one, is enough */
    tmpdir_t t;
    tmp_init(&t);
    ts_scenario_free(load_ok(&t, "in.yaml", zero_population));
    snprintf(text, sizeof text, "%sinflow: {us_students.base: 0, "
             "cn_students.base: 0}\npolicies:\n  - {name: open, from: 2035, "
             "set: {inflow.cn_students.base: 1}}\n", zero_population);
    ts_scenario_free(load_ok(&t, "late.yaml", text));
    tmp_done(&t);
}

/* The check counts agents as the engine does: 1000 students at the
 * suggested fraction 0.0005 are one agent, just below it none. */
Test(scenario_agents, threshold_agrees_with_the_engine) {
    ts_scenario *sc = ts_scenario_alloc("one");
    const char *set[][2] = {
        {"population.us.students", "0"}, {"population.us.early", "0"},
        {"population.us.senior", "0"}, {"population.cn.students", "1000"},
        {"population.cn.early", "0"}, {"population.cn.senior", "0"},
        {"inflow.us_students.base", "0"}, {"inflow.cn_students.base", "0"},
        {"replications", "1"}, {"years.spinup", "0"}, {"years.end", "2016"},
        {"sample_fraction", "0.000499"}};
    ts_error err;
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        cr_assert_eq(ts_scenario_set(sc, set[i][0], set[i][1], "t", &err),
                     TS_OK, "%s", err.msg);
    cr_assert_eq(ts_scenario_validate(sc, &err), TS_EINPUT);
    cr_assert_str_eq(err.key, "sample_fraction");
    ASSERT_MSG_HAS(err, "allowed: sample_fraction >= 0.0005 ");
    cr_assert_eq(ts_scenario_set(sc, "sample_fraction", "0.0005", "t", &err),
                 TS_OK);
    cr_assert_eq(ts_scenario_validate(sc, &err), TS_OK, "%s", err.msg);
    ts_run_opts opt = {.threads = 1};
    ts_results *res = NULL;
    cr_assert_eq(ts_sim_run(sc, &opt, &res, &err), TS_OK, "%s", err.msg);
    cr_assert_gt(res->agent_years, 0.0, "the engine simulated no agent");
    ts_results_free(res);
    ts_scenario_free(sc);
}

/* ---- open-ended policies follow years.end set after them ---------------------------- */

Test(scenario_extends, open_policy_follows_child_years_end) {
    tmpdir_t t;
    tmp_init(&t);
    tmp_write(&t, "parent.yaml", "policies:\n  - {name: open, from: 2020, "
                                 "set: {suspicion.level: 0.3}}\n");
    ts_scenario *sc = load_ok(&t, "child.yaml",
                              "extends: parent.yaml\nyears.end: 2040\n");
    cr_assert_eq(sc->policies[0].to_open, 1);
    cr_assert_eq(sc->policies[0].to, 2040);
    ts_scenario_free(sc);
    tmp_done(&t);
}
