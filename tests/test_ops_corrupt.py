"""Property tests of the corruption operators (shuffle, perturb, drop, insert, reverse,
random-walk, foreign): each keeps the problem and plan, does what its definition says, is
reproducible from its seed, and its output serializes and parses in both dialects."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from mazebench import solve

from .test_ops_common import FAST, assert_round_trip, events, example_sets, run


def _same_problem_and_plan(sols, outs) -> None:
    assert len(sols) == len(outs)
    for sol, out in zip(sols, outs):
        assert out.problem == sol.problem
        assert out.plan == sol.plan
        assert out.info["source_n_events"] == len(sol.trace)
        assert_round_trip(out)


def _is_subsequence(small: list, big: list) -> bool:
    it = iter(big)
    return all(any(s == b for b in it) for s in small)


@FAST
@given(example_sets(), st.integers(0, 12))
def test_shuffle_permutes_within_windows(data, window) -> None:
    sols, profile, seed = data
    outs = run(sols, f"shuffle:window={window}", seed=seed, profile=profile)
    _same_problem_and_plan(sols, outs)
    for sol, out in zip(sols, outs):
        a, b = events(sol.trace), events(out.trace)
        w = len(a) if window == 0 else window
        for s in range(0, len(a), max(w, 1)):
            assert Counter(a[s : s + w]) == Counter(b[s : s + w])
    again = run(sols, f"shuffle:window={window}", seed=seed, profile=profile)
    assert all(x.trace == y.trace for x, y in zip(outs, again))


@FAST
@given(example_sets(), st.floats(0, 1), st.booleans(), st.booleans(), st.booleans(),
       st.integers(1, 5))
def test_perturb_changes_what_it_says(data, p, coords, costs, in_grid, magnitude) -> None:
    sols, profile, seed = data
    if not (coords or costs):
        coords = True
    spec = (f"perturb:p={p},coords={int(coords)},costs={int(costs)},in_grid={int(in_grid)},"
            f"magnitude={magnitude}")
    outs = run(sols, spec, seed=seed, profile=profile)
    _same_problem_and_plan(sols, outs)
    for sol, out in zip(sols, outs):
        t, u = sol.trace, out.trace
        assert np.array_equal(t.op, u.op)
        moved = (t.x != u.x) | (t.y != u.y)
        recosted = (t.g != u.g) | (t.h != u.h)
        if not coords:
            assert not moved.any()
        if not costs:
            assert not recosted.any()
        else:
            assert (u.g >= 0).all() and (u.h >= 0).all()
            assert (np.abs(u.g - t.g) <= magnitude).all() and (np.abs(u.h - t.h) <= magnitude).all()
            assert ((u.g != t.g) == (u.h != t.h)).all()  # both costs move together
        w, h = out.problem.width, out.problem.height
        lo = 0 if in_grid else -1
        assert ((u.x >= lo) & (u.x < w - lo) & (u.y >= lo) & (u.y < h - lo)).all()
        if coords and costs:
            assert np.array_equal(moved, recosted)
        if p == 0:
            assert u == t
        if p == 1 and coords:
            assert moved.all()


@FAST
@given(example_sets(), st.floats(0, 1), st.sampled_from(["any", "create", "close"]))
def test_drop_removes_a_subsequence_of_the_kind(data, p, kind) -> None:
    sols, profile, seed = data
    outs = run(sols, f"drop:p={p},kind={kind}", seed=seed, profile=profile)
    _same_problem_and_plan(sols, outs)
    for sol, out in zip(sols, outs):
        a, b = events(sol.trace), events(out.trace)
        assert _is_subsequence(b, a)
        removed = Counter(a) - Counter(b)
        if kind != "any":
            assert all(e[0] == (0 if kind == "create" else 1) for e in removed)
        if p == 0:
            assert a == b
        if p == 1 and kind == "any":
            assert not b
        elif p == 1:
            assert all(e[0] != (0 if kind == "create" else 1) for e in b)


@FAST
@given(example_sets(), st.floats(0, 1))
def test_insert_adds_plausible_events(data, p) -> None:
    sols, profile, seed = data
    outs = run(sols, f"insert:p={p}", seed=seed, profile=profile)
    _same_problem_and_plan(sols, outs)
    for sol, out in zip(sols, outs):
        a, b = events(sol.trace), events(out.trace)
        assert _is_subsequence(a, b)
        assert len(b) <= 2 * len(a)
        problem = out.problem
        (sx, sy), (gx, gy) = problem.start, problem.goal
        extra = Counter(b) - Counter(a)
        for _op, x, y, g, h in extra.elements():
            assert not problem.walls[y, x]
            d = abs(x - sx) + abs(y - sy)
            assert g - d in (0, 2, 4)
            assert h == abs(x - gx) + abs(y - gy)
        if p == 0:
            assert a == b


@FAST
@given(example_sets())
def test_reverse_is_an_involution(data) -> None:
    sols, profile, seed = data
    outs = run(sols, "reverse", seed=seed, profile=profile)
    _same_problem_and_plan(sols, outs)
    for sol, out in zip(sols, outs):
        assert events(out.trace) == events(sol.trace)[::-1]
    twice = run(sols, ["reverse", "reverse"], seed=seed, profile=profile)
    assert all(x.trace == s.trace for x, s in zip(twice, sols))


@FAST
@given(example_sets())
def test_random_walk_is_a_plausible_walk_of_the_same_length(data) -> None:
    sols, profile, seed = data
    outs = run(sols, "random-walk", seed=seed, profile=profile)
    _same_problem_and_plan(sols, outs)
    for sol, out in zip(sols, outs):
        t = out.trace
        assert len(t) == len(sol.trace)
        if not len(t):
            continue
        problem = out.problem
        assert t.op[0] == sol.trace.op[0]
        assert (t.x[0], t.y[0]) == problem.start
        assert all(t.op[k] != t.op[k + 1] for k in range(len(t) - 1))
        assert not problem.walls[t.y, t.x].any()
        gx, gy = problem.goal
        assert np.array_equal(t.h, np.abs(t.x - gx) + np.abs(t.y - gy))
        for k in range(1, len(t)):
            step = abs(int(t.x[k]) - int(t.x[k - 1])) + abs(int(t.y[k]) - int(t.y[k - 1]))
            if t.op[k] == 0:  # a create moves to a neighbour (or stays when boxed in)
                assert step in (0, 1) and t.g[k] == t.g[k - 1] + 1
            else:
                assert step == 0 and t.g[k] == t.g[k - 1]


@FAST
@given(example_sets(max_size=4), st.sampled_from(["bfs", "dfs", "greedy", "searchformer"]),
       st.sampled_from(["keep", "solver"]))
def test_foreign_is_the_other_solvers_trace(data, other, plan) -> None:
    sols, profile, seed = data
    outs = run(sols, f"foreign:profile={other},plan={plan}", seed=seed, profile=profile)
    for sol, out in zip(sols, outs):
        ref = solve(sol.problem, other)
        assert out.trace == ref.trace
        assert out.plan == (sol.plan if plan == "keep" else ref.plan)
        assert_round_trip(out)


def test_corruptions_depend_on_the_seed() -> None:
    from .test_ops_common import solutions

    sols = solutions(6, seed=2, size=11)
    for spec in ("shuffle", "drop:p=0.3", "insert:p=0.3", "perturb:p=0.3", "random-walk"):
        a = run(sols, spec, seed=1, profile="beyond-semantics")
        b = run(sols, spec, seed=1, profile="beyond-semantics")
        c = run(sols, spec, seed=2, profile="beyond-semantics")
        assert all(x.trace == y.trace for x, y in zip(a, b)), spec
        assert any(x.trace != z.trace for x, z in zip(a, c)), spec
