/* CSV writers: summary.csv, replications.csv, targets.csv.
 *
 * RFC 4180 with '\n' line ends: a header line, no index column, a field is
 * quoted only when it holds a comma, a quote or a line break (quotes doubled).
 * NaN is an empty field (read as NaN by pandas, NA by R). A number is the
 * shortest of %.15g / %.16g / %.17g that reads back as the identical double,
 * so files are exact and identical for identical results. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "output_internal.h"
#include "talentsim/stats.h"

#define SUMMARY_HEADER "scenario,year,metric,mean,sd,p2_5,p50,p97_5,replications\n"
#define REPLICATIONS_HEADER "scenario,replication,year,metric,value\n"
#define TARGETS_HEADER "metric,year,observed,n,sim_mean,sim_p2_5,sim_p97_5,met,source\n"

void ts_output_format_double(double v, char buf[TS_NUM_BUFSZ]) {
    if (isnan(v)) {
        buf[0] = '\0';
        return;
    }
    if (isinf(v)) {
        strcpy(buf, v > 0 ? "Inf" : "-Inf");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, TS_NUM_BUFSZ, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* s as one CSV field (quoted when needed), in a new string; NULL if out of
 * memory. */
static char *csv_field(const char *s) {
    if (!s)
        s = "";
    if (!strpbrk(s, ",\"\r\n"))
        return strdup(s);
    size_t n = strlen(s), quotes = 0;
    for (const char *p = s; *p; p++)
        quotes += *p == '"';
    char *out = malloc(n + quotes + 3);
    if (!out)
        return NULL;
    char *o = out;
    *o++ = '"';
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            *o++ = '"';
        *o++ = *p;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

char *ts_output_csv_field(const char *s) { return csv_field(s); }

/* Flushes f so that a full device shows up here; -1 on any stream error. */
static int csv_finish(FILE *f, int bad) {
    if (fflush(f) == EOF)
        bad = 1;
    return bad || ferror(f) ? -1 : 0;
}

static int put_summary_row(FILE *f, const char *scen, int64_t year,
                           ts_metric m, const ts_summary *s) {
    const double v[5] = {s->mean, s->sd, s->p2_5, s->p50, s->p97_5};
    char num[5][TS_NUM_BUFSZ];
    for (int i = 0; i < 5; i++)
        ts_output_format_double(v[i], num[i]);
    return fprintf(f, "%s,%" PRId64 ",%s,%s,%s,%s,%s,%s,%zu\n", scen, year,
                   ts_metric_name(m), num[0], num[1], num[2], num[3], num[4],
                   s->n) < 0;
}

/* Rows by year, then metric in metrics.h order. */
int ts_write_summary_csv(FILE *f, const ts_scenario *sc, const ts_results *r) {
    char *scen = csv_field(sc->name);
    double *work = malloc(r->nrep * sizeof *work);
    int bad = !scen || !work || fputs(SUMMARY_HEADER, f) == EOF;
    for (size_t y = 0; y < r->nyear && !bad; y++) {
        for (int m = 0; m < TS_NMETRICS && !bad; m++) {
            ts_summary s;
            ts_summary_metric(r, y, (ts_metric)m, work, &s);
            bad = put_summary_row(f, scen, r->year0 + (int64_t)y, (ts_metric)m, &s);
        }
    }
    free(work);
    free(scen);
    return csv_finish(f, bad);
}

/* Rows by replication (1-based), year, metric. */
int ts_write_replications_csv(FILE *f, const ts_scenario *sc, const ts_results *r) {
    char *scen = csv_field(sc->name);
    int bad = !scen || fputs(REPLICATIONS_HEADER, f) == EOF;
    for (size_t rep = 0; rep < r->nrep && !bad; rep++) {
        for (size_t y = 0; y < r->nyear && !bad; y++) {
            int64_t year = r->year0 + (int64_t)y;
            for (int m = 0; m < TS_NMETRICS && !bad; m++) {
                char num[TS_NUM_BUFSZ];
                ts_output_format_double(ts_results_get(r, rep, y, (ts_metric)m), num);
                bad = fprintf(f, "%s,%zu,%" PRId64 ",%s,%s\n", scen, rep + 1, year,
                              ts_metric_name((ts_metric)m), num) < 0;
            }
        }
    }
    free(scen);
    return csv_finish(f, bad);
}

static const char *met_text(int met) {
    return met == 1 ? "TRUE" : met == 0 ? "FALSE" : "";
}

static int put_target_row(FILE *f, const ts_target *t, const ts_target_eval *ev) {
    const double v[5] = {t->observed, t->n, ev->sim.mean, ev->sim.p2_5, ev->sim.p97_5};
    char num[5][TS_NUM_BUFSZ];
    for (int i = 0; i < 5; i++)
        ts_output_format_double(v[i], num[i]);
    char *metric = csv_field(t->metric), *source = csv_field(t->source);
    int bad = !metric || !source ||
              fprintf(f, "%s,%" PRId64 ",%s,%s,%s,%s,%s,%s,%s\n", metric, t->year,
                      num[0], num[1], num[2], num[3], num[4], met_text(ev->met),
                      source) < 0;
    free(metric);
    free(source);
    return bad;
}

/* One row per target of the scenario, in the scenario's order. */
int ts_write_targets_csv(FILE *f, const ts_scenario *sc, const ts_results *r) {
    double *work = malloc(r->nrep * sizeof *work);
    int bad = !work || fputs(TARGETS_HEADER, f) == EOF;
    for (size_t i = 0; i < sc->ntargets && !bad; i++) {
        ts_target_eval ev;
        ts_target_evaluate(&sc->targets[i], r, work, &ev);
        bad = put_target_row(f, &sc->targets[i], &ev);
    }
    free(work);
    return csv_finish(f, bad);
}
