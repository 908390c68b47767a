"""pyarrow, Polars, DuckDB and pandas over a query give what NumPy gives over to_numpy()."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

import copc


def test_engines_agree(data):
    r = copc.open(data / "pdal_lone-star.copc.laz")
    x0, y0, z0, x1, y1, z1 = r.bounds
    box = (x0 + (x1 - x0) * 0.25, y0 + (y1 - y0) * 0.25, x0 + (x1 - x0) * 0.75, y0 + (y1 - y0) * 0.75)
    q = r.query(bounds=box)
    a = q.to_numpy()
    classes, counts = np.unique(a["classification"], return_counts=True)
    want = dict(zip(classes.tolist(), counts.tolist()))
    want_mean = float(a["z"].mean())
    assert sum(want.values()) == len(a["x"]) > 1000

    t = pa.table(q)
    got = t.group_by("classification").aggregate([("classification", "count")]).to_pydict()
    assert dict(zip(got["classification"], got["classification_count"])) == want
    assert abs(pc.mean(t["z"]).as_py() - want_mean) < 1e-9

    df = pl.DataFrame(q)
    g = df.group_by("classification").len()
    assert dict(zip(g["classification"].to_list(), g["len"].to_list())) == want
    assert abs(df["z"].mean() - want_mean) < 1e-9

    rows = duckdb.sql("select classification, count(*) from q group by classification").fetchall()
    assert dict(rows) == want
    ((m,),) = duckdb.sql("select avg(z) from q").fetchall()
    assert abs(m - want_mean) < 1e-9

    p = q.to_pandas()
    assert isinstance(p, pd.DataFrame) and len(p) == len(a["x"])
    assert p.groupby("classification").size().to_dict() == want


def test_schema_capsule(data):
    q = copc.open(data / "pdal_ellipsoid-eb.copc.laz").query(dims=["x", "gps_time", "InvertedIntensity"])
    s = pa.schema(q)
    assert s.names == ["x", "gps_time", "InvertedIntensity"] == q.columns
    assert s.field("x").type == pa.float64()
