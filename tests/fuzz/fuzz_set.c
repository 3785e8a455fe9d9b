/* libFuzzer harness of the `--set key=value` parser.
 *
 * The input (up to its first NUL byte) is used twice:
 * - as an assignment, ts_scenario_set_assignment on a default scenario:
 *   on success exactly one parameter may have changed (or none, when the
 *   value is the default), on failure the error must be one line with
 *   status TS_EINPUT or TS_ERUNTIME;
 * - as a value, ts_param_parse on every row of the parameter table: a value
 *   it accepts must be formatted by ts_param_format into text that parses
 *   back to the same value (what the resolved YAML relies on): bit for bit
 *   for a real, equal for an integer or enum, which are stored as int64_t
 *   or int (so "-0" and "0" are the same seed).
 * Any ASan, UBSan or LeakSanitizer report is a finding too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "talentsim/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *key, const char *detail) {
    fprintf(stderr, "fuzz_set: %s [%s]: %s\n", what, key ? key : "",
            detail ? detail : "");
    abort();
}

/* A failure must say why, on one line. */
static void check_error(const ts_error *err, ts_status st) {
    char line[2048];
    ts_error_format(err, line, sizeof line);
    if ((st != TS_EINPUT && st != TS_ERUNTIME) || err->status != st)
        die("failure with a bad status", err->key, line);
    if (!err->msg[0] || strpbrk(line, "\n\r"))
        die("error message empty or not one line", err->key, line);
}

static int same(double a, double b) {
    return memcmp(&a, &b, sizeof a) == 0;
}

static void check_assignment(const char *text) {
    ts_scenario *sc = ts_scenario_alloc("fuzz");
    ts_params def;
    ts_error err;
    if (!sc)
        die("ts_scenario_alloc failed", NULL, NULL);
    ts_params_default(&def);
    ts_status st = ts_scenario_set_assignment(sc, text, &err);
    if (st != TS_OK) {
        check_error(&err, st);
    } else {
        size_t changed = 0;
        for (size_t i = 0; i < ts_param_count(); i++) {
            const ts_param_info *pi = ts_param_at(i);
            changed += !same(ts_param_get(&sc->base, pi), ts_param_get(&def, pi));
        }
        if (changed > 1)
            die("one assignment changed several parameters", NULL, text);
    }
    ts_scenario_free(sc);
}

/* text as a value of pi: accepted values survive format and parse. */
static void check_value(const ts_param_info *pi, const char *text) {
    ts_error err;
    double v, w;
    ts_status st = ts_param_parse(pi, text, &v, "--set", 0, 0, &err);
    if (st != TS_OK) {
        check_error(&err, st);
        return;
    }
    char buf[128];
    ts_param_format(pi, v, buf, sizeof buf);
    st = ts_param_parse(pi, buf, &w, "--set", 0, 0, &err);
    if (st != TS_OK || !(pi->type == TS_T_REAL ? same(v, w) : v == w)) {
        char detail[400];
        snprintf(detail, sizeof detail, "'%.100s' formats as '%s', which %s",
                 text, buf, st != TS_OK ? err.msg : "parses to another value");
        die("format does not read back", pi->key, detail);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    check_assignment(text);
    for (size_t i = 0; i < ts_param_count(); i++)
        check_value(ts_param_at(i), text);
    free(text);
    return 0;
}
