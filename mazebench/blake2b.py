"""BLAKE2b (RFC 7693) in numba, for hashing a block of equal-length messages in one call.

Problem and layout hashes (DESIGN.md "Data model") are blake2b-128 digests of about 150 bytes per
example. Through :mod:`hashlib` each one cost a handful of Python calls and objects (4.8 us per
example for both hashes, 7% of generating a 30x30 example); this kernel computes a whole block's
digests without a Python object per example. Its output is checked against :mod:`hashlib` in the
tests (unkeyed, no salt or personalisation, digest sizes 1-64).
"""

from __future__ import annotations

import sys

import numpy as np
from numba import njit

_IV = np.array([
    0x6A09E667F3BCC908, 0xBB67AE8584CAA73B, 0x3C6EF372FE94F82B, 0xA54FF53A5F1D36F1,
    0x510E527FADE682D1, 0x9B05688C2B3E6C1F, 0x1F83D9ABFB41BD6B, 0x5BE0CD19137E2179,
], dtype=np.uint64)

_SIGMA = np.array([
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
], dtype=np.intp)

if sys.byteorder != "little":  # the kernel reads message words through a uint64 view
    raise ImportError("mazebench.blake2b assumes a little-endian machine")


@njit(cache=True, inline="always")
def _rotr(x, n):
    return (x >> np.uint64(n)) | (x << np.uint64(64 - n))


@njit(cache=True, inline="always")
def _g(a, b, c, d, x, y):
    a = a + b + x
    d = _rotr(d ^ a, 32)
    c = c + d
    b = _rotr(b ^ c, 24)
    a = a + b + y
    d = _rotr(d ^ a, 16)
    c = c + d
    b = _rotr(b ^ c, 63)
    return a, b, c, d


@njit(cache=True, inline="always")
def _compress(h, m, t, last):
    """One BLAKE2b compression of the 16 words ``m`` into the state ``h`` (in place); ``t`` is
    the byte count so far (messages here are far below 2**64 bytes)."""
    v0, v1, v2, v3, v4, v5, v6, v7 = h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
    v8, v9, v10, v11 = _IV[0], _IV[1], _IV[2], _IV[3]
    v12 = _IV[4] ^ np.uint64(t)
    v13, v14, v15 = _IV[5], _IV[6], _IV[7]
    if last:
        v14 = ~v14
    for r in range(12):
        s = _SIGMA[r % 10]
        v0, v4, v8, v12 = _g(v0, v4, v8, v12, m[s[0]], m[s[1]])
        v1, v5, v9, v13 = _g(v1, v5, v9, v13, m[s[2]], m[s[3]])
        v2, v6, v10, v14 = _g(v2, v6, v10, v14, m[s[4]], m[s[5]])
        v3, v7, v11, v15 = _g(v3, v7, v11, v15, m[s[6]], m[s[7]])
        v0, v5, v10, v15 = _g(v0, v5, v10, v15, m[s[8]], m[s[9]])
        v1, v6, v11, v12 = _g(v1, v6, v11, v12, m[s[10]], m[s[11]])
        v2, v7, v8, v13 = _g(v2, v7, v8, v13, m[s[12]], m[s[13]])
        v3, v4, v9, v14 = _g(v3, v4, v9, v14, m[s[14]], m[s[15]])
    h[0] ^= v0 ^ v8
    h[1] ^= v1 ^ v9
    h[2] ^= v2 ^ v10
    h[3] ^= v3 ^ v11
    h[4] ^= v4 ^ v12
    h[5] ^= v5 ^ v13
    h[6] ^= v6 ^ v14
    h[7] ^= v7 ^ v15


@njit(cache=True)
def blake2b_rows(messages: np.ndarray, digest_size: int) -> np.ndarray:
    """The unkeyed BLAKE2b digest (``digest_size`` bytes, 1-64) of every row of the 2-D
    ``uint8`` array ``messages``, as an ``(n, digest_size)`` ``uint8`` array."""
    n, length = messages.shape
    blocks = max(1, (length + 127) // 128)
    buf = np.zeros(blocks * 128, dtype=np.uint8)
    words = buf.view(np.uint64)
    h = np.empty(8, dtype=np.uint64)
    state = np.empty(8, dtype=np.uint64)
    out = np.empty((n, digest_size), dtype=np.uint8)
    out_words = state.view(np.uint8)
    for i in range(n):
        buf[:length] = messages[i]
        h[:] = _IV
        h[0] ^= np.uint64(0x01010000) ^ np.uint64(digest_size)
        for b in range(blocks):
            last = b == blocks - 1
            t = length if last else (b + 1) * 128
            _compress(h, words[b * 16 : b * 16 + 16], t, last)
        state[:] = h
        out[i] = out_words[:digest_size]
    return out


@njit(cache=True)
def hex_rows(digests: np.ndarray) -> np.ndarray:
    """Lower-case hex of each row of a 2-D ``uint8`` array: ``(n, 2 * width)`` ASCII bytes."""
    n, width = digests.shape
    out = np.empty((n, 2 * width), dtype=np.uint8)
    for i in range(n):
        for j in range(width):
            v = digests[i, j]
            hi, lo = v >> 4, v & 15
            out[i, 2 * j] = hi + (48 if hi < 10 else 87)
            out[i, 2 * j + 1] = lo + (48 if lo < 10 else 87)
    return out
