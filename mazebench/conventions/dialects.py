"""Token dialects: how a problem, its trace and its plan are written as text.

* ``beyond-semantics`` (arXiv 2505.13775): ``query start SX SY goal GX GY wall X Y ...
  reasoning <events> solution plan X Y ... end``; events ``close|create X Y c<g> c<h>``.
* ``searchformer`` (arXiv 2402.14083): prompt ``start X Y goal X Y wall X Y ...``, reasoning
  ``create|close X Y c<g> c<h> ...``, plan ``plan X Y ...``; no section markers.
* ``compact``: mazebench's neutral form, one token per item: prompt ``grid WxH`` ``start X,Y``
  ``goal X,Y`` ``walls <hex of packed row-major walls>``; events ``+X,Y,G,H`` (create) and
  ``-X,Y,G,H`` (close); plan cells ``X,Y``; sections joined by `` | ``.

Every dialect offers ``parts`` (prompt / reasoning / plan strings), ``text`` (the whole example)
and ``parse`` (text back to problem, trace and plan), so that round trips are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..problem import Problem, pack_walls, unpack_walls


@dataclass
class Parsed:
    """The result of parsing a whole example text: problem, trace arrays and plan arrays."""

    problem: Problem
    trace: object
    plan: object


def _event_tokens(trace) -> list[str]:
    names = ("create", "close")
    out: list[str] = []
    for op, x, y, g, h in zip(
        trace.op.tolist(), trace.x.tolist(), trace.y.tolist(), trace.g.tolist(), trace.h.tolist()
    ):
        out += [names[op], str(x), str(y), f"c{g}", f"c{h}"]
    return out


def _plan_tokens(plan) -> list[str]:
    out: list[str] = []
    for x, y in zip(plan.x.tolist(), plan.y.tolist()):
        out += ["plan", str(x), str(y)]
    return out


def _wall_tokens(problem: Problem) -> list[str]:
    out: list[str] = []
    for x, y in problem.wall_cells().tolist():
        out += ["wall", str(x), str(y)]
    return out


def _parse_events(tokens: list[str]):
    from ..search.solve import Trace

    if len(tokens) % 5:
        raise ValueError("reasoning is not a whole number of 5-token events")
    ops, xs, ys, gs, hs = [], [], [], [], []
    for i in range(0, len(tokens), 5):
        op, x, y, g, h = tokens[i : i + 5]
        if op not in ("create", "close") or g[:1] != "c" or h[:1] != "c":
            raise ValueError(f"malformed event at token {i}: {' '.join(tokens[i : i + 5])}")
        ops.append(0 if op == "create" else 1)
        xs.append(int(x))
        ys.append(int(y))
        gs.append(int(g[1:]))
        hs.append(int(h[1:]))
    return Trace.from_arrays(ops, xs, ys, gs, hs)


def _parse_plan(tokens: list[str]):
    from ..search.solve import Plan

    if len(tokens) % 3 or any(t != "plan" for t in tokens[::3]):
        raise ValueError("plan is not a sequence of 'plan X Y'")
    return Plan.from_arrays([int(t) for t in tokens[1::3]], [int(t) for t in tokens[2::3]])


def _parse_prompt(tokens: list[str], width: int | None, height: int | None) -> tuple:
    if len(tokens) < 6 or tokens[0] != "start" or tokens[3] != "goal":
        raise ValueError("prompt must begin with 'start X Y goal X Y'")
    start = (int(tokens[1]), int(tokens[2]))
    goal = (int(tokens[4]), int(tokens[5]))
    rest = tokens[6:]
    if len(rest) % 3 or any(t != "wall" for t in rest[::3]):
        raise ValueError("prompt walls are not a sequence of 'wall X Y'")
    cells = [(int(x), int(y)) for x, y in zip(rest[1::3], rest[2::3])]
    return start, goal, cells


def _grid(cells, width, height) -> np.ndarray:
    walls = np.zeros((height, width), dtype=np.bool_)
    for x, y in cells:
        walls[y, x] = True
    return walls


class BeyondSemantics:
    name = "beyond-semantics"

    def parts(self, problem: Problem, trace, plan) -> dict[str, str]:
        (sx, sy), (gx, gy) = problem.start, problem.goal
        prompt = ["query", "start", str(sx), str(sy), "goal", str(gx), str(gy)]
        return {
            "prompt": " ".join(prompt + _wall_tokens(problem)),
            "reasoning": " ".join(_event_tokens(trace)),
            "plan": " ".join(_plan_tokens(plan)),
        }

    def text(self, problem: Problem, trace, plan) -> str:
        p = self.parts(problem, trace, plan)
        body = [p["prompt"], "reasoning"]
        if p["reasoning"]:
            body.append(p["reasoning"])
        body.append("solution")
        if p["plan"]:
            body.append(p["plan"])
        body.append("end")
        return " ".join(body)

    def parse(self, text: str, *, width: int = 30, height: int = 30) -> Parsed:
        """Parse a whole example (the grid size is not in the text: pass it)."""
        tokens = text.split()
        if not tokens or tokens[0] != "query":
            raise ValueError("text must begin with 'query'")
        try:
            r = tokens.index("reasoning")
            s = tokens.index("solution", r)
        except ValueError:
            raise ValueError("text lacks 'reasoning' or 'solution'") from None
        if tokens[-1] != "end":
            raise ValueError("text must end with 'end'")
        start, goal, cells = _parse_prompt(tokens[1:r], width, height)
        problem = Problem(_grid(cells, width, height), start, goal)
        return Parsed(problem, _parse_events(tokens[r + 1 : s]), _parse_plan(tokens[s + 1 : -1]))


class Searchformer:
    name = "searchformer"

    def parts(self, problem: Problem, trace, plan) -> dict[str, str]:
        (sx, sy), (gx, gy) = problem.start, problem.goal
        prompt = ["start", str(sx), str(sy), "goal", str(gx), str(gy)]
        return {
            "prompt": " ".join(prompt + _wall_tokens(problem)),
            "reasoning": " ".join(_event_tokens(trace)),
            "plan": " ".join(_plan_tokens(plan)),
        }

    def text(self, problem: Problem, trace, plan) -> str:
        p = self.parts(problem, trace, plan)
        return " ".join(v for v in (p["prompt"], p["reasoning"], p["plan"]) if v)

    def parse(self, text: str, *, width: int = 30, height: int = 30) -> Parsed:
        tokens = text.split()
        cut = next(
            (i for i, t in enumerate(tokens) if t in ("create", "close", "plan")), len(tokens)
        )
        pcut = next((i for i in range(cut, len(tokens)) if tokens[i] == "plan"), len(tokens))
        start, goal, cells = _parse_prompt(tokens[:cut], width, height)
        problem = Problem(_grid(cells, width, height), start, goal)
        return Parsed(problem, _parse_events(tokens[cut:pcut]), _parse_plan(tokens[pcut:]))


class Compact:
    name = "compact"

    def parts(self, problem: Problem, trace, plan) -> dict[str, str]:
        (sx, sy), (gx, gy) = problem.start, problem.goal
        prompt = (
            f"grid {problem.width}x{problem.height} start {sx},{sy} goal {gx},{gy} "
            f"walls {pack_walls(problem.walls).hex()}"
        )
        events = [
            f"{'+' if op == 0 else '-'}{x},{y},{g},{h}"
            for op, x, y, g, h in zip(
                trace.op.tolist(), trace.x.tolist(), trace.y.tolist(), trace.g.tolist(),
                trace.h.tolist(),
            )
        ]
        cells = [f"{x},{y}" for x, y in zip(plan.x.tolist(), plan.y.tolist())]
        return {"prompt": prompt, "reasoning": " ".join(events), "plan": " ".join(cells)}

    def text(self, problem: Problem, trace, plan) -> str:
        p = self.parts(problem, trace, plan)
        return f"{p['prompt']} | {p['reasoning']} | {p['plan']}"

    def parse(self, text: str, **_: int) -> Parsed:
        from ..search.solve import Plan, Trace

        head, reasoning, plan = (s.strip() for s in text.split("|"))
        t = head.split()
        if len(t) != 8 or t[0] != "grid" or t[2] != "start" or t[4] != "goal" or t[6] != "walls":
            raise ValueError("compact prompt must be 'grid WxH start X,Y goal X,Y walls HEX'")
        width, height = (int(v) for v in t[1].split("x"))
        start = tuple(int(v) for v in t[3].split(","))
        goal = tuple(int(v) for v in t[5].split(","))
        walls = unpack_walls(bytes.fromhex(t[7]), height, width)
        rows = []
        for tok in reasoning.split():
            if tok[0] not in "+-":
                raise ValueError(f"compact event {tok!r} must start with + or -")
            rows.append([0 if tok[0] == "+" else 1] + [int(v) for v in tok[1:].split(",")])
        arr = np.array(rows, dtype=np.int64).reshape(-1, 5)
        cells = np.array([[int(v) for v in c.split(",")] for c in plan.split()]).reshape(-1, 2)
        return Parsed(
            Problem(walls, start, goal),
            Trace.from_arrays(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4]),
            Plan.from_arrays(cells[:, 0], cells[:, 1]),
        )


DIALECTS = {d.name: d for d in (BeyondSemantics(), Searchformer(), Compact())}


def get_dialect(name: str):
    try:
        return DIALECTS[name]
    except KeyError:
        allowed = ", ".join(DIALECTS)
        raise ValueError(f"unknown dialect {name!r} (allowed: {allowed})") from None
