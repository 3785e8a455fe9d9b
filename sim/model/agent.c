/* The agent-level process of MODEL.md: initialisation (2b), inflow births
 * (4 step 2), the yearly steps 3.1-3.8 in order, and the end-of-year record
 * (section 6). Agents do not read each other's state within a year, so
 * ts_agent_year may run on any agent in any order on any thread. */
#include <math.h>

#include "agent.h"

/* z-score of the 90th percentile of N(0,1): the top-decile talent cut. */
#define TS_Z90 1.2815515655446004

static double clip01(double x) { return x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x); }

static uint8_t sat_inc(uint8_t x) { return x == UINT8_MAX ? x : (uint8_t)(x + 1); }

double ts_logistic(double x) { return 1.0 / (1.0 + exp(-x)); }

uint16_t ts_agent_group(int64_t year, ts_loc loc) {
    return (uint16_t)((year - 1700) * 2 + (int64_t)loc + 1);
}

void ts_year_init(ts_year *y, const ts_params *p, int64_t year, uint64_t seed,
                  uint32_t rep, double d_prev, double a_us, double a_cn) {
    y->p = p;
    y->year = year;
    y->seed = seed;
    y->rep = rep;
    y->s = p->suspicion.level;
    y->d_prev = d_prev;
    y->a_us = a_us;
    y->a_cn = a_cn;
    /* MODEL 5: Δw = ln(salary_ratio) + ln((1 - tax_cn (1 - relief)) / (1 - tax_us)) */
    double base = log(p->china.salary_ratio) - log(1.0 - p->china.tax_us);
    y->dw[0] = base + log(1.0 - p->china.tax_cn);
    y->dw[1] = base + log(1.0 - p->china.tax_cn * (1.0 - p->china.tax_relief));
    y->top_q = exp(TS_Z90 * p->population.talent_sigma);
    y->attrition[TS_STAGE_STUDENT] = p->career.attrition.student;
    y->attrition[TS_STAGE_EARLY] = p->career.attrition.early;
    y->attrition[TS_STAGE_SENIOR] = p->career.attrition.senior;
    y->window_mask = (uint8_t)((1u << p->survey.window) - 1u);
}

static void draws_for(const ts_year *y, const ts_agent *a, ts_draws *d) {
    ts_draws_init(d, y->seed, y->rep, a->idx, a->group, (uint32_t)y->year);
}

static double base_fear(const ts_year *y, const ts_agent *a) {
    return clip01(a->sens * y->s);
}

static const ts_pop_loc *pop_of(const ts_params *p, int loc) {
    return loc == TS_LOC_US ? &p->population.us : &p->population.cn;
}

/* MODEL 2: q = exp(talent_sigma z), sens = exp(sens_sigma z - sens_sigma^2/2). */
void ts_agent_birth(const ts_year *y, ts_agent *a, uint32_t idx, uint16_t group,
                    ts_loc loc, ts_stage stage) {
    const ts_params *p = y->p;
    *a = (ts_agent){.idx = idx, .group = group, .grad_year = -1, .active = 1,
                    .loc = (uint8_t)loc, .stage = (uint8_t)stage,
                    .sector = TS_SECTOR_ACADEMIA,
                    .visa = loc == TS_LOC_US ? TS_VISA_STUDENT : TS_VISA_NONE};
    ts_draws d;
    draws_for(y, a, &d);
    double ss = p->suspicion.sens_sigma;
    a->q = (float)exp(p->population.talent_sigma * ts_draw_normal(&d, TS_D_Q));
    a->sens = (float)exp(ss * ts_draw_normal(&d, TS_D_SENS) - 0.5 * ss * ss);
    a->h = (float)base_fear(y, a);
}

static void init_us_status(const ts_params *p, ts_agent *a, ts_draws *d) {
    unsigned yis = a->years_in_stage;
    unsigned phd = (unsigned)p->career.phd_years;
    if (a->stage == TS_STAGE_STUDENT) {
        a->years_in_us = (uint8_t)yis;
        a->visa = TS_VISA_STUDENT;
    } else if (a->stage == TS_STAGE_EARLY) {
        a->years_in_us = (uint8_t)(phd + yis);
        if (ts_draw_bern(d, TS_D_INIT_VISA, p->population.us.init_temp_share)) {
            a->visa = TS_VISA_TEMP;
            a->years_on_visa =
                (uint8_t)ts_draw_int(d, TS_D_INIT_YOV, (unsigned)p->visa.max_temp_years);
        } else {
            a->visa = TS_VISA_PERMANENT;
        }
    } else {
        a->years_in_us = (uint8_t)(phd + 6 + yis);
        if (ts_draw_bern(d, TS_D_INIT_VISA, p->population.us.init_citizen_share)) {
            a->visa = TS_VISA_CITIZEN;
        } else {
            a->visa = TS_VISA_PERMANENT;
            a->years_on_visa = (uint8_t)ts_draw_int(d, TS_D_INIT_YOV, 10);
        }
    }
}

/* MODEL 2b. Initial agents are group 0; draws are keyed by the first
 * simulated year (years.start - years.spinup). */
void ts_agent_init(const ts_year *y, ts_agent *a, uint32_t idx, ts_loc loc,
                   ts_stage stage) {
    const ts_params *p = y->p;
    ts_agent_birth(y, a, idx, 0, loc, stage);
    ts_draws d;
    draws_for(y, a, &d);
    static const unsigned yis_span[3] = {0, 10, 20}; /* student span is phd_years */
    unsigned span = stage == TS_STAGE_STUDENT ? (unsigned)p->career.phd_years : yis_span[stage];
    a->years_in_stage = (uint8_t)ts_draw_int(&d, TS_D_INIT_YIS, span);
    if (stage != TS_STAGE_STUDENT) {
        a->sector = ts_draw_bern(&d, TS_D_INIT_SECTOR, pop_of(p, loc)->industry_share)
                        ? TS_SECTOR_INDUSTRY : TS_SECTOR_ACADEMIA;
        a->collab = (uint8_t)ts_draw_bern(&d, TS_D_INIT_COLLAB, p->population.collab_share);
    }
    if (loc == TS_LOC_US)
        init_us_status(p, a, &d);
}

/* MODEL 3.1 */
int ts_mech_attrition(const ts_year *y, ts_agent *a, ts_draws *d) {
    if (!ts_draw_bern(d, TS_D_ATTRITION, y->attrition[a->stage]))
        return 0;
    a->active = 0;
    return 1;
}

/* MODEL 3.2: a collaboration ends with min(1, end_rate + break_rate (1 - openness));
 * one forms with form_rate openness. */
void ts_mech_collab(const ts_year *y, ts_agent *a, ts_draws *d) {
    const ts_params *p = y->p;
    double open = p->collaboration.openness;
    if (a->stage == TS_STAGE_STUDENT)
        return;
    if (a->collab)
        a->collab = !ts_draw_bern(d, TS_D_COLLAB,
                                  p->collaboration.end_rate +
                                      p->collaboration.break_rate * (1.0 - open));
    else
        a->collab = (uint8_t)ts_draw_bern(d, TS_D_COLLAB, p->collaboration.form_rate * open);
}

/* MODEL 3.3: US: h <- (1-λ) h + λ clip(sens s_t + ω d_{t-1} / d_ref + ε, 0, 1),
 * ε ~ N(0, fear_noise); CN: h = clip(sens s_t, 0, 1). */
void ts_mech_fear(const ts_year *y, ts_agent *a, ts_draws *d) {
    const ts_params *p = y->p;
    if (a->loc != TS_LOC_US) {
        a->h = (float)base_fear(y, a);
        return;
    }
    double eps = p->suspicion.fear_noise * ts_draw_normal(d, TS_D_FEAR);
    double lam = p->suspicion.adaptation;
    double peer = p->suspicion.peer_effect * y->d_prev / p->suspicion.d_ref;
    double target = clip01(a->sens * y->s + peer + eps);
    a->h = (float)((1.0 - lam) * a->h + lam * target);
}

static void set_visa(ts_agent *a, ts_visa v) {
    a->visa = (uint8_t)v;
    a->years_on_visa = 0;
}

static void move_to_cn(const ts_year *y, ts_agent *a) {
    a->loc = TS_LOC_CN;
    if (a->visa != TS_VISA_CITIZEN)
        set_visa(a, TS_VISA_NONE);
    a->h = (float)base_fear(y, a);
}

static void move_to_us(const ts_year *y, ts_agent *a) {
    a->loc = TS_LOC_US;
    if (a->visa != TS_VISA_CITIZEN)
        set_visa(a, TS_VISA_TEMP);
    a->h = (float)base_fear(y, a);
}

/* MODEL 3.4 (US only): TEMP -> PERMANENT (green_card_rate); PERMANENT for 5+
 * years -> CITIZEN (naturalization_rate); TEMP at max_temp_years that did
 * not just get a green card extends (extension_rate; years_on_visa keeps
 * counting) or must leave. */
int ts_mech_visa(const ts_year *y, ts_agent *a, ts_draws *d) {
    const ts_params *p = y->p;
    if (a->loc != TS_LOC_US)
        return 0;
    if (a->visa == TS_VISA_TEMP) {
        if (ts_draw_bern(d, TS_D_VISA, p->visa.green_card_rate)) {
            set_visa(a, TS_VISA_PERMANENT);
        } else if (a->years_on_visa >= p->visa.max_temp_years &&
                   !ts_draw_bern(d, TS_D_EXTEND, p->visa.extension_rate)) {
            move_to_cn(y, a);
            return 1;
        }
    } else if (a->visa == TS_VISA_PERMANENT && a->years_on_visa >= 5) {
        if (ts_draw_bern(d, TS_D_VISA, p->visa.naturalization_rate))
            set_visa(a, TS_VISA_CITIZEN);
    }
    return 0;
}

/* The visa the agent would hold in the US: citizens keep citizenship, anyone
 * else not yet in the US (or graduating) would hold TEMP. */
static int would_be_citizen(const ts_agent *a) { return a->visa == TS_VISA_CITIZEN; }

/* MODEL 5: F_US(i) = us_federal_access * (0 if banned(i) else 1). */
static double f_us(const ts_params *p, const ts_agent *a) {
    int ban = p->funding.federal_ban;
    int banned = ban == TS_BAN_ALL || (ban == TS_BAN_NONCITIZENS && !would_be_citizen(a));
    return banned ? 0.0 : p->funding.us_federal_access;
}

/* MODEL 5: V_US = β_fund F_US + β_collab openness collab + β_eco A_US
 *   + β_talent_us ln(q) - β_fear h
 *   - β_visa temp - β_stuck [EARLY, years_in_stage >= stuck_years]
 *   + β_ties min(years_in_us, 10)/10 - move_cost [in CN] */
double ts_util_us(const ts_year *y, const ts_agent *a, int at_graduation) {
    const ts_params *p = y->p;
    const __typeof__(p->utility) *b = &p->utility;
    int in_cn = a->loc == TS_LOC_CN;
    int temp = at_graduation || (in_cn ? !would_be_citizen(a) : a->visa == TS_VISA_TEMP);
    int stuck = a->stage == TS_STAGE_EARLY && a->years_in_stage >= p->career.stuck_years;
    double ties = (a->years_in_us < 10 ? a->years_in_us : 10) / 10.0;
    return b->fund * f_us(p, a) + b->collab * p->collaboration.openness * a->collab +
           b->eco * y->a_us + b->talent_us * log(a->q) - b->fear * a->h - b->visa * temp -
           b->stuck * stuck +
           b->ties * ties - b->move_cost * in_cn;
}

/* MODEL 5: V_CN = β_wage Δw + β_fund cn_level + β_eco A_CN
 *   + β_talent talent_program [q >= talent_threshold] + β_home + asc_cn
 *   - move_cost [in US] */
double ts_util_cn(const ts_year *y, const ts_agent *a, int relief) {
    const ts_params *p = y->p;
    const __typeof__(p->utility) *b = &p->utility;
    int top = a->q >= p->china.talent_threshold;
    return b->wage * y->dw[relief != 0] + b->fund * p->funding.cn_level + b->eco * y->a_cn +
           b->talent * p->china.talent_program * top + b->home + b->asc_cn -
           b->move_cost * (a->loc == TS_LOC_US);
}

/* MODEL 3.6: US -> CN with china.offer_rate logistic(V_CN - V_US);
 * CN -> US with us.offer_rate work_approval logistic(V_US - V_CN). */
double ts_move_prob(const ts_year *y, const ts_agent *a, int at_graduation, int relief) {
    const ts_params *p = y->p;
    double dv = ts_util_cn(y, a, relief) - ts_util_us(y, a, at_graduation);
    if (a->loc == TS_LOC_US)
        return p->china.offer_rate * ts_logistic(dv);
    return p->us.offer_rate * p->visa.work_approval * ts_logistic(-dv);
}

/* State of the agent at the start of the year, for flows. */
typedef struct {
    uint8_t loc, stage;
    uint8_t moved;   /* moved this year */
    uint8_t decided; /* made its location decision at graduation */
} ts_start;

/* MODEL 6: the flows of one move, just made. */
static void record_move(const ts_agent *a, const ts_start *st, int forced, ts_tally *t) {
    if (a->loc == TS_LOC_US) {
        t->n[TS_C_CN_TO_US]++;
        return;
    }
    int academic = st->stage != TS_STAGE_STUDENT && a->sector == TS_SECTOR_ACADEMIA;
    if (a->stage != TS_STAGE_STUDENT)
        t->n[TS_C_US_TO_CN]++;
    t->n[TS_C_US_TO_CN_ACAD] += academic;
    t->n[TS_C_FORCED] += forced;
    t->n[TS_C_FORCED_ACAD] += forced && academic;
    if (!forced) {
        t->n[TS_C_VOLUNTARY]++;
        t->s[TS_S_Q_VOLUNTARY] += a->q;
    }
}

/* MODEL 3.6: one location decision; moves the agent when it decides to. */
static void decide(const ts_year *y, ts_agent *a, ts_draws *d, ts_start *st,
                   int at_graduation, ts_tally *t) {
    int relief = ts_draw_bern(d, TS_D_RELIEF_MOVE, y->p->china.tax_relief_coverage);
    if (!ts_draw_bern(d, TS_D_MOVE, ts_move_prob(y, a, at_graduation, relief)))
        return;
    if (a->loc == TS_LOC_US)
        move_to_cn(y, a);
    else
        move_to_us(y, a);
    st->moved = 1;
    record_move(a, st, 0, t);
}

/* MODEL 3.5, graduation: EARLY, sector drawn; US graduates need work
 * authorization, then decide with certainty of review. */
static void graduate(const ts_year *y, ts_agent *a, ts_draws *d, ts_start *st, ts_tally *t) {
    const ts_params *p = y->p;
    a->stage = TS_STAGE_EARLY;
    a->years_in_stage = 0;
    a->grad_year = (int16_t)y->year;
    a->grad_in_us = a->loc == TS_LOC_US;
    a->sector = ts_draw_bern(d, TS_D_GRAD_SECTOR, pop_of(p, a->loc)->industry_share)
                    ? TS_SECTOR_INDUSTRY : TS_SECTOR_ACADEMIA;
    if (a->loc != TS_LOC_US)
        return;
    t->n[TS_C_GRAD_US]++;
    st->decided = 1;
    if (!ts_draw_bern(d, TS_D_WORK_VISA, p->visa.work_approval)) {
        move_to_cn(y, a);
        st->moved = 1;
        record_move(a, st, 1, t);
        return;
    }
    decide(y, a, d, st, 1, t);
    if (!st->moved) {
        set_visa(a, TS_VISA_TEMP);
        t->n[TS_C_GRAD_STAY_US]++;
    }
}

/* MODEL 3.5, promotion: EARLY with years_in_stage >= promote_min_years ->
 * SENIOR with min(1, promote_rate q^promote_talent (1 - ceiling)). */
static void promote(const ts_year *y, ts_agent *a, ts_draws *d) {
    const ts_params *p = y->p;
    if (a->years_in_stage < p->career.promote_min_years)
        return;
    double ceiling = a->loc == TS_LOC_US ? p->career.promotion_ceiling : 0.0;
    double pr = p->career.promote_rate * pow(a->q, p->career.promote_talent) * (1.0 - ceiling);
    if (ts_draw_bern(d, TS_D_PROMOTE, pr < 1.0 ? pr : 1.0)) {
        a->stage = TS_STAGE_SENIOR;
        a->years_in_stage = 0;
    }
}

static void career(const ts_year *y, ts_agent *a, ts_draws *d, ts_start *st, ts_tally *t) {
    if (a->stage == TS_STAGE_STUDENT) {
        if (a->years_in_stage >= y->p->career.phd_years)
            graduate(y, a, d, st, t);
    } else if (a->stage == TS_STAGE_EARLY) {
        promote(y, a, d);
    }
}

/* MODEL 3.7: shift the mask; a US EARLY/SENIOR agent considers leaving with
 * logistic(V_CN - V_US + consider_shift). */
static void consider(const ts_year *y, ts_agent *a, ts_draws *d) {
    a->considered = (uint8_t)(a->considered << 1);
    if (a->loc != TS_LOC_US || a->stage == TS_STAGE_STUDENT)
        return;
    int relief = ts_draw_bern(d, TS_D_RELIEF_CONSIDER, y->p->china.tax_relief_coverage);
    double x = ts_util_cn(y, a, relief) - ts_util_us(y, a, 0) + y->p->survey.consider_shift;
    if (ts_draw_bern(d, TS_D_CONSIDER, ts_logistic(x)))
        a->considered |= 1u;
}

/* MODEL 3.8 */
static void count_year(ts_agent *a) {
    a->years_in_stage = sat_inc(a->years_in_stage);
    if (a->loc == TS_LOC_US) {
        a->years_on_visa = sat_inc(a->years_on_visa);
        a->years_in_us = sat_inc(a->years_in_us);
    }
}

/* MODEL 6: survey items over US academics; f is the agent's F_US(i). */
static void record_survey(const ts_year *y, const ts_agent *a, double f, ts_tally *t) {
    const ts_params *p = y->p;
    double h = a->h;
    t->n[TS_C_US_ACADEMIA]++;
    t->s[TS_S_FEAR_US_ACAD] += h;
    t->n[TS_C_UNSAFE] += h > p->survey.threshold_unsafe;
    t->n[TS_C_CONSIDERED] += (a->considered & y->window_mask) != 0;
    t->n[TS_C_COLLAB_WORRY] += h + p->survey.collab_weight * a->collab > p->survey.threshold_collab;
    t->n[TS_C_GRANT_RELUCTANT] +=
        h + p->survey.ban_weight * (1.0 - f) > p->survey.threshold_grant;
    t->n[TS_C_US_ACAD_COLLAB] += a->collab;
}

/* MODEL 6: paper output of an EARLY/SENIOR agent; f is F_US(i) in the US
 * and funding.cn_level in China. */
static void record_output(const ts_year *y, const ts_agent *a, double f, ts_tally *t) {
    const ts_params *p = y->p;
    int us = a->loc == TS_LOC_US;
    double open = p->collaboration.openness;
    double data = us ? 0.0 : p->output.cn_data_advantage;
    double papers = a->q * (1.0 + p->output.rho_fund * f) *
                    (1.0 + p->output.rho_collab * open * a->collab) * (1.0 + data);
    t->s[us ? TS_S_PAPERS_US : TS_S_PAPERS_CN] += papers;
    if (a->collab)
        t->s[TS_S_PAPERS_JOINT] += a->q * p->output.rho_collab * open;
}

/* MODEL 4 step 4: end-of-year state into the tally. */
void ts_agent_record(const ts_year *y, const ts_agent *a, int moved, ts_tally *t) {
    int us = a->loc == TS_LOC_US;
    t->n[TS_C_STOCK + a->loc * 4 + a->stage]++;
    t->n[TS_C_STOCK + a->loc * 4 + 3]++;
    t->s[us ? TS_S_TALENT_US : TS_S_TALENT_CN] += a->q;
    if (a->q >= y->top_q) {
        t->n[TS_C_TOP_ALL]++;
        t->n[TS_C_TOP_US] += us;
    }
    if (a->grad_in_us && a->grad_year == y->year - 5) {
        t->n[TS_C_COHORT_ALL]++;
        t->n[TS_C_COHORT_US] += us;
    }
    if (a->stage == TS_STAGE_STUDENT)
        return;
    double f = us ? f_us(y->p, a) : y->p->funding.cn_level;
    record_output(y, a, f, t);
    if (!us)
        return;
    if (!moved) {
        t->n[TS_C_STAYERS]++;
        t->s[TS_S_Q_STAYERS] += a->q;
    }
    if (a->sector == TS_SECTOR_INDUSTRY)
        t->n[TS_C_US_INDUSTRY]++;
    else
        record_survey(y, a, f, t);
}

/* MODEL 4 step 3, in order. */
void ts_agent_year(const ts_year *y, ts_agent *a, ts_tally *t) {
    ts_draws d;
    draws_for(y, a, &d);
    ts_start st = {.loc = a->loc, .stage = a->stage};
    t->n[TS_C_AGENT_YEARS]++;
    if (a->loc == TS_LOC_US && a->stage != TS_STAGE_STUDENT && a->sector == TS_SECTOR_ACADEMIA)
        t->n[TS_C_START_US_ACAD]++;
    if (ts_mech_attrition(y, a, &d))
        return;
    ts_mech_collab(y, a, &d);
    ts_mech_fear(y, a, &d);
    if (ts_mech_visa(y, a, &d)) {
        st.moved = 1;
        record_move(a, &st, 1, t);
    }
    career(y, a, &d, &st, t);
    if (!st.moved && !st.decided && a->stage != TS_STAGE_STUDENT &&
        ts_draw_bern(&d, TS_D_REVIEW, y->p->career.review_rate))
        decide(y, a, &d, &st, 0, t);
    consider(y, a, &d);
    count_year(a);
    ts_agent_record(y, a, st.moved, t);
}
