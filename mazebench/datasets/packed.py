"""Packed per-event columns: a trace, a plan or per-event labels as one binary value per row.

A row's value holds its records (little-endian, no padding) as folded byte planes
(:mod:`.folded`): the bytes split into planes (byte 0 of every record, then byte 1, ...: Parquet's
BYTE_STREAM_SPLIT inside the value, :mod:`.planes`), and every plane whose bytes are all equal
folded to that one byte, behind a 6-byte header (record count, mask of the planes stored in
full). A 30x30 Wilson trace takes 1.5 kB instead of 3.9 kB, so shards need no codec on the trace
and operators edit the values without rebuilding records (measured in :mod:`.folded`). Any reader
turns a value into records with numpy alone, no mazebench needed::

    import numpy as np, pyarrow.parquet as pq
    TRACE = np.dtype([("op", "i1"), ("x", "<i2"), ("y", "<i2"), ("g", "<i4"), ("h", "<i4")])
    PLAN = np.dtype([("x", "<i2"), ("y", "<i2")])

    def records(value, dtype):
        b, s = np.frombuffer(value or b"", np.uint8), dtype.itemsize
        if not b.size:
            return np.empty(0, dtype)
        n, mask = int(b[:4].view("<u4")[0]), int(b[4:6].view("<u2")[0])
        full = np.array([mask >> k & 1 for k in range(s)], bool)
        planes = np.empty((s, n), np.uint8)
        planes[~full] = b[6 : 6 + s - full.sum(), None]
        planes[full] = b[6 + s - full.sum() :].reshape(full.sum(), n)
        return np.ascontiguousarray(planes.T).view(dtype).ravel()

    row = pq.read_table("data/train/part-00000.parquet").slice(0, 1).to_pylist()[0]
    trace = records(row["trace"], TRACE)        # trace["x"], trace["g"], ...
    plan = records(row["plan"], PLAN)

(``df.trace.map(lambda b: records(b, TRACE))`` in pandas.) One binary value per row was chosen by
measurement (``benchmarks/bench_generate.py``; DESIGN.md "Performance"): on this machine a 30x30
trace of about 300 events writes to Parquet about 4x faster as one binary value than as five
``list<int>`` columns, whose repetition levels dominate both writing and reading. Datasets of
``format_version`` 1 (records back to back) and 2 (byte planes, none folded) are refused.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .folded import HEADER, fold, range_counts, to_field, unfold
from .planes import field_to_planes, planes_to_records, records_to_planes

# The numpy-only reader the module docstring, the README and every dataset card give (tests run
# this text, so the documented reader is the tested one).
READER = """\
def records(value, dtype):
    b, s = np.frombuffer(value or b"", np.uint8), dtype.itemsize
    if not b.size:
        return np.empty(0, dtype)
    n, mask = int(b[:4].view("<u4")[0]), int(b[4:6].view("<u2")[0])
    full = np.array([mask >> k & 1 for k in range(s)], bool)
    planes = np.empty((s, n), np.uint8)
    planes[~full] = b[6 : 6 + s - full.sum(), None]
    planes[full] = b[6 + s - full.sum() :].reshape(full.sum(), n)
    return np.ascontiguousarray(planes.T).view(dtype).ravel()
"""

TRACE_DTYPE = np.dtype([("op", "i1"), ("x", "<i2"), ("y", "<i2"), ("g", "<i4"), ("h", "<i4")])
PLAN_DTYPE = np.dtype([("x", "<i2"), ("y", "<i2")])
LABEL_DTYPE = np.dtype([("label", "i1")])

TRACE_FIELDS = ("op", "x", "y", "g", "h")

# Dataset format: 3 = packed columns in folded byte planes (2: byte planes, none folded;
# 1: records back to back). Every shard also says so in its Parquet key-value metadata.
FORMAT_VERSION = 3
LAYOUT_KEY = b"mazebench.packed_layout"
LAYOUT = b"folded-byte-planes"


def check_format(manifest: dict, where: str) -> None:
    """Raise a one-line ``ValueError`` unless ``manifest`` describes a dataset this version
    reads (``format_version`` 3: folded byte planes)."""
    version = manifest.get("format_version", 1)
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{where}: dataset format_version {version}, this mazebench reads "
            f"{FORMAT_VERSION} (folded byte planes; version 2 stored every plane, version 1 "
            "records back to back); regenerate it with this version"
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


def _fold(off: np.ndarray, planes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(byte_off, data)``: the folded values of rows of full planes (row ``i``:
    ``(off[i] - off[0]) * size`` bytes on)."""
    byte_off = (off - off[0]) * size
    n = off.shape[0] - 1
    out = np.empty(planes.shape[0] + n * (HEADER + size), dtype=np.uint8)
    out_off = np.empty(n + 1, dtype=np.int64)
    end = fold(byte_off, planes, size, out_off, out)
    return out_off, out[:end]


def pack(off: np.ndarray, dtype: np.dtype, *fields: np.ndarray,
         max_chunk_bytes: int = _MAX_CHUNK_BYTES) -> pa.Array | pa.ChunkedArray:
    """The binary column of rows ``off[i]..off[i+1]`` of ``fields`` (in ``dtype``'s order);
    a chunked column when the values exceed ``max_chunk_bytes`` (Arrow's 32-bit offsets)."""
    off = np.asarray(off, dtype=np.int64)
    size = dtype.itemsize
    planes = np.empty((int(off[-1]) - int(off[0])) * size, dtype=np.uint8)
    for (_, position, width), values in zip(_layout(dtype), fields):
        field_to_planes(off, np.ascontiguousarray(values), planes, size, position, width)
    return _column(*_fold(off, planes, size), max_chunk_bytes)


def fold_records(off: np.ndarray, records: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(byte_off, data)``: the folded values of rows ``records[off[i]:off[i+1]]`` (a
    contiguous record array), ``byte_off[0] == 0``."""
    off = np.asarray(off, dtype=np.int64)
    size = records.dtype.itemsize
    src = np.ascontiguousarray(records[int(off[0]) : int(off[-1])]).view(np.uint8)
    if size == 1:
        return _fold(off, src, size)
    planes = np.empty_like(src)
    records_to_planes((off - off[0]) * size, src, planes, size)
    return _fold(off, planes, size)


def pack_records(off: np.ndarray, records: np.ndarray, *,
                 max_chunk_bytes: int = _MAX_CHUNK_BYTES) -> pa.Array | pa.ChunkedArray:
    """The binary column of rows ``records[off[i]:off[i+1]]`` (a contiguous record array)."""
    return _column(*fold_records(off, records), max_chunk_bytes)


def _column(byte_off: np.ndarray, data: np.ndarray,
            max_chunk_bytes: int) -> pa.Array | pa.ChunkedArray:
    """A binary column of the values ``data[byte_off[i]:byte_off[i + 1]]`` (``byte_off[0]``
    is 0), in chunks of at most ``max_chunk_bytes`` when needed."""
    n = byte_off.shape[0] - 1
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


def binary_column(byte_off: np.ndarray, data: np.ndarray, *,
                  max_chunk_bytes: int = _MAX_CHUNK_BYTES) -> pa.Array | pa.ChunkedArray:
    """The column of folded values already encoded (``data``, row ``i`` at
    ``byte_off[i] - byte_off[0]``), e.g. by the row operations of :mod:`.folded`."""
    byte_off = np.asarray(byte_off, dtype=np.int64)
    return _column(byte_off - byte_off[0], data[int(byte_off[0]) : int(byte_off[-1])],
                   max_chunk_bytes)


def _binary(n: int, byte_off: np.ndarray, data: np.ndarray) -> pa.Array:
    return pa.BinaryArray.from_buffers(
        pa.binary(), n, [None, pa.py_buffer(byte_off.astype(np.int32)), pa.py_buffer(data)]
    )


def folded_of(column, dtype: np.dtype, name: str = "column"
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(off, byte_off, data)`` of a packed binary column: row offsets counted in records
    (int64), value offsets in bytes (int64) and the values' bytes (a view of the column's
    data when it is one chunk).

    ``column`` is a pyarrow (Large)BinaryArray or ChunkedArray of them; nulls read as empty rows.
    A value whose length disagrees with its header raises ``ValueError`` naming the column.
    """
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    b_offs, datas = [np.zeros(1, dtype=np.int64)], []
    total = 0
    for chunk in chunks:
        if chunk.type not in (pa.binary(), pa.large_binary()):
            raise ValueError(f"{name}: expected a binary column, found {chunk.type}")
        n = len(chunk)
        if n == 0:
            continue
        if chunk.null_count:
            chunk = pc.fill_null(chunk, pa.scalar(b"", chunk.type))
        bufs = chunk.buffers()
        width = np.int64 if chunk.type == pa.large_binary() else np.int32
        b_off = np.frombuffer(bufs[1], dtype=width)[chunk.offset : chunk.offset + n + 1]
        b_off = b_off.astype(np.int64)
        data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.empty(0,
                                                                                      np.uint8)
        datas.append(data[b_off[0] : b_off[-1]])
        b_offs.append(total + b_off[1:] - b_off[0])
        total += int(b_off[-1] - b_off[0])
    raw = datas[0] if len(datas) == 1 else (np.concatenate(datas) if datas else
                                            np.empty(0, np.uint8))
    byte_off = np.concatenate(b_offs)
    return record_offsets(byte_off[:-1], byte_off[1:], raw, dtype, name), byte_off, raw


def record_offsets(starts: np.ndarray, ends: np.ndarray, data: np.ndarray, dtype: np.dtype,
                   name: str = "column") -> np.ndarray:
    """Row offsets counted in records (int64, rows + 1) of the folded values
    ``data[starts[r]:ends[r]]``; a value whose length disagrees with its header raises
    ``ValueError`` naming the column and the row."""
    counts = np.empty(starts.shape[0], dtype=np.int64)
    bad = range_counts(starts, ends, data, dtype.itemsize, counts)
    if bad >= 0:
        length = int(ends[bad] - starts[bad])
        raise ValueError(f"{name}: row {bad} holds a malformed value ({length} bytes) for "
                         f"{dtype.itemsize}-byte records in folded byte planes")
    off = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=off[1:])
    return off


def unpack(column, dtype: np.dtype, name: str = "column",
           out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Row offsets (int64, counted in records) and the records (a new contiguous array of
    ``dtype``, or ``out`` filled) of a packed binary column; see :func:`folded_of` for what it
    accepts. ``out`` must hold exactly the column's records."""
    off, byte_off, data = folded_of(column, dtype, name)
    size = dtype.itemsize
    if out is not None and (out.dtype != dtype or out.shape != (int(off[-1]),)):
        raise ValueError(f"{name}: {int(off[-1])} records do not fit the {out.shape[0]} "
                         "records given for them")
    raw = np.empty(int(off[-1]) * size, np.uint8) if out is None else out.view(np.uint8)
    if size == 1:
        unfold(byte_off, data, size, raw)
        return off, raw.view(dtype)
    planes = np.empty_like(raw)
    unfold(byte_off, data, size, planes)
    planes_to_records(off * size, planes, raw, size)
    return off, raw.view(dtype)


def unpack_fields(column, dtype: np.dtype, name: str = "column") -> tuple[np.ndarray, ...]:
    """``(off, field_0, field_1, ...)``: row offsets and one contiguous array per field, read
    straight from the folded planes."""
    off, byte_off, data = folded_of(column, dtype, name)
    return (off, *fields_of(off, byte_off, data, dtype))


def fields_of(off: np.ndarray, byte_off: np.ndarray, data: np.ndarray, dtype: np.dtype,
              names: tuple[str, ...] | None = None) -> list[np.ndarray]:
    """The fields ``names`` (default: all) of folded values as contiguous arrays."""
    fields = []
    for field_name, position, width in _layout(dtype):
        if names is not None and field_name not in names:
            continue
        values = np.empty(int(off[-1]), dtype=dtype.fields[field_name][0])
        to_field(byte_off, data, dtype.itemsize, position, width, values)
        fields.append(values)
    return fields


def encode_value(records: np.ndarray) -> bytes:
    """One row's value from its records (numpy only; the inverse of :func:`decode_value`)."""
    records = np.ascontiguousarray(records)
    size, n = records.dtype.itemsize, records.shape[0]
    if n == 0:
        return b""
    planes = records.view(np.uint8).reshape(n, size).T
    stored = (planes != planes[:, :1]).any(axis=1)
    mask = int(np.dot(stored, 1 << np.arange(size)))
    return (np.array([n], "<u4").tobytes() + np.array([mask], "<u2").tobytes()
            + planes[~stored, 0].tobytes() + planes[stored].tobytes())


def decode_value(value: bytes | None, dtype: np.dtype) -> np.ndarray:
    """The records of one row's value (``None`` reads as no records), numpy only."""
    b = np.frombuffer(value or b"", np.uint8)
    size = dtype.itemsize
    if not b.size:
        return np.empty(0, dtype)
    n, mask = int(b[:4].view("<u4")[0]), int(b[4:6].view("<u2")[0])
    stored = np.array([(mask >> k) & 1 for k in range(size)], bool)
    planes = np.empty((size, n), np.uint8)
    planes[~stored] = b[HEADER : HEADER + size - stored.sum(), None]
    planes[stored] = b[HEADER + size - stored.sum():].reshape(stored.sum(), n)
    return np.ascontiguousarray(planes.T).view(dtype).ravel()


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
    """Records per row of a packed column (read from the values' headers)."""
    off = folded_of(column, dtype)[0]
    return np.diff(off)
