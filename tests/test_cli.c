/* End-to-end runs of the talentsim program (TALENTSIM_BIN, run from the
 * repository root): outputs, exit codes, reproducibility from the resolved
 * scenario, thread-count independence and common random numbers between
 * shipped scenarios. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "talentsim/metrics.h"

#define TS_TEST_TMP_PREFIX "/tmp/ts_cli_"
#include "cli_util.h"

TestSuite(cli, .init = make_tmp, .fini = remove_tmp);

/* Runs `talentsim args`, stdout+stderr into tmp/out.txt; returns exit code. */
static int run(const char *args) { return run_bin(args); }

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

/* ---- standard output that cannot be written (issue 6, item 12) ---- */

/* Runs `talentsim args` with stdout to out_path, stderr to tmp/err.txt. */
static int run_stdout_to(const char *args, const char *out_path) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s >%s 2>'%s/err.txt'", bin(), args, out_path, tmp);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void expect_stdout_failure(const char *args) {
    int rc = run_stdout_to(args, "/dev/full");
    char *err = tmp_file("err.txt");
    cr_assert_not_null(err);
    cr_expect_eq(rc, 1, "'%s' > /dev/full: exit %d: %s", args, rc, err);
    cr_expect_str_eq(err, "talentsim: error: cannot write to standard output: "
                          "No space left on device\n", "'%s'", args);
    free(err);
}

Test(cli, full_standard_output_exits_1) {
    if (access("/dev/full", W_OK) != 0)
        cr_skip_test("no /dev/full");
    write_tmp("tiny.yaml", small);
    char args[1024];
    snprintf(args, sizeof args, "%s/tiny.yaml --dump", tmp);
    expect_stdout_failure(args);
    expect_stdout_failure("--version");
    expect_stdout_failure("--help");
    expect_stdout_failure("--params-markdown");
    snprintf(args, sizeof args, "%s/tiny.yaml -o %s/res", tmp, tmp);
    expect_stdout_failure(args);
    cr_expect(exists("res/manifest.json"), "the results stand; only the report was lost");
}

/* ---- signals, locking, leftovers (issue 6, items 1 and 9) ---- */

/* Starts talentsim with argv (NULL-terminated, argv[0] ignored); stdout to
 * /dev/null, stderr to tmp/NAME. Signals start with their default action. */
static pid_t spawn(const char *const *argv, const char *err_name) {
    char errp[512];
    snprintf(errp, sizeof errp, "%s/%s", tmp, err_name);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        if (!freopen("/dev/null", "w", stdout) || !freopen(errp, "w", stderr))
            _exit(99);
        execv(bin(), (char *const *)argv);
        _exit(98);
    }
    return pid;
}

/* Waits up to 30 s for pid; its exit code, 128 + signal when killed. */
static int wait_exit(pid_t pid) {
    int st = 0;
    for (int i = 0; i < 3000; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    cr_assert_fail("talentsim did not stop within 30 s");
    return -1;
}

static void make_dir(const char *rel) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp, rel);
    cr_assert_eq(mkdir(path, 0777), 0, "%s", path);
}

/* Waits up to seconds s until tmp/rel exists; 0 if it never does. */
static int appears(const char *rel, int s) {
    for (int i = 0; i < 100 * s && !exists(rel); i++)
        usleep(10000);
    return exists(rel);
}

/* Waits up to 20 s until tmp/rel exists; else kills run and fails. */
static void wait_for(const char *rel, pid_t run) {
    if (appears(rel, 20))
        return;
    kill(run, SIGKILL);
    waitpid(run, NULL, 0);
    cr_assert_fail("%s never appeared", rel);
}

/* A run of several seconds (full population) into tmp/dir. */
static pid_t start_long_run(const char *dir, const char *err_name) {
    char out[1024];
    cr_assert_lt(strlen(tmp) + strlen(dir) + 1, sizeof out);
    sprintf(out, "%s/%s", tmp, dir);
    const char *argv[] = {"talentsim", "scenarios/baseline.yaml", "-q", "-r", "50",
                          "-t", "2", "-o", out, NULL};
    return spawn(argv, err_name);
}

/* Stops a run with sig after it has simulated a while; checks the exit code
 * and the one line on stderr. */
static void interrupt_run(const char *dir, int sig) {
    pid_t pid = start_long_run(dir, "err.txt");
    wait_for(dir, pid);
    usleep(300000);
    kill(pid, sig);
    int rc = wait_exit(pid);
    char *err = tmp_file("err.txt");
    cr_assert_eq(rc, 128 + sig, "exit %d: %s", rc, err);
    cr_expect_eq(count_lines(err), 1, "%s", err);
    cr_expect(strstr(err, "interrupted"), "%s", err);
    free(err);
}

Test(cli, sigterm_stops_and_removes_the_directory_it_made) {
    interrupt_run("new/res", SIGTERM);
    cr_expect(!exists("new/res") && !exists("new"),
              "the run made new/res and left it behind");
}

Test(cli, sigint_leaves_no_temporaries_in_an_existing_directory) {
    make_dir("res");
    write_tmp("res/notes.txt", "");
    interrupt_run("res", SIGINT);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -A '%s/res' > '%s/ls.txt'", tmp, tmp);
    cr_assert_eq(system(cmd), 0);
    char *ls = tmp_file("ls.txt");
    cr_expect_str_eq(ls, "notes.txt\n", "left behind: %s", ls);
    free(ls);
}

Test(cli, second_run_on_a_busy_directory_fails_naming_the_first) {
    write_tmp("tiny.yaml", small);
    pid_t first = start_long_run("res", "first.txt");
    wait_for("res", first);
    appears("res/.talentsim.lock", 2); /* taken just after the mkdir */
    usleep(100000);
    char args[1024];
    snprintf(args, sizeof args, "%s/tiny.yaml -q -o %s/res", tmp, tmp);
    int rc = run(args);
    kill(first, SIGTERM);
    wait_exit(first);
    char *out = tmp_file("out.txt"), want[64];
    snprintf(want, sizeof want, "(pid %ld)", (long)first);
    cr_expect_eq(rc, 2, "second run exit %d: %s", rc, out);
    cr_expect(strstr(out, want) && strstr(out, "in use"), "%s", out);
    cr_expect_eq(count_lines(out), 1, "%s", out);
    free(out);
}

/* A pid that no process has now (a child that has exited and been reaped). */
static pid_t dead_pid(void) {
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    return pid;
}

Test(cli, stale_temporaries_of_dead_runs_are_removed) {
    write_tmp("tiny.yaml", small);
    char rel[128];
    make_dir("res");
    long dead = (long)dead_pid(), live = (long)getpid();
    const char *stale[] = {"res/.summary.csv", "res/.manifest.json"};
    for (int i = 0; i < 2; i++) {
        snprintf(rel, sizeof rel, "%s.%ld.%d", stale[i], dead, 7 * i);
        write_tmp(rel, "partial");
    }
    snprintf(rel, sizeof rel, "res/.targets.csv.%ld.0", live);
    write_tmp(rel, "another run's");
    char args[1024];
    snprintf(args, sizeof args, "%s/tiny.yaml -q -o %s/res", tmp, tmp);
    cr_assert_eq(run(args), 0, "%s", tmp_file("out.txt"));
    for (int i = 0; i < 2; i++) {
        snprintf(rel, sizeof rel, "%s.%ld.%d", stale[i], dead, 7 * i);
        cr_expect(!exists(rel), "%s of a dead run left", rel);
    }
    snprintf(rel, sizeof rel, "res/.targets.csv.%ld.0", live);
    cr_expect(exists(rel), "a live process's temporary was removed");
}
