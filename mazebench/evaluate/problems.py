"""Problems as flat arrays for the batch validators, and traces/plans as concatenated arrays.

A :class:`ProblemBatch` holds many mazes (walls row-major, ``True`` = wall, indexed ``[y, x]`` as
in :class:`mazebench.problem.Problem`) so that one numba call validates a whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..problem import Problem


@dataclass(frozen=True, eq=False)
class ProblemBatch:
    """Many problems as flat arrays: concatenated row-major ``walls`` (bool) with ``offsets``
    (n + 1), ``dims`` (n, 2) = (H, W) and ``ends`` (n, 4) = (sx, sy, gx, gy)."""

    walls: np.ndarray
    offsets: np.ndarray
    dims: np.ndarray
    ends: np.ndarray

    def __len__(self) -> int:
        return int(self.dims.shape[0])

    @classmethod
    def from_problems(cls, problems: Sequence[Problem]) -> ProblemBatch:
        if not len(problems):
            return cls.from_grids(np.zeros((0, 1, 1), bool), np.zeros((0, 2)), np.zeros((0, 2)))
        dims = np.array([p.walls.shape for p in problems], dtype=np.int32).reshape(-1, 2)
        ends = np.array([(*p.start, *p.goal) for p in problems], dtype=np.int32).reshape(-1, 4)
        walls = np.concatenate([p.walls.ravel() for p in problems])
        offsets = np.zeros(len(problems) + 1, dtype=np.int64)
        np.cumsum(dims[:, 0].astype(np.int64) * dims[:, 1], out=offsets[1:])
        return cls(walls, offsets, dims, ends)

    @classmethod
    def from_grids(cls, walls: np.ndarray, starts, goals) -> ProblemBatch:
        """From an ``(n, H, W)`` wall array and ``(n, 2)`` starts and goals as (x, y)."""
        walls = np.ascontiguousarray(walls, dtype=np.bool_)
        if walls.ndim != 3:
            raise ValueError(f"walls must have shape (n, H, W), got {walls.shape}")
        n, hgt, wid = walls.shape
        starts = np.asarray(starts, dtype=np.int32).reshape(-1, 2)
        goals = np.asarray(goals, dtype=np.int32).reshape(-1, 2)
        if starts.shape[0] != n or goals.shape[0] != n:
            raise ValueError(f"starts and goals must have {n} rows")
        _check_endpoints(starts, goals, hgt, wid)
        dims = np.tile(np.array([[hgt, wid]], dtype=np.int32), (n, 1))
        offsets = np.arange(n + 1, dtype=np.int64) * (hgt * wid)
        return cls(walls.ravel(), offsets, dims, np.concatenate([starts, goals], axis=1))


def _check_endpoints(starts: np.ndarray, goals: np.ndarray, hgt: int, wid: int) -> None:
    for name, arr in (("start", starts), ("goal", goals)):
        bad = (arr[:, 0] < 0) | (arr[:, 0] >= wid) | (arr[:, 1] < 0) | (arr[:, 1] >= hgt)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"problem {i}: {name} {tuple(arr[i])} is off the {wid}x{hgt} grid")


def as_problem_batch(problems: ProblemBatch | Sequence[Problem] | Problem) -> ProblemBatch:
    if isinstance(problems, ProblemBatch):
        return problems
    if isinstance(problems, Problem):
        return ProblemBatch.from_problems([problems])
    return ProblemBatch.from_problems(list(problems))


def concat_events(traces: Sequence) -> tuple[np.ndarray, ...]:
    """``(op, x, y, g, h, offsets)`` of many traces (anything with those array attributes)."""
    lens = np.array([len(t.op) for t in traces], dtype=np.int64)
    offsets = np.zeros(len(traces) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])

    def cat(name: str, dtype) -> np.ndarray:
        if not len(traces):
            return np.zeros(0, dtype=dtype)
        return np.concatenate([np.asarray(getattr(t, name)) for t in traces]).astype(dtype)

    return (cat("op", np.int8), cat("x", np.int32), cat("y", np.int32), cat("g", np.int32),
            cat("h", np.int32), offsets)  # fmt: skip


def concat_plans(plans: Sequence) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x, y, offsets)`` of many plans (anything with ``x`` and ``y`` arrays)."""
    lens = np.array([len(p.x) for p in plans], dtype=np.int64)
    offsets = np.zeros(len(plans) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    if not len(plans):
        return np.zeros(0, np.int32), np.zeros(0, np.int32), offsets
    xs = np.concatenate([np.asarray(p.x) for p in plans]).astype(np.int32)
    ys = np.concatenate([np.asarray(p.y) for p in plans]).astype(np.int32)
    return xs, ys, offsets
