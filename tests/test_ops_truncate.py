"""Property tests of the truncation operators: conclusion points, extend, cut-tail and its
length-matched controls (which remove exactly as many events), keep-prefix and budget."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mazebench import solve, validate
from mazebench.ops import conclusion_points

from .test_ops_common import FAST, assert_round_trip, events, example_sets, run, solutions

POINTS = ("goal-created", "plan-recoverable", "goal-closed")


def _points_oracle(sol) -> dict:
    gx, gy = sol.problem.goal
    at_goal = [k for k in range(len(sol.trace))
               if (sol.trace.x[k], sol.trace.y[k]) == (gx, gy)]
    created = at_goal[0] if at_goal else -1
    closed = next((k for k in at_goal if sol.trace.op[k] == 1), -1)
    target = len(sol.plan) - 1
    recov = next((k for k in at_goal if sol.trace.g[k] == target and len(sol.plan)), -1)
    if closed >= 0 and recov > closed:
        recov = -1
    return {"goal-created": created, "plan-recoverable": recov, "goal-closed": closed}


@FAST
@given(example_sets(max_size=4))
def test_conclusion_points_match_an_oracle(data) -> None:
    sols, _, _ = data
    for sol in sols:
        pts = conclusion_points(sol)
        assert pts == _points_oracle(sol)
        if sol.solved:
            assert pts["goal-closed"] == len(sol.trace) - 1  # A* stops at the goal's close
            assert 0 <= pts["goal-created"] <= pts["plan-recoverable"] <= pts["goal-closed"]


@FAST
@given(example_sets(max_size=4), st.integers(1, 60))
def test_extend_is_the_search_run_past_the_goal(data, k) -> None:
    sols, profile, seed = data
    outs = run(sols, f"extend:events={k}", seed=seed, profile=profile)
    for sol, out in zip(sols, outs):
        ref = solve(sol.problem, profile, post_goal=k)
        assert out.trace == ref.trace  # oracle: the kernel's own post_goal
        assert out.plan == sol.plan == ref.plan
        assert events(out.trace)[: len(sol.trace)] == events(sol.trace)
        tail = len(out.trace) - len(sol.trace)
        assert out.info["tail_events"] == tail <= (k if sol.solved else 0)
        assert_round_trip(out)


def test_extended_traces_are_answer_correct_with_a_tail() -> None:
    sols = solutions(10, seed=8, size=11, families=("wilson", "free_space"))
    outs = run(sols, "extend:fraction=0.5", seed=0, profile="beyond-semantics")
    assert sum(o.info["tail_events"] for o in outs) > 0
    for sol, out in zip(sols, outs):
        assert out.info["tail_events"] <= round(0.5 * len(sol.trace))
        text = out.to_text("beyond-semantics")
        assert validate(out.problem, text, after_goal="ignore").trace_valid
        if out.info["tail_events"]:
            assert not validate(out.problem, text, after_goal="error").trace_valid


def test_extend_refuses_changed_traces_and_random_profiles() -> None:
    sols = solutions(3, seed=1)
    with pytest.raises(ValueError, match="put extend first"):
        run(sols, ["reverse", "extend:events=5"], seed=0, profile="beyond-semantics")
    with pytest.raises(ValueError, match="randomised"):
        run(sols, "extend:events=5", seed=0, profile="searchformer-nondet")
    with pytest.raises(ValueError, match="exactly one"):
        run(sols, "extend:events=5,fraction=0.2", seed=0, profile="beyond-semantics")


@st.composite
def cut_cases(draw):
    sols, profile, seed = draw(example_sets(min_size=2, max_size=8))
    extend = draw(st.sampled_from(["", "extend:events=7", "extend:fraction=0.4"]))
    at = draw(st.sampled_from(POINTS))
    return sols, profile, seed, [extend] if extend else [], at


@FAST
@given(cut_cases())
def test_cut_tail_controls_remove_exactly_as_many_events(case) -> None:
    sols, profile, seed, pre, at = case
    base = run(sols, pre or "keep-prefix:fraction=1", seed=seed, profile=profile)
    tail = run(sols, [*pre, f"cut-tail:at={at}"], seed=seed, profile=profile)
    chunk = run(sols, [*pre, f"cut-random-chunk:at={at}"], seed=seed, profile=profile)
    suffix = run(sols, [*pre, f"cut-random-suffix:at={at}"], seed=seed, profile=profile)
    counts = []
    for b, t, c, s in zip(base, tail, chunk, suffix):
        ev = events(b.trace)
        point = conclusion_points(b)[at]
        k = len(ev) - 1 - point if point >= 0 else 0
        counts.append(k)
        assert events(t.trace) == ev[: len(ev) - k]  # cut-tail keeps events 0 .. point
        assert t.info["removed_events"] == c.info["removed_events"] == k
        # the chunk: same length removed, contiguous, not the tail itself
        kept = events(c.trace)
        assert len(kept) == len(ev) - k
        start = next((j for j in range(len(kept)) if kept[j] != ev[j]), len(kept))
        assert kept[start:] == ev[start + k :]
        if k and len(ev) > k:
            assert start < len(ev) - k
        # the suffix: a prefix of the row's trace
        assert events(s.trace) == ev[: len(s.trace)]
        assert s.info["removed_events"] == len(ev) - len(s.trace)
        for out in (t, c, s):
            assert out.plan == b.plan and out.problem == b.problem
            assert_round_trip(out)
    removed = [s.info["removed_events"] for s in suffix]
    assert sum(removed) <= sum(counts)
    if max(counts) <= min(len(b.trace) for b in base):
        # every row can take any count: the split loses exactly cut-tail's multiset of counts
        assert Counter(removed) == Counter(counts)


def test_cut_random_suffix_matches_counts_on_long_enough_rows() -> None:
    sols = solutions(30, seed=6, size=13, families=("wilson", "kruskal"))
    base = run(sols, "extend:fraction=0.3", seed=2, profile="beyond-semantics")
    outs = run(sols, ["extend:fraction=0.3", "cut-random-suffix"], seed=2,
               profile="beyond-semantics")
    tails = [b.info["tail_events"] for b in base]
    removed = [o.info["removed_events"] for o in outs]
    assert Counter(removed) == Counter(tails)
    assert sum(r != t for r, t in zip(removed, tails)) > 0  # not simply the tail cut


@FAST
@given(example_sets(), st.floats(0, 1), st.integers(0, 400))
def test_keep_prefix_and_budget(data, fraction, tokens) -> None:
    sols, profile, seed = data
    by_fraction = run(sols, f"keep-prefix:fraction={fraction}", seed=seed, profile=profile)
    by_tokens = run(sols, f"keep-prefix:tokens={max(tokens, 1)}", seed=seed, profile=profile)
    for sol, f, t in zip(sols, by_fraction, by_tokens):
        ev = events(sol.trace)
        assert events(f.trace) == ev[: int(np.floor(len(ev) * fraction))]
        assert events(t.trace) == ev[: min(len(ev), max(tokens, 1) // 5)]
        assert f.info["removed_events"] == len(ev) - len(f.trace)
    kept = run(sols, f"budget:tokens={tokens}", seed=seed, profile=profile)
    assert [len(o.trace) for o in kept] == [len(s.trace) for s in sols
                                            if 5 * len(s.trace) <= tokens]
