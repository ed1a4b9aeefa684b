"""Locate the values of a byte-array Parquet column chunk where they lie in the file.

A shard mazebench writes without a codec (:mod:`.parquet_format`, the default) stores each
folded trace value (:mod:`.folded`) as it is: Parquet's PLAIN encoding of a byte array is a
4-byte little-endian length followed by the bytes, in data pages that each start with a
Thrift-compact ``PageHeader`` (the Apache Parquet format specification, ``parquet.thrift``).
:func:`scan_chunk` walks the pages of one column chunk in the file's bytes (a read-only memory
map: the page cache, shared, already filled) and returns every value's start and end offset,
so a reader copies the values it wants straight to their destination
(:func:`~mazebench.datasets.folded.place_rows`) instead of Arrow first decoding them into
new buffers. Arrow's decode of the ``trace`` column was most of the time and nearly all the
page faults of reading a shard (the faults, on this machine's lazily backed memory, cost more
than the copies).

Only the layout mazebench writes is read this way: an uncompressed chunk of PLAIN-encoded
data pages (version 1 or 2) of a flat column without nulls. Anything else (a codec, a
dictionary, another encoding, a null) makes :func:`scan_chunk` return a negative code, and the
caller reads the column with Arrow as before.
"""

from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from numba import njit

# result codes of scan_chunk (>= 0: values found)
OUT_OF_BOUNDS = -1
UNSUPPORTED_PAGE = -2
HAS_NULLS = -3
BAD_COUNT = -4

# Thrift compact protocol element types
_STOP, _TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, \
    _STRUCT = range(13)
_MAP_ENTRY = 1 << 16  # marks a map's stack entry: key type << 8 | value type
_DATA_PAGE, _DATA_PAGE_V2 = 0, 3
_PLAIN, _RLE = 0, 3


@njit(cache=True, nogil=True, inline="always")
def _varint(buf, p, end):
    """(value, position after it) of an unsigned LEB128 varint; position -1 past ``end``."""
    value = np.int64(0)
    shift = 0
    while p < end and shift < 64:
        b = np.int64(buf[p])
        p += 1
        value |= (b & 127) << shift
        if b < 128:
            return value, p
        shift += 7
    return value, -1


@njit(cache=True, nogil=True, inline="always")
def _zigzag(v):
    return (v >> 1) ^ -(v & 1)


@njit(cache=True, nogil=True)
def _skip(buf, p, end, kind):
    """Position after one Thrift-compact element of type ``kind`` starting at ``p`` (nested
    structs and containers walked with an explicit stack); -1 when it runs past ``end``."""
    # stack entries: (element type, elements left); a struct entry has count -1
    types = np.empty(64, np.int64)
    left = np.empty(64, np.int64)
    depth = 0
    pending = kind
    while True:
        if pending >= 0:
            t = pending
            pending = -1
            if t == _TRUE or t == _FALSE:
                pass
            elif t == _BYTE:
                p += 1
            elif t == _I16 or t == _I32 or t == _I64:
                _, p = _varint(buf, p, end)
            elif t == _DOUBLE:
                p += 8
            elif t == _BINARY:
                n, p = _varint(buf, p, end)
                if p < 0 or n > end - p:
                    return -1
                p += n
            elif t == _LIST or t == _SET or t == _MAP:
                if depth == 64 or p >= end:
                    return -1
                if t == _MAP:
                    n, p = _varint(buf, p, end)
                    if p < 0 or n < 0 or n > end:
                        return -1
                    if n > 0:  # the key and value types follow
                        if p >= end:
                            return -1
                        kv = np.int64(buf[p])
                        p += 1
                        types[depth] = _MAP_ENTRY | ((kv >> 4) << 8) | (kv & 15)
                        left[depth] = 2 * n
                        depth += 1
                    continue
                head = np.int64(buf[p])
                p += 1
                n = head >> 4
                elem = head & 15
                if n == 15:
                    n, p = _varint(buf, p, end)
                    if p < 0 or n < 0:
                        return -1
                types[depth] = elem
                left[depth] = n
                depth += 1
            elif t == _STRUCT:
                if depth == 64:
                    return -1
                types[depth] = _STRUCT
                left[depth] = -1
                depth += 1
            else:
                return -1
            if p < 0 or p > end:
                return -1
        if depth == 0:
            return p
        # the next element of the innermost container
        d = depth - 1
        if left[d] == -1:  # struct: a field header or stop
            if p >= end:
                return -1
            head = np.int64(buf[p])
            p += 1
            if head == _STOP:
                depth -= 1
                continue
            if head >> 4 == 0:  # long form: the field id follows as a zigzag varint
                _, p = _varint(buf, p, end)
                if p < 0:
                    return -1
            pending = head & 15
        elif left[d] == 0:
            depth -= 1
        else:
            left[d] -= 1
            t = types[d]
            if t & _MAP_ENTRY:  # a map: key and value types alternate
                t = ((t >> 8) & 15) if left[d] % 2 == 1 else (t & 15)
            if t == _TRUE or t == _FALSE:  # a boolean element is one byte
                if p >= end:
                    return -1
                p += 1
            else:
                pending = t


# PageHeader fields read, by (struct, field id): struct 0 is the PageHeader, 1 its
# DataPageHeader (field 5), 2 its DataPageHeaderV2 (field 8); values index the header array
PAGE_TYPE, SIZE, VALUES, ENCODING, DEF_ENCODING, NULLS, DEF_BYTES, COMPRESSED = range(8)
_SLOT = np.full((3, 9), -1, dtype=np.int64)
_SLOT[0, 1], _SLOT[0, 3] = PAGE_TYPE, SIZE
_SLOT[1, 1], _SLOT[1, 2], _SLOT[1, 3] = VALUES, ENCODING, DEF_ENCODING
_SLOT[2, 1], _SLOT[2, 2], _SLOT[2, 4], _SLOT[2, 5], _SLOT[2, 7] = \
    VALUES, NULLS, ENCODING, DEF_BYTES, COMPRESSED


@njit(cache=True, nogil=True)
def _page_header(buf, p, end, slots, header):
    """Read the ``PageHeader`` at ``p`` into ``header`` (indexed by the module's field
    constants; ``slots`` is :data:`_SLOT`); returns the position after it, -1 when
    malformed."""
    header[:] = -1
    header[DEF_ENCODING] = _RLE
    header[NULLS] = 0
    header[DEF_BYTES] = 0
    header[COMPRESSED] = 0
    field = 0
    depth = 0
    outer = 0
    while p < end:
        head = np.int64(buf[p])
        p += 1
        if head == _STOP:
            if depth == 0:
                return p
            depth = 0
            field = outer
            continue
        kind = head & 15
        if head >> 4:
            field += head >> 4
        else:
            f, p = _varint(buf, p, end)
            if p < 0:
                return -1
            field = _zigzag(f)
        slot = slots[depth, field] if 0 <= field < slots.shape[1] else -1
        if kind == _I32 or kind == _I64 or kind == _I16:
            raw, p = _varint(buf, p, end)
            if p < 0:
                return -1
            if slot >= 0:
                header[slot] = _zigzag(raw)
        elif (kind == _TRUE or kind == _FALSE) and slot == COMPRESSED:
            header[COMPRESSED] = 1 if kind == _TRUE else 0
        elif kind == _STRUCT and depth == 0 and (field == 5 or field == 8):
            depth = 1 if field == 5 else 2
            outer = field
            field = 0
        else:
            p = _skip(buf, p, end, kind)
            if p < 0:
                return -1
    return -1


@njit(cache=True, nogil=True)
def _all_defined(buf, p, end, count):
    """True when the RLE / bit-packed hybrid run of ``count`` 1-bit definition levels in
    ``buf[p:end]`` holds no 0 (no null)."""
    seen = 0
    while seen < count:
        head, p = _varint(buf, p, end)
        if p < 0:
            return False
        if head & 1:  # bit-packed: (head >> 1) groups of 8 values, one byte per group
            groups = head >> 1
            if groups > end - p:
                return False
            for g in range(groups):
                byte = np.int64(buf[p + g])
                n = min(8, count - seen - 8 * g)
                if n > 0 and (byte & ((1 << n) - 1)) != (1 << n) - 1:
                    return False
            p += groups
            seen += 8 * groups
        else:
            run = head >> 1
            if p >= end or (run > 0 and buf[p] != 1):
                return False
            p += 1
            seen += run
    return True


@njit(cache=True, nogil=True)
def _scan_chunk(buf, start, end, max_def, rows, starts, ends, slots):
    """:func:`scan_chunk` (``slots``: :data:`_SLOT`)."""
    p = start
    r = 0
    header = np.empty(8, np.int64)
    while p < end and r < rows:
        q = _page_header(buf, p, end, slots, header)
        page_type, size, values, encoding = (header[PAGE_TYPE], header[SIZE], header[VALUES],
                                             header[ENCODING])
        def_encoding, nulls, def_bytes, compressed = (header[DEF_ENCODING], header[NULLS],
                                                      header[DEF_BYTES], header[COMPRESSED])
        if q < 0 or size < 0 or size > end - q:
            return OUT_OF_BOUNDS
        page_end = q + size
        if page_type == _DATA_PAGE:
            if encoding != _PLAIN or values < 0 or values > rows - r:
                return UNSUPPORTED_PAGE
            if max_def == 1:
                if def_encoding != _RLE or q + 4 > page_end:
                    return UNSUPPORTED_PAGE
                n = (np.int64(buf[q]) | (np.int64(buf[q + 1]) << 8)
                     | (np.int64(buf[q + 2]) << 16) | (np.int64(buf[q + 3]) << 24))
                if n > page_end - q - 4:
                    return OUT_OF_BOUNDS
                if not _all_defined(buf, q + 4, q + 4 + n, values):
                    return HAS_NULLS
                q += 4 + n
        elif page_type == _DATA_PAGE_V2:
            if encoding != _PLAIN or values < 0 or values > rows - r or compressed:
                return UNSUPPORTED_PAGE
            if nulls != 0:
                return HAS_NULLS
            if def_bytes < 0 or def_bytes > page_end - q:
                return OUT_OF_BOUNDS
            q += def_bytes
        else:
            return UNSUPPORTED_PAGE  # a dictionary or index page
        for _ in range(values):
            if q + 4 > page_end:
                return OUT_OF_BOUNDS
            n = (np.int64(buf[q]) | (np.int64(buf[q + 1]) << 8)
                 | (np.int64(buf[q + 2]) << 16) | (np.int64(buf[q + 3]) << 24))
            q += 4
            if n > page_end - q:
                return OUT_OF_BOUNDS
            starts[r] = q
            ends[r] = q + n
            q += n
            r += 1
        p = page_end
    return r if r == rows else BAD_COUNT


def scan_chunk(buf: np.ndarray, start: int, end: int, max_def: int, rows: int,
               starts: np.ndarray, ends: np.ndarray) -> int:
    """Walk the data pages of the column chunk ``buf[start:end]`` and write the start and end
    offset (in ``buf``) of each of its ``rows`` values to ``starts``/``ends``. ``max_def``:
    the column's maximum definition level (0 required, 1 optional). Returns the values found
    (``rows``), or a negative code (module constants) for a layout this reader does not take."""
    return _scan_chunk(buf, start, end, max_def, rows, starts, ends, _SLOT)


def map_file(path: Path | str) -> np.ndarray:
    """The bytes of a file as a read-only array over a shared memory map (kept open while the
    array lives)."""
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        if size == 0:
            return np.empty(0, np.uint8)
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    return np.frombuffer(mapped, dtype=np.uint8)


class ChunkLocator:
    """Where the values of one byte-array column lie in a shard file, row group by row group
    (:meth:`values`), or None from :meth:`open` when the shard's layout is not one
    :func:`scan_chunk` reads (the caller then reads the column with Arrow)."""

    def __init__(self, data: np.ndarray, metadata: pq.FileMetaData, column: int,
                 max_def: int) -> None:
        self.data, self.metadata, self.column, self.max_def = data, metadata, column, max_def

    @classmethod
    def open(cls, path: Path | str, source: pq.ParquetFile, name: str) -> ChunkLocator | None:
        if source.metadata.num_row_groups == 0:
            return None
        schema = source.schema
        paths = [schema.column(k).path for k in range(len(schema))]
        if name not in paths:
            return None
        j = paths.index(name)
        col = schema.column(j)
        if col.physical_type != "BYTE_ARRAY" or col.max_repetition_level != 0 \
                or col.max_definition_level > 1:
            return None
        for g in range(source.metadata.num_row_groups):
            chunk = source.metadata.row_group(g).column(j)
            if chunk.compression != "UNCOMPRESSED" or chunk.has_dictionary_page:
                return None
        try:
            data = map_file(path)
        except (OSError, ValueError):  # a file system without memory maps: Arrow reads it
            return None
        return cls(data, source.metadata, j, col.max_definition_level)

    def values(self, group: int) -> tuple[np.ndarray, np.ndarray] | None:
        """``(starts, ends)`` (int64 offsets into :attr:`data`) of row group ``group``'s
        values, or None when a page is not in the layout read here."""
        chunk = self.metadata.row_group(group).column(self.column)
        rows = self.metadata.row_group(group).num_rows
        first = chunk.data_page_offset
        last = first + chunk.total_compressed_size
        if first < 0 or last > self.data.shape[0]:
            return None
        starts = np.empty(rows, dtype=np.int64)
        ends = np.empty(rows, dtype=np.int64)
        if scan_chunk(self.data, first, last, self.max_def, rows, starts, ends) != rows:
            return None
        return starts, ends
