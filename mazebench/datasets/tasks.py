"""The two pure tasks a dataset build is made of; any engine may run them anywhere.

* :func:`scan` generates a window of candidates ``first .. first+count-1`` of a split and returns
  their 64-bit problem and layout keys, difficulty metric and solvable flags; in speculative mode
  it also writes the whole window as a finished shard under a hidden name, which the builder
  renames into place when every candidate of the window is accepted (the common case: no
  duplicate, no leak, no difficulty bin).
* :func:`write` regenerates an explicit list of accepted candidates and writes them as a shard.

A shard's bytes depend only on its candidate indices and the recipe, so the two paths give
identical files, and the builder's output never depends on which path, engine or worker ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..search.metrics import METRIC_NAMES
from .batch import Block, generate_block
from .parquet_format import DEFAULT_CODEC, write_shard_file
from .recipe import SplitSpec
from .schema import block_hashes, block_table, numeric_column
from .shard_summary import ShardSummary

META_FINGERPRINT = b"mazebench.recipe_fingerprint"
META_NEXT = b"mazebench.next_candidate"
META_SPLIT = b"mazebench.split"
META_LCG = b"mazebench.upstream_state"


@dataclass(frozen=True)
class SplitJob:
    """What a worker needs to produce rows of one split."""

    split: SplitSpec
    key: int
    fingerprint: str
    split_dir: str
    codec: str = DEFAULT_CODEC  # the shards' Parquet codec


@dataclass(frozen=True)
class ScanTask:
    job: SplitJob
    first: int
    count: int
    spec_path: str | None = None  # write the window as a shard here (speculative mode)


@dataclass
class ScanResult:
    first: int
    count: int
    problem_keys: np.ndarray  # uint64
    layout_keys: np.ndarray  # uint64
    metric: np.ndarray  # int64: the split's difficulty metric
    solvable: np.ndarray  # bool
    spec_path: str | None
    spec_summary: ShardSummary | None = None  # of the speculative shard, if written


@dataclass(frozen=True)
class AssembleTask:
    job: SplitJob
    pieces: tuple  # (window file, row positions in it) in shard order
    path: str
    next_candidate: int


@dataclass(frozen=True)
class WriteTask:
    job: SplitJob
    indices: np.ndarray  # int64, ascending
    path: str


def _params(split: SplitSpec) -> dict:
    return {
        "family": split.maze.params,
        "placement": split.maze.placement,
        "placement_params": split.maze.placement_params,
        "loops": split.maze.loops,
        "loop_mode": split.maze.loop_mode,
    }


def shard_table(job: SplitJob, block: Block, hashes) -> pa.Table:
    """The Arrow table of every example of ``block`` (with the split's text column if any)."""
    split = job.split
    table = block_table(
        block, np.arange(len(block)), split=split.name, family=split.maze.family,
        params=_params(split), profile=split.profile.name, hashes=hashes,
    )
    if split.text is not None:
        from .text import block_text

        table = table.append_column("text", block_text(block, split.profile, split.text))
    return table


def write_table(path: Path, table: pa.Table, job: SplitJob, next_candidate: int,
                extra: dict[bytes, bytes] | None = None, *, fsync: bool = True) -> ShardSummary:
    """Write ``table`` as a shard at ``path`` atomically (temporary name, fsync, rename);
    returns its manifest summary."""
    meta = {
        META_FINGERPRINT: job.fingerprint.encode(),
        META_NEXT: str(next_candidate).encode(),
        META_SPLIT: job.split.name.encode(),
        **(extra or {}),
    }
    return write_shard_file(table, path, meta, codec=job.codec, fsync=fsync)


def scan(task: ScanTask) -> ScanResult:
    """Generate a window of candidates; return their keys (and write it if speculative)."""
    job = task.job
    block = generate_block(job.split.maze, job.split.profile, job.key, task.first, task.count)
    hashes = block_hashes(block)
    column = METRIC_NAMES.index(job.split.metric)
    summary = None
    if task.spec_path is not None:
        # not fsynced here: the builder syncs a window's file when it accepts it as a shard,
        # before renaming it into place, so the worker does not wait on the disk
        table = shard_table(job, block, hashes)
        summary = write_table(Path(task.spec_path), table, job, task.first + task.count,
                              fsync=False)
    return ScanResult(
        task.first,
        task.count,
        hashes.problem_keys(),
        hashes.layout_keys(),
        block.metrics[:, column].astype(np.int64),
        block.status == 1,
        task.spec_path,
        summary,
    )


def assemble(task: AssembleTask) -> tuple[str, ShardSummary]:
    """Write the shard ``task.path`` from rows of window files (written by :func:`scan`);
    returns the path and the shard's manifest summary.

    Rows are pure functions of their candidate index, so the table equals the one
    :func:`write` regenerates from the same indices, and it is written from one contiguous
    table the same way: the bytes are identical (tested), at the cost of reading and writing
    Parquet instead of generating and solving the mazes again.
    """
    parts = [pq.ParquetFile(path).read().take(numeric_column(np.asarray(rows, np.int64)))
             for path, rows in task.pieces]
    table = pa.concat_tables(parts).combine_chunks().replace_schema_metadata(None)
    return task.path, write_table(Path(task.path), table, task.job, task.next_candidate)


def write(task: WriteTask) -> tuple[str, ShardSummary]:
    """Regenerate the candidates ``task.indices`` and write them as the shard ``task.path``;
    returns the path and the shard's manifest summary."""
    job = task.job
    block = generate_block(job.split.maze, job.split.profile, job.key, task.indices)
    hashes = block_hashes(block)
    next_candidate = int(task.indices[-1]) + 1 if len(task.indices) else 0
    table = shard_table(job, block, hashes)
    return task.path, write_table(Path(task.path), table, job, next_candidate)
