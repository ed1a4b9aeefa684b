"""Folded byte planes (mazebench.datasets.folded) and Traces (mazebench.ops.traces): the row
operations on folded values give exactly the values of the records edited directly."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mazebench.datasets import packed
from mazebench.datasets.packed import TRACE_DTYPE, folded_of, pack_records
from mazebench.ops.batch import trace_hashes, traces_hashes
from mazebench.ops.trace_hash import hash_values
from mazebench.ops.traces import Traces


@st.composite
def record_rows(draw):
    """Rows of trace records whose fields are often constant within a row (folded planes),
    sometimes not, with empty and one-event rows."""
    lengths = draw(st.lists(st.integers(0, 30), min_size=1, max_size=10))
    off = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=off[1:])
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    records = np.zeros(int(off[-1]), dtype=TRACE_DTYPE)
    for name in TRACE_DTYPE.names:
        info = np.iinfo(TRACE_DTYPE.fields[name][0])
        spread = draw(st.sampled_from([0, 1, 2, 255, 70000, int(info.max)]))
        base = draw(st.integers(int(info.min), int(info.max) - min(spread, int(info.max))))
        records[name] = base + rng.integers(0, spread + 1, size=records.shape[0])
    return off, records


def _values(off, records) -> list[bytes]:
    return pack_records(off, records).to_pylist()


def _traces(off, records) -> Traces:
    _, byte_off, data = folded_of(pack_records(off, records), TRACE_DTYPE)
    return Traces(off, folded=(byte_off, data))


@settings(max_examples=80, deadline=None)
@given(record_rows())
def test_values_are_canonical_and_fold_every_constant_plane(case):
    off, records = case
    for i, value in enumerate(_values(off, records)):
        rows = records[off[i] : off[i + 1]]
        assert value == packed.encode_value(rows)  # numpy encoder, the same bytes
        assert packed.decode_value(value, TRACE_DTYPE).tobytes() == rows.tobytes()
        if rows.shape[0] == 0:
            assert value == b""
            continue
        mask = int.from_bytes(value[4:6], "little")
        planes = rows.view(np.uint8).reshape(-1, TRACE_DTYPE.itemsize).T
        for k in range(TRACE_DTYPE.itemsize):
            constant = bool((planes[k] == planes[k, 0]).all())
            assert bool(mask >> k & 1) == (not constant)


@settings(max_examples=80, deadline=None)
@given(record_rows(), st.data())
def test_folded_edits_equal_record_edits(case, data):
    off, records = case
    n = off.shape[0] - 1
    folded, plain = _traces(off, records), Traces(off, records=records)
    rows = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=12)), dtype=np.int64)
    keep = np.array(data.draw(st.lists(st.integers(-2, 35), min_size=n, max_size=n)))
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=int(off[-1]),
                                       max_size=int(off[-1]))), dtype=bool)
    lengths = np.diff(off)
    start = np.array([data.draw(st.integers(0, int(m))) for m in lengths], dtype=np.int64)
    count = np.array([data.draw(st.integers(0, int(m - s))) for m, s in zip(lengths, start)],
                     dtype=np.int64)
    suffix = lengths - np.minimum(start, lengths)
    edits = [
        ("take", lambda t: t.take(rows)),
        ("keep_prefixes", lambda t: t.keep_prefixes(keep)),
        ("keep_events", lambda t: t.keep_events(mask)),
        ("remove_events", lambda t: t.remove_events(start, count)),
        ("remove_suffix", lambda t: t.remove_events(lengths - suffix, suffix)),
    ]
    for name, edit in edits:
        a, b = edit(folded), edit(plain)
        assert a.is_folded, name
        assert np.array_equal(a.off, b.off), name
        assert a.records.tobytes() == b.records.tobytes(), name
        assert a.column().to_pylist() == b.column().to_pylist(), name  # canonical bytes
        for field in TRACE_DTYPE.names:
            assert np.array_equal(a.field(field), b.records[field]), (name, field)


def _scattered(traces: Traces, rng) -> Traces:
    """The same values copied into one buffer with junk bytes between them, as
    :meth:`Traces.from_ranges` (values left inside Parquet pages)."""
    byte_off, data = traces.folded
    chunks, starts, ends, p = [], [], [], 0
    for r in range(len(traces)):
        gap = rng.integers(0, 256, int(rng.integers(0, 9)), dtype=np.uint8)
        value = data[byte_off[r] : byte_off[r + 1]]
        chunks += [gap, value]
        starts.append(p + gap.shape[0])
        p += gap.shape[0] + value.shape[0]
        ends.append(p)
    buf = np.concatenate(chunks) if chunks else np.empty(0, np.uint8)
    return Traces.from_ranges(np.array(starts, np.int64), np.array(ends, np.int64), buf)


@settings(max_examples=40, deadline=None)
@given(st.lists(record_rows(), min_size=1, max_size=4), st.data())
def test_parts_are_taken_from_without_joining(cases, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    parts = [_traces(off, records) for off, records in cases]
    parts = [_scattered(p, rng) if data.draw(st.booleans()) else p for p in parts]
    whole = Traces.concat(parts)
    oracle = Traces(whole.off, records=np.concatenate([records for _, records in cases]))
    n = len(whole)
    rows = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=15)), dtype=np.int64)
    taken = whole.take(rows)
    assert whole._parts  # the take read the parts where they are
    assert taken.column().to_pylist() == oracle.take(rows).column().to_pylist()
    assert traces_hashes(whole).to_pylist() == traces_hashes(oracle).to_pylist()
    assert whole._parts  # hashes too
    assert whole.records.tobytes() == oracle.records.tobytes()  # anything else joins them
    assert whole._parts is None


def test_values_out_of_place_are_checked():
    off = np.array([0, 3], np.int64)
    records = np.zeros(3, TRACE_DTYPE)
    records["x"] = [1, 2, 3]
    byte_off, data = _traces(off, records).folded
    with pytest.raises(ValueError, match="trace: row 0 holds a malformed value"):
        Traces.from_ranges(byte_off[:1], byte_off[1:] - 1, data)


@settings(max_examples=60, deadline=None)
@given(record_rows())
def test_trace_hash_is_a_function_of_the_trace(case):
    off, records = case
    column = pack_records(off, records)
    _, byte_off, data = folded_of(column, TRACE_DTYPE)
    hashes = hash_values(byte_off, data).to_pylist()
    fields = [np.ascontiguousarray(records[f]) for f in TRACE_DTYPE.names]
    assert trace_hashes(off, *fields).to_pylist() == hashes
    values = column.to_pylist()
    for i in range(len(values)):
        for j in range(len(values)):
            assert (hashes[i] == hashes[j]) == (values[i] == values[j])


def test_trace_hash_sees_every_byte():
    """Changing any one byte of a value (or its length) changes the hash."""
    rng = np.random.default_rng(3)
    value = bytes(rng.integers(0, 256, 61, dtype=np.uint8))
    variants = [value, value[:-1], value + b"\x00"]
    for k in range(len(value)):
        variants.append(value[:k] + bytes([value[k] ^ 1]) + value[k + 1 :])
    col = pa.array(variants, pa.binary())
    byte_off = np.frombuffer(col.buffers()[1], np.int32).astype(np.int64)
    data = np.frombuffer(col.buffers()[2], np.uint8)
    hashes = hash_values(byte_off, data).to_pylist()
    assert len(set(hashes)) == len(variants)
