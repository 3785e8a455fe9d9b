/* The resolved scenario YAML reads back into an equal scenario: every
 * parameter bit for bit, policies and targets equal, and a second dump is
 * byte-identical to the first. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "talentsim/output.h"
#include "talentsim/scenario.h"

static char *dup_text(const char *s) {
    char *d = malloc(strlen(s) + 1);
    cr_assert_not_null(d);
    return strcpy(d, s);
}

/* Every parameter moved away from its default to an awkward value. */
static void scramble(ts_params *p) {
    for (size_t i = 0; i < ts_param_count(); i++) {
        const ts_param_info *pi = ts_param_at(i);
        double v;
        if (pi->type == TS_T_ENUM)
            v = pi->max;
        else if (pi->type == TS_T_INT)
            v = floor(pi->min + (pi->max - pi->min) / 3);
        else
            v = pi->min + (pi->max - pi->min) * (0.1 + 0.2) / 3.0;
        ts_param_put(p, pi, v);
    }
    p->years.start = 2001;
    p->years.end = 2050;
    p->years.spinup = 2; /* the first spin-up inflow, base (1 + growth)^-spinup, stays bounded */
    p->visa.work_approval = 0.1 + 0.2;
    p->utility.asc_cn = -1.0 / 7.0;
    p->china.salary_ratio = 5e-324 + 1e-300;
}

static void add_target(ts_scenario *sc, const char *metric, int64_t year,
                       double observed, double n, const char *source) {
    sc->targets = realloc(sc->targets, (sc->ntargets + 1) * sizeof *sc->targets);
    cr_assert_not_null(sc->targets);
    ts_target *t = &sc->targets[sc->ntargets++];
    t->metric = dup_text(metric);
    t->year = year;
    t->observed = observed;
    t->n = n;
    t->source = dup_text(source);
}

static ts_scenario *awkward_scenario(void) {
    ts_scenario *sc = ts_scenario_alloc("odd-name_v1.2");
    ts_error err;
    cr_assert_not_null(sc);
    free(sc->description);
    sc->description = dup_text("line one\nline two\twith tab, back\\slash, "
                               "'single', \"double\", caf\xc3\xa9, "
                               "\xe4\xb8\xad\xe5\x9b\xbd, \x01 ctrl, "
                               "\xc2\x80 c1");
    scramble(&sc->base);
    ts_setting s1[2] = {{ts_param_find("suspicion.level"), 0.1 + 0.2},
                        {ts_param_find("funding.federal_ban"), TS_BAN_NONCITIZENS}};
    ts_setting s2[1] = {{ts_param_find("visa.max_temp_years"), 3}};
    ts_policy p1 = {.name = "closed: [2010, 2020] \"quoted\" # no comment",
                    .from = 2010, .to = 2020,
                    .set = s1, .nset = 2};
    ts_policy p2 = {.name = "open-ended", .from = 2030, .to_open = 1,
                    .set = s2, .nset = 1};
    ts_policy p3 = {.name = "empty", .from = 2040, .to = 2040};
    cr_assert_eq(ts_scenario_add_policy(sc, &p1, &err), TS_OK, "%s", err.msg);
    cr_assert_eq(ts_scenario_add_policy(sc, &p2, &err), TS_OK, "%s", err.msg);
    cr_assert_eq(ts_scenario_add_policy(sc, &p3, &err), TS_OK, "%s", err.msg);
    add_target(sc, "survey.feel_unsafe", 2021, 0.1 + 0.2, 1300,
               "AASF survey \"Dec 2021\" (seed 000)");
    add_target(sc, "flows.us_to_cn_academic", 2017, 175, NAN, "");
    add_target(sc, "fear.us_mean", 2030, -1e-17, 2.5, "x: y");
    cr_assert_eq(ts_scenario_validate(sc, &err), TS_OK, "%s", err.msg);
    return sc;
}

/* Dumps sc to a new temporary file; returns its path (to free). */
static char *dump(const ts_scenario *sc) {
    char *path = dup_text("/tmp/ts_resolved_XXXXXX.yaml");
    int fd = mkstemps(path, 5);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    cr_assert_not_null(f);
    cr_assert_eq(ts_write_resolved_yaml(f, sc), 0);
    cr_assert_eq(fclose(f), 0);
    return path;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    char *buf = calloc(1, 1 << 16);
    cr_assert_not_null(buf);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    cr_assert_lt(n, (size_t)(1 << 16) - 1);
    fclose(f);
    return buf;
}

static void assert_same(const ts_scenario *a, const ts_scenario *b) {
    cr_assert_str_eq(a->name, b->name);
    cr_assert_str_eq(a->description, b->description);
    for (size_t i = 0; i < ts_param_count(); i++) {
        const ts_param_info *pi = ts_param_at(i);
        double x = ts_param_get(&a->base, pi), y = ts_param_get(&b->base, pi);
        cr_assert(memcmp(&x, &y, sizeof x) == 0, "%s: %.17g != %.17g",
                  pi->key, x, y);
    }
    cr_assert_eq(a->npolicies, b->npolicies);
    for (size_t i = 0; i < a->npolicies; i++) {
        const ts_policy *p = &a->policies[i], *q = &b->policies[i];
        cr_assert_str_eq(p->name, q->name);
        cr_assert_eq(p->from, q->from);
        cr_assert_eq(p->to, q->to);
        cr_assert_eq(p->to_open, q->to_open);
        cr_assert_eq(p->nset, q->nset);
        for (size_t k = 0; k < p->nset; k++) {
            cr_assert_eq(p->set[k].param, q->set[k].param);
            cr_assert(memcmp(&p->set[k].value, &q->set[k].value,
                             sizeof(double)) == 0);
        }
    }
    cr_assert_eq(a->ntargets, b->ntargets);
    for (size_t i = 0; i < a->ntargets; i++) {
        const ts_target *s = &a->targets[i], *t = &b->targets[i];
        cr_assert_str_eq(s->metric, t->metric);
        cr_assert_eq(s->year, t->year);
        cr_assert(memcmp(&s->observed, &t->observed, sizeof(double)) == 0);
        cr_assert(isnan(s->n) ? isnan(t->n) : s->n == t->n);
        cr_assert_str_eq(s->source, t->source);
    }
}

Test(resolved_yaml, round_trip_is_exact) {
    ts_scenario *sc = awkward_scenario();
    char *p1 = dump(sc);
    ts_error err;
    ts_error_clear(&err);
    ts_scenario *back = ts_scenario_load(p1, &err);
    cr_assert_not_null(back, "%s:%d:%d: %s", err.file, err.line, err.col,
                       err.msg);
    assert_same(sc, back);
    char *p2 = dump(back);
    char *t1 = slurp(p1), *t2 = slurp(p2);
    cr_assert_str_eq(t1, t2, "second dump differs");
    cr_assert(strncmp(t1, "# ", 2) == 0, "starts with a comment");
    cr_assert(strstr(t1, "generated"));
    cr_assert(strstr(t1, "\nvisa.work_approval: 0.30000000000000004\n"));
    cr_assert(strstr(t1, "\nfunding.federal_ban: all\n"));
    cr_assert(strstr(t1, "    n: \"-\"\n"));
    cr_assert_null(strstr(t1, "extends"));
    unlink(p1);
    unlink(p2);
    free(p1);
    free(p2);
    free(t1);
    free(t2);
    ts_scenario_free(sc);
    ts_scenario_free(back);
}

/* NEL, U+2028 and U+2029 are line breaks to a YAML reader: written raw
 * inside a double-quoted string they are folded into a space on reload.
 * The dump escapes them (\N, \L, \P), so every string reads back byte for
 * byte and a second dump is the same text. */
Test(resolved_yaml, unicode_line_breaks_round_trip) {
    static const struct { const char *raw, *esc; } breaks[] = {
        {"\xc2\x85", "\\N"}, {"\xe2\x80\xa8", "\\L"}, {"\xe2\x80\xa9", "\\P"}};
    for (size_t i = 0; i < sizeof breaks / sizeof breaks[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "a%sb %s", breaks[i].raw, breaks[i].raw);
        ts_scenario *sc = ts_scenario_alloc("breaks");
        free(sc->description);
        sc->description = dup_text(text);
        ts_policy pol = {.name = text, .from = 2020, .to = 2021};
        ts_error err;
        cr_assert_eq(ts_scenario_add_policy(sc, &pol, &err), TS_OK, "%s", err.msg);
        add_target(sc, "flows.cn_to_us", 2020, 1, NAN, text);
        char *p1 = dump(sc), *t1 = slurp(p1);
        cr_assert_null(strstr(t1, breaks[i].raw), "raw break %zu in the dump", i);
        cr_assert(strstr(t1, breaks[i].esc), "no %s in the dump", breaks[i].esc);
        ts_error_clear(&err);
        ts_scenario *back = ts_scenario_load(p1, &err);
        cr_assert_not_null(back, "%s:%d:%d: %s", err.file, err.line, err.col, err.msg);
        cr_assert_str_eq(back->description, text);
        cr_assert_str_eq(back->policies[0].name, text);
        cr_assert_str_eq(back->targets[0].source, text);
        char *p2 = dump(back), *t2 = slurp(p2);
        cr_assert_str_eq(t1, t2, "second dump differs");
        unlink(p1);
        unlink(p2);
        free(p1);
        free(p2);
        free(t1);
        free(t2);
        ts_scenario_free(sc);
        ts_scenario_free(back);
    }
}

Test(resolved_yaml, defaults_round_trip) {
    ts_scenario *sc = ts_scenario_alloc("plain");
    char *p = dump(sc);
    ts_error err;
    ts_scenario *back = ts_scenario_load(p, &err);
    cr_assert_not_null(back, "%s", err.msg);
    assert_same(sc, back);
    char *t = slurp(p);
    cr_assert(strstr(t, "\npolicies: []\ntargets: []\n"));
    unlink(p);
    free(p);
    free(t);
    ts_scenario_free(sc);
    ts_scenario_free(back);
}

Test(resolved_yaml, stream_error) {
    ts_scenario *sc = ts_scenario_alloc("x");
    FILE *f = fopen("/dev/null", "r");
    cr_assert_not_null(f);
    cr_assert_eq(ts_write_resolved_yaml(f, sc), -1);
    fclose(f);
    ts_scenario_free(sc);
}
