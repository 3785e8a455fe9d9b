/* What the subcommands share: error printing, option values, overrides,
 * loading a scenario with them, and the memory guard with the reading of
 * the machine's available memory (the OS-facing part of the estimate). */
#include <ctype.h>
#include <signal.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

/* The number of the SIGINT or SIGTERM that asked the run to stop, else 0.
 * The engine and the writers poll it at safe points (ts_run_opts.stop,
 * ts_run_info.stop). The program's one mutable file-scope variable: a signal
 * handler can reach nothing else. */
volatile sig_atomic_t ts_stop_signal;

static void on_stop_signal(int sig) { ts_stop_signal = sig; }

/* From here on, SIGINT and SIGTERM ask the run to stop at its next safe
 * point; a second one takes its default action at once (SA_RESETHAND).
 * Signals that were ignored when the program started stay ignored. */
void ts_cli_catch_stop_signals(void) {
    static const int sigs[] = {SIGINT, SIGTERM};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old, sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_stop_signal;
        sa.sa_flags = SA_RESETHAND | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(sigs[i], &sa, NULL);
    }
}

int ts_cli_report_error(const ts_error *err) {
    char buf[2048];
    ts_error_format(err, buf, sizeof buf);
    fprintf(stderr, "%s\n", buf);
    return err->status == TS_EINPUT ? EXIT_USAGE : EXIT_RUNTIME;
}

int ts_cli_usage_error(const char *prog, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: error: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry '%s --help'.\n", prog);
    va_end(ap);
    return EXIT_USAGE;
}

void ts_cli_join_args(int argc, char **argv, char *buf, size_t n) {
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < argc && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? " " : "", argv[i]);
}

ts_run_info ts_cli_run_info(const char *command, const char *input, int threads,
                            double seconds) {
    return (ts_run_info){.program_version = TS_VERSION, .git_commit = TS_GIT_COMMIT,
                         .command_line = command, .input_path = input, .threads = threads,
                         .wall_seconds = seconds, .stop = &ts_stop_signal};
}

int ts_cli_parse_threads(const char *s, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1 || v > TS_MAX_THREADS)
        return -1;
    *out = (int)v;
    return 0;
}

int ts_overrides_add(ts_overrides *o, const char *key, const char *value) {
    if (o->n >= TS_MAX_OVERRIDES)
        return -1;
    o->keys[o->n] = key;
    o->values[o->n] = value;
    o->n++;
    return 0;
}

/* Applies override i as the assignment "key=value", built whole. */
static ts_status apply_override(ts_scenario *sc, const ts_overrides *o, int i, ts_error *err) {
    if (!o->keys[i])
        return ts_scenario_set_assignment(sc, o->values[i], err);
    size_t nk = strlen(o->keys[i]), nv = strlen(o->values[i]);
    char *a = malloc(nk + nv + 2);
    if (!a)
        return ts_error_set(err, TS_ERUNTIME, "--set", 0, 0, o->keys[i], "out of memory");
    memcpy(a, o->keys[i], nk);
    a[nk] = '=';
    memcpy(a + nk + 1, o->values[i], nv + 1);
    ts_status st = ts_scenario_set_assignment(sc, a, err);
    free(a);
    return st;
}

ts_scenario *ts_cli_load(const char *path, const ts_overrides *o, ts_error *err) {
    ts_scenario *sc = ts_scenario_load(path, err);
    if (!sc)
        return NULL;
    for (int i = 0; i < o->n; i++)
        if (apply_override(sc, o, i, err) != TS_OK)
            goto fail;
    if (ts_scenario_validate(sc, err) == TS_OK)
        return sc;
fail:
    ts_scenario_free(sc);
    return NULL;
}

int ts_cli_parse_size(const char *s, double *bytes) {
    static const struct { const char *suffix; double scale; } units[] = {
        {"", 1.0}, {"b", 1.0}, {"k", 0x1p10}, {"kb", 0x1p10}, {"kib", 0x1p10},
        {"m", 0x1p20}, {"mb", 0x1p20}, {"mib", 0x1p20}, {"g", 0x1p30}, {"gb", 0x1p30},
        {"gib", 0x1p30}, {"t", 0x1p40}, {"tb", 0x1p40}, {"tib", 0x1p40}};
    if (!isdigit((unsigned char)s[0]) && s[0] != '.')
        return -1;
    char *end;
    double v = strtod(s, &end);
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcasecmp(end, units[i].suffix) == 0 && v > 0.0 && isfinite(v * units[i].scale)) {
            *bytes = v * units[i].scale;
            return 0;
        }
    return -1;
}

/* The first line of a small file, or -1. */
static int read_line(const char *path, char *buf, size_t n) {
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int ok = fgets(buf, (int)n, f) != NULL;
    fclose(f);
    return ok ? 0 : -1;
}

/* A number of bytes alone in a file; "max" (no limit) and v1's "no limit"
 * (about 2^63) count as infinite. */
static int read_bytes(const char *dir, const char *name, double *v) {
    char path[4200], line[64], *end;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (read_line(path, line, sizeof line) != 0)
        return -1;
    if (strncmp(line, "max", 3) == 0) {
        *v = INFINITY;
        return 0;
    }
    *v = strtod(line, &end);
    if (end == line)
        return -1;
    if (*v >= 0x1p62)
        *v = INFINITY;
    return 0;
}

/* The value of `key` in a "key value" file (meminfo-like); 0 when absent. */
static double read_field(const char *path, const char *key) {
    FILE *f = fopen(path, "r");
    char line[256];
    double v = 0.0;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0 && (line[n] == ' ' || line[n] == ':')) {
            v = strtod(line + n + 1, NULL);
            break;
        }
    if (f)
        fclose(f);
    return v;
}

/* Room left in the cgroup at dir (v2 or v1 files), or INFINITY: the limit
 * less the usage, page cache that can be dropped (inactive files) not counted
 * as used, as in the usual "working set" measure. */
static double cgroup_room(const char *dir) {
    static const char *const files[2][3] = {
        {"memory.max", "memory.current", "inactive_file"},
        {"memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"}};
    for (int v = 0; v < 2; v++) {
        double limit, used;
        if (read_bytes(dir, files[v][0], &limit) != 0)
            continue;
        if (isinf(limit) || read_bytes(dir, files[v][1], &used) != 0)
            return INFINITY;
        char stat[4200];
        snprintf(stat, sizeof stat, "%s/memory.stat", dir);
        double room = limit - used + read_field(stat, files[v][2]);
        return room > 0.0 ? room : 0.0;
    }
    return INFINITY;
}

/* The smallest room of dir and the cgroups above it, up to the mount point
 * (the first root_len characters of dir) included. */
static double cgroup_chain(char *dir, size_t root_len) {
    double room = INFINITY;
    for (;;) {
        room = fmin(room, cgroup_room(dir));
        char *slash = strrchr(dir, '/');
        if (!slash || (size_t)(slash - dir) < root_len)
            return room;
        *slash = '\0';
    }
}

/* The smallest room of the process's memory cgroups, from /proc/self/cgroup
 * ("0::/path" for v2, "N:...memory...:/path" for v1). */
static double cgroup_available(void) {
    FILE *f = fopen("/proc/self/cgroup", "r");
    char line[2048], dir[4096];
    double room = INFINITY;
    while (f && fgets(line, sizeof line, f)) {
        char *ctl = strchr(line, ':'), *path = ctl ? strchr(ctl + 1, ':') : NULL;
        if (!path || (ctl[1] != ':' && !strstr(ctl, "memory")))
            continue;
        const char *root = ctl[1] == ':' ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
        path[strcspn(path, "\n")] = '\0';
        snprintf(dir, sizeof dir, "%s%s", root, strcmp(path + 1, "/") ? path + 1 : "");
        room = fmin(room, cgroup_chain(dir, strlen(root)));
    }
    if (f)
        fclose(f);
    return room;
}

double ts_cli_available_memory(void) {
    double avail = read_field("/proc/meminfo", "MemAvailable") * 1024.0;
    if (avail <= 0.0) {
        long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        avail = pages > 0 && size > 0 ? (double)pages * (double)size : INFINITY;
    }
    avail = fmin(avail, cgroup_available());
    return isinf(avail) ? -1.0 : avail;
}

int ts_cli_memory_check(const ts_memory_estimate *e, const char *max_memory_text) {
    double limit = ts_cli_available_memory(), given;
    const char *source = "the memory available";
    if (max_memory_text) {
        if (ts_cli_parse_size(max_memory_text, &given) != 0)
            return ts_cli_usage_error("talentsim", "--max-memory must be a size such as 512M "
                                      "or 8G, got '%s'", max_memory_text);
        if (limit < 0.0 || given < limit) {
            limit = given;
            source = "--max-memory";
        }
    }
    ts_error err;
    ts_error_clear(&err);
    if (limit < 0.0 || ts_estimate_check(e, limit, &err) == TS_OK)
        return 0;
    ts_error_set(&err, err.status, err.file, 0, 0, err.key, "%s (limit: %s)", err.msg, source);
    return ts_cli_report_error(&err);
}

int ts_cli_memory_guard(const ts_scenario *sc, int threads, const char *max_memory_text) {
    ts_memory_estimate e;
    ts_error err;
    ts_error_clear(&err);
    if (ts_estimate_memory(sc, threads, &e, &err) != TS_OK)
        return ts_cli_report_error(&err);
    return ts_cli_memory_check(&e, max_memory_text);
}

int ts_cli_opt_threads(const char *prog, const char *arg, int *threads) {
    if (ts_cli_parse_threads(arg, threads) == 0)
        return -1;
    return ts_cli_usage_error(prog, "--threads must be an integer in [1, %d], got '%s'",
                              TS_MAX_THREADS, arg);
}

int ts_cli_opt_max_memory(const char *prog, const char *arg, const char **max_memory) {
    double bytes;
    if (ts_cli_parse_size(arg, &bytes) != 0)
        return ts_cli_usage_error(prog, "--max-memory must be a size such as 512M or 8G, "
                                  "got '%s'", arg);
    *max_memory = arg;
    return -1;
}

int ts_cli_opt_override(const char *prog, ts_overrides *o, const char *key, const char *arg) {
    if (ts_overrides_add(o, key, arg) == 0)
        return -1;
    return ts_cli_usage_error(prog, "too many --set, --reps and --seed options (at most %d)",
                              TS_MAX_OVERRIDES);
}
