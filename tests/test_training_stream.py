"""Online problem stream: seeded, disjoint across ranks, curriculum bins, excluded layouts."""

from __future__ import annotations

import numpy as np
import pytest

import mazebench
from mazebench.datasets.builder import build_dataset
from mazebench.datasets.recipe import parse_recipe
from mazebench.problem import unpack_walls
from mazebench.training import rewards as R
from mazebench.training.stream import Curriculum, ProblemStream

SPLIT = {"family": "dfs", "height": 8, "width": 8}


def test_seeded_and_rank_disjoint():
    a = ProblemStream(SPLIT, seed=4, block=16).take(40)
    assert a == ProblemStream(SPLIT, seed=4, block=16).take(40)
    assert [r["index"] for r in a] == list(range(40))
    other = ProblemStream(SPLIT, seed=4, rank=1, world_size=2, block=16).take(40)
    assert {r["walls"] + bytes(r["prompt"], "ascii") for r in a}.isdisjoint(
        {r["walls"] + bytes(r["prompt"], "ascii") for r in other})
    assert ProblemStream(SPLIT, seed=5, block=16).take(3) != a[:3]


def test_rows_are_solved_problems():
    rows = ProblemStream({**SPLIT, "family": "cellular_automata"}, seed=2, block=32).take(60)
    assert all(r["solvable"] for r in rows)
    for r in rows[:10]:
        problem = mazebench.Problem(unpack_walls(r["walls"], 8, 8), (r["start_x"], r["start_y"]),
                                    (r["goal_x"], r["goal_y"]))
        parts = mazebench.solve(problem).to_parts("beyond-semantics")
        assert r["prompt"] == "<|bos|> " + parts["prompt"]
        assert r["plan_length"] == len(parts["plan"].split()) // 3
    cols = {k: [r[k] for r in rows] for k in rows[0]}
    completions = cols.pop("completion")
    for f in (R.plan_optimal_reward, R.trace_valid_reward, R.process_reward):
        assert f(completions, **cols) == [1.0] * len(rows)


def test_curriculum_bins_and_stages():
    cur = Curriculum("n_events", [0, 20, 60, 10_000], [[1, 0, 0], [0, 1, 3]], stages=[30])
    rows = ProblemStream(SPLIT, seed=1, curriculum=cur, block=64).take(230)
    bins = np.array([r["bin"] for r in rows])
    events = np.array([r["n_events"] for r in rows])
    edges = np.array(cur.edges)
    assert ((events >= edges[bins]) & (events < edges[bins + 1])).all()
    assert (bins[:30] == 0).all() and (bins[30:] > 0).all()
    late = np.bincount(bins[30:], minlength=3)
    assert late[2] > late[1] > 0  # weights 1:3
    assert len({r["index"] for r in rows}) == len(rows)


def test_curriculum_errors():
    with pytest.raises(ValueError, match="metric"):
        Curriculum("nope", [0, 1], [[1]])
    with pytest.raises(ValueError, match="stages"):
        Curriculum("n_events", [0, 5, 9], [[1, 1], [1, 0]])
    with pytest.raises(ValueError, match="weights"):
        Curriculum("n_events", [0, 5, 9], lambda step: [0, 0]).weights_at(0)
    impossible = Curriculum("n_events", [10_000, 20_000], [[1]])
    with pytest.raises(ValueError, match="no candidate for bin 0"):
        ProblemStream(SPLIT, curriculum=impossible, block=64, max_candidates=128).take(1)


def test_exclude_layouts_of_a_dataset(tmp_path):
    # the stream of seed 3 rank 0 shares nothing with a dataset unless it is told to avoid it;
    # build a dataset, then exclude the stream's own first layouts via their hashes
    first = ProblemStream({**SPLIT, "family": "searchformer"}, seed=3, block=8).take(8)
    from mazebench.problem import layout_hash

    hashes = [layout_hash(unpack_walls(r["walls"], 8, 8)) for r in first]
    rest = ProblemStream({**SPLIT, "family": "searchformer"}, seed=3, block=8,
                         exclude=hashes).take(8)
    assert {layout_hash(unpack_walls(r["walls"], 8, 8)) for r in rest}.isdisjoint(hashes)
    recipe = parse_recipe({"suite": {"name": "x", "seed": 1, "height": 8, "width": 8},
                           "splits": {"test": {"family": "dfs", "count": 5}}})
    build_dataset(recipe, tmp_path / "d", card_images=False)
    s = ProblemStream(SPLIT, exclude=[tmp_path / "d"])
    assert len(s.exclude) == 5


def test_batches_and_bad_input():
    table = next(ProblemStream(SPLIT, block=16).batches(10))
    assert table.num_rows == 10 and table.column_names[-2:] == ["index", "bin"]
    with pytest.raises(ValueError, match="rank"):
        ProblemStream(SPLIT, rank=2, world_size=2)
    with pytest.raises(ValueError, match="stream dialect"):
        ProblemStream(SPLIT, dialect="compact")
    with pytest.raises(ValueError, match="family"):
        ProblemStream("nope")
