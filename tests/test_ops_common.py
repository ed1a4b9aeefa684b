"""Shared helpers of the trace-operator tests (strategies, oracles, a tiny dataset)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from mazebench import generate_maze, solve
from mazebench.conventions.dialects import get_dialect
from mazebench.ops import examples_table, transform_examples
from mazebench.ops.batch import batch_from_table
from mazebench.ops.text import parse_example

FAMILIES = ("wilson", "dfs", "kruskal", "drunkards_walk", "cellular_automata", "free_space")
PROFILES = ("beyond-semantics", "searchformer")
FAST = settings(max_examples=20, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def solutions(n: int, *, seed: int, size: int = 9, profile: str = "beyond-semantics",
              families=FAMILIES) -> list:
    """``n`` solved problems of mixed families (deterministic in ``seed``)."""
    out = []
    for k in range(n):
        family = families[(seed + k) % len(families)]
        problem = generate_maze(family, size, size + (k % 3), seed=seed * 1000 + k)
        out.append(solve(problem, profile))
    return out


@st.composite
def example_sets(draw, min_size: int = 2, max_size: int = 6):
    """A list of solved examples, their profile and a chain seed."""
    n = draw(st.integers(min_size, max_size))
    seed = draw(st.integers(0, 10**6))
    size = draw(st.integers(5, 11))
    profile = draw(st.sampled_from(PROFILES))
    return solutions(n, seed=seed, size=size, profile=profile), profile, draw(
        st.integers(0, 2**31))


def run(sols, ops, *, seed, profile):
    return transform_examples(sols, ops, seed=seed, profile=profile)


def events(trace) -> list[tuple]:
    return list(zip(trace.op.tolist(), trace.x.tolist(), trace.y.tolist(), trace.g.tolist(),
                    trace.h.tolist()))


def assert_round_trip(out) -> None:
    """The example's text parses back to the same problem, trace and plan in both dialects."""
    p = out.problem
    for dialect in ("beyond-semantics", "searchformer"):
        text = out.to_text(dialect)
        parsed = parse_example(text, dialect, costs=out.costs, width=p.width, height=p.height)
        assert parsed.problem == p
        assert parsed.plan == out.written_plan()
        np.testing.assert_array_equal(parsed.trace.op, out.trace.op)
        np.testing.assert_array_equal(parsed.trace.x, out.trace.x)
        np.testing.assert_array_equal(parsed.trace.y, out.trace.y)
        if out.costs:
            assert parsed.trace == out.trace
            assert text == get_dialect(dialect).text(p, out.trace, out.written_plan())
        else:
            creates = out.trace.op == 0
            assert (parsed.trace.g[creates] == -1).all() and (parsed.trace.h[creates] == -1).all()
            np.testing.assert_array_equal(parsed.trace.g[~creates], out.trace.g[~creates])


def test_examples_table_round_trips_through_a_batch() -> None:
    sols = solutions(4, seed=3)
    batch = batch_from_table(examples_table(sols))
    for i, sol in enumerate(sols):
        a, b = batch.off[i], batch.off[i + 1]
        assert events(sol.trace) == list(zip(batch.op[a:b].tolist(), batch.x[a:b].tolist(),
                                             batch.y[a:b].tolist(), batch.g[a:b].tolist(),
                                             batch.h[a:b].tolist()))


def test_identity_chain_keeps_examples() -> None:
    sols = solutions(3, seed=5)
    for sol, out in zip(sols, run(sols, "keep-prefix:fraction=1", seed=0,
                                  profile="beyond-semantics")):
        assert out.trace == sol.trace and out.plan == sol.plan
        assert out.info["source_n_events"] == len(sol.trace)
        assert_round_trip(out)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """A small two-split dataset built by mazebench.datasets (12x12, 80 + 40 rows)."""
    from mazebench.datasets.builder import build_dataset
    from mazebench.datasets.recipe import parse_recipe

    recipe = parse_recipe({
        "suite": {"name": "tiny", "seed": 11, "height": 12, "width": 12, "shard_size": 30},
        "splits": {"train": {"family": "wilson", "count": 80},
                   "test_dfs": {"family": "dfs", "count": 40, "profile": "searchformer",
                                "text": "searchformer"}},
    })
    path = tmp_path_factory.mktemp("ops") / "tiny"
    build_dataset(recipe, path, card_images=False)
    return path
