"""Many files as one (copc.open_dataset): a 16-tile town made with the CLI against the
same queries on the merged file, a brute-force NumPy filter on laspy's points and the
CLI's counts; the VPC read by pystac; the planner's partitions; HTTP through a real
nginx and S3 through s3s-fs; bad collections."""

from __future__ import annotations

import json
import pickle
import shutil

import laspy
import numpy as np
import pyarrow as pa
import pytest

import copc
from conftest import S3_ACCESS_KEY, S3_BUCKET, S3_SECRET_KEY, Town, run_cli

XYZC = ["x", "y", "z", "classification"]


def header(path):
    with laspy.open(path) as f:
        return f.header


def xyz(cols) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.asarray(cols["x"]), np.asarray(cols["y"]), np.asarray(cols["z"]))


def in_box(town: Town, box) -> np.ndarray:
    x, y = np.asarray(town.las.x), np.asarray(town.las.y)
    return (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])


def in_polygon(px: np.ndarray, py: np.ndarray, ring: list[tuple[float, float]]) -> np.ndarray:
    """Even-odd rule over the closed ring."""
    inside = np.zeros(len(px), dtype=bool)
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        crosses = (y1 > py) != (y2 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = (x2 - x1) * (py - y1) / (y2 - y1) + x1
        inside ^= crosses & (px < at)
    return inside


def with_class(town: Town, cols) -> np.ndarray:
    """(X, Y, Z, classification) integer rows, sorted."""
    ints = [np.round((v - o) / s).astype(np.int64) for v, o, s in zip(xyz(cols), town.offset, town.scale)]
    ints.append(np.asarray(cols["classification"]).astype(np.int64))
    rows = np.stack(ints, axis=1)
    return rows[np.lexsort(ints[::-1])]


def laspy_cols(town: Town, mask) -> dict[str, np.ndarray]:
    las = town.las
    return {"x": np.asarray(las.x)[mask], "y": np.asarray(las.y)[mask], "z": np.asarray(las.z)[mask], "classification": np.asarray(las.classification)[mask]}


def test_vpc_is_a_stac_item_collection_of_the_tiles(town):
    import pystac
    from pystac.extensions.pointcloud import PointcloudExtension
    from pystac.extensions.projection import ProjectionExtension

    items = pystac.ItemCollection.from_dict(json.loads(town.vpc.read_text()))
    assert len(items) == len(town.tiles) == 16
    total = 0
    for item, tile in zip(items, town.tiles):
        # item.validate() fetches the STAC and extension JSON schemas over the network;
        # the suite runs offline, so the fields are checked through pystac's extensions
        assert item.stac_extensions and PointcloudExtension.has_extension(item) and ProjectionExtension.has_extension(item)
        pc, proj = PointcloudExtension.ext(item), ProjectionExtension.ext(item)
        h = header(tile)
        assert pc.count == h.point_count
        assert pc.type == "lidar" and pc.encoding == "application/vnd.laszip+copc"
        names = {s.name for s in pc.schemas}
        assert {"x", "y", "z", "classification", "gps_time", "red"} <= names
        np.testing.assert_allclose(proj.bbox, [*h.mins, *h.maxs], rtol=0, atol=1e-9)
        assert proj.epsg == 32610 and "32610" in proj.wkt2
        assert proj.geometry["type"] == "Polygon"
        assert item.assets["data"].href.endswith(tile.name) and item.assets["data"].roles == ["data"]
        assert item.id == tile.name.split(".")[0]
        total += h.point_count
    assert total == town.las.header.point_count


def test_open_dataset_lists_the_tiles(town):
    ds = copc.open_dataset(town.vpc)
    assert ds.name == str(town.vpc)
    items = ds.items()
    assert [i["href"] for i in items] == [str(t) for t in town.tiles]
    for it, tile in zip(items, town.tiles):
        h = header(tile)
        assert it["count"] == h.point_count and it["id"] == tile.name.split(".")[0]
        # the library widens a stated box by 1e-12 of each value (so JSON rounding
        # never prunes a point on an edge)
        np.testing.assert_allclose(it["bounds"], [*h.mins, *h.maxs], rtol=2e-12)
        assert it["epsg"] == 32610 and "32610" in it["wkt"] and it["encoding"] == "application/vnd.laszip+copc"
        assert it["point_format"] == 7
    assert ds.point_count == town.las.header.point_count
    h = town.las.header
    np.testing.assert_allclose(ds.bounds, [*h.mins, *h.maxs], rtol=2e-12)
    assert "16 files" in repr(ds)


def test_box_query_over_tiles_equals_merged_file_and_brute_force(town, cli):
    ds = copc.open_dataset(town.vpc)
    box = town.box(0.1, 0.15, 0.45, 0.5)
    q = ds.query(bounds=box, dims=XYZC)
    got = q.to_numpy()
    assert list(got) == XYZC and got["x"].dtype == np.float64 and got["classification"].dtype == np.uint8
    m = in_box(town, box)
    assert 0 < m.sum() < len(m) / 2
    brute = with_class(town, laspy_cols(town, m))
    np.testing.assert_array_equal(with_class(town, got), brute)
    merged = copc.open(town.merged).query(bounds=box, dims=XYZC).to_numpy()
    np.testing.assert_array_equal(with_class(town, merged), brute)
    assert q.count() == len(brute)
    assert int(run_cli(cli, "query", str(town.vpc), "--bounds", ",".join(repr(v) for v in box), "--count")) == len(brute)
    # any Arrow consumer: one stream over the tiles, batches of at most batch_rows
    small = ds.query(bounds=box, dims=XYZC, batch_rows=7_000)
    batches = list(small)
    assert len(batches) > 4 and max(b.num_rows for b in batches) <= 7_000
    table = pa.table(small)
    assert table.column_names == XYZC and table.num_rows == len(brute)
    np.testing.assert_array_equal(with_class(town, table.to_pydict()), brute)
    assert q.to_pandas().shape == (len(brute), 4)


def test_polygon_query_equals_brute_force_and_cli(town, cli):
    h = town.las.header
    (x0, y0), (x1, y1) = (float(v) for v in h.mins[:2]), (float(v) for v in h.maxs[:2])
    ring = [(x0 + 13.37, y0 + 7.31), (x1 - 21.13, y0 + 41.7), ((x0 + x1) / 2 + 3.3, y1 - 9.9), (x0 + 13.37, y0 + 7.31)]
    wkt = "POLYGON((" + ", ".join(f"{x!r} {y!r}" for x, y in ring) + "))"
    ds = copc.open_dataset(town.vpc)
    got = ds.query(polygon=wkt, dims=XYZC).to_numpy()
    m = in_polygon(np.asarray(town.las.x), np.asarray(town.las.y), ring)
    assert 0 < m.sum() < len(m)
    np.testing.assert_array_equal(with_class(town, got), with_class(town, laspy_cols(town, m)))
    # a GeoJSON mapping works the same, and the CLI counts the same
    gj = {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}
    assert ds.query(polygon=gj).count() == m.sum()
    assert int(run_cli(cli, "query", str(town.vpc), "--polygon", wkt, "--count")) == m.sum()


def test_dims_pick_columns_in_order(town):
    ds = copc.open_dataset(town.vpc)
    q = ds.query(dims=["gps_time", "intensity", "classification"])
    assert q.columns == ["gps_time", "intensity", "classification"]
    got = q.to_numpy()
    assert len(got["gps_time"]) == town.las.header.point_count
    np.testing.assert_array_equal(np.sort(got["gps_time"]), np.sort(np.asarray(town.las.gps_time)))
    np.testing.assert_array_equal(np.sort(got["intensity"]), np.sort(np.asarray(town.las.intensity)))
    with pytest.raises(copc.InvalidArgumentError, match="colour") as e:
        ds.query(dims=["x", "colour"])
    assert "t00.copc.laz" in str(e.value)


def test_a_list_of_files_is_a_dataset(town):
    tiles = [str(t) for t in town.tiles]
    ds = copc.open_dataset(tiles)
    assert ds.name == "(list)" and [i["href"] for i in ds.items()] == tiles
    box = town.box(0.3, 0.3, 0.8, 0.6)
    got = ds.query(bounds=box, dims=XYZC).to_numpy()
    np.testing.assert_array_equal(with_class(town, got), with_class(town, laspy_cols(town, in_box(town, box))))
    # one file is a dataset too
    one = copc.open_dataset(town.tiles[3])
    assert one.point_count == header(town.tiles[3]).point_count


def test_plan_partitions_cover_the_query_and_read_on_their_own(town):
    ds = copc.open_dataset(town.vpc)
    box = town.box(0.1, 0.15, 0.45, 0.5)
    parts = ds.plan(bounds=box, dims=XYZC, partition_points=20_000)
    tiles_in_box = {p.href for p in parts}
    assert len(parts) > 2 * len(tiles_in_box)
    assert any(p.exact for p in parts) and any(not p.exact for p in parts)
    read = []
    for p in parts:
        assert p.points <= 20_000 or len(p.keys) == 1
        assert len(p.keys) == len(p.ranges) > 0 and p.points <= p.node_points and p.dims == XYZC
        back = pickle.loads(pickle.dumps(p))
        assert back.to_json() == p.to_json() and back.keys == p.keys and back.href == p.href
        table = pa.table(back.read(threads=1))
        assert table.column_names == XYZC and back.read().count() == table.num_rows
        if p.exact:
            assert table.num_rows == p.points
        else:
            assert table.num_rows <= p.points
        read.append(table)
    got = pa.concat_tables(read).to_pydict()
    np.testing.assert_array_equal(with_class(town, got), with_class(town, laspy_cols(town, in_box(town, box))))
    # the partitions of a tile hold its nodes in the box, each once (Reader.nodes lists them)
    for href in tiles_in_box:
        nodes = copc.open(href).nodes(bounds=box)
        ours = [(k, r) for p in parts if p.href == href for k, r in zip(p.keys, p.ranges)]
        assert sorted(ours) == sorted((n.key, (n.offset, n.byte_size)) for n in nodes)
    # other columns than the planned ones, and the JSON form
    p = parts[0]
    assert p.read(dims=["gps_time"]).columns == ["gps_time"]
    assert copc.Partition.from_json(p.to_json()).keys == p.keys
    with pytest.raises(copc.InvalidArgumentError, match="partition JSON"):
        copc.Partition.from_json('{"href": 3}')
    # by bytes: the same nodes
    by_bytes = ds.plan(bounds=box, partition_bytes=64 << 10)
    assert sorted(k for p in by_bytes for k in p.keys) == sorted(k for p in parts for k in p.keys)
    with pytest.raises(copc.InvalidArgumentError, match="not both"):
        ds.plan(partition_points=10, partition_bytes=10)


def test_partitions_of_relative_paths_read_from_any_folder(town, tmp_path, monkeypatch):
    monkeypatch.chdir(town.dir.parent)
    rel = f"{town.dir.name}/all.vpc"
    parts = copc.open_dataset(rel).plan(partition_points=200_000)
    parts += copc.open_dataset([f"{town.dir.name}/{t.name}" for t in town.tiles[:2]]).plan()
    assert all(p.href == str(town.dir / p.href.rsplit("/", 1)[1]) for p in parts), parts[0].href
    monkeypatch.chdir(tmp_path)  # a worker elsewhere
    rows = sum(pa.table(pickle.loads(pickle.dumps(p)).read()).num_rows for p in parts)
    assert rows == town.las.header.point_count + sum(header(t).point_count for t in town.tiles[:2])


def test_http_through_nginx_equals_local(town, town_http):
    box = town.box(0.2, 0.1, 0.7, 0.45)
    ds = copc.open_dataset(f"{town_http}/all.vpc", requests=4, headers={"X-Test": "1"})
    assert all(i["href"] == f"{town_http}/{t.name}" for i, t in zip(ds.items(), town.tiles))
    got = ds.query(bounds=box, dims=XYZC).to_numpy()
    local = copc.open_dataset(town.vpc).query(bounds=box, dims=XYZC).to_numpy()
    assert len(got["x"]) > 0
    np.testing.assert_array_equal(with_class(town, got), with_class(town, local))
    np.testing.assert_array_equal(with_class(town, got), with_class(town, laspy_cols(town, in_box(town, box))))
    # a list of URLs, and a partition read through HTTP on its own
    urls = [f"{town_http}/{t.name}" for t in town.tiles[:3]]
    assert copc.open_dataset(urls).query().count() == sum(header(t).point_count for t in town.tiles[:3])
    part = pickle.loads(pickle.dumps(ds.plan(bounds=box, partition_points=50_000)[0]))
    assert part.href.startswith(town_http) and pa.table(part.read(requests=2)).num_rows <= part.points
    with pytest.raises(copc.Error) as e:
        copc.open_dataset([urls[0], f"{town_http}/nope.copc.laz"], http_retries=0)
    assert "nope.copc.laz" in str(e.value)


def test_s3_equals_local(town, town_s3, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_SECRET_KEY)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    box = town.box(0.55, 0.5, 0.95, 0.9)
    ds = copc.open_dataset(f"s3://{S3_BUCKET}/town/all.vpc", s3_endpoint=town_s3)
    assert ds.items()[0]["href"] == f"s3://{S3_BUCKET}/town/t00.copc.laz"
    got = ds.query(bounds=box, dims=XYZC).to_numpy()
    assert len(got["x"]) > 0
    np.testing.assert_array_equal(with_class(town, got), with_class(town, laspy_cols(town, in_box(town, box))))
    part = pickle.loads(pickle.dumps(ds.plan(bounds=box)[0]))
    assert part.href.startswith(f"s3://{S3_BUCKET}/town/")
    assert pa.table(part.read(s3_endpoint=town_s3)).num_rows <= part.points


def edited_vpc(town: Town, path, edit) -> str:
    """The town's VPC with absolute hrefs, changed by `edit(features)`, written to `path`."""
    v = json.loads(town.vpc.read_text())
    for f in v["features"]:
        f["assets"]["data"]["href"] = str(town.dir / f["assets"]["data"]["href"].removeprefix("./"))
    edit(v["features"])
    path.write_text(json.dumps(v))
    return str(path)


def test_missing_tile_is_named_and_pruned_queries_still_work(town, tmp_path):
    gone = tmp_path / "gone.copc.laz"

    def edit(features):
        features[0]["assets"]["data"]["href"] = str(gone)

    vpc = edited_vpc(town, tmp_path / "missing.vpc", edit)
    ds = copc.open_dataset(vpc)  # only the JSON is read
    with pytest.raises(copc.NotFoundError) as e:
        ds.query().to_numpy()
    assert str(gone) in str(e.value)
    with pytest.raises(copc.NotFoundError, match="gone.copc.laz"):
        ds.plan()
    # a box away from tile 0 never opens it
    far = town.box(0.6, 0.6, 0.9, 0.9)
    assert ds.query(bounds=far).count() == in_box(town, far).sum()
    # a missing file in a list: at open
    with pytest.raises(copc.NotFoundError, match="gone.copc.laz"):
        copc.open_dataset([str(town.tiles[0]), str(gone)])


def test_bad_collections_raise_naming_the_file(town, tmp_path, cli):
    bad = tmp_path / "bad.vpc"
    bad.write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(copc.Error, match="not valid JSON") as e:
        copc.open_dataset(bad)
    assert str(bad) in str(e.value)
    empty = tmp_path / "empty.vpc"
    empty.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(copc.Error, match="no Items") as e:
        copc.open_dataset(empty)
    assert str(empty) in str(e.value)
    with pytest.raises(copc.NotFoundError, match="nowhere.vpc"):
        copc.open_dataset(tmp_path / "nowhere.vpc")
    with pytest.raises(copc.InvalidArgumentError, match="at least one"):
        copc.open_dataset([])
    with pytest.raises(copc.InvalidArgumentError, match="open a VPC on its own"):
        copc.open_dataset([str(town.tiles[0]), str(town.vpc)])
    # a plain LAS tile: listed, and a query says what to run
    plain = tmp_path / "plain"
    plain.mkdir()
    run_cli(cli, "sample", str(plain / "p.las"), "--points", "2000")
    shutil.copy(town.tiles[0], plain)
    run_cli(cli, "index", str(plain), "-o", str(plain / "p.vpc"))
    with pytest.raises(copc.Error, match="copc translate") as e:
        copc.open_dataset(plain / "p.vpc").query().count()
    assert "p.las" in str(e.value)
    # a tile in another point format: the stream fails naming it
    run_cli(cli, "sample", str(tmp_path / "f6.laz"), "--points", "3000", "--format", "6")
    run_cli(cli, "translate", str(tmp_path / "f6.laz"), str(tmp_path / "f6.copc.laz"))
    mixed = copc.open_dataset([str(town.tiles[0]), str(tmp_path / "f6.copc.laz")])
    with pytest.raises(copc.Error, match="f6.copc.laz"):
        mixed.query().to_numpy()
    # an Arrow consumer raises its own class (pyarrow: ArrowInvalid) with the message
    with pytest.raises(pa.ArrowException, match="f6.copc.laz: its Arrow columns differ"):
        pa.table(mixed.query())
