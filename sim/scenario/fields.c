/* The field tables of targets and policies (fields.h), and the helpers the
 * loader and the resolved-scenario writer share.
 *
 * Invariant: every table has at most TS_FIELDS_MAX rows with unique names;
 * an optional field either has an `omitted` flag or is a TS_FK_SIZE (absent
 * reads as "-"), so an absent field always dumps as something that reads
 * back the same. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"

#define NONE TS_FIELD_NONE
#define TARGET(field) offsetof(ts_target, field)
#define POLICY(field) offsetof(ts_policy, field)

/* name, required, kind, offset, count, omitted, expect, missing */
static const ts_field target_fields[] = {
    {"metric", 1, TS_FK_METRIC, TARGET(metric), NONE, NONE, "a name", NULL},
    {"year", 1, TS_FK_YEAR, TARGET(year), NONE, NONE, "an integer", NULL},
    {"observed", 1, TS_FK_REAL, TARGET(observed), NONE, NONE,
     "a finite number", NULL},
    {"n", 0, TS_FK_SIZE, TARGET(n), NONE, NONE, "a positive number or '-'",
     NULL},
    {"source", 1, TS_FK_TEXT, TARGET(source), NONE, NONE, "a string", NULL},
};

static const ts_field policy_fields[] = {
    {"name", 1, TS_FK_NAME, POLICY(name), NONE, NONE, "a non-empty string",
     "needs a name (a non-empty string)"},
    {"from", 1, TS_FK_YEAR, POLICY(from), NONE, NONE, "a year (an integer)",
     "has no 'from' year"},
    {"to", 0, TS_FK_YEAR, POLICY(to), NONE, POLICY(to_open),
     "a year (an integer)", NULL},
    {"set", 1, TS_FK_SETTINGS, POLICY(set), POLICY(nset), NONE,
     "a mapping of parameters", "needs a 'set' mapping of parameters"},
};

#define NROWS(t) (sizeof(t) / sizeof(t)[0])
_Static_assert(NROWS(target_fields) <= TS_FIELDS_MAX, "target table too long");
_Static_assert(NROWS(policy_fields) <= TS_FIELDS_MAX, "policy table too long");

const ts_record ts_target_record = {"target", "targets", sizeof(ts_target),
                                    target_fields, NROWS(target_fields)};
const ts_record ts_policy_record = {"policy", "policies", sizeof(ts_policy),
                                    policy_fields, NROWS(policy_fields)};

const ts_field *ts_field_find(const ts_record *r, const char *name) {
    for (size_t k = 0; k < r->nfields; k++)
        if (strcmp(r->fields[k].name, name) == 0)
            return &r->fields[k];
    return NULL;
}

void *ts_field_at(void *rec, size_t offset) {
    return (char *)rec + offset;
}

const void *ts_field_at_const(const void *rec, size_t offset) {
    return (const char *)rec + offset;
}

void ts_field_names(const ts_record *r, const char *last, char *buf,
                    size_t n) {
    size_t used = 0;
    if (n)
        buf[0] = '\0';
    for (size_t k = 0; k < r->nfields && used < n; k++) {
        const char *sep = k == 0 ? "" : k + 1 == r->nfields ? last : ", ";
        int w = snprintf(buf + used, n - used, "%s%s", sep, r->fields[k].name);
        used += w > 0 ? (size_t)w : 0;
    }
}

/* The whole of text as a decimal integer (leading blanks refused). */
static int parse_year(const char *text, int64_t *out) {
    char *end = NULL;
    errno = 0;
    long long y = *text && *text != ' ' ? strtoll(text, &end, 10) : 0;
    if (!end || *end || errno)
        return -1;
    *out = y;
    return 0;
}

/* The whole of text as a finite number; for a SIZE, "-" is NaN and a number
 * must be positive. */
static int parse_real(ts_field_kind kind, const char *text, double *out) {
    char *end = NULL;
    if (kind == TS_FK_SIZE && strcmp(text, "-") == 0) {
        *out = NAN;
        return 0;
    }
    double v = *text && *text != ' ' ? strtod(text, &end) : NAN;
    if (!end || *end || !isfinite(v) || (kind == TS_FK_SIZE && !(v > 0)))
        return -1;
    *out = v;
    return 0;
}

int ts_field_parse_number(const ts_field *f, const char *text, void *rec) {
    void *p = ts_field_at(rec, f->offset);
    if (f->kind == TS_FK_YEAR)
        return parse_year(text, p);
    if (f->kind == TS_FK_REAL || f->kind == TS_FK_SIZE)
        return parse_real(f->kind, text, p);
    return -1;
}
