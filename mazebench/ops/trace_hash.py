"""``source_trace_hash``: a 128-bit identifier of a trace, from its folded value's bytes.

Folded byte planes (:mod:`mazebench.datasets.folded`) give every trace exactly one value, so the
value's bytes identify the trace. The hash reads them as little-endian 64-bit words (the last
one zero-padded) into two multiply-rotate lanes, even words into one and odd words into the
other (xxHash-style rounds, two independent chains), and finishes with splitmix64 over both
lanes and the byte length. Not cryptographic: it identifies a trace; the blake2b content hashes
of :mod:`mazebench.problem` identify problems. Reading the bytes as they are stored costs about
a fifth of decoding the five fields first (measured on 50,000 30x30 Wilson rows, one core).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numba import njit

from ..datasets.schema import fixed_width_column
from ..rng import mix64

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_P1 = np.uint64(0x9E3779B185EBCA87)
_P2 = np.uint64(0xC2B2AE3D27D4EB4F)
_P3 = np.uint64(0x165667B19E3779F9)
_P4 = np.uint64(0x27D4EB2F165667C5)


@njit(cache=True, nogil=True, inline="always")
def _rotl(v, r):
    return (v << np.uint64(r)) | (v >> np.uint64(64 - r))


@njit(cache=True, nogil=True, inline="always")
def _word(data, p, m):
    """The little-endian word of the ``m`` (1..8) bytes at ``data[p]`` (missing bytes 0)."""
    w = np.uint64(0)
    for j in range(m):
        w |= np.uint64(data[p + np.uint64(j)]) << np.uint64(8 * j)
    return w


@njit(cache=True, nogil=True)
def range_hashes(starts, ends, data, hexd, out):
    """32 hex digits per row at ``out[32 * r]`` for the values ``data[starts[r]:ends[r]]``."""
    eight = np.uint64(8)
    for r in range(starts.shape[0]):
        p = np.uint64(starts[r])
        length = np.uint64(ends[r]) - p
        words = length // eight
        la = _P1
        lb = _P2
        i = np.uint64(0)
        while i + np.uint64(1) < words:
            la = _rotl(la + _word(data, p + i * eight, 8) * _P2, 31) * _P1
            lb = _rotl(lb + _word(data, p + (i + np.uint64(1)) * eight, 8) * _P4, 27) * _P3
            i += np.uint64(2)
        if i < words:
            la = _rotl(la + _word(data, p + i * eight, 8) * _P2, 31) * _P1
            i += np.uint64(1)
        rest = length - i * eight
        if rest:
            lb = _rotl(lb + _word(data, p + i * eight, rest) * _P4, 27) * _P3
        fa = mix64(la ^ mix64(lb + length))
        fb = mix64(lb ^ mix64(la + _P3 + length))
        base = 32 * r
        for k in range(16):
            v = fa if k < 8 else fb
            byte = (v >> np.uint64(8 * (7 - (k & 7)))) & np.uint64(0xFF)
            out[base + 2 * k] = hexd[int(byte >> np.uint64(4))]
            out[base + 2 * k + 1] = hexd[int(byte & np.uint64(0xF))]


def hash_ranges(parts) -> pa.Array:
    """The hashes of folded values given as ``(starts, ends, data)`` parts (row ``r`` of a
    part is ``data[starts[r]:ends[r]]``), in order, as a string column of 32-character hex
    digests."""
    n = sum(int(starts.shape[0]) for starts, _, _ in parts)
    out = np.empty(32 * n, dtype=np.uint8)
    a = 0
    for starts, ends, data in parts:
        b = a + 32 * int(starts.shape[0])
        range_hashes(starts, ends, data, _HEX, out[a:b])
        a = b
    return fixed_width_column(out.reshape(n, 32), pa.string())


def hash_values(byte_off: np.ndarray, data: np.ndarray) -> pa.Array:
    """The hashes of folded values (row ``r``: ``data[byte_off[r]:byte_off[r + 1]]``)."""
    byte_off = np.asarray(byte_off, dtype=np.int64)
    return hash_ranges([(byte_off[:-1], byte_off[1:], data)])
