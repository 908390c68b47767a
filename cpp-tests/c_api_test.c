/* C tests of the copc C API (copc.h), C99, built with -Wall -Wextra -Werror.
 *
 *   c_api_test basics   no data needed: version, statuses, options, queries, NULL
 *                       arguments, invalid values, the panic boundary, open errors
 *   c_api_test files    real COPC files from $COPC_TEST_DATA (exit 77 = skipped
 *                       without it): header, dims, nodes, read_node, 2-D and 3-D
 *                       queries, extra bytes, VLRs, copc_io callbacks
 *   c_api_test http     the same file over HTTP from $COPC_TEST_NGINX_URL (77 without)
 *   c_api_test writer   no data needed: points written with copc_writer_* come back
 *                       from copc_reader_*; writer states and refusals
 *   c_api_test translate copc_translate of a LAS file of $COPC_TEST_DATA (77 without),
 *                       checked against the LAS records read by hand here
 *
 * Expected values come from outside the library: point counts, node counts and
 * formats from the shared data README, header fields read from the file bytes by
 * hand here, sums of integer fields computed with laspy 2.7 (independent reader),
 * and box/resolution results from brute-force filters over a full read.
 */
#define _POSIX_C_SOURCE 200809L /* pthreads, for the shared-reader test */
#include "copc.h"

#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SKIP 77

static int failures = 0;

#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);        \
            failures++;                                                                     \
        }                                                                                   \
    } while (0)

#define CHECK_STATUS(call, expected)                                                        \
    do {                                                                                    \
        copc_status s_ = (call);                                                            \
        if (s_ != (expected)) {                                                             \
            fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d (%s): %s\n", __FILE__, \
                    __LINE__, #call, (int)s_, copc_status_str(s_), (int)(expected),         \
                    copc_status_str(expected), copc_last_error_message());                  \
            failures++;                                                                     \
        }                                                                                   \
    } while (0)

#define OK(call) CHECK_STATUS(call, COPC_STATUS_OK)

#include "c_test_util.h"

/* ---------------------------------------------------------------- basics */

static void test_version(void) {
    CHECK(copc_version_number() == COPC_VERSION_NUMBER);
    CHECK(COPC_VERSION_NUMBER == ((COPC_VERSION_MAJOR << 16) | (COPC_VERSION_MINOR << 8) | COPC_VERSION_PATCH));
    CHECK(strcmp(copc_version_string(), COPC_VERSION_STRING) == 0);
    char expect[64];
    snprintf(expect, sizeof expect, "%d.%d.%d", COPC_VERSION_MAJOR, COPC_VERSION_MINOR, COPC_VERSION_PATCH);
    CHECK(strcmp(copc_version_string(), expect) == 0);
}

static void test_statuses(void) {
    const copc_status all[] = {COPC_STATUS_OK, COPC_STATUS_INVALID_ARGUMENT, COPC_STATUS_NULL_ARGUMENT,
                               COPC_STATUS_BUFFER_TOO_SMALL, COPC_STATUS_IO, COPC_STATUS_FORMAT,
                               COPC_STATUS_UNSUPPORTED, COPC_STATUS_HTTP, COPC_STATUS_INVALID_STATE,
                               COPC_STATUS_PANIC, COPC_STATUS_CANCELLED};
    const size_t n = sizeof all / sizeof all[0];
    CHECK(COPC_STATUS_OK == 0);
    for (size_t i = 0; i < n; i++) {
        const char *s = copc_status_str(all[i]);
        CHECK(s != NULL && s[0] != '\0' && strcmp(s, "unknown status") != 0);
        for (size_t j = 0; j < i; j++) {
            CHECK(all[i] != all[j]);
            CHECK(strcmp(s, copc_status_str(all[j])) != 0);
        }
    }
    CHECK(strcmp(copc_status_str(-1), "unknown status") == 0);
    CHECK(strcmp(copc_status_str(12345), "unknown status") == 0);
    CHECK(strcmp(copc_status_str(INT32_MIN), "unknown status") == 0);
    CHECK(copc_last_error_message() != NULL);
}

static void test_options(void) {
    copc_options *o = NULL;
    OK(copc_options_new(&o));
    REQUIRE(o != NULL);
    CHECK(strcmp(copc_last_error_message(), "") == 0);
    OK(copc_options_set(o, "threads", "2"));
    OK(copc_options_set(o, "threads", "0"));
    OK(copc_options_set(o, "http_header", "Authorization: Bearer abc"));
    OK(copc_options_set(o, "http_header", "X-Second: 2"));
    OK(copc_options_set(o, "http_retries", "3"));
    OK(copc_options_set(o, "http_timeout_ms", "2500"));
    OK(copc_options_set(o, "requests", "4"));
    CHECK_STATUS(copc_options_set(o, "no_such_key", "1"), COPC_STATUS_INVALID_ARGUMENT);
    CHECK(contains(copc_last_error_message(), "no_such_key"));
    CHECK(contains(copc_last_error_message(), "copc_options_set"));
    CHECK_STATUS(copc_options_set(o, "threads", "-3"), COPC_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(copc_options_set(o, "threads", "two"), COPC_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(copc_options_set(o, "http_header", "missing colon"), COPC_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(copc_options_set(o, "http_timeout_ms", "0"), COPC_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(copc_options_set(o, "requests", "0"), COPC_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(copc_options_set(o, "\xff\xfe", "1"), COPC_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(copc_options_set(o, NULL, "1"), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_options_set(o, "threads", NULL), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_options_set(NULL, "threads", "1"), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_options_new(NULL), COPC_STATUS_NULL_ARGUMENT);
    copc_options_free(o);
    copc_options_free(NULL);
}

static void test_panic_boundary(void) {
    copc_options *o = NULL;
    OK(copc_options_new(&o));
    CHECK_STATUS(copc_options_set(o, "test_panic", "1"), COPC_STATUS_PANIC);
    CHECK(contains(copc_last_error_message(), "panic"));
    /* The process and the library go on. */
    OK(copc_options_set(o, "threads", "1"));
    CHECK(strcmp(copc_last_error_message(), "") == 0);
    CHECK_STATUS(copc_options_set(o, "test_panic", "again"), COPC_STATUS_PANIC);
    copc_options_free(o);
}

static void test_queries(void) {
    copc_query *q = NULL;
    OK(copc_query_new(&q));
    REQUIRE(q != NULL);
    const double lo[3] = {0, 0, -INFINITY}, hi[3] = {10, 10, INFINITY};
    OK(copc_query_set_bounds(q, lo, hi));
    CHECK_STATUS(copc_query_set_bounds(q, hi, lo), COPC_STATUS_INVALID_ARGUMENT);
    const double nan3[3] = {NAN, 0, 0};
    CHECK_STATUS(copc_query_set_bounds(q, nan3, hi), COPC_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(copc_query_set_bounds(q, NULL, hi), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_query_set_bounds(q, lo, NULL), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_query_set_bounds(NULL, lo, hi), COPC_STATUS_NULL_ARGUMENT);
    OK(copc_query_set_resolution(q, 0.5));
    CHECK_STATUS(copc_query_set_resolution(q, 0), COPC_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(copc_query_set_resolution(q, -1), COPC_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(copc_query_set_resolution(q, NAN), COPC_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(copc_query_set_resolution(q, INFINITY), COPC_STATUS_INVALID_ARGUMENT);
    OK(copc_query_set_max_depth(q, 0));
    CHECK_STATUS(copc_query_set_max_depth(q, -1), COPC_STATUS_INVALID_ARGUMENT);
    OK(copc_query_set_min_depth(q, 0));
    CHECK_STATUS(copc_query_set_min_depth(q, -5), COPC_STATUS_INVALID_ARGUMENT);
    OK(copc_query_set_dims(q, COPC_DIM_BIT(COPC_DIM_X) | COPC_DIM_BIT(COPC_DIM_Z_RAW) | COPC_DIM_MASK_EXTRA));
    OK(copc_query_set_dims(q, COPC_DIM_MASK_ALL));
    CHECK_STATUS(copc_query_set_dims(q, 0), COPC_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(copc_query_set_dims(q, COPC_DIM_BIT(25)), COPC_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(copc_query_set_dims(q, COPC_DIM_BIT(62) | COPC_DIM_BIT(COPC_DIM_X)), COPC_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(copc_query_set_dims(NULL, 1), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_query_new(NULL), COPC_STATUS_NULL_ARGUMENT);
    copc_query_free(q);
    copc_query_free(NULL);
}

static int close_calls = 0;
static void count_close(void *userdata) {
    (void)userdata;
    close_calls++;
}

/* Every function that takes a handle refuses NULL, and leaves its outputs alone. */
static void test_null_handles(void) {
    copc_reader *const sentinel = (copc_reader *)(uintptr_t)0x5a5a;
    copc_reader *r = sentinel;
    CHECK_STATUS(copc_reader_open(NULL, NULL, &r), COPC_STATUS_NULL_ARGUMENT);
    CHECK(contains(copc_last_error_message(), "source"));
    CHECK(r == sentinel);
    CHECK_STATUS(copc_reader_open("x.copc.laz", NULL, NULL), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_reader_open_io(NULL, NULL, NULL, &r), COPC_STATUS_NULL_ARGUMENT);
    CHECK(r == sentinel);

    copc_io io;
    memset(&io, 0, sizeof io);
    io.read = NULL;
    io.size = 100;
    io.close = count_close;
    close_calls = 0;
    CHECK_STATUS(copc_reader_open_io(&io, NULL, NULL, &r), COPC_STATUS_NULL_ARGUMENT);
    CHECK(close_calls == 1);
    CHECK(r == sentinel);

    size_t n = 7;
    uint64_t n64 = 7;
    bool has = true;
    int32_t ids[4];
    uint8_t buf[4];
    copc_header h;
    memset(&h, 0, sizeof h);
    h.struct_size = sizeof h;
    copc_dim_info di;
    memset(&di, 0, sizeof di);
    di.struct_size = sizeof di;
    copc_extra_dim ed;
    memset(&ed, 0, sizeof ed);
    ed.struct_size = sizeof ed;
    copc_vlr v;
    memset(&v, 0, sizeof v);
    v.struct_size = sizeof v;
    copc_node node;
    copc_node_key key = {0, 0, 0, 0};
    double x[4];
    copc_column col = {COPC_DIM_X, x, 0};
    copc_node_iter *ni = NULL;
    copc_point_iter *pi = NULL;
    CHECK_STATUS(copc_reader_header(NULL, &h), COPC_STATUS_NULL_ARGUMENT);
    CHECK(copc_reader_crs_wkt(NULL) == NULL);
    CHECK(contains(copc_last_error_message(), "NULL"));
    CHECK_STATUS(copc_reader_dims(NULL, ids, 4, &n), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_reader_dim_info(NULL, COPC_DIM_X, &di), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_reader_extra_dim_count(NULL, &n), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_reader_extra_dim(NULL, 0, &ed), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_reader_vlr_count(NULL, &n), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_reader_vlr(NULL, 0, &v), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_reader_vlr_data(NULL, 0, buf, 4, &n), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_reader_count(NULL, NULL, &n64), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_reader_nodes(NULL, NULL, &ni), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_reader_query_points(NULL, NULL, &pi), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_reader_read_node(NULL, &key, &col, 1, 4, &n), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_point_iter_read(NULL, &col, 1, 4, &n), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_node_iter_next(NULL, &node, &has), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_node_iter_len(NULL, &n), COPC_STATUS_NULL_ARGUMENT);
    CHECK(n == 7 && n64 == 7 && has && ni == NULL && pi == NULL);
    CHECK_STATUS(copc_writer_close(NULL), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_writer_add_points(NULL, &col, 1, 1), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_translate(NULL, 1, "x.copc.laz", NULL), COPC_STATUS_NULL_ARGUMENT);
    copc_reader_free(NULL);
    copc_node_iter_free(NULL);
    copc_point_iter_free(NULL);
    copc_writer_free(NULL);
}

static void test_open_errors(void) {
    copc_reader *r = NULL;
    CHECK_STATUS(copc_reader_open("/nonexistent/dir/missing.copc.laz", NULL, &r), COPC_STATUS_IO);
    CHECK(contains(copc_last_error_message(), "missing.copc.laz"));
    CHECK(r == NULL);
    {
        /* A file that is not LAS at all (written in the working directory). */
        const char *name = "copc_c_test_junk.laz";
        FILE *f = fopen(name, "wb");
        REQUIRE(f != NULL);
        char junk[600];
        memset(junk, 7, sizeof junk);
        fwrite(junk, 1, sizeof junk, f);
        fclose(f);
        CHECK_STATUS(copc_reader_open(name, NULL, &r), COPC_STATUS_FORMAT);
        CHECK(contains(copc_last_error_message(), "LAS"));
        CHECK(r == NULL);
        remove(name);
    }
}

static int run_basics(void) {
    test_version();
    test_statuses();
    test_options();
    test_panic_boundary();
    test_queries();
    test_null_handles();
    test_open_errors();
    return failures;
}

/* ---------------------------------------------------------------- files */

typedef struct expected {
    const char *name;
    uint64_t points;
    uint8_t format;
    size_t data_nodes;
    int32_t max_level;
    /* sums of the raw integers over every point (laspy 2.7) */
    int64_t sum_x, sum_y, sum_z, sum_intensity, sum_class, sum_return, sum_scan_angle, sum_red;
    const char *wkt_prefix; /* the WKT VLR's first characters (laspy) */
} expected;

static const expected FILES[] = {
    {"pdal_1.2-with-color.copc.laz", 1065, 7, 65, 3, -475503, 3405709, -6643700, 81361, 1341, 1236, -134504, 129567, "COMPD_CS[\"NAD83 / Oregon LCC (m)"},
    {"laspy_simple_with_page.copc.laz", 1065, 7, 65, 3, -475503, 3405709, -6643700, 81361, 1341, 1236, -134504, 129567, "COMPD_CS[\"NAD83 / Oregon LCC (m)"},
    {"lastools_example.copc.laz", 30, 6, 1, 0, -7829758319LL, -37559989558LL, 29276972, 2358, 33, 34, -108340, 0, "PROJCS[\"NAD83 / NAD83 / UTM 17N\""},
    {"pdal_ellipsoid-eb.copc.laz", 200000, 7, 5, 1, -400, 0, 0, 4934250000LL, 2197768, 299996, 120560, 3650689164LL, "PROJCS[\"WGS 84 / Pseudo-Mercator\""},
    {"pdal_lone-star.copc.laz", 518862, 6, 15, 2, 15148386086LL, 10814659985LL, -4278147104LL, 562919835, 0, 518862, 0, 0, "GEOCCS[\"unnamed\",DATUM[\"WGS_1984\""},
};

static const char *data_dir(void) {
    const char *d = getenv("COPC_TEST_DATA");
    return (d && *d) ? d : NULL;
}

static void path_of(char *out, size_t cap, const char *file) {
    snprintf(out, cap, "%s/%s", data_dir(), file);
}

static int64_t le_i64(const uint8_t *b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return (int64_t)v;
}
static double le_f64(const uint8_t *b) {
    uint64_t v = (uint64_t)le_i64(b);
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

/* The first bytes of a file, read by hand. */
static size_t read_prefix(const char *path, uint8_t *buf, size_t n) {
    FILE *f = fopen(path, "rb");
    REQUIRE(f != NULL);
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    return got;
}

/* Every point of a file, in all the columns the tests look at. */
typedef struct cloud {
    size_t n;
    double *x, *y, *z;
    int32_t *xr, *yr, *zr;
    uint16_t *intensity, *red;
    uint8_t *cls, *ret;
    int16_t *scan;
} cloud;

static void cloud_free(cloud *c) {
    free(c->x);
    free(c->y);
    free(c->z);
    free(c->xr);
    free(c->yr);
    free(c->zr);
    free(c->intensity);
    free(c->red);
    free(c->cls);
    free(c->ret);
    free(c->scan);
    memset(c, 0, sizeof *c);
}

static cloud read_all(copc_reader *r, const copc_query *q, size_t expect_max) {
    cloud c;
    memset(&c, 0, sizeof c);
    size_t cap = expect_max + 1;
    c.x = malloc(cap * sizeof(double));
    c.y = malloc(cap * sizeof(double));
    c.z = malloc(cap * sizeof(double));
    c.xr = malloc(cap * sizeof(int32_t));
    c.yr = malloc(cap * sizeof(int32_t));
    c.zr = malloc(cap * sizeof(int32_t));
    c.intensity = malloc(cap * sizeof(uint16_t));
    c.red = malloc(cap * sizeof(uint16_t));
    c.cls = malloc(cap);
    c.ret = malloc(cap);
    c.scan = malloc(cap * sizeof(int16_t));
    REQUIRE(c.x && c.y && c.z && c.xr && c.yr && c.zr && c.intensity && c.red && c.cls && c.ret && c.scan);
    copc_point_iter *it = NULL;
    OK(copc_reader_query_points(r, q, &it));
    REQUIRE(it != NULL);
    const size_t batch = 10000;
    for (;;) {
        size_t at = c.n;
        size_t room = cap - at < batch ? cap - at : batch;
        REQUIRE(room > 0);
        copc_column cols[] = {
            {COPC_DIM_X, c.x + at, 0},         {COPC_DIM_Y, c.y + at, 0},
            {COPC_DIM_Z, c.z + at, 0},         {COPC_DIM_X_RAW, c.xr + at, 0},
            {COPC_DIM_Y_RAW, c.yr + at, 0},    {COPC_DIM_Z_RAW, c.zr + at, 0},
            {COPC_DIM_INTENSITY, c.intensity + at, 0}, {COPC_DIM_RED, c.red + at, 0},
            {COPC_DIM_CLASSIFICATION, c.cls + at, 0},  {COPC_DIM_RETURN_NUMBER, c.ret + at, 0},
            {COPC_DIM_SCAN_ANGLE, c.scan + at, 0},
        };
        size_t got = 0;
        copc_status s = copc_point_iter_read(it, cols, sizeof cols / sizeof cols[0], room, &got);
        CHECK_STATUS(s, COPC_STATUS_OK);
        if (s != COPC_STATUS_OK || got == 0) break;
        c.n += got;
    }
    copc_point_iter_free(it);
    return c;
}

static void test_header(copc_reader *r, const expected *e, const char *path) {
    uint8_t raw[589];
    REQUIRE(read_prefix(path, raw, sizeof raw) == sizeof raw);
    copc_header h;
    memset(&h, 0, sizeof h);
    h.struct_size = 0;
    CHECK_STATUS(copc_reader_header(r, &h), COPC_STATUS_INVALID_ARGUMENT);
    CHECK(contains(copc_last_error_message(), "struct_size"));
    h.struct_size = sizeof h;
    OK(copc_reader_header(r, &h));
    CHECK(h.struct_size == sizeof h);
    CHECK(h.version_major == 1 && h.version_minor == 4);
    CHECK(h.point_format == e->format && h.point_format == (raw[104] & 0x3F));
    CHECK(h.point_count == e->points && h.point_count == (uint64_t)le_i64(raw + 247));
    CHECK(h.point_record_length == (uint16_t)(raw[105] | raw[106] << 8));
    CHECK(!h.draft);
    for (int i = 0; i < 3; i++) {
        CHECK(h.scale[i] == le_f64(raw + 131 + 8 * i));
        CHECK(h.offset[i] == le_f64(raw + 155 + 8 * i));
        CHECK(h.max[i] == le_f64(raw + 179 + 16 * i));
        CHECK(h.min[i] == le_f64(raw + 187 + 16 * i));
        /* the info VLR's payload starts at byte 429 */
        CHECK(h.center[i] == le_f64(raw + 429 + 8 * i));
    }
    CHECK(h.halfsize == le_f64(raw + 429 + 24));
    CHECK(h.spacing == le_f64(raw + 429 + 32));
    CHECK(h.root_hier_offset == (uint64_t)le_i64(raw + 429 + 40));
    CHECK(h.root_hier_size == (uint64_t)le_i64(raw + 429 + 48));
    CHECK(h.gpstime_min == le_f64(raw + 429 + 56));
    CHECK(h.gpstime_max == le_f64(raw + 429 + 64));
    CHECK(h.evlr_count == (uint32_t)(raw[243] | raw[244] << 8 | raw[245] << 16 | (uint32_t)raw[246] << 24));

    /* An older caller that knows the struct only up to `scale`: nothing after is written. */
    unsigned char older[sizeof(copc_header) + 64];
    memset(older, 0xAB, sizeof older);
    uint32_t partial = (uint32_t)offsetof(copc_header, scale);
    memcpy(older, &partial, sizeof partial);
    OK(copc_reader_header(r, (copc_header *)(void *)older));
    copc_header seen;
    memcpy(&seen, older, sizeof seen);
    CHECK(seen.point_count == e->points);
    for (size_t i = partial; i < sizeof older; i++) {
        if (older[i] != 0xAB) {
            fprintf(stderr, "byte %zu past struct_size %u was written\n", i, partial);
            failures++;
            break;
        }
    }
    /* A newer caller's longer struct: the bytes beyond ours stay as they were. */
    memset(older, 0xCD, sizeof older);
    uint32_t longer = (uint32_t)sizeof older;
    memcpy(older, &longer, sizeof longer);
    OK(copc_reader_header(r, (copc_header *)(void *)older));
    for (size_t i = sizeof(copc_header); i < sizeof older; i++) CHECK(older[i] == 0xCD);
}

static void test_sums(const cloud *c, const copc_header *h, const expected *e) {
    CHECK(c->n == e->points);
    int64_t sx = 0, sy = 0, sz = 0, si = 0, sc = 0, sr = 0, ss = 0, sred = 0;
    size_t outside = 0, mismatched = 0;
    for (size_t i = 0; i < c->n; i++) {
        sx += c->xr[i];
        sy += c->yr[i];
        sz += c->zr[i];
        si += c->intensity[i];
        sc += c->cls[i];
        sr += c->ret[i];
        ss += c->scan[i];
        sred += c->red[i];
        const double p[3] = {c->x[i], c->y[i], c->z[i]};
        const int32_t q[3] = {c->xr[i], c->yr[i], c->zr[i]};
        for (int a = 0; a < 3; a++) {
            if (p[a] < h->min[a] - h->scale[a] || p[a] > h->max[a] + h->scale[a]) outside++;
            if (fabs(p[a] - (q[a] * h->scale[a] + h->offset[a])) > 1e-9 * fabs(p[a]) + 1e-9) mismatched++;
        }
    }
    CHECK(outside == 0);
    CHECK(mismatched == 0);
    CHECK(sx == e->sum_x && sy == e->sum_y && sz == e->sum_z);
    CHECK(si == e->sum_intensity);
    CHECK(sc == e->sum_class);
    CHECK(sr == e->sum_return);
    CHECK(ss == e->sum_scan_angle);
    CHECK(sred == e->sum_red); /* 0 for format 6: RGB reads as 0 */
    if (sx != e->sum_x || si != e->sum_intensity) {
        fprintf(stderr, "  %s: sums x %lld intensity %lld\n", e->name, (long long)sx, (long long)si);
    }
}

static int cmp_xyz(const void *a, const void *b) {
    const double *p = a, *q = b;
    for (int i = 0; i < 3; i++) {
        if (p[i] < q[i]) return -1;
        if (p[i] > q[i]) return 1;
    }
    return 0;
}

/* A box query returns exactly the points a brute-force filter of the full read keeps. */
static void check_box(copc_reader *r, const cloud *all, const double lo[3], const double hi[3]) {
    size_t want_n = 0;
    double *want = malloc((all->n + 1) * 3 * sizeof(double));
    REQUIRE(want != NULL);
    for (size_t i = 0; i < all->n; i++) {
        const double p[3] = {all->x[i], all->y[i], all->z[i]};
        if (p[0] >= lo[0] && p[0] <= hi[0] && p[1] >= lo[1] && p[1] <= hi[1] && p[2] >= lo[2] && p[2] <= hi[2]) {
            memcpy(want + 3 * want_n++, p, sizeof p);
        }
    }
    copc_query *q = NULL;
    OK(copc_query_new(&q));
    OK(copc_query_set_bounds(q, lo, hi));
    OK(copc_query_set_dims(q, COPC_DIM_BIT(COPC_DIM_X) | COPC_DIM_BIT(COPC_DIM_Y) | COPC_DIM_BIT(COPC_DIM_Z)));
    uint64_t counted = 0;
    OK(copc_reader_count(r, q, &counted));
    CHECK(counted == want_n);

    /* The points, interleaved x,y,z through strides, in odd-sized batches. */
    double *got = malloc((all->n + 1) * 3 * sizeof(double));
    REQUIRE(got != NULL);
    size_t got_n = 0;
    copc_point_iter *it = NULL;
    OK(copc_reader_query_points(r, q, &it));
    for (;;) {
        size_t room = all->n + 1 - got_n;
        if (room > 777) room = 777;
        copc_column cols[3] = {{COPC_DIM_X, got + 3 * got_n, 3 * sizeof(double)},
                               {COPC_DIM_Y, got + 3 * got_n + 1, 3 * sizeof(double)},
                               {COPC_DIM_Z, got + 3 * got_n + 2, 3 * sizeof(double)}};
        size_t n = 0;
        copc_status s = copc_point_iter_read(it, cols, 3, room, &n);
        CHECK_STATUS(s, COPC_STATUS_OK);
        if (s != COPC_STATUS_OK || n == 0) break;
        got_n += n;
        REQUIRE(got_n <= all->n);
    }
    /* A dimension outside the mask is refused. */
    uint16_t inten[4];
    copc_column bad = {COPC_DIM_INTENSITY, inten, 0};
    size_t untouched = 99;
    CHECK_STATUS(copc_point_iter_read(it, &bad, 1, 4, &untouched), COPC_STATUS_INVALID_ARGUMENT);
    CHECK(untouched == 99);
    copc_point_iter_free(it);

    CHECK(got_n == want_n);
    if (got_n == want_n) {
        qsort(want, want_n, 3 * sizeof(double), cmp_xyz);
        qsort(got, got_n, 3 * sizeof(double), cmp_xyz);
        CHECK(memcmp(want, got, want_n * 3 * sizeof(double)) == 0);
    } else {
        fprintf(stderr, "  box [%g %g %g]..[%g %g %g]: %zu points, brute force %zu\n", lo[0], lo[1], lo[2], hi[0],
                hi[1], hi[2], got_n, want_n);
    }

    /* Nodes of the box: each meets it. */
    copc_node_iter *ni = NULL;
    OK(copc_reader_nodes(r, q, &ni));
    for (;;) {
        copc_node node;
        bool has = false;
        OK(copc_node_iter_next(ni, &node, &has));
        if (!has) break;
        for (int a = 0; a < 3; a++) CHECK(node.min[a] <= hi[a] && node.max[a] >= lo[a]);
    }
    copc_node_iter_free(ni);
    copc_query_free(q);
    free(want);
    free(got);
}

/* Inside triangle t (or on an edge): the three cross products have one sign. */
static int in_triangle(double x, double y, double t[3][2]) {
    double d[3];
    for (int i = 0; i < 3; i++) {
        const double *a = t[i], *b = t[(i + 1) % 3];
        d[i] = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]);
    }
    return (d[0] >= 0 && d[1] >= 0 && d[2] >= 0) || (d[0] <= 0 && d[1] <= 0 && d[2] <= 0);
}

/* A polygon query (WKT, then GeoJSON) returns what a point-in-triangle filter keeps. */
static void test_polygon(copc_reader *r, const copc_header *h, const cloud *all) {
    double t[3][2];
    const double f[3][2] = {{0.1, 0.1}, {0.9, 0.3}, {0.4, 0.95}};
    for (int i = 0; i < 3; i++) {
        for (int a = 0; a < 2; a++) t[i][a] = h->min[a] + (h->max[a] - h->min[a]) * f[i][a];
    }
    size_t want = 0;
    int64_t want_sum = 0;
    for (size_t i = 0; i < all->n; i++) {
        if (in_triangle(all->x[i], all->y[i], t)) {
            want++;
            want_sum += all->xr[i];
        }
    }
    char text[2][1024];
    snprintf(text[0], sizeof text[0], "POLYGON((%.17g %.17g, %.17g %.17g, %.17g %.17g, %.17g %.17g))", t[0][0], t[0][1],
             t[1][0], t[1][1], t[2][0], t[2][1], t[0][0], t[0][1]);
    snprintf(text[1], sizeof text[1],
             "{\"type\": \"Polygon\", \"coordinates\": [[[%.17g, %.17g], [%.17g, %.17g], [%.17g, %.17g], [%.17g, %.17g]]]}",
             t[0][0], t[0][1], t[1][0], t[1][1], t[2][0], t[2][1], t[0][0], t[0][1]);
    for (int k = 0; k < 2; k++) {
        copc_query *q = NULL;
        OK(copc_query_new(&q));
        OK(copc_query_set_polygon(q, text[k]));
        OK(copc_query_set_dims(q, COPC_DIM_BIT(COPC_DIM_X_RAW)));
        copc_point_iter *it = NULL;
        OK(copc_reader_query_points(r, q, &it));
        size_t got = 0;
        int64_t sum = 0;
        for (;;) {
            int32_t xr[512];
            copc_column col = {COPC_DIM_X_RAW, xr, 0};
            size_t n = 0;
            copc_status s = copc_point_iter_read(it, &col, 1, 512, &n);
            CHECK_STATUS(s, COPC_STATUS_OK);
            if (s != COPC_STATUS_OK || n == 0) break;
            for (size_t i = 0; i < n; i++) sum += xr[i];
            got += n;
        }
        copc_point_iter_free(it);
        uint64_t counted = 0;
        OK(copc_reader_count(r, q, &counted));
        CHECK(got == want && sum == want_sum && counted == want);
        if (got != want) fprintf(stderr, "  polygon %d: %zu points, brute force %zu\n", k, got, want);
        copc_query_free(q);
    }
    copc_query *q = NULL;
    OK(copc_query_new(&q));
    CHECK_STATUS(copc_query_set_polygon(q, "POLYGON((0 0, 1 1))"), COPC_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(copc_query_set_polygon(q, "{\"type\": \"Point\"}"), COPC_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(copc_query_set_polygon(q, NULL), COPC_STATUS_NULL_ARGUMENT);
    copc_query_free(q);
}

static void test_boxes(copc_reader *r, const copc_header *h, const cloud *all) {
    const double inf = INFINITY;
    double ext[3];
    for (int a = 0; a < 3; a++) ext[a] = h->max[a] - h->min[a];
    /* 2-D boxes (every height) */
    const double f2[][4] = {{0.1, 0.2, 0.55, 0.6}, {0.0, 0.0, 1.0, 1.0}, {0.45, 0.45, 0.5, 0.5}, {2.0, 2.0, 3.0, 3.0}};
    for (size_t k = 0; k < sizeof f2 / sizeof f2[0]; k++) {
        const double lo[3] = {h->min[0] + ext[0] * f2[k][0], h->min[1] + ext[1] * f2[k][1], -inf};
        const double hi[3] = {h->min[0] + ext[0] * f2[k][2], h->min[1] + ext[1] * f2[k][3], inf};
        check_box(r, all, lo, hi);
    }
    /* 3-D boxes */
    const double f3[][6] = {{0.2, 0.1, 0.0, 0.9, 0.7, 0.5}, {0.3, 0.3, 0.3, 0.6, 0.6, 0.6}};
    for (size_t k = 0; k < sizeof f3 / sizeof f3[0]; k++) {
        double lo[3], hi[3];
        for (int a = 0; a < 3; a++) {
            lo[a] = h->min[a] + ext[a] * f3[k][a];
            hi[a] = h->min[a] + ext[a] * f3[k][a + 3];
        }
        check_box(r, all, lo, hi);
    }
    /* A point exactly on a box edge is inside (edges inclusive). */
    if (all->n > 0) {
        const double lo[3] = {all->x[0], all->y[0], all->z[0]}, hi[3] = {all->x[0], all->y[0], all->z[0]};
        check_box(r, all, lo, hi);
    }
}

typedef struct node_list {
    copc_node *v;
    size_t n;
} node_list;

static node_list list_nodes(copc_reader *r, const copc_query *q) {
    node_list l = {NULL, 0};
    copc_node_iter *it = NULL;
    OK(copc_reader_nodes(r, q, &it));
    REQUIRE(it != NULL);
    size_t len = 0;
    OK(copc_node_iter_len(it, &len));
    l.v = malloc((len + 1) * sizeof(copc_node));
    REQUIRE(l.v != NULL);
    for (;;) {
        bool has = false;
        copc_node node;
        OK(copc_node_iter_next(it, &node, &has));
        if (!has) break;
        REQUIRE(l.n < len);
        l.v[l.n++] = node;
    }
    CHECK(l.n == len);
    /* after the end: still no node, and *out untouched */
    copc_node untouched;
    memset(&untouched, 0x11, sizeof untouched);
    bool has = true;
    OK(copc_node_iter_next(it, &untouched, &has));
    CHECK(!has && untouched.key.level == 0x11111111);
    copc_node_iter_free(it);
    return l;
}

static int same_key(copc_node_key a, copc_node_key b) {
    return a.level == b.level && a.x == b.x && a.y == b.y && a.z == b.z;
}

static void test_nodes(copc_reader *r, const copc_header *h, const expected *e) {
    node_list all = list_nodes(r, NULL);
    CHECK(all.n == e->data_nodes);
    uint64_t total = 0;
    int32_t max_level = 0;
    int tol_bad = 0;
    for (size_t i = 0; i < all.n; i++) {
        const copc_node *n = &all.v[i];
        total += (uint64_t)n->point_count;
        if (n->key.level > max_level) max_level = n->key.level;
        /* the cube from the info VLR: center - halfsize + key * side */
        double side = 2 * h->halfsize / (double)(1 << n->key.level);
        const int32_t k[3] = {n->key.x, n->key.y, n->key.z};
        for (int a = 0; a < 3; a++) {
            double lo = h->center[a] - h->halfsize + k[a] * side;
            CHECK(fabs(n->min[a] - lo) < 1e-6 && fabs(n->max[a] - (lo + side)) < 1e-6);
        }
        CHECK(n->offset > 0 && n->byte_size > 0);
        /* read_node: the node's points lie in its cube */
        size_t cap = (size_t)n->point_count;
        double *xyz = malloc(cap * 3 * sizeof(double));
        REQUIRE(xyz != NULL);
        copc_column cols[3] = {{COPC_DIM_X, xyz, 3 * sizeof(double)},
                               {COPC_DIM_Y, xyz + 1, 3 * sizeof(double)},
                               {COPC_DIM_Z, xyz + 2, 3 * sizeof(double)}};
        size_t got = 0;
        OK(copc_reader_read_node(r, &n->key, cols, 3, cap, &got));
        CHECK(got == cap);
        for (size_t p = 0; p < got; p++) {
            for (int a = 0; a < 3; a++) {
                double v = xyz[3 * p + a];
                if (v < n->min[a] - h->scale[a] || v > n->max[a] + h->scale[a]) tol_bad++;
            }
        }
        if (cap > 1) {
            size_t untouched = 1234;
            CHECK_STATUS(copc_reader_read_node(r, &n->key, cols, 3, cap - 1, &untouched), COPC_STATUS_BUFFER_TOO_SMALL);
            CHECK(untouched == 1234);
        }
        free(xyz);
    }
    CHECK(tol_bad == 0);
    CHECK(total == e->points);
    CHECK(max_level == e->max_level);

    /* Unknown and NULL keys. */
    copc_node_key missing = {12, 0, 0, 0};
    double x[2];
    copc_column col = {COPC_DIM_X, x, 0};
    size_t untouched = 5;
    CHECK_STATUS(copc_reader_read_node(r, &missing, &col, 1, 2, &untouched), COPC_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(copc_reader_read_node(r, NULL, &col, 1, 2, &untouched), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_reader_read_node(r, &all.v[0].key, &col, 1, 0, &untouched), COPC_STATUS_INVALID_ARGUMENT);
    CHECK(untouched == 5);

    /* Depth and resolution: the right levels, all of their nodes. */
    for (int32_t depth = 0; depth <= e->max_level; depth++) {
        copc_query *q = NULL;
        OK(copc_query_new(&q));
        OK(copc_query_set_max_depth(q, depth));
        node_list l = list_nodes(r, q);
        size_t want = 0;
        for (size_t i = 0; i < all.n; i++) want += all.v[i].key.level <= depth;
        CHECK(l.n == want);
        for (size_t i = 0; i < l.n; i++) CHECK(l.v[i].key.level <= depth);
        free(l.v);
        copc_query_free(q);
    }
    const double divs[] = {1.0, 3.0, 100.0};
    for (size_t k = 0; k < 3; k++) {
        double res = h->spacing / divs[k];
        /* PDAL and laspy: levels d < max(1, ceil(log2(spacing / resolution)) + 1) */
        double end = ceil(log2(h->spacing / res)) + 1;
        if (end < 1) end = 1;
        copc_query *q = NULL;
        OK(copc_query_new(&q));
        OK(copc_query_set_resolution(q, res));
        node_list l = list_nodes(r, q);
        size_t want = 0;
        for (size_t i = 0; i < all.n; i++) want += all.v[i].key.level < end;
        CHECK(l.n == want);
        for (size_t i = 0; i < l.n; i++) {
            CHECK(l.v[i].key.level < end);
            int found = 0;
            for (size_t j = 0; j < all.n; j++) found |= same_key(all.v[j].key, l.v[i].key);
            CHECK(found);
        }
        uint64_t counted = 0;
        OK(copc_reader_count(r, q, &counted));
        uint64_t want_points = 0;
        for (size_t i = 0; i < all.n; i++) {
            if (all.v[i].key.level < end) want_points += (uint64_t)all.v[i].point_count;
        }
        CHECK(counted == want_points);
        free(l.v);
        copc_query_free(q);
    }
    free(all.v);
}

static void test_dims(copc_reader *r, const copc_header *h, const cloud *all) {
    size_t n = 0;
    OK(copc_reader_dims(r, NULL, 0, &n));
    /* 25 standard ids; format 6 lacks red, green, blue, nir; 7 lacks nir; then extra bytes */
    size_t extra = 0;
    OK(copc_reader_extra_dim_count(r, &extra));
    size_t want = (h->point_format == 6 ? 21 : h->point_format == 7 ? 24 : 25) + extra;
    CHECK(n == want);
    int32_t ids[64];
    size_t n2 = 0;
    CHECK_STATUS(copc_reader_dims(r, ids, 2, &n2), COPC_STATUS_BUFFER_TOO_SMALL);
    CHECK(n2 == 0);
    OK(copc_reader_dims(r, ids, 64, &n2));
    CHECK(n2 == n);
    CHECK(ids[0] == COPC_DIM_X && ids[1] == COPC_DIM_Y && ids[2] == COPC_DIM_Z);

    /* Types and sizes of the standard dimensions, as documented. */
    struct {
        int32_t dim;
        int32_t type;
        uint32_t size;
        const char *name;
    } const std_dims[] = {
        {COPC_DIM_X, COPC_TYPE_DOUBLE, 8, "x"},
        {COPC_DIM_Z_RAW, COPC_TYPE_INT32, 4, "z_raw"},
        {COPC_DIM_INTENSITY, COPC_TYPE_UINT16, 2, "intensity"},
        {COPC_DIM_CLASSIFICATION, COPC_TYPE_UINT8, 1, "classification"},
        {COPC_DIM_GPS_TIME, COPC_TYPE_DOUBLE, 8, "gps_time"},
        {COPC_DIM_SCAN_ANGLE, COPC_TYPE_INT16, 2, "scan_angle"},
        {COPC_DIM_RED, COPC_TYPE_UINT16, 2, "red"},
        {COPC_DIM_NIR, COPC_TYPE_UINT16, 2, "nir"},
        {COPC_DIM_WITHHELD, COPC_TYPE_UINT8, 1, "withheld"},
    };
    for (size_t i = 0; i < sizeof std_dims / sizeof std_dims[0]; i++) {
        copc_dim_info d;
        memset(&d, 0, sizeof d);
        d.struct_size = sizeof d;
        OK(copc_reader_dim_info(r, std_dims[i].dim, &d));
        CHECK(d.dim == std_dims[i].dim && d.value_type == std_dims[i].type && d.size == std_dims[i].size && d.count == 1);
        CHECK(d.name != NULL && strcmp(d.name, std_dims[i].name) == 0);
    }
    copc_dim_info d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    OK(copc_reader_dim_info(r, COPC_DIM_RED, &d));
    CHECK(d.present == (h->point_format >= 7));
    OK(copc_reader_dim_info(r, COPC_DIM_NIR, &d));
    CHECK(d.present == (h->point_format == 8));

    /* Invalid enum values. */
    const int32_t bad[] = {-1, 25, 999, COPC_DIM_EXTRA_BASE + (int32_t)extra, COPC_DIM_EXTRA_DOUBLE_BASE + (int32_t)extra,
                           3000, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_STATUS(copc_reader_dim_info(r, bad[i], &d), COPC_STATUS_INVALID_ARGUMENT);
        double x[2];
        copc_column col = {bad[i], x, 0};
        copc_node_key root = {0, 0, 0, 0};
        size_t untouched = 3;
        CHECK_STATUS(copc_reader_read_node(r, &root, &col, 1, 2, &untouched), COPC_STATUS_INVALID_ARGUMENT);
        CHECK(untouched == 3);
    }
    copc_dim_info zero;
    memset(&zero, 0, sizeof zero);
    CHECK_STATUS(copc_reader_dim_info(r, COPC_DIM_X, &zero), COPC_STATUS_INVALID_ARGUMENT);

    /* Selected dimensions decode the same values as a full decode (same order). */
    copc_query *q = NULL;
    OK(copc_query_new(&q));
    OK(copc_query_set_dims(q, COPC_DIM_BIT(COPC_DIM_CLASSIFICATION) | COPC_DIM_BIT(COPC_DIM_INTENSITY)));
    copc_point_iter *it = NULL;
    OK(copc_reader_query_points(r, q, &it));
    uint8_t *cls = malloc(all->n + 1);
    uint16_t *inten = malloc((all->n + 1) * sizeof(uint16_t));
    REQUIRE(cls && inten);
    size_t total = 0;
    for (;;) {
        copc_column cols[2] = {{COPC_DIM_CLASSIFICATION, cls + total, 0}, {COPC_DIM_INTENSITY, inten + total, 0}};
        size_t got = 0;
        copc_status s = copc_point_iter_read(it, cols, 2, all->n + 1 - total, &got);
        CHECK_STATUS(s, COPC_STATUS_OK);
        if (s != COPC_STATUS_OK || got == 0) break;
        total += got;
    }
    CHECK(total == all->n);
    CHECK(memcmp(cls, all->cls, all->n) == 0);
    CHECK(memcmp(inten, all->intensity, all->n * sizeof(uint16_t)) == 0);
    /* Too-small stride and zero capacity are refused. */
    copc_column narrow = {COPC_DIM_INTENSITY, inten, 1};
    size_t untouched = 8;
    CHECK_STATUS(copc_point_iter_read(it, &narrow, 1, 4, &untouched), COPC_STATUS_INVALID_ARGUMENT);
    copc_column ok_col = {COPC_DIM_INTENSITY, inten, 0};
    CHECK_STATUS(copc_point_iter_read(it, &ok_col, 1, 0, &untouched), COPC_STATUS_INVALID_ARGUMENT);
    copc_column null_data = {COPC_DIM_INTENSITY, NULL, 0};
    CHECK_STATUS(copc_point_iter_read(it, &null_data, 1, 4, &untouched), COPC_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(copc_point_iter_read(it, NULL, 1, 4, &untouched), COPC_STATUS_NULL_ARGUMENT);
    CHECK(untouched == 8);
    copc_point_iter_free(it);
    copc_query_free(q);
    free(cls);
    free(inten);
}

static void test_extra_bytes(copc_reader *r, const copc_header *h) {
    size_t n = 0;
    OK(copc_reader_extra_dim_count(r, &n));
    CHECK(n == 1);
    CHECK(h->extra_dim_count == 1);
    copc_extra_dim e;
    memset(&e, 0, sizeof e);
    e.struct_size = sizeof e;
    OK(copc_reader_extra_dim(r, 0, &e));
    CHECK(strcmp(e.name, "InvertedIntensity") == 0);
    CHECK(e.data_type == 10 && e.value_type == COPC_TYPE_DOUBLE && e.count == 1 && e.size == 8);
    CHECK(e.dim == COPC_DIM_EXTRA_BASE + 0);
    CHECK(!e.has_scale && e.scale[0] == 1.0 && e.offset[0] == 0.0);
    CHECK_STATUS(copc_reader_extra_dim(r, 1, &e), COPC_STATUS_INVALID_ARGUMENT);
    copc_dim_info d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    OK(copc_reader_dim_info(r, COPC_DIM_EXTRA_BASE + 0, &d));
    CHECK(d.value_type == COPC_TYPE_DOUBLE && d.size == 8 && d.present && strcmp(d.name, "InvertedIntensity") == 0);

    /* Only the extra bytes and gps time: declared type, and the double form. */
    copc_query *q = NULL;
    OK(copc_query_new(&q));
    OK(copc_query_set_dims(q, COPC_DIM_MASK_EXTRA | COPC_DIM_BIT(COPC_DIM_GPS_TIME)));
    copc_point_iter *it = NULL;
    OK(copc_reader_query_points(r, q, &it));
    const size_t cap = 4096;
    double *inv = malloc(cap * sizeof(double)), *inv2 = malloc(cap * sizeof(double)), *t = malloc(cap * sizeof(double));
    REQUIRE(inv && inv2 && t);
    double sum = 0, tmin = INFINITY, tmax = -INFINITY;
    size_t total = 0, differ = 0;
    for (;;) {
        copc_column cols[3] = {{COPC_DIM_EXTRA_BASE + 0, inv, 0},
                               {COPC_DIM_EXTRA_DOUBLE_BASE + 0, inv2, 0},
                               {COPC_DIM_GPS_TIME, t, 0}};
        size_t got = 0;
        copc_status s = copc_point_iter_read(it, cols, 3, cap, &got);
        CHECK_STATUS(s, COPC_STATUS_OK);
        if (s != COPC_STATUS_OK || got == 0) break;
        for (size_t i = 0; i < got; i++) {
            sum += inv[i];
            differ += inv[i] != inv2[i];
            if (t[i] < tmin) tmin = t[i];
            if (t[i] > tmax) tmax = t[i];
        }
        total += got;
    }
    CHECK(total == 200000);
    CHECK(sum == 9647591762.0); /* laspy 2.7: sum of 'InvertedIntensity' (whole numbers) */
    CHECK(differ == 0);
    CHECK(tmin >= 42.0 && tmax <= 42.99999 + 1e-9); /* README: gps_time in [42, 42.99999] */
    copc_point_iter_free(it);
    copc_query_free(q);
    free(inv);
    free(inv2);
    free(t);
}

static void test_vlrs(copc_reader *r, const char *path, const expected *e) {
    size_t n = 0;
    OK(copc_reader_vlr_count(r, &n));
    CHECK(n >= 3); /* info, laszip, WKT; the hierarchy EVLR */
    uint8_t raw[589];
    REQUIRE(read_prefix(path, raw, sizeof raw) == sizeof raw);
    copc_vlr v;
    memset(&v, 0, sizeof v);
    v.struct_size = sizeof v;
    OK(copc_reader_vlr(r, 0, &v));
    CHECK(strcmp(v.user_id, "copc") == 0 && v.record_id == 1 && v.data_len == 160 && v.data_offset == 429);
    CHECK(!v.extended);
    uint8_t payload[160];
    size_t len = 0;
    CHECK_STATUS(copc_reader_vlr_data(r, 0, payload, 159, &len), COPC_STATUS_BUFFER_TOO_SMALL);
    CHECK(len == 0);
    CHECK_STATUS(copc_reader_vlr_data(r, 0, NULL, 160, &len), COPC_STATUS_NULL_ARGUMENT);
    OK(copc_reader_vlr_data(r, 0, payload, sizeof payload, &len));
    CHECK(len == 160 && memcmp(payload, raw + 429, 160) == 0);
    CHECK_STATUS(copc_reader_vlr(r, n, &v), COPC_STATUS_INVALID_ARGUMENT);
    int hierarchy = 0, wkt_vlr = -1;
    for (size_t i = 0; i < n; i++) {
        OK(copc_reader_vlr(r, i, &v));
        if (strcmp(v.user_id, "copc") == 0 && v.record_id == 1000) hierarchy = 1;
        if (strcmp(v.user_id, "LASF_Projection") == 0 && v.record_id == 2112) wkt_vlr = (int)i;
    }
    CHECK(hierarchy);
    /* Every COPC file of the shared data has a WKT CRS. */
    const char *wkt = copc_reader_crs_wkt(r);
    CHECK(wkt != NULL && wkt_vlr >= 0);
    if (wkt && wkt_vlr >= 0) {
        CHECK(strncmp(wkt, e->wkt_prefix, strlen(e->wkt_prefix)) == 0);
        CHECK(copc_reader_crs_wkt(r) == wkt); /* owned by the reader, stable */
    }
}

/* copc_io over a FILE *. */
typedef struct file_io {
    FILE *f;
    int reads;
    int closes;
} file_io;

static int32_t file_read(void *userdata, uint64_t offset, uint8_t *buf, size_t len) {
    file_io *io = userdata;
    io->reads++;
    if (fseek(io->f, (long)offset, SEEK_SET) != 0) return -1;
    return fread(buf, 1, len, io->f) == len ? 0 : -2;
}

static void file_close(void *userdata) {
    file_io *io = userdata;
    io->closes++;
    fclose(io->f);
    io->f = NULL;
}

static void test_open_io(const char *path, const expected *e) {
    file_io fio = {fopen(path, "rb"), 0, 0};
    REQUIRE(fio.f != NULL);
    fseek(fio.f, 0, SEEK_END);
    copc_io io;
    memset(&io, 0, sizeof io);
    io.read = file_read;
    io.size = (uint64_t)ftell(fio.f);
    io.name = "file via copc_io";
    io.close = file_close;
    io.flags = 0; /* not thread-safe: the library serializes calls */
    copc_options *o = NULL;
    OK(copc_options_new(&o));
    OK(copc_options_set(o, "threads", "2"));
    copc_reader *r = NULL;
    OK(copc_reader_open_io(&io, &fio, o, &r));
    copc_options_free(o);
    REQUIRE(r != NULL);
    CHECK(fio.reads > 0);
    uint64_t count = 0;
    OK(copc_reader_count(r, NULL, &count));
    CHECK(count == e->points);
    cloud c = read_all(r, NULL, (size_t)e->points);
    copc_header h;
    memset(&h, 0, sizeof h);
    h.struct_size = sizeof h;
    OK(copc_reader_header(r, &h));
    test_sums(&c, &h, e);
    cloud_free(&c);
    CHECK(fio.closes == 0);
    copc_reader_free(r);
    CHECK(fio.closes == 1);

    /* A file too short for a header: a format error, and close still runs. */
    fio.f = fopen(path, "rb");
    REQUIRE(fio.f != NULL);
    fio.closes = 0;
    io.size = 10;
    r = NULL;
    CHECK_STATUS(copc_reader_open_io(&io, &fio, NULL, &r), COPC_STATUS_FORMAT);
    CHECK(fio.closes == 1 && r == NULL);
}

/* One reader, several threads: counts and box reads agree with the main thread's. */
typedef struct shared_job {
    copc_reader *r;
    const copc_query *q;
    uint64_t count;
    size_t read;
    int ok;
} shared_job;

static void *shared_worker(void *arg) {
    shared_job *j = arg;
    j->ok = copc_reader_count(j->r, j->q, &j->count) == COPC_STATUS_OK;
    copc_point_iter *it = NULL;
    j->ok = j->ok && copc_reader_query_points(j->r, j->q, &it) == COPC_STATUS_OK;
    double z[1000];
    for (;;) {
        copc_column col = {COPC_DIM_Z, z, 0};
        size_t n = 0;
        if (!j->ok || copc_point_iter_read(it, &col, 1, 1000, &n) != COPC_STATUS_OK) {
            j->ok = 0;
            break;
        }
        if (n == 0) break;
        j->read += n;
    }
    copc_point_iter_free(it);
    return NULL;
}

static void test_threads(copc_reader *r, const copc_header *h, const cloud *all) {
    const double lo[3] = {h->min[0], h->min[1], -INFINITY};
    const double hi[3] = {(h->min[0] + h->max[0]) / 2, (h->min[1] + h->max[1]) / 2, INFINITY};
    size_t want = 0;
    for (size_t i = 0; i < all->n; i++) {
        want += all->x[i] >= lo[0] && all->x[i] <= hi[0] && all->y[i] >= lo[1] && all->y[i] <= hi[1];
    }
    copc_query *q = NULL;
    OK(copc_query_new(&q));
    OK(copc_query_set_bounds(q, lo, hi));
    enum { T = 4 };
    pthread_t th[T];
    shared_job jobs[T];
    for (int t = 0; t < T; t++) {
        jobs[t].r = r, jobs[t].q = q, jobs[t].count = 0, jobs[t].read = 0, jobs[t].ok = 0;
        REQUIRE(pthread_create(&th[t], NULL, shared_worker, &jobs[t]) == 0);
    }
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        CHECK(jobs[t].ok && jobs[t].count == want && jobs[t].read == want);
    }
    copc_query_free(q);
}

static int run_files(void) {
    if (!data_dir()) {
        printf("SKIPPED: COPC_TEST_DATA is not set to the shared data folder (e.g. ../shared/data)\n");
        return SKIP;
    }
    for (size_t k = 0; k < sizeof FILES / sizeof FILES[0]; k++) {
        const expected *e = &FILES[k];
        char path[4096];
        path_of(path, sizeof path, e->name);
        printf("file %s\n", e->name);
        copc_reader *r = NULL;
        OK(copc_reader_open(path, NULL, &r));
        REQUIRE(r != NULL);
        test_header(r, e, path);
        copc_header h;
        memset(&h, 0, sizeof h);
        h.struct_size = sizeof h;
        OK(copc_reader_header(r, &h));
        cloud all = read_all(r, NULL, (size_t)e->points);
        test_sums(&all, &h, e);
        test_nodes(r, &h, e);
        test_dims(r, &h, &all);
        test_boxes(r, &h, &all);
        test_polygon(r, &h, &all);
        test_threads(r, &h, &all);
        test_vlrs(r, path, e);
        if (strcmp(e->name, "pdal_ellipsoid-eb.copc.laz") == 0) test_extra_bytes(r, &h);
        if (k == 0) test_open_io(path, e);
        cloud_free(&all);
        copc_reader_free(r);
    }
    return failures;
}

/* ---------------------------------------------------------------- http */

static int run_http(void) {
    const char *base = getenv("COPC_TEST_NGINX_URL");
    if (!base || !*base || !data_dir()) {
        printf("SKIPPED: COPC_TEST_NGINX_URL (and COPC_TEST_DATA) not set: no HTTP server with the shared data\n");
        return SKIP;
    }
    const expected *e = &FILES[4]; /* lone-star */
    char url[4096], path[4096];
    snprintf(url, sizeof url, "%s/%s", base, e->name);
    path_of(path, sizeof path, e->name);
    copc_options *o = NULL;
    OK(copc_options_new(&o));
    OK(copc_options_set(o, "http_header", "X-Copc-Test: c_api_test"));
    OK(copc_options_set(o, "requests", "4"));
    OK(copc_options_set(o, "http_retries", "2"));
    copc_reader *remote = NULL, *local = NULL;
    OK(copc_reader_open(url, o, &remote));
    OK(copc_reader_open(path, NULL, &local));
    copc_options_free(o);
    REQUIRE(remote && local);
    copc_header h;
    memset(&h, 0, sizeof h);
    h.struct_size = sizeof h;
    OK(copc_reader_header(remote, &h));
    CHECK(h.point_count == e->points);
    cloud all = read_all(remote, NULL, (size_t)e->points);
    test_sums(&all, &h, e);
    const double lo[3] = {h.min[0] + 5, h.min[1] + 5, -INFINITY}, hi[3] = {h.min[0] + 15, h.min[1] + 12, INFINITY};
    check_box(remote, &all, lo, hi);
    cloud_free(&all);
    /* A missing URL: an HTTP error naming it. */
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/no-such-file.copc.laz", base);
    copc_reader *none = NULL;
    copc_options *quick = NULL;
    OK(copc_options_new(&quick));
    OK(copc_options_set(quick, "http_retries", "0"));
    CHECK_STATUS(copc_reader_open(missing, quick, &none), COPC_STATUS_HTTP);
    CHECK(contains(copc_last_error_message(), "no-such-file"));
    copc_options_free(quick);
    copc_reader_free(remote);
    copc_reader_free(local);
    return failures;
}

/* ---------------------------------------------------------------- writer */

typedef struct wpoint {
    double x, y, z;
    double gps;
    uint16_t intensity;
    uint8_t cls, ret, nret;
} wpoint;

static int cmp_wpoint(const void *a, const void *b) {
    const wpoint *p = a, *q = b;
    const double u[4] = {p->x, p->y, p->z, p->gps}, v[4] = {q->x, q->y, q->z, q->gps};
    for (int i = 0; i < 4; i++) {
        if (u[i] < v[i]) return -1;
        if (u[i] > v[i]) return 1;
    }
    return (int)p->intensity - (int)q->intensity;
}

/* Coordinates on the writer's 0.01 grid. */
static double grid(double v) { return floor(v * 100.0 + 0.5); }

static void test_writer_extra_and_positions(void);
static void test_writer_header_and_vlrs(void);

static int run_writer(void) {
    enum { N = 30000 };
    static wpoint pts[N], back[N + 1];
    uint32_t seed = 12345;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        pts[i].x = 500000.0 + (double)(seed % 100000) / 100.0;
        seed = seed * 1103515245u + 12345u;
        pts[i].y = 4000000.0 + (double)(seed % 80000) / 100.0;
        seed = seed * 1103515245u + 12345u;
        pts[i].z = 100.0 + (double)(seed % 5000) / 100.0;
        pts[i].gps = 1e8 + i;
        pts[i].intensity = (uint16_t)(i * 7);
        pts[i].cls = (uint8_t)(i % 19);
        pts[i].nret = (uint8_t)(1 + i % 3);
        pts[i].ret = (uint8_t)(1 + i % pts[i].nret);
    }
    const char *path = "c_writer_test.copc.laz";
    remove(path);
    copc_options *o = NULL;
    OK(copc_options_new(&o));
    OK(copc_options_set(o, "scale", "0.01"));
    OK(copc_options_set(o, "max_points_per_node", "5000"));
    OK(copc_options_set(o, "a_srs", "EPSG:32615"));
    CHECK_STATUS(copc_options_set(o, "point_format", "9"), COPC_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(copc_options_set(o, "scale", "-1"), COPC_STATUS_INVALID_ARGUMENT);
    copc_writer *w = NULL;
    OK(copc_writer_create(path, o, &w));
    REQUIRE(w != NULL);
    const size_t st = sizeof(wpoint);
    /* in three calls, through strides into the array of structs */
    const int cuts[4] = {0, 1, 12000, N};
    for (int c = 0; c < 3; c++) {
        wpoint *p = pts + cuts[c];
        copc_column cols[] = {{COPC_DIM_X, &p->x, st},           {COPC_DIM_Y, &p->y, st},
                              {COPC_DIM_Z, &p->z, st},           {COPC_DIM_GPS_TIME, &p->gps, st},
                              {COPC_DIM_INTENSITY, &p->intensity, st}, {COPC_DIM_CLASSIFICATION, &p->cls, st},
                              {COPC_DIM_RETURN_NUMBER, &p->ret, st},   {COPC_DIM_NUMBER_OF_RETURNS, &p->nret, st}};
        OK(copc_writer_add_points(w, cols, 8, (size_t)(cuts[c + 1] - cuts[c])));
    }
    /* Refusals add nothing: no Z; a flag of 2; an unknown dimension; NULL data. */
    {
        copc_column two[] = {{COPC_DIM_X, &pts[0].x, st}, {COPC_DIM_Y, &pts[0].y, st}};
        CHECK_STATUS(copc_writer_add_points(w, two, 2, 5), COPC_STATUS_INVALID_ARGUMENT);
        CHECK(contains(copc_last_error_message(), "no z"));
        uint8_t flags[2] = {0, 2};
        copc_column bad_flag[] = {{COPC_DIM_X, &pts[0].x, st}, {COPC_DIM_Y, &pts[0].y, st}, {COPC_DIM_Z, &pts[0].z, st},
                                  {COPC_DIM_SYNTHETIC, flags, 0}};
        CHECK_STATUS(copc_writer_add_points(w, bad_flag, 4, 2), COPC_STATUS_INVALID_ARGUMENT);
        double far[2] = {1e15, 1e15};
        copc_column too_far[] = {{COPC_DIM_X, far, 0}, {COPC_DIM_Y, far, 0}, {COPC_DIM_Z, far, 0}};
        CHECK_STATUS(copc_writer_add_points(w, too_far, 3, 2), COPC_STATUS_INVALID_ARGUMENT);
        CHECK(contains(copc_last_error_message(), "does not fit"));
        copc_column unknown[] = {{COPC_DIM_X, &pts[0].x, st}, {COPC_DIM_Y, &pts[0].y, st}, {COPC_DIM_Z, &pts[0].z, st},
                                 {77, flags, 0}};
        CHECK_STATUS(copc_writer_add_points(w, unknown, 4, 1), COPC_STATUS_INVALID_ARGUMENT);
        copc_column null_data[] = {{COPC_DIM_X, NULL, 0}};
        CHECK_STATUS(copc_writer_add_points(w, null_data, 1, 1), COPC_STATUS_NULL_ARGUMENT);
        CHECK_STATUS(copc_writer_add_points(w, NULL, 1, 1), COPC_STATUS_NULL_ARGUMENT);
        CHECK_STATUS(copc_writer_add_points(NULL, two, 2, 1), COPC_STATUS_NULL_ARGUMENT);
    }
    OK(copc_writer_close(w));
    CHECK_STATUS(copc_writer_close(w), COPC_STATUS_INVALID_STATE);
    copc_column x_only = {COPC_DIM_X, &pts[0].x, st};
    CHECK_STATUS(copc_writer_add_points(w, &x_only, 1, 1), COPC_STATUS_INVALID_STATE);
    copc_writer_free(w);
    copc_writer_free(NULL);

    /* Read it back. */
    copc_reader *r = NULL;
    OK(copc_reader_open(path, NULL, &r));
    REQUIRE(r != NULL);
    copc_header h;
    memset(&h, 0, sizeof h);
    h.struct_size = sizeof h;
    OK(copc_reader_header(r, &h));
    CHECK(h.point_count == N && h.point_format == 6 && h.scale[0] == 0.01);
    CHECK(copc_reader_crs_wkt(r) != NULL);
    copc_point_iter *it = NULL;
    OK(copc_reader_query_points(r, NULL, &it));
    size_t n = 0;
    for (;;) {
        wpoint *p = back + n;
        copc_column cols[] = {{COPC_DIM_X, &p->x, st},           {COPC_DIM_Y, &p->y, st},
                              {COPC_DIM_Z, &p->z, st},           {COPC_DIM_GPS_TIME, &p->gps, st},
                              {COPC_DIM_INTENSITY, &p->intensity, st}, {COPC_DIM_CLASSIFICATION, &p->cls, st},
                              {COPC_DIM_RETURN_NUMBER, &p->ret, st},   {COPC_DIM_NUMBER_OF_RETURNS, &p->nret, st}};
        size_t got = 0;
        copc_status s = copc_point_iter_read(it, cols, 8, N + 1 - n, &got);
        CHECK_STATUS(s, COPC_STATUS_OK);
        if (s != COPC_STATUS_OK || got == 0) break;
        n += got;
    }
    copc_point_iter_free(it);
    node_list nodes = list_nodes(r, NULL);
    CHECK(nodes.n > 1); /* 30000 points, at most 5000 per node */
    free(nodes.v);
    copc_reader_free(r);
    CHECK(n == N);
    if (n == N) {
        for (int i = 0; i < N; i++) {
            pts[i].x = grid(pts[i].x), pts[i].y = grid(pts[i].y), pts[i].z = grid(pts[i].z);
            back[i].x = grid(back[i].x), back[i].y = grid(back[i].y), back[i].z = grid(back[i].z);
        }
        qsort(pts, N, sizeof(wpoint), cmp_wpoint);
        qsort(back, N, sizeof(wpoint), cmp_wpoint);
        int differ = 0;
        for (int i = 0; i < N; i++) {
            differ += pts[i].x != back[i].x || pts[i].y != back[i].y || pts[i].z != back[i].z ||
                      pts[i].gps != back[i].gps || pts[i].intensity != back[i].intensity ||
                      pts[i].cls != back[i].cls || pts[i].ret != back[i].ret || pts[i].nret != back[i].nret;
        }
        CHECK(differ == 0);
    }

    /* A writer freed without close leaves nothing; a missing folder is an I/O error. */
    const char *dropped = "c_writer_dropped.copc.laz";
    OK(copc_writer_create(dropped, o, &w));
    copc_column xyz[] = {{COPC_DIM_X, &pts[0].x, st}, {COPC_DIM_Y, &pts[0].y, st}, {COPC_DIM_Z, &pts[0].z, st}};
    OK(copc_writer_add_points(w, xyz, 3, 100));
    copc_writer_free(w);
    FILE *f = fopen(dropped, "rb");
    CHECK(f == NULL);
    if (f) fclose(f);
    copc_writer *none = (copc_writer *)(uintptr_t)0x99;
    CHECK_STATUS(copc_writer_create("/no/such/folder/x.copc.laz", o, &none), COPC_STATUS_IO);
    CHECK(none == (copc_writer *)(uintptr_t)0x99);
    CHECK_STATUS(copc_writer_create(NULL, o, &none), COPC_STATUS_NULL_ARGUMENT);
    copc_options_free(o);
    if (!getenv("COPC_KEEP_OUTPUT")) remove(path);
    test_writer_extra_and_positions();
    test_writer_header_and_vlrs();
    return failures;
}

static uint32_t le_u32(const uint8_t *b) { return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24; }
static uint16_t le_u16(const uint8_t *b) { return (uint16_t)(b[0] | b[1] << 8); }

/* One VLR or EVLR as found by walking the file's records by hand. */
typedef struct {
    char user[17], desc[33];
    uint16_t record_id;
    uint64_t len;
    uint8_t first;
    int extended;
} raw_record;

/* Reads the whole file; walks the VLRs (54-byte headers after the header) and the
 * EVLRs (60-byte headers from the header's EVLR offset) into recs; returns their count. */
static size_t walk_records(const char *path, uint8_t *hdr, size_t hdr_len, raw_record *recs, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)size);
    size_t got = b ? fread(b, 1, (size_t)size, f) : 0;
    fclose(f);
    size_t n = 0;
    if (got == (size_t)size && size >= 375) {
        memcpy(hdr, b, hdr_len);
        size_t at = le_u16(b + 94);
        uint32_t nv = le_u32(b + 100);
        for (uint32_t i = 0; i < nv && n < cap && at + 54 <= (size_t)size; i++) {
            raw_record *r = &recs[n++];
            memset(r, 0, sizeof *r);
            memcpy(r->user, b + at + 2, 16);
            r->record_id = le_u16(b + at + 18);
            r->len = le_u16(b + at + 20);
            memcpy(r->desc, b + at + 22, 32);
            r->first = r->len && at + 54 < (size_t)size ? b[at + 54] : 0;
            at += 54 + (size_t)r->len;
        }
        uint64_t eat = (uint64_t)le_u32(b + 235) | (uint64_t)le_u32(b + 239) << 32;
        uint32_t ne = le_u32(b + 243);
        for (uint32_t i = 0; i < ne && n < cap && eat + 60 <= (uint64_t)size; i++) {
            raw_record *r = &recs[n++];
            memset(r, 0, sizeof *r);
            memcpy(r->user, b + eat + 2, 16);
            r->record_id = le_u16(b + eat + 18);
            r->len = (uint64_t)le_u32(b + eat + 20) | (uint64_t)le_u32(b + eat + 24) << 32;
            memcpy(r->desc, b + eat + 28, 32);
            r->first = r->len && eat + 60 < (uint64_t)size ? b[eat + 60] : 0;
            r->extended = 1;
            eat += 60 + r->len;
        }
    }
    free(b);
    return n;
}

/* Header fields set with copc_options_set and records added with copc_writer_add_vlr
 * are in the file, read from its bytes by hand; bad values and the writer's own records
 * are refused with a message naming the field. */
static void test_writer_header_and_vlrs(void) {
    const char *path = "c_writer_header.copc.laz";
    remove(path);
    copc_options *o = NULL;
    OK(copc_options_new(&o));
    OK(copc_options_set(o, "filesource_id", "4711"));
    OK(copc_options_set(o, "global_encoding", "0"));
    OK(copc_options_set(o, "project_id", "0E5F4C53-2C5D-4D26-9F0B-6A1A1F0B2C3D"));
    OK(copc_options_set(o, "system_id", "c test system"));
    OK(copc_options_set(o, "software_id", "c test software"));
    OK(copc_options_set(o, "creation_doy", "45"));
    OK(copc_options_set(o, "creation_year", "2019"));
    CHECK_STATUS(copc_options_set(o, "project_id", "0E5F4C53-2C5D-4D26-9F0B"), COPC_STATUS_INVALID_ARGUMENT);
    CHECK(contains(copc_last_error_message(), "project_id") && contains(copc_last_error_message(), "xxxxxxxx-xxxx"));
    CHECK_STATUS(copc_options_set(o, "system_id", "a system identifier of 33 bytes!!"), COPC_STATUS_INVALID_ARGUMENT);
    CHECK(contains(copc_last_error_message(), "system_id") && contains(copc_last_error_message(), "32"));
    CHECK_STATUS(copc_options_set(o, "creation_doy", "400"), COPC_STATUS_INVALID_ARGUMENT);
    CHECK(contains(copc_last_error_message(), "creation_doy"));
    CHECK_STATUS(copc_options_set(o, "global_encoding", "2"), COPC_STATUS_INVALID_ARGUMENT);
    CHECK(contains(copc_last_error_message(), "global_encoding"));
    CHECK_STATUS(copc_options_set(o, "filesource_id", "70000"), COPC_STATUS_INVALID_ARGUMENT);
    copc_writer *w = NULL;
    OK(copc_writer_create(path, o, &w));
    copc_options_free(o);
    REQUIRE(w != NULL);
    static uint8_t big[70000];
    memset(big, 7, sizeof big);
    const uint8_t notes[5] = {'h', 'e', 'l', 'l', 'o'};
    OK(copc_writer_add_vlr(w, "my_org", 7, "notes", notes, sizeof notes, 0));
    OK(copc_writer_add_vlr(w, "my_org", 8, "big", big, sizeof big, 1));
    CHECK_STATUS(copc_writer_add_vlr(w, "LASF_Projection", 2112, "OGC WKT", notes, 5, 0), COPC_STATUS_INVALID_ARGUMENT);
    CHECK(contains(copc_last_error_message(), "LASF_Projection/2112") && contains(copc_last_error_message(), "a_srs"));
    CHECK_STATUS(copc_writer_add_vlr(w, "LASF_Spec", 4, NULL, notes, 5, 0), COPC_STATUS_INVALID_ARGUMENT);
    CHECK(contains(copc_last_error_message(), "extra"));
    double xyz[6] = {1, 2, 3, 4, 5, 6};
    copc_column cols[] = {{COPC_DIM_X, xyz, 24}, {COPC_DIM_Y, xyz + 1, 24}, {COPC_DIM_Z, xyz + 2, 24}};
    OK(copc_writer_add_points(w, cols, 3, 2));
    OK(copc_writer_close(w));
    CHECK_STATUS(copc_writer_add_vlr(w, "my_org", 9, NULL, notes, 5, 0), COPC_STATUS_INVALID_STATE);
    copc_writer_free(w);

    uint8_t h[375];
    raw_record recs[16];
    size_t n = walk_records(path, h, sizeof h, recs, 16);
    CHECK(le_u16(h + 4) == 4711);
    CHECK(le_u16(h + 6) == 0x10); /* GPS bit off as asked, WKT bit always on */
    const uint8_t guid[16] = {0x0E, 0x5F, 0x4C, 0x53, 0x2C, 0x5D, 0x4D, 0x26,
                              0x9F, 0x0B, 0x6A, 0x1A, 0x1F, 0x0B, 0x2C, 0x3D};
    CHECK(memcmp(h + 8, guid, 16) == 0);
    CHECK(memcmp(h + 26, "c test system", 14) == 0);
    CHECK(memcmp(h + 58, "c test software", 16) == 0);
    CHECK(le_u16(h + 90) == 45 && le_u16(h + 92) == 2019);
    int notes_found = 0, big_found = 0, copc_records = 0;
    for (size_t i = 0; i < n; i++) {
        const raw_record *r = &recs[i];
        if (strcmp(r->user, "my_org") == 0 && r->record_id == 7)
            notes_found += !r->extended && r->len == 5 && r->first == 'h' && strcmp(r->desc, "notes") == 0;
        if (strcmp(r->user, "my_org") == 0 && r->record_id == 8)
            big_found += r->extended && r->len == sizeof big && r->first == 7 && strcmp(r->desc, "big") == 0;
        copc_records += strcmp(r->user, "copc") == 0;
    }
    CHECK(notes_found == 1 && big_found == 1 && copc_records == 2);
    /* and the library still reads it as COPC */
    copc_reader *rd = NULL;
    OK(copc_reader_open(path, NULL, &rd));
    uint64_t count = 0;
    OK(copc_reader_count(rd, NULL, &count));
    CHECK(count == 2);
    copc_reader_free(rd);
    if (!getenv("COPC_KEEP_OUTPUT")) remove(path);
}

/* Extra-bytes dimensions written with copc_writer_add_extra_dim come back with their
 * values; copc_point_iter_read_node names each point of a box query by node and
 * position, and copc_reader_read_node finds the same point there. */
static void test_writer_extra_and_positions(void) {
    enum { N = 8000 };
    static double x[N], y[N], z[N], id[N];
    static int16_t amp[N];
    for (int i = 0; i < N; i++) {
        x[i] = (double)((i * 37) % 2000) / 10.0;
        y[i] = (double)((i * 91) % 2000) / 10.0;
        z[i] = (double)(i % 100) / 10.0;
        id[i] = (double)i;                 /* a unique tag per point */
        amp[i] = (int16_t)(i % 2000 - 1000);
    }
    const char *path = "c_writer_extra.copc.laz";
    remove(path);
    copc_options *o = NULL;
    OK(copc_options_new(&o));
    OK(copc_options_set(o, "scale", "0.1"));
    OK(copc_options_set(o, "max_points_per_node", "700"));
    copc_writer *w = NULL;
    OK(copc_writer_create(path, o, &w));
    copc_options_free(o);
    REQUIRE(w != NULL);
    int32_t d_id = -1, d_amp = -1, d_bad = 55;
    OK(copc_writer_add_extra_dim(w, "tag", COPC_TYPE_DOUBLE, "point tag", &d_id));
    OK(copc_writer_add_extra_dim(w, "amp", COPC_TYPE_INT16, NULL, &d_amp));
    CHECK(d_id == COPC_DIM_EXTRA_BASE && d_amp == COPC_DIM_EXTRA_BASE + 1);
    CHECK_STATUS(copc_writer_add_extra_dim(w, "tag", COPC_TYPE_UINT8, NULL, &d_bad), COPC_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(copc_writer_add_extra_dim(w, "x2", 0, NULL, &d_bad), COPC_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(copc_writer_add_extra_dim(w, NULL, COPC_TYPE_UINT8, NULL, &d_bad), COPC_STATUS_NULL_ARGUMENT);
    CHECK(d_bad == 55);
    copc_column cols[] = {{COPC_DIM_X, x, 0}, {COPC_DIM_Y, y, 0}, {COPC_DIM_Z, z, 0}, {d_id, id, 0}, {d_amp, amp, 0}};
    OK(copc_writer_add_points(w, cols, 5, N));
    CHECK_STATUS(copc_writer_add_extra_dim(w, "late", COPC_TYPE_UINT8, NULL, &d_bad), COPC_STATUS_INVALID_STATE);
    OK(copc_writer_close(w));
    copc_writer_free(w);

    copc_reader *r = NULL;
    OK(copc_reader_open(path, NULL, &r));
    REQUIRE(r != NULL);
    copc_extra_dim eb;
    memset(&eb, 0, sizeof eb);
    eb.struct_size = sizeof eb;
    OK(copc_reader_extra_dim(r, 1, &eb));
    CHECK(strcmp(eb.name, "amp") == 0 && eb.data_type == 4 && eb.value_type == COPC_TYPE_INT16);

    const double lo[3] = {30.05, 50.05, -INFINITY}, hi[3] = {120.05, 160.05, INFINITY};
    size_t brute = 0;
    for (int i = 0; i < N; i++) brute += x[i] >= lo[0] && x[i] <= hi[0] && y[i] >= lo[1] && y[i] <= hi[1];
    copc_query *q = NULL;
    OK(copc_query_new(&q));
    OK(copc_query_set_bounds(q, lo, hi));
    copc_point_iter *it = NULL;
    OK(copc_reader_query_points(r, q, &it));
    copc_query_free(q);
    REQUIRE(it != NULL);
    enum { CAP = 100 };
    double bx[CAP], bid[CAP];
    int16_t bamp[CAP];
    uint32_t pos[CAP];
    static double nid[N];
    static unsigned char seen[N];
    memset(seen, 0, sizeof seen);
    size_t total = 0, wrong = 0, calls = 0;
    for (;;) {
        copc_column bc[] = {{COPC_DIM_X, bx, 0}, {d_id, bid, 0}, {d_amp, bamp, 0}};
        copc_node_key key = {-1, -1, -1, -1};
        size_t got = 0;
        copc_status s = copc_point_iter_read_node(it, bc, 3, CAP, &key, pos, &got);
        CHECK_STATUS(s, COPC_STATUS_OK);
        if (s != COPC_STATUS_OK || got == 0) break;
        calls++;
        copc_column nc = {d_id, nid, 0};
        size_t nn = 0;
        OK(copc_reader_read_node(r, &key, &nc, 1, N, &nn));
        for (size_t k = 0; k < got; k++) {
            const long t = (long)bid[k];
            if (t < 0 || t >= N || pos[k] >= nn || nid[pos[k]] != bid[k] || amp[t] != bamp[k] || fabs(x[t] - bx[k]) > 1e-6 ||
                seen[t]) {
                wrong++;
                continue;
            }
            seen[t] = 1;
        }
        total += got;
    }
    copc_point_iter_free(it);
    CHECK(total == brute && brute > 0 && brute < N);
    CHECK(wrong == 0);
    CHECK(calls > 1); /* several nodes, one per call at least */
    copc_reader_free(r);
    if (!getenv("COPC_KEEP_OUTPUT")) remove(path);
}

/* ---------------------------------------------------------------- translate */


static int run_translate(void) {
    if (!data_dir()) {
        printf("SKIPPED: COPC_TEST_DATA is not set to the shared data folder (e.g. ../shared/data)\n");
        return SKIP;
    }
    /* The input, read by hand: LAS 1.2, point format 3 (34-byte records). */
    char in[4096];
    path_of(in, sizeof in, "pdal_1.2-with-color.las");
    FILE *f = fopen(in, "rb");
    REQUIRE(f != NULL);
    uint8_t hdr[227];
    REQUIRE(fread(hdr, 1, sizeof hdr, f) == sizeof hdr);
    uint32_t data_at = le_u32(hdr + 96), count = le_u32(hdr + 107);
    uint16_t rec_len = (uint16_t)(hdr[105] | hdr[106] << 8);
    REQUIRE(hdr[104] == 3 && rec_len == 34 && count == 1065);
    double scale[3], offset[3];
    for (int a = 0; a < 3; a++) scale[a] = le_f64(hdr + 131 + 8 * a), offset[a] = le_f64(hdr + 155 + 8 * a);
    int64_t want_x = 0, want_i = 0, want_c = 0, want_red = 0;
    fseek(f, (long)data_at, SEEK_SET);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t rec[34];
        REQUIRE(fread(rec, 1, 34, f) == 34);
        want_x += (int32_t)le_u32(rec);
        want_i += rec[12] | rec[13] << 8;
        want_c += rec[15] & 0x1F;
        want_red += rec[28] | rec[29] << 8;
    }
    fclose(f);

    const char *out = "c_translate_test.copc.laz";
    const char *inputs[1] = {in};
    copc_options *o = NULL;
    OK(copc_options_new(&o));
    OK(copc_options_set(o, "threads", "2"));
    OK(copc_options_set(o, "max_points_per_node", "300"));
    OK(copc_translate(inputs, 1, out, o));
    CHECK_STATUS(copc_translate(inputs, 0, out, o), COPC_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(copc_translate(NULL, 1, out, o), COPC_STATUS_NULL_ARGUMENT);
    const char *missing[1] = {"/no/such/input.las"};
    CHECK_STATUS(copc_translate(missing, 1, "c_translate_missing.copc.laz", o), COPC_STATUS_IO);
    copc_options_free(o);

    copc_reader *r = NULL;
    OK(copc_reader_open(out, NULL, &r));
    REQUIRE(r != NULL);
    copc_header h;
    memset(&h, 0, sizeof h);
    h.struct_size = sizeof h;
    OK(copc_reader_header(r, &h));
    CHECK(h.point_count == count && h.point_format == 7); /* format 3 becomes 7 */
    for (int a = 0; a < 3; a++) CHECK(h.scale[a] == scale[a] && h.offset[a] == offset[a]);
    cloud c = read_all(r, NULL, count);
    int64_t x = 0, in_sum = 0, cl = 0, red = 0;
    for (size_t i = 0; i < c.n; i++) x += c.xr[i], in_sum += c.intensity[i], cl += c.cls[i], red += c.red[i];
    CHECK(c.n == count && x == want_x && in_sum == want_i && cl == want_c && red == want_red);
    node_list nodes = list_nodes(r, NULL);
    CHECK(nodes.n > 1);
    free(nodes.v);
    cloud_free(&c);
    copc_reader_free(r);
    if (!getenv("COPC_KEEP_OUTPUT")) remove(out);
    return failures;
}

int main(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "basics";
    int rc;
    if (strcmp(what, "basics") == 0) {
        rc = run_basics();
    } else if (strcmp(what, "files") == 0) {
        rc = run_files();
    } else if (strcmp(what, "http") == 0) {
        rc = run_http();
    } else if (strcmp(what, "writer") == 0) {
        rc = run_writer();
    } else if (strcmp(what, "translate") == 0) {
        rc = run_translate();
    } else {
        fprintf(stderr, "usage: %s basics|files|http|writer|translate\n", argv[0]);
        return 2;
    }
    if (rc == SKIP) return SKIP;
    if (failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", what, failures);
        return 1;
    }
    printf("%s: all checks passed\n", what);
    return 0;
}
