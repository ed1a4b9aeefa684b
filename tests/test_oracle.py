"""Acceptance 3: plans match networkx shortest paths and traces follow the open list.

The structural checker here is an independent re-implementation of what each profile promises:
every close removes an open cell whose priority is minimal under the profile, every create is a
4-neighbour of the last closed cell with g = g(last close) + 1, and the plan is a path.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

from mazebench import PROFILES, generate_maze, solve
from mazebench.mazes import FAMILIES

SIZES = [(10, 10), (17, 23), (30, 30), (40, 64)]
FAST_FAMILIES = sorted(FAMILIES)


def grid_graph(walls: np.ndarray) -> nx.Graph:
    h, w = walls.shape
    g = nx.Graph()
    for y in range(h):
        for x in range(w):
            if walls[y, x]:
                continue
            g.add_node((x, y))
            if x + 1 < w and not walls[y, x + 1]:
                g.add_edge((x, y), (x + 1, y))
            if y + 1 < h and not walls[y + 1, x]:
                g.add_edge((x, y), (x, y + 1))
    return g


def priority(profile, g: int, h: int) -> float:
    algo = profile.algorithm
    if algo == "astar":
        return g + h
    if algo == "weighted_astar":
        return g + profile.weight * h
    if algo in ("dijkstra", "bfs"):
        return g
    if algo == "greedy":
        return h
    return 0.0


def true_h(profile, x: int, y: int, gx: int, gy: int) -> int:
    if profile.algorithm in ("astar", "weighted_astar", "greedy"):
        return abs(x - gx) + abs(y - gy)
    return 0


def check_structure(problem, profile, sol) -> None:
    (sx, sy), (gx, gy) = problem.start, problem.goal
    open_cells: dict[tuple[int, int], tuple[int, int, int]] = {}  # cell -> (g, h, create seq)
    closed: set[tuple[int, int]] = set()
    last = None
    events = list(zip(sol.trace.op.tolist(), sol.trace.x.tolist(), sol.trace.y.tolist(),
                      sol.trace.g.tolist(), sol.trace.h.tolist()))
    if profile.log_start:
        assert events[0][0] == 0 and events[0][1:3] == (sx, sy) and events[0][3] == 0
    else:
        open_cells[(sx, sy)] = (0, true_h(profile, sx, sy, gx, gy), -1)
    for seq, (op, x, y, g, h) in enumerate(events):
        cell = (x, y)
        assert not problem.walls[y, x]
        assert h == true_h(profile, x, y, gx, gy)
        if op == 0:
            if last is not None:
                lx, ly, lg = last
                assert abs(lx - x) + abs(ly - y) == 1
                assert g == lg + 1
            assert cell not in closed
            if cell in open_cells:
                assert g < open_cells[cell][0]
            open_cells[cell] = (g, h, seq)
        else:
            assert cell in open_cells and open_cells[cell][:2] == (g, h)
            if profile.algorithm == "dfs":
                assert open_cells[cell][2] == max(v[2] for v in open_cells.values())
            else:
                best = min(priority(profile, vg, vh) for vg, vh, _ in open_cells.values())
                assert priority(profile, g, h) == best
            del open_cells[cell]
            closed.add(cell)
            last = (x, y, g)
    if sol.solved:
        assert events[-1][0] == 1 and events[-1][1:3] == (gx, gy)


def check_plan(problem, sol, graph) -> None:
    (sx, sy), (gx, gy) = problem.start, problem.goal
    reachable = nx.has_path(graph, problem.start, problem.goal)
    assert sol.solved == reachable
    if not reachable:
        assert len(sol.plan) == 0
        return
    cells = list(zip(sol.plan.x.tolist(), sol.plan.y.tolist()))
    assert cells[0] == (sx, sy) and cells[-1] == (gx, gy)
    for a, b in itertools.pairwise(cells):
        assert graph.has_edge(a, b)
    optimal = nx.shortest_path_length(graph, problem.start, problem.goal) + 1
    if sol.profile.optimal:
        assert len(cells) == optimal
    else:
        assert len(cells) >= optimal


def _cases(sizes, seeds):
    for family in FAST_FAMILIES:
        for (h, w) in sizes:
            for seed in seeds:
                yield family, h, w, seed


@pytest.mark.parametrize("family", FAST_FAMILIES)
def test_profiles_against_networkx(family):
    """Every family x 4 sizes x 8 seeds x every profile (~1,900 solves in total)."""
    n = 0
    for h, w in SIZES:
        for seed in range(8):
            problem = generate_maze(family, h, w, seed=seed * 1000 + h)
            graph = grid_graph(problem.walls)
            for profile in PROFILES.values():
                sol = solve(problem, profile, seed=seed)
                check_plan(problem, sol, graph)
                check_structure(problem, profile, sol)
                n += 1
    assert n == len(SIZES) * 8 * len(PROFILES)


@pytest.mark.parametrize("family", FAST_FAMILIES)
def test_large_grids_against_networkx(family):
    for seed in range(2):
        problem = generate_maze(family, 200, 150, seed=seed, placement="uniform"
                                if FAMILIES[family].placement != "searchformer" else "family")
        graph = grid_graph(problem.walls)
        for name in ("beyond-semantics", "searchformer", "astar-high-g", "bfs"):
            sol = solve(problem, name, seed=seed)
            check_plan(problem, sol, graph)
            check_structure(problem, PROFILES[name], sol)


@pytest.mark.slow
@pytest.mark.parametrize("family", FAST_FAMILIES)
def test_many_random_mazes_slow(family):
    """The same oracle on 20,000 more problems (run with -m slow)."""
    for seed in range(100):
        for h, w in [(12, 9), (31, 31), (50, 20)]:
            problem = generate_maze(family, h, w, seed=10_000 + seed)
            graph = grid_graph(problem.walls)
            for profile in PROFILES.values():
                sol = solve(problem, profile, seed=seed)
                check_plan(problem, sol, graph)
                check_structure(problem, profile, sol)


def test_unsolvable_is_flagged_not_raised():
    walls = np.zeros((5, 5), dtype=bool)
    walls[:, 2] = True
    from mazebench import Problem

    problem = Problem(walls, (0, 0), (4, 4))
    for name in PROFILES:
        sol = solve(problem, name, seed=1)
        assert not sol.solved and len(sol.plan) == 0
        assert sol.metrics["goal_close_index"] == -1
        assert sol.metrics["n_closes"] == 10
