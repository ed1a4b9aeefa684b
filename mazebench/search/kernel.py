"""The best-first search kernel that every solver profile runs, with its full event trace.

One numba kernel covers A*, weighted A*, Dijkstra, greedy best-first, BFS and DFS: a node's
priority is ``wg * g + wh * h`` and ties are broken by a second key chosen by the tie policy.
Every ``close`` (a node removed from the open list) and every ``create`` (a node opened or its g
improved) is logged as one event ``(op, x, y, g, h)``.

Conventions reproduced exactly (see ``shared/reference``):

* Beyond Semantics (arXiv 2505.13775): open list in insertion order, the first entry with the
  smallest f is closed (``TIE_FIFO``: an improved cell keeps its place), neighbours N E S W, the
  start is not logged as created.
* Searchformer (arXiv 2402.14083): f ties broken by the smaller ``x + 100000 * y`` (``TIE_YX``),
  children S N W E, ``create start`` logged first.

Both improve an open cell only on a strictly smaller g and never reopen a closed cell (with a
consistent heuristic a closed cell is never improved, so this equals Searchformer's f-based rule).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..rng import next_bits, next_index

OP_CREATE = 0
OP_CLOSE = 1

TIE_FIFO = 0
TIE_LIFO = 1
TIE_LOW_G = 2
TIE_HIGH_G = 3
TIE_YX = 4
TIE_RANDOM = 5

STATUS_UNSOLVABLE = 0
STATUS_SOLVED = 1

# Direction codes: 0 = N (y - 1), 1 = E (x + 1), 2 = S (y + 1), 3 = W (x - 1).
DIR_DX = np.array([0, 1, 0, -1], dtype=np.int64)
DIR_DY = np.array([-1, 0, 1, 0], dtype=np.int64)

_UNSEEN = 0
_OPEN = 1
_CLOSED = 2
_G_INF = np.int32(2**31 - 1)
_SHIFT = np.int64(1) << np.int64(32)


@njit(cache=True)
def trace_capacity(n_cells: int) -> int:
    """Upper bound on the events of one search: 4 creates and one close per cell, plus start."""
    return 5 * n_cells + 2


@njit(cache=True, inline="always")
def _before(a1, a2, b1, b2) -> bool:
    return a1 < b1 or (a1 == b1 and a2 < b2)


@njit(cache=True)
def _heap_push(hk1, hk2, hc, size, k1, k2, cell):
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if _before(k1, k2, hk1[p], hk2[p]):
            hk1[i] = hk1[p]
            hk2[i] = hk2[p]
            hc[i] = hc[p]
            i = p
        else:
            break
    hk1[i] = k1
    hk2[i] = k2
    hc[i] = cell
    return size + 1


@njit(cache=True)
def _heap_pop(hk1, hk2, hc, size):
    """Remove the root; returns the new size (the root must be read before the call)."""
    size -= 1
    if size == 0:
        return 0
    k1 = hk1[size]
    k2 = hk2[size]
    c = hc[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        right = child + 1
        if right < size and _before(hk1[right], hk2[right], hk1[child], hk2[child]):
            child = right
        if _before(hk1[child], hk2[child], k1, k2):
            hk1[i] = hk1[child]
            hk2[i] = hk2[child]
            hc[i] = hc[child]
            i = child
        else:
            break
    hk1[i] = k1
    hk2[i] = k2
    hc[i] = c
    return size


@njit(cache=True, inline="always")
def _tie_key(tie, g, x, y, width, first_seq, create_seq, stream):
    if tie == TIE_FIFO:
        return first_seq
    if tie == TIE_LIFO:
        return -create_seq
    if tie == TIE_LOW_G:
        return np.int64(g) * _SHIFT + first_seq
    if tie == TIE_HIGH_G:
        return -np.int64(g) * _SHIFT + first_seq
    if tie == TIE_YX:
        return np.int64(y) * width + x
    return np.int64(next_bits(stream)) * _SHIFT + first_seq


@njit(cache=True)
def search(
    walls,
    sx,
    sy,
    gx,
    gy,
    wg,
    wh,
    log_h,
    tie,
    improve,
    order,
    shuffle_children,
    log_start,
    post_goal,
    stream,
    ev_op,
    ev_x,
    ev_y,
    ev_g,
    ev_h,
    plan_x,
    plan_y,
):
    """Run one search and write its events and plan into the given buffers.

    ``walls``: (H, W) bool. ``wg``/``wh``: integer weights of g and h in the priority.
    ``log_h``: log the Manhattan h (else 0). ``tie``: a ``TIE_*`` policy. ``improve``: reopen
    an open cell when its g improves. ``order``: int64 array of direction codes.
    ``shuffle_children``: draw a random child order per expansion. ``log_start``: log
    ``create start`` first. ``post_goal``: events to keep logging after the goal's close.
    Event buffers need :func:`trace_capacity` entries, plan buffers ``H * W``.

    Returns ``(n_events, plan_len, status, goal_close_index)``; an unsolvable problem gives
    ``plan_len == 0``, ``status == STATUS_UNSOLVABLE`` and ``goal_close_index == -1``.
    """
    height, width = walls.shape
    n_cells = height * width
    g = np.full(n_cells, _G_INF, dtype=np.int32)
    state = np.zeros(n_cells, dtype=np.int8)
    parent = np.full(n_cells, -1, dtype=np.int32)
    first_seq = np.zeros(n_cells, dtype=np.int64)
    ck1 = np.zeros(n_cells, dtype=np.int64)
    ck2 = np.zeros(n_cells, dtype=np.int64)
    cap = 4 * n_cells + 2
    hk1 = np.empty(cap, dtype=np.int64)
    hk2 = np.empty(cap, dtype=np.int64)
    hc = np.empty(cap, dtype=np.int32)
    n_dirs = order.shape[0]
    dirs = order.copy()

    ne = 0
    seq = 0
    start = sy * width + sx
    goal = gy * width + gx
    h0 = (abs(sx - gx) + abs(sy - gy)) if log_h else 0
    g[start] = 0
    state[start] = _OPEN
    first_seq[start] = 0
    k1 = np.int64(wh) * (abs(sx - gx) + abs(sy - gy))
    k2 = _tie_key(tie, 0, sx, sy, width, 0, 0, stream)
    ck1[start] = k1
    ck2[start] = k2
    size = _heap_push(hk1, hk2, hc, 0, k1, k2, start)
    seq = 1
    if log_start:
        ev_op[ne] = OP_CREATE
        ev_x[ne] = sx
        ev_y[ne] = sy
        ev_g[ne] = 0
        ev_h[ne] = h0
        ne += 1

    goal_close = -1
    limit = ev_op.shape[0]
    while size > 0:
        c = hc[0]
        ok1 = hk1[0]
        ok2 = hk2[0]
        size = _heap_pop(hk1, hk2, hc, size)
        if state[c] == _CLOSED or ok1 != ck1[c] or ok2 != ck2[c]:
            continue
        if goal_close >= 0 and ne >= goal_close + 1 + post_goal:
            break
        state[c] = _CLOSED
        cx = c % width
        cy = c // width
        gc = g[c]
        ev_op[ne] = OP_CLOSE
        ev_x[ne] = cx
        ev_y[ne] = cy
        ev_g[ne] = gc
        ev_h[ne] = (abs(cx - gx) + abs(cy - gy)) if log_h else 0
        ne += 1
        if c == goal and goal_close < 0:
            goal_close = ne - 1
            if post_goal <= 0:
                break
        if shuffle_children:
            for i in range(n_dirs - 1, 0, -1):
                j = next_index(stream, i + 1)
                t = dirs[i]
                dirs[i] = dirs[j]
                dirs[j] = t
        ng = gc + 1
        for k in range(n_dirs):
            d = dirs[k]
            nx = cx + DIR_DX[d]
            ny = cy + DIR_DY[d]
            if nx < 0 or ny < 0 or nx >= width or ny >= height:
                continue
            if walls[ny, nx]:
                continue
            n = ny * width + nx
            st = state[n]
            if st == _CLOSED:
                continue
            if st == _OPEN and (not improve or ng >= g[n]):
                continue
            if goal_close >= 0 and ne >= goal_close + 1 + post_goal:
                break
            if ne >= limit:
                break
            if st == _UNSEEN:
                first_seq[n] = seq
            g[n] = ng
            parent[n] = c
            state[n] = _OPEN
            hn = abs(nx - gx) + abs(ny - gy)
            ev_op[ne] = OP_CREATE
            ev_x[ne] = nx
            ev_y[ne] = ny
            ev_g[ne] = ng
            ev_h[ne] = hn if log_h else 0
            ne += 1
            k1 = np.int64(wg) * ng + np.int64(wh) * hn
            k2 = _tie_key(tie, ng, nx, ny, width, first_seq[n], seq, stream)
            seq += 1
            if k1 != ck1[n] or k2 != ck2[n] or st == _UNSEEN:
                ck1[n] = k1
                ck2[n] = k2
                size = _heap_push(hk1, hk2, hc, size, k1, k2, n)

    if goal_close < 0:
        return ne, 0, STATUS_UNSOLVABLE, -1
    length = 0
    c = goal
    while c >= 0:
        length += 1
        c = parent[c]
    c = goal
    i = length - 1
    while c >= 0:
        plan_x[i] = c % width
        plan_y[i] = c // width
        c = parent[c]
        i -= 1
    return ne, length, STATUS_SOLVED, goal_close
