"""Random streams that numba kernels draw from.

Every kernel that needs randomness takes a *stream*: a ``uint64`` array of length 2 holding
``[kind, state]``. The kind selects the generator, so the same maze and search kernels run on

* ``KIND_NATIVE`` - mazebench's own counter-based stream (splitmix64, Steele et al. 2014). Each
  example's stream is derived from ``(recipe seed, split name, example index)`` alone, so output
  never depends on worker count, shard size or machine;
* ``KIND_LCG`` - the 32-bit linear congruential generator of the Beyond Semantics authors'
  generator (arXiv 2505.13775): ``state = (1664525 * state + 1013904223) mod 2**32``, each draw
  advances the state and returns ``state / 2**32``; one stream per output file.

Both expose the same two draws: :func:`next_float` in ``[0, 1)`` and :func:`next_index`, which is
``floor(draw * n)`` computed in float64 (the upstream convention for "an index below n").
There is no global random state anywhere in mazebench.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
from numba import njit

KIND_NATIVE = 0
KIND_LCG = 1

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_MASK32 = np.uint64(0xFFFFFFFF)
_LCG_A = np.uint64(1664525)
_LCG_C = np.uint64(1013904223)
_TWO_M53 = 1.0 / 9007199254740992.0
_TWO_M32 = 1.0 / 4294967296.0


@njit(cache=True, inline="always")
def mix64(z: np.uint64) -> np.uint64:
    """The splitmix64 output function (a bijection on 64-bit integers)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def next_float(stream: np.ndarray) -> float:
    """Advance ``stream`` and return a float64 in [0, 1)."""
    if stream[0] == KIND_LCG:
        s = (_LCG_A * stream[1] + _LCG_C) & _MASK32
        stream[1] = s
        return float(s) * _TWO_M32
    s = stream[1] + _GOLDEN
    stream[1] = s
    return float(mix64(s) >> np.uint64(11)) * _TWO_M53


@njit(cache=True, inline="always")
def next_index(stream: np.ndarray, n: int) -> int:
    """An index below ``n``: ``floor(draw * n)`` in float64 (Beyond Semantics convention)."""
    return int(math.floor(next_float(stream) * n))


@njit(cache=True, inline="always")
def next_index_pow2(stream: np.ndarray, bits: int) -> int:
    """``next_index(stream, 2**bits)`` computed with shifts: the same value on both kinds (a
    float64 scaled by a power of two is exact), without the float round trip."""
    if stream[0] == KIND_LCG:
        s = (_LCG_A * stream[1] + _LCG_C) & _MASK32
        stream[1] = s
        return int(s >> np.uint64(32 - bits))
    s = stream[1] + _GOLDEN
    stream[1] = s
    return int(mix64(s) >> np.uint64(64 - bits))


@njit(cache=True)
def next_bits(stream: np.ndarray) -> int:
    """31 random bits as a non-negative int (used for random tie-break keys)."""
    return int(next_float(stream) * 2147483648.0)


def lcg_stream(seed: int, mode_bit: int = 0) -> np.ndarray:
    """The Beyond Semantics stream for one output file: state ``(2*seed + mode_bit) mod 2**32``."""
    state = (int(seed) * 2 + int(mode_bit)) % (1 << 32)
    return np.array([KIND_LCG, state], dtype=np.uint64)


def stream_key(seed: int, *labels: str | int) -> int:
    """A 64-bit key for a family of streams, derived from a seed and labels with blake2b."""
    text = "\x1f".join([str(int(seed))] + [str(label) for label in labels])
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


@njit(cache=True)
def stream_state(key: np.uint64, index: np.uint64) -> np.uint64:
    """Initial native state of example ``index`` in the stream family ``key`` (counter-based)."""
    return mix64(mix64(key ^ mix64(index + _GOLDEN)) + _GOLDEN)


def native_stream(seed: int, *labels: str | int, index: int = 0) -> np.ndarray:
    """The native stream of example ``index`` for ``(seed, *labels)``."""
    key = np.uint64(stream_key(seed, *labels))
    return np.array([KIND_NATIVE, stream_state(key, np.uint64(index))], dtype=np.uint64)


def as_stream(rng: np.ndarray | int | None = None, seed: int | None = None) -> np.ndarray:
    """Normalise the ``rng``/``seed`` arguments of the public API to a stream array."""
    if rng is not None and seed is not None:
        raise ValueError("pass either rng or seed, not both")
    if isinstance(rng, np.ndarray):
        if rng.dtype != np.uint64 or rng.shape != (2,):
            raise ValueError("rng must be a mazebench stream: a uint64 array [kind, state]")
        return rng
    if rng is not None:
        seed = int(rng)
    return native_stream(0 if seed is None else int(seed))
