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
                                         little-endian, packed (:mod:`.packed`)
plan                binary               plan cells start..goal, 4-byte records ``x``, ``y``
                                         int16 (empty if unsolvable)
<metrics>           int32                see :mod:`mazebench.search.metrics`
==================  ===================  ====================================================
"""

from __future__ import annotations

import hashlib
import json
import struct

import numpy as np
import pyarrow as pa

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


def block_hashes(block: Block) -> tuple[list, list[str], list[str], list[bytes], list[bytes]]:
    """Packed walls, problem and layout hashes (hex) and their raw digests, per example.

    Same definitions as :func:`mazebench.problem.problem_hash` / ``layout_hash``.
    """
    n, h, w = block.walls.shape
    packed = np.packbits(block.walls.reshape(n, h * w), axis=1)
    size = struct.pack("<II", h, w)
    sg = block.sg.astype("<i4")
    walls_bytes = [row.tobytes() for row in packed]
    base_layout = hashlib.blake2b(_LAYOUT_TAG, digest_size=16)
    base_layout.update(size)
    base_problem = hashlib.blake2b(_PROBLEM_TAG, digest_size=16)
    base_problem.update(size)
    lay_digests, prob_digests = [], []
    for wb, corners in zip(walls_bytes, sg):
        lay = base_layout.copy()
        lay.update(wb)
        lay_digests.append(lay.digest())
        prob = base_problem.copy()
        prob.update(corners.tobytes())
        prob.update(wb)
        prob_digests.append(prob.digest())
    problems = [d.hex() for d in prob_digests]
    layouts = [d.hex() for d in lay_digests]
    return walls_bytes, problems, layouts, prob_digests, lay_digests


def block_table(
    block: Block,
    keep: np.ndarray,
    *,
    split: str,
    family: str,
    params: dict,
    profile: str,
    hashes: tuple[list[bytes], list[str], list[str]],
) -> pa.Table:
    """The Arrow table of the examples ``keep`` (row positions in the block, ascending)."""
    n_all, h, w = block.walls.shape
    keep = np.asarray(keep, dtype=np.int64)
    n = len(keep)
    indices = block.indices[keep]
    walls_bytes, problems, layouts = hashes[:3]
    sg = block.sg[keep]
    params_json = json.dumps(params, sort_keys=True, separators=(",", ":"))
    columns = {
        "id": pa.array([f"{split}-{i}" for i in indices.tolist()], type=pa.string()),
        "split": pa.array([split] * n, type=pa.string()),
        "index": pa.array(indices, type=pa.int64()),
        "problem_hash": pa.array([problems[k] for k in keep.tolist()], type=pa.string()),
        "layout_hash": pa.array([layouts[k] for k in keep.tolist()], type=pa.string()),
        "family": pa.array([family] * n, type=pa.string()),
        "params": pa.array([params_json] * n, type=pa.string()),
        "profile": pa.array([profile] * n, type=pa.string()),
        "height": pa.array(np.full(n, h, dtype=np.int16)),
        "width": pa.array(np.full(n, w, dtype=np.int16)),
        "walls": pa.array([walls_bytes[k] for k in keep.tolist()], type=pa.binary()),
        "n_walls": pa.array(block.walls[keep].reshape(n, h * w).sum(axis=1).astype(np.int32)),
        "start_x": pa.array(sg[:, 0]),
        "start_y": pa.array(sg[:, 1]),
        "goal_x": pa.array(sg[:, 2]),
        "goal_y": pa.array(sg[:, 3]),
        "solvable": pa.array(block.status[keep] == 1),
    }
    full = n == n_all
    trace = pack_trace(block.ev_off, block.ev_op, block.ev_x, block.ev_y, block.ev_g, block.ev_h)
    plan = pack_plan(block.pl_off, block.pl_x, block.pl_y)
    columns["trace"] = trace if full else trace.take(pa.array(keep))
    columns["plan"] = plan if full else plan.take(pa.array(keep))
    metrics = block.metrics[keep]
    for j, name in enumerate(METRIC_NAMES):
        columns[name] = pa.array(metrics[:, j].astype(np.int32))
    return pa.Table.from_pydict(columns, schema=SCHEMA)
