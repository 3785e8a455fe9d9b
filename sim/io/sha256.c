/* SHA-256 (FIPS 180-4, section 6.2), used to fingerprint the input and the
 * resolved scenario in the manifest.
 *
 * The message is processed in 512-bit blocks of sixteen big-endian 32-bit
 * words. Padding (section 5.1.1): a 1 bit, zeros up to 448 mod 512 bits, then
 * the message length in bits as a 64-bit big-endian integer. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "talentsim/output.h"

/* Section 4.2.2: first 32 bits of the fractional parts of the cube roots of
 * the first 64 primes. */
static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* Section 5.3.3: first 32 bits of the fractional parts of the square roots
 * of the first 8 primes. */
static const uint32_t sha_h0[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

typedef struct {
    uint32_t h[8];            /* intermediate hash value H(i) */
    uint64_t nbytes;          /* message bytes so far */
    unsigned char block[64];  /* pending partial block */
    size_t used;              /* bytes in block, < 64 */
} sha_ctx;

static uint32_t rotr(uint32_t x, unsigned n) {
    return (x >> n) | (x << (32 - n));
}

/* Section 4.1.2 functions. */
static uint32_t ch(uint32_t x, uint32_t y, uint32_t z) { return (x & y) ^ (~x & z); }
static uint32_t maj(uint32_t x, uint32_t y, uint32_t z) { return (x & y) ^ (x & z) ^ (y & z); }
static uint32_t big_s0(uint32_t x) { return rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22); }
static uint32_t big_s1(uint32_t x) { return rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25); }
static uint32_t small_s0(uint32_t x) { return rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3); }
static uint32_t small_s1(uint32_t x) { return rotr(x, 17) ^ rotr(x, 19) ^ (x >> 10); }

static uint32_t load_be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

/* Section 6.2.1 message schedule W0..W63. */
static void sha_schedule(const unsigned char block[64], uint32_t w[64]) {
    for (int t = 0; t < 16; t++)
        w[t] = load_be32(block + 4 * t);
    for (int t = 16; t < 64; t++)
        w[t] = small_s1(w[t - 2]) + w[t - 7] + small_s0(w[t - 15]) + w[t - 16];
}

/* Section 6.2.2 steps 2-4: one block into the hash value. */
static void sha_compress(uint32_t h[8], const unsigned char block[64]) {
    uint32_t w[64], v[8];
    sha_schedule(block, w);
    memcpy(v, h, sizeof v);
    for (int t = 0; t < 64; t++) {
        uint32_t t1 = v[7] + big_s1(v[4]) + ch(v[4], v[5], v[6]) + sha_k[t] + w[t];
        uint32_t t2 = big_s0(v[0]) + maj(v[0], v[1], v[2]);
        memmove(v + 1, v, 7 * sizeof v[0]); /* h=g, g=f, ..., b=a */
        v[4] += t1;                         /* e = d + T1 */
        v[0] = t1 + t2;
    }
    for (int i = 0; i < 8; i++)
        h[i] += v[i];
}

static void sha_init(sha_ctx *c) {
    memcpy(c->h, sha_h0, sizeof c->h);
    c->nbytes = 0;
    c->used = 0;
}

static void sha_update(sha_ctx *c, const void *data, size_t n) {
    const unsigned char *p = data;
    c->nbytes += n;
    while (n > 0) {
        size_t take = 64 - c->used < n ? 64 - c->used : n;
        memcpy(c->block + c->used, p, take);
        c->used += take;
        p += take;
        n -= take;
        if (c->used == 64) {
            sha_compress(c->h, c->block);
            c->used = 0;
        }
    }
}

/* Section 5.1.1 padding, then the digest as lowercase hex. */
static void sha_final_hex(sha_ctx *c, char hex[65]) {
    static const char digits[] = "0123456789abcdef";
    uint64_t bits = c->nbytes * 8;
    unsigned char pad[72] = {0x80};
    size_t npad = (c->used < 56 ? 56 : 120) - c->used;
    for (int i = 0; i < 8; i++)
        pad[npad + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
    sha_update(c, pad, npad + 8);
    for (int i = 0; i < 32; i++) {
        unsigned byte = (c->h[i / 4] >> (24 - 8 * (i % 4))) & 0xffu;
        hex[2 * i] = digits[byte >> 4];
        hex[2 * i + 1] = digits[byte & 0xfu];
    }
    hex[64] = '\0';
}

void ts_sha256_hex(const void *data, size_t n, char hex[65]) {
    sha_ctx c;
    sha_init(&c);
    sha_update(&c, data, n);
    sha_final_hex(&c, hex);
}

ts_status ts_sha256_file_hex(const char *path, char hex[65], ts_error *err) {
    unsigned char buf[16384];
    hex[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return ts_error_set(err, TS_EINPUT, "", 0, 0, "", "cannot read '%s': %s",
                            path, strerror(errno));
    sha_ctx c;
    sha_init(&c);
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        sha_update(&c, buf, got);
    int failed = ferror(f);
    int saved = errno;
    fclose(f);
    if (failed)
        return ts_error_set(err, TS_ERUNTIME, "", 0, 0, "", "cannot read '%s': %s",
                            path, strerror(saved));
    sha_final_hex(&c, hex);
    return TS_OK;
}
