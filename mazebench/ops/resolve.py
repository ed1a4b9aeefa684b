"""Operators that re-run the search on each row's problem: ``extend`` and ``foreign``.

Problems are rebuilt from the rows' packed walls, start and goal, and solved in batches by
:func:`mazebench.search.fast.search_batch` (one numba call for thousands of rows).

* ``extend`` lets the split's own profile run on past the goal's close for ``events`` more events
  or ``fraction`` times the trace's length (``post_goal`` of the kernel): answer-correct traces
  with a post-conclusion tail (arXiv 2605.29288), which A* itself never writes. The re-run must
  reproduce the row's trace as its prefix (deterministic profiles only); a row whose trace was
  changed by an earlier operator is a one-line error, so ``extend`` comes first in a chain.
* ``foreign`` replaces the trace by another solver's trace of the same problem (``bfs``, ``dfs``,
  ``greedy`` or any profile); the plan stays (``plan=keep``) or becomes the solver's.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numba import njit

from ..params import Param
from ..search.fast import search_batch
from ..search.kernel import trace_capacity
from ..search.profiles import PROFILES, Profile, get_profile
from .batch import TraceBatch, _ro
from .events import row_stream, unpack_all
from .registry import Choice, Operator, Step, register


@njit(cache=True, nogil=True)
def _streams(key, index):
    out = np.empty((index.shape[0], 2), dtype=np.uint64)
    for i in range(index.shape[0]):
        out[i] = row_stream(key, index[i])
    return out


def _grow(a: np.ndarray, size: int) -> np.ndarray:
    out = np.empty(size, dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


def solve_rows(batch: TraceBatch, profile: Profile, key: np.uint64, post_goal: int = 0,
               events_hint: float | None = None):
    """Re-solve every row; returns ``(off, op, x, y, g, h, plan_off, plan_x, plan_y, status,
    goal_close)`` as flat arrays. ``events_hint`` (events per row expected) sizes the first
    buffers, which grow as needed."""
    n = len(batch)
    hw = batch.hw()
    cells = hw[:, 0] * hw[:, 1]
    cell_off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(cells, out=cell_off[1:])
    walls_off, walls_data = batch.packed_walls()
    walls = unpack_all(walls_off, walls_data, hw, _ro(cell_off))
    sg = np.array(batch.sg(), dtype=np.int64)  # writable: the kernel's usual argument types
    streams = _streams(key, batch.index())
    if events_hint is None:
        events_hint = (batch.lengths().mean() if n else 1.0) + post_goal
    per = int(max(1.0, events_hint))
    max_cells = int(cells.max()) if n else 0
    cap = per * n + int(trace_capacity(max_cells)) + int(post_goal)  # one worst row on top
    ev = [np.empty(cap, dtype=t) for t in (np.int8, np.int16, np.int16, np.int32, np.int32)]
    plan_x = np.empty(int(cells.sum()), dtype=np.int16)
    plan_y = np.empty(int(cells.sum()), dtype=np.int16)
    ev_off = np.zeros(n + 1, dtype=np.int64)
    plan_off = np.zeros(n + 1, dtype=np.int64)
    status = np.zeros(n, dtype=np.int8)
    goal_close = np.full(n, -1, dtype=np.int64)
    shapes = np.array(hw, dtype=np.int64)
    wg, wh, log_h, tie, improve, order, shuffle, log_start = profile.kernel_args()
    done = 0
    while done < n:
        done = search_batch(
            walls, cell_off[:-1].copy(), shapes, sg, wg, wh, log_h, tie, improve, order, shuffle,
            log_start, int(post_goal), streams, *ev, ev_off, plan_x, plan_y, plan_off, status,
            goal_close, done,
        )
        if done < n:
            need = int(ev_off[done]) + int(trace_capacity(int(cells[done])))
            ev = [_grow(a, max(2 * a.shape[0], need)) for a in ev]
    end = int(ev_off[n])
    return (ev_off, *(a[:end] for a in ev), plan_off, plan_x[: plan_off[n]],
            plan_y[: plan_off[n]], status, goal_close)


@njit(cache=True, nogil=True)
def _first_mismatch(off, op, x, y, g, h, s_off, s_op, s_x, s_y, s_g, s_h, status, goal_close):
    """First row whose trace is not the prefix of its re-solve ending at the goal (-1: none)."""
    for i in range(off.shape[0] - 1):
        m = off[i + 1] - off[i]
        if s_off[i + 1] - s_off[i] < m:
            return i
        if status[i] == 1 and goal_close[i] != m - 1:
            return i
        a = off[i]
        b = s_off[i]
        for k in range(m):
            if (op[a + k] != s_op[b + k] or x[a + k] != s_x[b + k] or y[a + k] != s_y[b + k]
                    or g[a + k] != s_g[b + k] or h[a + k] != s_h[b + k]):
                return i
    return -1


def run_extend(batch: TraceBatch, step: Step) -> TraceBatch:
    profile = step.profile or get_profile("beyond-semantics")
    if profile.randomized:
        raise ValueError(f"extend: profile {profile.name!r} is randomised; the re-run could not "
                         "reproduce its traces (use a deterministic profile)")
    if len(batch) == 0:
        return batch
    lengths = batch.lengths()
    events, fraction = int(step.args["events"]), float(step.args["fraction"])
    tail = (np.full(len(batch), events, dtype=np.int64) if events > 0
            else np.rint(lengths * fraction).astype(np.int64))
    solved = solve_rows(batch, profile, step.key, int(tail.max()),
                        events_hint=float(lengths.mean() + tail.mean()) * 1.05 + 8)
    s_off, s_ev, status, goal_close = solved[0], solved[1:6], solved[9], solved[10]
    bad = _first_mismatch(*batch.events, s_off, *s_ev, status, goal_close)
    if bad >= 0:
        row_id = batch.table.column("id")[bad].as_py()
        raise ValueError(f"extend: re-solving {row_id} with profile {profile.name!r} does not "
                         "reproduce its trace; put extend first in the chain")
    tail = np.where(status == 1, tail, 0)
    keep = np.minimum(lengths + tail, np.diff(s_off))
    added = (keep - lengths).astype(np.int32)
    prev = batch.extra.get("tail_events")
    total = added if prev is None else np.asarray(prev) + added
    step.count("tail_events", int(added.sum()))
    step.count("short_tails", int(np.count_nonzero(added < tail)))
    batch = replace(batch, extra={**batch.extra, "tail_events": _ro(total.astype(np.int32))})
    return batch.with_events(s_off, *s_ev).keep_prefixes(keep)


def _check_extend(args: dict) -> None:
    if (args["events"] > 0) == (args["fraction"] > 0):
        raise ValueError("extend: give exactly one of events=K (> 0) or fraction=F (> 0)")


def run_foreign(batch: TraceBatch, step: Step) -> TraceBatch:
    profile = get_profile(step.args["profile"])
    if len(batch) == 0:
        return batch
    solved = solve_rows(batch, profile, step.key, 0)
    out = batch.with_events(solved[0], *solved[1:6])
    out = replace(out, costs=_ro(np.ones(len(batch), dtype=np.bool_)))
    if step.args["plan"] == "solver":
        out = out.with_plan(solved[6], solved[7], solved[8])
    return out


register(Operator(
    "extend", "truncation",
    "let the split's profile search on past the goal's close for events=K more events or "
    "fraction=F times the trace length (answer-correct traces with a post-conclusion tail)",
    run_extend,
    (Param("events", 0, 0, 1e9, "int"), Param("fraction", 0.0, 0.0, 100.0)),
    columns=("tail_events",), check=_check_extend,
))
register(Operator(
    "foreign", "corruption",
    "replace the trace by another solver's trace of the same problem (plan=keep keeps the "
    "row's plan, plan=solver takes the solver's)",
    run_foreign, (),
    (Choice("profile", "bfs", tuple(PROFILES)), Choice("plan", "keep", ("keep", "solver"))),
))
