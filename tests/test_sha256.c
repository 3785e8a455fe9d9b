/* SHA-256 against the FIPS 180-4 example vectors and padding edge cases. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "talentsim/output.h"

static void check_text(const char *msg, const char *want) {
    char hex[65];
    ts_sha256_hex(msg, strlen(msg), hex);
    cr_assert_str_eq(hex, want, "sha256(\"%s\")", msg);
}

Test(sha256_vectors, empty_message) {
    check_text("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

Test(sha256_vectors, abc) {
    check_text("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Test(sha256_vectors, two_block_448_bit_message) {
    check_text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
               "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

Test(sha256_vectors, one_million_a) {
    size_t n = 1000000;
    char *a = malloc(n);
    cr_assert_not_null(a);
    memset(a, 'a', n);
    char hex[65];
    ts_sha256_hex(a, n, hex);
    free(a);
    cr_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Lengths around the 55/56/64-byte padding boundaries (reference digests
 * from Python's hashlib). */
Test(sha256_vectors, padding_boundaries) {
    static const struct { size_t n; const char *hex; } cases[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
        {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
        {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
    };
    char a[128], hex[65];
    memset(a, 'a', sizeof a);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ts_sha256_hex(a, cases[i].n, hex);
        cr_assert_str_eq(hex, cases[i].hex, "length %zu", cases[i].n);
    }
}

Test(sha256_file, file_digest_matches_buffer_digest) {
    char path[] = "/tmp/ts_sha256_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    size_t n = 1000000; /* several read chunks */
    char *a = malloc(n);
    cr_assert_not_null(a);
    memset(a, 'a', n);
    cr_assert_eq(write(fd, a, n), (ssize_t)n);
    close(fd);
    free(a);
    char hex[65];
    ts_error err;
    ts_error_clear(&err);
    cr_assert_eq(ts_sha256_file_hex(path, hex, &err), TS_OK);
    unlink(path);
    cr_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

Test(sha256_file, missing_file_is_an_input_error) {
    char hex[65] = "x";
    ts_error err;
    ts_error_clear(&err);
    const char *path = "/nonexistent/talentsim/scenario.yaml";
    cr_assert_eq(ts_sha256_file_hex(path, hex, &err), TS_EINPUT);
    cr_assert_eq(err.status, TS_EINPUT);
    cr_assert(strstr(err.msg, path), "message names the path: %s", err.msg);
    cr_assert_str_eq(hex, "");
}
