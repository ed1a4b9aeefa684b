"""Byte-exact reproduction of the Beyond Semantics authors' dataset generator (arXiv 2505.13775).

The upstream generator draws from ONE linear congruential stream per output file (state seeded
with ``2 * seed + mode_bit``) and writes one ``{"text": ...}`` line per example. Here the same
family, placement and A* kernels that native generation uses run on that stream
(:mod:`mazebench.rng`), inside one compiled loop that also serialises the text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from .conventions.beyond_semantics import TextTables, max_text_bytes, write_jsonl
from .mazes.dispatch import carve_walls
from .mazes.placement import P_SEARCHFORMER, get_policy, place
from .mazes.registry import get_family
from .rng import lcg_stream
from .search.kernel import (
    STATUS_UNSOLVABLE,
    TIE_FIFO,
    search_ws,
    trace_capacity,
    workspace_sizes,
)

UPSTREAM_GENERATORS = (
    "wilson",
    "kruskal",
    "dfs",
    "drunkards_walk",
    "searchformer",
    "cellular_automata",
)
MODES = {"train": 0, "test": 1}
_BS_ORDER = np.array([0, 1, 2, 3], dtype=np.int64)  # N E S W: up, right, down, left


@njit(cache=True)
def _reproduce_batch(
    fid, rows, cols, stream, fparams, pid, count, buf, bound, unsolved, first, tables
):
    """Generate up to ``count`` examples into ``buf``; returns ``(done, bytes, n_unsolved)``.

    Stops early when fewer than ``bound`` bytes are left. Indices (offset by ``first``) of
    examples whose goal is unreachable are written to ``unsolved``. ``done == -1`` signals a
    maze on which the upstream placement cannot run (fewer than two floor cells).
    """
    cells = rows * cols
    cap = trace_capacity(cells)
    op = np.empty(cap, dtype=np.int8)
    ex = np.empty(cap, dtype=np.int16)
    ey = np.empty(cap, dtype=np.int16)
    eg = np.empty(cap, dtype=np.int32)
    eh = np.empty(cap, dtype=np.int32)
    px = np.empty(cells + 2, dtype=np.int16)
    py = np.empty(cells + 2, dtype=np.int16)
    placed = np.empty(4, dtype=np.int64)
    n8, n32, n64 = workspace_sizes(rows, cols)
    ws8 = np.empty(n8, dtype=np.int8)
    ws32 = np.empty(n32, dtype=np.int32)
    ws64 = np.empty(n64, dtype=np.int64)
    no_params = np.empty(0, dtype=np.float64)
    pos = 0
    done = 0
    n_unsolved = 0
    while done < count and pos + bound <= buf.shape[0]:
        walls = carve_walls(fid, rows, cols, stream, fparams, placed)
        if pid == P_SEARCHFORMER:
            sx, sy, gx, gy = placed[0], placed[1], placed[2], placed[3]
        else:
            sx, sy, gx, gy, ok = place(walls, stream, pid, no_params)
            if not ok:
                return -1, pos, n_unsolved
        ne, n_plan, status, _ = search_ws(
            walls, sx, sy, gx, gy, 1, 1, True, TIE_FIFO, True, _BS_ORDER, False, False, 0,
            stream, op, ex, ey, eg, eh, px, py, ws8, ws32, ws64,
        )
        if status == STATUS_UNSOLVABLE:
            # Upstream follows the missing parent pointer once: the "plan" is start, goal.
            px[0] = sx
            py[0] = sy
            px[1] = gx
            py[1] = gy
            n_plan = 2
            unsolved[n_unsolved] = first + done
            n_unsolved += 1
        pos = write_jsonl(
            buf, pos, tables, walls, sx, sy, gx, gy, op, ex, ey, eg, eh, ne, px, py, n_plan
        )
        done += 1
    return done, pos, n_unsolved


@dataclass
class ReproduceReport:
    """What a reproduction wrote: example count, bytes and the unsolvable example indices."""

    count: int = 0
    bytes: int = 0
    unsolvable: list[int] = field(default_factory=list)


def resolve_generator(generator: str, params: Mapping[str, object] | None = None):
    """Validate an upstream generator name and its parameters; returns (family, float params)."""
    if generator not in UPSTREAM_GENERATORS:
        allowed = ", ".join(UPSTREAM_GENERATORS)
        raise ValueError(f"unknown upstream generator {generator!r} (allowed: {allowed})")
    family = get_family(generator)
    return family, family.params.to_array(params)


def reproduce_chunks(
    generator: str,
    *,
    mode: str = "train",
    seed: int = 42,
    count: int = 1000,
    rows: int = 30,
    cols: int = 30,
    params: Mapping[str, object] | None = None,
    report: ReproduceReport | None = None,
    chunk_bytes: int = 1 << 24,
) -> Iterator[bytes]:
    """Yield the upstream JSONL file's bytes in chunks (concatenate them to get the file)."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r} (allowed: train, test)")
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    if not (2 <= rows <= 32767 and 2 <= cols <= 32767):
        raise ValueError(f"rows and cols must be in [2, 32767], got {rows}x{cols}")
    family, fparams = resolve_generator(generator, params)
    pid = get_policy(family.placement).pid
    stream = lcg_stream(seed, MODES[mode])
    bound = max_text_bytes(rows, cols)
    tables = TextTables(rows, cols).arrays()
    buf = np.empty(max(chunk_bytes, 2 * bound), dtype=np.uint8)
    unsolved = np.empty(max(count, 1), dtype=np.int64)
    report = report if report is not None else ReproduceReport()
    while report.count < count:
        done, nbytes, n_unsolved = _reproduce_batch(
            family.fid, rows, cols, stream, fparams, pid, count - report.count, buf, bound,
            unsolved, report.count, tables,
        )
        if done < 0:
            raise ValueError(
                f"{generator}: example {report.count + 1} has fewer than two floor cells; "
                "the upstream placement cannot run on it"
            )
        report.unsolvable.extend(int(i) for i in unsolved[:n_unsolved])
        report.count += done
        report.bytes += nbytes
        yield buf[:nbytes].tobytes()


def reproduce_bytes(generator: str, **kwargs) -> bytes:
    """The whole upstream file as bytes (convenient for tests and small counts)."""
    return b"".join(reproduce_chunks(generator, **kwargs))
