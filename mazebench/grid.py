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
def label_components(walls, labels, queue):
    """Label the 4-connected floor components: ``labels`` (flat, ``H*W`` int32) gets a component
    id >= 0 per floor cell and -1 per wall; ``queue`` is ``H*W`` int64 scratch. Returns the
    number of components.

    This and :func:`bfs_distance` spell out the same neighbour loop on purpose: an inline helper
    shared by both made Searchformer generation, which runs them per try, 25% slower (63-68 ->
    80-91 us per 30x30 example, measured)."""
    height, width = walls.shape
    labels[:] = -1
    count = 0
    for start in range(height * width):
        if labels[start] >= 0 or walls[start // width, start % width]:
            continue
        labels[start] = count
        queue[0] = start
        head, tail = 0, 1
        while head < tail:
            c = queue[head]
            head += 1
            x = c % width
            y = c // width
            for d in range(4):
                nx = x + _DX[d]
                ny = y + _DY[d]
                if 0 <= nx < width and 0 <= ny < height and not walls[ny, nx]:
                    n = ny * width + nx
                    if labels[n] < 0:
                        labels[n] = count
                        queue[tail] = n
                        tail += 1
        count += 1
    return count


@njit(cache=True)
def bfs_distance(walls, start, goal, dist, queue):
    """Moves from flat cell ``start`` to ``goal`` (-1 if unreachable), stopping when the goal
    is reached. ``dist`` (flat ``H*W`` int32, all -1 on entry) is left all -1 again; ``queue``
    is ``H*W`` int64 scratch."""
    height, width = walls.shape
    if walls[start // width, start % width] or walls[goal // width, goal % width]:
        return -1
    dist[start] = 0
    queue[0] = start
    head, tail = 0, 1
    found = 0 if start == goal else -1
    while head < tail and found < 0:
        c = queue[head]
        head += 1
        x = c % width
        y = c // width
        for d in range(4):
            nx = x + _DX[d]
            ny = y + _DY[d]
            if 0 <= nx < width and 0 <= ny < height and not walls[ny, nx]:
                n = ny * width + nx
                if dist[n] < 0:
                    dist[n] = dist[c] + 1
                    if n == goal:
                        found = dist[n]
                        break
                    queue[tail] = n
                    tail += 1
    for k in range(tail):
        dist[queue[k]] = -1
    dist[goal] = -1
    return found


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
    """``(dead_ends, decision_points)``: floor cells with 1, and with 3+, floor neighbours.

    Branch-free over the cells (the degree is a sum of booleans): this runs once per generated
    example.
    """
    height, width = walls.shape
    dead = 0
    decision = 0
    for y in range(height):
        for x in range(width):
            k = 0
            if x > 0:
                k += 1 - walls[y, x - 1]
            if x + 1 < width:
                k += 1 - walls[y, x + 1]
            if y > 0:
                k += 1 - walls[y - 1, x]
            if y + 1 < height:
                k += 1 - walls[y + 1, x]
            floor = 1 - walls[y, x]
            dead += floor * (k == 1)
            decision += floor * (k >= 3)
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
