/* The patterns of MODEL.md section 10 and their checks.
 *
 * Every statistical criterion is stated in standard errors of a
 * per-replication quantity: replications are independent, so the mean of
 * the per-replication values has standard error sd / sqrt(n). Paired
 * quantities (two years of one replication, or one replication of two
 * scenarios with common random numbers) difference the noise they share. */
#include <gsl/gsl_statistics_double.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "talentsim/patterns.h"
#include "talentsim/stats.h"

/* P2: "a steady yearly uptick" of switches 175 (2017) -> 298 (2021), seed
 * 000_d8197e17c5350f38.txt. */
#define P2_FROM 2017
#define P2_TO 2021
/* P3: the first recorded years, and the margin of the no-transient check. */
#define P3_YEARS 3
#define P3_K_SE 4.0
/* P4: forced moves below this share of the academic switches. */
#define P4_MAX_SHARE 0.5

/* MODEL 10, P5: the paired variants. Amounts are large enough to move the
 * outcome by many standard errors at full scale, small enough to stay
 * inside every parameter's range from the baseline. */
static const ts_p5_variant variants[] = {
    {"more_suspicion", "suspicion.level", TS_VARY_ADD, 0.2},
    {"fewer_student_visas", "visa.student_approval", TS_VARY_ADD, -0.45},
    {"more_tax_relief", "china.tax_relief_coverage", TS_VARY_ADD, 0.4},
    {"less_openness", "collaboration.openness", TS_VARY_ADD, -0.5},
    {"federal_ban_noncitizens", "funding.federal_ban", TS_VARY_SET, 1 /* noncitizens */},
};

/* Cohorts graduating from `from` on reach their 5-year stay rate 5 years
 * later, hence the offset of P5b. */
static const ts_p5_direction directions[] = {
    {"P5a", "more suspicion -> more academic departures", 0,
     TS_M_FLOWS_US_TO_CN_ACADEMIC, 0, +1},
    {"P5b", "more suspicion -> lower 5-year stay rates", 0, TS_M_COHORT_STAY_RATE_5Y, 5, -1},
    {"P5c", "fewer student visas -> fewer US students", 1, TS_M_STOCK_US_STUDENT, 0, -1},
    {"P5d", "more tax relief -> more US->CN moves", 2, TS_M_FLOWS_US_TO_CN, 0, +1},
    {"P5e", "less openness -> fewer joint papers", 3, TS_M_OUTPUT_PAPERS_JOINT, 0, -1},
    {"P5f", "federal ban on non-citizens -> more grant reluctance", 4,
     TS_M_SURVEY_GRANT_RELUCTANT, 0, +1},
};

/* P3: the headline metrics checked for a start-up transient. */
static const ts_metric p3_metrics[] = {
    TS_M_STOCK_US_ACADEMIA,     TS_M_STOCK_US_TOTAL,       TS_M_STOCK_CN_TOTAL,
    TS_M_FLOWS_US_TO_CN,        TS_M_FLOWS_US_TO_CN_ACADEMIC, TS_M_FLOWS_CN_TO_US,
    TS_M_FLOWS_FORCED,          TS_M_FLOWS_GRADUATES_US,   TS_M_SURVEY_FEEL_UNSAFE,
    TS_M_SURVEY_CONSIDERED_LEAVING, TS_M_SURVEY_COLLAB_WORRY, TS_M_SURVEY_GRANT_RELUCTANT,
    TS_M_FEAR_US_MEAN,          TS_M_COLLAB_US_ACADEMIA_SHARE, TS_M_TOP_TALENT_US_SHARE,
    TS_M_COHORT_STAY_RATE_5Y,
};

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

size_t ts_p5_variant_count(void) { return LEN(variants); }
const ts_p5_variant *ts_p5_variant_at(size_t i) { return i < LEN(variants) ? &variants[i] : NULL; }
size_t ts_p5_direction_count(void) { return LEN(directions); }
const ts_p5_direction *ts_p5_direction_at(size_t i) {
    return i < LEN(directions) ? &directions[i] : NULL;
}

void ts_pattern_report_free(ts_pattern_report *r) {
    if (!r)
        return;
    free(r->rows);
    memset(r, 0, sizeof *r);
}

/* ---- statistics of per-replication values ------------------------------ */

/* Mean and standard error of the finite values among x[0..n-1] (compacted in
 * place); returns how many there were. se is NaN with fewer than two. */
static size_t mean_se(double *x, size_t n, double *mean, double *se) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            x[k++] = x[i];
    *mean = k ? gsl_stats_mean(x, 1, k) : NAN;
    *se = k > 1 ? gsl_stats_sd_m(x, 1, k, *mean) / sqrt((double)k) : NAN;
    return k;
}

/* Mean of metric m of replication r over year indices y0..y1, NaN skipped. */
static double window_mean(const ts_results *res, size_t r, ts_metric m, size_t y0, size_t y1) {
    double sum = 0.0;
    size_t k = 0;
    for (size_t y = y0; y <= y1; y++) {
        double v = ts_results_get(res, r, y, m);
        if (isfinite(v)) {
            sum += v;
            k++;
        }
    }
    return k ? sum / (double)k : NAN;
}

size_t ts_paired_difference(const ts_results *base, const ts_results *var, ts_metric m,
                            size_t y0, size_t y1, double *mean, double *se) {
    *mean = *se = NAN;
    if (base->nrep != var->nrep || base->nyear != var->nyear || y0 > y1 || y1 >= base->nyear)
        return 0;
    double *d = malloc(base->nrep * sizeof *d);
    if (!d)
        return 0;
    for (size_t r = 0; r < base->nrep; r++)
        d[r] = window_mean(var, r, m, y0, y1) - window_mean(base, r, m, y0, y1);
    size_t k = mean_se(d, base->nrep, mean, se);
    free(d);
    return k;
}

/* ---- the report -------------------------------------------------------- */

__attribute__((format(printf, 5, 6))) static int add_row(ts_pattern_report *rep, const char *id,
                                                         const char *pattern, int pass,
                                                         const char *fmt, ...) {
    ts_pattern_row *grown = realloc(rep->rows, (rep->n + 1) * sizeof *grown);
    if (!grown)
        return -1;
    rep->rows = grown;
    ts_pattern_row *row = &rep->rows[rep->n++];
    memset(row, 0, sizeof *row);
    snprintf(row->id, sizeof row->id, "%s", id);
    snprintf(row->pattern, sizeof row->pattern, "%s", pattern);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(row->figure, sizeof row->figure, fmt, ap);
    va_end(ap);
    row->pass = pass;
    rep->nfail += !pass;
    return 0;
}

static void set_criterion(ts_pattern_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_criterion(ts_pattern_report *rep, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rep->rows[rep->n - 1].criterion, sizeof rep->rows[0].criterion, fmt, ap);
    va_end(ap);
}

/* ---- P1: the targets --------------------------------------------------- */

static int check_p1(const ts_scenario *sc, const ts_results *res, double *work,
                    ts_pattern_report *rep) {
    size_t met = 0;
    for (size_t i = 0; i < sc->ntargets; i++) {
        ts_target_eval ev;
        ts_target_evaluate(&sc->targets[i], res, work, &ev);
        met += ev.met == 1;
    }
    int pass = sc->ntargets > 0 && met == sc->ntargets;
    if (add_row(rep, "P1", "the targets of MODEL.md section 7 are met", pass,
                "%zu of %zu targets met", met, sc->ntargets))
        return -1;
    set_criterion(rep, "every target inside its widened 95%% interval");
    return 0;
}

/* ---- P2: a steady yearly uptick ---------------------------------------- */

static int check_p2(const ts_results *res, double *work, ts_pattern_report *rep) {
    long y0 = ts_results_year_index(res, P2_FROM), y1 = ts_results_year_index(res, P2_TO);
    const char *pattern = "flows.us_to_cn_academic rises every year 2017-2021";
    if (y0 < 1 || y1 < 0) {
        if (add_row(rep, "P2", pattern, 0, "years %d-%d not simulated", P2_FROM, P2_TO))
            return -1;
        set_criterion(rep, "each yearly step > 1 standard error");
        return 0;
    }
    double worst = INFINITY;
    char steps[120] = "";
    for (long y = y0 + 1; y <= y1; y++) {
        for (size_t r = 0; r < res->nrep; r++)
            work[r] = ts_results_get(res, r, (size_t)y, TS_M_FLOWS_US_TO_CN_ACADEMIC) -
                      ts_results_get(res, r, (size_t)y - 1, TS_M_FLOWS_US_TO_CN_ACADEMIC);
        double mean, se;
        mean_se(work, res->nrep, &mean, &se);
        double z = se > 0 ? mean / se : (mean > 0 ? INFINITY : -INFINITY);
        worst = isnan(z) || z < worst ? z : worst;
        size_t used = strlen(steps);
        snprintf(steps + used, sizeof steps - used, "%s%+.0f", y > y0 + 1 ? " " : "", mean);
    }
    if (add_row(rep, "P2", pattern, worst > 1.0, "steps %s; smallest %.1f se", steps, worst))
        return -1;
    set_criterion(rep, "each yearly step > 1 standard error");
    return 0;
}

/* ---- P3: no start-up transient ----------------------------------------- */

/* The per-replication second difference of metric m over year indices
 * 0, 1, 2: on the log scale for counts (so that steady exponential growth
 * gives 0), on the level for shares and means. */
static double second_difference(const ts_results *res, size_t r, ts_metric m) {
    double x[P3_YEARS];
    int logs = ts_metric_kind_of(m) == TS_MK_COUNT;
    for (size_t y = 0; y < P3_YEARS; y++) {
        double v = ts_results_get(res, r, y, m);
        x[y] = logs ? (v > 0 ? log(v) : NAN) : v;
    }
    return x[2] - 2.0 * x[1] + x[0];
}

static int check_p3(const ts_results *res, double *work, ts_pattern_report *rep) {
    const char *pattern = "no start-up transient in the first three years";
    double worst = 0.0;
    ts_metric worst_m = p3_metrics[0];
    for (size_t i = 0; res->nyear >= P3_YEARS && i < LEN(p3_metrics); i++) {
        for (size_t r = 0; r < res->nrep; r++)
            work[r] = second_difference(res, r, p3_metrics[i]);
        double mean, se;
        if (mean_se(work, res->nrep, &mean, &se) < 2)
            continue;
        double z = se > 0 ? fabs(mean) / se : (mean != 0 ? INFINITY : 0.0);
        if (z > worst) {
            worst = z;
            worst_m = p3_metrics[i];
        }
    }
    int pass = res->nyear >= P3_YEARS && worst <= P3_K_SE;
    if (add_row(rep, "P3", pattern, pass, "largest |2nd difference| %.1f se (%s), %zu metrics",
                worst, ts_metric_name(worst_m), LEN(p3_metrics)))
        return -1;
    set_criterion(rep, "2nd differences %" PRId64 "-%" PRId64 " within %.0f se (log for counts)",
                  res->year0, res->year0 + P3_YEARS - 1, P3_K_SE);
    return 0;
}

/* ---- P4 and P6: inequalities of yearly means --------------------------- */

static double year_mean(const ts_results *res, size_t y, ts_metric m, double *work) {
    ts_summary s;
    ts_summary_metric(res, y, m, work, &s);
    return s.mean;
}

static int check_p4(const ts_results *res, double *work, ts_pattern_report *rep) {
    double worst = -INFINITY;
    int64_t worst_year = res->year0;
    for (size_t y = 0; y < res->nyear; y++) {
        double forced = year_mean(res, y, TS_M_FLOWS_FORCED_ACADEMIC, work);
        double all = year_mean(res, y, TS_M_FLOWS_US_TO_CN_ACADEMIC, work);
        double share = all > 0 ? forced / all : INFINITY;
        if (isnan(share) || share > worst) {
            worst = isnan(share) ? INFINITY : share;
            worst_year = res->year0 + (int64_t)y;
        }
    }
    if (add_row(rep, "P4", "academic switches are chosen, not forced", worst < P4_MAX_SHARE,
                "forced share of academic switches at most %.2f (%" PRId64 ")", worst,
                worst_year))
        return -1;
    set_criterion(rep, "flows.forced_academic < %.1f x flows.us_to_cn_academic, every year",
                  P4_MAX_SHARE);
    return 0;
}

static int check_p6(const ts_results *res, double *work, ts_pattern_report *rep) {
    double gap = INFINITY, vol = NAN, stay = NAN;
    int64_t year = res->year0;
    for (size_t y = 0; y < res->nyear; y++) {
        double v = year_mean(res, y, TS_M_TALENT_MEAN_US_TO_CN_VOLUNTARY, work);
        double s = year_mean(res, y, TS_M_TALENT_MEAN_US_STAYERS, work);
        double g = s - v;
        if (isnan(g) || g < gap) {
            gap = isnan(g) ? -INFINITY : g;
            vol = v;
            stay = s;
            year = res->year0 + (int64_t)y;
        }
    }
    if (add_row(rep, "P6", "the best stay: voluntary movers are less talented", gap > 0,
                "closest year %" PRId64 ": movers %.3f, stayers %.3f", year, vol, stay))
        return -1;
    set_criterion(rep, "talent.mean_us_to_cn_voluntary < talent.mean_us_stayers, every year");
    return 0;
}

/* ---- P5: directions under paired variants ------------------------------- */

ts_status ts_p5_variant_make(const ts_scenario *sc, size_t v, int64_t from,
                             ts_scenario **out, ts_error *err) {
    *out = NULL;
    const ts_p5_variant *var = ts_p5_variant_at(v);
    const ts_param_info *pi = var ? ts_param_find(var->key) : NULL;
    if (!pi)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "", "no P5 variant #%zu", v);
    if (from < sc->base.years.start || from > sc->base.years.end)
        return ts_error_set(err, TS_EINPUT, sc->path, 0, 0, "years",
                            "P5 variants start in %" PRId64 ", outside the simulated years "
                            "[%" PRId64 ", %" PRId64 "]", from, sc->base.years.start,
                            sc->base.years.end);
    ts_params at;
    ts_scenario_params_at(sc, from, &at);
    double old = ts_param_get(&at, pi);
    double val = var->op == TS_VARY_SET ? var->amount : old + var->amount;
    val = val < pi->min ? pi->min : (val > pi->max ? pi->max : val);
    if (val == old)
        return ts_error_set(err, TS_EINPUT, sc->path, 0, 0, pi->key,
                            "P5 variant %s leaves %s unchanged in %" PRId64, var->name,
                            pi->key, from);
    ts_setting set = {.param = pi, .value = val};
    ts_policy pol = {.name = (char *)var->name, .from = from, .to = sc->base.years.end,
                     .to_open = 1, .set = &set, .nset = 1};
    ts_scenario *c = ts_scenario_copy(sc);
    if (!c)
        return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "out of memory");
    if (ts_scenario_add_policy(c, &pol, err) != TS_OK) {
        ts_scenario_free(c);
        return err->status;
    }
    *out = c;
    return TS_OK;
}

static int check_direction(const ts_p5_direction *d, const ts_results *base,
                           const ts_results *var, int64_t from, double k,
                           ts_pattern_report *rep) {
    long y0 = ts_results_year_index(base, from + d->offset);
    double mean = NAN, se = NAN;
    if (y0 >= 0)
        ts_paired_difference(base, var, d->metric, (size_t)y0, base->nyear - 1, &mean, &se);
    double z = se > 0 ? d->sign * mean / se : (d->sign * mean > 0 ? INFINITY : -INFINITY);
    if (add_row(rep, d->id, d->what, z > k, "%s %+.4g (%.1f se)", ts_metric_name(d->metric),
                mean, isnan(z) ? 0.0 : z))
        return -1;
    set_criterion(rep, "paired mean difference %s0 by > %.0f se, %" PRId64 "-%" PRId64,
                  d->sign > 0 ? ">" : "<", k, from + d->offset,
                  base->year0 + (int64_t)base->nyear - 1);
    return 0;
}

/* ---- the whole check --------------------------------------------------- */

typedef struct {
    const ts_run_opts *outer;
    size_t run, nrun;
} ts_stage_progress;

/* Progress of run `run` of nrun, as a share of the whole check. */
static void stage_progress(void *ctx, double done) {
    ts_stage_progress *sp = ctx;
    if (sp->outer->progress)
        sp->outer->progress(sp->outer->progress_ctx, ((double)sp->run + done) / (double)sp->nrun);
}

static ts_status run_stage(const ts_scenario *sc, ts_stage_progress *sp, ts_results **res,
                           ts_error *err) {
    ts_run_opts o = {.threads = sp->outer->threads, .progress = stage_progress,
                     .progress_ctx = sp};
    ts_status st = ts_sim_run(sc, &o, res, err);
    sp->run++;
    return st;
}

static ts_status out_of_memory(ts_error *err) {
    return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "out of memory");
}

static ts_status check_p5(const ts_scenario *sc, const ts_results *base,
                          const ts_pattern_opts *opt, ts_stage_progress *sp,
                          ts_pattern_report *rep, ts_error *err) {
    for (size_t v = 0; v < LEN(variants); v++) {
        ts_scenario *vs = NULL;
        ts_results *vr = NULL;
        ts_status st = ts_p5_variant_make(sc, v, opt->p5_from, &vs, err);
        if (st == TS_OK)
            st = run_stage(vs, sp, &vr, err);
        for (size_t i = 0; st == TS_OK && i < LEN(directions); i++)
            if (directions[i].variant == v &&
                check_direction(&directions[i], base, vr, opt->p5_from, opt->k_se, rep))
                st = out_of_memory(err);
        ts_results_free(vr);
        ts_scenario_free(vs);
        if (st != TS_OK)
            return st;
    }
    return TS_OK;
}

/* P1-P6 in order; the P5 variants are run here. */
static ts_status evaluate(const ts_scenario *sc, const ts_results *res,
                          const ts_pattern_opts *opt, ts_stage_progress *sp,
                          ts_pattern_report *rep, ts_error *err) {
    double *work = malloc(res->nrep * sizeof *work);
    if (!work || check_p1(sc, res, work, rep) || check_p2(res, work, rep) ||
        check_p3(res, work, rep) || check_p4(res, work, rep)) {
        free(work);
        return out_of_memory(err);
    }
    ts_status st = opt->no_variants ? TS_OK : check_p5(sc, res, opt, sp, rep, err);
    if (st == TS_OK && check_p6(res, work, rep))
        st = out_of_memory(err);
    free(work);
    return st;
}

ts_status ts_patterns_check(const ts_scenario *sc, const ts_run_opts *run,
                            const ts_pattern_opts *opt, ts_pattern_report *out,
                            ts_error *err) {
    memset(out, 0, sizeof *out);
    ts_stage_progress sp = {.outer = run, .run = 0,
                            .nrun = 1 + (opt->no_variants ? 0 : LEN(variants))};
    ts_results *base = NULL;
    ts_status st = run_stage(sc, &sp, &base, err);
    if (st == TS_OK)
        st = evaluate(sc, base, opt, &sp, out, err);
    ts_results_free(base);
    if (st != TS_OK)
        ts_pattern_report_free(out);
    return st;
}
