/* What the subcommands share: error printing, option values, overrides and
 * loading a scenario with them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int ts_cli_report_error(const ts_error *err) {
    char buf[2048];
    ts_error_format(err, buf, sizeof buf);
    fprintf(stderr, "%s\n", buf);
    return err->status == TS_EINPUT ? EXIT_USAGE : EXIT_RUNTIME;
}

int ts_cli_usage_error(const char *prog, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: error: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry '%s --help'.\n", prog);
    va_end(ap);
    return EXIT_USAGE;
}

int ts_cli_parse_threads(const char *s, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1 || v > 4096)
        return -1;
    *out = (int)v;
    return 0;
}

int ts_overrides_add(ts_overrides *o, const char *key, const char *value) {
    if (o->n >= TS_MAX_OVERRIDES)
        return -1;
    int k = o->n++;
    if (key) {
        snprintf(o->owned[k], sizeof o->owned[k], "%s=%.40s", key, value);
        o->items[k] = o->owned[k];
    } else {
        o->items[k] = value;
    }
    return 0;
}

ts_scenario *ts_cli_load(const char *path, const ts_overrides *o, ts_error *err) {
    ts_scenario *sc = ts_scenario_load(path, err);
    if (!sc)
        return NULL;
    for (int i = 0; i < o->n; i++)
        if (ts_scenario_set_assignment(sc, o->items[i], err) != TS_OK)
            goto fail;
    if (ts_scenario_validate(sc, err) == TS_OK)
        return sc;
fail:
    ts_scenario_free(sc);
    return NULL;
}
