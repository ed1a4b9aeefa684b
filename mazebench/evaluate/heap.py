"""A binary min-heap of int64 keys in a caller's array (numba), for the replay's open list.

The replay (:mod:`.replay`) keeps a lazy heap of ``f * n_cells + cell`` keys: stale entries stay
in the heap and are dropped when they reach the top.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, inline="always")
def heap_push(heap, size, key):
    """Push ``key`` on the min-heap ``heap[:size]``; returns the new size."""
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if heap[p] <= key:
            break
        heap[i] = heap[p]
        i = p
    heap[i] = key
    return size + 1


@njit(cache=True, inline="always")
def heap_pop(heap, size):
    """Drop the minimum of ``heap[:size]``; returns the new size."""
    size -= 1
    if size == 0:
        return 0
    key = heap[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and heap[c + 1] < heap[c]:
            c += 1
        if heap[c] >= key:
            break
        heap[i] = heap[c]
        i = c
    heap[i] = key
    return size
