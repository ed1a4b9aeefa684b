"""Wilson's algorithm (loop-erased random walks) over the room lattice.

Draw order is that of the Beyond Semantics generator (arXiv 2505.13775), so the same kernel run on
the upstream LCG stream reproduces the authors' mazes exactly: one draw for the lattice offset,
one for the first maze room, then per walk a root drawn among ALL rooms (redrawn while already in
the maze) and one direction draw per step (a step off the grid is spent and ignored).

On a native stream the root is drawn once among the rooms not yet in the maze: the same uniform
choice without the redraws (about 1,000 of the 2,400 draws of a 30x30 maze).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..rng import KIND_LCG, next_float, next_index, next_index_pow2
from .lattice import room_index_grid, room_lattice

_WDX = np.array([2, -2, 0, 0], dtype=np.int64)
_WDY = np.array([0, 0, 2, -2], dtype=np.int64)


@njit(cache=True, inline="always")
def _take(free, where, room, count):
    """Remove ``room`` from ``free[:count]`` (swap with the last entry)."""
    k = where[room]
    last = free[count - 1]
    free[k] = last
    where[last] = k
    free[count - 1] = room
    where[room] = count - 1


@njit(cache=True)
def carve(height, width, stream, params):
    """Wilson maze walls (``params`` unused)."""
    walls = np.ones((height, width), dtype=np.bool_)
    offset = 0 if next_float(stream) < 0.5 else 1
    xs, ys = room_lattice(height, width, offset)
    n = xs.shape[0]
    if n == 0:
        return walls
    index = room_index_grid(height, width, offset)
    # neighbour[r, d]: the room two cells away in direction d, or -1 off the grid.
    neighbour = np.full((n, 4), -1, dtype=np.int64)
    for r in range(n):
        for d in range(4):
            nx = xs[r] + _WDX[d]
            ny = ys[r] + _WDY[d]
            if 0 <= nx < width and 0 <= ny < height:
                neighbour[r, d] = index[ny, nx]
    # mark[r]: -2 in the maze, -1 free, k >= 0 position on the current walk.
    mark = np.full(n, -1, dtype=np.int64)
    # rooms not in the maze, for the native root draw: free[:remaining], where[r] its position
    free = np.arange(n)
    where = np.arange(n)
    upstream = stream[0] == KIND_LCG
    first = next_index(stream, n)
    mark[first] = -2
    _take(free, where, first, n)
    walls[ys[first], xs[first]] = False
    remaining = n - 1
    walk = np.empty(n + 1, dtype=np.int64)
    while remaining > 0:
        if upstream:
            root = next_index(stream, n)
            while mark[root] == -2:
                root = next_index(stream, n)
        else:
            root = free[next_index(stream, remaining)]
        length = 1
        walk[0] = root
        mark[root] = 0
        cur = root
        while True:
            nxt = neighbour[cur, next_index_pow2(stream, 2)]
            if nxt < 0:
                continue
            p = mark[nxt]
            if p == -2:
                walk[length] = nxt
                length += 1
                break
            if p >= 0:
                for k in range(p + 1, length):
                    mark[walk[k]] = -1
                length = p + 1
            else:
                mark[nxt] = length
                walk[length] = nxt
                length += 1
            cur = nxt
        for k in range(length):
            r = walk[k]
            if mark[r] != -2:
                mark[r] = -2
                _take(free, where, r, remaining)
                remaining -= 1
            walls[ys[r], xs[r]] = False
            if k > 0:
                q = walk[k - 1]
                walls[(ys[r] + ys[q]) // 2, (xs[r] + xs[q]) // 2] = False
    return walls
