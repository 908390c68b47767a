// readers.copcrs: a PDAL reader of COPC files (local paths, http(s) URLs) built on the
// copc C API. Queries (bounds, polygon, resolution) and the dimension selection are
// pushed down into the library; points arrive in batches of columns.
#pragma once

#include <pdal/Reader.hpp>
#include <pdal/SrsBounds.hpp>
#include <pdal/Streamable.hpp>

#include "copcrs_common.hpp"

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
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
        // Set in ready(): the type the layout gave it, and where value k of a batch
        // sits in the staging buffer (offset + k * stride).
        Dimension::Type rowType = Dimension::Type::None;
        size_t stageOffset = 0;
        size_t stageStride = 0;
    };
    // One decoded batch: up to m_batch points in the staging layout, filled by the
    // decoding thread and handed out by the pipeline's thread.
    struct Batch
    {
        std::vector<unsigned char> stage;
        std::vector<std::vector<unsigned char>> scratch; // per m_columns entry, if converted
        std::vector<copc_column> cols;
        size_t n = 0;
        std::string error; // set when decoding failed: thrown when the batch is reached
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
    void decode(Batch& b); // runs on the decoding thread
    void decodeLoop();
    void stopDecoding();
    bool nextBatch(); // the next decoded batch into m_cur; false at the end
    void copyColumns(PointView& view, PointId first, size_t n);
    void setFields(PointView& view, PointId id, size_t k);
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
    size_t m_rowSize = 0;
    bool m_rowsMatchTable = false; // staging rows laid out as the table's rows
    // PDAL's columnar standard-mode table: the staging buffer holds one packed
    // column per dimension, copied into the table's column blocks run by run.
    bool m_columnStage = false;
    BasePointTable *m_table = nullptr;
    // Decoding runs one batch ahead on its own thread (the library decodes each
    // batch's nodes on `threads` more), so PDAL's single-threaded filling of the
    // table overlaps the decoding. Batches circulate between m_free and m_filled.
    std::vector<std::unique_ptr<Batch>> m_batches;
    std::deque<Batch *> m_free;
    std::deque<Batch *> m_filled;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stop = false;
    std::thread m_decoder;
    Batch *m_cur = nullptr; // the batch being handed out
    bool m_ended = false;
    size_t m_have = 0; // points in m_cur
    size_t m_next = 0; // next point of m_cur to hand out
};

} // namespace pdal
