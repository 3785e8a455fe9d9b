/* The metrics of MODEL.md section 6, one value per replication per year.
 *
 * TS_METRICS is the one table of metrics, an X-macro of rows
 * (enum id, name, kind, source):
 * - kind TS_MK_COUNT values are reported in real-world units (divided by
 *   sample_fraction); TS_MK_SHARE and TS_MK_MEAN are not rescaled;
 * - source names the engine's yearly tally the value is computed from:
 *   TS_N(c) an integer tally, TS_R(num, den) a ratio of two integer tallies,
 *   TS_S(s) a floating sum, TS_M(s, c) a floating sum per integer tally.
 *   The tally slots are internal to the engine (sim/model/tally.h), which
 *   alone expands this column.
 * A value that is undefined in a year (a ratio or mean over nobody, such as
 * the 5-year stay rate of an empty cohort) is NaN. Adding a metric whose
 * tallies exist is one row here. */
#ifndef TALENTSIM_METRICS_H
#define TALENTSIM_METRICS_H

#include <stddef.h>

typedef enum { TS_MK_COUNT, TS_MK_SHARE, TS_MK_MEAN } ts_metric_kind;

#define TS_METRICS(X)                                                                   \
    X(STOCK_US_STUDENT, "stock.us.student", TS_MK_COUNT, TS_N(STOCK_US_STUDENT))        \
    X(STOCK_US_EARLY, "stock.us.early", TS_MK_COUNT, TS_N(STOCK_US_EARLY))              \
    X(STOCK_US_SENIOR, "stock.us.senior", TS_MK_COUNT, TS_N(STOCK_US_SENIOR))           \
    X(STOCK_US_TOTAL, "stock.us.total", TS_MK_COUNT, TS_N(STOCK_US_TOTAL))              \
    X(STOCK_CN_STUDENT, "stock.cn.student", TS_MK_COUNT, TS_N(STOCK_CN_STUDENT))        \
    X(STOCK_CN_EARLY, "stock.cn.early", TS_MK_COUNT, TS_N(STOCK_CN_EARLY))              \
    X(STOCK_CN_SENIOR, "stock.cn.senior", TS_MK_COUNT, TS_N(STOCK_CN_SENIOR))           \
    X(STOCK_CN_TOTAL, "stock.cn.total", TS_MK_COUNT, TS_N(STOCK_CN_TOTAL))              \
    X(STOCK_US_ACADEMIA, "stock.us.academia", TS_MK_COUNT, TS_N(US_ACADEMIA))           \
    X(STOCK_US_INDUSTRY, "stock.us.industry", TS_MK_COUNT, TS_N(US_INDUSTRY))           \
    X(TALENT_US, "talent.us", TS_MK_COUNT, TS_S(TALENT_US))                             \
    X(TALENT_CN, "talent.cn", TS_MK_COUNT, TS_S(TALENT_CN))                             \
    X(TOP_TALENT_US_SHARE, "top_talent.us_share", TS_MK_SHARE, TS_R(TOP_US, TOP_ALL))   \
    X(FLOWS_US_TO_CN, "flows.us_to_cn", TS_MK_COUNT, TS_N(US_TO_CN))                    \
    X(FLOWS_US_TO_CN_ACADEMIC, "flows.us_to_cn_academic", TS_MK_COUNT,                  \
      TS_N(US_TO_CN_ACAD))                                                              \
    X(FLOWS_CN_TO_US, "flows.cn_to_us", TS_MK_COUNT, TS_N(CN_TO_US))                    \
    X(FLOWS_FORCED, "flows.forced", TS_MK_COUNT, TS_N(FORCED))                          \
    X(FLOWS_GRADUATES_US, "flows.graduates_us", TS_MK_COUNT, TS_N(GRAD_US))             \
    X(FLOWS_GRADUATES_STAY_US, "flows.graduates_stay_us", TS_MK_COUNT,                  \
      TS_N(GRAD_STAY_US))                                                               \
    X(INFLOW_US_STUDENTS, "inflow.us_students", TS_MK_COUNT, TS_N(INFLOW_US))           \
    X(INFLOW_CN_STUDENTS, "inflow.cn_students", TS_MK_COUNT, TS_N(INFLOW_CN))           \
    X(SURVEY_FEEL_UNSAFE, "survey.feel_unsafe", TS_MK_SHARE, TS_R(UNSAFE, US_ACADEMIA)) \
    X(SURVEY_CONSIDERED_LEAVING, "survey.considered_leaving", TS_MK_SHARE,              \
      TS_R(CONSIDERED, US_ACADEMIA))                                                    \
    X(SURVEY_COLLAB_WORRY, "survey.collab_worry", TS_MK_SHARE,                          \
      TS_R(COLLAB_WORRY, US_ACADEMIA))                                                  \
    X(SURVEY_GRANT_RELUCTANT, "survey.grant_reluctant", TS_MK_SHARE,                    \
      TS_R(GRANT_RELUCTANT, US_ACADEMIA))                                               \
    X(FEAR_US_MEAN, "fear.us_mean", TS_MK_MEAN, TS_M(FEAR_US_ACAD, US_ACADEMIA))        \
    X(OUTPUT_PAPERS_US, "output.papers_us", TS_MK_COUNT, TS_S(PAPERS_US))               \
    X(OUTPUT_PAPERS_CN, "output.papers_cn", TS_MK_COUNT, TS_S(PAPERS_CN))               \
    X(OUTPUT_PAPERS_JOINT, "output.papers_joint", TS_MK_COUNT, TS_S(PAPERS_JOINT))      \
    X(COHORT_STAY_RATE_5Y, "cohort.stay_rate_5y", TS_MK_SHARE,                          \
      TS_R(COHORT_US, COHORT_ALL))                                                      \
    X(FLOWS_FORCED_ACADEMIC, "flows.forced_academic", TS_MK_COUNT,                      \
      TS_N(FORCED_ACAD))                                                                \
    X(TALENT_MEAN_US_TO_CN_VOLUNTARY, "talent.mean_us_to_cn_voluntary", TS_MK_MEAN,     \
      TS_M(Q_VOLUNTARY, VOLUNTARY))                                                     \
    X(TALENT_MEAN_US_STAYERS, "talent.mean_us_stayers", TS_MK_MEAN,                     \
      TS_M(Q_STAYERS, STAYERS))                                                         \
    X(COLLAB_US_ACADEMIA_SHARE, "collab.us_academia_share", TS_MK_SHARE,                \
      TS_R(US_ACAD_COLLAB, US_ACADEMIA))                                                \
    X(ECO_GAP, "eco.gap", TS_MK_MEAN, TS_S(ECO_GAP))

#define TS_METRIC_ENUM_(id, name, kind, src) TS_M_##id,
typedef enum { TS_METRICS(TS_METRIC_ENUM_) TS_NMETRICS } ts_metric;
#undef TS_METRIC_ENUM_

const char *ts_metric_name(ts_metric m);
ts_metric_kind ts_metric_kind_of(ts_metric m);
/* Index of the metric called name, or -1. */
int ts_metric_find(const char *name);

#endif
