"""Recursive division, aligned with the room lattice of offset 0.

Jamis Buck, "Maze Generation: Recursive Division" (2011): start from an open field and split each
chamber by a wall with a door in it, then split the two parts the same way. Here chambers are
rectangles of rooms (cells with even x and y); dividing walls lie on odd coordinates between two
room rows or columns and doors start on even coordinates, so with ``min_room=1`` and
``door_width=1`` the result is a perfect maze over the rooms. On an even-sized grid the last
column/row (odd, outside every chamber) is wall.

Chambers are kept on an explicit stack (the upper/left part is processed first). For each chamber
of ``rw`` x ``rh`` rooms a side can be divided only if both parts keep at least ``min_room`` rooms
(side >= 2 * min_room); a chamber with no divisible side is left open. Orientation: across the
longer side (in rooms), one ``next_float`` draw when square (< 0.5 = horizontal wall). Draws per
divided chamber: [orientation], position (``next_index`` over the allowed splits), door position
(``next_index`` over the door starts that fit; none when the door spans the whole wall).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..rng import next_float, next_index


@njit(cache=True)
def _door(stream, length, door_width):
    """Offset of the door's first cell along a wall of ``length`` cells (even, fits)."""
    if door_width >= length:
        return 0
    return 2 * next_index(stream, (length - door_width) // 2 + 1)


@njit(cache=True)
def carve(height, width, stream, params):
    """Recursive division walls; ``params`` = (min_room, door_width), defaults (1, 1)."""
    min_room = int(params[0]) if params.shape[0] > 0 else 1
    door_width = int(params[1]) if params.shape[0] > 1 else 1
    if min_room < 1:
        min_room = 1
    if door_width < 1:
        door_width = 1
    walls = np.zeros((height, width), dtype=np.bool_)
    if width % 2 == 0:
        walls[:, width - 1] = True
    if height % 2 == 0:
        walls[height - 1, :] = True
    nx = (width + 1) // 2
    ny = (height + 1) // 2
    cap = nx * ny + 2
    sx = np.empty(cap, dtype=np.int64)
    sy = np.empty(cap, dtype=np.int64)
    sw = np.empty(cap, dtype=np.int64)
    sh = np.empty(cap, dtype=np.int64)
    sx[0] = 0
    sy[0] = 0
    sw[0] = nx
    sh[0] = ny
    top = 1
    while top > 0:
        top -= 1
        rx = sx[top]
        ry = sy[top]
        rw = sw[top]
        rh = sh[top]
        can_v = rw >= 2 * min_room
        can_h = rh >= 2 * min_room
        if not can_v and not can_h:
            continue
        if can_v and can_h:
            if rw > rh:
                horizontal = False
            elif rh > rw:
                horizontal = True
            else:
                horizontal = next_float(stream) < 0.5
        else:
            horizontal = can_h
        if horizontal:
            s = min_room + next_index(stream, rh - 2 * min_room + 1)
            y = 2 * (ry + s) - 1
            x0 = 2 * rx
            length = 2 * rw - 1
            for x in range(x0, x0 + length):
                walls[y, x] = True
            d0 = x0 + _door(stream, length, door_width)
            for x in range(d0, min(d0 + door_width, x0 + length)):
                walls[y, x] = False
            # lower part pushed first so the upper part is divided first
            sx[top] = rx
            sy[top] = ry + s
            sw[top] = rw
            sh[top] = rh - s
            sx[top + 1] = rx
            sy[top + 1] = ry
            sw[top + 1] = rw
            sh[top + 1] = s
        else:
            s = min_room + next_index(stream, rw - 2 * min_room + 1)
            x = 2 * (rx + s) - 1
            y0 = 2 * ry
            length = 2 * rh - 1
            for y in range(y0, y0 + length):
                walls[y, x] = True
            d0 = y0 + _door(stream, length, door_width)
            for y in range(d0, min(d0 + door_width, y0 + length)):
                walls[y, x] = False
            sx[top] = rx + s
            sy[top] = ry
            sw[top] = rw - s
            sh[top] = rh
            sx[top + 1] = rx
            sy[top + 1] = ry
            sw[top + 1] = s
            sh[top + 1] = rh
        top += 2
    return walls
