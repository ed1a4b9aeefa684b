"""The fast search paths (two-bucket queue, workspaces, batches) equal the general heap search.

Every comparison is on the whole output: return values, every event, the plan and the random
stream state afterwards, for every tie policy on mazes of several families and shapes.
"""

from __future__ import annotations

import numpy as np
import pytest

from mazebench import PROFILES, generate_maze
from mazebench.rng import native_stream
from mazebench.search.fast import Searcher, native_streams, solve_batch
from mazebench.search.kernel import (
    Q_FIFO,
    Q_GENERAL,
    Q_HEAP,
    Q_STACK,
    TIE_FIFO,
    TIE_HIGH_G,
    TIE_LIFO,
    TIE_LOW_G,
    TIE_RANDOM,
    TIE_YX,
    queue_mode,
    search,
    search_heap,
    search_ws,
    trace_capacity,
    workspace_sizes,
)

TIES = (TIE_FIFO, TIE_LIFO, TIE_LOW_G, TIE_HIGH_G, TIE_YX, TIE_RANDOM)
# (wg, wh, improve): A*, A* without improvement, A* with both weights 2, Dijkstra/BFS, DFS
BUCKET_ALGOS = ((1, 1, True), (1, 1, False), (2, 2, True), (1, 0, True), (0, 0, False))
GENERAL_ALGOS = ((1, 2, True), (0, 1, False), (0, 0, True))
FAMILIES = {
    "wilson": {},
    "kruskal": {},
    "obstacles": {"density": 0.3},
    "free_space": {},
    "cellular_automata": {},
}
SHAPES = ((7, 13), (16, 9), (23, 31), (2, 2))
SEEDS = 4
PASSES = 2  # random config variants per problem

# One dirty workspace shared by every search_ws call: its contents on entry must not matter.
_WS = tuple(
    np.full(n, fill, dtype=t)
    for n, fill, t in zip(workspace_sizes(40, 40), (5, -7, 99), (np.int8, np.int32, np.int64))
)


def _run(fn, walls, start, goal, args, post_goal, seed, *extra):
    """Run a kernel entry; returns (return values, events, plan, stream after)."""
    n = walls.size
    cap = int(trace_capacity(n))
    bufs = [np.zeros(cap, dtype=t) for t in (np.int8, np.int16, np.int16, np.int32, np.int32)]
    plan = [np.zeros(n, dtype=np.int16), np.zeros(n, dtype=np.int16)]
    stream = native_stream(seed, "speedpaths")
    ret = fn(walls, *start, *goal, *args, post_goal, stream, *bufs, *plan, *extra)
    ret = tuple(int(v) for v in ret)
    events = [b[: ret[0]].copy() for b in bufs]
    return ret, events, [p[: ret[1]].copy() for p in plan], stream.copy()


def _same(a, b) -> bool:
    if a[0] != b[0]:
        return False
    pairs = list(zip(a[1], b[1])) + list(zip(a[2], b[2])) + [(a[3], b[3])]
    return all(np.array_equal(x, y) for x, y in pairs)


def _configs(rng: np.random.Generator, algos):
    """Every tie policy on every algorithm, with a random child order, shuffle, log_start and
    post-goal tail."""
    for wg, wh, improve in algos:
        for tie in TIES:
            order = rng.permutation(4).astype(np.int64)
            shuffle = bool(rng.integers(2))
            log_start = bool(rng.integers(2))
            post_goal = int(rng.choice([0, 0, 3, 10**6]))
            args = (wg, wh, bool(rng.integers(4)), tie, improve, order, shuffle, log_start)
            yield args, post_goal


def _problems(family: str):
    for height, width in SHAPES:
        for seed in range(SEEDS):
            p = generate_maze(family, height, width, seed=seed, **FAMILIES[family])
            yield p.walls, p.start, p.goal


def _random_grids(count: int):
    """Random walls at several densities, start and goal anywhere (walls, unreachable, equal)."""
    rng = np.random.default_rng(7)
    for i in range(count):
        height, width = int(rng.integers(1, 20)), int(rng.integers(1, 20))
        walls = rng.random((height, width)) < rng.choice([0.0, 0.2, 0.35, 0.5])
        start = (int(rng.integers(width)), int(rng.integers(height)))
        goal = start if i % 9 == 0 else (int(rng.integers(width)), int(rng.integers(height)))
        yield walls, start, goal


def _check(walls, start, goal, rng, algos) -> int:
    checked = 0
    for args, post_goal in (c for _ in range(PASSES) for c in _configs(rng, algos)):
        seed = int(rng.integers(1 << 30))
        ref = _run(search_heap, walls, start, goal, args, post_goal, seed)
        got = _run(search, walls, start, goal, args, post_goal, seed)
        assert _same(ref, got), ("search", walls.shape, start, goal, args, post_goal)
        got = _run(search_ws, walls, start, goal, args, post_goal, seed, *_WS)
        assert _same(ref, got), ("search_ws", walls.shape, start, goal, args, post_goal)
        checked += 1
    return checked


def test_queue_modes() -> None:
    """A*, Dijkstra/BFS and DFS take a bucket queue; weighted A* and greedy the general heap."""
    for wg, wh, improve in BUCKET_ALGOS:
        for tie in TIES:
            assert queue_mode(wg, wh, tie, improve) in (Q_FIFO, Q_STACK, Q_HEAP)
    for wg, wh, improve in GENERAL_ALGOS:
        assert queue_mode(wg, wh, TIE_FIFO, improve) == Q_GENERAL
    assert queue_mode(1, 1, TIE_FIFO, True) == Q_FIFO
    assert queue_mode(1, 1, TIE_LIFO, True) == Q_STACK
    assert queue_mode(1, 1, TIE_LOW_G, True) == Q_HEAP
    assert queue_mode(1, 0, TIE_HIGH_G, True) == Q_FIFO
    for name in ("beyond-semantics", "searchformer", "searchformer-nondet", "dijkstra", "bfs"):
        wg, wh, _, tie, improve, *_ = PROFILES[name].kernel_args()
        assert queue_mode(wg, wh, tie, improve) != Q_GENERAL, name
    for name in ("weighted-astar", "greedy"):
        wg, wh, _, tie, improve, *_ = PROFILES[name].kernel_args()
        assert queue_mode(wg, wh, tie, improve) == Q_GENERAL, name


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_bucket_paths_match_heap(family: str) -> None:
    rng = np.random.default_rng(len(family))
    checked = sum(_check(w, s, g, rng, BUCKET_ALGOS) for w, s, g in _problems(family))
    assert checked == len(SHAPES) * SEEDS * PASSES * len(BUCKET_ALGOS) * len(TIES)


def test_bucket_paths_match_heap_random_grids() -> None:
    rng = np.random.default_rng(11)
    for walls, start, goal in _random_grids(200):
        _check(walls, start, goal, rng, BUCKET_ALGOS)


def test_general_profiles_unchanged() -> None:
    """Profiles outside the bucket queue still run (identically) through search and search_ws."""
    rng = np.random.default_rng(3)
    for walls, start, goal in _problems("obstacles"):
        _check(walls, start, goal, rng, GENERAL_ALGOS)


def _mixed_problems():
    probs = []
    for i, family in enumerate(sorted(FAMILIES)):
        for j, (height, width) in enumerate(((9, 14), (30, 30), (5, 3))):
            p = generate_maze(family, height, width, seed=10 * i + j, **FAMILIES[family])
            probs.append((p.walls, p.start, p.goal))
    probs.extend(_random_grids(12))
    return probs


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_solve_batch_matches_single_searches(profile: str) -> None:
    probs = _mixed_problems()
    n = len(probs)
    streams = native_streams(5, n, profile)
    batch = solve_batch(
        [w for w, _, _ in probs],
        np.array([s for _, s, _ in probs]),
        np.array([g for _, _, g in probs]),
        profile,
        streams=streams.copy(),
        post_goal=4 if profile == "bfs" else 0,
        events_hint=1,  # forces the buffers to grow and the batch to resume
    )
    assert len(batch) == n
    args = PROFILES[profile].kernel_args()
    for i, (walls, start, goal) in enumerate(probs):
        stream = streams[i].copy()
        cap = int(trace_capacity(walls.size))
        bufs = [np.zeros(cap, dtype=t) for t in (np.int8, np.int16, np.int16, np.int32, np.int32)]
        plan = [np.zeros(walls.size, dtype=np.int16), np.zeros(walls.size, dtype=np.int16)]
        ne, n_plan, status, gcl = search_heap(
            walls, *start, *goal, *args, 4 if profile == "bfs" else 0, stream, *bufs, *plan
        )
        trace = batch.trace(i)
        assert len(trace) == ne
        for got, want in zip((trace.op, trace.x, trace.y, trace.g, trace.h), bufs):
            assert np.array_equal(got, want[:ne])
        assert np.array_equal(batch.plan(i).x, plan[0][:n_plan])
        assert np.array_equal(batch.plan(i).y, plan[1][:n_plan])
        assert (batch.status[i], batch.goal_close[i]) == (status, gcl)


def test_solve_batch_uniform_array_and_searcher() -> None:
    problems = [generate_maze("wilson", 12, 20, seed=i) for i in range(20)]
    walls = np.stack([p.walls for p in problems])
    starts = np.array([p.start for p in problems])
    goals = np.array([p.goal for p in problems])
    batch = solve_batch(walls, starts, goals, "searchformer")
    searcher = Searcher("searchformer", 20, 20)
    for i, p in enumerate(problems):
        ne, n_plan, status, gcl = searcher.run(p.walls, *p.start, *p.goal)
        trace = batch.trace(i)
        assert np.array_equal(trace.x, searcher.x[:ne])
        assert np.array_equal(trace.op, searcher.op[:ne])
        assert np.array_equal(batch.plan(i).y, searcher.plan_y[:n_plan])
        assert status == batch.status[i] == 1 and gcl == batch.goal_close[i]
    with pytest.raises(ValueError):
        searcher.run(np.zeros((21, 21), dtype=bool), 0, 0, 1, 1)
    empty = solve_batch([], np.zeros((0, 2)), np.zeros((0, 2)))
    assert len(empty) == 0
