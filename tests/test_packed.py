"""Packed per-event columns (mazebench.datasets.packed) and the shard codec option."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mazebench.datasets import packed
from mazebench.datasets.builder import build_dataset
from mazebench.datasets.packed import PLAN_DTYPE, TRACE_DTYPE, pack_trace, unpack_trace
from mazebench.datasets.recipe import parse_recipe


@st.composite
def traces(draw):
    lengths = draw(st.lists(st.integers(0, 40), min_size=0, max_size=12))
    off = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=off[1:])
    n = int(off[-1])
    ints = st.integers(-(2**15), 2**15 - 1)
    op = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), np.int8)
    x = np.array(draw(st.lists(ints, min_size=n, max_size=n)), np.int16)
    y = np.array(draw(st.lists(ints, min_size=n, max_size=n)), np.int16)
    g = np.array(draw(st.lists(st.integers(-(2**31), 2**31 - 1), min_size=n, max_size=n)),
                 np.int32)
    h = np.array(draw(st.lists(st.integers(0, 2**31 - 1), min_size=n, max_size=n)), np.int32)
    return off, op, x, y, g, h


def _documented_reader():
    scope = {"np": np}
    exec(packed.READER, scope)  # noqa: S102 - the reader the docs give, run as written
    return scope["records"]


reader = _documented_reader()


def test_docs_give_the_tested_reader():
    assert packed.READER in packed.__doc__.replace("\n    ", "\n")


@settings(max_examples=60, deadline=None)
@given(traces(), st.integers(1, 200))
def test_pack_unpack_round_trip_any_chunking(data, chunk_bytes):
    off, *fields = data
    column = pack_trace(off, *fields, max_chunk_bytes=chunk_bytes)
    got_off, *got = unpack_trace(column)
    assert np.array_equal(got_off, off)
    for a, b in zip(got, fields):
        assert np.array_equal(a, b) and a.flags.c_contiguous
    # each value is the row's records in byte planes, readable with numpy alone (the reader
    # the docs give) and written the same from fields or from records
    flat = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    records = packed.records_of(TRACE_DTYPE, *fields)
    assert packed.pack_records(off, records).to_pylist() == flat.to_pylist()
    for i, value in enumerate(flat.to_pylist()):
        rec = reader(value, TRACE_DTYPE)
        assert rec.tobytes() == records[off[i] : off[i + 1]].tobytes()
        assert np.array_equal(packed.decode_value(value, TRACE_DTYPE), rec)
        assert packed.encode_value(rec) == value
    got_off, got_records = packed.unpack(column, TRACE_DTYPE)
    assert got_records.tobytes() == records.tobytes()


def test_unpack_slices_nulls_and_large_binary():
    off = np.array([0, 2, 2, 5])
    xs = np.arange(5, dtype=np.int16)
    col = packed.pack_plan(off, xs, -xs)
    sliced = col.slice(1, 2)
    o, x, y = packed.unpack_plan(sliced)
    assert o.tolist() == [0, 0, 3] and x.tolist() == [2, 3, 4] and y.tolist() == [-2, -3, -4]
    large = col.cast(pa.large_binary())
    assert packed.unpack_plan(large)[1].tolist() == xs.tolist()
    with_null = pa.array([col[0].as_py(), None, col[2].as_py()], pa.binary())
    o, x, _ = packed.unpack_plan(with_null)
    assert o.tolist() == [0, 2, 2, 5] and x.tolist() == xs.tolist()


def test_unpack_names_a_bad_row():
    good = packed.encode_value(np.zeros(3, PLAN_DTYPE))
    huge = (1 << 28) + 1  # all planes folded: 10 bytes that would decode to 3.5 GB
    for bad in (b"\x00" * 5, good + b"\x00", good[:-1], b"\x02\0\0\0\x10\0" + b"\0" * 4,
                huge.to_bytes(4, "little") + b"\0\0" + b"\0" * 4):
        col = pa.array([good, bad], pa.binary())
        with pytest.raises(ValueError, match=r"plan: row 1 holds a malformed value \(\d+ bytes"):
            packed.unpack_plan(col)
    with pytest.raises(ValueError, match="expected a binary column"):
        packed.unpack_plan(pa.array([1, 2]))


def _recipe(codec):
    return parse_recipe({"suite": {"seed": 3, "height": 12, "width": 12, "shard_size": 40,
                                   "compression": codec},
                         "splits": {"train": {"family": "kruskal", "count": 90}}})


def test_codecs_hold_the_same_rows(tmp_path):
    tables = {}
    for codec in ("lz4", "none", "zstd"):
        build_dataset(_recipe(codec), tmp_path / codec)
        tables[codec] = pq.read_table(tmp_path / codec / "train")
        meta = pq.read_metadata(next((tmp_path / codec / "train").glob("*.parquet")))
        names = [meta.schema.column(i).name for i in range(meta.num_columns)]
        trace_col = meta.row_group(0).column(names.index("trace"))
        expected = {"lz4": ("LZ4", "LZ4_RAW"), "none": ("UNCOMPRESSED",), "zstd": ("ZSTD",)}
        assert trace_col.compression in expected[codec]
        small = "UNCOMPRESSED" if codec == "none" else "ZSTD"  # "none": no codec at all
        assert meta.row_group(0).column(names.index("n_walls")).compression == small
    assert tables["lz4"].equals(tables["none"]) and tables["lz4"].equals(tables["zstd"])


def test_unknown_codec_is_named():
    with pytest.raises(ValueError, match="compression = 'gzip'"):
        _recipe("gzip")


def test_older_format_is_refused_with_a_clear_error(tmp_path):
    """Format 1 and 2 datasets (records back to back; unfolded planes) are not misread."""
    import json

    from mazebench.datasets.load import load
    from mazebench.datasets.verify import verify_dataset

    out = tmp_path / "d"
    build_dataset(_recipe("lz4"), out)
    shard = next((out / "train").glob("*.parquet"))
    assert pq.read_metadata(shard).metadata[packed.LAYOUT_KEY] == packed.LAYOUT
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format_version"] == packed.FORMAT_VERSION == 3
    for old in (1, 2):
        manifest["format_version"] = old
        (out / "manifest.json").write_text(json.dumps(manifest))
        for read in (load, verify_dataset):
            with pytest.raises(ValueError, match=f"format_version {old}, this mazebench reads 3"):
                read(out)
    # a shard of format 1 (no layout key) or 2 (unfolded planes) in the output folder is not
    # resumed into a format 3 dataset
    table = pq.read_table(shard)
    for layout in (None, b"byte-planes"):
        meta = {k: v for k, v in table.schema.metadata.items() if k != packed.LAYOUT_KEY}
        if layout:
            meta[packed.LAYOUT_KEY] = layout
        pq.write_table(table.replace_schema_metadata(meta), shard)
        with pytest.raises(ValueError, match="earlier mazebench"):
            build_dataset(_recipe("lz4"), out)


def test_unpack_into_a_given_array():
    off = np.array([0, 2, 2, 5])
    fields = [np.arange(5, dtype=d) * (k + 1) for k, d in
              enumerate((np.int8, np.int16, np.int16, np.int32, np.int32))]
    column = pack_trace(off, *fields)
    out = np.zeros(5, dtype=TRACE_DTYPE)
    got_off, records = packed.unpack(column, TRACE_DTYPE, "trace", out=out)
    assert records is out or np.shares_memory(records, out)
    assert got_off.tolist() == off.tolist()
    assert out.tobytes() == packed.records_of(TRACE_DTYPE, *fields).tobytes()
    with pytest.raises(ValueError, match="trace: 5 records do not fit the 4 records"):
        packed.unpack(column, TRACE_DTYPE, "trace", out=np.zeros(4, dtype=TRACE_DTYPE))


def test_read_split_names_a_shard_with_a_malformed_trace(tmp_path):
    from mazebench.ops.dataset import read_split

    out = tmp_path / "d"
    build_dataset(_recipe("lz4"), out, card_images=False)
    paths = sorted((out / "train").glob("*.parquet"))
    split = read_split(paths)
    assert len(split) == 90
    tables = [pq.read_table(p) for p in paths]
    whole = pa.concat_tables(tables)
    assert split.table.column("id").equals(whole.column("id"))
    off, *fields = unpack_trace(whole.column("trace"))
    assert np.array_equal(split.off, off)
    assert all(np.array_equal(split.traces.field(f), v) for f, v in zip(TRACE_DTYPE.names, fields))
    table = tables[1]
    values = table.column("trace").to_pylist()
    values[3] = values[3][:-1]
    table = table.set_column(table.schema.get_field_index("trace"), "trace",
                             pa.array(values, pa.binary()))
    pq.write_table(table, paths[1])
    with pytest.raises(ValueError, match=r"part-00001\.parquet: trace: row 3 holds a malformed"):
        read_split(paths)


def test_shard_writer_summary_matches_the_file_read_back(tmp_path):
    """The writer hashes the bytes as it writes them and counts the statistics of the tables
    it writes: the summary equals the one computed from the finished file."""
    from mazebench.datasets.parquet_format import ShardWriter
    from mazebench.datasets.shard_summary import summarize_shard

    rng = np.random.default_rng(3)
    tables = [pa.table({"n_events": rng.integers(0, 50, n).astype(np.int32),
                        "plan_length": rng.integers(1, 9, n).astype(np.int32),
                        "solvable": rng.random(n) < 0.8}) for n in (5, 0, 17)]
    writer = ShardWriter(tmp_path / "part-00000.parquet", tables[0].schema, {b"k": b"v"},
                         fsync=True)
    for table in tables:
        writer.write(table)
    got = writer.close({b"end": b"1"})
    want = summarize_shard(tmp_path / "part-00000.parquet")
    assert (got.rows, got.size, got.sha256, got.unsolvable) == (
        want.rows, want.size, want.sha256, want.unsolvable)
    assert got.rows == 22 and len(got.sha256) == 64
    for name in ("n_events", "plan_length"):
        assert np.array_equal(got.counts[name].values, want.counts[name].values)
        assert np.array_equal(got.counts[name].counts, want.counts[name].counts)
    assert [p.name for p in tmp_path.iterdir()] == ["part-00000.parquet"]


def test_shard_writer_abort_leaves_nothing(tmp_path):
    from mazebench.datasets.parquet_format import ShardWriter

    table = pa.table({"n_events": np.arange(4, dtype=np.int32)})
    with pytest.raises(RuntimeError), ShardWriter(tmp_path / "part-00000.parquet",
                                                  table.schema, {}) as writer:
        writer.write(table)
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []
