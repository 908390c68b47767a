"""http(s):// through a real nginx (.ci/nginx) and s3:// through s3s-fs."""

from __future__ import annotations

import os

import numpy as np
import pytest

import copc
from conftest import S3_ACCESS_KEY, S3_BUCKET, S3_SECRET_KEY


def nginx_url() -> str:
    url = os.environ.get("COPC_TEST_NGINX_URL")
    if not url:
        pytest.fail("COPC_TEST_NGINX_URL is not set: start .ci/nginx (scripts/python-test does)")
    return url


def test_http_equals_local(data):
    name = "pdal_1.2-with-color.copc.laz"
    remote = copc.open(f"{nginx_url()}/{name}", requests=4, headers={"X-Test": "1"})
    local = copc.open(data / name)
    assert remote.header == local.header
    box = (636000, 849000, 638000, 852000)
    a = remote.query(bounds=box).to_numpy()
    b = local.query(bounds=box).to_numpy()
    for k in b:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert copc.validate(f"{nginx_url()}/{name}").ok


def test_http_not_found():
    with pytest.raises(copc.Error) as e:
        copc.open(f"{nginx_url()}/missing.copc.laz", http_retries=0)
    assert "missing.copc.laz" in str(e.value)


def test_s3(data, s3, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_SECRET_KEY)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    url = f"s3://{S3_BUCKET}/pdal_1.2-with-color.copc.laz"
    r = copc.open(url, s3_endpoint=s3)
    local = copc.open(data / "pdal_1.2-with-color.copc.laz")
    a, b = r.query().to_numpy(), local.query().to_numpy()
    for k in b:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    # the same through the environment variable
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3)
    assert copc.open(url).point_count == 1065
    # a wrong secret: an error, and the secret is not in it
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-Kd93nV")
    with pytest.raises(copc.Error) as e:
        copc.open(url, http_retries=0)
    assert "wrong-secret-Kd93nV" not in str(e.value)
