"""Build a dataset directory from a recipe: Parquet shards per split, manifest, dataset card.

Determinism: candidate example ``i`` of split ``s`` is a pure function of ``(seed, s, i)``.
Candidates are consumed in index order; a candidate is skipped when its problem already appeared
in the split or its wall layout in an earlier split (no leakage), so the accepted rows, and hence
the shard bytes, are the same whatever the worker count.

Faults: each shard is written under a temporary name and renamed into place; the shard's Parquet
metadata records the next candidate index. Re-running the same command with the same recipe
skips the shards already present (after checking their recipe fingerprint) and ends with the
same bytes as an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..rng import stream_key
from ..search.kernel import trace_capacity
from .batch import Block, generate_block
from .recipe import Recipe, SplitSpec
from .schema import block_hashes, block_table

FORMAT_VERSION = 1
_META_FINGERPRINT = b"mazebench.recipe_fingerprint"
_META_NEXT = b"mazebench.next_candidate"
_META_SPLIT = b"mazebench.split"


def shard_name(number: int) -> str:
    return f"part-{number:05d}.parquet"


def split_key(recipe: Recipe, split: SplitSpec) -> int:
    """The 64-bit stream-family key of a split: blake2b of (suite seed, split name)."""
    return stream_key(recipe.seed, "split", split.name)


def rows_per_shard(recipe: Recipe, split: SplitSpec) -> int:
    """Shard rows: the recipe's shard size, capped so a shard's events fit 32-bit offsets."""
    cells = split.maze.height * split.maze.width
    cap = max(1, (2**31 - 1) // int(trace_capacity(cells)))
    return max(1, min(recipe.shard_size, cap))


def _block_job(args: tuple) -> Block:
    maze, profile, key, first, count = args
    return generate_block(maze, profile, key, first, count)


@dataclass
class SplitResult:
    """What was written for one split."""

    name: str
    rows: int = 0
    candidates: int = 0
    rejected_duplicate: int = 0
    rejected_leak: int = 0
    unsolvable: int = 0
    shards: list[str] = field(default_factory=list)
    seconds: float = 0.0


class _Progress:
    """A tqdm progress bar when stderr is a terminal, silence otherwise."""

    def __init__(self, total: int, desc: str, enabled: bool) -> None:
        self.bar = None
        if enabled:
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, desc=desc, unit="ex", leave=False)
            except ImportError:  # pragma: no cover - tqdm is optional
                self.bar = None

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _candidate_blocks(
    split: SplitSpec, key: int, start: int, block_size: int, executor: Executor | None
) -> Iterator[Block]:
    """Blocks of candidates from index ``start`` on, in order (computed ahead in parallel)."""
    if executor is None:
        first = start
        while True:
            yield generate_block(split.maze, split.profile, key, first, block_size)
            first += block_size
    depth = 4
    first = start
    pending = []
    while True:
        while len(pending) < depth:
            pending.append(
                executor.submit(_block_job, (split.maze, split.profile, key, first, block_size))
            )
            first += block_size
        yield pending.pop(0).result()


def _existing_shards(split_dir: Path, fingerprint: str) -> list[tuple[Path, int]]:
    """Complete shards already written under this recipe, in order, with their next index."""
    found = []
    number = 0
    while (path := split_dir / shard_name(number)).exists():
        meta = pq.read_metadata(path).metadata or {}
        if meta.get(_META_FINGERPRINT, b"").decode() != fingerprint:
            raise ValueError(
                f"{path} was written by a different recipe; use another output folder "
                "or delete it"
            )
        found.append((path, int(meta[_META_NEXT])))
        number += 1
    return found


def _write_shard(path: Path, table: pa.Table, meta: dict[bytes, bytes]) -> None:
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    pq.write_table(table, tmp, compression="zstd", row_group_size=len(table) or None)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def build_split(
    recipe: Recipe,
    split: SplitSpec,
    out_dir: Path,
    *,
    seen_layouts: set[str],
    executor: Executor | None = None,
    progress: bool = False,
    on_shard: Callable[[Path], None] | None = None,
) -> SplitResult:
    """Write one split's shards; ``seen_layouts`` holds earlier splits' layouts (updated)."""
    t0 = time.perf_counter()
    split_dir = out_dir / split.name
    split_dir.mkdir(parents=True, exist_ok=True)
    for stale in split_dir.glob(".part-*.tmp-*"):  # left by a killed run
        stale.unlink()
    fingerprint = recipe.fingerprint()
    key = split_key(recipe, split)
    per_shard = rows_per_shard(recipe, split)
    result = SplitResult(split.name)
    seen_problems: set[str] = set()
    split_layouts: set[str] = set()
    next_candidate = 0
    for path, nxt in _existing_shards(split_dir, fingerprint):
        cols = pq.read_table(path, columns=["problem_hash", "layout_hash", "solvable"])
        seen_problems.update(cols.column("problem_hash").to_pylist())
        split_layouts.update(cols.column("layout_hash").to_pylist())
        result.rows += len(cols)
        result.unsolvable += int(len(cols) - pc.sum(cols.column("solvable")).as_py())
        result.shards.append(path.name)
        next_candidate = nxt
    bar = _Progress(split.count, f"{split.name}", progress)
    bar.update(result.rows)
    family = split.maze.family
    params = {
        "family": split.maze.params,
        "placement": split.maze.placement,
        "placement_params": split.maze.placement_params,
        "loops": split.maze.loops,
        "loop_mode": split.maze.loop_mode,
    }
    pending_tables: list[pa.Table] = []
    pending_rows = 0
    block_size = min(per_shard, max(1, split.count - result.rows), 4096)
    blocks = _candidate_blocks(split, key, next_candidate, block_size, executor)
    block: Block | None = None
    hashes: tuple = ()
    pos = 0
    while result.rows < split.count:
        if block is None or pos >= len(block):
            block = next(blocks)
            hashes = block_hashes(block)
            pos = 0
        shard_end = min(split.count, per_shard * (len(result.shards) + 1))
        keep = []
        while pos < len(block) and result.rows + pending_rows + len(keep) < shard_end:
            k = pos
            pos += 1
            next_candidate = block.first + k + 1
            problem, layout = hashes[1][k], hashes[2][k]
            if problem in seen_problems:
                result.rejected_duplicate += 1
                continue
            if layout in seen_layouts:
                result.rejected_leak += 1
                continue
            seen_problems.add(problem)
            split_layouts.add(layout)
            keep.append(k)
        result.candidates = next_candidate
        if keep:
            table = block_table(
                block, np.array(keep), split=split.name, family=family, params=params,
                profile=split.profile.name, hashes=hashes,
            )
            pending_tables.append(table)
            pending_rows += len(table)
            result.unsolvable += int(len(keep) - int((block.status[keep] == 1).sum()))
            bar.update(len(keep))
        if result.rows + pending_rows == shard_end:
            path = split_dir / shard_name(len(result.shards))
            table = pa.concat_tables(pending_tables)
            _write_shard(
                path,
                table,
                {
                    _META_FINGERPRINT: fingerprint.encode(),
                    _META_NEXT: str(next_candidate).encode(),
                    _META_SPLIT: split.name.encode(),
                },
            )
            result.rows += len(table)
            result.shards.append(path.name)
            pending_tables, pending_rows = [], 0
            if on_shard is not None:
                on_shard(path)
    bar.close()
    seen_layouts.update(split_layouts)
    result.seconds = time.perf_counter() - t0
    return result


def build_dataset(
    recipe: Recipe,
    out_dir: str | Path,
    *,
    workers: int = 1,
    progress: bool = False,
    on_shard: Callable[[Path], None] | None = None,
) -> dict:
    """Build every split of ``recipe`` into ``out_dir``; returns the manifest dict."""
    from .manifest import write_card, write_manifest

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    executor = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None
    seen_layouts: set[str] = set()
    results = []
    t0 = time.perf_counter()
    try:
        for split in recipe.splits:
            results.append(
                build_split(
                    recipe, split, out, seen_layouts=seen_layouts, executor=executor,
                    progress=progress, on_shard=on_shard,
                )
            )
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    manifest = write_manifest(out, recipe, results, time.perf_counter() - t0)
    write_card(out, manifest)
    return manifest


def read_manifest(path: str | Path) -> dict:
    return json.loads((Path(path) / "manifest.json").read_text())
