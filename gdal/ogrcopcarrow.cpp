// RFC 86 (GDAL's columnar read API): OGRLayer::GetArrowStream served by the copc
// library's own Arrow C stream (copc_reader_query_arrow). The layer's filters become
// the same query GetNextFeature uses (spatial filter pushed down exactly, resolution,
// depth); ignored fields are neither columns nor decoded. Columns as GDAL's generic
// implementation lays them out: the FID (INCLUDE_FID, default YES) first, then the
// fields, then the geometry as ISO WKB (extension ogc.wkb). Values keep the library's
// types (uint8, uint16, boolean flags...), which hold the same numbers as the fields.
#include "ogr_copc.h"

#include <cstring>
#include <string>

using namespace ogr_copc;

namespace
{

// The library's stream, wrapped so that the layer knows while one is alive.
struct Wrapped
{
    struct ArrowArrayStream inner;
    std::shared_ptr<bool> active;
};

Wrapped *Of(struct ArrowArrayStream *s)
{
    return static_cast<Wrapped *>(s->private_data);
}

int GetSchema(struct ArrowArrayStream *s, struct ArrowSchema *out)
{
    Wrapped *w = Of(s);
    return w->inner.get_schema(&w->inner, out);
}

int GetNext(struct ArrowArrayStream *s, struct ArrowArray *out)
{
    Wrapped *w = Of(s);
    return w->inner.get_next(&w->inner, out);
}

const char *GetLastError(struct ArrowArrayStream *s)
{
    Wrapped *w = Of(s);
    return w->inner.get_last_error(&w->inner);
}

void Release(struct ArrowArrayStream *s)
{
    Wrapped *w = Of(s);
    if (w->inner.release)
        w->inner.release(&w->inner);
    *w->active = false;
    delete w;
    s->private_data = nullptr;
    s->release = nullptr;
}

}  // namespace

bool OGRCOPCLayer::GetArrowStream(struct ArrowArrayStream *out_stream, CSLConstList papszOptions)
{
    bool bExact = true;
    if (m_poAttrQuery != nullptr)
        return OGRLayer::GetArrowStream(out_stream, papszOptions);
    if (*m_pbArrowStreamActive)
    {
        CPLError(CE_Failure, CPLE_AppDefined, "COPC: an Arrow array stream is already in progress on this layer");
        return false;
    }
    copc_query *q = MakeQuery(false, &bExact);
    if (q == nullptr)
        return false;
    if (!bExact)
    {
        // A filter geometry the library cannot test (not a (multi)polygon): GDAL's
        // generic path applies it feature by feature.
        copc_query_free(q);
        return OGRLayer::GetArrowStream(out_stream, papszOptions);
    }

    copc_arrow_options *o = nullptr;
    copc_status st = copc_arrow_options_new(&o);
    const char *pszBatch = CSLFetchNameValueDef(papszOptions, "MAX_FEATURES_IN_BATCH", "65536");
    if (st == COPC_STATUS_OK)
        st = copc_arrow_options_set(o, "batch_rows", pszBatch);
    if (st == COPC_STATUS_OK && CPLTestBool(CSLFetchNameValueDef(papszOptions, "INCLUDE_FID", "YES")))
    {
        const char *pszFID = GetFIDColumn();
        st = copc_arrow_options_set(o, "point_id", pszFID && *pszFID ? pszFID : "OGC_FID");
    }
    for (size_t i = 0; st == COPC_STATUS_OK && i < m_aoDims.size(); ++i)
    {
        const OGRFieldDefn *poField = m_poDefn->GetFieldDefn(static_cast<int>(i));
        if (!poField->IsIgnored())
            st = copc_arrow_options_add_column(o, m_aoDims[i].dim, poField->GetNameRef());
    }
    if (st == COPC_STATUS_OK && !m_poDefn->IsGeometryIgnored())
    {
        const char *pszGeom = m_poDefn->GetGeomFieldDefn(0)->GetNameRef();
        st = copc_arrow_options_set(o, "geometry", "wkb");
        if (st == COPC_STATUS_OK)
            st = copc_arrow_options_set(o, "geometry_name", pszGeom && *pszGeom ? pszGeom : "wkb_geometry");
    }
    auto *w = new Wrapped();
    std::memset(&w->inner, 0, sizeof w->inner);
    if (st == COPC_STATUS_OK)
        st = copc_reader_query_arrow(m_poReader, q, o, &w->inner);
    copc_arrow_options_free(o);
    copc_query_free(q);
    if (st != COPC_STATUS_OK)
    {
        delete w;
        return Fail("Arrow stream", st);
    }
    CPLDebug("COPC", "GetArrowStream: the library's stream, batches of at most %s rows", pszBatch);
    w->active = m_pbArrowStreamActive;
    *w->active = true;
    out_stream->get_schema = GetSchema;
    out_stream->get_next = GetNext;
    out_stream->get_last_error = GetLastError;
    out_stream->release = Release;
    out_stream->private_data = w;
    return true;
}
