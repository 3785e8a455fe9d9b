/* Internals shared by the writers (output.c, output_csv.c, manifest.c) and
 * their tests. Not part of the public interface. */
#ifndef TALENTSIM_OUTPUT_INTERNAL_H
#define TALENTSIM_OUTPUT_INTERNAL_H

#include <stddef.h>
#include <stdio.h>

#include "talentsim/output.h"

/* Room for any number ts_output_format_double writes, with its NUL. */
#define TS_NUM_BUFSZ 32

/* v as the shortest of %.15g, %.16g, %.17g that reads back as exactly v;
 * "" for NaN, "Inf" / "-Inf" for infinities. */
void ts_output_format_double(double v, char buf[TS_NUM_BUFSZ]);

/* s (NULL as "") as one CSV field, quoted when it holds a comma, a quote or
 * a line break, in a new string (free it); NULL when out of memory. */
char *ts_output_csv_field(const char *s);

/* The manifest of a run (a JSON object). input_sha / resolved_sha are hex
 * digests ("" when there is no input file). 0 on success, -1 on a stream
 * error. */
int ts_write_manifest_json(FILE *f, const ts_scenario *sc, const ts_results *r,
                           const ts_run_info *info, const char *input_sha,
                           const char *resolved_sha);

/* "cannot WHAT 'PATH': strerror(e)" as a TS_ERUNTIME error (EIO when e is
 * 0); returns TS_ERUNTIME. */
ts_status ts_io_error(ts_error *err, const char *what, const char *path, int e);

/* Creates a new temporary ".NAME.<pid>.<k>" for name in dir (O_EXCL, the
 * first free k); its path into *path (malloc'ed). The fd, or -1 with errno.
 * ts_output_temp_pid recognises these names, so the temporaries of a dead
 * process are removed by the next run on the directory. */
int ts_io_open_temp(const char *dir, const char *name, char **path);

/* fsync of directory dir, so that renames in it are durable; best effort
 * (the files are complete anyway). */
void ts_io_sync_dir(const char *dir);

/* "dir/name" in a new string (free it), or NULL when out of memory. */
char *ts_io_path(const char *dir, const char *name);

/* The name of the lock file in an output directory. */
#define TS_OUTPUT_LOCK_NAME ".talentsim.lock"

/* Whether name is a temporary of the writers (".NAME.<pid>.<k>", NAME one of
 * the five result files); its pid into *pid if so. */
int ts_output_temp_pid(const char *name, long *pid);

/* The five files into dir, all or nothing, for a caller that owns dir
 * (ts_output_dir_write calls it for the directory it has locked). */
ts_status ts_output_write_all(const char *dir, const ts_scenario *sc,
                              const ts_results *res, const ts_run_info *info,
                              ts_error *err);

/* ts_output_write_all, but every write after max_bytes bytes in total (over
 * all five files) fails as on a full disk (ENOSPC). ts_output_write_all uses
 * SIZE_MAX; tests use small limits to check the all-or-nothing cleanup. */
ts_status ts_output_write_all_limited(const char *dir, const ts_scenario *sc,
                                      const ts_results *res,
                                      const ts_run_info *info, size_t max_bytes,
                                      ts_error *err);

#endif
