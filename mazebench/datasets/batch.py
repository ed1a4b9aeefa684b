"""Generate and solve a block of examples in one numba call.

Example ``i`` of a split draws from its own native stream, derived from ``(suite seed, split
name)`` and ``i`` alone (:func:`mazebench.rng.stream_state`), so any block - a contiguous range of
candidate indices or any list of them - can be computed by any worker in any order and the bytes
never depend on worker count, shard size or engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..mazes.api import MazeSpec
from ..mazes.dispatch import build
from ..rng import KIND_LCG, KIND_NATIVE, stream_state
from ..search.kernel import search, trace_capacity
from ..search.metrics import METRIC_NAMES, compute_metrics
from ..search.profiles import Profile

N_METRICS = len(METRIC_NAMES)


@njit(cache=True)
def _generate_block(
    fid, height, width, fparams, loops, loop_mode, pid, pparams,
    wg, wh, log_h, tie, improve, order, shuffle, log_start,
    key, indices, state_io,
    walls_out, sg_out, status_out, attempts_out, metrics_out,
    ev_off, ev_op, ev_x, ev_y, ev_g, ev_h, pl_off, pl_x, pl_y,
):
    """Fill the output arrays for the examples ``indices``; returns how many fit.

    A negative return ``-(i + 1)`` means example ``indices[i]`` found no start/goal placement.
    With ``state_io[0] >= 0`` the examples draw one after the other from the upstream LCG stream
    in that state (``state_io[0]`` is left at the state after the last example written) instead
    of a native stream each.
    """
    cells = height * width
    cap = trace_capacity(cells)
    op = np.empty(cap, dtype=np.int8)
    ex = np.empty(cap, dtype=np.int16)
    ey = np.empty(cap, dtype=np.int16)
    eg = np.empty(cap, dtype=np.int32)
    eh = np.empty(cap, dtype=np.int32)
    px = np.empty(cells, dtype=np.int16)
    py = np.empty(cells, dtype=np.int16)
    stream = np.empty(2, dtype=np.uint64)
    metrics = np.empty(metrics_out.shape[1], dtype=np.int64)
    ev_off[0] = 0
    pl_off[0] = 0
    count = indices.shape[0]
    sequential = state_io[0] >= 0
    if sequential:
        stream[0] = KIND_LCG
        stream[1] = np.uint64(state_io[0])
    for i in range(count):
        if sequential:
            state_io[0] = np.int64(stream[1])
        if ev_op.shape[0] - ev_off[i] < cap or pl_x.shape[0] - pl_off[i] < cells:
            return i
        if not sequential:
            stream[0] = KIND_NATIVE
            stream[1] = stream_state(key, np.uint64(indices[i]))
        walls, sx, sy, gx, gy, attempts = build(
            fid, height, width, stream, fparams, loops, loop_mode, pid, pparams
        )
        attempts_out[i] = attempts
        if attempts < 0:
            return -(i + 1)
        ne, n_plan, status, _ = search(
            walls, sx, sy, gx, gy, wg, wh, log_h, tie, improve, order, shuffle, log_start, 0,
            stream, op, ex, ey, eg, eh, px, py,
        )
        compute_metrics(walls, sx, sy, gx, gy, op, ex, ey, ne, px, py, n_plan, metrics)
        metrics_out[i, :] = metrics
        walls_out[i] = walls
        sg_out[i, 0] = sx
        sg_out[i, 1] = sy
        sg_out[i, 2] = gx
        sg_out[i, 3] = gy
        status_out[i] = status
        e0 = ev_off[i]
        ev_op[e0 : e0 + ne] = op[:ne]
        ev_x[e0 : e0 + ne] = ex[:ne]
        ev_y[e0 : e0 + ne] = ey[:ne]
        ev_g[e0 : e0 + ne] = eg[:ne]
        ev_h[e0 : e0 + ne] = eh[:ne]
        ev_off[i + 1] = e0 + ne
        p0 = pl_off[i]
        pl_x[p0 : p0 + n_plan] = px[:n_plan]
        pl_y[p0 : p0 + n_plan] = py[:n_plan]
        pl_off[i + 1] = p0 + n_plan
    if sequential:
        state_io[0] = np.int64(stream[1])
    return count


@dataclass
class Block:
    """A block of generated examples as flat arrays (``events`` and ``plans`` with offsets)."""

    indices: np.ndarray  # (n,) int64: candidate indices in the split's stream
    walls: np.ndarray  # (n, H, W) bool
    sg: np.ndarray  # (n, 4) int16: sx, sy, gx, gy
    status: np.ndarray  # (n,) int8: 1 solved
    attempts: np.ndarray  # (n,) int32
    metrics: np.ndarray  # (n, N_METRICS) int64
    ev_off: np.ndarray  # (n + 1,) int64
    ev_op: np.ndarray
    ev_x: np.ndarray
    ev_y: np.ndarray
    ev_g: np.ndarray
    ev_h: np.ndarray
    pl_off: np.ndarray
    pl_x: np.ndarray
    pl_y: np.ndarray
    stream_state: int = -1  # upstream LCG state after the block (sequential blocks only)

    def __len__(self) -> int:
        return int(self.walls.shape[0])


def generate_block(
    maze: MazeSpec,
    profile: Profile,
    key: int,
    first: int | np.ndarray,
    count: int | None = None,
    *,
    events_hint: int = 0,
    upstream_state: int | None = None,
) -> Block:
    """Generate and solve examples ``first .. first+count-1`` of the stream family ``key``, or
    the examples of an index array ``first`` (``count`` omitted).

    ``upstream_state``: draw the examples one after the other from the Beyond Semantics LCG
    stream in this state (arXiv 2505.13775: one stream per file) instead of a native stream per
    index; the block's ``stream_state`` is the state after it.
    """
    if count is None:
        indices = np.ascontiguousarray(first, dtype=np.int64)
    else:
        indices = np.arange(int(first), int(first) + int(count), dtype=np.int64)
    count = int(indices.shape[0])
    fid, h, w, fparams, loops, loop_mode, pid, pparams = maze.kernel_args()
    wg, wh, log_h, tie, improve, order, shuffle, log_start = profile.kernel_args()
    cells = h * w
    cap = int(trace_capacity(cells))
    walls = np.empty((count, h, w), dtype=np.bool_)
    sg = np.empty((count, 4), dtype=np.int16)
    status = np.empty(count, dtype=np.int8)
    attempts = np.empty(count, dtype=np.int32)
    metrics = np.empty((count, N_METRICS), dtype=np.int64)
    per_example = events_hint or max(64, cells // 2)
    ev_size = cap + count * per_example
    pl_size = cells + count * max(8, min(cells, per_example // 4))
    ev_parts: list[list[np.ndarray]] = []
    pl_parts: list[list[np.ndarray]] = []
    ev_off = np.zeros(count + 1, dtype=np.int64)
    pl_off = np.zeros(count + 1, dtype=np.int64)
    state_io = np.array([-1 if upstream_state is None else int(upstream_state)], dtype=np.int64)
    done = 0
    while done < count:
        n = count - done
        ev = [np.empty(ev_size, dtype=t) for t in (np.int8, np.int16, np.int16, np.int32, np.int32)]
        pl = [np.empty(pl_size, dtype=np.int16) for _ in range(2)]
        part_ev_off = np.zeros(n + 1, dtype=np.int64)
        part_pl_off = np.zeros(n + 1, dtype=np.int64)
        got = _generate_block(
            fid, h, w, fparams, loops, loop_mode, pid, pparams,
            wg, wh, log_h, tie, improve, order, shuffle, log_start,
            np.uint64(key), indices[done:], state_io,
            walls[done:], sg[done:], status[done:], attempts[done:], metrics[done:],
            part_ev_off, *ev, part_pl_off, *pl,
        )
        if got < 0:
            bad = int(indices[done - got - 1])
            raise ValueError(
                f"{maze.family} {w}x{h}: example {bad} found no start/goal placement "
                f"({maze.placement}) in 1000 mazes; relax the parameters"
            )
        ev_off[done + 1 : done + got + 1] = part_ev_off[1 : got + 1] + ev_off[done]
        pl_off[done + 1 : done + got + 1] = part_pl_off[1 : got + 1] + pl_off[done]
        ev_parts.append([a[: part_ev_off[got]] for a in ev])
        pl_parts.append([a[: part_pl_off[got]] for a in pl])
        done += got
        ev_size *= 2
        pl_size *= 2
    if not ev_parts:
        ev_all = [np.empty(0, dtype=t) for t in (np.int8, np.int16, np.int16, np.int32, np.int32)]
        pl_all = [np.empty(0, dtype=np.int16) for _ in range(2)]
    elif len(ev_parts) == 1:
        ev_all, pl_all = ev_parts[0], pl_parts[0]
    else:
        ev_all = [np.concatenate([p[k] for p in ev_parts]) for k in range(5)]
        pl_all = [np.concatenate([p[k] for p in pl_parts]) for k in range(2)]
    return Block(indices, walls, sg, status, attempts, metrics, ev_off, *ev_all, pl_off, *pl_all,
                 int(state_io[0]))
