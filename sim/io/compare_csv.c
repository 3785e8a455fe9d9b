/* compare.csv (talentsim/compare.h, docs/compare.md): one row per compared
 * scenario, year and metric, with the paired statistics of
 * sim/analysis/compare.c, in the CSV conventions of output_csv.c (shortest
 * round-trip numbers, NaN as an empty field, fields quoted when needed).
 * The column table below is the one place that names and orders the
 * columns: the header and every row are written from it. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "output_internal.h"
#include "talentsim/compare.h"

/* One row: the fields its columns are taken from. */
typedef struct {
    const char *scenario, *reference; /* as CSV fields (quoted when needed) */
    int64_t year;
    ts_metric metric;
    const ts_compare_stat *stat;
} cmp_row;

typedef enum { COL_SCENARIO, COL_REFERENCE, COL_YEAR, COL_METRIC, COL_STAT } col_kind;

static const struct {
    const char *name;
    col_kind kind;
    size_t offset; /* of the double in ts_compare_stat (COL_STAT only) */
} columns[] = {
    {"scenario", COL_SCENARIO, 0},
    {"reference", COL_REFERENCE, 0},
    {"year", COL_YEAR, 0},
    {"metric", COL_METRIC, 0},
    {"mean_diff", COL_STAT, offsetof(ts_compare_stat, mean_diff)},
    {"sd_diff", COL_STAT, offsetof(ts_compare_stat, sd_diff)},
    {"p2_5", COL_STAT, offsetof(ts_compare_stat, p2_5)},
    {"p97_5", COL_STAT, offsetof(ts_compare_stat, p97_5)},
    {"rel_diff", COL_STAT, offsetof(ts_compare_stat, rel_diff)},
    {"variance_reduction", COL_STAT, offsetof(ts_compare_stat, variance_reduction)},
};

#define NCOLUMNS (sizeof columns / sizeof columns[0])

/* The text of column c in row w; buf holds it when it is made here. */
static const char *field(const cmp_row *w, size_t c, char buf[TS_NUM_BUFSZ]) {
    switch (columns[c].kind) {
    case COL_SCENARIO: return w->scenario;
    case COL_REFERENCE: return w->reference;
    case COL_METRIC: return ts_metric_name(w->metric);
    case COL_YEAR: snprintf(buf, TS_NUM_BUFSZ, "%" PRId64, w->year); return buf;
    case COL_STAT: break;
    }
    double v;
    memcpy(&v, (const char *)w->stat + columns[c].offset, sizeof v);
    ts_output_format_double(v, buf);
    return buf;
}

static int put_header(FILE *f) {
    for (size_t c = 0; c < NCOLUMNS; c++)
        if (fputs(c ? "," : "", f) == EOF || fputs(columns[c].name, f) == EOF)
            return -1;
    return fputc('\n', f) == EOF ? -1 : 0;
}

static int put_row(FILE *f, const cmp_row *w) {
    for (size_t c = 0; c < NCOLUMNS; c++) {
        char buf[TS_NUM_BUFSZ];
        if (fputs(c ? "," : "", f) == EOF || fputs(field(w, c, buf), f) == EOF)
            return -1;
    }
    return fputc('\n', f) == EOF ? -1 : 0;
}

/* The rows of x against ref: by year, then metric in metrics.h order. work
 * has room for 2 * nrep doubles. */
static int put_run(FILE *f, const ts_compare_run *ref, const char *ref_field,
                   const ts_compare_run *x, double *work) {
    char *scen = ts_output_csv_field(x->name);
    int bad = !scen || ts_compare_check_results(ref->res, x->res, NULL) != TS_OK;
    const ts_results *r = ref->res;
    for (size_t y = 0; y < r->nyear && !bad; y++) {
        for (int m = 0; m < TS_NMETRICS && !bad; m++) {
            ts_compare_stat st;
            ts_compare_metric(r, x->res, y, (ts_metric)m, work, &st);
            cmp_row w = {scen, ref_field, r->year0 + (int64_t)y, (ts_metric)m, &st};
            bad = put_row(f, &w);
        }
    }
    free(scen);
    return bad;
}

int ts_compare_write_csv(FILE *f, const ts_compare_run *ref,
                         const ts_compare_run *runs, size_t n) {
    char *ref_field = ts_output_csv_field(ref->name);
    double *work = malloc((2 * ref->res->nrep + 1) * sizeof *work);
    int bad = !ref_field || !work || put_header(f);
    for (size_t i = 0; i < n && !bad; i++)
        bad = put_run(f, ref, ref_field, &runs[i], work);
    free(work);
    free(ref_field);
    if (fflush(f) == EOF)
        bad = 1;
    return bad || ferror(f) ? -1 : 0;
}

ts_status ts_compare_write_file(const char *dir, const ts_compare_run *ref,
                                const ts_compare_run *runs, size_t n,
                                volatile sig_atomic_t *stop, ts_error *err) {
    for (size_t i = 0; i < n; i++) {
        ts_status st = ts_compare_check_results(ref->res, runs[i].res, err);
        if (st != TS_OK)
            return st;
    }
    ts_atomic *a = ts_atomic_open(dir, TS_COMPARE_CSV, err);
    if (!a)
        return TS_ERUNTIME;
    errno = 0;
    if (ts_compare_write_csv(ts_atomic_stream(a), ref, runs, n) != 0) {
        int e = errno ? errno : EIO;
        ts_atomic_abort(a);
        return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "cannot write '%s/%s': %s", dir,
                            TS_COMPARE_CSV, strerror(e));
    }
    if (stop && *stop) {
        ts_atomic_abort(a);
        return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "interrupted");
    }
    return ts_atomic_commit(a, err);
}
