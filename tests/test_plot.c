/* `talentsim plot` (sim/cli/plot.c, scripts/plot.py) end to end, from the
 * repository root with TALENTSIM_BIN: a small run, a comparison (three small
 * runs of talentsim compare), a 2 x 2 grid sweep
 * and the hand-written calibration of tests/data/plot/calibration/. Each
 * must give its PNGs (valid signature and IHDR, 300-4000 px a side, over
 * 5 KB) and a report.html that embeds every one of them; bad input must
 * exit 2 and leave nothing written (docs/plots.md). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define TS_TEST_TMP_PREFIX "/tmp/ts_plot_"
#include "cli_util.h"

TestSuite(plot, .init = make_tmp, .fini = remove_tmp);

/* `talentsim args`, every '@' in args replaced by tmp. */
static int run(const char *env, const char *args) {
    char a[2048], cmd[3072];
    size_t n = 0;
    for (const char *p = args; *p && n + sizeof tmp < sizeof a; p++) {
        if (*p == '@')
            n += (size_t)snprintf(a + n, sizeof a - n, "%s", tmp);
        else
            a[n++] = *p;
    }
    a[n] = '\0';
    snprintf(cmd, sizeof cmd, "%s %s %s", env ? env : "", bin(), a);
    return sh_out(cmd);
}

static char *out_txt(void) {
    char path[300];
    snprintf(path, sizeof path, "%s/out.txt", tmp);
    char *s = slurp(path);
    return s ? s : strdup("");
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static unsigned be32(const unsigned char *p) {
    return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

/* A valid PNG of sensible size: signature, IHDR first, 300-4000 px a side,
 * more than 5 KB. */
static void expect_png(const char *path) {
    long n = 0;
    unsigned char *d = (unsigned char *)slurp_n(path, &n);
    cr_assert_not_null(d, "%s missing", path);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    cr_assert_gt(n, 5 * 1024, "%s: %ld bytes", path, n);
    cr_expect_eq(memcmp(d, sig, 8), 0, "%s: not a PNG", path);
    cr_expect_eq(memcmp(d + 12, "IHDR", 4), 0, "%s: no IHDR first", path);
    unsigned w = be32(d + 16), h = be32(d + 20);
    cr_expect(w >= 300 && w <= 4000 && h >= 300 && h <= 4000, "%s: %u x %u px", path, w, h);
    free(d);
}

/* DIR/plots holds exactly the names (NULL-terminated), each a good PNG, and
 * DIR/report.html embeds one data:image/png per PNG; returns the report. */
static char *expect_plots(const char *dir, const char *const *names) {
    char path[1024];
    int want = 0;
    for (; names[want]; want++) {
        snprintf(path, sizeof path, "%s/%s/plots/%s", tmp, dir, names[want]);
        expect_png(path);
    }
    snprintf(path, sizeof path, "%s/%s/plots", tmp, dir);
    DIR *dp = opendir(path);
    cr_assert_not_null(dp, "%s missing", path);
    int have = 0;
    for (struct dirent *e; (e = readdir(dp)) != NULL;)
        have += e->d_name[0] != '.';
    closedir(dp);
    cr_expect_eq(have, want, "%s: %d files, expected %d", path, have, want);
    snprintf(path, sizeof path, "%s/%s/report.html", tmp, dir);
    char *html = slurp(path);
    cr_assert_not_null(html, "%s missing", path);
    cr_expect_eq(count(html, "data:image/png;base64,"), want, "report embeds %d of %d",
                 count(html, "data:image/png;base64,"), want);
    cr_expect_eq(count(html, "http://") + count(html, "https://") + count(html, "<script") +
                     count(html, "<link"), 0, "report.html refers to something outside");
    return html;
}

/* Nothing of a plot in DIR: no plots/, no report.html, no temporaries. */
static void expect_nothing_written(const char *dir) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmp, dir);
    DIR *dp = opendir(path);
    if (!dp)
        return;
    for (struct dirent *e; (e = readdir(dp)) != NULL;)
        cr_expect(strcmp(e->d_name, "plots") != 0 && strcmp(e->d_name, "report.html") != 0 &&
                      strncmp(e->d_name, ".plots", 6) != 0 &&
                      strncmp(e->d_name, ".report", 7) != 0,
                  "%s left in %s", e->d_name, path);
    closedir(dp);
}

static const char *const run_pngs[] = {"stocks.png", "flows_academic.png", "survey.png",
                                       "output.png", NULL};

Test(plot, run_figures_and_report) {
    cr_assert_eq(run(NULL, "tests/data/plot/plot_ref.yaml -q -o @/run"), 0, "%s", out_txt());
    cr_assert_eq(run(NULL, "plot @/run"), 0, "%s", out_txt());
    char *html = expect_plots("run", run_pngs);
    cr_expect(strstr(html, "id=\"targets\""), "no targets table");
    cr_expect(strstr(html, "flows.us_to_cn_academic") && strstr(html, "survey.feel_unsafe"));
    cr_expect(strstr(html, "id=\"headline\""), "no headline table");
    cr_expect(strstr(html, "china_initiative"), "the policies are not listed");
    free(html);
    /* Plotting again replaces the figures. */
    cr_assert_eq(run(NULL, "plot -q @/run"), 0, "%s", out_txt());
    free(expect_plots("run", run_pngs));
}

Test(plot, comparison_figures_and_report) {
    cr_assert_eq(run(NULL, "compare tests/data/plot/plot_ref.yaml tests/data/plot/plot_visa.yaml "
                           "tests/data/plot/plot_push.yaml -q -o @/cmp"), 0, "%s", out_txt());
    cr_assert_eq(run(NULL, "plot @/cmp"), 0, "%s", out_txt());
    static const char *const pngs[] = {"difference.png", "stocks.png", "flows_academic.png",
                                       "survey.png", "output.png", NULL};
    char *html = expect_plots("cmp", pngs);
    cr_expect(strstr(html, "id=\"targets\""), "no targets table");
    cr_expect(strstr(html, "plot_visa") && strstr(html, "plot_push"));
    free(html);
}

Test(plot, grid_sweep_heatmap) {
    cr_assert_eq(run(NULL, "sweep tests/data/plot/grid.yaml -q -t 2 -o @/grid"), 0, "%s",
                 out_txt());
    cr_assert_eq(run(NULL, "merge -q @/grid"), 0, "%s", out_txt());
    cr_assert_eq(run(NULL, "plot @/grid"), 0, "%s", out_txt());
    static const char *const pngs[] = {"sweep_heatmap.png", NULL};
    free(expect_plots("grid", pngs));
}

Test(plot, calibration_figures) {
    cr_assert_eq(run(NULL, "calibrate tests/data/calibration_small.yaml -q -o @/cal"), 0, "%s",
                 out_txt());
    cr_assert_eq(run(NULL, "plot @/cal"), 0, "%s", out_txt());
    static const char *const pngs[] = {"posterior.png", "pairs.png", "tolerance.png", NULL};
    char *html = expect_plots("cal", pngs);
    cr_expect(strstr(html, "survey.threshold_unsafe"));
    free(html);
    /* the hand-written fixture: a policy's value as a free parameter */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp -r tests/data/plot/calibration '%s/cal2'", tmp);
    cr_assert_eq(sh_out(cmd), 0);
    cr_assert_eq(run(NULL, "plot @/cal2"), 0, "%s", out_txt());
    html = expect_plots("cal2", pngs);
    cr_expect(strstr(html, "policies.china_initiative.suspicion.level"));
    free(html);
}

/* exit 2, one line on stderr that contains each of the words, nothing
 * written in tmp/dir. */
static void expect_bad(const char *dir, const char *word1, const char *word2) {
    char args[600];
    snprintf(args, sizeof args, "plot @/%s", dir);
    cr_expect_eq(run(NULL, args), 2, "%s", out_txt());
    char *out = out_txt();
    cr_expect_eq(count(out, "\n"), 1, "not one line: %s", out);
    cr_expect(strstr(out, word1) && (!word2 || strstr(out, word2)), "%s", out);
    free(out);
    expect_nothing_written(dir);
}

Test(plot, bad_directories) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mkdir '%s/empty'", tmp);
    cr_assert_eq(sh_out(cmd), 0);
    expect_bad("empty", "not a results directory", NULL);
    expect_bad("missing", "no such directory", NULL);
    /* A sweep that was never merged. */
    snprintf(cmd, sizeof cmd, "mkdir '%1$s/sw' && cp tests/data/plot/grid.yaml '%1$s/sw/sweep.resolved.yaml'",
             tmp);
    cr_assert_eq(sh_out(cmd), 0);
    expect_bad("sw", "sweep.csv", "merge");
}

Test(plot, missing_column_is_named_and_leaves_nothing) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp -r tests/data/plot/calibration '%s/cal' && "
             "sed -i '1s/,tolerance,/,tol,/' '%s/cal/generations.csv'", tmp, tmp);
    cr_assert_eq(sh_out(cmd), 0);
    expect_bad("cal", "generations.csv", "tolerance");
    /* A run plotted once, then broken: the failed plot keeps the old figures. */
    cr_assert_eq(run(NULL, "tests/data/plot/plot_ref.yaml -q -o @/run"), 0, "%s", out_txt());
    cr_assert_eq(run(NULL, "plot -q @/run"), 0, "%s", out_txt());
    snprintf(cmd, sizeof cmd, "sed -i '1s/,p97_5,/,p97,/' '%s/run/summary.csv'", tmp);
    cr_assert_eq(sh_out(cmd), 0);
    cr_expect_eq(run(NULL, "plot @/run"), 2, "%s", out_txt());
    char *out = out_txt();
    cr_expect(strstr(out, "summary.csv") && strstr(out, "p97_5"), "%s", out);
    free(out);
    free(expect_plots("run", run_pngs));
    snprintf(cmd, sizeof cmd, "ls -a '%s/run' | grep -q '^\\.plots\\|^\\.report'", tmp);
    cr_expect_neq(sh_out(cmd), 0, "a temporary was left behind");
}

Test(plot, missing_python_or_matplotlib) {
    cr_expect_eq(run("TALENTSIM_PYTHON=/nonexistent/python3", "plot --help"), 0);
    char *out = out_txt();
    cr_expect(strstr(out, "Usage: talentsim plot"), "%s", out);
    free(out);
    cr_expect_eq(run("TALENTSIM_PYTHON=/nonexistent/python3", "plot @"), 1);
    out = out_txt();
    cr_expect(strstr(out, "/nonexistent/python3") && strstr(out, "install-deps.sh"), "%s", out);
    free(out);
    /* A matplotlib that cannot be imported (a stand-in package first on the path). */
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "mkdir -p '%1$s/fake/matplotlib' && "
             "echo 'raise ImportError(\"stand-in\", name=\"matplotlib\")' "
             "> '%1$s/fake/matplotlib/__init__.py' && mkdir '%1$s/cal' && "
             "cp tests/data/plot/calibration/* '%1$s/cal/'", tmp);
    cr_assert_eq(sh_out(cmd), 0);
    char env[600];
    snprintf(env, sizeof env, "PYTHONPATH='%s/fake'", tmp);
    cr_expect_eq(run(env, "plot @/cal"), 1, "%s", out_txt());
    out = out_txt();
    cr_expect(strstr(out, "matplotlib is not installed") && strstr(out, "install-deps.sh"), "%s",
              out);
    free(out);
    expect_nothing_written("cal");
}

Test(plot, usage_errors) {
    cr_expect_eq(run(NULL, "plot"), 2);
    char *out = out_txt();
    cr_expect(strstr(out, "no results directory"), "%s", out);
    free(out);
}
