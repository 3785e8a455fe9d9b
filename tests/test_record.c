/* The end-of-year record and the metrics of MODEL.md section 6, and the
 * aggregates carried to the next year (MODEL 4 step 5, MODEL 5).
 *
 * A hand-made population of 17 agents with chosen fields is recorded with
 * ts_agent_record; every metric of TS_METRICS is compared with a value worked
 * out by hand from the formula of section 6 (the arithmetic is written out
 * below, not computed by engine code). Flows are made by ts_agent_year, not
 * by the record, so their tally slots are also filled directly to check the
 * mapping, and separately produced by ts_agent_year on agents forced or
 * certain to move. A loop asserts that every metric was checked, so a new
 * metric without a test here fails.
 *
 * All talents q and fears h are dyadic fractions, exact in a float, so the
 * expected sums are exact; the tolerance 1e-12 (relative) only allows for a
 * different order of floating additions. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "../sim/model/agent.h"
#include "talentsim/scenario.h"
#include "talentsim/sim.h"

#define SEED 424242u
#define YEAR 2021
#define F 0.5 /* sample_fraction: every count metric is doubled */

static ts_params P;

/* Distinctive parameters: a federal ban on non-citizens with access 0.5, so
 * F_US is 0 or 0.5; a China data advantage; sample_fraction 0.5. */
static void setup(void) {
    ts_params_default(&P);
    P.sample_fraction = F;
    P.population.talent_sigma = 0.4;
    P.funding.federal_ban = TS_BAN_NONCITIZENS;
    P.funding.us_federal_access = 0.5;
    P.funding.cn_level = 0.6;
    P.collaboration.openness = 0.75;
    P.output.rho_fund = 0.25;
    P.output.rho_collab = 0.4;
    P.output.cn_data_advantage = 0.2;
    P.survey.window = 2;
    P.survey.threshold_unsafe = 0.4;
    P.survey.threshold_collab = 0.53;
    P.survey.collab_weight = 0.15;
    P.survey.threshold_grant = 0.5;
    P.survey.ban_weight = 0.3;
}

TestSuite(record, .init = setup);

typedef struct {
    ts_loc loc;
    ts_stage stage;
    ts_sector sector;
    ts_visa visa;
    int collab;
    double h, q;
    unsigned considered;
    int grad_year, grad_in_us;
    int moved;
} spec;

enum { NONE = -1 };
#define US TS_LOC_US
#define CN TS_LOC_CN
#define STU TS_STAGE_STUDENT
#define EAR TS_STAGE_EARLY
#define SEN TS_STAGE_SENIOR
#define ACA TS_SECTOR_ACADEMIA
#define IND TS_SECTOR_INDUSTRY

/* The population. Top-decile cut exp(1.2816 * 0.4) = 1.6697; q 1.5, 1.625
 * and 1.65625 lie between it and exp(1.0 * 0.4) = 1.4918 (a moved cut). The
 * survey window 2 is bits 0b11: 0b100 and 0b1000 lie outside it. Cohort of
 * YEAR - 5 = 2016 graduated in the US: A4, A8, A10 (in the US), B2, B7 (in
 * China); B4 graduated in 2016 in China, A9 in 2015. */
static const spec POP[] = {
    /*        loc stage sector visa             collab h     q      cons   grad  inUS moved */
    /* A1 */ {US, STU, ACA, TS_VISA_STUDENT, 0, 0.5, 0.75, 0, NONE, 0, 0},
    /* A2 */ {US, STU, ACA, TS_VISA_STUDENT, 0, 0.5, 1.75, 0, NONE, 0, 0},
    /* A3 */ {US, EAR, ACA, TS_VISA_TEMP, 0, 0.3125, 1.0, 0x1, NONE, 0, 0},
    /* A4 */ {US, EAR, ACA, TS_VISA_PERMANENT, 0, 0.4375, 1.625, 0x4, 2016, 1, 0},
    /* A5 */ {US, SEN, ACA, TS_VISA_CITIZEN, 0, 0.375, 1.6875, 0x2, NONE, 0, 0},
    /* A6 */ {US, SEN, ACA, TS_VISA_CITIZEN, 0, 0.0625, 2.5, 0x6, NONE, 0, 1},
    /* A7 */ {US, EAR, IND, TS_VISA_TEMP, 1, 0.875, 0.6875, 0x1, NONE, 0, 0},
    /* A8 */ {US, SEN, IND, TS_VISA_CITIZEN, 0, 0.25, 1.25, 0, 2016, 1, 0},
    /* A9 */ {US, EAR, ACA, TS_VISA_PERMANENT, 0, 0.625, 0.875, 0x3, 2015, 1, 0},
    /* A10 */ {US, EAR, ACA, TS_VISA_TEMP, 1, 0.40625, 1.5, 0x8, 2016, 1, 0},
    /* B1 */ {CN, STU, ACA, TS_VISA_NONE, 0, 0.1, 1.125, 0, NONE, 0, 0},
    /* B2 */ {CN, EAR, ACA, TS_VISA_NONE, 1, 0.5, 1.3125, 0, 2016, 1, 0},
    /* B3 */ {CN, SEN, IND, TS_VISA_NONE, 0, 0.1, 2.0, 0, NONE, 0, 0},
    /* B4 */ {CN, EAR, ACA, TS_VISA_CITIZEN, 0, 0.1, 0.625, 0, 2016, 0, 0},
    /* B5 */ {CN, SEN, ACA, TS_VISA_NONE, 1, 0.9, 1.65625, 0x1, NONE, 0, 0},
    /* B6 */ {CN, EAR, IND, TS_VISA_NONE, 0, 0.1, 1.0, 0, NONE, 0, 1},
    /* B7 */ {CN, EAR, ACA, TS_VISA_NONE, 0, 0.1, 0.5, 0, 2016, 1, 0},
};
#define NPOP (sizeof POP / sizeof POP[0])

static ts_agent agent_of(const spec *s, uint32_t idx) {
    return (ts_agent){.q = (float)s->q, .sens = 1.0f, .h = (float)s->h, .idx = idx,
                      .group = 3, .grad_year = (int16_t)s->grad_year, .active = 1,
                      .loc = (uint8_t)s->loc, .stage = (uint8_t)s->stage,
                      .sector = (uint8_t)s->sector, .visa = (uint8_t)s->visa,
                      .collab = (uint8_t)s->collab, .grad_in_us = (uint8_t)s->grad_in_us,
                      .considered = (uint8_t)s->considered, .years_in_stage = 1,
                      .years_in_us = 3};
}

/* m[id] == want (both NaN for a missing value), relative 1e-12; marks id. */
static void expect_metric(const double *m, int id, double want, int *checked) {
    checked[id]++;
    const char *name = ts_metric_name((ts_metric)id);
    if (isnan(want)) {
        cr_expect(isnan(m[id]), "%s: %.17g, expected missing", name, m[id]);
        return;
    }
    double tol = 1e-12 * (fabs(want) > 1.0 ? fabs(want) : 1.0);
    cr_expect(fabs(m[id] - want) <= tol, "%s: %.17g, expected %.17g", name, m[id], want);
}

/* Every metric of section 6 against its formula. The state metrics come
 * from the recorded population; the flow, inflow and eco.gap slots (which
 * the record leaves at 0: they are made by the year's moves and by the
 * engine) are then filled by hand to check that ts_metrics_of maps each to
 * its metric, rescaling counts and not means. */
Test(record, every_metric_from_a_hand_made_population) {
    ts_year y;
    ts_year_init(&y, &P, YEAR, SEED, 0, 0.0, 0.0, 0.0);
    double cut = exp(1.2816 * 0.4); /* MODEL 6: top decile at birth */
    for (size_t i = 0; i < NPOP; i++) /* no q within 0.5% of the cut */
        cr_assert(fabs(POP[i].q / cut - 1.0) > 0.005, "agent %zu too close to the cut", i);
    ts_tally t;
    memset(&t, 0, sizeof t);
    for (size_t i = 0; i < NPOP; i++) {
        ts_agent a = agent_of(&POP[i], (uint32_t)i);
        ts_agent_record(&y, &a, POP[i].moved, &t);
    }
    /* the record makes no flows: those come from the year's moves */
    const int flow_slots[] = {TS_C_US_TO_CN, TS_C_US_TO_CN_ACAD, TS_C_CN_TO_US, TS_C_FORCED,
                              TS_C_FORCED_ACAD, TS_C_VOLUNTARY, TS_C_GRAD_US,
                              TS_C_GRAD_STAY_US, TS_C_INFLOW_US, TS_C_INFLOW_CN};
    for (size_t i = 0; i < sizeof flow_slots / sizeof flow_slots[0]; i++)
        cr_expect_eq(t.n[flow_slots[i]], 0, "slot %d", flow_slots[i]);
    cr_expect_eq(t.s[TS_S_Q_VOLUNTARY], 0.0);
    cr_expect_eq(t.s[TS_S_ECO_GAP], 0.0);
    t.n[TS_C_US_TO_CN] = 7;
    t.n[TS_C_US_TO_CN_ACAD] = 5;
    t.n[TS_C_CN_TO_US] = 3;
    t.n[TS_C_FORCED] = 4;
    t.n[TS_C_FORCED_ACAD] = 2;
    t.n[TS_C_VOLUNTARY] = 3;
    t.s[TS_S_Q_VOLUNTARY] = 3.75;
    t.n[TS_C_GRAD_US] = 9;
    t.n[TS_C_GRAD_STAY_US] = 6;
    t.n[TS_C_INFLOW_US] = 11;
    t.n[TS_C_INFLOW_CN] = 13;
    t.s[TS_S_ECO_GAP] = -0.0625;

    double m[TS_NMETRICS];
    ts_metrics_of(&t, F, m);
    int checked[TS_NMETRICS] = {0};
#define EXPECT(id, v) expect_metric(m, TS_M_##id, (v), checked)
    /* stocks: counts / 0.5 */
    EXPECT(STOCK_US_STUDENT, 2 / F);  /* A1 A2 */
    EXPECT(STOCK_US_EARLY, 5 / F);    /* A3 A4 A7 A9 A10 */
    EXPECT(STOCK_US_SENIOR, 3 / F);   /* A5 A6 A8 */
    EXPECT(STOCK_US_TOTAL, 10 / F);
    EXPECT(STOCK_CN_STUDENT, 1 / F);  /* B1 */
    EXPECT(STOCK_CN_EARLY, 4 / F);    /* B2 B4 B6 B7 */
    EXPECT(STOCK_CN_SENIOR, 2 / F);   /* B3 B5 */
    EXPECT(STOCK_CN_TOTAL, 7 / F);
    EXPECT(STOCK_US_ACADEMIA, 6 / F); /* A3 A4 A5 A6 A9 A10 */
    EXPECT(STOCK_US_INDUSTRY, 2 / F); /* A7 A8 */
    /* talent: sum of q by location, a count in real-world units */
    EXPECT(TALENT_US, (0.75 + 1.75 + 1.0 + 1.625 + 1.6875 + 2.5 + 0.6875 + 1.25 + 0.875 + 1.5) / F);
    EXPECT(TALENT_CN, (1.125 + 1.3125 + 2.0 + 0.625 + 1.65625 + 1.0 + 0.5) / F);
    /* top decile (q >= 1.6697): A2 A5 A6 in the US, B3 in China */
    EXPECT(TOP_TALENT_US_SHARE, 3.0 / 4.0);
    /* survey items over the 6 US academics A3 A4 A5 A6 A9 A10:
     * unsafe h > 0.4: A4 (.4375) A9 (.625) A10 (.40625) */
    EXPECT(SURVEY_FEEL_UNSAFE, 3.0 / 6.0);
    /* considered within bits 0b11: A3 (0b1) A5 (0b10) A6 (0b110) A9 (0b11);
     * not A4 (0b100), A10 (0b1000) */
    EXPECT(SURVEY_CONSIDERED_LEAVING, 4.0 / 6.0);
    /* h + 0.15 collab > 0.53: A9 (.625), A10 (.40625 + .15); A5 (.375) not */
    EXPECT(SURVEY_COLLAB_WORRY, 2.0 / 6.0);
    /* h + 0.3 (1 - F_US) > 0.5, F_US = 0 for non-citizens, 0.5 for citizens:
     * A3 .6125, A4 .7375, A5 .375 + .15, A9 .925, A10 .70625; not A6 .2125 */
    EXPECT(SURVEY_GRANT_RELUCTANT, 5.0 / 6.0);
    EXPECT(FEAR_US_MEAN, (0.3125 + 0.4375 + 0.375 + 0.0625 + 0.625 + 0.40625) / 6.0);
    EXPECT(COLLAB_US_ACADEMIA_SHARE, 1.0 / 6.0); /* A10 */
    /* papers: q (1 + 0.25 F) (1 + 0.4 * 0.75 collab) (1 + data), EARLY/SENIOR;
     * US: F = 0 (A3 A4 A7 A9 A10) or 0.5 (citizens A5 A6 A8), data 0 */
    EXPECT(OUTPUT_PAPERS_US, (1.0 + 1.625 + 1.6875 * 1.125 + 2.5 * 1.125 + 0.6875 * 1.3 +
                              1.25 * 1.125 + 0.875 + 1.5 * 1.3) / F);
    /* China: F = cn_level 0.6 (1.15), data 0.2 (1.2); collab B2 B5 */
    EXPECT(OUTPUT_PAPERS_CN, (1.3125 * 1.3 + 2.0 + 0.625 + 1.65625 * 1.3 + 1.0 + 0.5) *
                                 1.15 * 1.2 / F);
    /* joint: q 0.4 * 0.75 over EARLY/SENIOR with collab A7 A10 B2 B5 */
    EXPECT(OUTPUT_PAPERS_JOINT, (0.6875 + 1.5 + 1.3125 + 1.65625) * 0.4 * 0.75 / F);
    /* cohort of 2016 graduated in the US: A4 A8 A10 in the US, B2 B7 not */
    EXPECT(COHORT_STAY_RATE_5Y, 3.0 / 5.0);
    /* US EARLY/SENIOR that did not move: all but A6 */
    EXPECT(TALENT_MEAN_US_STAYERS, (1.0 + 1.625 + 1.6875 + 0.6875 + 1.25 + 0.875 + 1.5) / 7.0);
    /* the slots filled by hand */
    EXPECT(FLOWS_US_TO_CN, 7 / F);
    EXPECT(FLOWS_US_TO_CN_ACADEMIC, 5 / F);
    EXPECT(FLOWS_CN_TO_US, 3 / F);
    EXPECT(FLOWS_FORCED, 4 / F);
    EXPECT(FLOWS_FORCED_ACADEMIC, 2 / F);
    EXPECT(TALENT_MEAN_US_TO_CN_VOLUNTARY, 3.75 / 3.0); /* a mean: not rescaled */
    EXPECT(FLOWS_GRADUATES_US, 9 / F);
    EXPECT(FLOWS_GRADUATES_STAY_US, 6 / F);
    EXPECT(INFLOW_US_STUDENTS, 11 / F);
    EXPECT(INFLOW_CN_STUDENTS, 13 / F);
    EXPECT(ECO_GAP, -0.0625); /* a utility difference: not rescaled */
#undef EXPECT
    for (int k = 0; k < TS_NMETRICS; k++)
        cr_expect_eq(checked[k], 1, "metric %s checked %d times (add it to this test)",
                     ts_metric_name((ts_metric)k), checked[k]);
}

/* Ratios and means over nobody are missing (NaN), not 0 (MODEL 6: the stay
 * rate of an empty cohort, the mean talent of no voluntary movers). */
Test(record, empty_denominators_are_missing) {
    ts_tally t;
    memset(&t, 0, sizeof t);
    double m[TS_NMETRICS];
    ts_metrics_of(&t, F, m);
    const int missing[] = {TS_M_TOP_TALENT_US_SHARE, TS_M_SURVEY_FEEL_UNSAFE,
                           TS_M_SURVEY_CONSIDERED_LEAVING, TS_M_SURVEY_COLLAB_WORRY,
                           TS_M_SURVEY_GRANT_RELUCTANT, TS_M_FEAR_US_MEAN,
                           TS_M_COHORT_STAY_RATE_5Y, TS_M_TALENT_MEAN_US_TO_CN_VOLUNTARY,
                           TS_M_TALENT_MEAN_US_STAYERS, TS_M_COLLAB_US_ACADEMIA_SHARE};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++)
        cr_expect(isnan(m[missing[i]]), "%s", ts_metric_name((ts_metric)missing[i]));
    cr_expect_eq(m[TS_M_STOCK_US_TOTAL], 0.0);
    cr_expect_eq(m[TS_M_ECO_GAP], 0.0);
}

/* ---- flows made by ts_agent_year ---- */

/* A context where nobody leaves research and nothing happens by chance
 * unless a test says so. */
static void quiet_year(ts_year *y) {
    P.career.attrition.student = P.career.attrition.early = P.career.attrition.senior = 0.0;
    P.career.review_rate = 0.0;
    P.collaboration.form_rate = 0.0;
    P.collaboration.end_rate = 0.0;
    P.collaboration.break_rate = 0.0;
    ts_year_init(y, &P, YEAR, SEED, 0, 0.0, 0.0, 0.0);
}

static ts_agent us_agent(uint32_t idx, ts_stage stage, ts_sector sector, ts_visa visa, double q) {
    spec s = {US, stage, sector, visa, 0, 0.2, q, 0, NONE, 0, 0};
    return agent_of(&s, idx);
}

/* Forced moves (MODEL 3.4, 3.5): a TEMP agent at max_temp_years with
 * green_card_rate 0 and extension_rate 0 must leave; an EARLY ACADEMIA one
 * is a forced academic switch, an INDUSTRY one is not; a US graduate
 * without work authorization leaves at graduation (flows.us_to_cn, not
 * academic). Deterministic: every rate is 0 or 1. */
Test(record, forced_moves_through_the_year) {
    ts_year y;
    P.visa.green_card_rate = 0.0;
    P.visa.extension_rate = 0.0;
    P.visa.work_approval = 0.0;
    quiet_year(&y);
    ts_agent acad = us_agent(1, EAR, ACA, TS_VISA_TEMP, 1.25);
    ts_agent ind = us_agent(2, EAR, IND, TS_VISA_TEMP, 0.75);
    ts_agent grad = us_agent(3, STU, ACA, TS_VISA_STUDENT, 1.5);
    acad.years_on_visa = ind.years_on_visa = (uint8_t)P.visa.max_temp_years;
    grad.years_in_stage = (uint8_t)P.career.phd_years;
    ts_tally t;
    memset(&t, 0, sizeof t);
    ts_agent_year(&y, &acad, &t);
    ts_agent_year(&y, &ind, &t);
    ts_agent_year(&y, &grad, &t);
    cr_assert(acad.loc == CN && ind.loc == CN && grad.loc == CN);
    double m[TS_NMETRICS];
    ts_metrics_of(&t, F, m);
    cr_expect_eq(m[TS_M_FLOWS_FORCED], 3 / F);
    cr_expect_eq(m[TS_M_FLOWS_FORCED_ACADEMIC], 1 / F);
    cr_expect_eq(m[TS_M_FLOWS_US_TO_CN], 3 / F);
    cr_expect_eq(m[TS_M_FLOWS_US_TO_CN_ACADEMIC], 1 / F);
    cr_expect_eq(m[TS_M_FLOWS_CN_TO_US], 0.0);
    cr_expect_eq(m[TS_M_FLOWS_GRADUATES_US], 1 / F);
    cr_expect_eq(m[TS_M_FLOWS_GRADUATES_STAY_US], 0.0);
    cr_expect(isnan(m[TS_M_TALENT_MEAN_US_TO_CN_VOLUNTARY]), "no voluntary mover");
    cr_expect(isnan(m[TS_M_TALENT_MEAN_US_STAYERS]), "nobody stayed");
}

/* Voluntary moves (MODEL 3.6): with review_rate 1, china.offer_rate 1 and
 * asc_cn 50, logistic(V_CN - V_US) is 1 in doubles, so a US SENIOR
 * academic and a US graduate (deciding at graduation, work_approval 1)
 * both move of their own choice: talent.mean_us_to_cn_voluntary is the
 * mean of their q; only the SENIOR is an academic switch. With asc_cn -50,
 * us.offer_rate 1 and work_approval 1 a China agent moves to the US. */
Test(record, voluntary_moves_through_the_year) {
    ts_year y;
    quiet_year(&y);
    P.career.review_rate = 1.0;
    P.china.offer_rate = 1.0;
    P.visa.work_approval = 1.0;
    P.utility.asc_cn = 50.0;
    ts_year_init(&y, &P, YEAR, SEED, 0, 0.0, 0.0, 0.0);
    ts_agent sen = us_agent(1, SEN, ACA, TS_VISA_CITIZEN, 1.375);
    ts_agent grad = us_agent(2, STU, ACA, TS_VISA_STUDENT, 0.625);
    grad.years_in_stage = (uint8_t)P.career.phd_years;
    ts_tally t;
    memset(&t, 0, sizeof t);
    ts_agent_year(&y, &sen, &t);
    ts_agent_year(&y, &grad, &t);
    cr_assert(sen.loc == CN && grad.loc == CN);
    double m[TS_NMETRICS];
    ts_metrics_of(&t, F, m);
    cr_expect_eq(m[TS_M_TALENT_MEAN_US_TO_CN_VOLUNTARY], (1.375 + 0.625) / 2.0);
    cr_expect_eq(m[TS_M_FLOWS_US_TO_CN], 2 / F);
    cr_expect_eq(m[TS_M_FLOWS_US_TO_CN_ACADEMIC], 1 / F);
    cr_expect_eq(m[TS_M_FLOWS_FORCED], 0.0);
    cr_expect_eq(m[TS_M_FLOWS_FORCED_ACADEMIC], 0.0);
    cr_expect_eq(m[TS_M_FLOWS_GRADUATES_US], 1 / F);
    cr_expect_eq(m[TS_M_FLOWS_GRADUATES_STAY_US], 0.0);

    P.utility.asc_cn = -50.0;
    P.us.offer_rate = 1.0;
    ts_year_init(&y, &P, YEAR, SEED, 0, 0.0, 0.0, 0.0);
    spec s = {CN, SEN, ACA, TS_VISA_NONE, 0, 0.2, 1.0, 0, NONE, 0, 0};
    ts_agent back = agent_of(&s, 4);
    memset(&t, 0, sizeof t);
    ts_agent_year(&y, &back, &t);
    cr_assert_eq(back.loc, US);
    ts_metrics_of(&t, F, m);
    cr_expect_eq(m[TS_M_FLOWS_CN_TO_US], 1 / F);
    cr_expect_eq(m[TS_M_FLOWS_US_TO_CN], 0.0);
    cr_expect(isnan(m[TS_M_TALENT_MEAN_US_STAYERS]), "an arrival is not a stayer");
}

/* The survey window over years (MODEL 3.7, 6): the considered mask shifts
 * by one each year, so a US academic who thought about leaving last year
 * (bit 0) and not this year (consider_shift -50: logistic is 2e-22) still
 * counts with window 2, and no longer two years later. With consider_shift
 * 50 it considers every year. Deterministic. */
Test(record, survey_window_spans_years) {
    ts_year y;
    P.survey.consider_shift = -50.0;
    quiet_year(&y);
    ts_agent a = us_agent(7, SEN, ACA, TS_VISA_CITIZEN, 1.0);
    a.considered = 0x1;
    const int want[3] = {1, 0, 0}; /* bits 0b10, 0b100, 0b1000 */
    for (int k = 0; k < 3; k++) {
        ts_tally t;
        memset(&t, 0, sizeof t);
        ts_year_init(&y, &P, YEAR + k, SEED, 0, 0.0, 0.0, 0.0);
        ts_agent_year(&y, &a, &t);
        cr_assert_eq(a.loc, US);
        cr_expect_eq(a.considered, 0x2u << k, "year %d: mask %#x", k, a.considered);
        cr_expect_eq(t.n[TS_C_CONSIDERED], want[k], "year %d", k);
    }
    P.survey.consider_shift = 50.0;
    ts_year_init(&y, &P, YEAR + 3, SEED, 0, 0.0, 0.0, 0.0);
    ts_tally t;
    memset(&t, 0, sizeof t);
    ts_agent_year(&y, &a, &t);
    cr_expect_eq(a.considered, 0x11u, "bit 0 set, the old bit shifted on");
    cr_expect_eq(t.n[TS_C_CONSIDERED], 1);
}

/* The mask is read only by the survey of US academics, so it is kept only
 * for them (an industry researcher's stays 0), and not at all in spin-up
 * years whose considerations no recorded survey can reach: their mask stays
 * 0 (the engine sets y.consider from ts_consider_matters). */
Test(record, considerations_are_kept_where_a_survey_reads_them) {
    ts_year y;
    P.survey.consider_shift = 50.0; /* logistic(50): considers for certain */
    quiet_year(&y);
    ts_agent acad = us_agent(7, SEN, ACA, TS_VISA_CITIZEN, 1.0);
    ts_agent ind = us_agent(8, SEN, TS_SECTOR_INDUSTRY, TS_VISA_CITIZEN, 1.0);
    ts_agent early = acad;
    ts_tally t;
    memset(&t, 0, sizeof t);
    ts_agent_year(&y, &acad, &t);
    ts_agent_year(&y, &ind, &t);
    cr_expect_eq(acad.considered, 0x1u);
    cr_expect_eq(ind.considered, 0x0u, "an industry researcher's mask is never read");
    y.consider = 0;
    ts_agent_year(&y, &early, &t);
    cr_expect_eq(early.considered, 0x0u);
    /* the first recorded year 2015: 2008 is the earliest year whose
     * consideration is bit 7 of the 2015 mask, the widest window's last */
    cr_expect(ts_consider_matters(2015, 2015));
    cr_expect(ts_consider_matters(2008, 2015));
    cr_expect(!ts_consider_matters(2007, 2015));
    const ts_param_info *w = ts_param_find("survey.window");
    cr_assert_not_null(w);
    cr_expect_eq(w->max, TS_SURVEY_WINDOW_MAX, "the widest window is the mask's");
}

/* ---- d_t and A_c (MODEL 4 step 5, MODEL 5) ---- */

/* d_t = academic US->CN moves / US academic stock at the start of the year:
 * 3 / 200 = 0.015 (the non-academic moves do not count; 0 without a
 * stock). A_c = elasticity (S_c,t-1 - S_c,0), 0 in the first year: start
 * talent 30 / 70 gives S_0 = (0.3, 0.7); a year with talent 24 / 76 gives
 * S = (0.24, 0.76), so with elasticity 1.5 A_US = -0.09, A_CN = 0.09 and the
 * gap A_CN - A_US = 0.18. Exact up to rounding (1e-12). */
Test(record, departure_rate_and_ecosystem_from_a_tally) {
    ts_carry c;
    const double talent0[2] = {30.0, 70.0};
    ts_carry_start(&c, talent0);
    P.eco.elasticity = 1.5;
    double a[2] = {-1.0, -1.0};
    ts_carry_eco(&c, &P, a);
    cr_expect_eq(a[TS_LOC_US], 0.0, "first year");
    cr_expect_eq(a[TS_LOC_CN], 0.0, "first year");
    cr_expect_eq(c.d_prev, 0.0);

    ts_tally t;
    memset(&t, 0, sizeof t);
    t.n[TS_C_START_US_ACAD] = 200;
    t.n[TS_C_US_TO_CN_ACAD] = 3;
    t.n[TS_C_US_TO_CN] = 50;
    t.s[TS_S_TALENT_US] = 24.0;
    t.s[TS_S_TALENT_CN] = 76.0;
    ts_carry_update(&c, &t);
    cr_expect(fabs(c.d_prev - 0.015) <= 1e-15, "d = %.17g", c.d_prev);
    ts_carry_eco(&c, &P, a);
    cr_expect(fabs(a[TS_LOC_US] - 1.5 * (0.24 - 0.3)) <= 1e-12, "A_US %.17g", a[TS_LOC_US]);
    cr_expect(fabs(a[TS_LOC_CN] - 1.5 * (0.76 - 0.7)) <= 1e-12, "A_CN %.17g", a[TS_LOC_CN]);
    cr_expect(fabs((a[TS_LOC_CN] - a[TS_LOC_US]) - 0.18) <= 1e-12);

    /* the shares, not the sums: the same shares from doubled sums */
    t.s[TS_S_TALENT_US] = 48.0;
    t.s[TS_S_TALENT_CN] = 152.0;
    t.n[TS_C_START_US_ACAD] = 0;
    ts_carry_update(&c, &t);
    cr_expect_eq(c.d_prev, 0.0, "no academic stock: d = 0");
    double b[2];
    ts_carry_eco(&c, &P, b);
    cr_expect(fabs(b[TS_LOC_US] - a[TS_LOC_US]) <= 1e-12);
    cr_expect(fabs(b[TS_LOC_CN] - a[TS_LOC_CN]) <= 1e-12);
}

/* The engine wires the carry into the recorded eco.gap (sim.c): with
 * S_c = talent.c / (talent.us + talent.cn) of a recorded year,
 * gap_t - gap_{t-1} = elasticity ((S_CN - S_US)_{t-1} - (S_CN - S_US)_{t-2})
 * (S_c,0 cancels); without a spin-up the first year's gap is 0. Rounding
 * only: 1e-9. */
Test(record, eco_gap_in_a_run_follows_the_talent_shares) {
    ts_error err;
    ts_scenario *sc = ts_scenario_alloc("eco");
    cr_assert_not_null(sc);
    const char *set[][2] = {{"sample_fraction", "0.02"}, {"replications", "1"},
                            {"years.end", "2021"}, {"years.spinup", "0"},
                            {"eco.elasticity", "1.5"}};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        cr_assert_eq(ts_scenario_set(sc, set[i][0], set[i][1], "test", &err), TS_OK, "%s",
                     set[i][0]);
    ts_run_opts opt = {.threads = 1};
    ts_results *r = NULL;
    cr_assert_eq(ts_sim_run(sc, &opt, &r, &err), TS_OK, "%s", err.msg);
    double diff[16];
    cr_assert_leq(r->nyear, 16);
    for (size_t y = 0; y < r->nyear; y++) {
        double us = ts_results_get(r, 0, y, TS_M_TALENT_US);
        double cn = ts_results_get(r, 0, y, TS_M_TALENT_CN);
        diff[y] = (cn - us) / (us + cn);
    }
    cr_expect_eq(ts_results_get(r, 0, 0, TS_M_ECO_GAP), 0.0, "first year");
    int moved = 0;
    for (size_t y = 2; y < r->nyear; y++) {
        double g = ts_results_get(r, 0, y, TS_M_ECO_GAP);
        double g1 = ts_results_get(r, 0, y - 1, TS_M_ECO_GAP);
        cr_expect(fabs((g - g1) - 1.5 * (diff[y - 1] - diff[y - 2])) <= 1e-9,
                  "year %zu: gap step %.12g vs %.12g", y, g - g1,
                  1.5 * (diff[y - 1] - diff[y - 2]));
        moved |= g != g1;
    }
    cr_expect(moved, "the gap never changed: the check is empty");
    ts_results_free(r);
    ts_scenario_free(sc);
}
