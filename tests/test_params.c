/* The parameter table: uniqueness, defaults, lookup, parse/format round
 * trips, range texts and the generated Markdown reference. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "talentsim/params.h"
#include "talentsim/scenario.h"

static const ts_param_info *must_find(const char *key) {
    const ts_param_info *pi = ts_param_find(key);
    cr_assert_not_null(pi, "missing parameter %s", key);
    return pi;
}

Test(params_table, keys_are_unique_and_well_formed) {
    size_t n = ts_param_count();
    cr_assert_eq(n, 85, "MODEL.md v2 section 8 + 2b has 85 parameters");
    cr_assert_null(ts_param_at(n));
    for (size_t i = 0; i < n; i++) {
        const ts_param_info *pi = ts_param_at(i);
        cr_assert(pi->key && *pi->key && pi->units && *pi->units && pi->doc &&
                  *pi->doc, "row %zu incomplete", i);
        cr_assert_eq(ts_param_find(pi->key), pi);
        cr_assert_lt(pi->min, pi->max, "%s", pi->key);
        cr_assert_eq(pi->type == TS_T_ENUM, pi->names != NULL, "%s", pi->key);
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(pi->key, ts_param_at(j)->key);
    }
}

Test(params_table, defaults_are_in_range) {
    ts_error err;
    ts_params p;
    ts_params_default(&p);
    for (size_t i = 0; i < ts_param_count(); i++) {
        const ts_param_info *pi = ts_param_at(i);
        ts_error_clear(&err);
        cr_assert_eq(ts_param_check(pi, pi->def, "", 0, 0, &err), TS_OK,
                     "%s: %s", pi->key, err.msg);
        cr_assert_eq(ts_param_get(&p, pi), pi->def, "%s", pi->key);
    }
    cr_assert_eq(ts_params_validate(&p, "", &err), TS_OK, "%s", err.msg);
}

/* Guards the defaults against MODEL.md v2 section 8 (and 2b for the initial
 * visa shares): every row of the table there, written out here by hand, so a
 * default that drifts from the model fails. Exact comparison: every default
 * is a literal in both places. */
Test(params_table, defaults_match_model) {
    static const struct { const char *key; double v; } want[] = {
        {"seed", 20221103}, {"replications", 100}, {"years.start", 2015},
        {"years.end", 2035}, {"years.spinup", 20}, {"sample_fraction", 1.0},
        {"population.us.students", 8500}, {"population.us.early", 10500},
        {"population.us.senior", 9500}, {"population.cn.students", 20500},
        {"population.cn.early", 21500}, {"population.cn.senior", 14500},
        {"population.us.industry_share", 0.50},
        {"population.cn.industry_share", 0.40},
        {"population.us.init_temp_share", 0.5},
        {"population.us.init_citizen_share", 0.5},
        {"population.talent_sigma", 0.5}, {"population.collab_share", 0.4},
        {"inflow.us_students.base", 3000}, {"inflow.us_students.growth", 0.02},
        {"inflow.cn_students.base", 16000}, {"inflow.cn_students.growth", 0.06},
        {"career.phd_years", 5}, {"career.attrition.student", 0.03},
        {"career.attrition.early", 0.04}, {"career.attrition.senior", 0.03},
        {"career.promote_rate", 0.10}, {"career.promote_talent", 0.5},
        {"career.promote_min_years", 3}, {"career.promotion_ceiling", 0.2},
        {"career.stuck_years", 6}, {"career.review_rate", 0.3},
        {"visa.student_approval", 0.95}, {"visa.work_approval", 0.90},
        {"visa.green_card_rate", 0.30}, {"visa.naturalization_rate", 0.15},
        {"visa.max_temp_years", 6}, {"visa.extension_rate", 0.8},
        {"funding.us_federal_access", 1.0}, {"funding.federal_ban", TS_BAN_NONE},
        {"funding.cn_level", 0.7},
        {"suspicion.level", 0.15}, {"suspicion.adaptation", 0.35},
        {"suspicion.sens_sigma", 0.5}, {"suspicion.fear_noise", 0.1},
        {"suspicion.peer_effect", 0.1}, {"suspicion.d_ref", 0.01},
        {"collaboration.openness", 1.0}, {"collaboration.form_rate", 0.10},
        {"collaboration.break_rate", 0.5}, {"collaboration.end_rate", 0.15},
        {"china.salary_ratio", 0.7}, {"china.tax_relief", 0.75},
        {"china.tax_relief_coverage", 0.2}, {"china.tax_cn", 0.45},
        {"china.tax_us", 0.35}, {"china.talent_program", 1.0},
        {"china.talent_threshold", 1.8}, {"china.offer_rate", 0.7},
        {"us.offer_rate", 0.12}, {"eco.elasticity", 1.0},
        {"utility.wage", 1.0}, {"utility.fund", 1.0}, {"utility.collab", 0.5},
        {"utility.eco", 1.0}, {"utility.fear", 1.35}, {"utility.visa", 0.5},
        {"utility.stuck", 0.8}, {"utility.ties", 1.0}, {"utility.talent", 0.5},
        {"utility.home", 0.5}, {"utility.talent_us", 1.0},
        {"utility.move_cost", 2.0}, {"utility.asc_cn", -1.08},
        {"survey.year", 2021}, {"survey.window", 2},
        {"survey.consider_shift", 2.543}, {"survey.threshold_unsafe", 0.419},
        {"survey.threshold_collab", 0.472}, {"survey.threshold_grant", 0.553},
        {"survey.collab_weight", 0.1}, {"survey.ban_weight", 0.5},
        {"output.rho_fund", 0.3}, {"output.rho_collab", 0.3},
        {"output.cn_data_advantage", 0.1},
    };
    size_t n = sizeof want / sizeof want[0];
    ts_params p;
    ts_params_default(&p);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(ts_param_get(&p, must_find(want[i].key)), want[i].v,
                     "%s", want[i].key);
    /* Every row of the table is one of MODEL's: no parameter without a
     * model default. */
    cr_assert_eq(n, ts_param_count(), "MODEL.md lists %zu parameters, the table %zu",
                 n, ts_param_count());
    cr_assert_eq(p.visa.work_approval, 0.90);
    cr_assert_eq(p.population.cn.init_temp_share, 0.0);
}

Test(params_table, order_follows_model) {
    cr_assert_str_eq(ts_param_at(0)->key, "seed");
    cr_assert_str_eq(ts_param_at(ts_param_count() - 1)->key,
                     "output.cn_data_advantage");
    cr_assert_lt(must_find("visa.work_approval"), must_find("funding.cn_level"));
}

Test(params_table, static_flags) {
    const char *fixed[] = {"seed", "replications", "years.start", "years.end",
                           "years.spinup", "sample_fraction", "population.us.students",
                           "population.cn.senior", "survey.year",
                           "survey.window", "career.phd_years",
                           "population.us.init_temp_share"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        cr_assert(must_find(fixed[i])->flags & TS_PF_STATIC, "%s", fixed[i]);
    cr_assert_not(must_find("suspicion.level")->flags & TS_PF_STATIC);
    cr_assert_not(must_find("population.us.industry_share")->flags &
                  TS_PF_STATIC);
}

Test(params_lookup, find_and_suggest) {
    cr_assert_null(ts_param_find("visa"));
    cr_assert_null(ts_param_find("nope"));
    cr_assert_str_eq(ts_param_suggest("visa.work_aproval")->key,
                     "visa.work_approval");
    cr_assert_str_eq(ts_param_suggest("work_approval")->key,
                     "visa.work_approval");
    cr_assert_str_eq(ts_param_suggest("suspicion.levl")->key,
                     "suspicion.level");
    cr_assert_str_eq(ts_param_suggest("seeed")->key, "seed");
    cr_assert_null(ts_param_suggest("completely_unrelated_thing"));
    cr_assert_null(ts_param_suggest(""));
}

/* Parses the formatted text of v and checks the bits are unchanged. */
static void assert_round_trip(const ts_param_info *pi, double v) {
    char buf[128];
    double back = -12345;
    ts_error err;
    ts_error_clear(&err);
    ts_param_format(pi, v, buf, sizeof buf);
    cr_assert_eq(ts_param_parse(pi, buf, &back, "t", 1, 1, &err), TS_OK,
                 "%s: '%s': %s", pi->key, buf, err.msg);
    cr_assert(memcmp(&back, &v, sizeof v) == 0, "%s: %.17g -> '%s' -> %.17g",
              pi->key, v, buf, back);
}

Test(params_parse, round_trip_min_default_max) {
    for (size_t i = 0; i < ts_param_count(); i++) {
        const ts_param_info *pi = ts_param_at(i);
        double lo = pi->flags & TS_PF_MIN_OPEN
                        ? nextafter(pi->min, pi->max) : pi->min;
        if (pi->type != TS_T_REAL && pi->flags & TS_PF_MIN_OPEN)
            lo = pi->min + 1;
        assert_round_trip(pi, lo);
        assert_round_trip(pi, pi->def);
        assert_round_trip(pi, pi->max);
    }
}

Test(params_parse, reals_are_shortest_exact) {
    const ts_param_info *pi = must_find("visa.work_approval");
    char buf[64];
    ts_param_format(pi, 0.1 + 0.2, buf, sizeof buf);
    cr_assert_str_eq(buf, "0.30000000000000004");
    ts_param_format(pi, 0.3, buf, sizeof buf);
    cr_assert_str_eq(buf, "0.3");
    assert_round_trip(pi, 0.1 + 0.2);
    assert_round_trip(pi, 1.0 / 3.0);
    assert_round_trip(pi, 5e-324);
    ts_param_format(must_find("seed"), 9007199254740992.0, buf, sizeof buf);
    cr_assert_str_eq(buf, "9007199254740992");
}

Test(params_parse, rejects_bad_numbers) {
    const ts_param_info *pi = must_find("visa.work_approval");
    const char *bad[] = {"abc", "", "0.5x", "nan", "inf", "-inf", " 0.5",
                         "0.5 ", "1e999", "true"};
    double v;
    ts_error err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ts_error_clear(&err);
        cr_assert_eq(ts_param_parse(pi, bad[i], &v, "f.yaml", 3, 7, &err),
                     TS_EINPUT, "'%s' accepted", bad[i]);
        cr_assert_str_eq(err.key, "visa.work_approval");
        cr_assert_eq(err.line, 3);
        cr_assert_eq(err.col, 7);
    }
    ts_error_clear(&err);
    ts_param_parse(pi, "abc", &v, "f.yaml", 3, 7, &err);
    cr_assert_str_eq(err.msg, "expected a number for visa.work_approval "
                              "(real in [0, 1]), got 'abc'");
}

Test(params_parse, range_errors_name_key_and_range) {
    double v = -1;
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_param_parse(must_find("visa.work_approval"), "1.5", &v,
                                "", 0, 0, &err), TS_EINPUT);
    cr_assert_str_eq(err.msg,
                     "visa.work_approval = 1.5 is out of range; allowed: [0, 1]");
    cr_assert_eq(v, -1, "value must not be stored on error");
    ts_error_clear(&err);
    cr_assert_eq(ts_param_parse(must_find("sample_fraction"), "0", &v, "", 0,
                                0, &err), TS_EINPUT);
    cr_assert(strstr(err.msg, "(0, 1]"), "%s", err.msg);
    ts_error_clear(&err);
    cr_assert_eq(ts_param_parse(must_find("replications"), "0", &v, "", 0, 0,
                                &err), TS_EINPUT);
    cr_assert(strstr(err.msg, "integer in [1, 100000]"), "%s", err.msg);
    cr_assert_eq(ts_param_parse(must_find("population.us.early"), "-5", &v,
                                "", 0, 0, &err), TS_EINPUT);
}

Test(params_parse, integers) {
    const ts_param_info *pi = must_find("replications");
    double v;
    ts_error err;
    cr_assert_eq(ts_param_parse(pi, "250", &v, "", 0, 0, &err), TS_OK);
    cr_assert_eq(v, 250);
    cr_assert_eq(ts_param_parse(pi, "5.0", &v, "", 0, 0, &err), TS_OK);
    cr_assert_eq(v, 5);
    cr_assert_eq(ts_param_parse(pi, "1e3", &v, "", 0, 0, &err), TS_OK);
    cr_assert_eq(v, 1000);
    ts_error_clear(&err);
    cr_assert_eq(ts_param_parse(pi, "2.5", &v, "", 0, 0, &err), TS_EINPUT);
    cr_assert(strstr(err.msg, "expected an integer for replications"), "%s",
              err.msg);
    cr_assert_eq(ts_param_parse(must_find("seed"), "9007199254740993", &v, "",
                                0, 0, &err), TS_EINPUT, "beyond 2^53");
    cr_assert_eq(ts_param_parse(must_find("seed"), "9007199254740992", &v, "",
                                0, 0, &err), TS_OK);
}

Test(params_parse, enum_names) {
    const ts_param_info *pi = must_find("funding.federal_ban");
    double v;
    ts_error err;
    char buf[64];
    cr_assert_eq(pi->type, TS_T_ENUM);
    cr_assert_eq(ts_param_parse(pi, "noncitizens", &v, "", 0, 0, &err), TS_OK);
    cr_assert_eq(v, TS_BAN_NONCITIZENS);
    cr_assert_eq(ts_param_parse(pi, "all", &v, "", 0, 0, &err), TS_OK);
    cr_assert_eq(v, TS_BAN_ALL);
    ts_param_format(pi, TS_BAN_NONE, buf, sizeof buf);
    cr_assert_str_eq(buf, "none");
    ts_error_clear(&err);
    cr_assert_eq(ts_param_parse(pi, "1", &v, "", 0, 0, &err), TS_EINPUT);
    cr_assert(strstr(err.msg, "one of none, noncitizens, all"), "%s", err.msg);
    ts_params p;
    ts_params_default(&p);
    ts_param_put(&p, pi, TS_BAN_ALL);
    cr_assert_eq(p.funding.federal_ban, TS_BAN_ALL);
}

Test(params_parse, range_text) {
    char buf[128];
    ts_param_range_text(must_find("visa.work_approval"), buf, sizeof buf);
    cr_assert_str_eq(buf, "[0, 1]");
    ts_param_range_text(must_find("sample_fraction"), buf, sizeof buf);
    cr_assert_str_eq(buf, "(0, 1]");
    ts_param_range_text(must_find("replications"), buf, sizeof buf);
    cr_assert_str_eq(buf, "integer in [1, 100000]");
    ts_param_range_text(must_find("inflow.us_students.growth"), buf, sizeof buf);
    cr_assert_str_eq(buf, "[-0.5, 1]");
    ts_param_range_text(must_find("funding.federal_ban"), buf, sizeof buf);
    cr_assert_str_eq(buf, "one of none, noncitizens, all");
}

Test(params_validate, years) {
    ts_params p;
    ts_error err;
    ts_params_default(&p);
    p.years.end = 2010;
    ts_error_clear(&err);
    cr_assert_eq(ts_params_validate(&p, "x.yaml", &err), TS_EINPUT);
    cr_assert_str_eq(err.key, "years.end");
    p.years.start = 1900;
    p.years.end = 1900 + TS_MAX_YEARS_SPAN + 1;
    cr_assert_eq(ts_params_validate(&p, "x.yaml", &err), TS_EINPUT);
    cr_assert_str_eq(err.msg, "years.start = 1900 to years.end = 2101 spans "
                              "more than 200 years; allowed: years.end - "
                              "years.start <= 200");
    p.years.end = 1900 + TS_MAX_YEARS_SPAN;
    cr_assert_eq(ts_params_validate(&p, "x.yaml", &err), TS_OK);
    p.visa.green_card_rate = 2;
    cr_assert_eq(ts_params_validate(&p, "x.yaml", &err), TS_EINPUT);
    cr_assert_str_eq(err.key, "visa.green_card_rate");
}

typedef struct {
    char *buf;
    size_t len, cap;
} sbuf;

static int sbuf_write(void *ctx, const char *s, size_t n) {
    sbuf *b = ctx;
    if (b->len + n + 1 > b->cap) {
        b->cap = 2 * (b->len + n + 1);
        b->buf = realloc(b->buf, b->cap);
        if (!b->buf)
            return -1;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return 0;
}

static int fail_write(void *ctx, const char *s, size_t n) {
    (void)ctx, (void)s, (void)n;
    return -1;
}

Test(params_markdown, lists_every_key_deterministically) {
    sbuf a = {0}, b = {0};
    cr_assert_eq(ts_params_write_markdown(sbuf_write, &a), 0);
    cr_assert_eq(ts_params_write_markdown(sbuf_write, &b), 0);
    cr_assert_str_eq(a.buf, b.buf);
    cr_assert(strstr(a.buf, "talentsim --params-markdown"));
    cr_assert(strstr(a.buf, "sim/scenario/params.c"));
    cr_assert(strstr(a.buf, "## Run"));
    cr_assert(strstr(a.buf, "| key | type | default | range | units | "
                            "description | policy |"));
    for (size_t i = 0; i < ts_param_count(); i++) {
        char cell[200];
        snprintf(cell, sizeof cell, "| `%s` |", ts_param_at(i)->key);
        cr_assert(strstr(a.buf, cell), "missing %s", cell);
    }
    cr_assert(strstr(a.buf, "| `funding.federal_ban` | enum | none | one of "
                            "none, noncitizens, all |"));
    free(a.buf);
    free(b.buf);
    cr_assert_eq(ts_params_write_markdown(fail_write, NULL), -1);
}

Test(params_error, format) {
    ts_error err;
    char buf[1024];
    ts_error_clear(&err);
    cr_assert_eq(err.status, TS_OK);
    cr_assert_eq(ts_error_set(&err, TS_EINPUT, "a.yaml", 3, 9, "k", "bad %d",
                              7), TS_EINPUT);
    ts_error_format(&err, buf, sizeof buf);
    cr_assert_str_eq(buf, "a.yaml:3:9: error: bad 7");
    ts_error_set(&err, TS_EINPUT, "a.yaml", 0, 4, "k", "bad");
    ts_error_format(&err, buf, sizeof buf);
    cr_assert_str_eq(buf, "a.yaml: error: bad");
    ts_error_set(&err, TS_EINPUT, "", 5, 4, "k", "two\nlines");
    ts_error_format(&err, buf, sizeof buf);
    cr_assert_str_eq(buf, "error: two lines");
    ts_error_set(&err, TS_EINPUT, "--set", 0, 0, "k", "x");
    ts_error_format(&err, buf, sizeof buf);
    cr_assert_str_eq(buf, "--set: error: x");
    cr_assert_eq(ts_error_set(NULL, TS_ERUNTIME, "", 0, 0, "", "x"),
                 TS_ERUNTIME);
}

/* Every formatted error is one line: control characters and Unicode line
 * breaks in a file name are escaped, in a message replaced by spaces. */
Test(params_error, one_line_whatever_the_file_name) {
    ts_error err;
    char buf[4096];
    ts_error_set(&err, TS_EINPUT, "a\nb\r\t\x1b[2J\x7f.yaml", 2, 3, "k",
                 "x");
    ts_error_format(&err, buf, sizeof buf);
    cr_assert_str_eq(buf, "a\\nb\\r\\t\\x1B[2J\\x7F.yaml:2:3: error: x");
    ts_error_set(&err, TS_EINPUT, "n\xc2\x85l\xe2\x80\xa8p\xe2\x80\xa9\xc3\xa9",
                 0, 0, "k", "x");
    ts_error_format(&err, buf, sizeof buf);
    cr_assert_str_eq(buf, "n\\u0085l\\u2028p\\u2029\xc3\xa9: error: x");
    ts_error_set(&err, TS_EINPUT, "f", 1, 1, "k",
                 "key 'a\nb', c\xc2\x85" "d e\xe2\x80\xa8" "f");
    cr_assert_str_eq(err.msg, "key 'a b', c d e f");
    char name[sizeof err.file];
    memset(name, '\n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    ts_error_set(&err, TS_EINPUT, name, 1, 1, "", "x");
    ts_error_format(&err, buf, sizeof buf);
    cr_assert_null(strchr(buf, '\n'), "a newline in the formatted error");
    cr_assert(strstr(buf, ":1:1: error: x"));
}
