"""Difficulty metrics of one solved problem, computed by a numba kernel.

Names (all integers): ``n_events``, ``n_closes``, ``n_creates``, ``trace_tokens`` (5 per event in
both upstream dialects), ``plan_length`` (cells, start and goal included; 0 if unsolvable),
``manhattan`` (start to goal), ``branch_jumps`` (closes of a cell that is not a 4-neighbour of the
previously closed cell: a backtrack to another branch of the frontier, the maze analogue of a
"thought anchor", arXiv 2506.19143), ``dead_ends`` and ``decision_points`` (floor cells with one,
and with three or more, floor neighbours), ``plan_decisions`` (plan cells, goal excluded, with
three or more floor neighbours), ``goal_close_index`` (event index of the goal's close, -1 if
none) and ``goal_create_index`` (first create of the goal, -1 if none; for a start equal to the
goal, the start's index).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..grid import count_degrees, floor_degree

METRIC_NAMES = (
    "n_events",
    "n_closes",
    "n_creates",
    "trace_tokens",
    "plan_length",
    "manhattan",
    "branch_jumps",
    "dead_ends",
    "decision_points",
    "plan_decisions",
    "goal_close_index",
    "goal_create_index",
)


@njit(cache=True, nogil=True)
def scan_events(op, ex, ey, start, end, gx, gy):
    """``(closes, branch_jumps, goal_close_index, goal_create_index)`` of events
    ``start..end-1``, indices relative to ``start`` (-1 if none); see :func:`scan_events_into`."""
    cx = np.empty(max(end - start, 1), dtype=ex.dtype)
    cy = np.empty(max(end - start, 1), dtype=ey.dtype)
    return scan_events_into(op, ex, ey, start, end, gx, gy, cx, cy)


@njit(cache=True, nogil=True, inline="always")
def scan_events_into(op, ex, ey, start, end, gx, gy, cx, cy):
    """:func:`scan_events` with scratch arrays ``cx``, ``cy`` (at least ``end - start``
    entries). The closes' cells are gathered without a branch (every cell is written, the
    write position advances on a close), then compared pairwise; 1.4x faster than one
    branching pass on 30x30 Wilson traces."""
    base = np.uint64(start)
    m = np.uint64(end - start)
    j = np.uint64(0)
    for k in range(m):
        e = base + k
        cx[j] = ex[e]
        cy[j] = ey[e]
        j += np.uint64(op[e] == 1)
    jumps = 0
    one = np.uint64(1)
    for i in range(one, j):
        step = (abs(np.int64(cx[i]) - np.int64(cx[i - one]))
                + abs(np.int64(cy[i]) - np.int64(cy[i - one])))
        jumps += step != 1
    goal_create = -1
    goal_close = -1
    for k in range(m):
        e = base + k
        if ex[e] == gx and ey[e] == gy:
            goal_create = np.int64(k)
            break
    if goal_create >= 0:
        for k in range(np.uint64(goal_create), m):
            e = base + k
            if op[e] == 1 and ex[e] == gx and ey[e] == gy:
                goal_close = np.int64(k)
                break
    return np.int64(j), jumps, goal_close, goal_create


@njit(cache=True)
def compute_metrics(walls, sx, sy, gx, gy, op, ex, ey, n_events, px, py, n_plan, out):
    """Fill ``out`` (int64, ``len(METRIC_NAMES)``) with the metrics in that order."""
    closes, jumps, goal_close, goal_create = scan_events(op, ex, ey, 0, n_events, gx, gy)
    dead, decision = count_degrees(walls)
    plan_decisions = 0
    for i in range(n_plan - 1):
        if floor_degree(walls, px[i], py[i]) >= 3:
            plan_decisions += 1
    out[0] = n_events
    out[1] = closes
    out[2] = n_events - closes
    out[3] = 5 * n_events
    out[4] = n_plan
    out[5] = abs(sx - gx) + abs(sy - gy)
    out[6] = jumps
    out[7] = dead
    out[8] = decision
    out[9] = plan_decisions
    out[10] = goal_close
    out[11] = goal_create


def metrics_dict(values: np.ndarray) -> dict[str, int]:
    return {name: int(v) for name, v in zip(METRIC_NAMES, values)}
