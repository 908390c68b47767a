"""Fixtures of the Python package's tests (run by scripts/python-test, which sets
COPC_TEST_DATA, COPC_CLI, XCHECK, COPC_S3S_FS and COPC_TEST_NGINX_URL). A missing
variable or tool fails the test that needs it with what to install: nothing is
skipped silently."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

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


@pytest.fixture(scope="session")
def s3(data: Path, tmp_path_factory: pytest.TempPathFactory):
    """s3s-fs on 127.0.0.1 checking SigV4 for the test keys, bucket copc-test holding
    one COPC file (as tests/support/emulators.rs starts it)."""
    exe = need_env("COPC_S3S_FS", "the S3 emulator: cargo install --locked s3s-fs@0.14.1 --features binary")
    root = tmp_path_factory.mktemp("s3")
    (root / S3_BUCKET).mkdir()
    shutil.copy(data / "pdal_1.2-with-color.copc.laz", root / S3_BUCKET)
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
    yield f"http://127.0.0.1:{port}"
    p.terminate()
    p.wait(10)
