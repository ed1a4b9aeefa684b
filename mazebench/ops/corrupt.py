"""Corruption operators: shuffle, perturb, drop, insert, reverse, random-walk.

They make traces that are wrong in controlled ways while every row keeps its problem and its
correct plan, the manipulation of Beyond Semantics (arXiv 2505.13775), which trains on traces
that do not follow the search. All draws come from the row's stream (see
:mod:`mazebench.ops.events`), so a row's output depends on the operator seed and its index only.

A *plausible* event (insert, random-walk) is one a search could log on this maze: a floor cell,
``h`` the Manhattan distance to the goal (0 if the split's profile does not log ``h``), and ``g``
the Manhattan distance from the start plus an even detour (insert: ``2 * j``, ``j`` uniform in
{0, 1, 2}; random-walk: the number of moves so far). A created cell is a floor neighbour of the
most recently closed cell when there is one.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..params import Param
from ..rng import next_float, next_index
from .batch import TraceBatch
from .events import (
    random_floor,
    random_floor_neighbour,
    row_stream,
    unpack_row,
)
from .registry import Choice, Operator, Step, register

# -- shuffle -----------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _shuffle(off, op, x, y, g, h, index, key, window):
    n = off.shape[0] - 1
    total = op.shape[0]
    src = np.empty(total, dtype=np.int64)
    for i in range(n):
        stream = row_stream(key, index[i])
        a = off[i]
        b = off[i + 1]
        w = b - a if window <= 0 else window
        for s in range(a, b, max(w, 1)):
            t = min(s + w, b)
            for e in range(s, t):
                src[e] = e
            for e in range(t - 1, s, -1):
                j = s + next_index(stream, e - s + 1)
                v = src[e]
                src[e] = src[j]
                src[j] = v
    return op[src], x[src], y[src], g[src], h[src]


def run_shuffle(batch: TraceBatch, step: Step) -> TraceBatch:
    out = _shuffle(*batch.events, batch.index(), step.key, int(step.args["window"]))
    return batch.with_events(batch.off, *out)


# -- perturb -----------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _nonzero_offset(stream, magnitude):
    d = 1 + next_index(stream, magnitude)
    return d if next_float(stream) < 0.5 else -d


@njit(cache=True, nogil=True)
def _perturb(off, op, x, y, g, h, hw, index, key, p, coords, costs, in_grid, magnitude):
    n = off.shape[0] - 1
    ox = x.copy()
    oy = y.copy()
    og = g.copy()
    oh = h.copy()
    changed = 0
    for i in range(n):
        stream = row_stream(key, index[i])
        height = hw[i, 0]
        width = hw[i, 1]
        for e in range(off[i], off[i + 1]):
            if next_float(stream) >= p:
                continue
            changed += 1
            if coords:
                if in_grid:
                    lo_x, lo_y, span_x, span_y = 0, 0, width, height
                else:  # the grid and a one-cell border around it
                    lo_x, lo_y, span_x, span_y = -1, -1, width + 2, height + 2
                cells = span_x * span_y
                cx = x[e] - lo_x
                cy = y[e] - lo_y
                cur = cy * span_x + cx if 0 <= cx < span_x and 0 <= cy < span_y else -1
                if cur >= 0 and cells > 1:
                    c = next_index(stream, cells - 1)
                    if c >= cur:
                        c += 1
                elif cur < 0:
                    c = next_index(stream, cells)
                else:
                    c = cur
                ox[e] = c % span_x + lo_x
                oy[e] = c // span_x + lo_y
            if costs:
                d = _nonzero_offset(stream, magnitude)
                og[e] = g[e] + d if g[e] + d >= 0 else g[e] - d
                d = _nonzero_offset(stream, magnitude)
                oh[e] = h[e] + d if h[e] + d >= 0 else h[e] - d
    return ox, oy, og, oh, changed


def run_perturb(batch: TraceBatch, step: Step) -> TraceBatch:
    a = step.args
    ox, oy, og, oh, changed = _perturb(
        *batch.events, batch.hw(), batch.index(), step.key, a["p"], bool(a["coords"]),
        bool(a["costs"]), bool(a["in_grid"]), int(a["magnitude"]),
    )
    step.count("perturbed_events", changed)
    return batch.with_events(batch.off, batch.op, ox, oy, og, oh)


def _check_perturb(args: dict) -> None:
    if not args["coords"] and not args["costs"]:
        raise ValueError("perturb: set coords=1 and/or costs=1 (both are 0)")


# -- drop --------------------------------------------------------------------------------------

KINDS = ("any", "create", "close")


@njit(cache=True, nogil=True)
def _drop_mask(off, op, index, key, p, kind):
    n = off.shape[0] - 1
    keep = np.ones(op.shape[0], dtype=np.bool_)
    for i in range(n):
        stream = row_stream(key, index[i])
        for e in range(off[i], off[i + 1]):
            u = next_float(stream)
            eligible = kind == 0 or (kind == 1 and op[e] == 0) or (kind == 2 and op[e] == 1)
            if eligible and u < p:
                keep[e] = False
    return keep


def run_drop(batch: TraceBatch, step: Step) -> TraceBatch:
    keep = _drop_mask(batch.off, batch.op, batch.index(), step.key, step.args["p"],
                      KINDS.index(step.args["kind"]))
    step.count("dropped_events", int(keep.shape[0] - np.count_nonzero(keep)))
    return batch.keep_events(keep)


# -- insert ------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _plausible(walls, height, width, sx, sy, gx, gy, lx, ly, log_h, create, stream):
    """A plausible event's ``(cell, g, h)``; ``cell`` is -1 when the grid has no floor."""
    c = -1
    if create and 0 <= lx < width and 0 <= ly < height:
        c = random_floor_neighbour(walls, height, width, lx, ly, stream)
    if c < 0:
        c = random_floor(walls, height, width, stream)
    if c < 0:
        return -1, 0, 0
    cx = c % width
    cy = c // width
    gv = abs(cx - sx) + abs(cy - sy) + 2 * next_index(stream, 3)
    hv = abs(cx - gx) + abs(cy - gy) if log_h else 0
    return c, gv, hv


@njit(cache=True, nogil=True)
def _insert(off, op, x, y, g, h, hw, sg, walls_off, walls_data, index, key, p, log_h):
    n = off.shape[0] - 1
    total = 2 * op.shape[0]
    o_op = np.empty(total, dtype=np.int8)
    o_x = np.empty(total, dtype=np.int16)
    o_y = np.empty(total, dtype=np.int16)
    o_g = np.empty(total, dtype=np.int32)
    o_h = np.empty(total, dtype=np.int32)
    new_off = np.empty(n + 1, dtype=np.int64)
    new_off[0] = 0
    biggest = 1
    for i in range(n):
        biggest = max(biggest, hw[i, 0] * hw[i, 1])
    walls = np.empty(biggest, dtype=np.bool_)
    k = 0
    for i in range(n):
        height = hw[i, 0]
        width = hw[i, 1]
        unpack_row(walls_off, walls_data, i, height, width, walls)
        stream = row_stream(key, index[i])
        lx = -1
        ly = -1
        for e in range(off[i], off[i + 1]):
            o_op[k] = op[e]
            o_x[k] = x[e]
            o_y[k] = y[e]
            o_g[k] = g[e]
            o_h[k] = h[e]
            k += 1
            if op[e] == 1:
                lx = x[e]
                ly = y[e]
            if next_float(stream) >= p:
                continue
            create = next_float(stream) < 0.5
            c, gv, hv = _plausible(walls, height, width, sg[i, 0], sg[i, 1], sg[i, 2],
                                   sg[i, 3], lx, ly, log_h, create, stream)
            if c < 0:
                continue
            o_op[k] = 0 if create else 1
            o_x[k] = c % width
            o_y[k] = c // width
            o_g[k] = gv
            o_h[k] = hv
            k += 1
            if not create:
                lx = c % width
                ly = c // width
        new_off[i + 1] = k
    return new_off, o_op[:k], o_x[:k], o_y[:k], o_g[:k], o_h[:k]


def _log_h(step: Step) -> bool:
    return bool(step.profile.kernel_args()[2]) if step.profile is not None else True


def run_insert(batch: TraceBatch, step: Step) -> TraceBatch:
    walls_off, walls_data = batch.packed_walls()
    out = _insert(*batch.events, batch.hw(), batch.sg(), walls_off, walls_data, batch.index(),
                  step.key, step.args["p"], _log_h(step))
    step.count("inserted_events", int(out[0][-1] - batch.off[-1]) if len(batch) else 0)
    return batch.with_events(*out)


# -- reverse -----------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _reverse_index(off):
    src = np.empty(off[-1], dtype=np.int64)
    for i in range(off.shape[0] - 1):
        a = off[i]
        b = off[i + 1]
        for e in range(a, b):
            src[e] = a + b - 1 - e
    return src


def run_reverse(batch: TraceBatch, step: Step) -> TraceBatch:
    src = _reverse_index(batch.off)
    return batch.with_records(batch.off, batch.records[src].view(np.uint8))


# -- random-walk -------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _random_walk(off, op, hw, sg, walls_off, walls_data, index, key, log_h):
    n = off.shape[0] - 1
    total = op.shape[0]
    o_op = np.empty(total, dtype=np.int8)
    o_x = np.empty(total, dtype=np.int16)
    o_y = np.empty(total, dtype=np.int16)
    o_g = np.empty(total, dtype=np.int32)
    o_h = np.empty(total, dtype=np.int32)
    biggest = 1
    for i in range(n):
        biggest = max(biggest, hw[i, 0] * hw[i, 1])
    walls = np.empty(biggest, dtype=np.bool_)
    for i in range(n):
        a = off[i]
        m = off[i + 1] - a
        if m == 0:
            continue
        height = hw[i, 0]
        width = hw[i, 1]
        unpack_row(walls_off, walls_data, i, height, width, walls)
        stream = row_stream(key, index[i])
        cx = sg[i, 0]
        cy = sg[i, 1]
        gx = sg[i, 2]
        gy = sg[i, 3]
        gv = 0
        k = 0
        create = op[a] == 0  # start the way the original trace starts
        while k < m:
            if create and k > 0:
                c = random_floor_neighbour(walls, height, width, cx, cy, stream)
                if c >= 0:
                    cx = c % width
                    cy = c // width
                gv += 1
            o_op[a + k] = 0 if create else 1
            o_x[a + k] = cx
            o_y[a + k] = cy
            o_g[a + k] = gv
            o_h[a + k] = abs(cx - gx) + abs(cy - gy) if log_h else 0
            k += 1
            create = not create
    return o_op, o_x, o_y, o_g, o_h


def run_random_walk(batch: TraceBatch, step: Step) -> TraceBatch:
    walls_off, walls_data = batch.packed_walls()
    out = _random_walk(batch.off, batch.op, batch.hw(), batch.sg(), walls_off, walls_data,
                       batch.index(), step.key, _log_h(step))
    return batch.with_events(batch.off, *out)


P = Param("p", 0.1, 0.0, 1.0, doc="rate per event")

register(Operator(
    "shuffle", "corruption",
    "permute the events uniformly at random, all at once (window=0) or within consecutive "
    "windows of that many events",
    run_shuffle, (Param("window", 0, 0, 1e9, "int", "events per window; 0 = whole trace"),),
))
register(Operator(
    "perturb", "corruption",
    "with probability p per event, move it to another cell (coords; in_grid=0 allows the "
    "one-cell border off the grid) and/or add a nonzero offset of at most magnitude to g and h",
    run_perturb,
    (P, Param("coords", 1, 0, 1, "bool"), Param("costs", 0, 0, 1, "bool"),
     Param("in_grid", 1, 0, 1, "bool"), Param("magnitude", 2, 1, 1000, "int")),
    check=_check_perturb,
))
register(Operator(
    "drop", "corruption", "remove each event (of the given kind) with probability p",
    run_drop, (P,), (Choice("kind", "any", KINDS),),
))
register(Operator(
    "insert", "corruption",
    "after each event, with probability p, insert a random plausible create or close",
    run_insert, (P,),
))
register(Operator("reverse", "corruption", "reverse the order of the events", run_reverse))
register(Operator(
    "random-walk", "corruption",
    "replace the trace by a random walk from the start written as alternating close/create "
    "events of plausible costs, with the original length",
    run_random_walk,
))
