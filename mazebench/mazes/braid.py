"""Braiding: add loops to any maze by opening wall cells.

Jamis Buck, "Maze Generation: Braiding" / *Mazes for Programmers* (2015), ch. 9 ("culling dead
ends"). Two modes:

* ``mode 0`` (dead ends): the dead ends (floor cells with exactly one floor 4-neighbour), found
  row by row, are shuffled (Fisher-Yates, last index down to 1); each one still a dead end when
  visited is braided with probability ``fraction`` (one ``next_float``): among its wall
  neighbours whose opposite cell is floor one is opened (``next_index``); failing those, among
  its wall neighbours touching any other floor cell.
* ``mode 1`` (walls): wall cells are visited row by row; a wall whose two opposite neighbours on
  one axis are floor and on the other axis are walls (off-grid counts as wall), judged on the
  current grid, is opened with probability ``fraction`` (one ``next_float`` per such wall).

:func:`loop_count` measures the result: the cycle rank of the floor-cell grid graph.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..grid import floor_degree, uf_find
from ..rng import next_float, next_index

_DX = np.array([0, 1, 0, -1], dtype=np.int64)
_DY = np.array([-1, 0, 1, 0], dtype=np.int64)


@njit(cache=True)
def _floor(walls, x, y):
    """True if (x, y) is on the grid and floor."""
    return 0 <= y < walls.shape[0] and 0 <= x < walls.shape[1] and not walls[y, x]


@njit(cache=True)
def _braid_dead_ends(walls, stream, fraction):
    height, width = walls.shape
    cx = np.empty(height * width, dtype=np.int64)
    cy = np.empty(height * width, dtype=np.int64)
    n = 0
    for y in range(height):
        for x in range(width):
            if not walls[y, x] and floor_degree(walls, x, y) == 1:
                cx[n] = x
                cy[n] = y
                n += 1
    for i in range(n - 1, 0, -1):
        j = next_index(stream, i + 1)
        t = cx[i]
        cx[i] = cx[j]
        cx[j] = t
        t = cy[i]
        cy[i] = cy[j]
        cy[j] = t
    best = np.empty(4, dtype=np.int64)
    other = np.empty(4, dtype=np.int64)
    opened = 0
    for i in range(n):
        x = cx[i]
        y = cy[i]
        if floor_degree(walls, x, y) != 1:
            continue
        if not next_float(stream) < fraction:
            continue
        nb = 0
        no = 0
        for d in range(4):
            wx = x + _DX[d]
            wy = y + _DY[d]
            if not (0 <= wy < height and 0 <= wx < width) or not walls[wy, wx]:
                continue
            if _floor(walls, wx + _DX[d], wy + _DY[d]):
                best[nb] = d
                nb += 1
            elif floor_degree(walls, wx, wy) > 1:
                other[no] = d
                no += 1
        if nb > 0:
            d = best[next_index(stream, nb)]
        elif no > 0:
            d = other[next_index(stream, no)]
        else:
            continue
        walls[y + _DY[d], x + _DX[d]] = False
        opened += 1
    return opened


@njit(cache=True)
def _braid_walls(walls, stream, fraction):
    height, width = walls.shape
    opened = 0
    for y in range(height):
        for x in range(width):
            if not walls[y, x]:
                continue
            left = _floor(walls, x - 1, y)
            right = _floor(walls, x + 1, y)
            up = _floor(walls, x, y - 1)
            down = _floor(walls, x, y + 1)
            across = left and right and not up and not down
            along = up and down and not left and not right
            if (across or along) and next_float(stream) < fraction:
                walls[y, x] = False
                opened += 1
    return opened


@njit(cache=True)
def braid(walls, stream, fraction, mode):
    """Open wall cells of ``walls`` in place to add loops; the number of cells opened.

    ``mode`` 0 braids dead ends, 1 opens removable walls; ``fraction`` is the probability per
    dead end / removable wall.
    """
    if mode == 0:
        return _braid_dead_ends(walls, stream, fraction)
    return _braid_walls(walls, stream, fraction)


@njit(cache=True)
def _cycle_rank(walls):
    height, width = walls.shape
    parent = np.arange(height * width)
    nodes = 0
    edges = 0
    components = 0
    for y in range(height):
        for x in range(width):
            if walls[y, x]:
                continue
            nodes += 1
            components += 1
            a = y * width + x
            if x > 0 and not walls[y, x - 1]:
                edges += 1
                ra = uf_find(parent, a)
                rb = uf_find(parent, a - 1)
                if ra != rb:
                    parent[ra] = rb
                    components -= 1
            if y > 0 and not walls[y - 1, x]:
                edges += 1
                ra = uf_find(parent, a)
                rb = uf_find(parent, a - width)
                if ra != rb:
                    parent[ra] = rb
                    components -= 1
    return edges - nodes + components


def loop_count(walls: np.ndarray) -> int:
    """Cycle rank (edges - nodes + components) of the floor cells' 4-connectivity graph."""
    return int(_cycle_rank(np.ascontiguousarray(walls, dtype=np.bool_)))
