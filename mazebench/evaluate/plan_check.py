"""Plan validator (numba): is the model's plan a legal path from start to goal, and is it shortest?

Errors, each at the index of the offending plan cell: ``plan_empty`` (index 0), ``wrong_start``
(index 0), ``plan_out_of_bounds``, ``plan_wall``, ``plan_not_adjacent`` (the cell is not a
4-neighbour of the previous one; staying in place is not a move), ``goal_not_reached`` (index of
the last cell) and, when optimality is required, ``plan_not_optimal`` (index of the last cell).
Unlike the Beyond Semantics evaluator (arXiv 2505.13775), which stops at the first illegal move
and forgot the bounds, every offending cell is reported and bounds are checked.
``plan_malformed`` comes from the parser.

Optimality compares the plan length (cells, start and goal included) with
:func:`mazebench.grid.shortest_path_length`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..grid import shortest_path_length
from .errors import (
    E_GOAL_NOT_REACHED,
    E_PLAN_EMPTY,
    E_PLAN_NOT_ADJACENT,
    E_PLAN_OUT_OF_BOUNDS,
    E_PLAN_WALL,
    E_WRONG_START,
)


@njit(cache=True)
def check_plan_cells(walls, height, width, sx, sy, gx, gy, px, py, err_kind, err_index, r0, cap):
    """Check plan cells ``px``/``py`` against a flat row-major ``walls`` grid.

    Errors go to ``err_kind``/``err_index`` from ``r0`` (at most ``cap``). Returns the number of
    errors found (may exceed ``cap``; the excess is not written).
    """
    n = px.shape[0]
    nr = 0
    if n == 0:
        if nr < cap:
            err_kind[r0 + nr] = E_PLAN_EMPTY
            err_index[r0 + nr] = 0
        return 1
    if px[0] != sx or py[0] != sy:
        if nr < cap:
            err_kind[r0 + nr] = E_WRONG_START
            err_index[r0 + nr] = 0
        nr += 1
    for i in range(n):
        x = np.int64(px[i])
        y = np.int64(py[i])
        kind = -1
        if x < 0 or y < 0 or x >= width or y >= height:
            kind = E_PLAN_OUT_OF_BOUNDS
        elif walls[y * width + x]:
            kind = E_PLAN_WALL
        if kind >= 0:
            if nr < cap:
                err_kind[r0 + nr] = kind
                err_index[r0 + nr] = i
            nr += 1
        if i > 0 and abs(x - np.int64(px[i - 1])) + abs(y - np.int64(py[i - 1])) != 1:
            if nr < cap:
                err_kind[r0 + nr] = E_PLAN_NOT_ADJACENT
                err_index[r0 + nr] = i
            nr += 1
    if px[n - 1] != gx or py[n - 1] != gy:
        if nr < cap:
            err_kind[r0 + nr] = E_GOAL_NOT_REACHED
            err_index[r0 + nr] = n - 1
        nr += 1
    return nr


@njit(cache=True)
def shortest_length_flat(walls, height, width, sx, sy, gx, gy):
    """:func:`mazebench.grid.shortest_path_length` on a flat row-major wall slice."""
    return shortest_path_length(walls.reshape(height, width), sx, sy, gx, gy)


def plan_errors(walls: np.ndarray, start, goal, plan_x, plan_y) -> list[tuple[int, int]]:
    """Plan errors ``(kind code, cell index)`` of one plan on an ``(H, W)`` wall grid."""
    walls = np.ascontiguousarray(walls, dtype=np.bool_)
    px = np.ascontiguousarray(plan_x, dtype=np.int32)
    py = np.ascontiguousarray(plan_y, dtype=np.int32)
    cap = 2 * px.shape[0] + 4
    kind = np.zeros(cap, dtype=np.int16)
    index = np.zeros(cap, dtype=np.int32)
    h, w = walls.shape
    n = check_plan_cells(
        walls.ravel(), h, w, start[0], start[1], goal[0], goal[1], px, py, kind, index, 0, cap
    )
    return list(zip(kind[:n].tolist(), index[:n].tolist()))
