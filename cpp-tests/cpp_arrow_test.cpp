// copc.hpp's Arrow stream with another definition of the Arrow C structs in the same
// program: this unit includes a copy of the spec's abi.h first, cpp_arrow_order.cpp
// includes copc.hpp first; both compile with -Wall -Wextra -Werror -pedantic and pass
// streams to each other as `struct ArrowArrayStream *`.
#include "arrow/abi.h"
#include "copc.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

// In cpp_arrow_order.cpp: reads a stream through abi.h's struct alone; returns rows.
int64_t count_rows_abi_first(struct ArrowArrayStream *stream);

static int failures = 0;
#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                                  \
        }                                                                                \
    } while (0)

int main() {
    const char *dir = std::getenv("COPC_TEST_DATA");
    if (dir == nullptr || *dir == '\0') {
        std::printf("SKIPPED: set COPC_TEST_DATA to the shared data folder\n");
        return 77;
    }
    const std::string path = std::string(dir) + "/pdal_1.2-with-color.copc.laz";
    try {
        copc::ArrowStream stream;
        uint64_t points = 0;
        {
            copc::Reader reader(path);
            points = reader.header().point_count;
            copc::ArrowOptions opts;
            opts.set("batch_rows", "100").set("geometry", "wkb");
            copc::ArrowSchemaOwned schema = reader.arrow_schema(copc::Query(), opts);
            CHECK(std::strcmp(schema->format, "+s") == 0);
            CHECK(schema->n_children > 3 && std::strcmp(schema->children[0]->name, "x") == 0);
            stream = reader.arrow(copc::Query(), opts);
        }  // the reader goes first: the stream owns the file
        copc::ArrowSchemaOwned schema = stream.schema();
        copc::ArrowArrayOwned batch;
        uint64_t rows = 0;
        int batches = 0;
        while (stream.next(batch)) {
            CHECK(batch->length > 0 && batch->length <= 100);
            CHECK(batch->n_children == schema->n_children);
            rows += static_cast<uint64_t>(batch->length);
            ++batches;
        }
        CHECK(!batch);
        CHECK(rows == points);
        std::printf("copc.hpp: %llu rows in %d batches\n", static_cast<unsigned long long>(rows), batches);

        // Handed over as the other header's struct.
        copc::Reader reader(path);
        copc::ArrowStream second = reader.arrow(copc::Query().max_depth(1));
        struct ArrowArrayStream raw;
        second.release_to(&raw);
        const int64_t n = count_rows_abi_first(&raw);
        CHECK(n > 0 && static_cast<uint64_t>(n) == reader.count(copc::Query().max_depth(1)));

        // Bad options throw with the library's message.
        bool threw = false;
        try {
            copc::ArrowOptions().set("no_such_key", "1");
        } catch (const copc::Error &e) {
            threw = e.status() == COPC_STATUS_INVALID_ARGUMENT && std::string(e.what()).find("no_such_key") != std::string::npos;
        }
        CHECK(threw);
    } catch (const copc::Error &e) {
        std::fprintf(stderr, "copc::Error %d: %s\n", e.status(), e.what());
        return 1;
    }
    if (failures) return 1;
    std::printf("cpp_arrow: all checks passed\n");
    return 0;
}
