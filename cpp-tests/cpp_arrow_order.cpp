// The other include order: copc.hpp (copc.h) first, then the spec's abi.h copy.
#include "copc.hpp"
#include "arrow/abi.h"

int64_t count_rows_abi_first(struct ArrowArrayStream *stream);

int64_t count_rows_abi_first(struct ArrowArrayStream *stream) {
    int64_t rows = 0;
    for (;;) {
        struct ArrowArray a;
        if (stream->get_next(stream, &a) != 0) {
            rows = -1;
            break;
        }
        if (a.release == nullptr) break;
        rows += a.length;
        a.release(&a);
    }
    stream->release(stream);
    return rows;
}
