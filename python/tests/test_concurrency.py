"""The GIL is released during I/O and decoding; Ctrl-C stops a translate cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np

import copc


def test_two_threads_query_in_parallel(data):
    r = copc.open(data / "pdal_lone-star.copc.laz", threads=1)
    expected = len(r.query(dims=["x"]).to_numpy()["x"])
    spans: dict[int, tuple[float, float]] = {}
    results: dict[int, int] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            t0 = time.perf_counter()
            for _ in range(3):
                results[i] = len(r.query().to_numpy()["x"])
            spans[i] = (t0, time.perf_counter())
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    # a Python thread counting while both decode: it runs only if the GIL is free
    ticks = [0]
    stop = threading.Event()

    def tick() -> None:
        while not stop.is_set():
            ticks[0] += 1
            time.sleep(0.001)

    ticker = threading.Thread(target=tick)
    ticker.start()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    ticker.join()
    assert not errors, errors
    assert results == {0: expected, 1: expected}
    (a0, a1), (b0, b1) = spans[0], spans[1]
    assert max(a0, b0) < min(a1, b1), "the two queries did not overlap in time"
    assert ticks[0] > 10, "the GIL was held while decoding"


SCRIPT = textwrap.dedent(
    """
    import sys, copc
    def progress(event):
        if event["event"] == "phase":
            print("started", flush=True)
    try:
        copc.translate(sys.argv[1], sys.argv[2], memory_limit="80M", max_points_per_node=2000, threads=1, progress=progress)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(3)
    print("finished", flush=True)
    """
)


def test_ctrl_c_stops_translate(data, tmp_path):
    # a large-ish input: the lone-star points written 6 times over (3.1 M points)
    r = copc.open(data / "pdal_lone-star.copc.laz")
    pts = {k: v for k, v in r.query(dims=["x", "y", "z", "intensity", "gps_time"]).to_numpy().items()}
    big = tmp_path / "big.copc.laz"
    n = len(pts["x"])
    with copc.Writer(big, scale=r.header["scale"], offset=r.header["offset"]) as w:
        for i in range(6):
            w.add({**pts, "z": pts["z"] + i * 0.5})
    out = tmp_path / "out.copc.laz"
    p = subprocess.Popen([sys.executable, "-c", SCRIPT, str(big), str(out)], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None
    assert p.stdout.readline().strip() == "started"
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    rest = p.stdout.read()
    code = p.wait(60)
    assert code == 3 and "interrupted" in rest, (code, rest)
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == ["big.copc.laz"]
    assert n * 6 == copc.open(big).point_count
