/* libFuzzer harness of the scenario loader, ts_scenario_load.
 *
 * Each input is written to in.yaml in a private sandbox directory and
 * loaded. A finding (abort) is:
 * - a failed load whose error is not a one-line message with status
 *   TS_EINPUT or TS_ERUNTIME;
 * - a successful load whose resolved YAML (ts_write_resolved_yaml) does not
 *   load again, or loads to a scenario that dumps to other bytes: the
 *   promise "the resolved YAML reloads to the same bytes";
 * - anything ASan, UBSan or LeakSanitizer reports.
 *
 * The loader follows `extends:` paths. To keep that harmless and the
 * results independent of the machine, this program is linked with
 * -Wl,--wrap=fopen,--wrap=open: while a load runs, fopen and open open only
 * regular files and directories inside the sandbox, and refuse anything
 * else (`/dev/zero`, a FIFO, /proc, ../../etc/passwd) with EACCES. A probe
 * at start-up checks that a load cannot reach a file outside. The sandbox
 * holds copies of the shipped scenarios (TS_FUZZ_SCENARIOS, set by the
 * Makefile), so that `extends: baseline.yaml` loads the real baseline.
 *
 * libFuzzer calls back without a context argument, so the sandbox is the
 * one piece of file-scope state; the harness runs on one thread. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "talentsim/output.h"
#include "talentsim/scenario.h"

#ifndef TS_FUZZ_SCENARIOS
#define TS_FUZZ_SCENARIOS "scenarios"
#endif
#define SANDBOX_PREFIX "ts_fuzz."

static struct {
    char dir[PATH_MAX];  /* canonical path of the sandbox directory */
    char in[PATH_MAX];   /* the input: dir/in.yaml */
    char dump[PATH_MAX]; /* the first resolved dump: dir/dump.yaml */
    int active;          /* 1 while a load runs: fopen and open restricted */
} box;

FILE *__real_fopen(const char *path, const char *mode);
FILE *__wrap_fopen(const char *path, const char *mode);
int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* path inside the sandbox, and a regular file or a directory. Paths that
 * do not resolve fail as fopen would (realpath sets errno). */
static int allowed(const char *path) {
    char canon[PATH_MAX];
    struct stat st;
    if (!realpath(path, canon))
        return 0;
    size_t n = strlen(box.dir);
    if (strncmp(canon, box.dir, n) != 0 || (canon[n] != '/' && canon[n]) ||
        stat(canon, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
        errno = EACCES;
        return 0;
    }
    return 1;
}

FILE *__wrap_fopen(const char *path, const char *mode) {
    if (box.active && !allowed(path))
        return NULL;
    return __real_fopen(path, mode);
}

int __wrap_open(const char *path, int flags, ...) {
    unsigned mode = 0;
    if (flags & O_CREAT) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, unsigned);
        va_end(ap);
    }
    if (box.active && !allowed(path))
        return -1;
    return __real_open(path, flags, mode);
}

static void die(const char *what, const char *detail) {
    fprintf(stderr, "fuzz_scenario: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    abort();
}

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = __real_fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0)
        die("cannot write", path);
}

/* Removes dir and the plain files in it (the sandbox has no subdirectory);
 * a plain file (a probe left by a crash) is removed too. */
static void remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOTDIR)
            unlink(dir);
        return;
    }
    char path[PATH_MAX];
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path)
            unlink(path);
    closedir(d);
    rmdir(dir);
}

/* Sandboxes of processes that died without cleaning up (a finding ends the
 * process with _Exit, so atexit never runs). */
static void remove_stale(const char *base) {
    DIR *d = opendir(base);
    if (!d)
        return;
    char path[PATH_MAX];
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strncmp(e->d_name, SANDBOX_PREFIX, strlen(SANDBOX_PREFIX)) != 0)
            continue;
        long pid = strtol(e->d_name + strlen(SANDBOX_PREFIX), NULL, 10);
        if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH &&
            snprintf(path, sizeof path, "%s/%s", base, e->d_name) < (int)sizeof path)
            remove_dir(path);
    }
    closedir(d);
}

static void remove_sandbox(void) {
    remove_dir(box.dir);
}

static void copy_file(const char *from, const char *to) {
    FILE *in = __real_fopen(from, "rb"), *out = __real_fopen(to, "wb");
    char buf[8192];
    size_t n;
    if (!in || !out)
        die("cannot copy", from);
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            die("cannot write", to);
    fclose(in);
    if (fclose(out) != 0)
        die("cannot write", to);
}

/* Copies the shipped scenarios (*.yaml of TS_FUZZ_SCENARIOS) into the box. */
static void copy_scenarios(void) {
    DIR *d = opendir(TS_FUZZ_SCENARIOS);
    if (!d) {
        fprintf(stderr, "fuzz_scenario: no %s: extends: baseline.yaml will "
                        "not load\n", TS_FUZZ_SCENARIOS);
        return;
    }
    char from[PATH_MAX], to[PATH_MAX];
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        const char *name = e->d_name;
        size_t n = strlen(name);
        if (n < 6 || strcmp(name + n - 5, ".yaml") != 0)
            continue;
        int a = snprintf(from, sizeof from, "%s/%s", TS_FUZZ_SCENARIOS, name);
        int b = snprintf(to, sizeof to, "%s/%s", box.dir, name);
        if (a < (int)sizeof from && b < (int)sizeof to)
            copy_file(from, to);
    }
    closedir(d);
}

/* The sandbox: /dev/shm/ts_fuzz.PID (or under $TMPDIR, /tmp). */
static void make_sandbox(void) {
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                       : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char dir[PATH_MAX];
    remove_stale(base);
    snprintf(dir, sizeof dir, "%s/" SANDBOX_PREFIX "%ld", base, (long)getpid());
    remove_dir(dir); /* left by an earlier process with the same pid */
    if (mkdir(dir, 0700) != 0 || !realpath(dir, box.dir))
        die("cannot create the sandbox", dir);
    atexit(remove_sandbox);
    snprintf(box.in, sizeof box.in, "%s/in.yaml", box.dir);
    snprintf(box.dump, sizeof box.dump, "%s/dump.yaml", box.dir);
    copy_scenarios();
}

static ts_scenario *load(const char *path, ts_error *err) {
    box.active = 1;
    ts_scenario *sc = ts_scenario_load(path, err);
    box.active = 0;
    return sc;
}

/* Fails unless a load is kept in the box: a wrong link (no --wrap), or a
 * loader that opens files some other way, would let inputs read any file.
 * The probe extends a valid scenario just outside the box. */
static void check_sandbox(void) {
    char outside[PATH_MAX + 32], probe[PATH_MAX + 64];
    ts_error err;
    snprintf(outside, sizeof outside, "%s.probe.yaml", box.dir);
    write_file(outside, "seed: 1\n", 8);
    int n = snprintf(probe, sizeof probe, "extends: \"%s\"\n", outside);
    write_file(box.in, probe, (size_t)n);
    ts_scenario *sc = load(box.in, &err);
    unlink(outside);
    if (sc)
        die("a load opened a file outside the sandbox (link with "
            "-Wl,--wrap=fopen,--wrap=open; does the loader use another call?)",
            outside);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    make_sandbox();
    check_sandbox();
    return 0;
}

/* A failed load must say why, on one line. */
static void check_error(const ts_error *err) {
    char line[2048];
    ts_error_format(err, line, sizeof line);
    if (err->status != TS_EINPUT && err->status != TS_ERUNTIME)
        die("failed load with a bad status", line);
    if (!err->msg[0] || strpbrk(line, "\n\r"))
        die("error message empty or not one line", line);
}

/* The resolved YAML of sc in a malloc'd buffer. */
static char *dump(const ts_scenario *sc, size_t *n) {
    char *buf = NULL;
    FILE *m = open_memstream(&buf, n);
    if (!m)
        die("open_memstream failed", NULL);
    int bad = ts_write_resolved_yaml(m, sc);
    if (fclose(m) != 0 || bad)
        die("ts_write_resolved_yaml failed", NULL);
    return buf;
}

/* Prints the line starting at s, bytes outside printable ASCII as \xHH. */
static void print_line(const char *label, const char *s) {
    fprintf(stderr, "  %s ", label);
    for (; *s && *s != '\n'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c < 0x7f)
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02X", c);
    }
    fputc('\n', stderr);
}

/* Prints the first line where a and b differ, then aborts. */
static void differ(const char *a, const char *b) {
    size_t start = 0, line = 1;
    for (size_t i = 0; a[i] && a[i] == b[i]; i++)
        if (a[i] == '\n') {
            start = i + 1;
            line++;
        }
    fprintf(stderr, "fuzz_scenario: the resolved YAML reloads to other "
                    "bytes, line %zu:\n", line);
    print_line("first: ", a + start);
    print_line("second:", b + start);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ts_error err;
    write_file(box.in, data, size);
    ts_scenario *sc = load(box.in, &err);
    if (!sc) {
        check_error(&err);
        return 0;
    }
    size_t n1, n2;
    char *first = dump(sc, &n1);
    ts_scenario_free(sc);
    write_file(box.dump, first, n1);
    sc = load(box.dump, &err);
    if (!sc) {
        char line[2048];
        ts_error_format(&err, line, sizeof line);
        fprintf(stderr, "fuzz_scenario: resolved YAML:\n%s", first);
        die("the resolved YAML does not load", line);
    }
    char *second = dump(sc, &n2);
    ts_scenario_free(sc);
    if (n1 != n2 || memcmp(first, second, n1) != 0)
        differ(first, second);
    free(first);
    free(second);
    return 0;
}
