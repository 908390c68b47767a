// C++17 tests of copc.hpp, the RAII wrapper.
//
//   cpp_wrapper_test basics   no data: exceptions carry status and message, options,
//                             queries, moves
//   cpp_wrapper_test files    real files from $COPC_TEST_DATA (exit 77 without it)
//
// Expected values: point and node counts from the shared data README, sums of raw
// integers computed with laspy 2.7, box results from a brute-force filter.
#include "copc.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace {

int failures = 0;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            std::cerr << __FILE__ << ":" << __LINE__ << ": CHECK failed: " #cond "\n";   \
            ++failures;                                                                  \
        }                                                                                \
    } while (0)

// Expects `f` to throw copc::Error with `status`.
template <class F>
void expect_error(F f, copc_status status, const char *what, const std::string &in_message = "") {
    try {
        f();
        std::cerr << what << ": no exception\n";
        ++failures;
    } catch (const copc::Error &e) {
        if (e.status() != status || std::string(e.what()).find(in_message) == std::string::npos) {
            std::cerr << what << ": status " << e.status() << " '" << e.what() << "'\n";
            ++failures;
        }
    }
}

void basics() {
    CHECK(copc::version() == COPC_VERSION_STRING);
    copc::Options o;
    o.set("threads", "2").set("http_header", "A: b").set("requests", "3");
    expect_error([&] { o.set("bogus", "1"); }, COPC_STATUS_INVALID_ARGUMENT, "unknown option", "bogus");
    expect_error([&] { o.set("test_panic", "1"); }, COPC_STATUS_PANIC, "panic boundary", "panic");
    o.set("threads", "1");  // still usable

    copc::Query q;
    q.bounds_2d(0, 0, 1, 1).resolution(0.5).max_depth(3).min_depth(0).dims(COPC_DIM_BIT(COPC_DIM_X));
    expect_error([&] { q.bounds(1, 1, 1, 0, 0, 0); }, COPC_STATUS_INVALID_ARGUMENT, "min > max");
    expect_error([&] { q.polygon("POLYGON((0 0))"); }, COPC_STATUS_INVALID_ARGUMENT, "bad polygon", "polygon");
    q.polygon("POLYGON((0 0, 1 0, 1 1, 0 0))");
    expect_error([&] { q.resolution(-1); }, COPC_STATUS_INVALID_ARGUMENT, "negative resolution");
    expect_error([&] { q.dims(0); }, COPC_STATUS_INVALID_ARGUMENT, "empty mask");
    copc::Query moved = std::move(q);
    CHECK(moved.get() != nullptr);

    expect_error([] { copc::Reader r("/nonexistent/file.copc.laz"); }, COPC_STATUS_IO, "missing file", "file.copc.laz");
    copc::Error e(COPC_STATUS_FORMAT, "");
    CHECK(std::string(e.what()) == copc_status_str(COPC_STATUS_FORMAT));

    // copc::Writer: points in, the same points back through copc::Reader.
    std::vector<double> x, y, z;
    std::vector<uint16_t> red, green, blue;
    for (int i = 0; i < 5000; ++i) {
        x.push_back(100.0 + (i % 71) * 0.25);
        y.push_back(200.0 + (i % 53) * 0.5);
        z.push_back((i % 97) * 0.125);
        red.push_back(static_cast<uint16_t>(i));
        green.push_back(static_cast<uint16_t>(2 * i));
        blue.push_back(static_cast<uint16_t>(3 * i));
    }
    const std::string out = "cpp_writer_test.copc.laz";
    {
        copc::Options wo;
        wo.set("scale", "0.125").set("offset", "0,0,0").set("max_points_per_node", "1000");
        copc::Writer w(out, wo);
        using W = copc::Writer;
        // An extra dimension that repeats red: read back, the two must agree.
        const int32_t tag = w.add_extra_dim("tag", COPC_TYPE_UINT16, "copy of red");
        CHECK(tag == COPC_DIM_EXTRA_BASE);
        w.add(2000, {W::column(COPC_DIM_X, x), W::column(COPC_DIM_Y, y), W::column(COPC_DIM_Z, z),
                     W::column(COPC_DIM_RED, red), W::column(COPC_DIM_GREEN, green), W::column(COPC_DIM_BLUE, blue),
                     W::column(tag, red)});
        expect_error([&] { w.add_extra_dim("late", COPC_TYPE_UINT8); }, COPC_STATUS_INVALID_STATE, "extra dim after points");
        std::vector<copc::Writer::Column> rest = {{COPC_DIM_X, x.data() + 2000, 0}, {COPC_DIM_Y, y.data() + 2000, 0},
                                                  {COPC_DIM_Z, z.data() + 2000, 0}, {COPC_DIM_RED, red.data() + 2000, 0},
                                                  {COPC_DIM_GREEN, green.data() + 2000, 0},
                                                  {COPC_DIM_BLUE, blue.data() + 2000, 0}, {tag, red.data() + 2000, 0}};
        w.add(3000, rest);
        expect_error([&] { w.add(1, {W::column(COPC_DIM_X, x)}); }, COPC_STATUS_INVALID_ARGUMENT, "no y, z");
        w.add_vlr("cpp_test", 3, "a note", {1, 2, 3});
        expect_error([&] { w.add_vlr("copc", 1, "", {}); }, COPC_STATUS_INVALID_ARGUMENT, "the writer's own VLR");
        w.close();
        expect_error([&] { w.close(); }, COPC_STATUS_INVALID_STATE, "close twice");
    }
    copc::Reader back(out);
    copc_header h = back.header();
    CHECK(h.point_count == 5000 && h.point_format == 7 && h.scale[0] == 0.125);
    std::vector<std::tuple<double, double, double, uint16_t, uint16_t, uint16_t>> got, want;
    for (const copc::Batch &b : back.points({COPC_DIM_X, COPC_DIM_Y, COPC_DIM_Z, COPC_DIM_RED, COPC_DIM_GREEN, COPC_DIM_BLUE})) {
        for (size_t i = 0; i < b.size(); ++i) {
            got.emplace_back(b.value<double>(COPC_DIM_X, i), b.value<double>(COPC_DIM_Y, i), b.value<double>(COPC_DIM_Z, i),
                             b.value<uint16_t>(COPC_DIM_RED, i), b.value<uint16_t>(COPC_DIM_GREEN, i),
                             b.value<uint16_t>(COPC_DIM_BLUE, i));
        }
    }
    for (size_t i = 0; i < x.size(); ++i) want.emplace_back(x[i], y[i], z[i], red[i], green[i], blue[i]);
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    CHECK(got == want);  // every value is on the 0.125 grid: exact
    // next_node: one node per batch, each position once, the extra value beside red.
    {
        copc::PointIter it = back.points({COPC_DIM_RED, COPC_DIM_EXTRA_BASE}, 700);
        std::set<std::tuple<int, int, int, int, uint32_t>> seen;
        size_t total = 0;
        copc_node_key key{};
        std::vector<uint32_t> pos;
        while (it.next_node(key, pos)) {
            const copc::Batch &batch = it.batch();
            CHECK(pos.size() == batch.size());
            for (size_t i = 0; i < batch.size(); ++i) {
                CHECK(batch.value<uint16_t>(COPC_DIM_RED, i) == batch.value<uint16_t>(COPC_DIM_EXTRA_BASE, i));
                CHECK(seen.emplace(key.level, key.x, key.y, key.z, pos[i]).second);
            }
            total += batch.size();
        }
        CHECK(total == 5000);
    }
    std::remove(out.c_str());
    expect_error([] { copc::Writer w("/no/such/folder/out.copc.laz"); }, COPC_STATUS_IO, "missing folder");
}

struct Expected {
    const char *name;
    uint64_t points;
    size_t nodes;
    int64_t sum_x, sum_intensity, sum_class;
};

const Expected FILES[] = {
    {"pdal_1.2-with-color.copc.laz", 1065, 65, -475503, 81361, 1341},
    {"laspy_simple_with_page.copc.laz", 1065, 65, -475503, 81361, 1341},
    {"lastools_example.copc.laz", 30, 1, -7829758319LL, 2358, 33},
    {"pdal_ellipsoid-eb.copc.laz", 200000, 5, -400, 4934250000LL, 2197768},
    {"pdal_lone-star.copc.laz", 518862, 15, 15148386086LL, 562919835, 0},
};

void file(const std::string &dir, const Expected &x) {
    std::cout << "file " << x.name << "\n";
    copc::Options opts;
    opts.set("threads", "2");
    copc::Reader reader(dir + "/" + x.name, opts);
    copc_header h = reader.header();
    CHECK(h.point_count == x.points);
    CHECK(reader.count() == x.points);
    CHECK(reader.crs_wkt().has_value());

    // Every point, in batches, with typed columns.
    int64_t sx = 0, si = 0, sc = 0;
    size_t total = 0, batches = 0;
    std::vector<std::array<double, 3>> all;
    for (const copc::Batch &b : reader.points({COPC_DIM_X, COPC_DIM_Y, COPC_DIM_Z, COPC_DIM_X_RAW, COPC_DIM_INTENSITY,
                                               COPC_DIM_CLASSIFICATION},
                                              50000)) {
        CHECK(b.size() > 0 && b.size() <= 50000);
        const int32_t *xr = b.data<int32_t>(COPC_DIM_X_RAW);
        std::vector<uint16_t> inten = b.column<uint16_t>(COPC_DIM_INTENSITY);
        std::vector<uint8_t> cls = b.column<uint8_t>(COPC_DIM_CLASSIFICATION);
        const double *px = b.data<double>(COPC_DIM_X);
        const double *py = b.data<double>(COPC_DIM_Y);
        const double *pz = b.data<double>(COPC_DIM_Z);
        for (size_t i = 0; i < b.size(); ++i) {
            sx += xr[i];
            si += inten[i];
            sc += cls[i];
            all.push_back({px[i], py[i], pz[i]});
        }
        CHECK(b.value<uint16_t>(COPC_DIM_INTENSITY, 0) == inten[0]);
        expect_error([&] { b.data<double>(COPC_DIM_INTENSITY); }, COPC_STATUS_INVALID_ARGUMENT, "wrong element size");
        expect_error([&] { b.data<double>(COPC_DIM_GPS_TIME); }, COPC_STATUS_INVALID_ARGUMENT, "dimension not read");
        total += b.size();
        ++batches;
    }
    CHECK(total == x.points);
    CHECK(batches == (x.points + 49999) / 50000);
    CHECK(sx == x.sum_x && si == x.sum_intensity && sc == x.sum_class);

    // A 2-D box with only X, Y, Z decoded: equals the brute-force filter.
    double lo[3] = {h.min[0] + (h.max[0] - h.min[0]) * 0.25, h.min[1] + (h.max[1] - h.min[1]) * 0.3, -INFINITY};
    double hi[3] = {h.min[0] + (h.max[0] - h.min[0]) * 0.7, h.min[1] + (h.max[1] - h.min[1]) * 0.9, INFINITY};
    std::vector<std::array<double, 3>> want;
    for (const auto &p : all) {
        if (p[0] >= lo[0] && p[0] <= hi[0] && p[1] >= lo[1] && p[1] <= hi[1]) want.push_back(p);
    }
    copc::Query q;
    q.bounds(lo, hi).dims(COPC_DIM_BIT(COPC_DIM_X) | COPC_DIM_BIT(COPC_DIM_Y) | COPC_DIM_BIT(COPC_DIM_Z));
    std::vector<std::array<double, 3>> got;
    for (const copc::Batch &b : reader.points(q, {COPC_DIM_X, COPC_DIM_Y, COPC_DIM_Z}, 1000)) {
        for (size_t i = 0; i < b.size(); ++i) {
            got.push_back({b.value<double>(COPC_DIM_X, i), b.value<double>(COPC_DIM_Y, i), b.value<double>(COPC_DIM_Z, i)});
        }
    }
    std::sort(want.begin(), want.end());
    std::sort(got.begin(), got.end());
    CHECK(got == want);
    CHECK(reader.count(q) == want.size());
    // Asking for a column outside the mask throws.
    expect_error([&] {
        for (const copc::Batch &b : reader.points(q, {COPC_DIM_INTENSITY})) (void)b;
    }, COPC_STATUS_INVALID_ARGUMENT, "column outside the mask");

    // Nodes and read_node.
    std::vector<copc_node> nodes = reader.nodes();
    CHECK(nodes.size() == x.nodes);
    uint64_t in_nodes = 0;
    for (const copc_node &n : nodes) {
        copc::Batch b = reader.read_node(n, {COPC_DIM_Z});
        CHECK(b.size() == static_cast<size_t>(n.point_count));
        in_nodes += b.size();
    }
    CHECK(in_nodes == x.points);
    if (!nodes.empty() && nodes[0].point_count > 1) {
        expect_error([&] { reader.read_node(nodes[0].key, {COPC_DIM_Z}, 1); }, COPC_STATUS_BUFFER_TOO_SMALL,
                     "read_node capacity");
    }

    // Dims, extra bytes, VLRs.
    std::vector<int32_t> dims = reader.dims();
    CHECK(dims.size() >= 21 && dims[0] == COPC_DIM_X);
    std::vector<copc_extra_dim> extra = reader.extra_dims();
    CHECK(extra.size() == h.extra_dim_count);
    if (!extra.empty()) {
        CHECK(std::string(extra[0].name) == "InvertedIntensity");
        double sum = 0;
        copc::Query eq;
        eq.dims(COPC_DIM_MASK_EXTRA);
        for (const copc::Batch &b : reader.points(eq, {COPC_DIM_EXTRA_BASE + 0})) {
            for (double v : b.column<double>(COPC_DIM_EXTRA_BASE + 0)) sum += v;
        }
        CHECK(sum == 9647591762.0);  // laspy 2.7
    }
    if (x.nodes == 65 && std::string(x.name) == "pdal_1.2-with-color.copc.laz") {
        // copc::translate of the LAS file this COPC file was made from: same points.
        copc::Options to;
        to.set("max_points_per_node", "200");
        copc::translate({dir + "/pdal_1.2-with-color.las"}, "cpp_translated.copc.laz", &to);
        copc::Reader t("cpp_translated.copc.laz");
        int64_t ti = 0;
        std::vector<std::array<double, 3>> mine;
        for (const copc::Batch &b : t.points({COPC_DIM_X, COPC_DIM_Y, COPC_DIM_Z, COPC_DIM_INTENSITY})) {
            for (size_t i = 0; i < b.size(); ++i) {
                ti += b.value<uint16_t>(COPC_DIM_INTENSITY, i);
                mine.push_back({b.value<double>(COPC_DIM_X, i), b.value<double>(COPC_DIM_Y, i), b.value<double>(COPC_DIM_Z, i)});
            }
        }
        CHECK(t.count() == 1065 && ti == x.sum_intensity);
        // The same coordinates as PDAL's COPC file of it (both on a 0.01 grid).
        std::sort(mine.begin(), mine.end());
        std::vector<std::array<double, 3>> pdal = all;
        std::sort(pdal.begin(), pdal.end());
        size_t off = 0;
        for (size_t i = 0; i < mine.size() && i < pdal.size(); ++i) {
            for (int a = 0; a < 3; ++a) off += std::fabs(mine[i][a] - pdal[i][a]) > 0.005;
        }
        CHECK(mine.size() == pdal.size() && off == 0);
        std::remove("cpp_translated.copc.laz");
    }
    std::vector<copc::Vlr> vlrs = reader.vlrs();
    CHECK(!vlrs.empty() && std::string(vlrs[0].info.user_id) == "copc" && vlrs[0].data.size() == 160);
    expect_error([&] { reader.dim_info(25); }, COPC_STATUS_INVALID_ARGUMENT, "invalid dim id");

    // Readers move; the moved-from one is empty.
    copc::Reader other = std::move(reader);
    CHECK(other.header().point_count == x.points);
    CHECK(reader.get() == nullptr);
}

}  // namespace

int main(int argc, char **argv) {
    std::string what = argc > 1 ? argv[1] : "basics";
    try {
        if (what == "basics") {
            basics();
        } else if (what == "files") {
            const char *dir = std::getenv("COPC_TEST_DATA");
            if (!dir || !*dir) {
                std::cout << "SKIPPED: COPC_TEST_DATA is not set to the shared data folder (e.g. ../shared/data)\n";
                return 77;
            }
            for (const Expected &x : FILES) file(dir, x);
        } else {
            std::cerr << "usage: " << argv[0] << " basics|files\n";
            return 2;
        }
    } catch (const copc::Error &e) {
        std::cerr << "unexpected copc::Error " << e.status() << ": " << e.what() << "\n";
        return 1;
    }
    if (failures) {
        std::cerr << what << ": " << failures << " check(s) failed\n";
        return 1;
    }
    std::cout << what << ": all checks passed\n";
    return 0;
}
