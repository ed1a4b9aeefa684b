"""The A* interpreter of Beyond Semantics (arXiv 2505.13775) as a numba replay kernel.

A model's trace is replayed against the maze with its own open and closed lists; an offending
event is recorded as ``(kind, event index)`` and SKIPPED (the replay state is unchanged), and the
replay goes on. State pinned by mazebench where upstream was loose:

* the open list holds ONE entry ``(g, h, parent)`` per cell; the Beyond Semantics dialect
  pre-seeds ``(start, 0, manhattan(start, goal))``, the Searchformer dialect expects
  ``create start c0 c<h>`` (a create before any close has no parent and no adjacency check);
* ``create``: off grid -> ``out_of_bounds``; wall -> ``wall``; not a 4-neighbour of the most
  recently closed cell (once something is closed) -> ``not_adjacent``; closed ->
  ``create_closed``; open with a g that is not lower -> ``create_not_improving``; otherwise the
  entry (g, h) and the parent (the most recently closed cell) are set;
* ``close``: off grid, wall, then the open entry must match (x, y, g, h) exactly
  (``close_not_open``), then g + h must be the minimum f of the open list, ties allowed
  (``not_min_f``, skipped like every other error, as the upstream evaluator does); an accepted
  close of the goal ENDS the replay;
* an op code other than 0/1 or a negative cost is ``malformed``;
* after the replay: ``goal_not_closed`` (index = number of events) or, from the goal's close
  event: ``parents_broken`` (the parents do not lead from the goal to the start),
  ``plan_length_mismatch`` (extracted plan length != model plan length) and
  ``extracted_plan_invalid`` (never fires for a replayed chain, kept for the upstream taxonomy);
* events after the goal's close are not replayed; with ``after_goal_error`` they give ONE
  ``after_goal`` error at the first of them (index = goal close + 1). Ground-truth A* traces stop
  at the goal's close, so they stay valid either way.
* ``zero_h``: the trace's heuristic is 0 (Dijkstra and BFS profiles log h = 0): the start is
  pre-seeded with h = 0 and ``check_costs`` expects h = 0;
* ``check_costs`` (not in upstream): every ACCEPTED create must have g = g(most recently closed)
  + 1 (0 for a parentless create) and h = Manhattan distance to the goal, else ``wrong_g`` /
  ``wrong_h``. These two are reported without skipping the event, so enabling the option adds
  errors but never changes the replay (every other error is identical).

A closed cell's f is compared with the open list's minimum f through a lazy min-heap of
``f * n_cells + cell`` keys (stale entries are dropped on peek), so a trace costs
O(events log events).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from .errors import (
    E_AFTER_GOAL,
    E_CLOSE_NOT_OPEN,
    E_CREATE_CLOSED,
    E_CREATE_NOT_IMPROVING,
    E_EXTRACTED_PLAN_INVALID,
    E_GOAL_NOT_CLOSED,
    E_MALFORMED,
    E_NOT_ADJACENT,
    E_NOT_MIN_F,
    E_OUT_OF_BOUNDS,
    E_PARENTS_BROKEN,
    E_PLAN_LENGTH_MISMATCH,
    E_PLAN_NOT_OPTIMAL,
    E_WALL,
    E_WRONG_G,
    E_WRONG_H,
)
from .heap import heap_pop, heap_push
from .plan_check import check_plan_cells, shortest_length_flat
from .problems import (  # noqa: F401  (re-exported)
    ProblemBatch,
    as_problem_batch,
    concat_events,
    concat_plans,
)
from .tokens import INT_CAP

_UNSEEN = 0
_OPEN = 1
_CLOSED = 2

# columns of the per-trace result matrix of the batch kernels
R_TRACE_ERRORS = 0
R_PLAN_ERRORS = 1
R_GOAL_CLOSE = 2
R_PLAN_CELLS_VALID = 3
R_PLAN_OPTIMAL = 4
R_SHORTEST = 5
N_RESULT = 6
_CHUNK_SLOTS = 1 << 22  # error slots per kernel call: bounds the scratch memory of a batch


@njit(cache=True, inline="always")
def _err(err_kind, err_index, r0, cap, nr, kind, index):
    if nr < cap:
        err_kind[r0 + nr] = kind
        err_index[r0 + nr] = index
    return nr + 1


@njit(cache=True)
def replay_trace(
    walls, height, width, sx, sy, gx, gy, op, ex, ey, eg, eh, n_plan, preseed, zero_h,
    check_costs, after_goal_error, state, og, oh, parent, ckey, heap, err_kind, err_index, r0,
    cap,
):  # fmt: skip
    """Replay one trace (see the module docstring) on a flat row-major ``walls`` slice.

    ``zero_h``: the heuristic is 0 (Dijkstra/BFS traces) instead of the Manhattan distance; it
    sets the pre-seeded start entry and the h that ``check_costs`` expects.

    ``state``/``og``/``oh``/``parent``/``ckey`` need ``height * width`` entries and ``heap``
    ``len(op) + 1``; their previous content is irrelevant. ``n_plan`` is the model plan's length.
    Errors go to ``err_kind``/``err_index`` from ``r0`` (at most ``cap``).
    Returns ``(n_errors, goal_close_index)`` (-1 if the goal was never closed).
    """
    n_cells = np.int64(height) * width
    for c in range(n_cells):
        state[c] = _UNSEEN
    hs = 0
    nr = 0
    last = np.int64(-1)
    last_g = np.int64(0)
    start = np.int64(sy) * width + sx
    goal = np.int64(gy) * width + gx
    if preseed:
        state[start] = _OPEN
        og[start] = 0
        oh[start] = 0 if zero_h else abs(sx - gx) + abs(sy - gy)
        parent[start] = -1
        ckey[start] = np.int64(oh[start]) * n_cells + start
        hs = heap_push(heap, hs, ckey[start])
    goal_close = -1
    n = op.shape[0]
    for i in range(n):
        o = op[i]
        x = np.int64(ex[i])
        y = np.int64(ey[i])
        g = np.int64(eg[i])
        h = np.int64(eh[i])
        if (o != 0 and o != 1) or g < 0 or h < 0:
            nr = _err(err_kind, err_index, r0, cap, nr, E_MALFORMED, i)
            continue
        if x < 0 or y < 0 or x >= width or y >= height:
            nr = _err(err_kind, err_index, r0, cap, nr, E_OUT_OF_BOUNDS, i)
            continue
        c = y * width + x
        if walls[c]:
            nr = _err(err_kind, err_index, r0, cap, nr, E_WALL, i)
            continue
        if o == 0:
            if last >= 0 and abs(x - last % width) + abs(y - last // width) != 1:
                nr = _err(err_kind, err_index, r0, cap, nr, E_NOT_ADJACENT, i)
                continue
            st = state[c]
            if st == _CLOSED:
                nr = _err(err_kind, err_index, r0, cap, nr, E_CREATE_CLOSED, i)
                continue
            if st == _OPEN and g >= og[c]:
                nr = _err(err_kind, err_index, r0, cap, nr, E_CREATE_NOT_IMPROVING, i)
                continue
            state[c] = _OPEN
            og[c] = g
            oh[c] = h
            parent[c] = last
            key = (g + h) * n_cells + c
            if st != _OPEN or key != ckey[c]:
                ckey[c] = key
                hs = heap_push(heap, hs, key)
            if check_costs:
                want = last_g + 1 if last >= 0 else 0
                if g != want:
                    nr = _err(err_kind, err_index, r0, cap, nr, E_WRONG_G, i)
                if h != (0 if zero_h else abs(x - gx) + abs(y - gy)):
                    nr = _err(err_kind, err_index, r0, cap, nr, E_WRONG_H, i)
        else:
            if state[c] != _OPEN or og[c] != g or oh[c] != h:
                nr = _err(err_kind, err_index, r0, cap, nr, E_CLOSE_NOT_OPEN, i)
                continue
            while hs > 0:
                top = heap[0]
                tc = top % n_cells
                if state[tc] == _OPEN and ckey[tc] == top:
                    break
                hs = heap_pop(heap, hs)
            if g + h > heap[0] // n_cells:
                nr = _err(err_kind, err_index, r0, cap, nr, E_NOT_MIN_F, i)
                continue
            state[c] = _CLOSED
            last = c
            last_g = g
            if c == goal:
                goal_close = i
                break
    if goal_close < 0:
        nr = _err(err_kind, err_index, r0, cap, nr, E_GOAL_NOT_CLOSED, n)
        return nr, goal_close
    c = goal
    length = 1
    broken = False
    invalid = False
    while c != start:
        p = parent[c]
        if p < 0 or length > n_cells:
            broken = True
            break
        if abs(c % width - p % width) + abs(c // width - p // width) != 1 or walls[p]:
            invalid = True
        c = p
        length += 1
    if broken:
        nr = _err(err_kind, err_index, r0, cap, nr, E_PARENTS_BROKEN, goal_close)
    else:
        if length != n_plan:
            nr = _err(err_kind, err_index, r0, cap, nr, E_PLAN_LENGTH_MISMATCH, goal_close)
        if invalid:
            nr = _err(err_kind, err_index, r0, cap, nr, E_EXTRACTED_PLAN_INVALID, goal_close)
    if after_goal_error and goal_close + 1 < n:
        nr = _err(err_kind, err_index, r0, cap, nr, E_AFTER_GOAL, goal_close + 1)
    return nr, goal_close


@njit(cache=True)
def _run_range(
    lo, hi, walls, woff, dims, ends, op, ex, ey, eg, eh, eoff, px, py, poff, preseed, zero_h,
    check_costs, after_goal_error, require_optimal, opt_len, err_kind, err_index, roff, out,
):  # fmt: skip
    """Validate traces ``lo..hi`` with scratch buffers shared by the range."""
    max_cells = 1
    max_ev = 1
    for t in range(lo, hi):
        max_cells = max(max_cells, np.int64(dims[t, 0]) * dims[t, 1])
        max_ev = max(max_ev, eoff[t + 1] - eoff[t] + 1)
    state = np.empty(max_cells, dtype=np.int8)
    og = np.empty(max_cells, dtype=np.int64)
    oh = np.empty(max_cells, dtype=np.int64)
    parent = np.empty(max_cells, dtype=np.int64)
    ckey = np.empty(max_cells, dtype=np.int64)
    heap = np.empty(max_ev, dtype=np.int64)
    for t in range(lo, hi):
        hgt = dims[t, 0]
        wid = dims[t, 1]
        w = walls[woff[t] : woff[t + 1]]
        sx, sy, gx, gy = ends[t, 0], ends[t, 1], ends[t, 2], ends[t, 3]
        e0, e1 = eoff[t], eoff[t + 1]
        p0, p1 = poff[t], poff[t + 1]
        r0 = roff[t]
        cap = roff[t + 1] - r0
        nt, goal_close = replay_trace(
            w, hgt, wid, sx, sy, gx, gy, op[e0:e1], ex[e0:e1], ey[e0:e1], eg[e0:e1],
            eh[e0:e1], p1 - p0, preseed, zero_h, check_costs, after_goal_error, state, og, oh,
            parent, ckey, heap, err_kind, err_index, r0, cap,
        )  # fmt: skip
        nt = min(nt, cap)
        npl = check_plan_cells(
            w, hgt, wid, sx, sy, gx, gy, px[p0:p1], py[p0:p1], err_kind, err_index, r0 + nt,
            cap - nt,
        )  # fmt: skip
        npl = min(npl, cap - nt)
        cells_valid = npl == 0
        optimal = False
        shortest = -1
        if cells_valid:
            shortest = opt_len[t]
            if shortest < 0:
                shortest = shortest_length_flat(w, hgt, wid, sx, sy, gx, gy)
            optimal = p1 - p0 == shortest
            if require_optimal and not optimal and nt + npl < cap:
                err_kind[r0 + nt + npl] = E_PLAN_NOT_OPTIMAL
                err_index[r0 + nt + npl] = p1 - p0 - 1
                npl += 1
        out[t, R_TRACE_ERRORS] = nt
        out[t, R_PLAN_ERRORS] = npl
        out[t, R_GOAL_CLOSE] = goal_close
        out[t, R_PLAN_CELLS_VALID] = cells_valid
        out[t, R_PLAN_OPTIMAL] = optimal
        out[t, R_SHORTEST] = shortest


@njit(cache=True)
def _batch_serial(
    walls, woff, dims, ends, op, ex, ey, eg, eh, eoff, px, py, poff, preseed, zero_h,
    check_costs, after_goal_error, require_optimal, opt_len, err_kind, err_index, roff, out,
):  # fmt: skip
    _run_range(
        0, dims.shape[0], walls, woff, dims, ends, op, ex, ey, eg, eh, eoff, px, py, poff,
        preseed, zero_h, check_costs, after_goal_error, require_optimal, opt_len, err_kind,
        err_index, roff, out,
    )  # fmt: skip


@njit(cache=True, parallel=True)
def _batch_parallel(
    walls, woff, dims, ends, op, ex, ey, eg, eh, eoff, px, py, poff, preseed, zero_h,
    check_costs, after_goal_error, require_optimal, opt_len, err_kind, err_index, roff, out,
    n_chunks,
):  # fmt: skip
    n = dims.shape[0]
    for k in prange(n_chunks):
        _run_range(
            k * n // n_chunks, (k + 1) * n // n_chunks, walls, woff, dims, ends, op, ex, ey, eg,
            eh, eoff, px, py, poff, preseed, zero_h, check_costs, after_goal_error,
            require_optimal, opt_len, err_kind, err_index, roff, out,
        )  # fmt: skip


# -- Python side -------------------------------------------------------------------------------
def _sat32(a) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype == np.int32:
        return np.ascontiguousarray(a)
    if a.dtype.kind not in "iub":
        a = a.astype(np.float64)
    return np.clip(a, -1, INT_CAP).astype(np.int32)


def _offsets_arg(off, n: int, total: int, name: str) -> np.ndarray:
    off = np.ascontiguousarray(off, dtype=np.int64)
    if off.shape != (n + 1,) or off[0] != 0 or off[-1] != total or (np.diff(off) < 0).any():
        raise ValueError(f"{name} must be {n + 1} non-decreasing offsets from 0 to {total}")
    return off


def run_batch(
    problems: ProblemBatch, op, x, y, g, h, event_offsets, plan_x, plan_y, plan_offsets, *,
    preseed: bool, zero_h: bool, check_costs: bool, after_goal_error: bool,
    require_optimal: bool,
    optimal_lengths=None, parallel: bool | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Run the replay and plan kernels over a batch.

    Returns ``(result, err_kind, err_index, err_offsets)``: ``result`` is ``(n, N_RESULT)``
    int64 (columns ``R_*``); errors are per trace, trace errors (by event index) then plan
    errors (by plan cell index).
    """
    n = len(problems)
    op = np.ascontiguousarray(op, dtype=np.int8)
    x, y, g, h = (_sat32(a) for a in (x, y, g, h))
    if not (op.shape == x.shape == y.shape == g.shape == h.shape) or op.ndim != 1:
        raise ValueError("op, x, y, g and h must be 1-D arrays of one length")
    eoff = _offsets_arg(event_offsets, n, op.shape[0], "event_offsets")
    px, py = _sat32(plan_x), _sat32(plan_y)
    if px.shape != py.shape or px.ndim != 1:
        raise ValueError("plan_x and plan_y must be 1-D arrays of one length")
    poff = _offsets_arg(plan_offsets, n, px.shape[0], "plan_offsets")
    if optimal_lengths is None:
        opt = np.full(n, -1, dtype=np.int64)
    else:
        opt = np.ascontiguousarray(optimal_lengths, dtype=np.int64).reshape(n)
    caps = 2 * np.diff(eoff) + 2 * np.diff(poff) + 8
    out = np.zeros((n, N_RESULT), dtype=np.int64)
    kinds: list[np.ndarray] = []
    indices: list[np.ndarray] = []
    for lo, hi in _chunks(caps):
        roff = np.zeros(hi - lo + 1, dtype=np.int64)
        np.cumsum(caps[lo:hi], out=roff[1:])
        err_kind = np.zeros(int(roff[-1]), dtype=np.int16)
        err_index = np.zeros(int(roff[-1]), dtype=np.int32)
        view = out[lo:hi]
        args = (
            problems.walls, problems.offsets[lo : hi + 1], problems.dims[lo:hi],
            problems.ends[lo:hi], op, x, y, g, h, eoff[lo : hi + 1], px, py,
            poff[lo : hi + 1], bool(preseed), bool(zero_h), bool(check_costs),
            bool(after_goal_error), bool(require_optimal), opt[lo:hi], err_kind, err_index, roff,
            view,
        )  # fmt: skip
        use_parallel = parallel
        if use_parallel is None:
            use_parallel = hi - lo >= 64 and numba.get_num_threads() > 1
        if use_parallel:
            _batch_parallel(*args, min(hi - lo, 8 * numba.get_num_threads()))
        else:
            _batch_serial(*args)
        counts = view[:, R_TRACE_ERRORS] + view[:, R_PLAN_ERRORS]
        idx = np.repeat(roff[:-1] - _offsets(counts)[:-1], counts) + np.arange(counts.sum())
        kinds.append(err_kind[idx])
        indices.append(err_index[idx])
    counts = out[:, R_TRACE_ERRORS] + out[:, R_PLAN_ERRORS]
    kind = np.concatenate(kinds) if kinds else np.zeros(0, np.int16)
    index = np.concatenate(indices) if indices else np.zeros(0, np.int32)
    return out, kind, index, _offsets(counts)


def _offsets(counts: np.ndarray) -> np.ndarray:
    out = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def _chunks(caps: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive ranges of traces whose error capacities sum to at most ``_CHUNK_SLOTS``
    (a single trace may exceed it)."""
    limit = _CHUNK_SLOTS
    n = caps.shape[0]
    cum = np.cumsum(caps)
    out = []
    lo = 0
    while lo < n:
        base = cum[lo - 1] if lo else 0
        hi = int(np.searchsorted(cum, base + limit, side="right"))
        hi = min(max(hi, lo + 1), n)
        out.append((lo, hi))
        lo = hi
    return out
