"""Baseline predictions without a model, to run, show and test the evaluator end to end.

``write_baseline(DIR, kind, OUT)`` writes one ``{"id": ..., "completion": ...}`` line per dataset
row (see :mod:`.predictions`), the completion written as a model writes it (for
``beyond-semantics``: ``reasoning <events> solution <plan> end``; for ``searchformer``:
``<events> <plan>``). Kinds:

* ``ground-truth`` - the dataset's own trace and plan: every figure at its ceiling;
* ``swapped`` - each problem's own plan with the trace of another problem of the same split
  (Beyond Semantics' swapped traces, arXiv 2505.13775): a derangement drawn per block of rows
  (a record batch of at most 4096 rows, merged with the next one when it holds a single row),
  so no problem keeps its own trace; plans stay valid, traces do not;
* ``truncated`` - the trace cut after a uniform number of events in ``1 .. n - 1`` (none kept
  when n = 1), plan kept: ``goal_not_closed``;
* ``greedy`` - greedy best-first search's trace and plan (:func:`mazebench.solve` with the
  ``greedy`` profile, logging ``create start`` first in the ``searchformer`` dialect): valid,
  often longer plans and traces that break A*'s order;
* ``random-walk`` - plausible events of at most the ground truth's length, a search that closes
  a uniformly random open cell instead of a minimum-f one: from the start cell (created first in
  the ``searchformer`` dialect), close a random open cell, then create its unseen floor
  neighbours in random order (g = its g + 1, h = Manhattan), until the goal is closed, the
  length is reached or nothing is open; the plan follows the parents back from the goal when
  the goal was created, else there is none.

Random draws come from ``(seed, kind, split)`` and the row's position in the split (per-row
counter-based streams, :func:`mazebench.rng.stream_state`) or the block's first row
(the derangement), so the same dataset and seed give the same bytes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
from numba import njit

from ..datasets.export import RowArrays, SplitReader
from ..datasets.load import load
from ..datasets.text import NATIVE_DIALECTS, render, to_string_array
from ..ordered import ordered_map
from ..progress import Progress
from ..rng import KIND_NATIVE, next_index, stream_key, stream_state
from ..search.fast import solve_batch
from ..search.profiles import get_profile

KINDS: tuple[str, ...] = ("ground-truth", "swapped", "truncated", "greedy", "random-walk")
_EV_TYPES = (np.int8, np.int16, np.int16, np.int32, np.int32)


@dataclass
class BaselineResult:
    """What :func:`write_baseline` wrote: lines per split, total bytes, the output path."""

    kind: str
    path: str
    lines: int = 0
    bytes: int = 0
    splits: dict[str, int] = field(default_factory=dict)


# -- kernels -----------------------------------------------------------------------------------
@njit(cache=True)
def _cut_points(key, positions, lengths):
    """Events kept per row: uniform in 1 .. n - 1 (0 when n <= 1)."""
    out = np.zeros(positions.shape[0], dtype=np.int64)
    stream = np.empty(2, dtype=np.uint64)
    for i in range(positions.shape[0]):
        n = lengths[i]
        if n <= 1:
            continue
        stream[0] = KIND_NATIVE
        stream[1] = stream_state(key, np.uint64(positions[i]))
        out[i] = 1 + next_index(stream, n - 1)
    return out


@njit(cache=True)
def _random_walks(walls, sg, target, preseed, key, positions, op, ex, ey, eg, eh, ev_off,
                  px, py, pl_off):
    """Random plausible events and plans of every row (see the module docstring)."""
    n, hgt, wid = walls.shape
    cells = hgt * wid
    state = np.zeros(cells, dtype=np.int8)  # 0 unseen, 1 open, 2 closed
    g = np.zeros(cells, dtype=np.int32)
    parent = np.full(cells, -1, dtype=np.int64)
    open_list = np.empty(cells, dtype=np.int64)
    where = np.full(cells, -1, dtype=np.int64)
    nb = np.empty(4, dtype=np.int64)
    chain = np.empty(cells, dtype=np.int64)
    dx = np.array([0, 1, 0, -1])
    dy = np.array([-1, 0, 1, 0])
    stream = np.empty(2, dtype=np.uint64)
    e = 0
    p = 0
    ev_off[0] = 0
    pl_off[0] = 0
    for i in range(n):
        stream[0] = KIND_NATIVE
        stream[1] = stream_state(key, np.uint64(positions[i]))
        state[:] = 0
        parent[:] = -1
        sx, sy, gx, gy = sg[i, 0], sg[i, 1], sg[i, 2], sg[i, 3]
        start = sy * wid + sx
        goal = gy * wid + gx
        state[start] = 1
        g[start] = 0
        open_list[0] = start
        where[start] = 0
        n_open = 1
        count = 0
        if not preseed and target[i] > 0:
            op[e], ex[e], ey[e], eg[e], eh[e] = 0, sx, sy, 0, abs(sx - gx) + abs(sy - gy)
            e += 1
            count += 1
        while count < target[i] and n_open > 0:
            j = next_index(stream, n_open)
            c = open_list[j]
            n_open -= 1
            open_list[j] = open_list[n_open]
            where[open_list[j]] = j
            state[c] = 2
            cx, cy = c % wid, c // wid
            op[e], ex[e], ey[e], eg[e], eh[e] = 1, cx, cy, g[c], abs(cx - gx) + abs(cy - gy)
            e += 1
            count += 1
            if c == goal:
                break
            m = 0
            for d in range(4):
                nx, ny = cx + dx[d], cy + dy[d]
                if 0 <= nx < wid and 0 <= ny < hgt and not walls[i, ny, nx]:
                    if state[ny * wid + nx] == 0:
                        nb[m] = ny * wid + nx
                        m += 1
            for k in range(m - 1, 0, -1):  # Fisher-Yates: children in random order
                j = next_index(stream, k + 1)
                nb[k], nb[j] = nb[j], nb[k]
            for k in range(m):
                if count >= target[i]:
                    break
                q = nb[k]
                state[q] = 1
                g[q] = g[c] + 1
                parent[q] = c
                open_list[n_open] = q
                where[q] = n_open
                n_open += 1
                qx, qy = q % wid, q // wid
                op[e], ex[e], ey[e], eg[e], eh[e] = 0, qx, qy, g[q], abs(qx - gx) + abs(qy - gy)
                e += 1
                count += 1
        ev_off[i + 1] = e
        if state[goal] != 0:
            k = 0
            c = goal
            while c >= 0 and k < cells:
                chain[k] = c
                k += 1
                if c == start:
                    break
                c = parent[c]
            if chain[k - 1] == start:
                for j in range(k):
                    px[p + j] = chain[k - 1 - j] % wid
                    py[p + j] = chain[k - 1 - j] // wid
                p += k
        pl_off[i + 1] = p
    return e, p


# -- per-block construction --------------------------------------------------------------------
def _concat_rows(a: RowArrays, b: RowArrays) -> RowArrays:
    def off(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.concatenate([x, y[1:] - y[0] + x[-1]])

    return RowArrays(
        pa.concat_arrays([a.ids, b.ids]), np.concatenate([a.walls, b.walls]),
        np.concatenate([a.sg, b.sg]), off(a.ev_off, b.ev_off),
        tuple(np.concatenate([u[a.ev_off[0]:a.ev_off[-1]], v[b.ev_off[0]:b.ev_off[-1]]])
              for u, v in zip(a.ev, b.ev)),
        off(a.pl_off, b.pl_off),
        tuple(np.concatenate([u[a.pl_off[0]:a.pl_off[-1]], v[b.pl_off[0]:b.pl_off[-1]]])
              for u, v in zip(a.pl, b.pl)),
        np.concatenate([a.solvable, b.solvable]),
    )  # fmt: skip


def _gather(ev_off: np.ndarray, ev: tuple, order: np.ndarray, keep: np.ndarray | None = None):
    """Events of rows ``order`` (the first ``keep[i]`` of each), concatenated."""
    start = ev_off[:-1][order]
    lens = (ev_off[1:] - ev_off[:-1])[order]
    if keep is not None:
        lens = np.minimum(lens, keep)
    off = np.zeros(order.shape[0] + 1, dtype=np.int64)
    np.cumsum(lens, out=off[1:])
    idx = np.repeat(start - off[:-1], lens) + np.arange(int(off[-1]))
    return off, tuple(np.asarray(a)[idx].astype(t) for a, t in zip(ev, _EV_TYPES))


def derangement(n: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random permutation of ``n >= 2`` items with no fixed point (rejection)."""
    if n < 2:
        raise ValueError(f"a derangement needs at least 2 items, got {n}")
    while True:
        perm = rng.permutation(n)
        if not (perm == np.arange(n)).any():
            return perm


def _rows_kind(kind: str, rows: RowArrays, *, split: str, first: int, seed: int, dialect: str,
               profile) -> tuple:
    """``(ev_off, ev, pl_off, pl, unsolved_plan)`` of the baseline for a block of rows."""
    n = rows.walls.shape[0]
    unsolved = ~rows.solvable & (profile.unsolvable_plan == "start-goal")
    ev = tuple(np.asarray(a).astype(t) for a, t in zip(rows.ev, _EV_TYPES))
    pl = tuple(np.asarray(a).astype(np.int16) for a in rows.pl)
    positions = np.arange(first, first + n, dtype=np.int64)
    key = np.uint64(stream_key(seed, "baseline", kind, split))
    if kind == "ground-truth":
        return rows.ev_off, ev, rows.pl_off, pl, unsolved
    if kind == "swapped":
        rng = np.random.default_rng(np.random.SeedSequence(
            stream_key(seed, "baseline", kind, split, first)))  # fmt: skip
        off, sev = _gather(rows.ev_off, ev, derangement(n, rng))
        return off, sev, rows.pl_off, pl, unsolved
    if kind == "truncated":
        keep = _cut_points(key, positions, np.diff(rows.ev_off))
        off, tev = _gather(rows.ev_off, ev, np.arange(n), keep)
        return off, tev, rows.pl_off, pl, unsolved
    if kind == "greedy":
        prof = replace(get_profile("greedy"), log_start=dialect == "searchformer")
        res = solve_batch(rows.walls, rows.sg[:, :2], rows.sg[:, 2:], prof,
                          events_hint=int(np.diff(rows.ev_off).mean()) if n else 0)
        gev = tuple(a.astype(t) for a, t in zip((res.op, res.x, res.y, res.g, res.h), _EV_TYPES))
        unsolved = (res.status != 1) & (profile.unsolvable_plan == "start-goal")
        return res.ev_off, gev, res.plan_off, (res.plan_x, res.plan_y), unsolved
    # random-walk
    target = np.diff(rows.ev_off).astype(np.int64)
    cells = rows.walls.shape[1] * rows.walls.shape[2]
    out_ev = [np.empty(int(target.sum()) + 1, dtype=t) for t in _EV_TYPES]
    px = np.empty(n * cells + 1, dtype=np.int16)
    py = np.empty(n * cells + 1, dtype=np.int16)
    ev_off = np.zeros(n + 1, dtype=np.int64)
    pl_off = np.zeros(n + 1, dtype=np.int64)
    ne, np_ = _random_walks(np.ascontiguousarray(rows.walls), rows.sg.astype(np.int64), target,
                            dialect != "searchformer", key, positions, *out_ev, ev_off, px, py,
                            pl_off)
    return (ev_off, tuple(a[:ne] for a in out_ev), pl_off, (px[:np_], py[:np_]),
            np.zeros(n, dtype=bool))


def _blocks(reader: SplitReader, single_rows_merge: bool):
    """RowArrays blocks of a split; with ``single_rows_merge`` a one-row block joins the next."""
    pending = None
    for _, rows in reader.batches():
        if pending is not None:
            rows = _concat_rows(pending, rows)
            pending = None
        if single_rows_merge and rows.walls.shape[0] < 2:
            pending = rows
            continue
        yield rows
    if pending is not None:
        yield pending


_LINE_PARTS = [np.frombuffer(part, dtype=np.uint8)
               for part in (b'{"id":"', b'","completion":"', b'"}\n')]


@njit(cache=True, nogil=True, inline="always")
def _put(out, pos, src, a, b, check):
    """Copy ``src[a:b]`` to ``out[pos:]``; with ``check``, -1 if a byte needs a JSON escape."""
    for k in range(a, b):
        c = src[k]
        if check and (c < 32 or c > 126 or c == 34 or c == 92):
            return -1
        out[pos] = c
        pos += 1
    return pos


@njit(cache=True, nogil=True)
def _json_lines(id_buf, id_off, text_buf, text_off, head, middle, tail, out) -> int:
    """``{"id":"ID","completion":"TEXT"}`` lines into ``out``; returns their length, or -1 when
    a string holds a byte JSON would escape (outside printable ASCII, a quote or a backslash):
    then ``json.dumps`` must write them. Otherwise the bytes are json.dumps' own."""
    pos = 0
    for i in range(id_off.shape[0] - 1):
        pos = _put(out, pos, head, 0, head.shape[0], False)
        pos = _put(out, pos, id_buf, id_off[i], id_off[i + 1], True)
        if pos < 0:
            return -1
        pos = _put(out, pos, middle, 0, middle.shape[0], False)
        pos = _put(out, pos, text_buf, text_off[i], text_off[i + 1], True)
        if pos < 0:
            return -1
        pos = _put(out, pos, tail, 0, tail.shape[0], False)
    return pos


def _lines(ids: pa.Array, text: np.ndarray, offsets: np.ndarray) -> bytes:
    """The JSONL lines ``{"id": ..., "completion": ...}`` (compact separators) of a block:
    written by a kernel, the same bytes as ``json.dumps`` (which only strings needing escapes
    still go through)."""
    ids = ids.cast(pa.string())
    id_off = np.frombuffer(ids.buffers()[1], dtype=np.int32)[ids.offset : ids.offset + len(ids) + 1]
    id_buf = np.frombuffer(ids.buffers()[2] or b"", dtype=np.uint8)
    offsets = np.asarray(offsets, dtype=np.int64)
    size = (int(id_off[-1] - id_off[0]) + int(offsets[-1] - offsets[0])
            + len(ids) * sum(len(p) for p in _LINE_PARTS))
    out = np.empty(size, dtype=np.uint8)
    n = _json_lines(id_buf, id_off.astype(np.int64), text, offsets, *_LINE_PARTS, out)
    if n >= 0:
        return out[:n].tobytes()
    texts = to_string_array(text, offsets)
    return "".join(
        json.dumps({"id": i, "completion": t}, separators=(",", ":")) + "\n"
        for i, t in zip(ids.to_pylist(), texts.to_pylist())
    ).encode()


def _numbered(blocks):
    """``(first row, block)`` pairs: each block with the split position of its first row."""
    first = 0
    for rows in blocks:
        yield first, rows
        first += rows.walls.shape[0]


def write_baseline(
    dataset: str | Path,
    kind: str,
    output: str | Path,
    *,
    splits: list[str] | None = None,
    dialect: str | None = None,
    seed: int = 0,
    progress: bool = False,
    workers: int = 2,
) -> BaselineResult:
    """Write baseline predictions of ``kind`` (one of :data:`KINDS`) for the dataset's rows;
    blocks are made on ``workers`` threads (the file does not depend on it)."""
    if kind not in KINDS:
        raise ValueError(f"unknown baseline kind {kind!r} (allowed: {', '.join(KINDS)})")
    if dialect is not None and dialect not in NATIVE_DIALECTS:
        raise ValueError(
            f"unknown dialect {dialect!r} (allowed: {', '.join(NATIVE_DIALECTS)})"
        )
    data = load(dataset)
    names = list(splits) if splits else data.splits
    readers = []
    for name in names:
        data.shard_paths(name)
        readers.append(SplitReader(data, name))
    out = Path(output)
    if out.is_dir():
        raise ValueError(f"output {out} is a directory; give a .jsonl file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    result = BaselineResult(kind, str(out))
    bar = Progress(sum(r.rows for r in readers), f"baseline {kind}", enabled=progress,
                   unit=" rows")
    try:
        with open(tmp, "wb") as fh:
            for reader in readers:
                name = reader.split
                dia = dialect or (reader.profile.dialect
                                  if reader.profile.dialect in NATIVE_DIALECTS
                                  else "beyond-semantics")
                if kind == "swapped" and reader.rows == 1:
                    raise ValueError(f"split {name!r} has one row: nothing to swap traces with")

                def lines(block, reader=reader, name=name, dia=dia) -> tuple[int, bytes]:
                    first, rows = block
                    ev_off, ev, pl_off, pl, unsolved = _rows_kind(
                        kind, rows, split=name, first=first, seed=seed, dialect=dia,
                        profile=reader.profile)  # fmt: skip
                    buf, offsets = render("completion", dia, rows.walls, rows.sg, ev_off, ev,
                                          pl_off, pl, unsolved, not reader.profile.randomized)
                    return rows.walls.shape[0], _lines(rows.ids, buf, offsets)

                blocks = _numbered(_blocks(reader, kind == "swapped"))
                for n, chunk in ordered_map(lines, blocks, workers):
                    fh.write(chunk)
                    result.bytes += len(chunk)
                    result.lines += n
                    result.splits[name] = result.splits.get(name, 0) + n
                    bar.update(n)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
        bar.close()
    return result

