"""64-bit digests of traces and plans, to compare a model's events with the ground truth's.

splitmix64 (:func:`mazebench.rng.mix64`) chained over the event count and, per event, the op and
the full 32-bit x, y, g and h (plans: the cell count, then x and y per cell); two traces have the
same digest iff they are equal, up to a 2**-64 chance. The ``feed_*`` helpers let other kernels
(the parser's gather pass) compute the same digests while they copy events.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..rng import mix64

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MASK32 = np.uint64(0xFFFFFFFF)


@njit(cache=True, inline="always")
def feed(d, v):
    """One step of the chain: digest ``d`` absorbs the 64-bit word ``v``."""
    return mix64((d ^ v) + GOLDEN)


@njit(cache=True, inline="always")
def pair_word(a, b):
    """The 64-bit word of two values, each as its low 32 bits (two's complement)."""
    return (np.uint64(np.int64(a)) & _MASK32) | ((np.uint64(np.int64(b)) & _MASK32)
                                                 << np.uint64(32))


@njit(cache=True, inline="always")
def feed_event(d, op, x, y, g, h):
    """``d`` after absorbing one event."""
    d = feed(d, np.uint64(np.int64(op) & 0xFF))
    d = feed(d, pair_word(x, y))
    return feed(d, pair_word(g, h))


@njit(cache=True, inline="always")
def start(count):
    """The digest of an empty sequence of ``count`` items (the chain's first step)."""
    return feed(GOLDEN, np.uint64(count))


@njit(cache=True, parallel=True)
def event_digests(op, x, y, g, h, offsets):
    """One uint64 digest per trace of the concatenated events (``offsets``: n + 1)."""
    n = offsets.shape[0] - 1
    out = np.empty(n, dtype=np.uint64)
    for i in prange(n):
        a, b = offsets[i], offsets[i + 1]
        d = start(b - a)
        for e in range(a, b):
            d = feed_event(d, op[e], x[e], y[e], g[e], h[e])
        out[i] = d
    return out


@njit(cache=True)
def plan_digests(px, py, offsets):
    """One uint64 digest per plan of the concatenated cells (``offsets``: n + 1)."""
    n = offsets.shape[0] - 1
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        a, b = offsets[i], offsets[i + 1]
        d = start(b - a)
        for e in range(a, b):
            d = feed(d, pair_word(px[e], py[e]))
        out[i] = d
    return out
