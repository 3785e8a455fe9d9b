/* From the yearly tally to the metrics of MODEL.md section 6 (driven by the
 * source column of TS_METRICS) and to the aggregates of next year (MODEL 4
 * step 5, MODEL 5). */
#include <math.h>
#include <string.h>

#include "agent.h"
#include "tally.h"

/* How a metric is computed from the tally: the source column of TS_METRICS. */
typedef enum { SRC_COUNT, SRC_RATIO, SRC_SUM, SRC_MEAN } ts_src_op;

typedef struct {
    ts_src_op op;
    int a, b; /* slots: a count or sum, b the denominator count */
} ts_source;

#define TS_N(c) {SRC_COUNT, TS_C_##c, 0}
#define TS_R(num, den) {SRC_RATIO, TS_C_##num, TS_C_##den}
#define TS_S(s) {SRC_SUM, TS_S_##s, 0}
#define TS_M(s, c) {SRC_MEAN, TS_S_##s, TS_C_##c}
#define TS_METRIC_SOURCE_(id, name, kind, src) src,
static const ts_source metric_sources[TS_NMETRICS] = {TS_METRICS(TS_METRIC_SOURCE_)};
#undef TS_METRIC_SOURCE_
#undef TS_N
#undef TS_R
#undef TS_S
#undef TS_M

/* num / den, missing (NaN) when den is 0. */
static double per(double num, int64_t den) { return den > 0 ? num / (double)den : NAN; }

void ts_metrics_of(const ts_tally *t, double fraction, double *m) {
    for (int k = 0; k < TS_NMETRICS; k++) {
        const ts_source *src = &metric_sources[k];
        switch (src->op) {
        case SRC_COUNT: m[k] = (double)t->n[src->a]; break;
        case SRC_RATIO: m[k] = per((double)t->n[src->a], t->n[src->b]); break;
        case SRC_SUM: m[k] = t->s[src->a]; break;
        case SRC_MEAN: m[k] = per(t->s[src->a], t->n[src->b]); break;
        }
        if (ts_metric_kind_of((ts_metric)k) == TS_MK_COUNT)
            m[k] /= fraction;
    }
}

/* S_c = T_c / (T_US + T_CN); both 0 when there is no talent at all. */
static void shares_of(double t_us, double t_cn, double out[2]) {
    double total = t_us + t_cn;
    out[TS_LOC_US] = total > 0.0 ? t_us / total : 0.0;
    out[TS_LOC_CN] = total > 0.0 ? t_cn / total : 0.0;
}

void ts_carry_start(ts_carry *c, const double talent[2]) {
    memset(c, 0, sizeof *c);
    shares_of(talent[TS_LOC_US], talent[TS_LOC_CN], c->share0);
}

void ts_carry_update(ts_carry *c, const ts_tally *t) {
    shares_of(t->s[TS_S_TALENT_US], t->s[TS_S_TALENT_CN], c->share_prev);
    int64_t stock = t->n[TS_C_START_US_ACAD];
    c->d_prev = stock > 0 ? (double)t->n[TS_C_US_TO_CN_ACAD] / (double)stock : 0.0;
    c->have_prev = 1;
}

/* MODEL 5: the relative standing of each country's research community:
 * bounded, and unmoved by growth that both share. */
void ts_carry_eco(const ts_carry *c, const ts_params *p, double a[2]) {
    for (int l = 0; l < 2; l++)
        a[l] = c->have_prev ? p->eco.elasticity * (c->share_prev[l] - c->share0[l]) : 0.0;
}
