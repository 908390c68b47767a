"""Dask: a query over many COPC files as a ``dask.dataframe.DataFrame``, one task per
partition of the library's planner (:meth:`copc.Dataset.plan`); each task opens its
file itself, on its worker. Needs ``pip install copc[dask]`` (``dask[dataframe]``,
``distributed``, ``pyarrow``, ``pandas``); ``import copc`` alone never imports Dask.

Example::

    import copc.dask
    ddf = copc.dask.read("tiles/all.vpc", bounds=(500100, 4500100, 500300, 4500300),
                         dims=["x", "y", "z", "classification"])
    print(ddf.groupby("classification").z.mean().compute())
"""

from __future__ import annotations

from typing import Any, Sequence

import dask.dataframe as dd

from . import Dataset, Partition, open_dataset

__all__ = ["read", "plan"]


def _dataset(dataset_or_paths: Any, open_options: dict[str, Any]) -> Dataset:
    if isinstance(dataset_or_paths, Dataset):
        return dataset_or_paths
    return open_dataset(dataset_or_paths, **open_options)


def plan(
    dataset_or_paths: Any,
    bounds: Sequence[float] | None = None,
    polygon: Any = None,
    resolution: float | None = None,
    max_depth: int | None = None,
    dims: Sequence[str] | None = None,
    *,
    partition_points: int | None = None,
    partition_bytes: int | None = None,
    **open_options: Any,
) -> list[Partition]:
    """The partitions :func:`read` makes one task of each, in its order: ``p.points``
    is the number of rows of that task's frame when ``p.exact``, else an upper bound.
    Arguments as :func:`read`."""
    ds = _dataset(dataset_or_paths, open_options)
    return ds.plan(
        bounds, polygon, resolution, max_depth, dims, partition_points=partition_points, partition_bytes=partition_bytes
    )


class _ReadPartition:
    """One task: a partition's points as a pandas DataFrame, its file opened on the
    worker. Holds only the open options, so it pickles small. The ``columns`` keyword
    lets Dask push a column selection into the read (only those are decoded)."""

    def __init__(self, open_options: dict[str, Any]) -> None:
        self.open_options = open_options

    def __call__(self, partition: Partition, columns: Sequence[str] | None = None) -> Any:
        import pyarrow as pa

        dims = None if columns is None else list(columns)
        return pa.table(partition.read(dims=dims, **self.open_options)).to_pandas()


def read(
    dataset_or_paths: Any,
    bounds: Sequence[float] | None = None,
    polygon: Any = None,
    resolution: float | None = None,
    max_depth: int | None = None,
    dims: Sequence[str] | None = None,
    *,
    partition_points: int | None = None,
    partition_bytes: int | None = None,
    **open_options: Any,
) -> dd.DataFrame:
    """The points of a query over a dataset as a Dask DataFrame (``dd.from_map``), one
    partition per planner partition (``ddf.npartitions == len(plan(...))``, except for
    a query that meets no node: one empty partition).

    ``dataset_or_paths``: a :class:`copc.Dataset`, a ``.vpc`` / STAC JSON path or URL,
    or a list of COPC files. ``bounds``, ``polygon``, ``resolution``, ``max_depth``,
    ``dims``: as :meth:`copc.Dataset.query`. ``partition_points`` (default 1 000 000)
    or ``partition_bytes``: the size of a task. ``open_options``: as :func:`copc.open`
    (``requests``, ``headers``, ``s3_endpoint``, ...), for the plan and for every task;
    tasks decode with ``threads=1`` unless given (Dask runs the tasks in parallel).
    Credentials given as options travel in the task graph: prefer the environment
    variables of the workers. The columns and dtypes are those of ``pyarrow.table(q)
    .to_pandas()`` for the same query.
    """
    import pyarrow as pa

    ds = _dataset(dataset_or_paths, open_options)
    parts = ds.plan(
        bounds, polygon, resolution, max_depth, dims, partition_points=partition_points, partition_bytes=partition_bytes
    )
    meta = pa.schema(ds.query(bounds, polygon, resolution, max_depth, dims)).empty_table().to_pandas()
    if not parts:
        return dd.from_pandas(meta, npartitions=1)
    task = _ReadPartition({"threads": 1, **open_options})
    return dd.from_map(task, parts, meta=meta, label="copc-read", enforce_metadata=False)
