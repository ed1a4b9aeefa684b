"""The room lattice that room-based maze families carve between.

Rooms are the cells whose x and y are both ``offset, offset + 2, ...`` below the grid size, listed
row by row (y outer, x inner), as in the Beyond Semantics generator (arXiv 2505.13775). Two rooms
two cells apart are joined by opening the cell between them.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def room_lattice(height, width, offset):
    """Room coordinates ``(xs, ys)`` (int64 arrays) listed row by row."""
    nx = (width - offset + 1) // 2 if width > offset else 0
    ny = (height - offset + 1) // 2 if height > offset else 0
    xs = np.empty(nx * ny, dtype=np.int64)
    ys = np.empty(nx * ny, dtype=np.int64)
    k = 0
    for j in range(ny):
        for i in range(nx):
            xs[k] = offset + 2 * i
            ys[k] = offset + 2 * j
            k += 1
    return xs, ys


@njit(cache=True)
def room_index_grid(height, width, offset):
    """An (H, W) int64 grid holding each room's list index, -1 elsewhere."""
    index = np.full((height, width), -1, dtype=np.int64)
    xs, ys = room_lattice(height, width, offset)
    for k in range(xs.shape[0]):
        index[ys[k], xs[k]] = k
    return index
