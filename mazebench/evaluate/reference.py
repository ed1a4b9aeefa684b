"""The ground truth of a dataset, held as compact arrays to join model predictions against.

:class:`Reference` reads the splits of a dataset once, shard by shard, and keeps per row only
numbers: packed walls, start and goal, the difficulty metrics the reports use, and a 64-bit
digest of the ground-truth trace (computed per split when its first prediction arrives), so that
an exact trace match (generated events == ground-truth events) needs no trace in memory. Ids
are kept as one sorted fixed-width byte array and looked up by binary search
(:meth:`Reference.lookup`). About 180 bytes per row at 30 x 30.

Digests: :mod:`mazebench.evaluate.digests` (splitmix64 chained over the events; two traces have
the same digest iff they are equal, up to a 2**-64 chance).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit, prange

from ..datasets.load import Dataset, load
from ..datasets.packed import unpack_trace
from ..search.profiles import Profile, get_profile
from .digests import event_digests, plan_digests  # noqa: F401  (re-exported)
from .parse import DIALECT_CODES
from .replay import ProblemBatch

DIFFICULTY: dict[str, str] = {
    "events": "n_events",
    "tokens": "trace_tokens",
    "plan_length": "plan_length",
    "closed_cells": "n_closes",
    "branch_jumps": "branch_jumps",
}
_COLUMNS = [
    "id", "walls", "start_x", "start_y", "goal_x", "goal_y", "solvable",
    *sorted(set(DIFFICULTY.values())),
]


@njit(cache=True, parallel=True)
def _lookup_spans(table, order, buf, starts, ends, out):
    """Binary search of each key ``buf[starts[i]:ends[i]]`` among the rows of ``table`` (sorted,
    NUL-padded, as numpy orders ``S`` strings); ``out[i]`` = ``order`` of the match, else -1."""
    n, width = table.shape
    for i in prange(starts.shape[0]):
        a, b = starts[i], ends[i]
        out[i] = -1
        if b - a < 1 or b - a > width or n == 0:
            continue
        nul = False
        for k in range(a, b):
            if buf[k] == 0:
                nul = True
                break
        if nul:
            continue
        lo, hi = 0, n
        while lo < hi:  # first row >= key
            mid = (lo + hi) >> 1
            cmp = 0
            for k in range(width):
                kb = buf[a + k] if a + k < b else 0
                tb = table[mid, k]
                if tb != kb:
                    cmp = -1 if tb < kb else 1
                    break
            if cmp < 0:
                lo = mid + 1
            else:
                hi = mid
        if lo < n:
            same = True
            for k in range(width):
                kb = buf[a + k] if a + k < b else 0
                if table[lo, k] != kb:
                    same = False
                    break
            if same:
                out[i] = order[lo]


@dataclass(frozen=True)
class SplitInfo:
    """One split of the reference: grid size, solver profile and how its traces are validated.

    ``dialect`` is the validator dialect (the profile's, unless overridden; profiles written in
    ``compact`` are read as ``beyond-semantics``), ``heuristic`` is ``zero`` for profiles that log
    h = 0 (Dijkstra, BFS, DFS). Rows ``first .. first + rows - 1`` of the reference are this
    split's, in dataset order.
    """

    name: str
    code: int
    height: int
    width: int
    profile: Profile
    dialect: str
    heuristic: str
    first: int
    rows: int


def _walls_bytes(column: pa.Array, n: int, nbytes: int) -> np.ndarray:
    out = np.empty((n, nbytes), dtype=np.uint8)
    lengths = pc.binary_length(column).to_numpy(zero_copy_only=False)
    if n and (lengths != nbytes).any():
        raise ValueError(f"walls column has rows of {int(lengths.max())} bytes, expected {nbytes}")
    _, offsets, data = column.buffers()
    off = np.frombuffer(offsets, dtype=np.int32)[column.offset : column.offset + n + 1]
    if n:
        out[:] = np.frombuffer(data, dtype=np.uint8)[off[0] : off[-1]].reshape(n, nbytes)
    return out


class Reference:
    """Ground truth of the chosen splits of a dataset (see the module docstring).

    Per row (``n`` rows over all chosen splits, split by split): ``split_of`` (int16 code into
    :attr:`splits`), ``sg`` (int16 ``(n, 4)`` start x, y, goal x, y), ``solvable`` and
    ``metrics[name]`` (int32) for each column of :data:`DIFFICULTY`; :meth:`digests` gives the
    uint64 ground-truth trace digests.
    """

    def __init__(
        self,
        dataset: Dataset | str | Path,
        splits: Sequence[str] | None = None,
        dialect: str | None = None,
    ) -> None:
        data = dataset if isinstance(dataset, Dataset) else load(dataset)
        if dialect is not None and dialect not in DIALECT_CODES:
            raise ValueError(
                f"unknown dialect {dialect!r} (allowed: {', '.join(DIALECT_CODES)})"
            )
        names = list(splits) if splits else data.splits
        for name in names:
            data.shard_paths(name)  # ValueError naming the splits
        specs = {s["name"]: s for s in data.manifest["recipe"]["splits"]}
        self.dataset = data
        self.splits: list[SplitInfo] = []
        self._walls: list[np.ndarray] = []
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ("sg", "solvable", "split")}
        metric_parts: dict[str, list[np.ndarray]] = {m: [] for m in DIFFICULTY.values()}
        id_parts: list[pa.Array] = []
        first = 0
        for code, name in enumerate(names):
            spec = specs[name]
            hgt, wid = int(spec["maze"]["height"]), int(spec["maze"]["width"])
            profile = get_profile(spec["profile"])
            nbytes = (hgt * wid + 7) // 8
            walls, rows = [], 0
            for batch in data.iter_batches(name, 16384, columns=_COLUMNS):
                n = batch.num_rows
                rows += n
                id_parts.append(batch.column("id"))
                walls.append(_walls_bytes(batch.column("walls"), n, nbytes))
                parts["sg"].append(np.stack(
                    [batch.column(c).to_numpy().astype(np.int16)
                     for c in ("start_x", "start_y", "goal_x", "goal_y")], axis=1))  # fmt: skip
                parts["solvable"].append(
                    batch.column("solvable").to_numpy(zero_copy_only=False).astype(bool)
                )
                parts["split"].append(np.full(n, code, dtype=np.int16))
                for m in metric_parts:
                    metric_parts[m].append(batch.column(m).to_numpy().astype(np.int32))
            self._walls.append(np.concatenate(walls) if walls else np.zeros((0, nbytes), np.uint8))
            log_h = profile.kernel_args()[2]
            self.splits.append(SplitInfo(
                name, code, hgt, wid, profile,
                dialect or (profile.dialect if profile.dialect in DIALECT_CODES
                            else "beyond-semantics"),
                "manhattan" if log_h else "zero", first, rows,
            ))  # fmt: skip
            first += rows

        def cat(chunks: list[np.ndarray], dtype, shape=(0,)) -> np.ndarray:
            return np.concatenate(chunks) if chunks else np.zeros(shape, dtype=dtype)

        self.sg = cat(parts["sg"], np.int16, (0, 4))
        self.solvable = cat(parts["solvable"], bool)
        self._digest = np.zeros(first, dtype=np.uint64)
        self._digested = [False] * len(self.splits)
        self.split_of = cat(parts["split"], np.int16)
        self.metrics = {m: cat(v, np.int32) for m, v in metric_parts.items()}
        ids = pa.concat_arrays([a.cast(pa.large_string()) for a in id_parts]) if id_parts else (
            pa.array([], pa.large_string()))
        encoded = [s.encode("utf-8") for s in ids.to_pylist()]
        width = max((len(s) for s in encoded), default=1) or 1
        raw = np.array(encoded, dtype=f"S{width}")
        self._order = np.argsort(raw, kind="stable")
        self._sorted = raw[self._order]
        self._width = width
        if raw.size and (self._sorted[1:] == self._sorted[:-1]).any():
            dup = self._sorted[1:][self._sorted[1:] == self._sorted[:-1]][0].decode()
            raise ValueError(f"dataset id {dup!r} appears twice; ids must be unique")

    def __len__(self) -> int:
        return int(self.split_of.shape[0])

    @property
    def split_names(self) -> list[str]:
        return [s.name for s in self.splits]

    def lookup(self, ids: Sequence[str]) -> np.ndarray:
        """Reference row of each id (int64), -1 for an id not in the chosen splits."""
        out = np.full(len(ids), -1, dtype=np.int64)
        if not len(ids) or not len(self):
            return out
        enc = [s.encode("utf-8", "surrogatepass") for s in ids]
        ok = np.array([0 < len(s) <= self._width and b"\x00" not in s for s in enc], dtype=bool)
        if not ok.any():
            return out
        keys = np.array([s for s, k in zip(enc, ok) if k], dtype=f"S{self._width}")
        pos = np.searchsorted(self._sorted, keys)
        pos_c = np.minimum(pos, self._sorted.shape[0] - 1)
        hit = self._sorted[pos_c] == keys
        out[np.flatnonzero(ok)] = np.where(hit, self._order[pos_c], -1)
        return out

    def lookup_spans(self, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """:meth:`lookup` of the UTF-8 ids ``buf[starts[i]:ends[i]]`` (no Python string)."""
        out = np.empty(starts.shape[0], dtype=np.int64)
        if not hasattr(self, "_table"):
            self._table = self._sorted.view(np.uint8).reshape(self._sorted.shape[0], self._width)
        if out.shape[0]:
            _lookup_spans(self._table, self._order, buf,
                          np.ascontiguousarray(starts, np.int64),
                          np.ascontiguousarray(ends, np.int64), out)  # fmt: skip
        return out

    def ids(self, rows: np.ndarray) -> pa.Array:
        """The dataset ids of ``rows`` (an Arrow string array, no Python object per id)."""
        if not hasattr(self, "_rank"):
            self._rank = np.empty_like(self._order)
            self._rank[self._order] = np.arange(self._order.shape[0])
        picked = self._sorted[self._rank[np.asarray(rows, dtype=np.int64)]]
        return pa.array(picked, type=pa.binary()).cast(pa.string())

    def problems(self, rows: np.ndarray) -> ProblemBatch:
        """The problems of ``rows`` (all of one split) as a :class:`ProblemBatch`."""
        rows = np.asarray(rows, dtype=np.int64)
        info = self.splits[int(self.split_of[rows[0]])] if rows.size else self.splits[0]
        cells = info.height * info.width
        packed = self._walls[info.code][rows - info.first]
        walls = np.unpackbits(packed, axis=1, count=cells).astype(np.bool_)
        sg = self.sg[rows].astype(np.int32)
        return ProblemBatch.from_grids(walls.reshape(-1, info.height, info.width),
                                       sg[:, :2], sg[:, 2:])

    def digests(self, rows: np.ndarray) -> np.ndarray:
        """Ground-truth trace digests of ``rows``. A split's traces are read and digested the
        first time one of its rows is asked for, so splits the predictions do not cover (a large
        train split) cost nothing."""
        rows = np.asarray(rows, dtype=np.int64)
        for code in np.unique(self.split_of[rows]).tolist():
            if not self._digested[code]:
                self._digest_split(self.splits[code])
        return self._digest[rows]

    def _digest_split(self, info: SplitInfo) -> None:
        at = info.first
        for batch in self.dataset.iter_batches(info.name, 16384, columns=["trace"]):
            off, op, *ev = unpack_trace(batch.column("trace"))
            self._digest[at : at + batch.num_rows] = event_digests(op, *ev, off)
            at += batch.num_rows
        if at != info.first + info.rows:
            raise ValueError(f"split {info.name!r} changed while it was evaluated")
        self._digested[info.code] = True

    def optimal_lengths(self, rows: np.ndarray) -> np.ndarray:
        """Shortest plan length in cells where the ground truth knows it (optimal profiles,
        solvable rows), else -1 (the validator then runs a BFS when the plan is valid)."""
        rows = np.asarray(rows, dtype=np.int64)
        optimal = np.array([s.profile.optimal for s in self.splits], dtype=bool)
        known = optimal[self.split_of[rows]] & self.solvable[rows]
        return np.where(known, self.metrics["plan_length"][rows], -1).astype(np.int64)
