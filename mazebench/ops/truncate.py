"""Truncation operators: cuts at conclusion points and their length-matched controls.

Conclusion points of a trace (event indices; -1 when the trace has none):

* ``goal-created`` - the first event at the goal (its create; the start's first event when the
  start is the goal);
* ``plan-recoverable`` - the first event at the goal whose ``g`` is the plan's length minus one:
  from then on the parent pointers (parent = last closed cell at create time) already hold a plan
  of the final length, i.e. the optimal plan for an optimal profile;
* ``goal-closed`` - the first close of the goal (where A* stops).

Following arXiv 2605.29288 (post-conclusion continuation in answer-correct traces):
``cut-tail`` removes the ``k`` events after the point; ``cut-random-chunk`` removes ``k``
contiguous events of the same row starting at a uniformly random position other than the tail's
(per row, exactly as many events as ``cut-tail``); ``cut-random-suffix`` cuts the row's last
events, as many as ``cut-tail`` removes from another row of the split (a uniform derangement of
the rows, repaired so that every row is long enough): the split loses exactly the same multiset
of counts as under ``cut-tail``, but each suffix is cut without knowing where the row's
conclusion is. A row shorter than the count left to it after the repair loses its whole trace,
and the shortfall is counted in the summary (``suffix_shortfall``). Rows without the point lose
nothing under ``cut-tail`` and ``cut-random-chunk``.
``extend`` (see :mod:`.resolve`) makes tails for a plain A* trace, which stops at the goal.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numba import njit

from ..datasets.folded import longest_row
from ..params import Param
from ..rng import next_index
from .batch import TraceBatch, _ro
from .events import derangement, row_stream
from .registry import Choice, Operator, Step, register
from .traces import row_cells, row_g

POINTS = ("goal-created", "plan-recoverable", "goal-closed")


@njit(cache=True, nogil=True, inline="always")
def _points_row(op, x, y, g, a, b, gx, gy, plan_len, out, i):
    created = -1
    recoverable = -1
    closed = -1
    for k in range(b - a):
        e = a + k
        if x[e] != gx or y[e] != gy:
            continue
        if created < 0:
            created = k
        if recoverable < 0 and plan_len > 0 and g[e] == plan_len - 1:
            recoverable = k
        if closed < 0 and op[e] == 1:
            closed = k
            break
    out[i, 0] = created
    out[i, 1] = recoverable
    out[i, 2] = closed


@njit(cache=True, nogil=True)
def conclusion_points_kernel(off, op, x, y, g, sg, plan_off, out):
    """``out[i]`` = (goal-created, plan-recoverable, goal-closed) of row ``i`` (-1 if none)."""
    for i in range(off.shape[0] - 1):
        _points_row(op, x, y, g, off[i], off[i + 1], sg[i, 2], sg[i, 3],
                    plan_off[i + 1] - plan_off[i], out, i)


@njit(cache=True, nogil=True)
def _conclusion_points_folded(byte_off, data, longest, sg, plan_off, out):
    """:func:`conclusion_points_kernel` of folded values, each row decoded into scratch."""
    longest = max(longest, 1)
    op = np.empty(longest, np.int8)
    x = np.empty(longest, np.int16)
    y = np.empty(longest, np.int16)
    g = np.empty(longest, np.int32)
    for i in range(byte_off.shape[0] - 1):
        n = 0
        p = byte_off[i]
        if byte_off[i + 1] > p:
            n = row_cells(data, p, op, x, y)
            row_g(data, p, g)
        _points_row(op, x, y, g, 0, n, sg[i, 2], sg[i, 3], plan_off[i + 1] - plan_off[i],
                    out, i)


def conclusion_points(batch: TraceBatch) -> np.ndarray:
    """``(n, 3)`` int64: goal-created, plan-recoverable and goal-closed indices per row."""
    out = np.empty((len(batch), 3), dtype=np.int64)
    traces = batch.traces
    if traces.is_folded and not traces.has_fields("op", "x", "y", "g"):
        byte_off, data = traces.folded
        _conclusion_points_folded(byte_off, data, longest_row(byte_off, data), batch.sg(),
                                  batch.plan_off, out)
    else:
        conclusion_points_kernel(batch.off, batch.op, batch.x, batch.y, batch.g, batch.sg(),
                                 batch.plan_off, out)
    return out


def tail_counts(batch: TraceBatch, at: str) -> np.ndarray:
    """Events after the conclusion point ``at`` per row (0 where the row has no such point)."""
    point = conclusion_points(batch)[:, POINTS.index(at)]
    lengths = batch.lengths()
    return np.where(point >= 0, lengths - 1 - point, 0).astype(np.int64)


def _add_removed(batch: TraceBatch, removed: np.ndarray) -> dict:
    before = batch.extra.get("removed_events")
    total = removed.astype(np.int32) if before is None else np.asarray(before) + removed
    return {**batch.extra, "removed_events": _ro(total.astype(np.int32))}


def _remove(batch: TraceBatch, start: np.ndarray, count: np.ndarray, step: Step) -> TraceBatch:
    step.count("removed_events", int(count.sum()))
    step.count("rows_cut", int(np.count_nonzero(count)))
    batch = replace(batch, extra=_add_removed(batch, count))
    return batch.remove_events(start, count)


def run_cut_tail(batch: TraceBatch, step: Step) -> TraceBatch:
    count = tail_counts(batch, step.args["at"])
    return _remove(batch, batch.lengths() - count, count, step)


@njit(cache=True, nogil=True)
def _chunk_starts(lengths, count, index, key, out):
    for i in range(lengths.shape[0]):
        stream = row_stream(key, index[i])
        room = lengths[i] - count[i]  # starts 0 .. room - 1: never the tail's own start
        out[i] = next_index(stream, room) if count[i] > 0 and room > 0 else lengths[i] - count[i]


def run_cut_random_chunk(batch: TraceBatch, step: Step) -> TraceBatch:
    count = tail_counts(batch, step.args["at"])
    start = np.empty(len(batch), dtype=np.int64)
    _chunk_starts(_ro(batch.lengths()), _ro(count), batch.index(), step.key, start)
    return _remove(batch, start, count, step)


@njit(cache=True, nogil=True)
def _repair(perm, need, length, key):
    """Swap targets of rows whose donor count exceeds their length; returns rows still short."""
    n = perm.shape[0]
    stream = row_stream(key, 1)
    short = 0
    for i in range(n):
        if need[perm[i]] <= length[i]:
            continue
        fixed = False
        for _ in range(256):
            j = next_index(stream, n)
            a = perm[i]
            b = perm[j]
            if j == i or b == i or a == j:
                continue
            if need[b] <= length[i] and need[a] <= length[j]:
                perm[i] = b
                perm[j] = a
                fixed = True
                break
        if not fixed:
            short += 1
    return short


def run_cut_random_suffix(batch: TraceBatch, step: Step) -> TraceBatch:
    n = len(batch)
    if n == 0:
        return batch
    if n == 1:
        raise ValueError(f"cut-random-suffix on split {step.split!r}: needs at least two rows")
    count = tail_counts(batch, step.args["at"])
    lengths = batch.lengths().astype(np.int64)
    perm = np.empty(n, dtype=np.int64)
    derangement(_ro(np.zeros(n, dtype=np.int64)), step.key, 0, perm)
    _repair(perm, _ro(count), _ro(lengths), step.key)
    wanted = count[perm]
    removed = np.minimum(wanted, lengths)
    step.count("suffix_shortfall", int((wanted - removed).sum()))
    return _remove(batch, lengths - removed, removed, step)


def run_keep_prefix(batch: TraceBatch, step: Step) -> TraceBatch:
    tokens = int(step.args["tokens"])
    lengths = batch.lengths()
    if tokens > 0:
        keep = _token_prefix(batch.off, batch.op, batch.costs, tokens)
    else:
        keep = np.floor(lengths * float(step.args["fraction"])).astype(np.int64)
    removed = lengths - np.minimum(keep, lengths)
    step.count("removed_events", int(removed.sum()))
    batch = replace(batch, extra=_add_removed(batch, removed))
    return batch.keep_prefixes(keep)


@njit(cache=True, nogil=True)
def _token_prefix(off, op, costs, budget):
    """Events of each row whose clauses fit in ``budget`` tokens."""
    n = off.shape[0] - 1
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        used = 0
        k = 0
        for e in range(off[i], off[i + 1]):
            t = 5 if (op[e] == 1 or costs[i]) else 3
            if used + t > budget:
                break
            used += t
            k += 1
        out[i] = k
    return out


def _check_keep_prefix(args: dict) -> None:
    if args["tokens"] > 0 and args["fraction"] != 1.0:
        raise ValueError("keep-prefix: give either fraction=F or tokens=N, not both")


def run_budget(batch: TraceBatch, step: Step) -> TraceBatch:
    limit = int(step.args["tokens"])
    kept = _token_prefix(batch.off, batch.op, batch.costs, limit)
    rows = np.flatnonzero(kept == batch.lengths())
    step.count("dropped_rows", len(batch) - len(rows))
    return batch if len(rows) == len(batch) else batch.take(rows)


AT = Choice("at", "goal-closed", POINTS, "conclusion point")

register(Operator(
    "cut-tail", "truncation",
    "remove the events after a conclusion point (goal-created, plan-recoverable, goal-closed)",
    run_cut_tail, (), (AT,), columns=("removed_events",),
))
register(Operator(
    "cut-random-chunk", "truncation",
    "control of cut-tail: remove as many events as it would, as one contiguous chunk at a "
    "uniformly random place other than the tail",
    run_cut_random_chunk, (), (AT,), columns=("removed_events",),
))
register(Operator(
    "cut-random-suffix", "truncation",
    "control of cut-tail: cut each row's last events, as many as cut-tail removes from another "
    "row of the split (derangement): the same counts, suffixes blind to the conclusion",
    run_cut_random_suffix, (), (AT,), scope="split", columns=("removed_events",),
))
register(Operator(
    "keep-prefix", "truncation",
    "keep the first floor(fraction * n) events, or the events whose clauses fit in tokens",
    run_keep_prefix,
    (Param("fraction", 1.0, 0.0, 1.0), Param("tokens", 0, 0, 1e12, "int", "0 = use fraction")),
    columns=("removed_events",), check=_check_keep_prefix,
))
register(Operator(
    "budget", "truncation", "drop the examples whose trace has more than tokens tokens",
    run_budget, (Param("tokens", 2000, 0, 1e12, "int"),),
))
