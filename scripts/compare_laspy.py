#!/usr/bin/env python3
"""Compares `copc info --json` and `copc query --count` with laspy's CopcReader on
COPC files: python3 scripts/compare_laspy.py COPC_BIN FILE.copc.laz...
Exit 1 on any difference. Needs `pip install 'laspy[lazrs]'`."""
import json, math, subprocess, sys
import numpy as np
import laspy
from laspy.copc import Bounds

def main():
    exe, files = sys.argv[1], sys.argv[2:]
    bad = 0
    for f in files:
        info = json.loads(subprocess.check_output([exe, "info", "--json", f]))
        with laspy.CopcReader.open(f) as r:
            h = r.header
            checks = {
                "point_count": (info["point_count"], h.point_count),
                "point_format": (info["point_format"], h.point_format.id),
                "scale": (info["scale"], list(h.scales)),
                "offset": (info["offset"], list(h.offsets)),
                "min": (info["bounds"]["min"], list(h.mins)),
                "max": (info["bounds"]["max"], list(h.maxs)),
                "root_hier": ([info["copc"]["root_hier_offset"], info["copc"]["root_hier_size"]],
                              [r.copc_info.hierarchy_root_offset, r.copc_info.hierarchy_root_size]),
                "center": (info["copc"]["center"], list(r.copc_info.center)),
                "halfsize": (info["copc"]["halfsize"], r.copc_info.halfsize),
                "spacing": (info["copc"]["spacing"], r.copc_info.spacing),
                "gpstime": ([info["copc"]["gpstime_minimum"], info["copc"]["gpstime_maximum"]],
                            [r.copc_info.gps_min, r.copc_info.gps_max]),
                "extra_bytes": ([e["name"] for e in info["extra_bytes"]], list(h.point_format.extra_dimension_names)),
            }
            pts = r.query()
            checks["all_points"] = (int(subprocess.check_output([exe, "query", f, "--count"])), len(pts))
            mins, maxs = np.array(h.mins), np.array(h.maxs)
            for frac in [(0.1, 0.2, 0.55, 0.6), (0.5, 0.5, 1.5, 1.5)]:
                lo = mins[:2] + (maxs[:2] - mins[:2]) * frac[:2]
                hi = mins[:2] + (maxs[:2] - mins[:2]) * frac[2:]
                # laspy's 2-D box takes Z from the header; filter its points exactly
                q = r.query(Bounds(mins=np.array([lo[0], lo[1]]), maxs=np.array([hi[0], hi[1]])))
                x, y = np.asarray(q.x), np.asarray(q.y)
                n = int(np.sum((x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1])))
                arg = ",".join(repr(float(v)) for v in (lo[0], lo[1], hi[0], hi[1]))
                ours = int(subprocess.check_output([exe, "query", f, "--bounds", arg, "--count"]))
                checks[f"box{frac}"] = (ours, n)
            for res in [r.copc_info.spacing, r.copc_info.spacing / 3]:
                ours = int(subprocess.check_output([exe, "query", f, "--resolution", repr(res), "--count"]))
                checks[f"resolution {res:.4g}"] = (ours, len(r.query(resolution=res)))
        for k, (a, b) in checks.items():
            numeric = isinstance(a, (float, list)) and all(isinstance(v, (int, float)) for v in np.ravel(a))
            same = np.array_equal(np.array(a, dtype=float), np.array(b, dtype=float)) if numeric else a == b
            if not same:
                bad += 1
                print(f"DIFF {f}: {k}: copc {a} vs laspy {b}")
        print(f"{'ok  ' if bad == 0 else 'FAIL'} {f}: {len(checks)} values compared")
    sys.exit(1 if bad else 0)

main()
