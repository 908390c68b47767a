// readers.copcrs (see CopcRsReader.hpp and pdal/README.md).
#include "CopcRsReader.hpp"

#include <pdal/PluginHelper.hpp>
#include <pdal/util/Utils.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace pdal
{

static PluginInfo const s_info {
    "readers.copcrs",
    "COPC reader on the copc (Rust) library: bounds, polygon, resolution and dimension "
    "selection pushed into the decoder, HTTP range merging.",
    "https://github.com/copc/copc/blob/main/pdal/README.md"
};

CREATE_SHARED_STAGE(CopcRsReader, s_info)

std::string CopcRsReader::getName() const { return s_info.name; }

CopcRsReader::CopcRsReader() = default;
// The decoding thread uses the iterator and the batches: it stops before they go.
CopcRsReader::~CopcRsReader()
{
    stopDecoding();
}

namespace
{
// The points decoded per library call: large enough that per-call costs vanish, small
// enough (a few MB of rows) that streaming memory stays flat.
constexpr point_count_t DefaultBatch = 65536;

std::string lower(std::string s)
{
    return Utils::tolower(s);
}

std::string fixedString(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        ++n;
    return std::string(s, n);
}
} // namespace

void CopcRsReader::fail(const std::string& what, copc_status s)
{
    throwError("'" + m_filename + "': " + what + ": " + copcrs::describe(s));
}

void CopcRsReader::addArgs(ProgramArgs& args)
{
    args.add("bounds", "Box to read: ([minx, maxx], [miny, maxy]) or with [minz, maxz]",
        m_bounds);
    // One string (a list would split the WKT at its commas): MULTIPOLYGON for several.
    args.add("polygon", "2-D polygon or multipolygon to read (WKT or GeoJSON)", m_polygon);
    args.add("resolution", "Read the octree levels down to this point spacing", m_resolution);
    args.add("requests", "HTTP requests in flight at once (default 10)", m_requests);
    args.add("threads", "Decoding threads (default: all cores)", m_threads);
    args.add("header", "HTTP header 'Name: value' sent with every request (a list)",
        m_headers);
    args.add("dims", "Dimensions to read and decode (default: all)", m_dimNames);
    args.add("batch", "Points decoded per call into the library", m_batch, DefaultBatch);
}

void CopcRsReader::openFile()
{
    copc_options *raw = nullptr;
    copc_status s = copc_options_new(&raw);
    if (s != COPC_STATUS_OK)
        fail("cannot create options", s);
    copcrs::OptionsPtr opts(raw);
    auto set = [&](const char *key, const std::string& value, const char *option) {
        copc_status st = copc_options_set(opts.get(), key, value.c_str());
        if (st != COPC_STATUS_OK)
            throwError("'" + m_filename + "': option '" + option + "' = '" + value +
                "' is not accepted: " + copcrs::describe(st));
    };
    if (m_threads < 0)
        throwError("'" + m_filename + "': option 'threads' must be >= 0, not " +
            std::to_string(m_threads));
    if (m_threads > 0)
        set("threads", std::to_string(m_threads), "threads");
    if (m_requests < 0)
        throwError("'" + m_filename + "': option 'requests' must be >= 1, not " +
            std::to_string(m_requests));
    if (m_requests > 0)
        set("requests", std::to_string(m_requests), "requests");
    for (const std::string& h : m_headers)
        set("http_header", h, "header");

    copc_reader *r = nullptr;
    s = copc_reader_open(m_filename.c_str(), opts.get(), &r);
    if (s != COPC_STATUS_OK)
        fail("cannot open as COPC", s);
    m_reader.reset(r);
    m_header = copc_header {};
    m_header.struct_size = sizeof(copc_header);
    s = copc_reader_header(m_reader.get(), &m_header);
    if (s != COPC_STATUS_OK)
        fail("cannot read the header", s);
}

// The dimensions the file stores, with PDAL's names and types (as readers.las and
// readers.copc register them), narrowed to the `dims` option.
void CopcRsReader::planDims()
{
    m_columns.clear();
    m_dims.clear();
    size_t n = 0;
    copc_status s = copc_reader_dims(m_reader.get(), nullptr, 0, &n);
    if (s != COPC_STATUS_OK)
        fail("cannot list the dimensions", s);
    std::vector<int32_t> ids(n);
    if (n)
    {
        s = copc_reader_dims(m_reader.get(), ids.data(), ids.size(), &n);
        if (s != COPC_STATUS_OK)
            fail("cannot list the dimensions", s);
    }

    for (int32_t cd : ids)
    {
        if (cd < COPC_DIM_EXTRA_BASE)
        {
            for (const copcrs::StdDim& sd : copcrs::standardDims())
            {
                if (sd.copcDim != cd)
                    continue;
                Column c;
                c.copcDim = cd;
                c.copcType = sd.copcType;
                c.size = static_cast<uint32_t>(Dimension::size(copcrs::pdalType(sd.copcType)));
                m_columns.push_back(std::move(c));
                Dim d;
                d.name = Dimension::name(sd.id);
                d.id = sd.id;
                d.type = sd.pdalType;
                d.column = m_columns.size() - 1;
                if (sd.id == Dimension::Id::ScanAngleRank)
                {
                    d.xform = true;
                    d.scale = copcrs::ScanAngleStep;
                }
                m_dims.push_back(d);
            }
            continue;
        }
        copc_extra_dim e {};
        e.struct_size = sizeof(copc_extra_dim);
        s = copc_reader_extra_dim(m_reader.get(), static_cast<size_t>(cd - COPC_DIM_EXTRA_BASE), &e);
        if (s != COPC_STATUS_OK)
            fail("cannot describe extra-bytes dimension " +
                std::to_string(cd - COPC_DIM_EXTRA_BASE), s);
        // Undocumented extra bytes (data type 0) have no type: PDAL's LAS readers skip them.
        if (e.data_type == 0 || e.count == 0)
            continue;
        Column c;
        c.copcDim = cd;
        c.copcType = e.value_type;
        c.size = e.size;
        m_columns.push_back(std::move(c));
        const std::string base = fixedString(e.name, sizeof(e.name));
        const uint32_t elemSize = e.size / e.count;
        for (uint32_t j = 0; j < e.count && j < 3; ++j)
        {
            Dim d;
            // Arrays (deprecated data types 11-30) become one dimension per element,
            // named as PDAL's LAS readers name them.
            d.name = Dimension::fixName(e.count == 1 ? base : base + std::to_string(j));
            d.column = m_columns.size() - 1;
            d.elementOffset = j * elemSize;
            d.scale = e.has_scale ? e.scale[j] : 1.0;
            d.offset = e.has_offset ? e.offset[j] : 0.0;
            d.xform = d.scale != 1.0 || d.offset != 0.0;
            d.type = d.xform ? Dimension::Type::Double : copcrs::pdalType(e.value_type);
            m_dims.push_back(d);
        }
    }

    if (m_dimNames.empty())
        return;
    std::vector<Dim> kept;
    for (const std::string& spec : m_dimNames)
    {
        const std::string want = copcrs::trim(spec);
        if (want.empty())
            continue;
        auto it = std::find_if(m_dims.begin(), m_dims.end(),
            [&](const Dim& d) { return lower(d.name) == lower(want); });
        if (it == m_dims.end())
        {
            std::string avail;
            for (const Dim& d : m_dims)
                avail += (avail.empty() ? "" : ", ") + d.name;
            throwError("'" + m_filename + "': option 'dims' names '" + want +
                "', which the file does not have (it has " + avail + ")");
        }
        if (std::none_of(kept.begin(), kept.end(),
                [&](const Dim& d) { return d.name == it->name; }))
            kept.push_back(*it);
    }
    m_dims = std::move(kept);
}

namespace
{
// Adds `name` to the stage metadata and to the private `lasforward` node that
// writers.las / writers.copc / writers.copcrs read for `forward`, marking it invalid
// when several inputs disagree (as PDAL's LAS readers do).
void forwardNode(MetadataNode& forward, MetadataNode n, const std::string& name)
{
    MetadataNode f = forward.findChild(name);
    if (!f.valid())
    {
        forward.add(n);
        return;
    }
    if (f.value<std::string>() != n.value<std::string>())
        forward.addOrUpdate(name + "INVALID", "");
}

template <class T>
void addForward(MetadataNode& forward, MetadataNode& m, const std::string& name, T val,
    const std::string& description)
{
    forwardNode(forward, m.add(name, val, description), name);
}

// Doubles with 15 digits, so scale and offset survive the text round trip.
void addForwardDouble(MetadataNode& forward, MetadataNode& m, const std::string& name,
    double val, const std::string& description)
{
    forwardNode(forward, m.add(name, val, description, 15), name);
}
} // namespace

void CopcRsReader::addHeaderMetadata(MetadataNode& forward)
{
    MetadataNode m = getMetadata();
    const copc_header& h = m_header;
    m.add("copc", true);
    MetadataNode info = m.add("copc_info");
    info.add("center_x", h.center[0]);
    info.add("center_y", h.center[1]);
    info.add("center_z", h.center[2]);
    info.add("halfsize", h.halfsize);
    info.add("spacing", h.spacing);
    info.add("root_hier_offset", h.root_hier_offset);
    info.add("root_hier_size", h.root_hier_size);
    info.add("gpstime_minimum", h.gpstime_min);
    info.add("gpstime_maximum", h.gpstime_max);
    if (h.draft)
        info.add("draft", true, "pre-1.0 draft file: center, halfsize and spacing derived");

    addForward(forward, m, "major_version", (int)h.version_major, "The major LAS version");
    addForward(forward, m, "minor_version", (int)h.version_minor, "The minor LAS version");
    addForward(forward, m, "dataformat_id", (int)h.point_format, "LAS Point Data Format");
    addForward(forward, m, "filesource_id", h.file_source_id, "File Source ID");
    uint16_t ge = h.global_encoding;
    m.addEncoded("global_encoding_base64", reinterpret_cast<const unsigned char *>(&ge),
        sizeof(ge), "Global Encoding: general property bit field.");
    addForward(forward, m, "global_encoding", h.global_encoding, "Global Encoding");
    addForward(forward, m, "system_id",
        fixedString(h.system_identifier, sizeof(h.system_identifier)), "Generating system ID.");
    addForward(forward, m, "software_id",
        fixedString(h.generating_software, sizeof(h.generating_software)),
        "Generating software description.");
    addForward(forward, m, "creation_doy", h.creation_day, "Day of year of creation");
    addForward(forward, m, "creation_year", h.creation_year, "Year of creation");
    addForwardDouble(forward, m, "scale_x", h.scale[0], "The scale factor for X values.");
    addForwardDouble(forward, m, "scale_y", h.scale[1], "The scale factor for Y values.");
    addForwardDouble(forward, m, "scale_z", h.scale[2], "The scale factor for Z values.");
    addForwardDouble(forward, m, "offset_x", h.offset[0], "The offset for X values.");
    addForwardDouble(forward, m, "offset_y", h.offset[1], "The offset for Y values.");
    addForwardDouble(forward, m, "offset_z", h.offset[2], "The offset for Z values.");
    m.add<bool>("compressed", true, "true if this LAS file is compressed");
    m.add("point_length", h.point_record_length, "The size, in bytes, of each point record.");
    m.add<double>("minx", h.min[0]);
    m.add<double>("miny", h.min[1]);
    m.add<double>("minz", h.min[2]);
    m.add<double>("maxx", h.max[0]);
    m.add<double>("maxy", h.max[1]);
    m.add<double>("maxz", h.max[2]);
    m.add<point_count_t>("count", h.point_count,
        "This field contains the total number of point records within the file.");

    // VLRs and EVLRs as readers.las shows them (vlr_N: data base64, user_id, record_id,
    // description), except the COPC and LAZ records and payloads over 1 MB.
    size_t nv = 0;
    copc_status s = copc_reader_vlr_count(m_reader.get(), &nv);
    if (s != COPC_STATUS_OK)
        fail("cannot count the VLRs", s);
    int shown = 0;
    std::vector<uint8_t> buf;
    for (size_t i = 0; i < nv; ++i)
    {
        copc_vlr v {};
        v.struct_size = sizeof(copc_vlr);
        s = copc_reader_vlr(m_reader.get(), i, &v);
        if (s != COPC_STATUS_OK)
            fail("cannot read VLR " + std::to_string(i), s);
        const std::string user = fixedString(v.user_id, sizeof(v.user_id));
        if (user == "copc" || user == "laszip encoded" || v.data_len > 1000000)
            continue;
        buf.resize(v.data_len);
        size_t len = 0;
        s = copc_reader_vlr_data(m_reader.get(), i, buf.data(), buf.size(), &len);
        if (s != COPC_STATUS_OK)
            fail("cannot read the payload of VLR " + user + "/" + std::to_string(v.record_id), s);
        MetadataNode n("vlr_" + std::to_string(shown++));
        const std::string desc = fixedString(v.description, sizeof(v.description));
        n.addEncoded("data", buf.data(), len, desc);
        n.add("user_id", user, "User ID of the record or pre-defined value from the specification.");
        n.add("record_id", v.record_id, "Record ID specified by the user.");
        n.add("description", desc);
        m.add(n);
        const bool noForward = user == "LASF_Projection" || user == "liblas" ||
            (user == "LASF_Spec" && v.record_id != 0 && v.record_id != 3);
        if (!noForward)
            forward.add(n);
    }
    m.add("header_size", 375, "The size, in bytes, of the header block.");
}

void CopcRsReader::initialize(PointTableRef table)
{
    openFile();
    planDims();
    MetadataNode forward = table.privateMetadata("lasforward");
    addHeaderMetadata(forward);

    const char *wkt = copc_reader_crs_wkt(m_reader.get());
    if (wkt)
        setSpatialReference(SpatialReference(wkt));
    else if (*copc_last_error_message())
        throwError("'" + m_filename + "': cannot read the CRS: " + copc_last_error_message());

    if (m_resolution < 0 || !std::isfinite(m_resolution))
        throwError("'" + m_filename + "': option 'resolution' must be a number > 0, not " +
            Utils::toString(m_resolution));
    if (m_bounds.valid() && m_bounds.spatialReference().valid())
        throwError("'" + m_filename + "': 'bounds' with a spatial reference is not supported: "
            "give the box in the file's coordinates");
    if (m_batch == 0)
        throwError("'" + m_filename + "': option 'batch' must be >= 1");
    // Fail on a bad polygon now, not when the pipeline runs.
    makeQuery(false);
}

void CopcRsReader::addDimensions(PointLayoutPtr layout)
{
    for (Dim& d : m_dims)
    {
        if (d.id != Dimension::Id::Unknown && Dimension::name(d.id) == d.name)
            layout->registerDim(d.id, d.type);
        else
            d.id = layout->registerOrAssignDim(d.name, d.type);
    }
}

copcrs::QueryPtr CopcRsReader::makeQuery(bool withDims)
{
    copc_query *raw = nullptr;
    copc_status s = copc_query_new(&raw);
    if (s != COPC_STATUS_OK)
        fail("cannot create a query", s);
    copcrs::QueryPtr q(raw);
    if (m_bounds.valid())
    {
        double lo[3], hi[3];
        if (m_bounds.is2d())
        {
            BOX2D b = m_bounds.to2d();
            lo[0] = b.minx; lo[1] = b.miny; lo[2] = -INFINITY;
            hi[0] = b.maxx; hi[1] = b.maxy; hi[2] = INFINITY;
        }
        else
        {
            BOX3D b = m_bounds.to3d();
            lo[0] = b.minx; lo[1] = b.miny; lo[2] = b.minz;
            hi[0] = b.maxx; hi[1] = b.maxy; hi[2] = b.maxz;
        }
        s = copc_query_set_bounds(q.get(), lo, hi);
        if (s != COPC_STATUS_OK)
            fail("option 'bounds' is not a valid box", s);
    }
    if (!m_polygon.empty())
    {
        s = copc_query_set_polygon(q.get(), m_polygon.c_str());
        if (s != COPC_STATUS_OK)
            fail("option 'polygon' is not a WKT or GeoJSON (multi)polygon", s);
    }
    if (m_resolution > 0)
    {
        s = copc_query_set_resolution(q.get(), m_resolution);
        if (s != COPC_STATUS_OK)
            fail("option 'resolution'", s);
    }
    if (withDims)
    {
        // Only the layers of the registered dimensions are decompressed.
        uint64_t mask = 0;
        for (const Dim& d : m_dims)
        {
            int32_t cd = m_columns[d.column].copcDim;
            mask |= cd >= COPC_DIM_EXTRA_BASE ? COPC_DIM_MASK_EXTRA : COPC_DIM_BIT(cd);
        }
        if (mask == 0)
            mask = COPC_DIM_BIT(COPC_DIM_X); // count-only pipelines still walk the points
        s = copc_query_set_dims(q.get(), mask);
        if (s != COPC_STATUS_OK)
            fail("cannot select the dimensions", s);
    }
    return q;
}

void CopcRsReader::ready(PointTableRef table)
{
    stopDecoding();
    m_table = &table;
    PointLayoutPtr layout = table.layout();
    std::vector<std::pair<Dimension::Id, Dimension::Type>> ids;
    for (const Dim& d : m_dims)
        ids.emplace_back(d.id, layout->dimType(d.id));
    std::vector<size_t> offsets;
    m_rowsMatchTable = copcrs::stagingLayout(*layout, ids, offsets, m_rowSize);
    // PDAL's own standard-mode table is columnar whatever offsets its layout shows.
    m_columnStage = !m_rowsMatchTable || dynamic_cast<ColumnPointTable *>(&table);

    // A column goes straight into the staging rows when one dimension uses it
    // unchanged and the layout kept the delivered type; otherwise through scratch and
    // a conversion.
    std::vector<int> users(m_columns.size(), 0);
    for (size_t i = 0; i < m_dims.size(); ++i)
    {
        Dim& d = m_dims[i];
        d.rowType = layout->dimType(d.id);
        if (m_columnStage)
        {
            // offsets[i] is where the dimension sits in a row (rows do not overlap):
            // times the batch, where its column sits in the buffer
            d.stageOffset = offsets[i] * m_batch;
            d.stageStride = Dimension::size(d.rowType);
        }
        else
        {
            d.stageOffset = offsets[i];
            d.stageStride = m_rowSize;
        }
        users[d.column]++;
    }
    for (Column& c : m_columns)
        c.direct = false;
    for (const Dim& d : m_dims)
    {
        Column& c = m_columns[d.column];
        c.direct = users[d.column] == 1 && !d.xform && d.elementOffset == 0 &&
            d.rowType == copcrs::pdalType(c.copcType) &&
            Dimension::size(d.rowType) == c.size;
    }

    // Three batches: one handed out, one decoded ahead, one being decoded.
    m_batches.clear();
    m_free.clear();
    m_filled.clear();
    for (int k = 0; k < 3; ++k)
    {
        auto b = std::make_unique<Batch>();
        b->stage.assign(m_batch * m_rowSize, 0);
        b->scratch.resize(m_columns.size());
        for (size_t i = 0; i < m_columns.size(); ++i)
        {
            Column& c = m_columns[i];
            if (!users[i])
                continue;
            copc_column col {};
            col.dim = c.copcDim;
            if (c.direct)
            {
                auto d = std::find_if(m_dims.begin(), m_dims.end(),
                    [&](const Dim& x) { return x.column == i; });
                col.data = b->stage.data() + d->stageOffset;
                col.stride = d->stageStride;
            }
            else
            {
                b->scratch[i].assign(m_batch * c.size, 0);
                col.data = b->scratch[i].data();
                col.stride = 0;
            }
            b->cols.push_back(col);
        }
        m_free.push_back(b.get());
        m_batches.push_back(std::move(b));
    }

    copcrs::QueryPtr q = makeQuery(true);
    copc_point_iter *it = nullptr;
    copc_status s = copc_reader_query_points(m_reader.get(), q.get(), &it);
    if (s != COPC_STATUS_OK)
        fail("cannot start reading the points", s);
    m_iter.reset(it);
    m_cur = nullptr;
    m_ended = false;
    m_have = m_next = 0;
    m_stop = false;
    m_decoder = std::thread([this] { decodeLoop(); });
}

// On the decoding thread: the next points into `b`, converted into the staging
// layout. Never throws: a failure goes into b.error for the pipeline's thread.
void CopcRsReader::decode(Batch& b)
{
    b.n = 0;
    b.error.clear();
    size_t n = 0;
    copc_status s = copc_point_iter_read(m_iter.get(), b.cols.data(), b.cols.size(), m_batch, &n);
    if (s != COPC_STATUS_OK)
    {
        b.error = "'" + m_filename + "': cannot read points: " + copcrs::describe(s);
        return;
    }
    for (const Dim& d : m_dims)
    {
        const Column& c = m_columns[d.column];
        if (c.direct)
            continue;
        copcrs::Strided src {copcrs::pdalType(c.copcType),
            b.scratch[d.column].data() + d.elementOffset, c.size};
        copcrs::Strided dst {d.rowType, b.stage.data() + d.stageOffset, d.stageStride};
        size_t bad = 0;
        if (!copcrs::convert(src, dst, n, d.xform, d.scale, d.offset, &bad))
        {
            b.error = "'" + m_filename + "': a value of dimension '" + d.name +
                "' does not fit the pipeline's type " + Dimension::interpretationName(d.rowType);
            return;
        }
    }
    b.n = n;
}

void CopcRsReader::decodeLoop()
{
    while (true)
    {
        Batch *b = nullptr;
        {
            std::unique_lock<std::mutex> l(m_mutex);
            m_cv.wait(l, [this] { return m_stop || !m_free.empty(); });
            if (m_stop)
                return;
            b = m_free.front();
            m_free.pop_front();
        }
        try
        {
            decode(*b);
        }
        catch (const std::exception& e)
        {
            b->n = 0;
            b->error = "'" + m_filename + "': cannot read points: " + e.what();
        }
        const bool last = b->n == 0 || !b->error.empty();
        {
            std::lock_guard<std::mutex> l(m_mutex);
            m_filled.push_back(b);
        }
        m_cv.notify_all();
        if (last)
            return;
    }
}

void CopcRsReader::stopDecoding()
{
    {
        std::lock_guard<std::mutex> l(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    if (m_decoder.joinable())
        m_decoder.join();
}

bool CopcRsReader::nextBatch()
{
    if (m_ended)
        return false;
    std::unique_lock<std::mutex> l(m_mutex);
    if (m_cur)
    {
        m_free.push_back(m_cur);
        m_cur = nullptr;
        m_cv.notify_all();
    }
    m_cv.wait(l, [this] { return !m_filled.empty(); });
    Batch *b = m_filled.front();
    m_filled.pop_front();
    l.unlock();
    m_have = m_next = 0;
    if (!b->error.empty() || b->n == 0)
    {
        m_ended = true;
        const std::string err = b->error;
        {
            std::lock_guard<std::mutex> g(m_mutex);
            m_free.push_back(b);
        }
        if (!err.empty())
            throwError(err);
        return false;
    }
    m_cur = b;
    m_have = b->n;
    return true;
}

// One point's fields, value k of the current batch, one setField each.
void CopcRsReader::setFields(PointView& view, PointId id, size_t k)
{
    const unsigned char *base = m_cur->stage.data();
    for (const Dim& d : m_dims)
        view.setField(d.id, d.rowType, id, base + d.stageOffset + k * d.stageStride);
}

// Values m_next.. of the current batch into view points first.. (already added), a
// column at a time, straight into the table's column blocks where they are one run.
void CopcRsReader::copyColumns(PointView& view, PointId first, size_t n)
{
    for (size_t p = 0; p < n; p += copcrs::CopyRun)
    {
        const size_t len = (std::min)(copcrs::CopyRun, n - p);
        const size_t k0 = m_next + p;
        PointId row = 0;
        const bool rows = copcrs::consecutiveRows(view, first + p, len, &row);
        for (const Dim& d : m_dims)
        {
            const size_t size = d.stageStride;
            const unsigned char *src = m_cur->stage.data() + d.stageOffset + k0 * size;
            if (char *a = rows ? copcrs::columnRun(view.table(), d.id, row, len, size) : nullptr)
                std::memcpy(a, src, len * size);
            else
                for (size_t k = 0; k < len; ++k)
                    view.setField(d.id, d.rowType, first + p + k, src + k * size);
        }
    }
}

point_count_t CopcRsReader::read(PointViewPtr view, point_count_t count)
{
    point_count_t done = 0;
    PointId id = view->size();
    while (done < count)
    {
        if (m_next == m_have && !nextBatch())
            break;
        size_t take = (std::min)(static_cast<size_t>(count - done), m_have - m_next);
        if (m_columnStage)
        {
            // PDAL adds points one at a time only; the values then go in by columns.
            for (size_t k = 0; k < take; ++k)
                view->getOrAddPoint(id + k);
            copyColumns(*view, id, take);
            id += take;
        }
        else
        {
            // Row tables take the whole row.
            const unsigned char *row = m_cur->stage.data() + m_next * m_rowSize;
            for (size_t k = 0; k < take; ++k, row += m_rowSize, ++id)
            {
                char *dst = view->getOrAddPoint(id);
                if (dst)
                    std::memcpy(dst, row, m_rowSize);
                else
                    setFields(*view, id, m_next + k);
            }
        }
        m_next += take;
        done += take;
    }
    return done;
}

bool CopcRsReader::processOne(PointRef& point)
{
    if (m_next == m_have && !nextBatch())
        return false;
    const unsigned char *base = m_cur->stage.data();
    char *dst = m_rowsMatchTable && !m_columnStage ?
        copcrs::RowAccess::row(*m_table, point.pointId()) : nullptr;
    if (dst)
        std::memcpy(dst, base + m_next * m_rowSize, m_rowSize);
    else
        for (const Dim& d : m_dims)
            point.setField(d.id, d.rowType, base + d.stageOffset + m_next * d.stageStride);
    ++m_next;
    return true;
}

void CopcRsReader::done(PointTableRef)
{
    stopDecoding();
    m_iter.reset();
    m_cur = nullptr;
    m_free.clear();
    m_filled.clear();
    m_batches.clear();
    m_reader.reset();
}

QuickInfo CopcRsReader::inspect()
{
    QuickInfo qi;
    PointTable t;
    initialize(t);
    qi.m_bounds = BOX3D(m_header.min[0], m_header.min[1], m_header.min[2],
        m_header.max[0], m_header.max[1], m_header.max[2]);
    qi.m_srs = getSpatialReference();
    qi.m_pointCount = m_header.point_count;
    PointLayout layout;
    addDimensions(&layout);
    for (Dimension::Id id : layout.dims())
        qi.m_dimNames.push_back(layout.dimName(id));
    // With a query the summary counts what it selects (exactly: only the nodes the
    // box cuts are decoded).
    if (m_bounds.valid() || !m_polygon.empty() || m_resolution > 0)
    {
        copcrs::QueryPtr q = makeQuery(false);
        uint64_t n = 0;
        copc_status s = copc_reader_count(m_reader.get(), q.get(), &n);
        if (s != COPC_STATUS_OK)
            fail("cannot count the selected points", s);
        qi.m_pointCount = n;
        if (m_bounds.valid())
            qi.m_bounds.clip(m_bounds.to3d());
    }
    qi.m_valid = true;
    m_reader.reset();
    return qi;
}

} // namespace pdal
