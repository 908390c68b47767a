"""Fixtures of the Python package's tests (run by scripts/python-test, which sets
COPC_TEST_DATA, COPC_CLI, XCHECK, COPC_S3S_FS and COPC_TEST_NGINX_URL). A missing
variable or tool fails the test that needs it with what to install: nothing is
skipped silently."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# The COPC 1.0 files of the shared data (scripts/test's compare_laspy list).
COPC_FILES = [
    "pdal_1.2-with-color.copc.laz",
    "laspy_simple_with_page.copc.laz",
    "pdal_lone-star.copc.laz",
    "pdal_ellipsoid-eb.copc.laz",
    "lastools_example.copc.laz",
]

S3_ACCESS_KEY = "COPCTESTACCESSKEY"
S3_SECRET_KEY = "copc-test-secret-Zq8vXw3"
S3_BUCKET = "copc-test"


def need_env(name: str, what: str) -> str:
    v = os.environ.get(name)
    if not v:
        pytest.fail(f"{name} is not set: {what} (scripts/python-test sets it)")
    return v


@pytest.fixture(scope="session")
def data() -> Path:
    d = Path(need_env("COPC_TEST_DATA", "the shared data folder (../shared/data)"))
    if not d.is_dir():
        pytest.fail(f"COPC_TEST_DATA={d} is not a folder")
    return d


@pytest.fixture(scope="session")
def cli() -> str:
    c = need_env("COPC_CLI", "the copc CLI binary (cargo build --release)")
    if not os.access(c, os.X_OK):
        pytest.fail(f"COPC_CLI={c} is not executable: cargo build --release")
    return c


@pytest.fixture(scope="session")
def repo() -> Path:
    return Path(need_env("COPC_REPO", "the repository root"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_s3s(root: Path):
    """s3s-fs on 127.0.0.1 serving the folder `root` (each sub-folder a bucket) and
    checking SigV4 for the test keys, as tests/support/emulators.rs starts it:
    (process, endpoint URL)."""
    exe = need_env("COPC_S3S_FS", "the S3 emulator: cargo install --locked s3s-fs@0.14.1 --features binary")
    port = free_port()
    p = subprocess.Popen(
        [exe, "--host", "127.0.0.1", "--port", str(port), "--access-key", S3_ACCESS_KEY, "--secret-key", S3_SECRET_KEY, str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if p.poll() is not None or time.time() > deadline:
                p.kill()
                pytest.fail("s3s-fs did not start")
            time.sleep(0.05)
    return p, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def s3(data: Path, tmp_path_factory: pytest.TempPathFactory):
    """The S3 emulator with bucket copc-test holding one COPC file."""
    root = tmp_path_factory.mktemp("s3")
    (root / S3_BUCKET).mkdir()
    shutil.copy(data / "pdal_1.2-with-color.copc.laz", root / S3_BUCKET)
    p, url = start_s3s(root)
    yield url
    p.terminate()
    p.wait(10)


# ---------------------------------------------------------------- a tiled town

TOWN_POINTS = 1_200_000
TOWN_GRID = 4


@dataclasses.dataclass
class Town:
    """`copc sample` points as one COPC file (`merged`) and cut by a 4x4 grid of X/Y
    into 16 COPC tiles in `dir` (t00..t15.copc.laz), indexed by `vpc` (dir/all.vpc).
    `las` holds the merged file's points as laspy reads them (the independent path)."""

    dir: Path
    merged: Path
    tiles: list[Path]
    vpc: Path
    las: Any

    @property
    def scale(self) -> np.ndarray:
        return np.asarray(self.las.header.scales)

    @property
    def offset(self) -> np.ndarray:
        return np.asarray(self.las.header.offsets)

    def cells(self, xyz: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
        """Coordinates as sorted rows of integers (their stored values)."""
        ints = [np.round((v - o) / s).astype(np.int64) for v, o, s in zip(xyz, self.offset, self.scale)]
        rows = np.stack(ints, axis=1)
        return rows[np.lexsort(ints[::-1])]

    def box(self, a: float, b: float, c: float, d: float) -> tuple[float, float, float, float]:
        """The box over fractions (a..c of X, b..d of Y) of the town, its edges half a
        scale step off the stored grid (no point on an edge: no rounding question)."""
        h = self.las.header
        f = lambda k, t: h.mins[k] + (h.maxs[k] - h.mins[k]) * t  # noqa: E731
        g = lambda k, v: self.offset[k] + (np.floor((v - self.offset[k]) / self.scale[k]) + 0.5) * self.scale[k]  # noqa: E731
        return (float(g(0, f(0, a))), float(g(1, f(1, b))), float(g(0, f(0, c))), float(g(1, f(1, d))))


def run_cli(cli: str, *args: str) -> str:
    p = subprocess.run([cli, *args], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.fail(f"copc {' '.join(args)} failed: {p.stderr}")
    return p.stdout


@pytest.fixture(scope="session")
def town(cli: str, tmp_path_factory: pytest.TempPathFactory) -> Town:
    import laspy

    root = tmp_path_factory.mktemp("town")
    raw, merged = root / "town.laz", root / "merged.copc.laz"
    run_cli(cli, "sample", str(raw), "--points", str(TOWN_POINTS), "--seed", "29")
    run_cli(cli, "translate", str(raw), str(merged), "--max-points-per-node", "5000")
    las = laspy.read(merged)
    tiles_dir = root / "tiles"
    tiles_dir.mkdir()
    # cut lines half a scale step off the stored grid: every point in exactly one tile
    h = las.header
    cuts = []
    for k in (0, 1):
        lo, hi, s, o = h.mins[k], h.maxs[k], h.scales[k], h.offsets[k]
        inner = [o + (np.floor((lo + (hi - lo) * i / TOWN_GRID - o) / s) + 0.5) * s for i in range(1, TOWN_GRID)]
        cuts.append([float(v) for v in (lo - 1.0, *inner, hi + 1.0)])

    def cut(i: int) -> Path:
        gx, gy = i % TOWN_GRID, i // TOWN_GRID
        box = f"{cuts[0][gx]!r},{cuts[1][gy]!r},{cuts[0][gx + 1]!r},{cuts[1][gy + 1]!r}"
        las_path, tile = root / f"t{i:02}.las", tiles_dir / f"t{i:02}.copc.laz"
        run_cli(cli, "query", str(merged), "--bounds", box, "-o", str(las_path), "--threads", "1")
        run_cli(cli, "translate", str(las_path), str(tile), "--max-points-per-node", "5000", "--threads", "1")
        las_path.unlink()
        return tile

    with ThreadPoolExecutor(2) as pool:
        tiles = list(pool.map(cut, range(TOWN_GRID * TOWN_GRID)))
    vpc = tiles_dir / "all.vpc"
    run_cli(cli, "index", str(tiles_dir), "-o", str(vpc))
    return Town(tiles_dir, merged, tiles, vpc, las)


def start_nginx(repo: Path, folder: Path, state: Path) -> str:
    """Another nginx (.ci/nginx, its state in `state`) serving `folder`: its URL."""
    env = {**os.environ, "COPC_NGINX_STATE": str(state)}
    p = subprocess.run([str(repo / ".ci" / "nginx"), "start", str(folder)], capture_output=True, text=True, env=env)
    if p.returncode != 0:
        pytest.fail(f".ci/nginx start failed (nginx installed? .ci/nginx says what to install): {p.stderr}")
    for line in p.stdout.splitlines():
        if line.startswith("COPC_TEST_NGINX_URL="):
            return line.split("=", 1)[1]
    pytest.fail(f".ci/nginx start printed no URL: {p.stdout}")


def stop_nginx(repo: Path, state: Path) -> None:
    env = {**os.environ, "COPC_NGINX_STATE": str(state)}
    subprocess.run([str(repo / ".ci" / "nginx"), "stop"], capture_output=True, env=env, check=False)


@pytest.fixture(scope="session")
def town_http(town: Town, repo: Path, tmp_path_factory: pytest.TempPathFactory):
    """The town's tile folder (tiles and all.vpc) behind a second real nginx: its URL."""
    state = tmp_path_factory.mktemp("nginx") / "state"
    url = start_nginx(repo, town.dir, state)
    yield url
    stop_nginx(repo, state)


@pytest.fixture(scope="session")
def town_s3(town: Town, tmp_path_factory: pytest.TempPathFactory):
    """The S3 emulator with the town's tiles and all.vpc under s3://copc-test/town/:
    the endpoint URL."""
    root = tmp_path_factory.mktemp("s3town")
    shutil.copytree(town.dir, root / S3_BUCKET / "town")
    p, url = start_s3s(root)
    yield url
    p.terminate()
    p.wait(10)
