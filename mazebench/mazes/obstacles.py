"""Independent random obstacles: each cell is a wall with probability ``density``.

One ``next_float`` draw per cell, row by row (y outer, x inner); a cell is a wall when its draw is
below ``params[0]`` (density). Start/goal connectivity is left to the placement step.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..rng import next_float


@njit(cache=True)
def carve(height, width, stream, params):
    """Random obstacle walls; ``params[0]`` = density (0.3 when ``params`` is empty)."""
    density = params[0] if params.shape[0] > 0 else 0.3
    walls = np.empty((height, width), dtype=np.bool_)
    for y in range(height):
        for x in range(width):
            walls[y, x] = next_float(stream) < density
    return walls
