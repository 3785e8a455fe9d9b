/* The parameter table: one row per model parameter (MODEL.md section 8).
 *
 * The table is the single source of truth. The YAML loader, range checks,
 * `--set` overrides, the resolved-scenario dump and docs/parameters.md all
 * read it. A parameter lives in a named field of ts_params; its row gives the
 * dotted key, the storage type, the allowed range, the default, units and a
 * description with its source. */
#ifndef TALENTSIM_PARAMS_H
#define TALENTSIM_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "talentsim/error.h"

typedef enum { TS_BAN_NONE = 0, TS_BAN_NONCITIZENS, TS_BAN_ALL } ts_federal_ban;

typedef struct {
    int64_t students, early, senior; /* initial head counts */
    double industry_share;           /* P(INDUSTRY) at graduation and start */
    double init_temp_share;          /* US only: EARLY on TEMP at start */
    double init_citizen_share;       /* US only: SENIOR citizens at start */
} ts_pop_loc;

typedef struct {
    int64_t base;  /* new students in years.start */
    double growth; /* yearly growth rate */
} ts_inflow;

typedef struct {
    int64_t seed, replications;
    struct { int64_t start, end, spinup; } years;
    double sample_fraction;
    struct {
        ts_pop_loc us, cn;
        double talent_sigma, collab_share;
    } population;
    struct { ts_inflow us_students, cn_students; } inflow;
    struct {
        int64_t phd_years;
        struct { double student, early, senior; } attrition;
        double promote_rate, promote_talent;
        int64_t promote_min_years;
        double promotion_ceiling;
        int64_t stuck_years;
        double review_rate;
    } career;
    struct {
        double student_approval, work_approval, green_card_rate,
            naturalization_rate;
        int64_t max_temp_years;
        double extension_rate;
    } visa;
    struct {
        double us_federal_access;
        int federal_ban; /* ts_federal_ban */
        double cn_level;
    } funding;
    struct { double level, adaptation, sens_sigma, fear_noise, peer_effect, d_ref; } suspicion;
    struct { double openness, form_rate, break_rate, end_rate; } collaboration;
    struct {
        double salary_ratio, tax_relief, tax_relief_coverage, tax_cn, tax_us,
            talent_program, talent_threshold, offer_rate;
    } china;
    struct { double offer_rate; } us;
    struct { double elasticity; } eco;
    struct {
        double wage, fund, collab, eco, fear, visa, stuck, ties, talent, home,
            talent_us, move_cost, asc_cn;
    } utility;
    struct {
        int64_t year, window;
        double consider_shift, threshold_unsafe, threshold_collab,
            threshold_grant, collab_weight, ban_weight;
    } survey;
    struct { double rho_fund, rho_collab, cn_data_advantage; } output;
} ts_params;

typedef enum { TS_T_REAL, TS_T_INT, TS_T_ENUM } ts_param_type;

enum {
    TS_PF_MIN_OPEN = 1u << 0, /* the lower bound is excluded: (min, max] */
    TS_PF_STATIC = 1u << 1,   /* fixed for a run: a policy may not set it */
};

typedef struct {
    const char *key;               /* dotted path, e.g. "visa.green_card_rate" */
    ts_param_type type;            /* storage: double, int64_t or int (enum) */
    size_t offset;                 /* offsetof(ts_params, field) */
    double min, max;               /* allowed range (enum: 0..nnames-1) */
    double def;                    /* default (enum: index into names) */
    unsigned flags;                /* TS_PF_* */
    const char *units;             /* "probability", "1/year", "persons", ... */
    const char *doc;               /* meaning and source */
    const char *const *names;      /* enum value names, NULL-terminated */
} ts_param_info;

/* The table, in MODEL.md order. */
size_t ts_param_count(void);
const ts_param_info *ts_param_at(size_t i);
const ts_param_info *ts_param_find(const char *key);
/* Closest key by edit distance (for "did you mean"), or NULL if none is close. */
const ts_param_info *ts_param_suggest(const char *key);

void ts_params_default(ts_params *p);

/* Value of a parameter as double (int and enum converted exactly). */
double ts_param_get(const ts_params *p, const ts_param_info *pi);
/* Stores v, which must already be checked by ts_param_check. */
void ts_param_put(ts_params *p, const ts_param_info *pi, double v);

/* Range and integrality check of v for pi. On failure fills err (with key and
 * allowed range) using file/line/col, and returns TS_EINPUT. */
ts_status ts_param_check(const ts_param_info *pi, double v, const char *file,
                         int line, int col, ts_error *err);

/* Parses text (a YAML scalar or a --set value) into a checked value for pi:
 * a number for REAL/INT (INT must be integral), a name for ENUM. */
ts_status ts_param_parse(const ts_param_info *pi, const char *text, double *v,
                         const char *file, int line, int col, ts_error *err);

/* Formats v for pi so that parsing the text gives v back exactly
 * (%.17g for reals, integer for ints, the name for enums). */
void ts_param_format(const ts_param_info *pi, double v, char *buf, size_t n);

/* Describes the allowed range, e.g. "[0, 1]", "(0, 1]", "integer in [1, 1000000]",
 * "one of none, noncitizens, all". */
void ts_param_range_text(const ts_param_info *pi, char *buf, size_t n);

/* MODEL 4 step 2: new students in year (real-world count, before
 * sample_fraction): base (1 + growth)^(year - years.start), times
 * visa.student_approval in the US. china: 0 for the US inflow, 1 for China's.
 * The exponent is negative in the spin-up. */
double ts_params_inflow(const ts_params *p, int china, int64_t year);

/* Cross-parameter checks (years.end >= years.start, ...). */
ts_status ts_params_validate(const ts_params *p, const char *file, ts_error *err);

/* Writes docs/parameters.md content (Markdown) to buf-growing callback. */
typedef int (*ts_write_fn)(void *ctx, const char *s, size_t n);
int ts_params_write_markdown(ts_write_fn w, void *ctx);

#endif
