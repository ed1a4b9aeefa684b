"""``mazebench.solve``: run a profile on one problem and get its trace, plan and metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..problem import Problem
from ..rng import as_stream
from .kernel import STATUS_SOLVED, search, trace_capacity
from .metrics import METRIC_NAMES, compute_metrics, metrics_dict
from .profiles import Profile, get_profile


@dataclass(frozen=True, eq=False)
class Trace:
    """A search trace as parallel arrays: ``op`` (0 create, 1 close), ``x``, ``y``, ``g``, ``h``."""

    op: np.ndarray
    x: np.ndarray
    y: np.ndarray
    g: np.ndarray
    h: np.ndarray

    def __len__(self) -> int:
        return int(self.op.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trace):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, k), getattr(other, k)) for k in ("op", "x", "y", "g", "h")
        )

    @classmethod
    def from_arrays(cls, op, x, y, g, h) -> Trace:
        return cls(
            np.asarray(op, dtype=np.int8),
            np.asarray(x, dtype=np.int16),
            np.asarray(y, dtype=np.int16),
            np.asarray(g, dtype=np.int32),
            np.asarray(h, dtype=np.int32),
        )

    @classmethod
    def empty(cls) -> Trace:
        return cls.from_arrays([], [], [], [], [])


@dataclass(frozen=True, eq=False)
class Plan:
    """A plan: cells ``x``, ``y`` from start to goal inclusive."""

    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Plan):
            return NotImplemented
        return np.array_equal(self.x, other.x) and np.array_equal(self.y, other.y)

    @classmethod
    def from_arrays(cls, x, y) -> Plan:
        return cls(np.asarray(x, dtype=np.int16), np.asarray(y, dtype=np.int16))


@dataclass(frozen=True, eq=False)
class Solution:
    """The result of :func:`solve`: the trace, the plan (empty if unsolvable) and metrics."""

    problem: Problem
    profile: Profile
    trace: Trace
    plan: Plan
    solved: bool
    metrics: dict[str, int] = field(default_factory=dict)

    def written_plan(self) -> Plan:
        """The plan as the profile writes it (upstream writes ``start, goal`` when unsolvable)."""
        if self.solved or self.profile.unsolvable_plan == "empty":
            return self.plan
        (sx, sy), (gx, gy) = self.problem.start, self.problem.goal
        return Plan.from_arrays([sx, gx], [sy, gy])

    def to_text(self, dialect: str | None = None) -> str:
        """The whole example in a token dialect (default: the profile's)."""
        from ..conventions.dialects import get_dialect

        return get_dialect(dialect or self.profile.dialect).text(
            self.problem, self.trace, self.written_plan()
        )

    def to_parts(self, dialect: str | None = None) -> dict[str, str]:
        """``{"prompt", "reasoning", "plan"}`` token strings in a dialect."""
        from ..conventions.dialects import get_dialect

        return get_dialect(dialect or self.profile.dialect).parts(
            self.problem, self.trace, self.written_plan()
        )


def solve(
    problem: Problem,
    profile: str | Profile | dict = "beyond-semantics",
    *,
    rng: np.ndarray | int | None = None,
    seed: int | None = None,
    post_goal: int = 0,
) -> Solution:
    """Solve ``problem`` with a profile and record its full trace.

    ``rng``/``seed`` feed randomised profiles (``random`` tie-break, shuffled children);
    ``post_goal`` lets the search run on for that many events after the goal's close (A* itself
    stops at the goal; this makes answer-correct traces with a post-conclusion tail).
    """
    prof = get_profile(profile)
    stream = as_stream(rng, seed)
    walls = problem.walls
    n_cells = walls.size
    cap = int(trace_capacity(n_cells))
    op = np.empty(cap, dtype=np.int8)
    ex = np.empty(cap, dtype=np.int16)
    ey = np.empty(cap, dtype=np.int16)
    eg = np.empty(cap, dtype=np.int32)
    eh = np.empty(cap, dtype=np.int32)
    px = np.empty(n_cells, dtype=np.int16)
    py = np.empty(n_cells, dtype=np.int16)
    (sx, sy), (gx, gy) = problem.start, problem.goal
    wg, wh, log_h, tie, improve, order, shuffle, log_start = prof.kernel_args()
    n, n_plan, status, _ = search(
        walls, sx, sy, gx, gy, wg, wh, log_h, tie, improve, order, shuffle, log_start,
        int(post_goal), stream, op, ex, ey, eg, eh, px, py,
    )
    trace = Trace(op[:n].copy(), ex[:n].copy(), ey[:n].copy(), eg[:n].copy(), eh[:n].copy())
    plan = Plan(px[:n_plan].copy(), py[:n_plan].copy())
    values = np.zeros(len(METRIC_NAMES), dtype=np.int64)
    compute_metrics(walls, sx, sy, gx, gy, op, ex, ey, n, px, py, n_plan, values)
    return Solution(problem, prof, trace, plan, status == STATUS_SOLVED, metrics_dict(values))
