"""The Beyond Semantics token dialect (arXiv 2505.13775, 2509.07339).

One example is ``query start SX SY goal GX GY`` + ``wall X Y`` per wall (row by row) +
``reasoning`` + five tokens per event (``close|create X Y c<g> c<h>``) + ``solution`` +
``plan X Y`` per plan cell + ``end``, written to JSONL as ``{"text":"..."}`` by a compact JSON
encoder. The start is pre-seeded in the open list, so traces begin with ``close start``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .textbuf import lit, put, put32, put_byte, put_int, put_small

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
    return 96 + cells * (6 + 2 * digits) + (5 * cells + 2) * per_event + cells * (6 + 2 * digits)


_ROW = 32  # bytes per pre-rendered cell fragment (longest: ' create 32767 32767 c')


def _render_table(height: int, width: int, template: str) -> tuple[np.ndarray, np.ndarray]:
    cells = height * width
    table = np.zeros((cells, _ROW), dtype=np.uint8)
    lengths = np.zeros(cells, dtype=np.int64)
    for y in range(height):
        for x in range(width):
            text = template.format(x=x, y=y).encode()
            table[y * width + x, : len(text)] = np.frombuffer(text, dtype=np.uint8)
            lengths[y * width + x] = len(text)
    return table, lengths


class TextTables:
    """Pre-rendered per-cell fragments (`` wall X Y``, `` create X Y c``, ...) for one grid size.

    Serialising an example then copies fixed-size rows instead of formatting numbers.
    """

    def __init__(self, height: int, width: int) -> None:
        self.height, self.width = height, width
        self.wall, self.wall_len = _render_table(height, width, " wall {x} {y}")
        create, create_len = _render_table(height, width, " create {x} {y} c")
        close, close_len = _render_table(height, width, " close {x} {y} c")
        # row op * cells + cell: the fragment of an event (op 0 create, 1 close)
        self.event = np.concatenate([create, close])
        self.event_len = np.concatenate([create_len, close_len])
        self.plan, self.plan_len = _render_table(height, width, " plan {x} {y}")

    def arrays(self) -> tuple:
        return (self.wall, self.wall_len, self.event, self.event_len, self.plan, self.plan_len)


@njit(cache=True, inline="always")
def _put_cost(buf, pos, value):
    if value < 10000:
        return put_small(buf, pos, value)
    return put_int(buf, pos, value)


@njit(cache=True)
def write_text(buf, pos, tables, walls, sx, sy, gx, gy, op, ex, ey, eg, eh, n_events, px, py,
               n_plan):
    """Write the example's token text at ``buf[pos:]``; return the new position.

    ``tables`` is ``TextTables(H, W).arrays()``; ``buf`` needs 32 bytes of slack at the end.
    """
    wall, wall_len, event, event_len, plan, plan_len = tables
    height, width = walls.shape
    cells = height * width
    pos = put(buf, pos, _QUERY_START)
    pos = put_int(buf, pos, sx)
    pos = put_byte(buf, pos, 32)
    pos = put_int(buf, pos, sy)
    pos = put(buf, pos, _GOAL)
    pos = put_int(buf, pos, gx)
    pos = put_byte(buf, pos, 32)
    pos = put_int(buf, pos, gy)
    flat = walls.ravel()
    for c in range(height * width):
        # branch-free: always copy the fragment, advance only over a wall
        pos = put32(buf, pos, wall, c, wall_len[c] * flat[c])
    pos = put(buf, pos, _REASONING)
    for i in range(n_events):
        c = np.int64(ey[i]) * width + ex[i] + op[i] * cells
        pos = put32(buf, pos, event, c, event_len[c])
        pos = _put_cost(buf, pos, eg[i])
        buf[pos] = 32
        buf[pos + 1] = 99  # 'c'
        pos = _put_cost(buf, pos + 2, eh[i])
    pos = put(buf, pos, _SOLUTION)
    for i in range(n_plan):
        c = np.int64(py[i]) * width + px[i]
        pos = put32(buf, pos, plan, c, plan_len[c])
    pos = put(buf, pos, _END)
    return pos


@njit(cache=True)
def write_jsonl(buf, pos, tables, walls, sx, sy, gx, gy, op, ex, ey, eg, eh, n_events, px, py,
                n_plan):
    """``{"text":"..."}`` and a newline, as the upstream generator writes each line."""
    pos = put(buf, pos, _JSON_OPEN)
    pos = write_text(buf, pos, tables, walls, sx, sy, gx, gy, op, ex, ey, eg, eh, n_events, px,
                     py, n_plan)
    return put(buf, pos, _JSON_CLOSE)
