/* The mechanisms of MODEL.md section 4 step 3 as passes over a chunk of
 * agents (rows i0 .. i0+m-1 of a ts_cols), in the order of the model.
 *
 * Internal to the engine. Included by kernel.c, which is compiled once per
 * instruction set (scalar, AVX2, AVX-512), and by agent.c, which applies the
 * same passes to a population of one for the tests. An agent's year reads
 * only its own fields and the year context, so running the model mechanism
 * by mechanism over a chunk gives what running it agent by agent gives.
 *
 * Common passes are written without data-dependent branches so that the
 * compiler vectorises them; a pass that applies to a minority of the agents
 * (fear and visa: the US; promotion: EARLY due; review; consideration: US
 * EARLY/SENIOR) computes on a selection of them (ts_select); rare paths
 * (graduation, location decisions, visa expiry) are scalar and draw their
 * Philox blocks on demand. All floating-point code is IEEE + - * / sqrt and
 * dmath.h, without contraction, so every instruction set gives the same
 * bits, whichever agents a lane computes for. */
#ifndef TS_MECH_H
#define TS_MECH_H

#include <string.h>

#include "agent.h"
#include "dmath.h"
#include "philox_lanes.h"

/* Agents per chunk: the unit of the passes and of the batched Philox. */
#define TS_CHUNK 256
/* Philox blocks drawn in batches per chunk: block 0 for every agent
 * (ts_chunk_passes), block 1 for the agents alive in the US after attrition
 * (ts_pass_us) and those who move to the US during the year
 * (ts_pass_consider). The other rows of block 1 are not drawn and not read. */
#define TS_PREDRAWN 2

static inline double ts_u01(uint32_t w) { return ((double)w + 0.5) * (1.0 / 4294967296.0); }

static inline double ts_clip01(double x) { return x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x); }

/* The number T of words w with ts_u01(w) < p, so that the comparison is
 * w < T, in integers: (w + 0.5) 2^-32 < p exactly when w < p 2^32 - 0.5
 * (scaling by a power of two is exact, and so is subtracting 0.5 from a
 * number below 2^32 whose ulp is at most 2^-20; below 0.5 the answer is 0
 * however it rounds), and for an integer w, w < x exactly when w <
 * ceil(x). */
static inline uint64_t ts_word_below(double p) {
    double x = p * 4294967296.0 - 0.5;
    if (!(x > 0.0))
        return 0;
    if (x >= 4294967296.0)
        return (uint64_t)1 << 32;
    double c = (double)(uint64_t)x;
    return (uint64_t)(c < x ? c + 1.0 : c);
}

static inline double ts_logistic_(double x) { return 1.0 / (1.0 + ts_m_exp(-x)); }

/* z-score of the 90th percentile of N(0,1): the top-decile talent cut. */
#define TS_Z90 1.2815515655446004

/* Partial sums per floating sum of the record (ts_record_sums). */
#define TS_LANES 8

/* The floating sums of the record, in the order of ts_tally. */
enum { TS_R_TALENT_US, TS_R_TALENT_CN, TS_R_FEAR, TS_R_PAPERS_US, TS_R_PAPERS_CN,
       TS_R_PAPERS_JOINT, TS_R_Q_STAYERS, TS_NR };
static const ts_sum ts_record_slot[TS_NR] = {
    TS_S_TALENT_US, TS_S_TALENT_CN, TS_S_FEAR_US_ACAD, TS_S_PAPERS_US, TS_S_PAPERS_CN,
    TS_S_PAPERS_JOINT, TS_S_Q_STAYERS};

/* The utility inputs (ts_util_in) of selected agents, gathered. */
typedef struct {
    uint8_t loc[TS_CHUNK], visa[TS_CHUNK], stage[TS_CHUNK], yis[TS_CHUNK], yius[TS_CHUNK],
        collab[TS_CHUNK];
    float h[TS_CHUNK], q[TS_CHUNK];
    double lq[TS_CHUNK];
} ts_util_rows;

/* A pass that applies to few agents of a chunk selects them (ts_select: the
 * chunk rows in order), gathers their inputs into contiguous lanes (g, x,
 * ids), computes there (which vectorises; loads through sel do not) and
 * writes the results back to their rows. */
typedef struct {
    uint32_t w[TS_PREDRAWN][4][TS_CHUNK]; /* w[b][k][j]: word k of block b, agent j */
    uint8_t alive[TS_CHUNK];
    uint8_t moved[TS_CHUNK];   /* moved this year */
    uint8_t decided[TS_CHUNK]; /* made its location decision at graduation */
    uint8_t stage0[TS_CHUNK];  /* stage at the start of the year */
    uint8_t flag[TS_CHUNK];    /* per row: the pass applies to it (input of ts_select) */
    uint8_t go[TS_CHUNK];      /* per selected agent: the outcome of its draw */
    uint16_t us[TS_CHUNK];     /* rows alive in the US after attrition (ts_pass_us) */
    size_t nus;
    uint16_t sel[TS_CHUNK];    /* a selection: chunk rows a pass applies to */
    uint32_t ws[4][TS_CHUNK];  /* a Philox block of the selected agents */
    uint32_t idx[TS_CHUNK];    /* their ids */
    uint16_t group[TS_CHUNK];
    double x[3][TS_CHUNK];     /* their inputs of one pass */
    double r[TS_NR][TS_CHUNK]; /* the terms of the record's floating sums (ts_record_sums) */
    double acc[TS_NR][TS_LANES]; /* their partial sums over the block (ts_record_fold) */
    ts_util_rows g;            /* their utility inputs */
} ts_chunk;

/* The rows j < m with f[j] != 0, in order, into sel; returns how many.
 * Eight flags at a time are skipped when none is set (most selections are
 * sparse). */
static inline size_t ts_select(const uint8_t *f, size_t m, uint16_t *sel) {
    size_t n = 0, j = 0;
    for (; j + 8 <= m; j += 8) {
        uint64_t any;
        memcpy(&any, f + j, sizeof any);
        if (!any)
            continue;
        for (size_t l = j; l < j + 8; l++) {
            sel[n] = (uint16_t)l;
            n += f[l] != 0;
        }
    }
    for (; j < m; j++) {
        sel[n] = (uint16_t)j;
        n += f[j] != 0;
    }
    return n;
}

/* Philox4x32-10 at counter (idx, group, year * 256 + block, rep) for rows
 * [0, m): lane j gets w[k][j] for the agent idx[j], group[j]
 * (philox_lanes.h). */
static inline void ts_philox(const ts_year *y, const uint32_t *restrict idx,
                             const uint16_t *restrict group, size_t m, unsigned block,
                             uint32_t (*restrict w)[TS_CHUNK]) {
    ts_philox_lanes(y->seed, (uint32_t)y->year * 256u + block, y->rep, idx, group, m, w[0],
                    w[1], w[2], w[3]);
}

/* Philox blocks of rows [i0, i0+m) of c. */
static inline void ts_philox_rows(const ts_year *y, const ts_cols *c, size_t i0, size_t m,
                                  unsigned block, uint32_t (*w)[TS_CHUNK]) {
    ts_philox(y, c->idx + i0, c->group + i0, m, block, w);
}

/* MODEL 2: q = exp(talent_sigma z_q), sens = exp(sens_sigma z_s - sens_sigma^2/2),
 * from the words of slots TS_D_Q and TS_D_SENS; h is the expected hostility
 * clip(sens s, 0, 1). */
static inline void ts_birth_draws(const ts_year *y, uint32_t wq, uint32_t ws, float *q,
                                  double *lq, float *sens, float *h) {
    const double ts = y->p->population.talent_sigma, ss = y->p->suspicion.sens_sigma;
    float qv = (float)ts_m_exp(ts * ts_m_norm_quantile(ts_u01(wq)));
    float sv = (float)ts_m_exp(ss * ts_m_norm_quantile(ts_u01(ws)) - 0.5 * ss * ss);
    *q = qv;
    *lq = ts_m_log(qv);
    *sens = sv;
    *h = (float)ts_clip01(sv * y->s);
}

/* Block b of the selected rows sel[0..n) into k->ws[.][s], in one batch. */
static inline void ts_philox_sel(const ts_year *y, const ts_cols *c, size_t i0, ts_chunk *k,
                                 const uint16_t *sel, size_t n, unsigned b) {
    for (size_t s = 0; s < n; s++) {
        k->idx[s] = c->idx[i0 + sel[s]];
        k->group[s] = c->group[i0 + sel[s]];
    }
    ts_philox(y, k->idx, k->group, n, b, k->ws);
}

/* Block b of the selected rows drawn in one batch and spread to their rows
 * of k->w[b]. */
static inline void ts_draw_sel(const ts_year *y, const ts_cols *c, size_t i0, ts_chunk *k,
                               const uint16_t *sel, size_t n, unsigned b) {
    ts_philox_sel(y, c, i0, k, sel, n, b);
    for (size_t s = 0; s < n; s++)
        for (unsigned w = 0; w < 4; w++)
            k->w[b][w][sel[s]] = k->ws[w][s];
}

/* The word of a pre-drawn slot for agent j. */
static inline uint32_t ts_pre(const ts_chunk *k, ts_decision s, size_t j) {
    return k->w[(unsigned)s >> 2][(unsigned)s & 3u][j];
}

/* The lazy draws of agent i (chunk row j) with block 0 filled (block 1 is
 * not drawn for every row; the rare paths use blocks 2 and 3). */
static inline void ts_row_draws(const ts_year *y, const ts_cols *c, size_t i,
                                const ts_chunk *k, size_t j, ts_draws *d) {
    ts_draws_init(d, y->seed, y->rep, c->idx[i], c->group[i], (uint32_t)y->year);
    for (unsigned w = 0; w < 4; w++)
        d->w[0][w] = k->w[0][w][j];
    d->have = 1u;
}

static inline double ts_base_fear(const ts_year *y, const ts_cols *c, size_t i) {
    return ts_clip01(c->sens[i] * y->s);
}

/* ---- location changes and flows ---- */

static inline void ts_set_visa(const ts_cols *c, size_t i, ts_visa v) {
    c->visa[i] = (uint8_t)v;
    c->years_on_visa[i] = 0;
}

static inline void ts_move_to(const ts_year *y, const ts_cols *c, size_t i, ts_loc loc) {
    c->loc[i] = (uint8_t)loc;
    if (c->visa[i] != TS_VISA_CITIZEN)
        ts_set_visa(c, i, loc == TS_LOC_US ? TS_VISA_TEMP : TS_VISA_NONE);
    c->h[i] = (float)ts_base_fear(y, c, i);
}

/* MODEL 6: the flows of one move, just made; stage0 is the stage at the
 * start of the year. */
static inline void ts_record_move(const ts_cols *c, size_t i, uint8_t stage0, int forced,
                                  ts_tally *t) {
    if (c->loc[i] == TS_LOC_US) {
        t->n[TS_C_CN_TO_US]++;
        return;
    }
    int academic = stage0 != TS_STAGE_STUDENT && c->sector[i] == TS_SECTOR_ACADEMIA;
    if (c->stage[i] != TS_STAGE_STUDENT)
        t->n[TS_C_US_TO_CN]++;
    t->n[TS_C_US_TO_CN_ACAD] += academic;
    t->n[TS_C_FORCED] += forced;
    t->n[TS_C_FORCED_ACAD] += forced && academic;
    if (!forced) {
        t->n[TS_C_VOLUNTARY]++;
        t->s[TS_S_Q_VOLUNTARY] += c->q[i];
    }
}

/* ---- utilities (MODEL 5) ---- */

/* The fields the utilities read, by value, so a pass can feed them from
 * its own column pointers. */
typedef struct {
    int loc, visa, stage, years_in_stage, years_in_us, collab;
    double h, q, lq;
} ts_util_in;

static inline ts_util_in ts_util_in_row(const ts_cols *c, size_t i) {
    return (ts_util_in){c->loc[i], c->visa[i], c->stage[i], c->years_in_stage[i],
                        c->years_in_us[i], c->collab[i], c->h[i], c->q[i], c->lq[i]};
}

/* The utility inputs of the selected rows into g, lane s for row sel[s]. */
static inline void ts_gather_util(const ts_cols *c, size_t i0, const uint16_t *sel, size_t n,
                                  ts_util_rows *g) {
    for (size_t s = 0; s < n; s++) {
        size_t i = i0 + sel[s];
        g->loc[s] = c->loc[i];
        g->visa[s] = c->visa[i];
        g->stage[s] = c->stage[i];
        g->yis[s] = c->years_in_stage[i];
        g->yius[s] = c->years_in_us[i];
        g->collab[s] = c->collab[i];
        g->h[s] = c->h[i];
        g->q[s] = c->q[i];
        g->lq[s] = c->lq[i];
    }
}

static inline ts_util_in ts_util_in_lane(const ts_util_rows *g, size_t s) {
    return (ts_util_in){g->loc[s], g->visa[s], g->stage[s], g->yis[s], g->yius[s],
                        g->collab[s], g->h[s], g->q[s], g->lq[s]};
}

/* V_US = β_fund F_US + β_collab openness collab + β_eco A_US
 *   + β_talent_us ln(q) - β_fear h
 *   - β_visa temp - β_stuck [EARLY, years_in_stage >= stuck_years]
 *   + β_ties min(years_in_us, 10)/10 - move_cost [in CN]
 * u is y->u (a copy in registers); no data-dependent branch. */
static inline double ts_util_us_of(const ts_util *u, ts_util_in a, int at_graduation) {
    int in_cn = a.loc == TS_LOC_CN;
    int citizen = a.visa == TS_VISA_CITIZEN;
    int temp = at_graduation | (in_cn & !citizen) | (!in_cn & (a.visa == TS_VISA_TEMP));
    int stuck = (a.stage == TS_STAGE_EARLY) & (a.years_in_stage >= u->stuck_years);
    double ties = (a.years_in_us < 10 ? a.years_in_us : 10) / 10.0;
    double fund = citizen ? u->fund_cit : u->fund_visa;
    return fund + u->collab * a.collab + u->eco_us + u->talent_us * a.lq - u->fear * a.h -
           u->visa * temp - u->stuck * stuck + u->ties * ties - u->move_cost * in_cn;
}

/* V_CN = β_wage Δw + β_fund cn_level + β_eco A_CN + β_home + asc_cn
 *   + β_talent talent_program [q >= talent_threshold] - move_cost [in US] */
static inline double ts_util_cn_of(const ts_util *u, ts_util_in a, int relief) {
    int top = a.q >= u->threshold;
    double base = relief ? u->cn_relief : u->cn;
    return base + u->talent_cn * top - u->move_cost * (a.loc == TS_LOC_US);
}

/* MODEL 3.6: US -> CN with china.offer_rate logistic(V_CN - V_US);
 * CN -> US with us.offer_rate work_approval logistic(V_US - V_CN).
 */
static inline double ts_move_prob_of(const ts_year *y, ts_util_in a, int at_graduation,
                                     int relief) {
    double dv = ts_util_cn_of(&y->u, a, relief) - ts_util_us_of(&y->u, a, at_graduation);
    int us = a.loc == TS_LOC_US;
    return (us ? y->offer_us : y->offer_cn) * ts_logistic_(us ? dv : -dv);
}

/* MODEL 3.6: one location decision of row i (chunk row j); moves the agent
 * when it decides to. */
static inline void ts_decide_row(const ts_year *y, const ts_cols *c, size_t i, ts_chunk *k,
                                 size_t j, ts_draws *d, int at_graduation, ts_tally *t) {
    int relief = ts_draw_bern(d, TS_D_RELIEF_MOVE, y->p->china.tax_relief_coverage);
    if (!ts_draw_bern(d, TS_D_MOVE,
                      ts_move_prob_of(y, ts_util_in_row(c, i), at_graduation, relief)))
        return;
    ts_move_to(y, c, i, c->loc[i] == TS_LOC_US ? TS_LOC_CN : TS_LOC_US);
    k->moved[j] = 1;
    ts_record_move(c, i, k->stage0[j], 0, t);
}

/* ---- the passes, in the order of MODEL 4 step 3 ---- */

/* Start-of-year state and counts. */
static inline void ts_pass_start(const ts_cols *cols, size_t i0, size_t m, ts_chunk *k,
                                 ts_tally *t) {
    const ts_cols cl = *cols, *c = &cl;
    int64_t acad = 0;
    for (size_t j = 0; j < m; j++) {
        size_t i = i0 + j;
        k->stage0[j] = c->stage[i];
        k->moved[j] = 0;
        k->decided[j] = 0;
        acad += c->loc[i] == TS_LOC_US && c->stage[i] != TS_STAGE_STUDENT &&
                c->sector[i] == TS_SECTOR_ACADEMIA;
    }
    t->n[TS_C_AGENT_YEARS] += (int64_t)m;
    t->n[TS_C_START_US_ACAD] += acad;
}

/* MODEL 3.1: the agent leaves research with attrition[stage]. */
static inline void ts_pass_attrition(const ts_year *y, const ts_cols *cols, size_t i0, size_t m,
                                     ts_chunk *k) {
    const uint8_t *restrict stage = cols->stage + i0;
    const uint64_t t0 = y->below_attrition[0], t1 = y->below_attrition[1],
                   t2 = y->below_attrition[2];
    for (size_t j = 0; j < m; j++) {
        uint8_t s = stage[j];
        uint64_t below = s == TS_STAGE_STUDENT ? t0 : (s == TS_STAGE_EARLY ? t1 : t2);
        k->alive[j] = (uint8_t)!(ts_pre(k, TS_D_ATTRITION, j) < below);
    }
}

/* The agents alive in the US after attrition (k->us): the fear, visa and
 * consideration passes apply to them, and only they draw block 1. */
static inline void ts_pass_us(const ts_year *y, const ts_cols *cols, size_t i0, size_t m,
                              ts_chunk *k) {
    const uint8_t *restrict loc = cols->loc + i0;
    for (size_t j = 0; j < m; j++)
        k->flag[j] = k->alive[j] & (loc[j] == TS_LOC_US);
    k->nus = ts_select(k->flag, m, k->us);
    ts_draw_sel(y, cols, i0, k, k->us, k->nus, 1);
}

/* MODEL 3.2: a collaboration ends with min(1, end_rate + break_rate (1 - openness));
 * one forms with form_rate openness. Students have none. */
static inline void ts_pass_collab(const ts_year *y, const ts_cols *cols, size_t i0, size_t m,
                                  const ts_chunk *k) {
    const uint8_t *restrict stage = cols->stage + i0;
    uint8_t *restrict collab = cols->collab + i0;
    const uint64_t pe = y->below_collab_end, pf = y->below_collab_form;
    for (size_t j = 0; j < m; j++) {
        int on = collab[j] != 0;
        uint64_t w = ts_pre(k, TS_D_COLLAB, j);
        int hit = (on & (w < pe)) | (!on & (w < pf));
        int flips = hit & k->alive[j] & (stage[j] != TS_STAGE_STUDENT);
        collab[j] = (uint8_t)(on ^ flips);
    }
}

/* MODEL 3.3: US: h <- (1-λ) h + λ clip(sens s_t + ω d_{t-1} / d_ref + ε, 0, 1),
 * ε ~ N(0, fear_noise); CN: h = clip(sens s_t, 0, 1). The CN rows in lanes,
 * then the US agents (k->us), whose normal quantile is the cost. */
static inline void ts_pass_fear(const ts_year *y, const ts_cols *cols, size_t i0, size_t m,
                                ts_chunk *k) {
    const ts_params *p = y->p;
    const double lam = p->suspicion.adaptation, noise = p->suspicion.fear_noise;
    const double s = y->s, peer = y->peer;
    const uint8_t *restrict loc = cols->loc + i0;
    const float *restrict sens = cols->sens + i0;
    float *restrict h = cols->h + i0;
    for (size_t j = 0; j < m; j++) {
        float base = (float)ts_clip01(sens[j] * s);
        h[j] = (k->alive[j] & (loc[j] != TS_LOC_US)) ? base : h[j];
    }
    const size_t n = k->nus;
    double *restrict uf = k->x[0], *restrict sv = k->x[1], *restrict hv = k->x[2];
    for (size_t u = 0; u < n; u++) {
        size_t j = k->us[u];
        uf[u] = ts_u01(ts_pre(k, TS_D_FEAR, j));
        sv[u] = sens[j];
        hv[u] = h[j];
    }
    for (size_t u = 0; u < n; u++) {
        double eps = noise * ts_m_norm_quantile(uf[u]);
        double target = ts_clip01(sv[u] * s + peer + eps);
        hv[u] = (float)((1.0 - lam) * hv[u] + lam * target);
    }
    for (size_t u = 0; u < n; u++)
        h[k->us[u]] = (float)hv[u];
}

/* MODEL 3.4 (US only): TEMP -> PERMANENT (green_card_rate); PERMANENT for 5+
 * years -> CITIZEN (naturalization_rate); TEMP at max_temp_years that did
 * not just get a green card extends (extension_rate; years_on_visa keeps
 * counting) or must leave. Over the US agents (k->us). */
static inline void ts_pass_visa(const ts_year *y, const ts_cols *cols, size_t i0, ts_chunk *k,
                                ts_tally *t) {
    const ts_cols cl = *cols, *c = &cl;
    const ts_params *p = y->p;
    for (size_t s = 0; s < k->nus; s++) {
        size_t j = k->us[s], i = i0 + j;
        double u = ts_u01(ts_pre(k, TS_D_VISA, j));
        if (c->visa[i] == TS_VISA_TEMP) {
            if (u < p->visa.green_card_rate) {
                ts_set_visa(c, i, TS_VISA_PERMANENT);
            } else if (c->years_on_visa[i] >= p->visa.max_temp_years) {
                ts_draws d;
                ts_row_draws(y, c, i, k, j, &d);
                if (!ts_draw_bern(&d, TS_D_EXTEND, p->visa.extension_rate)) {
                    ts_move_to(y, c, i, TS_LOC_CN);
                    k->moved[j] = 1;
                    ts_record_move(c, i, k->stage0[j], 1, t);
                }
            }
        } else if (c->visa[i] == TS_VISA_PERMANENT && c->years_on_visa[i] >= 5 &&
                   u < p->visa.naturalization_rate) {
            ts_set_visa(c, i, TS_VISA_CITIZEN);
        }
    }
}

/* MODEL 3.5, promotion: EARLY with years_in_stage >= promote_min_years ->
 * SENIOR with min(1, promote_rate q^promote_talent (1 - ceiling)); q^x is
 * exp(x ln q), in lanes over the agents due. Runs before graduation, so this
 * year's graduates (EARLY from now) are not promoted in the same year. */
static inline void ts_pass_promote(const ts_year *y, const ts_cols *cols, size_t i0, size_t m,
                                   ts_chunk *k) {
    const double pt = y->p->career.promote_talent;
    const double rate_us = y->promote[TS_LOC_US], rate_cn = y->promote[TS_LOC_CN];
    const int min_years = (int)y->p->career.promote_min_years;
    const uint8_t *restrict loc = cols->loc + i0;
    const double *restrict lq = cols->lq + i0;
    uint8_t *restrict stage = cols->stage + i0, *restrict yis = cols->years_in_stage + i0;
    for (size_t j = 0; j < m; j++)
        k->flag[j] = k->alive[j] & (stage[j] == TS_STAGE_EARLY) & (yis[j] >= min_years);
    size_t ns = ts_select(k->flag, m, k->sel);
    double *restrict rate = k->x[0], *restrict qv = k->x[1], *restrict uv = k->x[2]; /* qv: ln q */
    for (size_t s = 0; s < ns; s++) {
        size_t j = k->sel[s];
        rate[s] = loc[j] == TS_LOC_US ? rate_us : rate_cn;
        qv[s] = lq[j];
        uv[s] = ts_u01(ts_pre(k, TS_D_PROMOTE, j));
    }
    for (size_t s = 0; s < ns; s++) {
        double pr = rate[s] * ts_m_exp(pt * qv[s]);
        k->go[s] = uv[s] < ts_m_sel(pr < 1.0, pr, 1.0);
    }
    for (size_t s = 0; s < ns; s++) {
        size_t j = k->sel[s];
        stage[j] = k->go[s] ? (uint8_t)TS_STAGE_SENIOR : stage[j];
        yis[j] = k->go[s] ? 0 : yis[j];
    }
}

/* MODEL 3.5, graduation: EARLY, sector drawn; US graduates need work
 * authorization, then decide with certainty of review. */
static inline void ts_graduate_row(const ts_year *y, const ts_cols *c, size_t i, ts_chunk *k,
                                   size_t j, ts_tally *t) {
    const ts_params *p = y->p;
    ts_draws d;
    ts_row_draws(y, c, i, k, j, &d);
    int us = c->loc[i] == TS_LOC_US;
    c->stage[i] = TS_STAGE_EARLY;
    c->years_in_stage[i] = 0;
    c->grad_year[i] = (int16_t)y->year;
    c->grad_in_us[i] = (uint8_t)us;
    double industry = us ? p->population.us.industry_share : p->population.cn.industry_share;
    c->sector[i] = ts_draw_bern(&d, TS_D_GRAD_SECTOR, industry) ? TS_SECTOR_INDUSTRY
                                                                : TS_SECTOR_ACADEMIA;
    if (!us)
        return;
    t->n[TS_C_GRAD_US]++;
    k->decided[j] = 1;
    if (!ts_draw_bern(&d, TS_D_WORK_VISA, p->visa.work_approval)) {
        ts_move_to(y, c, i, TS_LOC_CN);
        k->moved[j] = 1;
        ts_record_move(c, i, k->stage0[j], 1, t);
        return;
    }
    ts_decide_row(y, c, i, k, j, &d, 1, t);
    if (!k->moved[j]) {
        ts_set_visa(c, i, TS_VISA_TEMP);
        t->n[TS_C_GRAD_STAY_US]++;
    }
}

static inline void ts_pass_graduate(const ts_year *y, const ts_cols *cols, size_t i0, size_t m,
                                    ts_chunk *k, ts_tally *t) {
    const ts_cols cl = *cols, *c = &cl;
    const int phd = (int)y->p->career.phd_years;
    const uint8_t *restrict stage = c->stage + i0, *restrict yis = c->years_in_stage + i0;
    for (size_t j = 0; j < m; j++)
        k->flag[j] = k->alive[j] & (stage[j] == TS_STAGE_STUDENT) & (yis[j] >= phd);
    size_t ns = ts_select(k->flag, m, k->sel);
    for (size_t s = 0; s < ns; s++)
        ts_graduate_row(y, c, i0 + k->sel[s], k, k->sel[s], t);
}

/* MODEL 3.6: EARLY/SENIOR agents that have neither moved nor decided this
 * year review their location with review_rate. The reviewers are selected,
 * their decision block drawn in one batch and their move probabilities
 * computed in vector lanes; the moves are then made one by one. */
static inline void ts_pass_review(const ts_year *y, const ts_cols *cols, size_t i0, size_t m,
                                  ts_chunk *k, ts_tally *t) {
    const ts_cols cl = *cols, *c = &cl;
    const double cover = y->p->china.tax_relief_coverage;
    const uint64_t rate = y->below_review;
    size_t ns = 0;
    for (size_t j = 0; j < m; j++) {
        int due = k->alive[j] & !k->moved[j] & !k->decided[j] &
                  (c->stage[i0 + j] != TS_STAGE_STUDENT) &
                  ((uint64_t)ts_pre(k, TS_D_REVIEW, j) < rate);
        k->sel[ns] = (uint16_t)j;
        ns += (size_t)due;
    }
    ts_philox_sel(y, c, i0, k, k->sel, ns, (unsigned)TS_D_MOVE >> 2);
    ts_gather_util(c, i0, k->sel, ns, &k->g);
    for (size_t s = 0; s < ns; s++) {
        int relief = ts_u01(k->ws[TS_D_RELIEF_MOVE & 3][s]) < cover;
        double p = ts_move_prob_of(y, ts_util_in_lane(&k->g, s), 0, relief);
        k->go[s] = ts_u01(k->ws[TS_D_MOVE & 3][s]) < p;
    }
    for (size_t s = 0; s < ns; s++) {
        if (!k->go[s])
            continue;
        size_t j = k->sel[s], i = i0 + j;
        ts_move_to(y, c, i, c->loc[i] == TS_LOC_US ? TS_LOC_CN : TS_LOC_US);
        k->moved[j] = 1;
        ts_record_move(c, i, k->stage0[j], 0, t);
    }
}

/* MODEL 3.7: shift the mask; a US EARLY/SENIOR agent considers leaving with
 * logistic(V_CN - V_US + consider_shift), in lanes over those agents. Block
 * 1 was drawn for the agents in the US after attrition; one who moved to
 * the US this year draws it here.
 *
 * The mask is read only by the survey of US academics (ts_record_counts),
 * and the sector is fixed from graduation on, so the considerations of
 * industry researchers, and those of spin-up years too early for any
 * recorded survey (y->consider), are not computed: each decision has its
 * own draw, so skipping them changes no other number. */
static inline void ts_pass_consider(const ts_year *y, const ts_cols *cols, size_t i0, size_t m,
                                    ts_chunk *k) {
    if (!y->consider)
        return; /* the mask is 0 (consider is 0 only in a prefix of the years) */
    const double cover = y->p->china.tax_relief_coverage, shift = y->p->survey.consider_shift;
    const ts_util u = y->u;
    const uint8_t *restrict loc = cols->loc + i0, *restrict stage = cols->stage + i0,
                            *restrict sector = cols->sector + i0;
    uint8_t *restrict considered = cols->considered + i0;
    size_t nin = 0;
    for (size_t j = 0; j < m; j++) {
        considered[j] = (uint8_t)(considered[j] << 1);
        k->flag[j] = k->alive[j] & (loc[j] == TS_LOC_US) & k->moved[j];
        nin += k->flag[j];
    }
    if (nin > 0) {
        nin = ts_select(k->flag, m, k->sel);
        ts_draw_sel(y, cols, i0, k, k->sel, nin, 1);
    }
    for (size_t j = 0; j < m; j++)
        k->flag[j] = k->alive[j] & (loc[j] == TS_LOC_US) & (stage[j] != TS_STAGE_STUDENT) &
                     (sector[j] == TS_SECTOR_ACADEMIA);
    size_t ns = ts_select(k->flag, m, k->sel);
    ts_gather_util(cols, i0, k->sel, ns, &k->g);
    double *restrict ur = k->x[0], *restrict uc = k->x[1];
    for (size_t s = 0; s < ns; s++) {
        ur[s] = ts_u01(ts_pre(k, TS_D_RELIEF_CONSIDER, k->sel[s]));
        uc[s] = ts_u01(ts_pre(k, TS_D_CONSIDER, k->sel[s]));
    }
    for (size_t s = 0; s < ns; s++) {
        ts_util_in a = ts_util_in_lane(&k->g, s);
        double x = ts_util_cn_of(&u, a, ur[s] < cover) - ts_util_us_of(&u, a, 0) + shift;
        k->go[s] = uc[s] < ts_logistic_(x);
    }
    for (size_t s = 0; s < ns; s++)
        considered[k->sel[s]] |= k->go[s];
}

/* MODEL 3.8: the survivors count the year (saturating), in lanes. */
static inline void ts_pass_count(const ts_cols *cols, size_t i0, size_t m, const ts_chunk *k) {
    const uint8_t *restrict loc = cols->loc + i0;
    uint8_t *restrict yis = cols->years_in_stage + i0, *restrict yov = cols->years_on_visa + i0,
                      *restrict yius = cols->years_in_us + i0;
    for (size_t j = 0; j < m; j++) {
        int alive = k->alive[j], us = alive & (loc[j] == TS_LOC_US);
        yis[j] = (uint8_t)(yis[j] + (alive & (yis[j] != UINT8_MAX)));
        yov[j] = (uint8_t)(yov[j] + (us & (yov[j] != UINT8_MAX)));
        yius[j] = (uint8_t)(yius[j] + (us & (yius[j] != UINT8_MAX)));
    }
}

/* MODEL 4 step 4 and MODEL 6: the end-of-year state of the survivors of a
 * chunk into the tally, in two loops without data-dependent branches:
 * - the counts (ts_record_counts), in vector lanes (integer sums do not
 *   depend on their order);
 * - the floating sums (ts_record_sums) in TS_LANES partial sums: row j of
 *   a block adds to partial sum j % TS_LANES, in row order, and the
 *   partial sums are added in lane order at the end of the block
 *   (ts_record_fold); every instruction set adds the same numbers in the
 *   same order, whatever its vector width.
 * What is recorded: stocks by location and stage, talent sums, the top
 * decile, the cohort of US graduates of t-5; for EARLY/SENIOR agents their
 * papers q (1 + rho_fund f)(1 + rho_collab openness collab)(1 +
 * cn_data_advantage [CN]), f = F_US(i) in the US and cn_level in China; for
 * US EARLY/SENIOR agents the stayers, industry, and the survey items of
 * the academics. */

/* The tally's integer slots of the rows j < m of a chunk with alive[j]. */
static inline void ts_record_counts(const ts_year *y, const ts_cols *cols, size_t i0, size_t m,
                                    const uint8_t *alive, const uint8_t *moved, ts_tally *t) {
    const ts_params *p = y->p;
    const uint8_t *restrict loc = cols->loc + i0, *restrict stage = cols->stage + i0,
                            *restrict sector = cols->sector + i0, *restrict visa = cols->visa + i0,
                            *restrict collab = cols->collab + i0,
                            *restrict gius = cols->grad_in_us + i0,
                            *restrict considered = cols->considered + i0;
    const int16_t *restrict gy = cols->grad_year + i0;
    const float *restrict q = cols->q + i0, *restrict h = cols->h + i0;
    const double top_q = y->top_q, f_visa = y->f_us[0], f_cit = y->f_us[1];
    const double thr_u = p->survey.threshold_unsafe, thr_c = p->survey.threshold_collab,
                 thr_g = p->survey.threshold_grant, cw = p->survey.collab_weight,
                 bw = p->survey.ban_weight;
    const int cohort_year = (int)(y->year - 5);
    const uint8_t window = y->window_mask;
    int32_t n[TS_NCOUNT] = {0}; /* this chunk's counts, added to t at the end */
    for (size_t j = 0; j < m; j++) {
        const int a = alive[j], us = loc[j] == TS_LOC_US, aus = a & us, acn = a & !us;
        for (int s = 0; s < 3; s++) {
            n[TS_C_STOCK + s] += aus & (stage[j] == s);
            n[TS_C_STOCK + 4 + s] += acn & (stage[j] == s);
        }
        n[TS_C_STOCK_US_TOTAL] += aus;
        n[TS_C_STOCK_CN_TOTAL] += acn;
        const int tp = a & (q[j] >= top_q);
        n[TS_C_TOP_ALL] += tp;
        n[TS_C_TOP_US] += tp & us;
        const int c5 = a & (gius[j] != 0) & (gy[j] == cohort_year);
        n[TS_C_COHORT_ALL] += c5;
        n[TS_C_COHORT_US] += c5 & us;
        const int rus = aus & (stage[j] != TS_STAGE_STUDENT);
        n[TS_C_STAYERS] += rus & !moved[j];
        const int industry = rus & (sector[j] == TS_SECTOR_INDUSTRY), acad = rus & !industry;
        n[TS_C_US_INDUSTRY] += industry;
        n[TS_C_US_ACADEMIA] += acad;
        const double hj = h[j], f = visa[j] == TS_VISA_CITIZEN ? f_cit : f_visa;
        n[TS_C_UNSAFE] += acad & (hj > thr_u);
        n[TS_C_CONSIDERED] += acad & ((considered[j] & window) != 0);
        n[TS_C_COLLAB_WORRY] += acad & (hj + cw * collab[j] > thr_c);
        n[TS_C_GRANT_RELUCTANT] += acad & (hj + bw * (1.0 - f) > thr_g);
        n[TS_C_US_ACAD_COLLAB] += acad & collab[j];
    }
    for (int c = 0; c < TS_NCOUNT; c++)
        t->n[c] += n[c];
}

/* The first nr floating sums over the same rows into the partial sums
 * acc[r][l]: the terms of every row (x[r][j], 0.0 where a row adds
 * nothing), then added TS_LANES rows at a time. Adding +0.0 to a sum of
 * non-negative terms leaves its bits as they are. m is a multiple of
 * TS_LANES but for the last chunk of a block. */
static inline void ts_record_sums(const ts_year *y, const ts_cols *cols, size_t i0, size_t m,
                                  const uint8_t *alive, const uint8_t *moved, int nr,
                                  double (*restrict x)[TS_CHUNK],
                                  double (*restrict acc)[TS_LANES]) {
    const ts_params *p = y->p;
    const uint8_t *restrict loc = cols->loc + i0, *restrict stage = cols->stage + i0,
                            *restrict sector = cols->sector + i0, *restrict visa = cols->visa + i0,
                            *restrict collab = cols->collab + i0;
    const float *restrict q = cols->q + i0, *restrict h = cols->h + i0;
    const double f_visa = y->f_us[0], f_cit = y->f_us[1], f_cn = p->funding.cn_level;
    const double open = p->collaboration.openness, rc = p->output.rho_collab,
                 rf = p->output.rho_fund, data = p->output.cn_data_advantage;
    for (size_t j = 0; j < m; j++) {
        const int us = loc[j] == TS_LOC_US, a = alive[j];
        const double qj = q[j];
        x[TS_R_TALENT_US][j] = (a & us) ? qj : 0.0;
        x[TS_R_TALENT_CN][j] = (a & !us) ? qj : 0.0;
    }
    for (size_t j = 0; j < m && nr > TS_R_TALENT_CN + 1; j++) { /* the rest, when summed */
        const int us = loc[j] == TS_LOC_US, a = alive[j];
        const int res = a & (stage[j] != TS_STAGE_STUDENT);
        const double qj = q[j];
        const double f = us ? (visa[j] == TS_VISA_CITIZEN ? f_cit : f_visa) : f_cn;
        const double papers = qj * (1.0 + rf * f) * (1.0 + rc * open * collab[j]) *
                              (1.0 + (us ? 0.0 : data));
        x[TS_R_PAPERS_US][j] = (res & us) ? papers : 0.0;
        x[TS_R_PAPERS_CN][j] = (res & !us) ? papers : 0.0;
        x[TS_R_PAPERS_JOINT][j] = (res & collab[j]) ? qj * rc * open : 0.0;
        x[TS_R_Q_STAYERS][j] = (res & us & !moved[j]) ? qj : 0.0;
        x[TS_R_FEAR][j] = (res & us & (sector[j] != TS_SECTOR_INDUSTRY)) ? (double)h[j] : 0.0;
    }
    for (int r = 0; r < nr; r++) {
        double part[TS_LANES];
        for (size_t l = 0; l < TS_LANES; l++)
            part[l] = acc[r][l];
        size_t j0 = 0;
        for (; j0 + TS_LANES <= m; j0 += TS_LANES)
            for (size_t l = 0; l < TS_LANES; l++)
                part[l] += x[r][j0 + l];
        for (size_t l = 0; j0 + l < m; l++)
            part[l] += x[r][j0 + l];
        for (size_t l = 0; l < TS_LANES; l++)
            acc[r][l] = part[l];
    }
}

/* Adds the partial sums of a block to its tally, lane 0 first. */
static inline void ts_record_fold(const double (*acc)[TS_LANES], ts_tally *t) {
    for (int r = 0; r < TS_NR; r++) {
        double s = acc[r][0];
        for (size_t l = 1; l < TS_LANES; l++)
            s += acc[r][l];
        t->s[ts_record_slot[r]] += s;
    }
}

/* Moves rows [from, from+n) to rows [to, to+n) (to <= from) in every column. */
static inline void ts_rows_move(const ts_cols *c, size_t to, size_t from, size_t n) {
#define TS_ROWS_MOVE_(type, name, doc) memmove(c->name + to, c->name + from, n * sizeof(type));
    TS_COLUMNS(TS_ROWS_MOVE_)
#undef TS_ROWS_MOVE_
}

/* MODEL 4 step 4: the survivors into the tally; in the spin-up only the
 * talent sums that the carry reads (the flows of the carry are counted as
 * the moves are made). */
static inline void ts_pass_record(const ts_year *y, const ts_cols *c, size_t i0, size_t m,
                                  ts_chunk *k, ts_tally *t) {
    if (!y->record) {
        ts_record_sums(y, c, i0, m, k->alive, k->moved, TS_R_TALENT_CN + 1, k->r, k->acc);
        return;
    }
    ts_record_counts(y, c, i0, m, k->alive, k->moved, t);
    ts_record_sums(y, c, i0, m, k->alive, k->moved, TS_NR, k->r, k->acc);
}

/* Moves the survivors down to rows out, out+1, ..., a run of consecutive
 * survivors at a time; returns the next free row. */
static inline size_t ts_pass_compact(const ts_cols *c, size_t i0, size_t m, const ts_chunk *k,
                                     size_t out) {
    size_t j = 0;
    while (j < m) {
        size_t first = j;
        while (j < m && k->alive[j])
            j++;
        if (j > first && out != i0 + first)
            ts_rows_move(c, out, i0 + first, j - first);
        out += j - first;
        while (j < m && !k->alive[j])
            j++;
    }
    return out;
}

/* The year of rows [i0, i0+m), m <= TS_CHUNK, up to the record; the
 * survivors are then moved down (ts_pass_compact). */
static inline void ts_chunk_passes(const ts_year *y, const ts_cols *c, size_t i0, size_t m,
                                   ts_chunk *k, ts_tally *t) {
    ts_philox_rows(y, c, i0, m, 0, k->w[0]);
    ts_pass_start(c, i0, m, k, t);
    ts_pass_attrition(y, c, i0, m, k);
    ts_pass_us(y, c, i0, m, k);
    ts_pass_collab(y, c, i0, m, k);
    ts_pass_fear(y, c, i0, m, k);
    ts_pass_visa(y, c, i0, k, t);
    ts_pass_promote(y, c, i0, m, k);
    ts_pass_graduate(y, c, i0, m, k, t);
    ts_pass_review(y, c, i0, m, k, t);
    ts_pass_consider(y, c, i0, m, k);
    ts_pass_count(c, i0, m, k);
    ts_pass_record(y, c, i0, m, k, t);
}

#endif
