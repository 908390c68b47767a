#!/usr/bin/env python3
"""Our Python package (`import copc`) as a benchmark row, the twin of laspy_read.py.

    copc_py_read.py SOURCE [--bounds minx,miny,maxx,maxy] [--xyz] [--threads N]

Reads the query into NumPy (`QueryResult.to_numpy()`: one array per dimension; with
--xyz only x, y, z are decoded) and prints one JSON line {"points", "seconds", "cpu"}:
wall and process CPU time of open + query + to_numpy, measured here (interpreter start
and imports excluded, as for laspy).
"""
import argparse
import json
import time

import copc


def main():
    p = argparse.ArgumentParser()
    p.add_argument("source")
    p.add_argument("--bounds")
    p.add_argument("--xyz", action="store_true")
    p.add_argument("--threads", type=int)
    a = p.parse_args()
    t0, c0 = time.perf_counter(), time.process_time()
    r = copc.open(a.source, threads=a.threads)
    bounds = [float(s) for s in a.bounds.split(",")] if a.bounds else None
    cols = r.query(bounds=bounds, dims=["x", "y", "z"] if a.xyz else None).to_numpy()
    n = len(cols["x"])
    # touch every column once (the decode is done; this proves the arrays are there)
    check = sum(float(v[:1].sum()) if len(v) else 0.0 for v in cols.values())
    print(json.dumps({"points": n, "seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0,
                      "columns": len(cols), "check": check, "version": copc.__version__}))


if __name__ == "__main__":
    main()
