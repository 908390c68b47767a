/*
 * copc.hpp: a header-only C++17 wrapper over the copc C API (copc.h): RAII handles,
 * exceptions that carry the status and the message, and iteration over point
 * batches into std::vector columns. Written by hand (copc.h is generated).
 *
 *   copc::Reader reader("autzen.copc.laz");
 *   copc::Query q;
 *   q.bounds_2d(637000, 851000, 638000, 852000).resolution(1.0);
 *   for (const copc::Batch &b : reader.points(q, {COPC_DIM_X, COPC_DIM_Y, COPC_DIM_CLASSIFICATION})) {
 *       const double *x = b.data<double>(COPC_DIM_X);
 *       std::vector<uint8_t> cls = b.column<uint8_t>(COPC_DIM_CLASSIFICATION);
 *   }
 *
 *   copc::Writer w("out.copc.laz", copc::Options().set("scale", "0.01"));
 *   w.add(x.size(), {copc::Writer::column(COPC_DIM_X, x), copc::Writer::column(COPC_DIM_Y, y),
 *                    copc::Writer::column(COPC_DIM_Z, z)});
 *   w.close();
 *
 *   copc::ArrowStream s = reader.arrow(q, copc::ArrowOptions().set("geometry", "wkb"));
 *   copc::ArrowArrayOwned batch;
 *   while (s.next(batch)) { ... batch->length, batch->children ... }
 *
 * Thread safety is that of the C types: a const Reader may be used by many threads;
 * Options, Query, PointIter, Batch, Writer and ArrowStream by one thread at a time.
 */
#ifndef COPC_HPP
#define COPC_HPP

#include "copc.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace copc {

/* A failed call: what(), the C status and copc_last_error_message(). */
class Error : public std::runtime_error {
public:
    Error(copc_status status, const std::string &message)
        : std::runtime_error(message.empty() ? std::string(copc_status_str(status)) : message), status_(status) {}
    copc_status status() const noexcept { return status_; }

private:
    copc_status status_;
};

namespace detail {

inline void check(copc_status status) {
    if (status != COPC_STATUS_OK) {
        throw Error(status, copc_last_error_message());
    }
}

template <class T, void (*Free)(T *)>
struct Deleter {
    void operator()(T *p) const noexcept { Free(p); }
};

template <class T, void (*Free)(T *)>
using Handle = std::unique_ptr<T, Deleter<T, Free>>;

/* A versioned C struct with struct_size set. */
template <class T>
T sized() {
    T v;
    std::memset(&v, 0, sizeof v);
    v.struct_size = static_cast<uint32_t>(sizeof v);
    return v;
}

}  // namespace detail

/* Key/value settings for opening (see copc_options in copc.h for the keys). */
class Options {
public:
    Options() {
        copc_options *o = nullptr;
        detail::check(copc_options_new(&o));
        h_.reset(o);
    }
    Options &set(const std::string &key, const std::string &value) {
        detail::check(copc_options_set(h_.get(), key.c_str(), value.c_str()));
        return *this;
    }
    const copc_options *get() const noexcept { return h_.get(); }

private:
    detail::Handle<copc_options, copc_options_free> h_;
};

/* A query: box, resolution, depth limits, dimensions (all optional). */
class Query {
public:
    Query() {
        copc_query *q = nullptr;
        detail::check(copc_query_new(&q));
        h_.reset(q);
    }
    Query &bounds(const double min[3], const double max[3]) {
        detail::check(copc_query_set_bounds(h_.get(), min, max));
        return *this;
    }
    Query &bounds(double minx, double miny, double minz, double maxx, double maxy, double maxz) {
        const double lo[3] = {minx, miny, minz}, hi[3] = {maxx, maxy, maxz};
        return bounds(lo, hi);
    }
    /* A 2-D box: every height. */
    Query &bounds_2d(double minx, double miny, double maxx, double maxy) {
        const double inf = std::numeric_limits<double>::infinity();
        return bounds(minx, miny, -inf, maxx, maxy, inf);
    }
    /* A 2-D polygon or multipolygon, WKT or GeoJSON. */
    Query &polygon(const std::string &wkt_or_geojson) {
        detail::check(copc_query_set_polygon(h_.get(), wkt_or_geojson.c_str()));
        return *this;
    }
    Query &resolution(double r) {
        detail::check(copc_query_set_resolution(h_.get(), r));
        return *this;
    }
    Query &max_depth(int32_t d) {
        detail::check(copc_query_set_max_depth(h_.get(), d));
        return *this;
    }
    Query &min_depth(int32_t d) {
        detail::check(copc_query_set_min_depth(h_.get(), d));
        return *this;
    }
    /* COPC_DIM_BIT(dim) | ... | COPC_DIM_MASK_EXTRA */
    Query &dims(uint64_t mask) {
        detail::check(copc_query_set_dims(h_.get(), mask));
        return *this;
    }
    const copc_query *get() const noexcept { return h_.get(); }

private:
    detail::Handle<copc_query, copc_query_free> h_;
};

/* Some points, one std::vector of bytes per dimension (native values, packed). */
class Batch {
public:
    std::size_t size() const noexcept { return count_; }
    bool empty() const noexcept { return count_ == 0; }
    const std::vector<int32_t> &dims() const noexcept { return dims_; }

    /* The values of `dim`: sizeof(T) must be the size of one element (for extra-bytes
       arrays, point i's elements are at i*count .. i*count+count-1). */
    template <class T>
    const T *data(int32_t dim) const {
        std::size_t i = index(dim);
        if (sizes_[i] % sizeof(T) != 0) {
            throw Error(COPC_STATUS_INVALID_ARGUMENT,
                        "copc::Batch: dimension " + std::to_string(dim) + " has " + std::to_string(sizes_[i]) +
                            " bytes per point, not a multiple of " + std::to_string(sizeof(T)));
        }
        return reinterpret_cast<const T *>(data_[i].data());
    }
    /* The values of `dim` as a vector (size() * elements per point values). */
    template <class T>
    std::vector<T> column(int32_t dim) const {
        const T *p = data<T>(dim);
        std::size_t n = count_ * (sizes_[index(dim)] / sizeof(T));
        return std::vector<T>(p, p + n);
    }
    template <class T>
    T value(int32_t dim, std::size_t point) const {
        if (point >= count_) {
            throw Error(COPC_STATUS_INVALID_ARGUMENT, "copc::Batch: point " + std::to_string(point) + " out of range");
        }
        return data<T>(dim)[point * (sizes_[index(dim)] / sizeof(T))];
    }

private:
    friend class PointIter;
    friend class Reader;
    std::size_t index(int32_t dim) const {
        for (std::size_t i = 0; i < dims_.size(); ++i) {
            if (dims_[i] == dim) return i;
        }
        throw Error(COPC_STATUS_INVALID_ARGUMENT, "copc::Batch: dimension " + std::to_string(dim) + " was not read");
    }
    /* Columns for `capacity` points. */
    std::vector<copc_column> columns(std::size_t capacity) {
        std::vector<copc_column> cols(dims_.size());
        for (std::size_t i = 0; i < dims_.size(); ++i) {
            data_[i].resize(capacity * sizes_[i]);
            cols[i].dim = dims_[i];
            cols[i].data = data_[i].data();
            cols[i].stride = 0;
        }
        return cols;
    }
    void finish(std::size_t n) {
        count_ = n;
        for (std::size_t i = 0; i < dims_.size(); ++i) data_[i].resize(n * sizes_[i]);
    }
    std::vector<int32_t> dims_;
    std::vector<std::size_t> sizes_;
    std::vector<std::vector<unsigned char>> data_;
    std::size_t count_ = 0;
};

/* Streams the points of a query in batches of at most batch_size points. It is its
   own range: `for (const copc::Batch &b : reader.points(...))`. */
class PointIter {
public:
    /* Reads the next batch into `b`; false when there are no more points. */
    bool next(Batch &b) {
        std::vector<copc_column> cols = b.columns(batch_size_);
        std::size_t n = 0;
        detail::check(copc_point_iter_read(h_.get(), cols.data(), cols.size(), batch_size_, &n));
        b.finish(n);
        return n > 0;
    }
    /* Like next(), into batch(): all its points come from one node, whose key goes to
       `node`, and each point's position in the node's chunk to `positions` (a name
       for the point that no query changes; copc_point_iter_read_node). */
    bool next_node(copc_node_key &node, std::vector<uint32_t> &positions) {
        std::vector<copc_column> cols = batch_.columns(batch_size_);
        positions.resize(batch_size_);
        std::size_t n = 0;
        detail::check(copc_point_iter_read_node(h_.get(), cols.data(), cols.size(), batch_size_, &node,
                                                positions.data(), &n));
        batch_.finish(n);
        positions.resize(n);
        return n > 0;
    }
    /* The batch next_node() (and the range loop) filled last. */
    const Batch &batch() const noexcept { return batch_; }

    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = Batch;
        using difference_type = std::ptrdiff_t;
        using pointer = const Batch *;
        using reference = const Batch &;
        iterator() = default;
        explicit iterator(PointIter *it) : it_(it) { ++*this; }
        reference operator*() const { return it_->batch_; }
        pointer operator->() const { return &it_->batch_; }
        iterator &operator++() {
            if (it_ && !it_->next(it_->batch_)) it_ = nullptr;
            return *this;
        }
        bool operator==(const iterator &o) const { return it_ == o.it_; }
        bool operator!=(const iterator &o) const { return it_ != o.it_; }

    private:
        PointIter *it_ = nullptr;
    };
    iterator begin() { return iterator(this); }
    iterator end() { return iterator(); }

private:
    friend class Reader;
    PointIter(copc_point_iter *it, Batch layout, std::size_t batch_size)
        : h_(it), batch_(std::move(layout)), batch_size_(batch_size) {}
    detail::Handle<copc_point_iter, copc_point_iter_free> h_;
    Batch batch_;
    std::size_t batch_size_;
};

/* Options of Reader::arrow (see copc_arrow_options in copc.h for the keys). */
class ArrowOptions {
public:
    ArrowOptions() {
        copc_arrow_options *o = nullptr;
        detail::check(copc_arrow_options_new(&o));
        h_.reset(o);
    }
    ArrowOptions &set(const std::string &key, const std::string &value) {
        detail::check(copc_arrow_options_set(h_.get(), key.c_str(), value.c_str()));
        return *this;
    }
    /* A column chosen by hand (name empty: the dimension's name). */
    ArrowOptions &add_column(int32_t dim, const std::string &name = std::string()) {
        detail::check(copc_arrow_options_add_column(h_.get(), dim, name.empty() ? nullptr : name.c_str()));
        return *this;
    }
    const copc_arrow_options *get() const noexcept { return h_.get(); }

private:
    detail::Handle<copc_arrow_options, copc_arrow_options_free> h_;
};

/* An Arrow C data interface struct (struct ArrowSchema or struct ArrowArray) that calls
   its release callback when it goes. */
template <class T>
class ArrowOwned {
public:
    ArrowOwned() noexcept { std::memset(&v_, 0, sizeof v_); }
    ~ArrowOwned() { reset(); }
    ArrowOwned(const ArrowOwned &) = delete;
    ArrowOwned &operator=(const ArrowOwned &) = delete;
    ArrowOwned(ArrowOwned &&o) noexcept : v_(o.v_) { o.v_.release = nullptr; }
    ArrowOwned &operator=(ArrowOwned &&o) noexcept {
        if (this != &o) {
            reset();
            v_ = o.v_;
            o.v_.release = nullptr;
        }
        return *this;
    }
    void reset() noexcept {
        if (v_.release) v_.release(&v_);
        v_.release = nullptr;
    }
    /* Whether it holds something (an array after the stream's end does not). */
    explicit operator bool() const noexcept { return v_.release != nullptr; }
    T *get() noexcept { return &v_; }
    const T *get() const noexcept { return &v_; }
    T *operator->() noexcept { return &v_; }
    const T *operator->() const noexcept { return &v_; }

private:
    T v_;
};
using ArrowSchemaOwned = ArrowOwned<struct ArrowSchema>;
using ArrowArrayOwned = ArrowOwned<struct ArrowArray>;

/* The Arrow C stream of a query (Reader::arrow): released when it goes. It owns the
   file: it may outlive the Reader. Hand it to another Arrow library with release_to(). */
class ArrowStream {
public:
    ArrowStream() noexcept { std::memset(&s_, 0, sizeof s_); }
    ~ArrowStream() { reset(); }
    ArrowStream(const ArrowStream &) = delete;
    ArrowStream &operator=(const ArrowStream &) = delete;
    ArrowStream(ArrowStream &&o) noexcept : s_(o.s_) { o.s_.release = nullptr; }
    ArrowStream &operator=(ArrowStream &&o) noexcept {
        if (this != &o) {
            reset();
            s_ = o.s_;
            o.s_.release = nullptr;
        }
        return *this;
    }
    void reset() noexcept {
        if (s_.release) s_.release(&s_);
        s_.release = nullptr;
    }
    /* The schema of every batch. */
    ArrowSchemaOwned schema() {
        ArrowSchemaOwned out;
        check(s_.get_schema ? s_.get_schema(&s_, out.get()) : EINVAL_);
        return out;
    }
    /* The next batch (a struct array); false at the end. A failure throws copc::Error
       with the stream's message (file, node, what was expected). */
    bool next(ArrowArrayOwned &out) {
        out.reset();
        check(s_.get_next ? s_.get_next(&s_, out.get()) : EINVAL_);
        return static_cast<bool>(out);
    }
    /* Moves the stream into `out` (uninitialised or released): its new owner releases it. */
    void release_to(struct ArrowArrayStream *out) noexcept {
        *out = s_;
        s_.release = nullptr;
    }
    struct ArrowArrayStream *get() noexcept { return &s_; }

private:
    static constexpr int EINVAL_ = 22;
    void check(int rc) {
        if (rc != 0) {
            const char *m = s_.get_last_error ? s_.get_last_error(&s_) : nullptr;
            throw Error(COPC_STATUS_IO, m ? std::string(m) : "Arrow stream error " + std::to_string(rc));
        }
    }
    struct ArrowArrayStream s_;
};

/* A VLR or EVLR and its payload. */
struct Vlr {
    copc_vlr info;
    std::vector<uint8_t> data;
};

/* An open COPC file (a path, an http(s) URL, or caller callbacks). */
class Reader {
public:
    explicit Reader(const std::string &source) : Reader(source, nullptr) {}
    Reader(const std::string &source, const Options &opts) : Reader(source, opts.get()) {}
    /* Over caller callbacks (see copc_io). */
    static Reader from_io(const copc_io &io, void *userdata, const Options *opts = nullptr) {
        copc_reader *r = nullptr;
        detail::check(copc_reader_open_io(&io, userdata, opts ? opts->get() : nullptr, &r));
        return Reader(r);
    }

    copc_header header() const {
        copc_header h = detail::sized<copc_header>();
        detail::check(copc_reader_header(get(), &h));
        return h;
    }
    /* The WKT CRS, or nothing when the file has none. */
    std::optional<std::string> crs_wkt() const {
        const char *w = copc_reader_crs_wkt(get());
        if (w) return std::string(w);
        const char *msg = copc_last_error_message();
        if (*msg) throw Error(COPC_STATUS_IO, msg);
        return std::nullopt;
    }
    std::vector<copc_extra_dim> extra_dims() const {
        std::size_t n = 0;
        detail::check(copc_reader_extra_dim_count(get(), &n));
        std::vector<copc_extra_dim> v;
        for (std::size_t i = 0; i < n; ++i) {
            copc_extra_dim e = detail::sized<copc_extra_dim>();
            detail::check(copc_reader_extra_dim(get(), i, &e));
            v.push_back(e);
        }
        return v;
    }
    std::vector<Vlr> vlrs() const {
        std::size_t n = 0;
        detail::check(copc_reader_vlr_count(get(), &n));
        std::vector<Vlr> v(n);
        for (std::size_t i = 0; i < n; ++i) {
            v[i].info = detail::sized<copc_vlr>();
            detail::check(copc_reader_vlr(get(), i, &v[i].info));
            v[i].data.resize(static_cast<std::size_t>(v[i].info.data_len));
            std::size_t len = 0;
            detail::check(copc_reader_vlr_data(get(), i, v[i].data.data(), v[i].data.size(), &len));
        }
        return v;
    }
    /* The dimensions the file stores (standard ids, then COPC_DIM_EXTRA_BASE + i). */
    std::vector<int32_t> dims() const {
        std::size_t n = 0;
        detail::check(copc_reader_dims(get(), nullptr, 0, &n));
        std::vector<int32_t> v(n);
        detail::check(copc_reader_dims(get(), v.data(), v.size(), &n));
        return v;
    }
    copc_dim_info dim_info(int32_t dim) const {
        copc_dim_info d = detail::sized<copc_dim_info>();
        detail::check(copc_reader_dim_info(get(), dim, &d));
        return d;
    }
    std::vector<copc_node> nodes() const { return nodes_of(nullptr); }
    std::vector<copc_node> nodes(const Query &q) const { return nodes_of(q.get()); }
    uint64_t count() const { return count_of(nullptr); }
    uint64_t count(const Query &q) const { return count_of(q.get()); }

    /* The points of `q`, in batches, with the columns `dims` (empty: every dimension
       the file stores; they must be within the query's dimension mask). */
    PointIter points(const Query &q, std::vector<int32_t> dims = {}, std::size_t batch_size = 65536) {
        return points_of(q.get(), std::move(dims), batch_size);
    }
    PointIter points(std::vector<int32_t> dims = {}, std::size_t batch_size = 65536) {
        return points_of(nullptr, std::move(dims), batch_size);
    }
    /* The points of `q` as an Arrow C stream (copc_reader_query_arrow; the columns
       are in docs/arrow.md). */
    ArrowStream arrow(const Query &q, const ArrowOptions &opts) const { return arrow_of(q.get(), opts.get()); }
    ArrowStream arrow(const Query &q) const { return arrow_of(q.get(), nullptr); }
    ArrowStream arrow() const { return arrow_of(nullptr, nullptr); }
    /* The schema arrow(q, opts) gives, without reading points. */
    ArrowSchemaOwned arrow_schema(const Query &q, const ArrowOptions &opts) const {
        ArrowSchemaOwned s;
        detail::check(copc_reader_query_arrow_schema(get(), q.get(), opts.get(), s.get()));
        return s;
    }
    /* Every point of one node (`capacity` must hold them: see copc_node.point_count). */
    Batch read_node(const copc_node_key &key, std::vector<int32_t> dims, std::size_t capacity) {
        Batch b = layout(std::move(dims));
        std::vector<copc_column> cols = b.columns(capacity);
        std::size_t n = 0;
        detail::check(copc_reader_read_node(h_.get(), &key, cols.data(), cols.size(), capacity, &n));
        b.finish(n);
        return b;
    }
    Batch read_node(const copc_node &node, std::vector<int32_t> dims) {
        std::size_t cap = node.point_count > 0 ? static_cast<std::size_t>(node.point_count) : 1;
        return read_node(node.key, std::move(dims), cap);
    }

    copc_reader *get() const noexcept { return h_.get(); }

private:
    Reader(const std::string &source, const copc_options *opts) {
        copc_reader *r = nullptr;
        detail::check(copc_reader_open(source.c_str(), opts, &r));
        h_.reset(r);
    }
    explicit Reader(copc_reader *r) : h_(r) {}
    std::vector<copc_node> nodes_of(const copc_query *q) const {
        copc_node_iter *it = nullptr;
        detail::check(copc_reader_nodes(get(), q, &it));
        detail::Handle<copc_node_iter, copc_node_iter_free> h(it);
        std::size_t n = 0;
        detail::check(copc_node_iter_len(it, &n));
        std::vector<copc_node> v;
        v.reserve(n);
        for (;;) {
            copc_node node;
            bool has = false;
            detail::check(copc_node_iter_next(it, &node, &has));
            if (!has) break;
            v.push_back(node);
        }
        return v;
    }
    ArrowStream arrow_of(const copc_query *q, const copc_arrow_options *o) const {
        ArrowStream s;
        detail::check(copc_reader_query_arrow(get(), q, o, s.get()));
        return s;
    }
    uint64_t count_of(const copc_query *q) const {
        uint64_t n = 0;
        detail::check(copc_reader_count(get(), q, &n));
        return n;
    }
    Batch layout(std::vector<int32_t> dims) const {
        if (dims.empty()) dims = this->dims();
        Batch b;
        for (int32_t d : dims) {
            b.sizes_.push_back(dim_info(d).size);
        }
        b.dims_ = std::move(dims);
        b.data_.resize(b.dims_.size());
        return b;
    }
    PointIter points_of(const copc_query *q, std::vector<int32_t> dims, std::size_t batch_size) {
        if (batch_size == 0) throw Error(COPC_STATUS_INVALID_ARGUMENT, "copc::Reader::points: batch_size 0");
        Batch b = layout(std::move(dims));
        copc_point_iter *it = nullptr;
        detail::check(copc_reader_query_points(h_.get(), q, &it));
        return PointIter(it, std::move(b), batch_size);
    }
    detail::Handle<copc_reader, copc_reader_free> h_;
};

/* A COPC file written from points: add columns in batches, then close(). The
   library builds the octree. Destroying it without close() discards the points. */
class Writer {
public:
    explicit Writer(const std::string &path) : Writer(path, nullptr) {}
    Writer(const std::string &path, const Options &opts) : Writer(path, opts.get()) {}

    /* One dimension of the points of an add() call: `count` values of the
       dimension's type at `stride` bytes (0: packed). */
    struct Column {
        int32_t dim;
        const void *data;
        std::size_t stride;
    };
    template <class T>
    static Column column(int32_t dim, const std::vector<T> &values) {
        return Column{dim, values.data(), sizeof(T)};
    }

    /* Declares an extra-bytes dimension (before the first add()) and returns the
       column id its values use (copc_writer_add_extra_dim). */
    int32_t add_extra_dim(const std::string &name, int32_t value_type, const std::string &description = "") {
        int32_t dim = 0;
        detail::check(copc_writer_add_extra_dim(h_.get(), name.c_str(), value_type, description.c_str(), &dim));
        return dim;
    }
    /* Adds a VLR (an EVLR when `extended`) to copy into the file (copc_writer_add_vlr). */
    Writer &add_vlr(const std::string &user_id, uint16_t record_id, const std::string &description,
                    const std::vector<uint8_t> &data, bool extended = false) {
        detail::check(copc_writer_add_vlr(h_.get(), user_id.c_str(), record_id, description.c_str(),
                                          data.data(), data.size(), extended ? 1 : 0));
        return *this;
    }
    /* Adds `count` points (X, Y, Z required; see copc_writer_add_points). */
    Writer &add(std::size_t count, const std::vector<Column> &columns) {
        std::vector<copc_column> cols(columns.size());
        for (std::size_t i = 0; i < columns.size(); ++i) {
            cols[i].dim = columns[i].dim;
            cols[i].data = const_cast<void *>(columns[i].data);
            cols[i].stride = columns[i].stride;
        }
        detail::check(copc_writer_add_points(h_.get(), cols.data(), cols.size(), count));
        return *this;
    }
    /* Writes the file. */
    void close() { detail::check(copc_writer_close(h_.get())); }
    copc_writer *get() const noexcept { return h_.get(); }

private:
    Writer(const std::string &path, const copc_options *opts) {
        copc_writer *w = nullptr;
        detail::check(copc_writer_create(path.c_str(), opts, &w));
        h_.reset(w);
    }
    detail::Handle<copc_writer, copc_writer_free> h_;
};

/* LAS/LAZ files to one COPC file (copc_translate). */
inline void translate(const std::vector<std::string> &inputs, const std::string &output,
                      const Options *opts = nullptr) {
    std::vector<const char *> p;
    for (const std::string &s : inputs) p.push_back(s.c_str());
    detail::check(copc_translate(p.data(), p.size(), output.c_str(), opts ? opts->get() : nullptr));
}

inline std::string version() { return copc_version_string(); }

}  // namespace copc

#endif /* COPC_HPP */
