"""Packed per-event columns: a trace, a plan or per-event labels as one binary value per row.

Each row's value is its records back to back, little-endian, with no padding, so any reader turns
it into arrays with numpy alone, no mazebench needed::

    import numpy as np, pyarrow.parquet as pq
    TRACE = np.dtype([("op", "i1"), ("x", "<i2"), ("y", "<i2"), ("g", "<i4"), ("h", "<i4")])
    row = pq.read_table("data/train/part-00000.parquet").slice(0, 1).to_pylist()[0]
    trace = np.frombuffer(row["trace"], TRACE)        # trace["x"], trace["g"], ...
    plan = np.frombuffer(row["plan"], [("x", "<i2"), ("y", "<i2")])

(``df.trace.map(lambda b: np.frombuffer(b, TRACE))`` in pandas.) The layout was chosen by
measurement (``benchmarks/bench_generate.py``; DESIGN.md "Performance"): on this machine a 30x30
trace of about 300 events writes to Parquet about 4x faster as one binary value than as five
``list<int>`` columns, whose repetition levels dominate both writing and reading.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

TRACE_DTYPE = np.dtype([("op", "i1"), ("x", "<i2"), ("y", "<i2"), ("g", "<i4"), ("h", "<i4")])
PLAN_DTYPE = np.dtype([("x", "<i2"), ("y", "<i2")])
LABEL_DTYPE = np.dtype([("label", "i1")])

TRACE_FIELDS = ("op", "x", "y", "g", "h")
_MAX_CHUNK_BYTES = (1 << 31) - 1


def records_of(dtype: np.dtype, *fields: np.ndarray) -> np.ndarray:
    """One contiguous record array of ``dtype`` from its fields (in ``dtype``'s order)."""
    records = np.empty(fields[0].shape[0] if fields else 0, dtype=dtype)
    for name, values in zip(dtype.names, fields):
        records[name] = values
    return records


def pack(off: np.ndarray, dtype: np.dtype, *fields: np.ndarray,
         max_chunk_bytes: int = _MAX_CHUNK_BYTES) -> pa.Array | pa.ChunkedArray:
    """The binary column of rows ``off[i]..off[i+1]`` of ``fields`` (in ``dtype``'s order);
    a chunked column when the records exceed ``max_chunk_bytes`` (Arrow's 32-bit offsets)."""
    off = np.asarray(off, dtype=np.int64)
    base, stop = int(off[0]), int(off[-1])
    records = records_of(dtype, *(values[base:stop] for values in fields))
    return pack_records(off - base, records, max_chunk_bytes=max_chunk_bytes)


def pack_records(off: np.ndarray, records: np.ndarray, *,
                 max_chunk_bytes: int = _MAX_CHUNK_BYTES) -> pa.Array | pa.ChunkedArray:
    """The binary column of rows ``records[off[i]:off[i+1]]`` (a contiguous record array):
    no copy of the records."""
    off = np.asarray(off, dtype=np.int64)
    n = off.shape[0] - 1
    size = records.dtype.itemsize
    data = np.ascontiguousarray(records[int(off[0]) : int(off[-1])]).view(np.uint8)
    byte_off = (off - off[0]) * size
    if data.shape[0] <= max_chunk_bytes:
        return _binary(n, byte_off, data)
    chunks = []
    first = 0
    while first < n:
        limit = byte_off[first] + max_chunk_bytes
        last = int(np.searchsorted(byte_off, limit, side="right")) - 1
        last = max(last, first + 1)
        chunks.append(_binary(last - first, byte_off[first : last + 1] - byte_off[first],
                              data[byte_off[first] : byte_off[last]]))
        first = last
    return pa.chunked_array(chunks, type=pa.binary())


def _binary(n: int, byte_off: np.ndarray, data: np.ndarray) -> pa.Array:
    return pa.BinaryArray.from_buffers(
        pa.binary(), n, [None, pa.py_buffer(byte_off.astype(np.int32)), pa.py_buffer(data)]
    )


def unpack(column, dtype: np.dtype, name: str = "column") -> tuple[np.ndarray, np.ndarray]:
    """Row offsets (int64, counted in records) and the records of a packed binary column.

    ``column`` is a pyarrow (Large)BinaryArray or ChunkedArray of them; nulls read as empty rows.
    A value that is not a whole number of records raises ``ValueError`` naming the column.
    """
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    offs, datas = [np.zeros(1, dtype=np.int64)], []
    size = dtype.itemsize
    total = 0
    for chunk in chunks:
        if chunk.type not in (pa.binary(), pa.large_binary()):
            raise ValueError(f"{name}: expected a binary column, found {chunk.type}")
        n = len(chunk)
        if n == 0:
            continue
        bufs = chunk.buffers()
        width = np.int64 if chunk.type == pa.large_binary() else np.int32
        b_off = np.frombuffer(bufs[1], dtype=width)[chunk.offset : chunk.offset + n + 1]
        b_off = b_off.astype(np.int64)
        if chunk.null_count:
            valid = np.asarray(chunk.is_valid())
            lengths = np.where(valid, np.diff(b_off), 0)
        else:
            valid = None
            lengths = np.diff(b_off)
        bad = np.flatnonzero(lengths % size)
        if bad.size:
            raise ValueError(f"{name}: row {int(bad[0])} holds {int(lengths[bad[0]])} bytes, "
                             f"not a whole number of {size}-byte records")
        data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.empty(0,
                                                                                      np.uint8)
        if valid is None:
            datas.append(data[b_off[0] : b_off[-1]])
        else:
            datas.extend(data[b_off[i] : b_off[i + 1]] for i in np.flatnonzero(valid))
        offs.append(total + np.cumsum(lengths // size))
        total += int(lengths.sum() // size)
    raw = datas[0] if len(datas) == 1 else (np.concatenate(datas) if datas else
                                            np.empty(0, np.uint8))
    return np.concatenate(offs), raw.view(dtype)


def unpack_fields(column, dtype: np.dtype, name: str = "column") -> tuple[np.ndarray, ...]:
    """``(off, field_0, field_1, ...)``: row offsets and one contiguous array per field."""
    off, records = unpack(column, dtype, name)
    return (off, *(np.ascontiguousarray(records[f]) for f in dtype.names))


def pack_trace(off, op, x, y, g, h, **kw) -> pa.Array | pa.ChunkedArray:
    """The ``trace`` column (see :data:`TRACE_DTYPE`)."""
    return pack(off, TRACE_DTYPE, op, x, y, g, h, **kw)


def pack_plan(off, x, y) -> pa.Array | pa.ChunkedArray:
    """The ``plan`` column (see :data:`PLAN_DTYPE`)."""
    return pack(off, PLAN_DTYPE, x, y)


def unpack_trace(column) -> tuple[np.ndarray, ...]:
    """``(off, op, x, y, g, h)`` of a ``trace`` column."""
    return unpack_fields(column, TRACE_DTYPE, "trace")


def unpack_plan(column) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(off, x, y)`` of a ``plan`` column."""
    return unpack_fields(column, PLAN_DTYPE, "plan")


def row_lengths(column, dtype: np.dtype) -> np.ndarray:
    """Records per row of a packed column, without touching the data."""
    import pyarrow.compute as pc

    return np.asarray(pc.binary_length(column).fill_null(0).to_numpy(zero_copy_only=False),
                      dtype=np.int64) // dtype.itemsize
