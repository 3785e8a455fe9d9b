/* Error records: a status, where the problem is, and a one-line message.
 *
 * Invariant: msg never holds a control character (newlines in quoted input
 * are replaced by spaces), so a formatted error is always one line. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "talentsim/error.h"

void ts_error_clear(ts_error *err) {
    if (!err)
        return;
    memset(err, 0, sizeof *err);
    err->status = TS_OK;
}

/* Copies src into dst (size n), truncating; NULL counts as "". */
static void copy_text(char *dst, size_t n, const char *src) {
    snprintf(dst, n, "%s", src ? src : "");
}

/* Replaces control characters by spaces so the message stays on one line. */
static void flatten(char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
}

ts_status ts_error_set(ts_error *err, ts_status status, const char *file,
                       int line, int col, const char *key, const char *fmt,
                       ...) {
    if (!err)
        return status;
    char tmp[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    /* file or key may point into err itself: copy through temporaries */
    char f[sizeof err->file], k[sizeof err->key];
    copy_text(f, sizeof f, file);
    copy_text(k, sizeof k, key);
    err->status = status;
    memcpy(err->file, f, sizeof f);
    memcpy(err->key, k, sizeof k);
    memcpy(err->msg, tmp, sizeof tmp);
    flatten(err->msg);
    err->line = line > 0 ? line : 0;
    err->col = line > 0 && col > 0 ? col : 0;
    return status;
}

void ts_error_format(const ts_error *err, char *buf, size_t n) {
    if (!buf || n == 0)
        return;
    if (!err) {
        snprintf(buf, n, "error: unknown error");
        return;
    }
    if (err->file[0] == '\0')
        snprintf(buf, n, "error: %s", err->msg);
    else if (err->line <= 0)
        snprintf(buf, n, "%s: error: %s", err->file, err->msg);
    else if (err->col <= 0)
        snprintf(buf, n, "%s:%d: error: %s", err->file, err->line, err->msg);
    else
        snprintf(buf, n, "%s:%d:%d: error: %s", err->file, err->line,
                 err->col, err->msg);
}
