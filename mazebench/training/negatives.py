"""Hard negatives: near-miss problems that share a maze with a target, so recalled answers fail.

A model that memorised a problem's trace can replay it on a problem that looks almost the same.
Each near miss keeps the target's maze and changes one thing:

* ``move_goal`` - the goal moves to another reachable floor cell within ``radius`` moves of the
  old goal (not the start): the recalled plan ends at the wrong cell, so it is invalid;
* ``open_wall`` - one wall cell becomes floor where that creates a strictly shorter path from
  start to goal: the recalled plan is still a path but no longer optimal, and the recalled trace
  is not the negative's A* trace (its goal is reached with a larger g).

Candidates are drawn uniformly with a native stream per (seed, kind, source row), in numba. The
negatives are solved with the source split's profile and written as rows of the dataset schema
(:mod:`mazebench.datasets.schema`) plus the pairing: ``pair_id``, ``pair_row``,
``pair_problem_hash`` (the target), ``negative_kind``, ``edit_x``/``edit_y`` (new goal or opened
wall), and the verdict on the recalled answer (the target's ground-truth trace and plan judged on
the negative): ``recalled_plan_valid``, ``recalled_plan_optimal``, ``recalled_trace_valid``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
from numba import njit

from ..grid import bfs_distances
from ..problem import Problem
from ..rng import KIND_NATIVE, next_index, stream_key, stream_state
from ..search.metrics import compute_metrics

KINDS = ("move_goal", "open_wall")
_DX = np.array([0, 1, 0, -1], dtype=np.int64)
_DY = np.array([-1, 0, 1, 0], dtype=np.int64)


@njit(cache=True)
def _candidates(walls, sx, sy, gx, gy, kind, radius, cx, cy):
    """Write the candidate edits of one problem to ``cx``/``cy``; return how many."""
    height, width = walls.shape
    ds = bfs_distances(walls, sx, sy)
    dg = bfs_distances(walls, gx, gy)
    best = ds[gy, gx]
    k = 0
    for y in range(height):
        for x in range(width):
            if kind == 0:
                d = dg[y, x]
                if (not walls[y, x] and ds[y, x] >= 0 and 1 <= d <= radius
                        and not (x == sx and y == sy)):
                    cx[k] = x
                    cy[k] = y
                    k += 1
            elif walls[y, x] and best > 0:
                near_s = -1
                near_g = -1
                for j in range(4):
                    nx = x + _DX[j]
                    ny = y + _DY[j]
                    if 0 <= nx < width and 0 <= ny < height and not walls[ny, nx]:
                        if ds[ny, nx] >= 0 and (near_s < 0 or ds[ny, nx] < near_s):
                            near_s = ds[ny, nx]
                        if dg[ny, nx] >= 0 and (near_g < 0 or dg[ny, nx] < near_g):
                            near_g = dg[ny, nx]
                if near_s >= 0 and near_g >= 0 and near_s + near_g + 2 < best:
                    cx[k] = x
                    cy[k] = y
                    k += 1
    return k


@njit(cache=True)
def pick_edits(walls, sg, kind, radius, per, key, rows, out, counts):
    """Up to ``per`` distinct edits per problem, uniformly drawn: ``out[i, j] = (x, y)``."""
    n, height, width = walls.shape
    cx = np.empty(height * width, dtype=np.int64)
    cy = np.empty(height * width, dtype=np.int64)
    stream = np.empty(2, dtype=np.uint64)
    for i in range(n):
        m = _candidates(walls[i], sg[i, 0], sg[i, 1], sg[i, 2], sg[i, 3], kind, radius, cx, cy)
        stream[0] = KIND_NATIVE
        stream[1] = stream_state(key, np.uint64(rows[i]))
        take = min(per, m)
        for j in range(take):  # partial Fisher-Yates
            r = j + next_index(stream, m - j)
            cx[j], cx[r] = cx[r], cx[j]
            cy[j], cy[r] = cy[r], cy[j]
            out[i, j, 0] = cx[j]
            out[i, j, 1] = cy[j]
        counts[i] = take


@dataclass(frozen=True)
class NearMiss:
    """A near-miss problem and how it was made from its target."""

    problem: Problem
    kind: str
    edit: tuple[int, int]


def _check(kinds, per_kind: int, radius: int) -> tuple[str, ...]:
    kinds = tuple(kinds)
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise ValueError(f"negative kind {bad[0] if bad else None!r} (allowed: {', '.join(KINDS)})")
    if per_kind < 1 or radius < 1:
        raise ValueError(f"per_kind = {per_kind} and radius = {radius} must be at least 1")
    return kinds


def edits(walls: np.ndarray, sg: np.ndarray, kind: str, *, seed: int = 0, rows=None,
          per_kind: int = 1, radius: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Edits of many problems (``walls`` (n, H, W), ``sg`` (n, 4)): ``(out (n, per, 2),
    counts (n,))``; ``rows`` (default ``0..n-1``) key each problem's random stream."""
    _check([kind], per_kind, radius)
    walls = np.ascontiguousarray(walls, dtype=np.bool_)
    n = walls.shape[0]
    rows = np.arange(n, dtype=np.int64) if rows is None else np.asarray(rows, np.int64)
    out = np.zeros((n, per_kind, 2), dtype=np.int64)
    counts = np.zeros(n, dtype=np.int64)
    key = np.uint64(stream_key(seed, "negatives", kind))
    pick_edits(walls, np.ascontiguousarray(sg, np.int64), KINDS.index(kind), radius, per_kind,
               key, rows, out, counts)
    return out, counts


def apply_edit(walls: np.ndarray, sg, kind: str, x: int, y: int) -> tuple[np.ndarray, tuple]:
    """``(walls, (sx, sy, gx, gy))`` of the near miss."""
    sx, sy, gx, gy = (int(v) for v in sg)
    if kind == "move_goal":
        return walls, (sx, sy, int(x), int(y))
    opened = walls.copy()
    opened[y, x] = False
    return opened, (sx, sy, gx, gy)


def near_misses(problem: Problem, *, kinds=KINDS, per_kind: int = 1, radius: int = 3,
                seed: int = 0, index: int = 0) -> list[NearMiss]:
    """Near misses of one problem (``index`` keys its random stream, as a row position would)."""
    kinds = _check(kinds, per_kind, radius)
    sg = np.array([[*problem.start, *problem.goal]], dtype=np.int64)
    out = []
    for kind in kinds:
        picked, counts = edits(problem.walls[None], sg, kind, seed=seed, rows=[index],
                               per_kind=per_kind, radius=radius)
        for x, y in picked[0, : counts[0]].tolist():
            walls, (sx, sy, gx, gy) = apply_edit(problem.walls, sg[0], kind, x, y)
            out.append(NearMiss(Problem(walls, (sx, sy), (gx, gy)), kind, (x, y)))
    return out


@njit(cache=True)
def _metrics_batch(walls, sg, ev_off, op, ex, ey, pl_off, px, py, out):
    for i in range(walls.shape[0]):
        e0, e1, p0, p1 = ev_off[i], ev_off[i + 1], pl_off[i], pl_off[i + 1]
        compute_metrics(walls[i], sg[i, 0], sg[i, 1], sg[i, 2], sg[i, 3], op[e0:e1], ex[e0:e1],
                        ey[e0:e1], e1 - e0, px[p0:p1], py[p0:p1], p1 - p0, out[i])


def _gather(off: np.ndarray, arrays, rows: np.ndarray):
    starts = off[rows]
    lens = off[rows + 1] - starts
    new = np.zeros(rows.shape[0] + 1, dtype=np.int64)
    np.cumsum(lens, out=new[1:])
    idx = np.repeat(starts - new[:-1], lens) + np.arange(int(new[-1]))
    return new, [np.asarray(a)[idx] for a in arrays]


def negatives_table(dataset_dir: str | Path, split: str, *, kinds=KINDS, per_kind: int = 1,
                    radius: int = 3, seed: int = 0) -> pa.Table:
    """Near misses of every row of ``split`` as a table (see the module docstring)."""
    from ..datasets.batch import Block
    from ..datasets.export import SplitReader, batch_arrays
    from ..datasets.load import Dataset
    from ..datasets.schema import block_hashes, block_table
    from ..evaluate import ProblemBatch, validate_batch
    from ..search.fast import native_streams, solve_batch
    from ..search.metrics import METRIC_NAMES

    kinds = _check(kinds, per_kind, radius)
    data = Dataset(dataset_dir)
    reader = SplitReader(data, split)
    profile = reader.profile
    dialect = profile.dialect if profile.dialect in ("beyond-semantics", "searchformer") \
        else "beyond-semantics"
    spec = next(s for s in data.manifest["recipe"]["splits"] if s["name"] == split)
    tables, first = [], 0
    for batch in data.iter_batches(split, 4096):
        rows = batch_arrays(batch, reader.height, reader.width)
        n = len(batch)
        pos = np.arange(first, first + n, dtype=np.int64)
        src, kind_col, ex, ey, walls_l, sg_l = [], [], [], [], [], []
        for kind in kinds:
            picked, counts = edits(rows.walls, rows.sg, kind, seed=seed, rows=pos,
                                   per_kind=per_kind, radius=radius)
            for i in np.flatnonzero(counts).tolist():
                for x, y in picked[i, : counts[i]].tolist():
                    w, corners = apply_edit(rows.walls[i], rows.sg[i], kind, x, y)
                    src.append(i)
                    kind_col.append(kind)
                    ex.append(x)
                    ey.append(y)
                    walls_l.append(w)
                    sg_l.append(corners)
        first += n
        if not src:
            continue
        src = np.asarray(src, dtype=np.int64)
        walls = np.stack(walls_l)
        sg = np.asarray(sg_l, dtype=np.int64)
        m = len(src)
        sol = solve_batch(walls, sg[:, :2], sg[:, 2:], profile,
                          streams=native_streams(seed, m, "negatives", split, first))
        metrics = np.zeros((m, len(METRIC_NAMES)), dtype=np.int64)
        _metrics_batch(walls, sg, sol.ev_off, sol.op, sol.x, sol.y, sol.plan_off, sol.plan_x,
                       sol.plan_y, metrics)
        block = Block(np.arange(m, dtype=np.int64), walls, sg.astype(np.int16), sol.status,
                      np.ones(m, np.int32), metrics, sol.ev_off, sol.op, sol.x, sol.y, sol.g,
                      sol.h, sol.plan_off, sol.plan_x, sol.plan_y)
        table = block_table(block, np.arange(m), split=f"{split}-negatives",
                            family=spec["maze"]["family"], params=spec["maze"]["params"],
                            profile=profile.name, hashes=block_hashes(block))
        ev_off, ev = _gather(rows.ev_off, rows.ev, src)
        pl_off, pl = _gather(rows.pl_off, rows.pl, src)
        verdict = validate_batch(ProblemBatch.from_grids(walls, sg[:, :2], sg[:, 2:]), *ev,
                                 ev_off, *pl, pl_off, dialect=dialect,
                                 heuristic="manhattan" if profile.kernel_args()[2] else "zero")
        ids = rows.ids.to_pylist()
        counter: dict[tuple[int, str], int] = {}
        new_ids = []
        for i, kind in zip(src.tolist(), kind_col):
            j = counter.get((i, kind), 0)
            counter[i, kind] = j + 1
            new_ids.append(f"{ids[i]}~{kind}{j}")
        table = table.set_column(0, "id", pa.array(new_ids, pa.string()))
        extra = {
            "pair_id": pa.array([ids[i] for i in src.tolist()], pa.string()),
            "pair_row": pa.array(pos[src]),
            "pair_problem_hash": batch.column("problem_hash").take(pa.array(src)),
            "negative_kind": pa.array(kind_col, pa.string()),
            "edit_x": pa.array(np.asarray(ex, np.int16)),
            "edit_y": pa.array(np.asarray(ey, np.int16)),
            "recalled_plan_valid": pa.array(verdict.plan_valid),
            "recalled_plan_optimal": pa.array(verdict.plan_optimal),
            "recalled_trace_valid": pa.array(verdict.trace_valid),
        }
        for name, col in extra.items():
            table = table.append_column(name, col)
        tables.append(table)
    if not tables:
        raise ValueError(f"split {split!r} gave no near misses (kinds {', '.join(kinds)})")
    return pa.concat_tables(tables)
