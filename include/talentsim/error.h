/* Error reporting for the talentsim library.
 *
 * Library functions never print or exit: they return a ts_status and fill a
 * ts_error. The caller (the CLI) formats it as "file:line:col: error: msg". */
#ifndef TALENTSIM_ERROR_H
#define TALENTSIM_ERROR_H

#include <stddef.h>

typedef enum {
    TS_OK = 0,
    TS_EINPUT = 2,   /* bad scenario, bad option, bad value: exit code 2 */
    TS_ERUNTIME = 1, /* I/O failure, out of memory: exit code 1 */
} ts_status;

typedef struct {
    ts_status status; /* TS_OK when no error has been recorded */
    char file[512];   /* source of the problem ("--set", a path, ...) or "" */
    int line, col;    /* 1-based position in file; 0 when unknown */
    char key[160];    /* dotted key path involved, or "" */
    char msg[768];    /* one line, no trailing newline */
} ts_error;

void ts_error_clear(ts_error *err);

/* Records an error (if err is not NULL) and returns status. */
ts_status ts_error_set(ts_error *err, ts_status status, const char *file,
                       int line, int col, const char *key, const char *fmt,
                       ...) __attribute__((format(printf, 7, 8)));

/* "file:line:col: error: msg" (position parts omitted when unknown). */
void ts_error_format(const ts_error *err, char *buf, size_t n);

#endif
