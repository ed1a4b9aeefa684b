"""Hard negatives: near misses checked against networkx, pairing, verdicts on recalled answers."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pyarrow.compute as pc
import pytest

import mazebench
from mazebench.datasets.builder import build_dataset
from mazebench.datasets.load import Dataset
from mazebench.datasets.packed import TRACE_DTYPE, decode_value
from mazebench.datasets.recipe import parse_recipe
from mazebench.problem import unpack_walls
from mazebench.training.negatives import near_misses, negatives_table


def _graph(walls):
    g = nx.grid_2d_graph(walls.shape[1], walls.shape[0])
    g.remove_nodes_from([(x, y) for y, x in zip(*np.nonzero(walls))])
    return g


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("neg") / "data"
    recipe = parse_recipe({
        "suite": {"name": "n", "seed": 2, "height": 9, "width": 9, "shard_size": 20},
        "splits": {"test": {"family": "kruskal", "count": 30}},
    })
    build_dataset(recipe, out, card_images=False)
    return out


def test_negatives_table_against_networkx(tiny):
    table = negatives_table(tiny, "test", per_kind=2, radius=3, seed=1)
    data = Dataset(tiny)
    rows = table.to_pylist()
    kinds = {r["negative_kind"] for r in rows}
    assert kinds == {"move_goal", "open_wall"}
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        src = data.example("test", r["pair_row"])
        assert r["pair_id"] == src.id and r["pair_problem_hash"] == src.row["problem_hash"]
        old, new = src.problem, mazebench.Problem(unpack_walls(r["walls"], 9, 9),
                                                  (r["start_x"], r["start_y"]),
                                                  (r["goal_x"], r["goal_y"]))
        assert r["problem_hash"] == new.hash and r["layout_hash"] != "" and r["solvable"]
        g_old, g_new = _graph(old.walls), _graph(new.walls)
        d_new = nx.shortest_path_length(g_new, new.start, new.goal)
        assert r["plan_length"] == d_new + 1
        if r["negative_kind"] == "move_goal":
            assert (new.walls == old.walls).all() and new.start == old.start
            assert new.goal == (r["edit_x"], r["edit_y"]) != old.goal and new.goal != old.start
            assert 1 <= nx.shortest_path_length(g_old, old.goal, new.goal) <= 3
            assert not r["recalled_plan_valid"] and not r["recalled_trace_valid"]
        else:
            assert (new.start, new.goal) == (old.start, old.goal)
            diff = np.argwhere(new.walls != old.walls)
            assert diff.tolist() == [[r["edit_y"], r["edit_x"]]] and old.walls[r["edit_y"],
                                                                               r["edit_x"]]
            assert d_new < nx.shortest_path_length(g_old, old.start, old.goal)
            assert r["recalled_plan_valid"] and not r["recalled_plan_optimal"]
        # the stored ground truth is the negative's own A* trace
        assert mazebench.solve(new).trace.x.tolist() == decode_value(r["trace"],
                                                                      TRACE_DTYPE)["x"].tolist()
    again = negatives_table(tiny, "test", per_kind=2, radius=3, seed=1)
    assert again.equals(table)
    other = negatives_table(tiny, "test", per_kind=2, radius=3, seed=2)
    assert not other.equals(table)
    only = negatives_table(tiny, "test", kinds=["open_wall"], per_kind=1)
    assert pc.all(pc.equal(only["negative_kind"], "open_wall")).as_py()


def test_near_misses_of_one_problem():
    problem = mazebench.Problem(np.zeros((5, 5), bool), (0, 0), (4, 4))
    misses = near_misses(problem, kinds=["move_goal"], per_kind=50, radius=1)
    assert sorted(m.edit for m in misses) == [(3, 4), (4, 3)]
    assert near_misses(problem, kinds=["open_wall"]) == []  # no wall to open
    walls = np.zeros((3, 5), bool)
    walls[0:2, 2] = True  # a wall column with a gap at the bottom
    p = mazebench.Problem(walls, (0, 0), (4, 0))
    shortcut = near_misses(p, kinds=["open_wall"], per_kind=5)
    assert sorted(m.edit for m in shortcut) == [(2, 0), (2, 1)]
    with pytest.raises(ValueError, match="negative kind"):
        near_misses(p, kinds=["nope"])
