/* The resolved scenario: a YAML file that ts_scenario_load reads back into
 * an equal scenario (same name, description, every base value bit for bit,
 * policies and targets), written without `extends:` and with every
 * parameter of the table, so a run can be repeated from it alone.
 *
 * Strings are written as double-quoted YAML scalars with escapes, every
 * line break escaped so that a string reads back byte for byte; numbers
 * with ts_param_format (shortest text that reads back as the same double).
 * Policies and targets are written by their field tables (fields.h), the
 * same tables the loader reads them by. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../scenario/fields.h"
#include "talentsim/output.h"

/* Characters libyaml accepts in a document (YAML 1.1 "printable"). */
static int yaml_printable(unsigned long cp) {
    return cp == 0x09 || cp == 0x0A || cp == 0x0D ||
           (cp >= 0x20 && cp <= 0x7E) || cp == 0x85 ||
           (cp >= 0xA0 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
           (cp >= 0x10000 && cp <= 0x10FFFF);
}

/* Decodes the UTF-8 sequence at s (len bytes, 2..4); 0 if invalid. */
static unsigned long utf8_decode(const unsigned char *s, size_t len) {
    static const unsigned long lead_mask[5] = {0, 0, 0x1F, 0x0F, 0x07};
    static const unsigned long min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    unsigned long cp = s[0] & lead_mask[len];
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    return cp >= min_cp[len] ? cp : 0;
}

static size_t utf8_len(unsigned char c) {
    return c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
}

/* Writes one character of s (advancing *i), escaped where needed: the line
 * breaks (\n, \r, and NEL, U+2028 and U+2029 as \N, \L and \P), which a
 * reader would fold into spaces if written raw, quotes, backslashes, and
 * what YAML may not hold raw. */
static void put_char(FILE *f, const unsigned char *s, size_t *i) {
    unsigned char c = s[*i];
    const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n"
                      : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
    size_t len = c >= 0x80 ? utf8_len(c) : 1;
    unsigned long cp = c;
    if (c >= 0x80)
        cp = len && strnlen((const char *)s + *i, len) == len
                 ? utf8_decode(s + *i, len) : 0;
    if (cp >= 0xD800 && (cp <= 0xDFFF || cp > 0x10FFFF))
        cp = 0; /* surrogates and beyond U+10FFFF: not characters */
    if (cp == 0x85 || cp == 0x2028 || cp == 0x2029)
        esc = cp == 0x85 ? "\\N" : cp == 0x2028 ? "\\L" : "\\P";
    if (esc)
        fputs(esc, f);
    else if (cp == 0 || (c < 0x80 && !yaml_printable(c)))
        fprintf(f, "\\x%02X", c); /* control or invalid UTF-8 byte */
    else if (c < 0x80)
        fputc(c, f);
    else if (yaml_printable(cp))
        fwrite(s + *i, 1, len, f);
    else
        fprintf(f, "\\U%08lX", cp);
    *i += c >= 0x80 && cp != 0 ? len : 1;
}

void ts_yaml_put_quoted(FILE *f, const char *s) {
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    fputc('"', f);
    for (size_t i = 0; u[i];)
        put_char(f, u, &i);
    fputc('"', f);
}

static void put_real(FILE *f, double v) {
    static const ts_param_info real = {.key = "", .type = TS_T_REAL};
    char buf[64];
    ts_param_format(&real, v, buf, sizeof buf);
    fputs(buf, f);
}

static void write_params(FILE *f, const ts_params *p) {
    char buf[128];
    for (size_t i = 0; i < ts_param_count(); i++) {
        const ts_param_info *pi = ts_param_at(i);
        ts_param_format(pi, ts_param_get(p, pi), buf, sizeof buf);
        fprintf(f, "%s: %s\n", pi->key, buf);
    }
}

/* The settings of a SETTINGS field: " {}", or one "\n      key: value" per
 * setting, in the policy's order. */
static void write_settings(FILE *f, const ts_field *fd, const void *rec) {
    const ts_setting *set =
        *(ts_setting *const *)ts_field_at_const(rec, fd->offset);
    size_t n = *(const size_t *)ts_field_at_const(rec, fd->count);
    char buf[128];
    if (n == 0)
        fputs(" {}", f);
    for (size_t k = 0; k < n; k++) {
        ts_param_format(set[k].param, set[k].value, buf, sizeof buf);
        fprintf(f, "\n      %s: %s", set[k].param->key, buf);
    }
}

/* " value" of a field as the loader reads it back (fields.h). */
static void write_value(FILE *f, const ts_field *fd, const void *rec) {
    const void *p = ts_field_at_const(rec, fd->offset);
    if (fd->kind == TS_FK_SETTINGS) {
        write_settings(f, fd, rec);
        return;
    }
    fputc(' ', f);
    if (fd->kind == TS_FK_TEXT || fd->kind == TS_FK_NAME ||
        fd->kind == TS_FK_METRIC)
        ts_yaml_put_quoted(f, *(char *const *)p);
    else if (fd->kind == TS_FK_YEAR)
        fprintf(f, "%" PRId64, *(const int64_t *)p);
    else if (fd->kind == TS_FK_SIZE && isnan(*(const double *)p))
        fputs("\"-\"", f);
    else
        put_real(f, *(const double *)p);
}

/* One list item, a field a line in table order; omitted fields left out. */
static void write_record(FILE *f, const ts_record *r, const void *rec) {
    const char *lead = "  - ";
    for (size_t k = 0; k < r->nfields; k++) {
        const ts_field *fd = &r->fields[k];
        if (fd->omitted != TS_FIELD_NONE &&
            *(const int *)ts_field_at_const(rec, fd->omitted))
            continue;
        fprintf(f, "%s%s:", lead, fd->name);
        write_value(f, fd, rec);
        fputc('\n', f);
        lead = "    ";
    }
}

static void write_list(FILE *f, const ts_record *r, const void *recs,
                       size_t n) {
    fprintf(f, n ? "%s:\n" : "%s: []\n", r->list);
    for (size_t i = 0; i < n; i++)
        write_record(f, r, ts_field_at_const(recs, i * r->size));
}

/* A kept block (talentsim/node.h) in block style, every scalar and key
 * double-quoted: the loader reads back the same texts. */
static void write_node(FILE *f, const ts_node *n, int indent) {
    if (n->kind == TS_NODE_SCALAR || n->nitem == 0) {
        fputc(' ', f);
        if (n->kind == TS_NODE_SCALAR)
            ts_yaml_put_quoted(f, n->text);
        else
            fputs(n->kind == TS_NODE_MAP ? "{}" : "[]", f);
        fputc('\n', f);
        return;
    }
    fputc('\n', f);
    for (size_t i = 0; i < n->nitem; i++) {
        fprintf(f, "%*s", indent, "");
        if (n->kind == TS_NODE_MAP) {
            ts_yaml_put_quoted(f, n->item[i].key);
            fputc(':', f);
        } else {
            fputc('-', f);
        }
        write_node(f, &n->item[i], indent + 2);
    }
}

int ts_write_resolved_yaml(FILE *f, const ts_scenario *sc) {
    fputs("# Resolved scenario, generated by talentsim: every parameter's "
          "effective base value,\n# the policies and the targets. Loading "
          "this file gives the same scenario.\n",
          f);
    fputs("name: ", f);
    ts_yaml_put_quoted(f, sc->name);
    fputs("\ndescription: ", f);
    ts_yaml_put_quoted(f, sc->description);
    fputc('\n', f);
    write_params(f, &sc->base);
    write_list(f, &ts_policy_record, sc->policies, sc->npolicies);
    write_list(f, &ts_target_record, sc->targets, sc->ntargets);
    for (int b = 0; b < TS_NBLOCKS; b++)
        if (sc->block[b]) {
            fputs(ts_block_name((ts_block_id)b), f);
            fputc(':', f);
            write_node(f, sc->block[b], 2);
        }
    return ferror(f) ? -1 : 0;
}

ts_status ts_resolved_yaml_text(const ts_scenario *sc, char **text, size_t *len,
                                ts_error *err) {
    *text = NULL;
    *len = 0;
    FILE *m = open_memstream(text, len);
    if (!m)
        return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "cannot render "
                            "'scenario.resolved.yaml': %s", strerror(errno));
    errno = 0;
    int bad = ts_write_resolved_yaml(m, sc) != 0, e = errno;
    if (fclose(m) == EOF && !bad) {
        bad = 1;
        e = errno;
    }
    if (!bad)
        return TS_OK;
    free(*text);
    *text = NULL;
    return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "cannot render "
                        "'scenario.resolved.yaml': %s", strerror(e ? e : EIO));
}
