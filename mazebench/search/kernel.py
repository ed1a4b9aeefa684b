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

Entry points (same arguments, same output):

* :func:`search` - A*, Dijkstra/BFS and DFS run on a two-bucket queue (:func:`queue_mode`),
  weighted A* and greedy on the general heap; allocates its scratch memory per call.
* :func:`search_ws` - the same with a caller-owned workspace (:func:`workspace_sizes`), for loops
  over many problems (see also :mod:`mazebench.search.fast`).
* :func:`search_heap` - the general binary-heap search for every profile (the reference the fast
  paths are tested against).
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
def search_heap(
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
    """The general search: one binary heap keyed by ``(wg * g + wh * h, tie key)``.

    This is the reference implementation every profile can run; :func:`search` takes the same
    arguments and returns the same output, using a faster queue when the profile allows it.

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


# -- bucket-queue fast path ----------------------------------------------------------------------
#
# With unit step costs and the (consistent) Manhattan heuristic, closes happen in non-decreasing
# "level" order, where the level is f = g + h for A* (wg == wh), g for Dijkstra/BFS (wh == 0) and
# 0 for DFS (wg == wh == 0, no improvement). A child of a cell at level F has level F or F + 2
# (A*) or F + 1 (Dijkstra), so only two levels are ever open: the current bucket and the next.
# Inside a bucket the tie key orders cells exactly as the heap path does:
#
# * ``Q_FIFO`` (tie fifo; low_g/high_g under Dijkstra, whose buckets have one g): the bucket is an
#   array in first-creation order. Only A* improves an open cell (moving it from the next bucket
#   into the current one, keeping its first-creation key), and such cells go to a small side
#   heap on that key which is merged with the array head.
# * ``Q_STACK`` (tie lifo): the key is the last create, so each bucket is a stack.
# * ``Q_HEAP`` (low_g/high_g for A*, yx, random): each bucket is a binary heap on the tie key.
#
# A cell has at most one live entry; the only stale entries are those left in the next bucket by
# an A* improvement, and their cell is closed by the time that bucket becomes current, so a stale
# entry is recognised by its cell's state alone. The grid is padded by a border of blocked cells,
# so neighbours need no bounds checks.

Q_GENERAL = -1
Q_FIFO = 0
Q_STACK = 1
Q_HEAP = 2

_LEVEL_F = 0
_LEVEL_G = 1
_LEVEL_NONE = 2

_BLOCKED = 3


@njit(cache=True)
def queue_mode(wg, wh, tie, improve) -> int:
    """The queue :func:`search` uses for these arguments: ``Q_FIFO``/``Q_STACK``/``Q_HEAP`` (a
    two-bucket queue) or ``Q_GENERAL`` (the general binary heap of :func:`search_heap`)."""
    if wg >= 1 and wh == wg:
        dijkstra = False
    elif wg >= 1 and wh == 0:
        dijkstra = True
    elif wg == 0 and wh == 0 and not improve:
        dijkstra = False
    else:
        return Q_GENERAL
    if tie == TIE_FIFO:
        return Q_FIFO
    if tie == TIE_LIFO:
        return Q_STACK
    if (tie == TIE_LOW_G or tie == TIE_HIGH_G) and dijkstra:
        return Q_FIFO
    if tie == TIE_LOW_G or tie == TIE_HIGH_G or tie == TIE_YX or tie == TIE_RANDOM:
        return Q_HEAP
    return Q_GENERAL


@njit(cache=True)
def workspace_sizes(height: int, width: int) -> tuple[int, int, int]:
    """Lengths of the ``(int8, int32, int64)`` workspace arrays :func:`search_ws` needs for a grid
    of ``height`` x ``width`` (any smaller grid fits too)."""
    p = (height + 2) * (width + 2)
    return p, 5 * p, 2 * p


@njit(cache=True)
def _kheap_push(keys, cells, size, k, cell):
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if k < keys[p]:
            keys[i] = keys[p]
            cells[i] = cells[p]
            i = p
        else:
            break
    keys[i] = k
    cells[i] = cell
    return size + 1


@njit(cache=True)
def _kheap_pop(keys, cells, size):
    """Remove the root; returns the new size (the root must be read before the call)."""
    size -= 1
    if size == 0:
        return 0
    k = keys[size]
    c = cells[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        right = child + 1
        if right < size and keys[right] < keys[child]:
            child = right
        if keys[child] < k:
            keys[i] = keys[child]
            cells[i] = cells[child]
            i = child
        else:
            break
    keys[i] = k
    cells[i] = c
    return size


@njit(cache=True)
def _search_buckets(
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
    ws_state,
    ws_i32,
    ws_i64,
    mode,
):
    """The two-bucket search (``mode`` from :func:`queue_mode`, not ``Q_GENERAL``)."""
    height, width = walls.shape
    wp = width + 2
    inv_wp = 1.0 / wp  # row = c // wp without an integer division (exact: see the close)
    p = (height + 2) * wp
    # state[c]: bits 0-1 _UNSEEN/_OPEN/_CLOSED/_BLOCKED, bits 2-3 the direction from the parent
    # (the start has none: the plan walk stops there). gf[2c], gf[2c + 1]: g and first-create
    # sequence number, side by side so that opening a cell touches one cache line.
    state = ws_state[:p]
    gf = ws_i32[: 2 * p]
    cur_c = ws_i32[2 * p : 3 * p]
    nxt_c = ws_i32[3 * p : 4 * p]
    side_c = ws_i32[4 * p : 5 * p]
    if mode == Q_HEAP:
        cur_k = ws_i64[:p]
        nxt_k = ws_i64[p : 2 * p]
    else:
        cur_k = ws_i64[:0]
        nxt_k = ws_i64[:0]
    side_k = ws_i64[:p] if mode == Q_FIFO else ws_i64[:0]

    # Padded state: border and walls blocked.
    for i in range(wp):
        state[i] = _BLOCKED
        state[p - wp + i] = _BLOCKED
    for y in range(height):
        row = (y + 1) * wp
        state[row] = _BLOCKED
        state[row + wp - 1] = _BLOCKED
        for x in range(width):
            state[row + 1 + x] = np.int8(walls[y, x]) * np.int8(_BLOCKED)

    if wh == 0 and wg >= 1:
        level_kind = _LEVEL_G
    elif wg == 0:
        level_kind = _LEVEL_NONE
    else:
        level_kind = _LEVEL_F
    delta = 2 if level_kind == _LEVEL_F else 1

    n_dirs = order.shape[0]
    dirs = np.empty(n_dirs, dtype=np.int64)
    for k in range(n_dirs):
        dirs[k] = order[k]
    doff = np.empty(4, dtype=np.int64)
    for d in range(4):
        doff[d] = DIR_DY[d] * wp + DIR_DX[d]

    ne = 0
    start = (sy + 1) * wp + sx + 1
    goal = (gy + 1) * wp + gx + 1
    h0 = abs(sx - gx) + abs(sy - gy)
    gf[2 * start] = 0
    gf[2 * start + 1] = 0
    state[start] = _OPEN
    level = h0 if level_kind == _LEVEL_F else 0
    head = 0
    csize = 0
    nsize = 0
    ssize = 0
    if mode == Q_HEAP:
        k2 = _tie_key(tie, 0, sx, sy, width, 0, 0, stream)
        csize = _kheap_push(cur_k, cur_c, 0, k2, start)
    else:
        cur_c[0] = start
        csize = 1
    seq = 1
    if log_start:
        ev_op[ne] = OP_CREATE
        ev_x[ne] = sx
        ev_y[ne] = sy
        ev_g[ne] = 0
        ev_h[ne] = h0 if log_h else 0
        ne += 1

    goal_close = -1
    limit = ev_op.shape[0]
    stop = limit + post_goal + 1  # events after which to stop; set when the goal closes
    while True:
        # -- pop the next live cell of the lowest level --------------------------------------
        if mode == Q_FIFO:
            while head < csize and (state[cur_c[head]] & 3) == _CLOSED:
                head += 1
            if head < csize:
                c = cur_c[head]
                if ssize > 0 and side_k[0] < gf[2 * c + 1]:
                    c = side_c[0]
                    ssize = _kheap_pop(side_k, side_c, ssize)
                else:
                    head += 1
            elif ssize > 0:
                c = side_c[0]
                ssize = _kheap_pop(side_k, side_c, ssize)
            else:
                if nsize == 0:
                    break
                cur_c, nxt_c = nxt_c, cur_c
                csize = nsize
                nsize = 0
                head = 0
                level += delta
                continue
        elif mode == Q_STACK:
            while csize > 0 and (state[cur_c[csize - 1]] & 3) == _CLOSED:
                csize -= 1
            if csize > 0:
                csize -= 1
                c = cur_c[csize]
            else:
                if nsize == 0:
                    break
                cur_c, nxt_c = nxt_c, cur_c
                csize = nsize
                nsize = 0
                level += delta
                continue
        else:
            while csize > 0 and (state[cur_c[0]] & 3) == _CLOSED:
                csize = _kheap_pop(cur_k, cur_c, csize)
            if csize > 0:
                c = cur_c[0]
                csize = _kheap_pop(cur_k, cur_c, csize)
            else:
                if nsize == 0:
                    break
                cur_c, nxt_c = nxt_c, cur_c
                cur_k, nxt_k = nxt_k, cur_k
                csize = nsize
                nsize = 0
                level += delta
                continue
        if ne >= stop:
            break

        # -- close it ------------------------------------------------------------------------
        state[c] = (state[c] & 12) | _CLOSED
        row = int((c + 0.5) * inv_wp)
        cx = c - row * wp - 1
        cy = row - 1
        gc = gf[2 * c]
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
            stop = goal_close + 1 + post_goal
        if shuffle_children:
            for i in range(n_dirs - 1, 0, -1):
                j = next_index(stream, i + 1)
                t = dirs[i]
                dirs[i] = dirs[j]
                dirs[j] = t

        # -- open its children ---------------------------------------------------------------
        ng = gc + 1
        for k in range(n_dirs):
            d = dirs[k]
            n = c + doff[d]
            st = state[n] & 3
            if st >= _CLOSED:
                continue
            if st == _OPEN and (not improve or ng >= gf[2 * n]):
                continue
            if ne >= stop or ne >= limit:
                break
            nx = cx + DIR_DX[d]
            ny = cy + DIR_DY[d]
            if st == _UNSEEN:
                gf[2 * n + 1] = seq
            gf[2 * n] = ng
            state[n] = _OPEN | (d << 2)
            hn = abs(nx - gx) + abs(ny - gy)
            ev_op[ne] = OP_CREATE
            ev_x[ne] = nx
            ev_y[ne] = ny
            ev_g[ne] = ng
            ev_h[ne] = hn if log_h else 0
            ne += 1
            if level_kind == _LEVEL_F:
                lv = ng + hn
            elif level_kind == _LEVEL_G:
                lv = ng
            else:
                lv = 0
            if mode == Q_FIFO:
                if lv != level:
                    nxt_c[nsize] = n
                    nsize += 1
                elif st == _UNSEEN:
                    cur_c[csize] = n
                    csize += 1
                else:
                    ssize = _kheap_push(side_k, side_c, ssize, np.int64(gf[2 * n + 1]), n)
            elif mode == Q_STACK:
                if lv != level:
                    nxt_c[nsize] = n
                    nsize += 1
                else:
                    cur_c[csize] = n
                    csize += 1
            else:
                k2 = _tie_key(tie, ng, nx, ny, width, np.int64(gf[2 * n + 1]), seq, stream)
                if lv != level:
                    nsize = _kheap_push(nxt_k, nxt_c, nsize, k2, n)
                else:
                    csize = _kheap_push(cur_k, cur_c, csize, k2, n)
            seq += 1

    if goal_close < 0:
        return ne, 0, STATUS_UNSOLVABLE, -1
    length = 1
    c = goal
    while c != start:
        c -= doff[state[c] >> 2]
        length += 1
    c = goal
    for i in range(length - 1, -1, -1):
        row = c // wp
        plan_x[i] = c - row * wp - 1
        plan_y[i] = row - 1
        c -= doff[state[c] >> 2]
    return ne, length, STATUS_SOLVED, goal_close


@njit(cache=True)
def search_ws(
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
    ws_state,
    ws_i32,
    ws_i64,
):
    """:func:`search` with caller-owned scratch memory, so repeated calls allocate nothing.

    The workspace is three arrays (``int8``, ``int32``, ``int64``) at least as long as
    :func:`workspace_sizes` gives for the grid; their contents on entry do not matter. Profiles
    that need the general heap (:func:`queue_mode` is ``Q_GENERAL``) ignore the workspace.
    """
    mode = queue_mode(wg, wh, tie, improve)
    if mode == Q_GENERAL:
        return search_heap(
            walls, sx, sy, gx, gy, wg, wh, log_h, tie, improve, order, shuffle_children,
            log_start, post_goal, stream, ev_op, ev_x, ev_y, ev_g, ev_h, plan_x, plan_y,
        )
    return _search_buckets(
        walls, sx, sy, gx, gy, wg, wh, log_h, tie, improve, order, shuffle_children,
        log_start, post_goal, stream, ev_op, ev_x, ev_y, ev_g, ev_h, plan_x, plan_y,
        ws_state, ws_i32, ws_i64, mode,
    )


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

    A*, Dijkstra/BFS and DFS run on a two-bucket queue (see :func:`queue_mode`), weighted A* and
    greedy on the general heap of :func:`search_heap`; the output is the same either way.
    Scratch memory is allocated per call; :func:`search_ws` reuses a caller's workspace.
    """
    mode = queue_mode(wg, wh, tie, improve)
    if mode == Q_GENERAL:
        return search_heap(
            walls, sx, sy, gx, gy, wg, wh, log_h, tie, improve, order, shuffle_children,
            log_start, post_goal, stream, ev_op, ev_x, ev_y, ev_g, ev_h, plan_x, plan_y,
        )
    height, width = walls.shape
    n8, n32, n64 = workspace_sizes(height, width)
    ws_state = np.empty(n8, dtype=np.int8)
    ws_i32 = np.empty(n32, dtype=np.int32)
    if mode == Q_FIFO:
        n64 = n64 // 2
    elif mode == Q_STACK:
        n64 = 0
    ws_i64 = np.empty(n64, dtype=np.int64)
    return _search_buckets(
        walls, sx, sy, gx, gy, wg, wh, log_h, tie, improve, order, shuffle_children,
        log_start, post_goal, stream, ev_op, ev_x, ev_y, ev_g, ev_h, plan_x, plan_y,
        ws_state, ws_i32, ws_i64, mode,
    )
