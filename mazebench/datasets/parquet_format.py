"""The Parquet writer settings every mazebench shard is written with (builder and operators).

Packed per-event columns (:mod:`.packed`) carry no statistics or dictionary. By default
(``codec="none"``) no column is compressed: folded trace values are compact without a codec,
and uncompressed shards are the fastest to write and read (a 10^6-row ``cut-tail`` ran at
204-270k rows/s from uncompressed shards, 212-238k/s from LZ4 ones; ``benchmarks/results/ops.md``,
sixth session). ``lz4`` or ``zstd`` compress the packed columns and zstd the small per-row
columns, for smaller files to distribute (30x30 Wilson: 1.3 kB per row with LZ4, 1.9 kB
uncompressed).

Row groups hold at most :data:`ROW_GROUP_ROWS` rows, so readers stream a shard in batches of
a few megabytes that stay in cache and allocator pools (one 50,000-row group of 200 MB made
every read page-fault its buffers afresh).
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .packed import LAYOUT, LAYOUT_KEY
from .shard_summary import ShardSummary, SummaryBuilder

PACKED = ("trace", "plan", "trace_anchor")
ROW_GROUP_ROWS = 8192
CODECS = ("none", "lz4", "zstd")
DEFAULT_CODEC = "none"  # folded trace values need no codec to be compact
_NO_STATISTICS = (*PACKED, "walls", "text", "id", "problem_hash", "layout_hash", "params")


def open_shard(path: Path | str, read_dictionary: list[str] | None = None) -> pq.ParquetFile:
    """A shard opened for streaming its row groups: without Arrow's pre-buffering, which on
    this machine made ``iter_batches`` over a 50,000-row shard 1.5-2.4x slower (it coalesces and
    buffers the reads of a whole row group before decoding; the page cache already holds it).
    ``read_dictionary``: columns read as Arrow dictionary arrays."""
    return pq.ParquetFile(path, pre_buffer=False, read_dictionary=read_dictionary)


def dictionary_columns(source: pq.ParquetFile, names: list[str]) -> list[str]:
    """The string columns among ``names`` that the shard stores dictionary-encoded (split,
    family, profile, params, ...): read as dictionary arrays they cost a few kB per row group
    instead of one string per row."""
    meta = source.metadata
    if meta.num_row_groups == 0:
        return []
    group = meta.row_group(0)
    schema = source.schema_arrow
    paths = [group.column(j).path_in_schema for j in range(group.num_columns)]
    return [n for n in names if pa.types.is_string(schema.field(n).type) and n in paths
            and group.column(paths.index(n)).has_dictionary_page]


def choose_memory_pool() -> str:
    """Make jemalloc Arrow's default memory pool unless ``ARROW_DEFAULT_MEMORY_POOL`` names
    one (the command line calls this; a library user's process is left alone), and let it keep
    the pages it frees for reuse instead of returning them at once (Arrow's setting), since a
    command is one batch job that gives everything back when it exits.

    Why: memory given back and faulted in again is expensive here. Arrow's default, mimalloc,
    made a 10^6-row ``swap`` read its split in 5.4 s (7.9 s of system time) against 2.0 s with
    jemalloc (sixth session); keeping freed pages made a new-process ``swap`` 0.3 s faster
    (4.3-4.6 s against 4.7-4.9 s of wall time in interleaved runs, eighth session). On this
    machine, a virtual machine whose host backs memory lazily and takes back what the guest
    frees (free page reporting), a page the process has not touched yet costs about 1.7 s per
    GB on first touch. Returns the pool's name."""
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        try:
            pa.set_memory_pool(pa.jemalloc_memory_pool())
            pa.jemalloc_set_decay_ms(-1)  # keep freed pages until exit
        except (NotImplementedError, pa.ArrowNotImplementedError):
            pass  # a pyarrow built without jemalloc: keep its default
    return pa.default_memory_pool().backend_name


def check_codec(codec: str) -> str:
    if codec not in CODECS:
        raise ValueError(f"unknown compression {codec!r} for the packed columns "
                         f"(allowed: {', '.join(CODECS)})")
    return codec


class _HashingFile(io.RawIOBase):
    """A file opened for writing that hashes (sha256) and counts the bytes written through it.

    Parquet writes a file front to back, so the digest is the file's: the shard's manifest hash
    costs no second read of the file (0.05-0.1 s per 50,000-row shard on this machine)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.file = open(path, "wb")  # noqa: SIM115 - closed by close()
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.digest.update(data)
        written = self.file.write(data)
        self.size += written
        return written

    def fsync(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self) -> None:
        if not self.closed:
            self.file.close()
        super().close()


class ShardWriter:
    """Write one shard from a sequence of tables atomically: a hidden temporary file, fsync,
    then rename, so a killed run never leaves a partial shard visible. :meth:`close` returns
    the shard's :class:`ShardSummary` (sha256 taken as the bytes are written, statistics from
    the tables written)."""

    def __init__(self, path: Path, schema: pa.Schema, metadata: dict[bytes, bytes], *,
                 codec: str = DEFAULT_CODEC, fsync: bool = True) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self.tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        self.schema = schema.with_metadata({**(schema.metadata or {}), **metadata,
                                            LAYOUT_KEY: LAYOUT})
        names = schema.names
        packed = check_codec(codec)
        small = "none" if packed == "none" else "zstd"  # "none": no codec anywhere
        compression = {c: (packed if c in PACKED else small) for c in names}
        dictionary = [c for c in names if (c not in _NO_STATISTICS or c == "params")
                      and pa.types.is_string(schema.field(c).type)]  # params: one JSON per split
        statistics = [c for c in names if c not in _NO_STATISTICS]
        self.sink = _HashingFile(self.tmp)
        try:
            self.writer = pq.ParquetWriter(self.sink, self.schema, compression=compression,
                                           use_dictionary=dictionary,
                                           write_statistics=statistics)
        except BaseException:
            self.sink.close()
            self.tmp.unlink(missing_ok=True)
            raise
        self.summary = SummaryBuilder()

    def write(self, table: pa.Table) -> None:
        table = table.replace_schema_metadata(self.schema.metadata)
        self.writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
        self.summary.add(table)

    def close(self, metadata: dict[bytes, bytes] | None = None) -> ShardSummary:
        """Finish the file (``metadata``: key-value pairs known only at the end), rename it
        into place and return its summary."""
        if metadata:
            self.writer.add_key_value_metadata(metadata)
        self.writer.close()
        if self.fsync:
            self.sink.fsync()
        self.sink.close()
        os.replace(self.tmp, self.path)
        return self.summary.finish(self.sink.size, self.sink.digest.hexdigest())

    def abort(self) -> None:
        try:
            self.writer.close()
        finally:
            self.sink.close()
            self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, kind, value, tb) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def write_shard_file(table: pa.Table, path: Path, metadata: dict[bytes, bytes], *,
                     codec: str = DEFAULT_CODEC, fsync: bool = True) -> ShardSummary:
    """Write ``table`` to ``path`` atomically with the shard settings; returns its summary."""
    writer = ShardWriter(path, table.schema, metadata, codec=codec, fsync=fsync)
    try:
        writer.write(table)
    except BaseException:
        writer.abort()
        raise
    return writer.close()
