"""Queries of the installed wheel against laspy (an independent reader), a brute-force
NumPy filter and the copc CLI's counts, on every COPC 1.0 file of the shared data."""

from __future__ import annotations

import subprocess

import laspy
import numpy as np
import pytest

import copc
from conftest import COPC_FILES

# copc column -> laspy dimension (standard ones share the name)
FLAGS = ["scan_direction_flag", "edge_of_flight_line", "synthetic", "key_point", "withheld", "overlap"]


def laspy_arrays(path) -> dict[str, np.ndarray]:
    with laspy.CopcReader.open(str(path)) as r:
        pts = r.query()
        out = {"x": np.asarray(pts.x, dtype=np.float64), "y": np.asarray(pts.y, dtype=np.float64), "z": np.asarray(pts.z, dtype=np.float64)}
        for name in pts.point_format.dimension_names:
            if name in ("X", "Y", "Z"):
                continue
            out[name] = np.asarray(pts[name])
        return out


def sort_rows(cols: dict[str, np.ndarray], keys: list[str]) -> dict[str, np.ndarray]:
    order = np.lexsort([cols[k].astype(np.float64) for k in reversed(keys)])
    return {k: v[order] for k, v in cols.items()}


@pytest.mark.parametrize("name", COPC_FILES)
def test_full_query_equals_laspy(data, name):
    ours = copc.open(data / name).query().to_numpy()
    theirs = laspy_arrays(data / name)
    assert len(ours["x"]) == len(theirs["x"]) == copc.open(data / name).point_count
    common = [k for k in ours if k in theirs]
    # every dimension laspy has (extra bytes included) is compared, and we have them all
    missing = set(theirs) - set(ours)
    assert not missing, f"columns laspy has and copc lacks: {missing}"
    assert {"x", "y", "z", "classification", "intensity", "gps_time"} <= set(common)
    # laspy reads nodes in another order: compare as multisets (rows sorted by all values)
    a = sort_rows({k: ours[k] for k in common}, common)
    b = sort_rows({k: theirs[k] for k in common}, common)
    for k in common:
        if k in FLAGS:
            np.testing.assert_array_equal(a[k].astype(bool), b[k].astype(bool), err_msg=k)
        else:
            np.testing.assert_array_equal(a[k], b[k].astype(a[k].dtype), err_msg=k)


def cli_count(cli, path, *args) -> int:
    out = subprocess.run([cli, "query", str(path), *args, "--count"], check=True, capture_output=True, text=True)
    return int(out.stdout.strip())


def boxes(r: copc.Reader):
    x0, y0, z0, x1, y1, z1 = r.bounds
    w, h, d = x1 - x0, y1 - y0, z1 - z0
    box2 = (x0 + 0.2 * w, y0 + 0.3 * h, x0 + 0.7 * w, y0 + 0.8 * h)
    box3 = (*box2, z0 + 0.1 * d, z0 + 0.6 * d)
    return box2, box3


@pytest.mark.parametrize("name", COPC_FILES)
def test_2d_box_equals_brute_force(data, name):
    # laspy's own 2-D bounds query is wrong (laspy#370): compare with a filter of the full read
    r = copc.open(data / name)
    full = r.query().to_numpy()
    (bx0, by0, bx1, by1), _ = boxes(r)
    keep = (full["x"] >= bx0) & (full["x"] <= bx1) & (full["y"] >= by0) & (full["y"] <= by1)
    got = r.query(bounds=(bx0, by0, bx1, by1)).to_numpy()
    assert len(got["x"]) == keep.sum()
    cols = ["x", "y", "z", "gps_time", "intensity"]
    a = sort_rows({k: got[k] for k in cols}, cols)
    b = sort_rows({k: full[k][keep] for k in cols}, cols)
    for k in cols:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.mark.parametrize("name", COPC_FILES)
def test_counts_equal_cli(data, cli, name):
    path = data / name
    r = copc.open(path)
    box2, box3 = boxes(r)
    x0, y0, x1, y1 = box2
    wkt = f"POLYGON(({x0} {y0}, {x1} {y0}, {(x0 + x1) / 2} {y1}, {x0} {y0}))"
    spacing = r.info["spacing"]
    cases = [
        ({"bounds": box2}, ["--bounds", ",".join(map(repr, box2))]),
        ({"bounds": box3}, ["--bounds", ",".join(map(repr, box3))]),
        ({"polygon": wkt}, ["--polygon", wkt]),
        ({"resolution": spacing / 2}, ["--resolution", repr(spacing / 2)]),
        ({"max_depth": 1}, ["--max-depth", "1"]),
        ({"bounds": box2, "dims": ["x", "y", "classification"]}, ["--bounds", ",".join(map(repr, box2)), "--dims", "x,y,classification"]),
    ]
    for kwargs, args in cases:
        q = r.query(**kwargs)
        n = cli_count(cli, path, *args)
        arrays = q.to_numpy()
        assert len(arrays["x"]) == n, (kwargs, n)
        assert q.count() == n, kwargs
        if "dims" in kwargs:
            assert list(arrays) == kwargs["dims"]


def test_polygon_equals_brute_force(data):
    # a triangle, tested point by point with a NumPy point-in-triangle filter
    r = copc.open(data / "pdal_lone-star.copc.laz")
    full = r.query(dims=["x", "y"]).to_numpy()
    (x0, y0, x1, y1), _ = boxes(r)
    xm = (x0 + x1) / 2
    got = r.query(polygon={"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [xm, y1], [x0, y0]]]}).to_numpy()
    x, y = full["x"], full["y"]
    inside = (y >= y0) & (y <= y1)
    # left edge (x0,y0)-(xm,y1) and right edge (x1,y0)-(xm,y1)
    left = (x - x0) * (y1 - y0) - (xm - x0) * (y - y0) >= 0
    right = (x - x1) * (y1 - y0) - (xm - x1) * (y - y0) <= 0
    expected = inside & left & right
    # points exactly on an edge may go either way in floating point: allow none here
    assert abs(len(got["x"]) - int(expected.sum())) == 0


def test_reader_metadata(data):
    r = copc.open(data / "pdal_1.2-with-color.copc.laz")
    with laspy.open(str(data / "pdal_1.2-with-color.copc.laz")) as f:
        h = f.header
        assert r.header["point_count"] == h.point_count == r.point_count
        assert r.header["point_format"] == h.point_format.id == 7
        np.testing.assert_allclose(r.header["scale"], h.scales)
        np.testing.assert_allclose(r.header["offset"], h.offsets)
        np.testing.assert_allclose(r.bounds, [*h.mins, *h.maxs])
        assert r.header["version"] == "1.4"
    assert r.crs and "NAD83" in r.crs
    info = r.info
    assert set(info) >= {"center", "halfsize", "spacing", "root_hier_offset", "root_hier_size", "gpstime_minimum", "gpstime_maximum"}
    nodes = r.nodes()
    assert len(nodes) == 65 and sum(n.point_count for n in nodes) == 1065
    assert nodes[0].key == (nodes[0].level, nodes[0].x, nodes[0].y, nodes[0].z)
    assert all(n.byte_size > 0 and n.offset > 0 for n in nodes)
    assert len(r.nodes(max_depth=0)) == 1


def test_to_numpy_is_zero_copy(data):
    q = copc.open(data / "pdal_lone-star.copc.laz").query(dims=["x", "classification", "withheld"])
    a = q.to_numpy()
    # a view of the Arrow buffer (base is the copc Buffer), not a NumPy-owned copy
    assert not a["x"].flags.owndata and not a["x"].flags.writeable
    assert a["withheld"].dtype == np.bool_
    assert a["classification"].dtype == np.uint8


def test_extra_bytes_column(data):
    a = copc.open(data / "pdal_ellipsoid-eb.copc.laz").query().to_numpy()
    assert "InvertedIntensity" in a and a["InvertedIntensity"].dtype == np.float64
    assert len(a["InvertedIntensity"]) == 200000


def test_result_can_be_read_twice(data):
    q = copc.open(data / "pdal_1.2-with-color.copc.laz").query(max_depth=1)
    import pyarrow as pa

    assert pa.table(q).num_rows == pa.table(q).num_rows == len(q.to_numpy()["x"]) > 0
    batches = list(copc.open(data / "pdal_1.2-with-color.copc.laz").query(batch_rows=100))
    assert all(b.num_rows <= 100 for b in batches) and sum(b.num_rows for b in batches) == 1065
