"""The packed trace column: records back to back vs byte planes, compressed and in Parquet.

Generates a block of 30x30 Wilson examples (Beyond Semantics A*), builds the trace column both
ways and measures, on one core: LZ4 / zstd compression speed and size of the column's bytes in
1 MB pages (as Parquet compresses them), and a Parquet write and read of the column alone.
Why the dataset format stores byte planes (:mod:`mazebench.datasets.planes`)::

    python benchmarks/bench_packed.py --rows 50000
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from bench_ops import best  # the timing helper of the sibling script

from mazebench.datasets.batch import generate_block
from mazebench.datasets.packed import TRACE_DTYPE, _column, records_of
from mazebench.datasets.parquet_format import open_shard
from mazebench.datasets.planes import records_to_planes
from mazebench.mazes.api import MazeSpec
from mazebench.search.profiles import get_profile

PAGE = 1 << 20
REPEAT = 3  # best of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50000)
    args = parser.parse_args()
    spec = MazeSpec.create("wilson", 30, 30)
    block = generate_block(spec, get_profile("beyond-semantics"), 7, 0, args.rows)
    n = len(block)
    off = block.ev_off
    fields = [v[: off[-1]] for v in (block.ev_op, block.ev_x, block.ev_y, block.ev_g, block.ev_h)]
    records = records_of(TRACE_DTYPE, *fields).view(np.uint8)
    planes = np.empty_like(records)
    records_to_planes(off * TRACE_DTYPE.itemsize, records, planes, TRACE_DTYPE.itemsize)
    size = TRACE_DTYPE.itemsize
    print(f"{n} rows, {records.nbytes / n:,.0f} bytes of trace per row, one core, best of 3\n")
    print("| layout | codec | compress MB/s | bytes per row | Parquet write rows/s | "
          "Parquet read rows/s |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in (("records", records), ("byte planes", planes)):
            for codec in ("lz4", "zstd"):
                c = pa.Codec(codec)
                pages = [pa.py_buffer(data[i : i + PAGE]) for i in range(0, len(data), PAGE)]
                packed_size = sum(c.compress(p).size for p in pages)
                t_c = best(lambda c=c, pages=pages: [c.compress(p) for p in pages], REPEAT)
                table = pa.table({"trace": _column(off - off[0], data, size, (1 << 31) - 1)})
                path = Path(tmp) / f"{name}-{codec}.parquet"
                t_w = best(lambda t=table, p=path, codec=codec: pq.write_table(
                    t, p, compression=codec, use_dictionary=False, write_statistics=False,
                    row_group_size=8192), REPEAT)
                t_r = best(lambda p=path: [b for b in open_shard(p).iter_batches(8192)], REPEAT)
                print(f"| {name} | {codec} | {data.nbytes / t_c / 1e6:,.0f} | "
                      f"{packed_size / n:,.0f} | {n / t_w:,.0f} | {n / t_r:,.0f} |")


if __name__ == "__main__":
    main()
