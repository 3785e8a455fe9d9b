/* The fields of the records listed in a scenario: targets and policies.
 *
 * One table per record kind names each field, says whether it is required,
 * what its value must be (its kind) and where it lives in the record. The
 * YAML loader (scenario_yaml.c) reads records by it, messages included, and
 * the resolved-scenario writer (resolved.c) writes them by it, field by field
 * in table order, so that the dump reads back into an equal record. A new
 * field of ts_target or ts_policy is a new row here. Library-internal (not
 * in include/). */
#ifndef TALENTSIM_FIELDS_H
#define TALENTSIM_FIELDS_H

#include <stddef.h>

#include "talentsim/scenario.h"

#define TS_FIELDS_MAX 8            /* rows of the largest table */
#define TS_FIELD_NONE ((size_t)-1) /* no such offset */

/* What a value must be. The kind also fixes how the loader reads it (phase 1:
 * presence, and the shape of NAME and SETTINGS values; phase 2: the values,
 * in table order) and how the dump writes it. */
typedef enum {
    TS_FK_TEXT,    /* char *, any string; dumped double-quoted */
    TS_FK_NAME,    /* char *, non-empty; names the record in later messages */
    TS_FK_METRIC,  /* char *, a name from metrics.h; dumped double-quoted */
    TS_FK_YEAR,    /* int64_t, a decimal integer; dumped as one */
    TS_FK_REAL,    /* double, finite; dumped as the shortest exact text */
    TS_FK_SIZE,    /* double, positive, or "-" (also when absent) = NaN;
                      dumped as a number or "-" */
    TS_FK_SETTINGS /* ts_setting * with a count: a mapping of parameter keys
                      to values; dumped as a nested block, or {} */
} ts_field_kind;

typedef struct {
    const char *name;     /* the YAML key */
    int required;         /* 1: a record without it is rejected */
    ts_field_kind kind;
    size_t offset;        /* offsetof the value in the record */
    size_t count;         /* TS_FK_SETTINGS: offsetof the size_t count */
    size_t omitted;       /* offsetof an int the loader sets to 1 when the
                             field is absent; the dump then leaves it out.
                             TS_FIELD_NONE: always dumped */
    const char *expect;   /* "<field> must be <expect>, got ..." */
    const char *missing;  /* said after the record's label when the field is
                             absent (or a NAME/SETTINGS value has the wrong
                             shape); NULL: "has no '<name>'" */
} ts_field;

/* A record kind. Messages call a record "<what> #<position>" until its NAME
 * field is read, "<what> '<name>'" after. */
typedef struct {
    const char *what;       /* "target" */
    const char *list;       /* the scenario key holding the list: "targets" */
    size_t size;            /* sizeof the record */
    const ts_field *fields; /* in the dump's order, which is also the order
                               in which values are checked */
    size_t nfields;
} ts_record;

extern const ts_record ts_target_record; /* ts_target */
extern const ts_record ts_policy_record; /* ts_policy */

/* The row called name, or NULL. */
const ts_field *ts_field_find(const ts_record *r, const char *name);

/* Address of the member at offset in record rec. */
void *ts_field_at(void *rec, size_t offset);
const void *ts_field_at_const(const void *rec, size_t offset);

/* The field names joined by ", ", the last two by last (", " or " and "),
 * into buf (truncated to n bytes). */
void ts_field_names(const ts_record *r, const char *last, char *buf, size_t n);

/* Reads text as the value of a TS_FK_YEAR, _REAL or _SIZE field into rec.
 * Returns 0, or -1 (rec untouched) when text is not such a value. */
int ts_field_parse_number(const ts_field *f, const char *text, void *rec);

#endif
