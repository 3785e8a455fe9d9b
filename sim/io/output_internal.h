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

/* The manifest of a run (a JSON object). input_sha / resolved_sha are hex
 * digests ("" when there is no input file). 0 on success, -1 on a stream
 * error. */
int ts_write_manifest_json(FILE *f, const ts_scenario *sc, const ts_results *r,
                           const ts_run_info *info, const char *input_sha,
                           const char *resolved_sha);

/* ts_output_write_all, but every write after max_bytes bytes in total (over
 * all five files) fails as on a full disk (ENOSPC). ts_output_write_all uses
 * SIZE_MAX; tests use small limits to check the all-or-nothing cleanup. */
ts_status ts_output_write_all_limited(const char *dir, const ts_scenario *sc,
                                      const ts_results *res,
                                      const ts_run_info *info, size_t max_bytes,
                                      ts_error *err);

#endif
