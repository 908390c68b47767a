"""Type stubs of the native module ``copc._copc`` (PyO3). Use the public API of
``copc`` (``copc.open``, ``copc.write``, ...); these are its building blocks.

Example::

    >>> from copc import _copc
    >>> r = _copc.open("example.copc.laz", [("threads", "2")])
    >>> q = r.query(None, None, None, 1, ["x", "y"], None)
    >>> [name for name, *_ in q.read_columns()]
    ['x', 'y']
"""

from typing import Any, Callable

__version__: str

class Buffer:
    """Read-only bytes of an Arrow buffer (buffer protocol); ``numpy.frombuffer(buf, dtype)``
    shares them without a copy."""
    def __len__(self) -> int: ...

class QueryResult:
    """A query; every ``__arrow_c_stream__`` call runs it again."""
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """PyCapsule "arrow_array_stream" (e.g. ``pyarrow.table(q)``)."""
    def __arrow_c_schema__(self) -> object:
        """PyCapsule "arrow_schema"."""
    def count(self) -> int:
        """Points selected (only nodes the region cuts are decoded)."""
    def names(self) -> list[str]:
        """Column names in order."""
    def read_columns(self) -> list[tuple[str, str, Buffer, int]]:
        """(name, NumPy dtype, Buffer, elements per row) of every column, read as one batch."""

class Reader:
    """An open COPC file (thread-safe)."""
    @property
    def name(self) -> str: ...
    def header(self) -> dict[str, Any]: ...
    def info(self) -> dict[str, Any]: ...
    def crs(self) -> str | None: ...
    def nodes(
        self, bounds: list[float] | None = None, polygon: str | None = None, resolution: float | None = None, max_depth: int | None = None
    ) -> list[tuple[int, int, int, int, int, int, int, list[float]]]:
        """(level, x, y, z, point_count, offset, byte_size, [minx, miny, minz, maxx, maxy, maxz])"""
    def query(
        self,
        bounds: list[float] | None = None,
        polygon: str | None = None,
        resolution: float | None = None,
        max_depth: int | None = None,
        dims: list[str] | None = None,
        batch_rows: int | None = None,
    ) -> QueryResult: ...

def open(source: str, options: list[tuple[str, str]]) -> Reader:
    """Open a path or URL; options are (key, value) pairs of the C API's copc_options."""

class Partition:
    """One planned piece of a dataset query (nodes of one file); pickles as its JSON."""
    def __init__(self, json: str) -> None:
        """The partition of ``to_json()``'s text."""
    def to_json(self) -> str: ...
    @property
    def href(self) -> str: ...
    @property
    def points(self) -> int:
        """Exact when ``exact``, else an upper bound (``node_points``)."""
    @property
    def node_points(self) -> int: ...
    @property
    def exact(self) -> bool: ...
    @property
    def keys(self) -> list[tuple[int, int, int, int]]: ...
    @property
    def ranges(self) -> list[tuple[int, int]]: ...
    @property
    def dims(self) -> list[str] | None: ...
    def read(self, options: list[tuple[str, str]], dims: list[str] | None = None, batch_rows: int | None = None) -> QueryResult:
        """Its points; the file is opened (with ``options``) when the result is consumed."""

class Dataset:
    """Many COPC files read as one (a VPC / STAC ItemCollection, or a list)."""
    @property
    def name(self) -> str: ...
    @property
    def point_count(self) -> int: ...
    @property
    def bounds(self) -> list[float]:
        """[minx, miny, minz, maxx, maxy, maxz] over every file."""
    def items(self) -> list[dict[str, Any]]: ...
    def query(
        self,
        bounds: list[float] | None = None,
        polygon: str | None = None,
        resolution: float | None = None,
        max_depth: int | None = None,
        dims: list[str] | None = None,
        batch_rows: int | None = None,
    ) -> QueryResult: ...
    def plan(
        self,
        bounds: list[float] | None = None,
        polygon: str | None = None,
        resolution: float | None = None,
        max_depth: int | None = None,
        dims: list[str] | None = None,
        partition_points: int | None = None,
        partition_bytes: int | None = None,
    ) -> list[Partition]: ...

def open_dataset(sources: list[str], options: list[tuple[str, str]]) -> Dataset:
    """One .vpc / STAC JSON location, or a list of COPC files; options as ``open``."""

class Writer:
    """Points into a COPC file (the library's PointWriter)."""
    def __init__(self, path: str, options: list[tuple[str, str]], extra_dims: list[str] | None = None) -> None: ...
    def add_columns(self, n: int, columns: list[tuple[str, int, Any]]) -> None:
        """Columns as (name, LAS data type code 1-10, contiguous uint8 buffer)."""
    def add_arrow_stream(self, capsule: object) -> None: ...
    def add_arrow_array(self, schema: object, array: object) -> None: ...
    @property
    def points(self) -> int: ...
    def finish(self) -> dict[str, Any]: ...
    def abort(self) -> None: ...

def translate(
    inputs: list[str], output: str, options: list[tuple[str, str]], progress: Callable[[dict[str, Any]], Any] | None = None
) -> dict[str, Any]: ...
def validate(source: str, options: list[tuple[str, str]], quick: bool = False) -> tuple[str, list[tuple[str, str, str]]]: ...
def dimension_types() -> list[tuple[str, int]]:
    """Standard dimension names and the LAS data type code their columns take."""
