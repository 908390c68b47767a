"""Bad input gives a copc.Error subclass with the library's message, never a crash,
and no partial output file."""

from __future__ import annotations

import socket

import numpy as np
import pytest

import copc


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.copc.laz"
    with pytest.raises(copc.NotFoundError) as e:
        copc.open(missing)
    assert isinstance(e.value, FileNotFoundError) and isinstance(e.value, copc.Error)
    assert str(missing) in str(e.value)


def test_malformed_file(tmp_path, data):
    bad = tmp_path / "bad.copc.laz"
    bad.write_bytes(b"LASF" + bytes(400))
    with pytest.raises(copc.FormatError) as e:
        copc.open(bad)
    assert str(bad) in str(e.value)
    # a real LAZ that is not COPC
    with pytest.raises(copc.FormatError, match="not a COPC file"):
        copc.open(data / "copcvalidator_ellipsoid-1.4.laz")
    # a truncated COPC file: the error names the node or offset
    cut = tmp_path / "cut.copc.laz"
    cut.write_bytes((data / "pdal_1.2-with-color.copc.laz").read_bytes()[:20000])
    with pytest.raises(copc.Error) as e:
        copc.open(cut).query().to_numpy()
    assert "cut.copc.laz" in str(e.value)
    rep = copc.validate(data / "copcvalidator_bad-ellipsoid.copc.laz")
    assert not rep.ok and rep.failures


def test_wrong_column_type(tmp_path):
    out = tmp_path / "w.copc.laz"
    xyz = {"x": np.arange(5.0), "y": np.arange(5.0), "z": np.arange(5.0)}
    with pytest.raises(copc.InvalidArgumentError, match="classification"):
        copc.write(out, {**xyz, "classification": np.array([0.5, 1, 2, 3, 4])})
    with pytest.raises(copc.InvalidArgumentError, match="classification"):
        copc.write(out, {**xyz, "classification": np.array([1, 2, 3, 4, 300])})
    with pytest.raises(copc.InvalidArgumentError, match="same length|has 4 values"):
        copc.write(out, {**xyz, "intensity": np.arange(4, dtype=np.uint16)})
    with pytest.raises(copc.InvalidArgumentError, match="no z|the points have no"):
        copc.write(out, {"x": xyz["x"], "y": xyz["y"]})
    with pytest.raises(copc.InvalidArgumentError, match="name"):
        copc.write(out, {**xyz, "name": np.array(["a"] * 5)})
    import pyarrow as pa

    with pytest.raises(copc.InvalidArgumentError, match="classification"):
        copc.write(out, pa.table({**xyz, "classification": pa.array([1.0] * 5)}))
    with pytest.raises(copc.InvalidArgumentError, match="not a size"):
        copc.write(out, xyz, memory_limit="lots")
    with pytest.raises(copc.InvalidArgumentError, match="unknown option"):
        copc.open("x.copc.laz", no_such_option=1)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
    # integers that fit are cast
    copc.write(out, {**xyz, "classification": np.array([1, 2, 3, 4, 5], dtype=np.int64)})
    assert copc.open(out).query().to_numpy()["classification"].tolist() == [1, 2, 3, 4, 5]


def test_bad_query_arguments(data):
    r = copc.open(data / "pdal_1.2-with-color.copc.laz")
    with pytest.raises(copc.InvalidArgumentError, match="no dimension named 'nope'"):
        r.query(dims=["x", "nope"])
    with pytest.raises(copc.InvalidArgumentError, match="4 or 6"):
        r.query(bounds=(1, 2, 3))
    with pytest.raises(copc.InvalidArgumentError, match="polygon"):
        r.query(polygon="POLYGON((0 0, 1")
    with pytest.raises(copc.InvalidArgumentError, match="resolution"):
        r.query(resolution=-1)


def test_network_failure(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # nothing listens on the port now
    url = f"http://127.0.0.1:{port}/a.copc.laz"
    with pytest.raises(copc.NetworkError) as e:
        copc.open(url, http_retries=0)
    assert isinstance(e.value, OSError) and url in str(e.value)
    out = tmp_path / "o.copc.laz"
    with pytest.raises(copc.Error):
        copc.translate(url, out, http_retries=0)
    assert not out.exists()


def test_credentials_not_in_messages(monkeypatch):
    secret = "SuperSecretValue-9f8e7d"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    with pytest.raises(copc.Error) as e:
        copc.open("s3://bucket/a.copc.laz", s3_access_key_id="AKIDTEST", s3_secret_access_key=secret, http_retries=0)
    assert secret not in str(e.value)


def test_rust_panic_is_copc_error():
    # the library's option parser panics on purpose for this key (it tests the C boundary)
    with pytest.raises(copc.Error, match="internal error") as e:
        copc.open("x.copc.laz", test_panic="yes")
    assert type(e.value).__name__ == "Error"


def test_to_pandas_without_pandas(data, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pandas"):
        copc.open(data / "lastools_example.copc.laz").query().to_pandas()
