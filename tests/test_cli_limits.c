/* Limits of the command line (docs/limits.md), through the talentsim
 * program (TALENTSIM_BIN, run from the repository root): option values are
 * used whole, too many options are an error, --threads has a maximum, bench
 * checks its options, and a run estimated not to fit in memory is refused
 * with exit 2 before anything is simulated or written. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TS_TEST_TMP_PREFIX "/tmp/ts_limits_"
#include "cli_util.h"

/* No Criterion .timeout (its watchdog record can trip LeakSanitizer): every
 * child run is bounded by timeout -s KILL instead (run_for). */
TestSuite(cli_limits, .init = make_tmp, .fini = remove_tmp);

/* Output of the last run (stdout and stderr). */
static char out[1 << 16];

/* Runs `talentsim args`, killed after `seconds`; returns the exit code
 * (137 when killed). Every run here is refused or tiny: the time limit
 * keeps a regression (a huge run that is no longer refused) from filling
 * the machine's memory before the test fails. */
static int run_for(int seconds, const char *args) {
    char cmd[16384], path[300];
    snprintf(path, sizeof path, "%s/out.txt", tmp);
    snprintf(cmd, sizeof cmd, "timeout -s KILL %d %s %s >'%s' 2>&1 </dev/null", seconds, bin(),
             args, path);
    int st = system(cmd);
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(out, 1, sizeof out - 1, f) : 0;
    out[n] = '\0';
    if (f)
        fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run(const char *args) { return run_for(30, args); }

static void expect_output(const char *text) {
    cr_expect(strstr(out, text) != NULL, "expected '%s' in:\n%s", text, out);
}

/* The main program learns --max-memory and reports a full override table
 * from sim/cli/main.c, wired separately: until its --help names the option,
 * the tests of the main program's guard are skipped. */
static void require_main_guard(void) {
    run("--help");
    if (!strstr(out, "--max-memory"))
        cr_skip_test("sim/cli/main.c does not offer --max-memory yet");
}

#define SEED_TINY "0.0000000000000000000000000000000000000000001"

/* ---- item 8: values used whole, too many options ---- */

Test(cli_limits, seed_is_used_whole_not_cut_to_zero) {
    /* cut at 40 characters this was "0.00...0" = seed 0, accepted */
    cr_expect_eq(run("scenarios/baseline.yaml --dump --seed " SEED_TINY), 2, "%s", out);
    expect_output("expected an integer for seed");
    expect_output("got '" SEED_TINY "'");
    cr_expect_eq(run("check-patterns scenarios/baseline.yaml --seed " SEED_TINY), 2, "%s", out);
    expect_output("got '" SEED_TINY "'");
}

Test(cli_limits, replications_are_used_whole) {
    /* 41 characters: cut at 40 this was 0, out of range */
    cr_expect_eq(run("scenarios/baseline.yaml --dump -r 00000000000000000000000000000000000000003"),
                 0, "%s", out);
    expect_output("\nreplications: 3\n");
}

/* " --set seed=1" n times, then the tail. */
static void many_sets(char *buf, size_t size, const char *head, int n, const char *tail) {
    size_t used = (size_t)snprintf(buf, size, "%s", head);
    for (int i = 0; i < n && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, " --set seed=1");
    snprintf(buf + used, size - used, " %s", tail);
}

Test(cli_limits, too_many_options_in_check_patterns) {
    char args[8192];
    many_sets(args, sizeof args, "check-patterns scenarios/baseline.yaml", 256, "-r 3");
    cr_expect_eq(run(args), 2, "%s", out);
    expect_output("too many --set, --reps and --seed options (at most 256)");
}

Test(cli_limits, too_many_options_in_a_run) {
    require_main_guard();
    char args[8192];
    /* 256 --set fill the table: the -r after them was dropped without a word */
    many_sets(args, sizeof args, "scenarios/baseline.yaml --dump", 256, "-r 3");
    cr_expect_eq(run(args), 2, "%s", out);
    expect_output("too many");
    many_sets(args, sizeof args, "scenarios/baseline.yaml --dump", 256, "-s 7");
    cr_expect_eq(run(args), 2, "%s", out);
    many_sets(args, sizeof args, "scenarios/baseline.yaml --dump", 255, "-r 3");
    cr_expect_eq(run(args), 0, "%s", out);
    expect_output("\nreplications: 3\n");
}

/* ---- item 11: --threads and bench's options ---- */

Test(cli_limits, threads_have_a_maximum) {
    cr_expect_eq(run("scenarios/baseline.yaml --dump -t 1024"), 0, "%s", out);
    cr_expect_eq(run("scenarios/baseline.yaml --dump -t 1025"), 2, "%s", out);
    cr_expect_eq(run("check-patterns scenarios/baseline.yaml -t 1025"), 2, "%s", out);
    expect_output("--threads must be an integer in [1, 1024], got '1025'");
}

Test(cli_limits, bench_refuses_bad_thread_counts) {
    static const char *const bad[] = {"100000", "1025", "0", "-3", "abc", "2x", "''"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char args[64];
        snprintf(args, sizeof args, "bench --threads %s", bad[i]);
        cr_expect_eq(run(args), 2, "%s: %s", args, out); /* 100000 crashed in libgomp */
        expect_output("talentsim bench: error: --threads must be an integer in [1, 1024]");
    }
}

Test(cli_limits, bench_has_help_and_refuses_unknown_options) {
    cr_expect_eq(run("bench --help"), 0, "%s", out);
    expect_output("Usage: talentsim bench [--threads N] [--baseline FILE] [--max-memory SIZE]");
    cr_expect_eq(run("bench --bogus"), 2, "%s", out);
    expect_output("talentsim bench: error: unknown option '--bogus'");
    cr_expect_eq(run("bench -x"), 2, "%s", out);
    expect_output("talentsim bench: error: unknown option '-x'");
    cr_expect_eq(run("bench --threads"), 2, "%s", out);
    expect_output("talentsim bench: error: option '--threads' needs a value");
    cr_expect_eq(run("bench extra"), 2, "%s", out);
    expect_output("talentsim bench: error: unexpected argument 'extra'");
    cr_expect_eq(run("bench --max-memory lots"), 2, "%s", out);
    expect_output("--max-memory must be a size such as 512M or 8G, got 'lots'");
}

/* ---- item 2: the memory guard ---- */

/* 2000-2200 after the 20-year spin-up with 20% more Chinese students a
 * year: about 1e20 agents, far beyond any machine (EiB). */
static const char *const beyond_any_machine =
    "name: beyond\nreplications: 1\nyears: {start: 2000, end: 2200}\n"
    "inflow: {cn_students: {growth: 0.2}}\n";

Test(cli_limits, bench_refuses_workloads_over_max_memory) {
    cr_expect_eq(run("bench --max-memory 1M"), 2, "%s", out);
    expect_output("error: the run needs an estimated ");
    expect_output("more than the limit of 1 MiB");
    expect_output("(limit: --max-memory)");
    cr_expect(strstr(out, "agent-years") == NULL, "a benchmark ran:\n%s", out);
}

Test(cli_limits, check_patterns_refuses_runs_over_max_memory) {
    cr_expect_eq(run("check-patterns scenarios/baseline.yaml -r 4 --max-memory 2M"), 2, "%s", out);
    expect_output("scenarios/baseline.yaml: error: the run needs an estimated ");
    expect_output("more than the limit of 2 MiB");
    expect_output("(limit: --max-memory)");
    cr_expect_eq(run("check-patterns scenarios/baseline.yaml --max-memory 12X"), 2, "%s", out);
    expect_output("--max-memory must be a size such as 512M or 8G, got '12X'");
}

Test(cli_limits, check_patterns_refuses_what_no_machine_holds) {
    write_tmp("beyond.yaml", beyond_any_machine);
    char args[1024];
    snprintf(args, sizeof args, "check-patterns %s/beyond.yaml -q", tmp);
    cr_expect_eq(run_for(5, args), 2, "%s", out);
    expect_output("error: the run needs an estimated ");
    expect_output("EiB of memory");
    expect_output("(limit: the memory available)");
}

Test(cli_limits, a_run_over_max_memory_is_refused_before_writing) {
    require_main_guard();
    char args[1024];
    snprintf(args, sizeof args, "scenarios/baseline.yaml -q -r 4 -o %s/res --max-memory 2M", tmp);
    cr_expect_eq(run(args), 2, "%s", out);
    expect_output("scenarios/baseline.yaml: error: the run needs an estimated ");
    expect_output("(limit: --max-memory)");
    cr_expect_not(exists("res"), "the refused run wrote its directory");
    snprintf(args, sizeof args, "scenarios/baseline.yaml -q -r 2 -o %s/res --max-memory 1G "
             "--set sample_fraction=0.01", tmp);
    cr_expect_eq(run(args), 0, "%s", out);
    snprintf(args, sizeof args, "scenarios/baseline.yaml --max-memory 0");
    cr_expect_eq(run(args), 2, "%s", out);
}

Test(cli_limits, a_run_no_machine_holds_is_refused_before_writing) {
    require_main_guard();
    write_tmp("beyond.yaml", beyond_any_machine);
    char args[1024];
    snprintf(args, sizeof args, "%s/beyond.yaml -q -o %s/res", tmp, tmp);
    cr_expect_eq(run_for(5, args), 2, "%s", out);
    expect_output("beyond.yaml: error: the run needs an estimated ");
    expect_output("(limit: the memory available)");
    cr_expect_not(exists("res"), "the refused run wrote its directory");
}
