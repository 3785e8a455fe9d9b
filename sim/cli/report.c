/* The short human summary printed after a run. */
#include <math.h>
#include <stdlib.h>

#include "cli.h"
#include "talentsim/compare.h"
#include "talentsim/stats.h"

/* Metrics shown in the headline table, in this order. */
static const ts_metric headline[] = {
    TS_M_STOCK_US_TOTAL,         TS_M_STOCK_CN_TOTAL,       TS_M_STOCK_US_ACADEMIA,
    TS_M_FLOWS_US_TO_CN,         TS_M_FLOWS_US_TO_CN_ACADEMIC, TS_M_FLOWS_CN_TO_US,
    TS_M_TOP_TALENT_US_SHARE,    TS_M_COHORT_STAY_RATE_5Y,  TS_M_SURVEY_FEEL_UNSAFE,
    TS_M_SURVEY_CONSIDERED_LEAVING, TS_M_SURVEY_COLLAB_WORRY, TS_M_SURVEY_GRANT_RELUCTANT,
    TS_M_OUTPUT_PAPERS_US,       TS_M_OUTPUT_PAPERS_CN,     TS_M_OUTPUT_PAPERS_JOINT,
};

static void fmt_value(double v, ts_metric_kind kind, char *buf, size_t n) {
    if (isnan(v))
        snprintf(buf, n, "NA");
    else if (kind == TS_MK_COUNT)
        snprintf(buf, n, "%.0f", v);
    else
        snprintf(buf, n, "%.3f", v);
}

/* "mean [lo, hi]" */
static void fmt_triple(double mean, double lo, double hi, ts_metric_kind kind, char *buf,
                       size_t n) {
    char m[40], l[40], h[40];
    fmt_value(mean, kind, m, sizeof m);
    fmt_value(lo, kind, l, sizeof l);
    fmt_value(hi, kind, h, sizeof h);
    snprintf(buf, n, "%s [%s, %s]", m, l, h);
}

static void fmt_interval(const ts_summary *s, ts_metric_kind kind, char *buf, size_t n) {
    fmt_triple(s->mean, s->p2_5, s->p97_5, kind, buf, n);
}

static void print_headline(FILE *f, const ts_results *res, const int64_t years[2],
                           int ny, double *work) {
    fprintf(f, "%-28s", "metric (mean [95% interval])");
    for (int k = 0; k < ny; k++)
        fprintf(f, " %-30lld", (long long)years[k]);
    fputc('\n', f);
    for (size_t i = 0; i < sizeof headline / sizeof headline[0]; i++) {
        ts_metric m = headline[i];
        fprintf(f, "%-28s", ts_metric_name(m));
        for (int k = 0; k < ny; k++) {
            ts_summary s;
            char buf[160];
            ts_summary_metric(res, (size_t)(years[k] - res->year0), m, work, &s);
            fmt_interval(&s, ts_metric_kind_of(m), buf, sizeof buf);
            fprintf(f, " %-30s", buf);
        }
        fputc('\n', f);
    }
}

static void print_targets(FILE *f, const ts_scenario *sc, const ts_results *res, double *work) {
    if (sc->ntargets == 0)
        return;
    fprintf(f, "\nTargets (MODEL.md section 7)\n");
    fprintf(f, "%-26s %5s %9s %-30s %s\n", "metric", "year", "observed",
            "simulated mean [95% interval]", "result");
    int met = 0;
    for (size_t i = 0; i < sc->ntargets; i++) {
        const ts_target *t = &sc->targets[i];
        ts_target_eval ev;
        ts_target_evaluate(t, res, work, &ev);
        ts_metric_kind kind = ts_metric_kind_of((ts_metric)ts_metric_find(t->metric));
        char obs[40], buf[160];
        fmt_value(t->observed, kind, obs, sizeof obs);
        fmt_interval(&ev.sim, kind, buf, sizeof buf);
        const char *verdict = ev.met < 0 ? "n/a" : (ev.met ? "met" : "MISSED");
        met += ev.met == 1;
        fprintf(f, "%-26s %5lld %9s %-30s %s\n", t->metric, (long long)t->year, obs, buf, verdict);
    }
    fprintf(f, "%d of %zu targets met\n", met, sc->ntargets);
}

void ts_report_print(FILE *f, const ts_scenario *sc, const ts_results *res) {
    double *work = malloc(res->nrep * sizeof *work);
    if (!work)
        return;
    int64_t years[2];
    int ny = 0;
    int64_t last = res->year0 + (int64_t)res->nyear - 1;
    int64_t sy = sc->base.survey.year;
    if (sy >= res->year0 && sy < last)
        years[ny++] = sy;
    years[ny++] = last;
    print_headline(f, res, years, ny, work);
    print_targets(f, sc, res, work);
    free(work);
}

/* Metrics of the comparison's headline table, in this order. */
static const ts_metric compare_headline[] = {
    TS_M_STOCK_US_TOTAL,           TS_M_STOCK_CN_TOTAL,        TS_M_TOP_TALENT_US_SHARE,
    TS_M_FLOWS_US_TO_CN,           TS_M_FLOWS_US_TO_CN_ACADEMIC, TS_M_OUTPUT_PAPERS_US,
    TS_M_OUTPUT_PAPERS_CN,         TS_M_OUTPUT_PAPERS_JOINT,   TS_M_SURVEY_FEEL_UNSAFE,
    TS_M_SURVEY_CONSIDERED_LEAVING, TS_M_SURVEY_COLLAB_WORRY,  TS_M_SURVEY_GRANT_RELUCTANT,
};

void ts_report_print_compare(FILE *f, const ts_compare_run *ref, const ts_compare_run *x) {
    const ts_results *r = ref->res;
    double *work = malloc((2 * r->nrep + 1) * sizeof *work);
    if (!work || r->nyear == 0) {
        free(work);
        return;
    }
    size_t y = r->nyear - 1;
    fprintf(f, "%s - %s in %lld\n", x->name, ref->name, (long long)(r->year0 + (int64_t)y));
    fprintf(f, "%-28s %s\n", "metric", "mean difference [95% interval] (* excludes 0)");
    for (size_t i = 0; i < sizeof compare_headline / sizeof compare_headline[0]; i++) {
        ts_metric m = compare_headline[i];
        ts_compare_stat st;
        char buf[160];
        ts_compare_metric(r, x->res, y, m, work, &st);
        fmt_triple(st.mean_diff, st.p2_5, st.p97_5, ts_metric_kind_of(m), buf, sizeof buf);
        int excludes_zero = st.p2_5 > 0.0 || st.p97_5 < 0.0;
        fprintf(f, "%-28s %s%s\n", ts_metric_name(m), buf, excludes_zero ? " *" : "");
    }
    free(work);
}
