/* The metrics of MODEL.md section 6, one value per replication per year.
 *
 * TS_METRICS is an X-macro: (enum id, name, kind). Kind TS_MK_COUNT values are
 * reported in real-world units (divided by sample_fraction); TS_MK_SHARE and
 * TS_MK_MEAN are not rescaled. A value that is undefined in a year (e.g. the
 * 5-year stay rate before the first cohort reaches five years) is NaN. */
#ifndef TALENTSIM_METRICS_H
#define TALENTSIM_METRICS_H

#include <stddef.h>

typedef enum { TS_MK_COUNT, TS_MK_SHARE, TS_MK_MEAN } ts_metric_kind;

#define TS_METRICS(X)                                                   \
    X(STOCK_US_STUDENT, "stock.us.student", TS_MK_COUNT)                \
    X(STOCK_US_EARLY, "stock.us.early", TS_MK_COUNT)                    \
    X(STOCK_US_SENIOR, "stock.us.senior", TS_MK_COUNT)                  \
    X(STOCK_US_TOTAL, "stock.us.total", TS_MK_COUNT)                    \
    X(STOCK_CN_STUDENT, "stock.cn.student", TS_MK_COUNT)                \
    X(STOCK_CN_EARLY, "stock.cn.early", TS_MK_COUNT)                    \
    X(STOCK_CN_SENIOR, "stock.cn.senior", TS_MK_COUNT)                  \
    X(STOCK_CN_TOTAL, "stock.cn.total", TS_MK_COUNT)                    \
    X(STOCK_US_ACADEMIA, "stock.us.academia", TS_MK_COUNT)              \
    X(STOCK_US_INDUSTRY, "stock.us.industry", TS_MK_COUNT)              \
    X(TALENT_US, "talent.us", TS_MK_COUNT)                              \
    X(TALENT_CN, "talent.cn", TS_MK_COUNT)                              \
    X(TOP_TALENT_US_SHARE, "top_talent.us_share", TS_MK_SHARE)          \
    X(FLOWS_US_TO_CN, "flows.us_to_cn", TS_MK_COUNT)                    \
    X(FLOWS_US_TO_CN_ACADEMIC, "flows.us_to_cn_academic", TS_MK_COUNT)  \
    X(FLOWS_CN_TO_US, "flows.cn_to_us", TS_MK_COUNT)                    \
    X(FLOWS_FORCED, "flows.forced", TS_MK_COUNT)                        \
    X(FLOWS_GRADUATES_US, "flows.graduates_us", TS_MK_COUNT)            \
    X(FLOWS_GRADUATES_STAY_US, "flows.graduates_stay_us", TS_MK_COUNT)  \
    X(INFLOW_US_STUDENTS, "inflow.us_students", TS_MK_COUNT)            \
    X(INFLOW_CN_STUDENTS, "inflow.cn_students", TS_MK_COUNT)            \
    X(SURVEY_FEEL_UNSAFE, "survey.feel_unsafe", TS_MK_SHARE)            \
    X(SURVEY_CONSIDERED_LEAVING, "survey.considered_leaving", TS_MK_SHARE) \
    X(SURVEY_COLLAB_WORRY, "survey.collab_worry", TS_MK_SHARE)          \
    X(SURVEY_GRANT_RELUCTANT, "survey.grant_reluctant", TS_MK_SHARE)    \
    X(FEAR_US_MEAN, "fear.us_mean", TS_MK_MEAN)                         \
    X(OUTPUT_PAPERS_US, "output.papers_us", TS_MK_COUNT)                \
    X(OUTPUT_PAPERS_CN, "output.papers_cn", TS_MK_COUNT)                \
    X(OUTPUT_PAPERS_JOINT, "output.papers_joint", TS_MK_COUNT)          \
    X(COHORT_STAY_RATE_5Y, "cohort.stay_rate_5y", TS_MK_SHARE)

#define TS_METRIC_ENUM_(id, name, kind) TS_M_##id,
typedef enum { TS_METRICS(TS_METRIC_ENUM_) TS_NMETRICS } ts_metric;
#undef TS_METRIC_ENUM_

const char *ts_metric_name(ts_metric m);
ts_metric_kind ts_metric_kind_of(ts_metric m);
/* Index of the metric called name, or -1. */
int ts_metric_find(const char *name);

#endif
