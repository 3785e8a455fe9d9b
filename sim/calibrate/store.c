/* The results directory of a calibration (talentsim/calibrate.h): the run
 * of ABC-SMC with a file set rewritten after every generation, and the
 * resume from the last generation written.
 *
 * A generation's particles are written as CSV with numbers in their
 * shortest round-trip form, so reading them back gives the same doubles
 * and a resumed run continues bit for bit (talentsim/abc.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <omp.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../io/output_internal.h"
#include "talentsim/calibrate.h"
#include "calib_priv.h"
#include "talentsim/output.h"

#define RESOLVED "calibration.resolved.yaml"
#define GEN_DIR "generations"
#define GEN_HEADER "generation,tolerance,acceptance_rate,ess,evaluations,seconds"
#define MAX_CSV_BYTES ((size_t)1 << 30)

static ts_status oom(ts_error *err) {
    return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "out of memory");
}

static void put_num(FILE *f, double v) {
    char buf[TS_NUM_BUFSZ];
    if (isinf(v)) {
        fputs(v > 0 ? "Inf" : "-Inf", f); /* pandas and R read these */
        return;
    }
    ts_output_format_double(v, buf);
    fputs(buf, f);
}

/* ---- writing ---- */

/* particle,<keys>,weight,distance and a row per particle. */
static void write_particles(FILE *f, const ts_calibration *c, const ts_abc_generation *g) {
    fputs("particle", f);
    for (size_t j = 0; j < c->k; j++)
        fprintf(f, ",%s", c->param[j].key);
    fputs(",weight,distance\n", f);
    for (size_t i = 0; i < g->n; i++) {
        fprintf(f, "%zu", i + 1);
        for (size_t j = 0; j < c->k; j++) {
            fputc(',', f);
            put_num(f, g->theta[i * c->k + j]);
        }
        fputc(',', f);
        put_num(f, g->weight[i]);
        fputc(',', f);
        put_num(f, g->dist[i]);
        fputc('\n', f);
    }
}

/* One row of generations.csv. */
typedef struct {
    size_t index, evaluations;
    double eps, acceptance, ess, seconds;
} gen_row;

static void write_gen_rows(FILE *f, const gen_row *rows, size_t n) {
    fputs(GEN_HEADER "\n", f);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%zu,", rows[i].index);
        put_num(f, rows[i].eps);
        fputc(',', f);
        put_num(f, rows[i].acceptance);
        fputc(',', f);
        put_num(f, rows[i].ess);
        fprintf(f, ",%zu,%.3f\n", rows[i].evaluations, rows[i].seconds);
    }
}

static const char *prior_name(const ts_abc_prior *p) {
    return p->kind == TS_ABC_UNIFORM ? "uniform" : "normal";
}

static void write_summary(FILE *f, const ts_calibration *c, const ts_abc_summary *s) {
    fputs("parameter,prior,prior_lo,prior_hi,mean,sd,p2_5,p50,p97_5,prior_mu,prior_sd,"
          "sd_ratio\n", f);
    for (size_t j = 0; j < c->k; j++) {
        const ts_abc_prior *p = &c->param[j].prior;
        double v[] = {p->lo, p->hi, s[j].mean, s[j].sd, s[j].p2_5, s[j].p50, s[j].p97_5,
                      p->kind == TS_ABC_NORMAL ? p->mu : NAN,
                      p->kind == TS_ABC_NORMAL ? p->sd : NAN, s[j].sd / ts_abc_prior_sd(p)};
        fprintf(f, "%s,%s", c->param[j].key, prior_name(p));
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
            fputc(',', f);
            if (!isnan(v[i]))
                put_num(f, v[i]);
        }
        fputc('\n', f);
    }
}

/* correlations.csv: the weighted posterior correlation of every pair. */
static void write_correlations(FILE *f, const ts_calibration *c, const double *corr) {
    fputs("parameter_a,parameter_b,correlation\n", f);
    for (size_t a = 0; a < c->k; a++)
        for (size_t b = a + 1; b < c->k; b++) {
            fprintf(f, "%s,%s,", c->param[a].key, c->param[b].key);
            if (!isnan(corr[a * c->k + b]))
                put_num(f, corr[a * c->k + b]);
            fputc('\n', f);
        }
}

/* The path of file `to` relative to directory `from` (both made absolute
 * first), or NULL. */
static char *relative_path(const char *from, const char *to) {
    char a[PATH_MAX], b[PATH_MAX];
    if (!realpath(from, a) || !realpath(to, b))
        return NULL;
    size_t common = 0, i = 0;
    for (; a[i] && a[i] == b[i]; i++)
        if (a[i] == '/')
            common = i;
    if (!a[i] && b[i] == '/')
        common = i;
    size_t ups = 0;
    for (const char *s = a + common; *s; s++)
        ups += *s == '/' && s[1];
    if (a[common] == '/' && a[common + 1] == '\0')
        ups = 0;
    char *out = malloc(3 * ups + strlen(b) + 1);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (size_t u = 0; u < ups; u++)
        strcat(out, "../");
    strcat(out, b + common + 1);
    return out;
}

/* calibrated.yaml: the input extended with the posterior medians; a value
 * set by a policy becomes a policy over the same years, applied after it. */
static void write_calibrated(FILE *f, const ts_calibration *c, const ts_scenario *input,
                             const char *dir, const ts_abc_summary *s, size_t gen) {
    char *rel = relative_path(dir, input->path);
    char buf[64], name[200];
    fprintf(f, "# Written by talentsim calibrate: %s with the posterior medians of its\n"
               "# free parameters after generation %zu (docs/calibration.md).\n",
            input->path, gen);
    fputs("extends: ", f);
    ts_yaml_put_quoted(f, rel ? rel : input->path);
    free(rel);
    snprintf(name, sizeof name, "%.40s_calibrated", input->name);
    fputs("\nname: ", f);
    ts_yaml_put_quoted(f, name);
    fputc('\n', f);
    int policies = 0;
    for (size_t j = 0; j < c->k; j++) {
        ts_param_format(c->param[j].ref.param, s[j].p50, buf, sizeof buf);
        if (c->param[j].ref.policy < 0)
            fprintf(f, "%s: %s\n", c->param[j].ref.param->key, buf);
        policies |= c->param[j].ref.policy >= 0;
    }
    if (policies)
        fputs("policies:\n", f);
    for (size_t j = 0; j < c->k && policies; j++) {
        const ts_calib_param *cp = &c->param[j];
        if (cp->ref.policy < 0)
            continue;
        const ts_policy *pol = &c->base->policies[cp->ref.policy];
        ts_param_format(cp->ref.param, s[j].p50, buf, sizeof buf);
        snprintf(name, sizeof name, "calibrated %s", pol->name);
        fputs("  - name: ", f);
        ts_yaml_put_quoted(f, name);
        fprintf(f, "\n    from: %lld\n", (long long)pol->from);
        if (!pol->to_open)
            fprintf(f, "    to: %lld\n", (long long)pol->to);
        fprintf(f, "    set: {%s: %s}\n", cp->ref.param->key, buf);
    }
}

/* ---- reading ---- */

/* Splits line s (NUL-terminated, no quotes) at commas in place; the number
 * of fields, at most max (more counts as max + 1). */
static size_t split(char *s, char **f, size_t max) {
    size_t n = 0;
    for (;;) {
        if (n < max)
            f[n] = s;
        n++;
        char *c = strchr(s, ',');
        if (!c)
            return n > max ? max + 1 : n;
        *c = '\0';
        s = c + 1;
    }
}

/* A number field (Inf allowed); 0 or -1. */
static int number(const char *s, double *v) {
    char *end;
    *v = strtod(s, &end);
    return end != s && *end == '\0' && !isnan(*v) ? 0 : -1;
}

static ts_status bad_line(ts_error *err, const char *path, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static ts_status bad_line(ts_error *err, const char *path, size_t line, const char *fmt, ...) {
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ts_error_set(err, TS_EINPUT, path, (int)line, 0, "", "%s", msg);
}

/* The next line of *s (NUL-terminated in place), or NULL at the end. */
static char *next_line(char **s) {
    if (!**s)
        return NULL;
    char *l = *s, *e = strchr(l, '\n');
    if (e) {
        *e = '\0';
        *s = e + 1;
    } else {
        *s = l + strlen(l);
    }
    if (*l && l[strlen(l) - 1] == '\r')
        l[strlen(l) - 1] = '\0';
    return l;
}

void ts_particles_free(ts_particles *p) {
    for (size_t j = 0; p->key && j < p->k; j++)
        free(p->key[j]);
    free(p->key);
    free(p->theta);
    free(p->weight);
    free(p->dist);
    *p = (ts_particles){0};
}

static ts_status particles_header(char *line, const char *path, ts_particles *p,
                                  char **f, ts_error *err) {
    size_t nf = split(line, f, TS_CALIB_MAX_PARAMS + 3);
    if (nf < 4 || nf > TS_CALIB_MAX_PARAMS + 3 || strcmp(f[0], "particle") != 0 ||
        strcmp(f[nf - 2], "weight") != 0 || strcmp(f[nf - 1], "distance") != 0)
        return bad_line(err, path, 1, "not a posterior file: the header must be particle, the "
                        "parameters, weight, distance");
    p->k = nf - 3;
    if (!(p->key = calloc(p->k, sizeof *p->key)))
        return oom(err);
    for (size_t j = 0; j < p->k; j++)
        if (!(p->key[j] = strdup(f[j + 1])))
            return oom(err);
    return TS_OK;
}

static ts_status particles_rows(char *s, const char *path, ts_particles *p, char **f,
                                ts_error *err) {
    size_t cap = 0, line = 1, k = p->k;
    for (char *l; (l = next_line(&s));) {
        line++;
        if (!*l)
            continue;
        if (p->n == cap) {
            cap = cap ? 2 * cap : 256;
            double *t = realloc(p->theta, cap * k * sizeof *t), *w, *d;
            if (t)
                p->theta = t;
            w = t ? realloc(p->weight, cap * sizeof *w) : NULL;
            if (w)
                p->weight = w;
            d = w ? realloc(p->dist, cap * sizeof *d) : NULL;
            if (!d)
                return oom(err);
            p->dist = d;
        }
        if (split(l, f, k + 3) != k + 3)
            return bad_line(err, path, line, "expected one value per column");
        for (size_t j = 0; j <= k + 1; j++) {
            double *dst = j < k ? &p->theta[p->n * k + j] : j == k ? &p->weight[p->n]
                                                                   : &p->dist[p->n];
            if (number(f[j + 1], dst) != 0)
                return bad_line(err, path, line, "column '%s' is not a number",
                                j < k ? p->key[j] : j == k ? "weight" : "distance");
        }
        p->n++;
    }
    return p->n ? TS_OK : bad_line(err, path, line, "%s holds no particle", path);
}

ts_status ts_particles_read(const char *path, ts_particles *p, ts_error *err) {
    char *buf = NULL, *s, *f[TS_CALIB_MAX_PARAMS + 4];
    size_t len;
    *p = (ts_particles){0};
    if (ts_io_slurp(path, MAX_CSV_BYTES, &buf, &len) != 0)
        return errno == ENOENT ? ts_error_set(err, TS_EINPUT, path, 0, 0, "", "cannot read "
                                              "%s: %s", path, strerror(errno))
                               : ts_io_error(err, "read", path, errno);
    s = buf;
    char *head = next_line(&s);
    ts_status st = head ? particles_header(head, path, p, f, err)
                        : bad_line(err, path, 1, "%s is empty", path);
    if (st == TS_OK)
        st = particles_rows(s, path, p, f, err);
    free(buf);
    if (st != TS_OK)
        ts_particles_free(p);
    return st;
}

/* generations.csv back into rows; 0 rows when it does not exist. */
static ts_status read_gen_rows(const char *path, gen_row **rows, size_t *n, ts_error *err) {
    char *buf = NULL, *s, *f[7];
    size_t len, line = 1;
    *n = 0;
    if (ts_io_slurp(path, MAX_CSV_BYTES, &buf, &len) != 0)
        return errno == ENOENT ? TS_OK : ts_io_error(err, "read", path, errno);
    s = buf;
    char *l = next_line(&s);
    ts_status st = l && strcmp(l, GEN_HEADER) == 0 ? TS_OK
                   : bad_line(err, path, 1, "%s is not a calibration's generations file", path);
    while (st == TS_OK && (l = next_line(&s))) {
        double v[6];
        line++;
        if (split(l, f, 6) != 6)
            st = bad_line(err, path, line, "expected 6 columns");
        for (int i = 0; i < 6 && st == TS_OK; i++)
            if (number(f[i], &v[i]) != 0)
                st = bad_line(err, path, line, "a column is not a number");
        gen_row *g = st == TS_OK ? realloc(*rows, (*n + 1) * sizeof *g) : NULL;
        if (st == TS_OK && !g)
            st = oom(err);
        if (st == TS_OK) {
            *rows = g;
            g[(*n)++] = (gen_row){(size_t)v[0], (size_t)v[4], v[1], v[2], v[3], v[5]};
        }
    }
    free(buf);
    return st;
}

/* ---- the run ---- */

typedef struct {
    const ts_calibration *c;
    const ts_scenario *input;
    const char *dir;
    const ts_calib_opts *opt;
    gen_row *rows;       /* generations.csv so far */
    size_t nrows;
    double t0, seconds0; /* start of this run; seconds of the runs before */
    ts_calib_status st;  /* what the progress callback sees */
} run_ctx;

typedef enum { F_GEN, F_GENERATIONS, F_POSTERIOR, F_SUMMARY, F_CORRELATIONS, F_CALIBRATED }
    file_kind;

/* What the files of a generation are made from. */
typedef struct {
    const ts_abc_generation *g;
    ts_abc_summary sum[TS_CALIB_MAX_PARAMS];
    double corr[TS_CALIB_MAX_PARAMS * TS_CALIB_MAX_PARAMS];
} gen_files;

/* Writes one file of the set for generation g, atomically. */
static ts_status write_file(const run_ctx *x, file_kind kind, const gen_files *gf,
                            ts_error *err) {
    char name[64], gdir[PATH_MAX];
    static const char *const names[] = {NULL, "generations.csv", "posterior.csv", "summary.csv",
                                        "correlations.csv", "calibrated.yaml"};
    const ts_abc_generation *g = gf->g;
    snprintf(gdir, sizeof gdir, "%s/" GEN_DIR, x->dir);
    if (kind == F_GEN)
        snprintf(name, sizeof name, "gen-%03zu.csv", g->index);
    else
        snprintf(name, sizeof name, "%s", names[kind]);
    ts_atomic *a = ts_atomic_open(kind == F_GEN ? gdir : x->dir, name, err);
    if (!a)
        return err->status;
    FILE *f = ts_atomic_stream(a);
    if (kind == F_GEN || kind == F_POSTERIOR)
        write_particles(f, x->c, g);
    else if (kind == F_GENERATIONS)
        write_gen_rows(f, x->rows, x->nrows);
    else if (kind == F_SUMMARY)
        write_summary(f, x->c, gf->sum);
    else if (kind == F_CORRELATIONS)
        write_correlations(f, x->c, gf->corr);
    else
        write_calibrated(f, x->c, x->input, x->dir, gf->sum, g->index);
    return ts_atomic_commit(a, err);
}

static ts_status report(void *ctx, const ts_abc_generation *g, ts_error *err) {
    run_ctx *x = ctx;
    gen_row *r = realloc(x->rows, (x->nrows + 1) * sizeof *r);
    if (!r)
        return oom(err);
    x->rows = r;
    x->rows[x->nrows++] = (gen_row){g->index, g->evaluations, g->eps, g->acceptance, g->ess,
                                    x->seconds0 + omp_get_wtime() - x->t0};
    x->st.prev_acceptance = g->acceptance;
    if (x->opt->no_write)
        return TS_OK;
    gen_files *gf = malloc(sizeof *gf);
    if (!gf)
        return oom(err);
    gf->g = g;
    ts_status st = ts_abc_summarize(g, gf->sum, err);
    if (st == TS_OK)
        st = ts_abc_correlation(g, gf->corr, err);
    for (file_kind k = F_GEN; k <= F_CALIBRATED && st == TS_OK; k++)
        st = write_file(x, k, gf, err);
    free(gf);
    return st;
}

static void progress(run_ctx *x) {
    x->st.seconds = omp_get_wtime() - x->t0;
    if (x->opt->progress)
        x->opt->progress(x->opt->progress_ctx, &x->st);
}

static void start(void *ctx, size_t t, double eps) {
    run_ctx *x = ctx;
    x->st.generation = t;
    x->st.eps = eps;
    progress(x);
}

static ts_status evaluate(void *ctx, const double *theta, size_t n, double *dist,
                          ts_error *err) {
    run_ctx *x = ctx;
    const ts_calib_opts *o = x->opt;
    ts_status st = o->eval ? o->eval(o->eval_ctx, x->c, theta, n, dist, err)
                           : ts_calibration_evaluate(x->c, theta, n, &o->run, dist, err);
    x->st.evaluations += n;
    progress(x);
    return st;
}

/* Removes the files of an earlier run of a calibration in dir. */
static void clear_dir(const char *dir) {
    static const char *const names[] = {"generations.csv", "posterior.csv", "summary.csv",
                                        "correlations.csv", "calibrated.yaml"};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/" GEN_DIR, dir);
    DIR *d = opendir(path);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strncmp(e->d_name, "gen-", 4) != 0)
            continue;
        char file[PATH_MAX + 300];
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        unlink(file);
    }
    if (d)
        closedir(d);
}

/* The last generation written in dir, as a resume record. */
static ts_status load_resume(run_ctx *x, ts_abc_generation *g, ts_error *err) {
    const gen_row *last = &x->rows[x->nrows - 1];
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/" GEN_DIR "/gen-%03zu.csv", x->dir, last->index);
    ts_particles p;
    ts_status st = ts_particles_read(path, &p, err);
    if (st != TS_OK)
        return st;
    int same = p.k == x->c->k;
    for (size_t j = 0; same && j < p.k; j++)
        same = strcmp(p.key[j], x->c->param[j].key) == 0;
    if (!same) {
        ts_particles_free(&p);
        return ts_error_set(err, TS_EINPUT, path, 1, 0, "", "its parameters are not the "
                            "calibration's: remove %s or start afresh with --force", x->dir);
    }
    *g = (ts_abc_generation){.index = last->index, .n = p.n, .k = p.k, .eps = last->eps,
                             .acceptance = last->acceptance, .ess = last->ess,
                             .evaluations = last->evaluations, .theta = p.theta,
                             .weight = p.weight, .dist = p.dist};
    p.theta = p.weight = p.dist = NULL; /* now g's (one block each) */
    ts_particles_free(&p);
    x->seconds0 = last->seconds;
    x->st.evaluations = last->evaluations;
    x->st.prev_acceptance = last->acceptance;
    return TS_OK;
}

/* Stamps dir with the input; loads a resume record into *g (g->theta
 * NULL: start afresh). */
static ts_status prepare(run_ctx *x, ts_abc_generation *g, ts_error *err) {
    char *text, gdir[PATH_MAX], gpath[PATH_MAX];
    size_t len;
    if (ts_resolved_yaml_text(x->input, &text, &len, err) != TS_OK)
        return TS_ERUNTIME;
    snprintf(gdir, sizeof gdir, "%s/" GEN_DIR, x->dir);
    snprintf(gpath, sizeof gpath, "%s/generations.csv", x->dir);
    ts_status st = x->opt->no_write ? TS_OK : ts_make_dirs(gdir, err);
    int stamp = st != TS_OK ? -1 : x->opt->no_write ? 1
                                 : ts_atomic_stamp(x->dir, RESOLVED, text, len, err);
    if (stamp == 2 && !x->opt->force)
        st = ts_error_set(err, TS_EINPUT, "", 0, 0, "", "'%s' holds another calibration (its "
                          RESOLVED " differs from this one's); give another output directory "
                          "(-o), or --force to replace it", x->dir);
    if (stamp == 2 && x->opt->force) { /* replace the other calibration */
        char rpath[PATH_MAX];
        snprintf(rpath, sizeof rpath, "%s/" RESOLVED, x->dir);
        clear_dir(x->dir);
        unlink(rpath);
        stamp = ts_atomic_stamp(x->dir, RESOLVED, text, len, err);
    }
    free(text);
    if (st != TS_OK || stamp < 0)
        return stamp < 0 ? err->status : st;
    if (stamp == 1 && (st = read_gen_rows(gpath, &x->rows, &x->nrows, err)) != TS_OK)
        return st;
    if (x->nrows && x->opt->resume)
        return load_resume(x, g, err);
    if (x->nrows && !x->opt->force)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "", "'%s' holds %zu generation(s) of an "
                            "earlier run of this calibration: --resume continues it, --force "
                            "starts again", x->dir, x->nrows);
    if (x->nrows && !x->opt->no_write)
        clear_dir(x->dir);
    x->nrows = 0;
    return TS_OK;
}

ts_status ts_calibration_run(const ts_calibration *c, const ts_scenario *input,
                             const char *dir, const ts_calib_opts *opt, ts_abc_result *res,
                             ts_error *err) {
    run_ctx x = {.c = c, .input = input, .dir = dir, .opt = opt, .t0 = omp_get_wtime(),
                 .st = {.eps = INFINITY, .prev_acceptance = 1, .budget = c->abc.budget}};
    ts_abc_generation resume = {0};
    ts_abc_prior prior[TS_CALIB_MAX_PARAMS];
    *res = (ts_abc_result){.stop = TS_ABC_STOP_NONE};
    ts_status st = prepare(&x, &resume, err);
    for (size_t j = 0; j < c->k; j++)
        prior[j] = c->param[j].prior;
    ts_abc_problem pb = {.k = c->k, .prior = prior, .eval = evaluate, .eval_ctx = &x,
                         .report = report, .report_ctx = &x, .start = start};
    if (st == TS_OK)
        st = ts_abc_run(&pb, &c->abc, resume.theta ? &resume : NULL, res, err);
    free(resume.theta);
    free(resume.weight);
    free(resume.dist);
    free(x.rows);
    return st;
}
