/* The parameter table (MODEL.md section 8, plus the initial visa shares of
 * section 2b) and everything that reads it: defaults, lookup, "did you mean",
 * parsing, range checks, exact formatting and the Markdown reference.
 *
 * Invariant: every row's default lies inside its range, every key is unique,
 * and the rows appear in MODEL.md order (the resolved-scenario dump and
 * docs/parameters.md follow this order). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_priv.h"
#include "talentsim/params.h"

#define OFF(field) offsetof(ts_params, field)
#define ROW(k, t, field, lo, hi, d, fl, u, doc) \
    {k, t, OFF(field), lo, hi, d, fl, u, doc, NULL}
#define REAL(k, field, lo, hi, d, fl, u, doc) \
    ROW(k, TS_T_REAL, field, lo, hi, d, fl, u, doc)
#define INT(k, field, lo, hi, d, fl, u, doc) \
    ROW(k, TS_T_INT, field, lo, hi, d, fl, u, doc)
/* probability or share in [0, 1] */
#define PROB(k, field, d, u, doc) REAL(k, field, 0, 1, d, 0, u, doc)
/* utility weight (beta) in [0, 50] */
#define BETA(k, field, d, doc) REAL(k, field, 0, 50, d, 0, "utility", doc)

#define MAX_COUNT 100000000.0
#define MAX_SEED 9007199254740992.0 /* 2^53: every seed is an exact double */
#define ST TS_PF_STATIC

static const char *const ban_names[] = {"none", "noncitizens", "all", NULL};

static const ts_param_info param_table[] = {
    /* run */
    INT("seed", seed, 0, MAX_SEED, 20221103, ST, "1", "master seed"),
    INT("replications", replications, 1, 100000, 100, ST, "runs",
        "Monte Carlo replications"),
    INT("years.start", years.start, 1900, 2200, 2015, ST, "year",
        "first recorded year (the spin-up years.spinup comes before it)"),
    INT("years.end", years.end, 1900, 2200, 2035, ST, "year",
        "last simulated year (inclusive)"),
    INT("years.spinup", years.spinup, 0, 100, 20, ST, "years",
        "unrecorded years simulated before years.start, so that no start-up "
        "artefact reaches the recorded years (MODEL 2); 0 starts recording "
        "at once"),
    REAL("sample_fraction", sample_fraction, 0, 1, 1.0, ST | TS_PF_MIN_OPEN,
         "share", "share of the real population simulated; counts are "
         "reported in real-world units"),
    /* population */
    INT("population.us.students", population.us.students, 0, MAX_COUNT,
        8500, ST, "persons", "doctoral students in the US at the start of the "
        "spin-up (engineering and computer science, the fields of the AASF "
        "switch counts, seed 000)"),
    INT("population.us.early", population.us.early, 0, MAX_COUNT, 10500, ST,
        "persons", "EARLY researchers (postdoc, junior faculty, junior "
        "industry) in the US at the start of the spin-up"),
    INT("population.us.senior", population.us.senior, 0, MAX_COUNT, 9500, ST,
        "persons", "SENIOR researchers in the US at the start of the spin-up; "
        "with the other defaults about 36,000 US EARLY+SENIOR in 2015"),
    INT("population.cn.students", population.cn.students, 0, MAX_COUNT,
        20500, ST, "persons", "doctoral students in China at the start of "
        "the spin-up"),
    INT("population.cn.early", population.cn.early, 0, MAX_COUNT, 21500, ST,
        "persons", "EARLY researchers in China at the start of the spin-up"),
    INT("population.cn.senior", population.cn.senior, 0, MAX_COUNT, 14500,
        ST, "persons", "SENIOR researchers in China at the start of the "
        "spin-up"),
    PROB("population.us.industry_share", population.us.industry_share, 0.50,
         "share", "P(INDUSTRY) for US graduates and US EARLY/SENIOR at start"),
    PROB("population.cn.industry_share", population.cn.industry_share, 0.40,
         "share", "P(INDUSTRY) for graduates in China and CN EARLY/SENIOR at "
         "start"),
    REAL("population.us.init_temp_share", population.us.init_temp_share, 0, 1,
         0.5, ST, "share", "share of US EARLY agents on a TEMP visa at start "
         "(MODEL 2b); the rest are PERMANENT"),
    REAL("population.us.init_citizen_share", population.us.init_citizen_share,
         0, 1, 0.5, ST, "share", "share of US SENIOR agents who are citizens "
         "at start (MODEL 2b); the rest are PERMANENT"),
    REAL("population.talent_sigma", population.talent_sigma, 0, 3, 0.5, 0,
         "log-sd", "log-sd of research talent q = exp(talent_sigma z)"),
    PROB("population.collab_share", population.collab_share, 0.4, "share",
         "initial share of EARLY/SENIOR with a cross-border collaboration"),
    /* inflow */
    INT("inflow.us_students.base", inflow.us_students.base, 0, MAX_COUNT,
        3000, 0, "persons/year", "new Chinese doctoral students in the US in "
        "years.start (scaled by visa.student_approval)"),
    REAL("inflow.us_students.growth", inflow.us_students.growth, -0.5, 1,
         0.02, 0, "1/year", "yearly growth of the US student inflow"),
    INT("inflow.cn_students.base", inflow.cn_students.base, 0, MAX_COUNT,
        16000, 0, "persons/year", "new doctoral students in China in "
        "years.start (AIDP talent push, seed 003)"),
    REAL("inflow.cn_students.growth", inflow.cn_students.growth, -0.5, 1,
         0.06, 0, "1/year", "yearly growth of the Chinese student inflow "
         "(AIDP talent push, seed 003)"),
    /* career */
    INT("career.phd_years", career.phd_years, 1, 10, 5, ST, "years",
        "years from doctoral student to graduation"),
    PROB("career.attrition.student", career.attrition.student, 0.03,
         "probability/year", "yearly exit from research of students"),
    PROB("career.attrition.early", career.attrition.early, 0.04,
         "probability/year", "yearly exit from research of EARLY agents"),
    PROB("career.attrition.senior", career.attrition.senior, 0.03,
         "probability/year", "yearly exit from research of SENIOR agents"),
    PROB("career.promote_rate", career.promote_rate, 0.10,
         "probability/year", "base yearly promotion EARLY -> SENIOR"),
    REAL("career.promote_talent", career.promote_talent, -5, 5, 0.5, 0, "1",
         "exponent of talent q in the promotion probability"),
    INT("career.promote_min_years", career.promote_min_years, 0, 30, 3, 0,
        "years", "years as EARLY before promotion is possible"),
    PROB("career.promotion_ceiling", career.promotion_ceiling, 0.2, "share",
         "\"implicit ceiling\": reduction of promotion in the US (seed 004)"),
    INT("career.stuck_years", career.stuck_years, 0, 30, 6, 0, "years",
        "years as EARLY after which the stuck penalty utility.stuck applies"),
    PROB("career.review_rate", career.review_rate, 0.3, "probability/year",
         "yearly chance to reconsider location"),
    /* visa */
    PROB("visa.student_approval", visa.student_approval, 0.95, "probability",
         "share of US student inflow admitted; Secure Campus Act: 0 "
         "(seed 000)"),
    PROB("visa.work_approval", visa.work_approval, 0.90, "probability",
         "chance of US work authorization at graduation and on arrival"),
    PROB("visa.green_card_rate", visa.green_card_rate, 0.30,
         "probability/year", "yearly TEMP -> PERMANENT"),
    PROB("visa.naturalization_rate", visa.naturalization_rate, 0.15,
         "probability/year", "yearly PERMANENT -> CITIZEN after 5 years"),
    INT("visa.max_temp_years", visa.max_temp_years, 1, 30, 6, 0, "years",
        "years on a TEMP visa before it expires (then extended, or a forced "
        "move to China)"),
    PROB("visa.extension_rate", visa.extension_rate, 0.8, "probability/year",
         "share of TEMP holders at visa.max_temp_years who extend (a green "
         "card pending); the rest must leave"),
    /* funding */
    PROB("funding.us_federal_access", funding.us_federal_access, 1.0, "share",
         "access to US federal research funding"),
    {"funding.federal_ban", TS_T_ENUM, OFF(funding.federal_ban), 0, 2,
     TS_BAN_NONE, 0, "enum", "who is barred from US federal funding; Secure "
     "Campus Act: noncitizens (seed 000)", ban_names},
    PROB("funding.cn_level", funding.cn_level, 0.7, "share",
         "research funding level in China relative to US federal access"),
    /* suspicion */
    PROB("suspicion.level", suspicion.level, 0.15, "1",
         "suspicion s_t; China Initiative 2018-2022 raises it (seed 000)"),
    PROB("suspicion.adaptation", suspicion.adaptation, 0.35, "1/year",
         "lambda: yearly weight of new fear (calibrated)"),
    REAL("suspicion.sens_sigma", suspicion.sens_sigma, 0, 3, 0.5, 0, "log-sd",
         "log-sd of sensitivity to suspicion (mean 1)"),
    PROB("suspicion.fear_noise", suspicion.fear_noise, 0.1, "1",
         "sd of the yearly noise in fear"),
    REAL("suspicion.peer_effect", suspicion.peer_effect, 0, 10, 0.1, 0, "1",
         "omega: fear added by one normal year's academic departures of "
         "colleagues (departure rate / d_ref; calibrated)"),
    REAL("suspicion.d_ref", suspicion.d_ref, 0, 1, 0.01, TS_PF_MIN_OPEN,
         "1/year", "a normal year's academic departure rate, the unit of the "
         "peer effect"),
    /* collaboration */
    PROB("collaboration.openness", collaboration.openness, 1.0, "1",
         "openness to US-CN collaboration; collaboration bans lower it "
         "(seed 000)"),
    PROB("collaboration.form_rate", collaboration.form_rate, 0.10,
         "probability/year", "yearly chance to form a collaboration "
         "(times openness)"),
    PROB("collaboration.break_rate", collaboration.break_rate, 0.5,
         "probability/year", "extra yearly chance to end a collaboration "
         "(times 1 - openness): restrictions end more of them"),
    PROB("collaboration.end_rate", collaboration.end_rate, 0.15,
         "probability/year", "yearly end of a collaboration in normal times; "
         "form_rate (1 - s0) / s0 keeps the share s0 = 0.4"),
    /* china */
    REAL("china.salary_ratio", china.salary_ratio, 0, 10, 0.7, TS_PF_MIN_OPEN,
         "ratio", "gross pay in China / US; \"competitive pay ... similar to "
         "Silicon Valley\" for returnees (seed 004)"),
    PROB("china.tax_relief", china.tax_relief, 0.75, "share",
         "\"75% reduction in personal income tax from some regions\" "
         "(seed 004)"),
    PROB("china.tax_relief_coverage", china.tax_relief_coverage, 0.2,
         "probability", "chance a returnee gets the tax relief (seed 004)"),
    REAL("china.tax_cn", china.tax_cn, 0, 0.99, 0.45, 0, "share",
         "top marginal income tax rate in China"),
    REAL("china.tax_us", china.tax_us, 0, 0.99, 0.35, 0, "share",
         "top marginal income tax rate in the US"),
    REAL("china.talent_program", china.talent_program, 0, 10, 1.0, 0, "1",
         "talent-programme bonus for high-talent returnees (seed 003, 004)"),
    REAL("china.talent_threshold", china.talent_threshold, 0, 100, 1.8, 0,
         "talent q", "talent q from which the talent programme applies "
         "(seed 003, 004)"),
    PROB("china.offer_rate", china.offer_rate, 0.7, "probability",
         "chance a move to China finds a position"),
    /* us */
    PROB("us.offer_rate", us.offer_rate, 0.12, "probability",
         "chance a move to the US finds a position"),
    /* eco */
    REAL("eco.elasticity", eco.elasticity, 0, 10, 1.0, 0, "1",
         "ecosystem effect: \"the more you do, the better you get at it\" "
         "(seed 000)"),
    /* utility */
    BETA("utility.wage", utility.wage, 1.0,
         "beta of the net wage gap in China"),
    BETA("utility.fund", utility.fund, 1.0, "beta of funding access"),
    BETA("utility.collab", utility.collab, 0.5,
         "beta of an active cross-border collaboration"),
    BETA("utility.eco", utility.eco, 1.0, "beta of the ecosystem term"),
    BETA("utility.fear", utility.fear, 1.35,
         "beta of perceived hostility (calibrated)"),
    BETA("utility.visa", utility.visa, 0.5, "beta of holding a TEMP visa"),
    BETA("utility.stuck", utility.stuck, 0.8,
         "beta of being stuck as EARLY for career.stuck_years"),
    BETA("utility.ties", utility.ties, 1.0, "beta of years in the US (ties)"),
    BETA("utility.talent", utility.talent, 0.5, "beta of the talent programme"),
    BETA("utility.home", utility.home, 0.5, "beta of home-country preference"),
    BETA("utility.talent_us", utility.talent_us, 1.0,
         "beta of ln(q) in the US: \"the best of them would be staying in "
         "US academia\" (seed 004)"),
    REAL("utility.move_cost", utility.move_cost, 0, 50, 2.0, 0, "utility",
         "cost of moving between countries"),
    REAL("utility.asc_cn", utility.asc_cn, -50, 50, -1.08, 0, "utility",
         "alternative-specific constant of China (calibrated)"),
    /* survey */
    INT("survey.year", survey.year, 1900, 2200, 2021, ST, "year",
        "year of the AASF survey (Dec 2021-Mar 2022, seed 000)"),
    INT("survey.window", survey.window, 1, 8, 2, ST, "years",
        "years counted for \"had thought about leaving\" (AASF survey)"),
    REAL("survey.consider_shift", survey.consider_shift, -50, 50, 2.543, 0,
         "utility", "kappa: shift of the chance to think about leaving "
         "(calibrated)"),
    REAL("survey.threshold_unsafe", survey.threshold_unsafe, 0, 2, 0.419, 0,
         "1", "fear above which an academic feels unsafe (calibrated)"),
    REAL("survey.threshold_collab", survey.threshold_collab, 0, 2, 0.472, 0,
         "1", "threshold of collaboration worry (calibrated)"),
    REAL("survey.threshold_grant", survey.threshold_grant, 0, 2, 0.553, 0, "1",
         "threshold of reluctance to apply for grants (calibrated)"),
    REAL("survey.collab_weight", survey.collab_weight, 0, 2, 0.1, 0, "1",
         "weight of a collaboration in collaboration worry"),
    REAL("survey.ban_weight", survey.ban_weight, 0, 2, 0.5, 0, "1",
         "weight of a funding ban in grant reluctance"),
    /* output */
    REAL("output.rho_fund", output.rho_fund, 0, 10, 0.3, 0, "1",
         "research output gain from funding"),
    REAL("output.rho_collab", output.rho_collab, 0, 10, 0.3, 0, "1",
         "output gain from collaboration, which \"greatly accelerates the "
         "research\" (seed 000)"),
    REAL("output.cn_data_advantage", output.cn_data_advantage, 0, 10, 0.1, 0,
         "1", "output gain in China from data access (seed 004)"),
};

#define NPARAMS (sizeof param_table / sizeof param_table[0])

size_t ts_param_count(void) { return NPARAMS; }

const ts_param_info *ts_param_at(size_t i) {
    return i < NPARAMS ? &param_table[i] : NULL;
}

const ts_param_info *ts_param_find(const char *key) {
    if (!key)
        return NULL;
    for (size_t i = 0; i < NPARAMS; i++)
        if (strcmp(param_table[i].key, key) == 0)
            return &param_table[i];
    return NULL;
}

/* Levenshtein distance; strings longer than 127 bytes count as far apart. */
size_t ts_edit_distance(const char *a, const char *b) {
    enum { MAXLEN = 127 };
    size_t na = strlen(a), nb = strlen(b);
    if (na > MAXLEN || nb > MAXLEN)
        return SIZE_MAX / 2;
    size_t row[MAXLEN + 1];
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

static const char *last_component(const char *key) {
    const char *dot = strrchr(key, '.');
    return dot ? dot + 1 : key;
}

/* Distance of key to row key k, or SIZE_MAX when too far to suggest: the
 * whole key within max(2, len/3) edits, or its last dotted component within
 * len/3 edits of k's last component (so "work_aproval" finds
 * "visa.work_approval"). */
static size_t suggest_distance(const char *key, const char *k) {
    size_t len = strlen(key);
    size_t d = ts_edit_distance(key, k);
    size_t lim = len / 3 > 2 ? len / 3 : 2;
    if (d <= lim)
        return d;
    const char *tail = last_component(key);
    size_t dt = ts_edit_distance(tail, last_component(k));
    if (dt <= strlen(tail) / 3)
        return dt + 1; /* a whole-key match of the same distance wins */
    return SIZE_MAX;
}

const ts_param_info *ts_param_suggest(const char *key) {
    if (!key || !*key)
        return NULL;
    const ts_param_info *best = NULL;
    size_t bestd = SIZE_MAX;
    for (size_t i = 0; i < NPARAMS; i++) {
        size_t d = suggest_distance(key, param_table[i].key);
        if (d < bestd) {
            bestd = d;
            best = &param_table[i];
        }
    }
    return best;
}

void ts_params_default(ts_params *p) {
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < NPARAMS; i++)
        ts_param_put(p, &param_table[i], param_table[i].def);
}

double ts_param_get(const ts_params *p, const ts_param_info *pi) {
    const char *base = (const char *)p + pi->offset;
    switch (pi->type) {
    case TS_T_INT:
        return (double)*(const int64_t *)(const void *)base;
    case TS_T_ENUM:
        return (double)*(const int *)(const void *)base;
    case TS_T_REAL:
    default:
        return *(const double *)(const void *)base;
    }
}

void ts_param_put(ts_params *p, const ts_param_info *pi, double v) {
    char *base = (char *)p + pi->offset;
    switch (pi->type) {
    case TS_T_INT:
        *(int64_t *)(void *)base = (int64_t)v;
        break;
    case TS_T_ENUM:
        *(int *)(void *)base = (int)v;
        break;
    case TS_T_REAL:
    default:
        *(double *)(void *)base = v;
        break;
    }
}

/* Shortest of %.15g, %.16g, %.17g that reads back as the same double. */
static void format_real(double v, char *buf, size_t n) {
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        double back = strtod(buf, NULL);
        if (memcmp(&back, &v, sizeof v) == 0)
            return;
    }
}

void ts_param_format(const ts_param_info *pi, double v, char *buf, size_t n) {
    if (!buf || n == 0)
        return;
    if (pi->type == TS_T_ENUM) {
        size_t k = 0;
        while (pi->names && pi->names[k])
            k++;
        int ok = v >= 0 && v < (double)k && v == floor(v);
        snprintf(buf, n, "%s", ok ? pi->names[(size_t)v] : "?");
    } else if (pi->type == TS_T_INT && isfinite(v) && fabs(v) < 9.3e18) {
        snprintf(buf, n, "%" PRId64, (int64_t)v);
    } else {
        format_real(v, buf, n);
    }
}

/* Appends the enum names, comma separated. */
static void enum_names_text(const ts_param_info *pi, char *buf, size_t n) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t k = 0; pi->names && pi->names[k] && used < n; k++) {
        int w = snprintf(buf + used, n - used, "%s%s", k ? ", " : "",
                         pi->names[k]);
        if (w < 0)
            return;
        used += (size_t)w;
    }
}

void ts_param_range_text(const ts_param_info *pi, char *buf, size_t n) {
    if (!buf || n == 0)
        return;
    if (pi->type == TS_T_ENUM) {
        char names[256];
        enum_names_text(pi, names, sizeof names);
        snprintf(buf, n, "one of %s", names);
        return;
    }
    char lo[40], hi[40];
    format_real(pi->min, lo, sizeof lo);
    format_real(pi->max, hi, sizeof hi);
    snprintf(buf, n, "%s%s%s, %s]", pi->type == TS_T_INT ? "integer in " : "",
             pi->flags & TS_PF_MIN_OPEN ? "(" : "[", lo, hi);
}

static int in_range(const ts_param_info *pi, double v) {
    if (!isfinite(v) || v > pi->max)
        return 0;
    if (pi->flags & TS_PF_MIN_OPEN)
        return v > pi->min;
    return v >= pi->min;
}

ts_status ts_param_check(const ts_param_info *pi, double v, const char *file,
                         int line, int col, ts_error *err) {
    char range[300], val[64];
    ts_param_range_text(pi, range, sizeof range);
    format_real(v, val, sizeof val);
    if (pi->type != TS_T_REAL && isfinite(v) && v != floor(v))
        return ts_error_set(err, TS_EINPUT, file, line, col, pi->key,
                            "%s = %s is not an integer; allowed: %s", pi->key,
                            val, range);
    if (!in_range(pi, v))
        return ts_error_set(err, TS_EINPUT, file, line, col, pi->key,
                            "%s = %s is out of range; allowed: %s", pi->key,
                            val, range);
    return TS_OK;
}

/* Quotes text for a message: at most 60 bytes, then "...". */
static void quote_text(const char *text, char *buf, size_t n) {
    if (strlen(text) > 60)
        snprintf(buf, n, "'%.57s...'", text);
    else
        snprintf(buf, n, "'%s'", text);
}

/* strtod over the whole text: a finite number and nothing else. */
static int parse_double(const char *text, double *v) {
    char *end;
    if (!*text || *text == ' ' || *text == '\t')
        return 0;
    *v = strtod(text, &end);
    return *end == '\0' && end != text && isfinite(*v);
}

/* An integer: plain decimal digits or a number with an integral value such
 * as "5.0" or "1e3". Sets *huge when the digits are beyond 2^53, where a
 * double would round them (every integer parameter is below that). */
static int parse_integer(const char *text, double *v, int *huge) {
    char *end;
    *huge = 0;
    if (!*text || *text == ' ' || *text == '\t')
        return 0;
    errno = 0;
    long long ll = strtoll(text, &end, 10);
    if (*end == '\0' && end != text) {
        *huge = errno == ERANGE || ll > (1LL << 53) || ll < -(1LL << 53);
        *v = (double)ll;
        return 1;
    }
    return parse_double(text, v) && *v == floor(*v);
}

static int parse_enum(const ts_param_info *pi, const char *text, double *v) {
    for (size_t k = 0; pi->names && pi->names[k]; k++)
        if (strcmp(pi->names[k], text) == 0) {
            *v = (double)k;
            return 1;
        }
    return 0;
}

/* "expected a number for KEY (real in [a, b]), got 'text'" */
static ts_status parse_error(const ts_param_info *pi, const char *text,
                             const char *file, int line, int col,
                             ts_error *err) {
    char range[300], got[80];
    ts_param_range_text(pi, range, sizeof range);
    if (*text)
        quote_text(text, got, sizeof got);
    else
        snprintf(got, sizeof got, "an empty value");
    const char *what = pi->type == TS_T_ENUM  ? "a name"
                       : pi->type == TS_T_INT ? "an integer"
                                              : "a number";
    return ts_error_set(err, TS_EINPUT, file, line, col, pi->key,
                        "expected %s for %s (%s%s), got %s", what, pi->key,
                        pi->type == TS_T_REAL ? "real in " : "", range, got);
}

ts_status ts_param_parse(const ts_param_info *pi, const char *text, double *v,
                         const char *file, int line, int col, ts_error *err) {
    double x = 0;
    int ok, huge = 0;
    if (!text)
        text = "";
    if (pi->type == TS_T_ENUM)
        ok = parse_enum(pi, text, &x);
    else if (pi->type == TS_T_INT)
        ok = parse_integer(text, &x, &huge);
    else
        ok = parse_double(text, &x);
    if (!ok)
        return parse_error(pi, text, file, line, col, err);
    if (huge) {
        char range[300];
        ts_param_range_text(pi, range, sizeof range);
        return ts_error_set(err, TS_EINPUT, file, line, col, pi->key,
                            "%s = %.40s is out of range; allowed: %s",
                            pi->key, text, range);
    }
    ts_status st = ts_param_check(pi, x, file, line, col, err);
    if (st == TS_OK && v)
        *v = x;
    return st;
}

double ts_params_inflow(const ts_params *p, int china, int64_t year) {
    const ts_inflow *in = china ? &p->inflow.cn_students : &p->inflow.us_students;
    double approval = china ? 1.0 : p->visa.student_approval;
    return (double)in->base * pow(1.0 + in->growth, (double)(year - p->years.start)) * approval;
}

/* MODEL 4 step 2 runs the inflow back in time through the spin-up: the
 * first spin-up year has base (1 + growth)^-spinup students, which a
 * negative growth makes huge. */
static ts_status check_spinup_inflow(const ts_params *p, const char *file, ts_error *err) {
    const struct { const char *key; const ts_inflow *in; } flows[2] = {
        {"inflow.us_students.growth", &p->inflow.us_students},
        {"inflow.cn_students.growth", &p->inflow.cn_students}};
    for (int i = 0; i < 2; i++) {
        double first = (double)flows[i].in->base *
                       pow(1.0 + flows[i].in->growth, -(double)p->years.spinup);
        if (first > MAX_COUNT)
            return ts_error_set(err, TS_EINPUT, file, 0, 0, flows[i].key,
                                "%s = %g over years.spinup = %" PRId64 " years gives %.3g "
                                "new students in the first spin-up year; at most %.0f",
                                flows[i].key, flows[i].in->growth, p->years.spinup, first,
                                MAX_COUNT);
    }
    return TS_OK;
}

/* Checks that every value is in range, then cross-parameter constraints. */
ts_status ts_params_validate(const ts_params *p, const char *file,
                             ts_error *err) {
    for (size_t i = 0; i < NPARAMS; i++) {
        const ts_param_info *pi = &param_table[i];
        if (ts_param_check(pi, ts_param_get(p, pi), file, 0, 0, err))
            return TS_EINPUT;
    }
    if (p->years.end < p->years.start)
        return ts_error_set(err, TS_EINPUT, file, 0, 0, "years.end",
                            "years.end = %" PRId64 " is before years.start = "
                            "%" PRId64, p->years.end, p->years.start);
    if (p->years.end - p->years.start > TS_MAX_YEARS_SPAN)
        return ts_error_set(err, TS_EINPUT, file, 0, 0, "years.end",
                            "years.start = %" PRId64 " to years.end = %" PRId64
                            " spans more than %d years; allowed: years.end - "
                            "years.start <= %d", p->years.start, p->years.end,
                            TS_MAX_YEARS_SPAN, TS_MAX_YEARS_SPAN);
    return check_spinup_inflow(p, file, err);
}

/* ---- docs/parameters.md ------------------------------------------------ */

static int put_str(ts_write_fn w, void *ctx, const char *s) {
    return w(ctx, s, strlen(s)) != 0 ? -1 : 0;
}

/* Writes s with '|' escaped, as Markdown table cells need. */
static int put_cell(ts_write_fn w, void *ctx, const char *s) {
    while (*s) {
        size_t run = strcspn(s, "|");
        if (run && w(ctx, s, run) != 0)
            return -1;
        s += run;
        if (*s == '|') {
            if (put_str(w, ctx, "\\|"))
                return -1;
            s++;
        }
    }
    return 0;
}

/* The table section a key belongs to: its first dotted component, except
 * the run settings (seed, replications, years, sample_fraction). */
static void group_of(const char *key, char *buf, size_t n) {
    size_t len = strcspn(key, ".");
    if (key[len] == '\0' || (len == 5 && strncmp(key, "years", 5) == 0))
        snprintf(buf, n, "Run");
    else
        snprintf(buf, n, "%.*s", (int)len, key);
}

static const char *type_name(ts_param_type t) {
    return t == TS_T_INT ? "integer" : t == TS_T_ENUM ? "enum" : "real";
}

static int write_heading(ts_write_fn w, void *ctx, const char *group) {
    char buf[256];
    if (strcmp(group, "Run") == 0)
        snprintf(buf, sizeof buf, "\n## Run\n\n");
    else
        snprintf(buf, sizeof buf, "\n## `%s`\n\n", group);
    if (put_str(w, ctx, buf))
        return -1;
    return put_str(w, ctx,
                   "| key | type | default | range | units | description | "
                   "policy |\n|---|---|---|---|---|---|---|\n");
}

static int write_row(ts_write_fn w, void *ctx, const ts_param_info *pi) {
    char def[64], range[300], head[512];
    ts_param_format(pi, pi->def, def, sizeof def);
    ts_param_range_text(pi, range, sizeof range);
    snprintf(head, sizeof head, "| `%s` | %s | %s | ", pi->key,
             type_name(pi->type), def);
    if (put_str(w, ctx, head) || put_cell(w, ctx, range) ||
        put_str(w, ctx, " | ") || put_cell(w, ctx, pi->units) ||
        put_str(w, ctx, " | ") || put_cell(w, ctx, pi->doc))
        return -1;
    return put_str(w, ctx, pi->flags & TS_PF_STATIC
                               ? " | no (fixed for a run) |\n"
                               : " | yes |\n");
}

static const char markdown_intro[] =
    "# Parameters\n\n"
    "This file is generated by `talentsim --params-markdown` from the "
    "parameter table in `sim/scenario/params.c` and must not be edited by hand "
    "(`make docs` regenerates it). Every key can be set in a scenario file, "
    "nested (`visa: {work_approval: 0.8}`) or dotted "
    "(`visa.work_approval: 0.8`), and on the command line with "
    "`--set key=value`. The column *policy* says whether a time-bounded "
    "policy may change the parameter; the others are fixed for a run. "
    "Ranges are inclusive unless written with `(`.\n";

/* The callback w returns 0 on success, anything else on failure. */
int ts_params_write_markdown(ts_write_fn w, void *ctx) {
    char group[64], prev[64] = "";
    if (put_str(w, ctx, markdown_intro))
        return -1;
    for (size_t i = 0; i < NPARAMS; i++) {
        group_of(param_table[i].key, group, sizeof group);
        if (strcmp(group, prev) != 0) {
            if (write_heading(w, ctx, group))
                return -1;
            snprintf(prev, sizeof prev, "%s", group);
        }
        if (write_row(w, ctx, &param_table[i]))
            return -1;
    }
    return 0;
}
