// readers.copcrs: a PDAL reader of COPC files (local paths, http(s) URLs) built on the
// copc C API. Queries (bounds, polygon, resolution) and the dimension selection are
// pushed down into the library; points arrive in batches of columns.
#pragma once

#include <pdal/Reader.hpp>
#include <pdal/SrsBounds.hpp>
#include <pdal/Streamable.hpp>

#include "copcrs_common.hpp"

#include <vector>

namespace pdal
{

class PDAL_EXPORT CopcRsReader : public Reader, public Streamable
{
public:
    CopcRsReader();
    ~CopcRsReader() override;
    std::string getName() const override;

private:
    // One copc column the batch reads: straight into the staging rows when PDAL's
    // type is the delivered type, else into `scratch` for a conversion.
    struct Column
    {
        int32_t copcDim;
        int32_t copcType;
        uint32_t size; // bytes per point as delivered
        bool direct = false;
        std::vector<unsigned char> scratch;
    };
    // One PDAL dimension the stage registers, fed by element `element` of a column.
    struct Dim
    {
        std::string name;
        Dimension::Id id = Dimension::Id::Unknown;
        Dimension::Type type; // registered type
        size_t column;        // index in m_columns
        uint32_t elementOffset = 0;
        bool xform = false;
        double scale = 1.0;
        double offset = 0.0;
        // Set in ready(): where the value sits in PDAL's point row.
        Dimension::Type rowType = Dimension::Type::None;
        size_t rowOffset = 0;
    };

    void addArgs(ProgramArgs& args) override;
    void initialize(PointTableRef table) override;
    void addDimensions(PointLayoutPtr layout) override;
    void ready(PointTableRef table) override;
    point_count_t read(PointViewPtr view, point_count_t count) override;
    bool processOne(PointRef& point) override;
    void done(PointTableRef table) override;
    QuickInfo inspect() override;

    void openFile();
    void planDims();
    void addHeaderMetadata(MetadataNode& forward);
    copcrs::QueryPtr makeQuery(bool withDims);
    bool fill(); // the next batch into m_rows; false at the end
    void fail(const std::string& what, copc_status s);

    // options
    SrsBounds m_bounds;
    std::string m_polygon;
    double m_resolution = 0.0;
    int m_requests = 0;
    int m_threads = 0;
    std::vector<std::string> m_headers;
    std::vector<std::string> m_dimNames;
    point_count_t m_batch = 0;

    copcrs::ReaderPtr m_reader;
    copc_header m_header {};
    std::vector<Column> m_columns;
    std::vector<Dim> m_dims;

    // reading state
    copcrs::PointIterPtr m_iter;
    std::vector<copc_column> m_cols;
    std::vector<unsigned char> m_rows; // m_batch staging rows in PDAL's layout
    size_t m_rowSize = 0;
    bool m_rowsMatchTable = false; // staging rows laid out as the table's rows
    size_t m_have = 0; // rows filled in m_rows
    size_t m_next = 0; // next row to hand out
    BasePointTable *m_table = nullptr;
};

} // namespace pdal
