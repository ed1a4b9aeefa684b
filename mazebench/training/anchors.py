"""Anchor events of a search trace: the closes that steer the rest of the search.

The maze analogue of "thought anchors" (arXiv 2506.19143): a close of a cell that is not a
4-neighbour of the previously closed cell jumps to another branch of the frontier (a backtrack,
counted as ``branch_jumps`` by :mod:`mazebench.search.metrics`), and the first close of the goal
is the conclusion. A trace's anchors are the cells of those events, as row-major cell indices
``y * W + x`` in trace order.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _anchors(ev_off, op, ex, ey, goals, width, out, out_off):
    k = 0
    out_off[0] = 0
    for i in range(ev_off.shape[0] - 1):
        closes = 0
        lx = -1
        ly = -1
        for e in range(ev_off[i], ev_off[i + 1]):
            if op[e] != 1:
                continue
            x = ex[e]
            y = ey[e]
            jump = closes > 0 and abs(x - lx) + abs(y - ly) != 1
            goal = x == goals[i, 0] and y == goals[i, 1]
            if jump or goal:
                out[k] = y * width + x
                k += 1
            closes += 1
            lx = x
            ly = y
            if goal:
                break
        out_off[i + 1] = k
    return k


def anchor_cells(ev_off, op, ex, ey, goals, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Anchor cells of many traces: ``(values int32, offsets int64 (n + 1))``.

    ``goals`` is ``(n, 2)`` as ``(x, y)``; events after the goal's first close are ignored.
    """
    ev_off = np.asarray(ev_off, dtype=np.int64)
    goals = np.ascontiguousarray(goals, dtype=np.int64).reshape(-1, 2)
    out = np.empty(max(int(ev_off[-1] - ev_off[0]), 1), dtype=np.int32)
    off = np.zeros(ev_off.shape[0], dtype=np.int64)
    k = _anchors(ev_off, np.asarray(op), np.asarray(ex), np.asarray(ey), goals, int(width),
                 out, off)
    return out[:k].copy(), off
