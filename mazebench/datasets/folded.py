"""Folded byte planes: the on-disk value of a packed per-event column, and row operations on it.

A row's ``n`` records of ``s`` bytes are first split into ``s`` byte planes (:mod:`.planes`:
byte ``k`` of every record, then byte ``k + 1`` ...). A plane whose ``n`` bytes are all equal
(the high bytes of ``x``, ``y``, ``g``, ``h`` on small grids; on 30x30 Wilson traces 7.1 of the
13 trace planes per row) is *folded* to that one byte. The value is::

    uint32 n (little-endian) | uint16 mask: bit k set = plane k stored in full
    | one byte per folded plane, in plane order | the stored planes, in plane order, n bytes each

and a row without records is the empty value. A plane is stored exactly when ``n >= 2`` and its
bytes are not all equal, so every trace has one value (hashes of values identify traces).

Why: without a codec, bytes written, hashed and read are what a Parquet shard costs. Folding
makes a 30x30 Wilson trace 1.5 kB instead of 3.9 kB per row (``benchmarks/results/ops.md``,
sixth session), and an operator that keeps, drops or moves whole events (``swap``,
``cut-tail``, ``dualformer``) works on these values directly, plane by plane
(:func:`take_rows`, :func:`keep_prefixes`, :func:`keep_selected`), without rebuilding records.

All kernels take ``byte_off`` (int64, ``rows + 1``) and ``data`` (uint8): row ``r`` is
``data[byte_off[r]:byte_off[r + 1]]``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

HEADER = 6
MAX_PLANES = 16
# A row's record count is read from its header, and a value whose planes are all folded is 19
# bytes whatever the count claims; decoding allocates count x record size. Counts above this
# (268M records, far more than a search on a 1000x1000 grid logs) are refused as malformed
# rather than attempted.
MAX_RECORDS = 1 << 28


@njit(cache=True, nogil=True, inline="always")
def _header(data, p):
    n = (np.int64(data[p]) | (np.int64(data[p + 1]) << 8) | (np.int64(data[p + 2]) << 16)
         | (np.int64(data[p + 3]) << 24))
    mask = np.int64(data[p + 4]) | (np.int64(data[p + 5]) << 8)
    return n, mask


@njit(cache=True, nogil=True, inline="always")
def _write_header(out, q, n, mask):
    for j in range(4):
        out[q + j] = np.uint8((n >> (8 * j)) & 255)
    out[q + 4] = np.uint8(mask & 255)
    out[q + 5] = np.uint8((mask >> 8) & 255)


@njit(cache=True, nogil=True, inline="always")
def _copy(src, a, out, o, m):
    """``out[o : o + m] = src[a : a + m]`` over unsigned indices: numba then drops its
    negative-index test and LLVM vectorises the loop (a slice assignment measured 7x slower
    for 3 kB runs, :mod:`mazebench.ops.events`)."""
    s = np.uint64(a)
    d = np.uint64(o)
    for t in range(np.uint64(m)):
        out[d + t] = src[s + t]


@njit(cache=True, nogil=True, inline="always")
def _fill(out, o, m, value):
    d = np.uint64(o)
    for t in range(np.uint64(m)):
        out[d + t] = value


@njit(cache=True, nogil=True)
def range_counts(starts, ends, data, size, counts):
    """Fill ``counts`` with the record count of each value ``data[starts[r]:ends[r]]``
    (contiguous rows: ``byte_off[:-1]``, ``byte_off[1:]``; values read where a Parquet page
    holds them, :mod:`.parquet_pages`); returns the first malformed row (its length disagrees
    with its header, the mask names a plane past ``size``, or the count exceeds
    :data:`MAX_RECORDS`), else -1."""
    for r in range(starts.shape[0]):
        p = starts[r]
        length = ends[r] - p
        if length == 0:
            counts[r] = 0
            continue
        if length < HEADER:
            return r
        n, mask = _header(data, p)
        if mask >> size or n > MAX_RECORDS:
            return r
        stored = 0
        for k in range(size):
            stored += (mask >> k) & 1
        if length != HEADER + (size - stored) + stored * n:
            return r
        counts[r] = n
    return -1


@njit(cache=True, nogil=True)
def _fold_row(src, p, n, size, out, q):
    """Fold the full planes ``src[p : p + size * n]`` of one row into ``out`` at ``q``;
    returns the position after the value."""
    if n == 0:
        return q
    mask = 0
    if n >= 2:
        for k in range(size):
            a = p + k * n
            c = src[a]
            for i in range(1, n):
                if src[a + i] != c:
                    mask |= 1 << k
                    break
    _write_header(out, q, n, mask)
    c = q + HEADER
    for k in range(size):
        if not (mask >> k) & 1:
            out[c] = src[p + k * n]
            c += 1
    for k in range(size):
        if (mask >> k) & 1:
            a = p + k * n
            _copy(src, a, out, c, n)
            c += n
    return c


@njit(cache=True, nogil=True)
def fold(byte_off, planes, size, out_off, out):
    """Fold rows of full planes (row ``r``: ``planes[byte_off[r]:byte_off[r + 1]]``) into
    ``out`` (at least ``byte_off[-1] - byte_off[0] + rows * (HEADER + size)`` bytes); fills
    ``out_off`` and returns the bytes written."""
    q = 0
    out_off[0] = 0
    for r in range(byte_off.shape[0] - 1):
        n = (byte_off[r + 1] - byte_off[r]) // size
        q = _fold_row(planes, byte_off[r], n, size, out, q)
        out_off[r + 1] = q
    return q


@njit(cache=True, nogil=True)
def unfold(byte_off, data, size, planes):
    """The inverse of :func:`fold`: full planes of every row, back to back, into ``planes``."""
    e = 0
    for r in range(byte_off.shape[0] - 1):
        p = byte_off[r]
        if byte_off[r + 1] == p:
            continue
        n, mask = _header(data, p)
        c = p + HEADER
        for k in range(size):
            if not (mask >> k) & 1:
                _fill(planes, e + k * n, n, data[c])
                c += 1
        for k in range(size):
            if (mask >> k) & 1:
                _copy(data, c, planes, e + k * n, n)
                c += n
        e += size * n


@njit(cache=True, nogil=True, inline="always")
def row_field(data, p, size, position, width, out, e):
    """Read one field (``width`` bytes at byte ``position`` of each record) of the value at
    ``data[p]`` into ``out[e:]``, plane by plane (contiguous inner loops over unsigned indices,
    which numba vectorises); returns the row's record count. ``p`` must start a non-empty
    value."""
    n, mask = _header(data, p)
    m = np.uint64(n)
    e = np.uint64(e)
    folded = 0  # folded planes before the field's first
    for k in range(position):
        folded += 1 - ((mask >> k) & 1)
    c_fold = p + HEADER + folded
    c_store = np.uint64(p + HEADER + (size - _popcount(mask, size)) + (position - folded) * n)
    for j in range(width):
        k = position + j
        if (mask >> k) & 1:
            if j == 0:
                for i in range(m):
                    out[e + i] = data[c_store + i]
            else:
                shift = np.uint64(8 * j)
                for i in range(m):
                    out[e + i] |= np.uint64(data[c_store + i]) << shift
            c_store += m
        else:
            v = np.uint64(data[c_fold]) << np.uint64(8 * j)
            if j == 0:
                for i in range(m):
                    out[e + i] = v
            elif v:
                for i in range(m):
                    out[e + i] |= v
            c_fold += 1
    return n


@njit(cache=True, nogil=True)
def to_field(byte_off, data, size, position, width, out):
    """Read one field of every row into the contiguous array ``out`` (see :func:`row_field`)."""
    e = 0
    for r in range(byte_off.shape[0] - 1):
        if byte_off[r + 1] > byte_off[r]:
            e += row_field(data, byte_off[r], size, position, width, out, e)


@njit(cache=True, nogil=True)
def longest_row(byte_off, data):
    """The largest record count of the rows (0 for none)."""
    longest = 0
    for r in range(byte_off.shape[0] - 1):
        if byte_off[r + 1] > byte_off[r]:
            longest = max(longest, _header(data, byte_off[r])[0])
    return longest


@njit(cache=True, nogil=True, inline="always")
def _popcount(mask, size):
    s = 0
    for k in range(size):
        s += (mask >> k) & 1
    return s


# -- row operations on folded values ---------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def _append_value(byte_off, data, r, out, q):
    """Copy row ``r``'s value to ``out[q]``; returns the position after it."""
    a = byte_off[r]
    m = byte_off[r + 1] - a
    _copy(data, a, out, q, m)
    return q + m


@njit(cache=True, nogil=True)
def take_rows(byte_off, data, rows, out_off, out):
    """Values of rows ``rows`` in that order (a byte copy per row); returns bytes written."""
    out_off[0] = 0
    for i in range(rows.shape[0]):
        out_off[i + 1] = _append_value(byte_off, data, rows[i], out, out_off[i])
    return out_off[rows.shape[0]]


@njit(cache=True, nogil=True)
def place_rows(starts, ends, data, rows, dest, out):
    """Copy the value of row ``rows[i]`` (``data[starts[r]:ends[r]]``) to ``out`` at
    ``dest[i]``, for every ``i`` (the destinations come from the caller's offsets): a gather
    from values held in several parts (a split read shard by shard, values left where the
    Parquet pages hold them) runs once per part into one output."""
    for i in range(rows.shape[0]):
        r = rows[i]
        _copy(data, starts[r], out, dest[i], ends[r] - starts[r])


@njit(cache=True, nogil=True, inline="always")
def _emit(data, size, n, mask, consts, starts, idx, count, out, q):
    """Write the value of ``count`` records taken from an input row (folded planes
    ``consts``, stored planes at ``starts``; record ``j`` of the output is input record
    ``idx[j]``, or ``j`` when ``idx`` is empty) at ``out[q]``; returns the end position."""
    if count == 0:
        return q
    new_mask = 0
    for k in range(size):
        if (mask >> k) & 1:
            a = starts[k]
            first = data[a + (idx[0] if idx.shape[0] else 0)]
            if count >= 2:
                if idx.shape[0]:
                    for j in range(1, count):
                        if data[a + idx[j]] != first:
                            new_mask |= 1 << k
                            break
                else:
                    for j in range(1, count):
                        if data[a + j] != first:
                            new_mask |= 1 << k
                            break
            if not (new_mask >> k) & 1:
                consts[k] = first
    _write_header(out, q, count, new_mask)
    c = q + HEADER
    for k in range(size):
        if not (new_mask >> k) & 1:
            out[c] = consts[k]
            c += 1
    for k in range(size):
        if (new_mask >> k) & 1:
            a = starts[k]
            if idx.shape[0]:
                for j in range(count):
                    out[c + j] = data[a + idx[j]]
            else:
                _copy(data, a, out, c, count)
            c += count
    return c


@njit(cache=True, nogil=True, inline="always")
def _parse(data, p, size, consts, starts):
    n, mask = _header(data, p)
    c = p + HEADER
    for k in range(size):
        if not (mask >> k) & 1:
            consts[k] = data[c]
            c += 1
    for k in range(size):
        if (mask >> k) & 1:
            starts[k] = c
            c += n
    return n, mask


@njit(cache=True, nogil=True)
def keep_prefixes(byte_off, data, size, keep, out_off, out):
    """Row ``r`` keeps its first ``keep[r]`` records (clipped to ``0 .. n``); ``out`` needs
    ``byte_off[-1] - byte_off[0]`` bytes (a value never grows). Returns bytes written."""
    consts = np.zeros(MAX_PLANES, np.uint8)
    starts = np.zeros(MAX_PLANES, np.int64)
    no_idx = np.empty(0, np.int64)
    q = 0
    out_off[0] = 0
    for r in range(byte_off.shape[0] - 1):
        p = byte_off[r]
        if byte_off[r + 1] > p:
            n, mask = _parse(data, p, size, consts, starts)
            q = _emit(data, size, n, mask, consts, starts, no_idx, min(max(keep[r], 0), n),
                      out, q)
        out_off[r + 1] = q
    return q


@njit(cache=True, nogil=True)
def keep_selected(byte_off, data, size, ev_off, keep, out_off, out, new_ev_off):
    """Row ``r`` keeps its records ``i`` with ``keep[ev_off[r] + i]`` True; ``out`` needs
    ``byte_off[-1] - byte_off[0]`` bytes. Fills ``new_ev_off`` (the kept records' row offsets)
    and returns bytes written."""
    consts = np.zeros(MAX_PLANES, np.uint8)
    starts = np.zeros(MAX_PLANES, np.int64)
    longest = 0
    for r in range(ev_off.shape[0] - 1):
        longest = max(longest, ev_off[r + 1] - ev_off[r])
    idx = np.empty(max(longest, 1), np.int64)
    q = 0
    out_off[0] = 0
    new_ev_off[0] = 0
    for r in range(byte_off.shape[0] - 1):
        p = byte_off[r]
        count = 0
        if byte_off[r + 1] > p:
            n, mask = _parse(data, p, size, consts, starts)
            e = ev_off[r]
            for i in range(n):
                if keep[e + i]:
                    idx[count] = i
                    count += 1
            if count == n:  # nothing dropped: the value is unchanged
                _copy(data, p, out, q, byte_off[r + 1] - p)
                q += byte_off[r + 1] - p
            else:
                q = _emit(data, size, n, mask, consts, starts, idx[:count], count, out, q)
        out_off[r + 1] = q
        new_ev_off[r + 1] = new_ev_off[r] + count
    return q
