"""The record kernels the operators edit traces with, against plain numpy slicing of each row."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mazebench.datasets.packed import PLAN_DTYPE, TRACE_DTYPE
from mazebench.ops.events import (
    compact_records,
    keep_record_prefixes,
    remove_record_ranges,
    take_records,
)


@st.composite
def packed_rows(draw, dtype=TRACE_DTYPE):
    lengths = draw(st.lists(st.integers(0, 40), min_size=0, max_size=12))
    off = np.zeros(len(lengths) + 1, dtype=np.int64)
    off[1:] = np.cumsum(lengths)
    seed = draw(st.integers(0, 2**32 - 1))
    raw = np.random.default_rng(seed).integers(0, 256, int(off[-1]) * dtype.itemsize,
                                               dtype=np.uint8)
    return off, raw, dtype.itemsize


def rows_of(off, raw, size):
    return [raw[off[i] * size : off[i + 1] * size].tobytes() for i in range(off.shape[0] - 1)]


def check(result, expected, size):
    new_off, out = result
    assert new_off[0] == 0 and new_off[-1] * size == out.shape[0]
    assert rows_of(new_off, out, size) == expected


@settings(max_examples=150, deadline=None)
@given(packed_rows(), st.data())
def test_take_records_gathers_whole_rows(case, data):
    off, raw, size = case
    n = off.shape[0] - 1
    rows = np.array(data.draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=15 if n else 0)),
                    dtype=np.int64)
    rows_before = rows_of(off, raw, size)
    check(take_records(off, raw, size, rows), [rows_before[r] for r in rows], size)


@settings(max_examples=150, deadline=None)
@given(packed_rows(), st.data())
def test_remove_and_keep_prefix_match_slicing(case, data):
    off, raw, size = case
    lengths = np.diff(off)
    start = np.array([data.draw(st.integers(0, int(m))) for m in lengths], dtype=np.int64)
    count = np.array([data.draw(st.integers(0, int(m - s))) for m, s in zip(lengths, start)],
                     dtype=np.int64)
    before = rows_of(off, raw, size)
    expected = [r[: s * size] + r[(s + c) * size :] for r, s, c in zip(before, start, count)]
    check(remove_record_ranges(off, raw, size, start, count), expected, size)
    keep = np.array([data.draw(st.integers(-3, int(m) + 3)) for m in lengths], dtype=np.int64)
    expected = [r[: max(0, k) * size] for r, k in zip(before, keep)]
    check(keep_record_prefixes(off, raw, size, keep), expected, size)


@settings(max_examples=150, deadline=None)
@given(packed_rows(PLAN_DTYPE), st.data())
def test_compact_keeps_the_marked_records(case, data):
    off, raw, size = case
    keep = np.array(data.draw(st.lists(st.booleans(), min_size=int(off[-1]),
                                       max_size=int(off[-1]))), dtype=np.bool_)
    records = raw.reshape(-1, size) if size else raw
    expected = [b"".join(records[e].tobytes() for e in range(off[i], off[i + 1]) if keep[e])
                for i in range(off.shape[0] - 1)]
    check(compact_records(off, raw, size, keep), expected, size)
