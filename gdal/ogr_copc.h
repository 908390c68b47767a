// OGR driver for COPC (Cloud Optimized Point Cloud) files, built only on the public
// C API of the copc library (copc.h). Reading: one Point Z layer whose spatial
// filter, ignored fields and open options become a copc query. Writing: features
// become points through copc_writer_*.
#ifndef OGR_COPC_H_INCLUDED
#define OGR_COPC_H_INCLUDED

#include "gdal_priv.h"
#include "ogrsf_frmts.h"

#include <copc.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

// The only symbol the plugin exports (built with hidden visibility); GDAL calls it
// after loading ogr_COPC.so from GDAL_DRIVER_PATH.
extern "C" __attribute__((visibility("default"))) void RegisterOGRCOPC();

namespace ogr_copc
{

// Reports the library's last error as a CPLError and returns false (for `return
// Fail("...")` after a failed copc_* call).
bool Fail(const char *pszWhat, copc_status st);

// One LAS dimension (standard or extra bytes) as an OGR field.
struct DimField
{
    int32_t dim = 0;           // copc_dim id read for this field
    int32_t valueType = 0;     // copc_type of one value in the column
    size_t size = 0;           // bytes per point in the column
    OGRFieldType eType = OFTInteger;
    OGRFieldSubType eSubType = OFSTNone;
    std::string osName;
};

// The LAS dimension a field name means (case-insensitive, '_' and ' ' ignored;
// PDAL's names too), or -1. X, Y and Z give COPC_DIM_X/Y/Z.
int32_t DimForFieldName(const char *pszName);

class OGRCOPCLayer;

// A COPC file opened for reading: owns the copc_reader (on top of a VSI handle).
class OGRCOPCDataset final : public GDALDataset
{
    copc_reader *m_poReader = nullptr;
    std::unique_ptr<OGRCOPCLayer> m_poLayer;

  public:
    OGRCOPCDataset() = default;
    ~OGRCOPCDataset() override;

    static int Identify(GDALOpenInfo *poOpenInfo);
    static GDALDataset *Open(GDALOpenInfo *poOpenInfo);

    int GetLayerCount() override { return 1; }
    OGRLayer *GetLayer(int i) override;
    int TestCapability(const char *) override { return FALSE; }
};

// The points of a COPC file as features. FIDs are stable whatever the filters: the
// number of points in the chunks before the point's node (in file order) plus the
// point's position in its node.
class OGRCOPCLayer final : public OGRLayer
{
    copc_reader *m_poReader;  // owned by the dataset
    OGRFeatureDefn *m_poDefn = nullptr;
    OGRSpatialReference *m_poSRS = nullptr;
    copc_header m_sHeader{};
    std::vector<DimField> m_aoDims;  // parallel to the fields of m_poDefn
    double m_dfResolution = 0;       // 0: none (open option RESOLUTION)
    int m_nMaxDepth = -1;            // -1: none (open option MAX_DEPTH)

    // First FID of each data node (by key), from the whole hierarchy, loaded once.
    std::map<std::tuple<int, int, int, int>, GIntBig> m_oNodeStart;
    struct NodeStart
    {
        GIntBig nStart;
        int64_t nCount;
        copc_node_key key;
    };
    std::vector<NodeStart> m_aoStarts;  // in file order, so sorted by nStart
    bool m_bNodesLoaded = false;

    // The running read: iterator, columns of the current batch, position in it.
    copc_point_iter *m_poIter = nullptr;
    bool m_bFilterPushed = false;  // the query applies the spatial filter exactly
    std::vector<double> m_adfX, m_adfY, m_adfZ;
    std::vector<std::vector<GByte>> m_aabyCols;  // per field; empty when ignored
    std::vector<uint32_t> m_anIndex;
    GIntBig m_nBatchStart = 0;  // FID of position 0 of the batch's node
    size_t m_nBatchCount = 0;
    size_t m_nBatchPos = 0;
    bool m_bEOF = false;
    bool m_bError = false;

    static constexpr size_t BATCH = 4096;

    bool LoadNodes();
    copc_query *MakeQuery(bool bWithDims, bool *pbExact);
    bool StartRead();
    bool NextBatch();
    OGRFeature *BuildFeature(size_t i, GIntBig nFID, const std::vector<std::vector<GByte>> &cols,
                             const double *x, const double *y, const double *z);

  public:
    OGRCOPCLayer(copc_reader *poReader, const char *pszName, double dfResolution, int nMaxDepth);
    ~OGRCOPCLayer() override;

    bool Init();

    OGRFeatureDefn *GetLayerDefn() override { return m_poDefn; }
    void ResetReading() override;
    OGRFeature *GetNextFeature() override;
    OGRFeature *GetFeature(GIntBig nFID) override;
    GIntBig GetFeatureCount(int bForce) override;
    OGRErr GetExtent(OGREnvelope *psExtent, int bForce) override;
    OGRErr GetExtent(int iGeomField, OGREnvelope *psExtent, int bForce) override;
    void SetSpatialFilter(OGRGeometry *poGeom) override;
    void SetSpatialFilter(int iGeomField, OGRGeometry *poGeom) override;
    OGRErr SetIgnoredFields(const char **papszFields) override;
    int TestCapability(const char *pszCap) override;
    // RFC 86: the library's Arrow C stream of the layer's query (ogrcopcarrow.cpp).
    bool GetArrowStream(struct ArrowArrayStream *out_stream, CSLConstList papszOptions = nullptr) override;

  private:
    // Set while a stream from GetArrowStream is alive (GDAL's one-stream-per-layer rule).
    std::shared_ptr<bool> m_pbArrowStreamActive = std::make_shared<bool>(false);
};

class OGRCOPCWriterLayer;

// A COPC file being written: one layer, the file is built when the dataset closes.
class OGRCOPCWriterDataset final : public GDALDataset
{
    std::string m_osPath;
    CPLStringList m_aosOptions;
    std::unique_ptr<OGRCOPCWriterLayer> m_poLayer;

  public:
    OGRCOPCWriterDataset(const char *pszPath, CSLConstList papszOptions);
    ~OGRCOPCWriterDataset() override;

    static GDALDataset *Create(const char *pszName, int nXSize, int nYSize, int nBands,
                               GDALDataType eType, char **papszOptions);

    int GetLayerCount() override { return m_poLayer ? 1 : 0; }
    OGRLayer *GetLayer(int i) override;
    int TestCapability(const char *pszCap) override;
    OGRLayer *ICreateLayer(const char *pszName, OGRSpatialReference *poSRS,
                           OGRwkbGeometryType eGType, char **papszOptions) override;
};

// Collects features into column batches and hands them to copc_writer_add_points.
class OGRCOPCWriterLayer final : public OGRLayer
{
    struct Column
    {
        int iField = -1;     // source field, -1 for X/Y/Z from the geometry
        int32_t dim = 0;     // copc_dim id (COPC_DIM_EXTRA_BASE + i for extra bytes)
        int32_t type = 0;    // copc_type of the values
        size_t size = 0;
        std::vector<GByte> data;
    };

    std::string m_osPath;
    OGRFeatureDefn *m_poDefn;
    copc_writer *m_poWriter = nullptr;
    bool m_bStarted = false;  // the first feature fixed the columns
    bool m_bFailed = false;
    std::vector<Column> m_aoCols;
    size_t m_nPending = 0;
    GIntBig m_nWritten = 0;

    static constexpr size_t BATCH = 65536;

    bool Start();
    bool Flush();

  public:
    OGRCOPCWriterLayer(const char *pszPath, const char *pszName, copc_writer *poWriter);
    ~OGRCOPCWriterLayer() override;

    // Writes the file; false (after a CPLError) when the library fails.
    bool Finish();

    OGRFeatureDefn *GetLayerDefn() override { return m_poDefn; }
    void ResetReading() override {}
    OGRFeature *GetNextFeature() override { return nullptr; }
    OGRErr ICreateFeature(OGRFeature *poFeature) override;
    OGRErr CreateField(OGRFieldDefn *poField, int bApproxOK = TRUE) override;
    int TestCapability(const char *pszCap) override;
};

}  // namespace ogr_copc

#endif
