// writers.copcrs (see CopcRsWriter.hpp and pdal/README.md).
#include "CopcRsWriter.hpp"

#include <pdal/PluginHelper.hpp>
#include <pdal/util/Utils.hpp>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <set>

namespace pdal
{

static PluginInfo const s_info {
    "writers.copcrs",
    "COPC writer on the copc (Rust) library: out-of-core octree within a memory budget, "
    "parallel LAZ compression, streaming.",
    "https://github.com/copc/copc/blob/main/pdal/README.md"
};

CREATE_SHARED_STAGE(CopcRsWriter, s_info)

std::string CopcRsWriter::getName() const { return s_info.name; }

CopcRsWriter::CopcRsWriter() = default;
CopcRsWriter::~CopcRsWriter() = default;

namespace
{
constexpr point_count_t DefaultBatch = 65536;

// The header fields, named as PDAL's writers.las / writers.copc options and the
// lasforward metadata, which are also the copc_options_set keys.
const char *const HeaderFields[] = {"filesource_id", "global_encoding", "project_id",
    "system_id", "software_id", "creation_doy", "creation_year"};

// Global-encoding bits a COPC file may carry: GPS time type (0) and WKT (4, always set).
constexpr unsigned CopcGlobalEncodingBits = 0x11;

bool isStandard(Dimension::Id id, int format)
{
    using D = Dimension::Id;
    if (id == D::Red || id == D::Green || id == D::Blue)
        return format >= 7;
    if (id == D::Infrared)
        return format == 8;
    for (const copcrs::StdDim& s : copcrs::standardDims())
        if (s.id == id)
            return true;
    return false;
}

bool parseNumber(const std::string& s, double& out)
{
    try
    {
        size_t pos = 0;
        out = std::stod(s, &pos);
        return pos == s.size() && std::isfinite(out);
    }
    catch (...)
    {
        return false;
    }
}
} // namespace

void CopcRsWriter::addArgs(ProgramArgs& args)
{
    args.add("forward", "Header fields to take from the LAS/COPC input: all, header, scale, "
        "offset, format, or field names (default: scale,offset)", m_forward);
    args.add("scale_x", "X scale factor (default: the input's, else 0.001)", m_scale[0]);
    args.add("scale_y", "Y scale factor", m_scale[1]);
    args.add("scale_z", "Z scale factor", m_scale[2]);
    args.add("offset_x", "X offset, or 'auto' (default: the input's, else auto)", m_offset[0]);
    args.add("offset_y", "Y offset, or 'auto'", m_offset[1]);
    args.add("offset_z", "Z offset, or 'auto'", m_offset[2]);
    args.add("a_srs", "Output CRS (WKT or EPSG:n), overriding the pipeline's", m_aSrs);
    args.add("extra_dims", "Dimensions to write as extra bytes: 'all' (default), 'none', or "
        "a list of Name or Name=type", m_extraDims);
    args.add("threads", "Threads for building and compressing (default: all cores)", m_threads);
    args.add("memory_limit", "Memory for points, e.g. 512M or 2G (default: half the RAM); "
        "beyond it points spill to temp_dir", m_memoryLimit);
    args.add("temp_dir", "Folder for spill files (default: the system temp folder)", m_tempDir);
    args.add("max_points_per_node", "Most points in an octree node (default 100000)",
        m_maxPointsPerNode);
    args.add("dataformat_id", "Point format 6, 7 (RGB) or 8 (RGB, NIR) (default: from the "
        "dimensions)", m_pointFormat);
    args.add("batch", "Points handed to the library per call", m_batch, DefaultBatch);
    static const char *const help[] = {
        "File source ID number (default: forwarded, else 0)",
        "Global encoding: 0 or 1 (GPS time type; the WKT bit 16 is always set) "
            "(default: forwarded, else 1)",
        "Project ID (GUID) xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (default: forwarded, else 0)",
        "System ID, up to 32 bytes (default: forwarded, else PDAL)",
        "Software ID, up to 32 bytes (default: forwarded, else copc <version>)",
        "Creation day of year, 1-366 (default: forwarded, else today, GMT)",
        "Creation year (default: forwarded, else this year, GMT)"};
    for (int i = 0; i < HeaderFieldCount; ++i)
        m_headerArg[i] = &args.add(HeaderFields[i], help[i], m_header[i]);
}

void CopcRsWriter::initialize()
{
    const std::string f = filename();
    if (m_pointFormat != 0 && (m_pointFormat < 6 || m_pointFormat > 8))
        throwError("'" + f + "': option 'dataformat_id' must be 6, 7 or 8, not " +
            std::to_string(m_pointFormat));
    if (m_threads < 0)
        throwError("'" + f + "': option 'threads' must be >= 0");
    if (m_maxPointsPerNode < 0)
        throwError("'" + f + "': option 'max_points_per_node' must be >= 1");
    if (m_batch == 0)
        throwError("'" + f + "': option 'batch' must be >= 1");
    for (int i = 0; i < 3; ++i)
    {
        double v;
        if (!m_scale[i].empty() && !(parseNumber(m_scale[i], v) && v > 0))
            throwError("'" + f + "': option 'scale_" + "xyz"[i] + "' must be a number > 0, not '" +
                m_scale[i] + "'");
        if (!m_offset[i].empty() && m_offset[i] != "auto" && !parseNumber(m_offset[i], v))
            throwError("'" + f + "': option 'offset_" + "xyz"[i] + "' must be a number or "
                "'auto', not '" + m_offset[i] + "'");
    }
    m_forwardSet = !m_forward.empty();
    if (!m_forwardSet)
        m_forward = {"scale", "offset"};
    static const std::set<std::string> known {"all", "header", "scale", "offset", "format",
        "vlr", "dataformat_id", "major_version", "minor_version", "filesource_id",
        "global_encoding", "project_id", "system_id", "software_id", "creation_doy",
        "creation_year", "scale_x", "scale_y", "scale_z", "offset_x", "offset_y", "offset_z"};
    for (const std::string& name : m_forward)
        if (!known.count(name))
            throwError("'" + f + "': option 'forward': unknown field '" + name + "'");

    // Header field values are checked now (by the library), before any point is read.
    copc_options *raw = nullptr;
    if (copc_options_new(&raw) != COPC_STATUS_OK)
        throwError("'" + f + "': cannot create options");
    copcrs::OptionsPtr probe(raw);
    for (int i = 0; i < HeaderFieldCount; ++i)
        if (m_headerArg[i]->set())
        {
            copc_status st = copc_options_set(probe.get(), HeaderFields[i], m_header[i].c_str());
            if (st != COPC_STATUS_OK)
                throwError("'" + f + "': option '" + HeaderFields[i] + "' = '" + m_header[i] +
                    "' is not accepted: " + copcrs::describe(st));
        }

    m_extraSpecs.clear();
    bool all = m_extraDims.empty();
    for (const std::string& spec : m_extraDims)
    {
        std::string s = copcrs::trim(spec);
        if (s == "all")
        {
            all = true;
            continue;
        }
        if (s == "none" || s.empty())
            continue;
        ExtraSpec e;
        auto eq = s.find('=');
        e.name = copcrs::trim(s.substr(0, eq));
        e.type = Dimension::Type::None;
        if (eq != std::string::npos)
        {
            e.type = Dimension::type(copcrs::trim(s.substr(eq + 1)));
            if (e.type == Dimension::Type::None)
                throwError("'" + f + "': option 'extra_dims': unknown type in '" + s + "'");
        }
        m_extraSpecs.push_back(e);
    }
    if (all && !m_extraSpecs.empty())
        throwError("'" + f + "': option 'extra_dims': give 'all' or a list, not both");
    if (all)
        m_extraSpecs.push_back(ExtraSpec {"all", Dimension::Type::None});
}

void CopcRsWriter::prepared(PointTableRef table)
{
    const std::string f = filename();
    PointLayoutPtr layout = table.layout();
    using D = Dimension::Id;
    if (m_pointFormat)
        m_format = m_pointFormat;
    else if (layout->hasDim(D::Infrared))
        m_format = 8;
    else if (layout->hasDim(D::Red) || layout->hasDim(D::Green) || layout->hasDim(D::Blue))
        m_format = 7;
    else
        m_format = 6;
    for (D need : {D::X, D::Y, D::Z})
        if (!layout->hasDim(need))
            throwError("'" + f + "': the points have no " + Dimension::name(need) + " dimension");

    m_dims.clear();
    for (const copcrs::StdDim& s : copcrs::standardDims())
    {
        if (!layout->hasDim(s.id) || !isStandard(s.id, m_format))
            continue;
        OutDim d;
        d.name = Dimension::name(s.id);
        d.id = s.id;
        d.copcDim = s.copcDim;
        d.copcType = s.copcType;
        d.xform = s.id == D::ScanAngleRank;
        m_dims.push_back(std::move(d));
    }

    std::vector<ExtraSpec> extras;
    if (m_extraSpecs.size() == 1 && m_extraSpecs[0].name == "all")
    {
        for (D id : layout->dims())
            if (!isStandard(id, m_format))
                extras.push_back(ExtraSpec {layout->dimName(id), Dimension::Type::None});
    }
    else
        extras = m_extraSpecs;
    for (const ExtraSpec& e : extras)
    {
        D id = layout->findDim(e.name);
        if (id == D::Unknown)
            throwError("'" + f + "': dimension '" + e.name + "' of option 'extra_dims' is not "
                "in the points");
        if (isStandard(id, m_format))
            throwError("'" + f + "': dimension '" + e.name + "' of option 'extra_dims' is a "
                "standard dimension of point format " + std::to_string(m_format));
        OutDim d;
        d.name = layout->dimName(id);
        if (d.name.size() > 32)
            throwError("'" + f + "': dimension name '" + d.name + "' is longer than the 32 "
                "bytes an extra-bytes name can hold");
        d.id = id;
        d.copcDim = -1; // given by copc_writer_add_extra_dim
        Dimension::Type t = e.type == Dimension::Type::None ? layout->dimType(id) : e.type;
        d.copcType = copcrs::copcType(t);
        if (!d.copcType)
            throwError("'" + f + "': dimension '" + d.name + "' has no numeric type");
        m_dims.push_back(std::move(d));
    }
}

bool CopcRsWriter::wantsForward(const std::string& name) const
{
    auto wanted = [&](const std::string& group) {
        return std::find(m_forward.begin(), m_forward.end(), group) != m_forward.end();
    };
    const bool isScale = name.rfind("scale_", 0) == 0;
    const bool isOffset = name.rfind("offset_", 0) == 0;
    const bool isHeader = std::find(std::begin(HeaderFields), std::end(HeaderFields), name) !=
        std::end(HeaderFields);
    return wanted(name) || wanted("all") || (isScale && wanted("scale")) ||
        (isOffset && wanted("offset")) || (isHeader && wanted("header"));
}

// The input's value of a header field when `forward` asks for it and the inputs agree
// on it (as writers.copc takes it); false otherwise (an empty string is a value).
bool CopcRsWriter::forwardedValue(const MetadataNode& forward, const std::string& name,
    std::string& value) const
{
    if (!wantsForward(name))
        return false;
    if (forward.findChild(name + "INVALID").valid())
    {
        log()->get(LogLevel::Info) << getName() << ": the inputs disagree on " << name <<
            ", not forwarded" << std::endl;
        return false;
    }
    MetadataNode n = forward.findChild(name);
    if (!n.valid())
        return false;
    value = n.value();
    return true;
}

std::string CopcRsWriter::forwarded(const MetadataNode& forward, const std::string& name) const
{
    std::string v;
    return forwardedValue(forward, name, v) ? v : std::string();
}

// Each header field from its option, else from the input (forward), else the default
// of PDAL's writers (system id PDAL, created today); the software id defaults to the
// library's ("copc <version>").
void CopcRsWriter::resolveHeaderFields(const MetadataNode& forward)
{
    std::time_t now = std::time(nullptr);
    std::tm gmt {};
    const bool haveDate = gmtime_r(&now, &gmt) != nullptr;
    m_headerOpts.clear();
    for (int i = 0; i < HeaderFieldCount; ++i)
    {
        const std::string name = HeaderFields[i];
        std::string value;
        bool fwd = false;
        if (m_headerArg[i]->set())
            value = m_header[i];
        else if ((fwd = forwardedValue(forward, name, value)))
        {
            if (name == "global_encoding")
            {
                unsigned long g = 0;
                try
                {
                    g = std::stoul(value);
                }
                catch (...)
                {
                    log()->get(LogLevel::Warning) << getName() << ": forwarded global_encoding '"
                        << value << "' is not a number, not forwarded" << std::endl;
                    continue;
                }
                if (g & ~CopcGlobalEncodingBits)
                    log()->get(LogLevel::Info) << getName() << ": global_encoding " << g <<
                        " forwarded as " << (g & CopcGlobalEncodingBits) << " (a COPC file "
                        "keeps only the GPS time bit and the WKT bit)" << std::endl;
                value = std::to_string(g & CopcGlobalEncodingBits);
            }
        }
        else if (name == "system_id")
            value = "PDAL";
        else if (name == "creation_doy" && haveDate)
            value = std::to_string(gmt.tm_yday + 1);
        else if (name == "creation_year" && haveDate)
            value = std::to_string(gmt.tm_year + 1900);
        else
            continue;
        m_headerOpts.push_back(HeaderOpt {name, value, fwd});
    }
    for (const std::string& name : m_forward)
        if (name == "major_version" || name == "minor_version")
            log()->get(LogLevel::Info) << getName() << ": " << name << " is not forwarded "
                "(COPC files are LAS 1.4)" << std::endl;
}

// The VLRs of the reader's lasforward metadata (vlr_N nodes: user_id, record_id,
// description, base64 data) when forward asks for them. The readers leave out the
// CRS, LAZ and most LASF_Spec records; the library refuses the others it writes
// itself (COPC, extra bytes), which are then left out with a message.
void CopcRsWriter::collectForwardVlrs(const MetadataNode& forward)
{
    m_forwardVlrs.clear();
    const bool wanted = std::find(m_forward.begin(), m_forward.end(), "vlr") != m_forward.end() ||
        std::find(m_forward.begin(), m_forward.end(), "all") != m_forward.end();
    if (!wanted)
        return;
    for (const MetadataNode& n : forward.children())
    {
        if (n.name().rfind("vlr_", 0) != 0)
            continue;
        MetadataNode user = n.findChild("user_id");
        MetadataNode record = n.findChild("record_id");
        if (!user.valid() || !record.valid())
            continue;
        ForwardVlr v;
        v.userId = user.value();
        try
        {
            unsigned long id = std::stoul(record.value());
            if (id > 65535)
                throw std::out_of_range("record_id");
            v.recordId = (uint16_t)id;
        }
        catch (...)
        {
            log()->get(LogLevel::Warning) << getName() << ": forwarded VLR " << v.userId <<
                " has record_id '" << record.value() << "', not forwarded" << std::endl;
            continue;
        }
        v.description = n.findChild("description").value();
        v.data = Utils::base64_decode(n.findChild("data").value());
        m_forwardVlrs.push_back(std::move(v));
    }
}

void CopcRsWriter::ready(PointTableRef table)
{
    m_table = &table;
    PointLayoutPtr layout = table.layout();
    std::vector<std::pair<Dimension::Id, Dimension::Type>> ids;
    for (const OutDim& d : m_dims)
        ids.emplace_back(d.id, layout->dimType(d.id));
    std::vector<size_t> offsets;
    m_rowsMatchTable = copcrs::stagingLayout(*layout, ids, offsets, m_rowSize);
    for (size_t i = 0; i < m_dims.size(); ++i)
    {
        OutDim& d = m_dims[i];
        d.rowType = layout->dimType(d.id);
        d.rowOffset = offsets[i];
        d.asIs = !d.xform && d.rowType == copcrs::pdalType(d.copcType);
        d.column.assign(m_batch * Dimension::size(copcrs::pdalType(d.copcType)), 0);
    }
    m_rows.assign(m_batch * m_rowSize, 0);
    m_have = 0;
    m_written = 0;

    // Scale and offset: the options, else the input's (forward), else the library's
    // defaults (0.001, centre of the first points).
    MetadataNode forward = table.privateMetadata("lasforward");
    std::string scale[3], offset[3];
    for (int i = 0; i < 3; ++i)
    {
        const std::string axis(1, "xyz"[i]);
        scale[i] = !m_scale[i].empty() ? m_scale[i] : forwarded(forward, "scale_" + axis);
        offset[i] = !m_offset[i].empty() ? m_offset[i] : forwarded(forward, "offset_" + axis);
    }
    m_scaleOpt.clear();
    if (!scale[0].empty() || !scale[1].empty() || !scale[2].empty())
    {
        for (int i = 0; i < 3; ++i)
            m_scaleOpt += (i ? "," : "") + (scale[i].empty() ? std::string("0.001") : scale[i]);
    }
    m_offsetOpt.clear();
    const int autos = (int)std::count(offset, offset + 3, std::string("auto"));
    const int empties = (int)std::count(offset, offset + 3, std::string());
    if (autos == 3)
        m_offsetOpt = "auto";
    else if (autos > 0 && autos + empties < 3)
        throwError("'" + filename() + "': offset 'auto' must be given for all three axes "
            "or none");
    else if (autos == 0 && empties == 0)
        m_offsetOpt = offset[0] + "," + offset[1] + "," + offset[2];
    else if (empties < 3)
        log()->get(LogLevel::Info) << getName() << ": offset known for only some axes, "
            "using the library's (centre of the first points)" << std::endl;

    resolveHeaderFields(forward);
    collectForwardVlrs(forward);
}

void CopcRsWriter::createWriter(const SpatialReference& srs)
{
    const std::string f = filename();
    copc_options *raw = nullptr;
    copc_status s = copc_options_new(&raw);
    if (s != COPC_STATUS_OK)
        throwError("'" + f + "': cannot create options: " + copcrs::describe(s));
    copcrs::OptionsPtr opts(raw);
    auto set = [&](const char *key, const std::string& value, const char *option) {
        copc_status st = copc_options_set(opts.get(), key, value.c_str());
        if (st != COPC_STATUS_OK)
            throwError("'" + f + "': option '" + option + "' = '" + value + "' is not "
                "accepted: " + copcrs::describe(st));
    };
    set("point_format", std::to_string(m_format), "dataformat_id");
    if (m_threads > 0)
        set("threads", std::to_string(m_threads), "threads");
    if (!m_memoryLimit.empty())
        set("memory_limit", m_memoryLimit, "memory_limit");
    if (!m_tempDir.empty())
        set("temp_dir", m_tempDir, "temp_dir");
    if (m_maxPointsPerNode > 0)
        set("max_points_per_node", std::to_string(m_maxPointsPerNode), "max_points_per_node");
    if (!m_scaleOpt.empty())
        set("scale", m_scaleOpt, "scale_x/y/z");
    if (!m_offsetOpt.empty())
        set("offset", m_offsetOpt, "offset_x/y/z");
    for (const HeaderOpt& h : m_headerOpts)
    {
        if (!h.forwarded)
        {
            set(h.key.c_str(), h.value, h.key.c_str());
            continue;
        }
        // a value of the input the file cannot hold is left out, as writers.copc does
        copc_status st = copc_options_set(opts.get(), h.key.c_str(), h.value.c_str());
        if (st != COPC_STATUS_OK)
            log()->get(LogLevel::Warning) << getName() << ": forwarded " << h.key << " '" <<
                h.value << "' not used: " << copcrs::describe(st) << std::endl;
    }
    if (!m_aSrs.empty())
        set("a_srs", m_aSrs, "a_srs");
    else if (!srs.empty())
    {
        const std::string wkt = srs.getWKT();
        if (!wkt.empty())
            set("a_srs", wkt, "the pipeline's spatial reference");
    }

    copc_writer *w = nullptr;
    s = copc_writer_create(f.c_str(), opts.get(), &w);
    if (s != COPC_STATUS_OK)
        throwError("'" + f + "': cannot create the COPC file: " + copcrs::describe(s));
    m_writer.reset(w);
    for (const ForwardVlr& v : m_forwardVlrs)
    {
        s = copc_writer_add_vlr(m_writer.get(), v.userId.c_str(), v.recordId,
            v.description.c_str(), v.data.data(), v.data.size(), 0);
        if (s == COPC_STATUS_INVALID_ARGUMENT)
            log()->get(LogLevel::Info) << getName() << ": VLR " << v.userId << "/" <<
                v.recordId << " not forwarded: " << copc_last_error_message() << std::endl;
        else if (s != COPC_STATUS_OK)
            throwError("'" + f + "': cannot forward VLR " + v.userId + "/" +
                std::to_string(v.recordId) + ": " + copcrs::describe(s));
    }
    for (OutDim& d : m_dims)
    {
        if (d.copcDim >= 0)
            continue;
        int32_t id = 0;
        s = copc_writer_add_extra_dim(m_writer.get(), d.name.c_str(), d.copcType, nullptr, &id);
        if (s != COPC_STATUS_OK)
            throwError("'" + f + "': cannot declare extra dimension '" + d.name + "': " +
                copcrs::describe(s));
        d.copcDim = id;
        log()->get(LogLevel::Info) << getName() << ": writing dimension " << d.name << " (" <<
            Dimension::interpretationName(copcrs::pdalType(d.copcType)) << ") as extra bytes" <<
            std::endl;
    }
}

// Converts n values of `src` into the dimension's column buffer; a value that does not
// fit fails the pipeline naming the point and the dimension.
void CopcRsWriter::convertColumn(OutDim& d, const copcrs::Strided& src, size_t n)
{
    const Dimension::Type out = copcrs::pdalType(d.copcType);
    copcrs::Strided dst {out, d.column.data(), Dimension::size(out)};
    size_t bad = 0;
    if (copcrs::convert(src, dst, n, d.xform, 1.0 / copcrs::ScanAngleStep, 0.0, &bad))
        return;
    double v = 0;
    copcrs::Strided one {Dimension::Type::Double, reinterpret_cast<unsigned char *>(&v), sizeof v};
    copcrs::convert(copcrs::Strided {d.rowType, src.data + bad * src.stride, src.stride}, one, 1);
    throwError("'" + filename() + "': point " + std::to_string(m_written + bad) + ": " + d.name +
        " = " + Utils::toString(v) + " does not fit " + Dimension::interpretationName(out) +
        (d.xform ? " (0.006-degree steps)" : ""));
}

void CopcRsWriter::addPoints(const std::vector<copc_column>& cols, size_t n)
{
    copc_status s = copc_writer_add_points(m_writer.get(), cols.data(), cols.size(), n);
    if (s != COPC_STATUS_OK)
        throwError("'" + filename() + "': cannot add points " + std::to_string(m_written) +
            ".." + std::to_string(m_written + n) + ": " + copcrs::describe(s));
    m_written += n;
}

// The staging rows to the library: columns in the library's type are passed strided in
// place, the others converted first.
void CopcRsWriter::flush()
{
    if (!m_have)
        return;
    std::vector<copc_column> cols;
    cols.reserve(m_dims.size());
    for (OutDim& d : m_dims)
    {
        unsigned char *at = m_rows.data() + d.rowOffset;
        if (d.asIs)
        {
            cols.push_back(copc_column {d.copcDim, at, m_rowSize});
            continue;
        }
        convertColumn(d, copcrs::Strided {d.rowType, at, m_rowSize}, m_have);
        cols.push_back(copc_column {d.copcDim, d.column.data(), 0});
    }
    addPoints(cols, m_have);
    m_have = 0;
}

void CopcRsWriter::write(const PointViewPtr view)
{
    if (!m_writer)
        createWriter(view->spatialReference());
    flush();
    const PointId n = view->size();
    for (PointId i = 0; i < n;)
    {
        const size_t len = (std::min)({copcrs::CopyRun, size_t(m_batch), size_t(n - i)});
        if (m_rowsMatchTable)
        {
            // row tables give whole rows
            for (size_t k = 0; k < len; ++k)
                std::memcpy(m_rows.data() + k * m_rowSize, view->getPoint(i + k), m_rowSize);
            m_have = len;
            flush();
        }
        else
            addRun(*view, i, len);
        i += len;
    }
}

// View points first..first+len of PDAL's columnar standard-mode table, without staging
// rows: a column that is one run of table memory in the library's type goes to the
// library as it is (most LAS dimensions: no copy at all); the others are read from their
// run, or value by value where the run is split, and converted.
void CopcRsWriter::addRun(PointView& view, PointId first, size_t len)
{
    std::vector<copc_column> cols;
    cols.reserve(m_dims.size());
    PointId row = 0;
    const bool rows = copcrs::consecutiveRows(view, first, len, &row);
    for (OutDim& d : m_dims)
    {
        const size_t size = Dimension::size(d.rowType);
        auto *run = !rows ? nullptr
            : reinterpret_cast<unsigned char *>(copcrs::columnRun(view.table(), d.id, row, len, size));
        if (run && d.asIs)
        {
            cols.push_back(copc_column {d.copcDim, run, 0});
            continue;
        }
        if (!run && d.asIs)
        {
            for (size_t k = 0; k < len; ++k)
                view.getField(reinterpret_cast<char *>(d.column.data() + k * size), d.id,
                    d.rowType, first + k);
            cols.push_back(copc_column {d.copcDim, d.column.data(), 0});
            continue;
        }
        if (!run)
        {
            // packed into the staging buffer, which holds m_batch rows of at least this size
            run = m_rows.data();
            for (size_t k = 0; k < len; ++k)
                view.getField(reinterpret_cast<char *>(run + k * size), d.id, d.rowType, first + k);
        }
        convertColumn(d, copcrs::Strided {d.rowType, run, size}, len);
        cols.push_back(copc_column {d.copcDim, d.column.data(), 0});
    }
    addPoints(cols, len);
}

void CopcRsWriter::spatialReferenceChanged(const SpatialReference& srs)
{
    // The CRS goes into the file when it is created, before the first point.
    if (m_srsSeen && srs != m_srs && m_writer)
        log()->get(LogLevel::Warning) << getName() << ": the spatial reference changed "
            "mid-stream; the file keeps the first one" << std::endl;
    if (!m_srsSeen)
        m_srs = srs;
    m_srsSeen = true;
}

bool CopcRsWriter::processOne(PointRef& point)
{
    if (!m_writer)
        createWriter(m_srs);
    unsigned char *row = m_rows.data() + m_have * m_rowSize;
    const char *src = m_rowsMatchTable ? copcrs::RowAccess::row(*m_table, point.pointId()) : nullptr;
    if (src)
        std::memcpy(row, src, m_rowSize);
    else
        for (const OutDim& d : m_dims)
            point.getField(reinterpret_cast<char *>(row + d.rowOffset), d.id, d.rowType);
    if (++m_have == m_batch)
        flush();
    return true;
}

void CopcRsWriter::done(PointTableRef)
{
    if (!m_writer)
        createWriter(m_srs);
    flush();
    copc_status s = copc_writer_close(m_writer.get());
    if (s != COPC_STATUS_OK)
        throwError("'" + filename() + "': cannot write the COPC file: " + copcrs::describe(s));
    m_writer.reset();
    m_rows = std::vector<unsigned char>();
    for (OutDim& d : m_dims)
        d.column = std::vector<unsigned char>();
    log()->get(LogLevel::Info) << getName() << ": wrote " << m_written << " points to " <<
        filename() << std::endl;
}

} // namespace pdal
