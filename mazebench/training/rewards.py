"""Reward functions for RL on mazes, in the calling convention of TRL and similar libraries.

Every reward is ``f(completions, **columns) -> list[float]``: ``completions`` are the model's
outputs (strings, or chat turns ``[{"role": "assistant", "content": ...}]``), ``columns`` the
dataset columns of the same rows, of which the problem columns are used: ``height``, ``width``,
``walls`` (packed, as in every mazebench table), ``start_x``, ``start_y``, ``goal_x``,
``goal_y`` and, for :func:`process_reward`, ``anchors`` (the export of
:mod:`mazebench.training.hf` and the stream of :mod:`mazebench.training.stream` carry them).
Other keyword arguments (``prompts``, ``completion_ids``, ``trainer_state``, ...) are ignored.
A batch is parsed and validated once, in numba (:func:`mazebench.evaluate.validate_parsed`);
the rewards of one batch share that work.

* :func:`plan_valid_reward`, :func:`plan_optimal_reward`, :func:`trace_valid_reward`: 1.0 or 0.0
  (the A* interpreter of Beyond Semantics, arXiv 2505.13775);
* :func:`graded_reward`: SWC-style partial credit (Searchformer, arXiv 2402.14083):
  ``c * l* / max(l, l*)`` with ``c`` plan validity, ``l`` the plan's length, ``l*`` the
  optimal length, so a valid detour earns the fraction of its length that was needed;
* :func:`process_reward`: grades the trace, and pays only when the plan is valid (optimal with
  ``require_optimal``), so that a wrong answer cannot farm it (the outcome-gated process reward of
  LongTraceRL): a weighted mean of

  - ``valid_events``: the share of the trace's clauses that the interpreter accepts (malformed
    clauses and events after the goal's close count as invalid);
  - ``anchors``: the share of the ground-truth trace's anchor cells (branch jumps and the goal,
    :mod:`mazebench.training.anchors`; the maze analogue of thought anchors, arXiv 2506.19143)
    that the trace closes;
  - ``faithful``: half the share of plan cells that the trace closes, plus half if the plan
    agrees with the trace's parent pointers (no ``parents_broken``, ``plan_length_mismatch``,
    ``extracted_plan_invalid`` or ``goal_not_closed`` error).

:class:`MazeRewards` builds the same functions for another dialect or option set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numba import njit

from ..evaluate import KIND_CODES, ProblemBatch, parse_batch, validate_parsed

PROBLEM_COLUMNS = ("height", "width", "walls", "start_x", "start_y", "goal_x", "goal_y")
_PARSE_KINDS = (KIND_CODES["malformed"], KIND_CODES["unknown_token"])
_GLOBAL_KINDS = (KIND_CODES["goal_not_closed"], KIND_CODES["parents_broken"],
                 KIND_CODES["plan_length_mismatch"], KIND_CODES["extracted_plan_invalid"])
_AFTER_GOAL = KIND_CODES["after_goal"]
_FIRST_PLAN = KIND_CODES["plan_malformed"]


def completion_texts(completions: Sequence) -> list[str]:
    """Strings of completions given as strings, bytes or chat turns (the last turn's content)."""
    out = []
    for c in completions:
        if isinstance(c, (list, tuple)) and c and isinstance(c[-1], dict):
            c = c[-1].get("content", "")
        elif isinstance(c, dict):
            c = c.get("content", "")
        if isinstance(c, (bytes, bytearray)):
            c = bytes(c).decode("utf-8", "replace")
        out.append(c if isinstance(c, str) else str(c))
    return out


def problem_batch(n: int, columns: dict) -> ProblemBatch:
    """A :class:`~mazebench.evaluate.ProblemBatch` from per-row problem columns."""
    missing = [k for k in PROBLEM_COLUMNS if k not in columns]
    if missing:
        raise ValueError(f"reward needs the problem columns {', '.join(PROBLEM_COLUMNS)}; "
                         f"missing: {', '.join(missing)}")
    lens = {k: len(columns[k]) for k in PROBLEM_COLUMNS}
    if any(v != n for v in lens.values()):
        raise ValueError(f"{n} completions but problem columns of lengths {lens}")
    hgt = np.asarray(columns["height"], dtype=np.int64)
    wid = np.asarray(columns["width"], dtype=np.int64)
    cells = hgt * wid
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(cells, out=offsets[1:])
    packed = [bytes(w) for w in columns["walls"]]
    nbytes = (cells + 7) // 8
    if n and (cells == cells[0]).all() and all(len(w) == nbytes[0] for w in packed):
        raw = np.frombuffer(b"".join(packed), dtype=np.uint8).reshape(n, int(nbytes[0]))
        walls = np.unpackbits(raw, axis=1, count=int(cells[0])).astype(np.bool_).ravel()
    else:
        walls = np.empty(int(offsets[-1]), dtype=np.bool_)
        for i, w in enumerate(packed):
            if len(w) != nbytes[i]:
                raise ValueError(f"row {i}: walls has {len(w)} bytes, a {wid[i]}x{hgt[i]} grid "
                                 f"needs {nbytes[i]}")
            bits = np.unpackbits(np.frombuffer(w, dtype=np.uint8), count=int(cells[i]))
            walls[offsets[i] : offsets[i + 1]] = bits.astype(np.bool_)
    ends = np.stack([np.asarray(columns[k], dtype=np.int32)
                     for k in ("start_x", "start_y", "goal_x", "goal_y")], axis=1).reshape(n, 4)
    dims = np.stack([hgt, wid], axis=1).astype(np.int32).reshape(n, 2)
    return ProblemBatch(walls, offsets, dims, ends)


@njit(cache=True)
def _cover(walls_off, dims, ev_off, op, ex, ey, pl_off, px, py, an_off, an, out):
    """Per row: anchors closed (out[:, 0]) and plan cells closed (out[:, 1])."""
    n = dims.shape[0]
    biggest = 1
    for i in range(n):
        biggest = max(biggest, dims[i, 0] * dims[i, 1])
    closed = np.zeros(biggest, dtype=np.int64)
    for i in range(n):
        hgt = dims[i, 0]
        wid = dims[i, 1]
        stamp = i + 1
        for e in range(ev_off[i], ev_off[i + 1]):
            if op[e] == 1 and 0 <= ex[e] < wid and 0 <= ey[e] < hgt:
                closed[ey[e] * wid + ex[e]] = stamp
        hits = 0
        for k in range(an_off[i], an_off[i + 1]):
            c = an[k]
            if 0 <= c < hgt * wid and closed[c] == stamp:
                hits += 1
        on = 0
        for p in range(pl_off[i], pl_off[i + 1]):
            if 0 <= px[p] < wid and 0 <= py[p] < hgt and closed[py[p] * wid + px[p]] == stamp:
                on += 1
        out[i, 0] = hits
        out[i, 1] = on


def _anchor_arrays(n: int, anchors) -> tuple[np.ndarray, np.ndarray]:
    rows = [np.asarray(a if a is not None else [], dtype=np.int64).ravel() for a in anchors]
    if len(rows) != n:
        raise ValueError(f"{n} completions but {len(rows)} anchor lists")
    off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([r.shape[0] for r in rows], out=off[1:])
    return (np.concatenate(rows) if rows else np.zeros(0, np.int64)), off


class MazeRewards:
    """Reward functions for one dialect and validation option set (see the module docstring).

    ``check_costs`` also requires true g and h values; ``require_optimal`` gates the process
    reward on an optimal plan; ``weights`` weigh ``(valid_events, anchors, faithful)``.
    """

    def __init__(self, dialect: str = "beyond-semantics", *, check_costs: bool = False,
                 require_optimal: bool = False,
                 weights: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> None:
        from ..evaluate.parse import dialect_code

        dialect_code(dialect)
        if len(weights) != 3 or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(f"weights = {weights!r} must be three non-negative numbers, "
                             "not all zero (valid_events, anchors, faithful)")
        self.dialect, self.check_costs = dialect, check_costs
        self.require_optimal, self.weights = require_optimal, tuple(float(w) for w in weights)
        self._key: tuple | None = None
        self._value: dict | None = None
        self.plan_valid = self._reward("plan_valid_reward", lambda s, c: s["plan_valid"])
        self.plan_optimal = self._reward("plan_optimal_reward", lambda s, c: s["plan_optimal"])
        self.trace_valid = self._reward("trace_valid_reward", lambda s, c: s["trace_valid"])
        self.graded = self._reward("graded_reward", lambda s, c: s["swc"])
        self.process = self._reward("process_reward", self._process)
        self.all = [self.plan_valid, self.plan_optimal, self.trace_valid, self.graded,
                    self.process]

    def _reward(self, name: str, pick: Callable) -> Callable:
        def reward(completions, **columns) -> list[float]:
            scores = self.scores(completions, **columns)
            return np.asarray(pick(scores, columns), dtype=np.float64).tolist()

        reward.__name__ = reward.__qualname__ = name
        reward.__doc__ = f"{name} of mazebench ({self.dialect}); see mazebench.training.rewards."
        return reward

    def scores(self, completions, **columns) -> dict[str, np.ndarray]:
        """Every per-row score of a batch (validated once; cached for the same batch)."""
        texts = completion_texts(completions)
        key = (tuple(texts), *(tuple(bytes(w) if isinstance(w, (bytes, bytearray)) else w
                                     for w in columns.get(k, ())) for k in PROBLEM_COLUMNS))
        if key == self._key and self._value is not None:
            return self._value
        n = len(texts)
        problems = problem_batch(n, columns)
        parsed = parse_batch(texts, self.dialect)
        v = validate_parsed(problems, parsed, dialect=self.dialect, check_costs=self.check_costs,
                            require_optimal=False, parallel=False)
        opt = np.where(v.plan_valid, v.shortest_length, 0).astype(np.float64)
        length = v.plan_length.astype(np.float64)
        swc = np.where(v.plan_valid, opt / np.maximum(np.maximum(length, opt), 1.0), 0.0)
        out = {"plan_valid": v.plan_valid.astype(np.float64),
               "plan_optimal": v.plan_optimal.astype(np.float64),
               "trace_valid": v.trace_valid.astype(np.float64), "swc": swc,
               **self._trace_parts(v, parsed, problems, columns)}
        self._key, self._value = key, out
        return out

    def _trace_parts(self, v, parsed, problems, columns) -> dict[str, np.ndarray]:
        n = len(v)
        row = np.repeat(np.arange(n), np.diff(v.error_offsets))
        kind = v.error_kind.astype(np.int64)
        trace = kind < _FIRST_PLAN
        parse = trace & np.isin(kind, _PARSE_KINDS)
        n_parse = np.bincount(row[parse], minlength=n)
        event = trace & ~parse & ~np.isin(kind, _GLOBAL_KINDS) & (kind != _AFTER_GOAL)
        keys = np.unique(row[event] * (1 << 32) + v.error_index[event].astype(np.int64))
        bad = np.bincount(keys >> 32, minlength=n) + n_parse
        after = np.where(v.goal_close >= 0, v.n_events - v.goal_close - 1, 0)
        units = v.n_events + n_parse
        valid_events = np.where(units > 0, 1.0 - (bad + after) / np.maximum(units, 1), 0.0)
        broken = np.bincount(row[trace & np.isin(kind, _GLOBAL_KINDS)], minlength=n) > 0
        anchors = columns.get("anchors")
        an, an_off = _anchor_arrays(n, anchors if anchors is not None else [[]] * n)
        cover = np.zeros((n, 2), dtype=np.int64)
        _cover(problems.offsets, problems.dims.astype(np.int64), parsed.event_offsets,
               parsed.op, parsed.x, parsed.y, parsed.plan_offsets, parsed.plan_x, parsed.plan_y,
               an_off, an, cover)
        n_anchor = np.diff(an_off)
        plan_len = np.diff(parsed.plan_offsets)
        return {
            "valid_events": np.clip(valid_events, 0.0, 1.0),
            "anchors": np.where(n_anchor > 0, cover[:, 0] / np.maximum(n_anchor, 1), 0.0),
            "has_anchors": n_anchor > 0,
            "faithful": 0.5 * np.where(plan_len > 0, cover[:, 1] / np.maximum(plan_len, 1), 0.0)
            + 0.5 * (~broken & (plan_len > 0)),
        }

    def _process(self, s: dict, columns: dict) -> np.ndarray:
        wv, wa, wf = self.weights
        if wa > 0 and "anchors" not in columns:
            raise ValueError("process_reward needs the 'anchors' column (mazebench export or "
                             "stream), or MazeRewards(weights=(w, 0, w)) to leave anchors out")
        gate = s["plan_optimal"] if self.require_optimal else s["plan_valid"]
        mixed = (wv * s["valid_events"] + wa * s["anchors"] + wf * s["faithful"]) / (wv + wa + wf)
        return gate * mixed


_DEFAULT = MazeRewards()
plan_valid_reward = _DEFAULT.plan_valid
plan_optimal_reward = _DEFAULT.plan_optimal
trace_valid_reward = _DEFAULT.trace_valid
graded_reward = _DEFAULT.graded
process_reward = _DEFAULT.process
