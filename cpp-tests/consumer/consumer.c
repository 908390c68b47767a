/* Built against the installed package only. Checks that the library it runs with is
 * the one whose header it was compiled with, then:
 *   consumer read    opens a COPC file of $COPC_TEST_DATA by path and (with
 *                    $COPC_TEST_NGINX_URL) by URL, runs a box query with selected
 *                    dimensions, checked against a brute-force filter of a full read;
 *                    exit 77 (skipped) without the data
 *   consumer write   writes consumer_written.copc.laz from generated points and reads
 *                    it back (cpp-tests then runs xcheck --strict on it) */
#include <copc.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILE_NAME "pdal_1.2-with-color.copc.laz"
#define POINTS 1065 /* shared data README */

static int fail(const char *what, copc_status s) {
    fprintf(stderr, "consumer: %s: %s: %s\n", what, copc_status_str(s), copc_last_error_message());
    return 1;
}

/* Opens `source`, reads every X/Y, then a 2-D box with X, Y and classification only. */
static int check(const char *source) {
    copc_reader *r = NULL;
    copc_status s = copc_reader_open(source, NULL, &r);
    if (s != COPC_STATUS_OK) return fail("open", s);
    copc_header h;
    memset(&h, 0, sizeof h);
    h.struct_size = sizeof h;
    if ((s = copc_reader_header(r, &h)) != COPC_STATUS_OK) return fail("header", s);
    if (h.point_count != POINTS) {
        fprintf(stderr, "consumer: %s: %llu points, expected %d\n", source, (unsigned long long)h.point_count, POINTS);
        return 1;
    }
    static double x[POINTS + 1], y[POINTS + 1];
    size_t n = 0;
    copc_point_iter *it = NULL;
    if ((s = copc_reader_query_points(r, NULL, &it)) != COPC_STATUS_OK) return fail("query_points", s);
    for (;;) {
        copc_column cols[2] = {{COPC_DIM_X, x + n, 0}, {COPC_DIM_Y, y + n, 0}};
        size_t got = 0;
        if ((s = copc_point_iter_read(it, cols, 2, POINTS + 1 - n, &got)) != COPC_STATUS_OK) return fail("read", s);
        if (got == 0) break;
        n += got;
    }
    copc_point_iter_free(it);
    const double lo[3] = {h.min[0] + (h.max[0] - h.min[0]) * 0.2, h.min[1] + (h.max[1] - h.min[1]) * 0.1, -INFINITY};
    const double hi[3] = {h.min[0] + (h.max[0] - h.min[0]) * 0.8, h.min[1] + (h.max[1] - h.min[1]) * 0.6, INFINITY};
    size_t want = 0;
    for (size_t i = 0; i < n; i++) want += x[i] >= lo[0] && x[i] <= hi[0] && y[i] >= lo[1] && y[i] <= hi[1];

    copc_query *q = NULL;
    copc_query_new(&q);
    copc_query_set_bounds(q, lo, hi);
    if ((s = copc_query_set_dims(q, COPC_DIM_BIT(COPC_DIM_X) | COPC_DIM_BIT(COPC_DIM_Y) |
                                        COPC_DIM_BIT(COPC_DIM_CLASSIFICATION))) != COPC_STATUS_OK)
        return fail("set_dims", s);
    if ((s = copc_reader_query_points(r, q, &it)) != COPC_STATUS_OK) return fail("box query", s);
    size_t got_total = 0;
    for (;;) {
        double bx[100], by[100];
        unsigned char cls[100];
        copc_column cols[3] = {{COPC_DIM_X, bx, 0}, {COPC_DIM_Y, by, 0}, {COPC_DIM_CLASSIFICATION, cls, 0}};
        size_t got = 0;
        if ((s = copc_point_iter_read(it, cols, 3, 100, &got)) != COPC_STATUS_OK) return fail("box read", s);
        if (got == 0) break;
        for (size_t i = 0; i < got; i++) {
            if (bx[i] < lo[0] || bx[i] > hi[0] || by[i] < lo[1] || by[i] > hi[1]) {
                fprintf(stderr, "consumer: point outside the box\n");
                return 1;
            }
        }
        got_total += got;
    }
    copc_point_iter_free(it);
    copc_query_free(q);
    copc_reader_free(r);
    if (n != POINTS || got_total != want) {
        fprintf(stderr, "consumer: %s: %zu points, box %zu, brute force %zu\n", source, n, got_total, want);
        return 1;
    }
    printf("consumer: %s: %zu points, box query %zu points (= brute force)\n", source, n, got_total);
    return 0;
}

#define WRITTEN "consumer_written.copc.laz"
#define WRITE_N 20000

static int write_file(void) {
    static double x[WRITE_N], y[WRITE_N], z[WRITE_N];
    static unsigned char cls[WRITE_N];
    for (int i = 0; i < WRITE_N; i++) {
        x[i] = 300000.0 + (i % 200) * 0.5;
        y[i] = 5000000.0 + (i / 200) * 0.5;
        z[i] = 50.0 + sin(i * 0.01) * 10.0;
        cls[i] = (unsigned char)(i % 2 ? 2 : 5);
    }
    copc_options *o = NULL;
    copc_options_new(&o);
    copc_status s;
    if ((s = copc_options_set(o, "scale", "0.01")) != COPC_STATUS_OK) return fail("scale", s);
    if ((s = copc_options_set(o, "a_srs", "EPSG:32633")) != COPC_STATUS_OK) return fail("a_srs", s);
    if ((s = copc_options_set(o, "max_points_per_node", "4000")) != COPC_STATUS_OK) return fail("max_points", s);
    copc_writer *w = NULL;
    if ((s = copc_writer_create(WRITTEN, o, &w)) != COPC_STATUS_OK) return fail("writer_create", s);
    copc_options_free(o);
    copc_column cols[4] = {{COPC_DIM_X, x, 0}, {COPC_DIM_Y, y, 0}, {COPC_DIM_Z, z, 0}, {COPC_DIM_CLASSIFICATION, cls, 0}};
    if ((s = copc_writer_add_points(w, cols, 4, WRITE_N)) != COPC_STATUS_OK) return fail("add_points", s);
    if ((s = copc_writer_close(w)) != COPC_STATUS_OK) return fail("close", s);
    copc_writer_free(w);
    copc_reader *r = NULL;
    if ((s = copc_reader_open(WRITTEN, NULL, &r)) != COPC_STATUS_OK) return fail("open written", s);
    uint64_t n = 0;
    if ((s = copc_reader_count(r, NULL, &n)) != COPC_STATUS_OK) return fail("count", s);
    copc_reader_free(r);
    if (n != WRITE_N) {
        fprintf(stderr, "consumer: wrote %d points, read %llu\n", WRITE_N, (unsigned long long)n);
        return 1;
    }
    printf("consumer: wrote %s (%d points) and read it back\n", WRITTEN, WRITE_N);
    return 0;
}

int main(int argc, char **argv) {
    printf("consumer: copc %s (header %s)\n", copc_version_string(), COPC_VERSION_STRING);
    if (copc_version_number() != COPC_VERSION_NUMBER || strcmp(copc_version_string(), COPC_VERSION_STRING) != 0) {
        fprintf(stderr, "consumer: library and header versions differ\n");
        return 1;
    }
#ifdef COPC_PACKAGE_VERSION
    /* built through find_package(Copc): the CMake package names the same version */
    if (strcmp(copc_version_string(), COPC_PACKAGE_VERSION) != 0) {
        fprintf(stderr, "consumer: library %s but CMake package %s\n", copc_version_string(), COPC_PACKAGE_VERSION);
        return 1;
    }
#endif
    if (argc > 1 && strcmp(argv[1], "write") == 0) return write_file();
    const char *dir = getenv("COPC_TEST_DATA");
    if (!dir || !*dir) {
        printf("SKIPPED: COPC_TEST_DATA is not set: the consumer built and linked, but read no file\n");
        return 77;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, FILE_NAME);
    if (check(path)) return 1;
    const char *url = getenv("COPC_TEST_NGINX_URL");
    if (url && *url) {
        char u[4096];
        snprintf(u, sizeof u, "%s/%s", url, FILE_NAME);
        if (check(u)) return 1;
    } else {
        printf("consumer: no COPC_TEST_NGINX_URL: opening by URL not tried\n");
    }
    return 0;
}
