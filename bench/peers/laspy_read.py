#!/usr/bin/env python3
"""laspy's CopcReader (lazrs backend) as a benchmark peer.

    laspy_read.py SOURCE [--bounds minx,miny,maxx,maxy] [--resolution R] [--xyz]

SOURCE is a path or an http:// URL. Prints one JSON line:
{"points": N, "seconds": S, "cpu": C} with S the wall time and C the process CPU
time of open + query, measured here (interpreter start and imports excluded).
Threads: lazrs decodes with rayon, so RAYON_NUM_THREADS sets them; HTTP requests
use laspy's default pool (http_num_threads=10).
"""
import argparse
import json
import time

import numpy as np
import laspy
from laspy import CopcReader, DecompressionSelection
from laspy.copc import Bounds


def main():
    p = argparse.ArgumentParser()
    p.add_argument("source")
    p.add_argument("--bounds")
    p.add_argument("--resolution", type=float)
    p.add_argument("--xyz", action="store_true", help="decode X, Y, Z only")
    a = p.parse_args()
    t0, c0 = time.perf_counter(), time.process_time()
    sel = DecompressionSelection.XY_RETURNS_CHANNEL | DecompressionSelection.Z if a.xyz else DecompressionSelection.all()
    with CopcReader.open(a.source, decompression_selection=sel) as r:
        bounds = None
        if a.bounds:
            v = [float(s) for s in a.bounds.split(",")]
            bounds = Bounds(mins=np.array(v[0:2]), maxs=np.array(v[2:4]))
        pts = r.query(bounds=bounds, resolution=a.resolution)
        n = len(pts)
    print(json.dumps({"points": n, "seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0,
                      "version": laspy.__version__}))


if __name__ == "__main__":
    main()
