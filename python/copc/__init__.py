"""copc: read and write COPC (Cloud Optimized Point Cloud) files.

Reading::

    import copc
    r = copc.open("autzen.copc.laz")            # a path, http(s)://, s3://, az://, gs://
    print(r.point_count, r.bounds, r.info["spacing"])
    q = r.query(bounds=(637000, 851000, 638000, 852000), dims=["x", "y", "z", "classification"])
    arrays = q.to_numpy()                        # dict of 1-D NumPy arrays
    import pyarrow as pa; table = pa.table(q)    # q is an Arrow stream (PyCapsule protocol)

Many files as one (a VPC, or a list)::

    ds = copc.open_dataset("tiles/all.vpc")
    q = ds.query(bounds=(637000, 851000, 638000, 852000))   # the same QueryResult
    import copc.dask; ddf = copc.dask.read("tiles/all.vpc")  # Dask (pip install copc[dask])

Writing::

    copc.write("out.copc.laz", {"x": xs, "y": ys, "z": zs, "classification": cls})
    copc.translate(["in.laz"], "out.copc.laz", memory_limit="512M")
    assert copc.validate("out.copc.laz").ok

The native module (``copc._copc``) does the work; this layer converts arguments and
results. Every call that reads or writes runs with the GIL released.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Callable, Iterator, Mapping, Sequence

from . import _copc
from ._errors import (
    CancelledError,
    Error,
    FormatError,
    InvalidArgumentError,
    IoError,
    NetworkError,
    NotFoundError,
    UnsupportedError,
)

__version__: str = _copc.__version__

__all__ = [
    "open",
    "Reader",
    "QueryResult",
    "Node",
    "open_dataset",
    "Dataset",
    "Partition",
    "write",
    "Writer",
    "translate",
    "validate",
    "Report",
    "Check",
    "Error",
    "FormatError",
    "UnsupportedError",
    "IoError",
    "NotFoundError",
    "NetworkError",
    "InvalidArgumentError",
    "CancelledError",
]


# ---------------------------------------------------------------- options


def _text(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ",".join(repr(float(v)) if isinstance(v, float) else str(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _options(
    threads: int | None = None,
    requests: int | None = None,
    headers: Mapping[str, str] | None = None,
    **options: Any,
) -> list[tuple[str, str]]:
    """Keyword options as (key, text) pairs of the library's option parser (the keys of
    the C API's copc_options: s3_region, s3_endpoint, memory_limit, scale, ...)."""
    pairs: list[tuple[str, str]] = []
    if threads is not None:
        pairs.append(("threads", _text("threads", threads)))
    if requests is not None:
        pairs.append(("requests", _text("requests", requests)))
    for name, value in (headers or {}).items():
        pairs.append(("http_header", f"{name}: {value}"))
    for key, value in options.items():
        if value is None:
            continue
        pairs.append((key, _text(key, value)))
    return pairs


# ---------------------------------------------------------------- reading


@dataclasses.dataclass(frozen=True)
class Node:
    """One octree node holding points (``Reader.nodes``)."""

    level: int
    x: int
    y: int
    z: int
    point_count: int
    offset: int
    """Byte offset of the node's LAZ chunk in the file."""
    byte_size: int
    bounds: tuple[float, float, float, float, float, float]
    """The node's cube: (minx, miny, minz, maxx, maxy, maxz)."""

    @property
    def key(self) -> tuple[int, int, int, int]:
        """(level, x, y, z)"""
        return (self.level, self.x, self.y, self.z)


def _polygon(polygon: Any) -> str | None:
    """WKT or GeoJSON text, a GeoJSON mapping, or an object with ``.wkt`` (shapely)
    or ``__geo_interface__``."""
    if polygon is None or isinstance(polygon, str):
        return polygon
    if hasattr(polygon, "wkt"):
        return str(polygon.wkt)
    if hasattr(polygon, "__geo_interface__"):
        return json.dumps(polygon.__geo_interface__)
    if isinstance(polygon, Mapping):
        return json.dumps(polygon)
    raise InvalidArgumentError(f"polygon: expected WKT or GeoJSON text, a GeoJSON mapping or a geometry, got {type(polygon).__name__}")


def _bounds(bounds: Sequence[float] | None) -> list[float] | None:
    return None if bounds is None else [float(v) for v in bounds]


class QueryResult:
    """The points of a query, as an Arrow stream.

    Any Arrow consumer reads it directly (the Arrow PyCapsule protocol):
    ``pyarrow.table(q)``, ``polars.DataFrame(q)``, ``duckdb.sql("select ... from q")``.
    Each consumption runs the query again, so a result can be read any number of times.
    The columns are those of docs/arrow.md (x, y, z as float64, classification as uint8,
    the flags as booleans, ...).
    """

    def __init__(self, native: Any) -> None:
        self._native = native

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """A PyCapsule "arrow_array_stream" (the requested schema is not applied)."""
        return self._native.__arrow_c_stream__(requested_schema)

    def __arrow_c_schema__(self) -> object:
        """A PyCapsule "arrow_schema" with the columns' schema."""
        return self._native.__arrow_c_schema__()

    @property
    def columns(self) -> list[str]:
        """Column names, in order."""
        return self._native.names()

    def count(self) -> int:
        """Number of points the query selects (decodes only nodes the region cuts)."""
        return self._native.count()

    def __iter__(self) -> Iterator[Any]:
        """pyarrow RecordBatches (needs pyarrow)."""
        try:
            import pyarrow as pa
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("iterating a copc query yields pyarrow RecordBatches: install pyarrow (or use to_numpy())") from e
        return iter(pa.RecordBatchReader.from_stream(self))

    def to_numpy(self) -> dict[str, Any]:
        """Every column as a 1-D NumPy array (2-D for extra-bytes arrays), keyed by name.

        The query is read as one Arrow batch and the arrays share its memory (no copy;
        they are read-only: ``.copy()`` one to change it). Boolean flags are converted
        from Arrow's bits to NumPy ``bool``.
        """
        import numpy as np

        out: dict[str, Any] = {}
        for name, dtype, buf, width in self._native.read_columns():
            a = np.frombuffer(buf, dtype=np.dtype(dtype))
            out[name] = a.reshape(-1, width) if width > 1 else a
        return out

    def to_pandas(self) -> Any:
        """A pandas DataFrame of the points (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("QueryResult.to_pandas() needs pandas: pip install pandas") from e
        return pd.DataFrame({k: (v if v.ndim == 1 else list(v)) for k, v in self.to_numpy().items()})


class Reader:
    """An open COPC file (``copc.open``). Safe to use from several threads at once."""

    def __init__(self, native: Any) -> None:
        self._native = native

    @property
    def name(self) -> str:
        """The path or URL."""
        return self._native.name

    @property
    def header(self) -> dict[str, Any]:
        """Every LAS header field (file_source_id, guid, version, point_format, scale,
        offset, min, max, point_count, points_by_return, evlr_start, ...)."""
        return self._native.header()

    @property
    def info(self) -> dict[str, Any]:
        """The COPC info VLR: center, halfsize, spacing, root_hier_offset,
        root_hier_size, gpstime_minimum, gpstime_maximum."""
        return self._native.info()

    @property
    def crs(self) -> str | None:
        """The CRS as WKT, or None."""
        return self._native.crs()

    @property
    def point_count(self) -> int:
        return self.header["point_count"]

    @property
    def bounds(self) -> tuple[float, float, float, float, float, float]:
        """(minx, miny, minz, maxx, maxy, maxz) from the header."""
        h = self.header
        return (*h["min"], *h["max"])  # type: ignore[return-value]

    def nodes(
        self,
        bounds: Sequence[float] | None = None,
        polygon: Any = None,
        resolution: float | None = None,
        max_depth: int | None = None,
    ) -> list[Node]:
        """The data nodes a query would read, in file order."""
        rows = self._native.nodes(_bounds(bounds), _polygon(polygon), resolution, max_depth)
        return [Node(*r[:7], tuple(r[7])) for r in rows]

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
        """Select points: ``bounds`` (minx, miny, maxx, maxy[, minz, maxz], edges
        inclusive; without Z all heights), ``polygon`` (WKT or GeoJSON text or a
        geometry), ``resolution`` (the octree levels needed for that spacing),
        ``max_depth`` (deepest level, root = 0), ``dims`` (columns to decode)."""
        native = self._native.query(
            _bounds(bounds), _polygon(polygon), resolution, max_depth, None if dims is None else list(dims), batch_rows
        )
        return QueryResult(native)

    def __repr__(self) -> str:
        return f"<copc.Reader {self.name!r}: {self.point_count} points>"


def open(
    source: str | Any,
    *,
    threads: int | None = None,
    requests: int | None = None,
    headers: Mapping[str, str] | None = None,
    **store_options: Any,
) -> Reader:
    """Open a COPC file: a path, an ``http(s)://`` URL or an ``s3://``, ``az://`` or
    ``gs://`` object (credentials from the usual environment variables, as the CLI).

    ``threads``: decoding threads (default all cores); ``requests``: concurrent HTTP
    requests; ``headers``: HTTP headers; ``store_options``: the library's options,
    e.g. ``s3_region``, ``s3_endpoint``, ``s3_anonymous``, ``azure_account``,
    ``gs_endpoint``, ``http_retries``, ``http_timeout_ms``.
    """
    pairs = _options(threads=threads, requests=requests, headers=headers, **store_options)
    return Reader(_copc.open(str(source), pairs))


# ---------------------------------------------------------------- writing


_STANDARD: dict[str, int] = dict(_copc.dimension_types())
# LAS data type codes (1-10) of NumPy kinds and sizes
_CODES = {("u", 1): 1, ("i", 1): 2, ("u", 2): 3, ("i", 2): 4, ("u", 4): 5, ("i", 4): 6, ("u", 8): 7, ("i", 8): 8, ("f", 4): 9, ("f", 8): 10}
_DTYPES = {c: f"{k}{s}" for (k, s), c in _CODES.items()}


def _standard_name(name: str) -> str | None:
    n = name.strip().lower().replace("-", "_").replace(" ", "_")
    return n if n in _STANDARD else None


def _columns(points: Mapping[str, Any]) -> tuple[int, list[tuple[str, int, Any]]]:
    """A dict of arrays as (name, LAS type code, contiguous uint8 view) columns; standard
    dimensions are cast to their type when no value changes (else InvalidArgumentError)."""
    import numpy as np

    cols: list[tuple[str, int, Any]] = []
    n: int | None = None
    for name, values in points.items():
        a = np.asarray(values)
        if a.ndim != 1:
            raise InvalidArgumentError(f"column '{name}': expected a 1-D array, got {a.ndim} dimensions")
        if n is None:
            n = len(a)
        elif len(a) != n:
            raise InvalidArgumentError(f"column '{name}' has {len(a)} values, the first column {n}")
        if a.dtype == np.bool_:
            a = a.astype(np.uint8)
        if a.dtype.kind not in "uif":
            raise InvalidArgumentError(f"column '{name}': dtype {a.dtype} cannot be stored in a COPC file (numbers and booleans can)")
        std = _standard_name(name)
        if std is not None:
            code = _STANDARD[std]
            want = np.dtype(_DTYPES[code])
            if a.dtype != want:
                if (a.dtype.kind == "f") != (want.kind == "f"):
                    raise InvalidArgumentError(f"column '{name}': dtype {a.dtype} cannot be stored as {std} ({want})")
                cast = a.astype(want)
                if not np.array_equal(cast, a):
                    raise InvalidArgumentError(f"column '{name}': values do not fit {std} ({want})")
                a = cast
        else:
            code = _CODES[(a.dtype.kind, a.dtype.itemsize)]
            a = a.astype(a.dtype.newbyteorder("="), copy=False)
        a = np.ascontiguousarray(a)
        cols.append((name, code, a.view(np.uint8)))
    return (n or 0), cols


def _writer_options(
    scale: float | Sequence[float] | None,
    offset: Sequence[float] | str | None,
    crs: str | None,
    threads: int | None,
    memory_limit: int | str | None,
    max_points_per_node: int | None,
    options: Mapping[str, Any],
) -> list[tuple[str, str]]:
    return _options(
        threads=threads,
        scale=scale,
        offset=offset,
        a_srs=crs,
        memory_limit=memory_limit,
        max_points_per_node=max_points_per_node,
        **options,
    )


class Writer:
    """Points in, one COPC file out, batch by batch (over the library's PointWriter).

    Points beyond ``memory_limit`` spill to a temporary file; the file appears at
    ``path`` only when :meth:`close` succeeds. Used as a context manager, an exception
    inside the block discards the points and leaves nothing behind::

        with copc.Writer("out.copc.laz", scale=0.01, offset=(0, 0, 0)) as w:
            w.add({"x": xs, "y": ys, "z": zs})

    Options as :func:`write`.
    """

    def __init__(
        self,
        path: str | Any,
        *,
        scale: float | Sequence[float] | None = None,
        offset: Sequence[float] | str | None = None,
        crs: str | None = None,
        extra_dims: Sequence[str] | None = None,
        threads: int | None = None,
        memory_limit: int | str | None = None,
        max_points_per_node: int | None = None,
        **options: Any,
    ) -> None:
        pairs = _writer_options(scale, offset, crs, threads, memory_limit, max_points_per_node, options)
        self.path = str(path)
        self._native = _copc.Writer(self.path, pairs, None if extra_dims is None else list(extra_dims))
        self.summary: dict[str, Any] | None = None

    def add(self, points: Any) -> None:
        """Add points: a dict of NumPy arrays, or anything with ``__arrow_c_stream__``
        or ``__arrow_c_array__`` (a pyarrow Table or RecordBatch, a polars DataFrame,
        a copc query)."""
        if hasattr(points, "__arrow_c_stream__"):
            self._native.add_arrow_stream(points.__arrow_c_stream__())
        elif hasattr(points, "__arrow_c_array__"):
            schema, array = points.__arrow_c_array__()
            self._native.add_arrow_array(schema, array)
        elif isinstance(points, Mapping):
            n, cols = _columns(points)
            self._native.add_columns(n, cols)
        else:
            raise InvalidArgumentError(
                f"points: expected a dict of arrays or an Arrow table/stream, got {type(points).__name__}"
            )

    @property
    def points(self) -> int:
        """Points added so far."""
        return self._native.points

    def close(self) -> dict[str, Any]:
        """Build and write the file; returns a summary (points, nodes, ...). Ctrl-C
        stops it (KeyboardInterrupt) and leaves nothing at the path."""
        self.summary = self._native.finish()
        return self.summary

    def abort(self) -> None:
        """Discard the points; nothing is left at the path."""
        self._native.abort()

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write(
    path: str | Any,
    points: Any,
    *,
    scale: float | Sequence[float] | None = None,
    offset: Sequence[float] | str | None = None,
    crs: str | None = None,
    extra_dims: Sequence[str] | None = None,
    threads: int | None = None,
    memory_limit: int | str | None = None,
    max_points_per_node: int | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Write points to a COPC file.

    ``points``: a dict of NumPy arrays or an Arrow table/stream. Columns are named as
    in docs/arrow.md: ``x``, ``y``, ``z`` (float64, scaled; or ``x_raw``... int32 with
    ``scale`` and ``offset``), ``intensity``, ``classification``, ``gps_time``,
    ``red``... (absent ones are 0). Other columns become extra-bytes dimensions typed
    from their dtype (only those named in ``extra_dims`` when given).
    ``scale``: one number or three (default 0.001); ``offset``: three numbers or
    ``"auto"`` (default: the centre of the first batch); ``crs``: WKT or ``"EPSG:n"``;
    ``memory_limit``: bytes or text such as ``"512M"``; other keywords are the
    library's writer options (``point_format``, ``temp_dir``, ``temp_compression``,
    ``system_id``, ...). Returns a summary dict (points, nodes, ...).
    """
    w = Writer(
        path,
        scale=scale,
        offset=offset,
        crs=crs,
        extra_dims=extra_dims,
        threads=threads,
        memory_limit=memory_limit,
        max_points_per_node=max_points_per_node,
        **options,
    )
    try:
        w.add(points)
    except BaseException:
        w.abort()
        raise
    return w.close()


def translate(
    inputs: str | Any | Sequence[str | Any],
    output: str | Any,
    *,
    progress: Callable[[dict[str, Any]], Any] | None = None,
    threads: int | None = None,
    requests: int | None = None,
    headers: Mapping[str, str] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Convert LAS/LAZ files (or one EPT dataset) into one COPC file, as
    ``copc translate`` does (same options, same bytes): ``memory_limit``, ``temp_dir``,
    ``temp_compression``, ``scale``, ``offset``, ``a_srs`` (or ``crs``),
    ``max_points_per_node``, and the reading options of :func:`open` for URL inputs.

    ``progress`` is called with event dicts (``{"event": "phase", "phase": "read",
    "done": ..., "total": ...}``, ``{"event": "warning", "message": ...}``, ...); an
    exception it raises stops the translation and is raised. Ctrl-C stops it too
    (KeyboardInterrupt); either way nothing is left at ``output``.
    """
    if isinstance(inputs, (str, bytes)) or hasattr(inputs, "__fspath__"):
        inputs = [inputs]  # type: ignore[list-item]
    if "crs" in options:
        options["a_srs"] = options.pop("crs")
    pairs = _options(threads=threads, requests=requests, headers=headers, **options)
    return _copc.translate([str(i) for i in inputs], str(output), pairs, progress)  # type: ignore[union-attr]


# ---------------------------------------------------------------- validation


@dataclasses.dataclass(frozen=True)
class Check:
    name: str
    status: str
    """"PASS", "WARN" (a legal writer quirk) or "FAIL"."""
    detail: str


@dataclasses.dataclass(frozen=True)
class Report:
    """The checks of ``copc validate``."""

    source: str
    checks: list[Check]

    @property
    def ok(self) -> bool:
        """No check failed (warnings allowed)."""
        return all(c.status != "FAIL" for c in self.checks)

    @property
    def ok_strict(self) -> bool:
        """No check failed or warned (``copc validate --strict``)."""
        return all(c.status == "PASS" for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status == "FAIL"]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.status == "WARN"]


def validate(source: str | Any, *, quick: bool = False, **open_options: Any) -> Report:
    """Check a COPC file against the COPC 1.0 spec (``copc validate``); ``quick``
    checks the structure without decoding chunks. Options as :func:`open`. A file
    that cannot be read at all gives a report with failures, not an exception; a
    source that cannot be opened (missing file, network failure) raises."""
    source, checks = _copc.validate(str(source), _options(**open_options), quick)
    return Report(source, [Check(*c) for c in checks])


# ---------------------------------------------------------------- datasets

# last: the module uses QueryResult and the option helpers above
from ._dataset import Dataset, Partition, open_dataset  # noqa: E402
