"""The Parquet writer settings every mazebench shard is written with (builder and operators).

Packed per-event columns (:mod:`.packed`) are compressed with LZ4 and carry no statistics or
dictionary; the small per-row columns use zstd. Measured on this machine for 30x30 Wilson shards
(``benchmarks/bench_generate.py``): zstd on the trace column writes at about 40k rows/s and
1.25 kB/row, LZ4 at about 76k rows/s and 2.0 kB/row and reads about 3x faster, so LZ4 keeps
Parquet off the critical path of generation and of the operators.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

PACKED = ("trace", "plan", "trace_anchor")
_NO_STATISTICS = (*PACKED, "walls", "text", "id", "problem_hash", "layout_hash", "params")


def write_shard_file(table: pa.Table, path: Path, metadata: dict[bytes, bytes],
                     *, fsync: bool = True) -> None:
    """Write ``table`` to ``path`` atomically: a hidden temporary name, fsync, then rename."""
    path = Path(path)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    names = table.column_names
    compression = {c: ("lz4" if c in PACKED else "zstd") for c in names}
    dictionary = [c for c in names if c not in _NO_STATISTICS
                  and pa.types.is_string(table.schema.field(c).type)]
    statistics = [c for c in names if c not in _NO_STATISTICS]
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    pq.write_table(table, tmp, compression=compression, use_dictionary=dictionary,
                   write_statistics=statistics, row_group_size=max(1, len(table)))
    if fsync:
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
    os.replace(tmp, path)
