"""One GDAL read of a whole COPC layer through our plugin, for copc-bench's Arrow rows
(issue 27). Run by Debian's Python (python3-gdal) with GDAL_DRIVER_PATH at the plugin:

    gdal_arrow.py MODE FILE

MODE is
  numpy     GetArrowStreamAsNumPy() over the whole layer (our OLCFastGetArrowStream);
  features  a GetNextFeature() loop that reads every field (GetField by index, the
            fastest idiom in GDAL 3.6's bindings: ft[name] costs ~4x more) and the
            geometry's WKB;
  generic   GetArrowStreamAsNumPy() with an attribute filter that keeps every point,
            so GDAL answers through its generic (feature-by-feature) stream.

Each mode touches every value (a checksum per column), prints one JSON line with the
points read, its own wall and CPU time, and fails when the count is not the layer's.
"""
import json
import sys
import time


def main():
    mode, path = sys.argv[1], sys.argv[2]
    from osgeo import gdal, ogr
    gdal.UseExceptions()
    t0, c0 = time.perf_counter(), time.process_time()
    ds = gdal.OpenEx(path, gdal.OF_VECTOR | gdal.OF_READONLY)
    lyr = ds.GetLayer(0)
    expected = lyr.GetFeatureCount()
    points, check = 0, 0.0
    if mode in ("numpy", "generic"):
        if mode == "generic":
            # every point has a return number >= 0: the filter keeps all of them
            lyr.SetAttributeFilter("return_number >= 0")
            if lyr.TestCapability(ogr.OLCFastGetArrowStream):
                sys.exit("the attribute filter did not turn the fast stream off")
        elif not lyr.TestCapability(ogr.OLCFastGetArrowStream):
            sys.exit("our plugin does not report OLCFastGetArrowStream")
        for batch in lyr.GetArrowStreamAsNumPy(options=["USE_MASKED_ARRAYS=NO"]):
            n = 0
            for k, v in batch.items():
                n = len(v)
                if k != "wkb_geometry":
                    check += float(v[:1].sum()) if n else 0.0
            points += n
    elif mode == "features":
        defn = lyr.GetLayerDefn()
        fields = range(defn.GetFieldCount())
        for ft in lyr:
            for i in fields:
                ft.GetField(i)
            g = ft.GetGeometryRef()
            if g is not None:
                g.ExportToIsoWkb()
            points += 1
    else:
        sys.exit(f"unknown mode {mode!r}: numpy, features or generic")
    if points != expected:
        sys.exit(f"{mode}: read {points} points, the layer has {expected}")
    print(json.dumps({"points": points, "seconds": time.perf_counter() - t0,
                      "cpu": time.process_time() - c0, "check": check}))


if __name__ == "__main__":
    main()
