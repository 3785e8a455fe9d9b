/* The structure-of-arrays engine against the distributions of the engine it
 * replaced (tests/data/engine_ref/README.md): every metric of every year of
 * the baseline as it was then (baseline_v2.yaml, not scenarios/baseline.yaml,
 * whose parameters have since been calibrated) agrees within 4 standard
 * errors of the difference of two independent means (another seed here).
 * Long: make check-long. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define REF "tests/data/engine_ref/baseline_f0.1_r200_s1.csv"
#define REF_SCENARIO "tests/data/engine_ref/baseline_v2.yaml" /* the scenario REF ran */
#define K_SE 4.0
#define MAXROWS 2000

typedef struct {
    char key[96]; /* year,metric */
    double mean, sd;
    int n;
} row;

/* Rows of a summary.csv: scenario,year,metric,mean,sd,...,replications. */
static int load(const char *path, row *rows) {
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    char line[512];
    int n = 0;
    cr_assert_not_null(fgets(line, sizeof line, f)); /* header */
    while (n < MAXROWS && fgets(line, sizeof line, f)) {
        char *fld[9];
        int k = 0;
        for (char *p = line, *s; k < 9 && (s = strsep(&p, ",\n")); )
            fld[k++] = s;
        cr_assert_eq(k, 9, "%s: malformed row", path);
        snprintf(rows[n].key, sizeof rows[n].key, "%s,%s", fld[1], fld[2]);
        rows[n].mean = *fld[3] ? atof(fld[3]) : NAN;
        rows[n].sd = *fld[4] ? atof(fld[4]) : NAN;
        rows[n].n = atoi(fld[8]);
        n++;
    }
    fclose(f);
    return n;
}

Test(engine_ref, distributions_agree_with_the_previous_engine, .disabled = 0) {
    if (!getenv("TALENTSIM_LONG"))
        cr_skip_test("long test: run with make check-long");
    const char *b = getenv("TALENTSIM_BIN");
    char dir[] = "/tmp/ts_engine_ref_XXXXXX", cmd[1024], path[256];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "%s " REF_SCENARIO " -r 200 -s 2 --set sample_fraction=0.1 -o %s -f -q",
             b ? b : "./talentsim", dir);
    int st = system(cmd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "run failed: %s", cmd);
    static row old[MAXROWS], cur[MAXROWS];
    int nold = load(REF, old);
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    int ncur = load(path, cur);
    cr_assert_eq(nold, ncur);
    int compared = 0;
    double worst = 0.0;
    for (int i = 0; i < nold; i++) {
        cr_assert_str_eq(old[i].key, cur[i].key);
        if (isnan(old[i].mean) || isnan(cur[i].mean)) {
            cr_expect(isnan(old[i].mean) && isnan(cur[i].mean), "%s: missing in one", old[i].key);
            continue;
        }
        double se = sqrt(old[i].sd * old[i].sd / old[i].n + cur[i].sd * cur[i].sd / cur[i].n);
        double d = fabs(old[i].mean - cur[i].mean);
        if (se == 0.0) {
            cr_expect_eq(d, 0.0, "%s: %g vs %g with no spread", old[i].key, old[i].mean,
                         cur[i].mean);
            continue;
        }
        worst = d / se > worst ? d / se : worst;
        cr_expect(d <= K_SE * se, "%s: previous %g, now %g (%.1f standard errors)", old[i].key,
                  old[i].mean, cur[i].mean, d / se);
        compared++;
    }
    fprintf(stderr, "engine_ref: %d metric-years compared, largest difference %.2f SE\n",
            compared, worst);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}
