"""Problems, hashes, random streams, families, placement and parameter validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mazebench import Problem, generate_maze, solve
from mazebench.grid import bfs_distances, floor_cells
from mazebench.mazes import FAMILIES, POLICIES
from mazebench.problem import layout_hash, pack_walls, problem_hash, unpack_walls
from mazebench.rng import lcg_stream, native_stream, next_float, next_index, next_index_pow2


def test_lcg_matches_definition():
    stream = lcg_stream(42, 1)
    state = 85
    for _ in range(100):
        state = (1664525 * state + 1013904223) % 2**32
        assert next_float(stream) == state / 2**32


def test_native_streams_are_independent_of_order():
    a = [next_float(native_stream(7, "split", index=i)) for i in range(50)]
    b = [next_float(native_stream(7, "split", index=i)) for i in reversed(range(50))][::-1]
    assert a == b
    assert len(set(a)) == 50
    c = next_float(native_stream(7, "other", index=0))
    assert c != a[0]


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**40), n=st.integers(1, 10**6))
def test_next_index_in_range(seed, n):
    stream = native_stream(seed)
    for _ in range(20):
        assert 0 <= next_index(stream, n) < n


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**40), bits=st.integers(1, 20), upstream=st.booleans())
def test_next_index_pow2_equals_next_index(seed, bits, upstream):
    a = lcg_stream(seed) if upstream else native_stream(seed)
    b = a.copy()
    for _ in range(50):
        assert next_index_pow2(b, bits) == next_index(a, 1 << bits)
    assert np.array_equal(a, b)


def test_hashes_are_content_hashes():
    walls = np.zeros((4, 5), dtype=bool)
    walls[1, 2] = True
    p = Problem(walls, (0, 0), (4, 3))
    q = Problem(walls.copy(), (0, 0), (4, 3))
    assert p == q and p.hash == q.hash and hash(p) == hash(q)
    assert p.hash == problem_hash(walls, (0, 0), (4, 3))
    assert Problem(walls, (0, 0), (3, 3)).hash != p.hash
    assert Problem(walls, (0, 0), (3, 3)).layout_hash == p.layout_hash == layout_hash(walls)
    # the documented definition: blake2b-128 over a tag, <H, W, sx, sy, gx, gy> and packed walls
    import hashlib
    import struct

    packed = bytes([0b00000001, 0, 0])  # row-major, MSB first: cell (2, 1) is bit 7 of 20
    assert pack_walls(walls) == packed
    digest = hashlib.blake2b(b"mazebench/problem/v1", digest_size=16)
    digest.update(struct.pack("<IIiiii", 4, 5, 0, 0, 4, 3) + packed)
    assert p.hash == digest.hexdigest()


@settings(max_examples=100, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 40), seed=st.integers(0, 2**32))
def test_pack_round_trip(h, w, seed):
    walls = np.random.default_rng(seed).random((h, w)) < 0.4
    assert np.array_equal(unpack_walls(pack_walls(walls), h, w), walls)


@pytest.mark.parametrize(
    "obj, message",
    [
        ({"width": 3, "height": 3, "walls": [], "start": [0, 0]}, "missing the key 'goal'"),
        ({"width": 3, "height": 3, "walls": [[5, 0]], "start": [0, 0], "goal": [1, 1]},
         "wall \\(5, 0\\) is off"),
        ({"width": 3, "height": 3, "walls": [[1, 1]], "start": [0, 0], "goal": [1, 1]},
         "goal \\(1, 1\\) is a wall"),
        ({"width": 0, "height": 3, "walls": [], "start": [0, 0], "goal": [1, 1]}, "positive"),
    ],
)
def test_problem_errors(obj, message):
    with pytest.raises(ValueError, match=message):
        Problem.from_json(obj)


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("size", [(10, 10), (9, 17), (31, 12), (3, 4)])
def test_every_family_every_shape(family, size):
    h, w = size
    p1 = generate_maze(family, h, w, seed=3)
    p2 = generate_maze(family, h, w, seed=3)
    assert p1 == p2 and p1.walls.shape == (h, w)
    assert not p1.walls[p1.start[1], p1.start[0]]


@pytest.mark.parametrize("policy", [p for p, v in POLICIES.items() if not v.upstream
                                    and p != "family"])
@pytest.mark.parametrize("family", ["wilson", "obstacles", "cellular_automata", "free_space"])
def test_native_policies_connect_start_and_goal(policy, family):
    if policy == "dead_end" and family == "free_space":
        with pytest.raises(ValueError, match="no valid start/goal placement \\(dead_end\\)"):
            generate_maze(family, 21, 25, seed=0, placement=policy)
        return
    params = {"distance": 8} if policy == "min_manhattan" else {}
    params = {"length": 12} if policy == "min_plan" else params
    for seed in range(10):
        p = generate_maze(family, 21, 25, seed=seed, placement=policy, placement_params=params)
        dist = bfs_distances(p.walls, *p.start)[p.goal[1], p.goal[0]]
        assert dist > 0
        if policy == "min_manhattan":
            assert abs(p.start[0] - p.goal[0]) + abs(p.start[1] - p.goal[1]) >= 8
        if policy == "min_plan":
            assert dist + 1 >= 12
        if policy == "dead_end":
            x, y = p.start
            xs, ys = floor_cells(p.walls)
            nbrs = sum(
                1 for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))
                if 0 <= x + dx < 25 and 0 <= y + dy < 21 and not p.walls[y + dy, x + dx]
            )
            assert nbrs == 1


def test_loops_braid_a_perfect_maze():
    from mazebench.mazes.braid import loop_count

    perfect = generate_maze("wilson", 31, 31, seed=2)
    braided = generate_maze("wilson", 31, 31, seed=2, loops=0.5)
    assert loop_count(perfect.walls) == 0
    assert loop_count(braided.walls) > 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "nope"}, "unknown maze family 'nope' \\(allowed: .*wilson"),
        ({"name": "drunkards_walk", "coverage": 1.5}, "coverage.*out of range \\[0, 1\\]"),
        ({"name": "drunkards_walk", "speed": 1}, "unknown parameter 'speed' \\(allowed: coverage"),
        ({"name": "wilson", "placement": "middle"}, "unknown placement policy 'middle'"),
        ({"name": "wilson", "loops": 2}, "loops must be in \\[0, 1\\]"),
        ({"name": "wilson", "height": 1}, "height must be an integer in \\[2, 32767\\]"),
        ({"name": "cellular_automata", "iterations": 2.5}, "must be an integer"),
    ],
)
def test_bad_parameters_one_line(kwargs, message):
    kwargs = {"height": 10, "width": 10, **kwargs}
    name = kwargs.pop("name")
    h, w = kwargs.pop("height"), kwargs.pop("width")
    with pytest.raises(ValueError, match=message) as info:
        generate_maze(name, h, w, seed=0, **kwargs)
    assert "\n" not in str(info.value)


def test_post_goal_extends_trace():
    p = generate_maze("wilson", 30, 30, seed=5, placement="min_plan",
                      placement_params={"length": 20})
    base = solve(p)
    longer = solve(p, post_goal=25)
    n = len(base.trace)
    assert len(longer.trace) == min(n + 25, len(longer.trace))
    assert len(longer.trace) > n
    assert np.array_equal(longer.trace.x[:n], base.trace.x)
    assert longer.plan == base.plan
    assert longer.metrics["goal_close_index"] == n - 1


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 12), w=st.integers(1, 12), seed=st.integers(0, 2**32 - 1),
       density=st.floats(0.0, 1.0))
def test_count_degrees_matches_numpy(h, w, seed, density):
    from mazebench.grid import count_degrees

    walls = np.random.default_rng(seed).random((h, w)) < density
    floor = np.pad(~walls, 1).astype(int)
    degree = floor[:-2, 1:-1] + floor[2:, 1:-1] + floor[1:-1, :-2] + floor[1:-1, 2:]
    want = (int(((degree == 1) & ~walls).sum()), int(((degree >= 3) & ~walls).sum()))
    assert count_degrees(walls) == want
