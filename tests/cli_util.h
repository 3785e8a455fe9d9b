/* What the tests that run the talentsim program share: a private temporary
 * directory per test (TS_TEST_TMP_PREFIX, e.g. "/tmp/ts_cli_"), the program
 * (TALENTSIM_BIN, else ./talentsim, run from the repository root), its
 * output captured in tmp/out.txt, and files under tmp. Include once per
 * test file, after defining TS_TEST_TMP_PREFIX; pass make_tmp and
 * remove_tmp to TestSuite. Everything is static inline, so a file that
 * uses only part of it gets no unused-function warning. */
#ifndef TALENTSIM_TESTS_CLI_UTIL_H
#define TALENTSIM_TESTS_CLI_UTIL_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef TS_TEST_TMP_PREFIX
#error "define TS_TEST_TMP_PREFIX before including cli_util.h"
#endif

static char tmp[256];

static inline void make_tmp(void) {
    snprintf(tmp, sizeof tmp, "%sXXXXXX", TS_TEST_TMP_PREFIX);
    cr_assert_not_null(mkdtemp(tmp));
}

static inline void remove_tmp(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    cr_assert_eq(system(cmd), 0);
}

static inline const char *bin(void) {
    const char *b = getenv("TALENTSIM_BIN");
    return b ? b : "./talentsim";
}

/* Runs shell command cmd, stdout and stderr into tmp/out.txt; the exit
 * code, -1 when it did not exit. */
static inline int sh_out(const char *cmd) {
    char full[8192 + sizeof tmp + 16];
    snprintf(full, sizeof full, "%s >'%s/out.txt' 2>&1", cmd, tmp);
    int st = system(full);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* `talentsim args` through sh_out. */
static inline int run_bin(const char *args) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s", bin(), args);
    return sh_out(cmd);
}

/* run_bin of the formatted arguments. */
static inline int run_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline int run_fmt(const char *fmt, ...) {
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return run_bin(args);
}

/* The whole file at path, NUL-terminated (free it), its length into *size
 * when size is not NULL; NULL when it cannot be opened. */
static inline char *slurp_n(const char *path, long *size) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    if (size)
        *size = (long)got;
    return s;
}

static inline char *slurp(const char *path) { return slurp_n(path, NULL); }

/* tmp/name's contents, or NULL. */
static inline char *tmp_file(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    return slurp(path);
}

/* Writes text to tmp/name. */
static inline void write_tmp(const char *name, const char *text) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* 1 when tmp/rel exists. */
static inline int exists(const char *rel) {
    char path[1024];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", tmp, rel);
    return stat(path, &sb) == 0;
}

#endif
