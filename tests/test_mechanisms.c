/* Each mechanism of MODEL.md section 4 in isolation, against its analytic
 * expectation. Fixed seeds; tolerance K_SE standard errors of the estimator
 * (a false failure has probability about 6e-7 per assertion). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "../sim/model/agent.h"

#define K_SE 5.0
#define N_AGENTS 200000
#define SEED 987654321u

static ts_params P;
static ts_year Y;

static void setup_year(double d_prev) {
    ts_year_init(&Y, &P, 2020, SEED, 3, d_prev, 0.0, 0.0);
}

static void setup(void) {
    ts_params_default(&P);
    setup_year(0.0);
}

static ts_agent make_agent(uint32_t i, ts_loc loc, ts_stage stage) {
    ts_agent a = {.q = 1.0f, .sens = 1.0f, .h = 0.2f, .idx = i, .group = 7, .grad_year = -1,
                  .active = 1, .loc = (uint8_t)loc, .stage = (uint8_t)stage,
                  .visa = loc == TS_LOC_US ? TS_VISA_PERMANENT : TS_VISA_NONE};
    return a;
}

static void draws_of(const ts_agent *a, ts_draws *d) {
    ts_draws_init(d, Y.seed, Y.rep, a->idx, a->group, (uint32_t)Y.year);
}

/* |observed share - p| within K_SE binomial standard errors. */
static void expect_share(long hits, long n, double p, const char *what) {
    double f = (double)hits / (double)n;
    double se = sqrt(p * (1.0 - p) / (double)n);
    cr_expect(fabs(f - p) <= K_SE * se + 1e-12, "%s: observed %.5f, expected %.5f (se %.5f)",
              what, f, p, se);
}

TestSuite(mech, .init = setup);

Test(mech, uniform_draws_are_uniform_and_slots_independent) {
    double sum = 0.0, sum_xy = 0.0;
    for (uint32_t i = 0; i < N_AGENTS; i++) {
        ts_draws d;
        ts_draws_init(&d, SEED, 0, i, 1, 2020);
        double u = ts_draw_u(&d, TS_D_ATTRITION), v = ts_draw_u(&d, TS_D_MOVE);
        cr_assert(u > 0.0 && u < 1.0);
        sum += u;
        sum_xy += (u - 0.5) * (v - 0.5);
    }
    double se_mean = sqrt(1.0 / 12.0 / N_AGENTS), se_cov = (1.0 / 12.0) / sqrt(N_AGENTS);
    cr_expect(fabs(sum / N_AGENTS - 0.5) <= K_SE * se_mean);
    cr_expect(fabs(sum_xy / N_AGENTS) <= K_SE * se_cov, "slots correlated");
}

Test(mech, draws_depend_only_on_their_key) {
    ts_draws a, b;
    ts_draws_init(&a, SEED, 1, 42, 3, 2021);
    ts_draws_init(&b, SEED, 1, 42, 3, 2021);
    (void)ts_draw_u(&b, TS_D_FEAR); /* a different order of use */
    cr_expect_eq(ts_draw_word(&a, TS_D_MOVE), ts_draw_word(&b, TS_D_MOVE));
    ts_draws_init(&b, SEED, 2, 42, 3, 2021);
    cr_expect_neq(ts_draw_word(&a, TS_D_MOVE), ts_draw_word(&b, TS_D_MOVE));
}

Test(mech, attrition_rate_by_stage) {
    const double rates[3] = {P.career.attrition.student, P.career.attrition.early,
                             P.career.attrition.senior};
    for (int s = 0; s < 3; s++) {
        long hits = 0;
        for (uint32_t i = 0; i < N_AGENTS; i++) {
            ts_agent a = make_agent(i, TS_LOC_US, (ts_stage)s);
            ts_draws d;
            draws_of(&a, &d);
            int left = ts_mech_attrition(&Y, &a, &d);
            cr_assert_eq(a.active, !left);
            hits += left;
        }
        expect_share(hits, N_AGENTS, rates[s], "attrition");
    }
}

Test(mech, collaboration_forms_and_breaks) {
    P.collaboration.openness = 0.6;
    setup_year(0.0);
    long formed = 0, broken = 0;
    for (uint32_t i = 0; i < N_AGENTS; i++) {
        ts_agent a = make_agent(i, TS_LOC_US, TS_STAGE_EARLY), b = a;
        b.collab = 1;
        ts_draws d;
        draws_of(&a, &d);
        ts_mech_collab(&Y, &a, &d);
        draws_of(&b, &d);
        ts_mech_collab(&Y, &b, &d);
        formed += a.collab;
        broken += !b.collab;
    }
    expect_share(formed, N_AGENTS, 0.10 * 0.6, "form");
    expect_share(broken, N_AGENTS, 0.5 * (1.0 - 0.6), "break");
}

Test(mech, fear_update_mean_and_variance) {
    /* Far from the clip bounds, h1 = (1-λ) h0 + λ (sens s + ω d + ε). */
    P.suspicion.level = 0.4;
    P.suspicion.fear_noise = 0.1;
    P.suspicion.peer_effect = 1.0;
    P.suspicion.adaptation = 0.35;
    setup_year(0.05);
    double lam = 0.35, sigma = 0.1, h0 = 0.3;
    double mean = (1 - lam) * h0 + lam * (0.4 + 0.05), var = lam * lam * sigma * sigma;
    double sum = 0.0, sum2 = 0.0;
    for (uint32_t i = 0; i < N_AGENTS; i++) {
        ts_agent a = make_agent(i, TS_LOC_US, TS_STAGE_SENIOR);
        a.h = (float)h0;
        ts_draws d;
        draws_of(&a, &d);
        ts_mech_fear(&Y, &a, &d);
        sum += a.h;
        sum2 += (a.h - mean) * (a.h - mean);
    }
    double m = sum / N_AGENTS, v = sum2 / N_AGENTS;
    cr_expect(fabs(m - mean) <= K_SE * sqrt(var / N_AGENTS), "mean %.6f vs %.6f", m, mean);
    cr_expect(fabs(v - var) <= K_SE * var * sqrt(2.0 / N_AGENTS) + 1e-9, "var %.3g vs %.3g", v,
              var);
}

Test(mech, fear_in_china_is_the_expected_hostility) {
    P.suspicion.level = 0.5;
    setup_year(0.3);
    ts_agent a = make_agent(1, TS_LOC_CN, TS_STAGE_EARLY);
    a.sens = 1.6f;
    ts_draws d;
    draws_of(&a, &d);
    ts_mech_fear(&Y, &a, &d);
    cr_expect_float_eq(a.h, 0.8f, 1e-6);
    a.sens = 3.0f;
    ts_mech_fear(&Y, &a, &d);
    cr_expect_float_eq(a.h, 1.0f, 1e-6, "clipped to 1");
}

Test(mech, green_cards_naturalization_and_expiry) {
    long gc = 0, nat = 0, forced = 0, young_perm = 0;
    for (uint32_t i = 0; i < N_AGENTS; i++) {
        ts_agent t = make_agent(i, TS_LOC_US, TS_STAGE_EARLY), e = t, p = t, q = t;
        t.visa = TS_VISA_TEMP;
        t.years_on_visa = 2;
        e.visa = TS_VISA_TEMP;
        e.years_on_visa = (uint8_t)P.visa.max_temp_years;
        p.years_on_visa = 5;
        q.years_on_visa = 4;
        ts_draws d;
        draws_of(&t, &d);
        cr_assert_eq(ts_mech_visa(&Y, &t, &d), 0);
        gc += t.visa == TS_VISA_PERMANENT;
        cr_assert(t.visa != TS_VISA_PERMANENT || t.years_on_visa == 0);
        draws_of(&e, &d);
        int out = ts_mech_visa(&Y, &e, &d);
        forced += out;
        cr_assert(out ? e.loc == TS_LOC_CN && e.visa == TS_VISA_NONE : e.visa == TS_VISA_PERMANENT);
        draws_of(&p, &d);
        ts_mech_visa(&Y, &p, &d);
        nat += p.visa == TS_VISA_CITIZEN;
        draws_of(&q, &d);
        ts_mech_visa(&Y, &q, &d);
        young_perm += q.visa == TS_VISA_CITIZEN;
    }
    expect_share(gc, N_AGENTS, P.visa.green_card_rate, "green card");
    expect_share(forced, N_AGENTS, 1.0 - P.visa.green_card_rate, "visa expiry");
    expect_share(nat, N_AGENTS, P.visa.naturalization_rate, "naturalization");
    cr_expect_eq(young_perm, 0, "naturalization needs 5 years of permanent residence");
}

/* Runs ts_agent_year on n copies of a (ids 0..n-1) and sums the tallies. */
static void year_of_copies(const ts_agent *a, long n, ts_tally *t, long *stage_count) {
    memset(t, 0, sizeof *t);
    for (uint32_t i = 0; i < n; i++) {
        ts_agent b = *a;
        b.idx = i;
        ts_agent_year(&Y, &b, t);
        if (stage_count)
            stage_count[b.stage]++;
    }
}

Test(mech, graduation_work_visas_and_stays) {
    P.career.attrition.student = 0.0;
    P.china.offer_rate = 0.0; /* graduates with a work visa all stay */
    setup_year(0.0);
    ts_agent s = make_agent(0, TS_LOC_US, TS_STAGE_STUDENT);
    s.visa = TS_VISA_STUDENT;
    s.years_in_stage = (uint8_t)P.career.phd_years;
    ts_tally t;
    long stages[3] = {0};
    year_of_copies(&s, N_AGENTS, &t, stages);
    cr_expect_eq(stages[TS_STAGE_EARLY], N_AGENTS, "every eligible student graduates");
    cr_expect_eq(t.n[TS_C_GRAD_US], N_AGENTS);
    expect_share(t.n[TS_C_GRAD_STAY_US], N_AGENTS, P.visa.work_approval, "work visa");
    cr_expect_eq(t.n[TS_C_FORCED], N_AGENTS - t.n[TS_C_GRAD_STAY_US]);
    cr_expect_eq(t.n[TS_C_US_TO_CN], t.n[TS_C_FORCED], "graduates leaving count in us_to_cn");
    cr_expect_eq(t.n[TS_C_US_TO_CN_ACAD], 0, "graduates are not academic switches");
    long industry = t.n[TS_C_US_INDUSTRY];
    long stayed = t.n[TS_C_GRAD_STAY_US];
    expect_share(industry, stayed, P.population.us.industry_share, "industry share");
}

Test(mech, students_not_yet_due_do_not_graduate) {
    P.career.attrition.student = 0.0;
    setup_year(0.0);
    ts_agent s = make_agent(0, TS_LOC_CN, TS_STAGE_STUDENT);
    s.years_in_stage = (uint8_t)(P.career.phd_years - 1);
    ts_tally t;
    long stages[3] = {0};
    year_of_copies(&s, 1000, &t, stages);
    cr_expect_eq(stages[TS_STAGE_STUDENT], 1000);
}

/* V_US and V_CN written out by hand for one agent (MODEL 5), defaults. */
Test(mech, logit_choice_frequency_us_to_cn) {
    P.career.attrition.early = 0.0;
    P.suspicion.adaptation = 0.0;     /* h stays 0.2 */
    P.collaboration.break_rate = 0.0; /* collab stays 1 */
    P.career.review_rate = 1.0;
    P.china.tax_relief_coverage = 0.0;
    setup_year(0.0);
    ts_agent a = make_agent(0, TS_LOC_US, TS_STAGE_EARLY);
    a.collab = 1;
    a.years_in_stage = 2;
    a.years_in_us = 7;
    double v_us = 1.0 * 1.0 + 0.5 * 1.0 * 1 - 1.5 * 0.2 + 1.0 * 0.7;
    double dw = log(0.7) + log((1 - 0.45) / (1 - 0.35));
    double v_cn = 1.0 * dw + 1.0 * 0.7 + 0.5 - 2.0 - 2.0;
    double p = 0.7 / (1.0 + exp(-(v_cn - v_us)));
    cr_assert_float_eq(ts_move_prob(&Y, &a, 0, 0), p, 1e-7); /* h is a float */
    ts_tally t;
    year_of_copies(&a, N_AGENTS, &t, NULL);
    expect_share(t.n[TS_C_US_TO_CN], N_AGENTS, p, "US->CN moves");
    cr_expect_eq(t.n[TS_C_US_TO_CN_ACAD], t.n[TS_C_US_TO_CN], "academic agents");
    /* Consideration by those who stayed: logistic(V_CN - V_US + κ). */
    double pc = 1.0 / (1.0 + exp(-(v_cn - v_us + P.survey.consider_shift)));
    long stayed = N_AGENTS - t.n[TS_C_US_TO_CN];
    expect_share(t.n[TS_C_CONSIDERED], stayed, pc, "considered leaving");
}

Test(mech, logit_choice_frequency_cn_to_us) {
    P.career.attrition.senior = 0.0;
    P.career.review_rate = 1.0;
    P.china.tax_relief_coverage = 1.0; /* always relieved */
    P.funding.federal_ban = TS_BAN_NONCITIZENS;
    P.collaboration.form_rate = 0.0; /* collab stays 0 */
    setup_year(0.0);
    ts_agent a = make_agent(0, TS_LOC_CN, TS_STAGE_SENIOR);
    a.q = 2.0f; /* above the talent-programme threshold 1.8 */
    a.years_in_us = 3;
    double h = 1.0 * P.suspicion.level;
    double v_us = 0.0 /* banned */ - 1.5 * h - 0.5 * 1 + 1.0 * 0.3 - 2.0;
    double dw = log(0.7) + log((1 - 0.45 * (1 - 0.75)) / (1 - 0.35));
    double v_cn = dw + 0.7 + 0.5 * 1.0 + 0.5 - 2.0;
    double p = 0.3 * 0.9 / (1.0 + exp(-(v_us - v_cn)));
    ts_tally t;
    year_of_copies(&a, N_AGENTS, &t, NULL);
    expect_share(t.n[TS_C_CN_TO_US], N_AGENTS, p, "CN->US moves");
}

Test(mech, promotion_probability_and_ceiling) {
    P.career.attrition.early = 0.0;
    P.career.review_rate = 0.0;
    setup_year(0.0);
    ts_agent us = make_agent(0, TS_LOC_US, TS_STAGE_EARLY), cn = us;
    cn.loc = TS_LOC_CN;
    cn.visa = TS_VISA_NONE;
    us.q = cn.q = 4.0f;
    us.years_in_stage = cn.years_in_stage = (uint8_t)P.career.promote_min_years;
    long s_us[3] = {0}, s_cn[3] = {0};
    ts_tally t;
    year_of_copies(&us, N_AGENTS, &t, s_us);
    year_of_copies(&cn, N_AGENTS, &t, s_cn);
    double base = P.career.promote_rate * pow(4.0, P.career.promote_talent);
    expect_share(s_us[TS_STAGE_SENIOR], N_AGENTS, base * (1 - P.career.promotion_ceiling), "US");
    expect_share(s_cn[TS_STAGE_SENIOR], N_AGENTS, base, "CN");
}

Test(mech, birth_distributions) {
    double sum_lq = 0.0, sum_lq2 = 0.0, sum_sens = 0.0;
    double ts = P.population.talent_sigma, ss = P.suspicion.sens_sigma;
    for (uint32_t i = 0; i < N_AGENTS; i++) {
        ts_agent a;
        ts_agent_birth(&Y, &a, i, 9, TS_LOC_US, TS_STAGE_STUDENT);
        double lq = log(a.q);
        sum_lq += lq;
        sum_lq2 += lq * lq;
        sum_sens += a.sens;
    }
    double m = sum_lq / N_AGENTS, v = sum_lq2 / N_AGENTS - m * m;
    cr_expect(fabs(m) <= K_SE * ts / sqrt(N_AGENTS), "mean ln q %.5f", m);
    cr_expect(fabs(v - ts * ts) <= K_SE * ts * ts * sqrt(2.0 / N_AGENTS), "var ln q %.5f", v);
    double sens_sd = sqrt(exp(ss * ss) - 1.0); /* lognormal with mean 1 */
    cr_expect(fabs(sum_sens / N_AGENTS - 1.0) <= K_SE * sens_sd / sqrt(N_AGENTS));
}
