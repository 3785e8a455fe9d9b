/* Deterministic elementary functions: one definition of exp, log and the
 * normal quantile for the scalar and the SIMD code paths of the engine.
 *
 * Why: libm's exp/log differ between glibc versions (and glibc's vector
 * variants differ from its scalar ones), so a draw transformed with them can
 * change with the machine. These functions use only + - * /, sqrt (correctly
 * rounded by IEEE 754) and integer operations on the bits, each step in a
 * fixed order, with no data-dependent branch or table, and choose between
 * computed values with bit masks (ts_m_sel): GCC -O3 vectorises a loop over
 * them for SSE4.2, AVX2 and AVX-512 (not for plain SSE2, which cannot make a
 * 64-bit mask from a double comparison), and every variant gives the same
 * bits as the scalar code, a function of the argument's bits only.
 *
 * Requirements of the build: the default floating-point environment (round to
 * nearest, subnormals not flushed: no -ffast-math, no FTZ/DAZ) and no
 * contraction of a*b+c into an FMA (see TS_M_NO_CONTRACT below).
 * -fno-math-errno lets GCC inline and vectorise the sqrt of the quantile.
 *
 * ts_m_exp(x)   e^x. x = k ln2 + r, k = nearest integer (0x1.8p52 shifter),
 *               ln2 split hi/lo so that x - k*ln2hi is exact, |r| <= ln2/2;
 *               e^r by the rational form of fdlibm's e_exp.c (Remez
 *               coefficients P1..P5, Sun Microsystems 1993); 2^k applied as
 *               two factors built from exponent bits, so results near the
 *               overflow threshold and subnormal results (gradual underflow,
 *               not flushed; one rounding) come out right.
 *               x > 709.782712893384 -> +inf, x < -745.133219101941 -> +0,
 *               NaN -> the same NaN.
 *               Measured max error 0.92 ulp (subnormal results: in units of
 *               2^-1074).
 * ts_m_log(x)   ln x. x = 2^k m with m in [sqrt(1/2), sqrt(2)) by bit
 *               arithmetic (subnormal x first scaled by 2^54, selected without
 *               a branch); f = m - 1, s = f/(2+f), ln(1+f) = f - f^2/2 +
 *               s (f^2/2 + R(s^2)) with fdlibm's e_log.c coefficients Lg1..Lg7;
 *               k ln2 added as hi and lo parts. x < 0 -> NaN, +-0 -> -inf,
 *               +inf -> +inf, NaN -> the same NaN.
 *               Measured max error 0.87 ulp (subnormal x included).
 * ts_m_norm_quantile(u)  Phi^-1(u), the inverse standard normal CDF, by
 *               Wichura's algorithm AS 241 (PPND16, Applied Statistics 37,
 *               477-484, 1988): a rational function of degree 7/7 in
 *               0.180625 - q^2 for |q| = |u - 0.5| <= 0.425, else of
 *               r - 1.6 (r <= 5) or r - 5, r = sqrt(-ln min(u, 1-u)). All
 *               three are evaluated and one is selected. u <= 0 -> -inf,
 *               u >= 1 -> +inf, NaN -> the same NaN, 0.5 -> +0, and
 *               q(1-u) = -q(u) whenever u - 0.5 and 1 - u are exact.
 *               Measured max error 6.5 ulp (centre), 5.6 ulp (r <= 5), 7.5 ulp
 *               (far tail, down to the smallest subnormal u): the rounding of
 *               the degree-7 Horner sums in double; AS 241's own error is
 *               below 2e-16 relative. (GSL's AS 241, evaluated in the same order, gives
 *               the same bits except where glibc's log rounds differently.)
 *
 * The errors are measured by tests/test_dmath.c against long double
 * references (run_tests --filter dmath/exp_accuracy --verbose, etc.); see
 * docs/numerics.md. */
#ifndef TS_DMATH_H
#define TS_DMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Inlined always: a call left in a loop (clang declines to inline the
 * quantile at its size) stops the loop from vectorising. */
#if defined(__GNUC__)
#define TS_M_INLINE static inline __attribute__((always_inline))
#else
#define TS_M_INLINE static inline
#endif

/* a*b+c must stay two roundings. Clang contracts within an expression by
 * default, so every function body turns that off; GCC contracts only outside
 * ISO C mode (-std=gnu11) and has no scoped switch, so a GCC build with FMA
 * enabled must be in ISO mode or say -ffp-contract=off and define
 * TS_M_FP_CONTRACT_OFF. (Not caught: target("fma") functions in GNU mode, an
 * explicit -ffp-contract=fast.) The bit-identity tests would notice. */
#if defined(__clang__)
#define TS_M_NO_CONTRACT _Pragma("clang fp contract(off)")
#else
#define TS_M_NO_CONTRACT
#if defined(__FP_FAST_FMA) && !defined(__STRICT_ANSI__) && !defined(TS_M_FP_CONTRACT_OFF)
#error "dmath.h: GCC may fuse a*b+c into an FMA; use -std=c11, or -ffp-contract=off and -DTS_M_FP_CONTRACT_OFF"
#endif
#endif

TS_M_INLINE uint64_t ts_m_bits(double x) {
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

TS_M_INLINE double ts_m_from_bits(uint64_t u) {
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* c ? a : b, both already computed, as a bit mask. A plain ?: is a branch
 * to GCC until if-conversion; jump threading and code sinking then move
 * floating-point operations into one arm, and as they might trap
 * (-ftrapping-math) the loop is no longer if-converted and vectorised
 * (except with AVX-512 masking). Integer and/or cannot be moved that way. */
TS_M_INLINE double ts_m_sel(int c, double a, double b) {
    uint64_t m = (uint64_t)0 - (uint64_t)c;
    return ts_m_from_bits((ts_m_bits(a) & m) | (ts_m_bits(b) & ~m));
}

/* e^x, < 1 ulp; see the top of the file. */
TS_M_INLINE double ts_m_exp(double x) {
    TS_M_NO_CONTRACT
    const double shift = 0x1.8p52;            /* t + shift rounds t to an integer */
    const double invln2 = 0x1.71547652b82fep0;
    const double ln2hi = 0x1.62e42feep-1;      /* 32 significant bits: k*ln2hi exact */
    const double ln2lo = 0x1.a39ef35793c76p-33;
    const double o_thr = 0x1.62e42fefa39efp9;  /* ln DBL_MAX, 709.78... */
    const double u_thr = -0x1.74910d52d3051p9; /* ln 2^-1075, -745.13... */
    /* fdlibm e_exp.c: R(z) ~ r (e^r + 1)/(e^r - 1), z = r^2 */
    const double P1 = 1.66666666666666019037e-01, P2 = -2.77777777770155933842e-03,
                 P3 = 6.61375632143793436117e-05, P4 = -1.65339022054652515390e-06,
                 P5 = 4.13813679705723846039e-08;

    /* x outside [u_thr, o_thr] gives garbage here, replaced at the end */
    double t = x * invln2 + shift;
    double kd = t - shift;              /* k = nearest integer to x/ln2 */
    uint64_t m = ts_m_bits(t) - ts_m_bits(shift) + 2046u;  /* k + 2046 */
    double hi = x - kd * ln2hi;         /* exact (Sterbenz) */
    double lo = kd * ln2lo;
    double r = hi - lo;                 /* |r| <= ln2/2 (+ rounding) */
    double z = r * r;
    double c = r - z * (P1 + z * (P2 + z * (P3 + z * (P4 + z * P5))));
    double y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);  /* e^r, in [0.7, 1.5] */
    /* 2^k = 2^a 2^b with biased exponents (k+2046)/2 and the rest, both in
     * [485, 1535] for k in [-1075, 1024]: each factor is a normal double, and
     * the product is rounded once even when it is subnormal. */
    uint64_t ea = m >> 1, eb = m - ea;
    double res = y * ts_m_from_bits(ea << 52) * ts_m_from_bits(eb << 52);
    res = ts_m_sel(x > o_thr, (double)INFINITY, res);
    res = ts_m_sel(x < u_thr, 0.0, res);
    return ts_m_sel(x != x, x, res);
}

/* ln x, < 1 ulp; see the top of the file. */
TS_M_INLINE double ts_m_log(double x) {
    TS_M_NO_CONTRACT
    const uint64_t sqrt_half = 0x3fe6a09e667f3bcdu;  /* bits of sqrt(1/2) */
    const uint64_t one = 0x3ff0000000000000u;        /* bits of 1.0 */
    const double ln2hi = 0x1.62e42feep-1, ln2lo = 0x1.a39ef35793c76p-33;
    /* fdlibm e_log.c: R(z) ~ (ln((1+s)/(1-s)) - 2s)/s, z = s^2 */
    const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                 Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                 Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                 Lg7 = 1.479819860511658591e-01;

    int sub = x < 0x1p-1022;            /* subnormal (or <= 0: result replaced) */
    double xs = x * ts_m_sel(sub, 0x1p54, 1.0);
    uint64_t u = ts_m_bits(xs);
    /* kb = k + 1023 with xs = 2^k m, m in [sqrt(1/2), sqrt(2)); for xs > 0
     * the sum does not wrap */
    uint64_t kb = (u + (one - sqrt_half)) >> 52;
    double mant = ts_m_from_bits(u - (kb << 52) + one);
    /* k as a double without an int64 conversion: 2^52 + kb, minus 2^52 + 1023 */
    double kd = ts_m_from_bits(0x4330000000000000u | kb) - (0x1p52 + 1023.0);
    kd = kd - ts_m_sel(sub, 54.0, 0.0);
    double f = mant - 1.0;              /* exact */
    double s = f / (2.0 + f);
    double z = s * s, w = z * z;
    double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
    double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
    double hfsq = 0.5 * f * f;
    double res = kd * ln2hi - ((hfsq - (s * (hfsq + (t1 + t2)) + kd * ln2lo)) - f);
    res = ts_m_sel(x == (double)INFINITY, x, res);
    res = ts_m_sel(x == 0.0, -(double)INFINITY, res);
    res = ts_m_sel(x < 0.0, (double)NAN, res);
    return ts_m_sel(x != x, x, res);
}

/* n(t)/d(t), both of degree 7, by Horner from the highest coefficient. */
TS_M_INLINE double ts_m_ratio77(double t, const double n[8], const double d[8]) {
    TS_M_NO_CONTRACT
    double a = n[7], b = d[7];
    for (int i = 6; i >= 0; i--) {  /* unrolled by the compiler */
        a = a * t + n[i];
        b = b * t + d[i];
    }
    return a / b;
}

/* Phi^-1(u), the standard normal quantile; see the top of the file.
 * AS 241 PPND16 (Wichura 1988), q = u - 1/2, p = min(u, 1-u):
 *   |q| <= 0.425:  q A(t)/B(t),  t = 0.180625 - q^2
 *   r <= 5:        +-C(t)/D(t),  t = r - 1.6,  r = sqrt(-ln p)
 *   r > 5:         +-E(t)/F(t),  t = r - 5
 * All three are computed and one is selected. */
TS_M_INLINE double ts_m_norm_quantile(double u) {
    TS_M_NO_CONTRACT
    static const double A[8] = {
        3.3871328727963666080e+0, 1.3314166789178437745e+2, 1.9715909503065514427e+3,
        1.3731693765509461125e+4, 4.5921953931549871457e+4, 6.7265770927008700853e+4,
        3.3430575583588128105e+4, 2.5090809287301226727e+3};
    static const double B[8] = {
        1.0, 4.2313330701600911252e+1, 6.8718700749205790830e+2, 5.3941960214247511077e+3,
        2.1213794301586595867e+4, 3.9307895800092710610e+4, 2.8729085735721942674e+4,
        5.2264952788528545610e+3};
    static const double C[8] = {
        1.42343711074968357734e+0, 4.63033784615654529590e+0, 5.76949722146069140550e+0,
        3.64784832476320460504e+0, 1.27045825245236838258e+0, 2.41780725177450611770e-1,
        2.27238449892691845833e-2, 7.74545014278341407640e-4};
    static const double D[8] = {
        1.0, 2.05319162663775882187e+0, 1.67638483018380384940e+0, 6.89767334985100004550e-1,
        1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
        1.05075007164441684324e-9};
    static const double E[8] = {
        6.65790464350110377720e+0, 5.46378491116411436990e+0, 1.78482653991729133580e+0,
        2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
        2.71155556874348757815e-5, 2.01033439929228813265e-7};
    static const double F[8] = {
        1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
        7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
        2.04426310338993978564e-15};

    double q = u - 0.5;
    int lower = q < 0.0;
    double p = ts_m_sel(lower, u, 1.0 - u);  /* exact */
    double r = sqrt(-ts_m_log(p));
    double central = q * ts_m_ratio77(0.180625 - q * q, A, B);
    double mid = ts_m_ratio77(r - 1.6, C, D);
    double far = ts_m_ratio77(r - 5.0, E, F);
    double tail = ts_m_sel(r <= 5.0, mid, far);
    tail = ts_m_sel(lower, -tail, tail);
    double res = ts_m_sel((q >= -0.425) & (q <= 0.425), central, tail);
    res = ts_m_sel(u <= 0.0, -(double)INFINITY, res);
    res = ts_m_sel(u >= 1.0, (double)INFINITY, res);
    return ts_m_sel(u != u, u, res);
}

#endif
