/* The population of a replication as columns (pop.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "pop.h"

/* More agents than any machine holds; guards the size arithmetic. */
#define TS_MAX_AGENTS ((size_t)1 << 40)

void ts_pop_free(ts_pop *pop) {
#define TS_COL_FREE_(type, name, doc) free(pop->c.name);
    TS_COLUMNS(TS_COL_FREE_)
#undef TS_COL_FREE_
    free(pop->tallies);
    free(pop->len);
    memset(pop, 0, sizeof *pop);
}

static size_t nblocks(size_t n) { return (n + TS_BLOCK - 1) / TS_BLOCK; }

/* The columns by number, so that the moves of whole columns (a snapshot,
 * closing the gaps) run in parallel, a column per thread at a time. */
enum {
#define TS_COL_ID_(type, name, doc) TS_COLID_##name,
    TS_COLUMNS(TS_COL_ID_)
#undef TS_COL_ID_
    TS_NCOLS
};

/* Column k of c as bytes; *width is the bytes per row. */
static unsigned char *col_bytes(const ts_cols *c, int k, size_t *width) {
    switch (k) {
#define TS_COL_BYTES_(type, name, doc) \
    case TS_COLID_##name:              \
        *width = sizeof(type);         \
        return (unsigned char *)c->name;
        TS_COLUMNS(TS_COL_BYTES_)
#undef TS_COL_BYTES_
    }
    *width = 0;
    return NULL;
}

/* Room for extra more agents (and their blocks); 0 or -1. */
static int pop_reserve(ts_pop *pop, size_t extra) {
    if (extra > TS_MAX_AGENTS - pop->n)
        return -1;
    size_t need = pop->n + extra;
    if (need > pop->cap) {
        size_t cap = pop->cap ? pop->cap : 1024;
        while (cap < need)
            cap *= 2;
        int failed = 0;
#define TS_COL_GROW_(type, name, doc)                                                     \
        if (!failed) {                                                                    \
            type *col = realloc(pop->c.name, cap * sizeof(type));                         \
            if (col)                                                                      \
                pop->c.name = col;                                                        \
            else                                                                          \
                failed = 1;                                                               \
        }
        TS_COLUMNS(TS_COL_GROW_)
#undef TS_COL_GROW_
        if (failed)
            return -1; /* the columns grown so far stay valid; cap is unchanged */
        pop->cap = cap;
    }
    size_t nb = nblocks(need);
    if (nb > pop->bcap) {
        ts_tally *t = realloc(pop->tallies, nb * sizeof *t);
        if (t)
            pop->tallies = t;
        size_t *k = realloc(pop->len, nb * sizeof *k);
        if (k)
            pop->len = k;
        if (!t || !k)
            return -1;
        pop->bcap = nb;
    }
    return 0;
}

int ts_pop_reserve(ts_pop *pop, size_t rows) {
    return rows > pop->n ? pop_reserve(pop, rows - pop->n) : 0;
}

int ts_pop_copy(ts_pop *dst, const ts_pop *src, int threads) {
    dst->n = 0;
    /* src's capacity, so that dst goes on without growing where src would not */
    if (pop_reserve(dst, src->cap > src->n ? src->cap : src->n) != 0)
        return -1;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
    for (int k = 0; k < TS_NCOLS; k++) {
        size_t w;
        unsigned char *to = col_bytes(&dst->c, k, &w);
        memcpy(to, col_bytes(&src->c, k, &w), src->n * w);
    }
    memcpy(dst->len, src->len, nblocks(src->n) * sizeof *dst->len);
    dst->n = src->n;
    return 0;
}

/* len[] of full blocks for rows [0, n) without gaps. */
static void set_full(ts_pop *pop, size_t n) {
    for (size_t b = 0; b < nblocks(n); b++)
        pop->len[b] = n - b * TS_BLOCK < TS_BLOCK ? n - b * TS_BLOCK : TS_BLOCK;
    pop->n = n;
}

/* round(count * fraction), or -1 when that is beyond any population. */
static int64_t scaled(double count, double fraction) {
    double x = count * fraction;
    return x < (double)TS_MAX_AGENTS ? llround(x) : -1;
}

int ts_pop_init(ts_pop *pop, const ts_year *y, int threads) {
    const ts_params *p = y->p;
    const ts_pop_loc *locs[2] = {&p->population.us, &p->population.cn};
    int64_t first[7] = {0}; /* first index of each (loc, stage) group */
    for (int g = 0; g < 6; g++) {
        const ts_pop_loc *l = locs[g / 3];
        const int64_t counts[3] = {l->students, l->early, l->senior};
        int64_t n = scaled((double)counts[g % 3], p->sample_fraction);
        if (n < 0 || (size_t)n > TS_MAX_AGENTS - (size_t)first[g])
            return -1;
        first[g + 1] = first[g] + n;
    }
    pop->n = 0;
    if (pop_reserve(pop, (size_t)first[6]) != 0)
        return -1;
    const ts_cols *c = &pop->c;
    ts_births_kernel births = ts_kernel_births();
    const int64_t nchunk = (first[6] + TS_CHUNK - 1) / TS_CHUNK;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        /* born in group 0 (agent id = row), by chunk, a chunk split where
         * its rows change location */
#pragma omp for schedule(static)
        for (int64_t b = 0; b < nchunk; b++) {
            int64_t lo = b * TS_CHUNK, hi = lo + TS_CHUNK < first[6] ? lo + TS_CHUNK : first[6];
            for (int l = 0; l < 2; l++) {
                int64_t s = lo > first[3 * l] ? lo : first[3 * l];
                int64_t e = hi < first[3 * l + 3] ? hi : first[3 * l + 3];
                if (s < e)
                    births(y, c, (size_t)s, (size_t)(e - s), (uint32_t)s, 0, (ts_loc)l);
            }
        }
        /* then their stage and the rest of MODEL 2b */
#pragma omp for schedule(static)
        for (int64_t i = 0; i < first[6]; i++) {
            int g = 0;
            while (i >= first[g + 1])
                g++;
            ts_agent_init(y, c, (size_t)i, (ts_loc)(g / 3), (ts_stage)(g % 3));
        }
    }
    set_full(pop, (size_t)first[6]);
    return 0;
}

void ts_pop_talent(const ts_pop *pop, double out[2]) {
    out[0] = out[1] = 0.0;
    for (size_t b = 0; b < nblocks(pop->n); b++) {
        double part[2] = {0.0, 0.0};
        for (size_t i = b * TS_BLOCK; i < b * TS_BLOCK + pop->len[b]; i++)
            part[pop->c.loc[i]] += pop->c.q[i];
        out[0] += part[0];
        out[1] += part[1];
    }
}

/* Moves the agents at the front of every block down to close the gaps,
 * in block order; the blocks are then full but for the last. Each column
 * is moved by one thread, so the moves of a column keep their order. */
static void pop_close_gaps(ts_pop *pop, int threads) {
    size_t nb = nblocks(pop->n), to = 0;
    for (size_t b = 0; b < nb; b++)
        to += pop->len[b];
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
    for (int k = 0; k < TS_NCOLS; k++) {
        size_t w, at = nb > 0 ? pop->len[0] : 0;
        unsigned char *col = col_bytes(&pop->c, k, &w);
        for (size_t b = 1; b < nb; b++) {
            size_t from = b * TS_BLOCK, len = pop->len[b];
            if (at != from && len > 0)
                memmove(col + at * w, col + from * w, len * w);
            at += len;
        }
    }
    set_full(pop, to);
}

int ts_pop_year(ts_pop *pop, const ts_year *y, int threads, ts_tally *sum) {
    const ts_params *p = y->p;
    int64_t in[2];
    for (int l = 0; l < 2; l++) {
        in[l] = scaled(ts_params_inflow(p, l == TS_LOC_CN, y->year), p->sample_fraction);
        if (in[l] < 0)
            return -1;
    }
    if (pop_reserve(pop, (size_t)in[0] + (size_t)in[1]) != 0)
        return -1;
    const ts_cols *c = &pop->c;
    size_t born = pop->n, nbirth = (size_t)in[0] + (size_t)in[1], n = born + nbirth;
    size_t nb = nblocks(n);
    /* the births extend the last block and fill new ones */
    for (size_t b = born / TS_BLOCK; b < nb; b++)
        pop->len[b] = n - b * TS_BLOCK < TS_BLOCK ? n - b * TS_BLOCK : TS_BLOCK;
    uint16_t group[2] = {ts_agent_group(y->year, TS_LOC_US), ts_agent_group(y->year, TS_LOC_CN)};
    ts_year_kernel kernel = ts_kernel_year();
    ts_births_kernel births = ts_kernel_births();
    /* MODEL 4 step 2, this year's students (US then CN, from row born on),
     * and step 3, block by block: a block's births are made by the thread
     * that runs its year, just before; the last blocks (with the births)
     * first, so that the threads end on small pieces of work */
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
    for (size_t r = 0; r < nb; r++) {
        size_t b = nb - 1 - r, i0 = b * TS_BLOCK;
        for (int l = 0; l < 2; l++) { /* the rows of block b born at l */
            size_t from = born + (l ? (size_t)in[0] : 0), to = l ? n : born + (size_t)in[0];
            size_t lo = i0 > from ? i0 : from, hi = i0 + TS_BLOCK < to ? i0 + TS_BLOCK : to;
            if (lo < hi)
                births(y, c, lo, hi - lo, (uint32_t)(lo - from), group[l], (ts_loc)l);
        }
        ts_cols part;
#define TS_COL_PART_(type, name, doc) part.name = c->name + i0;
        TS_COLUMNS(TS_COL_PART_)
#undef TS_COL_PART_
        memset(&pop->tallies[b], 0, sizeof pop->tallies[b]);
        pop->len[b] = kernel(y, &part, pop->len[b], &pop->tallies[b]);
    }
    memset(sum, 0, sizeof *sum);
    size_t live = 0;
    for (size_t b = 0; b < nb; b++) {
        for (int k = 0; k < TS_NCOUNT; k++)
            sum->n[k] += pop->tallies[b].n[k];
        for (int k = 0; k < TS_NSUM; k++)
            sum->s[k] += pop->tallies[b].s[k];
        live += pop->len[b];
    }
    sum->n[TS_C_INFLOW_US] = in[0];
    sum->n[TS_C_INFLOW_CN] = in[1];
    pop->n = nb > 0 ? (nb - 1) * TS_BLOCK + pop->len[nb - 1] : 0;
    if ((double)live < TS_POP_MIN_FILL * (double)pop->n)
        pop_close_gaps(pop, threads);
    return 0;
}
