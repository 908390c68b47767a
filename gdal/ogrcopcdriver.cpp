// Driver registration: identification from the first bytes, open, create.
#include "ogr_copc.h"

#include <cstring>

namespace ogr_copc
{

bool Fail(const char *pszWhat, copc_status st)
{
    CPLError(CE_Failure, st == COPC_STATUS_IO || st == COPC_STATUS_HTTP ? CPLE_FileIO : CPLE_AppDefined,
             "COPC: %s: %s (%s)", pszWhat, copc_last_error_message(), copc_status_str(st));
    return false;
}

// A LAZ-compressed LAS file whose first VLR is the COPC info (`copc`/1) or, in the
// pre-1.0 draft layout, `entwine`/1. GDAL gives us the first 1024 bytes.
int OGRCOPCDataset::Identify(GDALOpenInfo *poOpenInfo)
{
    const GByte *p = poOpenInfo->pabyHeader;
    const int n = poOpenInfo->nHeaderBytes;
    if (p == nullptr || n < 375 || memcmp(p, "LASF", 4) != 0)
        return FALSE;
    // Named as COPC: ours even when damaged, so the user reads why it fails.
    if (EQUAL(CPLGetExtension(poOpenInfo->pszFilename), "laz") &&
        EQUAL(CPLGetExtension(CPLGetBasename(poOpenInfo->pszFilename)), "copc"))
        return TRUE;
    if ((p[104] & 0x80) == 0)  // not LAZ: COPC is always compressed
        return FALSE;
    const int nHeaderSize = p[94] | (p[95] << 8);
    // VLR header: reserved (2), user id (16), record id (2), ...
    if (nHeaderSize < 227 || nHeaderSize + 20 > n)
        return FALSE;
    char szUser[17] = {};
    memcpy(szUser, p + nHeaderSize + 2, 16);
    const int nRecord = p[nHeaderSize + 18] | (p[nHeaderSize + 19] << 8);
    return nRecord == 1 && (strcmp(szUser, "copc") == 0 || strcmp(szUser, "entwine") == 0);
}

}  // namespace ogr_copc

using namespace ogr_copc;

static GDALDataset *OGRCOPCCreate(const char *pszName, int nXSize, int nYSize, int nBands,
                                  GDALDataType eType, char **papszOptions)
{
    return OGRCOPCWriterDataset::Create(pszName, nXSize, nYSize, nBands, eType, papszOptions);
}

// The writing options, accepted as dataset (-dsco) and as layer (-lco) options.
static const char *const WRITE_OPTIONS =
    "  <Option name='SCALE' type='string' description='X, Y, Z scale: one value or X,Y,Z "
    "(default 0.001)'/>"
    "  <Option name='OFFSET' type='string' description='X,Y,Z offset, or auto (default: "
    "centre of the first points)'/>"
    "  <Option name='POINT_FORMAT' type='string-select' description='LAS point format "
    "(default: 6, 7 with RGB fields, 8 with NIR)'>"
    "    <Value>6</Value><Value>7</Value><Value>8</Value>"
    "  </Option>"
    "  <Option name='MAX_POINTS_PER_NODE' type='int' min='1' description='Most points in "
    "an octree node (default 100000)'/>";

void RegisterOGRCOPC()
{
    if (!GDAL_CHECK_VERSION("OGR/COPC driver"))
        return;
    if (GDALGetDriverByName("COPC") != nullptr)
        return;

    auto *poDriver = new GDALDriver();
    poDriver->SetDescription("COPC");
    poDriver->SetMetadataItem(GDAL_DCAP_VECTOR, "YES");
    poDriver->SetMetadataItem(GDAL_DMD_LONGNAME, "Cloud Optimized Point Cloud (copc library)");
    poDriver->SetMetadataItem(GDAL_DMD_EXTENSIONS, "laz copc.laz");
    poDriver->SetMetadataItem(GDAL_DCAP_VIRTUALIO, "YES");
    poDriver->SetMetadataItem(GDAL_DMD_SUPPORTED_SQL_DIALECTS, "OGRSQL SQLITE");
    poDriver->SetMetadataItem(GDAL_DMD_CREATIONFIELDDATATYPES, "Integer Integer64 Real");
    poDriver->SetMetadataItem(GDAL_DMD_CREATIONFIELDDATASUBTYPES, "Boolean Int16 Float32");
    poDriver->SetMetadataItem(
        GDAL_DMD_OPENOPTIONLIST,
        "<OpenOptionList>"
        "  <Option name='RESOLUTION' type='float' description='Read the octree levels "
        "coarser than this point spacing, plus the first finer one (PDAL resolution)'/>"
        "  <Option name='MAX_DEPTH' type='int' min='0' description='Read octree levels "
        "0 to MAX_DEPTH'/>"
        "</OpenOptionList>");
    poDriver->SetMetadataItem(GDAL_DMD_CREATIONOPTIONLIST,
                              (std::string("<CreationOptionList>") + WRITE_OPTIONS + "</CreationOptionList>").c_str());
    poDriver->SetMetadataItem(GDAL_DS_LAYER_CREATIONOPTIONLIST,
                              (std::string("<LayerCreationOptionList>") + WRITE_OPTIONS +
                               "</LayerCreationOptionList>")
                                  .c_str());
    poDriver->pfnIdentify = OGRCOPCDataset::Identify;
    poDriver->pfnOpen = OGRCOPCDataset::Open;
    poDriver->pfnCreate = OGRCOPCCreate;
    GetGDALDriverManager()->RegisterDriver(poDriver);
}
