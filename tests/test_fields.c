/* The field tables of targets and policies (sim/scenario/fields.h) drive both the
 * loader and the resolved dump. For every row of every table: a record
 * without the field is rejected, naming it, if the row is required and loads
 * if not; a record loads with each value at the row's offset; and the dump
 * of the loaded record reads back equal. Records are written from the
 * tables themselves, so a new row is covered without a new test. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sim/scenario/fields.h"
#include "talentsim/metrics.h"
#include "talentsim/output.h"
#include "talentsim/scenario.h"

#define NO_ROW SIZE_MAX

static const ts_record *const records[] = {&ts_target_record,
                                           &ts_policy_record};

/* One record written from its table: the YAML text and what it must load
 * as. Every row gets its own value, so two rows sharing an offset show. */
typedef struct {
    const ts_record *rec;
    union {
        ts_target t;
        ts_policy p;
    } want;                       /* expected values, by the rows' offsets */
    char str[TS_FIELDS_MAX][48];  /* the strings of want */
    ts_setting setting;           /* the settings of want */
    char yaml[2048];
} sample;

/* A policy may set it: the first parameter that is not static. */
static const ts_param_info *settable_param(void) {
    for (size_t i = 0; i < ts_param_count(); i++)
        if (!(ts_param_at(i)->flags & TS_PF_STATIC))
            return ts_param_at(i);
    cr_assert_fail("no parameter a policy may set");
    return NULL;
}

static void settings_value(sample *s, const ts_field *f, char *text,
                           size_t n) {
    char v[64];
    s->setting.param = settable_param();
    s->setting.value = s->setting.param->def;
    ts_param_format(s->setting.param, s->setting.value, v, sizeof v);
    snprintf(text, n, "{%s: %s}", s->setting.param->key, v);
    *(ts_setting **)ts_field_at(&s->want, f->offset) = &s->setting;
    *(size_t *)ts_field_at(&s->want, f->count) = 1;
}

/* Row k's value as YAML text, and into s->want. */
static void field_value(sample *s, size_t k, char *text, size_t n) {
    const ts_field *f = &s->rec->fields[k];
    void *p = ts_field_at(&s->want, f->offset);
    if (f->kind == TS_FK_TEXT || f->kind == TS_FK_NAME) {
        snprintf(s->str[k], sizeof s->str[k], "%s %zu: \"q\" #x", f->name, k);
        snprintf(text, n, "'%s'", s->str[k]);
        *(char **)p = s->str[k];
    } else if (f->kind == TS_FK_METRIC) {
        snprintf(s->str[k], sizeof s->str[k], "%s",
                 ts_metric_name((ts_metric)(k % TS_NMETRICS)));
        snprintf(text, n, "%s", s->str[k]);
        *(char **)p = s->str[k];
    } else if (f->kind == TS_FK_YEAR) {
        *(int64_t *)p = 2020 + (int64_t)k; /* from < to for policies */
        snprintf(text, n, "%" PRId64, *(int64_t *)p);
    } else if (f->kind == TS_FK_REAL || f->kind == TS_FK_SIZE) {
        *(double *)p = (double)k + (f->kind == TS_FK_SIZE ? 1000.5 : 0.1);
        snprintf(text, n, "%.17g", *(double *)p);
    } else {
        settings_value(s, f, text, n);
    }
}

/* The record with every field but row skip (NO_ROW: all), in a scenario of
 * its own. */
static void sample_init(sample *s, const ts_record *r, size_t skip) {
    memset(s, 0, sizeof *s);
    s->rec = r;
    size_t used = (size_t)snprintf(s->yaml, sizeof s->yaml,
                                   "years: {start: 2000, end: 2100}\n%s:\n"
                                   "  - {", r->list);
    const char *sep = "";
    for (size_t k = 0; k < r->nfields; k++) {
        const ts_field *f = &r->fields[k];
        char text[256];
        if (k == skip) {
            /* absent must read as something the dump can write */
            cr_assert(f->required || f->omitted != TS_FIELD_NONE ||
                          f->kind == TS_FK_SIZE,
                      "optional '%s' has no absent value", f->name);
            if (f->omitted != TS_FIELD_NONE)
                *(int *)ts_field_at(&s->want, f->omitted) = 1;
            else if (f->kind == TS_FK_SIZE)
                *(double *)ts_field_at(&s->want, f->offset) = NAN;
            continue;
        }
        field_value(s, k, text, sizeof text);
        used += (size_t)snprintf(s->yaml + used, sizeof s->yaml - used,
                                 "%s%s: %s", sep, f->name, text);
        cr_assert_lt(used, sizeof s->yaml);
        sep = ", ";
    }
    snprintf(s->yaml + used, sizeof s->yaml - used, "}\n");
}

static char *temp_path(void) {
    char *path = strdup("/tmp/ts_fields_XXXXXX.yaml");
    cr_assert_not_null(path);
    int fd = mkstemps(path, 5);
    cr_assert_geq(fd, 0);
    close(fd);
    return path;
}

static ts_scenario *load_text(const char *text, ts_error *err) {
    char *path = temp_path();
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
    ts_scenario *sc = ts_scenario_load(path, err);
    unlink(path);
    free(path);
    return sc;
}

static ts_scenario *dump_and_reload(const ts_scenario *sc) {
    char *path = temp_path();
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(ts_write_resolved_yaml(f, sc), 0);
    cr_assert_eq(fclose(f), 0);
    ts_error err;
    ts_scenario *back = ts_scenario_load(path, &err);
    cr_assert_not_null(back, "the dump does not load: %s", err.msg);
    unlink(path);
    free(path);
    return back;
}

/* The one record of kind r in sc. */
static const void *only_record(const ts_scenario *sc, const ts_record *r) {
    int target = r == &ts_target_record;
    cr_assert_eq(target ? sc->ntargets : sc->npolicies, 1, "%s", r->list);
    return target ? (const void *)sc->targets : (const void *)sc->policies;
}

static void assert_settings_eq(const ts_field *f, const void *a,
                               const void *b) {
    size_t n = *(const size_t *)ts_field_at_const(a, f->count);
    const ts_setting *x = *(ts_setting *const *)ts_field_at_const(a, f->offset);
    const ts_setting *y = *(ts_setting *const *)ts_field_at_const(b, f->offset);
    cr_assert_eq(n, *(const size_t *)ts_field_at_const(b, f->count), "%s",
                 f->name);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(x[i].param, y[i].param, "%s", f->name);
        cr_assert(memcmp(&x[i].value, &y[i].value, sizeof(double)) == 0,
                  "%s", f->name);
    }
}

/* Row f holds the same value in records a and b (of f's kind). */
static void assert_field_eq(const ts_field *f, const void *a, const void *b) {
    const void *x = ts_field_at_const(a, f->offset);
    const void *y = ts_field_at_const(b, f->offset);
    if (f->omitted != TS_FIELD_NONE) {
        int oa = *(const int *)ts_field_at_const(a, f->omitted);
        cr_assert_eq(oa, *(const int *)ts_field_at_const(b, f->omitted),
                     "%s: omitted flag", f->name);
        if (oa)
            return;
    }
    if (f->kind == TS_FK_TEXT || f->kind == TS_FK_NAME ||
        f->kind == TS_FK_METRIC)
        cr_assert_str_eq(*(char *const *)x, *(char *const *)y, "%s", f->name);
    else if (f->kind == TS_FK_YEAR)
        cr_assert_eq(*(const int64_t *)x, *(const int64_t *)y, "%s", f->name);
    else if (f->kind == TS_FK_REAL || f->kind == TS_FK_SIZE)
        cr_assert((isnan(*(const double *)x) && isnan(*(const double *)y)) ||
                      memcmp(x, y, sizeof(double)) == 0,
                  "%s: %.17g != %.17g", f->name, *(const double *)x,
                  *(const double *)y);
    else
        assert_settings_eq(f, a, b);
}

/* Without row skip, the record is rejected naming the field (required) or
 * loads as written and dumps back equal (optional, or skip == NO_ROW). */
static void check_record(const ts_record *r, size_t skip) {
    sample s;
    ts_error err;
    sample_init(&s, r, skip);
    ts_error_clear(&err);
    ts_scenario *sc = load_text(s.yaml, &err);
    if (skip != NO_ROW && r->fields[skip].required) {
        const char *name = r->fields[skip].name;
        cr_assert_null(sc, "loaded without required '%s':\n%s", name, s.yaml);
        cr_assert_eq(err.status, TS_EINPUT);
        cr_assert_str_eq(err.key, name, "message: %s", err.msg);
        cr_assert(strstr(err.msg, name), "'%s' not named in: %s", name,
                  err.msg);
        return;
    }
    cr_assert_not_null(sc, "%s\n%s", err.msg, s.yaml);
    ts_scenario *back = dump_and_reload(sc);
    const void *got = only_record(sc, r), *again = only_record(back, r);
    for (size_t k = 0; k < r->nfields; k++) {
        assert_field_eq(&r->fields[k], &s.want, got);
        assert_field_eq(&r->fields[k], got, again);
    }
    ts_scenario_free(sc);
    ts_scenario_free(back);
}

Test(fields, every_row_is_required_or_optional_and_round_trips) {
    for (size_t i = 0; i < sizeof records / sizeof *records; i++) {
        check_record(records[i], NO_ROW);
        for (size_t k = 0; k < records[i]->nfields; k++)
            check_record(records[i], k);
    }
}
