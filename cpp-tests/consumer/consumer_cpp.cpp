// The C++ wrapper from the installed package: header-only, linked like the C API.
#include <copc.hpp>

#include <cstdlib>
#include <iostream>

int main() {
    if (copc::version() != COPC_VERSION_STRING) return 1;
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
