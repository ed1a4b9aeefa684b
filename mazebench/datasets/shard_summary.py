"""What a manifest says about one shard, computed once per shard as soon as it lands.

A shard's manifest entry (rows, bytes, sha256) and its share of the split statistics (exact value
counts of the difficulty columns, unsolvable rows) depend on that shard's file alone. The
:class:`SummaryPool` computes them on a background thread while the workers still generate later
shards, so the end of a build only merges them: computed at the end, hashing and re-reading every
shard was a serial tail of about 0.5 s per 340,000 rows on this machine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

STAT_COLUMNS = ("n_events", "trace_tokens", "plan_length", "n_walls", "branch_jumps")
SHARD_HASH = "sha256"


def file_hash(path: Path, algorithm: str = "blake2b") -> str:
    """The hex digest of a file's bytes: blake2b-256 (manifests) or sha256 (shards)."""
    digest = hashlib.blake2b(digest_size=32) if algorithm == "blake2b" else hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def shard_hash(path: Path) -> str:
    """The content hash a manifest lists for a shard (:data:`SHARD_HASH`)."""
    return file_hash(path, SHARD_HASH)


class ValueCounts:
    """Exact value counts of an integer column, merged shard by shard (memory: distinct values)."""

    def __init__(self, column: np.ndarray | None = None) -> None:
        self.values = np.empty(0, dtype=np.int64)
        self.counts = np.empty(0, dtype=np.int64)
        if column is not None:
            self.values, self.counts = np.unique(np.asarray(column, dtype=np.int64),
                                                 return_counts=True)

    def merge(self, other: ValueCounts) -> None:
        merged = np.concatenate([self.values, other.values])
        weights = np.concatenate([self.counts, other.counts])
        self.values, inverse = np.unique(merged, return_inverse=True)
        self.counts = np.bincount(inverse, weights=weights, minlength=len(self.values)).astype(
            np.int64
        )

    def quantile(self, q: float) -> float:
        """As ``numpy.quantile(values, q)`` (linear interpolation) on the expanded values."""
        n = int(self.counts.sum())
        position = q * (n - 1)
        lo, frac = int(np.floor(position)), position - np.floor(position)
        ends = np.cumsum(self.counts)
        v_lo = self.values[np.searchsorted(ends, lo, side="right")]
        v_hi = self.values[np.searchsorted(ends, min(lo + 1, n - 1), side="right")]
        return float(v_lo + (v_hi - v_lo) * frac)

    def mean(self) -> float:
        return float((self.values * self.counts).sum() / max(1, self.counts.sum()))


@dataclass
class ShardSummary:
    """A shard's manifest facts: rows, bytes, sha256, value counts of :data:`STAT_COLUMNS`."""

    rows: int
    size: int
    sha256: str
    counts: dict[str, ValueCounts] = field(default_factory=dict)
    unsolvable: int = 0


def int_values(column: pa.ChunkedArray) -> np.ndarray:
    """The values of a null-free integer column, read from its buffers (``to_numpy`` imports
    pandas, 0.5 s)."""
    dtype = column.type.to_pandas_dtype()
    parts = [np.frombuffer(c.buffers()[1], dtype=dtype)[c.offset : c.offset + len(c)]
             for c in column.chunks]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


class SummaryBuilder:
    """The statistics half of a :class:`ShardSummary`, accumulated from the tables a writer
    writes (value counts of the :data:`STAT_COLUMNS` present, unsolvable rows), so a shard is
    summarised from memory instead of being read back."""

    def __init__(self) -> None:
        self.rows = 0
        self.counts: dict[str, ValueCounts] = {}
        self.unsolvable = 0

    def add(self, table: pa.Table) -> None:
        names = table.column_names
        for c in STAT_COLUMNS:
            if c in names:
                counts = ValueCounts(int_values(table.column(c)))
                if c in self.counts:
                    self.counts[c].merge(counts)
                else:
                    self.counts[c] = counts
        if "solvable" in names:
            self.unsolvable += int(table.num_rows - (pc.sum(table.column("solvable")).as_py()
                                                     or 0))
        self.rows += table.num_rows

    def finish(self, size: int, sha256: str) -> ShardSummary:
        return ShardSummary(self.rows, size, sha256, self.counts, self.unsolvable)


def summarize_shard(path: Path | str, hashed: bool = True) -> ShardSummary:
    """The summary of a shard on disk, from its statistics columns (``sha256`` is empty unless
    ``hashed``)."""
    path = Path(path)
    shard = pq.ParquetFile(path)  # not pq.read_table: it imports pyarrow.dataset (0.4 s)
    present = [c for c in (*STAT_COLUMNS, "solvable") if c in shard.schema_arrow.names]
    builder = SummaryBuilder()
    builder.add(shard.read(columns=present))
    return builder.finish(path.stat().st_size, shard_hash(path) if hashed else "")


class SummaryPool:
    """Shard summaries computed on background threads (hashlib and Parquet release the GIL),
    each shard once; also runs other per-split side work (card pictures) off the main thread."""

    def __init__(self, threads: int = 1, *, hashed: bool = True) -> None:
        self.pool = ThreadPoolExecutor(max(1, threads), thread_name_prefix="mazebench-summary")
        self.futures: dict[Path, Future] = {}
        self.hashed = hashed  # False: statistics only (``verify`` hashes the files itself)

    def submit(self, path: Path | str) -> None:
        """Start summarizing ``path`` (a finished shard) unless it already is."""
        path = Path(path)
        if path not in self.futures:
            self.futures[path] = self.pool.submit(summarize_shard, path, self.hashed)

    def put(self, path: Path | str, summary: ShardSummary) -> None:
        """Record a summary computed elsewhere (by the worker that wrote the shard)."""
        future: Future = Future()
        future.set_result(summary)
        self.futures[Path(path)] = future

    def call(self, fn: Callable, *args) -> Future:
        return self.pool.submit(fn, *args)

    def summaries(self, paths: list[Path]) -> list[ShardSummary]:
        """The summaries of ``paths``, in order (started now for those not submitted yet)."""
        for path in paths:
            self.submit(path)
        return [self.futures[Path(p)].result() for p in paths]

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> SummaryPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
