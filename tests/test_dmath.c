/* sim/model/dmath.h: accuracy against long double references, special
 * values, and bit-identity of the scalar, default-target, SSE4.2, AVX2 and
 * AVX-512 code the compiler generates for loops over the functions. The measured maximum errors are
 * printed with --verbose (docs/numerics.md quotes them). */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <float.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/model/dmath.h"

TestSuite(dmath);

/* splitmix64: the test's fixed-seed generator. */
static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static double next_unit(uint64_t *s) {
    return (double)(next_u64(s) >> 11) * 0x1p-53;
}

/* The spacing of doubles at ref: 2^(e-53) for |ref| in [2^(e-1), 2^e), and
 * 2^-1074 among subnormals. */
static long double ulp_at(long double ref) {
    int e;
    frexpl(fabsl(ref), &e);
    return ldexpl(1.0L, e - 53 < -1074 ? -1074 : e - 53);
}

static double err_ulp(double got, long double ref) {
    return (double)(fabsl((long double)got - ref) / ulp_at(ref));
}

/* The worst error seen and where. */
typedef struct {
    double max;  /* ulp */
    double at;   /* argument */
} worst;

static void track(worst *w, double arg, double got, long double ref) {
    double e = err_ulp(got, ref);
    if (!(e <= w->max)) {  /* also catches NaN */
        w->max = e;
        w->at = arg;
    }
}

/* ---- exp -------------------------------------------------------------- */

static void exp_check(worst *w, double x) {
    track(w, x, ts_m_exp(x), expl((long double)x));
}

Test(dmath, exp_accuracy) {
    uint64_t s = 1;
    worst w = {0, 0};
    const double lo = -745.13, hi = 709.78;
    for (int i = 0; i < 2000000; i++)
        exp_check(&w, lo + (hi - lo) * next_unit(&s));
    /* |x| small, where e^x ~ 1 + x */
    for (int i = 0; i < 100000; i++) {
        double m = next_unit(&s) - 0.5;  /* one draw per statement: */
        int e = -(int)(next_u64(&s) % 60);  /* argument order is unspecified */
        exp_check(&w, ldexp(m, e));
    }
    const double edge[] = {
        0.0, -0.0, 1.0, -1.0, 0x1p-1074, -0x1p-1074, 0x1p-30, -0x1p-30,
        0.34657359027997264, -0.34657359027997264,  /* +-ln2/2: the k boundary */
        0.6931471805599453, 10.0, -10.0, 700.0, 709.0, 709.7, 709.782712893384,
        -708.3964185322641, -708.4, -720.0, -740.0, -744.44, -745.0, -745.133,
        -228.3901568243042, -384.3481632351025,  /* worst of a 2e8-point search */
    };
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        exp_check(&w, edge[i]);
    cr_log_info("dmath: ts_m_exp max error %.4f ulp at x = %.17g", w.max, w.at);
    cr_expect(w.max < 1.0, "ts_m_exp: %.4f ulp at x = %.17g", w.max, w.at);
}

Test(dmath, exp_special) {
    const double inf = (double)INFINITY;
    cr_expect(ts_m_exp(0.0) == 1.0 && ts_m_exp(-0.0) == 1.0);
    cr_expect(fabs(ts_m_exp(1.0) - 2.718281828459045) <= 0x1p-51);  /* within 1 ulp */
    cr_expect(ts_m_exp(inf) == inf);
    cr_expect(ts_m_exp(-inf) == 0.0 && !signbit(ts_m_exp(-inf)));
    cr_expect(isnan(ts_m_exp((double)NAN)));
    /* overflow threshold ln(DBL_MAX): largest x with a finite result */
    const double othr = 709.782712893383973096;
    cr_expect(isfinite(ts_m_exp(othr)) && ts_m_exp(othr) > 0x1.fffffffffffp1023);
    cr_expect(ts_m_exp(nextafter(othr, 800.0)) == inf);
    cr_expect(ts_m_exp(1e308) == inf);
    /* underflow: e^-745.13 rounds to the smallest subnormal, below is 0 */
    const double uthr = -745.13321910194110842;
    cr_expect(ts_m_exp(uthr) == 0x1p-1074);
    cr_expect(ts_m_exp(nextafter(uthr, -800.0)) == 0.0);
    cr_expect(ts_m_exp(-1e308) == 0.0);
    /* gradual underflow: 2^-1074 exactly from ln(2^-1074) */
    cr_expect(ts_m_exp(-744.44007192138126) == 0x1p-1074);
    cr_expect(ts_m_exp(-708.39641853226408) > 0x1p-1022 * 0.9999);
}

/* ---- log -------------------------------------------------------------- */

static void log_check(worst *w, double x) {
    track(w, x, ts_m_log(x), logl((long double)x));
}

Test(dmath, log_accuracy) {
    uint64_t s = 2;
    worst w = {0, 0};
    /* exponent uniform over [-1074, 1023], random 52-bit mantissa (rounded
     * by ldexp to the subnormal grid below 2^-1022) */
    for (int i = 0; i < 2000000; i++) {
        int e = (int)(next_u64(&s) % 2098) - 1074;
        double m = 1.0 + (double)(next_u64(&s) >> 12) * 0x1p-52;
        log_check(&w, ldexp(m, e));
    }
    /* near 1, where ln x ~ x - 1 and cancellation would show */
    for (int i = 0; i < 200000; i++) {
        double m = next_unit(&s);
        double d = ldexp(m, -(int)(next_u64(&s) % 54));
        log_check(&w, (i & 1) ? 1.0 + d : 1.0 - d * 0.5);
    }
    const double edge[] = {
        DBL_TRUE_MIN, 2 * DBL_TRUE_MIN, 3 * DBL_TRUE_MIN, DBL_MIN, DBL_MIN * 0.75,
        DBL_MAX, 1.0, 2.0, 0.5, 10.0, 0.1, 0x1.6a09e667f3bccp0, 0x1.6a09e667f3bcdp0,
        0x1.6a09e667f3bcdp-1, 0x1.6a09e667f3bccp-1, 1.0 + DBL_EPSILON, 1.0 - DBL_EPSILON / 2,
        1.408886401364539, 1.4107009698610053,  /* worst of a 3e8-point search */
    };
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        log_check(&w, edge[i]);
    for (int k = -1074; k <= 1023; k++)
        log_check(&w, ldexp(1.0, k));
    cr_log_info("dmath: ts_m_log max error %.4f ulp at x = %.17g", w.max, w.at);
    cr_expect(w.max < 1.0, "ts_m_log: %.4f ulp at x = %.17g", w.max, w.at);
}

Test(dmath, log_special) {
    const double inf = (double)INFINITY;
    cr_expect(ts_m_log(1.0) == 0.0 && !signbit(ts_m_log(1.0)));
    cr_expect(ts_m_log(0.0) == -inf && ts_m_log(-0.0) == -inf);
    cr_expect(ts_m_log(inf) == inf);
    cr_expect(isnan(ts_m_log(-1.0)) && isnan(ts_m_log(-DBL_TRUE_MIN)));
    cr_expect(isnan(ts_m_log(-inf)) && isnan(ts_m_log((double)NAN)));
    cr_expect(ts_m_log(DBL_TRUE_MIN) == -744.44007192138126);
    cr_expect(ts_m_log(DBL_MAX) == 709.782712893384);
    cr_expect(ts_m_log(2.0) == 0.6931471805599453);
    cr_expect(ts_m_log(2.718281828459045) == 1.0);
}

/* ---- normal quantile -------------------------------------------------- */

/* Phi(x) - u for x below 0 in the lower tail (erfc, relative accuracy of
 * long double), or near the centre (erf, so that Phi(x) - 1/2 keeps its
 * digits when x ~ 0). */
static long double phi_minus(long double x, double u) {
    const long double rsqrt2 = 0.707106781186547524400844362104849039L;
    if (u > 0.2)
        return 0.5L * erfl(x * rsqrt2) - ((long double)u - 0.5L);
    return 0.5L * erfcl(-x * rsqrt2) - (long double)u;
}

/* Phi^-1(u) in long double: GSL's double value, then Newton steps on
 * Phi(x) = u in long double. One step takes the double error 1e-16 to about
 * (x/2) 1e-32; the third shows convergence. The upper half uses
 * Phi^-1(u) = -Phi^-1(1-u), 1 - u being exact there. */
static long double ref_quantile(double u) {
    const long double rsqrt2pi = 0.398942280401432677939946059934381868L;
    if (u > 0.5)
        return -ref_quantile(1.0 - u);
    long double x = gsl_cdf_ugaussian_Pinv(u);
    for (int i = 0; i < 3; i++)
        x -= phi_minus(x, u) / (rsqrt2pi * expl(-0.5L * x * x));
    return x;
}

/* The three regions of AS 241, in which the error differs. */
static int quantile_region(double u) {
    double q = u - 0.5, p = u < 0.5 ? u : 1.0 - u;
    return fabs(q) <= 0.425 ? 0 : sqrt(-log(p)) <= 5.0 ? 1 : 2;
}

static void quantile_check(worst w[3], double u) {
    track(&w[quantile_region(u)], u, ts_m_norm_quantile(u), ref_quantile(u));
}

/* AS 241 approximates Phi^-1 to about 1e-16 relative in exact arithmetic
 * (mpmath, 3000 points: at most 1.8e-16, near u = 0.074), about 1 ulp.
 * Evaluating it in double adds the rounding of t (amplified about 2.5 times
 * by the polynomials), of two degree-7 Horner sums (seven roundings each) and
 * of the division: about 12 ulp in the worst case. GSL's AS 241 in double has
 * the same errors (same bits in the centre). The bounds are the measured
 * maxima (docs/numerics.md) plus a margin; a wrong coefficient digit costs
 * far more. */
static const double quantile_max_ulp[3] = {7.5, 6.5, 8.5};
static const char *const quantile_region_name[3] = {
    "|u - 1/2| <= 0.425", "r = sqrt(-ln min(u, 1-u)) <= 5", "r > 5"};

Test(dmath, quantile_accuracy) {
    uint64_t s = 3;
    worst w[3] = {{0, 0}, {0, 0}, {0, 0}};
    for (int i = 0; i < 600000; i++) {  /* uniform on (0,1) */
        double u = next_unit(&s);
        if (u > 0.0)
            quantile_check(w, u);
    }
    for (int i = 0; i < 300000; i++) {  /* both tails, 1e-300 < p < 0.5 */
        double p = pow(10.0, -300.0 * next_unit(&s)) * 0.5;
        quantile_check(w, (i & 1) && p > 0x1p-53 ? 1.0 - p : p);
    }
    for (int i = 0; i < 1000; i++) {    /* subnormal tail */
        double m = 1.0 + next_unit(&s);
        quantile_check(w, ldexp(m, -1023 - (int)(next_u64(&s) % 52)));
    }
    const double edge[] = {
        DBL_TRUE_MIN, 1e-320, 1e-316, 1e-300, 1e-100, 1.3887943864964021e-11,
        1.3887943864964022e-11, 0.075, 0.07500000000000001, 0.925, 0.9249999999999999,
        0.5 - 0x1p-54, 0.5 + 0x1p-53, 0x1p-53, 1.0 - 0x1p-53, 0.2, 0.8, 0.02275,
        /* worst of a 1.2e7-point search, one per region */
        0.31072658755156823, 6.2524025680632533e-05, 2.087779908207709e-191,
    };
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        quantile_check(w, edge[i]);
    for (int g = 0; g < 3; g++) {
        cr_log_info("dmath: ts_m_norm_quantile max error %.4f ulp at u = %.17g (%s)",
                    w[g].max, w[g].at, quantile_region_name[g]);
        cr_expect(w[g].max < quantile_max_ulp[g], "ts_m_norm_quantile: %.4f ulp at u = %.17g",
                  w[g].max, w[g].at);
    }
}

Test(dmath, quantile_special) {
    const double inf = (double)INFINITY;
    double z = ts_m_norm_quantile(0.5);
    cr_expect(z == 0.0 && !signbit(z));
    cr_expect(ts_m_norm_quantile(0.0) == -inf && ts_m_norm_quantile(-0.0) == -inf);
    cr_expect(ts_m_norm_quantile(-1.0) == -inf);
    cr_expect(ts_m_norm_quantile(1.0) == inf && ts_m_norm_quantile(2.0) == inf);
    cr_expect(isnan(ts_m_norm_quantile((double)NAN)));
    cr_expect(isfinite(ts_m_norm_quantile(DBL_TRUE_MIN)));
    cr_expect(ts_m_norm_quantile(DBL_TRUE_MIN) < -38.4);
    cr_expect(ts_m_norm_quantile(1.0 - 0x1p-53) > 8.2);
    /* textbook values */
    cr_expect(fabs(ts_m_norm_quantile(0.975) - 1.959963984540054) < 1e-15);
    cr_expect(fabs(ts_m_norm_quantile(0.841344746068543) - 1.0) < 1e-14);
}

/* Phi^-1(1-u) = -Phi^-1(u) bit for bit when u - 1/2 and 1 - u are exact:
 * u a multiple of 2^-53 (centre and tails alike). */
Test(dmath, quantile_symmetry) {
    uint64_t s = 4;
    for (int i = 0; i < 200000; i++) {
        double u = (double)(next_u64(&s) >> 11) * 0x1p-53;
        if (i % 4 == 0)
            u = ldexp(1.0, -(int)(next_u64(&s) % 53) - 1) + 0x1p-53;
        if (u <= 0.0)
            continue;
        double a = ts_m_norm_quantile(u), b = ts_m_norm_quantile(1.0 - u);
        cr_assert(a == -b, "u = %.17g: %.17g vs %.17g", u, a, b);
    }
}

/* ---- scalar / SIMD bit-identity --------------------------------------- */

/* One loop per function and code path. The scalar loop must not vectorise;
 * "sse2" is the default x86-64 target (GCC 12 leaves it scalar: SSE2 cannot
 * turn a double comparison into a 64-bit mask); the others ask GCC for
 * SSE4.2 (x86-64-v2), AVX2 and AVX-512 code (checked with objdump, see
 * docs/numerics.md). */
#if defined(__clang__)
#define TS_SCALAR_FN __attribute__((noinline))
#define TS_NO_VEC _Pragma("clang loop vectorize(disable) interleave(disable)")
#else
#define TS_SCALAR_FN __attribute__((noinline, optimize("no-tree-vectorize")))
#define TS_NO_VEC
#endif

#define TS_LOOP(fn, name, attr)                                                 \
    attr static void fn##_##name(const double *restrict in, double *restrict out, \
                                 size_t n) {                                    \
        for (size_t i = 0; i < n; i++)                                          \
            out[i] = ts_m_##fn(in[i]);                                          \
    }
#define TS_LOOPS(fn)                                                            \
    TS_SCALAR_FN static void fn##_scalar(const double *in, double *out, size_t n) { \
        TS_NO_VEC                                                               \
        for (size_t i = 0; i < n; i++)                                          \
            out[i] = ts_m_##fn(in[i]);                                          \
    }                                                                           \
    TS_LOOP(fn, sse2, __attribute__((noinline)))                                \
    TS_X86_LOOPS(fn)

#if defined(__x86_64__) || defined(__i386__)
#define TS_X86 1
#define TS_X86_LOOPS(fn)                                                        \
    TS_LOOP(fn, sse42, __attribute__((noinline, target("sse4.2"))))             \
    TS_LOOP(fn, avx2, __attribute__((noinline, target("avx2"))))                \
    TS_LOOP(fn, avx512, __attribute__((noinline, target("avx512f"))))
#else
#define TS_X86 0
#define TS_X86_LOOPS(fn)
#endif

TS_LOOPS(exp)
TS_LOOPS(log)
TS_LOOPS(norm_quantile)

typedef void loop_fn(const double *restrict, double *restrict, size_t);

enum { N_SIMD = 1 << 20 };

/* Arguments for each function: its whole domain, the special values, and
 * random bit patterns (NaNs of every payload included). */
static void fill_inputs(double *in, int which) {
    static const double special[] = {
        0.0, -0.0, 1.0, -1.0, 0.5, (double)INFINITY, -(double)INFINITY, (double)NAN,
        DBL_TRUE_MIN, DBL_MIN, DBL_MAX, -DBL_MAX, 709.782712893384, 709.79,
        -745.13321910194110842, -745.14, -708.4, 0.075, 0.925, 1e-300, 1.0 - 0x1p-53,
    };
    size_t ns = sizeof special / sizeof special[0];
    uint64_t s = 100 + (uint64_t)which;
    for (size_t i = 0; i < N_SIMD; i++) {
        double u = next_unit(&s);
        double x;
        switch (i % 8) {
        case 0: x = ts_m_from_bits(next_u64(&s)); break;
        case 1: x = special[(i / 8) % ns]; break;
        default:
            if (which == 0)
                x = -750.0 + 1460.0 * u;
            else if (which == 1)
                x = ldexp(1.0 + u, (int)(next_u64(&s) % 2100) - 1076);
            else
                x = (i & 1) ? u : ldexp(u, -(int)(next_u64(&s) % 1000));
        }
        in[i] = x;
    }
}

static void check_identity(loop_fn *variant[3], const char *name) {
    loop_fn *scalar[3] = {exp_scalar, log_scalar, norm_quantile_scalar};
    const char *fname[3] = {"exp", "log", "norm_quantile"};
    double *in = malloc(N_SIMD * sizeof *in);
    double *a = malloc(N_SIMD * sizeof *a), *b = malloc(N_SIMD * sizeof *b);
    cr_assert(in && a && b);
    for (int f = 0; f < 3; f++) {
        fill_inputs(in, f);
        scalar[f](in, a, N_SIMD);
        variant[f](in, b, N_SIMD);
        size_t bad = 0, first = 0;
        for (size_t i = 0; i < N_SIMD; i++)
            if (ts_m_bits(a[i]) != ts_m_bits(b[i]) && bad++ == 0)
                first = i;
        cr_expect(bad == 0, "%s %s: %zu of %d differ, first x = %a: %a vs %a", name,
                  fname[f], bad, (int)N_SIMD, in[first], a[first], b[first]);
    }
    free(in);
    free(a);
    free(b);
}

/* The default target: SSE2 on x86-64, where GCC 12 leaves it scalar. */
Test(dmath, simd_identity_sse2) {
    loop_fn *v[3] = {exp_sse2, log_sse2, norm_quantile_sse2};
    check_identity(v, "sse2");
}

#if TS_X86
Test(dmath, simd_identity_sse42) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("sse4.2"))
        cr_skip_test("CPU without SSE4.2");
    loop_fn *v[3] = {exp_sse42, log_sse42, norm_quantile_sse42};
    check_identity(v, "sse4.2");
}

Test(dmath, simd_identity_avx2) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2"))
        cr_skip_test("CPU without AVX2");
    loop_fn *v[3] = {exp_avx2, log_avx2, norm_quantile_avx2};
    check_identity(v, "avx2");
}

Test(dmath, simd_identity_avx512) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f"))
        cr_skip_test("CPU without AVX-512F");
    loop_fn *v[3] = {exp_avx512, log_avx512, norm_quantile_avx512};
    check_identity(v, "avx512");
}
#endif
