"""Operators on single examples and short lists, for interactive use.

The same kernels as for datasets run on a small batch built from
:class:`~mazebench.search.solve.Trace` / :class:`~mazebench.search.solve.Plan` objects, so an
example gives exactly the row a dataset transform would give it (same seed, same index, same
split name)::

    from mazebench import solve, generate_maze
    from mazebench.ops import transform_example
    sol = solve(generate_maze("wilson", 30, 30, seed=1))
    out = transform_example(sol, ["extend:events=40", "cut-random-chunk"], seed=3)
    out.trace, out.info["removed_events"], out.to_text("searchformer")
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..datasets.packed import TRACE_FIELDS, pack_plan, pack_trace
from ..problem import Problem, layout_hash, pack_walls, problem_hash
from ..search.profiles import Profile, get_profile
from ..search.solve import Plan, Trace
from .batch import DUALFORMER_LEVELS, TraceBatch, batch_from_table
from .chain import apply_steps, bind, needs_split, parse_chain


@dataclass(frozen=True, eq=False)
class Transformed:
    """One transformed example: its problem, new trace and plan, and per-row provenance.

    ``costs`` is False when the trace's create clauses are written without cost tokens
    (Dualformer L2/L3-paper); ``info`` holds the provenance columns (``removed_events``,
    ``tail_events``, ``swap_source``, ``dualformer_level``, ``trace_anchor``, ...).
    ``unsolvable_plan`` is the profile's convention for the plan written when the goal is
    unreachable (``start-goal`` as upstream, or ``empty``).
    """

    problem: Problem
    trace: Trace
    plan: Plan
    costs: bool = True
    info: dict = field(default_factory=dict)
    solvable: bool = True
    unsolvable_plan: str = "start-goal"

    def written_plan(self) -> Plan:
        """The plan as text writes it (upstream writes ``start, goal`` when unsolvable)."""
        if self.solvable or self.unsolvable_plan == "empty":
            return self.plan
        (sx, sy), (gx, gy) = self.problem.start, self.problem.goal
        return Plan.from_arrays([sx, gx], [sy, gy])

    def to_text(self, dialect: str = "searchformer") -> str:
        from .text import example_text

        return example_text(self.problem, self.trace, self.written_plan(), dialect,
                            costs=self.costs)


def _parts(example) -> tuple[Problem, Trace, Plan]:
    if isinstance(example, tuple):
        problem, trace, plan = example
    else:
        problem, trace, plan = example.problem, example.trace, example.plan
    return problem, trace, plan


def _offsets(lengths: list[int]) -> np.ndarray:
    off = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=off[1:])
    return off


def _cat(values: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(v) for v in values]) if values else np.zeros(0, np.int64)


def examples_table(examples: Sequence, *, split: str = "examples",
                   indices: Sequence[int] | None = None) -> pa.Table:
    """A dataset-like table of ``(problem, trace, plan)`` examples (or objects with those
    attributes, e.g. :class:`~mazebench.search.solve.Solution`)."""
    parts = [_parts(e) for e in examples]
    n = len(parts)
    indices = list(range(n)) if indices is None else [int(i) for i in indices]
    if len(indices) != n:
        raise ValueError(f"{n} examples but {len(indices)} indices")
    cols: dict[str, pa.Array] = {
        "id": pa.array([f"{split}-{i}" for i in indices], pa.string()),
        "split": pa.array([split] * n, pa.string()),
        "index": pa.array(indices, pa.int64()),
        "problem_hash": pa.array([problem_hash(p.walls, p.start, p.goal) for p, _, _ in parts]),
        "layout_hash": pa.array([layout_hash(p.walls) for p, _, _ in parts]),
        "family": pa.array(["examples"] * n, pa.string()),
        "params": pa.array([json.dumps({})] * n, pa.string()),
        "height": pa.array([p.height for p, _, _ in parts], pa.int16()),
        "width": pa.array([p.width for p, _, _ in parts], pa.int16()),
        "walls": pa.array([pack_walls(p.walls) for p, _, _ in parts], pa.binary()),
        "start_x": pa.array([p.start[0] for p, _, _ in parts], pa.int16()),
        "start_y": pa.array([p.start[1] for p, _, _ in parts], pa.int16()),
        "goal_x": pa.array([p.goal[0] for p, _, _ in parts], pa.int16()),
        "goal_y": pa.array([p.goal[1] for p, _, _ in parts], pa.int16()),
        "solvable": pa.array([len(pl) > 0 for _, _, pl in parts], pa.bool_()),
    }
    ev_off = _offsets([len(t) for _, t, _ in parts])
    cols["trace"] = pack_trace(ev_off, *(_cat([getattr(t, f) for _, t, _ in parts])
                                         for f in TRACE_FIELDS))
    pl_off = _offsets([len(pl) for _, _, pl in parts])
    cols["plan"] = pack_plan(pl_off, _cat([pl.x for _, _, pl in parts]),
                             _cat([pl.y for _, _, pl in parts]))
    cols["n_events"] = pa.array([len(t) for _, t, _ in parts], pa.int32())
    return pa.table(cols)


def _results(batch: TraceBatch, problems: dict[int, Problem], profile: Profile
             ) -> list[Transformed]:
    from .anchors import anchor_labels_batch

    labels = anchor_labels_batch(batch) if batch.anchors else None
    index = batch.index()
    solvable = batch.column("solvable", bool)
    out = []
    for i in range(len(batch)):
        a, b = int(batch.off[i]), int(batch.off[i + 1])
        p0, p1 = int(batch.plan_off[i]), int(batch.plan_off[i + 1])
        trace = Trace.from_arrays(batch.op[a:b], batch.x[a:b], batch.y[a:b], batch.g[a:b],
                                  batch.h[a:b])
        info = {"source_trace_hash": batch.table.column("source_trace_hash")[i].as_py(),
                "source_n_events": batch.table.column("source_n_events")[i].as_py()}
        for key, values in batch.extra.items():
            value = np.asarray(values)[i].item()
            info[key] = DUALFORMER_LEVELS[value] if key == "dualformer_level" else value
        if labels is not None:
            info["trace_anchor"] = labels[a:b].copy()
        out.append(Transformed(problems[int(index[i])], trace,
                               Plan.from_arrays(batch.plan_x[p0:p1], batch.plan_y[p0:p1]),
                               bool(batch.costs[i]), info, bool(solvable[i]),
                               profile.unsolvable_plan))
    return out


def transform_examples(
    examples: Sequence,
    ops: str | Sequence[str],
    *,
    seed: int = 0,
    profile: str | Profile | dict = "beyond-semantics",
    split: str = "examples",
    indices: Sequence[int] | None = None,
) -> list[Transformed]:
    """Apply a chain to a list of examples as to a split named ``split`` (example ``k`` has
    index ``indices[k]``, default ``k``). Rows dropped by ``budget`` are left out."""
    steps = parse_chain(ops, seed=seed)
    table = examples_table(examples, split=split, indices=indices)
    problems = {int(i): _parts(e)[0] for i, e in zip(table.column("index").to_pylist(),
                                                      examples)}
    prof = get_profile(profile)
    batch = apply_steps(batch_from_table(table), bind(steps, split, prof))
    return _results(batch, problems, prof)


def transform_example(
    example,
    ops: str | Sequence[str],
    *,
    seed: int = 0,
    index: int = 0,
    profile: str | Profile | dict = "beyond-semantics",
    split: str = "examples",
) -> Transformed:
    """Apply a chain of row-scope operators to one example (a ``(problem, trace, plan)`` tuple,
    a :class:`~mazebench.search.solve.Solution` or a dataset example)."""
    steps = parse_chain(ops, seed=seed)
    if needs_split(steps):
        names = ", ".join(s.op.name for s in steps if s.op.scope == "split")
        raise ValueError(f"{names} works on a whole split; use transform_examples on a list")
    out = transform_examples([example], ops, seed=seed, profile=profile, split=split,
                             indices=[index])
    if not out:
        raise ValueError("the example was dropped by the chain (budget)")
    return out[0]


def conclusion_points(example) -> dict[str, int]:
    """``{"goal-created", "plan-recoverable", "goal-closed"}`` event indices (-1 if none)."""
    from .truncate import POINTS
    from .truncate import conclusion_points as points

    batch = batch_from_table(examples_table([example]))
    return dict(zip(POINTS, (int(v) for v in points(batch)[0])))


def anchor_labels(example) -> np.ndarray:
    """Per-event anchor labels (0 routine, 1 jump, 2 conclusion, 3 post-conclusion)."""
    from .anchors import anchor_labels_batch

    return anchor_labels_batch(batch_from_table(examples_table([example])))


__all__ = ["Transformed", "anchor_labels", "conclusion_points", "examples_table",
           "transform_example", "transform_examples"]
