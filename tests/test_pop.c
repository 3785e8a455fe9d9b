/* The population's layout between years (sim/model/pop.h): every block's
 * agents at its front, in agent order, no agent lost or repeated, and the
 * gaps closed whenever the agents fill less than TS_POP_MIN_FILL of the
 * rows, so the rows held never exceed the agents by more than that. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/model/pop.h"

#define YEARS 30

/* Agent ids of the population in row order, block by block: (group << 32) | idx. */
static size_t ids_of(const ts_pop *pop, uint64_t *out) {
    size_t n = 0;
    for (size_t b = 0; b * TS_BLOCK < pop->n; b++)
        for (size_t i = b * TS_BLOCK; i < b * TS_BLOCK + pop->len[b]; i++)
            out[n++] = (uint64_t)pop->c.group[i] << 32 | pop->c.idx[i];
    return n;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Runs YEARS years at high attrition (so gaps open fast) on 1 or 2 threads
 * and checks the layout after every year; returns the final ids in row
 * order (malloc'ed, *nlast of them). With reserve > 0 the rows are reserved
 * first (ts_pop_reserve), and the columns must then never move. */
static uint64_t *run_layout(int threads, size_t reserve, size_t *nlast) {
    ts_params p;
    ts_params_default(&p);
    p.sample_fraction = 0.2;
    p.career.attrition.student = 0.10;
    p.career.attrition.early = 0.08;
    p.career.attrition.senior = 0.06;
    ts_pop pop = {0};
    ts_year y;
    ts_year_init(&y, &p, 2000, 42, 0, 0.0, 0.0, 0.0);
    if (reserve > 0)
        cr_assert_eq(ts_pop_reserve(&pop, reserve), 0);
    cr_assert_eq(ts_pop_init(&pop, &y, threads), 0);
    const float *q0 = pop.c.q;
    size_t cap0 = pop.cap, cap = pop.n * 4 + 100000;
    uint64_t *ids = malloc(cap * sizeof *ids);
    cr_assert_not_null(ids);
    int closed = 0, gapped = 0;
    for (int t = 0; t < YEARS; t++) {
        ts_year_init(&y, &p, 2000 + t, 42, 0, 0.0, 0.0, 0.0);
        ts_tally sum;
        cr_assert_eq(ts_pop_year(&pop, &y, threads, &sum), 0);
        size_t stock = (size_t)(sum.n[TS_C_STOCK_US_TOTAL] + sum.n[TS_C_STOCK_CN_TOTAL]);
        size_t nb = (pop.n + TS_BLOCK - 1) / TS_BLOCK, full = 1, live = 0;
        for (size_t b = 0; b < nb; b++) {
            cr_assert_leq(pop.len[b], TS_BLOCK);
            full &= b + 1 == nb || pop.len[b] == TS_BLOCK;
            live += pop.len[b];
        }
        cr_assert_eq(live, stock, "year %d: %zu agents held, %zu counted", t, live, stock);
        cr_assert(live >= TS_POP_MIN_FILL * (double)pop.n, "year %d: %zu agents in %zu rows", t,
                  live, pop.n);
        closed += full;
        gapped += !full;
        cr_assert_leq(live, cap);
        /* a row's fields move together: lq is ln q of the same agent */
        for (size_t b = 0; b < nb; b++)
            for (size_t i = b * TS_BLOCK; i < b * TS_BLOCK + pop.len[b]; i++)
                cr_assert_eq(pop.c.lq[i], ts_m_log(pop.c.q[i]), "year %d, row %zu", t, i);
        size_t n = ids_of(&pop, ids);
        cr_assert_eq(n, live);
        qsort(ids, n, sizeof *ids, cmp_u64);
        for (size_t i = 1; i < n; i++)
            cr_assert_neq(ids[i], ids[i - 1], "year %d: an agent held twice", t);
    }
    /* both states occur: years that leave gaps, and years that close them */
    cr_expect_gt(gapped, 0);
    cr_expect_gt(closed, 0);
    if (reserve > 0) {
        cr_expect_eq(pop.c.q, q0, "the reserved columns were moved");
        cr_expect_eq(pop.cap, cap0);
    }
    *nlast = ids_of(&pop, ids);
    ts_pop_free(&pop);
    return ids;
}

Test(pop, blocks_hold_each_agent_once_and_gaps_stay_below_the_fill_bound) {
    size_t n1, n2;
    uint64_t *one = run_layout(1, 0, &n1), *two = run_layout(2, 0, &n2);
    cr_assert_eq(n1, n2);
    cr_assert(memcmp(one, two, n1 * sizeof *one) == 0, "the rows differ between 1 and 2 threads");
    free(one);
    free(two);
}

/* Rows reserved ahead (sim.c reserves the memory estimate's bound) change
 * where the columns live, not which agent is in which row. */
Test(pop, reserved_rows_give_the_same_layout_without_moving_the_columns) {
    size_t n1, n2;
    uint64_t *grown = run_layout(1, 0, &n1), *reserved = run_layout(2, 400000, &n2);
    cr_assert_eq(n1, n2);
    cr_assert(memcmp(grown, reserved, n1 * sizeof *grown) == 0,
              "the rows differ between grown and reserved columns");
    free(grown);
    free(reserved);
}

/* A snapshot (shared prefixes) copies every column and block length,
 * column by column over threads, and keeps the source's capacity. */
Test(pop, a_copy_on_two_threads_is_the_same_population) {
    ts_params p;
    ts_params_default(&p);
    p.sample_fraction = 0.1;
    p.career.attrition.early = 0.2; /* gaps in the blocks */
    ts_pop src = {0}, dst = {0};
    ts_year y;
    ts_year_init(&y, &p, 2000, 7, 0, 0.0, 0.0, 0.0);
    cr_assert_eq(ts_pop_init(&src, &y, 1), 0);
    ts_tally sum;
    cr_assert_eq(ts_pop_year(&src, &y, 1, &sum), 0);
    cr_assert_eq(ts_pop_copy(&dst, &src, 2), 0);
    cr_assert_eq(dst.n, src.n);
    cr_assert_geq(dst.cap, src.cap);
    size_t nb = (src.n + TS_BLOCK - 1) / TS_BLOCK;
    cr_assert(memcmp(dst.len, src.len, nb * sizeof *src.len) == 0);
    for (size_t b = 0; b < nb; b++)
        for (size_t i = b * TS_BLOCK; i < b * TS_BLOCK + src.len[b]; i++) {
#define TS_COL_SAME_(type, name, doc) \
            cr_assert(memcmp(&src.c.name[i], &dst.c.name[i], sizeof(type)) == 0, \
                      "row %zu, column %s differs", i, #name);
            TS_COLUMNS(TS_COL_SAME_)
#undef TS_COL_SAME_
        }
    ts_pop_free(&src);
    ts_pop_free(&dst);
}
