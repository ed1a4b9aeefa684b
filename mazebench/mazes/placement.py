"""Start/goal placement policies.

The first four reproduce the Beyond Semantics generator's per-family rules (arXiv 2505.13775)
draw for draw; the others are mazebench's own and always return a start and goal joined by a path
(the placement fails, and the maze is rebuilt, when no pair qualifies).

* ``wilson``: floor cells row by row; start and goal by index; one more goal draw if equal.
* ``kruskal``: x then y drawn until floor, for start and goal; one more goal pick if equal.
* ``dfs``: as kruskal, but the goal is redrawn until it differs from the start.
* ``floor_distinct``: floor cells row by row; start by index; goal redrawn until a different index.
* ``uniform``: start uniform over floor cells that reach another cell; goal uniform over the
  other cells of its component.
* ``min_manhattan``: as uniform, goal among cells at Manhattan distance >= ``distance``.
* ``min_plan``: as uniform, goal among cells whose shortest plan has >= ``length`` cells.
* ``dead_end``: start uniform over dead ends (one floor neighbour); goal as uniform.
* ``corners``: start at the floor cell nearest a random grid corner, goal at the cell of its
  component nearest the opposite corner (ties broken row by row).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..grid import bfs_distances, floor_cells, floor_degree, floor_index_list
from ..params import Param, ParamSet
from ..rng import next_index

P_FAMILY = -1
P_WILSON = 0
P_KRUSKAL = 1
P_DFS = 2
P_FLOOR_DISTINCT = 3
P_UNIFORM = 4
P_MIN_MANHATTAN = 5
P_MIN_PLAN = 6
P_DEAD_END = 7
P_CORNERS = 8
P_SEARCHFORMER = 9


@dataclass(frozen=True)
class Policy:
    name: str
    pid: int
    params: ParamSet
    upstream: bool
    doc: str


def _policy(name, pid, params, upstream, doc) -> Policy:
    return Policy(name, pid, ParamSet(f"placement {name}", tuple(params)), upstream, doc)


POLICIES: dict[str, Policy] = {
    p.name: p
    for p in (
        _policy("family", P_FAMILY, [], False, "the family's own default policy"),
        _policy("wilson", P_WILSON, [], True, "upstream Wilson rule (floor index, one retry)"),
        _policy("kruskal", P_KRUSKAL, [], True, "upstream Kruskal rule (x/y draws, one retry)"),
        _policy("dfs", P_DFS, [], True, "upstream DFS rule (x/y draws until distinct)"),
        _policy("floor_distinct", P_FLOOR_DISTINCT, [], True,
                "upstream drunkard/CA rule (floor index until distinct; goal may be unreachable)"),
        _policy("searchformer", P_SEARCHFORMER, [], True,
                "placed by the searchformer family itself (long plan)"),
        _policy("uniform", P_UNIFORM, [], False, "uniform start, goal uniform in its component"),
        _policy("min_manhattan", P_MIN_MANHATTAN,
                [Param("distance", 10, 0, 1e6, "int", "minimum Manhattan distance")], False,
                "goal at Manhattan distance >= distance"),
        _policy("min_plan", P_MIN_PLAN,
                [Param("length", 10, 1, 1e7, "int", "minimum plan length in cells")], False,
                "goal whose shortest plan has >= length cells"),
        _policy("dead_end", P_DEAD_END, [], False, "start in a dead end"),
        _policy("corners", P_CORNERS, [], False, "start and goal near opposite corners"),
    )
}


def get_policy(name: str) -> Policy:
    try:
        return POLICIES[name]
    except KeyError:
        allowed = ", ".join(sorted(POLICIES))
        raise ValueError(f"unknown placement policy {name!r} (allowed: {allowed})") from None


@njit(cache=True)
def _xy_floor(walls, stream):
    height, width = walls.shape
    while True:
        x = next_index(stream, width)
        y = next_index(stream, height)
        if not walls[y, x]:
            return x, y


@njit(cache=True)
def _component_pick(walls, stream, pid, value):
    """uniform / min_manhattan / min_plan / dead_end: returns (sx, sy, gx, gy, ok)."""
    height, width = walls.shape
    xs, ys = floor_cells(walls)
    n = xs.shape[0]
    if n < 2:
        return 0, 0, 0, 0, False
    cand = np.empty(n, dtype=np.int64)
    k = 0
    for i in range(n):
        if floor_degree(walls, xs[i], ys[i]) > 0:
            if pid != P_DEAD_END or floor_degree(walls, xs[i], ys[i]) == 1:
                cand[k] = i
                k += 1
    tries = 0
    while k > 0 and tries < 64:
        tries += 1
        i = cand[next_index(stream, k)]
        sx = xs[i]
        sy = ys[i]
        dist = bfs_distances(walls, sx, sy)
        m = 0
        goals = np.empty(n, dtype=np.int64)
        for j in range(n):
            d = dist[ys[j], xs[j]]
            if d <= 0:
                continue
            if pid == P_MIN_MANHATTAN and abs(xs[j] - sx) + abs(ys[j] - sy) < value:
                continue
            if pid == P_MIN_PLAN and d + 1 < value:
                continue
            goals[m] = j
            m += 1
        if m > 0:
            j = goals[next_index(stream, m)]
            return sx, sy, xs[j], ys[j], True
        if pid == P_UNIFORM or pid == P_DEAD_END:
            break
    return 0, 0, 0, 0, False


@njit(cache=True)
def _corners(walls, stream):
    height, width = walls.shape
    xs, ys = floor_cells(walls)
    n = xs.shape[0]
    if n < 2:
        return 0, 0, 0, 0, False
    corner = next_index(stream, 4)
    cx = 0 if corner == 0 or corner == 3 else width - 1
    cy = 0 if corner < 2 else height - 1
    best = 0
    for i in range(n):
        if abs(xs[i] - cx) + abs(ys[i] - cy) < abs(xs[best] - cx) + abs(ys[best] - cy):
            best = i
    sx = xs[best]
    sy = ys[best]
    dist = bfs_distances(walls, sx, sy)
    ox = width - 1 - cx
    oy = height - 1 - cy
    goal = -1
    for i in range(n):
        if dist[ys[i], xs[i]] <= 0:
            continue
        if goal < 0 or abs(xs[i] - ox) + abs(ys[i] - oy) < abs(xs[goal] - ox) + abs(
            ys[goal] - oy
        ):
            goal = i
    if goal < 0:
        return 0, 0, 0, 0, False
    return sx, sy, xs[goal], ys[goal], True


@njit(cache=True)
def place(walls, stream, pid, pparams):
    """Run placement policy ``pid``; returns ``(sx, sy, gx, gy, ok)``."""
    if pid == P_WILSON or pid == P_FLOOR_DISTINCT:
        width = walls.shape[1]
        cells = np.empty(walls.size, dtype=np.int64)
        n = floor_index_list(walls, cells)
        if n == 0 or (pid == P_FLOOR_DISTINCT and n < 2):
            return 0, 0, 0, 0, False
        s = next_index(stream, n)
        g = next_index(stream, n)
        if pid == P_WILSON:
            if g == s:
                g = next_index(stream, n)
        else:
            while g == s:
                g = next_index(stream, n)
        return cells[s] % width, cells[s] // width, cells[g] % width, cells[g] // width, True
    if pid == P_KRUSKAL or pid == P_DFS:
        xs, ys = floor_cells(walls)
        n = xs.shape[0]
        if n == 0 or (pid == P_DFS and n < 2):
            return 0, 0, 0, 0, False
        sx, sy = _xy_floor(walls, stream)
        gx, gy = _xy_floor(walls, stream)
        if pid == P_KRUSKAL:
            if gx == sx and gy == sy:
                gx, gy = _xy_floor(walls, stream)
        else:
            while gx == sx and gy == sy:
                gx, gy = _xy_floor(walls, stream)
        return sx, sy, gx, gy, True
    if pid == P_CORNERS:
        return _corners(walls, stream)
    value = pparams[0] if pparams.shape[0] > 0 else 0.0
    return _component_pick(walls, stream, pid, value)
