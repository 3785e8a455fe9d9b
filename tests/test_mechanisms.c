/* Each mechanism of MODEL.md section 4 in isolation, against its analytic
 * expectation. Fixed seeds; tolerance K_SE standard errors of the estimator
 * (a false failure has probability about 6e-7 per assertion). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/model/agent.h"
#include "../sim/model/kernel.h"

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

/* Runs ts_mech_collab on N_AGENTS agents without and with a collaboration;
 * counts the ones that formed and the ones that ended. */
static void collab_counts(long *formed, long *ended) {
    *formed = *ended = 0;
    for (uint32_t i = 0; i < N_AGENTS; i++) {
        ts_agent a = make_agent(i, TS_LOC_US, TS_STAGE_EARLY), b = a;
        b.collab = 1;
        ts_draws d;
        draws_of(&a, &d);
        ts_mech_collab(&Y, &a, &d);
        draws_of(&b, &d);
        ts_mech_collab(&Y, &b, &d);
        *formed += a.collab;
        *ended += !b.collab;
    }
}

/* MODEL 3.2 (v2) at the defaults and openness 0.6: forms with
 * form_rate * openness = 0.10 * 0.6, ends with
 * min(1, end_rate + break_rate (1 - openness)) = 0.15 + 0.5 * 0.4.
 * Tolerance: K_SE binomial standard errors. */
Test(mech, collaboration_forms_and_breaks) {
    P.collaboration.openness = 0.6;
    setup_year(0.0);
    long formed, broken;
    collab_counts(&formed, &broken);
    expect_share(formed, N_AGENTS, 0.10 * 0.6, "form");
    expect_share(broken, N_AGENTS, 0.15 + 0.5 * (1.0 - 0.6), "break");
}

/* Guards v2's collaboration end rate (MODEL 3.2): at openness 1 a
 * collaboration still ends with end_rate (v1: never); at openness 0.5 with
 * end_rate + break_rate * 0.5; the sum is capped at 1. Distinctive rates so
 * that swapping end_rate and break_rate, or dropping either, fails.
 * Tolerance: K_SE binomial standard errors; the capped case is exact. */
Test(mech, collaboration_end_rate_at_full_and_half_openness) {
    P.collaboration.end_rate = 0.15;
    P.collaboration.break_rate = 0.5;
    P.collaboration.form_rate = 0.10;
    P.collaboration.openness = 1.0;
    setup_year(0.0);
    long formed, ended;
    collab_counts(&formed, &ended);
    expect_share(ended, N_AGENTS, 0.15, "end at openness 1");
    expect_share(formed, N_AGENTS, 0.10, "form at openness 1");
    P.collaboration.openness = 0.5;
    setup_year(0.0);
    collab_counts(&formed, &ended);
    expect_share(ended, N_AGENTS, 0.15 + 0.5 * 0.5, "end at openness 0.5");
    expect_share(formed, N_AGENTS, 0.10 * 0.5, "form at openness 0.5");
    P.collaboration.end_rate = 0.8; /* 0.8 + 0.5 * 0.5 > 1: every one ends */
    setup_year(0.0);
    collab_counts(&formed, &ended);
    cr_expect_eq(ended, N_AGENTS, "min(1, ...): all end");
}

/* MODEL 3.3 (v2): far from the clip bounds (target 0.45, 4.5 sd of noise
 * from 0), h1 = (1-λ) h0 + λ (sens s + ω d / d_ref + ε); with ω 0.1 and
 * d_ref 0.01 the peer term of d = 0.005 is 0.05. Tolerance: K_SE standard
 * errors of the mean (λ σ / sqrt(N)) and of the variance. */
Test(mech, fear_update_mean_and_variance) {
    P.suspicion.level = 0.4;
    P.suspicion.fear_noise = 0.1;
    P.suspicion.peer_effect = 0.1;
    P.suspicion.d_ref = 0.01;
    P.suspicion.adaptation = 0.35;
    setup_year(0.005);
    double lam = 0.35, sigma = 0.1, h0 = 0.3;
    double mean = (1 - lam) * h0 + lam * (0.4 + 0.1 * 0.005 / 0.01),
           var = lam * lam * sigma * sigma;
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

/* Mean of h after one update of N agents (sens 1, h0 given). */
static double mean_h_after_update(double h0) {
    double sum = 0.0;
    for (uint32_t i = 0; i < N_AGENTS; i++) {
        ts_agent a = make_agent(i, TS_LOC_US, TS_STAGE_EARLY);
        a.h = (float)h0;
        ts_draws d;
        draws_of(&a, &d);
        ts_mech_fear(&Y, &a, &d);
        sum += a.h;
    }
    return sum / N_AGENTS;
}

/* Guards v2's d_ref-scaled peer effect (MODEL 3.3): the fear target is
 * sens s + ω d_{t-1} / d_ref + ε. With s 0.3, ω 0.1, d_{t-1} 0.02: d_ref 0.01
 * gives a target mean 0.5, d_ref 0.04 gives 0.35 (v1's ω d would give 0.302
 * for both). Both targets are 3.5 or more noise sd from the clip bounds, so
 * the clipping bias (< 1e-5) is far below the tolerance of K_SE standard
 * errors λ σ / sqrt(N). Without noise the update is checked exactly. */
Test(mech, fear_peer_effect_scaled_by_d_ref) {
    P.suspicion.level = 0.3;
    P.suspicion.fear_noise = 0.1;
    P.suspicion.peer_effect = 0.1;
    P.suspicion.adaptation = 0.35;
    double lam = 0.35, h0 = 0.2, se = lam * 0.1 / sqrt(N_AGENTS);
    const double d_refs[2] = {0.01, 0.04};
    for (int k = 0; k < 2; k++) {
        P.suspicion.d_ref = d_refs[k];
        setup_year(0.02);
        double want = (1 - lam) * h0 + lam * (0.3 + 0.1 * 0.02 / d_refs[k]);
        double m = mean_h_after_update(h0);
        cr_expect(fabs(m - want) <= K_SE * se, "d_ref %.2f: mean h %.6f vs %.6f", d_refs[k],
                  m, want);
    }
    P.suspicion.fear_noise = 0.0;
    P.suspicion.d_ref = 0.04;
    setup_year(0.02);
    ts_agent a = make_agent(5, TS_LOC_US, TS_STAGE_SENIOR);
    a.h = 0.2f;
    a.sens = 1.5f;
    ts_draws d;
    draws_of(&a, &d);
    ts_mech_fear(&Y, &a, &d);
    cr_expect_float_eq(a.h, 0.65 * 0.2f + 0.35 * (1.5 * 0.3 + 0.1 * 0.02 / 0.04), 1e-6);
    a.h = 0.2f;
    P.suspicion.d_ref = 0.001; /* target 0.45 + 2 clips to 1 */
    setup_year(0.02);
    ts_mech_fear(&Y, &a, &d);
    cr_expect_float_eq(a.h, 0.65 * 0.2f + 0.35 * 1.0, 1e-6);
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

/* MODEL 3.4 (v2): TEMP -> PERMANENT with green_card_rate; at
 * max_temp_years the agent without a green card extends with
 * extension_rate (stays TEMP, years_on_visa not reset) or is forced out:
 * forced share (1 - green_card_rate)(1 - extension_rate), extended share
 * (1 - green_card_rate) extension_rate. Tolerance: K_SE binomial se. */
Test(mech, green_cards_naturalization_and_expiry) {
    long gc = 0, nat = 0, forced = 0, extended = 0, young_perm = 0;
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
        cr_assert(out ? e.loc == TS_LOC_CN && e.visa == TS_VISA_NONE
                      : e.loc == TS_LOC_US && (e.visa == TS_VISA_PERMANENT ||
                                               e.visa == TS_VISA_TEMP));
        if (!out && e.visa == TS_VISA_TEMP) {
            extended++;
            cr_assert_eq(e.years_on_visa, P.visa.max_temp_years, "an extension keeps counting");
        }
        draws_of(&p, &d);
        ts_mech_visa(&Y, &p, &d);
        nat += p.visa == TS_VISA_CITIZEN;
        draws_of(&q, &d);
        ts_mech_visa(&Y, &q, &d);
        young_perm += q.visa == TS_VISA_CITIZEN;
    }
    expect_share(gc, N_AGENTS, P.visa.green_card_rate, "green card");
    expect_share(forced, N_AGENTS, (1.0 - 0.30) * (1.0 - 0.8), "visa expiry");
    expect_share(extended, N_AGENTS, (1.0 - 0.30) * 0.8, "extension");
    expect_share(nat, N_AGENTS, P.visa.naturalization_rate, "naturalization");
    cr_expect_eq(young_perm, 0, "naturalization needs 5 years of permanent residence");
}

/* Guards the v2 extension rule over the whole year (MODEL 3.4, 3.8): a TEMP
 * agent past max_temp_years that extends stays TEMP in the US and its
 * years_on_visa keeps growing year after year (it is not reset); once it
 * does not extend it is forced out. Deterministic: rates 0 and 1. */
Test(mech, visa_extension_keeps_counting_years_on_visa) {
    P.career.attrition.early = 0.0;
    P.career.review_rate = 0.0;
    P.visa.green_card_rate = 0.0;
    P.visa.extension_rate = 1.0;
    ts_agent a = make_agent(11, TS_LOC_US, TS_STAGE_EARLY);
    a.visa = TS_VISA_TEMP;
    a.years_on_visa = (uint8_t)P.visa.max_temp_years;
    ts_tally t;
    memset(&t, 0, sizeof t);
    for (int k = 1; k <= 3; k++) {
        ts_year_init(&Y, &P, 2020 + k, SEED, 3, 0.0, 0.0, 0.0);
        ts_agent_year(&Y, &a, &t);
        cr_assert_eq(a.loc, TS_LOC_US);
        cr_assert_eq(a.visa, TS_VISA_TEMP);
        cr_assert_eq(a.years_on_visa, P.visa.max_temp_years + k, "year %d", k);
    }
    cr_assert_eq(t.n[TS_C_FORCED], 0);
    P.visa.extension_rate = 0.0;
    ts_year_init(&Y, &P, 2024, SEED, 3, 0.0, 0.0, 0.0);
    ts_agent_year(&Y, &a, &t);
    cr_assert_eq(a.loc, TS_LOC_CN);
    cr_assert_eq(t.n[TS_C_FORCED], 1);
    cr_assert_eq(t.n[TS_C_FORCED_ACAD], 1, "an EARLY academic: an academic switch");
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

/* V_US and V_CN written out by hand for one agent (MODEL 5), v2 defaults:
 * β_fear 1.35, asc_cn -1.08, β_talent_us ln(q) with q 1.5 (below the
 * talent-programme threshold 1.8). Tolerance: the probability exactly (up
 * to h and q being floats), frequencies within K_SE binomial se. */
Test(mech, logit_choice_frequency_us_to_cn) {
    P.career.attrition.early = 0.0;
    P.suspicion.adaptation = 0.0;     /* h stays 0.2 */
    P.collaboration.break_rate = 0.0; /* collab stays 1 */
    P.collaboration.end_rate = 0.0;
    P.career.review_rate = 1.0;
    P.china.tax_relief_coverage = 0.0;
    setup_year(0.0);
    ts_agent a = make_agent(0, TS_LOC_US, TS_STAGE_EARLY);
    a.q = 1.5f;
    a.collab = 1;
    a.years_in_stage = 2;
    a.years_in_us = 7;
    double v_us = 1.0 * 1.0 + 0.5 * 1.0 * 1 + 1.0 * log(1.5) - 1.35 * 0.2 + 1.0 * 0.7;
    double dw = log(0.7) + log((1 - 0.45) / (1 - 0.35));
    double v_cn = 1.0 * dw + 1.0 * 0.7 + 0.5 - 1.08 - 2.0;
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
    double v_us = 0.0 /* banned */ + 1.0 * log(2.0) - 1.35 * h - 0.5 * 1 + 1.0 * 0.3 - 2.0;
    double dw = log(0.7) + log((1 - 0.45 * (1 - 0.75)) / (1 - 0.35));
    double v_cn = dw + 0.7 + 0.5 * 1.0 + 0.5 - 1.08;
    double p = 0.12 * 0.9 / (1.0 + exp(-(v_us - v_cn)));
    ts_tally t;
    year_of_copies(&a, N_AGENTS, &t, NULL);
    expect_share(t.n[TS_C_CN_TO_US], N_AGENTS, p, "CN->US moves");
}

/* Guards β_talent_us (MODEL 5, v2): V_US written out term by term with
 * distinctive weights for two talents q 0.5 and 3, compared exactly (1e-12:
 * the same operations in another order). The difference of the two is
 * talent_us (ln 3 - ln 0.5); V_CN does not depend on q below the
 * talent-programme threshold. */
Test(mech, utility_us_has_talent_us_log_q) {
    P.utility.talent_us = 1.7;
    P.utility.fund = 1.1;
    P.utility.collab = 0.6;
    P.utility.eco = 0.9;
    P.utility.fear = 1.3;
    P.utility.visa = 0.45;
    P.utility.stuck = 0.7;
    P.utility.ties = 0.8;
    P.utility.move_cost = 2.5;
    P.collaboration.openness = 0.75;
    P.funding.us_federal_access = 0.9;
    P.china.talent_threshold = 5.0; /* both q below it */
    ts_year_init(&Y, &P, 2020, SEED, 3, 0.0, 0.04, -0.04);
    ts_agent a = make_agent(0, TS_LOC_US, TS_STAGE_EARLY);
    a.visa = TS_VISA_TEMP;
    a.collab = 1;
    a.years_in_stage = 7; /* stuck */
    a.years_in_us = 4;
    const float qs[2] = {0.5f, 3.0f};
    double v[2];
    for (int k = 0; k < 2; k++) {
        a.q = qs[k];
        double want = 1.1 * 0.9 + 0.6 * 0.75 * 1 + 0.9 * 0.04 + 1.7 * log((double)qs[k]) -
                      1.3 * (double)0.2f - 0.45 * 1 - 0.7 * 1 + 0.8 * 0.4;
        v[k] = ts_util_us(&Y, &a, 0);
        cr_expect(fabs(v[k] - want) <= 1e-12, "q %.1f: V_US %.15g vs %.15g", (double)qs[k],
                  v[k], want);
    }
    cr_expect(fabs((v[1] - v[0]) - 1.7 * (log(3.0) - log(0.5))) <= 1e-12);
    /* V_CN of the same agent: β_wage Δw + β_fund cn_level + β_eco A_CN
     * + β_home + asc_cn - move_cost (in the US), with A_CN = -0.04 */
    double dw = log(0.7) + log((1 - 0.45) / (1 - 0.35));
    double want_cn = 1.0 * dw + 1.1 * 0.7 + 0.9 * -0.04 + 0.5 - 1.08 - 2.5;
    a.q = qs[0];
    double c0 = ts_util_cn(&Y, &a, 0);
    cr_expect(fabs(c0 - want_cn) <= 1e-12, "V_CN %.15g vs %.15g", c0, want_cn);
    a.q = qs[1];
    cr_expect_eq(ts_util_cn(&Y, &a, 0), c0, "V_CN below the threshold ignores q");
}

/* Guards the federal ban in V_US (MODEL 5, F_US): under federal_ban
 * noncitizens a citizen, in the US or in China, keeps its V_US of no ban,
 * while a non-citizen (TEMP, PERMANENT, or visa NONE in China) loses exactly
 * β_fund us_federal_access; under all every agent loses it. Distinctive
 * weights, so the drop is neither β_fund nor the access alone. */
Test(mech, utility_us_federal_ban_spares_only_citizens) {
    P.utility.fund = 1.1;
    P.funding.us_federal_access = 0.9;
    const double drop = 1.1 * 0.9;
    static const struct {
        ts_loc loc;
        ts_visa visa;
    } who[] = {{TS_LOC_US, TS_VISA_CITIZEN}, {TS_LOC_CN, TS_VISA_CITIZEN},
               {TS_LOC_US, TS_VISA_TEMP},    {TS_LOC_US, TS_VISA_PERMANENT},
               {TS_LOC_CN, TS_VISA_NONE}};
    for (size_t k = 0; k < sizeof who / sizeof *who; k++) {
        ts_agent a = make_agent(0, who[k].loc, TS_STAGE_EARLY);
        a.visa = (uint8_t)who[k].visa;
        a.years_in_us = 4;
        double v[3]; /* V_US by ts_federal_ban */
        for (int ban = TS_BAN_NONE; ban <= TS_BAN_ALL; ban++) {
            P.funding.federal_ban = ban;
            setup_year(0.0);
            v[ban] = ts_util_us(&Y, &a, 0);
        }
        int citizen = who[k].visa == TS_VISA_CITIZEN;
        double lost = v[TS_BAN_NONE] - v[TS_BAN_NONCITIZENS];
        if (citizen)
            cr_expect_eq(lost, 0.0, "agent %zu, a citizen: noncitizens ban costs %.15g", k, lost);
        else
            cr_expect(fabs(lost - drop) <= 1e-12, "agent %zu: noncitizens ban costs %.15g, "
                      "not %.15g", k, lost, drop);
        lost = v[TS_BAN_NONE] - v[TS_BAN_ALL];
        cr_expect(fabs(lost - drop) <= 1e-12, "agent %zu: ban on all costs %.15g, not %.15g", k,
                  lost, drop);
    }
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

/* Columns for n agents (freed with free_cols). */
static ts_cols alloc_cols(size_t n) {
    ts_cols c;
#define ALLOC_COL_(type, name, doc) c.name = calloc(n, sizeof(type));
    TS_COLUMNS(ALLOC_COL_)
#undef ALLOC_COL_
    return c;
}

static void free_cols(ts_cols *c) {
#define FREE_COL_(type, name, doc) free(c->name);
    TS_COLUMNS(FREE_COL_)
#undef FREE_COL_
}

/* The births of the engine's kernel: the distributions of MODEL 2, and the
 * same agent as the one-record ts_agent_birth. */
Test(mech, birth_distributions) {
    double sum_lq = 0.0, sum_lq2 = 0.0, sum_sens = 0.0;
    double ts = P.population.talent_sigma, ss = P.suspicion.sens_sigma;
    ts_cols c = alloc_cols(N_AGENTS);
    ts_kernel_births()(&Y, &c, 0, N_AGENTS, 0, 9, TS_LOC_US);
    for (uint32_t i = 0; i < N_AGENTS; i++) {
        ts_agent a;
        ts_cols one = ts_cols_of_agent(&a);
        ts_agent_birth(&Y, &one, 0, i, 9, TS_LOC_US, TS_STAGE_STUDENT);
        cr_assert(a.q == c.q[i] && a.sens == c.sens[i] && a.h == c.h[i] && c.idx[i] == i &&
                      c.group[i] == 9 && c.loc[i] == TS_LOC_US && c.visa[i] == TS_VISA_STUDENT,
                  "kernel birth %u differs from ts_agent_birth", i);
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
    free_cols(&c);
}

/* The fixed-probability draws compare words with a threshold
 * (ts_word_below): w < T(p) must be u01(w) < p for every word, checked at
 * the threshold's edges and at random words, for probabilities spread over
 * [0, 1], at its ends, tiny ones, and ones equal to some u01(w). */
Test(mech, word_threshold_is_the_uniform_comparison) {
    uint64_t s = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 200000; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        uint32_t w0 = (uint32_t)(s >> 32);
        double p;
        switch (i % 6) {
        case 0: p = (double)(s >> 11) * 0x1p-53; break;
        case 1: p = ts_u01(w0); break;
        case 2: p = nextafter(ts_u01(w0), 2.0); break;
        case 3: p = ldexp((double)(s >> 11) * 0x1p-53, -(int)(s % 60)); break;
        case 4: p = i % 12 == 4 ? 0.0 : 1.0; break;
        default: p = 1.0 + (double)(s >> 11) * 0x1p-53; break;
        }
        uint64_t t = ts_word_below(p);
        cr_assert_leq(t, (uint64_t)1 << 32);
        uint64_t probe[5] = {t, t - 1, t + 1, w0, s & 0xFFFFFFFFu};
        for (int k = 0; k < 5; k++) {
            if (probe[k] > 0xFFFFFFFFu)
                continue;
            uint32_t w = (uint32_t)probe[k];
            cr_assert_eq(w < t, ts_u01(w) < p, "p = %a, w = %u, threshold %llu", p, w,
                         (unsigned long long)t);
        }
    }
}
