// Helpers shared by readers.copcrs and writers.copcrs: owning handles for the copc C
// API, error text, and column conversion between PDAL dimension types and copc types.
// Everything here uses the installed C API (copc.h) only.
#pragma once

#include <copc.h>

#include <pdal/Dimension.hpp>
#include <pdal/PointTable.hpp>

#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace copcrs
{

struct OptionsFree { void operator()(copc_options *p) const { copc_options_free(p); } };
struct ReaderFree { void operator()(copc_reader *p) const { copc_reader_free(p); } };
struct QueryFree { void operator()(copc_query *p) const { copc_query_free(p); } };
struct PointIterFree { void operator()(copc_point_iter *p) const { copc_point_iter_free(p); } };
struct WriterFree { void operator()(copc_writer *p) const { copc_writer_free(p); } };
using OptionsPtr = std::unique_ptr<copc_options, OptionsFree>;
using ReaderPtr = std::unique_ptr<copc_reader, ReaderFree>;
using QueryPtr = std::unique_ptr<copc_query, QueryFree>;
using PointIterPtr = std::unique_ptr<copc_point_iter, PointIterFree>;
using WriterPtr = std::unique_ptr<copc_writer, WriterFree>;

// "<status>: <library message>" for the call that just returned `s` on this thread.
inline std::string describe(copc_status s)
{
    std::string msg = copc_last_error_message();
    std::string out = copc_status_str(s);
    if (!msg.empty())
        out += ": " + msg;
    return out;
}

// The PDAL type of a copc value type (copc_type codes are the LAS extra-bytes codes).
inline pdal::Dimension::Type pdalType(int32_t copcType)
{
    using T = pdal::Dimension::Type;
    switch (copcType)
    {
    case COPC_TYPE_UINT8: return T::Unsigned8;
    case COPC_TYPE_INT8: return T::Signed8;
    case COPC_TYPE_UINT16: return T::Unsigned16;
    case COPC_TYPE_INT16: return T::Signed16;
    case COPC_TYPE_UINT32: return T::Unsigned32;
    case COPC_TYPE_INT32: return T::Signed32;
    case COPC_TYPE_UINT64: return T::Unsigned64;
    case COPC_TYPE_INT64: return T::Signed64;
    case COPC_TYPE_FLOAT: return T::Float;
    case COPC_TYPE_DOUBLE: return T::Double;
    default: return T::None;
    }
}

// The copc value type of a PDAL type (0 for none).
inline int32_t copcType(pdal::Dimension::Type t)
{
    using T = pdal::Dimension::Type;
    switch (t)
    {
    case T::Unsigned8: return COPC_TYPE_UINT8;
    case T::Signed8: return COPC_TYPE_INT8;
    case T::Unsigned16: return COPC_TYPE_UINT16;
    case T::Signed16: return COPC_TYPE_INT16;
    case T::Unsigned32: return COPC_TYPE_UINT32;
    case T::Signed32: return COPC_TYPE_INT32;
    case T::Unsigned64: return COPC_TYPE_UINT64;
    case T::Signed64: return COPC_TYPE_INT64;
    case T::Float: return COPC_TYPE_FLOAT;
    case T::Double: return COPC_TYPE_DOUBLE;
    default: return 0;
    }
}

// A strided run of values of one PDAL type: value k at data + k * stride.
struct Strided
{
    pdal::Dimension::Type type;
    unsigned char *data;
    size_t stride;
};

// Converts n values from `src` to `dst`, computing `v * scale + offset` in double when
// `xform` is set (scan angle steps, scaled extra bytes). A value that does not fit the
// destination type makes it return false with the index in *bad (nothing else is
// reported: the caller names the file and dimension). Floats go to integers rounded to
// nearest, as PDAL's own conversions do. The type switch happens once per column, not
// per value.
namespace detail
{
template <class In, class Out>
bool convertLoop(const unsigned char *src, size_t sstride, unsigned char *dst, size_t dstride,
                 size_t n, bool xform, double scale, double offset, size_t *bad)
{
    for (size_t k = 0; k < n; ++k)
    {
        In in;
        std::memcpy(&in, src + k * sstride, sizeof(In));
        Out out;
        if (!xform && std::is_same<In, Out>::value)
        {
            std::memcpy(&out, &in, sizeof(Out));
        }
        else
        {
            double v = xform ? static_cast<double>(in) * scale + offset : static_cast<double>(in);
            if (std::is_integral<Out>::value)
            {
                if (std::isnan(v))
                {
                    *bad = k;
                    return false;
                }
                v = std::round(v);
                if (v < static_cast<double>(std::numeric_limits<Out>::lowest()) ||
                    v > static_cast<double>((std::numeric_limits<Out>::max)()))
                {
                    *bad = k;
                    return false;
                }
            }
            out = static_cast<Out>(v);
        }
        std::memcpy(dst + k * dstride, &out, sizeof(Out));
    }
    return true;
}

template <class In>
bool convertTo(const Strided& s, const Strided& d, size_t n, bool xform, double scale,
               double offset, size_t *bad)
{
    using T = pdal::Dimension::Type;
    switch (d.type)
    {
    case T::Unsigned8: return convertLoop<In, uint8_t>(s.data, s.stride, d.data, d.stride, n, xform, scale, offset, bad);
    case T::Signed8: return convertLoop<In, int8_t>(s.data, s.stride, d.data, d.stride, n, xform, scale, offset, bad);
    case T::Unsigned16: return convertLoop<In, uint16_t>(s.data, s.stride, d.data, d.stride, n, xform, scale, offset, bad);
    case T::Signed16: return convertLoop<In, int16_t>(s.data, s.stride, d.data, d.stride, n, xform, scale, offset, bad);
    case T::Unsigned32: return convertLoop<In, uint32_t>(s.data, s.stride, d.data, d.stride, n, xform, scale, offset, bad);
    case T::Signed32: return convertLoop<In, int32_t>(s.data, s.stride, d.data, d.stride, n, xform, scale, offset, bad);
    case T::Unsigned64: return convertLoop<In, uint64_t>(s.data, s.stride, d.data, d.stride, n, xform, scale, offset, bad);
    case T::Signed64: return convertLoop<In, int64_t>(s.data, s.stride, d.data, d.stride, n, xform, scale, offset, bad);
    case T::Float: return convertLoop<In, float>(s.data, s.stride, d.data, d.stride, n, xform, scale, offset, bad);
    case T::Double: return convertLoop<In, double>(s.data, s.stride, d.data, d.stride, n, xform, scale, offset, bad);
    default: *bad = 0; return false;
    }
}
} // namespace detail

inline bool convert(const Strided& src, const Strided& dst, size_t n, bool xform = false,
                    double scale = 1.0, double offset = 0.0, size_t *bad = nullptr)
{
    size_t ignored = 0;
    if (!bad)
        bad = &ignored;
    using T = pdal::Dimension::Type;
    switch (src.type)
    {
    case T::Unsigned8: return detail::convertTo<uint8_t>(src, dst, n, xform, scale, offset, bad);
    case T::Signed8: return detail::convertTo<int8_t>(src, dst, n, xform, scale, offset, bad);
    case T::Unsigned16: return detail::convertTo<uint16_t>(src, dst, n, xform, scale, offset, bad);
    case T::Signed16: return detail::convertTo<int16_t>(src, dst, n, xform, scale, offset, bad);
    case T::Unsigned32: return detail::convertTo<uint32_t>(src, dst, n, xform, scale, offset, bad);
    case T::Signed32: return detail::convertTo<int32_t>(src, dst, n, xform, scale, offset, bad);
    case T::Unsigned64: return detail::convertTo<uint64_t>(src, dst, n, xform, scale, offset, bad);
    case T::Signed64: return detail::convertTo<int64_t>(src, dst, n, xform, scale, offset, bad);
    case T::Float: return detail::convertTo<float>(src, dst, n, xform, scale, offset, bad);
    case T::Double: return detail::convertTo<double>(src, dst, n, xform, scale, offset, bad);
    default: *bad = 0; return false;
    }
}

// The standard LAS dimensions as PDAL names them and as copc delivers them. `copcType`
// is the type of the copc column; `pdalType` the type PDAL's LAS readers register.
// ScanAngleRank is degrees in PDAL and 0.006-degree steps in copc.
struct StdDim
{
    pdal::Dimension::Id id;
    int32_t copcDim;
    int32_t copcType;
    pdal::Dimension::Type pdalType;
};

inline const StdDim (&standardDims())[22]
{
    using D = pdal::Dimension::Id;
    using T = pdal::Dimension::Type;
    static const StdDim dims[22] = {
        {D::X, COPC_DIM_X, COPC_TYPE_DOUBLE, T::Double},
        {D::Y, COPC_DIM_Y, COPC_TYPE_DOUBLE, T::Double},
        {D::Z, COPC_DIM_Z, COPC_TYPE_DOUBLE, T::Double},
        {D::Intensity, COPC_DIM_INTENSITY, COPC_TYPE_UINT16, T::Unsigned16},
        {D::ReturnNumber, COPC_DIM_RETURN_NUMBER, COPC_TYPE_UINT8, T::Unsigned8},
        {D::NumberOfReturns, COPC_DIM_NUMBER_OF_RETURNS, COPC_TYPE_UINT8, T::Unsigned8},
        {D::ScanDirectionFlag, COPC_DIM_SCAN_DIRECTION_FLAG, COPC_TYPE_UINT8, T::Unsigned8},
        {D::EdgeOfFlightLine, COPC_DIM_EDGE_OF_FLIGHT_LINE, COPC_TYPE_UINT8, T::Unsigned8},
        {D::Classification, COPC_DIM_CLASSIFICATION, COPC_TYPE_UINT8, T::Unsigned8},
        {D::Synthetic, COPC_DIM_SYNTHETIC, COPC_TYPE_UINT8, T::Unsigned8},
        {D::KeyPoint, COPC_DIM_KEY_POINT, COPC_TYPE_UINT8, T::Unsigned8},
        {D::Withheld, COPC_DIM_WITHHELD, COPC_TYPE_UINT8, T::Unsigned8},
        {D::Overlap, COPC_DIM_OVERLAP, COPC_TYPE_UINT8, T::Unsigned8},
        {D::ScanChannel, COPC_DIM_SCANNER_CHANNEL, COPC_TYPE_UINT8, T::Unsigned8},
        {D::ScanAngleRank, COPC_DIM_SCAN_ANGLE, COPC_TYPE_INT16, T::Float},
        {D::UserData, COPC_DIM_USER_DATA, COPC_TYPE_UINT8, T::Unsigned8},
        {D::PointSourceId, COPC_DIM_POINT_SOURCE_ID, COPC_TYPE_UINT16, T::Unsigned16},
        {D::GpsTime, COPC_DIM_GPS_TIME, COPC_TYPE_DOUBLE, T::Double},
        {D::Red, COPC_DIM_RED, COPC_TYPE_UINT16, T::Unsigned16},
        {D::Green, COPC_DIM_GREEN, COPC_TYPE_UINT16, T::Unsigned16},
        {D::Blue, COPC_DIM_BLUE, COPC_TYPE_UINT16, T::Unsigned16},
        {D::Infrared, COPC_DIM_NIR, COPC_TYPE_UINT16, T::Unsigned16},
    };
    return dims;
}

constexpr double ScanAngleStep = 0.006;

// The raw row of point `id` in a table (layout->pointSize() bytes, each dimension at
// layout->dimOffset()). PDAL keeps BasePointTable::getPoint protected; its streaming
// API otherwise offers only one virtual setField/getField per dimension and point, so
// the stages reach the row through a member pointer formed in a derived class (plain
// C++: a protected member named through the derived class), one call per point.
struct RowAccess : pdal::BasePointTable
{
    static char *row(pdal::BasePointTable& t, pdal::PointId id)
    {
        char *(pdal::BasePointTable::*get)(pdal::PointId) = &RowAccess::getPoint;
        return (t.*get)(id);
    }
};

// PDAL's standard-mode table (ColumnPointTable) offers only one virtual setField/getField
// per point and dimension: no bulk access, and no way to learn which table rows a view's
// points are. Both exist as private members (pdal::BasePointTable::getDimension, the
// address of one value; pdal::PointView::tableId). They are named here through an explicit
// template instantiation, where C++ does not check access (C++17 [temp.explicit]):
// plain standard C++, and a compile error, not wrong data, if PDAL changes them.
struct GetDimensionTag
{
    using type = char *(pdal::BasePointTable::*)(const pdal::Dimension::Detail *, pdal::PointId);
    friend type member(GetDimensionTag);
};
struct TableIdTag
{
    using type = pdal::PointId (pdal::PointView::*)(pdal::PointId);
    friend type member(TableIdTag);
};
template <class Tag, typename Tag::type M>
struct Expose
{
    friend typename Tag::type member(Tag) { return M; }
};
template struct Expose<GetDimensionTag, &pdal::BasePointTable::getDimension>;
template struct Expose<TableIdTag, &pdal::PointView::tableId>;
// (Each plugin is one translation unit, so each library holds these instantiations once.)

// Whether view points first..first+len-1 are consecutive table rows, every one checked (a
// sorted or filtered view can have two ends that line up by chance); *row is the first.
inline bool consecutiveRows(pdal::PointView& view, pdal::PointId first, size_t len,
    pdal::PointId *row)
{
    const auto tableId = member(TableIdTag());
    const pdal::PointId t0 = (view.*tableId)(first);
    for (size_t k = 1; k < len; ++k)
        if ((view.*tableId)(first + k) != t0 + k)
            return false;
    *row = t0;
    return true;
}

// Where table rows row..row+len-1 of dimension `id` (values of `size` bytes) sit as one
// contiguous run of the table's memory (both ends `len - 1` values apart), or nullptr
// (then go value by value). The rows come from consecutiveRows.
inline char *columnRun(pdal::BasePointTable& table, pdal::Dimension::Id id, pdal::PointId row,
    size_t len, size_t size)
{
    const auto getDimension = member(GetDimensionTag());
    const pdal::Dimension::Detail *detail = table.layout()->dimDetail(id);
    char *a = (table.*getDimension)(detail, row);
    char *b = (table.*getDimension)(detail, row + len - 1);
    return a && b == a + (len - 1) * size ? a : nullptr;
}

// Points per bulk copy: PDAL 2.9.2's tables allocate 16384 (columns) or 65536 (rows)
// points per block, so a run this short spans at most two blocks, and two ends that
// sit (n - 1) values apart are one contiguous run (checked before every copy).
constexpr size_t CopyRun = 4096;

// Where each of `dims` sits in the stages' staging rows. Row tables (streaming, and
// RowPointTable) lay points out as rows with layout->dimOffset() byte offsets, so the
// staging rows take that layout and whole rows are copied (returns true). PDAL's
// standard-mode ColumnPointTable numbers its columns instead (offsets overlap): then
// the rows are packed here and fields go one by one (returns false).
inline bool stagingLayout(const pdal::PointLayout& layout,
    const std::vector<std::pair<pdal::Dimension::Id, pdal::Dimension::Type>>& dims,
    std::vector<size_t>& offsets, size_t& rowSize)
{
    std::vector<std::pair<size_t, size_t>> spans; // offset, size
    for (const auto& d : dims)
        spans.emplace_back(layout.dimOffset(d.first), pdal::Dimension::size(layout.dimType(d.first)));
    std::vector<std::pair<size_t, size_t>> sorted = spans;
    std::sort(sorted.begin(), sorted.end());
    bool rows = true;
    for (size_t i = 0; i < sorted.size(); ++i)
    {
        if (sorted[i].first + sorted[i].second > layout.pointSize() ||
            (i && sorted[i].first < sorted[i - 1].first + sorted[i - 1].second))
            rows = false;
    }
    offsets.clear();
    if (rows)
    {
        for (const auto& sp : spans)
            offsets.push_back(sp.first);
        rowSize = layout.pointSize();
        return true;
    }
    rowSize = 0;
    for (const auto& sp : spans)
    {
        offsets.push_back(rowSize);
        rowSize += sp.second;
    }
    return false;
}

inline std::string trim(const std::string& s)
{
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos)
        return "";
    size_t e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

} // namespace copcrs
