/* Single files written atomically (talentsim/output.h, ts_atomic_*), and
 * directory creation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output_internal.h"
#include "talentsim/output.h"

struct ts_atomic {
    FILE *f;
    char *tmp, *final, *dir;
};

char *ts_io_path(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static void atomic_free(ts_atomic *a) {
    free(a->tmp);
    free(a->final);
    free(a->dir);
    free(a);
}

ts_atomic *ts_atomic_open(const char *dir, const char *name, ts_error *err) {
    ts_atomic *a = calloc(1, sizeof *a);
    if (!a || !(a->final = ts_io_path(dir, name)) || !(a->dir = strdup(dir))) {
        ts_io_error(err, "write", name, ENOMEM);
        if (a)
            atomic_free(a);
        return NULL;
    }
    int fd = ts_io_open_temp(dir, name, &a->tmp);
    if (fd < 0 || !(a->f = fdopen(fd, "w"))) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(a->tmp);
        }
        ts_io_error(err, "write", a->final, e);
        atomic_free(a);
        return NULL;
    }
    return a;
}

FILE *ts_atomic_stream(ts_atomic *a) { return a->f; }

ts_status ts_atomic_commit(ts_atomic *a, ts_error *err) {
    int e = 0;
    if (fflush(a->f) != 0 || ferror(a->f))
        e = errno ? errno : EIO;
    if (!e && fsync(fileno(a->f)) != 0)
        e = errno;
    if (fclose(a->f) != 0 && !e)
        e = errno;
    a->f = NULL;
    if (!e && rename(a->tmp, a->final) != 0)
        e = errno;
    if (e) {
        unlink(a->tmp);
        ts_status st = ts_io_error(err, "write", a->final, e);
        atomic_free(a);
        return st;
    }
    ts_io_sync_dir(a->dir);
    atomic_free(a);
    return TS_OK;
}

void ts_atomic_abort(ts_atomic *a) {
    if (!a)
        return;
    if (a->f)
        fclose(a->f);
    unlink(a->tmp);
    atomic_free(a);
}

ts_status ts_make_dirs(const char *dir, ts_error *err) {
    char *p = strdup(dir);
    if (!p)
        return ts_io_error(err, "create", dir, ENOMEM);
    ts_status st = TS_OK;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        struct stat sb;
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            st = ts_io_error(err, "create directory", p, errno);
        else if (stat(p, &sb) != 0)
            st = ts_io_error(err, "create directory", p, errno);
        else if (!S_ISDIR(sb.st_mode))
            st = ts_error_set(err, TS_EINPUT, "", 0, 0, "", "'%s' is not a directory", p);
        *s = c;
        if (st != TS_OK || c == '\0')
            break;
    }
    free(p);
    return st;
}

int ts_io_slurp(const char *path, size_t max, char **buf, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char *b = NULL;
    size_t n = 0, cap = 0;
    int e = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            if (cap > max) {
                e = EFBIG;
                break;
            }
            cap = cap ? 2 * cap : 65536 + 1;
            char *nb = realloc(b, cap);
            if (!nb) {
                e = ENOMEM;
                break;
            }
            b = nb;
        }
        size_t got = fread(b + n, 1, 65536, f);
        n += got;
        if (got < 65536) {
            if (ferror(f))
                e = errno ? errno : EIO;
            break;
        }
    }
    fclose(f);
    if (e) {
        free(b);
        errno = e;
        return -1;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

int ts_atomic_stamp(const char *dir, const char *name, const char *text, size_t len,
                    ts_error *err) {
    char *path = ts_io_path(dir, name), *old = NULL;
    size_t oldlen = 0;
    if (!path) {
        ts_io_error(err, "read", name, ENOMEM);
        return -1;
    }
    int rc = ts_io_slurp(path, 2 * len + 65536, &old, &oldlen);
    int e = errno;
    free(path);
    if (rc == 0) {
        rc = oldlen == len && memcmp(old, text, len) == 0 ? 1 : 2;
        free(old);
        return rc;
    }
    if (e == EFBIG)
        return 2;
    if (e != ENOENT) {
        ts_io_error(err, "read", name, e);
        return -1;
    }
    ts_atomic *a = ts_atomic_open(dir, name, err);
    if (!a)
        return -1;
    fwrite(text, 1, len, ts_atomic_stream(a));
    return ts_atomic_commit(a, err) == TS_OK ? 0 : -1;
}
