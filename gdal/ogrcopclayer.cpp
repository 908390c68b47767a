// Reading layer: GDAL's filters become one copc query (FlatGeobuf-style pushdown),
// points arrive as column batches and become features.
#include "ogr_copc.h"

#include "ogr_geometry.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

using namespace ogr_copc;

namespace
{

bool IsFlag(int32_t dim)
{
    switch (dim)
    {
        case COPC_DIM_SCAN_DIRECTION_FLAG:
        case COPC_DIM_EDGE_OF_FLIGHT_LINE:
        case COPC_DIM_SYNTHETIC:
        case COPC_DIM_KEY_POINT:
        case COPC_DIM_WITHHELD:
        case COPC_DIM_OVERLAP:
            return true;
        default:
            return false;
    }
}

void SetOGRType(DimField &f)
{
    switch (f.valueType)
    {
        case COPC_TYPE_UINT8:
        case COPC_TYPE_INT8:
        case COPC_TYPE_UINT16:
        case COPC_TYPE_INT32:
            f.eType = OFTInteger;
            f.eSubType = IsFlag(f.dim) ? OFSTBoolean : OFSTNone;
            break;
        case COPC_TYPE_INT16:
            f.eType = OFTInteger;
            f.eSubType = OFSTInt16;
            break;
        case COPC_TYPE_UINT32:
        case COPC_TYPE_INT64:
        case COPC_TYPE_UINT64:
            f.eType = OFTInteger64;
            break;
        case COPC_TYPE_FLOAT:
            f.eType = OFTReal;
            f.eSubType = OFSTFloat32;
            break;
        default:
            f.eType = OFTReal;
            break;
    }
}

template <typename T> T Get(const GByte *p)
{
    T v;
    memcpy(&v, p, sizeof v);
    return v;
}

}  // namespace

OGRCOPCLayer::OGRCOPCLayer(copc_reader *poReader, const char *pszName, double dfResolution, int nMaxDepth)
    : m_poReader(poReader), m_dfResolution(dfResolution), m_nMaxDepth(nMaxDepth)
{
    m_poDefn = new OGRFeatureDefn(pszName);
    m_poDefn->Reference();
    m_poDefn->SetGeomType(wkbPoint25D);
    SetDescription(pszName);
}

OGRCOPCLayer::~OGRCOPCLayer()
{
    copc_point_iter_free(m_poIter);
    m_poDefn->Release();
    if (m_poSRS)
        m_poSRS->Release();
}

// Fields from the file's dimensions: the standard ones its point format stores
// (X/Y/Z are the geometry), then each extra-bytes dimension.
bool OGRCOPCLayer::Init()
{
    m_sHeader.struct_size = sizeof(m_sHeader);
    copc_status st = copc_reader_header(m_poReader, &m_sHeader);
    if (st != COPC_STATUS_OK)
        return Fail("header", st);

    if (const char *pszWKT = copc_reader_crs_wkt(m_poReader))
    {
        m_poSRS = new OGRSpatialReference();
        m_poSRS->SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        if (m_poSRS->importFromWkt(pszWKT) != OGRERR_NONE)
        {
            CPLError(CE_Warning, CPLE_AppDefined, "COPC: the file's WKT CRS does not parse; layer without SRS");
            m_poSRS->Release();
            m_poSRS = nullptr;
        }
    }
    else if (copc_last_error_message()[0] != '\0')
    {
        CPLError(CE_Warning, CPLE_AppDefined, "COPC: CRS: %s", copc_last_error_message());
    }
    m_poDefn->GetGeomFieldDefn(0)->SetSpatialRef(m_poSRS);

    size_t nDims = 0;
    st = copc_reader_dims(m_poReader, nullptr, 0, &nDims);
    if (st != COPC_STATUS_OK)
        return Fail("dimensions", st);
    std::vector<int32_t> anDims(nDims);
    if (nDims > 0 && (st = copc_reader_dims(m_poReader, anDims.data(), nDims, &nDims)) != COPC_STATUS_OK)
        return Fail("dimensions", st);

    std::set<std::string> oNames;
    for (int32_t dim : anDims)
    {
        if (dim == COPC_DIM_X || dim == COPC_DIM_Y || dim == COPC_DIM_Z || dim == COPC_DIM_X_RAW ||
            dim == COPC_DIM_Y_RAW || dim == COPC_DIM_Z_RAW)
            continue;
        DimField f;
        if (dim >= COPC_DIM_EXTRA_BASE)
        {
            copc_extra_dim eb{};
            eb.struct_size = sizeof(eb);
            st = copc_reader_extra_dim(m_poReader, static_cast<size_t>(dim - COPC_DIM_EXTRA_BASE), &eb);
            if (st != COPC_STATUS_OK)
                return Fail("extra bytes", st);
            f.osName = eb.name;
            // A plain scalar keeps its declared type; scaled values, arrays and
            // undocumented bytes become the (first) value as a double.
            if (eb.count == 1 && eb.data_type >= 1 && eb.data_type <= 10 && !eb.has_scale && !eb.has_offset)
            {
                f.dim = dim;
                f.valueType = eb.value_type;
                f.size = eb.size;
            }
            else
            {
                f.dim = COPC_DIM_EXTRA_DOUBLE_BASE + (dim - COPC_DIM_EXTRA_BASE);
                f.valueType = COPC_TYPE_DOUBLE;
                f.size = sizeof(double);
            }
        }
        else
        {
            copc_dim_info info{};
            info.struct_size = sizeof(info);
            st = copc_reader_dim_info(m_poReader, dim, &info);
            if (st != COPC_STATUS_OK)
                return Fail("dimension", st);
            f.dim = dim;
            f.valueType = info.value_type;
            f.size = info.size;
            f.osName = info.name;
        }
        // Extra-bytes names may be empty or repeat a standard name: keep fields unique.
        if (f.osName.empty())
            f.osName = "extra";
        std::string osBase = f.osName;
        for (int k = 2; oNames.count(CPLString(f.osName).tolower()); ++k)
            f.osName = osBase + "_" + std::to_string(k);
        oNames.insert(CPLString(f.osName).tolower());
        SetOGRType(f);
        OGRFieldDefn oField(f.osName.c_str(), f.eType);
        oField.SetSubType(f.eSubType);
        m_poDefn->AddFieldDefn(&oField);
        m_aoDims.push_back(f);
    }
    return true;
}

// Every data node in file order, with the FID of its first point. Loads the whole
// hierarchy once (small next to the points) so FIDs do not depend on the query.
bool OGRCOPCLayer::LoadNodes()
{
    if (m_bNodesLoaded)
        return true;
    copc_node_iter *it = nullptr;
    copc_status st = copc_reader_nodes(m_poReader, nullptr, &it);
    if (st != COPC_STATUS_OK)
        return Fail("hierarchy", st);
    GIntBig nNext = 0;
    while (true)
    {
        copc_node n{};
        bool bHas = false;
        st = copc_node_iter_next(it, &n, &bHas);
        if (st != COPC_STATUS_OK)
        {
            copc_node_iter_free(it);
            return Fail("hierarchy", st);
        }
        if (!bHas)
            break;
        m_oNodeStart[std::make_tuple(n.key.level, n.key.x, n.key.y, n.key.z)] = nNext;
        m_aoStarts.push_back({nNext, n.point_count, n.key});
        nNext += n.point_count;
    }
    copc_node_iter_free(it);
    m_bNodesLoaded = true;
    return true;
}

// The query for the current filters. *pbExact tells whether it applies the spatial
// filter exactly (a rectangle, or a polygon the library tests point by point).
copc_query *OGRCOPCLayer::MakeQuery(bool bWithDims, bool *pbExact)
{
    copc_query *q = nullptr;
    copc_status st = copc_query_new(&q);
    if (st != COPC_STATUS_OK)
    {
        Fail("query", st);
        return nullptr;
    }
    *pbExact = true;
    if (m_dfResolution > 0)
        st = copc_query_set_resolution(q, m_dfResolution);
    if (st == COPC_STATUS_OK && m_nMaxDepth >= 0)
        st = copc_query_set_max_depth(q, m_nMaxDepth);
    if (st == COPC_STATUS_OK && m_poFilterGeom != nullptr)
    {
        const OGREnvelope &e = m_sFilterEnvelope;
        const double inf = std::numeric_limits<double>::infinity();
        const double lo[3] = {e.MinX, e.MinY, -inf};
        const double hi[3] = {e.MaxX, e.MaxY, inf};
        st = copc_query_set_bounds(q, lo, hi);
        if (st == COPC_STATUS_OK && !m_bFilterIsEnvelope)
        {
            const OGRwkbGeometryType t = wkbFlatten(m_poFilterGeom->getGeometryType());
            char *pszWKT = nullptr;
            if ((t == wkbPolygon || t == wkbMultiPolygon) && m_poFilterGeom->exportToWkt(&pszWKT) == OGRERR_NONE)
                st = copc_query_set_polygon(q, pszWKT);
            else
                *pbExact = false;  // box of the envelope, then OGR's own test
            CPLFree(pszWKT);
        }
    }
    uint64_t mask = COPC_DIM_BIT(COPC_DIM_X) | COPC_DIM_BIT(COPC_DIM_Y) | COPC_DIM_BIT(COPC_DIM_Z);
    if (bWithDims)
    {
        for (size_t i = 0; i < m_aoDims.size(); ++i)
        {
            if (m_poDefn->GetFieldDefn(static_cast<int>(i))->IsIgnored())
                continue;
            const int32_t d = m_aoDims[i].dim;
            mask |= d >= COPC_DIM_EXTRA_DOUBLE_BASE ? COPC_DIM_MASK_EXTRA : COPC_DIM_BIT(d);
        }
    }
    if (st == COPC_STATUS_OK)
        st = copc_query_set_dims(q, mask);
    if (st != COPC_STATUS_OK)
    {
        Fail("query", st);
        copc_query_free(q);
        return nullptr;
    }
    CPLDebug("COPC", "query: box %s, polygon %s, resolution %g, max depth %d, dimension mask 0x%llx",
             m_poFilterGeom ? "yes" : "no", m_poFilterGeom && !m_bFilterIsEnvelope && *pbExact ? "yes" : "no",
             m_dfResolution, m_nMaxDepth, static_cast<unsigned long long>(mask));
    return q;
}

bool OGRCOPCLayer::StartRead()
{
    if (!LoadNodes())
        return false;
    bool bExact = true;
    copc_query *q = MakeQuery(true, &bExact);
    if (q == nullptr)
        return false;
    const copc_status st = copc_reader_query_points(m_poReader, q, &m_poIter);
    copc_query_free(q);
    if (st != COPC_STATUS_OK)
        return Fail("query", st);
    m_bFilterPushed = bExact;
    m_adfX.resize(BATCH);
    m_adfY.resize(BATCH);
    m_adfZ.resize(BATCH);
    m_anIndex.resize(BATCH);
    m_aabyCols.assign(m_aoDims.size(), {});
    for (size_t i = 0; i < m_aoDims.size(); ++i)
        if (!m_poDefn->GetFieldDefn(static_cast<int>(i))->IsIgnored())
            m_aabyCols[i].resize(BATCH * m_aoDims[i].size);
    return true;
}

// The next points of one node, into the batch columns.
bool OGRCOPCLayer::NextBatch()
{
    std::vector<copc_column> cols = {{COPC_DIM_X, m_adfX.data(), 0},
                                     {COPC_DIM_Y, m_adfY.data(), 0},
                                     {COPC_DIM_Z, m_adfZ.data(), 0}};
    for (size_t i = 0; i < m_aoDims.size(); ++i)
        if (!m_aabyCols[i].empty())
            cols.push_back({m_aoDims[i].dim, m_aabyCols[i].data(), 0});
    copc_node_key key{};
    size_t n = 0;
    const copc_status st =
        copc_point_iter_read_node(m_poIter, cols.data(), cols.size(), BATCH, &key, m_anIndex.data(), &n);
    m_nBatchPos = 0;
    m_nBatchCount = 0;
    if (st != COPC_STATUS_OK)
    {
        m_bError = true;
        return Fail("reading points", st);
    }
    if (n == 0)
    {
        m_bEOF = true;
        return false;
    }
    auto found = m_oNodeStart.find(std::make_tuple(key.level, key.x, key.y, key.z));
    if (found == m_oNodeStart.end())
    {
        m_bError = true;
        CPLError(CE_Failure, CPLE_AppDefined, "COPC: node %d-%d-%d-%d is not in the hierarchy", key.level, key.x,
                 key.y, key.z);
        return false;
    }
    m_nBatchStart = found->second;
    m_nBatchCount = n;
    return true;
}

OGRFeature *OGRCOPCLayer::BuildFeature(size_t i, GIntBig nFID, const std::vector<std::vector<GByte>> &cols,
                                       const double *x, const double *y, const double *z)
{
    auto *poFeature = new OGRFeature(m_poDefn);
    poFeature->SetFID(nFID);
    auto *poPoint = new OGRPoint(x[i], y[i], z[i]);
    poPoint->assignSpatialReference(m_poSRS);
    poFeature->SetGeometryDirectly(poPoint);
    for (size_t f = 0; f < m_aoDims.size(); ++f)
    {
        if (cols[f].empty())
            continue;
        const GByte *p = cols[f].data() + i * m_aoDims[f].size;
        const int iField = static_cast<int>(f);
        switch (m_aoDims[f].valueType)
        {
            case COPC_TYPE_UINT8: poFeature->SetField(iField, static_cast<int>(*p)); break;
            case COPC_TYPE_INT8: poFeature->SetField(iField, static_cast<int>(static_cast<int8_t>(*p))); break;
            case COPC_TYPE_UINT16: poFeature->SetField(iField, static_cast<int>(Get<uint16_t>(p))); break;
            case COPC_TYPE_INT16: poFeature->SetField(iField, static_cast<int>(Get<int16_t>(p))); break;
            case COPC_TYPE_INT32: poFeature->SetField(iField, Get<int32_t>(p)); break;
            case COPC_TYPE_UINT32: poFeature->SetField(iField, static_cast<GIntBig>(Get<uint32_t>(p))); break;
            case COPC_TYPE_INT64: poFeature->SetField(iField, static_cast<GIntBig>(Get<int64_t>(p))); break;
            // OGR has no unsigned 64-bit field: values above 2^63 wrap.
            case COPC_TYPE_UINT64: poFeature->SetField(iField, static_cast<GIntBig>(Get<uint64_t>(p))); break;
            case COPC_TYPE_FLOAT: poFeature->SetField(iField, static_cast<double>(Get<float>(p))); break;
            default: poFeature->SetField(iField, Get<double>(p)); break;
        }
    }
    return poFeature;
}

void OGRCOPCLayer::ResetReading()
{
    copc_point_iter_free(m_poIter);
    m_poIter = nullptr;
    m_nBatchCount = m_nBatchPos = 0;
    m_bEOF = false;
    m_bError = false;
}

OGRFeature *OGRCOPCLayer::GetNextFeature()
{
    while (true)
    {
        if (m_bEOF || m_bError)
            return nullptr;
        if (m_poIter == nullptr && !StartRead())
        {
            m_bError = true;
            return nullptr;
        }
        if (m_nBatchPos >= m_nBatchCount)
        {
            if (!NextBatch())
                return nullptr;
            continue;
        }
        const size_t i = m_nBatchPos++;
        OGRFeature *poFeature = BuildFeature(i, m_nBatchStart + m_anIndex[i], m_aabyCols, m_adfX.data(),
                                             m_adfY.data(), m_adfZ.data());
        if ((m_poFilterGeom == nullptr || m_bFilterPushed || FilterGeometry(poFeature->GetGeometryRef())) &&
            (m_poAttrQuery == nullptr || m_poAttrQuery->Evaluate(poFeature)))
            return poFeature;
        delete poFeature;
    }
}

// Random access: decode the FID's node and take the point.
OGRFeature *OGRCOPCLayer::GetFeature(GIntBig nFID)
{
    if (nFID < 0 || !LoadNodes())
        return nullptr;
    auto it = std::upper_bound(m_aoStarts.begin(), m_aoStarts.end(), nFID,
                               [](GIntBig v, const NodeStart &s) { return v < s.nStart; });
    if (it == m_aoStarts.begin())
        return nullptr;
    --it;
    if (nFID - it->nStart >= it->nCount)
        return nullptr;
    const size_t n = static_cast<size_t>(it->nCount);
    std::vector<double> x(n), y(n), z(n);
    std::vector<std::vector<GByte>> cols(m_aoDims.size());
    std::vector<copc_column> ccols = {{COPC_DIM_X, x.data(), 0}, {COPC_DIM_Y, y.data(), 0}, {COPC_DIM_Z, z.data(), 0}};
    for (size_t i = 0; i < m_aoDims.size(); ++i)
    {
        if (m_poDefn->GetFieldDefn(static_cast<int>(i))->IsIgnored())
            continue;
        cols[i].resize(n * m_aoDims[i].size);
        ccols.push_back({m_aoDims[i].dim, cols[i].data(), 0});
    }
    size_t nGot = 0;
    const copc_status st = copc_reader_read_node(m_poReader, &it->key, ccols.data(), ccols.size(), n, &nGot);
    if (st != COPC_STATUS_OK)
    {
        Fail("reading a node", st);
        return nullptr;
    }
    const size_t i = static_cast<size_t>(nFID - it->nStart);
    if (i >= nGot)
        return nullptr;
    return BuildFeature(i, nFID, cols, x.data(), y.data(), z.data());
}

// From the header without filters; with a box (or polygon, resolution, depth) the
// library counts, decoding only the nodes the box cuts.
GIntBig OGRCOPCLayer::GetFeatureCount(int bForce)
{
    if (m_poAttrQuery != nullptr)
        return OGRLayer::GetFeatureCount(bForce);
    if (m_poFilterGeom == nullptr && m_dfResolution <= 0 && m_nMaxDepth < 0)
        return static_cast<GIntBig>(m_sHeader.point_count);
    bool bExact = true;
    copc_query *q = MakeQuery(false, &bExact);
    if (q == nullptr)
        return -1;
    if (!bExact)
    {
        copc_query_free(q);
        return OGRLayer::GetFeatureCount(bForce);
    }
    uint64_t n = 0;
    const copc_status st = copc_reader_count(m_poReader, q, &n);
    copc_query_free(q);
    if (st != COPC_STATUS_OK)
    {
        Fail("count", st);
        return -1;
    }
    return static_cast<GIntBig>(n);
}

OGRErr OGRCOPCLayer::GetExtent(OGREnvelope *psExtent, int /*bForce*/)
{
    psExtent->MinX = m_sHeader.min[0];
    psExtent->MinY = m_sHeader.min[1];
    psExtent->MaxX = m_sHeader.max[0];
    psExtent->MaxY = m_sHeader.max[1];
    return OGRERR_NONE;
}

OGRErr OGRCOPCLayer::GetExtent(int iGeomField, OGREnvelope *psExtent, int bForce)
{
    if (iGeomField != 0)
    {
        CPLError(CE_Failure, CPLE_AppDefined, "COPC: no geometry field %d", iGeomField);
        return OGRERR_FAILURE;
    }
    return GetExtent(psExtent, bForce);
}

void OGRCOPCLayer::SetSpatialFilter(OGRGeometry *poGeom)
{
    if (InstallFilter(poGeom))
        ResetReading();
}

void OGRCOPCLayer::SetSpatialFilter(int iGeomField, OGRGeometry *poGeom)
{
    if (iGeomField != 0)
    {
        CPLError(CE_Failure, CPLE_AppDefined, "COPC: no geometry field %d", iGeomField);
        return;
    }
    SetSpatialFilter(poGeom);
}

OGRErr OGRCOPCLayer::SetIgnoredFields(const char **papszFields)
{
    const OGRErr e = OGRLayer::SetIgnoredFields(papszFields);
    ResetReading();  // the next read decodes only what is left
    return e;
}

int OGRCOPCLayer::TestCapability(const char *pszCap)
{
    if (EQUAL(pszCap, OLCFastFeatureCount))
        return m_poAttrQuery == nullptr && m_poFilterGeom == nullptr && m_dfResolution <= 0 && m_nMaxDepth < 0;
    // GetArrowStream serves the library's stream unless an attribute filter needs
    // GDAL's generic path.
    if (EQUAL(pszCap, OLCFastGetArrowStream))
        return m_poAttrQuery == nullptr;
    if (EQUAL(pszCap, OLCFastGetExtent) || EQUAL(pszCap, OLCFastSpatialFilter) ||
        EQUAL(pszCap, OLCIgnoreFields) || EQUAL(pszCap, OLCRandomRead) || EQUAL(pszCap, OLCStringsAsUTF8) ||
        EQUAL(pszCap, OLCZGeometries))
        return TRUE;
    return FALSE;
}
