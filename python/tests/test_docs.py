"""Every ```python block of README.md, docs/python.md and docs/dataset.md runs as written
against the installed wheel, in a folder holding example.copc.laz and example.las (links
to the shared data's pdal_1.2-with-color.copc.laz and pdal_1.2-with-color.las, as the
pages say) and tiles/ (the 16-tile town of conftest.py, with all.vpc)."""

from __future__ import annotations

import re

import pytest


def blocks(path):
    text = path.read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("page", ["README.md", "docs/python.md", "docs/dataset.md"])
def test_python_examples_run(page, repo, data, town, tmp_path, monkeypatch, capsys):
    code = blocks(repo / page)
    assert code, f"no python examples in {page}"
    (tmp_path / "example.copc.laz").symlink_to(data / "pdal_1.2-with-color.copc.laz")
    (tmp_path / "example.las").symlink_to(data / "pdal_1.2-with-color.las")
    (tmp_path / "tiles").symlink_to(town.dir)
    monkeypatch.chdir(tmp_path)
    for i, block in enumerate(code):
        try:
            exec(compile(block, f"{page}[{i}]", "exec"), {"__name__": "__example__"})
        except Exception as e:  # noqa: BLE001
            pytest.fail(f"{page} example {i} failed: {e!r}\n{block}")
