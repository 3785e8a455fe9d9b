/* Writers: CSV results, the resolved scenario, the manifest.
 *
 * They stand apart from the engine and only read a scenario and its results.
 * Every file is written atomically: all files of a run go to temporary files
 * in the output directory first and are renamed into place only when every
 * one was written and flushed without error; on failure the temporaries are
 * removed, so no partial result file is ever left behind. */
#ifndef TALENTSIM_OUTPUT_H
#define TALENTSIM_OUTPUT_H

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
} ts_run_info;

/* Creates dir (and parents) if needed and checks that it is writable. Refuses
 * (TS_EINPUT) a directory holding results of an earlier run (a manifest.json)
 * unless force is set. */
ts_status ts_output_prepare_dir(const char *dir, int force, ts_error *err);

/* Writes summary.csv, replications.csv, targets.csv, scenario.resolved.yaml
 * and manifest.json into dir, all or nothing. */
ts_status ts_output_write_all(const char *dir, const ts_scenario *sc,
                              const ts_results *res, const ts_run_info *info,
                              ts_error *err);

/* Individual writers to an open stream (used by ts_output_write_all and tests).
 * Return 0 on success, -1 on a stream error. */
int ts_write_summary_csv(FILE *f, const ts_scenario *sc, const ts_results *r);
int ts_write_replications_csv(FILE *f, const ts_scenario *sc, const ts_results *r);
int ts_write_targets_csv(FILE *f, const ts_scenario *sc, const ts_results *r);

/* The resolved scenario as YAML: name, description, every parameter's
 * effective base value (from the table, in table order), policies, targets.
 * Loading it gives a scenario that produces identical results. */
int ts_write_resolved_yaml(FILE *f, const ts_scenario *sc);

/* SHA-256 of a buffer / of a file, as 64 lowercase hex digits + NUL. */
void ts_sha256_hex(const void *data, size_t n, char hex[65]);
ts_status ts_sha256_file_hex(const char *path, char hex[65], ts_error *err);

#endif
