"""Datasets: many COPC files read as one (a VPC / STAC ItemCollection, or a list of
files), and the partitions of a query that workers read on their own (``copc.dask``).

Imported by ``copc/__init__.py`` after the helpers it uses are defined there.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

from . import QueryResult, _bounds, _copc, _options, _polygon


def _dims(dims: Sequence[str] | None) -> list[str] | None:
    return None if dims is None else list(dims)


class Partition:
    """A piece of a dataset query (``Dataset.plan``): nodes of one file, at most the
    planned number of points or bytes. Plain data: it pickles as its JSON, and
    :meth:`read` opens its file itself (what a Dask task runs on its worker)."""

    def __init__(self, native: Any) -> None:
        self._native = native

    @classmethod
    def from_json(cls, text: str) -> "Partition":
        """The partition of :meth:`to_json`'s text."""
        return cls(_copc.Partition(text))

    def to_json(self) -> str:
        """The whole partition (file, query, nodes) as JSON text."""
        return self._native.to_json()

    @property
    def href(self) -> str:
        """The file: a path or URL."""
        return self._native.href

    @property
    def points(self) -> int:
        """Points the query keeps: exact when :attr:`exact`, else an upper bound
        (:attr:`node_points`)."""
        return self._native.points

    @property
    def node_points(self) -> int:
        """Points in the partition's nodes (exact counts from the hierarchy)."""
        return self._native.node_points

    @property
    def exact(self) -> bool:
        """Every node lies inside the query's region, so :attr:`points` is exact."""
        return self._native.exact

    @property
    def keys(self) -> list[tuple[int, int, int, int]]:
        """The nodes (level, x, y, z), in file order."""
        return self._native.keys

    @property
    def ranges(self) -> list[tuple[int, int]]:
        """Each node's chunk: (byte offset, byte size) in the file."""
        return self._native.ranges

    @property
    def dims(self) -> list[str] | None:
        """The planned columns (None: every dimension)."""
        return self._native.dims

    def read(
        self,
        *,
        dims: Sequence[str] | None = None,
        batch_rows: int | None = None,
        threads: int | None = None,
        requests: int | None = None,
        headers: Mapping[str, str] | None = None,
        **store_options: Any,
    ) -> QueryResult:
        """The partition's points as a :class:`QueryResult` (an Arrow stream): its file
        is opened, with the options of :func:`copc.open`, each time the result is
        consumed. ``dims``: other columns than the planned ones."""
        pairs = _options(threads=threads, requests=requests, headers=headers, **store_options)
        return QueryResult(self._native.read(pairs, _dims(dims), batch_rows))

    def __repr__(self) -> str:
        return repr(self._native)


class Dataset:
    """Many COPC files read as one (``copc.open_dataset``). A query opens only the
    files whose stated bounds meet its region, then reads them one after another."""

    def __init__(self, native: Any) -> None:
        self._native = native

    @property
    def name(self) -> str:
        """The VPC's path or URL ("(list)" for a list of files)."""
        return self._native.name

    @property
    def point_count(self) -> int:
        """Sum of the files' point counts, as the collection states them."""
        return self._native.point_count

    @property
    def bounds(self) -> tuple[float, float, float, float, float, float]:
        """(minx, miny, minz, maxx, maxy, maxz) over every file."""
        return tuple(self._native.bounds)  # type: ignore[return-value]

    def items(self) -> list[dict[str, Any]]:
        """One dict per file: ``id``, ``href`` (resolved against the VPC), ``count``,
        ``bounds`` (6 numbers), ``wkt``, ``epsg``, ``encoding``, ``point_format``."""
        return self._native.items()

    def query(
        self,
        bounds: Sequence[float] | None = None,
        polygon: Any = None,
        resolution: float | None = None,
        max_depth: int | None = None,
        dims: Sequence[str] | None = None,
        *,
        batch_rows: int | None = None,
    ) -> QueryResult:
        """Select points of every file, as :meth:`copc.Reader.query` does in one. The
        columns are those of the first file the region meets; a file whose columns
        differ raises an error naming it. ``resolution`` picks levels in each file's
        own octree."""
        native = self._native.query(_bounds(bounds), _polygon(polygon), resolution, max_depth, _dims(dims), batch_rows)
        return QueryResult(native)

    def plan(
        self,
        bounds: Sequence[float] | None = None,
        polygon: Any = None,
        resolution: float | None = None,
        max_depth: int | None = None,
        dims: Sequence[str] | None = None,
        *,
        partition_points: int | None = None,
        partition_bytes: int | None = None,
    ) -> list[Partition]:
        """The query cut into :class:`Partition` s of at most ``partition_points``
        points (default 1 000 000) or ``partition_bytes`` compressed bytes, file by
        file, from headers and hierarchy pages (nothing is decoded; a node is never
        split, so one larger node makes a partition of its own)."""
        rows = self._native.plan(
            _bounds(bounds), _polygon(polygon), resolution, max_depth, _dims(dims), partition_points, partition_bytes
        )
        return [Partition(p) for p in rows]

    def __repr__(self) -> str:
        return f"<copc.Dataset {self.name!r}: {len(self.items())} files, {self.point_count} points>"


def open_dataset(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    threads: int | None = None,
    requests: int | None = None,
    headers: Mapping[str, str] | None = None,
    **store_options: Any,
) -> Dataset:
    """Open many COPC files as one dataset: a ``.vpc`` / STAC ItemCollection ``.json``
    (a path, ``http(s)://``, ``s3://``, ``az://``, ``gs://``; only the JSON is read,
    files are opened when a query meets them), or a list of COPC files (their headers
    are read now). Options as :func:`copc.open`, used for every file."""
    if isinstance(source, (str, os.PathLike)):
        sources = [os.fspath(source)]
    else:
        sources = [os.fspath(s) for s in source]
    pairs = _options(threads=threads, requests=requests, headers=headers, **store_options)
    return Dataset(_copc.open_dataset(sources, pairs))
