"""Cellular-automaton caves: random fill, then smoothing iterations.

Beyond Semantics convention (arXiv 2505.13775): one draw per cell row by row (wall if below
fillProbability); each iteration counts wall cells among the 8 neighbours, out-of-grid counting as
wall; a wall with fewer than survivalThreshold becomes floor, a floor with more than
birthThreshold becomes wall.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..rng import next_float


@njit(cache=True)
def carve(height, width, stream, params):
    """Cave walls; ``params`` = fillProbability, survivalThreshold, birthThreshold, iterations."""
    fill = params[0]
    survival = params[1]
    birth = params[2]
    iterations = int(params[3])
    walls = np.empty((height, width), dtype=np.bool_)
    for y in range(height):
        for x in range(width):
            walls[y, x] = next_float(stream) < fill
    nxt = np.empty_like(walls)
    for _ in range(iterations):
        for y in range(height):
            for x in range(width):
                count = 0
                for dy in range(-1, 2):
                    for dx in range(-1, 2):
                        if dx == 0 and dy == 0:
                            continue
                        ny = y + dy
                        nx = x + dx
                        if nx < 0 or ny < 0 or nx >= width or ny >= height or walls[ny, nx]:
                            count += 1
                if walls[y, x]:
                    nxt[y, x] = not (count < survival)
                else:
                    nxt[y, x] = count > birth
        walls, nxt = nxt, walls
    return walls
