"""Small numba kernels over a wall grid: BFS distances, floor lists, dead ends, decision points."""

from __future__ import annotations

import numpy as np
from numba import njit

_DX = np.array([0, 1, 0, -1], dtype=np.int64)
_DY = np.array([-1, 0, 1, 0], dtype=np.int64)


@njit(cache=True)
def bfs_distances(walls, sx, sy):
    """Shortest-path distance (in moves) from ``(sx, sy)`` to every cell; -1 if unreachable."""
    height, width = walls.shape
    dist = np.full((height, width), -1, dtype=np.int32)
    if walls[sy, sx]:
        return dist
    qx = np.empty(height * width, dtype=np.int64)
    qy = np.empty(height * width, dtype=np.int64)
    qx[0] = sx
    qy[0] = sy
    dist[sy, sx] = 0
    head = 0
    tail = 1
    while head < tail:
        x = qx[head]
        y = qy[head]
        head += 1
        for d in range(4):
            nx = x + _DX[d]
            ny = y + _DY[d]
            if 0 <= nx < width and 0 <= ny < height and not walls[ny, nx] and dist[ny, nx] < 0:
                dist[ny, nx] = dist[y, x] + 1
                qx[tail] = nx
                qy[tail] = ny
                tail += 1
    return dist


@njit(cache=True)
def shortest_path_length(walls, sx, sy, gx, gy):
    """Plan length in cells (start and goal included) of a shortest path; 0 if none."""
    d = bfs_distances(walls, sx, sy)[gy, gx]
    return d + 1 if d >= 0 else 0


@njit(cache=True)
def floor_cells(walls):
    """Floor cells as two int64 arrays ``(xs, ys)`` listed row by row."""
    height, width = walls.shape
    n = 0
    for y in range(height):
        for x in range(width):
            if not walls[y, x]:
                n += 1
    xs = np.empty(n, dtype=np.int64)
    ys = np.empty(n, dtype=np.int64)
    k = 0
    for y in range(height):
        for x in range(width):
            if not walls[y, x]:
                xs[k] = x
                ys[k] = y
                k += 1
    return xs, ys


@njit(cache=True)
def floor_index_list(walls, out):
    """Write the row-major indices of floor cells to ``out``; return how many (branch-free)."""
    flat = walls.ravel()
    k = 0
    for c in range(flat.shape[0]):
        out[k] = c
        k += 1 - flat[c]
    return k


@njit(cache=True)
def floor_degree(walls, x, y):
    """Number of floor 4-neighbours of ``(x, y)``."""
    height, width = walls.shape
    k = 0
    for d in range(4):
        nx = x + _DX[d]
        ny = y + _DY[d]
        if 0 <= nx < width and 0 <= ny < height and not walls[ny, nx]:
            k += 1
    return k


@njit(cache=True)
def count_degrees(walls):
    """``(dead_ends, decision_points)``: floor cells with 1, and with 3+, floor neighbours."""
    height, width = walls.shape
    dead = 0
    decision = 0
    for y in range(height):
        for x in range(width):
            if not walls[y, x]:
                k = floor_degree(walls, x, y)
                if k == 1:
                    dead += 1
                elif k >= 3:
                    decision += 1
    return dead, decision


@njit(cache=True)
def uf_find(parent, a):
    """Union-find root of ``a`` with path compression (``parent`` is modified)."""
    root = a
    while parent[root] != root:
        root = parent[root]
    while parent[a] != root:
        nxt = parent[a]
        parent[a] = root
        a = nxt
    return root
