/* manifest.json: what produced a run's files, so the run can be repeated and
 * its inputs checked (program, versions, host, input and resolved-scenario
 * digests, seed, size, timing).
 *
 * Valid JSON by construction: strings are escaped (control characters as
 * \uXXXX, invalid UTF-8 bytes as U+FFFD) and a non-finite number is null. */
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_version.h>
#include <yaml.h>

#include "output_internal.h"
#include "talentsim/sim.h"

#if defined(__clang__)
#define TS_COMPILER_ID "clang"
#elif defined(__GNUC__)
#define TS_COMPILER_ID "gcc"
#else
#define TS_COMPILER_ID "unknown"
#endif

#ifdef __VERSION__
#define TS_COMPILER_VERSION __VERSION__
#else
#define TS_COMPILER_VERSION ""
#endif

/* A JSON writer with a sticky error flag; items of an object are separated
 * by commas and indented two spaces per level. */
typedef struct {
    FILE *f;
    int depth;
    int first; /* no item yet in the innermost open object */
    int bad;
} json_out;

/* Length of the well-formed UTF-8 sequence starting at s (Unicode 15,
 * table 3-7), or 0 when s does not start one. */
static size_t utf8_seq_len(const unsigned char *s) {
    unsigned c = s[0], lo = 0x80, hi = 0xbf;
    size_t n;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = c == 0xe0 ? 0xa0 : lo;
        hi = c == 0xed ? 0x9f : hi;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = c == 0xf0 ? 0x90 : lo;
        hi = c == 0xf4 ? 0x8f : hi;
    } else {
        return 0;
    }
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

/* The two-character escape of c ('n' for a line feed, ...), or 0. */
static char json_short_escape(unsigned char c) {
    switch (c) {
    case '"': return '"';
    case '\\': return '\\';
    case '\b': return 'b';
    case '\f': return 'f';
    case '\n': return 'n';
    case '\r': return 'r';
    case '\t': return 't';
    default: return 0;
    }
}

/* Writes one character of s (escaped as needed); returns the bytes used. */
static size_t json_put_char(FILE *f, const unsigned char *s, int *bad) {
    char esc = json_short_escape(s[0]);
    if (esc) {
        *bad |= fprintf(f, "\\%c", esc) < 0;
        return 1;
    }
    if (s[0] < 0x20) {
        *bad |= fprintf(f, "\\u%04x", s[0]) < 0;
        return 1;
    }
    size_t n = s[0] < 0x80 ? 1 : utf8_seq_len(s);
    if (n == 0) {
        *bad |= fputs("\\ufffd", f) == EOF;
        return 1;
    }
    *bad |= fwrite(s, 1, n, f) != n;
    return n;
}

static void json_string(json_out *w, const char *s) {
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    w->bad |= putc('"', w->f) == EOF;
    while (*p)
        p += json_put_char(w->f, p, &w->bad);
    w->bad |= putc('"', w->f) == EOF;
}

/* Separator, indentation and "key": before a value. */
static void json_key(json_out *w, const char *key) {
    w->bad |= fprintf(w->f, "%s\n%*s", w->first ? "" : ",", 2 * w->depth, "") < 0;
    w->first = 0;
    json_string(w, key);
    w->bad |= fputs(": ", w->f) == EOF;
}

static void json_open(json_out *w, const char *key) {
    if (key)
        json_key(w, key);
    w->bad |= putc('{', w->f) == EOF;
    w->depth++;
    w->first = 1;
}

static void json_close(json_out *w) {
    w->depth--;
    w->bad |= fprintf(w->f, "\n%*s}", 2 * w->depth, "") < 0;
    w->first = 0;
}

static void json_kv_str(json_out *w, const char *key, const char *v) {
    json_key(w, key);
    json_string(w, v);
}

static void json_kv_int(json_out *w, const char *key, int64_t v) {
    json_key(w, key);
    w->bad |= fprintf(w->f, "%" PRId64, v) < 0;
}

static void json_kv_num(json_out *w, const char *key, double v) {
    char num[TS_NUM_BUFSZ];
    ts_output_format_double(v, num);
    json_key(w, key);
    w->bad |= fputs(isfinite(v) ? num : "null", w->f) == EOF;
}

static void utc_now(char buf[32]) {
    time_t now = time(NULL);
    struct tm tm;
    if (now == (time_t)-1 || !gmtime_r(&now, &tm) ||
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        buf[0] = '\0';
}

static void host_name(char buf[256]) {
    if (gethostname(buf, 256) != 0)
        buf[0] = '\0';
    buf[255] = '\0';
}

static void manifest_build(json_out *w, const ts_run_info *info) {
    char host[256];
    host_name(host);
    json_kv_str(w, "program", "talentsim");
    json_kv_str(w, "version", info ? info->program_version : "");
    json_kv_str(w, "git_commit", info && info->git_commit ? info->git_commit : "unknown");
    json_open(w, "compiler");
    json_kv_str(w, "id", TS_COMPILER_ID);
    json_kv_str(w, "version", TS_COMPILER_VERSION);
    json_close(w);
    json_kv_str(w, "gsl_version", gsl_version);
    json_kv_str(w, "libyaml_version", yaml_get_version_string());
    json_kv_str(w, "rng", ts_sim_rng_name());
    json_kv_str(w, "host", host);
    json_kv_str(w, "command_line", info ? info->command_line : "");
}

static void manifest_run(json_out *w, const ts_scenario *sc, const ts_results *r,
                         const ts_run_info *info) {
    char created[32];
    utc_now(created);
    json_kv_str(w, "scenario", sc->name);
    json_kv_int(w, "seed", sc->base.seed);
    json_kv_int(w, "replications", (int64_t)r->nrep);
    json_open(w, "years");
    json_kv_int(w, "start", r->year0);
    json_kv_int(w, "end", r->year0 + (int64_t)r->nyear - 1);
    json_close(w);
    json_kv_num(w, "sample_fraction", sc->base.sample_fraction);
    json_kv_int(w, "threads", info ? info->threads : 0);
    json_kv_num(w, "wall_seconds", info ? info->wall_seconds : NAN);
    json_kv_num(w, "agent_years", r->agent_years);
    json_kv_str(w, "created_utc", created);
}

int ts_write_manifest_json(FILE *f, const ts_scenario *sc, const ts_results *r,
                           const ts_run_info *info, const char *input_sha,
                           const char *resolved_sha) {
    json_out w = {.f = f};
    json_open(&w, NULL);
    manifest_build(&w, info);
    json_kv_str(&w, "input_file", info ? info->input_path : "");
    json_kv_str(&w, "input_sha256", input_sha);
    json_kv_str(&w, "resolved_sha256", resolved_sha);
    manifest_run(&w, sc, r, info);
    json_close(&w);
    w.bad |= putc('\n', f) == EOF;
    if (fflush(f) == EOF)
        w.bad = 1;
    return w.bad || ferror(f) ? -1 : 0;
}
