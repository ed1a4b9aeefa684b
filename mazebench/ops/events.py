"""Numba kernels shared by the trace operators: flat event arrays of many rows at once.

A batch of traces is an array of packed records (:data:`mazebench.datasets.packed.TRACE_DTYPE`:
``op`` int8, ``x``, ``y`` int16, ``g``, ``h`` int32) with row offsets ``off`` (int64, ``n + 1``
entries): row ``i``'s events are ``off[i]:off[i + 1]``. Kernels read the fields as strided views
of the records, and the row-editing kernels (``*_records``) move whole records as byte ranges, so
a shard's trace column is never unpacked into separate arrays. Kernels
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


@njit(cache=True, nogil=True, inline="always")
def _copy_records(raw, size, a, b, out, o):
    """Copy records ``a .. b - 1`` of ``raw`` (``size`` bytes each) to record ``o`` of ``out``.

    The loop runs over unsigned indices: numba then drops its negative-index wraparound test
    and LLVM turns the loop into a vectorised copy (measured 7x faster than a slice
    assignment or a signed loop for 3 kB runs)."""
    src = np.uint64(a * size)
    dst = np.uint64(o * size)
    for t in range(np.uint64((b - a) * size)):
        out[dst + t] = raw[src + t]


def _new_bytes(records: int, size: int) -> np.ndarray:
    """An output buffer from numpy, not from inside a kernel: numpy asks the kernel for huge
    pages on large blocks (madvise), numba's allocator does not, and on this machine faulting in
    a 190 MB buffer page by page cost more than the copy into it (0.12 s vs 0.02 s)."""
    return np.empty(int(records) * size, dtype=np.uint8)


@njit(cache=True, nogil=True)
def _compact_fill(off, raw, size, keep, new_off, out):
    n = off.shape[0] - 1
    new_off[0] = 0
    k = 0
    for i in range(n):
        e = off[i]
        while e < off[i + 1]:
            if not keep[e]:
                e += 1
                continue
            a = e
            while e < off[i + 1] and keep[e]:
                e += 1
            _copy_records(raw, size, a, e, out, k)
            k += e - a
        new_off[i + 1] = k


def compact_records(off, raw, size: int, keep) -> tuple[np.ndarray, np.ndarray]:
    """Keep the records with ``keep[e]`` True (runs copied as byte ranges); returns
    ``(new_off, new_raw)``."""
    new_off = np.empty(off.shape[0], dtype=np.int64)
    out = _new_bytes(np.count_nonzero(keep[: off[-1]]), size)
    _compact_fill(off, raw, size, keep, new_off, out)
    return new_off, out


@njit(cache=True, nogil=True)
def _gather_fill(off, raw, size, rows, new_off, out):
    for i in range(rows.shape[0]):
        r = rows[i]
        _copy_records(raw, size, off[r], off[r + 1], out, new_off[i])


def take_records(off, raw, size: int, rows) -> tuple[np.ndarray, np.ndarray]:
    """Row ``i`` of the result is row ``rows[i]`` of the input (a gather of whole rows)."""
    new_off = np.zeros(rows.shape[0] + 1, dtype=np.int64)
    np.cumsum(off[rows + 1] - off[rows], out=new_off[1:])
    out = _new_bytes(new_off[-1], size)
    _gather_fill(off, raw, size, rows, new_off, out)
    return new_off, out


@njit(cache=True, nogil=True)
def _ranges_fill(off, raw, size, start, count, new_off, out):
    for i in range(off.shape[0] - 1):
        cut = off[i] + start[i]
        _copy_records(raw, size, off[i], cut, out, new_off[i])
        _copy_records(raw, size, cut + count[i], off[i + 1], out, new_off[i] + start[i])


def remove_record_ranges(off, raw, size: int, start, count) -> tuple[np.ndarray, np.ndarray]:
    """Remove ``count[i]`` records of row ``i`` from its position ``start[i]`` on (both within
    the row); the kept parts are copied as byte ranges."""
    new_off = np.zeros(off.shape[0], dtype=np.int64)
    np.cumsum(np.diff(off) - count, out=new_off[1:])
    out = _new_bytes(new_off[-1], size)
    _ranges_fill(off, raw, size, start, count, new_off, out)
    return new_off, out


def keep_record_prefixes(off, raw, size: int, keep_n) -> tuple[np.ndarray, np.ndarray]:
    """Keep the first ``keep_n[i]`` records of each row (clipped to its length)."""
    keep = np.minimum(np.maximum(np.asarray(keep_n, dtype=np.int64), 0), np.diff(off))
    count = np.diff(off) - keep
    keep.flags.writeable = count.flags.writeable = False  # the signature every caller uses
    return remove_record_ranges(off, raw, size, keep, count)


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
