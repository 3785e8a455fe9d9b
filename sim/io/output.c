/* The output directory and the all-or-nothing writing of a run's files.
 *
 * Each file is written to a temporary in the output directory
 * (".NAME.<pid>.<k>", created with O_EXCL and mode 0666 & ~umask), through a
 * stream whose every write is checked, then flushed, fsync'ed and closed.
 * Only when all five temporaries are complete are they renamed into place,
 * manifest.json last: a directory holding a manifest.json holds a complete
 * set of results. On any failure, and when the run's stop flag is set before
 * the renames begin, every temporary is removed. The directory itself, its
 * lock and the temporaries of dead processes are in output_dir.c.
 *
 * The streams come from fopencookie (glibc, musl) so that a byte budget can
 * stand in for a full disk in tests (ts_output_write_all_limited). */
#define _GNU_SOURCE /* fopencookie */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output_internal.h"

enum { NFILES = 5, TEMP_TRIES = 100 };

/* What the writers read. */
typedef struct {
    const ts_scenario *sc;
    const ts_results *res;
    const ts_run_info *info;
    char *resolved;          /* the resolved YAML, rendered once */
    size_t resolved_len;
    char input_sha[65], resolved_sha[65];
} out_ctx;

typedef int (*out_write_fn)(FILE *f, const out_ctx *c);

/* The files of a run and the temporaries they are written to. */
typedef struct {
    char *final_path[NFILES];
    char *tmp_path[NFILES]; /* non-NULL while the temporary exists */
} out_paths;

/* State of one budget-limited output stream. */
typedef struct {
    int fd;
    size_t *budget; /* bytes still allowed, shared by all files of the run */
    int err;        /* first errno seen, 0 if none */
} out_sink;

static int put_summary(FILE *f, const out_ctx *c) {
    return ts_write_summary_csv(f, c->sc, c->res);
}

static int put_replications(FILE *f, const out_ctx *c) {
    return ts_write_replications_csv(f, c->sc, c->res);
}

static int put_targets(FILE *f, const out_ctx *c) {
    return ts_write_targets_csv(f, c->sc, c->res);
}

static int put_resolved(FILE *f, const out_ctx *c) {
    int bad = fwrite(c->resolved, 1, c->resolved_len, f) != c->resolved_len;
    return fflush(f) == EOF || bad ? -1 : 0;
}

static int put_manifest(FILE *f, const out_ctx *c) {
    return ts_write_manifest_json(f, c->sc, c->res, c->info, c->input_sha,
                                  c->resolved_sha);
}

/* manifest.json must stay last (see the top of the file). */
static const struct {
    const char *name;
    out_write_fn write;
} out_files[NFILES] = {
    {"summary.csv", put_summary},
    {"replications.csv", put_replications},
    {"targets.csv", put_targets},
    {"scenario.resolved.yaml", put_resolved},
    {"manifest.json", put_manifest},
};

__attribute__((format(printf, 1, 2)))
static char *path_printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n < 0 ? NULL : malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* "/" between dir and a name, or "" when dir already ends with one. */
static const char *dir_sep(const char *dir) {
    size_t n = strlen(dir);
    return n > 0 && dir[n - 1] == '/' ? "" : "/";
}

ts_status ts_io_error(ts_error *err, const char *what, const char *path, int e) {
    return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "cannot %s '%s': %s",
                        what, path, strerror(e ? e : EIO));
}

/* ---- temporaries ---- */

/* "<pid>.<k>" with both decimal: the pid into *pid. */
static int parse_pid_k(const char *s, long *pid) {
    char *end;
    if (*s < '0' || *s > '9')
        return 0;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || v <= 0 || *end != '.' || end[1] < '0' || end[1] > '9')
        return 0;
    for (end++; *end >= '0' && *end <= '9'; end++)
        ;
    if (*end != '\0')
        return 0;
    *pid = v;
    return 1;
}

int ts_output_temp_pid(const char *name, long *pid) {
    if (name[0] != '.')
        return 0;
    for (size_t i = 0; i < NFILES; i++) {
        size_t n = strlen(out_files[i].name);
        if (strncmp(name + 1, out_files[i].name, n) == 0 && name[1 + n] == '.')
            return parse_pid_k(name + 2 + n, pid);
    }
    return 0;
}

static int stop_requested(const out_ctx *c) {
    return c->info && c->info->stop && *c->info->stop;
}

static ts_status interrupted(ts_error *err) {
    return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "interrupted");
}

/* ---- budget-limited streams ---- */

/* Cookie write: writes what the budget allows; a short count marks the
 * stream as failed (ENOSPC once the budget is spent). */
static ssize_t sink_write(void *cookie, const char *buf, size_t n) {
    out_sink *s = cookie;
    size_t allow = n < *s->budget ? n : *s->budget, done = 0;
    while (done < allow && !s->err) {
        ssize_t w = write(s->fd, buf + done, allow - done);
        if (w > 0)
            done += (size_t)w;
        else if (w == 0 || errno != EINTR)
            s->err = w == 0 ? EIO : errno;
    }
    *s->budget -= done;
    if (done < n && !s->err)
        s->err = ENOSPC;
    if (done < n)
        errno = s->err;
    return (ssize_t)done;
}

/* Runs fn on a stream over s->fd; 0 or the errno of the first failure. */
static int write_stream(out_sink *s, out_write_fn fn, const out_ctx *c) {
    cookie_io_functions_t io = {.write = sink_write};
    FILE *f = fopencookie(s, "w", io);
    if (!f)
        return errno ? errno : ENOMEM;
    errno = 0;
    int bad = fn(f, c) != 0, e = errno;
    if (fclose(f) == EOF && !bad) {
        bad = 1;
        e = errno;
    }
    if (!bad)
        return 0;
    return s->err ? s->err : e ? e : EIO;
}

int ts_io_open_temp(const char *dir, const char *name, char **path) {
    for (unsigned k = 0; k < TEMP_TRIES; k++) {
        char *t = path_printf("%s%s.%s.%ld.%u", dir, dir_sep(dir), name,
                              (long)getpid(), k);
        if (!t) {
            errno = ENOMEM;
            return -1;
        }
        int fd = open(t, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            *path = t;
            return fd;
        }
        int e = errno;
        free(t);
        if (e != EEXIST) {
            errno = e;
            return -1;
        }
    }
    errno = EEXIST;
    return -1;
}

/* Writes file i of the run to a new temporary: write, fsync, close. */
static ts_status write_temp(const char *dir, size_t i, const out_ctx *c,
                            out_paths *p, size_t *budget, ts_error *err) {
    int fd = ts_io_open_temp(dir, out_files[i].name, &p->tmp_path[i]);
    if (fd < 0)
        return ts_io_error(err, "write", p->final_path[i], errno);
    out_sink s = {.fd = fd, .budget = budget};
    int e = write_stream(&s, out_files[i].write, c);
    if (!e && fsync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && !e)
        e = errno;
    return e ? ts_io_error(err, "write", p->final_path[i], e) : TS_OK;
}

static ts_status write_temps(const char *dir, const out_ctx *c, out_paths *p,
                             size_t *budget, ts_error *err) {
    for (size_t i = 0; i < NFILES; i++) {
        p->final_path[i] = path_printf("%s%s%s", dir, dir_sep(dir), out_files[i].name);
        if (!p->final_path[i])
            return ts_io_error(err, "write", out_files[i].name, ENOMEM);
        ts_status st = write_temp(dir, i, c, p, budget, err);
        if (st != TS_OK)
            return st;
    }
    return TS_OK;
}

/* ---- commit and cleanup ---- */

void ts_io_sync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Renames the temporaries into place. The old manifest goes first and the
 * new one comes last; if a rename fails, the files already renamed are
 * removed again so that no partial set is left. */
static ts_status commit(const char *dir, out_paths *p, ts_error *err) {
    const char *manifest = p->final_path[NFILES - 1];
    if (unlink(manifest) != 0 && errno != ENOENT)
        return ts_io_error(err, "replace", manifest, errno);
    for (size_t i = 0; i < NFILES; i++) {
        if (rename(p->tmp_path[i], p->final_path[i]) != 0) {
            ts_status st = ts_io_error(err, "write", p->final_path[i], errno);
            for (size_t j = 0; j < i; j++)
                unlink(p->final_path[j]);
            return st;
        }
        free(p->tmp_path[i]);
        p->tmp_path[i] = NULL;
    }
    ts_io_sync_dir(dir);
    return TS_OK;
}

/* Removes the temporaries that are left and frees the paths. */
static void discard(out_paths *p) {
    for (size_t i = 0; i < NFILES; i++) {
        if (p->tmp_path[i])
            unlink(p->tmp_path[i]);
        free(p->tmp_path[i]);
        free(p->final_path[i]);
    }
}

/* Digest of the input file and the resolved YAML rendered into memory (its
 * digest goes into the manifest). */
static ts_status ctx_prepare(out_ctx *c, ts_error *err) {
    const char *input = c->info ? c->info->input_path : NULL;
    if (input) {
        ts_status st = ts_sha256_file_hex(input, c->input_sha, err);
        if (st != TS_OK)
            return st;
    }
    ts_status st = ts_resolved_yaml_text(c->sc, &c->resolved, &c->resolved_len, err);
    if (st != TS_OK)
        return st;
    ts_sha256_hex(c->resolved, c->resolved_len, c->resolved_sha);
    return TS_OK;
}

ts_status ts_output_write_all_limited(const char *dir, const ts_scenario *sc,
                                      const ts_results *res,
                                      const ts_run_info *info, size_t max_bytes,
                                      ts_error *err) {
    if (!dir || !sc || !res)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "writing results needs a directory, a scenario "
                            "and results");
    out_ctx c = {.sc = sc, .res = res, .info = info};
    out_paths p = {.final_path = {NULL}, .tmp_path = {NULL}};
    size_t budget = max_bytes;
    ts_status st = ctx_prepare(&c, err);
    if (st == TS_OK)
        st = write_temps(dir, &c, &p, &budget, err);
    if (st == TS_OK && stop_requested(&c))
        st = interrupted(err);
    if (st == TS_OK)
        st = commit(dir, &p, err);
    discard(&p);
    free(c.resolved);
    return st;
}

ts_status ts_output_write_all(const char *dir, const ts_scenario *sc,
                              const ts_results *res, const ts_run_info *info,
                              ts_error *err) {
    return ts_output_write_all_limited(dir, sc, res, info, SIZE_MAX, err);
}
