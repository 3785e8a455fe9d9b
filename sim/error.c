/* Error records: a status, where the problem is, and a one-line message.
 *
 * Invariant: a formatted error is always one line. msg never holds a
 * control character or a Unicode line break (they become spaces when the
 * error is set), and ts_error_format escapes them in the file name ("\n",
 * "\x1B", "\u2028"), which is kept as given. */
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

/* Length of the control character or line break at s: C0 and DEL (1 byte),
 * C1 in UTF-8 (2 bytes: NEL is U+0085), U+2028 and U+2029 (3 bytes); 0
 * for any other character. */
static size_t break_len(const unsigned char *s) {
    if (s[0] < 0x20 || s[0] == 0x7f)
        return 1;
    if (s[0] == 0xC2 && s[1] >= 0x80 && s[1] <= 0x9F)
        return 2;
    if (s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9))
        return 3;
    return 0;
}

/* Replaces each control character or line break by a space, in place. */
static void flatten(char *s) {
    unsigned char *r = (unsigned char *)s, *w = r;
    while (*r) {
        size_t n = break_len(r);
        *w++ = n ? ' ' : *r;
        r += n ? n : 1;
    }
    *w = '\0';
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

/* s with its control characters and line breaks escaped, C style ("\n",
 * "\x1B") or as code points ("\u0085", "\u2028"), into buf (size n). */
static const char *escape(const char *s, char *buf, size_t n) {
    static const char *const named[] = {['\n'] = "\\n", ['\r'] = "\\r",
                                        ['\t'] = "\\t"};
    const unsigned char *u = (const unsigned char *)s;
    size_t used = 0;
    buf[0] = '\0';
    while (*u && used + 7 < n) {
        size_t len = break_len(u);
        if (len == 0)
            buf[used++] = (char)*u;
        else if (len == 1 && *u < sizeof named / sizeof *named && named[*u])
            used += (size_t)snprintf(buf + used, n - used, "%s", named[*u]);
        else if (len == 1)
            used += (size_t)snprintf(buf + used, n - used, "\\x%02X", *u);
        else
            used += (size_t)snprintf(buf + used, n - used, "\\u%04X",
                                     len == 2 ? u[1] : 0x2000u + u[2] - 0x80u);
        u += len ? len : 1;
    }
    buf[used] = '\0';
    return buf;
}

void ts_error_format(const ts_error *err, char *buf, size_t n) {
    if (!buf || n == 0)
        return;
    if (!err) {
        snprintf(buf, n, "error: unknown error");
        return;
    }
    char file[4 * sizeof err->file];
    escape(err->file, file, sizeof file);
    if (err->file[0] == '\0')
        snprintf(buf, n, "error: %s", err->msg);
    else if (err->line <= 0)
        snprintf(buf, n, "%s: error: %s", file, err->msg);
    else if (err->col <= 0)
        snprintf(buf, n, "%s:%d: error: %s", file, err->line, err->msg);
    else
        snprintf(buf, n, "%s:%d:%d: error: %s", file, err->line, err->col,
                 err->msg);
}
