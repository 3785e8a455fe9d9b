/* The agent-level process of MODEL.md outside the yearly passes:
 * initialisation (2b), inflow births (4 step 2), the year context, and the
 * one-record entry points the tests use, which run the engine's own passes
 * (mech.h) on a population of one. */
#include <string.h>

#include "agent.h"
#include "kernel.h"
#include "mech.h"

size_t ts_agent_bytes(void) {
    size_t n = 0;
#define TS_COL_BYTES_(type, name, doc) n += sizeof(type);
    TS_COLUMNS(TS_COL_BYTES_)
#undef TS_COL_BYTES_
    return n;
}

void ts_agent_derive(ts_agent *a) { a->lq = ts_m_log(a->q); }

ts_cols ts_cols_of_agent(ts_agent *a) {
    ts_cols c;
#define TS_COL_OF_(type, name, doc) c.name = &a->name;
    TS_COLUMNS(TS_COL_OF_)
#undef TS_COL_OF_
    return c;
}

void ts_cols_get(const ts_cols *c, size_t i, ts_agent *a) {
#define TS_COL_GET_(type, name, doc) a->name = c->name[i];
    TS_COLUMNS(TS_COL_GET_)
#undef TS_COL_GET_
}

void ts_cols_put(const ts_cols *c, size_t i, const ts_agent *a) {
#define TS_COL_PUT_(type, name, doc) c->name[i] = a->name;
    TS_COLUMNS(TS_COL_PUT_)
#undef TS_COL_PUT_
}

double ts_logistic(double x) { return ts_logistic_(x); }

_Static_assert(TS_SURVEY_WINDOW_MAX <= 8, "the considered mask is a byte");

int ts_consider_matters(int64_t year, int64_t first_recorded) {
    return year > first_recorded - TS_SURVEY_WINDOW_MAX;
}

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
    double base = ts_m_log(p->china.salary_ratio) - ts_m_log(1.0 - p->china.tax_us);
    y->dw[0] = base + ts_m_log(1.0 - p->china.tax_cn);
    y->dw[1] = base + ts_m_log(1.0 - p->china.tax_cn * (1.0 - p->china.tax_relief));
    y->top_q = ts_m_exp(TS_Z90 * p->population.talent_sigma);
    y->attrition[TS_STAGE_STUDENT] = p->career.attrition.student;
    y->attrition[TS_STAGE_EARLY] = p->career.attrition.early;
    y->attrition[TS_STAGE_SENIOR] = p->career.attrition.senior;
    y->peer = p->suspicion.peer_effect * d_prev / p->suspicion.d_ref;
    double open = p->collaboration.openness;
    y->collab_end = p->collaboration.end_rate + p->collaboration.break_rate * (1.0 - open);
    y->collab_form = p->collaboration.form_rate * open;
    y->promote[TS_LOC_US] = p->career.promote_rate * (1.0 - p->career.promotion_ceiling);
    y->promote[TS_LOC_CN] = p->career.promote_rate;
    y->offer_us = p->china.offer_rate;
    y->offer_cn = p->us.offer_rate * p->visa.work_approval;
    y->window_mask = (uint8_t)((1u << p->survey.window) - 1u);
    for (int s = 0; s < 3; s++)
        y->below_attrition[s] = ts_word_below(y->attrition[s]);
    y->below_collab_end = ts_word_below(y->collab_end);
    y->below_collab_form = ts_word_below(y->collab_form);
    y->below_review = ts_word_below(p->career.review_rate);
    y->record = 1;
    y->consider = 1;
    const __typeof__(p->utility) *b = &p->utility;
    int ban = p->funding.federal_ban;
    double access = p->funding.us_federal_access;
    y->f_us[0] = ban == TS_BAN_NONE ? access : 0.0;
    y->f_us[1] = ban == TS_BAN_ALL ? 0.0 : access;
    y->u.fund_visa = b->fund * y->f_us[0];
    y->u.fund_cit = b->fund * y->f_us[1];
    y->u.collab = b->collab * p->collaboration.openness;
    y->u.eco_us = b->eco * a_us;
    y->u.talent_us = b->talent_us;
    y->u.fear = b->fear;
    y->u.visa = b->visa;
    y->u.stuck = b->stuck;
    y->u.ties = b->ties;
    y->u.move_cost = b->move_cost;
    y->u.stuck_years = (double)p->career.stuck_years;
    double cn_rest = b->fund * p->funding.cn_level + b->eco * a_cn;
    y->u.cn = b->wage * y->dw[0] + cn_rest + b->home + b->asc_cn;
    y->u.cn_relief = b->wage * y->dw[1] + cn_rest + b->home + b->asc_cn;
    y->u.talent_cn = b->talent * p->china.talent_program;
    y->u.threshold = p->china.talent_threshold;
}

/* MODEL 2: q = exp(talent_sigma z), sens = exp(sens_sigma z - sens_sigma^2/2). */
void ts_agent_birth(const ts_year *y, const ts_cols *c, size_t i, uint32_t idx,
                    uint16_t group, ts_loc loc, ts_stage stage) {
    ts_agent a = {.idx = idx, .group = group, .grad_year = -1, .active = 1,
                  .loc = (uint8_t)loc, .stage = (uint8_t)stage,
                  .sector = TS_SECTOR_ACADEMIA,
                  .visa = loc == TS_LOC_US ? TS_VISA_STUDENT : TS_VISA_NONE};
    ts_draws d;
    ts_draws_init(&d, y->seed, y->rep, idx, group, (uint32_t)y->year);
    ts_birth_draws(y, ts_draw_word(&d, TS_D_Q), ts_draw_word(&d, TS_D_SENS), &a.q, &a.lq,
                   &a.sens, &a.h);
    ts_cols_put(c, i, &a);
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
void ts_agent_init(const ts_year *y, const ts_cols *c, size_t i, ts_loc loc, ts_stage stage) {
    const ts_params *p = y->p;
    ts_agent a;
    ts_cols_get(c, i, &a);
    a.stage = (uint8_t)stage;
    a.active = 1;
    ts_draws d;
    ts_draws_init(&d, y->seed, y->rep, a.idx, 0, (uint32_t)y->year);
    static const unsigned yis_span[3] = {0, 10, 20}; /* student span is phd_years */
    unsigned span = stage == TS_STAGE_STUDENT ? (unsigned)p->career.phd_years : yis_span[stage];
    a.years_in_stage = (uint8_t)ts_draw_int(&d, TS_D_INIT_YIS, span);
    if (stage != TS_STAGE_STUDENT) {
        double industry = loc == TS_LOC_US ? p->population.us.industry_share
                                           : p->population.cn.industry_share;
        a.sector = ts_draw_bern(&d, TS_D_INIT_SECTOR, industry) ? TS_SECTOR_INDUSTRY
                                                                 : TS_SECTOR_ACADEMIA;
        a.collab = (uint8_t)ts_draw_bern(&d, TS_D_INIT_COLLAB, p->population.collab_share);
    }
    if (loc == TS_LOC_US)
        init_us_status(p, &a, &d);
    ts_cols_put(c, i, &a);
}

size_t ts_agents_year(const ts_year *y, const ts_cols *c, size_t n, ts_tally *t) {
    return ts_kernel_year()(y, c, n, t);
}

void ts_agent_year(const ts_year *y, ts_agent *a, ts_tally *t) {
    ts_agent_derive(a);
    ts_cols one = ts_cols_of_agent(a);
    a->active = (uint8_t)ts_agents_year(y, &one, 1, t);
}

void ts_agent_record(const ts_year *y, const ts_agent *a, int moved, ts_tally *t) {
    ts_agent copy = *a;
    ts_cols one = ts_cols_of_agent(&copy);
    const uint8_t alive = 1, moved1 = (uint8_t)(moved != 0);
    ts_record_counts(y, &one, 0, 1, &alive, &moved1, t);
    double terms[TS_NR][TS_CHUNK];
    double acc[TS_NR][TS_LANES] = {{0.0}};
    ts_record_sums(y, &one, 0, 1, &alive, &moved1, TS_NR, terms, acc);
    ts_record_fold((const double(*)[TS_LANES])acc, t);
}

/* ---- one mechanism on one record (tests) ---- */

/* A chunk of one agent whose pre-drawn blocks are d's, alive, at the start
 * of its year (ts_pass_us done). */
static void chunk_of(ts_agent *a, ts_draws *d, ts_chunk *k) {
    ts_agent_derive(a);
    memset(k, 0, sizeof *k);
    for (unsigned b = 0; b < TS_PREDRAWN; b++)
        for (unsigned w = 0; w < 4; w++)
            k->w[b][w][0] = ts_draw_word(d, (ts_decision)(b * 4 + w));
    k->alive[0] = 1;
    k->stage0[0] = a->stage;
    k->nus = a->loc == TS_LOC_US; /* k->us[0] = 0 */
}

int ts_mech_attrition(const ts_year *y, ts_agent *a, ts_draws *d) {
    ts_chunk k;
    chunk_of(a, d, &k);
    ts_cols one = ts_cols_of_agent(a);
    ts_pass_attrition(y, &one, 0, 1, &k);
    a->active = k.alive[0];
    return !k.alive[0];
}

void ts_mech_collab(const ts_year *y, ts_agent *a, ts_draws *d) {
    ts_chunk k;
    chunk_of(a, d, &k);
    ts_cols one = ts_cols_of_agent(a);
    ts_pass_collab(y, &one, 0, 1, &k);
}

void ts_mech_fear(const ts_year *y, ts_agent *a, ts_draws *d) {
    ts_chunk k;
    chunk_of(a, d, &k);
    ts_cols one = ts_cols_of_agent(a);
    ts_pass_fear(y, &one, 0, 1, &k);
}

int ts_mech_visa(const ts_year *y, ts_agent *a, ts_draws *d) {
    ts_chunk k;
    ts_tally t;
    memset(&t, 0, sizeof t);
    chunk_of(a, d, &k);
    ts_cols one = ts_cols_of_agent(a);
    ts_pass_visa(y, &one, 0, &k, &t);
    return t.n[TS_C_FORCED] > 0;
}

double ts_util_us(const ts_year *y, const ts_agent *a, int at_graduation) {
    ts_agent copy = *a;
    ts_agent_derive(&copy);
    ts_cols one = ts_cols_of_agent(&copy);
    return ts_util_us_of(&y->u, ts_util_in_row(&one, 0), at_graduation);
}

double ts_util_cn(const ts_year *y, const ts_agent *a, int relief) {
    ts_agent copy = *a;
    ts_agent_derive(&copy);
    ts_cols one = ts_cols_of_agent(&copy);
    return ts_util_cn_of(&y->u, ts_util_in_row(&one, 0), relief);
}

double ts_move_prob(const ts_year *y, const ts_agent *a, int at_graduation, int relief) {
    ts_agent copy = *a;
    ts_agent_derive(&copy);
    ts_cols one = ts_cols_of_agent(&copy);
    return ts_move_prob_of(y, ts_util_in_row(&one, 0), at_graduation, relief);
}
