"""Acceptance of candidate examples: duplicate and leakage filters, difficulty bins.

Candidates of a split are decided strictly in index order by :func:`decide`, a numba kernel, so
which candidates become rows is a pure function of the candidate stream - never of worker count,
engine or shard size. A candidate is rejected when

* its problem already is a row of the split (``duplicate``),
* its wall layout is in an earlier split (``leak``),
* its difficulty metric falls outside every bin, or in a bin that is already full (``bin``).

Seen problems and layouts are kept as 64-bit keys (the first 8 bytes of their blake2b hashes, see
:mod:`mazebench.problem`) in open-addressing hash tables, so memory is 16-32 bytes per row
whatever the dataset size, and a block of candidates is decided in one compiled call. Two
different problems sharing 64 key bits (probability about n^2 / 2^65: 3e-8 for a million rows)
would make the second a false duplicate: deterministic, and never a leak. (Key 0 is stored as
the golden-ratio constant, one more 2^-64 coincidence.)
"""

from __future__ import annotations

import numpy as np
from numba import njit

_EMPTY = np.uint64(0)
_ZERO_KEY = np.uint64(0x9E3779B97F4A7C15)  # key 0 marks empty slots, so it is stored as this


def hex_keys(hexes) -> np.ndarray:
    """64-bit keys (little-endian first 8 bytes) of hex digests, as a uint64 array."""
    hexes = list(hexes)
    if not hexes:
        return np.empty(0, dtype=np.uint64)
    raw = bytes.fromhex("".join(h[:16] for h in hexes))
    return np.frombuffer(raw, dtype="<u8").astype(np.uint64)


@njit(cache=True, inline="always")
def _slot(table, key):
    """Position of ``key`` in ``table`` or of the empty slot where it would go."""
    mask = np.uint64(table.shape[0] - 1)
    k = key if key != _EMPTY else _ZERO_KEY
    i = (k * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(17)
    i &= mask
    while table[i] != _EMPTY and table[i] != k:
        i = (i + np.uint64(1)) & mask
    return i, k


@njit(cache=True)
def _insert_all(table, keys):
    added = 0
    for j in range(keys.shape[0]):
        i, k = _slot(table, keys[j])
        if table[i] == _EMPTY:
            table[i] = k
            added += 1
    return added


@njit(cache=True)
def _contains_all(table, keys, out):
    for j in range(keys.shape[0]):
        i, k = _slot(table, keys[j])
        out[j] = table[i] == k


class KeySet:
    """A growable set of uint64 keys (open addressing, load factor at most 1/2)."""

    def __init__(self, capacity: int = 1024) -> None:
        size = 1024
        while size < 2 * capacity:
            size *= 2
        self.table = np.zeros(size, dtype=np.uint64)
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def reserve(self, extra: int) -> None:
        """Make room for ``extra`` more keys without exceeding the load factor."""
        need = self.size + extra
        if 2 * need <= self.table.shape[0]:
            return
        size = self.table.shape[0]
        while size < 2 * need:
            size *= 2
        old = self.table[self.table != _EMPTY]
        self.table = np.zeros(size, dtype=np.uint64)
        self.size = _insert_all(self.table, old)

    def add(self, keys: np.ndarray) -> None:
        keys = np.ascontiguousarray(keys, dtype=np.uint64)
        self.reserve(len(keys))
        self.size += _insert_all(self.table, keys)

    def contains(self, keys: np.ndarray) -> np.ndarray:
        keys = np.ascontiguousarray(keys, dtype=np.uint64)
        out = np.empty(len(keys), dtype=np.bool_)
        _contains_all(self.table, keys, out)
        return out

    def update(self, other: KeySet) -> None:
        self.add(other.table[other.table != _EMPTY])

    @property
    def nbytes(self) -> int:
        return int(self.table.nbytes)


@njit(cache=True)
def _decide(pkeys, lkeys, metric, start, need, problems, layouts, earlier, edges, quota, have,
            accepted, stats):
    """Decide candidates ``start ..`` of a block until ``need`` are accepted or the block ends.

    Writes accepted positions to ``accepted``; ``stats`` gets [duplicate, leak, bin] rejections
    and the numbers of problem/layout keys added. Returns ``(n_accepted, end_position)``.
    """
    n_acc = 0
    pos = start
    n = pkeys.shape[0]
    nbins = quota.shape[0]
    while pos < n and n_acc < need:
        i, pk = _slot(problems, pkeys[pos])
        if problems[i] == pk:
            stats[0] += 1
            pos += 1
            continue
        j, lk = _slot(earlier, lkeys[pos])
        if earlier[j] == lk:
            stats[1] += 1
            pos += 1
            continue
        if nbins > 0:
            v = metric[pos]
            b = -1
            for q in range(nbins):
                if edges[q] <= v < edges[q + 1]:
                    b = q
                    break
            if b < 0 or have[b] >= quota[b]:
                stats[2] += 1
                pos += 1
                continue
            have[b] += 1
        problems[i] = pk
        stats[3] += 1
        m, lk2 = _slot(layouts, lkeys[pos])
        if layouts[m] != lk2:
            layouts[m] = lk2
            stats[4] += 1
        accepted[n_acc] = pos
        n_acc += 1
        pos += 1
    return n_acc, pos


class Decider:
    """The acceptance state of one split: seen problems and layouts, bin counts, rejections."""

    def __init__(self, earlier_layouts: KeySet, edges=None, quota=None) -> None:
        self.problems = KeySet()
        self.layouts = KeySet()
        self.earlier = earlier_layouts
        self.edges = np.asarray(edges if edges is not None else [], dtype=np.int64)
        self.quota = np.asarray(quota if quota is not None else [], dtype=np.int64)
        self.have = np.zeros(len(self.quota), dtype=np.int64)
        self.rejected = np.zeros(3, dtype=np.int64)  # duplicate, leak, bin

    def seed_rows(self, pkeys: np.ndarray, lkeys: np.ndarray, metric: np.ndarray) -> None:
        """Register rows already written (resume)."""
        self.problems.add(pkeys)
        self.layouts.add(lkeys)
        if len(self.quota):
            for v in np.asarray(metric, dtype=np.int64).tolist():
                b = int(np.searchsorted(self.edges, v, side="right")) - 1
                if 0 <= b < len(self.quota):
                    self.have[b] += 1

    def decide(
        self, pkeys: np.ndarray, lkeys: np.ndarray, metric: np.ndarray, start: int, need: int
    ) -> tuple[np.ndarray, int]:
        """Accepted positions among ``start ..`` (at most ``need``) and where deciding stopped."""
        n = len(pkeys) - start
        self.problems.reserve(min(n, need))
        self.layouts.reserve(min(n, need))
        accepted = np.empty(max(0, min(n, need)), dtype=np.int64)
        stats = np.zeros(5, dtype=np.int64)
        n_acc, end = _decide(
            np.ascontiguousarray(pkeys, dtype=np.uint64),
            np.ascontiguousarray(lkeys, dtype=np.uint64),
            np.ascontiguousarray(metric, dtype=np.int64),
            int(start), int(need), self.problems.table, self.layouts.table, self.earlier.table,
            self.edges, self.quota, self.have, accepted, stats,
        )
        self.rejected += stats[:3]
        self.problems.size += int(stats[3])
        self.layouts.size += int(stats[4])
        return accepted[:n_acc], int(end)
