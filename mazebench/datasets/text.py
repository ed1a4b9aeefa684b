"""Token text of many rows at once, written by numba into one byte buffer.

Rows come as flat arrays (a generated :class:`~mazebench.datasets.batch.Block` or an Arrow record
batch of a dataset), so a million examples become text without a Python object per example or
token. Layouts (see :mod:`mazebench.conventions.dialects` for the dialects):

* ``BS_JSONL`` - ``{"text":"<beyond-semantics text>"}`` + newline, exactly as the Beyond Semantics
  generator writes its files (arXiv 2505.13775); reuses
  :func:`mazebench.conventions.beyond_semantics.write_jsonl`.
* ``SF_JSONL`` - the Searchformer fixture line (arXiv 2402.14083): ``{"width": W, "height": H,
  "start": [x, y], "goal": [x, y], "walls": [[x, y], ...], "deterministic": true, "prompt": "...",
  "reasoning": "...", "plan": "..."}`` + newline (Python's ``json.dumps`` spacing).
* ``TEXT`` - the whole example in a dialect (``beyond-semantics`` or ``searchformer``).
* ``PROMPT`` / ``COMPLETION`` - what a model reads and what it writes: the prompt, and for
  ``beyond-semantics`` ``reasoning <events> solution <plan> end``, for ``searchformer``
  ``<events> <plan>``.

The plan written for an unsolvable row follows the profile (``unsolvable_plan``: upstream writes
``start, goal``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numba import njit

from ..conventions.beyond_semantics import TextTables, write_jsonl, write_text
from ..conventions.textbuf import lit, put, put_byte, put_int

BS_JSONL = 0
SF_JSONL = 1
TEXT = 2
PROMPT = 3
COMPLETION = 4
LAYOUTS = {"bs_jsonl": BS_JSONL, "sf_jsonl": SF_JSONL, "text": TEXT, "prompt": PROMPT,
           "completion": COMPLETION}
NATIVE_DIALECTS = {"beyond-semantics": 0, "searchformer": 1}

_ROW = 32
_QUERY = lit("query ")
_START = lit("start ")
_GOAL = lit(" goal ")
_REASONING = lit("reasoning")
_SOLUTION = lit(" solution")
_END = lit(" end")
_C = lit(" c")
_SF_W = lit('{"width": ')
_SF_H = lit(', "height": ')
_SF_S = lit(', "start": [')
_SF_G = lit('], "goal": [')
_SF_WALLS = lit('], "walls": [')
_SF_DET = lit('], "deterministic": ')
_TRUE = lit("true")
_FALSE = lit("false")
_SF_PROMPT = lit(', "prompt": "')
_SF_REASONING = lit('", "reasoning": "')
_SF_PLAN = lit('", "plan": "')
_SF_CLOSE = lit('"}\n')
_COMMA = lit(", ")


@njit(cache=True, nogil=True)
def put_fixed(buf, pos, row, width, length):
    """Copy ``width`` bytes of a fragment row and advance by ``length`` (slack at buffer end)."""
    for i in range(width):
        buf[pos + i] = row[i]
    return pos + length


@njit(cache=True, nogil=True)
def _prompt(buf, pos, dialect, tables, walls, sx, sy, gx, gy):
    wall, wall_len = tables[0], tables[1]
    if dialect == 0:
        pos = put(buf, pos, _QUERY)
    pos = put(buf, pos, _START)
    pos = put_int(buf, pos, sx)
    pos = put_byte(buf, pos, 32)
    pos = put_int(buf, pos, sy)
    pos = put(buf, pos, _GOAL)
    pos = put_int(buf, pos, gx)
    pos = put_byte(buf, pos, 32)
    pos = put_int(buf, pos, gy)
    flat = walls.ravel()
    for c in range(flat.shape[0]):
        if flat[c]:
            pos = put_fixed(buf, pos, wall[c], _ROW, wall_len[c])
    return pos


@njit(cache=True, nogil=True)
def _events(buf, pos, tables, width, op, ex, ey, eg, eh, n):
    """Events, each with a leading space."""
    create, create_len, close, close_len = tables[2], tables[3], tables[4], tables[5]
    for i in range(n):
        c = np.int64(ey[i]) * width + ex[i]
        if op[i] == 0:
            pos = put_fixed(buf, pos, create[c], _ROW, create_len[c])
        else:
            pos = put_fixed(buf, pos, close[c], _ROW, close_len[c])
        pos = put_int(buf, pos, eg[i])
        pos = put(buf, pos, _C)
        pos = put_int(buf, pos, eh[i])
    return pos


@njit(cache=True, nogil=True)
def _plan(buf, pos, tables, width, px, py, n):
    """Plan cells, each with a leading space."""
    plan, plan_len = tables[6], tables[7]
    for i in range(n):
        c = np.int64(py[i]) * width + px[i]
        pos = put_fixed(buf, pos, plan[c], _ROW, plan_len[c])
    return pos


@njit(cache=True, nogil=True)
def _strip_space(buf, start, pos):
    """Drop the leading space of ``buf[start:pos]`` (if any); return the new end."""
    if pos > start and buf[start] == 32:
        for i in range(start, pos - 1):
            buf[i] = buf[i + 1]
        return pos - 1
    return pos


@njit(cache=True, nogil=True)
def _sf_jsonl(buf, pos, tables, walls, sx, sy, gx, gy, op, ex, ey, eg, eh, ne, px, py, npl,
              deterministic):
    height, width = walls.shape
    pos = put(buf, pos, _SF_W)
    pos = put_int(buf, pos, width)
    pos = put(buf, pos, _SF_H)
    pos = put_int(buf, pos, height)
    pos = put(buf, pos, _SF_S)
    pos = put_int(buf, pos, sx)
    pos = put(buf, pos, _COMMA)
    pos = put_int(buf, pos, sy)
    pos = put(buf, pos, _SF_G)
    pos = put_int(buf, pos, gx)
    pos = put(buf, pos, _COMMA)
    pos = put_int(buf, pos, gy)
    pos = put(buf, pos, _SF_WALLS)
    first = True
    for y in range(height):
        for x in range(width):
            if walls[y, x]:
                if not first:
                    pos = put(buf, pos, _COMMA)
                first = False
                pos = put_byte(buf, pos, 91)  # [
                pos = put_int(buf, pos, x)
                pos = put(buf, pos, _COMMA)
                pos = put_int(buf, pos, y)
                pos = put_byte(buf, pos, 93)  # ]
    pos = put(buf, pos, _SF_DET)
    pos = put(buf, pos, _TRUE if deterministic else _FALSE)
    pos = put(buf, pos, _SF_PROMPT)
    pos = _prompt(buf, pos, 1, tables, walls, sx, sy, gx, gy)
    pos = put(buf, pos, _SF_REASONING)
    start = pos
    pos = _strip_space(buf, start, _events(buf, pos, tables, width, op, ex, ey, eg, eh, ne))
    pos = put(buf, pos, _SF_PLAN)
    start = pos
    pos = _strip_space(buf, start, _plan(buf, pos, tables, width, px, py, npl))
    return put(buf, pos, _SF_CLOSE)


@njit(cache=True, nogil=True)
def _completion(buf, pos, dialect, tables, width, op, ex, ey, eg, eh, ne, px, py, npl):
    if dialect == 0:
        pos = put(buf, pos, _REASONING)
        pos = _events(buf, pos, tables, width, op, ex, ey, eg, eh, ne)
        pos = put(buf, pos, _SOLUTION)
        pos = _plan(buf, pos, tables, width, px, py, npl)
        return put(buf, pos, _END)
    start = pos
    pos = _events(buf, pos, tables, width, op, ex, ey, eg, eh, ne)
    pos = _plan(buf, pos, tables, width, px, py, npl)
    return _strip_space(buf, start, pos)


@njit(cache=True, nogil=True)
def _row_slices(i, sg, ev_off, op, ex, ey, eg, eh, pl_off, px, py, unsolved_plan, gpx, gpy):
    """Row ``i``'s start/goal, event slices and written plan (``start, goal`` if unsolved)."""
    sx, sy, gx, gy = sg[i, 0], sg[i, 1], sg[i, 2], sg[i, 3]
    e0, e1 = ev_off[i], ev_off[i + 1]
    if unsolved_plan[i]:
        gpx[0], gpy[0], gpx[1], gpy[1] = sx, sy, gx, gy
        qx, qy = gpx, gpy
    else:
        qx, qy = px[pl_off[i] : pl_off[i + 1]], py[pl_off[i] : pl_off[i + 1]]
    return (sx, sy, gx, gy, op[e0:e1], ex[e0:e1], ey[e0:e1], eg[e0:e1], eh[e0:e1], e1 - e0,
            qx, qy, qx.shape[0])


@njit(cache=True, nogil=True)
def _rows_bs_jsonl(bs_tables, walls, sg, ev_off, op, ex, ey, eg, eh, pl_off, px, py,
                   unsolved_plan, buf, offsets):
    gpx = np.empty(2, dtype=np.int16)
    gpy = np.empty(2, dtype=np.int16)
    pos = 0
    offsets[0] = 0
    for i in range(walls.shape[0]):
        sx, sy, gx, gy, o, x, y, g, h, ne, qx, qy, npl = _row_slices(
            i, sg, ev_off, op, ex, ey, eg, eh, pl_off, px, py, unsolved_plan, gpx, gpy)
        pos = write_jsonl(buf, pos, bs_tables, walls[i], sx, sy, gx, gy, o, x, y, g, h, ne, qx,
                          qy, npl)
        offsets[i + 1] = pos
    return pos


@njit(cache=True, nogil=True)
def _rows_bs_text(bs_tables, walls, sg, ev_off, op, ex, ey, eg, eh, pl_off, px, py,
                  unsolved_plan, buf, offsets):
    gpx = np.empty(2, dtype=np.int16)
    gpy = np.empty(2, dtype=np.int16)
    pos = 0
    offsets[0] = 0
    for i in range(walls.shape[0]):
        sx, sy, gx, gy, o, x, y, g, h, ne, qx, qy, npl = _row_slices(
            i, sg, ev_off, op, ex, ey, eg, eh, pl_off, px, py, unsolved_plan, gpx, gpy)
        pos = write_text(buf, pos, bs_tables, walls[i], sx, sy, gx, gy, o, x, y, g, h, ne, qx,
                         qy, npl)
        offsets[i + 1] = pos
    return pos


@njit(cache=True, nogil=True)
def _rows_native(layout, dialect, tables, walls, sg, ev_off, op, ex, ey, eg, eh, pl_off, px, py,
                 unsolved_plan, deterministic, buf, offsets):
    """``SF_JSONL``, searchformer ``TEXT``, ``PROMPT`` and ``COMPLETION`` rows."""
    width = walls.shape[2]
    gpx = np.empty(2, dtype=np.int16)
    gpy = np.empty(2, dtype=np.int16)
    pos = 0
    offsets[0] = 0
    for i in range(walls.shape[0]):
        sx, sy, gx, gy, o, x, y, g, h, ne, qx, qy, npl = _row_slices(
            i, sg, ev_off, op, ex, ey, eg, eh, pl_off, px, py, unsolved_plan, gpx, gpy)
        w = walls[i]
        if layout == SF_JSONL:
            pos = _sf_jsonl(buf, pos, tables, w, sx, sy, gx, gy, o, x, y, g, h, ne, qx, qy, npl,
                            deterministic)
        elif layout == TEXT:
            pos = _prompt(buf, pos, 1, tables, w, sx, sy, gx, gy)
            pos = _events(buf, pos, tables, width, o, x, y, g, h, ne)
            pos = _plan(buf, pos, tables, width, qx, qy, npl)
        elif layout == PROMPT:
            pos = _prompt(buf, pos, dialect, tables, w, sx, sy, gx, gy)
        else:
            pos = _completion(buf, pos, dialect, tables, width, o, x, y, g, h, ne, qx, qy, npl)
        offsets[i + 1] = pos
    return pos


def _writable(a: np.ndarray, dtype) -> np.ndarray:
    """A C-contiguous, writable array (read-only Arrow buffers would compile kernels twice)."""
    a = np.ascontiguousarray(a, dtype=dtype)
    return a if a.flags.writeable else a.copy()


def _fragments(height: int, width: int, template: str) -> tuple[np.ndarray, np.ndarray]:
    table = np.zeros((height * width, _ROW), dtype=np.uint8)
    lengths = np.zeros(height * width, dtype=np.int64)
    for y in range(height):
        for x in range(width):
            text = template.format(x=x, y=y).encode()
            table[y * width + x, : len(text)] = np.frombuffer(text, dtype=np.uint8)
            lengths[y * width + x] = len(text)
    return table, lengths


def fragment_tables(height: int, width: int) -> tuple:
    """Pre-rendered `` wall X Y``, `` create X Y c``, `` close X Y c``, `` plan X Y`` per cell."""
    out: tuple = ()
    for template in (" wall {x} {y}", " create {x} {y} c", " close {x} {y} c", " plan {x} {y}"):
        out += _fragments(height, width, template)
    return out


_TABLES: dict[tuple[int, int], tuple] = {}


def _tables(height: int, width: int) -> tuple:
    """``(TextTables arrays, fragment tables)`` for one grid size (the last size is cached;
    safe on threads: a racing thread at worst builds the same tables again)."""
    key = (height, width)
    found = _TABLES.get(key)
    if found is None:
        found = (TextTables(height, width).arrays(), fragment_tables(height, width))
        _TABLES.clear()
        _TABLES[key] = found
    return found


@njit(cache=True, nogil=True)
def _strip_costs(buf, offsets, costs, out, out_offsets):
    """Copy rows, dropping the two cost tokens after every ``create X Y`` of rows whose
    ``costs`` is False (Dualformer L2/L3-paper, arXiv 2410.09918); returns the new length."""
    pos = 0
    out_offsets[0] = 0
    n = offsets.shape[0] - 1
    for i in range(n):
        a, b = offsets[i], offsets[i + 1]
        k = a
        while k < b:
            token_start = k == a or buf[k - 1] == 32 or buf[k - 1] == 34  # space or quote
            if (costs[i] or not token_start or k + 7 > b or buf[k] != 99 or buf[k + 1] != 114
                    or buf[k + 2] != 101 or buf[k + 3] != 97 or buf[k + 4] != 116
                    or buf[k + 5] != 101 or buf[k + 6] != 32):  # "create "
                out[pos] = buf[k]
                pos += 1
                k += 1
                continue
            spaces = 0  # copy "create X Y", then skip " c<g> c<h>"
            while k < b:
                if buf[k] == 32:
                    spaces += 1
                    if spaces == 3:
                        break
                out[pos] = buf[k]
                pos += 1
                k += 1
            for _ in range(2):
                if k + 1 < b and buf[k] == 32 and buf[k + 1] == 99:
                    k += 2
                    while k < b and buf[k] != 32 and buf[k] != 34:  # to the next space or quote
                        k += 1
        out_offsets[i + 1] = pos
    return pos


def strip_costs(buf: np.ndarray, offsets: np.ndarray, costs: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``(buf, offsets)`` with create clauses written without costs where ``costs``
    is False."""
    out = np.empty(buf.shape[0] + 1, dtype=np.uint8)
    out_offsets = np.empty_like(offsets)
    total = _strip_costs(buf, offsets, _writable(costs, np.bool_), out, out_offsets)
    return out[:total], out_offsets


def render(layout: str, dialect: str, walls: np.ndarray, sg: np.ndarray, ev_off, ev: tuple,
           pl_off, pl: tuple, unsolved_plan: np.ndarray, deterministic: bool = True,
           costs: np.ndarray | None = None):
    """Text of rows given as flat arrays; returns ``(bytes buffer, int64 offsets)``.

    ``walls`` is ``(n, H, W)`` bool, ``sg`` ``(n, 4)`` start/goal, ``ev`` the five event arrays
    with ``ev_off`` (n + 1), ``pl`` the plan arrays with ``pl_off``. Rows whose ``costs`` entry
    is False write their create clauses without the two cost tokens.
    """
    if dialect not in NATIVE_DIALECTS:
        raise ValueError(
            f"dialect {dialect!r} has no fast writer (allowed: {', '.join(NATIVE_DIALECTS)})"
        )
    n, h, w = walls.shape
    ev_off = np.asarray(ev_off, dtype=np.int64)
    pl_off = np.asarray(pl_off, dtype=np.int64)
    n_walls = walls.reshape(n, h * w).sum(axis=1)
    digits = len(str(max(h, w))) + 1
    bound = (
        256 * n
        + int((n_walls * (2 * (8 + 2 * digits) + 8)).sum())
        + int((ev_off[1:] - ev_off[:-1]).sum()) * (16 + 2 * digits + 2 * 12)
        + int((pl_off[1:] - pl_off[:-1]).sum() + 2 * n) * (8 + 2 * digits)
        + 2 * _ROW
    )
    buf = np.empty(bound, dtype=np.uint8)
    offsets = np.empty(n + 1, dtype=np.int64)
    bs_tables, tables = _tables(h, w)
    arrays = (
        _writable(walls, np.bool_), _writable(sg, np.int64), _writable(ev_off, np.int64),
        *(_writable(a, t) for a, t in zip(ev, (np.int8, np.int16, np.int16, np.int32, np.int32))),
        _writable(pl_off, np.int64), *(_writable(a, np.int16) for a in pl),
        _writable(unsolved_plan, np.bool_),
    )
    code, dia = LAYOUTS[layout], NATIVE_DIALECTS[dialect]
    if code == BS_JSONL:
        total = _rows_bs_jsonl(bs_tables, *arrays, buf, offsets)
    elif code == TEXT and dia == 0:
        total = _rows_bs_text(bs_tables, *arrays, buf, offsets)
    else:
        total = _rows_native(code, dia, tables, *arrays, bool(deterministic), buf, offsets)
    if costs is not None and not np.all(costs):
        return strip_costs(buf[:total], offsets, costs)
    return buf[:total], offsets


def to_string_array(buf: np.ndarray, offsets: np.ndarray) -> pa.Array:
    """An Arrow ``large_string`` array over a text buffer (zero copy)."""
    n = len(offsets) - 1
    return pa.Array.from_buffers(
        pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(buf)]
    )


def block_text(block, profile, dialect: str) -> pa.Array:
    """The ``text`` column of a generated block in ``dialect`` (``string``)."""
    unsolved = (block.status != 1) & (profile.unsolvable_plan == "start-goal")
    if dialect in NATIVE_DIALECTS:
        buf, offsets = render(
            "text", dialect, block.walls, block.sg, block.ev_off,
            (block.ev_op, block.ev_x, block.ev_y, block.ev_g, block.ev_h),
            block.pl_off, (block.pl_x, block.pl_y), unsolved,
        )
        return to_string_array(buf, offsets).cast(pa.string())
    from ..conventions.dialects import get_dialect
    from ..problem import Problem
    from ..search.solve import Plan, Trace

    writer = get_dialect(dialect)
    texts = []
    for i in range(len(block)):
        e0, e1 = block.ev_off[i], block.ev_off[i + 1]
        p0, p1 = block.pl_off[i], block.pl_off[i + 1]
        sx, sy, gx, gy = (int(v) for v in block.sg[i])
        problem = Problem(block.walls[i], (sx, sy), (gx, gy))
        trace = Trace.from_arrays(block.ev_op[e0:e1], block.ev_x[e0:e1], block.ev_y[e0:e1],
                                  block.ev_g[e0:e1], block.ev_h[e0:e1])
        plan = (Plan.from_arrays([sx, gx], [sy, gy]) if unsolved[i]
                else Plan.from_arrays(block.pl_x[p0:p1], block.pl_y[p0:p1]))
        texts.append(writer.text(problem, trace, plan))
    return pa.array(texts, type=pa.string())
