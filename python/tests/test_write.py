"""Writing: copc.write of arrays read with laspy passes xcheck --strict --compare
against the source; copc.translate gives the CLI's bytes; a Writer fed in batches
under a small memory limit equals one write."""

from __future__ import annotations

import os
import subprocess

import laspy
import numpy as np
import pyarrow as pa
import pytest

import copc

SOURCE = "pdal_1.2-with-color.las"  # LAS 1.2, PDRF 3 (RGB), 1065 points


def las_points(path) -> tuple[dict[str, np.ndarray], laspy.LasHeader]:
    """The points of a LAS file (PDRF 0-5) under copc's column names."""
    las = laspy.read(str(path))
    p = {
        "x": np.asarray(las.x, dtype=np.float64),
        "y": np.asarray(las.y, dtype=np.float64),
        "z": np.asarray(las.z, dtype=np.float64),
        "intensity": np.asarray(las.intensity),
        "return_number": np.asarray(las.return_number),
        "number_of_returns": np.asarray(las.number_of_returns),
        "scan_direction_flag": np.asarray(las.scan_direction_flag).astype(bool),
        "edge_of_flight_line": np.asarray(las.edge_of_flight_line).astype(bool),
        "classification": np.asarray(las.classification),
        "synthetic": np.asarray(las.synthetic).astype(bool),
        "key_point": np.asarray(las.key_point).astype(bool),
        "withheld": np.asarray(las.withheld).astype(bool),
        # LAS 1.4 stores the angle in 0.006 degree steps (the rank rounded, as translate does)
        "scan_angle": np.round(np.asarray(las.scan_angle_rank, dtype=np.float64) / 0.006).astype(np.int16),
        "user_data": np.asarray(las.user_data),
        "point_source_id": np.asarray(las.point_source_id),
        "gps_time": np.asarray(las.gps_time),
        "red": np.asarray(las.red),
        "green": np.asarray(las.green),
        "blue": np.asarray(las.blue),
    }
    return p, las.header


def xcheck(out, compare) -> None:
    """xcheck --strict on `out`, with --compare `compare` unless it is None."""
    exe = os.environ.get("XCHECK")
    if not exe or not os.access(exe, os.X_OK):
        pytest.fail("XCHECK is not set to the xcheck tool (../shared/tools/xcheck; scripts/python-test sets it)")
    extra = [] if compare is None else ["--compare", str(compare)]
    r = subprocess.run([exe, str(out), "--strict", *extra], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def test_write_arrays_passes_xcheck(data, tmp_path):
    points, h = las_points(data / SOURCE)
    out = tmp_path / "out.copc.laz"
    # the source has no CRS (xcheck --strict wants one): the COPC version's, as WKT
    wkt = copc.open(data / "pdal_1.2-with-color.copc.laz").crs
    s = copc.write(out, points, scale=list(h.scales), offset=list(h.offsets), crs=wkt)
    assert s["points"] == 1065 and s["point_format"] == 7
    xcheck(out, data / SOURCE)
    back = copc.open(out).query().to_numpy()
    order_a = np.lexsort([back["gps_time"], back["z"], back["y"], back["x"]])
    order_b = np.lexsort([points["gps_time"], points["z"], points["y"], points["x"]])
    for k, v in points.items():
        np.testing.assert_array_equal(back[k][order_a], v[order_b], err_msg=k)
    assert copc.validate(out).ok


def test_write_arrow_and_extra_dims(data, tmp_path):
    # a query (an Arrow stream) written back, extra bytes included
    src = copc.open(data / "pdal_ellipsoid-eb.copc.laz")
    out = tmp_path / "eb.copc.laz"
    h = src.header
    copc.write(out, src.query(), scale=h["scale"], offset=h["offset"])
    a, b = src.query().to_numpy(), copc.open(out).query().to_numpy()
    assert set(a) == set(b)
    oa = np.lexsort([a["gps_time"], a["z"], a["y"], a["x"]])
    ob = np.lexsort([b["gps_time"], b["z"], b["y"], b["x"]])
    for k in a:
        np.testing.assert_array_equal(a[k][oa], b[k][ob], err_msg=k)
    # extra columns of a dict become extra bytes typed from their dtype; extra_dims filters them
    n = 1000
    rng = np.random.default_rng(1)
    pts = {"x": rng.uniform(0, 100, n), "y": rng.uniform(0, 100, n), "z": rng.uniform(0, 10, n),
           "height": rng.uniform(0, 5, n).astype(np.float32), "tree_id": rng.integers(0, 1000, n, dtype=np.uint32),
           "dropped": np.zeros(n, dtype=np.int8)}
    out2 = tmp_path / "extra.copc.laz"
    copc.write(out2, pts, scale=0.001, offset=(0, 0, 0), extra_dims=["height", "tree_id"])
    t = pa.table(copc.open(out2).query())
    assert t.schema.field("height").type == pa.float32() and t.schema.field("tree_id").type == pa.uint32()
    assert "dropped" not in t.column_names
    assert sorted(t["tree_id"].to_pylist()) == sorted(pts["tree_id"].tolist())
    # a pyarrow Table in, with bool flags
    tbl = pa.table({"x": pts["x"], "y": pts["y"], "z": pts["z"], "withheld": np.arange(n) % 2 == 0})
    out3 = tmp_path / "tbl.copc.laz"
    copc.write(out3, tbl, scale=0.001, offset=(0, 0, 0))
    assert copc.open(out3).query().to_numpy()["withheld"].sum() == n // 2


def test_translate_same_bytes_as_cli(data, cli, tmp_path):
    src = data / "pdal_lone-star-source.laz"
    ours, theirs = tmp_path / "py.copc.laz", tmp_path / "cli.copc.laz"
    events = []
    s = copc.translate(src, ours, threads=2, progress=events.append)
    subprocess.run([cli, "translate", str(src), str(theirs), "--threads", "2"], check=True, capture_output=True)
    assert ours.read_bytes() == theirs.read_bytes()
    assert s["points"] == 518862
    assert any(e["event"] == "phase" for e in events) and events[-1]["event"] == "done"
    # options go through the library's parser, as the CLI's
    ours2, theirs2 = tmp_path / "py2.copc.laz", tmp_path / "cli2.copc.laz"
    copc.translate([data / "lasr_Example.las"], ours2, scale=0.01, offset="auto", max_points_per_node=10, crs="EPSG:32617")
    subprocess.run([cli, "translate", str(data / "lasr_Example.las"), str(theirs2), "--scale", "0.01", "--offset", "auto",
                    "--max-points-per-node", "10", "--a-srs", "EPSG:32617"], check=True, capture_output=True)
    assert ours2.read_bytes() == theirs2.read_bytes()


def test_writer_batches_equal_one_write(data, tmp_path):
    # Same bytes: with the same scale, offset and point order the octree depends only on
    # the points, and the library builds the same file whether they stayed in memory
    # (one write, default memory limit) or went to its spill file (80M limit, below the
    # 518 862 points' needs: PointWriter spills beyond ~220 000 points).
    r = copc.open(data / "pdal_lone-star.copc.laz")
    pts = {k: v for k, v in r.query().to_numpy().items()}
    h = r.header
    opts = dict(scale=h["scale"], offset=h["offset"], max_points_per_node=10000, threads=2)
    one = tmp_path / "one.copc.laz"
    copc.write(one, pts, **opts)
    batched = tmp_path / "batched.copc.laz"
    n = len(pts["x"])
    cuts = np.linspace(0, n, 11).astype(int)
    with copc.Writer(batched, memory_limit="80M", **opts) as w:
        for a, b in zip(cuts[:-1], cuts[1:]):
            w.add({k: v[a:b] for k, v in pts.items()})
        assert w.points == n
    assert w.summary is not None and w.summary["points"] == n
    assert one.read_bytes() == batched.read_bytes()


def test_writer_exception_leaves_nothing(tmp_path):
    out = tmp_path / "never.copc.laz"
    with pytest.raises(RuntimeError):
        with copc.Writer(out, scale=0.01, offset=(0, 0, 0)) as w:
            w.add({"x": np.arange(10.0), "y": np.arange(10.0), "z": np.arange(10.0)})
            raise RuntimeError("boom")
    assert not out.exists() and list(tmp_path.iterdir()) == []
