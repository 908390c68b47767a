// Writing: ogr2ogr -f COPC out.copc.laz input. Fields named like LAS dimensions fill
// them; other numeric fields become extra bytes (see README.md for the table).
#include "ogr_copc.h"

#include "ogr_geometry.h"

#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>

using namespace ogr_copc;

namespace
{

struct NameDim
{
    const char *pszName;  // lower case, without '_'
    int32_t dim;
};

// Our names (copc_dim_info names without '_') and PDAL's where they differ.
const NameDim NAMES[] = {
    {"x", COPC_DIM_X},
    {"y", COPC_DIM_Y},
    {"z", COPC_DIM_Z},
    {"intensity", COPC_DIM_INTENSITY},
    {"returnnumber", COPC_DIM_RETURN_NUMBER},
    {"numberofreturns", COPC_DIM_NUMBER_OF_RETURNS},
    {"scandirectionflag", COPC_DIM_SCAN_DIRECTION_FLAG},
    {"edgeofflightline", COPC_DIM_EDGE_OF_FLIGHT_LINE},
    {"classification", COPC_DIM_CLASSIFICATION},
    {"synthetic", COPC_DIM_SYNTHETIC},
    {"keypoint", COPC_DIM_KEY_POINT},
    {"withheld", COPC_DIM_WITHHELD},
    {"overlap", COPC_DIM_OVERLAP},
    {"scannerchannel", COPC_DIM_SCANNER_CHANNEL},
    {"scanchannel", COPC_DIM_SCANNER_CHANNEL},
    {"scanangle", COPC_DIM_SCAN_ANGLE},
    {"scananglerank", COPC_DIM_SCAN_ANGLE},
    {"userdata", COPC_DIM_USER_DATA},
    {"pointsourceid", COPC_DIM_POINT_SOURCE_ID},
    {"gpstime", COPC_DIM_GPS_TIME},
    {"red", COPC_DIM_RED},
    {"green", COPC_DIM_GREEN},
    {"blue", COPC_DIM_BLUE},
    {"nir", COPC_DIM_NIR},
    {"infrared", COPC_DIM_NIR},
};

// copc_type of a standard dimension's column (copc.h: copc_dim).
int32_t StandardType(int32_t dim)
{
    switch (dim)
    {
        case COPC_DIM_X:
        case COPC_DIM_Y:
        case COPC_DIM_Z:
        case COPC_DIM_GPS_TIME:
            return COPC_TYPE_DOUBLE;
        case COPC_DIM_INTENSITY:
        case COPC_DIM_POINT_SOURCE_ID:
        case COPC_DIM_RED:
        case COPC_DIM_GREEN:
        case COPC_DIM_BLUE:
        case COPC_DIM_NIR:
            return COPC_TYPE_UINT16;
        case COPC_DIM_SCAN_ANGLE:
            return COPC_TYPE_INT16;
        default:
            return COPC_TYPE_UINT8;
    }
}

size_t TypeSize(int32_t t)
{
    switch (t)
    {
        case COPC_TYPE_UINT8:
        case COPC_TYPE_INT8:
            return 1;
        case COPC_TYPE_UINT16:
        case COPC_TYPE_INT16:
            return 2;
        case COPC_TYPE_UINT32:
        case COPC_TYPE_INT32:
        case COPC_TYPE_FLOAT:
            return 4;
        default:
            return 8;
    }
}

// Stores an integer in a column of type t; false when it does not fit.
template <typename T> bool PutInt(GByte *p, GIntBig v)
{
    if (v < static_cast<GIntBig>(std::numeric_limits<T>::min()) ||
        (v > 0 && static_cast<unsigned long long>(v) > static_cast<unsigned long long>(std::numeric_limits<T>::max())))
        return false;
    const T x = static_cast<T>(v);
    memcpy(p, &x, sizeof x);
    return true;
}

}  // namespace

int32_t ogr_copc::DimForFieldName(const char *pszName)
{
    std::string os;
    for (const char *c = pszName; *c; ++c)
        if (*c != '_' && *c != ' ')
            os += static_cast<char>(std::tolower(static_cast<unsigned char>(*c)));
    for (const auto &n : NAMES)
        if (os == n.pszName)
            return n.dim;
    return -1;
}

// ---------------------------------------------------------------------------------
OGRCOPCWriterDataset::OGRCOPCWriterDataset(const char *pszPath, CSLConstList papszOptions)
    : m_osPath(pszPath), m_aosOptions(CSLDuplicate(papszOptions))
{
    SetDescription(pszPath);
    eAccess = GA_Update;
}

// The file is built here: GDAL 3.6 has no Close() that returns an error, so a
// failure is reported as CPLError (ogr2ogr prints it).
OGRCOPCWriterDataset::~OGRCOPCWriterDataset()
{
    if (m_poLayer)
        m_poLayer->Finish();
}

OGRLayer *OGRCOPCWriterDataset::GetLayer(int i)
{
    return i == 0 ? m_poLayer.get() : nullptr;
}

int OGRCOPCWriterDataset::TestCapability(const char *pszCap)
{
    return EQUAL(pszCap, ODsCCreateLayer) && !m_poLayer;
}

GDALDataset *OGRCOPCWriterDataset::Create(const char *pszName, int nXSize, int nYSize, int nBands,
                                          GDALDataType, char **papszOptions)
{
    if (nXSize != 0 || nYSize != 0 || nBands != 0)
    {
        CPLError(CE_Failure, CPLE_NotSupported, "COPC: a vector driver (no raster bands)");
        return nullptr;
    }
    if (STARTS_WITH(pszName, "/vsi"))
    {
        CPLError(CE_Failure, CPLE_NotSupported, "COPC: files are written to local paths only, not %s", pszName);
        return nullptr;
    }
    return new OGRCOPCWriterDataset(pszName, papszOptions);
}

OGRLayer *OGRCOPCWriterDataset::ICreateLayer(const char *pszName, OGRSpatialReference *poSRS,
                                             OGRwkbGeometryType eGType, char **papszOptions)
{
    if (m_poLayer)
    {
        CPLError(CE_Failure, CPLE_NotSupported, "COPC: a file holds one point layer");
        return nullptr;
    }
    const OGRwkbGeometryType eFlat = wkbFlatten(eGType);
    if (eFlat != wkbPoint && eFlat != wkbUnknown && eFlat != wkbNone)
    {
        CPLError(CE_Failure, CPLE_NotSupported, "COPC: only points can be written, not %s",
                 OGRGeometryTypeToName(eGType));
        return nullptr;
    }
    // Layer options (-lco) over dataset options (-dsco).
    CPLStringList aosAll(m_aosOptions);
    for (CSLConstList p = papszOptions; p && *p; ++p)
    {
        char *pszKey = nullptr;
        const char *pszValue = CPLParseNameValue(*p, &pszKey);
        if (pszKey)
            aosAll.SetNameValue(pszKey, pszValue);
        CPLFree(pszKey);
    }

    copc_options *opts = nullptr;
    copc_status st = copc_options_new(&opts);
    if (st != COPC_STATUS_OK)
    {
        Fail("options", st);
        return nullptr;
    }
    const struct
    {
        const char *pszGDAL;
        const char *pszCopc;
    } aMap[] = {{"SCALE", "scale"},
                {"OFFSET", "offset"},
                {"POINT_FORMAT", "point_format"},
                {"MAX_POINTS_PER_NODE", "max_points_per_node"}};
    for (const auto &m : aMap)
    {
        const char *pszValue = aosAll.FetchNameValue(m.pszGDAL);
        if (pszValue && (st = copc_options_set(opts, m.pszCopc, pszValue)) != COPC_STATUS_OK)
        {
            Fail(m.pszGDAL, st);
            copc_options_free(opts);
            return nullptr;
        }
    }
    if (poSRS != nullptr && !poSRS->IsEmpty())
    {
        // LAS 1.4 asks for OGC WKT (WKT1); fall back to WKT2 for CRSs WKT1 cannot hold.
        char *pszWKT = nullptr;
        const char *const apszWKT1[] = {"FORMAT=WKT1_GDAL", nullptr};
        const char *const apszWKT2[] = {"FORMAT=WKT2_2019", nullptr};
        if (poSRS->exportToWkt(&pszWKT, apszWKT1) != OGRERR_NONE)
        {
            CPLFree(pszWKT);
            pszWKT = nullptr;
            poSRS->exportToWkt(&pszWKT, apszWKT2);
        }
        st = pszWKT ? copc_options_set(opts, "a_srs", pszWKT) : COPC_STATUS_OK;
        CPLFree(pszWKT);
        if (st != COPC_STATUS_OK)
        {
            Fail("CRS", st);
            copc_options_free(opts);
            return nullptr;
        }
    }
    copc_writer *poWriter = nullptr;
    st = copc_writer_create(m_osPath.c_str(), opts, &poWriter);
    copc_options_free(opts);
    if (st != COPC_STATUS_OK)
    {
        Fail(m_osPath.c_str(), st);
        return nullptr;
    }
    m_poLayer = std::make_unique<OGRCOPCWriterLayer>(m_osPath.c_str(), pszName, poWriter);
    if (poSRS)
    {
        OGRSpatialReference *poClone = poSRS->Clone();
        m_poLayer->GetLayerDefn()->GetGeomFieldDefn(0)->SetSpatialRef(poClone);
        poClone->Release();
    }
    return m_poLayer.get();
}

// ---------------------------------------------------------------------------------
OGRCOPCWriterLayer::OGRCOPCWriterLayer(const char *pszPath, const char *pszName, copc_writer *poWriter)
    : m_osPath(pszPath), m_poDefn(new OGRFeatureDefn(pszName)), m_poWriter(poWriter)
{
    m_poDefn->Reference();
    m_poDefn->SetGeomType(wkbPoint25D);
    SetDescription(pszName);
}

OGRCOPCWriterLayer::~OGRCOPCWriterLayer()
{
    copc_writer_free(m_poWriter);  // without a successful close: nothing is written
    m_poDefn->Release();
}

OGRErr OGRCOPCWriterLayer::CreateField(OGRFieldDefn *poField, int /*bApproxOK*/)
{
    if (m_bStarted)
    {
        CPLError(CE_Failure, CPLE_NotSupported, "COPC: fields must be created before the first feature");
        return OGRERR_FAILURE;
    }
    m_poDefn->AddFieldDefn(poField);
    return OGRERR_NONE;
}

// At the first feature the fields are known: map them to LAS dimensions, declare the
// extra bytes, allocate the columns.
bool OGRCOPCWriterLayer::Start()
{
    m_bStarted = true;
    auto add = [this](int iField, int32_t dim, int32_t type)
    {
        Column c;
        c.iField = iField;
        c.dim = dim;
        c.type = type;
        c.size = TypeSize(type);
        c.data.resize(BATCH * c.size);
        m_aoCols.push_back(std::move(c));
    };
    add(-1, COPC_DIM_X, COPC_TYPE_DOUBLE);
    add(-1, COPC_DIM_Y, COPC_TYPE_DOUBLE);
    add(-1, COPC_DIM_Z, COPC_TYPE_DOUBLE);
    bool abUsed[COPC_DIM_Z_RAW + 1] = {};
    for (int i = 0; i < m_poDefn->GetFieldCount(); ++i)
    {
        const OGRFieldDefn *f = m_poDefn->GetFieldDefn(i);
        const int32_t dim = DimForFieldName(f->GetNameRef());
        if (dim == COPC_DIM_X || dim == COPC_DIM_Y || dim == COPC_DIM_Z)
            continue;  // coordinates come from the geometry (or these fields without one)
        if (dim >= 0 && !abUsed[dim])
        {
            abUsed[dim] = true;
            add(i, dim, StandardType(dim));
            continue;
        }
        int32_t type = 0;
        switch (f->GetType())
        {
            case OFTInteger:
                type = f->GetSubType() == OFSTBoolean ? COPC_TYPE_UINT8
                       : f->GetSubType() == OFSTInt16 ? COPC_TYPE_INT16
                                                      : COPC_TYPE_INT32;
                break;
            case OFTInteger64: type = COPC_TYPE_INT64; break;
            case OFTReal: type = f->GetSubType() == OFSTFloat32 ? COPC_TYPE_FLOAT : COPC_TYPE_DOUBLE; break;
            default:
                CPLError(CE_Warning, CPLE_NotSupported,
                         "COPC: field %s (%s) is not numeric: not written", f->GetNameRef(),
                         OGRFieldDefn::GetFieldTypeName(f->GetType()));
                continue;
        }
        // LAS names hold 32 bytes.
        const std::string osName = std::string(f->GetNameRef()).substr(0, 32);
        int32_t extraDim = 0;
        const copc_status st = copc_writer_add_extra_dim(m_poWriter, osName.c_str(), type, nullptr, &extraDim);
        if (st != COPC_STATUS_OK)
            return Fail(f->GetNameRef(), st);
        add(i, extraDim, type);
    }
    return true;
}

OGRErr OGRCOPCWriterLayer::ICreateFeature(OGRFeature *poFeature)
{
    if (m_bFailed)
        return OGRERR_FAILURE;
    if (!m_bStarted && !Start())
    {
        m_bFailed = true;
        return OGRERR_FAILURE;
    }
    // X, Y, Z from a point geometry, else from fields named x, y, z (a CSV file read
    // without X_POSSIBLE_NAMES).
    double xyz[3] = {0, 0, 0};
    const OGRGeometry *poGeom = poFeature->GetGeometryRef();
    if (poGeom != nullptr && wkbFlatten(poGeom->getGeometryType()) == wkbPoint)
    {
        const auto *p = poGeom->toPoint();
        xyz[0] = p->getX();
        xyz[1] = p->getY();
        xyz[2] = p->getZ();
    }
    else if (poGeom != nullptr)
    {
        CPLError(CE_Failure, CPLE_NotSupported, "COPC: feature " CPL_FRMT_GIB " is a %s, not a point",
                 poFeature->GetFID(), poGeom->getGeometryName());
        return OGRERR_FAILURE;
    }
    else
    {
        bool abHas[3] = {};
        for (int i = 0; i < m_poDefn->GetFieldCount(); ++i)
        {
            const int32_t dim = DimForFieldName(m_poDefn->GetFieldDefn(i)->GetNameRef());
            if (dim >= COPC_DIM_X && dim <= COPC_DIM_Z && poFeature->IsFieldSetAndNotNull(i))
            {
                xyz[dim] = poFeature->GetFieldAsDouble(i);
                abHas[dim] = true;
            }
        }
        if (!abHas[0] || !abHas[1])
        {
            CPLError(CE_Failure, CPLE_AppDefined,
                     "COPC: feature " CPL_FRMT_GIB " has neither a point geometry nor x and y fields",
                     poFeature->GetFID());
            return OGRERR_FAILURE;
        }
    }

    const size_t k = m_nPending;
    for (auto &c : m_aoCols)
    {
        GByte *p = c.data.data() + k * c.size;
        if (c.iField < 0)
        {
            memcpy(p, &xyz[c.dim], sizeof(double));
            continue;
        }
        const bool bSet = poFeature->IsFieldSetAndNotNull(c.iField);
        bool bOK = true;
        // Unset fields are 0, except return number and number of returns (1).
        const GIntBig nDefault = (c.dim == COPC_DIM_RETURN_NUMBER || c.dim == COPC_DIM_NUMBER_OF_RETURNS) ? 1 : 0;
        switch (c.type)
        {
            case COPC_TYPE_DOUBLE:
            {
                const double v = bSet ? poFeature->GetFieldAsDouble(c.iField) : 0.0;
                memcpy(p, &v, sizeof v);
                break;
            }
            case COPC_TYPE_FLOAT:
            {
                const float v = static_cast<float>(bSet ? poFeature->GetFieldAsDouble(c.iField) : 0.0);
                memcpy(p, &v, sizeof v);
                break;
            }
            default:
            {
                const GIntBig v = bSet ? poFeature->GetFieldAsInteger64(c.iField) : nDefault;
                switch (c.type)
                {
                    case COPC_TYPE_UINT8: bOK = PutInt<uint8_t>(p, v); break;
                    case COPC_TYPE_INT8: bOK = PutInt<int8_t>(p, v); break;
                    case COPC_TYPE_UINT16: bOK = PutInt<uint16_t>(p, v); break;
                    case COPC_TYPE_INT16: bOK = PutInt<int16_t>(p, v); break;
                    case COPC_TYPE_UINT32: bOK = PutInt<uint32_t>(p, v); break;
                    case COPC_TYPE_INT32: bOK = PutInt<int32_t>(p, v); break;
                    default: memcpy(p, &v, sizeof v); break;
                }
            }
        }
        if (!bOK)
        {
            CPLError(CE_Failure, CPLE_AppDefined, "COPC: feature " CPL_FRMT_GIB ": %s = %s does not fit the LAS field",
                     poFeature->GetFID(), m_poDefn->GetFieldDefn(c.iField)->GetNameRef(),
                     poFeature->GetFieldAsString(c.iField));
            return OGRERR_FAILURE;
        }
    }
    poFeature->SetFID(m_nWritten + static_cast<GIntBig>(m_nPending));
    if (++m_nPending == BATCH && !Flush())
        return OGRERR_FAILURE;
    return OGRERR_NONE;
}

bool OGRCOPCWriterLayer::Flush()
{
    if (m_nPending == 0)
        return true;
    std::vector<copc_column> cols;
    for (auto &c : m_aoCols)
        cols.push_back({c.dim, c.data.data(), 0});
    const copc_status st = copc_writer_add_points(m_poWriter, cols.data(), cols.size(), m_nPending);
    if (st != COPC_STATUS_OK)
    {
        m_bFailed = true;
        return Fail(m_osPath.c_str(), st);
    }
    m_nWritten += static_cast<GIntBig>(m_nPending);
    m_nPending = 0;
    return true;
}

bool OGRCOPCWriterLayer::Finish()
{
    if (m_poWriter == nullptr)
        return !m_bFailed;
    bool bOK = !m_bFailed && (m_bStarted || Start()) && Flush();
    if (bOK)
    {
        const copc_status st = copc_writer_close(m_poWriter);
        if (st != COPC_STATUS_OK)
            bOK = Fail(m_osPath.c_str(), st);
    }
    copc_writer_free(m_poWriter);
    m_poWriter = nullptr;
    return bOK;
}

int OGRCOPCWriterLayer::TestCapability(const char *pszCap)
{
    return EQUAL(pszCap, OLCSequentialWrite) || EQUAL(pszCap, OLCCreateField) || EQUAL(pszCap, OLCStringsAsUTF8);
}
