"""Recursive backtracker (randomised depth-first carving).

The Beyond Semantics variant (arXiv 2505.13775) carves from (0, 0) with no draw; each step lists
the wall cells two steps away in the order up, right, down, left and picks one by index.
``random_start=1`` starts from a random even cell instead (two draws).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..rng import next_index


@njit(cache=True)
def carve(height, width, stream, params):
    """Depth-first maze walls; ``params[0]`` = random_start."""
    walls = np.ones((height, width), dtype=np.bool_)
    x0 = 0
    y0 = 0
    if params.shape[0] > 0 and params[0] != 0.0:
        x0 = 2 * next_index(stream, (width + 1) // 2)
        y0 = 2 * next_index(stream, (height + 1) // 2)
    sx = np.empty(height * width + 1, dtype=np.int64)
    sy = np.empty(height * width + 1, dtype=np.int64)
    cx = np.empty(4, dtype=np.int64)
    cy = np.empty(4, dtype=np.int64)
    walls[y0, x0] = False
    sx[0] = x0
    sy[0] = y0
    top = 1
    while top > 0:
        x = sx[top - 1]
        y = sy[top - 1]
        k = 0
        if y > 1 and walls[y - 2, x]:
            cx[k] = x
            cy[k] = y - 2
            k += 1
        if x < width - 2 and walls[y, x + 2]:
            cx[k] = x + 2
            cy[k] = y
            k += 1
        if y < height - 2 and walls[y + 2, x]:
            cx[k] = x
            cy[k] = y + 2
            k += 1
        if x > 1 and walls[y, x - 2]:
            cx[k] = x - 2
            cy[k] = y
            k += 1
        if k == 0:
            top -= 1
            continue
        c = next_index(stream, k)
        walls[(y + cy[c]) // 2, (x + cx[c]) // 2] = False
        walls[cy[c], cx[c]] = False
        sx[top] = cx[c]
        sy[top] = cy[c]
        top += 1
    return walls
