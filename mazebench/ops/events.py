"""Numba kernels shared by the trace operators: flat event arrays of many rows at once.

A batch of traces is five flat arrays ``op`` (int8), ``x``, ``y`` (int16), ``g``, ``h`` (int32)
and ``off`` (int64, ``n + 1`` entries): row ``i``'s events are ``off[i]:off[i + 1]``. Kernels
never build per-example Python objects. Every random draw comes from the row's own stream
``stream_state(key, index)`` (:mod:`mazebench.rng`), where ``key`` names (operator seed, operator,
chain step, split) and ``index`` is the example's index in its split, so results do not depend
on how rows are batched.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..rng import KIND_NATIVE, next_float, next_index, stream_key, stream_state

OP_CREATE = 0
OP_CLOSE = 1


def op_key(seed: int, name: str, step: int, split: str) -> np.uint64:
    """The stream-family key of one chain step on one split."""
    return np.uint64(stream_key(int(seed), "ops", name, int(step), split))


@njit(cache=True, nogil=True, inline="always")
def row_stream(key, index):
    """The native stream of example ``index`` in the family ``key``."""
    s = np.empty(2, dtype=np.uint64)
    s[0] = KIND_NATIVE
    s[1] = stream_state(np.uint64(key), np.uint64(index))
    return s


@njit(cache=True, nogil=True)
def draw_floats(key, index, out):
    """``out[i]`` = the first float of row ``i``'s stream (one draw per row)."""
    for i in range(index.shape[0]):
        out[i] = next_float(row_stream(key, index[i]))


@njit(cache=True, nogil=True)
def compact(off, op, x, y, g, h, keep):
    """Keep the events with ``keep[e]`` True; returns the new ``(off, op, x, y, g, h)``."""
    n = off.shape[0] - 1
    total = 0
    for e in range(keep.shape[0]):
        if keep[e]:
            total += 1
    new_off = np.empty(n + 1, dtype=np.int64)
    o_op = np.empty(total, dtype=np.int8)
    o_x = np.empty(total, dtype=np.int16)
    o_y = np.empty(total, dtype=np.int16)
    o_g = np.empty(total, dtype=np.int32)
    o_h = np.empty(total, dtype=np.int32)
    k = 0
    new_off[0] = 0
    for i in range(n):
        for e in range(off[i], off[i + 1]):
            if keep[e]:
                o_op[k] = op[e]
                o_x[k] = x[e]
                o_y[k] = y[e]
                o_g[k] = g[e]
                o_h[k] = h[e]
                k += 1
        new_off[i + 1] = k
    return new_off, o_op, o_x, o_y, o_g, o_h


@njit(cache=True, nogil=True)
def take_rows(off, op, x, y, g, h, rows):
    """Row ``i`` of the result is row ``rows[i]`` of the input (a gather of whole traces)."""
    n = rows.shape[0]
    new_off = np.empty(n + 1, dtype=np.int64)
    new_off[0] = 0
    for i in range(n):
        r = rows[i]
        new_off[i + 1] = new_off[i] + off[r + 1] - off[r]
    total = new_off[n]
    o_op = np.empty(total, dtype=np.int8)
    o_x = np.empty(total, dtype=np.int16)
    o_y = np.empty(total, dtype=np.int16)
    o_g = np.empty(total, dtype=np.int32)
    o_h = np.empty(total, dtype=np.int32)
    for i in range(n):
        r = rows[i]
        a = off[r]
        k = new_off[i]
        for e in range(off[r + 1] - a):
            o_op[k + e] = op[a + e]
            o_x[k + e] = x[a + e]
            o_y[k + e] = y[a + e]
            o_g[k + e] = g[a + e]
            o_h[k + e] = h[a + e]
    return new_off, o_op, o_x, o_y, o_g, o_h


@njit(cache=True, nogil=True)
def remove_ranges(off, op, x, y, g, h, start, count):
    """Remove ``count[i]`` events of row ``i`` from its position ``start[i]`` on (both within
    the row); the kept parts are copied as slices."""
    n = off.shape[0] - 1
    new_off = np.empty(n + 1, dtype=np.int64)
    new_off[0] = 0
    for i in range(n):
        new_off[i + 1] = new_off[i] + off[i + 1] - off[i] - count[i]
    total = new_off[n]
    o_op = np.empty(total, dtype=np.int8)
    o_x = np.empty(total, dtype=np.int16)
    o_y = np.empty(total, dtype=np.int16)
    o_g = np.empty(total, dtype=np.int32)
    o_h = np.empty(total, dtype=np.int32)
    for i in range(n):
        k = new_off[i]
        for a, b in ((off[i], off[i] + start[i]), (off[i] + start[i] + count[i], off[i + 1])):
            m = b - a
            o_op[k : k + m] = op[a:b]
            o_x[k : k + m] = x[a:b]
            o_y[k : k + m] = y[a:b]
            o_g[k : k + m] = g[a:b]
            o_h[k : k + m] = h[a:b]
            k += m
    return new_off, o_op, o_x, o_y, o_g, o_h


@njit(cache=True, nogil=True)
def keep_prefixes(off, op, x, y, g, h, keep_n):
    """Keep the first ``keep_n[i]`` events of each row (clipped to its length)."""
    n = off.shape[0] - 1
    start = np.empty(n, dtype=np.int64)
    count = np.empty(n, dtype=np.int64)
    for i in range(n):
        m = off[i + 1] - off[i]
        k = min(max(keep_n[i], 0), m)
        start[i] = k
        count[i] = m - k
    return remove_ranges(off, op, x, y, g, h, start, count)


@njit(cache=True, nogil=True)
def derangement(groups, key, stream_index, perm):
    """Fill ``perm`` with a uniformly random derangement inside each group.

    ``groups`` (int64, one code per row) must be sorted-compatible: rows of one group may be
    anywhere. ``perm[i]`` is a row of the same group as ``i`` and never ``i`` (rejection sampling
    of uniform permutations per group, about e tries each). Returns -1 on success, or the code
    of a group with a single row (which cannot be deranged).
    """
    n = groups.shape[0]
    order = np.argsort(groups, kind="mergesort")
    stream = row_stream(key, stream_index)
    a = 0
    while a < n:
        b = a
        code = groups[order[a]]
        while b < n and groups[order[b]] == code:
            b += 1
        m = b - a
        if m == 1:
            return code
        members = order[a:b]
        local = np.empty(m, dtype=np.int64)
        while True:
            for j in range(m):
                local[j] = j
            for j in range(m - 1, 0, -1):
                t = next_index(stream, j + 1)
                v = local[j]
                local[j] = local[t]
                local[t] = v
            fixed = False
            for j in range(m):
                if local[j] == j:
                    fixed = True
                    break
            if not fixed:
                break
        for j in range(m):
            perm[members[j]] = members[local[j]]
        a = b
    return -1


@njit(cache=True, nogil=True)
def unpack_row(walls_off, walls_data, i, height, width, out):
    """Unpack row ``i``'s packed walls (``numpy.packbits`` order) into ``out[:H*W]`` (bool)."""
    base = walls_off[i]
    for c in range(height * width):
        out[c] = (walls_data[base + (c >> 3)] >> (7 - (c & 7))) & 1


@njit(cache=True, nogil=True)
def unpack_all(walls_off, walls_data, hw, cell_off):
    """All rows' walls as one flat bool array, row ``i`` at ``cell_off[i]`` (row-major)."""
    n = hw.shape[0]
    out = np.empty(cell_off[n], dtype=np.bool_)
    for i in range(n):
        unpack_row(walls_off, walls_data, i, hw[i, 0], hw[i, 1], out[cell_off[i] :])
    return out


@njit(cache=True, nogil=True)
def random_floor(walls, height, width, stream):
    """A uniformly random floor cell ``y * W + x`` of a flat walls array (-1 if none)."""
    cells = height * width
    for _ in range(64):
        c = next_index(stream, cells)
        if not walls[c]:
            return c
    floors = 0
    for c in range(cells):
        if not walls[c]:
            floors += 1
    if floors == 0:
        return -1
    k = next_index(stream, floors)
    for c in range(cells):
        if not walls[c]:
            if k == 0:
                return c
            k -= 1
    return -1


@njit(cache=True, nogil=True)
def random_floor_neighbour(walls, height, width, cx, cy, stream):
    """A uniformly random floor 4-neighbour of ``(cx, cy)`` as ``y * W + x`` (-1 if none)."""
    cand = np.empty(4, dtype=np.int64)
    k = 0
    if cy > 0 and not walls[(cy - 1) * width + cx]:
        cand[k] = (cy - 1) * width + cx
        k += 1
    if cx + 1 < width and not walls[cy * width + cx + 1]:
        cand[k] = cy * width + cx + 1
        k += 1
    if cy + 1 < height and not walls[(cy + 1) * width + cx]:
        cand[k] = (cy + 1) * width + cx
        k += 1
    if cx > 0 and not walls[cy * width + cx - 1]:
        cand[k] = cy * width + cx - 1
        k += 1
    if k == 0:
        return -1
    return cand[next_index(stream, k)]
