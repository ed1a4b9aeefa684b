"""Free space: a grid with no walls at all (the Performative Thinking free-space problems)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def carve(height, width, stream, params):
    """An all-floor grid; no draws (``stream`` and ``params`` unused)."""
    return np.zeros((height, width), dtype=np.bool_)
