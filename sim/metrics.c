/* Names and kinds of the metrics (MODEL.md section 6), from TS_METRICS. */
#include <string.h>

#include "talentsim/metrics.h"

#define TS_METRIC_NAME_(id, name, kind, src) name,
static const char *const metric_names[TS_NMETRICS] = {TS_METRICS(TS_METRIC_NAME_)};
#undef TS_METRIC_NAME_

#define TS_METRIC_KIND_(id, name, kind, src) kind,
static const ts_metric_kind metric_kinds[TS_NMETRICS] = {TS_METRICS(TS_METRIC_KIND_)};
#undef TS_METRIC_KIND_

const char *ts_metric_name(ts_metric m) {
    return (unsigned)m < TS_NMETRICS ? metric_names[m] : "?";
}

ts_metric_kind ts_metric_kind_of(ts_metric m) {
    return (unsigned)m < TS_NMETRICS ? metric_kinds[m] : TS_MK_COUNT;
}

int ts_metric_find(const char *name) {
    for (int m = 0; m < TS_NMETRICS; m++)
        if (strcmp(metric_names[m], name) == 0)
            return m;
    return -1;
}
