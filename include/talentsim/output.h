/* Writers: CSV results, the resolved scenario, the manifest.
 *
 * They stand apart from the engine and only read a scenario and its results.
 * Every file is written atomically: all files of a run go to temporary files
 * in the output directory first and are renamed into place only when every
 * one was written and flushed without error; on failure the temporaries are
 * removed, so no partial result file is ever left behind.
 *
 * A run owns its output directory from ts_output_dir_open to
 * ts_output_dir_close: it holds an advisory lock (flock) on the lock file
 * ".talentsim.lock" in it, which names the holder's pid, so a second run
 * on the same directory fails at once instead of mixing files with the first.
 * The kernel drops the lock when the holder dies, however it dies. */
#ifndef TALENTSIM_OUTPUT_H
#define TALENTSIM_OUTPUT_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "talentsim/error.h"
#include "talentsim/scenario.h"
#include "talentsim/results.h"

typedef struct {
    const char *program_version;
    const char *git_commit;     /* or "unknown" */
    const char *command_line;   /* as typed, arguments joined by spaces */
    const char *input_path;     /* scenario file given on the command line */
    int threads;
    double wall_seconds;
    /* May be NULL. Checked when all temporaries are written, before the
     * renames: when nonzero, the temporaries are removed and the writing
     * fails with "interrupted" (TS_ERUNTIME). Once begun, the renames
     * complete. */
    volatile sig_atomic_t *stop;
} ts_run_info;

/* An output directory locked for one run. */
typedef struct ts_output_dir ts_output_dir;

/* Takes dir for one run: creates it (and parents) if needed, checks that it
 * is a writable directory, takes its lock, removes the temporaries that dead
 * processes left there (".NAME.<pid>.<k>" whose pid no longer exists), and
 * refuses a directory holding results of an earlier run (a manifest.json)
 * unless force is set. NULL on failure (TS_EINPUT for a bad, busy or used
 * directory; the message of a busy one names the holder's pid). */
ts_output_dir *ts_output_dir_open(const char *dir, int force, ts_error *err);

/* Writes summary.csv, replications.csv, targets.csv, scenario.resolved.yaml
 * and manifest.json into the directory, all or nothing. */
ts_status ts_output_dir_write(ts_output_dir *od, const ts_scenario *sc,
                              const ts_results *res, const ts_run_info *info,
                              ts_error *err);

/* Releases the lock and frees od; NULL is a no-op. Unless a complete result
 * set was written, the directories that ts_output_dir_open created are
 * removed again if they are empty. */
void ts_output_dir_close(ts_output_dir *od);

/* Individual writers to an open stream (used by ts_output_dir_write and tests).
 * Return 0 on success, -1 on a stream error. */
int ts_write_summary_csv(FILE *f, const ts_scenario *sc, const ts_results *r);
int ts_write_replications_csv(FILE *f, const ts_scenario *sc, const ts_results *r);
int ts_write_targets_csv(FILE *f, const ts_scenario *sc, const ts_results *r);

/* The resolved scenario as YAML: name, description, every parameter's
 * effective base value (from the table, in table order), policies, targets.
 * Loading it gives a scenario that produces identical results. */
int ts_write_resolved_yaml(FILE *f, const ts_scenario *sc);
/* The same into a new NUL-terminated string (*text, free it; *len bytes).
 * TS_ERUNTIME when it cannot be rendered (out of memory). */
ts_status ts_resolved_yaml_text(const ts_scenario *sc, char **text, size_t *len,
                                ts_error *err);
/* s as a double-quoted YAML scalar that reads back byte for byte. */
void ts_yaml_put_quoted(FILE *f, const char *s);

/* SHA-256 of a buffer / of a file, as 64 lowercase hex digits + NUL. */
void ts_sha256_hex(const void *data, size_t n, char hex[65]);
ts_status ts_sha256_file_hex(const char *path, char hex[65], ts_error *err);

/* One file written atomically outside a run directory (sweeps): a
 * temporary ".NAME.<pid>.<k>" in dir, renamed to dir/NAME by
 * ts_atomic_commit after a flush and fsync, or removed by ts_atomic_abort.
 * Readers never see a partial file. */
typedef struct ts_atomic ts_atomic;

/* NULL with err filled when the temporary cannot be created. */
ts_atomic *ts_atomic_open(const char *dir, const char *name, ts_error *err);
/* The stream to write to (checked at commit). */
FILE *ts_atomic_stream(ts_atomic *a);
/* Flushes, fsyncs and renames into place; on any failure removes the
 * temporary and fills err (TS_ERUNTIME). Frees a either way. */
ts_status ts_atomic_commit(ts_atomic *a, ts_error *err);
/* Removes the temporary and frees a (NULL is fine). */
void ts_atomic_abort(ts_atomic *a);
/* Writes text (len bytes) to dir/name atomically unless the file exists:
 * 0 written, 1 the file holds exactly text already, 2 it holds something
 * else (left alone), -1 with err filled on an I/O error. A results
 * directory stamps itself this way with its resolved input. */
int ts_atomic_stamp(const char *dir, const char *name, const char *text, size_t len,
                    ts_error *err);
/* The whole file at path, NUL-terminated, into *buf (free it): 0, or -1
 * with errno (EFBIG above max bytes). */
int ts_io_slurp(const char *path, size_t max, char **buf, size_t *len);
/* Creates dir and its parents (mode 0777 less umask); TS_ERUNTIME on
 * failure, TS_EINPUT when a path component is not a directory. */
ts_status ts_make_dirs(const char *dir, ts_error *err);

#endif
