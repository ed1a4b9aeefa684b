"""The Parquet row schema of a mazebench dataset and the conversion of blocks to Arrow tables.

One row is one example. Columns (all readable with pyarrow, pandas, polars and Hugging Face
``datasets`` without mazebench):

==================  ===================  ====================================================
column              type                 meaning
==================  ===================  ====================================================
id                  string               ``<split>-<index>`` (unique in the dataset)
split               string               split name
index               int64                candidate index in the split's random stream
problem_hash        string               blake2b-128 of H, W, walls, start, goal (hex)
layout_hash         string               blake2b-128 of H, W, walls (hex)
family              string               maze family
params              string               JSON of the family / placement / loop parameters
profile             string               solver profile name
height, width       int16                grid size
walls               binary               row-major walls, ``numpy.packbits`` (big bit order)
n_walls             int32                wall cells
start_x ... goal_y  int16                start and goal
solvable            bool                 the goal is reachable
trace               binary               the events, 13-byte records ``op`` int8 (0 = create,
                                         1 = close), ``x``, ``y`` int16, ``g``, ``h`` int32,
                                         little-endian, in folded byte planes (:mod:`.packed`)
plan                binary               plan cells start..goal, 4-byte records ``x``, ``y``
                                         int16, in folded byte planes (empty if unsolvable)
<metrics>           int32                see :mod:`mazebench.search.metrics`
==================  ===================  ====================================================
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..blake2b import blake2b_rows, hex_rows
from ..search.metrics import METRIC_NAMES
from .batch import Block
from .packed import PLAN_DTYPE, TRACE_DTYPE, pack_plan, pack_trace

PACKED_COLUMNS = {"trace": TRACE_DTYPE, "plan": PLAN_DTYPE}

SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("split", pa.string()),
        ("index", pa.int64()),
        ("problem_hash", pa.string()),
        ("layout_hash", pa.string()),
        ("family", pa.string()),
        ("params", pa.string()),
        ("profile", pa.string()),
        ("height", pa.int16()),
        ("width", pa.int16()),
        ("walls", pa.binary()),
        ("n_walls", pa.int32()),
        ("start_x", pa.int16()),
        ("start_y", pa.int16()),
        ("goal_x", pa.int16()),
        ("goal_y", pa.int16()),
        ("solvable", pa.bool_()),
        ("trace", pa.binary()),
        ("plan", pa.binary()),
        *[(name, pa.int32()) for name in METRIC_NAMES],
    ]
)

_PROBLEM_TAG = b"mazebench/problem/v1"
_LAYOUT_TAG = b"mazebench/layout/v1"


@dataclass(frozen=True)
class BlockHashes:
    """Packed walls and problem/layout digests of a block, one row per example (arrays, no
    Python object per example). Same definitions as :func:`mazebench.problem.problem_hash` and
    ``layout_hash``: blake2b-128 of a tag, ``<II`` H, W, (for problems ``<iiii`` start, goal)
    and the ``numpy.packbits`` walls."""

    walls: np.ndarray  # (n, ceil(H*W/8)) uint8
    problem: np.ndarray  # (n, 16) uint8 digests
    layout: np.ndarray  # (n, 16) uint8 digests

    def problem_keys(self) -> np.ndarray:
        """64-bit keys (first 8 digest bytes, little-endian), as ``dedupe.hex_keys`` reads."""
        return _keys(self.problem)

    def layout_keys(self) -> np.ndarray:
        return _keys(self.layout)

    def problem_hex(self) -> list[str]:
        return _hex_column(self.problem).to_pylist()

    def layout_hex(self) -> list[str]:
        return _hex_column(self.layout).to_pylist()


def _keys(digests: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(digests[:, :8]).view("<u8").reshape(-1).astype(np.uint64)


def _hex_column(digests: np.ndarray) -> pa.Array:
    return fixed_width_column(hex_rows(digests), pa.string())


def fixed_width_column(rows: np.ndarray, type_: pa.DataType) -> pa.Array:
    """A string or binary Arrow array whose value ``i`` is the bytes of ``rows[i]`` (a 2-D
    ``uint8`` array), built from buffers."""
    n, width = rows.shape
    offsets = np.arange(n + 1, dtype=np.int32) * np.int32(width)
    data = np.ascontiguousarray(rows).reshape(-1)
    return pa.Array.from_buffers(type_, n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def numeric_column(values: np.ndarray) -> pa.Array:
    """A null-free Arrow array of a 1-D numeric or bool numpy array, built from its buffer
    (``pa.array`` on a numpy array imports pandas: 0.24 s in every worker process)."""
    values = np.ascontiguousarray(values)
    if values.dtype == np.bool_:
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])
    type_ = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(type_, len(values), [None, pa.py_buffer(values)])


def repeated_string(value: str, n: int) -> pa.Array:
    """A string array of ``n`` copies of ``value``, built from buffers."""
    raw = np.frombuffer(value.encode(), dtype=np.uint8)
    return fixed_width_column(np.broadcast_to(raw, (n, raw.shape[0])), pa.string())


def block_hashes(block: Block) -> BlockHashes:
    """Packed walls, problem and layout digests of every example of ``block``."""
    n, h, w = block.walls.shape
    packed = np.packbits(block.walls.reshape(n, h * w), axis=1)
    size = np.frombuffer(struct.pack("<II", h, w), dtype=np.uint8)

    def messages(tag: bytes, *parts: np.ndarray) -> np.ndarray:
        head = np.concatenate([np.frombuffer(tag, dtype=np.uint8), size])
        return np.concatenate([np.broadcast_to(head, (n, head.shape[0])), *parts], axis=1)

    corners = np.ascontiguousarray(block.sg.astype("<i4")).view(np.uint8).reshape(n, 16)
    layout = blake2b_rows(messages(_LAYOUT_TAG, packed), 16)
    problem = blake2b_rows(messages(_PROBLEM_TAG, corners, packed), 16)
    return BlockHashes(packed, problem, layout)


def block_table(
    block: Block,
    keep: np.ndarray,
    *,
    split: str,
    family: str,
    params: dict,
    profile: str,
    hashes: BlockHashes,
) -> pa.Table:
    """The Arrow table of the examples ``keep`` (row positions in the block, ascending)."""
    n_all, h, w = block.walls.shape
    keep = np.asarray(keep, dtype=np.int64)
    n = len(keep)
    indices = block.indices[keep]
    sg = block.sg[keep]
    params_json = json.dumps(params, sort_keys=True, separators=(",", ":"))
    index = numeric_column(indices.astype(np.int64))
    columns = {
        "id": pc.binary_join_element_wise(repeated_string(split, n), pc.cast(index, pa.string()),
                                          repeated_string("-", n)),  # a str would import pandas
        "split": repeated_string(split, n),
        "index": index,
        "problem_hash": _hex_column(hashes.problem[keep]),
        "layout_hash": _hex_column(hashes.layout[keep]),
        "family": repeated_string(family, n),
        "params": repeated_string(params_json, n),
        "profile": repeated_string(profile, n),
        "height": numeric_column(np.full(n, h, dtype=np.int16)),
        "width": numeric_column(np.full(n, w, dtype=np.int16)),
        "walls": fixed_width_column(hashes.walls[keep], pa.binary()),
        "n_walls": numeric_column(
            block.walls[keep].reshape(n, h * w).sum(axis=1).astype(np.int32)),
        "start_x": numeric_column(sg[:, 0].astype(np.int16)),
        "start_y": numeric_column(sg[:, 1].astype(np.int16)),
        "goal_x": numeric_column(sg[:, 2].astype(np.int16)),
        "goal_y": numeric_column(sg[:, 3].astype(np.int16)),
        "solvable": numeric_column(block.status[keep] == 1),
    }
    full = n == n_all
    trace = pack_trace(block.ev_off, block.ev_op, block.ev_x, block.ev_y, block.ev_g, block.ev_h)
    plan = pack_plan(block.pl_off, block.pl_x, block.pl_y)
    columns["trace"] = trace if full else trace.take(numeric_column(keep))
    columns["plan"] = plan if full else plan.take(numeric_column(keep))
    metrics = block.metrics[keep]
    for j, name in enumerate(METRIC_NAMES):
        columns[name] = numeric_column(metrics[:, j].astype(np.int32))
    return pa.Table.from_pydict(columns, schema=SCHEMA)
