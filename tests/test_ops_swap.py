"""Property tests of ``swap``: a derangement of the traces (within groups) that keeps every plan."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mazebench import validate
from mazebench.ops import apply_steps, batch_from_table, bind, examples_table, parse_chain
from mazebench.ops.swap import group_codes

from .test_ops_common import FAST, assert_round_trip, events, example_sets, run, solutions


@FAST
@given(example_sets(min_size=2, max_size=12))
def test_swap_is_a_derangement_that_keeps_plans(data) -> None:
    sols, profile, seed = data
    outs = run(sols, "swap", seed=seed, profile=profile)
    donors = [o.info["swap_source"] for o in outs]
    assert sorted(donors) == list(range(len(sols)))  # a permutation of the rows
    assert all(d != i for i, d in enumerate(donors))  # ... without a fixed point
    for sol, out, d in zip(sols, outs, donors):
        assert out.problem == sol.problem and out.plan == sol.plan
        assert out.trace == sols[d].trace
        assert_round_trip(out)
    again = run(sols, "swap", seed=seed, profile=profile)
    assert [o.info["swap_source"] for o in again] == donors


def _batch(sols, families):
    table = examples_table(sols)
    table = table.set_column(table.column_names.index("family"), "family",
                             pa.array(families, pa.string()))
    return batch_from_table(table)


@FAST
@given(st.integers(0, 10**6), st.lists(st.sampled_from("abc"), min_size=2, max_size=14))
def test_swap_within_family_stays_in_the_family(seed, families) -> None:
    counts = {f: families.count(f) for f in families}
    sols = solutions(len(families), seed=seed % 1000, size=7)
    batch = _batch(sols, families)
    steps = bind(parse_chain("swap:within=family", seed=seed), "train", None)
    if min(counts.values()) < 2:
        with pytest.raises(ValueError, match="single row"):
            apply_steps(batch, steps)
        return
    out = apply_steps(batch, steps)
    donors = np.asarray(out.extra["swap_source"])
    assert all(families[d] == families[i] and d != i for i, d in enumerate(donors))


@FAST
@given(st.integers(0, 10**6), st.integers(2, 16), st.integers(1, 6))
def test_swap_within_bin_stays_in_the_length_bin(seed, n, bins) -> None:
    sols = solutions(n, seed=seed % 1000, size=8)
    outs = run(sols, f"swap:within=bin,bins={bins}", seed=seed, profile="beyond-semantics")
    lengths = np.array([len(s.trace) for s in sols])
    # oracle: equal-count bins of the rank by length (stable), at most n // 2 bins
    k = max(1, min(bins, n // 2))
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(lengths, kind="mergesort")] = np.arange(n)
    expected_bin = rank * k // n
    batch = batch_from_table(examples_table(sols))
    assert np.array_equal(group_codes(batch, "bin", bins), expected_bin)
    for i, out in enumerate(outs):
        d = out.info["swap_source"]
        assert d != i and expected_bin[d] == expected_bin[i]


def test_swapped_traces_are_invalid_but_plans_valid() -> None:
    sols = solutions(12, seed=4, size=11, families=("wilson",))
    outs = run(sols, "swap", seed=0, profile="beyond-semantics")
    verdicts = [validate(o.problem, o.to_text("beyond-semantics")) for o in outs]
    assert all(v.plan_valid for v in verdicts)
    assert sum(v.trace_valid for v in verdicts) <= 1
    originals = [validate(s.problem, s.to_text()) for s in sols]
    assert all(v.trace_valid and v.plan_valid for v in originals)


def test_swap_needs_two_rows() -> None:
    sols = solutions(1, seed=1)
    with pytest.raises(ValueError, match="one row"):
        run(sols, "swap", seed=0, profile="beyond-semantics")
    assert events(sols[0].trace)


@FAST
@given(st.integers(0, 10**6), st.integers(2, 14), st.integers(1, 5))
def test_deferred_swap_slices_equal_the_eager_swap(seed, n, step) -> None:
    """The dataset writer resolves a swapped split slice by slice: the same tables as the
    split gathered at once."""
    from mazebench.ops import table_from_batch

    sols = solutions(n, seed=seed % 1000, size=7)
    batch = batch_from_table(examples_table(sols))
    steps = parse_chain("swap", seed=seed)
    eager = apply_steps(batch, bind(steps, "train", None))
    lazy = apply_steps(batch, bind(steps, "train", None), deferred=True)
    assert lazy.gather is not None and eager.gather is None
    order = examples_table(sols).column_names
    for a in range(0, n, step):
        b = min(a + step, n)
        want = table_from_batch(eager.slice(a, b), "swap", order, ["swap_source"])
        got = table_from_batch(lazy.slice(a, b), "swap", order, ["swap_source"])
        assert got.equals(want)
    rows = np.arange(n)[::-1][: max(1, n // 2)]  # take() on a deferred batch gathers once
    want = table_from_batch(eager.take(rows), "swap", order, ["swap_source"])
    assert table_from_batch(lazy.take(rows), "swap", order, ["swap_source"]).equals(want)
