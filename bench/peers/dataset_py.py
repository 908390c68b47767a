#!/usr/bin/env python3
"""Issue 29's Python rows: a dataset (VPC) read as one, against Dask and against laspy.

    dataset_py.py agg-ours  VPC [--threads N]
    dataset_py.py agg-dask  VPC [--threads N]
    dataset_py.py box-ours  VPC --bounds minx,miny,maxx,maxy [--threads N]
    dataset_py.py box-laspy VPC --bounds minx,miny,maxx,maxy

agg-*: the same aggregate over every point of the collection (count by
classification, mean z, min/max gps_time). agg-ours is one process:
``copc.open_dataset(vpc, threads=N).query(dims=...)`` read as Arrow batches, NumPy per
batch. agg-dask is ``copc.dask.read(vpc, dims=...)`` computed on a
``distributed.LocalCluster(n_workers=N, threads_per_worker=1, processes=True)`` made
here; its start-up is timed apart ("cluster_start_seconds") and not in "seconds"; "cpu"
is this process's CPU time plus every worker's (getrusage in the workers, before and
after), and "worker_peak_rss" each worker's ru_maxrss (bytes) after the compute.

box-*: the points of a 2-D box into NumPy. box-ours is
``copc.open_dataset(vpc, threads=N).query(bounds=...).to_numpy()``; box-laspy is what
users do without a dataset reader: read the VPC JSON, and for each tile whose
``proj:bbox`` meets the box, ``laspy.CopcReader.open(tile).query(bounds=Bounds(...))``
(lazrs decodes with RAYON_NUM_THREADS threads); one point record per tile is kept.

Prints one JSON line: {"points", "seconds", "cpu", ...}, wall and CPU time measured
here around open + query + aggregation (interpreter start and imports excluded).
"""
import argparse
import json
import os
import resource
import time

import numpy as np

DIMS = ["classification", "z", "gps_time"]


def emit(points, t0, c0, **extra):
    print(json.dumps({"points": int(points), "seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, **extra}))


def agg_ours(a):
    import copc
    import pyarrow as pa

    t0, c0 = time.perf_counter(), time.process_time()
    ds = copc.open_dataset(a.vpc, threads=a.threads)
    counts = np.zeros(256, dtype=np.int64)
    n, zsum, gmin, gmax = 0, 0.0, np.inf, -np.inf
    for b in pa.RecordBatchReader.from_stream(ds.query(dims=DIMS)):
        if b.num_rows == 0:
            continue
        cls = b.column("classification").to_numpy()
        z = b.column("z").to_numpy()
        g = b.column("gps_time").to_numpy()
        counts += np.bincount(cls, minlength=256)
        zsum += float(z.sum())
        gmin, gmax = min(gmin, float(g.min())), max(gmax, float(g.max()))
        n += b.num_rows
    classes = {str(c): int(v) for c, v in enumerate(counts) if v}
    emit(n, t0, c0, classes=classes, mean_z=zsum / max(n, 1), gps_min=gmin, gps_max=gmax, files=len(ds.items()))


def _cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def _maxrss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def agg_dask(a):
    import logging

    import dask
    import copc.dask
    from distributed import Client, LocalCluster

    n_workers = a.threads or 1
    ts = time.perf_counter()
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    client = Client(cluster)
    client.wait_for_workers(n_workers)
    start = time.perf_counter() - ts
    try:
        before = client.run(_cpu)
        t0, c0 = time.perf_counter(), time.process_time()
        ddf = copc.dask.read(a.vpc, dims=DIMS)
        counts, mean_z, gmin, gmax = dask.compute(ddf.classification.value_counts(), ddf.z.mean(),
                                                  ddf.gps_time.min(), ddf.gps_time.max())
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        after = client.run(_cpu)
        rss = client.run(_maxrss)
        cpu += sum(after[w] - before.get(w, 0.0) for w in after)
        classes = {str(int(c)): int(v) for c, v in sorted(counts.items())}
        print(json.dumps({"points": int(counts.sum()), "seconds": seconds, "cpu": cpu, "classes": classes,
                          "mean_z": float(mean_z), "gps_min": float(gmin), "gps_max": float(gmax),
                          "partitions": ddf.npartitions, "cluster_start_seconds": start,
                          "worker_peak_rss": sorted(rss.values())}))
    finally:
        client.close()
        cluster.close()


def parse_box(s):
    v = [float(p) for p in s.split(",")]
    if len(v) != 4:
        raise SystemExit(f"--bounds {s!r}: expected minx,miny,maxx,maxy")
    return v


def box_ours(a):
    import copc

    x0, y0, x1, y1 = parse_box(a.bounds)
    t0, c0 = time.perf_counter(), time.process_time()
    ds = copc.open_dataset(a.vpc, threads=a.threads)
    cols = ds.query(bounds=(x0, y0, x1, y1)).to_numpy()
    emit(len(cols["x"]), t0, c0, columns=len(cols))


def box_laspy(a):
    from laspy import CopcReader
    from laspy.copc import Bounds

    x0, y0, x1, y1 = parse_box(a.bounds)
    t0, c0 = time.perf_counter(), time.process_time()
    with open(a.vpc) as f:
        vpc = json.load(f)
    base = os.path.dirname(os.path.abspath(a.vpc))
    bounds = Bounds(mins=np.array([x0, y0]), maxs=np.array([x1, y1]))
    parts = []
    for feature in vpc["features"]:
        bb = feature["properties"].get("proj:bbox") or feature["bbox"]
        bx0, by0, bx1, by1 = (bb[0], bb[1], bb[3], bb[4]) if len(bb) == 6 else bb
        if bx0 > x1 or bx1 < x0 or by0 > y1 or by1 < y0:
            continue
        href = feature["assets"]["data"]["href"]
        path = href if os.path.isabs(href) or "://" in href else os.path.join(base, href.removeprefix("./"))
        with CopcReader.open(path) as r:
            parts.append(r.query(bounds=bounds))
    emit(sum(len(p) for p in parts), t0, c0, tiles_read=len(parts))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["agg-ours", "agg-dask", "box-ours", "box-laspy"])
    p.add_argument("vpc")
    p.add_argument("--bounds")
    p.add_argument("--threads", type=int)
    a = p.parse_args()
    {"agg-ours": agg_ours, "agg-dask": agg_dask, "box-ours": box_ours, "box-laspy": box_laspy}[a.mode](a)


if __name__ == "__main__":
    main()
