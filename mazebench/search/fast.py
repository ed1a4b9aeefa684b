"""Low-overhead entry points to the search kernel: reusable workspaces and batch solving.

* :class:`Searcher` keeps one profile's kernel arguments, a workspace and trace buffers, so that
  repeated single searches (any grid up to its size) allocate nothing:
  ``Searcher("beyond-semantics", 30, 30).run(walls, sx, sy, gx, gy)``.
* :func:`search_batch` is one numba call for thousands of problems: concatenated walls with
  per-problem offsets and shapes in, events and plans into flat buffers with per-problem
  offsets out. Numba kernels (a dataset builder) can call it directly; :func:`solve_batch` is
  the Python wrapper that sizes and grows the buffers.

Every entry produces exactly the events and plans of :func:`mazebench.search.kernel.search`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from ..rng import KIND_NATIVE, stream_key, stream_state
from .kernel import search_ws, trace_capacity, workspace_sizes
from .profiles import Profile, get_profile
from .solve import Plan, Trace


@njit(cache=True)
def search_batch(
    walls,
    cell_off,
    shapes,
    sg,
    wg,
    wh,
    log_h,
    tie,
    improve,
    order,
    shuffle_children,
    log_start,
    post_goal,
    streams,
    ev_op,
    ev_x,
    ev_y,
    ev_g,
    ev_h,
    ev_off,
    plan_x,
    plan_y,
    plan_off,
    status,
    goal_close,
    first,
):
    """Solve problems ``first .. n-1`` with one profile; returns the first index not solved.

    Problem ``i`` is the ``shapes[i] = (H, W)`` grid stored row-major (True = wall) in the 1-D
    bool array ``walls`` from ``cell_off[i]``, with ``sg[i] = (sx, sy, gx, gy)``. Profile
    arguments are those of :func:`~mazebench.search.kernel.search`. ``streams`` is ``(n, 2)``
    uint64 (one stream per problem) or ``(1, 2)`` (one stream drawn from in problem order).

    Problem ``i`` writes its events to ``ev_*[ev_off[i] : ev_off[i + 1]]`` and its plan to
    ``plan_*[plan_off[i] : plan_off[i + 1]]`` (``ev_off``/``plan_off`` have ``n + 1`` entries;
    ``ev_off[first]`` and ``plan_off[first]`` must be set on entry, 0 for a fresh batch), and
    ``status[i]``, ``goal_close[i]`` as ``search`` returns them. The batch stops before a problem
    whose worst case (:func:`trace_capacity` events, ``H * W`` plan cells) does not fit in what
    is left of the buffers, so a caller can grow them and resume from the returned index.
    """
    n = sg.shape[0]
    biggest = 0
    for i in range(first, n):
        p = (shapes[i, 0] + 2) * (shapes[i, 1] + 2)
        if p > biggest:
            biggest = p
    # workspace_sizes(H, W) is (P, 5 P, 2 P) for P = (H + 2) * (W + 2) padded cells
    ws_state = np.empty(biggest, dtype=np.int8)
    ws_i32 = np.empty(5 * biggest, dtype=np.int32)
    ws_i64 = np.empty(2 * biggest, dtype=np.int64)
    shared_stream = streams.shape[0] == 1
    for i in range(first, n):
        height = shapes[i, 0]
        width = shapes[i, 1]
        cells = height * width
        e0 = ev_off[i]
        p0 = plan_off[i]
        if ev_op.shape[0] - e0 < trace_capacity(cells) or plan_x.shape[0] - p0 < cells:
            return i
        c0 = cell_off[i]
        grid = walls[c0 : c0 + cells].reshape((height, width))
        stream = streams[0] if shared_stream else streams[i]
        ne, n_plan, st, gcl = search_ws(
            grid, sg[i, 0], sg[i, 1], sg[i, 2], sg[i, 3], wg, wh, log_h, tie, improve, order,
            shuffle_children, log_start, post_goal, stream,
            ev_op[e0:], ev_x[e0:], ev_y[e0:], ev_g[e0:], ev_h[e0:], plan_x[p0:], plan_y[p0:],
            ws_state, ws_i32, ws_i64,
        )
        ev_off[i + 1] = e0 + ne
        plan_off[i + 1] = p0 + n_plan
        status[i] = st
        goal_close[i] = gcl
    return n


@njit(cache=True)
def _native_streams(key, first, count):
    out = np.empty((count, 2), dtype=np.uint64)
    for i in range(count):
        out[i, 0] = KIND_NATIVE
        out[i, 1] = stream_state(key, np.uint64(first + i))
    return out


def native_streams(seed: int, count: int, *labels: str | int, first: int = 0) -> np.ndarray:
    """``(count, 2)`` native streams: row ``i`` is that of example ``first + i`` (as
    :func:`mazebench.rng.native_stream` gives it)."""
    return _native_streams(np.uint64(stream_key(seed, *labels)), first, count)


@dataclass(eq=False)
class BatchTraces:
    """The output of :func:`solve_batch`: flat event and plan arrays with per-problem offsets.

    Problem ``i``'s events are ``op/x/y/g/h[ev_off[i]:ev_off[i + 1]]``, its plan
    ``plan_x/plan_y[plan_off[i]:plan_off[i + 1]]``; ``status`` is 1 when solved and
    ``goal_close`` the index (within the problem's events) of the goal's close, or -1.
    """

    ev_off: np.ndarray
    op: np.ndarray
    x: np.ndarray
    y: np.ndarray
    g: np.ndarray
    h: np.ndarray
    plan_off: np.ndarray
    plan_x: np.ndarray
    plan_y: np.ndarray
    status: np.ndarray
    goal_close: np.ndarray

    def __len__(self) -> int:
        return int(self.status.shape[0])

    def trace(self, i: int) -> Trace:
        """Problem ``i``'s trace (views into the flat arrays)."""
        a, b = int(self.ev_off[i]), int(self.ev_off[i + 1])
        return Trace(self.op[a:b], self.x[a:b], self.y[a:b], self.g[a:b], self.h[a:b])

    def plan(self, i: int) -> Plan:
        """Problem ``i``'s plan (views; empty when unsolvable)."""
        a, b = int(self.plan_off[i]), int(self.plan_off[i + 1])
        return Plan(self.plan_x[a:b], self.plan_y[a:b])


def _grow(a: np.ndarray, size: int) -> np.ndarray:
    out = np.empty(size, dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


def solve_batch(
    walls: np.ndarray | Sequence[np.ndarray],
    starts: np.ndarray,
    goals: np.ndarray,
    profile: str | Profile | dict = "beyond-semantics",
    *,
    streams: np.ndarray | None = None,
    seed: int = 0,
    post_goal: int = 0,
    events_hint: int | None = None,
) -> BatchTraces:
    """Search many problems with one profile in (usually) a single numba call.

    ``walls`` is an ``(n, H, W)`` bool array or a sequence of ``(H_i, W_i)`` bool arrays;
    ``starts``/``goals`` are ``(n, 2)`` arrays of ``(x, y)``. Randomised profiles draw from
    ``streams`` (``(n, 2)`` uint64) or, by default, from :func:`native_streams` of ``seed``.
    ``events_hint`` is the expected number of events per problem (default: the cell count);
    buffers grow as needed, so it only affects speed.
    """
    prof = get_profile(profile)
    if isinstance(walls, np.ndarray) and walls.ndim == 3:
        n, hh, ww = walls.shape
        flat = np.ascontiguousarray(walls, dtype=np.bool_).reshape(-1)
        shapes = np.empty((n, 2), dtype=np.int64)
        shapes[:, 0] = hh
        shapes[:, 1] = ww
        cell_off = np.arange(n, dtype=np.int64) * (hh * ww)
    else:
        grids = [np.asarray(w, dtype=np.bool_) for w in walls]
        n = len(grids)
        shapes = np.array([g.shape for g in grids], dtype=np.int64).reshape(n, 2)
        sizes = shapes[:, 0] * shapes[:, 1]
        cell_off = np.zeros(n, dtype=np.int64)
        np.cumsum(sizes[:-1], out=cell_off[1:])
        flat = (
            np.concatenate([g.reshape(-1) for g in grids]) if n else np.zeros(0, dtype=np.bool_)
        )
    sg = np.empty((n, 4), dtype=np.int64)
    sg[:, 0:2] = np.asarray(starts, dtype=np.int64).reshape(n, 2)
    sg[:, 2:4] = np.asarray(goals, dtype=np.int64).reshape(n, 2)
    if streams is None:
        streams = native_streams(seed, max(n, 1), "search_batch")
    elif (
        streams.dtype != np.uint64
        or streams.ndim != 2
        or streams.shape[1] != 2
        or streams.shape[0] not in (1, n)
    ):
        raise ValueError("streams must be a (n, 2) or (1, 2) uint64 array of mazebench streams")
    cells = shapes[:, 0] * shapes[:, 1]
    max_cells = int(cells.max()) if n else 0
    per = int(events_hint) if events_hint is not None else (int(cells.mean()) if n else 0)
    ev_cap = per * n + int(trace_capacity(max_cells))
    pl_cap = int(cells.sum())
    ev = [np.empty(ev_cap, dtype=t) for t in (np.int8, np.int16, np.int16, np.int32, np.int32)]
    plan_x = np.empty(pl_cap, dtype=np.int16)
    plan_y = np.empty(pl_cap, dtype=np.int16)
    ev_off = np.zeros(n + 1, dtype=np.int64)
    plan_off = np.zeros(n + 1, dtype=np.int64)
    status = np.zeros(n, dtype=np.int8)
    goal_close = np.full(n, -1, dtype=np.int64)
    wg, wh, log_h, tie, improve, order, shuffle, log_start = prof.kernel_args()
    done = 0
    while True:
        done = search_batch(
            flat, cell_off, shapes, sg, wg, wh, log_h, tie, improve, order, shuffle, log_start,
            int(post_goal), streams, *ev, ev_off, plan_x, plan_y, plan_off, status, goal_close,
            done,
        )
        if done >= n:
            break
        need = int(ev_off[done]) + int(trace_capacity(int(cells[done])))
        ev = [_grow(a, max(2 * a.shape[0], need)) for a in ev]
    end = int(ev_off[n])
    return BatchTraces(
        ev_off, *(a[:end] for a in ev), plan_off, plan_x[: int(plan_off[n])],
        plan_y[: int(plan_off[n])], status, goal_close,
    )


class Searcher:
    """One profile, a workspace and trace buffers for repeated single searches.

    ``Searcher(profile, height, width)`` fits any grid up to ``height`` x ``width`` cells;
    :meth:`run` writes the trace into ``self.op/x/y/g/h[:n_events]`` and the plan into
    ``self.plan_x/plan_y[:plan_len]`` (overwritten by the next run) and returns
    ``(n_events, plan_len, status, goal_close_index)``.
    """

    def __init__(self, profile: str | Profile | dict, height: int, width: int) -> None:
        self.profile = get_profile(profile)
        self.height = int(height)
        self.width = int(width)
        self.args = self.profile.kernel_args()
        cells = self.height * self.width
        cap = int(trace_capacity(cells))
        n8, n32, n64 = workspace_sizes(self.height, self.width)
        self.ws_state = np.empty(n8, dtype=np.int8)
        self.ws_i32 = np.empty(n32, dtype=np.int32)
        self.ws_i64 = np.empty(n64, dtype=np.int64)
        self.op = np.empty(cap, dtype=np.int8)
        self.x = np.empty(cap, dtype=np.int16)
        self.y = np.empty(cap, dtype=np.int16)
        self.g = np.empty(cap, dtype=np.int32)
        self.h = np.empty(cap, dtype=np.int32)
        self.plan_x = np.empty(cells, dtype=np.int16)
        self.plan_y = np.empty(cells, dtype=np.int16)
        self.stream = np.array([KIND_NATIVE, 0], dtype=np.uint64)

    def run(
        self,
        walls: np.ndarray,
        sx: int,
        sy: int,
        gx: int,
        gy: int,
        stream: np.ndarray | None = None,
        post_goal: int = 0,
    ) -> tuple[int, int, int, int]:
        """Search one grid (``walls`` at most ``height`` x ``width``) from (sx, sy) to (gx, gy)."""
        hh, ww = walls.shape
        if hh * ww > self.height * self.width or (hh + 2) * (ww + 2) > self.ws_state.shape[0]:
            raise ValueError(f"grid {hh}x{ww} exceeds this Searcher ({self.height}x{self.width})")
        wg, wh, log_h, tie, improve, order, shuffle, log_start = self.args
        return search_ws(
            walls, sx, sy, gx, gy, wg, wh, log_h, tie, improve, order, shuffle, log_start,
            post_goal, self.stream if stream is None else stream,
            self.op, self.x, self.y, self.g, self.h, self.plan_x, self.plan_y,
            self.ws_state, self.ws_i32, self.ws_i64,
        )
