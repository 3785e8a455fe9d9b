/* Paired scenario comparisons (talentsim/compare.h, `talentsim compare`):
 * the statistics on hand-built results, compare.csv as written by the
 * program (TALENTSIM_BIN, run from the repository root), a scenario against
 * a copy of itself, the variance removed by common random numbers, and the
 * refusals of bad input. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "talentsim/compare.h"
#include "talentsim/metrics.h"

#define TS_TEST_TMP_PREFIX "/tmp/ts_compare_"
#include "cli_util.h"

#define EPS 1e-12

TestSuite(compare, .init = make_tmp, .fini = remove_tmp);

/* ---- helpers ------------------------------------------------------------ */

/* Runs `talentsim compare args`, stdout+stderr into tmp/out.txt; the exit
 * code. */
static int run_compare(const char *args) { return run_fmt("compare %s", args); }

#define NFIELDS 10

/* Splits one CSV line (no quoted fields here: scenario names are plain)
 * in place, keeping the first NFIELDS + 1 fields; the number of fields. */
static int split(char *line, char *f[NFIELDS + 1]) {
    int n = 1;
    f[0] = line;
    for (char *p = line; *p; p++)
        if (*p == ',') {
            *p = '\0';
            if (n <= NFIELDS)
                f[n] = p + 1;
            n++;
        }
    return n;
}

/* Calls row(fields, ctx) for every data line of csv; the number of rows. */
static int each_row(char *csv, void (*row)(char **f, int nf, void *ctx), void *ctx) {
    int n = 0;
    char *line = strchr(csv, '\n');
    cr_assert_not_null(line, "no header line");
    for (line++; *line;) {
        char *end = strchr(line, '\n');
        cr_assert_not_null(end, "last line without a newline");
        *end = '\0';
        char *f[NFIELDS + 1];
        int nf = split(line, f);
        row(f, nf, ctx);
        n++;
        line = end + 1;
    }
    return n;
}

/* A short scenario that runs in a fraction of a second: 2% of the
 * population, a 2-year spin-up, 6 recorded years. */
static const char *tiny =
    "name: tiny\n"
    "replications: 6\n"
    "sample_fraction: 0.02\n"
    "years: {start: 2015, end: 2020, spinup: 2}\n"
    "policies:\n"
    "  - {name: china_initiative, from: 2018, to: 2019, set: {suspicion.level: 0.55}}\n";

#define TINY_YEARS 6

static const char *header =
    "scenario,reference,year,metric,mean_diff,sd_diff,p2_5,p97_5,rel_diff,variance_reduction\n";

/* ---- the statistics on hand-built results ------------------------------- */

static void set4(ts_results *r, size_t y, ts_metric m, const double v[4]) {
    for (size_t rep = 0; rep < 4; rep++)
        r->v[(rep * r->nyear + y) * TS_NMETRICS + (size_t)m] = v[rep];
}

Test(compare, statistics_of_hand_built_results) {
    ts_results *ref = ts_results_alloc(4, 2, 2020), *x = ts_results_alloc(4, 2, 2020);
    cr_assert(ref && x);
    set4(ref, 0, TS_M_STOCK_US_TOTAL, (double[]){10, 12, 14, 20});
    set4(x, 0, TS_M_STOCK_US_TOTAL, (double[]){11, 15, 14, 24});
    double work[8];
    ts_compare_stat s;
    ts_compare_metric(ref, x, 0, TS_M_STOCK_US_TOTAL, work, &s);
    /* d = 1, 3, 0, 4: mean 2, squared deviations 1 + 1 + 4 + 4 = 10 */
    cr_assert_eq(s.n, 4);
    cr_expect_float_eq(s.mean_diff, 2.0, EPS);
    cr_expect_float_eq(s.sd_diff, sqrt(10.0 / 3.0), EPS);
    /* sorted d = 0, 1, 3, 4; GSL rule: idx = 3 f, so 0.075 -> 0 + 0.075 (1 - 0)
     * and 2.925 -> 3 + 0.925 (4 - 3) */
    cr_expect_float_eq(s.p2_5, 0.075, EPS);
    cr_expect_float_eq(s.p97_5, 3.925, EPS);
    /* mean of ref = 56 / 4 = 14 */
    cr_expect_float_eq(s.rel_diff, 2.0 / 14.0, EPS);
    /* x_r - ref_{r+1}: 11-12, 15-14, 14-20, 24-10 = -1, 1, -6, 14, mean 2,
     * squared deviations 9 + 1 + 64 + 144 = 218; over the paired 10 */
    cr_expect_float_eq(s.variance_reduction, 21.8, 1e-12);
    ts_results_free(ref);
    ts_results_free(x);
}

Test(compare, missing_values_and_undefined_ratios) {
    ts_results *ref = ts_results_alloc(4, 2, 2020), *x = ts_results_alloc(4, 2, 2020);
    cr_assert(ref && x);
    double work[8];
    ts_compare_stat s;
    /* Pairs only in replications 0 and 3 (d = 1 and 5). */
    set4(ref, 0, TS_M_SURVEY_FEEL_UNSAFE, (double[]){1, NAN, 3, 2});
    set4(x, 0, TS_M_SURVEY_FEEL_UNSAFE, (double[]){2, 4, NAN, 7});
    ts_compare_metric(ref, x, 0, TS_M_SURVEY_FEEL_UNSAFE, work, &s);
    cr_assert_eq(s.n, 2);
    cr_expect_float_eq(s.mean_diff, 3.0, EPS);
    cr_expect_float_eq(s.sd_diff, sqrt(8.0), EPS);
    cr_expect_float_eq(s.p2_5, 1.0 + 0.025 * 4.0, EPS);
    cr_expect_float_eq(s.p97_5, 1.0 + 0.975 * 4.0, EPS);
    cr_expect_float_eq(s.rel_diff, 3.0 / 1.5, EPS); /* ref over the pairs: (1 + 2) / 2 */
    /* shifted: 2 - NaN, 4 - 3, NaN - 2, 7 - 1: values 1 and 6, variance 12.5 */
    cr_expect_float_eq(s.variance_reduction, 12.5 / 8.0, EPS);

    /* A reference mean of 0: rel_diff undefined. x independent of the
     * replication pairing: both variances are var(x). */
    set4(ref, 0, TS_M_FLOWS_US_TO_CN, (double[]){0, 0, 0, 0});
    set4(x, 0, TS_M_FLOWS_US_TO_CN, (double[]){1, 2, 3, 4});
    ts_compare_metric(ref, x, 0, TS_M_FLOWS_US_TO_CN, work, &s);
    cr_expect_float_eq(s.mean_diff, 2.5, EPS);
    cr_expect(isnan(s.rel_diff));
    cr_expect_float_eq(s.variance_reduction, 1.0, EPS);

    /* Identical values: every difference exactly 0, the ratio undefined. */
    set4(ref, 1, TS_M_STOCK_US_TOTAL, (double[]){5, 6, 7, 8});
    set4(x, 1, TS_M_STOCK_US_TOTAL, (double[]){5, 6, 7, 8});
    ts_compare_metric(ref, x, 1, TS_M_STOCK_US_TOTAL, work, &s);
    cr_expect(s.mean_diff == 0.0 && s.sd_diff == 0.0 && s.p2_5 == 0.0 && s.p97_5 == 0.0);
    cr_expect(s.rel_diff == 0.0);
    cr_expect(isnan(s.variance_reduction));

    /* No pair at all (results start as NaN): everything NaN. */
    ts_compare_metric(ref, x, 1, TS_M_ECO_GAP, work, &s);
    cr_expect(s.n == 0 && isnan(s.mean_diff) && isnan(s.sd_diff) && isnan(s.p2_5) &&
              isnan(s.rel_diff) && isnan(s.variance_reduction));
    ts_results_free(ref);
    ts_results_free(x);
}

Test(compare, results_that_cannot_be_paired_are_refused) {
    ts_results *ref = ts_results_alloc(4, 2, 2020), *x = ts_results_alloc(3, 2, 2020);
    ts_error err;
    ts_error_clear(&err);
    cr_expect_eq(ts_compare_check_results(ref, x, &err), TS_EINPUT);
    cr_expect(strstr(err.msg, "3 replications") && strstr(err.msg, "4 replications"), "%s",
              err.msg);
    double work[8];
    ts_compare_stat s;
    ts_compare_metric(ref, x, 0, TS_M_STOCK_US_TOTAL, work, &s);
    cr_expect(s.n == 0 && isnan(s.mean_diff));
    ts_compare_run a = {"a", ref}, b = {"b", x};
    cr_expect_eq(ts_compare_write_file(tmp, &a, &b, 1, NULL, &err), TS_EINPUT);
    cr_expect(!exists("compare.csv"));
    ts_results_free(ref);
    ts_results_free(x);
}

Test(compare, library_writer_header_and_rows) {
    ts_results *ref = ts_results_alloc(2, 3, 2030), *x = ts_results_alloc(2, 3, 2030);
    for (size_t i = 0; i < 2 * 3 * TS_NMETRICS; i++) {
        ref->v[i] = (double)(i % 7);
        x->v[i] = (double)(i % 5);
    }
    ts_compare_run a = {"ref", ref}, b[2] = {{"b", x}, {"c", ref}};
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_compare_write_file(tmp, &a, b, 2, NULL, &err), TS_OK, "%s", err.msg);
    char *csv = tmp_file("compare.csv");
    cr_assert_not_null(csv);
    cr_expect_eq(strncmp(csv, header, strlen(header)), 0, "%s", csv);
    int lines = 0;
    for (const char *p = csv; *p; p++)
        lines += *p == '\n';
    cr_expect_eq(lines, 1 + 2 * 3 * TS_NMETRICS);
    cr_expect(strstr(csv, "\nc,ref,2030,stock.us.student,0,0,0,0,") != NULL);
    free(csv);
    ts_results_free(ref);
    ts_results_free(x);
}

/* ---- compare.csv from the program --------------------------------------- */

typedef struct {
    int zero, empty, bad;
} self_count;

/* A row of a scenario against a copy of itself: d_r = 0 in every
 * replication, so mean, sd and quantiles are exactly 0 (empty only where
 * the metric has no value at all), and the ratio has no paired variance to
 * divide by. */
static void self_row(char **f, int nf, void *ctx) {
    self_count *c = ctx;
    cr_assert_eq(nf, NFIELDS);
    int all_zero = 1, all_empty = 1;
    for (int k = 4; k <= 7; k++) {
        all_zero &= strcmp(f[k], "0") == 0;
        all_empty &= f[k][0] == '\0';
    }
    c->zero += all_zero;
    c->empty += all_empty;
    c->bad += !all_zero && !all_empty;
    cr_expect(f[9][0] == '\0', "variance_reduction '%s' in %s %s", f[9], f[2], f[3]);
    cr_expect(strcmp(f[8], "0") == 0 || f[8][0] == '\0', "rel_diff '%s'", f[8]);
}

Test(compare, a_scenario_against_itself_is_exactly_zero) {
    write_tmp("tiny.yaml", tiny);
    write_tmp("tiny_copy.yaml", "extends: tiny.yaml\nname: tiny_copy\n");
    char args[2048];
    snprintf(args, sizeof args, "%s/tiny.yaml %s/tiny_copy.yaml -q -t 2 -o %s/out", tmp, tmp,
             tmp);
    cr_assert_eq(run_compare(args), 0, "%s", tmp_file("out.txt"));
    char *csv = tmp_file("out/compare.csv");
    cr_assert_not_null(csv);
    self_count c = {0, 0, 0};
    int rows = each_row(csv, self_row, &c);
    cr_expect_eq(rows, TINY_YEARS * TS_NMETRICS);
    cr_expect_eq(c.bad, 0, "%d rows neither all 0 nor all empty", c.bad);
    /* only metrics undefined in every replication may be empty */
    cr_expect_gt(c.zero, rows * 3 / 4, "%d of %d rows zero", c.zero, rows);
    free(csv);
}

typedef struct {
    int rows, ref_ok;
    long last_year;
} shape;

static void shape_row(char **f, int nf, void *ctx) {
    shape *s = ctx;
    cr_assert_eq(nf, NFIELDS, "row with %d fields", nf);
    s->ref_ok += strcmp(f[1], "tiny") == 0;
    s->last_year = strtol(f[2], NULL, 10);
    cr_expect_geq(ts_metric_find(f[3]), 0, "unknown metric '%s'", f[3]);
    s->rows++;
}

Test(compare, csv_has_the_header_and_a_row_per_scenario_year_and_metric) {
    write_tmp("tiny.yaml", tiny);
    write_tmp("open.yaml", "extends: tiny.yaml\nname: open\npolicies:\n"
              "  - {name: open, from: 2019, set: {collaboration.openness: 0.3}}\n");
    write_tmp("visa.yaml", "extends: tiny.yaml\nname: visa\npolicies:\n"
              "  - {name: visa, from: 2019, set: {visa.student_approval: 0.2}}\n");
    char args[2048];
    snprintf(args, sizeof args, "%s/tiny.yaml %s/open.yaml %s/visa.yaml -o %s/out", tmp, tmp,
             tmp, tmp);
    cr_assert_eq(run_compare(args), 0, "%s", tmp_file("out.txt"));
    char *csv = tmp_file("out/compare.csv");
    cr_assert_not_null(csv);
    cr_assert_eq(strncmp(csv, header, strlen(header)), 0, "header: %.120s", csv);
    cr_expect(strstr(csv, "\nopen,tiny,2015,stock.us.student,") != NULL);
    cr_expect(strstr(csv, "\nvisa,tiny,2020,eco.gap,") != NULL);
    shape s = {0, 0, 0};
    each_row(csv, shape_row, &s);
    cr_expect_eq(s.rows, 2 * TINY_YEARS * TS_NMETRICS);
    cr_expect_eq(s.ref_ok, s.rows);
    cr_expect_eq(s.last_year, 2020);
    free(csv);
    const char *names[] = {"tiny", "open", "visa"};
    for (int i = 0; i < 3; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "out/%s/summary.csv", names[i]);
        cr_expect(exists(rel), "%s missing", rel);
        snprintf(rel, sizeof rel, "out/%s/manifest.json", names[i]);
        cr_expect(exists(rel), "%s missing", rel);
    }
    char *out = tmp_file("out.txt");
    cr_expect(strstr(out, "open - tiny in 2020") && strstr(out, "stock.us.total") &&
              strstr(out, "survey.grant_reluctant"), "%s", out);
    free(out);
    /* a second comparison into the same directory needs --force */
    cr_expect_eq(run_compare(args), 2);
    out = tmp_file("out.txt");
    cr_expect(strstr(out, "--force") != NULL, "%s", out);
    free(out);
    strcat(args, " -f -q");
    cr_expect_eq(run_compare(args), 0, "%s", tmp_file("out.txt"));
}

/* ---- common random numbers reduce the variance -------------------------- */

typedef struct {
    double vr;   /* variance_reduction of stock.us.total in the last year */
    int nonzero; /* rows before 2023 with a nonzero difference */
} vr_find;

static void vr_row(char **f, int nf, void *ctx) {
    vr_find *v = ctx;
    cr_assert_eq(nf, NFIELDS);
    long year = strtol(f[2], NULL, 10);
    if (year < 2023)
        v->nonzero += strcmp(f[4], "0") != 0 && f[4][0] != '\0';
    if (year == 2025 && strcmp(f[3], "stock.us.total") == 0)
        v->vr = strtod(f[9], NULL);
}

/* The baseline against more suspicion from 2023 (suspicion.level 0.45 ->
 * 0.65, P5's "more_suspicion"), 40 replications of 2% of the population,
 * 2010-2025 simulated, fixed seed.
 *
 * The bound. Both runs share every random number: up to 2022 they are the
 * same run (13 of the 16 simulated years), and in 2023-2025 an agent's
 * draws are the same in both, so stock.us.total differs only by the agents
 * whose choice the extra suspicion flips: a few percent of the US stock
 * (the yearly US->China departures are under 2% of it, and the change
 * raises them by a fraction). The spread of each run's own stock comes from
 * every agent's attrition, move and visa draws over all the years, a
 * sizable fraction of the stock (a Bernoulli variance p(1-p) per agent).
 * So V_ind = Var(x) + Var(ref) exceeds V_pair ~ (number of flipped agents)
 * several times over: about 8 or more by this count. The estimate from 40
 * replications is a ratio of two sample variances with about 39 degrees of
 * freedom each, whose log has a standard deviation near
 * sqrt(2/39 + 2/39) = 0.32 (a factor 1.4): a bound of 2, a factor 4
 * (more than 4 standard deviations) under the count, leaves room for the
 * sampling error and still says that pairing removes at least half of the
 * variance. Before 2023 the differences are exactly 0. */
Test(compare, pairing_reduces_the_variance_of_a_stock) {
    char base[4096];
    cr_assert_not_null(realpath("scenarios/baseline.yaml", base),
                       "run from the repository root");
    char text[4400];
    snprintf(text, sizeof text,
             "extends: %s\nname: more_suspicion\npolicies:\n"
             "  - {name: more_suspicion, from: 2023, set: {suspicion.level: 0.65}}\n", base);
    write_tmp("more_suspicion.yaml", text);
    char args[2048];
    snprintf(args, sizeof args, "scenarios/baseline.yaml %s/more_suspicion.yaml -q -r 40 "
             "-s 20221103 --set sample_fraction=0.02 --set years.spinup=5 "
             "--set years.end=2025 -o %s/out", tmp, tmp);
    cr_assert_eq(run_compare(args), 0, "%s", tmp_file("out.txt"));
    char *csv = tmp_file("out/compare.csv");
    cr_assert_not_null(csv);
    vr_find v = {NAN, 0};
    each_row(csv, vr_row, &v);
    cr_expect_eq(v.nonzero, 0, "%d rows before 2023 differ", v.nonzero);
    cr_expect_gt(v.vr, 2.0, "variance_reduction of stock.us.total in 2025: %g", v.vr);
    free(csv);
}

/* ---- bad input ----------------------------------------------------------- */

/* Exit 2, needle in the message, and nothing written to tmp/out. */
static void expect_refused(const char *args, const char *needle) {
    int rc = run_compare(args);
    char *out = tmp_file("out.txt");
    cr_expect_eq(rc, 2, "'%s' exit %d: %s", args, rc, out);
    cr_expect(strstr(out, needle) != NULL, "'%s': expected '%s' in: %s", args, needle, out);
    cr_expect(!exists("out/compare.csv"), "'%s' left compare.csv", args);
    cr_expect(!exists("out"), "'%s' created the output directory", args);
    free(out);
}

Test(compare, bad_input_exits_2_and_writes_nothing) {
    write_tmp("tiny.yaml", tiny);
    write_tmp("later.yaml", "extends: tiny.yaml\nname: later\nyears: {end: 2021}\n");
    write_tmp("spin.yaml", "extends: tiny.yaml\nname: spin\nyears: {spinup: 3}\n");
    write_tmp("same.yaml", "extends: tiny.yaml\nname: tiny\n");
    write_tmp("bad.yaml", "visa:\n  work_aproval: 0.5\n");
    write_tmp("broken.yaml", "name: broken\nvisa: [1, 2\n");
    char args[2048];
    snprintf(args, sizeof args, "%s/tiny.yaml -o %s/out", tmp, tmp);
    expect_refused(args, "at least one other scenario");
    snprintf(args, sizeof args, "%s/tiny.yaml %s/later.yaml -o %s/out", tmp, tmp, tmp);
    expect_refused(args, "later.yaml: error: years 2015-2021 (spinup 2) differ from those "
                         "of the reference");
    expect_refused(args, "tiny.yaml', 2015-2020 (spinup 2)");
    snprintf(args, sizeof args, "%s/tiny.yaml %s/spin.yaml -o %s/out", tmp, tmp, tmp);
    expect_refused(args, "(spinup 3)");
    snprintf(args, sizeof args, "%s/tiny.yaml %s/missing.yaml -o %s/out", tmp, tmp, tmp);
    expect_refused(args, "missing.yaml");
    snprintf(args, sizeof args, "%s/tiny.yaml %s/bad.yaml -o %s/out", tmp, tmp, tmp);
    expect_refused(args, "bad.yaml:2:3: error:");
    snprintf(args, sizeof args, "%s/tiny.yaml %s/broken.yaml -o %s/out", tmp, tmp, tmp);
    expect_refused(args, "broken.yaml:");
    snprintf(args, sizeof args, "%s/tiny.yaml %s/same.yaml -o %s/out", tmp, tmp, tmp);
    expect_refused(args, "same.yaml: error: scenario name 'tiny' is also that of");
    snprintf(args, sizeof args, "%s/tiny.yaml %s/tiny.yaml -o %s/out", tmp, tmp, tmp);
    expect_refused(args, "names must differ");
    snprintf(args, sizeof args, "%s/tiny.yaml %s/tiny.yaml --bogus -o %s/out", tmp, tmp, tmp);
    expect_refused(args, "unknown option");
}

/* ---- a signal ----------------------------------------------------------- */

/* Starts `talentsim compare` on two full-population scenarios (several
 * seconds of work) into tmp/new/out, stderr into tmp/err.txt. */
static pid_t start_long_compare(void) {
    char out[512], errp[512];
    snprintf(out, sizeof out, "%s/new/out", tmp);
    snprintf(errp, sizeof errp, "%s/err.txt", tmp);
    const char *argv[] = {"talentsim", "compare", "scenarios/baseline.yaml",
                          "scenarios/secure_campus.yaml", "-q", "-r", "50", "-t", "2",
                          "-o", out, NULL};
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        if (!freopen("/dev/null", "w", stdout) || !freopen(errp, "w", stderr))
            _exit(99);
        execv(bin(), (char *const *)argv);
        _exit(98);
    }
    return pid;
}

Test(compare, sigterm_leaves_no_compare_csv_and_no_directory) {
    pid_t pid = start_long_compare();
    for (int i = 0; i < 2000 && !exists("new/out/baseline"); i++)
        usleep(10000);
    cr_assert(exists("new/out/baseline"), "the output directories never appeared");
    usleep(300000);
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    char *err = tmp_file("err.txt");
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGTERM, "status %d: %s", st, err);
    cr_expect(strstr(err, "interrupted by SIGTERM") && strchr(err, '\n') == strrchr(err, '\n'),
              "%s", err);
    cr_expect(!exists("new/out/compare.csv"));
    cr_expect(!exists("new"), "the comparison left the directories it made");
    free(err);
}

Test(compare, help) {
    cr_expect_eq(run_compare("--help"), 0);
    char *out = tmp_file("out.txt");
    cr_expect(strstr(out, "compare.csv") && strstr(out, "--reps") && strstr(out, "--set") &&
              strstr(out, "--output") && strstr(out, "--force"), "%s", out);
    free(out);
}
