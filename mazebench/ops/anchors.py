"""Anchor labels of trace events and the ``drop-anchors`` / ``drop-routine`` pair.

The maze analogue of thought anchors (arXiv 2506.19143): an event is

* ``0`` routine - a create, or a close of a cell 4-adjacent to the previously closed cell (the
  search continues its current branch; the first close is routine);
* ``1`` jump - a close of a cell not adjacent to the previous close: a backtrack to another branch
  of the frontier (the ``branch_jumps`` metric counts them);
* ``2`` conclusion - the first close of the goal;
* ``3`` post-conclusion - every event after the conclusion.

``anchors`` adds these labels of the final trace as the ``trace_anchor`` column.
``drop-anchors`` removes ``floor(fraction * J)`` of a row's ``J`` jumps (chosen uniformly; all of
them by default); ``drop-routine`` removes exactly as many routine events, chosen uniformly among
all routine events (``kind=any``, the default) or among routine closes only (``kind=close``, the
same kind of clause as a jump). Comparing the two tests whether "the pivots carry the signal".
Under the Beyond Semantics convention most closes are jumps (about 70% on 30x30 Wilson mazes), so
``kind=close`` often has too few candidates: such a row loses all of them and the shortfall is
counted (``routine_shortfall``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numba import njit

from ..params import Param
from ..rng import next_index
from .batch import TraceBatch, _ro
from .events import row_stream
from .registry import Choice, Operator, Step, register

ROUTINE, JUMP, CONCLUSION, POST_CONCLUSION = 0, 1, 2, 3
LABELS = ("routine", "jump", "conclusion", "post-conclusion")


@njit(cache=True, nogil=True)
def anchor_labels_kernel(off, op, x, y, sg, out):
    """Fill ``out`` (int8, one per event) with the anchor labels of every row."""
    for i in range(off.shape[0] - 1):
        gx = sg[i, 2]
        gy = sg[i, 3]
        concluded = False
        closes = 0
        lx = -1
        ly = -1
        for e in range(off[i], off[i + 1]):
            if concluded:
                out[e] = POST_CONCLUSION
                continue
            if op[e] != 1:
                out[e] = ROUTINE
                continue
            if x[e] == gx and y[e] == gy:
                out[e] = CONCLUSION
                concluded = True
            elif closes > 0 and abs(x[e] - lx) + abs(y[e] - ly) != 1:
                out[e] = JUMP
            else:
                out[e] = ROUTINE
            closes += 1
            lx = x[e]
            ly = y[e]


def anchor_labels_batch(batch: TraceBatch) -> np.ndarray:
    out = np.empty(batch.op.shape[0], dtype=np.int8)
    anchor_labels_kernel(batch.off, batch.op, batch.x, batch.y, batch.sg(), out)
    return out


@njit(cache=True, nogil=True)
def _drop_selected(off, op, labels, index, key, fraction, routine, closes_only, count_in,
                   count_out, keep):
    """Drop jumps (``routine`` False) or routine events, ``count_in[i]`` of them (or a
    ``fraction`` of the jumps when ``count_in[i] < 0``); writes the number dropped."""
    for i in range(off.shape[0] - 1):
        stream = row_stream(key, index[i])
        a = off[i]
        b = off[i + 1]
        cand = np.empty(b - a, dtype=np.int64)
        m = 0
        for e in range(a, b):
            if routine:
                ok = labels[e] == ROUTINE and (op[e] == 1 or not closes_only)
            else:
                ok = labels[e] == JUMP
            if ok:
                cand[m] = e
                m += 1
        want = count_in[i] if count_in[i] >= 0 else int(np.floor(fraction * m + 1e-9))
        d = min(want, m)
        for j in range(d):
            t = j + next_index(stream, m - j)
            v = cand[j]
            cand[j] = cand[t]
            cand[t] = v
            keep[cand[j]] = False
        count_out[i] = d


def _jump_counts(batch: TraceBatch, labels: np.ndarray, fraction: float) -> np.ndarray:
    """``floor(fraction * J)`` per row, ``J`` the row's jumps (as ``drop-anchors`` removes)."""
    cs = np.concatenate([[0], np.cumsum(labels == JUMP, dtype=np.int64)])
    counts = cs[batch.off[1:]] - cs[batch.off[:-1]]
    return np.floor(counts * fraction + 1e-9).astype(np.int64)


def _drop(batch: TraceBatch, step: Step, routine: bool) -> TraceBatch:
    labels = anchor_labels_batch(batch)
    fraction = float(step.args["fraction"])
    n = len(batch)
    if routine:
        count_in = _jump_counts(batch, labels, fraction)
        closes_only = step.args["kind"] == "close"
    else:
        count_in = np.full(n, -1, dtype=np.int64)
        closes_only = False
    keep = np.ones(batch.op.shape[0], dtype=np.bool_)
    count_out = np.empty(n, dtype=np.int64)
    _drop_selected(batch.off, batch.op, _ro(labels), batch.index(), step.key, fraction, routine,
                   closes_only, _ro(count_in), count_out, keep)
    step.count("removed_events", int(count_out.sum()))
    if routine:
        step.count("routine_shortfall", int((count_in - count_out).sum()))
    prev = batch.extra.get("removed_events")
    total = count_out if prev is None else np.asarray(prev) + count_out
    batch = replace(batch, extra={**batch.extra, "removed_events": _ro(total.astype(np.int32))})
    return batch.keep_events(keep)


def run_anchors(batch: TraceBatch, step: Step) -> TraceBatch:
    return replace(batch, anchors=True)


FRACTION = Param("fraction", 1.0, 0.0, 1.0, doc="share of the row's jumps")

register(Operator(
    "anchors", "anchors",
    "label every event of the final trace: 0 routine, 1 jump (a close not adjacent to the "
    "previous close), 2 conclusion (goal closed), 3 post-conclusion (trace_anchor column)",
    run_anchors, columns=("trace_anchor",),
))
register(Operator(
    "drop-anchors", "anchors",
    "remove floor(fraction * J) of a row's J jump events (uniformly chosen)",
    lambda batch, step: _drop(batch, step, False), (FRACTION,), columns=("removed_events",),
))
register(Operator(
    "drop-routine", "anchors",
    "control of drop-anchors: remove as many routine events as it would, uniformly chosen "
    "(kind=close: routine closes only)",
    lambda batch, step: _drop(batch, step, True), (FRACTION,),
    (Choice("kind", "any", ("any", "close")),), columns=("removed_events",),
))
