"""A* with a full trace (mazebench) against path-only A* peers on the same grids.

Peers: pyastar2d (C++), tcod's libtcod A* (C) and networkx (pure Python), all 4-connected with
unit costs. mazebench's time includes writing every event of the trace (op, x, y, g, h) and the
plan; the peers return the path only. Grids: perfect mazes (Wilson) and 30% random walls, start
and goal near opposite corners (problems whose start and goal are less than (H + W) / 2 apart in
Manhattan distance are skipped: a corner can be walled into a small pocket).

Per problem, each method runs ``repeats`` times and keeps its fastest run (the machine is shared);
the table gives the median of that over the problems. Each round runs each method over all
problems in turn, so the branch predictor never sees the same search twice in a row.
First-call compile time and cached load time are measured in fresh subprocesses with an empty
``NUMBA_CACHE_DIR``.

Run: ``python benchmarks/bench_search.py`` (``--quick`` for a smoke run); writes
``benchmarks/results/search.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np

from mazebench import Problem, generate_maze
from mazebench.search.fast import search_batch, solve_batch
from mazebench.search.kernel import (
    search,
    search_heap,
    search_ws,
    trace_capacity,
    workspace_sizes,
)
from mazebench.search.profiles import get_profile

try:
    import pyastar2d
except ImportError:  # pragma: no cover - optional peer
    pyastar2d = None
try:
    import tcod.path
except ImportError:  # pragma: no cover - optional peer
    tcod = None
try:
    import networkx as nx
except ImportError:  # pragma: no cover - optional peer
    nx = None

EVENT_DTYPES = (np.int8, np.int16, np.int16, np.int32, np.int32)  # op, x, y, g, h
PROFILE = "beyond-semantics"  # A*, f ties to the earliest created cell, N E S W
RESULTS = Path(__file__).resolve().parent / "results" / "search.md"
MAZES = {
    "perfect maze (wilson)": ("wilson", {}),
    "30% random walls": ("obstacles", {"density": 0.3}),
}


@dataclass
class Plan:
    """How many problems and repeats to run for one grid size."""

    size: int
    problems: int
    repeats: int
    nx_problems: int  # networkx runs on the first this many problems (0 = skip)
    nx_budget_s: float = 20.0


FULL = [Plan(30, 300, 20, 100), Plan(100, 100, 8, 20), Plan(1000, 6, 3, 0)]
QUICK = [Plan(30, 40, 5, 10), Plan(100, 10, 3, 3), Plan(1000, 2, 1, 0)]


@dataclass
class Row:
    """Medians (seconds per problem) of one grid size and maze kind."""

    size: int
    maze: str
    n: int
    events: float
    closes: float
    times: dict[str, float] = field(default_factory=dict)  # medians over problems
    means: dict[str, float] = field(default_factory=dict)  # means over problems (batch: total/n)
    counts: dict[str, int] = field(default_factory=dict)


def machine_info() -> dict[str, str]:
    """CPU model, versions and date."""
    model = platform.processor() or "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
        cpus = os.cpu_count()
    except (OSError, subprocess.CalledProcessError):
        cpus = os.cpu_count()
    info = {
        "cpu": f"{model} ({cpus} logical CPUs)",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    if pyastar2d is not None:
        from importlib.metadata import version

        info["pyastar2d"] = version("pyastar2d")
    if tcod is not None:
        info["tcod"] = tcod.__version__
    if nx is not None:
        info["networkx"] = nx.__version__
    return info


def make_problems(family: str, params: dict, size: int, count: int) -> list[Problem]:
    """``count`` problems with start and goal near opposite corners, at least (H+W)/2 apart."""
    out: list[Problem] = []
    seed = 0
    while len(out) < count and seed < 50 * count + 100:
        p = generate_maze(family, size, size, seed=seed, placement="corners", **params)
        seed += 1
        (sx, sy), (gx, gy) = p.start, p.goal
        if abs(sx - gx) + abs(sy - gy) >= size:
            out.append(p)
    return out


def best_of(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Fastest of ``repeats`` runs of ``fn`` and the last result (for whole batches)."""
    best = float("inf")
    result = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


class Ours:
    """Preallocated buffers and workspace for the single-call entries."""

    def __init__(self, size: int) -> None:
        cells = size * size
        cap = int(trace_capacity(cells))
        self.ev = [np.empty(cap, dtype=t) for t in EVENT_DTYPES]
        self.plan = [np.empty(cells, dtype=np.int16), np.empty(cells, dtype=np.int16)]
        n8, n32, n64 = workspace_sizes(size, size)
        self.ws = (
            np.empty(n8, dtype=np.int8),
            np.empty(n32, dtype=np.int32),
            np.empty(n64, dtype=np.int64),
        )
        self.args = get_profile(PROFILE).kernel_args()
        self.stream = np.zeros(2, dtype=np.uint64)
        for a in (*self.ev, *self.plan, *self.ws):  # a reused workspace is resident memory
            a.fill(0)

    def ws_call(self, p: Problem) -> Callable[[], tuple]:
        walls, (sx, sy), (gx, gy) = p.walls, p.start, p.goal
        a, st, ev, pl, ws = self.args, self.stream, self.ev, self.plan, self.ws
        return lambda: search_ws(walls, sx, sy, gx, gy, *a, 0, st, *ev, *pl, *ws)

    def search_call(self, p: Problem) -> Callable[[], tuple]:
        walls, (sx, sy), (gx, gy) = p.walls, p.start, p.goal
        a, st, ev, pl = self.args, self.stream, self.ev, self.plan
        return lambda: search(walls, sx, sy, gx, gy, *a, 0, st, *ev, *pl)

    def heap_call(self, p: Problem) -> Callable[[], tuple]:
        walls, (sx, sy), (gx, gy) = p.walls, p.start, p.goal
        a, st, ev, pl = self.args, self.stream, self.ev, self.plan
        return lambda: search_heap(walls, sx, sy, gx, gy, *a, 0, st, *ev, *pl)


def pyastar2d_call(p: Problem) -> Callable[[], object]:
    """pyastar2d on the problem: weights inf on walls, 1 on floor; (row, col) coordinates."""
    weights = np.where(p.walls, np.inf, 1.0).astype(np.float32)
    start, goal = (p.start[1], p.start[0]), (p.goal[1], p.goal[0])
    return lambda: pyastar2d.astar_path(weights, start, goal, allow_diagonal=False)


def tcod_call(p: Problem) -> Callable[[], object]:
    """libtcod A* (built per call, as for a new grid): cost 1 on floor, 0 = blocked."""
    cost = (~p.walls).astype(np.int8)
    (sx, sy), (gx, gy) = p.start, p.goal
    return lambda: tcod.path.AStar(cost, diagonal=0).get_path(sy, sx, gy, gx)


def _manhattan(u: tuple[int, int], v: tuple[int, int]) -> int:
    return abs(u[0] - v[0]) + abs(u[1] - v[1])


def networkx_call(p: Problem) -> Callable[[], object]:
    """networkx A* on a grid graph of the floor cells (graph built outside the timing)."""
    graph = nx.grid_2d_graph(*p.walls.shape)
    graph.remove_nodes_from([tuple(c) for c in np.argwhere(p.walls)])
    start, goal = (p.start[1], p.start[0]), (p.goal[1], p.goal[0])
    return lambda: nx.astar_path(graph, start, goal, heuristic=_manhattan)


def bench_row(size: int, maze: str, plan: Plan, log: Callable[[str], None]) -> Row:
    """Time every method on ``plan.problems`` problems of one size and maze kind.

    Each round runs each method over all problems in turn, so no search ever follows one of the
    same problem by the same code: repeating a problem lets the CPU's branch predictor learn its
    exact branch pattern, which flatters every method (by ~35% for 100x100 A* here).
    """
    family, params = MAZES[maze]
    problems = make_problems(family, params, size, plan.problems)
    n = len(problems)
    ours = Ours(size)
    calls: dict[str, list[Callable[[], object]]] = {
        "ws": [ours.ws_call(p) for p in problems],
        "search": [ours.search_call(p) for p in problems],
        "heap": [ours.heap_call(p) for p in problems],
    }
    if pyastar2d is not None:
        calls["pyastar2d"] = [pyastar2d_call(p) for p in problems]
    if tcod is not None:
        calls["tcod"] = [tcod_call(p) for p in problems]
    per = {k: [float("inf")] * n for k in calls}
    events = [0] * n
    closes = [0] * n
    plan_len = [0] * n
    for _ in range(plan.repeats):
        for k, fns in calls.items():
            for i in range(n):
                t0 = time.perf_counter()
                res = fns[i]()
                per[k][i] = min(per[k][i], time.perf_counter() - t0)
                if k == "ws":
                    ne, plan_len[i], status, _ = res
                    assert status == 1
                    events[i] = int(ne)
                    closes[i] = int(np.count_nonzero(ours.ev[0][:ne] == 1))
                elif k == "pyastar2d":
                    assert len(res) == plan_len[i], (k, len(res), plan_len[i])
                elif k == "tcod":
                    assert len(res) + 1 == plan_len[i], (k, len(res))  # tcod omits the start
    if nx is not None and plan.nx_problems:
        m = min(n, plan.nx_problems)
        nx_calls = [networkx_call(p) for p in problems[:m]]
        per["networkx"] = [float("inf")] * m
        t_start = time.perf_counter()
        for _ in range(max(1, plan.repeats // 4)):
            for i in range(m):
                t0 = time.perf_counter()
                path = nx_calls[i]()
                per["networkx"][i] = min(per["networkx"][i], time.perf_counter() - t0)
                assert len(path) == plan_len[i], ("networkx", len(path), plan_len[i])
            if time.perf_counter() - t_start > plan.nx_budget_s:
                break
    row = Row(size, maze, len(problems), statistics.median(events), statistics.median(closes))
    for k, v in per.items():
        if v:
            row.times[k] = statistics.median(v)
            row.means[k] = statistics.fmean(v)
            row.counts[k] = len(v)
    if size <= 100:
        row.means["batch"], row.means["solve_batch"] = bench_batch(problems, plan.repeats, events)
    summary = ", ".join(f"{k} {v * 1e6:.1f} us" for k, v in row.times.items())
    log(f"{size}x{size} {maze}: {summary}")
    return row


def bench_batch(problems: list[Problem], repeats: int, events: list[int]) -> tuple[float, float]:
    """Per-problem time of one ``search_batch`` call over all problems (buffers preallocated),
    and of the ``solve_batch`` wrapper (which also allocates its output)."""
    n = len(problems)
    walls = np.stack([p.walls for p in problems])
    h, w = walls.shape[1:]
    flat = walls.reshape(-1)
    cell_off = np.arange(n, dtype=np.int64) * (h * w)
    shapes = np.tile(np.array([h, w], dtype=np.int64), (n, 1))
    sg = np.array([[*p.start, *p.goal] for p in problems], dtype=np.int64)
    starts, goals = sg[:, :2], sg[:, 2:]
    streams = np.zeros((1, 2), dtype=np.uint64)
    cap = sum(events) + int(trace_capacity(h * w))
    ev = [np.empty(cap, dtype=t) for t in EVENT_DTYPES]
    pl = [np.empty(n * h * w, dtype=np.int16), np.empty(n * h * w, dtype=np.int16)]
    ev_off = np.zeros(n + 1, dtype=np.int64)
    pl_off = np.zeros(n + 1, dtype=np.int64)
    status = np.zeros(n, dtype=np.int8)
    goal_close = np.zeros(n, dtype=np.int64)
    args = get_profile(PROFILE).kernel_args()

    def run() -> int:
        return search_batch(
            flat, cell_off, shapes, sg, *args, 0, streams, *ev, ev_off, *pl, pl_off, status,
            goal_close, 0,
        )

    def wrapped() -> object:
        return solve_batch(walls, starts, goals, PROFILE, events_hint=int(np.mean(events)) + 1)

    t = t_wrap = float("inf")
    for _ in range(max(5, 2 * repeats)):  # alternate the two so that they share the noise
        t = min(t, best_of(run, 1)[0])
        t_wrap = min(t_wrap, best_of(wrapped, 1)[0])
    assert run() == n and int(ev_off[n]) == sum(events)
    assert int(wrapped().ev_off[n]) == sum(events)
    return t / n, t_wrap / n


_COLD = textwrap.dedent(
    """
    import json, time
    t0 = time.perf_counter()
    import numpy as np
    from mazebench.search.fast import search_batch
    from mazebench.search.kernel import search, search_ws, trace_capacity, workspace_sizes
    t1 = time.perf_counter()
    walls = np.zeros((12, 12), dtype=np.bool_)
    walls[5, 1:11] = True
    cap = trace_capacity(walls.size)
    ev = [np.empty(cap, dtype=t) for t in (np.int8, np.int16, np.int16, np.int32, np.int32)]
    pl = [np.empty(144, dtype=np.int16), np.empty(144, dtype=np.int16)]
    sizes = workspace_sizes(12, 12)
    ws = [np.empty(n, dtype=t) for n, t in zip(sizes, (np.int8, np.int32, np.int64))]
    order = np.array([0, 1, 2, 3], dtype=np.int64)
    st = np.zeros(2, dtype=np.uint64)
    args = (1, 1, True, 0, True, order, False, False, 0, st)
    search_ws(walls, 0, 0, 11, 11, *args, *ev, *pl, *ws)
    t2 = time.perf_counter()
    search(walls, 0, 0, 11, 11, *args, *ev, *pl)
    t3 = time.perf_counter()
    search_batch(walls.reshape(-1), np.zeros(1, np.int64), np.array([[12, 12]]),
                 np.array([[0, 0, 11, 11]]), *args[:-1], st.reshape(1, 2), *ev[:5],
                 np.zeros(2, np.int64), *pl, np.zeros(2, np.int64), np.zeros(1, np.int8),
                 np.zeros(1, np.int64), 0)
    t4 = time.perf_counter()
    print(json.dumps({"import": t1 - t0, "search_ws": t2 - t1, "search": t3 - t2,
                      "search_batch": t4 - t3}))
    """
)


def compile_times() -> dict[str, dict[str, float]]:
    """First-call times in fresh interpreters: with an empty numba cache, then with it filled."""
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("compile (empty cache)", "cached load"):
            res = subprocess.run(
                [sys.executable, "-c", _COLD], env=env, capture_output=True, text=True, check=True
            )
            out[label] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


def _us(t: float | None) -> str:
    if t is None:
        return "-"
    return f"{t * 1e6:,.1f}" if t < 1e-3 else f"{t * 1e6:,.0f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None else f"{a / b:.2f}"


def render(rows: list[Row], info: dict[str, str], cold: dict, quick: bool) -> str:
    """The results as markdown."""
    lines = [
        "# Search benchmark: A* with full trace vs path-only A*",
        "",
        "Generated by `python benchmarks/bench_search.py" + (" --quick" if quick else "") + "`.",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()) + ".",
        "",
        "mazebench runs the `beyond-semantics` A* profile (fifo ties, N E S W) and writes the full",
        "trace (every create and close with x, y, g, h) and the plan. Peers return only the path:",
        "pyastar2d (`astar_path`, weights inf on walls and 1 on floor), tcod",
        "(`tcod.path.AStar(cost, diagonal=0).get_path`, construction included) and networkx",
        "(`nx.astar_path` on a prebuilt grid graph, Manhattan heuristic; <= 100x100, a subset).",
        "Every method's path length is checked against ours. Ratios below 1: mazebench is faster.",
        "",
        "## Single search per call",
        "",
        "Microseconds per problem: for each problem the fastest of several runs, then the median",
        "over problems. Each round runs each method over all problems in turn (never the same",
        "problem twice in a row, which would let the branch predictor learn it).",
        "**ours** = `search_ws` (one numba call, caller-owned buffers and workspace reused",
        "across calls); `search()` = the same kernel allocating its workspace on every call;",
        "heap = `search_heap`, the general binary-heap kernel (what `search()` ran before the",
        "bucket queue; still used for weighted A* and greedy).",
        "",
        "| grid | maze | problems | events (median) | ours µs | search() µs | heap µs | "
        "pyastar2d µs | "
        "tcod µs | networkx µs | ours / pyastar2d | ours / tcod | ours / networkx | "
        "M closes/s (ours) |",
        "|" + "---|" * 14,
    ]
    for r in rows:
        t = r.times
        ours = t.get("ws")
        nx_cell = _us(t.get("networkx"))
        if "networkx" in t and r.counts.get("networkx", 0) < r.n:
            nx_cell += f" (n={r.counts['networkx']})"
        lines.append(
            f"| {r.size}x{r.size} | {r.maze} | {r.n} | {r.events:,.0f} | {_us(ours)} | "
            f"{_us(t.get('search'))} | {_us(t.get('heap'))} | {_us(t.get('pyastar2d'))} | "
            f"{_us(t.get('tcod'))} | "
            f"{nx_cell} | {_ratio(ours, t.get('pyastar2d'))} | {_ratio(ours, t.get('tcod'))} | "
            f"{_ratio(ours, t.get('networkx'))} | {r.closes / ours / 1e6:.1f} |"
        )
    batch_rows = [r for r in rows if "batch" in r.means]
    if batch_rows:
        lines += [
            "",
            "## Many small problems per call",
            "",
            "Mean microseconds per problem over the same problems: single calls as above (sum of",
            "per-problem best runs / n); **search_batch** = one numba call solving all of them",
            "into flat preallocated buffers (best whole run / n); **solve_batch** = its Python",
            "wrapper, which also allocates and sizes the output.",
            "",
            "| grid | maze | problems | ours single µs | search_batch µs | solve_batch µs | "
            "pyastar2d µs | single / pyastar2d | search_batch / pyastar2d | "
            "solve_batch / pyastar2d |",
            "|" + "---|" * 10,
        ]
        for r in batch_rows:
            m = r.means
            py = m.get("pyastar2d")
            lines.append(
                f"| {r.size}x{r.size} | {r.maze} | {r.n} | {_us(m['ws'])} | {_us(m['batch'])} | "
                f"{_us(m['solve_batch'])} | {_us(py)} | {_ratio(m['ws'], py)} | "
                f"{_ratio(m['batch'], py)} | {_ratio(m['solve_batch'], py)} |"
            )
    if cold:
        lines += [
            "",
            "## First call",
            "",
            "Seconds in a fresh interpreter, `NUMBA_CACHE_DIR` an empty temp dir (compile), then",
            "the same dir again (cached load). Each column is the time of that call after the",
            "previous ones (kernels shared with an earlier call are already compiled).",
            "",
            "| | import | first search_ws | then search() | then search_batch |",
            "|---|---|---|---|---|",
        ]
        for label, c in cold.items():
            lines.append(
                f"| {label} | {c['import']:.2f} | {c['search_ws']:.2f} | {c['search']:.2f} | "
                f"{c['search_batch']:.2f} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few problems (smoke run)")
    parser.add_argument("--sizes", default="30,100,1000", help="comma-separated grid sizes")
    parser.add_argument("--out", type=Path, default=RESULTS, help="markdown output path")
    parser.add_argument("--no-compile", action="store_true", help="skip compile-time runs")
    args = parser.parse_args(argv)
    sizes = {int(s) for s in args.sizes.split(",")}
    plans = [p for p in (QUICK if args.quick else FULL) if p.size in sizes]

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    info = machine_info()
    cold = {} if args.no_compile else compile_times()
    # warm up every kernel before timing
    warm = make_problems("wilson", {}, 30, 2)
    bench_batch(warm, 1, [int(Ours(30).ws_call(p)()[0]) for p in warm])
    Ours(30).search_call(warm[0])()
    rows = [bench_row(p.size, maze, p, log) for p in plans for maze in MAZES]
    text = render(rows, info, cold, args.quick)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
