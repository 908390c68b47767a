"""copc.dask on a real distributed cluster (two worker processes, one thread each):
aggregates equal NumPy on laspy's points of the merged file, one task per planner
partition, a tile a worker cannot reach fails naming it; `import copc` alone leaves
Dask unimported."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

import copc
from conftest import Town


@pytest.fixture(scope="session")
def client():
    try:
        import distributed
    except ImportError:
        pytest.fail("distributed is not installed: pip install 'copc[dask]' (scripts/python-test installs it)")
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0")
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def dask_read():
    import copc.dask

    return copc.dask


def in_box(town: Town, box) -> np.ndarray:
    x, y = np.asarray(town.las.x), np.asarray(town.las.y)
    return (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])


def test_aggregates_equal_numpy_on_the_merged_file(town, client):
    cd = dask_read()
    dims = ["x", "y", "z", "classification", "gps_time"]
    ddf = cd.read(town.vpc, dims=dims, partition_points=30_000)
    parts = cd.plan(town.vpc, dims=dims, partition_points=30_000)
    assert ddf.npartitions == len(parts) > len(town.tiles)
    assert list(ddf.columns) == dims
    las = town.las
    cls, gps = np.asarray(las.classification), np.asarray(las.gps_time)
    by_class, lo, hi, n = client.compute(
        [ddf.groupby("classification").size(), ddf.gps_time.min(), ddf.gps_time.max(), ddf.x.count()], sync=True
    )
    values, counts = np.unique(cls, return_counts=True)
    assert {int(k): int(v) for k, v in by_class.items()} == dict(zip(values.tolist(), counts.tolist()))
    assert (lo, hi) == (gps.min(), gps.max())
    assert n == len(cls)
    # the tasks ran in the worker processes, which imported copc there
    assert any(client.run(lambda: "copc._copc" in sys.modules).values())


def test_a_box_prunes_and_partitions_hold_the_planned_points(town, client):
    cd = dask_read()
    box = town.box(0.2, 0.3, 0.6, 0.7)
    ddf = cd.read(town.vpc, bounds=box, dims=["z"], partition_points=20_000)
    parts = cd.plan(town.vpc, bounds=box, dims=["z"], partition_points=20_000)
    assert ddf.npartitions == len(parts)
    assert any(p.exact for p in parts) and any(not p.exact for p in parts)
    m = in_box(town, box)
    mean, sizes = client.compute([ddf.z.mean(), ddf.map_partitions(len)], sync=True)
    assert mean == pytest.approx(np.asarray(town.las.z)[m].mean(), rel=1e-12)
    sizes = list(sizes)
    assert sum(sizes) == m.sum()
    for p, rows in zip(parts, sizes):
        assert rows == p.points if p.exact else rows <= p.points


def test_meta_dtypes_and_column_selection(town, client):
    cd = dask_read()
    ddf = cd.read(town.vpc, partition_points=400_000)
    first = client.compute(ddf.partitions[0], sync=True)
    assert list(first.columns) == list(ddf.columns) and "red" in ddf.columns
    assert dict(first.dtypes) == dict(ddf.dtypes)
    assert str(ddf.dtypes["synthetic"]) == "bool" and str(ddf.dtypes["red"]) == "uint16"
    # a column selection is read as such (Dask passes it to the task as `columns`)
    sub = client.compute(ddf[["z", "classification"]], sync=True)
    assert list(sub.columns) == ["z", "classification"] and len(sub) == len(town.las.z)
    np.testing.assert_array_equal(np.sort(sub["z"].to_numpy()), np.sort(np.asarray(town.las.z)))


def test_read_takes_a_dataset_or_a_list_and_an_empty_query(town, client):
    cd = dask_read()
    ds = copc.open_dataset(town.vpc)
    a = cd.read(ds, dims=["x"], partition_points=300_000)
    b = cd.read([str(t) for t in town.tiles], dims=["x"], partition_points=300_000)
    assert client.compute([a.x.count(), b.x.count()], sync=True) == [len(town.las.x)] * 2
    h = town.las.header
    far = (h.maxs[0] + 100.0, h.maxs[1] + 100.0, h.maxs[0] + 200.0, h.maxs[1] + 200.0)
    empty = cd.read(ds, bounds=far, dims=["x", "z"])
    assert cd.plan(ds, bounds=far) == [] and empty.npartitions == 1
    assert list(empty.columns) == ["x", "z"] and len(client.compute(empty, sync=True)) == 0


def test_a_tile_a_worker_cannot_reach_fails_naming_it(town, client, tmp_path):
    cd = dask_read()
    tiles = tmp_path / "tiles"
    shutil.copytree(town.dir, tiles)
    ddf = cd.read(tiles / "all.vpc", dims=["z"], partition_points=100_000)  # planned: every tile opened
    (tiles / "t05.copc.laz").unlink()
    with pytest.raises(copc.NotFoundError) as e:
        client.compute(ddf.z.sum(), sync=True)
    assert str(tiles / "t05.copc.laz") in str(e.value)


def test_import_copc_leaves_dask_alone():
    code = (
        "import sys, copc\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')], 'dask imported'\n"
        "import copc.dask\n"
        "assert 'dask.dataframe' in sys.modules\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
