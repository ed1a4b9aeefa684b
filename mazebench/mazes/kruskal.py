"""Randomised Kruskal over the room lattice.

Draw order of the Beyond Semantics generator (arXiv 2505.13775): one draw for the lattice offset,
then a Fisher-Yates shuffle of the edge list (each room's right edge, then its down edge) from the
last index down to 1; edges are then opened in list order when they join two components.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..grid import uf_find
from ..rng import next_float, next_index
from .lattice import room_index_grid, room_lattice


@njit(cache=True)
def carve(height, width, stream, params):
    """Kruskal maze walls (``params`` unused)."""
    walls = np.ones((height, width), dtype=np.bool_)
    offset = 0 if next_float(stream) < 0.5 else 1
    xs, ys = room_lattice(height, width, offset)
    n = xs.shape[0]
    index = room_index_grid(height, width, offset)
    ea = np.empty(2 * n, dtype=np.int64)
    eb = np.empty(2 * n, dtype=np.int64)
    m = 0
    for r in range(n):
        walls[ys[r], xs[r]] = False
        if xs[r] + 2 < width:
            ea[m] = r
            eb[m] = index[ys[r], xs[r] + 2]
            m += 1
        if ys[r] + 2 < height:
            ea[m] = r
            eb[m] = index[ys[r] + 2, xs[r]]
            m += 1
    for i in range(m - 1, 0, -1):
        j = next_index(stream, i + 1)
        t = ea[i]
        ea[i] = ea[j]
        ea[j] = t
        t = eb[i]
        eb[i] = eb[j]
        eb[j] = t
    parent = np.arange(n)
    for e in range(m):
        a = uf_find(parent, ea[e])
        b = uf_find(parent, eb[e])
        if a != b:
            parent[a] = b
            walls[(ys[ea[e]] + ys[eb[e]]) // 2, (xs[ea[e]] + xs[eb[e]]) // 2] = False
    return walls
