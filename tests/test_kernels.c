/* The kernel variants (scalar, AVX2, AVX-512): the batched Philox gives
 * Random123's words, and whole runs give byte-identical CSV files whichever
 * variant TALENTSIM_SIMD forces, at 1, 2 and 3 threads. Variants the CPU
 * cannot run are skipped (the program falls back to one it can). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../sim/model/kernel.h"

static const char *bin(void) {
    const char *b = getenv("TALENTSIM_BIN");
    return b ? b : "./talentsim";
}

static int cpu_runs(const char *isa) {
    __builtin_cpu_init();
    if (strcmp(isa, "avx2") == 0)
        return __builtin_cpu_supports("avx2");
    if (strcmp(isa, "avx512") == 0)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
    return 1;
}

Test(kernels, batched_philox_is_random123) {
    ts_params p;
    ts_params_default(&p);
    ts_year y;
    ts_year_init(&y, &p, 2021, 0x123456789abcdefull, 7, 0.0, 0.0, 0.0);
    ts_cols c;
    uint32_t idx[TS_CHUNK];
    uint16_t group[TS_CHUNK];
    for (size_t j = 0; j < TS_CHUNK; j++) {
        idx[j] = (uint32_t)(j * 2654435761u);
        group[j] = (uint16_t)(j % 97);
    }
    memset(&c, 0, sizeof c);
    c.idx = idx;
    c.group = group;
    static uint32_t w[4][TS_CHUNK];
    struct { const char *isa; ts_philox_kernel f; } v[] = {
        {"scalar", ts_kernel_philox_scalar},
#if defined(TS_X86_KERNELS)
        {"avx2", ts_kernel_philox_avx2}, {"avx512", ts_kernel_philox_avx512},
#endif
    };
    /* a whole chunk, and 29 = 16 + 8 + 5 rows from row 3: every width of
     * lanes the variants use, and the rows one at a time */
    const size_t rows[2] = {TS_CHUNK, 29}, first[2] = {0, 3};
    for (size_t vi = 0; vi < sizeof v / sizeof v[0]; vi++)
    for (int r = 0; r < 2; r++)
    for (unsigned block = 0; block < 10; block++) {
        if (!cpu_runs(v[vi].isa))
            continue;
        memset(w, 0, sizeof w);
        v[vi].f(&y, &c, first[r], rows[r], block, w);
        for (size_t j = 0; j < rows[r]; j++) {
            ts_draws d;
            ts_draws_init(&d, y.seed, y.rep, idx[first[r] + j], group[first[r] + j], 2021);
            for (unsigned k = 0; k < 4; k++)
                cr_assert_eq(w[k][j], ts_draw_word(&d, (ts_decision)(block * 4 + k)),
                             "%s: %zu rows, block %u lane %zu word %u", v[vi].isa, rows[r],
                             block, j, k);
        }
    }
}

static int run(const char *isa, const char *args, const char *dir) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "TALENTSIM_SIMD=%s %s scenarios/secure_campus.yaml %s -o '%s' -f -q "
             "--set sample_fraction=0.02 >/dev/null 2>&1", isa, bin(), args, dir);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int same_file(const char *a, const char *b) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

Test(kernels, csv_identical_for_every_variant_and_thread_count) {
    char dir[] = "/tmp/ts_kernels_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    static const char *const isas[] = {"scalar", "avx2", "avx512"};
    static const char *const threads[] = {"-t 1 -r 4", "-t 2 -r 4", "-t 3 -r 4", "-t 2 -r 1"};
    static const char *const files[] = {"summary.csv", "replications.csv", "targets.csv"};
    char ref[256], out[256], a[512], b[512];
    int compared = 0;
    for (size_t t = 0; t < 4; t++) {
        snprintf(ref, sizeof ref, "%s/ref%zu", dir, t);
        cr_assert_eq(run("scalar", threads[t], ref), 0);
        for (size_t i = 1; i < 3; i++) {
            if (!cpu_runs(isas[i]))
                continue;
            snprintf(out, sizeof out, "%s/%s%zu", dir, isas[i], t);
            cr_assert_eq(run(isas[i], threads[t], out), 0);
            for (size_t f = 0; f < 3; f++) {
                snprintf(a, sizeof a, "%s/%s", ref, files[f]);
                snprintf(b, sizeof b, "%s/%s", out, files[f]);
                cr_expect(same_file(a, b), "%s with %s differs from scalar (%s)", files[f],
                          isas[i], threads[t]);
                compared++;
            }
        }
        if (t > 0) { /* thread counts against each other, scalar */
            for (size_t f = 0; f < 3; f++) {
                snprintf(a, sizeof a, "%s/ref0/%s", dir, files[f]);
                snprintf(b, sizeof b, "%s/%s", ref, files[f]);
                if (t < 3)
                    cr_expect(same_file(a, b), "%s differs at %s", files[f], threads[t]);
            }
        }
    }
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    if (compared == 0)
        cr_skip_test("this CPU runs neither AVX2 nor AVX-512");
}
