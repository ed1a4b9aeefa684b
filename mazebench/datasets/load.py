"""``mazebench.load``: open a dataset directory and read its splits and examples."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..problem import Problem, unpack_walls
from .packed import PLAN_DTYPE, TRACE_DTYPE, TRACE_FIELDS, check_format, decode_value
from .parquet_format import open_shard


@dataclass(frozen=True)
class Example:
    """One row of a dataset as objects (use the Arrow tables for batches)."""

    id: str
    problem: Problem
    trace: object
    plan: object
    solvable: bool
    row: dict


class Dataset:
    """A mazebench dataset directory: ``manifest.json`` plus one folder of shards per split."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        manifest = self.path / "manifest.json"
        if not manifest.exists():
            raise ValueError(f"{self.path} is not a mazebench dataset (no manifest.json)")
        self.manifest = json.loads(manifest.read_text())
        check_format(self.manifest, str(self.path))

    @property
    def splits(self) -> list[str]:
        """Split names in recipe order."""
        return [s["name"] for s in self.manifest["recipe"]["splits"]]

    def shard_paths(self, split: str) -> list[Path]:
        if split not in self.manifest["splits"]:
            allowed = ", ".join(self.splits)
            raise ValueError(f"unknown split {split!r} (splits: {allowed})")
        return [self.path / s["path"] for s in self.manifest["splits"][split]["shards"]]

    def __len__(self) -> int:
        return sum(int(s["rows"]) for s in self.manifest["splits"].values())

    def num_rows(self, split: str) -> int:
        self.shard_paths(split)
        return int(self.manifest["splits"][split]["rows"])

    def table(self, split: str, columns: list[str] | None = None) -> pa.Table:
        """The whole split as one Arrow table (optionally only some columns)."""
        tables = [pq.read_table(p, columns=columns) for p in self.shard_paths(split)]
        return pa.concat_tables(tables) if tables else pa.table({})

    def iter_batches(self, split: str, batch_size: int = 4096, columns: list[str] | None = None):
        """Record batches of a split, shard by shard (flat memory)."""
        for path in self.shard_paths(split):
            yield from open_shard(path).iter_batches(batch_size=batch_size, columns=columns)

    def example(self, split: str, index: int) -> Example:
        """Row ``index`` (0-based position in the split) as objects."""

        n = self.num_rows(split)
        if not (0 <= index < n):
            raise ValueError(f"index {index} out of range for split {split!r} ({n} rows)")
        offset = index
        for shard in self.manifest["splits"][split]["shards"]:
            if offset < shard["rows"]:
                table = pq.read_table(self.path / shard["path"]).slice(offset, 1)
                break
            offset -= shard["rows"]
        row = {k: v[0] for k, v in table.to_pydict().items()}
        return example_from_row(row)


def example_from_row(row: dict) -> Example:
    """Build an :class:`Example` from a row dict (as read from a shard)."""
    from ..search.solve import Plan, Trace

    walls = unpack_walls(row["walls"], int(row["height"]), int(row["width"]))
    problem = Problem(walls, (row["start_x"], row["start_y"]), (row["goal_x"], row["goal_y"]))
    events = decode_value(row["trace"], TRACE_DTYPE)
    cells = decode_value(row["plan"], PLAN_DTYPE)
    trace = Trace.from_arrays(*(np.ascontiguousarray(events[f]) for f in TRACE_FIELDS))
    plan = Plan.from_arrays(np.ascontiguousarray(cells["x"]), np.ascontiguousarray(cells["y"]))
    return Example(row["id"], problem, trace, plan, bool(row["solvable"]), row)


def load(path: str | Path) -> Dataset:
    """Open a dataset directory written by ``mazebench generate``."""
    return Dataset(path)
