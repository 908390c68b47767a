/* copc_reader_open on an s3:// URL, credentials and endpoint from copc_options_set,
 * against the s3s-fs emulator that cpp-tests/scripts/with_s3.sh starts on 127.0.0.1
 * ($COPC_TEST_S3_ENDPOINT, bucket copc-test holding pdal_1.2-with-color.copc.laz,
 * keys $COPC_TEST_S3_KEY / $COPC_TEST_S3_SECRET). The counts are compared with the
 * local file from $COPC_TEST_DATA, and copc_translate of the object with the local
 * file's. */
#include "copc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "c_test_util.h"

#define FILE_NAME "pdal_1.2-with-color.copc.laz"

static copc_options *s3_options(const char *endpoint, const char *key, const char *secret) {
    copc_options *o = NULL;
    REQUIRE(copc_options_new(&o) == COPC_STATUS_OK);
    REQUIRE(copc_options_set(o, "s3_endpoint", endpoint) == COPC_STATUS_OK);
    REQUIRE(copc_options_set(o, "s3_access_key_id", key) == COPC_STATUS_OK);
    REQUIRE(copc_options_set(o, "s3_secret_access_key", secret) == COPC_STATUS_OK);
    REQUIRE(copc_options_set(o, "http_retries", "1") == COPC_STATUS_OK);
    return o;
}

/* The bytes of a file (NULL when it cannot be read); *n gets its size. */
static unsigned char *slurp(const char *path, long *n) {
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc(*n > 0 ? (size_t)*n : 1);
    if (b && fread(b, 1, (size_t)*n, f) != (size_t)*n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

/* copc_translate of the object and of the local file give the same bytes; a missing
 * key is an error naming its URL that leaves no output. */
static int translate_from_s3(const copc_options *o, const char *local_path) {
    const char *remote_in[1] = {"s3://copc-test/" FILE_NAME}, *local_in[1], *missing[1] = {"s3://copc-test/missing.laz"};
    unsigned char *a, *b;
    long na = 0, nb = 0;
    int failures = 0;
    FILE *left;
    local_in[0] = local_path;
    remove("c_s3_remote.copc.laz");
    remove("c_s3_local.copc.laz");
    remove("c_s3_missing.copc.laz");
    REQUIRE(copc_translate(remote_in, 1, "c_s3_remote.copc.laz", o) == COPC_STATUS_OK);
    REQUIRE(copc_translate(local_in, 1, "c_s3_local.copc.laz", NULL) == COPC_STATUS_OK);
    a = slurp("c_s3_remote.copc.laz", &na);
    b = slurp("c_s3_local.copc.laz", &nb);
    if (!a || !b || na != nb || na == 0 || memcmp(a, b, (size_t)na) != 0) {
        fprintf(stderr, "FAIL: copc_translate from S3 (%ld bytes) differs from the local one (%ld bytes)\n", na, nb);
        failures++;
    }
    free(a);
    free(b);
    if (copc_translate(missing, 1, "c_s3_missing.copc.laz", o) == COPC_STATUS_OK ||
        !contains(copc_last_error_message(), "s3://copc-test/missing.laz")) {
        fprintf(stderr, "FAIL: translate of a missing key: %s\n", copc_last_error_message());
        failures++;
    }
    left = fopen("c_s3_missing.copc.laz", "rb");
    if (left) {
        fclose(left);
        fprintf(stderr, "FAIL: a failed translate left its output\n");
        failures++;
    }
    remove("c_s3_remote.copc.laz");
    remove("c_s3_local.copc.laz");
    return failures;
}

static uint64_t count_box(const copc_reader *r, const struct copc_header *h) {
    copc_query *q = NULL;
    uint64_t n = 0;
    double lo[3], hi[3];
    REQUIRE(copc_query_new(&q) == COPC_STATUS_OK);
    lo[0] = h->min[0] + (h->max[0] - h->min[0]) / 4;
    lo[1] = h->min[1] + (h->max[1] - h->min[1]) / 4;
    lo[2] = -1e300;
    hi[0] = h->max[0] - (h->max[0] - h->min[0]) / 4;
    hi[1] = h->max[1] - (h->max[1] - h->min[1]) / 4;
    hi[2] = 1e300;
    REQUIRE(copc_query_set_bounds(q, lo, hi) == COPC_STATUS_OK);
    REQUIRE(copc_reader_count(r, q, &n) == COPC_STATUS_OK);
    copc_query_free(q);
    return n;
}

int main(void) {
    const char *endpoint = getenv("COPC_TEST_S3_ENDPOINT"), *key = getenv("COPC_TEST_S3_KEY"),
               *secret = getenv("COPC_TEST_S3_SECRET"), *data = getenv("COPC_TEST_DATA");
    char local_path[4096];
    copc_options *o, *wrong;
    copc_reader *remote = NULL, *local = NULL, *untouched = NULL;
    struct copc_header hr, hl;
    uint64_t all_remote = 0, all_local = 0;
    int failures = 0;
    if (!endpoint || !key || !secret) {
        fprintf(stderr, "c_object_store_test: run through cpp-tests/scripts/with_s3.sh (it starts s3s-fs)\n");
        return 1;
    }
    if (!data) {
        printf("SKIPPED: COPC_TEST_DATA not set\n");
        return 77;
    }
    snprintf(local_path, sizeof local_path, "%s/%s", data, FILE_NAME);
    o = s3_options(endpoint, key, secret);
    REQUIRE(copc_reader_open("s3://copc-test/" FILE_NAME, o, &remote) == COPC_STATUS_OK);
    REQUIRE(copc_reader_open(local_path, NULL, &local) == COPC_STATUS_OK);
    memset(&hr, 0, sizeof hr);
    memset(&hl, 0, sizeof hl);
    hr.struct_size = hl.struct_size = sizeof(struct copc_header);
    REQUIRE(copc_reader_header(remote, &hr) == COPC_STATUS_OK);
    REQUIRE(copc_reader_header(local, &hl) == COPC_STATUS_OK);
    REQUIRE(copc_reader_count(remote, NULL, &all_remote) == COPC_STATUS_OK);
    REQUIRE(copc_reader_count(local, NULL, &all_local) == COPC_STATUS_OK);
    if (hr.point_count != hl.point_count || all_remote != all_local || all_local == 0) {
        fprintf(stderr, "FAIL: point counts over S3 %llu/%llu, local %llu/%llu\n", (unsigned long long)hr.point_count,
                (unsigned long long)all_remote, (unsigned long long)hl.point_count, (unsigned long long)all_local);
        failures++;
    }
    if (count_box(remote, &hr) != count_box(local, &hl)) {
        fprintf(stderr, "FAIL: box counts differ between S3 and the local file\n");
        failures++;
    }
    /* A wrong secret: refused, named, the secret not in the message, out untouched. */
    wrong = s3_options(endpoint, key, "not-the-secret-Zx81");
    if (copc_reader_open("s3://copc-test/" FILE_NAME, wrong, &untouched) == COPC_STATUS_OK || untouched != NULL) {
        fprintf(stderr, "FAIL: a wrong secret opened the object\n");
        failures++;
    } else if (!contains(copc_last_error_message(), "s3://copc-test/" FILE_NAME) ||
               !contains(copc_last_error_message(), "secret key does not match") ||
               contains(copc_last_error_message(), "not-the-secret-Zx81") ||
               contains(copc_last_error_message(), secret)) {
        fprintf(stderr, "FAIL: message for a wrong secret: %s\n", copc_last_error_message());
        failures++;
    }
    failures += translate_from_s3(o, local_path);
    /* Option values are checked when set. */
    if (copc_options_set(wrong, "s3_endpoint", "127.0.0.1:9000") != COPC_STATUS_INVALID_ARGUMENT ||
        copc_options_set(wrong, "s3_anonymous", "maybe") != COPC_STATUS_INVALID_ARGUMENT) {
        fprintf(stderr, "FAIL: bad option values accepted\n");
        failures++;
    }
    copc_reader_free(remote);
    copc_reader_free(local);
    copc_options_free(o);
    copc_options_free(wrong);
    if (failures == 0) printf("c_object_store_test: ok (%llu points over S3)\n", (unsigned long long)all_remote);
    return failures ? 1 : 0;
}
