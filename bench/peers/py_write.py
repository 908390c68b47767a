#!/usr/bin/env python3
"""Writing from NumPy arrays, for copc-bench's Python rows (issue 28).

    py_write.py copc|laspy INPUT.laz OUTPUT [--threads N]

Loads INPUT with laspy (not timed), then times only the write of the same arrays:
  copc   copc.write(OUTPUT.copc.laz, dict of the LAS dimensions) -> a COPC file;
  laspy  LasData.write(OUTPUT.laz) with lazrs's parallel backend -> a plain LAZ file,
         the closest laspy comes (it cannot write COPC).
Prints one JSON line {"points", "seconds", "cpu", "bytes"}.
"""
import argparse
import json
import os
import time

import numpy as np
import laspy


def main():
    p = argparse.ArgumentParser()
    p.add_argument("tool", choices=["copc", "laspy"])
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--threads", type=int)
    a = p.parse_args()
    las = laspy.read(a.input)
    n = len(las.points)
    if a.tool == "copc":
        import copc
        names = ["intensity", "return_number", "number_of_returns", "synthetic", "key_point", "withheld",
                 "overlap", "scanner_channel", "scan_direction_flag", "edge_of_flight_line", "classification",
                 "scan_angle", "user_data", "point_source_id", "gps_time"]
        if "red" in las.point_format.dimension_names:
            names += ["red", "green", "blue"]
        cols = {"x": np.asarray(las.x), "y": np.asarray(las.y), "z": np.asarray(las.z)}
        cols.update({k: np.asarray(las[k]) for k in names})
        # the WKT as laspy read it (parse_crs would need pyproj)
        wkt = next((v.string for v in las.header.vlrs if type(v).__name__ == "WktCoordinateSystemVlr"), None)
        t0, c0 = time.perf_counter(), time.process_time()
        copc.write(a.output, cols, scale=list(las.header.scales), offset=list(las.header.offsets), crs=wkt, threads=a.threads)
    else:
        t0, c0 = time.perf_counter(), time.process_time()
        las.write(a.output, laz_backend=laspy.LazBackend.LazrsParallel)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"points": n, "seconds": wall, "cpu": cpu, "bytes": os.path.getsize(a.output)}))


if __name__ == "__main__":
    main()
