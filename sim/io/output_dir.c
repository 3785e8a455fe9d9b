/* The output directory of a run: creation, the lock, the temporaries of dead
 * processes, and the clean-up after a run that wrote nothing.
 *
 * Lock protocol. The lock file TS_OUTPUT_LOCK_NAME is opened (created when
 * missing) and flock'ed with LOCK_NB, so a second run fails at once. A holder
 * unlinks the file before it unlocks it; so a run that locked a file must
 * check that the path still names that file, or start again. After taking
 * the lock the holder writes its pid into the file, for the message of the
 * runs it turns away. flock belongs to the open file, so the kernel releases
 * it when the holder dies, by kill -9 too; the lock file of a dead holder is
 * simply taken over.
 *
 * Only a lock holder removes entries from the directory. The one exception
 * is rmdir of directories this run created, which fails harmlessly on a
 * directory that is not empty (a holder's lock file is always there); a run
 * that finds its directory gone while locking (ENOENT) creates it again. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "output_internal.h"

enum {
    LOCK_TRIES = 100, /* rounds of open-lock-check before giving up */
    PID_TRIES = 40,   /* reads of a busy lock file, PID_WAIT_NS apart */
    PID_WAIT_NS = 5000000,
};

struct ts_output_dir {
    char *path;         /* as given */
    char *lock_path;    /* path + "/" + TS_OUTPUT_LOCK_NAME */
    int lock_fd;        /* holds the flock; -1 when not locked */
    size_t created_len; /* length of the shortest prefix of path that this
                           run created (mkdir -p); 0 when it created none */
    int complete;       /* a complete result set was written */
};

static ts_status dir_error(ts_error *err, ts_status st, const char *what,
                           const char *dir, int e) {
    return ts_error_set(err, st, "", 0, 0, "", "%s '%s': %s", what, dir,
                        strerror(e ? e : EIO));
}

/* ---- creation and removal ---- */

/* mkdir -p of od->path; records the first prefix it created. -1 with errno
 * on failure. */
static int make_dirs(ts_output_dir *od) {
    char *p = od->path;
    size_t n = strlen(p);
    for (size_t i = 1; i <= n; i++) {
        if ((i < n && p[i] != '/') || p[i - 1] == '/')
            continue;
        char c = p[i];
        p[i] = '\0';
        int made = mkdir(p, 0777) == 0, e = errno;
        p[i] = c;
        if (made && od->created_len == 0)
            od->created_len = i;
        if (!made && e != EEXIST) {
            errno = e;
            return -1;
        }
    }
    return 0;
}

/* rmdir of the directories make_dirs created, deepest first, while they are
 * empty. */
static void remove_created(const ts_output_dir *od) {
    if (od->created_len == 0)
        return;
    char *p = strdup(od->path);
    size_t n = p ? strlen(p) : 0;
    while (p && n >= od->created_len) {
        p[n] = '\0';
        if (rmdir(p) != 0)
            break;
        while (n > 0 && p[n - 1] == '/')
            n--;
        while (n > 0 && p[n - 1] != '/')
            n--;
        while (n > 0 && p[n - 1] == '/')
            n--;
    }
    free(p);
}

static ts_status check_usable(ts_output_dir *od, ts_error *err) {
    struct stat st;
    if (make_dirs(od) != 0)
        return dir_error(err, TS_EINPUT, "cannot create output directory", od->path, errno);
    if (stat(od->path, &st) != 0)
        return dir_error(err, TS_EINPUT, "cannot use output directory", od->path, errno);
    if (!S_ISDIR(st.st_mode))
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "output path '%s' exists and is not a directory", od->path);
    if (access(od->path, W_OK | X_OK) != 0)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "output directory '%s' is not writable: %s", od->path,
                            strerror(errno));
    return TS_OK;
}

/* ---- the lock ---- */

/* A process with this pid exists (kill(pid, 0) does not say ESRCH). */
static int pid_alive(long pid) {
    if (pid <= 0 || pid > INT_MAX)
        return 0;
    return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

/* The pid written in a busy lock file, 0 when unknown. The holder writes it
 * just after taking the lock, so an empty file or the pid of a dead earlier
 * holder is read again a few times. */
static long lock_holder(int fd) {
    struct timespec wait = {0, PID_WAIT_NS};
    for (int k = 0; k < PID_TRIES; k++) {
        char buf[32], *end;
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        long pid = strtol(buf, &end, 10);
        if (n > 0 && *end == '\n' && pid_alive(pid))
            return pid;
        nanosleep(&wait, NULL);
    }
    return 0;
}

static ts_status busy_error(const ts_output_dir *od, int fd, ts_error *err) {
    long pid = lock_holder(fd);
    if (pid == 0)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "", "output directory '%s' is in "
                            "use by another talentsim run (pid unknown)", od->path);
    return ts_error_set(err, TS_EINPUT, "", 0, 0, "", "output directory '%s' is in use "
                        "by another talentsim run (pid %ld)", od->path, pid);
}

/* fd is still the file at path (a holder unlinks it before unlocking). */
static int still_named(int fd, const char *path) {
    struct stat a, b;
    return fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

/* Best effort: the pid only serves the message of a run turned away. */
static void write_pid(int fd) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    int ok = ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) == n;
    (void)ok;
}

static ts_status lock_dir(ts_output_dir *od, ts_error *err) {
    for (int k = 0; k < LOCK_TRIES; k++) {
        int fd = open(od->lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0 && errno == ENOENT && make_dirs(od) == 0)
            continue; /* a failed run removed the directory meanwhile */
        if (fd < 0)
            return dir_error(err, TS_EINPUT, "cannot lock output directory", od->path, errno);
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            ts_status st = e == EWOULDBLOCK ? busy_error(od, fd, err)
                : dir_error(err, TS_ERUNTIME, "cannot lock output directory", od->path, e);
            close(fd);
            return st;
        }
        if (still_named(fd, od->lock_path)) {
            od->lock_fd = fd;
            write_pid(fd);
            return TS_OK;
        }
        close(fd);
    }
    return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "",
                        "cannot lock output directory '%s': its lock file keeps changing",
                        od->path);
}

/* ---- what the directory holds ---- */

/* Removes the temporaries of processes that no longer exist (killed before
 * they could clean up). Needs the lock: no live run writes here then. */
static void remove_stale_temps(const ts_output_dir *od) {
    DIR *d = opendir(od->path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long pid;
        if (ts_output_temp_pid(e->d_name, &pid) && !pid_alive(pid))
            (void)unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

static ts_status check_earlier_run(const ts_output_dir *od, int force, ts_error *err) {
    size_t n = strlen(od->path);
    char *manifest = malloc(n + sizeof "/manifest.json");
    if (!manifest)
        return dir_error(err, TS_ERUNTIME, "cannot use output directory", od->path, ENOMEM);
    snprintf(manifest, n + sizeof "/manifest.json", "%s/manifest.json", od->path);
    struct stat st;
    int exists = lstat(manifest, &st) == 0;
    free(manifest);
    if (exists && !force)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "'%s' holds results of an earlier run; use --force "
                            "to overwrite", od->path);
    return TS_OK;
}

/* ---- the object ---- */

static ts_output_dir *od_alloc(const char *dir) {
    ts_output_dir *od = calloc(1, sizeof *od);
    size_t n = strlen(dir);
    if (!od)
        return NULL;
    od->lock_fd = -1;
    od->path = strdup(dir);
    od->lock_path = malloc(n + sizeof "/" TS_OUTPUT_LOCK_NAME);
    if (!od->path || !od->lock_path) {
        ts_output_dir_close(od);
        return NULL;
    }
    snprintf(od->lock_path, n + sizeof "/" TS_OUTPUT_LOCK_NAME, "%s/%s", dir,
             TS_OUTPUT_LOCK_NAME);
    return od;
}

ts_output_dir *ts_output_dir_open(const char *dir, int force, ts_error *err) {
    if (!dir || !*dir) {
        ts_error_set(err, TS_EINPUT, "", 0, 0, "", "the output directory name is empty");
        return NULL;
    }
    ts_output_dir *od = od_alloc(dir);
    if (!od) {
        dir_error(err, TS_ERUNTIME, "cannot use output directory", dir, ENOMEM);
        return NULL;
    }
    ts_status st = check_usable(od, err);
    if (st == TS_OK)
        st = lock_dir(od, err);
    if (st == TS_OK) {
        remove_stale_temps(od);
        st = check_earlier_run(od, force, err);
    }
    if (st != TS_OK) {
        ts_output_dir_close(od);
        return NULL;
    }
    return od;
}

ts_status ts_output_dir_write(ts_output_dir *od, const ts_scenario *sc,
                              const ts_results *res, const ts_run_info *info,
                              ts_error *err) {
    if (!od || od->lock_fd < 0)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                            "writing results needs an open output directory");
    ts_status st = ts_output_write_all(od->path, sc, res, info, err);
    if (st == TS_OK)
        od->complete = 1;
    return st;
}

void ts_output_dir_close(ts_output_dir *od) {
    if (!od)
        return;
    if (od->lock_fd >= 0)
        (void)unlink(od->lock_path); /* before unlocking: see the top */
    if (!od->complete)
        remove_created(od);
    if (od->lock_fd >= 0)
        close(od->lock_fd);
    free(od->path);
    free(od->lock_path);
    free(od);
}
