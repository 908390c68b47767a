/* Every exported function of copc.h fed hostile arguments: NULL in each pointer,
 * buffers that are too small, enum values that do not exist, wrong struct_size,
 * handles used after the state change that retires them. Each call must return the
 * documented status, leave a message, leave its out-parameters alone, and never crash.
 * Run as is, under valgrind and under ASan/UBSan (see CMakeLists.txt).
 *
 * A handle used after copc_*_free cannot be detected (the memory is gone; reading it
 * would itself be the bug): what is tested instead is every use the API allows after
 * a free (iterators outliving their reader and query) and every use it refuses
 * (a closed writer, an exhausted or failed iterator).
 */
#define _POSIX_C_SOURCE 200809L
#include "copc.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures = 0;
static int calls = 0;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                              \
        }                                                                            \
    } while (0)

/* The call returns `expected`; a failure leaves a non-empty message, success an empty one. */
#define EXPECT(call, expected)                                                                 \
    do {                                                                                       \
        calls++;                                                                               \
        copc_status s_ = (call);                                                               \
        const char *m_ = copc_last_error_message();                                            \
        if (s_ != (expected)) {                                                                \
            fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d (%s): %s\n", __FILE__,    \
                    __LINE__, #call, (int)s_, copc_status_str(s_), (int)(expected),            \
                    copc_status_str(expected), m_);                                            \
            failures++;                                                                        \
        } else if (m_ == NULL || ((expected) != COPC_STATUS_OK) != (m_[0] != '\0')) {          \
            fprintf(stderr, "%s:%d: %s: message \"%s\" after status %d\n", __FILE__, __LINE__, \
                    #call, m_ ? m_ : "(null)", (int)s_);                                       \
            failures++;                                                                        \
        }                                                                                      \
    } while (0)
#define OK(call) EXPECT(call, COPC_STATUS_OK)

#include "c_test_util.h"

enum { NPTS = 2000 };
static char path[256];

/* A small COPC file written through the C writer (x, y, z, intensity). */
static void write_file(void) {
    snprintf(path, sizeof path, "c_hostile_%ld.copc.laz", (long)getpid());
    static double x[NPTS], y[NPTS], z[NPTS];
    static uint16_t in[NPTS];
    for (int i = 0; i < NPTS; i++) {
        x[i] = 1000.0 + (i * 37 % 1000) / 10.0;
        y[i] = 2000.0 + (i * 91 % 1000) / 10.0;
        z[i] = (i * 13 % 500) / 10.0;
        in[i] = (uint16_t)i;
    }
    copc_options *o = NULL;
    OK(copc_options_new(&o));
    OK(copc_options_set(o, "scale", "0.01"));
    OK(copc_options_set(o, "max_points_per_node", "300"));
    copc_writer *w = NULL;
    OK(copc_writer_create(path, o, &w));
    copc_options_free(o);
    REQUIRE(w != NULL);
    copc_column cols[] = {{COPC_DIM_X, x, 0}, {COPC_DIM_Y, y, 0}, {COPC_DIM_Z, z, 0}, {COPC_DIM_INTENSITY, in, 0}};
    OK(copc_writer_add_points(w, cols, 4, NPTS));
    OK(copc_writer_close(w));
    copc_writer_free(w);
}

static void test_statics(void) {
    const int32_t odd[] = {-1, 11, 99, 12345, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        CHECK(strcmp(copc_status_str(odd[i]), "unknown status") == 0);
    }
    for (int32_t s = 0; s <= 10; s++) {
        CHECK(copc_status_str(s) != NULL && strcmp(copc_status_str(s), "unknown status") != 0);
    }
    CHECK(copc_version_number() == COPC_VERSION_NUMBER);
    CHECK(strcmp(copc_version_string(), COPC_VERSION_STRING) == 0);
    CHECK(copc_last_error_message() != NULL);
}

static void test_options(void) {
    EXPECT(copc_options_new(NULL), COPC_STATUS_NULL_ARGUMENT);
    copc_options *o = NULL;
    OK(copc_options_new(&o));
    REQUIRE(o != NULL);
    EXPECT(copc_options_set(NULL, "threads", "1"), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_options_set(o, NULL, "1"), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_options_set(o, "threads", NULL), COPC_STATUS_NULL_ARGUMENT);
    const char *bad[][2] = {
        {"no_such_key", "1"},   {"", ""},
        {"threads", "-1"},      {"threads", "lots"},
        {"threads", "1e99"},    {"threads", ""},
        {"http_retries", "-2"}, {"http_timeout_ms", "0"},
        {"requests", "0"},      {"http_header", "no colon"},
        {"memory_limit", "-5"}, {"memory_limit", "12Q"},
        {"scale", "0"},         {"scale", "nan"},
        {"scale", "1,2"},       {"offset", "1,2"},
        {"offset", "inf,0,0"},  {"point_format", "5"},
        {"point_format", "x"},  {"max_points_per_node", "0"},
        {"a_srs", "EPSG:abc"},  {"max_points_per_node", "99999999999999999999"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        calls++;
        copc_status s = copc_options_set(o, bad[i][0], bad[i][1]);
        if (s != COPC_STATUS_INVALID_ARGUMENT || copc_last_error_message()[0] == '\0') {
            fprintf(stderr, "options_set(\"%s\", \"%s\") gave %d: %s\n", bad[i][0], bad[i][1], (int)s,
                    copc_last_error_message());
            failures++;
        }
    }
    /* a string that is not UTF-8 */
    EXPECT(copc_options_set(o, "threads", "\xff\xfe"), COPC_STATUS_INVALID_ARGUMENT);
    copc_options_free(o);
    copc_options_free(NULL);
}

/* Arrow options and streams: NULLs, bad keys and values, bad dimension ids. */
static void test_arrow(copc_reader *r) {
    struct ArrowArrayStream stream;
    struct ArrowSchema schema;
    copc_arrow_options *o = NULL;
    EXPECT(copc_arrow_options_new(NULL), COPC_STATUS_NULL_ARGUMENT);
    OK(copc_arrow_options_new(&o));
    REQUIRE(o != NULL);
    EXPECT(copc_arrow_options_set(NULL, "batch_rows", "1"), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_arrow_options_set(o, NULL, "1"), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_arrow_options_set(o, "batch_rows", NULL), COPC_STATUS_NULL_ARGUMENT);
    const char *bad[][2] = {
        {"no_such_key", "1"}, {"", ""},           {"batch_rows", "0"},       {"batch_rows", "-1"},
        {"batch_rows", "x"},  {"raw_xyz", "maybe"}, {"node_columns", "2"}, {"geometry", "sphere"},
        {"geometry_name", ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        calls++;
        copc_status s = copc_arrow_options_set(o, bad[i][0], bad[i][1]);
        if (s != COPC_STATUS_INVALID_ARGUMENT || copc_last_error_message()[0] == '\0') {
            fprintf(stderr, "arrow_options_set(\"%s\", \"%s\") gave %d: %s\n", bad[i][0], bad[i][1], (int)s,
                    copc_last_error_message());
            failures++;
        }
    }
    EXPECT(copc_arrow_options_add_column(NULL, COPC_DIM_X, NULL), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_arrow_options_add_column(o, -1, NULL), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_arrow_options_add_column(o, 25, NULL), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_arrow_options_add_column(o, COPC_DIM_X, "\xff\xfe"), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_reader_query_arrow(NULL, NULL, NULL, &stream), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_reader_query_arrow(r, NULL, NULL, NULL), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_reader_query_arrow_schema(NULL, NULL, NULL, &schema), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_reader_query_arrow_schema(r, NULL, NULL, NULL), COPC_STATUS_NULL_ARGUMENT);
    /* An extra-bytes dimension the file does not have. */
    OK(copc_arrow_options_add_column(o, COPC_DIM_EXTRA_DOUBLE_BASE + 3, NULL));
    EXPECT(copc_reader_query_arrow(r, NULL, o, &stream), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_reader_query_arrow_schema(r, NULL, o, &schema), COPC_STATUS_INVALID_ARGUMENT);
    copc_arrow_options_free(o);
    copc_arrow_options_free(NULL);
    /* A stream whose arrays are asked into NULL. */
    OK(copc_reader_query_arrow(r, NULL, NULL, &stream));
    CHECK(stream.get_next(&stream, NULL) != 0 && stream.get_last_error(&stream) != NULL);
    CHECK(stream.get_schema(&stream, NULL) != 0);
    stream.release(&stream);
    CHECK(stream.release == NULL);
}

static void test_queries(void) {
    EXPECT(copc_query_new(NULL), COPC_STATUS_NULL_ARGUMENT);
    copc_query *q = NULL;
    OK(copc_query_new(&q));
    REQUIRE(q != NULL);
    const double lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1}, nan3[3] = {NAN, 0, 0}, rev[3] = {2, 0, 0};
    EXPECT(copc_query_set_bounds(NULL, lo, hi), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_query_set_bounds(q, NULL, hi), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_query_set_bounds(q, lo, NULL), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_query_set_bounds(q, nan3, hi), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_query_set_bounds(q, rev, hi), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_query_set_polygon(NULL, "POLYGON((0 0,1 0,1 1,0 0))"), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_query_set_polygon(q, NULL), COPC_STATUS_NULL_ARGUMENT);
    const char *bad_polys[] = {"", "POLYGON", "POLYGON((0 0,1 1))", "POINT(1 2)", "{\"type\":\"Polygon\"}",
                               "POLYGON((0 0,1 0,nan 1,0 0))", "{", "\xff"};
    for (size_t i = 0; i < sizeof bad_polys / sizeof bad_polys[0]; i++) {
        calls++;
        copc_status s = copc_query_set_polygon(q, bad_polys[i]);
        if (s != COPC_STATUS_INVALID_ARGUMENT || copc_last_error_message()[0] == '\0') {
            fprintf(stderr, "set_polygon(\"%s\") gave %d: %s\n", bad_polys[i], (int)s, copc_last_error_message());
            failures++;
        }
    }
    const double bad_res[] = {0.0, -1.0, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof bad_res / sizeof bad_res[0]; i++) {
        EXPECT(copc_query_set_resolution(q, bad_res[i]), COPC_STATUS_INVALID_ARGUMENT);
    }
    EXPECT(copc_query_set_resolution(NULL, 1.0), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_query_set_max_depth(q, -1), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_query_set_max_depth(q, INT32_MIN), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_query_set_max_depth(NULL, 1), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_query_set_min_depth(q, -1), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_query_set_min_depth(NULL, 1), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_query_set_dims(q, 0), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_query_set_dims(q, UINT64_C(1) << 25), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_query_set_dims(q, UINT64_C(1) << 62), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_query_set_dims(q, ~UINT64_C(0)), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_query_set_dims(NULL, COPC_DIM_BIT(COPC_DIM_X)), COPC_STATUS_NULL_ARGUMENT);
    copc_query_free(q);
    copc_query_free(NULL);
}

static int32_t failing_read(void *u, uint64_t off, uint8_t *buf, size_t len) {
    (void)u, (void)off, (void)buf, (void)len;
    return 42;
}
static int32_t zero_read(void *u, uint64_t off, uint8_t *buf, size_t len) {
    (void)u, (void)off;
    memset(buf, 0, len);
    return 0;
}
static int closes = 0;
static void count_close(void *u) {
    (void)u;
    closes++;
}

static void test_open(void) {
    copc_reader *const sentinel = (copc_reader *)(uintptr_t)0x5a5a;
    copc_reader *r = sentinel;
    EXPECT(copc_reader_open(NULL, NULL, &r), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_reader_open(path, NULL, NULL), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_reader_open("", NULL, &r), COPC_STATUS_IO);
    EXPECT(copc_reader_open(".", NULL, &r), COPC_STATUS_FORMAT);
    EXPECT(copc_reader_open("/nonexistent/x.copc.laz", NULL, &r), COPC_STATUS_IO);
    EXPECT(copc_reader_open("\xff\xfe.copc.laz", NULL, &r), COPC_STATUS_IO); /* paths are bytes */
    copc_options *o = NULL;
    OK(copc_options_new(&o));
    OK(copc_options_set(o, "http_retries", "0"));
    /* port 1 on loopback: connection refused at once */
    EXPECT(copc_reader_open("http://127.0.0.1:1/x.copc.laz", o, &r), COPC_STATUS_HTTP);
    CHECK(contains(copc_last_error_message(), "127.0.0.1"));
    copc_options_free(o);
    CHECK(r == sentinel);

    EXPECT(copc_reader_open_io(NULL, NULL, NULL, &r), COPC_STATUS_NULL_ARGUMENT);
    copc_io io;
    memset(&io, 0, sizeof io);
    io.close = count_close;
    closes = 0;
    EXPECT(copc_reader_open_io(&io, NULL, NULL, &r), COPC_STATUS_NULL_ARGUMENT); /* no read */
    io.read = failing_read;
    io.size = 1000;
    EXPECT(copc_reader_open_io(&io, NULL, NULL, &r), COPC_STATUS_IO);
    CHECK(contains(copc_last_error_message(), "42"));
    io.read = zero_read;
    io.size = 10; /* shorter than a LAS header */
    EXPECT(copc_reader_open_io(&io, NULL, NULL, &r), COPC_STATUS_FORMAT);
    io.size = 100000; /* zeros: no LAS signature */
    EXPECT(copc_reader_open_io(&io, NULL, NULL, &r), COPC_STATUS_FORMAT);
    io.read = failing_read;
    io.size = UINT64_MAX;
    EXPECT(copc_reader_open_io(&io, NULL, NULL, &r), COPC_STATUS_IO);
    EXPECT(copc_reader_open_io(&io, NULL, NULL, NULL), COPC_STATUS_NULL_ARGUMENT);
    CHECK(closes == 6); /* close runs once for every failed open with an io */
    CHECK(r == sentinel);
    copc_reader_free(NULL);
}

static void test_reader(copc_reader *r) {
    /* versioned structs: struct_size 0 refused; smaller and larger honoured exactly */
    copc_header h;
    memset(&h, 0xAB, sizeof h);
    h.struct_size = 0;
    EXPECT(copc_reader_header(r, &h), COPC_STATUS_INVALID_ARGUMENT);
    CHECK(((unsigned char *)&h)[sizeof h - 1] == 0xAB);
    EXPECT(copc_reader_header(r, NULL), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_reader_header(NULL, &h), COPC_STATUS_NULL_ARGUMENT);
    h.struct_size = 7; /* below the documented minimum of 8 */
    EXPECT(copc_reader_header(r, &h), COPC_STATUS_INVALID_ARGUMENT);
    CHECK(h.version_major == 0xAB);
    h.struct_size = 8; /* an old caller that knows the first fields only */
    OK(copc_reader_header(r, &h));
    CHECK(h.version_major == 1 && h.version_minor == 4 && h.point_format == 6);
    CHECK(h.point_record_length == 0xABAB); /* beyond struct_size: untouched */
    struct {
        copc_header h;
        unsigned char tail[64];
    } big;
    memset(&big, 0xCD, sizeof big);
    big.h.struct_size = sizeof big;
    OK(copc_reader_header(r, &big.h));
    CHECK(big.h.point_count == NPTS && big.h.struct_size == sizeof big);
    CHECK(big.tail[0] == 0xCD && big.tail[63] == 0xCD);

    CHECK(copc_reader_crs_wkt(NULL) == NULL && copc_last_error_message()[0] != '\0');
    size_t n = 777;
    EXPECT(copc_reader_extra_dim_count(r, NULL), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_reader_extra_dim_count(NULL, &n), COPC_STATUS_NULL_ARGUMENT);
    OK(copc_reader_extra_dim_count(r, &n));
    CHECK(n == 0);
    copc_extra_dim ed;
    memset(&ed, 0, sizeof ed);
    ed.struct_size = sizeof ed;
    EXPECT(copc_reader_extra_dim(r, 0, &ed), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_reader_extra_dim(r, SIZE_MAX, &ed), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_reader_extra_dim(r, 0, NULL), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_reader_extra_dim(NULL, 0, &ed), COPC_STATUS_NULL_ARGUMENT);

    size_t nvlr = 0;
    EXPECT(copc_reader_vlr_count(r, NULL), COPC_STATUS_NULL_ARGUMENT);
    OK(copc_reader_vlr_count(r, &nvlr));
    REQUIRE(nvlr >= 3);
    copc_vlr v;
    memset(&v, 0, sizeof v);
    v.struct_size = 0;
    EXPECT(copc_reader_vlr(r, 0, &v), COPC_STATUS_INVALID_ARGUMENT);
    v.struct_size = sizeof v;
    EXPECT(copc_reader_vlr(r, nvlr, &v), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_reader_vlr(r, SIZE_MAX, &v), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_reader_vlr(r, 0, NULL), COPC_STATUS_NULL_ARGUMENT);
    OK(copc_reader_vlr(r, 0, &v)); /* the info VLR: 160 bytes */
    CHECK(v.data_len == 160);
    uint8_t small[8];
    n = 777;
    EXPECT(copc_reader_vlr_data(r, 0, small, sizeof small, &n), COPC_STATUS_BUFFER_TOO_SMALL);
    CHECK(contains(copc_last_error_message(), "160") && n == 777);
    EXPECT(copc_reader_vlr_data(r, 0, NULL, 0, &n), COPC_STATUS_BUFFER_TOO_SMALL);
    EXPECT(copc_reader_vlr_data(r, 0, NULL, 200, &n), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_reader_vlr_data(r, 0, small, sizeof small, NULL), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_reader_vlr_data(r, nvlr, small, sizeof small, &n), COPC_STATUS_INVALID_ARGUMENT);
    uint8_t payload[160];
    OK(copc_reader_vlr_data(r, 0, payload, sizeof payload, &n));
    CHECK(n == 160);

    copc_dim_info di;
    memset(&di, 0, sizeof di);
    di.struct_size = sizeof di;
    const int32_t bad_dims[] = {-1, 25, 999, 1000, 1999, 2000, 2999, 3000, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof bad_dims / sizeof bad_dims[0]; i++) {
        EXPECT(copc_reader_dim_info(r, bad_dims[i], &di), COPC_STATUS_INVALID_ARGUMENT);
    }
    EXPECT(copc_reader_dim_info(r, COPC_DIM_X, NULL), COPC_STATUS_NULL_ARGUMENT);
    di.struct_size = 0;
    EXPECT(copc_reader_dim_info(r, COPC_DIM_X, &di), COPC_STATUS_INVALID_ARGUMENT);

    int32_t ids[64];
    size_t ndims = 0;
    OK(copc_reader_dims(r, NULL, 0, &ndims));
    CHECK(ndims > 3 && ndims < 64);
    n = 777;
    EXPECT(copc_reader_dims(r, ids, 1, &n), COPC_STATUS_BUFFER_TOO_SMALL);
    CHECK(n == 777);
    EXPECT(copc_reader_dims(r, NULL, 5, &n), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_reader_dims(r, ids, 64, NULL), COPC_STATUS_NULL_ARGUMENT);

    uint64_t count = 777;
    EXPECT(copc_reader_count(r, NULL, NULL), COPC_STATUS_NULL_ARGUMENT);
    OK(copc_reader_count(r, NULL, &count));
    CHECK(count == NPTS);
}

static void test_read_node(copc_reader *r) {
    double x[NPTS];
    copc_column col = {COPC_DIM_X, x, 0};
    copc_node_key root = {0, 0, 0, 0};
    size_t n = 777;
    EXPECT(copc_reader_read_node(r, NULL, &col, 1, NPTS, &n), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_reader_read_node(r, &root, NULL, 1, NPTS, &n), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_reader_read_node(r, &root, &col, 1, NPTS, NULL), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_reader_read_node(r, &root, &col, 1, 0, &n), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_reader_read_node(r, &root, &col, 1, 1, &n), COPC_STATUS_BUFFER_TOO_SMALL);
    const copc_node_key bad_keys[] = {{-1, 0, 0, 0}, {1, 2, 0, 0}, {0, 1, 0, 0}, {40, 0, 0, 0}, {INT32_MAX, 0, 0, 0},
                                      {3, -1, -1, -1}};
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        EXPECT(copc_reader_read_node(r, &bad_keys[i], &col, 1, NPTS, &n), COPC_STATUS_INVALID_ARGUMENT);
    }
    copc_column bad_dim = {9999, x, 0}, null_data = {COPC_DIM_X, NULL, 0}, narrow = {COPC_DIM_X, x, 4};
    EXPECT(copc_reader_read_node(r, &root, &bad_dim, 1, NPTS, &n), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_reader_read_node(r, &root, &null_data, 1, NPTS, &n), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_reader_read_node(r, &root, &narrow, 1, NPTS, &n), COPC_STATUS_INVALID_ARGUMENT);
    CHECK(n == 777);
    OK(copc_reader_read_node(r, &root, &col, 1, NPTS, &n));
    CHECK(n > 0 && n <= NPTS);
}

static void test_iterators(copc_reader **rp) {
    copc_reader *r = *rp;
    copc_node_iter *ni = NULL;
    EXPECT(copc_reader_nodes(r, NULL, NULL), COPC_STATUS_NULL_ARGUMENT);
    OK(copc_reader_nodes(r, NULL, &ni));
    REQUIRE(ni != NULL);
    copc_node node;
    bool has = true;
    size_t len = 0;
    EXPECT(copc_node_iter_next(ni, NULL, &has), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_node_iter_next(ni, &node, NULL), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_node_iter_len(ni, NULL), COPC_STATUS_NULL_ARGUMENT);
    OK(copc_node_iter_len(ni, &len));
    CHECK(len >= 1);

    /* a query that selects only X, and point iterators made before the reader and
       the query are freed: both must keep working (documented) */
    copc_query *q = NULL;
    OK(copc_query_new(&q));
    OK(copc_query_set_dims(q, COPC_DIM_BIT(COPC_DIM_X)));
    copc_point_iter *pi = NULL, *all = NULL;
    EXPECT(copc_reader_query_points(r, q, NULL), COPC_STATUS_NULL_ARGUMENT);
    OK(copc_reader_query_points(r, q, &pi));
    OK(copc_reader_query_points(r, NULL, &all));
    copc_query_free(q);
    copc_reader_free(r);
    *rp = NULL;

    size_t i = 0;
    for (;;) {
        OK(copc_node_iter_next(ni, &node, &has));
        if (!has) break;
        i++;
    }
    CHECK(i == len);
    OK(copc_node_iter_next(ni, &node, &has)); /* past the end: still no more */
    CHECK(!has);
    copc_node_iter_free(ni);

    double x[500];
    uint16_t in[500];
    size_t n = 777;
    copc_column cx = {COPC_DIM_X, x, 0}, cin = {COPC_DIM_INTENSITY, in, 0}, small = {COPC_DIM_X, x, 2},
                bad = {-7, x, 0}, nul = {COPC_DIM_X, NULL, 0};
    EXPECT(copc_point_iter_read(pi, &cin, 1, 500, &n), COPC_STATUS_INVALID_ARGUMENT); /* outside the mask */
    EXPECT(copc_point_iter_read(pi, &small, 1, 500, &n), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_point_iter_read(pi, &bad, 1, 500, &n), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_point_iter_read(pi, &nul, 1, 500, &n), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_point_iter_read(pi, NULL, 1, 500, &n), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_point_iter_read(pi, &cx, 1, 0, &n), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_point_iter_read(pi, &cx, 1, 500, NULL), COPC_STATUS_NULL_ARGUMENT);
    CHECK(n == 777);
    /* argument errors do not spoil the iterator: every point still comes */
    size_t total = 0;
    for (;;) {
        OK(copc_point_iter_read(pi, &cx, 1, 500, &n));
        if (n == 0) break;
        for (size_t k = 0; k < n; k++) CHECK(x[k] >= 1000.0 && x[k] <= 1100.0);
        total += n;
    }
    CHECK(total == NPTS);
    OK(copc_point_iter_read(pi, &cx, 1, 500, &n));
    CHECK(n == 0);
    copc_point_iter_free(pi);
    total = 0;
    do {
        OK(copc_point_iter_read(all, NULL, 0, SIZE_MAX, &n)); /* counting only */
        total += n;
    } while (n != 0);
    CHECK(total == NPTS);
    copc_point_iter_free(all);
}

static void test_writer(void) {
    char out[300];
    snprintf(out, sizeof out, "c_hostile_w_%ld.copc.laz", (long)getpid());
    copc_writer *const sentinel = (copc_writer *)(uintptr_t)0x5a5a;
    copc_writer *w = sentinel;
    EXPECT(copc_writer_create(NULL, NULL, &w), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_writer_create(out, NULL, NULL), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_writer_create("/nonexistent/dir/o.copc.laz", NULL, &w), COPC_STATUS_IO);
    EXPECT(copc_writer_create(".", NULL, &w), COPC_STATUS_FORMAT);
    CHECK(w == sentinel);
    OK(copc_writer_create(out, NULL, &w));
    REQUIRE(w != NULL && w != sentinel);
    double xyz[3] = {1, 2, 3};
    copc_column c3[] = {{COPC_DIM_X, xyz, 0}, {COPC_DIM_Y, xyz + 1, 0}, {COPC_DIM_Z, xyz + 2, 0}};
    EXPECT(copc_writer_add_points(w, NULL, 3, 1), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_writer_add_points(w, c3, 0, 1), COPC_STATUS_INVALID_ARGUMENT);
    copc_column bad[] = {{COPC_DIM_X, xyz, 0}, {COPC_DIM_Y, xyz + 1, 0}, {COPC_DIM_Z, xyz + 2, 0}, {COPC_DIM_EXTRA_BASE, xyz, 0}};
    EXPECT(copc_writer_add_points(w, bad, 4, 1), COPC_STATUS_INVALID_ARGUMENT);
    bad[3].dim = -3;
    EXPECT(copc_writer_add_points(w, bad, 4, 1), COPC_STATUS_INVALID_ARGUMENT);
    bad[3].dim = COPC_DIM_X; /* twice */
    EXPECT(copc_writer_add_points(w, bad, 4, 1), COPC_STATUS_INVALID_ARGUMENT);
    copc_column narrow[] = {{COPC_DIM_X, xyz, 1}, {COPC_DIM_Y, xyz + 1, 0}, {COPC_DIM_Z, xyz + 2, 0}};
    EXPECT(copc_writer_add_points(w, narrow, 3, 1), COPC_STATUS_INVALID_ARGUMENT);
    double nan3[3] = {NAN, 0, 0};
    copc_column cn[] = {{COPC_DIM_X, nan3, 0}, {COPC_DIM_Y, nan3 + 1, 0}, {COPC_DIM_Z, nan3 + 2, 0}};
    EXPECT(copc_writer_add_points(w, cn, 3, 1), COPC_STATUS_INVALID_ARGUMENT);
    OK(copc_writer_add_points(w, c3, 3, 1));
    OK(copc_writer_add_points(w, c3, 3, 0));
    const uint8_t payload[4] = {1, 2, 3, 4};
    EXPECT(copc_writer_add_vlr(NULL, "me", 1, NULL, payload, 4, 0), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_writer_add_vlr(w, NULL, 1, NULL, payload, 4, 0), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_writer_add_vlr(w, "me", 1, NULL, NULL, 4, 0), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_writer_add_vlr(w, "me", 1, NULL, payload, SIZE_MAX, 0), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_writer_add_vlr(w, "", 1, NULL, payload, 4, 0), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_writer_add_vlr(w, "a_user_id_of_17_b", 1, NULL, payload, 4, 0), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_writer_add_vlr(w, "me", 1, "a description longer than 32 bytes", payload, 4, 1),
           COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_writer_add_vlr(w, "copc", 1, NULL, payload, 4, 0), COPC_STATUS_INVALID_ARGUMENT);
    OK(copc_writer_add_vlr(w, "me", 1, NULL, NULL, 0, 0));
    OK(copc_writer_close(w));
    EXPECT(copc_writer_close(w), COPC_STATUS_INVALID_STATE);
    EXPECT(copc_writer_add_points(w, c3, 3, 1), COPC_STATUS_INVALID_STATE);
    EXPECT(copc_writer_add_vlr(w, "me", 2, NULL, payload, 4, 0), COPC_STATUS_INVALID_STATE);
    copc_writer_free(w);
    copc_writer_free(NULL);
    copc_reader *r = NULL;
    OK(copc_reader_open(out, NULL, &r));
    uint64_t count = 0;
    OK(copc_reader_count(r, NULL, &count));
    CHECK(count == 1);
    copc_reader_free(r);
    remove(out);

    /* a writer freed without close leaves nothing */
    OK(copc_writer_create(out, NULL, &w));
    OK(copc_writer_add_points(w, c3, 3, 1));
    copc_writer_free(w);
    FILE *f = fopen(out, "rb");
    CHECK(f == NULL);
    if (f) fclose(f);
}

static void test_translate(void) {
    char out[300];
    snprintf(out, sizeof out, "c_hostile_t_%ld.copc.laz", (long)getpid());
    const char *in[2] = {path, NULL};
    EXPECT(copc_translate(NULL, 1, out, NULL), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_translate(in, 0, out, NULL), COPC_STATUS_INVALID_ARGUMENT);
    EXPECT(copc_translate(in, 2, out, NULL), COPC_STATUS_NULL_ARGUMENT); /* in[1] is NULL */
    EXPECT(copc_translate(in, 1, NULL, NULL), COPC_STATUS_NULL_ARGUMENT);
    EXPECT(copc_translate(in, 1, "/nonexistent/dir/o.copc.laz", NULL), COPC_STATUS_IO);
    EXPECT(copc_translate(in, 1, ".", NULL), COPC_STATUS_FORMAT);
    EXPECT(copc_translate(in, 1, path, NULL), COPC_STATUS_INVALID_ARGUMENT); /* output = input */
    const char *missing[1] = {"/nonexistent/in.laz"};
    EXPECT(copc_translate(missing, 1, out, NULL), COPC_STATUS_IO);
    /* a COPC file is a valid LAZ input */
    OK(copc_translate(in, 1, out, NULL));
    remove(out);
}

int main(void) {
    test_statics();
    test_options();
    test_queries();
    write_file();
    test_open();
    copc_reader *r = NULL;
    OK(copc_reader_open(path, NULL, &r));
    REQUIRE(r != NULL);
    test_reader(r);
    test_read_node(r);
    test_arrow(r);
    test_iterators(&r);
    copc_reader_free(r);
    test_writer();
    test_translate();
    remove(path);
    printf("c_api_hostile_test: %d calls checked, %d failures\n", calls, failures);
    return failures == 0 ? 0 : 1;
}
