"""Packed per-event columns: a trace, a plan or per-event labels as one binary value per row.

A row's value holds its records (little-endian, no padding) in byte-plane order
(:mod:`.planes`): byte 0 of every record, then byte 1 of every record, ... That is Parquet's
BYTE_STREAM_SPLIT inside the value; it makes the trace column 37% smaller (shards 33%) and its
Parquet writes 2.0x faster than records back to back (measured, see :mod:`.planes`). Any reader
turns a value into records with numpy alone, no mazebench needed::

    import numpy as np, pyarrow.parquet as pq
    TRACE = np.dtype([("op", "i1"), ("x", "<i2"), ("y", "<i2"), ("g", "<i4"), ("h", "<i4")])
    PLAN = np.dtype([("x", "<i2"), ("y", "<i2")])

    def records(value, dtype):
        planes = np.frombuffer(value, np.uint8).reshape(dtype.itemsize, -1)
        return np.ascontiguousarray(planes.T).view(dtype).ravel()

    row = pq.read_table("data/train/part-00000.parquet").slice(0, 1).to_pylist()[0]
    trace = records(row["trace"], TRACE)        # trace["x"], trace["g"], ...
    plan = records(row["plan"], PLAN)

(``df.trace.map(lambda b: records(b, TRACE))`` in pandas.) One binary value per row was chosen by
measurement (``benchmarks/bench_generate.py``; DESIGN.md "Performance"): on this machine a 30x30
trace of about 300 events writes to Parquet about 4x faster as one binary value than as five
``list<int>`` columns, whose repetition levels dominate both writing and reading. Datasets of
``format_version`` 1 (mazebench before the byte planes) held records back to back.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .planes import field_to_planes, planes_to_field, planes_to_records, records_to_planes

TRACE_DTYPE = np.dtype([("op", "i1"), ("x", "<i2"), ("y", "<i2"), ("g", "<i4"), ("h", "<i4")])
PLAN_DTYPE = np.dtype([("x", "<i2"), ("y", "<i2")])
LABEL_DTYPE = np.dtype([("label", "i1")])

TRACE_FIELDS = ("op", "x", "y", "g", "h")

# Dataset format: 2 = packed columns in byte planes (1: records back to back, before them).
# Every shard also says so in its Parquet key-value metadata (:data:`LAYOUT_KEY`).
FORMAT_VERSION = 2
LAYOUT_KEY = b"mazebench.packed_layout"
LAYOUT = b"byte-planes"


def check_format(manifest: dict, where: str) -> None:
    """Raise a one-line ``ValueError`` unless ``manifest`` describes a dataset this version
    reads (``format_version`` 2: byte planes)."""
    version = manifest.get("format_version", 1)
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{where}: dataset format_version {version}, this mazebench reads "
            f"{FORMAT_VERSION} (byte-plane packed columns; version 1 stored records back to "
            "back); regenerate it with this version"
        )
_MAX_CHUNK_BYTES = (1 << 31) - 1


def records_of(dtype: np.dtype, *fields: np.ndarray) -> np.ndarray:
    """One contiguous record array of ``dtype`` from its fields (in ``dtype``'s order)."""
    records = np.empty(fields[0].shape[0] if fields else 0, dtype=dtype)
    for name, values in zip(dtype.names, fields):
        records[name] = values
    return records


def _layout(dtype: np.dtype):
    """``(name, byte position, width)`` of each field of a packed record dtype."""
    return [(name, dtype.fields[name][1], dtype.fields[name][0].itemsize) for name in dtype.names]


def pack(off: np.ndarray, dtype: np.dtype, *fields: np.ndarray,
         max_chunk_bytes: int = _MAX_CHUNK_BYTES) -> pa.Array | pa.ChunkedArray:
    """The binary column of rows ``off[i]..off[i+1]`` of ``fields`` (in ``dtype``'s order);
    a chunked column when the records exceed ``max_chunk_bytes`` (Arrow's 32-bit offsets).
    The planes are written straight from the field arrays."""
    off = np.asarray(off, dtype=np.int64)
    size = dtype.itemsize
    data = np.empty((int(off[-1]) - int(off[0])) * size, dtype=np.uint8)
    for (_, position, width), values in zip(_layout(dtype), fields):
        field_to_planes(off, np.ascontiguousarray(values), data, size, position, width)
    return _column(off - off[0], data, size, max_chunk_bytes)


def pack_records(off: np.ndarray, records: np.ndarray, *,
                 max_chunk_bytes: int = _MAX_CHUNK_BYTES) -> pa.Array | pa.ChunkedArray:
    """The binary column of rows ``records[off[i]:off[i+1]]`` (a contiguous record array)."""
    off = np.asarray(off, dtype=np.int64)
    size = records.dtype.itemsize
    src = np.ascontiguousarray(records[int(off[0]) : int(off[-1])]).view(np.uint8)
    if size == 1:
        return _column(off - off[0], src, size, max_chunk_bytes)
    data = np.empty_like(src)
    records_to_planes((off - off[0]) * size, src, data, size)
    return _column(off - off[0], data, size, max_chunk_bytes)


def _column(off: np.ndarray, data: np.ndarray, size: int,
            max_chunk_bytes: int) -> pa.Array | pa.ChunkedArray:
    n = off.shape[0] - 1
    byte_off = off * size
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


def _planes_of(column, dtype: np.dtype, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Row offsets (int64, counted in records) and the concatenated plane bytes of a packed
    binary column (a view of the column's data when it is one chunk without nulls).

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
    return np.concatenate(offs), raw


def unpack(column, dtype: np.dtype, name: str = "column",
           out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Row offsets (int64, counted in records) and the records (a new contiguous array of
    ``dtype``, or ``out`` filled) of a packed binary column; see :func:`_planes_of` for what it
    accepts. ``out`` must hold exactly the column's records."""
    off, planes = _planes_of(column, dtype, name)
    size = dtype.itemsize
    if out is not None and (out.dtype != dtype or out.shape != (int(off[-1]),)):
        raise ValueError(f"{name}: {int(off[-1])} records do not fit the {out.shape[0]} "
                         "records given for them")
    if size == 1:
        if out is None:
            return off, planes.view(dtype)
        out.view(np.uint8)[:] = planes
        return off, out
    raw = np.empty_like(planes) if out is None else out.view(np.uint8)
    planes_to_records(off * size, planes, raw, size)
    return off, raw.view(dtype)


def unpack_fields(column, dtype: np.dtype, name: str = "column") -> tuple[np.ndarray, ...]:
    """``(off, field_0, field_1, ...)``: row offsets and one contiguous array per field, read
    straight from the planes."""
    off, planes = _planes_of(column, dtype, name)
    byte_off = off * dtype.itemsize
    fields = []
    for field_name, position, width in _layout(dtype):
        values = np.empty(int(off[-1]), dtype=dtype.fields[field_name][0])
        planes_to_field(byte_off, planes, dtype.itemsize, position, width, values)
        fields.append(values)
    return (off, *fields)


def encode_value(records: np.ndarray) -> bytes:
    """One row's value from its records (numpy only; the inverse of :func:`decode_value`)."""
    records = np.ascontiguousarray(records)
    size = records.dtype.itemsize
    return records.view(np.uint8).reshape(-1, size).T.tobytes()


def decode_value(value: bytes | None, dtype: np.dtype) -> np.ndarray:
    """The records of one row's value (``None`` reads as no records), numpy only."""
    planes = np.frombuffer(value or b"", dtype=np.uint8).reshape(dtype.itemsize, -1)
    return np.ascontiguousarray(planes.T).view(dtype).reshape(-1)


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
