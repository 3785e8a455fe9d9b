/* End-to-end runs of the talentsim program (TALENTSIM_BIN, run from the
 * repository root): outputs, exit codes, reproducibility from the resolved
 * scenario, thread-count independence and common random numbers between
 * shipped scenarios. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "talentsim/metrics.h"

static char tmp[256];

static void make_tmp(void) {
    snprintf(tmp, sizeof tmp, "/tmp/ts_cli_XXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
}

static void remove_tmp(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(cli, .init = make_tmp, .fini = remove_tmp);

static const char *bin(void) {
    const char *b = getenv("TALENTSIM_BIN");
    return b ? b : "./talentsim";
}

/* Runs `talentsim args`, stdout+stderr into tmp/out.txt; returns exit code. */
static int run(const char *args) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s >'%s/out.txt' 2>&1", bin(), args, tmp);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

static char *tmp_file(const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    return slurp(path);
}

static void write_tmp(const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static int exists(const char *rel) {
    char path[512];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", tmp, rel);
    return stat(path, &sb) == 0;
}

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static const char *small =
    "name: tiny\n"
    "replications: 3\n"
    "sample_fraction: 0.01\n"
    "years: {start: 2015, end: 2022}\n"
    "policies:\n"
    "  - {name: china_initiative, from: 2018, to: 2021, set: {suspicion.level: 0.55}}\n"
    "targets:\n"
    "  - {metric: survey.feel_unsafe, year: 2021, observed: 0.72, n: 1300, source: AASF}\n"
    "  - {metric: flows.us_to_cn_academic, year: 2017, observed: 175, n: '-', source: AASF}\n";

Test(cli, runs_a_scenario_and_writes_every_file) {
    write_tmp("tiny.yaml", small);
    char args[1024];
    snprintf(args, sizeof args, "%s/tiny.yaml -o %s/res --threads 2", tmp, tmp);
    cr_assert_eq(run(args), 0, "%s", tmp_file("out.txt"));
    const char *files[] = {"summary.csv", "replications.csv", "targets.csv",
                           "scenario.resolved.yaml", "manifest.json"};
    for (size_t i = 0; i < 5; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "res/%s", files[i]);
        cr_expect(exists(rel), "%s missing", files[i]);
    }
    char *summary = tmp_file("res/summary.csv");
    cr_assert_not_null(summary);
    cr_expect_eq(strncmp(summary, "scenario,year,metric,mean,sd,p2_5,p50,p97_5,replications\n",
                         57), 0);
    cr_expect_eq(count_lines(summary), 1 + 8 * TS_NMETRICS);
    char *reps = tmp_file("res/replications.csv");
    cr_expect_eq(count_lines(reps), 1 + 3 * 8 * TS_NMETRICS);
    char *targets = tmp_file("res/targets.csv");
    cr_expect_eq(count_lines(targets), 3);
    char *out = tmp_file("out.txt");
    cr_expect(strstr(out, "Targets") && strstr(out, "survey.feel_unsafe"), "%s", out);
    free(summary);
    free(reps);
    free(targets);
    free(out);
}

Test(cli, refuses_to_overwrite_without_force) {
    write_tmp("tiny.yaml", small);
    char args[1024];
    snprintf(args, sizeof args, "%s/tiny.yaml -q -o %s/res", tmp, tmp);
    cr_assert_eq(run(args), 0);
    cr_expect_eq(run(args), 2, "second run overwrote without --force");
    char *out = tmp_file("out.txt");
    cr_expect(strstr(out, "--force") != NULL, "%s", out);
    free(out);
    snprintf(args, sizeof args, "%s/tiny.yaml -q -f -o %s/res", tmp, tmp);
    cr_expect_eq(run(args), 0);
}

static void expect_same_file(const char *a, const char *b) {
    char *x = tmp_file(a), *y = tmp_file(b);
    cr_assert(x && y);
    cr_expect_str_eq(x, y, "%s and %s differ", a, b);
    free(x);
    free(y);
}

Test(cli, resolved_scenario_reproduces_identical_csv) {
    write_tmp("tiny.yaml", small);
    char args[1024];
    snprintf(args, sizeof args, "%s/tiny.yaml -q --seed 11 --set visa.work_approval=0.8 -o %s/a",
             tmp, tmp);
    cr_assert_eq(run(args), 0);
    snprintf(args, sizeof args, "%s/a/scenario.resolved.yaml -q -o %s/b", tmp, tmp);
    cr_assert_eq(run(args), 0, "%s", tmp_file("out.txt"));
    expect_same_file("a/summary.csv", "b/summary.csv");
    expect_same_file("a/replications.csv", "b/replications.csv");
    expect_same_file("a/targets.csv", "b/targets.csv");
    expect_same_file("a/scenario.resolved.yaml", "b/scenario.resolved.yaml");
}

Test(cli, identical_output_for_one_and_two_threads) {
    write_tmp("tiny.yaml", small);
    char args[1024];
    snprintf(args, sizeof args, "%s/tiny.yaml -q -t 1 -o %s/a", tmp, tmp);
    cr_assert_eq(run(args), 0);
    snprintf(args, sizeof args, "%s/tiny.yaml -q -t 2 -o %s/b", tmp, tmp);
    cr_assert_eq(run(args), 0);
    expect_same_file("a/replications.csv", "b/replications.csv");
    expect_same_file("a/summary.csv", "b/summary.csv");
}

/* Rows of replications.csv before 2023 without the scenario column. */
static char *rows_before_2023(const char *csv) {
    char *out = calloc(strlen(csv) + 1, 1);
    const char *line = strchr(csv, '\n') + 1;
    while (*line) {
        const char *end = strchr(line, '\n');
        const char *rest = strchr(line, ',') + 1;   /* after scenario */
        const char *year = strchr(rest, ',') + 1;    /* after replication */
        if (strtol(year, NULL, 10) < 2023)
            strncat(out, rest, (size_t)(end - rest + 1));
        line = end + 1;
    }
    return out;
}

Test(cli, shipped_scenarios_share_history_with_the_baseline) {
    const char *alts[] = {"secure_campus", "collaboration_ban", "us_talent_drive",
                          "china_talent_push", "de_escalation"};
    char args[1024];
    const char *opts = "-q --reps 2 --set sample_fraction=0.005 --set years.end=2025";
    snprintf(args, sizeof args, "scenarios/baseline.yaml %s -o %s/baseline", opts, tmp);
    cr_assert_eq(run(args), 0, "%s", tmp_file("out.txt"));
    char *base = tmp_file("baseline/replications.csv");
    char *base_pre = rows_before_2023(base);
    cr_assert_gt(strlen(base_pre), 1000);
    for (size_t i = 0; i < 5; i++) {
        snprintf(args, sizeof args, "scenarios/%s.yaml %s -o %s/%s", alts[i], opts, tmp, alts[i]);
        cr_assert_eq(run(args), 0, "%s: %s", alts[i], tmp_file("out.txt"));
        char rel[128];
        snprintf(rel, sizeof rel, "%s/replications.csv", alts[i]);
        char *alt = tmp_file(rel), *alt_pre = rows_before_2023(alt);
        cr_expect_str_eq(alt_pre, base_pre, "%s differs from the baseline before 2023", alts[i]);
        cr_expect_gt(strlen(alt), strlen(alt_pre) + 100);
        free(alt);
        free(alt_pre);
    }
    free(base);
    free(base_pre);
}

static void expect_input_error(const char *args, const char *needle) {
    int rc = run(args);
    char *out = tmp_file("out.txt");
    cr_expect_eq(rc, 2, "'%s' exit %d: %s", args, rc, out);
    cr_expect(strstr(out, needle) != NULL, "'%s': expected '%s' in: %s", args, needle, out);
    free(out);
}

Test(cli, bad_usage_and_bad_input_exit_2) {
    write_tmp("tiny.yaml", small);
    char args[1024];
    expect_input_error("", "no scenario file");
    expect_input_error("--bogus x.yaml", "unknown option");
    snprintf(args, sizeof args, "%s/missing.yaml", tmp);
    expect_input_error(args, "missing.yaml");
    snprintf(args, sizeof args, "%s/tiny.yaml --threads 0", tmp);
    expect_input_error(args, "--threads");
    snprintf(args, sizeof args, "%s/tiny.yaml --set visa.work_approval", tmp);
    expect_input_error(args, "--set");
    snprintf(args, sizeof args, "%s/tiny.yaml --set visa.work_approval=2", tmp);
    expect_input_error(args, "[0, 1]");
    snprintf(args, sizeof args, "%s/tiny.yaml --reps 0", tmp);
    expect_input_error(args, "replications");
    snprintf(args, sizeof args, "%s/tiny.yaml -o /proc/ts_no_such_dir", tmp);
    expect_input_error(args, "/proc/ts_no_such_dir");
    write_tmp("bad.yaml", "visa:\n  work_aproval: 0.5\n");
    snprintf(args, sizeof args, "%s/bad.yaml -o %s/res", tmp, tmp);
    expect_input_error(args, "bad.yaml:2:3: error:");
    cr_expect(!exists("res/summary.csv"), "results written after an input error");
}

Test(cli, help_and_version) {
    cr_expect_eq(run("--help"), 0);
    char *out = tmp_file("out.txt");
    cr_expect(strstr(out, "--reps") && strstr(out, "--set") && strstr(out, "--threads"));
    free(out);
    cr_expect_eq(run("--version"), 0);
    out = tmp_file("out.txt");
    cr_expect(strncmp(out, "talentsim ", 10) == 0, "%s", out);
    free(out);
}

/* docs/parameters.md is generated from the parameter table; stale docs fail. */
Test(cli, parameter_reference_is_up_to_date) {
    cr_assert_eq(run("--params-markdown"), 0);
    char *generated = tmp_file("out.txt"), *committed = slurp("docs/parameters.md");
    cr_assert_not_null(committed, "docs/parameters.md missing (run from the repository root)");
    cr_expect_str_eq(generated, committed, "docs/parameters.md is stale: run 'make docs'");
    free(generated);
    free(committed);
}
