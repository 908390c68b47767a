#!/usr/bin/env python3
"""copc-lib (pip package copclib) as a benchmark peer.

    copclib_read.py FILE [--bounds minx,miny,maxx,maxy] [--resolution R]

Prints one JSON line {"points": N, "seconds": S, "cpu": C} (open + query, measured
here). copc-lib decodes on the calling thread (it has no thread option), one node at a
time. We use its fastest path: GetPointData (a node's decompressed records as one
buffer) for the nodes its own selection picks (GetAllNodes, GetNodesIntersectBox,
GetNodesWithinResolution), and numpy for the per-point box test, as laspy does.
"""
import argparse
import json
import time

import numpy as np
import copclib


def main():
    p = argparse.ArgumentParser()
    p.add_argument("source")
    p.add_argument("--bounds")
    p.add_argument("--resolution", type=float)
    a = p.parse_args()
    t0, c0 = time.perf_counter(), time.process_time()
    r = copclib.FileReader(a.source)
    h = r.copc_config.las_header
    rl = h.point_record_length
    box = None
    if a.bounds:
        v = [float(s) for s in a.bounds.split(",")]
        box = copclib.Box(v[0], v[1], v[2], v[3])
        off, sc = h.offset, h.scale
        lo = (round((v[0] - off.x) / sc.x), round((v[1] - off.y) / sc.y))
        hi = (round((v[2] - off.x) / sc.x), round((v[3] - off.y) / sc.y))
    res = a.resolution if a.resolution is not None else 0
    if box is not None:
        nodes = r.GetNodesIntersectBox(box, res)
    elif a.resolution is not None:
        nodes = r.GetNodesWithinResolution(res)
    else:
        nodes = r.GetAllNodes()
    n = 0
    batches = []
    for node in nodes:
        if node.point_count <= 0:
            continue
        rec = np.frombuffer(r.GetPointData(node), dtype=np.uint8).reshape(-1, rl)
        if box is not None:
            xy = rec[:, 0:8].copy().view("<i4")
            keep = (xy[:, 0] >= lo[0]) & (xy[:, 0] <= hi[0]) & (xy[:, 1] >= lo[1]) & (xy[:, 1] <= hi[1])
            rec = rec[keep]
        batches.append(rec)
        n += len(rec)
    r.Close()
    print(json.dumps({"points": n, "seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0,
                      "version": "2.6.3"}))


if __name__ == "__main__":
    main()
