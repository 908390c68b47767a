// The C++ wrapper from the installed package: header-only, linked like the C API.
#include <copc.hpp>

#include <cstdlib>
#include <iostream>

int main() {
    if (copc::version() != COPC_VERSION_STRING) return 1;
    {
        // Write with copc::Writer, read back with copc::Reader.
        std::vector<double> x, y, z;
        for (int i = 0; i < 1000; ++i) {
            x.push_back(10.0 + i % 10), y.push_back(20.0 + i / 10), z.push_back(i * 0.01);
        }
        copc::Options o;
        o.set("scale", "0.01");
        copc::Writer w("consumer_cpp_written.copc.laz", o);
        w.add(x.size(), {copc::Writer::column(COPC_DIM_X, x), copc::Writer::column(COPC_DIM_Y, y),
                         copc::Writer::column(COPC_DIM_Z, z)});
        w.close();
        if (copc::Reader("consumer_cpp_written.copc.laz").count() != 1000) return 1;
    }
    try {
        copc::Reader r("/nonexistent.copc.laz");
        return 1;
    } catch (const copc::Error &e) {
        if (e.status() != COPC_STATUS_IO) return 1;
    }
    const char *dir = std::getenv("COPC_TEST_DATA");
    if (!dir || !*dir) {
        std::cout << "SKIPPED: COPC_TEST_DATA is not set\n";
        return 77;
    }
    copc::Reader r(std::string(dir) + "/pdal_1.2-with-color.copc.laz");
    size_t n = 0;
    for (const copc::Batch &b : r.points({COPC_DIM_Z}, 100)) n += b.size();
    std::cout << "consumer_cpp: " << n << " points\n";
    return n == 1065 ? 0 : 1;
}
