"""One numba entry point that builds a maze of any registered family, with loops and placement.

Kernels receive the family and policy as integer ids and their parameters as float64 arrays, so a
batch of examples is generated inside one compiled loop (see :mod:`mazebench.datasets`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import (
    braid,
    cellular_automata,
    dfs,
    division,
    drunkards_walk,
    free_space,
    kruskal,
    obstacles,
    prim,
    searchformer,
    wilson,
)
from .placement import P_FAMILY, P_SEARCHFORMER, place
from .registry import (
    F_CELLULAR_AUTOMATA,
    F_DFS,
    F_DIVISION,
    F_DRUNKARDS_WALK,
    F_FREE_SPACE,
    F_KRUSKAL,
    F_OBSTACLES,
    F_PRIM,
    F_SEARCHFORMER,
    F_WILSON,
)

MAX_ATTEMPTS = 1000


@njit(cache=True)
def carve_walls(fid, height, width, stream, params, placed):
    """Walls of family ``fid``; a family that places start and goal itself writes them to
    ``placed[0:4]`` (``placed[0] = -1`` otherwise)."""
    placed[0] = -1
    if fid == F_WILSON:
        return wilson.carve(height, width, stream, params)
    if fid == F_KRUSKAL:
        return kruskal.carve(height, width, stream, params)
    if fid == F_DFS:
        return dfs.carve(height, width, stream, params)
    if fid == F_DRUNKARDS_WALK:
        return drunkards_walk.carve(height, width, stream, params)
    if fid == F_SEARCHFORMER:
        return searchformer.carve_and_place(height, width, stream, params, placed)
    if fid == F_CELLULAR_AUTOMATA:
        return cellular_automata.carve(height, width, stream, params)
    if fid == F_PRIM:
        return prim.carve(height, width, stream, params)
    if fid == F_FREE_SPACE:
        return free_space.carve(height, width, stream, params)
    if fid == F_OBSTACLES:
        return obstacles.carve(height, width, stream, params)
    if fid == F_DIVISION:
        return division.carve(height, width, stream, params)
    raise ValueError("unknown family id")


@njit(cache=True)
def build(fid, height, width, stream, fparams, loops, loop_mode, pid, pparams):
    """Walls, start and goal: ``(walls, sx, sy, gx, gy, attempts)``; ``attempts = -1`` when
    no placement succeeded within ``MAX_ATTEMPTS`` rebuilt mazes.

    ``pid`` is the resolved placement policy (never ``P_FAMILY``); with ``P_SEARCHFORMER`` the
    family's own placement is used.
    """
    placed = np.empty(4, dtype=np.int64)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        walls = carve_walls(fid, height, width, stream, fparams, placed)
        if loops > 0.0:
            braid.braid(walls, stream, loops, loop_mode)
        if pid == P_SEARCHFORMER or pid == P_FAMILY:
            if placed[0] >= 0:
                return walls, placed[0], placed[1], placed[2], placed[3], attempt
            continue
        sx, sy, gx, gy, ok = place(walls, stream, pid, pparams)
        if ok:
            return walls, sx, sy, gx, gy, attempt
    return np.ones((height, width), dtype=np.bool_), 0, 0, 0, 0, -1
