"""LAS 1.5 inputs (issue 30): laspy 2.7 writes LAS 1.5 and LAZ files of every point
format it allows there (6-10); copc.translate makes LAS 1.4 COPC files of them that
pass xcheck --strict, and hold the same points as laspy reads from the input.

LAS 1.5 adds a GPS time offset (global encoding bit 6, header field in units of
10^6 s). COPC is LAS 1.4, whose GPS times are standard GPS time - 10^9 s, so a time
offset other than 1000 shifts every GPS time by (offset - 1000) x 10^6 s. xcheck's
--compare checks GPS times bit for bit and knows nothing of the offset, so those
files are compared here: laspy's values of the input plus the shift the LAS 1.5
specification defines must equal laspy's values of the output, bit for bit."""

from __future__ import annotations

import laspy
import numpy as np
import pytest

import copc
from test_write import xcheck

FORMATS = [6, 7, 8, 9, 10]
# Every format as LAS and LAZ without a time offset (bit 6 clear); with the offset 1250
# (2015-2023) as LAZ; the 1.4 offset spelled out (1000) once. Each case runs xcheck
# (about 1.5 s), so the matrix is not the full product.
CASES = (
    [(f, c, None) for f in FORMATS for c in (False, True)]
    + [(f, True, 1250) for f in FORMATS]
    + [(6, False, 1000)]
)


def write_las15(path, point_format: int, time_offset: int | None, n: int = 3000) -> laspy.LasData:
    rng = np.random.default_rng(point_format * 10 + (time_offset or 0))
    h = laspy.LasHeader(version="1.5", point_format=point_format)
    h.scales = np.array([0.01, 0.01, 0.01])
    h.offsets = np.array([500000.0, 4000000.0, 0.0])
    if time_offset is not None:
        h.global_encoding.gps_time_offset = True  # sets bit 0 too, as 1.5 requires
        h.gps_time_offset = time_offset
    las = laspy.LasData(h)
    las.x = 500000 + rng.uniform(0, 200, n)
    las.y = 4000000 + rng.uniform(0, 200, n)
    las.z = rng.uniform(0, 40, n)
    las.intensity = rng.integers(0, 65535, n)
    las.return_number = rng.integers(1, 4, n)
    las.number_of_returns = np.maximum(las.return_number, rng.integers(1, 4, n))
    las.classification = rng.integers(0, 20, n)
    las.point_source_id = rng.integers(0, 500, n)
    # eight flight lines a minute apart, each sampled at 1 kHz
    las.gps_time = np.repeat(np.arange(8) * 60.0, n // 8 + 1)[:n] + np.tile(np.arange(n // 8 + 1) / 1000.0, 8)[:n] + 123456.789
    if point_format in (7, 8, 10):
        las.red, las.green, las.blue = (rng.integers(0, 65535, n) for _ in range(3))
    if point_format in (8, 10):
        las.nir = rng.integers(0, 65535, n)
    las.write(str(path))
    return las


def columns(path) -> dict[str, np.ndarray]:
    las = laspy.read(str(path))
    names = ["X", "Y", "Z", "intensity", "return_number", "number_of_returns", "classification", "point_source_id", "gps_time"]
    names += [n for n in ("red", "green", "blue", "nir") if n in las.point_format.dimension_names]
    return {n: np.asarray(las[n]) for n in names}


@pytest.mark.parametrize(
    ("point_format", "compressed", "time_offset"),
    CASES,
    ids=[f"pdrf{f}-{'laz' if c else 'las'}-offset-{o}" for f, c, o in CASES],
)
def test_las15_translates_to_copc(tmp_path, point_format, compressed, time_offset):
    src = tmp_path / f"in.{'laz' if compressed else 'las'}"
    write_las15(src, point_format, time_offset)
    assert laspy.open(str(src)).header.version == "1.5"
    out = tmp_path / "out.copc.laz"
    events: list[dict] = []
    copc.translate(src, out, a_srs="EPSG:32617", progress=events.append)
    warnings = [e["message"] for e in events if e.get("event") == "warning"]
    shift = 0.0 if time_offset is None else (time_offset - 1000) * 1e6
    rebased = [w for w in warnings if "LAS 1.5 GPS times" in w]
    assert bool(rebased) == (shift != 0.0), warnings

    if shift == 0.0:
        # the points, GPS times bit for bit, as xcheck reads them with laspy
        xcheck(out, src)
    else:
        xcheck(out, None)
    a, b = columns(src), columns(out)
    assert laspy.open(str(out)).header.version == "1.4"
    order_a = np.lexsort([a["gps_time"], a["Z"], a["Y"], a["X"]])
    order_b = np.lexsort([b["gps_time"], b["Z"], b["Y"], b["X"]])
    for name, va in a.items():
        want = va[order_a] + shift if name == "gps_time" else va[order_a]
        np.testing.assert_array_equal(b[name][order_b], want, err_msg=name)
    # the COPC info VLR's GPS time range is of the shifted times
    info = copc.open(out).info
    assert info["gpstime_minimum"] == a["gps_time"].min() + shift
    assert info["gpstime_maximum"] == a["gps_time"].max() + shift


def test_las15_header_without_standard_time_bit_is_refused(tmp_path):
    src = tmp_path / "bad.las"
    write_las15(src, 6, 1250)
    raw = bytearray(src.read_bytes())
    raw[6] = raw[6] & ~1  # offset bit 6 kept, standard GPS time bit 0 cleared
    src.write_bytes(bytes(raw))
    with pytest.raises(copc.Error, match=r"bad\.las.*byte 6.*GPS time offset bit"):
        copc.translate(src, tmp_path / "out.copc.laz", a_srs="EPSG:32617")
    assert not (tmp_path / "out.copc.laz").exists()
