"""Drunkard's walk: a random walker opens cells until a coverage is reached.

Beyond Semantics draw order (arXiv 2505.13775): x, y of the walker, then one move index per step
among the in-grid moves listed (-1,0), (+1,0), (0,-1), (0,+1).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..rng import next_index


@njit(cache=True)
def carve(height, width, stream, params):
    """Drunkard's-walk walls; ``params[0]`` = coverage."""
    cells = height * width
    walls = np.ones((height, width), dtype=np.bool_)
    target = max(2, min(cells, int(math.floor(cells * params[0]))))
    target = min(target, cells)
    x = next_index(stream, width)
    y = next_index(stream, height)
    walls[y, x] = False
    opened = 1
    mx = np.empty(4, dtype=np.int64)
    my = np.empty(4, dtype=np.int64)
    while opened < target:
        k = 0
        if x > 0:
            mx[k] = -1
            my[k] = 0
            k += 1
        if x < width - 1:
            mx[k] = 1
            my[k] = 0
            k += 1
        if y > 0:
            mx[k] = 0
            my[k] = -1
            k += 1
        if y < height - 1:
            mx[k] = 0
            my[k] = 1
            k += 1
        if k == 0:
            break
        c = next_index(stream, k)
        x += mx[c]
        y += my[c]
        if walls[y, x]:
            walls[y, x] = False
            opened += 1
    return walls
