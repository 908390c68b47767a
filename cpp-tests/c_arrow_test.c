/* The Arrow C stream of copc_reader_query_arrow consumed with plain C: the schema and
 * every array are walked (children, buffers, lengths, null counts) and every release
 * callback is called; values are compared with copc_point_iter_read on the same query.
 * Also: a stream read after its reader is freed, a stream released after one batch, a
 * stream whose source has a zeroed (truncated and padded) chunk mid-way, the
 * schema-only call and bad options. Run by ctest (c_arrow, and under valgrind).
 *
 *   c_arrow_test files   every valid COPC file of $COPC_TEST_DATA
 *   c_arrow_test small   one small file (for valgrind) and the failure cases
 */
#include "copc.h"

#include <errno.h>
#include <math.h>
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

#define OK(call)                                                                            \
    do {                                                                                    \
        copc_status st_ = (call);                                                           \
        if (st_ != COPC_STATUS_OK) {                                                        \
            fprintf(stderr, "%s:%d: %s -> %d (%s)\n", __FILE__, __LINE__, #call, st_,      \
                    copc_last_error_message());                                             \
            failures++;                                                                     \
        }                                                                                   \
    } while (0)

#include "c_test_util.h"

static const char *VALID[] = {"pdal_1.2-with-color.copc.laz", "laspy_simple_with_page.copc.laz",
                              "pdal_lone-star.copc.laz", "pdal_ellipsoid-eb.copc.laz",
                              "lastools_example.copc.laz"};

static char *path_of(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    REQUIRE(p != NULL);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Buffers an array of this format has (validity first), -1 for formats this test
 * does not expect from the library. */
static int64_t buffers_for(const char *format) {
    if (strcmp(format, "+s") == 0 || strncmp(format, "+w:", 3) == 0) return 1;
    if (strcmp(format, "z") == 0 || strcmp(format, "u") == 0) return 3;
    if (strlen(format) == 1 && strchr("bcCsSiIlLfg", format[0]) != NULL) return 2;
    if (strncmp(format, "w:", 2) == 0) return 2;
    return -1;
}

/* Walks a schema: every child has a format and a name; returns the number of nodes. */
static int walk_schema(const struct ArrowSchema *s, int depth) {
    int n = 1;
    int64_t i;
    CHECK(s->release != NULL);
    CHECK(s->format != NULL && s->format[0] != '\0');
    CHECK(depth == 0 || (s->name != NULL && s->name[0] != '\0'));
    CHECK(s->dictionary == NULL);
    CHECK(s->n_children >= 0 && (s->n_children == 0 || s->children != NULL));
    for (i = 0; i < s->n_children; i++) n += walk_schema(s->children[i], depth + 1);
    return n;
}

/* Checks one array against its schema, recursively. */
static void walk_array(const struct ArrowArray *a, const struct ArrowSchema *s, int64_t length) {
    int64_t i, want = buffers_for(s->format);
    CHECK(a->length == length);
    CHECK(a->null_count == 0);
    CHECK(a->offset == 0);
    CHECK(want >= 0 && a->n_buffers == want);
    CHECK(a->n_children == s->n_children);
    CHECK(a->dictionary == NULL);
    if (a->n_buffers > 0) CHECK(a->buffers != NULL);
    /* No nulls: no validity buffer needed; data buffers present. */
    for (i = 1; i < a->n_buffers; i++) CHECK(a->buffers[i] != NULL || length == 0);
    if (strcmp(s->format, "z") == 0 && length > 0) {
        const int32_t *off = (const int32_t *)a->buffers[1];
        CHECK(off[0] == 0);
        for (i = 0; i < length; i++) CHECK(off[i + 1] - off[i] == 29); /* WKB Point Z */
    }
    for (i = 0; i < a->n_children; i++) {
        int64_t child_len = length;
        if (strncmp(s->format, "+w:", 3) == 0) child_len = length * atoi(s->format + 3);
        walk_array(a->children[i], s->children[i], child_len);
    }
}

static int64_t child_index(const struct ArrowSchema *s, const char *name) {
    int64_t i;
    for (i = 0; i < s->n_children; i++)
        if (strcmp(s->children[i]->name, name) == 0) return i;
    return -1;
}

/* The expected x and classification of `q` through copc_point_iter_read. */
static size_t expected(copc_reader *r, const copc_query *q, double **x, uint8_t **cls) {
    copc_point_iter *it = NULL;
    size_t total = 0, cap = 0, n = 0;
    enum { CHUNK = 4096 };
    *x = NULL;
    *cls = NULL;
    OK(copc_reader_query_points(r, q, &it));
    for (;;) {
        copc_column cols[2];
        if (total + CHUNK > cap) {
            cap = (total + CHUNK) * 2;
            *x = realloc(*x, cap * sizeof(double));
            *cls = realloc(*cls, cap);
            REQUIRE(*x != NULL && *cls != NULL);
        }
        cols[0].dim = COPC_DIM_X;
        cols[0].data = *x + total;
        cols[0].stride = 0;
        cols[1].dim = COPC_DIM_CLASSIFICATION;
        cols[1].data = *cls + total;
        cols[1].stride = 0;
        n = 0;
        OK(copc_point_iter_read(it, cols, 2, CHUNK, &n));
        if (n == 0) break;
        total += n;
    }
    copc_point_iter_free(it);
    return total;
}

/* Reads a whole stream (the reader already freed), checking every array and the x and
 * classification values against `x`/`cls`. Returns the rows read. */
static size_t consume(struct ArrowArrayStream *stream, size_t batch_rows, const double *x, const uint8_t *cls,
                      size_t nexp) {
    struct ArrowSchema schema;
    size_t rows = 0;
    int64_t ix, ic, ig;
    CHECK(stream->release != NULL);
    REQUIRE(stream->get_schema(stream, &schema) == 0);
    CHECK(strcmp(schema.format, "+s") == 0);
    CHECK(walk_schema(&schema, 0) >= 1);
    ix = child_index(&schema, "x");
    ic = child_index(&schema, "classification");
    ig = child_index(&schema, "geometry");
    CHECK(ix >= 0 && ic >= 0 && ig >= 0);
    CHECK(ix >= 0 && strcmp(schema.children[ix]->format, "g") == 0);
    CHECK(ic >= 0 && strcmp(schema.children[ic]->format, "C") == 0);
    CHECK(ig >= 0 && strcmp(schema.children[ig]->format, "z") == 0);
    for (;;) {
        struct ArrowArray a;
        int rc;
        memset(&a, 0, sizeof a);
        rc = stream->get_next(stream, &a);
        CHECK(rc == 0);
        if (rc != 0) {
            fprintf(stderr, "get_next: %s\n", stream->get_last_error(stream));
            break;
        }
        if (a.release == NULL) break; /* the end */
        CHECK(a.length > 0 && (size_t)a.length <= batch_rows);
        walk_array(&a, &schema, a.length);
        if (ix >= 0 && ic >= 0 && rows + (size_t)a.length <= nexp) {
            const double *ax = (const double *)a.children[ix]->buffers[1];
            const uint8_t *ac = (const uint8_t *)a.children[ic]->buffers[1];
            CHECK(memcmp(ax, x + rows, (size_t)a.length * sizeof(double)) == 0);
            CHECK(memcmp(ac, cls + rows, (size_t)a.length) == 0);
        }
        rows += (size_t)a.length;
        a.release(&a);
        CHECK(a.release == NULL); /* release marks it released */
    }
    schema.release(&schema);
    CHECK(schema.release == NULL);
    stream->release(stream);
    CHECK(stream->release == NULL);
    return rows;
}

static void check_file(const char *dir, const char *name, size_t batch_rows) {
    char *path = path_of(dir, name);
    copc_reader *r = NULL;
    copc_query *q = NULL;
    copc_arrow_options *o = NULL;
    struct ArrowArrayStream stream;
    copc_header h;
    double *x = NULL;
    uint8_t *cls = NULL;
    size_t nexp, rows;
    char buf[32];
    OK(copc_reader_open(path, NULL, &r));
    REQUIRE(r != NULL);
    memset(&h, 0, sizeof h);
    h.struct_size = sizeof h;
    OK(copc_reader_header(r, &h));
    OK(copc_query_new(&q));
    OK(copc_arrow_options_new(&o));
    snprintf(buf, sizeof buf, "%zu", batch_rows);
    OK(copc_arrow_options_set(o, "batch_rows", buf));
    OK(copc_arrow_options_set(o, "geometry", "wkb"));
    OK(copc_arrow_options_set(o, "node_columns", "yes"));
    OK(copc_arrow_options_set(o, "point_id", "fid"));
    /* Every point, then a 2-D box over the middle of the file. */
    nexp = expected(r, q, &x, &cls);
    CHECK(nexp == h.point_count);
    memset(&stream, 0, sizeof stream);
    OK(copc_reader_query_arrow(r, q, o, &stream));
    {
        const double inf = INFINITY;
        double lo[3], hi[3];
        lo[0] = h.min[0] + (h.max[0] - h.min[0]) * 0.25;
        lo[1] = h.min[1] + (h.max[1] - h.min[1]) * 0.25;
        lo[2] = -inf;
        hi[0] = h.min[0] + (h.max[0] - h.min[0]) * 0.75;
        hi[1] = h.min[1] + (h.max[1] - h.min[1]) * 0.75;
        hi[2] = inf;
        OK(copc_query_set_bounds(q, lo, hi));
    }
    {
        /* The first stream outlives its reader, query and options. */
        double *bx = NULL;
        uint8_t *bc = NULL;
        struct ArrowArrayStream boxed;
        size_t nbox = expected(r, q, &bx, &bc);
        memset(&boxed, 0, sizeof boxed);
        OK(copc_reader_query_arrow(r, q, o, &boxed));
        copc_reader_free(r);
        copc_query_free(q);
        copc_arrow_options_free(o);
        rows = consume(&stream, batch_rows, x, cls, nexp);
        CHECK(rows == nexp);
        CHECK(consume(&boxed, batch_rows, bx, bc, nbox) == nbox);
        printf("%s: %zu rows, %zu in the box, batches of at most %zu\n", name, rows, nbox, batch_rows);
        free(bx);
        free(bc);
    }
    free(x);
    free(cls);
    free(path);
}

/* A stream released after one batch; the schema-only call; bad options. */
static void check_early_release(const char *path) {
    copc_reader *r = NULL;
    copc_arrow_options *o = NULL;
    struct ArrowArrayStream stream;
    struct ArrowSchema schema;
    struct ArrowArray a;
    OK(copc_reader_open(path, NULL, &r));
    REQUIRE(r != NULL);
    OK(copc_arrow_options_new(&o));
    CHECK(copc_arrow_options_set(o, "no_such_key", "1") == COPC_STATUS_INVALID_ARGUMENT);
    CHECK(contains(copc_last_error_message(), "no_such_key"));
    CHECK(copc_arrow_options_set(o, "batch_rows", "0") == COPC_STATUS_INVALID_ARGUMENT);
    CHECK(copc_arrow_options_set(o, "geometry", "sphere") == COPC_STATUS_INVALID_ARGUMENT);
    CHECK(copc_arrow_options_add_column(o, 99, NULL) == COPC_STATUS_INVALID_ARGUMENT);
    CHECK(copc_reader_query_arrow(r, NULL, NULL, NULL) == COPC_STATUS_NULL_ARGUMENT);
    CHECK(copc_reader_query_arrow(NULL, NULL, NULL, &stream) == COPC_STATUS_NULL_ARGUMENT);
    OK(copc_arrow_options_set(o, "batch_rows", "100"));
    OK(copc_arrow_options_add_column(o, COPC_DIM_CLASSIFICATION, "class"));
    OK(copc_arrow_options_add_column(o, COPC_DIM_Z, NULL));
    OK(copc_arrow_options_add_column(o, COPC_DIM_SYNTHETIC, NULL));
    OK(copc_reader_query_arrow_schema(r, NULL, o, &schema));
    CHECK(schema.n_children == 3);
    if (schema.n_children == 3) {
        CHECK(strcmp(schema.children[0]->name, "class") == 0 && strcmp(schema.children[0]->format, "C") == 0);
        CHECK(strcmp(schema.children[1]->name, "z") == 0 && strcmp(schema.children[1]->format, "g") == 0);
        CHECK(strcmp(schema.children[2]->name, "synthetic") == 0 && strcmp(schema.children[2]->format, "b") == 0);
    }
    schema.release(&schema);
    /* A column of an extra-bytes dimension the file lacks. */
    {
        copc_arrow_options *bad = NULL;
        OK(copc_arrow_options_new(&bad));
        OK(copc_arrow_options_add_column(bad, COPC_DIM_EXTRA_BASE + 7, NULL));
        CHECK(copc_reader_query_arrow(r, NULL, bad, &stream) == COPC_STATUS_INVALID_ARGUMENT);
        CHECK(contains(copc_last_error_message(), "extra-bytes dimension 7"));
        copc_arrow_options_free(bad);
    }
    OK(copc_reader_query_arrow(r, NULL, o, &stream));
    memset(&a, 0, sizeof a);
    CHECK(stream.get_next(&stream, &a) == 0);
    CHECK(a.release != NULL && a.length == 100);
    /* The stream goes first; the array stays valid until its own release. */
    stream.release(&stream);
    CHECK(stream.release == NULL);
    copc_reader_free(r);
    copc_arrow_options_free(o);
    if (a.release != NULL) {
        const uint8_t *flags = (const uint8_t *)a.children[2]->buffers[1];
        CHECK(a.n_children == 3 && flags != NULL);
        a.release(&a);
    }
}

struct mem {
    unsigned char *data;
    size_t len;
    /* Reads past this offset fail (a file cut short while being read); 0: none. */
    size_t cut;
};

static int mem_read(void *user, uint64_t offset, uint8_t *buf, size_t len) {
    struct mem *m = (struct mem *)user;
    if (offset + len > m->len) return 1;
    if (m->cut != 0 && offset + len > m->cut) return 9;
    memcpy(buf, m->data + offset, len);
    return 0;
}

/* The middle data node's chunk zeroed (as a file cut short and padded): the stream
 * gives the batches before it, then EIO with the file and node in get_last_error. */
static void check_failing_source(const char *path) {
    copc_reader *r = NULL;
    copc_node_iter *it = NULL;
    copc_node nodes[512];
    size_t n = 0, i, rows = 0;
    bool has = true;
    struct mem m;
    FILE *f;
    copc_io io;
    copc_arrow_options *o = NULL;
    struct ArrowArrayStream stream;
    int rc = 0, batches = 0;
    char key[64];
    OK(copc_reader_open(path, NULL, &r));
    REQUIRE(r != NULL);
    OK(copc_reader_nodes(r, NULL, &it));
    while (n < 512) {
        OK(copc_node_iter_next(it, &nodes[n], &has));
        if (!has) break;
        n++;
    }
    copc_node_iter_free(it);
    copc_reader_free(r);
    REQUIRE(n >= 3);
    f = fopen(path, "rb");
    REQUIRE(f != NULL);
    fseek(f, 0, SEEK_END);
    m.len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    m.data = malloc(m.len);
    REQUIRE(m.data != NULL && fread(m.data, 1, m.len, f) == m.len);
    fclose(f);
    m.cut = 0;
    i = n / 2;
    memset(m.data + nodes[i].offset, 0, (size_t)nodes[i].byte_size);
    snprintf(key, sizeof key, "node %d-%d-%d-%d", nodes[i].key.level, nodes[i].key.x, nodes[i].key.y, nodes[i].key.z);

    memset(&io, 0, sizeof io);
    io.read = mem_read;
    io.size = m.len;
    io.name = "zeroed.copc.laz";
    OK(copc_reader_open_io(&io, &m, NULL, &r));
    REQUIRE(r != NULL);
    OK(copc_arrow_options_new(&o));
    OK(copc_arrow_options_set(o, "batch_rows", "10"));
    OK(copc_reader_query_arrow(r, NULL, o, &stream));
    copc_reader_free(r);
    copc_arrow_options_free(o);
    for (;;) {
        struct ArrowArray a;
        memset(&a, 0, sizeof a);
        rc = stream.get_next(&stream, &a);
        if (rc != 0 || a.release == NULL) break;
        rows += (size_t)a.length;
        batches++;
        a.release(&a);
    }
    CHECK(rc == EIO);
    CHECK(batches > 0);
    {
        const char *msg = stream.get_last_error(&stream);
        CHECK(contains(msg, "zeroed.copc.laz") && contains(msg, key));
        printf("failing source: %d batches (%zu rows), then %d: %s\n", batches, rows, rc, msg ? msg : "(null)");
    }
    /* Every later call repeats the error. */
    {
        struct ArrowArray a;
        memset(&a, 0, sizeof a);
        CHECK(stream.get_next(&stream, &a) == EIO);
    }
    stream.release(&stream);

    /* The bytes end at the middle node while the stream reads (the header and the
       hierarchy were read before): EIO, the callback's failure in the message. */
    OK(copc_reader_open_io(&io, &m, NULL, &r));
    REQUIRE(r != NULL);
    OK(copc_reader_query_arrow(r, NULL, NULL, &stream));
    copc_reader_free(r);
    m.cut = (size_t)nodes[i].offset;
    for (;;) {
        struct ArrowArray a;
        memset(&a, 0, sizeof a);
        rc = stream.get_next(&stream, &a);
        if (rc != 0 || a.release == NULL) break;
        a.release(&a);
    }
    CHECK(rc == EIO);
    {
        const char *msg = stream.get_last_error(&stream);
        CHECK(contains(msg, "zeroed.copc.laz") && contains(msg, "returned 9"));
        printf("cut source: %d: %s\n", rc, msg ? msg : "(null)");
    }
    stream.release(&stream);
    free(m.data);
}

int main(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "small";
    const char *dir = getenv("COPC_TEST_DATA");
    size_t k;
    if (dir == NULL || dir[0] == '\0') {
        printf("SKIPPED: set COPC_TEST_DATA to the shared data folder\n");
        return SKIP;
    }
    if (strcmp(what, "files") == 0) {
        for (k = 0; k < sizeof VALID / sizeof VALID[0]; k++) {
            check_file(dir, VALID[k], k % 2 ? 1000 : 65536);
        }
    } else if (strcmp(what, "small") == 0) {
        char *p = path_of(dir, "pdal_1.2-with-color.copc.laz");
        check_file(dir, "pdal_1.2-with-color.copc.laz", 100);
        check_file(dir, "lastools_example.copc.laz", 7);
        check_early_release(p);
        check_failing_source(p);
        free(p);
    } else {
        fprintf(stderr, "usage: %s files|small\n", argv[0]);
        return 2;
    }
    if (failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", what, failures);
        return 1;
    }
    printf("%s: all checks passed\n", what);
    return 0;
}
