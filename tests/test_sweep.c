/* Parameter sweeps (talentsim/sweep.h, sim/cli/sweep.c): reading the sweep:
 * block with its error messages, the designs mapped to parameter ranges,
 * point keys, and end to end through the program: the merged sweep.csv is
 * byte-identical whether the sweep ran at once, as shards, in other
 * batches, or was interrupted and resumed; merge reports missing,
 * duplicated and conflicting points; failed points are data. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "talentsim/sweep.h"

#define TS_TEST_TMP_PREFIX "/tmp/ts_sweep_"
#include "cli_util.h"

TestSuite(sweep, .init = make_tmp, .fini = remove_tmp);

/* Writes a sweep file into tmp that extends the shipped baseline. */
static void write_sweep(const char *name, const char *block) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    char cwd[1024];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    fprintf(f, "base: %s/scenarios/baseline.yaml\nsample_fraction: 0.01\n"
               "years: {start: 2015, end: 2025, spinup: 5}\n%s", cwd, block);
    fclose(f);
}

static ts_sweep *load_sweep(const char *name, ts_scenario **sc, ts_error *err) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    *sc = ts_scenario_load(path, err);
    return *sc ? ts_sweep_from_scenario(*sc, err) : NULL;
}

/* Loading must fail at line:col with key and a message containing want. */
static void expect_error(const char *block, int line, const char *key, const char *want) {
    write_sweep("bad.yaml", block);
    ts_scenario *sc = NULL;
    ts_error err;
    ts_error_clear(&err);
    ts_sweep *sw = load_sweep("bad.yaml", &sc, &err);
    cr_assert_null(sw, "accepted: %s", block);
    cr_expect_eq(err.status, TS_EINPUT);
    cr_expect_eq(err.line, line, "line %d, want %d: %s", err.line, line, err.msg);
    cr_expect_str_eq(err.key, key);
    cr_expect_not_null(strstr(err.msg, want), "message '%s' lacks '%s'", err.msg, want);
    ts_scenario_free(sc);
}

Test(sweep, block_errors_name_the_key_and_position) {
    expect_error("sweep:\n  method: grd\n  parameters: {}\n", 5, "sweep.method", "grid, lhs");
    expect_error("sweep:\n  method: grid\n  paramters: {}\n", 6, "sweep",
                 "unknown key 'paramters'");
    expect_error("sweep:\n  method: grid\n  parameters:\n    visa.student_aproval: "
                 "{values: [1]}\n", 7, "sweep.parameters.visa.student_aproval",
                 "did you mean 'visa.student_approval'");
    expect_error("sweep:\n  method: grid\n  parameters:\n    suspicion.level: "
                 "{values: [0.5, 1.5]}\n", 7, "sweep.parameters.suspicion.level.values",
                 "allowed: [0, 1]");
    expect_error("sweep:\n  method: lhs\n  samples: 4\n  parameters:\n    suspicion.level: "
                 "{min: 0.9, max: 0.2}\n", 8, "sweep.parameters.suspicion.level",
                 "max must be above min");
    expect_error("sweep:\n  method: lhs\n  parameters:\n    suspicion.level: "
                 "{min: 0.1, max: 0.2}\n", 5, "sweep.samples", "samples is missing");
    expect_error("sweep:\n  method: sobol\n  samples: 4\n  parameters:\n    "
                 "funding.federal_ban: {min: 0, max: 2}\n", 8,
                 "sweep.parameters.funding.federal_ban", "takes names");
    expect_error("sweep:\n  method: grid\n  parameters:\n    suspicion.level: {values: [1]}\n"
                 "  metrics: [flows.nowhere]\n", 8, "sweep.metrics", "unknown metric");
    expect_error("sweep:\n  method: grid\n  parameters:\n    suspicion.level: {values: [1]}\n"
                 "  years: [2017, 2040]\n", 8, "sweep.years", "[2015, 2025]");
    expect_error("sweep:\n  method: grid\n  parameters:\n    replications: {values: [1]}\n", 7,
                 "sweep.parameters.replications", "cannot be swept");
    expect_error("sweep:\n  method: grid\n  parameters:\n    suspicion.level: {values: []}\n",
                 7, "sweep.parameters.suspicion.level.values", "1 to 100000 values");
    expect_error("sweep:\n  method: sobol\n  samples: 0\n  parameters:\n    suspicion.level: "
                 "{min: 0.1, max: 0.2}\n", 6, "sweep.samples", "integer in [1, 1000000]");
    expect_error("sweep:\n  method: lhs\n  samples: 4\n  parameters:\n    suspicion.level: "
                 "{min: -0.5, max: 0.2}\n", 8, "sweep.parameters.suspicion.level.min",
                 "allowed: [0, 1]");
}

Test(sweep, a_scenario_without_block_and_base_with_extends_are_errors) {
    write_sweep("plain.yaml", "");
    ts_scenario *sc = NULL;
    ts_error err;
    ts_error_clear(&err);
    cr_assert_null(load_sweep("plain.yaml", &sc, &err));
    cr_expect_not_null(strstr(err.msg, "no sweep: block"), "%s", err.msg);
    ts_scenario_free(sc);
    write_sweep("both.yaml", "extends: x.yaml\n");
    cr_assert_null(load_sweep("both.yaml", &sc, &err));
    cr_expect_not_null(strstr(err.msg, "name the same thing"), "%s", err.msg);
}

Test(sweep, grid_is_the_cartesian_product_last_parameter_fastest) {
    write_sweep("g.yaml", "sweep:\n  method: grid\n  parameters:\n"
                          "    visa.student_approval: {values: [0.6, 0.8, 1.0]}\n"
                          "    funding.federal_ban: {values: [none, all]}\n");
    ts_scenario *sc = NULL;
    ts_error err;
    ts_error_clear(&err);
    ts_sweep *sw = load_sweep("g.yaml", &sc, &err);
    cr_assert_not_null(sw, "%s", err.msg);
    cr_assert_eq(sw->npoints, 6);
    const double want[6][2] = {{0.6, 0}, {0.6, 2}, {0.8, 0}, {0.8, 2}, {1.0, 0}, {1.0, 2}};
    for (size_t i = 0; i < 6; i++)
        for (size_t j = 0; j < 2; j++)
            cr_expect_eq(sw->x[i * 2 + j], want[i][j], "point %zu param %zu", i, j);
    char buf[64];
    ts_sweep_value_text(sw, 1, 1, buf, sizeof buf);
    cr_expect_str_eq(buf, "all");
    ts_sweep_free(sw);
    ts_scenario_free(sc);
}

Test(sweep, sampled_points_lie_in_their_ranges_and_integers_cover_the_range) {
    write_sweep("s.yaml", "sweep:\n  method: lhs\n  samples: 200\n  seed: 9\n  parameters:\n"
                          "    suspicion.level: {min: 0.25, max: 0.5}\n"
                          "    career.stuck_years: {min: 3, max: 5}\n");
    ts_scenario *sc = NULL;
    ts_error err;
    ts_error_clear(&err);
    ts_sweep *sw = load_sweep("s.yaml", &sc, &err);
    cr_assert_not_null(sw, "%s", err.msg);
    cr_assert_eq(sw->npoints, 200);
    int seen[3] = {0};
    for (size_t i = 0; i < sw->npoints; i++) {
        double a = sw->x[i * 2], b = sw->x[i * 2 + 1];
        cr_assert(a >= 0.25 && a < 0.5, "%g", a);
        cr_assert(b == 3 || b == 4 || b == 5, "%g", b);
        seen[(int)b - 3]++;
    }
    /* LHS strata: each integer gets 200/3 points up to the rounding of
     * stratum edges, i.e. within one point. */
    for (int v = 0; v < 3; v++)
        cr_expect(seen[v] >= 66 && seen[v] <= 68, "value %d: %d points", v + 3, seen[v]);
    ts_sweep_free(sw);
    ts_scenario_free(sc);
}

Test(sweep, a_policy_value_is_swept_by_policies_name_key) {
    write_sweep("p.yaml", "sweep:\n  method: grid\n  parameters:\n"
                          "    policies.china_initiative.suspicion.level: {values: [0.2, 0.9]}\n"
                          "    policies.china_initiative.visa.work_approval: {values: [0.5]}\n");
    ts_scenario *sc = NULL;
    ts_error err;
    ts_error_clear(&err);
    ts_sweep *sw = load_sweep("p.yaml", &sc, &err);
    cr_assert_not_null(sw, "%s", err.msg);
    ts_scenario *pt = NULL;
    cr_assert_eq(ts_sweep_point(sw, 1, &pt, &err), TS_OK, "%s", err.msg);
    ts_params at;
    ts_scenario_params_at(pt, 2019, &at);
    cr_expect_eq(at.suspicion.level, 0.9, "the policy's level in 2019");
    cr_expect_eq(at.visa.work_approval, 0.5, "a setting added to the policy");
    ts_scenario_params_at(pt, 2016, &at);
    cr_expect_eq(at.visa.work_approval, sw->base->base.visa.work_approval, "before the policy");
    ts_scenario_free(pt);
    ts_sweep_free(sw);
    ts_scenario_free(sc);
    expect_error("sweep:\n  method: grid\n  parameters:\n    policies.nope.suspicion.level: "
                 "{values: [1]}\n", 7, "sweep.parameters.policies.nope.suspicion.level",
                 "names no policy");
}

Test(sweep, point_keys_follow_the_resolved_scenario) {
    write_sweep("k.yaml", "sweep:\n  method: grid\n  parameters:\n"
                          "    suspicion.level: {values: [0.5, 0.7, 0.5]}\n");
    ts_scenario *sc = NULL;
    ts_error err;
    ts_error_clear(&err);
    ts_sweep *sw = load_sweep("k.yaml", &sc, &err);
    cr_assert_not_null(sw, "%s", err.msg);
    char *keys = ts_sweep_keys(sw, &err);
    cr_assert_not_null(keys);
    const char *k0 = keys, *k1 = keys + TS_SWEEP_KEY_LEN + 1, *k2 = k1 + TS_SWEEP_KEY_LEN + 1;
    cr_expect_str_neq(k0, k1);
    cr_expect_str_eq(k0, k2); /* same values, same scenario, same key */
    cr_expect_eq(strlen(k0), TS_SWEEP_KEY_LEN);
    free(keys);
    ts_sweep_free(sw);
    ts_scenario_free(sc);
}

/* ---- end to end ---- */

static const char *GRID =
    "name: grid6\n"
    "sweep:\n  method: grid\n  parameters:\n"
    "    visa.student_approval: {values: [0.6, 0.8, 1.0]}\n"
    "    suspicion.level: {values: [0.5, 1.0]}\n"
    "  replications: 3\n"
    "  metrics: [flows.us_to_cn_academic, stock.us.total, survey.feel_unsafe]\n"
    "  years: [2017, 2021, 2025]\n";

static char *merged(const char *sub) {
    cr_assert_eq(run_fmt("merge -q %s/%s", tmp, sub), 0, "merge %s failed: %s", sub,
                 tmp_file("out.txt"));
    char name[300];
    snprintf(name, sizeof name, "%s/sweep.csv", sub);
    char *s = tmp_file(name);
    cr_assert_not_null(s);
    return s;
}

Test(sweep, merge_is_identical_for_shards_batches_and_threads) {
    write_sweep("g.yaml", GRID);
    cr_assert_eq(run_fmt("sweep -q %s/g.yaml -o %s/all -t 2", tmp, tmp), 0);
    char *all = merged("all");
    /* header, then 6 points x 3 years x 3 metrics rows */
    size_t lines = 0;
    for (const char *p = all; *p; p++)
        lines += *p == '\n';
    cr_expect_eq(lines, 1 + 6 * 3 * 3);
    cr_expect(strncmp(all, "point,visa.student_approval,suspicion.level,year,metric,mean,sd,"
                           "p2_5,p50,p97_5\n", 70) == 0);
    for (int k = 1; k <= 4; k++)
        cr_assert_eq(run_fmt("sweep -q %s/g.yaml -o %s/sh --shard %d/4 -t 1", tmp, tmp, k), 0);
    char *sh = merged("sh");
    cr_expect_str_eq(sh, all, "shards differ from one run");
    cr_assert_eq(run_fmt("sweep -q %s/g.yaml -o %s/b4 --batch 4 -t 3", tmp, tmp), 0);
    char *b4 = merged("b4");
    cr_expect_str_eq(b4, all, "batches of 4 at 3 threads differ");
    free(all);
    free(sh);
    free(b4);
}

Test(sweep, merge_reports_missing_duplicated_and_conflicting_points) {
    write_sweep("g.yaml", GRID);
    cr_assert_eq(run_fmt("sweep -q %s/g.yaml -o %s/m --shard 2/3", tmp, tmp), 0);
    cr_expect_eq(run_fmt("merge %s/m", tmp), 3);
    char *out = tmp_file("out.txt");
    cr_expect_not_null(strstr(out, "4 of 6 points are missing: 0, 2-3, 5"), "%s", out);
    free(out);
    char path[512];
    snprintf(path, sizeof path, "%s/m/sweep.csv", tmp);
    cr_expect_neq(access(path, F_OK), 0, "an incomplete merge wrote sweep.csv");
    /* the rest, then a copy of one part file under another name */
    cr_assert_eq(run_fmt("sweep -q %s/g.yaml -o %s/m", tmp, tmp), 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd '%s/m/points' && f=$(ls part-*-000000001-*.csv) && "
             "cp $f ${f%%.csv}-copy.csv", tmp);
    cr_assert_eq(system(cmd), 0);
    cr_expect_eq(run_fmt("merge %s/m", tmp), 0);
    out = tmp_file("out.txt");
    cr_expect_not_null(strstr(out, "stored more than once with identical results (kept once): "
                                   "1"), "%s", out);
    free(out);
    /* the copy now disagrees in one number */
    snprintf(cmd, sizeof cmd, "cd '%s/m/points' && sed -i '2s/,ok,2017,\\([a-z._]*\\),/,ok,2017,"
             "\\1,12345/' part-*-copy.csv", tmp);
    cr_assert_eq(system(cmd), 0);
    cr_expect_eq(run_fmt("merge %s/m", tmp), 3);
    out = tmp_file("out.txt");
    cr_expect_not_null(strstr(out, "stored twice with different results"), "%s", out);
    free(out);
}

Test(sweep, failed_points_are_rows_and_the_rest_goes_on) {
    /* years.end 2014 is before years.start: the model rejects that point */
    write_sweep("f.yaml", "sweep:\n  method: grid\n  parameters:\n"
                          "    years.end: {values: [2014, 2025]}\n"
                          "  replications: 2\n  metrics: [stock.us.total]\n  years: [2020]\n");
    cr_assert_eq(run_fmt("sweep -q %s/f.yaml -o %s/f", tmp, tmp), 0, "%s", tmp_file("out.txt"));
    cr_assert_eq(run_fmt("merge %s/f", tmp), 0);
    char *out = tmp_file("out.txt");
    cr_expect_not_null(strstr(out, "1 points failed"), "%s", out);
    free(out);
    char *fail = tmp_file("f/failures.csv"), *ok = tmp_file("f/sweep.csv");
    cr_assert_not_null(fail);
    cr_expect_not_null(strstr(fail, "point,years.end,status,error\n0,2014,failed,"), "%s", fail);
    cr_expect_not_null(strstr(fail, "years.end"), "%s", fail);
    cr_expect_not_null(strstr(ok, "\n1,2025,2020,stock.us.total,"), "%s", ok);
    cr_expect_null(strstr(ok, "\n0,"), "%s", ok);
    free(fail);
    free(ok);
}

Test(sweep, interrupted_sweep_resumes_to_the_same_merge) {
    write_sweep("g.yaml", "name: slow\nsweep:\n  method: sobol\n  samples: 16\n  parameters:\n"
                          "    suspicion.level: {min: 0.2, max: 1.0}\n"
                          "  replications: 4\n  metrics: [flows.us_to_cn_academic]\n");
    cr_assert_eq(run_fmt("sweep -q %s/g.yaml -o %s/ref --batch 2", tmp, tmp), 0);
    char *ref = merged("ref");
    /* start the same sweep, stop it with SIGINT once a part file exists */
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "%s sweep -q %s/g.yaml -o %s/int --batch 1 -t 1 & pid=$!; "
             "for i in $(seq 1 400); do ls %s/int/points/part-* >/dev/null 2>&1 && break; "
             "sleep 0.01; done; kill -INT $pid; wait $pid; echo $? > %s/rc.txt",
             bin(), tmp, tmp, tmp, tmp);
    cr_assert_eq(system(cmd), 0);
    char *rc = tmp_file("rc.txt");
    int code = atoi(rc);
    free(rc);
    cr_expect(code == 130 || code == 0, "exit %d", code);
    cr_assert_eq(run_fmt("sweep %s/g.yaml -o %s/int --batch 3", tmp, tmp), 0);
    char *out = tmp_file("out.txt");
    cr_expect_not_null(strstr(out, "already stored"), "%s", out);
    cr_expect_null(strstr(out, " 0 already stored"), "the stored points ran again: %s", out);
    free(out);
    char *res = merged("int");
    cr_expect_str_eq(res, ref);
    free(ref);
    free(res);
}

Test(sweep, another_sweep_in_the_same_directory_is_refused) {
    write_sweep("g.yaml", GRID);
    cr_assert_eq(run_fmt("sweep -q %s/g.yaml -o %s/d", tmp, tmp), 0);
    cr_expect_eq(run_fmt("sweep -q %s/g.yaml -o %s/d --set seed=7", tmp, tmp), 2);
    char *out = tmp_file("out.txt");
    cr_expect_not_null(strstr(out, "holds the results of another sweep"), "%s", out);
    free(out);
    cr_expect_eq(run_fmt("merge %s", tmp), 2, "a directory without a sweep");
    cr_expect_eq(run_fmt("sweep %s/g.yaml --shard 5/4", tmp), 2);
    cr_expect_eq(run_fmt("sensitivity %s/d", tmp), 2, "sensitivity of a grid");
}

Test(sweep, large_designs_need_allow_large_and_foreign_parts_are_refused) {
    char block[4096] = "name: big\nsweep:\n  method: grid\n  parameters:\n"
                       "    suspicion.level: {values: [";
    for (int i = 0; i <= 100; i++)
        snprintf(block + strlen(block), sizeof block - strlen(block), "%s%.2f", i ? ", " : "",
                 i / 100.0);
    strcat(block, "]}\n    visa.work_approval: {values: [");
    for (int i = 0; i <= 100; i++)
        snprintf(block + strlen(block), sizeof block - strlen(block), "%s%.2f", i ? ", " : "",
                 i / 100.0);
    strcat(block, "]}\n");
    write_sweep("big.yaml", block);
    cr_expect_eq(run_fmt("sweep %s/big.yaml -o %s/big --dry-run", tmp, tmp), 2);
    char *out = tmp_file("out.txt");
    cr_expect_not_null(strstr(out, "10201 points, more than 10000"), "%s", out);
    cr_expect_not_null(strstr(out, "big.yaml:8:5:"), "%s", out);
    free(out);
    cr_expect_eq(run_fmt("sweep %s/big.yaml --allow-large --list", tmp), 0);
    /* a part file of one sweep copied into the directory of another */
    write_sweep("g.yaml", GRID);
    write_sweep("h.yaml", "name: other\nsweep:\n  method: grid\n  parameters:\n"
                          "    suspicion.level: {values: [0.5]}\n  replications: 2\n");
    cr_assert_eq(run_fmt("sweep -q %s/g.yaml -o %s/g", tmp, tmp), 0);
    cr_assert_eq(run_fmt("sweep -q %s/h.yaml -o %s/h", tmp, tmp), 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp %s/h/points/part-*.csv %s/g/points/", tmp, tmp);
    cr_assert_eq(system(cmd), 0);
    cr_expect_eq(run_fmt("merge %s/g", tmp), 2);
    out = tmp_file("out.txt");
    cr_expect_not_null(strstr(out, "belongs to another sweep"), "%s", out);
    free(out);
}

Test(sweep, list_prints_the_design_without_running) {
    write_sweep("g.yaml", GRID);
    cr_assert_eq(run_fmt("sweep %s/g.yaml --list -o %s/none", tmp, tmp), 0);
    char *out = tmp_file("out.txt");
    cr_expect_not_null(strstr(out, "point,visa.student_approval,suspicion.level\n0,0.6,0.5\n"
                                   "1,0.6,1\n2,0.8,0.5\n"), "%s", out);
    free(out);
    char path[512];
    snprintf(path, sizeof path, "%s/none", tmp);
    cr_expect_neq(access(path, F_OK), 0, "--list created the output directory");
}

Test(sweep, sensitivity_of_a_saltelli_sweep_writes_indices_per_parameter) {
    write_sweep("s.yaml", "name: salt\nsweep:\n  method: saltelli\n  samples: 16\n  parameters:\n"
                          "    policies.china_initiative.suspicion.level: {min: 0.0, "
                          "max: 1.0}\n"
                          "    china.offer_rate: {min: 0.69, max: 0.71}\n"
                          "  replications: 2\n  metrics: [flows.us_to_cn_academic]\n"
                          "  years: [2019, 2021]\n");
    cr_assert_eq(run_fmt("sweep -q %s/s.yaml -o %s/s", tmp, tmp), 0, "%s", tmp_file("out.txt"));
    cr_assert_eq(run_fmt("sensitivity %s/s --bootstrap 200", tmp), 0, "%s", tmp_file("out.txt"));
    char *out = tmp_file("out.txt"), *csv = tmp_file("s/sensitivity.csv");
    cr_assert_not_null(csv);
    cr_expect_not_null(strstr(out, "flows.us_to_cn_academic, 2021 (16 base samples)"), "%s", out);
    const char *head = "metric,year,parameter,S1,S1_lo,S1_hi,ST,ST_lo,ST_hi,base_samples\n";
    cr_expect(strncmp(csv, head, strlen(head)) == 0, "%s", csv);
    /* 2 years x 2 parameters */
    size_t lines = 0;
    for (const char *p = csv; *p; p++)
        lines += *p == '\n';
    cr_expect_eq(lines, 1 + 2 * 2, "%s", csv);
    /* the China Initiative's suspicion over its whole range must matter
     * more than a 2-point band of the offer rate: total order of the first
     * above the second's */
    double st[2] = {0};
    const char *p = strstr(csv, "flows.us_to_cn_academic,2021,policies.china_initiative."
                                "suspicion.level,");
    const char *q = strstr(csv, "flows.us_to_cn_academic,2021,china.offer_rate,");
    cr_assert(p && q, "%s", csv);
    for (int i = 0; i < 2; i++) {
        const char *s = i ? q : p;
        for (int c = 0; c < 6; c++)
            s = strchr(s, ',') + 1;
        st[i] = strtod(s, NULL);
    }
    cr_expect_gt(st[0], st[1], "ST suspicion %g, offer rate %g", st[0], st[1]);
    free(out);
    free(csv);
}
