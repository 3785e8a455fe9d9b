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
 * order (malloc'ed, *nlast of them). */
static uint64_t *run_layout(int threads, size_t *nlast) {
    ts_params p;
    ts_params_default(&p);
    p.sample_fraction = 0.2;
    p.career.attrition.student = 0.10;
    p.career.attrition.early = 0.08;
    p.career.attrition.senior = 0.06;
    ts_pop pop = {0};
    ts_year y;
    ts_year_init(&y, &p, 2000, 42, 0, 0.0, 0.0, 0.0);
    cr_assert_eq(ts_pop_init(&pop, &y, threads), 0);
    size_t cap = pop.n * 4 + 100000;
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
        size_t n = ids_of(&pop, ids);
        cr_assert_eq(n, live);
        qsort(ids, n, sizeof *ids, cmp_u64);
        for (size_t i = 1; i < n; i++)
            cr_assert_neq(ids[i], ids[i - 1], "year %d: an agent held twice", t);
    }
    /* both states occur: years that leave gaps, and years that close them */
    cr_expect_gt(gapped, 0);
    cr_expect_gt(closed, 0);
    *nlast = ids_of(&pop, ids);
    ts_pop_free(&pop);
    return ids;
}

Test(pop, blocks_hold_each_agent_once_and_gaps_stay_below_the_fill_bound) {
    size_t n1, n2;
    uint64_t *one = run_layout(1, &n1), *two = run_layout(2, &n2);
    cr_assert_eq(n1, n2);
    cr_assert(memcmp(one, two, n1 * sizeof *one) == 0, "the rows differ between 1 and 2 threads");
    free(one);
    free(two);
}
