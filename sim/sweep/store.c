/* The results directory of a sweep (talentsim/sweep.h): the resolved sweep,
 * the part files of completed points, the merge.
 *
 * A part file is CSV with the header PART_HEADER and, per point in
 * ascending order, its rows: one per kept (year, metric) with status "ok",
 * or a single row with status "failed" and the model's message in `error`.
 * The rows of a point are contiguous, so the merge indexes every part file
 * once (point -> file, offset, length, hash of the bytes) and then copies
 * the points in order, reading each point's bytes back with pread: memory
 * stays proportional to the number of points, not of rows. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/output_internal.h"
#include "talentsim/output.h"
#include "talentsim/stats.h"
#include "talentsim/sweep.h"

#define PART_HEADER "point,key,status,year,metric,mean,sd,p2_5,p50,p97_5,error\n"
#define PART_FIELDS 11
#define RESOLVED "sweep.resolved.yaml"
#define MAX_PART_BYTES ((size_t)1 << 30) /* a part file larger than this is not ours */

static ts_status oom(ts_error *err) {
    return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "out of memory");
}

/* ---- the resolved sweep ---- */

ts_status ts_sweep_store_open(const char *dir, const ts_scenario *sweep_sc, ts_error *err) {
    char *points = ts_io_path(dir, "points"), *resolved = ts_io_path(dir, RESOLVED);
    char *text = NULL;
    size_t len = 0;
    ts_status st = points && resolved ? ts_resolved_yaml_text(sweep_sc, &text, &len, err)
                                      : oom(err);
    if (st != TS_OK)
        goto done;
    if ((st = ts_make_dirs(points, err)) != TS_OK)
        goto done;
    int stamp = ts_atomic_stamp(dir, RESOLVED, text, len, err);
    if (stamp < 0)
        st = err->status;
    else if (stamp == 2)
        st = ts_error_set(err, TS_EINPUT, "", 0, 0, "",
                          "'%s' holds the results of another sweep (its %s differs from "
                          "this one's); give another output directory (-o) or remove it",
                          dir, RESOLVED);
done:
    free(points);
    free(resolved);
    free(text);
    return st;
}

ts_sweep *ts_sweep_load_dir(const char *dir, ts_scenario **sc_out, ts_error *err) {
    *sc_out = NULL;
    char *resolved = ts_io_path(dir, RESOLVED);
    if (!resolved) {
        oom(err);
        return NULL;
    }
    struct stat sb;
    if (stat(resolved, &sb) != 0) {
        ts_error_set(err, TS_EINPUT, "", 0, 0, "", "'%s' is not the results directory of a "
                     "sweep: it has no %s (%s)", dir, RESOLVED, strerror(errno));
        free(resolved);
        return NULL;
    }
    ts_scenario *sc = ts_scenario_load(resolved, err);
    free(resolved);
    ts_sweep *sw = sc ? ts_sweep_from_scenario(sc, err) : NULL;
    if (!sw)
        ts_scenario_free(sc);
    else
        *sc_out = sc;
    return sw;
}

/* ---- part files ---- */

/* The fields of one part line (NUL-terminated copies into buf): 0, or -1
 * when the line does not have PART_FIELDS fields. The last field (error)
 * is CSV-quoted when it holds a comma, quote or line break. */
static int split_line(const char *s, size_t n, char *buf, size_t bufsz, char **f) {
    if (n + 1 > bufsz)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *p = buf;
    for (int i = 0; i < PART_FIELDS - 1; i++) {
        f[i] = p;
        char *c = strchr(p, ',');
        if (!c)
            return -1;
        *c = '\0';
        p = c + 1;
    }
    f[PART_FIELDS - 1] = p;
    if (*p == '"') { /* unquote in place */
        char *o = p;
        for (char *q = p + 1; *q; q++) {
            if (*q == '"' && q[1] == '"')
                q++;
            else if (*q == '"')
                break;
            *o++ = *q;
        }
        *o = '\0';
    }
    return 0;
}

/* The end of the CSV record starting at s (after its '\n'), quotes
 * respected. */
static const char *record_end(const char *s, const char *end) {
    int quoted = 0;
    for (; s < end; s++) {
        if (*s == '"')
            quoted = !quoted;
        else if (*s == '\n' && !quoted)
            return s + 1;
    }
    return end;
}

typedef struct {
    uint32_t file;         /* index into the part names, or UINT32_MAX: none */
    uint64_t off, len;     /* the point's rows in that file */
    unsigned char hash[32];
    unsigned char failed;
} point_ent;

typedef struct {
    char **names;          /* part file paths, sorted */
    size_t nnames;
    point_ent *ent;        /* npoints */
    size_t *dup, ndup, *conf, nconf, stale;
} part_index;

static void index_free(part_index *ix) {
    for (size_t i = 0; i < ix->nnames; i++)
        free(ix->names[i]);
    free(ix->names);
    free(ix->ent);
    free(ix->dup);
    free(ix->conf);
}

static int push(size_t **v, size_t *n, size_t x) {
    size_t *nv = realloc(*v, (*n + 1) * sizeof **v);
    if (!nv)
        return -1;
    nv[(*n)++] = x;
    *v = nv;
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_part_name(const char *s) {
    size_t n = strlen(s);
    return strncmp(s, "part-", 5) == 0 && n > 9 && strcmp(s + n - 4, ".csv") == 0;
}

/* A part file of another sweep (its name carries another definition hash). */
static ts_status foreign_part(const char *pdir, const char *name, const ts_sweep *sw,
                              ts_error *err) {
    if (strlen(name) > 5 + TS_SWEEP_KEY_LEN && strncmp(name + 5, sw->id, TS_SWEEP_KEY_LEN) == 0 &&
        name[5 + TS_SWEEP_KEY_LEN] == '-')
        return TS_OK;
    return ts_error_set(err, TS_EINPUT, "", 0, 0, "", "%s/%s belongs to another sweep (its "
                        "name does not carry this sweep's definition hash %s): results of "
                        "different sweeps cannot be merged; move it out", pdir, name, sw->id);
}

static ts_status list_parts(const char *pdir, const ts_sweep *sw, part_index *ix,
                            ts_error *err) {
    DIR *d = opendir(pdir);
    if (!d)
        return errno == ENOENT ? TS_OK : ts_io_error(err, "read directory", pdir, errno);
    struct dirent *de;
    ts_status st = TS_OK;
    while (st == TS_OK && (de = readdir(d))) {
        if (!is_part_name(de->d_name))
            continue;
        if ((st = foreign_part(pdir, de->d_name, sw, err)) != TS_OK)
            break;
        char *p = ts_io_path(pdir, de->d_name);
        char **nn = p ? realloc(ix->names, (ix->nnames + 1) * sizeof *nn) : NULL;
        if (!nn) {
            free(p);
            st = oom(err);
            break;
        }
        ix->names = nn;
        ix->names[ix->nnames++] = p;
    }
    closedir(d);
    if (st == TS_OK && ix->nnames)
        qsort(ix->names, ix->nnames, sizeof *ix->names, cmp_str);
    return st;
}

/* Records the rows [s, e) of point pt (key matched) from file fi. */
static ts_status note_point(part_index *ix, size_t pt, uint32_t fi, const char *base,
                            const char *s, const char *e, int failed, ts_error *err) {
    point_ent cur = {.file = fi, .off = (uint64_t)(s - base), .len = (uint64_t)(e - s),
                     .failed = (unsigned char)failed};
    char hex[65];
    ts_sha256_hex(s, (size_t)(e - s), hex);
    memcpy(cur.hash, hex, sizeof cur.hash);
    point_ent *old = &ix->ent[pt];
    if (old->file == UINT32_MAX) {
        *old = cur;
        return TS_OK;
    }
    int same = memcmp(old->hash, cur.hash, sizeof cur.hash) == 0;
    if (push(same ? &ix->dup : &ix->conf, same ? &ix->ndup : &ix->nconf, pt))
        return oom(err);
    return TS_OK;
}

static ts_status bad_part(ts_error *err, const char *path, size_t line, const char *why) {
    return ts_error_set(err, TS_EINPUT, path, (int)line, 1, "", "not a talentsim part file: %s "
                        "(move it out of the points/ directory)", why);
}

/* Indexes one part file. */
static ts_status index_file(part_index *ix, uint32_t fi, const ts_sweep *sw, const char *keys,
                            ts_error *err) {
    const char *path = ix->names[fi];
    char *buf;
    size_t len;
    if (ts_io_slurp(path, MAX_PART_BYTES, &buf, &len) != 0)
        return ts_io_error(err, "read", path, errno);
    ts_status st = TS_OK;
    size_t hl = strlen(PART_HEADER), line = 1;
    if (len < hl || memcmp(buf, PART_HEADER, hl) != 0) {
        free(buf);
        return bad_part(err, path, 1, "its header is not " "'point,key,status,...'");
    }
    char *fields[PART_FIELDS], tmp[4096];
    const char *end = buf + len, *s = buf + hl, *group = NULL;
    size_t gpt = 0;
    int gstale = 0, gfailed = 0;
    while (st == TS_OK && s <= end) {
        const char *e = s < end ? record_end(s, end) : end;
        line++;
        size_t pt = 0;
        int ok = 1;
        if (s < end) {
            ok = split_line(s, (size_t)(e - s - (e[-1] == '\n')), tmp, sizeof tmp, fields) == 0;
            char *pe;
            pt = ok ? (size_t)strtoull(fields[0], &pe, 10) : 0;
            ok = ok && pe != fields[0] && *pe == '\0';
        }
        if (!ok) {
            st = bad_part(err, path, line, "a line does not have the 11 fields of a part file");
            break;
        }
        /* a new point (or the end) closes the current group */
        if (group && (s == end || pt != gpt)) {
            if (gstale)
                ix->stale++;
            else
                st = note_point(ix, gpt, fi, buf, group, s, gfailed, err);
            group = NULL;
        }
        if (s == end)
            break;
        if (!group) {
            group = s;
            gpt = pt;
            gstale = pt >= sw->npoints ||
                     strcmp(fields[1], keys + pt * (TS_SWEEP_KEY_LEN + 1)) != 0;
            gfailed = strcmp(fields[2], "failed") == 0;
        }
        s = e;
    }
    free(buf);
    return st;
}

static ts_status build_index(const char *dir, const ts_sweep *sw, const char *keys,
                             part_index *ix, ts_error *err) {
    memset(ix, 0, sizeof *ix);
    char *pdir = ts_io_path(dir, "points");
    if (!pdir || !(ix->ent = malloc(sw->npoints * sizeof *ix->ent))) {
        free(pdir);
        return oom(err);
    }
    for (size_t i = 0; i < sw->npoints; i++)
        ix->ent[i].file = UINT32_MAX;
    ts_status st = list_parts(pdir, sw, ix, err);
    free(pdir);
    for (size_t f = 0; st == TS_OK && f < ix->nnames; f++)
        st = index_file(ix, (uint32_t)f, sw, keys, err);
    return st;
}

ts_status ts_sweep_store_done(const char *dir, const ts_sweep *sw, const char *keys,
                              unsigned char *done, ts_error *err) {
    part_index ix;
    ts_status st = build_index(dir, sw, keys, &ix, err);
    for (size_t i = 0; st == TS_OK && i < sw->npoints; i++)
        done[i] = ix.ent[i].file != UINT32_MAX;
    index_free(&ix);
    return st;
}

/* ---- running a batch ---- */

static void put_field(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void put_num(FILE *f, double v) {
    char buf[TS_NUM_BUFSZ];
    ts_output_format_double(v, buf);
    fprintf(f, ",%s", buf);
}

/* The rows of point i: its summaries, or its failure. */
static void write_point(FILE *f, const ts_sweep *sw, size_t i, const char *key,
                        const ts_results *r, const ts_error *why, double *work) {
    if (!r) {
        fprintf(f, "%zu,%s,failed,,,,,,,,", i, key);
        char msg[sizeof why->msg + 16];
        ts_error_format(why, msg, sizeof msg);
        put_field(f, msg);
        fputc('\n', f);
        return;
    }
    for (size_t y = 0; y < sw->nyears; y++) {
        long yi = ts_results_year_index(r, sw->years[y]);
        for (int m = 0; m < TS_NMETRICS; m++) {
            if (!sw->keep_metric[m])
                continue;
            ts_summary s = {.mean = 0.0 / 0.0, .sd = 0.0 / 0.0, .p2_5 = 0.0 / 0.0,
                            .p50 = 0.0 / 0.0, .p97_5 = 0.0 / 0.0};
            if (yi >= 0)
                ts_summary_metric(r, (size_t)yi, (ts_metric)m, work, &s);
            fprintf(f, "%zu,%s,ok,%lld,%s", i, key, (long long)sw->years[y],
                    ts_metric_name((ts_metric)m));
            put_num(f, s.mean);
            put_num(f, s.sd);
            put_num(f, s.p2_5);
            put_num(f, s.p50);
            put_num(f, s.p97_5);
            fputs(",\n", f);
        }
    }
}

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

ts_status ts_sweep_run_batch(const ts_sweep *sw, const char *keys, const size_t *idx, size_t n,
                             const ts_run_opts *opt, const char *dir, ts_error *err) {
    size_t *order = malloc(n * sizeof *order);
    ts_scenario **pt = calloc(n, sizeof *pt), **run = calloc(n, sizeof *run);
    ts_results **res = calloc(n, sizeof *res);
    ts_error *why = calloc(n, sizeof *why);
    double *work = malloc((size_t)sw->base->base.replications * sizeof *work);
    ts_status st = TS_OK;
    size_t nrun = 0;
    if (!order || !pt || !run || !res || !why || !work) {
        st = oom(err);
        goto done;
    }
    memcpy(order, idx, n * sizeof *order);
    qsort(order, n, sizeof *order, cmp_size);
    for (size_t b = 0; b < n && st == TS_OK; b++) {
        ts_status ps = ts_sweep_point(sw, order[b], &pt[b], &why[b]);
        if (ps == TS_ERUNTIME)
            st = oom(err);
        else if (ps == TS_OK)
            run[nrun++] = pt[b];
    }
    if (st == TS_OK && nrun)
        st = ts_sim_run_many((const ts_scenario *const *)run, nrun, opt, res, err);
    if (st != TS_OK)
        goto done;
    char *pdir = ts_io_path(dir, "points"), name[96];
    snprintf(name, sizeof name, "part-%s-%09zu-%zu.csv", sw->id, order[0], n);
    ts_atomic *a = pdir ? ts_atomic_open(pdir, name, err) : NULL;
    free(pdir);
    if (!a) {
        st = pdir ? TS_ERUNTIME : oom(err);
        goto done;
    }
    FILE *f = ts_atomic_stream(a);
    fputs(PART_HEADER, f);
    for (size_t b = 0, r = 0; b < n; b++) {
        const ts_results *rb = why[b].status == TS_OK ? res[r++] : NULL;
        write_point(f, sw, order[b], keys + order[b] * (TS_SWEEP_KEY_LEN + 1), rb, &why[b], work);
    }
    st = ts_atomic_commit(a, err);
done:
    for (size_t b = 0; b < n; b++) {
        if (pt)
            ts_scenario_free(pt[b]);
        if (res && b < nrun)
            ts_results_free(res[b]);
    }
    free(order);
    free(pt);
    free(run);
    free(res);
    free(why);
    free(work);
    return st;
}

/* ---- merge ---- */

void ts_sweep_merge_report_free(ts_sweep_merge_report *r) {
    free(r->missing);
    free(r->duplicated);
    free(r->conflicting);
    memset(r, 0, sizeof *r);
}

void ts_sweep_table_free(ts_sweep_table *t) {
    free(t->m);
    free(t->status);
    memset(t, 0, sizeof *t);
}

static void put_params(FILE *f, const ts_sweep *sw, size_t i) {
    char buf[128];
    fprintf(f, "%zu", i);
    for (size_t j = 0; j < sw->k; j++) {
        ts_sweep_value_text(sw, i, j, buf, sizeof buf);
        fputc(',', f);
        put_field(f, buf);
    }
}

static void put_header(FILE *f, const ts_sweep *sw, const char *tail) {
    fputs("point", f);
    for (size_t j = 0; j < sw->k; j++)
        fprintf(f, ",%s", sw->param[j].key);
    fputs(tail, f);
}

int ts_sweep_write_design(FILE *f, const ts_sweep *sw) {
    put_header(f, sw, "\n");
    for (size_t i = 0; i < sw->npoints; i++) {
        put_params(f, sw, i);
        fputc('\n', f);
    }
    return ferror(f) ? -1 : 0;
}

static long year_slot(const ts_sweep *sw, long long year) {
    for (size_t y = 0; y < sw->nyears; y++)
        if (sw->years[y] == year)
            return (long)y;
    return -1;
}

/* Copies point i's rows (bytes) into the outputs and the table. */
static ts_status emit_point(const ts_sweep *sw, size_t i, const char *rows, size_t len,
                            FILE *out, FILE *fail, ts_sweep_table *t, ts_error *err) {
    char *fields[PART_FIELDS], tmp[4096];
    const char *s = rows, *end = rows + len;
    while (s < end) {
        const char *e = record_end(s, end);
        if (split_line(s, (size_t)(e - s - (e[-1] == '\n')), tmp, sizeof tmp, fields) != 0)
            return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "a part file changed during "
                                "the merge (point %zu)", i);
        if (strcmp(fields[2], "ok") == 0) {
            put_params(out, sw, i);
            fprintf(out, ",%s,%s,%s,%s,%s,%s,%s\n", fields[3], fields[4], fields[5], fields[6],
                    fields[7], fields[8], fields[9]);
            long y = year_slot(sw, atoll(fields[3]));
            int m = ts_metric_find(fields[4]);
            if (t && t->m && y >= 0 && m >= 0)
                t->m[(i * sw->nyears + (size_t)y) * TS_NMETRICS + (size_t)m] =
                    *fields[5] ? strtod(fields[5], NULL) : 0.0 / 0.0;
        } else {
            put_params(fail, sw, i);
            fprintf(fail, ",%s,", fields[2]);
            put_field(fail, fields[10]);
            fputc('\n', fail);
        }
        s = e;
    }
    return TS_OK;
}

static ts_status read_rows(const part_index *ix, size_t i, char **buf, size_t *cap,
                           ts_error *err) {
    const point_ent *pe = &ix->ent[i];
    if (pe->len + 1 > *cap) {
        char *nb = realloc(*buf, pe->len + 1);
        if (!nb)
            return oom(err);
        *buf = nb;
        *cap = pe->len + 1;
    }
    int fd = open(ix->names[pe->file], O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? pread(fd, *buf, pe->len, (off_t)pe->off) : -1;
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (got != (ssize_t)pe->len)
        return ts_io_error(err, "read", ix->names[pe->file], got < 0 ? e : EIO);
    return TS_OK;
}

static ts_status write_merge(const char *dir, const ts_sweep *sw, const part_index *ix,
                             ts_sweep_table *t, ts_error *err) {
    ts_atomic *out = ts_atomic_open(dir, "sweep.csv", err);
    ts_atomic *fail = out ? ts_atomic_open(dir, "failures.csv", err) : NULL;
    if (!fail) {
        ts_atomic_abort(out);
        return TS_ERUNTIME;
    }
    put_header(ts_atomic_stream(out), sw, ",year,metric,mean,sd,p2_5,p50,p97_5\n");
    put_header(ts_atomic_stream(fail), sw, ",status,error\n");
    char *buf = NULL;
    size_t cap = 0;
    ts_status st = TS_OK;
    for (size_t i = 0; i < sw->npoints && st == TS_OK; i++)
        if ((st = read_rows(ix, i, &buf, &cap, err)) == TS_OK)
            st = emit_point(sw, i, buf, ix->ent[i].len, ts_atomic_stream(out),
                            ts_atomic_stream(fail), t, err);
    free(buf);
    if (st == TS_OK && (st = ts_atomic_commit(out, err)) == TS_OK)
        return ts_atomic_commit(fail, err);
    if (st != TS_OK && out)
        ts_atomic_abort(out);
    ts_atomic_abort(fail);
    return st;
}

ts_status ts_sweep_merge(const char *dir, const ts_sweep *sw, ts_sweep_merge_report *rep,
                         ts_sweep_table *table, ts_error *err) {
    memset(rep, 0, sizeof *rep);
    rep->npoints = sw->npoints;
    char *keys = ts_sweep_keys(sw, err);
    if (!keys)
        return TS_ERUNTIME;
    part_index ix;
    ts_status st = build_index(dir, sw, keys, &ix, err);
    free(keys);
    for (size_t i = 0; st == TS_OK && i < sw->npoints; i++) {
        if (ix.ent[i].file == UINT32_MAX) {
            if (push(&rep->missing, &rep->nmissing, i))
                st = oom(err);
        } else {
            rep->failed += ix.ent[i].failed;
            rep->ok += !ix.ent[i].failed;
        }
    }
    if (st == TS_OK) {
        if (ix.ndup)
            qsort(ix.dup, ix.ndup, sizeof *ix.dup, cmp_size);
        if (ix.nconf)
            qsort(ix.conf, ix.nconf, sizeof *ix.conf, cmp_size);
        rep->duplicated = ix.dup;
        rep->nduplicated = ix.ndup;
        rep->conflicting = ix.conf;
        rep->nconflicting = ix.nconf;
        rep->stale = ix.stale;
        ix.dup = ix.conf = NULL;
    }
    size_t cells = sw->npoints * sw->nyears * TS_NMETRICS;
    if (st == TS_OK && table) {
        table->m = malloc(cells * sizeof *table->m);
        table->status = calloc(sw->npoints, 1);
        if (!table->m || !table->status)
            st = oom(err);
        for (size_t c = 0; st == TS_OK && c < cells; c++)
            table->m[c] = 0.0 / 0.0;
        for (size_t i = 0; st == TS_OK && i < sw->npoints; i++)
            table->status[i] = ix.ent[i].file == UINT32_MAX ? 0 : ix.ent[i].failed ? 2 : 1;
    }
    if (st == TS_OK && rep->nmissing == 0 && rep->nconflicting == 0)
        st = write_merge(dir, sw, &ix, table, err);
    index_free(&ix);
    return st;
}
