"""Values of a byte-array column located in the Parquet file's pages
(mazebench.datasets.parquet_pages) against Arrow's own reading of the same file, and the
transform's fast read path against Arrow's."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mazebench.datasets import parquet_pages
from mazebench.datasets.parquet_pages import ChunkLocator, scan_chunk
from mazebench.ops import dataset, transform_dataset

from .test_ops_common import tiny_dataset  # noqa: F401 - a fixture

VALUES = st.lists(st.one_of(st.binary(max_size=40), st.binary(min_size=200, max_size=900)),
                  min_size=1, max_size=60)


def _write(path, values, *, nullable=True, **options) -> None:
    schema = pa.schema([pa.field("n", pa.int32()), pa.field("v", pa.binary(), nullable)])
    table = pa.table({"n": pa.array(range(len(values)), pa.int32()),
                      "v": pa.array(values, pa.binary())}, schema=schema)
    pq.write_table(table, path, **options)


@settings(max_examples=60, deadline=None)
@given(VALUES, st.data())
def test_located_values_are_the_values_arrow_reads(tmp_path_factory, values, data) -> None:
    nulls = data.draw(st.booleans())
    if nulls:
        values = [None if data.draw(st.integers(0, 9)) == 0 else v for v in values]
    path = tmp_path_factory.mktemp("pages") / "f.parquet"
    _write(path, values, nullable=nulls or data.draw(st.booleans()),
           use_dictionary=False, compression="none",
           row_group_size=data.draw(st.integers(1, 70)),
           data_page_size=data.draw(st.sampled_from([64, 1000, 1 << 20])),
           data_page_version=data.draw(st.sampled_from(["1.0", "2.0"])),
           write_statistics=data.draw(st.booleans()),
           write_page_index=data.draw(st.booleans()),
           write_page_checksum=data.draw(st.booleans()))
    source = pq.ParquetFile(path)
    located = ChunkLocator.open(path, source, "v")
    assert located is not None
    for g in range(source.metadata.num_row_groups):
        expected = source.read_row_group(g, columns=["v"]).column(0).to_pylist()
        ranges = located.values(g)
        if None in expected:
            assert ranges is None  # nulls: Arrow reads the group
            continue
        assert ranges is not None
        assert [bytes(located.data[a:b]) for a, b in zip(*ranges)] == expected


@pytest.mark.parametrize("options", [
    {"compression": "lz4", "use_dictionary": False},
    {"compression": "zstd", "use_dictionary": False},
    {"compression": "none", "use_dictionary": True},
])
def test_layouts_it_does_not_read_are_left_to_arrow(tmp_path, options) -> None:
    path = tmp_path / "f.parquet"
    _write(path, [b"abc", b"de"] * 20, **options)
    assert ChunkLocator.open(path, pq.ParquetFile(path), "v") is None


def test_only_flat_byte_array_columns_are_located(tmp_path) -> None:
    path = tmp_path / "f.parquet"
    pq.write_table(pa.table({"n": [1, 2], "l": [[b"a"], [b"b"]]}), path, compression="none",
                   use_dictionary=False)
    source = pq.ParquetFile(path)
    for name in ("n", "l", "missing"):
        assert ChunkLocator.open(path, source, name) is None


@settings(max_examples=200, deadline=None)
@given(VALUES, st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), min_size=1,
                        max_size=6))
def test_corrupt_pages_never_crash_or_point_outside(values, flips) -> None:
    """Model-free robustness: bytes flipped anywhere in the chunk give a negative code or
    ranges inside the buffer, never a crash or a hang."""
    sink = io.BytesIO()
    _write(sink, [v for v in values if v is not None], use_dictionary=False,
           compression="none", data_page_size=256, write_statistics=True)
    raw = sink.getvalue()
    meta = pq.ParquetFile(io.BytesIO(raw)).metadata
    chunk = meta.row_group(0).column(1)
    first, last = chunk.data_page_offset, chunk.data_page_offset + chunk.total_compressed_size
    buf = np.frombuffer(raw, np.uint8).copy()
    for where, value in flips:
        buf[first + where % (last - first)] = value
    rows = meta.row_group(0).num_rows
    starts = np.zeros(rows, np.int64)
    ends = np.zeros(rows, np.int64)
    found = scan_chunk(buf, first, last, 1, rows, starts, ends)
    assert found == rows or found in (parquet_pages.OUT_OF_BOUNDS,
                                      parquet_pages.UNSUPPORTED_PAGE,
                                      parquet_pages.HAS_NULLS, parquet_pages.BAD_COUNT)
    if found == rows:
        assert np.all((first <= starts) & (starts <= ends) & (ends <= last))


def test_fast_read_gives_the_bytes_of_arrows_read(tiny_dataset, tmp_path,  # noqa: F811
                                                  monkeypatch) -> None:
    """The transform's output does not depend on where the trace values are read from, nor
    on a split's strings being held as dictionaries."""
    chains = (["swap:within=bin,bins=3", "cut-random-suffix"], ["cut-tail:at=goal-created"],
              ["dualformer:level=mix", "anchors"], ["swap:within=family"])
    shard = next((tiny_dataset / "train").glob("*.parquet"))
    assert ChunkLocator.open(shard, pq.ParquetFile(shard), "trace") is not None
    fast = [transform_dataset(tiny_dataset, tmp_path / f"fast{k}", chain, seed=5)
            for k, chain in enumerate(chains)]
    monkeypatch.setattr(ChunkLocator, "open", classmethod(lambda cls, *a: None))
    monkeypatch.setattr(dataset, "dictionary_columns", lambda *a: [])
    slow = [transform_dataset(tiny_dataset, tmp_path / f"slow{k}", chain, seed=5)
            for k, chain in enumerate(chains)]
    for k in range(len(chains)):
        assert fast[k]["splits"] == slow[k]["splits"]  # shard sha256s, rows, statistics
        files = sorted(p.relative_to(tmp_path / f"fast{k}")
                       for p in (tmp_path / f"fast{k}").rglob("*.parquet"))
        assert files
        for rel in files:
            assert (tmp_path / f"fast{k}" / rel).read_bytes() == \
                (tmp_path / f"slow{k}" / rel).read_bytes()


def test_a_split_of_mixed_layouts_reads_alike(tiny_dataset, tmp_path) -> None:  # noqa: F811
    """Shards the page reader takes and shards Arrow decodes (a codec) mix in one split."""
    import shutil

    mixed = tmp_path / "mixed"
    shutil.copytree(tiny_dataset, mixed)
    shard = sorted((mixed / "train").glob("*.parquet"))[1]
    pq.write_table(pq.read_table(shard), shard, compression="lz4", row_group_size=7)
    assert ChunkLocator.open(shard, pq.ParquetFile(shard), "trace") is None
    for chain in (["swap"], ["cut-tail:at=goal-created"]):
        a = transform_dataset(tiny_dataset, tmp_path / f"a{chain[0]}", chain, seed=2)
        b = transform_dataset(mixed, tmp_path / f"b{chain[0]}", chain, seed=2)
        assert a["splits"]["train"]["shards"] == b["splits"]["train"]["shards"]
