"""Trace and plan validators: ground truth accepted, every corruption flagged with the right kind.

The replay kernel is also checked against a plain-Python reading of the Beyond Semantics A*
interpreter (arXiv 2505.13775) on randomly corrupted traces.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import numpy as np
import pytest

import mazebench as mb
from mazebench.conventions.dialects import get_dialect
from mazebench.evaluate import (
    ERROR_KINDS,
    PLAN_KINDS,
    TRACE_KINDS,
    ProblemBatch,
    concat_events,
    concat_plans,
    parse,
    validate,
    validate_batch,
    validate_texts,
)
from mazebench.grid import shortest_path_length

FIXTURES = Path("/work/shared/fixtures")
FAMILIES = [
    "wilson", "kruskal", "dfs", "drunkards_walk", "searchformer", "cellular_automata", "prim",
    "obstacles", "free_space", "division",
]  # fmt: skip
SIZES = [(20, 20), (12, 25), (30, 30)]
ASTAR_PROFILES = [
    name for name, p in mb.PROFILES.items() if p.algorithm in ("astar", "dijkstra", "bfs")
]
ZERO_H = {"dijkstra", "bfs", "dfs"}  # profiles that log h = 0


def _heuristic(profile: str) -> str:
    return "zero" if profile in ZERO_H else "manhattan"


def _solutions(profile: str, seeds: int = 3) -> list:
    out = []
    for fam in FAMILIES:
        for i in range(seeds):
            h, w = SIZES[i % len(SIZES)]
            problem = mb.generate_maze(fam, h, w, seed=i)
            out.append(mb.solve(problem, profile, seed=i))
    return out


def _events(sol) -> list[list[int]]:
    t = sol.trace
    return [list(e) for e in zip(*(a.tolist() for a in (t.op, t.x, t.y, t.g, t.h)))]


def _plan(sol) -> list[list[int]]:
    p = sol.written_plan()
    return [list(c) for c in zip(p.x.tolist(), p.y.tolist())]


def _text(events, plan, dialect: str = "beyond-semantics") -> str:
    ev = " ".join(f"{('create', 'close')[o]} {x} {y} c{g} c{h}" for o, x, y, g, h in events)
    pl = " ".join(f"plan {x} {y}" for x, y in plan)
    if dialect == "beyond-semantics":
        return f"reasoning {ev} solution {pl} end"
    return f"{ev} {pl}"


@pytest.fixture(scope="module")
def gt():
    """A BS ground-truth solution on a 30x30 Wilson maze with a long trace."""
    problem = mb.generate_maze("wilson", 30, 30, seed=7)
    sol = mb.solve(problem, "beyond-semantics")
    assert sol.solved and len(sol.trace) > 100
    return sol


# -- ground truth ----------------------------------------------------------------------------
@pytest.mark.parametrize("profile", ASTAR_PROFILES)
def test_ground_truth_accepted(profile):
    sols = _solutions(profile)
    prof = mb.PROFILES[profile]
    problems = [s.problem for s in sols]
    texts = [s.to_text() for s in sols]
    for check_costs in (False, True):
        bv = validate_texts(
            problems, texts, prof.dialect, check_costs, heuristic=_heuristic(profile)
        )
        solved = np.array([s.solved for s in sols])
        assert bv.trace_valid[solved].all(), bv.first_error_histogram()
        assert bv.plan_valid[solved].all() and bv.plan_optimal[solved].all()
        assert (bv.first_error_kind[~solved] == ERROR_KINDS.index("goal_not_closed")).all()
        assert not bv.plan_valid[~solved].any()
    # the array path agrees and the parallel path equals the serial one
    pb = ProblemBatch.from_problems(problems)
    ev = concat_events([s.trace for s in sols])
    pl = concat_plans([s.written_plan() for s in sols])
    kw = dict(dialect=prof.dialect, heuristic=_heuristic(profile))
    serial = validate_batch(pb, *ev, *pl, parallel=False, **kw)
    par = validate_batch(pb, *ev, *pl, parallel=True, **kw)
    np.testing.assert_array_equal(serial.trace_valid, bv.trace_valid)
    for name in ("trace_valid", "plan_valid", "error_kind", "error_index", "error_offsets"):
        np.testing.assert_array_equal(getattr(serial, name), getattr(par, name))


def test_zero_heuristic_profiles_need_zero_h():
    sol = mb.solve(mb.generate_maze("wilson", 20, 20, seed=1), "dijkstra")
    # Dijkstra logs h = 0: the BS interpreter pre-seeds the start with the Manhattan h
    assert validate(sol.problem, sol.to_text()).first_error == ("close_not_open", 0)
    assert validate(sol.problem, sol.to_text(), check_costs=True, heuristic="zero").valid


@pytest.mark.parametrize("profile", ["greedy", "dfs", "weighted-astar"])
def test_non_astar_traces_flagged(profile):
    sols = _solutions(profile, seeds=4)
    bv = validate_texts(
        [s.problem for s in sols], [s.to_text() for s in sols], heuristic=_heuristic(profile)
    )
    flagged = ~bv.trace_valid
    assert flagged.mean() >= 0.3
    assert set(bv.first_error_histogram()) == {"not_min_f"}


def _rows(path: Path) -> list[dict]:
    with gzip.open(path, "rt") as f:
        return [json.loads(line) for line in f]


@pytest.mark.parametrize("path", sorted((FIXTURES / "searchformer").glob("sf-*.jsonl.gz")))
def test_searchformer_fixtures_accepted(path):
    rows = _rows(path)
    problems = [mb.Problem.from_json(r) for r in rows]
    parts = [r["reasoning"] + " " + r["plan"] for r in rows]
    full = [r["prompt"] + " " + r["reasoning"] + " " + r["plan"] for r in rows]
    for texts in (parts, full):
        bv = validate_texts(problems, texts, "searchformer", check_costs=True)
        assert bv.trace_valid.all() and bv.plan_optimal.all(), bv.first_error_histogram()


@pytest.mark.parametrize("path", sorted((FIXTURES / "beyond-semantics").glob("*.jsonl.gz")))
def test_beyond_semantics_fixtures(path):
    texts = [r["text"] for r in _rows(path)]
    h, w = (12, 25) if "kruskal-12x25" in path.name else (30, 30)
    problems = [get_dialect("beyond-semantics").parse(t, width=w, height=h).problem for t in texts]
    bv = validate_texts(problems, texts, check_costs=True)
    reachable = np.array([shortest_path_length(p.walls, *p.start, *p.goal) > 0 for p in problems])
    assert bv.trace_valid[reachable].all() and bv.plan_optimal[reachable].all()
    assert not bv.trace_valid[~reachable].any() and not bv.plan_valid[~reachable].any()
    for i in np.flatnonzero(~reachable):
        v = bv.verdict(int(i))
        assert v.first_error == ("goal_not_closed", v.n_events)
        assert "plan_not_adjacent" in v.counts
    if path.name.startswith("cellular_automata-seed42-test"):
        assert (~reachable).sum() == 2


# -- single corruptions ----------------------------------------------------------------------
def _check(sol, events, plan=None, dialect="beyond-semantics", **kw):
    return validate(sol.problem, _text(events, _plan(sol) if plan is None else plan, dialect),
                    dialect, **kw)  # fmt: skip


def _last_closed_before(events, k):
    for o, x, y, _, _ in reversed(events[:k]):
        if o == 1:
            return x, y
    return None


def test_moved_coordinate(gt):
    walls = gt.problem.walls
    events = _events(gt)
    hits = 0
    for k in range(1, len(events)):
        o, x, y, g, h = events[k]
        y2 = y + 2
        if y2 >= walls.shape[0] or walls[y2, x]:
            continue
        bad = [e[:] for e in events]
        bad[k][2] = y2
        v = _check(gt, bad)
        if o == 0:
            lx, ly = _last_closed_before(events, k)
            if abs(x - lx) + abs(y2 - ly) == 1:
                continue
            assert v.first_error == ("not_adjacent", k)
        else:
            assert v.first_error == ("close_not_open", k)
        hits += 1
        if hits > 20:
            break
    assert hits > 5


def test_wrong_costs(gt):
    events = _events(gt)
    k = next(i for i, e in enumerate(events) if e[0] == 0 and i > 10)
    for col, kind in ((3, "wrong_g"), (4, "wrong_h")):
        bad = [e[:] for e in events]
        bad[k][col] += 1
        assert _check(gt, bad, check_costs=True).first_error == (kind, k)
        # without the cost check the replay is upstream's: the later close no longer matches
        v = _check(gt, bad)
        assert not v.trace_valid and v.first_error[0] == "close_not_open"
        assert v.first_error[1] > k
        # check_costs only adds errors, the replay is unchanged
        with_costs = _check(gt, bad, check_costs=True).errors
        assert set(v.errors) <= set(with_costs)
    # a consistently shifted h (h + 1 everywhere) is valid A* without the cost check
    shifted = [[o, x, y, g, h + 1] for o, x, y, g, h in events]
    assert _check(gt, shifted).first_error == ("close_not_open", 0)  # pre-seeded start h


def test_swapped_events(gt):
    events = _events(gt)
    closes = [i for i, e in enumerate(events) if e[0] == 1]
    done = 0
    for a, b in zip(closes, closes[5:]):
        fa = events[a][3] + events[a][4]
        fb = events[b][3] + events[b][4]
        if fb <= fa:
            continue
        bad = [e[:] for e in events]
        bad[a], bad[b] = bad[b], bad[a]
        v = _check(gt, bad)
        assert v.first_error[1] == a
        assert v.first_error[0] in ("not_min_f", "close_not_open")
        done += 1
    assert done > 3
    # swapping a close with its first child create breaks adjacency or the open list
    k = next(i for i in closes if i > 5 and events[i + 1][0] == 0)
    bad = [e[:] for e in events]
    bad[k], bad[k + 1] = bad[k + 1], bad[k]
    assert not _check(gt, bad).trace_valid


def test_dropped_close(gt):
    events = _events(gt)
    closes = [i for i, e in enumerate(events) if e[0] == 1]
    for k in closes[1:-1:7]:
        v = _check(gt, events[:k] + events[k + 1 :])
        assert not v.trace_valid and v.first_error[1] >= k
    v = _check(gt, events[:-1])  # the goal's close
    assert v.first_error == ("goal_not_closed", len(events) - 1)
    assert v.plan_valid


def test_trace_of_another_problem():
    sols = [mb.solve(mb.generate_maze("wilson", 30, 30, seed=i)) for i in range(12)]
    for a, b in zip(sols, sols[1:] + sols[:1]):
        v = validate(a.problem, _text(_events(b), _plan(b)))
        assert not v.trace_valid and not v.plan_valid
        assert v.first_error[0] in TRACE_KINDS
        sf = validate(a.problem, b.to_parts("searchformer")["reasoning"], "searchformer")
        assert not sf.trace_valid


def test_wall_and_off_grid(gt):
    walls = gt.problem.walls
    events = _events(gt)
    wy, wx = np.argwhere(walls)[0]
    for k in (0, 5, len(events) // 2):
        bad = [e[:] for e in events]
        bad[k][1:3] = [int(wx), int(wy)]
        assert _check(gt, bad).first_error == ("wall", k)
        for x, y in ((30, 3), (3, 30), (99999999999999999999, 0)):
            bad[k][1:3] = [x, y]
            assert _check(gt, bad).first_error == ("out_of_bounds", k)


def test_open_list_rules(gt):
    events = _events(gt)
    k = next(i for i, e in enumerate(events) if e[0] == 0 and i > 3)
    # the same create twice: the second does not improve g
    v = _check(gt, events[: k + 1] + [events[k]] + events[k + 1 :])
    assert v.first_error == ("create_not_improving", k + 1)
    # a close repeated: the cell is no longer open
    c = next(i for i, e in enumerate(events) if e[0] == 1 and i > 3)
    v = _check(gt, events[: c + 1] + [events[c]] + events[c + 1 :])
    assert v.first_error == ("close_not_open", c + 1)
    # re-creating a closed neighbour of the cell just closed
    o, x, y, g, h = events[c]
    prev = next(e for e in reversed(events[:c]) if e[0] == 1 and abs(e[1] - x) + abs(e[2] - y) == 1)
    v = _check(gt, events[: c + 1] + [[0, prev[1], prev[2], g + 1, prev[4]]] + events[c + 1 :])
    assert v.first_error == ("create_closed", c + 1)


def test_not_min_f_and_parents_broken():
    walls = np.zeros((4, 4), dtype=bool)
    problem = mb.Problem(walls, (0, 0), (1, 0))
    # BS: a create before any close has no parent; closing the goal then breaks the parents
    text = "create 1 0 c1 c0 close 0 0 c0 c1 close 1 0 c1 c0 plan 0 0 plan 1 0"
    v = validate(problem, text)
    assert v.errors == [("parents_broken", 2)] and v.plan_valid
    # closing a cell of larger f while a smaller one is open
    problem = mb.Problem(walls, (0, 0), (3, 0))
    text = "close 0 0 c0 c3 create 1 0 c1 c2 create 0 1 c1 c4 close 0 1 c1 c4"
    v = validate(problem, text)
    assert v.first_error == ("not_min_f", 3)
    # Searchformer dialect: the start must be created
    sf = "create 0 0 c0 c3 close 0 0 c0 c3 create 1 0 c1 c2"
    assert validate(problem, sf, "searchformer").first_error == ("goal_not_closed", 3)
    assert validate(problem, sf).first_error == ("create_not_improving", 0)


def test_after_goal(gt):
    events = _events(gt)
    extra = [[1, 0, 0, 5, 5]]
    v = _check(gt, events + extra)
    assert v.errors == [("after_goal", len(events))] and v.goal_close_index == len(events) - 1
    assert _check(gt, events + extra, after_goal="ignore").valid
    tail = mb.solve(gt.problem, "beyond-semantics", post_goal=10)
    assert len(tail.trace) > len(gt.trace)
    assert validate(gt.problem, tail.to_text()).errors == [("after_goal", len(gt.trace))]
    v = validate(gt.problem, tail.to_text(), after_goal="ignore")
    assert v.valid and v.n_events == len(tail.trace)


def test_plan_errors(gt):
    events = _events(gt)
    plan = _plan(gt)
    walls = gt.problem.walls
    cases = {
        "plan_empty": [],
        "wrong_start": plan[1:],
        "goal_not_reached": plan[:-1],
        "plan_not_adjacent": plan[:3] + plan[4:],
        "plan_out_of_bounds": plan[:3] + [[30, plan[3][1]]] + plan[4:],
    }
    # replace the cell after plan[k] by a wall next to plan[k] (the first k >= 2 that has one)
    k, wall = next((k, (x + dx, y + dy)) for k, (x, y) in enumerate(plan[2:-2], start=2)
                   for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))
                   if 0 <= x + dx < 30 and 0 <= y + dy < 30 and walls[y + dy, x + dx])
    cases["plan_wall"] = plan[: k + 1] + [list(wall)] + plan[k + 2 :]
    for kind, bad in cases.items():
        v = _check(gt, events, bad)
        assert not v.plan_valid and v.first_plan_error[0] == kind, (kind, v.plan_errors)
        if len(bad) == len(plan):
            assert v.trace_valid
        else:
            assert v.trace_errors == [("plan_length_mismatch", len(events) - 1)]
    v = validate(gt.problem, _text(events, plan).replace("solution plan", "solution plan 3 plan"))
    assert v.first_plan_error == ("plan_malformed", 0) and v.trace_valid
    # a detour is a valid, non-optimal plan; the trace's parents then disagree in length
    detour = plan[:2] + [plan[0], plan[1]] + plan[2:]  # a step back and forth
    v = _check(gt, events, detour)
    assert v.plan_valid and not v.plan_optimal and v.plan_length == len(plan) + 2
    assert v.errors == [("plan_length_mismatch", len(events) - 1)]
    v = _check(gt, events, detour, require_optimal=True)
    assert not v.plan_valid and v.first_plan_error == ("plan_not_optimal", len(detour) - 1)


def test_parse_errors_positions():
    problem = mb.Problem(np.zeros((4, 4), dtype=bool), (0, 0), (1, 0))
    text = (
        "reasoning close 0 0 c0 c1 create 1 0 c1 foo close 1 0 c1 c0 "
        "solution plan 0 0 plan 1 0 end"
    )
    v = validate(problem, text)
    # the broken clause sits in event slot 1; 'foo' is an unknown token; the close then
    # finds the cell not open
    assert v.errors[:3] == [("malformed", 1), ("unknown_token", 1), ("close_not_open", 1)]
    assert v.error_tokens[:3] == [6, 10, 11]
    p = parse(text)
    assert p.errors == [("malformed", 6), ("unknown_token", 10)]
    assert p.op.tolist() == [1, 1] and p.plan_x.tolist() == [0, 1]


def test_kind_registry_stable():
    assert ERROR_KINDS[:13] == (
        "malformed", "out_of_bounds", "wall", "not_adjacent", "create_closed", "close_not_open",
        "not_min_f", "goal_not_closed", "parents_broken", "plan_length_mismatch",
        "extracted_plan_invalid", "create_not_improving", "unknown_token",
    )  # fmt: skip
    assert set(TRACE_KINDS) | set(PLAN_KINDS) == set(ERROR_KINDS)
    assert all(k.startswith("plan_") or k in ("wrong_start", "goal_not_reached")
               for k in PLAN_KINDS)  # fmt: skip


def test_batch_verdict_summary():
    sols = [mb.solve(mb.generate_maze("kruskal", 15, 15, seed=i)) for i in range(6)]
    texts = [s.to_text() for s in sols]
    texts[1] = texts[1].replace("solution", "close 0 0 c0 c0 solution")
    texts[2] = "garbage"
    bv = validate_texts([s.problem for s in sols], texts)
    assert len(bv) == 6 and bv.table()["plan_valid_trace_valid"] == 4
    assert bv.first_error_histogram() == {"after_goal": 1, "unknown_token": 1}
    for i, t in enumerate(texts):
        assert bv.verdict(i) == validate(sols[i].problem, t)
    empty = validate_texts([], [])
    assert len(empty) == 0 and empty.error_offsets.tolist() == [0]


# -- agreement with a plain-Python interpreter ------------------------------------------------
def _reference(problem, events, n_plan, preseed, check_costs):
    """A direct reading of evaluation.md, open list as a dict, minimum f by a scan."""
    walls = problem.walls
    (sx, sy), (gx, gy) = problem.start, problem.goal
    hgt, wid = walls.shape
    open_, closed, parent, errors = {}, set(), {}, []
    last, last_g, goal_close = None, 0, -1
    if preseed:
        open_[(sx, sy)] = (0, abs(sx - gx) + abs(sy - gy))
        parent[(sx, sy)] = None
    for i, (o, x, y, g, h) in enumerate(events):
        if not (0 <= x < wid and 0 <= y < hgt):
            errors.append(("out_of_bounds", i))
        elif walls[y, x]:
            errors.append(("wall", i))
        elif o == 0:
            if last is not None and abs(x - last[0]) + abs(y - last[1]) != 1:
                errors.append(("not_adjacent", i))
            elif (x, y) in closed:
                errors.append(("create_closed", i))
            elif (x, y) in open_ and g >= open_[(x, y)][0]:
                errors.append(("create_not_improving", i))
            else:
                open_[(x, y)] = (g, h)
                parent[(x, y)] = last
                if check_costs and g != (last_g + 1 if last is not None else 0):
                    errors.append(("wrong_g", i))
                if check_costs and h != abs(x - gx) + abs(y - gy):
                    errors.append(("wrong_h", i))
        else:
            if open_.get((x, y)) != (g, h):
                errors.append(("close_not_open", i))
            elif g + h > min(a + b for a, b in open_.values()):
                errors.append(("not_min_f", i))
            else:
                del open_[(x, y)]
                closed.add((x, y))
                last, last_g = (x, y), g
                if (x, y) == (gx, gy):
                    goal_close = i
                    break
    if goal_close < 0:
        return errors + [("goal_not_closed", len(events))]
    cell, length = (gx, gy), 1
    while cell is not None and cell != (sx, sy):
        cell = parent.get(cell)
        length += 1
    if cell is None:
        errors.append(("parents_broken", goal_close))
    elif length != n_plan:
        errors.append(("plan_length_mismatch", goal_close))
    if goal_close + 1 < len(events):
        errors.append(("after_goal", goal_close + 1))
    return errors


def _corrupt(events, rng: random.Random, walls):
    events = [e[:] for e in events]
    for _ in range(rng.randint(1, 3)):
        if not events:
            break
        k = rng.randrange(len(events))
        r = rng.random()
        if r < 0.25:
            events[k][rng.choice((1, 2))] += rng.choice((-2, -1, 1, 2))
            events[k][1] = max(events[k][1], 0)
            events[k][2] = max(events[k][2], 0)
        elif r < 0.45:
            events[k][rng.choice((3, 4))] += rng.choice((-1, 1, 2))
            events[k][3] = max(events[k][3], 0)
            events[k][4] = max(events[k][4], 0)
        elif r < 0.6:
            j = rng.randrange(len(events))
            events[k], events[j] = events[j], events[k]
        elif r < 0.75:
            del events[k]
        elif r < 0.85:
            events.insert(k, events[k][:])
        else:
            events = events[:k]
    return events


@pytest.mark.parametrize("profile", ["beyond-semantics", "searchformer"])
def test_kernel_matches_reference(profile):
    rng = random.Random(0)
    prof = mb.PROFILES[profile]
    cases = []
    for i in range(150):
        problem = mb.generate_maze(FAMILIES[i % len(FAMILIES)], 10, 10, seed=i)
        sol = mb.solve(problem, profile)
        cases.append((sol, _corrupt(_events(sol), rng, problem.walls)))
    problems = [s.problem for s, _ in cases]
    arr = np.array([e for _, ev in cases for e in ev], dtype=np.int64).reshape(-1, 5)
    eoff = np.concatenate([[0], np.cumsum([len(ev) for _, ev in cases])])
    pl = concat_plans([s.written_plan() for s, _ in cases])
    for check_costs in (False, True):
        bv = validate_batch(problems, *arr.T, eoff, *pl, dialect=prof.dialect,
                            check_costs=check_costs)  # fmt: skip
        for i, (sol, ev) in enumerate(cases):
            want = _reference(sol.problem, ev, len(sol.written_plan()), not prof.log_start,
                              check_costs)  # fmt: skip
            got = [e for e in bv.errors(i) if e[0] in TRACE_KINDS]
            assert got == want, (i, ev)
    assert (~bv.trace_valid).mean() > 0.5


def test_chunked_batches_and_token_ids(monkeypatch):
    from mazebench.evaluate import parse_token_ids, replay, token_table

    sols = [mb.solve(mb.generate_maze("prim", 16, 16, seed=i)) for i in range(40)]
    ev = list(concat_events([s.trace for s in sols]))
    ev[1] = ev[1].copy()
    ev[1][::37] += 1  # scattered corruptions
    pl = concat_plans([s.plan for s in sols])
    whole = validate_batch([s.problem for s in sols], *ev, *pl)
    assert 0 < whole.trace_valid.sum() < len(sols)
    monkeypatch.setattr(replay, "_CHUNK_SLOTS", 500)
    assert len(replay._chunks(np.full(40, 200))) == 20
    chunked = validate_batch([s.problem for s in sols], *ev, *pl)
    for name in ("trace_valid", "plan_optimal", "error_kind", "error_index", "error_offsets"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(chunked, name))
    # token ids through a vocabulary table
    vocab = sorted(set(sols[0].to_text().split()))
    ids = [vocab.index(t) for t in sols[0].to_text().split()]
    parsed = parse_token_ids(ids, token_table(vocab))
    assert validate(sols[0].problem, parsed) == validate(sols[0].problem, sols[0].to_text())
    assert validate(sols[0].problem, parsed).valid
