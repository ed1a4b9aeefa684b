"""Searchformer-style random-wall mazes (arXiv 2402.14083) as the Beyond Semantics authors rebuilt
them (arXiv 2505.13775).

Per attempt: shuffle the cell-index list (kept across attempts), draw the wall count
``3*base + index below (2*base + 1)`` with ``base = floor(cells / 10)``, take the first indices as
walls, copy and shuffle the passages, then try up to ``tries`` (start, goal) pairs from the front
of the copy until a shortest plan has at least ``min_plan`` cells (default ``max(rows, cols)``),
reshuffling the copy after every failed try. The attempt is accepted if the last try found any
path, however short. The plan length is that of the upstream A*, which is optimal, so a BFS
distance decides it here (after a component check: most tries pick two cells that are not
connected). On native streams the shuffles draw only the positions that are read
(:func:`_shuffle`): same distribution of mazes, about 5x faster at 30x30.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..grid import bfs_distance, label_components
from ..rng import KIND_LCG, next_index


@njit(cache=True)
def _shuffle(a, n, stream, front):
    """Shuffle ``a[:n]`` so that its first ``front`` entries are uniform.

    On the upstream LCG stream this is the authors' full Fisher-Yates pass from the back, draw
    for draw. On a native stream only the first ``front`` positions are drawn (Fisher-Yates from
    the front, stopped after ``front`` swaps): they get the same distribution - a uniform
    ordered sample without replacement - for ``front`` draws instead of ``n - 1``, and nothing
    downstream reads the other positions' order.
    """
    if stream[0] == KIND_LCG or front >= n - 1:
        for i in range(n - 1, 0, -1):
            j = next_index(stream, i + 1)
            t = a[i]
            a[i] = a[j]
            a[j] = t
        return
    for i in range(front):
        j = i + next_index(stream, n - i)
        t = a[i]
        a[i] = a[j]
        a[j] = t


@njit(cache=True)
def carve_and_place(height, width, stream, params, out):
    """Walls plus a (start, goal) written to ``out[0:4]`` as sx, sy, gx, gy.

    ``params`` = min_density, max_density, min_plan, tries. Densities are in units of
    ``base = floor(cells / 10)``: the wall count is ``floor(10*min_density*base)`` plus an index
    below ``floor(10*max_density*base) - floor(10*min_density*base) + 1`` (upstream: 3*base +
    index below 2*base + 1).
    """
    cells = height * width
    base = cells // 10
    lo = int(math.floor(10.0 * params[0] * base + 1e-9))
    hi = int(math.floor(10.0 * params[1] * base + 1e-9))
    if hi < lo:
        hi = lo
    min_plan = int(params[2])
    if min_plan < 0:
        min_plan = max(height, width)
    tries = int(params[3])
    order = np.arange(cells)
    walls = np.zeros((height, width), dtype=np.bool_)
    passages = np.empty(cells, dtype=np.int64)
    labels = np.empty(cells, dtype=np.int32)
    dist = np.full(cells, -1, dtype=np.int32)
    queue = np.empty(cells, dtype=np.int64)
    for _attempt in range(1000000):
        _shuffle(order, cells, stream, hi)
        n_walls = lo + next_index(stream, hi - lo + 1)
        if n_walls > cells - 2:
            n_walls = cells - 2
        walls[:, :] = False
        for k in range(n_walls):
            walls[order[k] // width, order[k] % width] = True
        n_pass = cells - n_walls
        for k in range(n_pass):
            passages[k] = order[n_walls + k]
        _shuffle(passages, n_pass, stream, 2)
        label_components(walls, labels, queue)
        found = False
        made = 0
        s = passages[0]
        g = passages[1]
        while made < tries:
            s = passages[0]
            g = passages[1]
            made += 1
            d = bfs_distance(walls, s, g, dist, queue) if labels[s] == labels[g] else -1
            found = d >= 0
            if found and d + 1 >= min_plan:
                break
            _shuffle(passages, n_pass, stream, 2)
        if found:
            out[0] = s % width
            out[1] = s // width
            out[2] = g % width
            out[3] = g // width
            return walls
    out[0] = -1
    return walls
