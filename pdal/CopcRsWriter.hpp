// writers.copcrs: a PDAL writer of COPC files built on the copc C API (copc_writer_*):
// the library builds the octree out of core within a memory budget, so the stage
// streams (points go to the library in batches of columns and are not kept here).
#pragma once

#include <pdal/Streamable.hpp>
#include <pdal/Writer.hpp>

#include "copcrs_common.hpp"

#include <vector>

namespace pdal
{

class PDAL_EXPORT CopcRsWriter : public Writer, public Streamable
{
public:
    CopcRsWriter();
    ~CopcRsWriter() override;
    std::string getName() const override;

private:
    // One column handed to copc_writer_add_points: PDAL's memory as it is, or converted.
    struct OutDim
    {
        std::string name;
        Dimension::Id id;
        Dimension::Type rowType;
        size_t rowOffset;
        int32_t copcDim;   // standard id, or the id copc_writer_add_extra_dim gave
        int32_t copcType;
        bool xform = false; // ScanAngleRank degrees -> 0.006-degree steps
        bool asIs = false;  // PDAL's type is the library's: handed over without a copy
        std::vector<unsigned char> column;
    };
    struct ExtraSpec
    {
        std::string name;
        Dimension::Type type; // None: the layout's
    };

    void addArgs(ProgramArgs& args) override;
    void initialize() override;
    void prepared(PointTableRef table) override;
    void ready(PointTableRef table) override;
    void write(const PointViewPtr view) override;
    bool processOne(PointRef& point) override;
    void spatialReferenceChanged(const SpatialReference& srs) override;
    void done(PointTableRef table) override;

    // A VLR from the reader's lasforward metadata, for copc_writer_add_vlr.
    struct ForwardVlr
    {
        std::string userId;
        uint16_t recordId;
        std::string description;
        std::vector<uint8_t> data;
    };

    void createWriter(const SpatialReference& srs);
    void flush();
    void addRun(PointView& view, PointId first, size_t len);
    void convertColumn(OutDim& d, const copcrs::Strided& src, size_t n);
    void addPoints(const std::vector<copc_column>& cols, size_t n);
    bool wantsForward(const std::string& name) const;
    bool forwardedValue(const MetadataNode& forward, const std::string& name,
        std::string& value) const;
    std::string forwarded(const MetadataNode& forward, const std::string& name) const;
    void resolveHeaderFields(const MetadataNode& forward);
    void collectForwardVlrs(const MetadataNode& forward);

    // options
    std::vector<std::string> m_forward;
    bool m_forwardSet = false;
    std::string m_scale[3];
    std::string m_offset[3];
    std::string m_aSrs;
    std::vector<std::string> m_extraDims;
    int m_threads = 0;
    std::string m_memoryLimit;
    std::string m_tempDir;
    int m_maxPointsPerNode = 0;
    int m_pointFormat = 0;
    point_count_t m_batch = 0;
    // header fields (HeaderFieldCount: filesource_id ... creation_year), as given; the
    // Arg says whether the option was given at all (an empty system_id is a value)
    static constexpr int HeaderFieldCount = 7;
    std::string m_header[HeaderFieldCount];
    Arg *m_headerArg[HeaderFieldCount] = {};

    // copc_options_set key/value pairs of the header fields, from the options, else
    // the input (forward), else PDAL's writers' defaults
    struct HeaderOpt
    {
        std::string key;
        std::string value;
        bool forwarded;
    };
    std::vector<HeaderOpt> m_headerOpts;
    std::vector<ForwardVlr> m_forwardVlrs;

    int m_format = 6;
    std::vector<ExtraSpec> m_extraSpecs;
    std::vector<OutDim> m_dims;
    std::string m_scaleOpt;  // "X,Y,Z" for copc_options_set, "" for the library default
    std::string m_offsetOpt; // "X,Y,Z", "auto" or ""
    SpatialReference m_srs;
    bool m_srsSeen = false;

    copcrs::WriterPtr m_writer;
    BasePointTable *m_table = nullptr;
    std::vector<unsigned char> m_rows; // m_batch rows copied from PDAL
    size_t m_rowSize = 0;
    bool m_rowsMatchTable = false; // staging rows laid out as the table's rows
    size_t m_have = 0;
    point_count_t m_written = 0;
};

} // namespace pdal
