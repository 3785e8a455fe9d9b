/* The hostile-input table, tests/data/hostile/ (format in its README.md).
 *
 * Every case NAME (NAME.yaml, NAME.expect and any extra files NAME.*) is
 * copied into a fresh directory DIR and run through the talentsim program
 * (TALENTSIM_BIN) as `talentsim DIR/NAME.yaml -q -o DIR/out ARGS`, from
 * DIR, under a time limit. A case passes when
 * - the exit code is the expected one (a hang or a signal fails);
 * - stderr is exactly one line and starts with the expected message, where
 *   {file} stands for DIR/NAME.yaml;
 * - nothing was written: DIR/out does not exist and DIR holds the same
 *   entries as before the run (hidden temporaries included).
 * One test runs every case and names each failing one, with all its
 * problems, instead of stopping at the first. */
#define _GNU_SOURCE /* nftw's FTW_PHYS and FTW_DEPTH */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOSTILE_DIR "tests/data/hostile"
#define CASE_TIMEOUT 20.0 /* seconds; a hang fails the case, not the suite */
#define MAX_ARGS 32       /* words of `args:` */
#define MAX_CASES 512

typedef struct {
    char name[128];
    int exit_code;      /* `exit:`, -1 until read */
    char message[1024]; /* `message:` prefix, {file} not yet expanded */
    char args[1024];    /* `args:`, words separated by spaces */
    char fifo[256];     /* `setup: fifo FILENAME`, or "" */
} hostile_case;

/* The problems found in one case, "; "-separated. */
typedef struct {
    char text[4096];
} problems;

static void problem(problems *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(problems *p, const char *fmt, ...) {
    size_t used = strlen(p->text);
    if (used && used + 2 < sizeof p->text) {
        memcpy(p->text + used, "; ", 3);
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->text + used, sizeof p->text - used, fmt, ap);
    va_end(ap);
}

/* s with bytes outside printable ASCII as \xHH, at most n - 1 chars. */
static void escape(const char *s, size_t len, char *out, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < len && k + 5 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f)
            out[k++] = (char)c;
        else
            k += (size_t)snprintf(out + k, n - k, "\\x%02X", c);
    }
    out[k] = '\0';
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *s = NULL;
    size_t cap = 0, n = 0, got;
    if (!f)
        return NULL;
    do {
        if (n + 4096 + 1 > cap) {
            cap = 2 * cap + 4096 + 1;
            s = realloc(s, cap);
            cr_assert_not_null(s);
        }
        got = fread(s + n, 1, cap - n - 1, f);
        n += got;
    } while (got > 0);
    fclose(f);
    s[n] = '\0';
    *len = n;
    return s;
}

/* ---- the expect file ---------------------------------------------------- */

static void trim_end(char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' ||
                 s[n - 1] == '\t'))
        s[--n] = '\0';
}

/* One `key: value` line into c; 0 when understood. */
static int expect_line(hostile_case *c, char *line, problems *p) {
    char *colon = strchr(line, ':');
    if (!colon) {
        problem(p, "%s.expect: line '%.60s' is not 'key: value'", c->name,
                line);
        return -1;
    }
    *colon = '\0';
    const char *v = colon + 1 + strspn(colon + 1, " \t");
    char word[16], fifo[256];
    if (strcmp(line, "exit") == 0 && sscanf(v, "%d", &c->exit_code) == 1)
        return 0;
    if (strcmp(line, "message") == 0 && *v) {
        snprintf(c->message, sizeof c->message, "%s", v);
        return 0;
    }
    if (strcmp(line, "args") == 0) {
        snprintf(c->args, sizeof c->args, "%s", v);
        return 0;
    }
    if (strcmp(line, "setup") == 0 &&
        sscanf(v, "%15s %255s", word, fifo) == 2 && strcmp(word, "fifo") == 0 &&
        !strchr(fifo, '/') && strcmp(fifo, ".") != 0 && strcmp(fifo, "..") != 0) {
        snprintf(c->fifo, sizeof c->fifo, "%s", fifo);
        return 0;
    }
    problem(p, "%s.expect: bad line '%.40s: %.60s'", c->name, line, v);
    return -1;
}

static int read_expect(hostile_case *c, problems *p) {
    char path[PATH_MAX], line[2048];
    snprintf(path, sizeof path, "%s/%s.expect", HOSTILE_DIR, c->name);
    FILE *f = fopen(path, "r");
    if (!f) {
        problem(p, "cannot read %s", path);
        return -1;
    }
    int bad = 0;
    while (fgets(line, sizeof line, f)) {
        trim_end(line);
        if (line[0] && line[0] != '#')
            bad |= expect_line(c, line, p);
    }
    fclose(f);
    if (c->exit_code < 0 || !c->message[0])
        problem(p, "%s.expect needs 'exit:' and 'message:' lines", c->name);
    return bad || c->exit_code < 0 || !c->message[0] ? -1 : 0;
}

/* ---- the case directory ------------------------------------------------- */

static int copy_file(const char *from, const char *to) {
    size_t n;
    char *s = slurp(from, &n);
    FILE *f = s ? fopen(to, "wb") : NULL;
    int ok = f && fwrite(s, 1, n, f) == n;
    if (f)
        ok &= fclose(f) == 0;
    free(s);
    return ok ? 0 : -1;
}

/* A file of case `name`: NAME.yaml or an extra NAME.*, not NAME.expect. */
static int case_file(const char *name, const char *file) {
    size_t n = strlen(name);
    return strncmp(file, name, n) == 0 && file[n] == '.' &&
           strcmp(file + n, ".expect") != 0;
}

static int copy_case(const char *name, const char *dir, problems *p) {
    DIR *d = opendir(HOSTILE_DIR);
    char from[PATH_MAX], to[PATH_MAX];
    int bad = !d;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        if (!case_file(name, e->d_name))
            continue;
        snprintf(from, sizeof from, "%s/%s", HOSTILE_DIR, e->d_name);
        snprintf(to, sizeof to, "%s/%s", dir, e->d_name);
        if (copy_file(from, to) != 0) {
            problem(p, "cannot copy %s", from);
            bad = 1;
        }
    }
    if (d)
        closedir(d);
    return bad ? -1 : 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of dir (without . and ..), sorted, NULL-terminated. */
static char **list_dir(const char *dir) {
    char **v = calloc(1, sizeof *v);
    size_t n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        v = realloc(v, (n + 2) * sizeof *v);
        cr_assert_not_null(v);
        v[n++] = strdup(e->d_name);
        v[n] = NULL;
    }
    if (d)
        closedir(d);
    qsort(v, n, sizeof *v, by_name);
    return v;
}

static void free_list(char **v) {
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static int unlink_entry(const char *path, const struct stat *sb, int flag,
                        struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tree(const char *dir) {
    nftw(dir, unlink_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- running ------------------------------------------------------------ */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Child: in dir, stdin /dev/null, stdout and stderr to files; never returns. */
static void exec_case(const char *dir, const char *out, const char *err,
                      char **argv) {
    int in = open("/dev/null", O_RDONLY);
    int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    setpgid(0, 0);
    if (in < 0 || o < 0 || e < 0 || chdir(dir) != 0 || dup2(in, 0) < 0 ||
        dup2(o, 1) < 0 || dup2(e, 2) < 0)
        _exit(126);
    execv(argv[0], argv);
    _exit(127);
}

/* Waits for pid at most CASE_TIMEOUT seconds, then kills its group.
 * Returns the wait status, or -1 on a timeout. */
static int wait_limited(pid_t pid) {
    int st;
    double end = now() + CASE_TIMEOUT;
    struct timespec tick = {0, 10 * 1000 * 1000};
    while (waitpid(pid, &st, WNOHANG) == 0) {
        if (now() > end) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        nanosleep(&tick, NULL);
    }
    return st;
}

/* Runs the case; returns the wait status (-1: timed out, -2: no fork). */
static int run_case(const hostile_case *c, const char *bin, const char *outer,
                    const char *dir) {
    char yaml[PATH_MAX], outdir[PATH_MAX], out[PATH_MAX], err[PATH_MAX];
    char args[sizeof c->args], *argv[MAX_ARGS + 6], *save = NULL;
    int argc = 0;
    snprintf(yaml, sizeof yaml, "%s/%s.yaml", dir, c->name);
    snprintf(outdir, sizeof outdir, "%s/out", dir);
    snprintf(out, sizeof out, "%s/stdout", outer);
    snprintf(err, sizeof err, "%s/stderr", outer);
    snprintf(args, sizeof args, "%s", c->args);
    argv[argc++] = (char *)bin;
    argv[argc++] = yaml;
    argv[argc++] = "-q";
    argv[argc++] = "-o";
    argv[argc++] = outdir;
    for (char *w = strtok_r(args, " ", &save); w && argc < MAX_ARGS + 5;
         w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    argv[argc] = NULL;
    pid_t pid = fork();
    if (pid == 0)
        exec_case(dir, out, err, argv);
    return pid < 0 ? -2 : wait_limited(pid);
}

/* ---- checking ----------------------------------------------------------- */

static void check_exit(const hostile_case *c, int st, problems *p) {
    if (st == -1)
        problem(p, "no exit within %.0f s (killed)", CASE_TIMEOUT);
    else if (st == -2)
        problem(p, "cannot fork");
    else if (WIFSIGNALED(st))
        problem(p, "killed by signal %d", WTERMSIG(st));
    else if (WEXITSTATUS(st) != c->exit_code)
        problem(p, "exit %d, expected %d", WEXITSTATUS(st), c->exit_code);
}

/* prefix with every {file} replaced by file. */
static void expand(const char *prefix, const char *file, char *out, size_t n) {
    size_t k = 0;
    for (const char *s = prefix; *s && k + 1 < n;) {
        if (strncmp(s, "{file}", 6) == 0) {
            k += (size_t)snprintf(out + k, n - k, "%s", file);
            s += 6;
        } else {
            out[k++] = *s++;
        }
        k = k < n ? k : n - 1;
    }
    out[k] = '\0';
}

static void check_stderr(const hostile_case *c, const char *outer,
                         const char *dir, problems *p) {
    char path[PATH_MAX], file[PATH_MAX], want[2048], shown[700];
    size_t len = 0, lines = 0;
    snprintf(path, sizeof path, "%s/stderr", outer);
    char *text = slurp(path, &len);
    if (!text) {
        problem(p, "no stderr captured");
        return;
    }
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    snprintf(file, sizeof file, "%s/%s.yaml", dir, c->name);
    expand(c->message, file, want, sizeof want);
    size_t show = len && text[len - 1] == '\n' ? len - 1 : len;
    escape(text, show < 160 ? show : 160, shown, sizeof shown);
    if (lines != 1 || text[len - 1] != '\n')
        problem(p, "stderr is not one line: '%s'", shown);
    if (strncmp(text, want, strlen(want)) != 0)
        problem(p, "stderr '%s' does not start with '%s'", shown, want);
    free(text);
}

/* Entries of after that are not in before, comma-separated into out. */
static void new_entries(char **before, char **after, char *out, size_t n) {
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; after[i] && k + 1 < n; i++) {
        int seen = 0;
        for (size_t j = 0; before[j] && !seen; j++)
            seen = strcmp(before[j], after[i]) == 0;
        if (!seen)
            k += (size_t)snprintf(out + k, n - k, "%s%s", k ? ", " : "", after[i]);
        k = k < n ? k : n - 1;
    }
}

static void check_nothing_written(const char *dir, char **before,
                                  problems *p) {
    char outdir[PATH_MAX], added[512];
    struct stat sb;
    snprintf(outdir, sizeof outdir, "%s/out", dir);
    if (lstat(outdir, &sb) == 0)
        problem(p, "the output directory %s exists", outdir);
    char **after = list_dir(dir);
    new_entries(before, after, added, sizeof added);
    if (added[0])
        problem(p, "new entries in the case directory: %s", added);
    size_t nb = 0, na = 0;
    while (before[nb])
        nb++;
    while (after[na])
        na++;
    if (!added[0] && na != nb)
        problem(p, "a file of the case directory was removed");
    free_list(after);
}

/* ---- one case ----------------------------------------------------------- */

static void make_fifo(const hostile_case *c, const char *dir, problems *p) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, c->fifo);
    if (c->fifo[0] && mkfifo(path, 0600) != 0)
        problem(p, "setup: cannot create the FIFO %s: %s", path,
                strerror(errno));
}

/* Runs case `name`; p receives its problems (empty when it passes). */
static void run_one(const char *name, const char *bin, problems *p) {
    hostile_case c = {.exit_code = -1};
    char outer[] = "/tmp/ts_hostile_XXXXXX", dir[sizeof outer + 8];
    snprintf(c.name, sizeof c.name, "%s", name);
    if (read_expect(&c, p) != 0)
        return;
    cr_assert_not_null(mkdtemp(outer));
    snprintf(dir, sizeof dir, "%s/case", outer);
    cr_assert_eq(mkdir(dir, 0700), 0);
    if (copy_case(name, dir, p) == 0) {
        make_fifo(&c, dir, p);
        char **before = list_dir(dir);
        int st = run_case(&c, bin, outer, dir);
        check_exit(&c, st, p);
        if (st >= 0)
            check_stderr(&c, outer, dir, p);
        check_nothing_written(dir, before, p);
        free_list(before);
    }
    remove_tree(outer);
}

/* ---- the table ---------------------------------------------------------- */

static int exists_in_table(const char *name, const char *suffix) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s%s", HOSTILE_DIR, name, suffix);
    return access(path, F_OK) == 0;
}

/* The case a file of the table names: NAME for NAME.expect, and for a
 * NAME.yaml without NAME.expect (so that it fails); NULL for anything else,
 * such as the extra files NAME.*.yaml and README.md. */
static char *case_of(const char *file) {
    const char *dot = strchr(file, '.');
    if (!dot || dot == file || strchr(dot + 1, '.'))
        return NULL;
    char *name = strndup(file, (size_t)(dot - file));
    if (strcmp(dot, ".expect") == 0 ||
        (strcmp(dot, ".yaml") == 0 && !exists_in_table(name, ".expect")))
        return name;
    free(name);
    return NULL;
}

/* The case names, sorted. */
static size_t case_names(char **names, size_t max) {
    DIR *d = opendir(HOSTILE_DIR);
    size_t n = 0;
    cr_assert_not_null(d, "cannot open %s (run from the repository root)",
                       HOSTILE_DIR);
    for (struct dirent *e; (e = readdir(d)) != NULL && n < max;)
        if ((names[n] = case_of(e->d_name)) != NULL)
            n++;
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    return n;
}

static const char *program(char *buf) {
    const char *b = getenv("TALENTSIM_BIN");
    if (!b)
        b = "./talentsim";
    cr_assert_not_null(realpath(b, buf), "no talentsim program at %s", b);
    return buf;
}

Test(hostile, every_case_is_refused_cleanly) {
    char binbuf[PATH_MAX], failed[4096] = "";
    const char *bin = program(binbuf);
    char *names[MAX_CASES];
    size_t n = case_names(names, MAX_CASES), nfailed = 0;
    cr_assert_gt(n, 0, "no case in %s", HOSTILE_DIR);
    for (size_t i = 0; i < n; i++) {
        problems p = {""};
        if (!exists_in_table(names[i], ".yaml"))
            problem(&p, "%s.yaml is missing", names[i]);
        else if (!exists_in_table(names[i], ".expect"))
            problem(&p, "%s.expect is missing", names[i]);
        else
            run_one(names[i], bin, &p);
        if (p.text[0]) {
            cr_expect_fail("hostile case %s: %s", names[i], p.text);
            size_t used = strlen(failed);
            snprintf(failed + used, sizeof failed - used, "%s%s",
                     nfailed++ ? ", " : "", names[i]);
        }
        free(names[i]);
    }
    cr_expect_eq(nfailed, 0, "%zu of %zu hostile cases failed: %s", nfailed,
                 n, failed);
}
