// Reading dataset: the copc_reader reads through GDAL's virtual file system, so
// /vsicurl/, /vsis3/, /vsizip/ ... work with GDAL's credentials and caching.
#include "ogr_copc.h"

#include "cpl_vsi.h"

#include <cmath>

using namespace ogr_copc;

namespace
{

// copc_io callbacks over a VSILFILE. The library calls `read` one call at a time
// (we do not set COPC_IO_THREAD_SAFE), possibly from its worker threads, so the
// seek + read pair needs no lock. No CPLError here: the library reports the
// failure, with our return value, through copc_last_error_message().
int32_t VSIRead(void *userdata, uint64_t offset, uint8_t *buf, size_t len)
{
    auto *fp = static_cast<VSILFILE *>(userdata);
    if (VSIFSeekL(fp, static_cast<vsi_l_offset>(offset), SEEK_SET) != 0)
        return 1;
    return VSIFReadL(buf, 1, len, fp) == len ? 0 : 2;
}

void VSIClose(void *userdata)
{
    VSIFCloseL(static_cast<VSILFILE *>(userdata));
}

}  // namespace

OGRCOPCDataset::~OGRCOPCDataset()
{
    m_poLayer.reset();  // frees its iterator before the reader goes
    copc_reader_free(m_poReader);
}

OGRLayer *OGRCOPCDataset::GetLayer(int i)
{
    return i == 0 ? m_poLayer.get() : nullptr;
}

GDALDataset *OGRCOPCDataset::Open(GDALOpenInfo *poOpenInfo)
{
    if (!Identify(poOpenInfo))
        return nullptr;
    if (poOpenInfo->eAccess == GA_Update)
    {
        CPLError(CE_Failure, CPLE_NotSupported,
                 "COPC: files open read-only (write a new one with ogr2ogr -f COPC)");
        return nullptr;
    }

    double dfResolution = 0;
    int nMaxDepth = -1;
    if (const char *psz = CSLFetchNameValue(poOpenInfo->papszOpenOptions, "RESOLUTION"))
    {
        char *pszEnd = nullptr;
        dfResolution = CPLStrtod(psz, &pszEnd);
        if (pszEnd == psz || *pszEnd != '\0' || !(dfResolution > 0) || !std::isfinite(dfResolution))
        {
            CPLError(CE_Failure, CPLE_IllegalArg, "COPC: RESOLUTION=%s: expected a number > 0", psz);
            return nullptr;
        }
    }
    if (const char *psz = CSLFetchNameValue(poOpenInfo->papszOpenOptions, "MAX_DEPTH"))
    {
        char *pszEnd = nullptr;
        const long n = strtol(psz, &pszEnd, 10);
        if (pszEnd == psz || *pszEnd != '\0' || n < 0 || n > 64)
        {
            CPLError(CE_Failure, CPLE_IllegalArg, "COPC: MAX_DEPTH=%s: expected an integer >= 0", psz);
            return nullptr;
        }
        nMaxDepth = static_cast<int>(n);
    }

    VSILFILE *fp = VSIFOpenL(poOpenInfo->pszFilename, "rb");
    if (fp == nullptr)
    {
        CPLError(CE_Failure, CPLE_OpenFailed, "COPC: cannot open %s", poOpenInfo->pszFilename);
        return nullptr;
    }
    if (VSIFSeekL(fp, 0, SEEK_END) != 0)
    {
        VSIFCloseL(fp);
        CPLError(CE_Failure, CPLE_FileIO, "COPC: cannot find the size of %s", poOpenInfo->pszFilename);
        return nullptr;
    }
    copc_io io{};
    io.read = VSIRead;
    io.size = VSIFTellL(fp);
    io.name = poOpenInfo->pszFilename;
    io.close = VSIClose;
    io.flags = 0;

    copc_reader *poReader = nullptr;
    // On failure the library has already called io.close (VSIFCloseL).
    const copc_status st = copc_reader_open_io(&io, fp, nullptr, &poReader);
    if (st != COPC_STATUS_OK)
    {
        Fail("open", st);  // the library's message names the file
        return nullptr;
    }

    auto poDS = std::make_unique<OGRCOPCDataset>();
    poDS->m_poReader = poReader;
    poDS->SetDescription(poOpenInfo->pszFilename);
    std::string osName = CPLGetBasename(poOpenInfo->pszFilename);
    if (osName.size() > 5 && EQUAL(osName.c_str() + osName.size() - 5, ".copc"))
        osName.resize(osName.size() - 5);
    poDS->m_poLayer = std::make_unique<OGRCOPCLayer>(poReader, osName.c_str(), dfResolution, nMaxDepth);
    if (!poDS->m_poLayer->Init())
        return nullptr;
    return poDS.release();
}
