/* Writers: CSV layout and number format, the manifest, the output directory
 * (its lock, stale temporaries, clean-up) and the all-or-nothing writing of a
 * run (including a full disk and a stop request). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../sim/io/output_internal.h"
#include "talentsim/output.h"

/* ---- fixtures ---- */

/* 3 replications, 2020..2021. Metric m of replication rep in year index y is
 * rep + 1 + 10 y + 100 m, except: cohort.stay_rate_5y is NaN throughout and
 * top_talent.us_share is NaN in replication 2 of 2020. */
static ts_results *make_results(void) {
    ts_results *r = ts_results_alloc(3, 2, 2020);
    cr_assert_not_null(r);
    for (size_t rep = 0; rep < 3; rep++)
        for (size_t y = 0; y < 2; y++)
            for (int m = 0; m < TS_NMETRICS; m++)
                r->v[(rep * 2 + y) * TS_NMETRICS + (size_t)m] =
                    (double)(rep + 1 + 10 * y + 100 * (size_t)m);
    for (size_t rep = 0; rep < 3; rep++)
        for (size_t y = 0; y < 2; y++)
            r->v[(rep * 2 + y) * TS_NMETRICS + TS_M_COHORT_STAY_RATE_5Y] = NAN;
    r->v[(1 * 2 + 0) * TS_NMETRICS + TS_M_TOP_TALENT_US_SHARE] = NAN;
    r->agent_years = 12345.5;
    return r;
}

static void add_target(ts_scenario *sc, const char *metric, int64_t year,
                       double observed, double n, const char *source) {
    ts_target *t = realloc(sc->targets, (sc->ntargets + 1) * sizeof *t);
    cr_assert_not_null(t);
    sc->targets = t;
    t[sc->ntargets++] = (ts_target){.metric = strdup(metric), .year = year,
                                    .observed = observed, .n = n,
                                    .source = strdup(source)};
}

static ts_scenario *make_scenario(const char *name) {
    ts_scenario *sc = ts_scenario_alloc(name);
    cr_assert_not_null(sc);
    sc->base.replications = 3;
    sc->base.years.start = 2020;
    sc->base.years.end = 2021;
    /* flows.cn_to_us (m = 15) in 2021: 1511, 1512, 1513 */
    add_target(sc, "flows.cn_to_us", 2021, 1512, NAN, "AASF, \"switches\"");
    add_target(sc, "flows.cn_to_us", 2021, 5000, NAN, "far off");
    add_target(sc, "survey.feel_unsafe", 2030, 0.72, 1300, "outside the run");
    return sc;
}

/* Runs a writer into memory; returns the text (caller frees). */
static char *render(int (*w)(FILE *, const ts_scenario *, const ts_results *),
                    const ts_scenario *sc, const ts_results *r) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    cr_assert_eq(w(f, sc, r), 0);
    cr_assert_eq(fclose(f), 0);
    return buf;
}

/* Line i (0-based) of text, in a static buffer. */
static const char *line_at(const char *text, int i) {
    static char line[512];
    for (; i > 0 && text; i--) {
        text = strchr(text, '\n');
        text = text ? text + 1 : NULL;
    }
    cr_assert_not_null(text, "no line %d", i);
    size_t n = strcspn(text, "\n");
    cr_assert_lt(n, sizeof line);
    memcpy(line, text, n);
    line[n] = '\0';
    return line;
}

static int count_lines(const char *text) {
    int n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* ---- numbers ---- */

static const char *num(double v) {
    static char buf[TS_NUM_BUFSZ];
    ts_output_format_double(v, buf);
    return buf;
}

Test(output_number, shortest_exact_representation) {
    cr_assert_str_eq(num(0.1), "0.1");
    cr_assert_str_eq(num(2021), "2021");
    cr_assert_str_eq(num(1.0 / 3.0), "0.3333333333333333");
    cr_assert_str_eq(num(0.1 + 0.2), "0.30000000000000004");
    cr_assert_str_eq(num(1e300), "1e+300");
    cr_assert_str_eq(num(-0.0), "-0");
    cr_assert_str_eq(num(NAN), "");
    cr_assert_str_eq(num(INFINITY), "Inf");
    cr_assert_str_eq(num(-INFINITY), "-Inf");
}

Test(output_number, reads_back_identically) {
    unsigned s = 12345;
    for (int i = 0; i < 10000; i++) {
        s = s * 1103515245u + 12345u;
        double v = ldexp((double)s / 4294967296.0 + 0.5, (int)(s % 200) - 100);
        cr_assert_eq(strtod(num(v), NULL), v, "%.17g", v);
    }
}

/* ---- CSV ---- */

Test(output_csv, summary_layout_and_values) {
    ts_scenario *sc = make_scenario("base");
    ts_results *r = make_results();
    char *t = render(ts_write_summary_csv, sc, r);
    cr_assert_str_eq(line_at(t, 0),
                     "scenario,year,metric,mean,sd,p2_5,p50,p97_5,replications");
    cr_assert_eq(count_lines(t), 1 + 2 * TS_NMETRICS);
    /* 1, 2, 3: idx 0.05 and 1.95; 0.05 * 2 + 0.95 * 3 is 2.9499999999999997
     * in doubles, and the file keeps that exact value */
    cr_assert_str_eq(line_at(t, 1),
                     "base,2020,stock.us.student,2,1,1.05,2,2.9499999999999997,3");
    /* rows follow TS_METRICS order: the NaN metric sits at its own index,
     * and the year's last row is the table's last metric */
    cr_assert_str_eq(line_at(t, 1 + TS_M_COHORT_STAY_RATE_5Y),
                     "base,2020,cohort.stay_rate_5y,,,,,,0");
    char last[128];
    snprintf(last, sizeof last, "base,2020,%s,%d,1,", ts_metric_name(TS_NMETRICS - 1),
             2 + 100 * (TS_NMETRICS - 1));
    cr_assert(strncmp(line_at(t, TS_NMETRICS), last, strlen(last)) == 0, "%s lacks %s",
              line_at(t, TS_NMETRICS), last);
    /* top_talent.us_share (m = 12) in 2020: 1201, NaN, 1203 */
    cr_assert_str_eq(line_at(t, 1 + TS_M_TOP_TALENT_US_SHARE),
                     "base,2020,top_talent.us_share,1202,1.4142135623730951,"
                     "1201.05,1202,1202.95,2");
    cr_assert_str_eq(line_at(t, 1 + TS_NMETRICS), "base,2021,stock.us.student,12,1,11.049999999999999,12,12.95,3");
    cr_assert(t[strlen(t) - 1] == '\n');
    free(t);
    ts_results_free(r);
    ts_scenario_free(sc);
}

Test(output_csv, replications_layout_and_nan) {
    ts_scenario *sc = make_scenario("base");
    ts_results *r = make_results();
    char *t = render(ts_write_replications_csv, sc, r);
    cr_assert_str_eq(line_at(t, 0), "scenario,replication,year,metric,value");
    cr_assert_eq(count_lines(t), 1 + 3 * 2 * TS_NMETRICS);
    cr_assert_str_eq(line_at(t, 1), "base,1,2020,stock.us.student,1");
    cr_assert_str_eq(line_at(t, 2), "base,1,2020,stock.us.early,101");
    cr_assert_str_eq(line_at(t, 1 + TS_M_COHORT_STAY_RATE_5Y),
                     "base,1,2020,cohort.stay_rate_5y,");
    char last[128];
    snprintf(last, sizeof last, "base,1,2020,%s,%d", ts_metric_name(TS_NMETRICS - 1),
             1 + 100 * (TS_NMETRICS - 1));
    cr_assert_str_eq(line_at(t, TS_NMETRICS), last);
    cr_assert_str_eq(line_at(t, 1 + TS_NMETRICS), "base,1,2021,stock.us.student,11");
    cr_assert_str_eq(line_at(t, 1 + 2 * TS_NMETRICS), "base,2,2020,stock.us.student,2");
    cr_assert_str_eq(line_at(t, 1 + 2 * TS_NMETRICS + TS_M_TOP_TALENT_US_SHARE),
                     "base,2,2020,top_talent.us_share,");
    free(t);
    ts_results_free(r);
    ts_scenario_free(sc);
}

Test(output_csv, fields_with_comma_or_quote_are_quoted) {
    ts_scenario *sc = make_scenario("base, \"v2\"");
    ts_results *r = make_results();
    char *t = render(ts_write_replications_csv, sc, r);
    cr_assert_str_eq(line_at(t, 1), "\"base, \"\"v2\"\"\",1,2020,stock.us.student,1");
    free(t);
    ts_results_free(r);
    ts_scenario_free(sc);
}

Test(output_csv, targets_rows_in_scenario_order) {
    ts_scenario *sc = make_scenario("base");
    ts_results *r = make_results();
    char *t = render(ts_write_targets_csv, sc, r);
    cr_assert_str_eq(line_at(t, 0),
                     "metric,year,observed,n,sim_mean,sim_p2_5,sim_p97_5,met,source");
    cr_assert_eq(count_lines(t), 4);
    cr_assert_str_eq(line_at(t, 1),
                     "flows.cn_to_us,2021,1512,,1512,1511.05,1512.95,TRUE,"
                     "\"AASF, \"\"switches\"\"\"");
    cr_assert_str_eq(line_at(t, 2),
                     "flows.cn_to_us,2021,5000,,1512,1511.05,1512.95,FALSE,far off");
    cr_assert_str_eq(line_at(t, 3),
                     "survey.feel_unsafe,2030,0.72,1300,,,,,outside the run");
    free(t);
    ts_results_free(r);
    ts_scenario_free(sc);
}

Test(output_csv, full_device_is_reported) {
    ts_scenario *sc = make_scenario("base");
    ts_results *r = make_results();
    int (*const writers[])(FILE *, const ts_scenario *, const ts_results *) = {
        ts_write_summary_csv, ts_write_replications_csv, ts_write_targets_csv};
    for (size_t i = 0; i < 3; i++) {
        FILE *f = fopen("/dev/full", "w");
        cr_assert_not_null(f);
        cr_assert_eq(writers[i](f, sc, r), -1, "writer %zu", i);
        fclose(f);
    }
    FILE *f = fopen("/dev/full", "w");
    cr_assert_eq(ts_write_manifest_json(f, sc, r, NULL, "", ""), -1);
    fclose(f);
    ts_results_free(r);
    ts_scenario_free(sc);
}

/* ---- directories ---- */

static char *make_tmpdir(void) {
    char *d = strdup("/tmp/ts_output_XXXXXX");
    cr_assert_not_null(mkdtemp(d));
    return d;
}

static char *join(const char *dir, const char *name) {
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    cr_assert_not_null(p);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void touch(const char *dir, const char *name) {
    char *p = join(dir, name);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs("{}\n", f);
    fclose(f);
    free(p);
}

/* Entries of dir other than . and .., sorted names joined by spaces. */
static void list_dir(const char *dir, char *out, size_t n) {
    struct dirent **ents;
    int k = scandir(dir, &ents, NULL, alphasort);
    cr_assert_geq(k, 0);
    out[0] = '\0';
    for (int i = 0; i < k; i++) {
        const char *e = ents[i]->d_name;
        if (strcmp(e, ".") != 0 && strcmp(e, "..") != 0) {
            if (out[0])
                strncat(out, " ", n - strlen(out) - 1);
            strncat(out, e, n - strlen(out) - 1);
        }
        free(ents[i]);
    }
    free(ents);
}

/* Removes dir and everything below it (one level of subdirectories). */
static void remove_tree(char *dir) {
    struct dirent **ents;
    int k = scandir(dir, &ents, NULL, NULL);
    for (int i = 0; i < k; i++) {
        const char *e = ents[i]->d_name;
        if (strcmp(e, ".") != 0 && strcmp(e, "..") != 0) {
            char *p = join(dir, e);
            if (unlink(p) != 0)
                remove_tree(p);
            else
                free(p);
        }
        free(ents[i]);
    }
    if (k >= 0)
        free(ents);
    rmdir(dir);
    free(dir);
}

static char *slurp(const char *dir, const char *name);

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

Test(output_dir, creates_missing_parents_and_removes_them_unused) {
    char *d = make_tmpdir();
    char *sub = join(d, "a/b/c"), *a = join(d, "a");
    ts_error err;
    ts_error_clear(&err);
    ts_output_dir *od = ts_output_dir_open(sub, 0, &err);
    cr_assert_not_null(od, "%s", err.msg);
    cr_assert(is_dir(sub));
    ts_output_dir_close(od);
    cr_assert(!is_dir(a), "directories made for a run that wrote nothing are left");
    cr_assert(is_dir(d), "a directory the run did not make was removed");
    cr_assert_eq(mkdir(a, 0777), 0);
    od = ts_output_dir_open(sub, 0, &err);
    cr_assert_not_null(od, "%s", err.msg);
    ts_output_dir_close(od);
    cr_assert(!is_dir(sub) && is_dir(a), "only what the run made goes");
    free(sub);
    free(a);
    remove_tree(d);
}

Test(output_dir, trailing_slashes_and_an_existing_empty_directory) {
    char *d = make_tmpdir();
    char *sub = join(d, "x//y/");
    ts_error err;
    ts_error_clear(&err);
    ts_output_dir *od = ts_output_dir_open(sub, 0, &err);
    cr_assert_not_null(od, "%s", err.msg);
    ts_output_dir_close(od);
    char names[1024];
    list_dir(d, names, sizeof names);
    cr_assert_str_eq(names, "");
    od = ts_output_dir_open(d, 0, &err);
    cr_assert_not_null(od, "an empty directory is reusable: %s", err.msg);
    ts_output_dir_close(od);
    cr_assert(is_dir(d));
    free(sub);
    remove_tree(d);
}

Test(output_dir, earlier_run_needs_force) {
    char *d = make_tmpdir();
    touch(d, "manifest.json");
    ts_error err;
    ts_error_clear(&err);
    cr_assert_null(ts_output_dir_open(d, 0, &err));
    cr_assert_eq(err.status, TS_EINPUT);
    cr_assert(strstr(err.msg, "earlier run") && strstr(err.msg, "--force"), "%s", err.msg);
    cr_assert(strstr(err.msg, d), "%s", err.msg);
    ts_error_clear(&err);
    ts_output_dir *od = ts_output_dir_open(d, 1, &err);
    cr_assert_not_null(od, "%s", err.msg);
    ts_output_dir_close(od);
    char names[1024];
    list_dir(d, names, sizeof names);
    cr_assert_str_eq(names, "manifest.json");
    remove_tree(d);
}

Test(output_dir, unusable_paths_are_input_errors) {
    char *d = make_tmpdir();
    touch(d, "file");
    char *below_file = join(d, "file/sub");
    char *is_file = join(d, "file");
    const char *paths[] = {below_file, is_file, "/proc/x", ""};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        ts_error err;
        ts_error_clear(&err);
        cr_assert_null(ts_output_dir_open(paths[i], 0, &err), "path '%s'", paths[i]);
        cr_assert_eq(err.status, TS_EINPUT, "path '%s'", paths[i]);
        cr_assert_neq(err.msg[0], '\0');
    }
    cr_assert_null(ts_output_dir_open(NULL, 0, NULL));
    free(below_file);
    free(is_file);
    remove_tree(d);
}

Test(output_dir, read_only_directory_is_not_writable) {
    if (geteuid() == 0)
        cr_skip_test("root may write anywhere");
    char *d = make_tmpdir();
    chmod(d, 0555);
    ts_error err;
    ts_error_clear(&err);
    cr_assert_null(ts_output_dir_open(d, 0, &err));
    cr_assert_eq(err.status, TS_EINPUT);
    cr_assert(strstr(err.msg, "is not writable"), "%s", err.msg);
    chmod(d, 0755);
    remove_tree(d);
}

Test(output_dir, close_null_is_a_no_op) {
    ts_output_dir_close(NULL);
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_output_dir_write(NULL, NULL, NULL, NULL, &err), TS_EINPUT);
}

/* Holds d's lock in a child until told to die (without closing, as a killed
 * run would); returns the child's pid, *tell the pipe that ends it. */
static pid_t hold_lock_in_child(const char *d, int *tell) {
    int ready[2], go[2];
    cr_assert_eq(pipe(ready), 0);
    cr_assert_eq(pipe(go), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(ready[0]);
        close(go[1]);
        ts_error err;
        char c = ts_output_dir_open(d, 0, &err) ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) < 0)
            _exit(2);
        _exit(0);
    }
    close(ready[1]);
    close(go[0]);
    char c = 0;
    cr_assert_eq(read(ready[0], &c, 1), 1);
    cr_assert_eq(c, 'y', "the child could not lock %s", d);
    close(ready[0]);
    *tell = go[1];
    return pid;
}

Test(output_dir, busy_directory_names_the_holder) {
    char *d = make_tmpdir();
    int tell;
    pid_t holder = hold_lock_in_child(d, &tell);
    ts_error err;
    ts_error_clear(&err);
    cr_assert_null(ts_output_dir_open(d, 0, &err), "a second run took a held directory");
    char want[64];
    snprintf(want, sizeof want, "in use by another talentsim run (pid %ld)", (long)holder);
    cr_assert_eq(err.status, TS_EINPUT);
    cr_assert(strstr(err.msg, want) && strstr(err.msg, d), "%s", err.msg);
    close(tell); /* the holder dies without closing */
    cr_assert_eq(waitpid(holder, NULL, 0), holder);
    ts_output_dir *od = ts_output_dir_open(d, 0, &err);
    cr_assert_not_null(od, "the lock outlived its holder: %s", err.msg);
    char *lock = slurp(d, TS_OUTPUT_LOCK_NAME), mine[32];
    snprintf(mine, sizeof mine, "%ld\n", (long)getpid());
    cr_assert_str_eq(lock, mine);
    free(lock);
    ts_output_dir_close(od);
    char names[1024];
    list_dir(d, names, sizeof names);
    cr_assert_str_eq(names, "", "the lock file stays after close");
    remove_tree(d);
}

Test(output_dir, one_process_cannot_open_a_directory_twice) {
    char *d = make_tmpdir();
    ts_error err;
    ts_error_clear(&err);
    ts_output_dir *od = ts_output_dir_open(d, 0, &err);
    cr_assert_not_null(od, "%s", err.msg);
    cr_assert_null(ts_output_dir_open(d, 0, &err));
    cr_assert(strstr(err.msg, "in use"), "%s", err.msg);
    ts_output_dir_close(od);
    od = ts_output_dir_open(d, 0, &err);
    cr_assert_not_null(od, "%s", err.msg);
    ts_output_dir_close(od);
    remove_tree(d);
}

/* A pid that no process has now (a child that has exited and been reaped). */
static long dead_pid(void) {
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(0);
    cr_assert_eq(waitpid(pid, NULL, 0), pid);
    return (long)pid;
}

Test(output_dir, temporaries_of_dead_processes_are_removed) {
    char *d = make_tmpdir();
    long dead = dead_pid(), live = (long)getpid();
    char name[6][96];
    snprintf(name[0], sizeof name[0], ".summary.csv.%ld.0", dead);
    snprintf(name[1], sizeof name[1], ".scenario.resolved.yaml.%ld.12", dead);
    snprintf(name[2], sizeof name[2], ".manifest.json.%ld", dead);   /* no k */
    snprintf(name[3], sizeof name[3], ".notes.txt.%ld.0", dead);     /* not ours */
    snprintf(name[4], sizeof name[4], ".summary.csv.%ld.0", live);
    snprintf(name[5], sizeof name[5], ".targets.csv.x.0");
    for (int i = 0; i < 6; i++)
        touch(d, name[i]);
    ts_error err;
    ts_error_clear(&err);
    ts_output_dir *od = ts_output_dir_open(d, 0, &err);
    cr_assert_not_null(od, "%s", err.msg);
    ts_output_dir_close(od);
    for (int i = 0; i < 6; i++) {
        char *p = join(d, name[i]);
        cr_assert_eq(access(p, F_OK) == 0, i >= 2, "%s %s", name[i],
                     i >= 2 ? "was removed" : "was left");
        free(p);
    }
    remove_tree(d);
}

Test(output_dir, temporary_names) {
    long pid = 0;
    cr_assert(ts_output_temp_pid(".summary.csv.123.0", &pid));
    cr_assert_eq(pid, 123);
    cr_assert(ts_output_temp_pid(".scenario.resolved.yaml.7.99", &pid));
    cr_assert_eq(pid, 7);
    const char *no[] = {"summary.csv.1.0", ".summary.csv.1", ".summary.csv.1.",
                        ".summary.csv..0", ".summary.csv.-1.0", ".summary.csv.0.0",
                        ".summary.csv.1.0x", ".summary.csvx.1.0", ".foo.1.0",
                        TS_OUTPUT_LOCK_NAME, ".summary.csv.99999999999999999999.0"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        cr_assert(!ts_output_temp_pid(no[i], &pid), "%s", no[i]);
}

/* ---- write_all ---- */

static char *slurp(const char *dir, const char *name) {
    char *p = join(dir, name);
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f, "%s", p);
    free(p);
    char *buf = NULL;
    size_t cap = 0, len = 0, got;
    do {
        if (len + 4096 + 1 > cap) {
            cap = 2 * cap + 4096 + 1;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
        got = fread(buf + len, 1, 4096, f);
        len += got;
    } while (got > 0);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

/* Braces and brackets balance outside strings, strings are closed, and no
 * raw control character or NaN appears. */
static int json_shape_ok(const char *s) {
    int depth = 0, in_str = 0;
    for (; *s; s++) {
        if (in_str) {
            if ((unsigned char)*s < 0x20)
                return 0;
            if (*s == '\\')
                s++;
            else if (*s == '"')
                in_str = 0;
        } else if (*s == '"') {
            in_str = 1;
        } else if (*s == '{' || *s == '[') {
            depth++;
        } else if (*s == '}' || *s == ']') {
            if (--depth < 0)
                return 0;
        } else if (strncmp(s, "nan", 3) == 0 || strncmp(s, "NaN", 3) == 0) {
            return 0;
        }
    }
    return depth == 0 && !in_str;
}

static const ts_run_info test_info = {
    .program_version = "0.1.0",
    .git_commit = "abc123",
    .command_line = "talentsim run \"x y\" --set a\\b\n\x01",
    .input_path = NULL,
    .threads = 2,
    .wall_seconds = 1.25,
};

Test(output_write_all, writes_five_files_and_no_temporaries) {
    char *d = make_tmpdir();
    ts_scenario *sc = make_scenario("base");
    ts_results *r = make_results();
    touch(d, "input.yaml");
    char *input = join(d, "input.yaml");
    ts_run_info info = test_info;
    info.input_path = input;
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_output_write_all(d, sc, r, &info, &err), TS_OK, "%s", err.msg);
    char names[1024];
    list_dir(d, names, sizeof names);
    cr_assert_str_eq(names, "input.yaml manifest.json replications.csv "
                            "scenario.resolved.yaml summary.csv targets.csv");
    char *summary = slurp(d, "summary.csv");
    char *direct = render(ts_write_summary_csv, sc, r);
    cr_assert_str_eq(summary, direct);
    free(summary);
    free(direct);
    free(input);
    ts_results_free(r);
    ts_scenario_free(sc);
    remove_tree(d);
}

Test(output_write_all, manifest_records_digests_and_run) {
    char *d = make_tmpdir();
    ts_scenario *sc = make_scenario("base");
    ts_results *r = make_results();
    touch(d, "input.yaml");
    char *input = join(d, "input.yaml");
    ts_run_info info = test_info;
    info.input_path = input;
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_output_write_all(d, sc, r, &info, &err), TS_OK, "%s", err.msg);
    char *m = slurp(d, "manifest.json");
    cr_assert(json_shape_ok(m), "%s", m);
    static const char *const keys[] = {
        "program", "version", "git_commit", "compiler", "gsl_version",
        "libyaml_version", "rng", "host", "command_line", "input_file",
        "input_sha256", "resolved_sha256", "scenario", "seed", "replications",
        "years", "start", "end", "sample_fraction", "threads", "wall_seconds",
        "agent_years", "created_utc"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char k[64];
        snprintf(k, sizeof k, "\"%s\": ", keys[i]);
        cr_assert(strstr(m, k), "key %s missing in %s", keys[i], m);
    }
    char hex[65], want[128];
    char *resolved = join(d, "scenario.resolved.yaml");
    cr_assert_eq(ts_sha256_file_hex(resolved, hex, &err), TS_OK);
    snprintf(want, sizeof want, "\"resolved_sha256\": \"%s\"", hex);
    cr_assert(strstr(m, want), "%s", m);
    ts_sha256_hex("{}\n", 3, hex);
    snprintf(want, sizeof want, "\"input_sha256\": \"%s\"", hex);
    cr_assert(strstr(m, want), "%s", m);
    cr_assert(strstr(m, "\"command_line\": \"talentsim run \\\"x y\\\" --set a\\\\b\\n\\u0001\""), "%s", m);
    cr_assert(strstr(m, "\"program\": \"talentsim\""));
    cr_assert(strstr(m, "\"replications\": 3"));
    cr_assert(strstr(m, "\"agent_years\": 12345.5"));
    cr_assert(strstr(m, "\"wall_seconds\": 1.25"));
    free(resolved);
    free(m);
    free(input);
    ts_results_free(r);
    ts_scenario_free(sc);
    remove_tree(d);
}

/* Total size of the files of a complete run. */
static size_t run_bytes(const ts_scenario *sc, const ts_results *r) {
    char *d = make_tmpdir();
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_output_write_all(d, sc, r, &test_info, &err), TS_OK, "%s", err.msg);
    static const char *const names[] = {"summary.csv", "replications.csv",
                                        "targets.csv", "scenario.resolved.yaml",
                                        "manifest.json"};
    size_t total = 0;
    for (size_t i = 0; i < 5; i++) {
        char *p = join(d, names[i]);
        struct stat st;
        cr_assert_eq(stat(p, &st), 0);
        total += (size_t)st.st_size;
        free(p);
    }
    remove_tree(d);
    return total;
}

Test(output_write_all, full_disk_leaves_no_file) {
    ts_scenario *sc = make_scenario("base");
    ts_results *r = make_results();
    size_t total = run_bytes(sc, r);
    /* the manifest's length does not vary between runs of one test */
    const size_t limits[] = {0, 1, 100, total / 2, total - 1};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        char *d = make_tmpdir();
        ts_error err;
        ts_error_clear(&err);
        ts_status st = ts_output_write_all_limited(d, sc, r, &test_info, limits[i], &err);
        cr_assert_eq(st, TS_ERUNTIME, "limit %zu of %zu", limits[i], total);
        cr_assert(strstr(err.msg, "No space left"), "%s", err.msg);
        cr_assert(strstr(err.msg, "cannot write '"), "%s", err.msg);
        char names[1024];
        list_dir(d, names, sizeof names);
        cr_assert_str_eq(names, "", "limit %zu left: %s", limits[i], names);
        remove_tree(d);
    }
    char *d = make_tmpdir();
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_output_write_all_limited(d, sc, r, &test_info, total, &err), TS_OK,
                 "exactly %zu bytes fit: %s", total, err.msg);
    remove_tree(d);
    ts_results_free(r);
    ts_scenario_free(sc);
}

Test(output_write_all, failed_overwrite_keeps_earlier_run) {
    char *d = make_tmpdir();
    ts_scenario *sc = make_scenario("base");
    ts_results *r = make_results();
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_output_write_all(d, sc, r, &test_info, &err), TS_OK, "%s", err.msg);
    char *before = slurp(d, "manifest.json");
    ts_output_dir *od = ts_output_dir_open(d, 1, &err);
    cr_assert_not_null(od, "%s", err.msg);
    cr_assert_eq(ts_output_write_all_limited(d, sc, r, &test_info, 3000, &err),
                 TS_ERUNTIME);
    ts_run_info info = test_info;
    volatile sig_atomic_t stop = SIGTERM;
    info.stop = &stop;
    cr_assert_eq(ts_output_dir_write(od, sc, r, &info, &err), TS_ERUNTIME);
    cr_assert_str_eq(err.msg, "interrupted");
    ts_output_dir_close(od);
    char names[1024];
    list_dir(d, names, sizeof names);
    cr_assert_str_eq(names, "manifest.json replications.csv "
                            "scenario.resolved.yaml summary.csv targets.csv");
    char *after = slurp(d, "manifest.json");
    cr_assert_str_eq(before, after);
    free(before);
    free(after);
    ts_results_free(r);
    ts_scenario_free(sc);
    remove_tree(d);
}

Test(output_write_all, missing_directory_or_input_fails) {
    ts_scenario *sc = make_scenario("base");
    ts_results *r = make_results();
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_output_write_all("/nonexistent/ts_out", sc, r, &test_info, &err),
                 TS_ERUNTIME);
    cr_assert(strstr(err.msg, "cannot write '/nonexistent/ts_out/summary.csv'"),
              "%s", err.msg);
    char *d = make_tmpdir();
    ts_run_info info = test_info;
    info.input_path = "/nonexistent/input.yaml";
    ts_error_clear(&err);
    cr_assert_eq(ts_output_write_all(d, sc, r, &info, &err), TS_EINPUT);
    cr_assert(strstr(err.msg, "/nonexistent/input.yaml"), "%s", err.msg);
    char names[1024];
    list_dir(d, names, sizeof names);
    cr_assert_str_eq(names, "");
    remove_tree(d);
    ts_results_free(r);
    ts_scenario_free(sc);
}

/* What a run that made its directory leaves there, after writing all files
 * (1) or failing (0); "-" when the directory is gone. */
static void leaves(const char *what, int extra_file, ts_status (*write)(ts_output_dir *, const char *),
                   const char *want) {
    char *d = make_tmpdir(), *sub = join(d, "new/res");
    ts_error err;
    ts_error_clear(&err);
    ts_output_dir *od = ts_output_dir_open(sub, 0, &err);
    cr_assert_not_null(od, "%s", err.msg);
    if (extra_file)
        touch(sub, "notes.txt");
    write(od, sub);
    ts_output_dir_close(od);
    char names[1024] = "-";
    if (is_dir(sub))
        list_dir(sub, names, sizeof names);
    cr_assert_str_eq(names, want, "%s", what);
    free(sub);
    remove_tree(d);
}

static ts_status write_complete(ts_output_dir *od, const char *dir) {
    (void)dir;
    ts_scenario *sc = make_scenario("base");
    ts_results *r = make_results();
    ts_error err;
    ts_status st = ts_output_dir_write(od, sc, r, &test_info, &err);
    cr_assert_eq(st, TS_OK, "%s", err.msg);
    ts_results_free(r);
    ts_scenario_free(sc);
    return st;
}

static ts_status write_full_disk(ts_output_dir *od, const char *dir) {
    (void)od;
    ts_scenario *sc = make_scenario("base");
    ts_results *r = make_results();
    ts_error err;
    ts_status st = ts_output_write_all_limited(dir, sc, r, &test_info, 2000, &err);
    cr_assert_eq(st, TS_ERUNTIME);
    ts_results_free(r);
    ts_scenario_free(sc);
    return st;
}

static ts_status write_interrupted(ts_output_dir *od, const char *dir) {
    (void)dir;
    ts_scenario *sc = make_scenario("base");
    ts_results *r = make_results();
    ts_run_info info = test_info;
    volatile sig_atomic_t stop = SIGINT;
    info.stop = &stop;
    ts_error err;
    ts_status st = ts_output_dir_write(od, sc, r, &info, &err);
    cr_assert_eq(st, TS_ERUNTIME);
    cr_assert_str_eq(err.msg, "interrupted");
    ts_results_free(r);
    ts_scenario_free(sc);
    return st;
}

static ts_status write_nothing(ts_output_dir *od, const char *dir) {
    (void)od;
    (void)dir;
    return TS_OK;
}

Test(output_dir, a_failed_run_removes_the_directory_it_made_if_empty) {
    leaves("nothing written", 0, write_nothing, "-");
    leaves("full disk", 0, write_full_disk, "-");
    leaves("interrupted", 0, write_interrupted, "-");
    leaves("someone else's file", 1, write_full_disk, "notes.txt");
    leaves("complete", 0, write_complete, "manifest.json replications.csv "
                                          "scenario.resolved.yaml summary.csv targets.csv");
}
