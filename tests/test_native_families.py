"""Tests for the prim, free_space, obstacles and division families and for braiding."""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mazebench.mazes import braid, division, free_space, obstacles, prim
from mazebench.rng import native_stream

CARVERS = {
    "prim": (prim.carve, np.zeros(0)),
    "free_space": (free_space.carve, np.zeros(0)),
    "obstacles": (obstacles.carve, np.array([0.3])),
    "division": (division.carve, np.array([1.0, 1.0])),
}

sizes = st.integers(min_value=1, max_value=40)


def floor_graph(walls: np.ndarray) -> nx.Graph:
    """The 4-connectivity graph of the floor cells, nodes (x, y)."""
    g = nx.Graph()
    h, w = walls.shape
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


def cycle_rank(g: nx.Graph) -> int:
    return g.number_of_edges() - g.number_of_nodes() + nx.number_connected_components(g)


def dead_ends(walls: np.ndarray) -> int:
    g = floor_graph(walls)
    return sum(1 for _, d in g.degree() if d == 1)


def assert_perfect_over_rooms(walls: np.ndarray) -> None:
    h, w = walls.shape
    g = floor_graph(walls)
    rooms = [(x, y) for y in range(0, h, 2) for x in range(0, w, 2)]
    assert all(not walls[y, x] for x, y in rooms)
    assert nx.is_tree(g)
    assert all(x % 2 == 0 or y % 2 == 0 for x, y in g.nodes)


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(sorted(CARVERS)), h=sizes, w=sizes, index=st.integers(0, 10**6))
def test_shape_and_determinism(name: str, h: int, w: int, index: int) -> None:
    carve, params = CARVERS[name]
    a = carve(h, w, native_stream(7, name, index=index), params)
    b = carve(h, w, native_stream(7, name, index=index), params)
    assert a.shape == (h, w) and a.dtype == np.bool_
    assert np.array_equal(a, b)


@settings(max_examples=20, deadline=None)
@given(name=st.sampled_from(["prim", "obstacles", "division"]), index=st.integers(0, 10**6))
def test_different_streams_differ(name: str, index: int) -> None:
    carve, params = CARVERS[name]
    mazes = [carve(21, 31, native_stream(3, name, index=index + k), params) for k in range(3)]
    assert not (np.array_equal(mazes[0], mazes[1]) and np.array_equal(mazes[1], mazes[2]))


@settings(max_examples=40, deadline=None)
@given(h=sizes, w=sizes, index=st.integers(0, 10**6))
def test_prim_is_perfect(h: int, w: int, index: int) -> None:
    assert_perfect_over_rooms(prim.carve(h, w, native_stream(1, "prim", index=index), np.zeros(0)))


@settings(max_examples=40, deadline=None)
@given(h=sizes, w=sizes, index=st.integers(0, 10**6))
def test_division_is_perfect(h: int, w: int, index: int) -> None:
    walls = division.carve(h, w, native_stream(1, "division", index=index), np.array([1.0, 1.0]))
    assert_perfect_over_rooms(walls)


@settings(max_examples=30, deadline=None)
@given(
    h=sizes, w=sizes, min_room=st.integers(1, 5), door=st.integers(1, 6),
    index=st.integers(0, 10**6),
)
def test_division_params_keep_rooms_connected(
    h: int, w: int, min_room: int, door: int, index: int
) -> None:
    params = np.array([float(min_room), float(door)])
    walls = division.carve(h, w, native_stream(2, "division", index=index), params)
    g = floor_graph(walls)
    assert all(not walls[y, x] for y in range(0, h, 2) for x in range(0, w, 2))
    assert nx.is_connected(g)
    if door > 1 or min_room > 1:
        assert braid.loop_count(walls) == cycle_rank(g)


def test_free_space_has_no_walls() -> None:
    for h, w in [(1, 1), (2, 3), (17, 9)]:
        assert not free_space.carve(h, w, native_stream(0, "free"), np.zeros(0)).any()


@settings(max_examples=5, deadline=None)
@given(density=st.floats(0.0, 0.95), index=st.integers(0, 10**6))
def test_obstacles_density(density: float, index: int) -> None:
    walls = obstacles.carve(200, 200, native_stream(4, "obs", index=index), np.array([density]))
    assert abs(walls.mean() - density) < 0.01


@settings(max_examples=25, deadline=None)
@given(hh=st.integers(1, 15), hw=st.integers(1, 15), index=st.integers(0, 10**6))
def test_braid_dead_ends_removes_all(hh: int, hw: int, index: int) -> None:
    h, w = 2 * hh + 1, 2 * hw + 1
    walls = prim.carve(h, w, native_stream(5, "prim", index=index), np.zeros(0))
    before = braid.loop_count(walls)
    had = dead_ends(walls)
    opened = braid.braid(walls, native_stream(5, "braid", index=index), 1.0, 0)
    assert dead_ends(walls) == 0
    assert opened >= (had + 1) // 2
    assert braid.loop_count(walls) == before + opened
    assert nx.is_connected(floor_graph(walls))


@settings(max_examples=30, deadline=None)
@given(
    name=st.sampled_from(sorted(CARVERS)), mode=st.sampled_from([0, 1]),
    fraction=st.floats(0.0, 1.0), h=sizes, w=sizes, index=st.integers(0, 10**6),
)
def test_loop_count_matches_networkx(
    name: str, mode: int, fraction: float, h: int, w: int, index: int
) -> None:
    carve, params = CARVERS[name]
    walls = carve(h, w, native_stream(6, name, index=index), params)
    assert braid.loop_count(walls) == cycle_rank(floor_graph(walls))
    before = braid.loop_count(walls)
    floor_before = ~walls
    opened = braid.braid(walls, native_stream(6, "braid", index=index), fraction, mode)
    assert opened == int((~walls).sum() - floor_before.sum())
    assert np.all(~walls >= floor_before)
    after = braid.loop_count(walls)
    assert after == cycle_rank(floor_graph(walls))
    assert after >= before


@settings(max_examples=15, deadline=None)
@given(hh=st.integers(3, 15), hw=st.integers(3, 15), index=st.integers(0, 10**6))
def test_braid_walls_adds_loops(hh: int, hw: int, index: int) -> None:
    h, w = 2 * hh + 1, 2 * hw + 1
    walls = prim.carve(h, w, native_stream(8, "prim", index=index), np.zeros(0))
    assert braid.loop_count(walls) == 0
    opened = braid.braid(walls, native_stream(8, "braid", index=index), 0.5, 1)
    # a perfect maze of hh x hw cells has (hh - 1)(hw - 1) removable walls, each opened with
    # probability 0.5: none opens with probability 2^-(hh-1)(hw-1) (1/16 at 3 x 3 cells)
    assert opened >= 0
    if (hh - 1) * (hw - 1) >= 20:
        assert opened > 0
    assert braid.loop_count(walls) == opened
    again = prim.carve(h, w, native_stream(8, "prim", index=index), np.zeros(0))
    braid.braid(again, native_stream(8, "braid", index=index), 0.5, 1)
    assert np.array_equal(walls, again)


def test_tiny_grids() -> None:
    for carve, params in CARVERS.values():
        for h, w in [(1, 1), (1, 2), (2, 1), (2, 2), (2, 3), (3, 2), (1, 7)]:
            walls = carve(h, w, native_stream(9, "tiny"), params)
            assert walls.shape == (h, w)
            braid.braid(walls, native_stream(9, "b"), 1.0, 0)
            braid.braid(walls, native_stream(9, "b"), 1.0, 1)
