"""Randomised Prim over the room lattice (offset 0).

Jamis Buck, "Maze Generation: Prim's Algorithm" (2011): start from a random room, keep a frontier
of (room in the maze, neighbour room outside) edges, repeatedly take a random frontier edge and,
when its neighbour is still outside, open the neighbour and the cell between and add the
neighbour's edges. Draw order: one draw for the start room, then one ``next_index`` per frontier
edge taken (the taken edge is replaced by the last one). Neighbour edges are added in the order
up, right, down, left. The result is a spanning tree over the rooms (a perfect maze).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..rng import next_index
from .lattice import room_index_grid, room_lattice

_DX = np.array([0, 2, 0, -2], dtype=np.int64)
_DY = np.array([-2, 0, 2, 0], dtype=np.int64)


@njit(cache=True)
def _add_edges(room, xs, ys, index, in_maze, height, width, fa, fb, m):
    """Append the edges from ``room`` to its neighbours outside the maze; the new size."""
    for d in range(4):
        nx = xs[room] + _DX[d]
        ny = ys[room] + _DY[d]
        if 0 <= nx < width and 0 <= ny < height:
            other = index[ny, nx]
            if not in_maze[other]:
                fa[m] = room
                fb[m] = other
                m += 1
    return m


@njit(cache=True)
def carve(height, width, stream, params):
    """Prim maze walls (``params`` unused)."""
    walls = np.ones((height, width), dtype=np.bool_)
    xs, ys = room_lattice(height, width, 0)
    n = xs.shape[0]
    if n == 0:
        return walls
    index = room_index_grid(height, width, 0)
    in_maze = np.zeros(n, dtype=np.bool_)
    fa = np.empty(4 * n + 4, dtype=np.int64)
    fb = np.empty(4 * n + 4, dtype=np.int64)
    start = next_index(stream, n)
    in_maze[start] = True
    walls[ys[start], xs[start]] = False
    m = _add_edges(start, xs, ys, index, in_maze, height, width, fa, fb, 0)
    while m > 0:
        j = next_index(stream, m)
        a = fa[j]
        b = fb[j]
        m -= 1
        fa[j] = fa[m]
        fb[j] = fb[m]
        if in_maze[b]:
            continue
        in_maze[b] = True
        walls[ys[b], xs[b]] = False
        walls[(ys[a] + ys[b]) // 2, (xs[a] + xs[b]) // 2] = False
        m = _add_edges(b, xs, ys, index, in_maze, height, width, fa, fb, m)
    return walls
