"""The Beyond Semantics token dialect (arXiv 2505.13775, 2509.07339).

One example is ``query start SX SY goal GX GY`` + ``wall X Y`` per wall (row by row) +
``reasoning`` + five tokens per event (``close|create X Y c<g> c<h>``) + ``solution`` +
``plan X Y`` per plan cell + ``end``, written to JSONL as ``{"text":"..."}`` by a compact JSON
encoder. The start is pre-seeded in the open list, so traces begin with ``close start``.
"""

from __future__ import annotations

from numba import njit

from .textbuf import lit, put, put_byte, put_int

_QUERY_START = lit("query start ")
_GOAL = lit(" goal ")
_WALL = lit(" wall ")
_REASONING = lit(" reasoning")
_CLOSE = lit(" close ")
_CREATE = lit(" create ")
_C = lit(" c")
_SOLUTION = lit(" solution")
_PLAN = lit(" plan ")
_END = lit(" end")
_JSON_OPEN = lit('{"text":"')
_JSON_CLOSE = lit('"}\n')


def max_text_bytes(height: int, width: int) -> int:
    """An upper bound on one example's text bytes (walls, every possible event, plan)."""
    digits = len(str(max(height, width, 10))) + 1
    cdigits = len(str(height * width * 4)) + 1
    cells = height * width
    per_event = 8 + 2 * digits + 2 * (cdigits + 2)
    return 64 + cells * (6 + 2 * digits) + (5 * cells + 2) * per_event + cells * (6 + 2 * digits)


@njit(cache=True)
def write_text(buf, pos, walls, sx, sy, gx, gy, op, ex, ey, eg, eh, n_events, px, py, n_plan):
    """Write the example's token text at ``buf[pos:]``; return the new position."""
    height, width = walls.shape
    pos = put(buf, pos, _QUERY_START)
    pos = put_int(buf, pos, sx)
    pos = put_byte(buf, pos, 32)
    pos = put_int(buf, pos, sy)
    pos = put(buf, pos, _GOAL)
    pos = put_int(buf, pos, gx)
    pos = put_byte(buf, pos, 32)
    pos = put_int(buf, pos, gy)
    for y in range(height):
        for x in range(width):
            if walls[y, x]:
                pos = put(buf, pos, _WALL)
                pos = put_int(buf, pos, x)
                pos = put_byte(buf, pos, 32)
                pos = put_int(buf, pos, y)
    pos = put(buf, pos, _REASONING)
    for i in range(n_events):
        pos = put(buf, pos, _CREATE if op[i] == 0 else _CLOSE)
        pos = put_int(buf, pos, ex[i])
        pos = put_byte(buf, pos, 32)
        pos = put_int(buf, pos, ey[i])
        pos = put(buf, pos, _C)
        pos = put_int(buf, pos, eg[i])
        pos = put(buf, pos, _C)
        pos = put_int(buf, pos, eh[i])
    pos = put(buf, pos, _SOLUTION)
    for i in range(n_plan):
        pos = put(buf, pos, _PLAN)
        pos = put_int(buf, pos, px[i])
        pos = put_byte(buf, pos, 32)
        pos = put_int(buf, pos, py[i])
    pos = put(buf, pos, _END)
    return pos


@njit(cache=True)
def write_jsonl(buf, pos, walls, sx, sy, gx, gy, op, ex, ey, eg, eh, n_events, px, py, n_plan):
    """``{"text":"..."}`` and a newline, as the upstream generator writes each line."""
    pos = put(buf, pos, _JSON_OPEN)
    pos = write_text(buf, pos, walls, sx, sy, gx, gy, op, ex, ey, eg, eh, n_events, px, py, n_plan)
    return put(buf, pos, _JSON_CLOSE)
