"""Verdicts on model outputs: plan validity, plan optimality and A* trace validity.

:func:`validate` checks one completion (text or token list) against a problem with the A*
interpreter of Beyond Semantics (arXiv 2505.13775, see :mod:`.replay`) and the plan validator
(:mod:`.plan_check`); :func:`validate_texts` does the same for many completions and
:func:`validate_batch` for traces already held as arrays, both returning a :class:`BatchVerdict`
of arrays (no Python object per example).

Error indices: a TRACE error (kinds ``malformed`` .. ``after_goal``) carries an EVENT index, the
position of the event in the model's sequence of well-formed events (a parse error carries the
slot it occupies: the number of well-formed events before it; ``goal_not_closed`` carries the
number of events; ``parents_broken``, ``plan_length_mismatch`` and ``extracted_plan_invalid``
carry the index of the goal's close; ``after_goal`` the first event after it). A PLAN error
(``plan_malformed`` .. ``plan_not_optimal``) carries a PLAN CELL index. For text input each error
also has a token position (``error_tokens``, -1 for array input). Errors are listed in text
order: trace errors by (index, parse before replay), then plan errors; ``first_error`` is the
first of them, so it is a trace error whenever the trace is invalid (the upstream histogram of
first error types).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..problem import Problem
from .parse import (
    ERROR_KINDS,
    FIRST_PLAN_KIND,
    ParsedBatch,
    ParsedCompletion,
    dialect_code,
    parse_batch,
)
from .replay import (
    R_GOAL_CLOSE,
    R_PLAN_OPTIMAL,
    R_SHORTEST,
    ProblemBatch,
    as_problem_batch,
    run_batch,
)

AFTER_GOAL_MODES = ("error", "ignore")
HEURISTICS = ("manhattan", "zero")


@dataclass(frozen=True)
class Verdict:
    """The verdict on one model output.

    ``errors``: every error as ``(kind, index)`` in text order (see the module docstring for what
    the index means); ``error_tokens``: the token position of each (-1 without text);
    ``first_error``: ``errors[0]`` or None; ``counts``: errors per kind (non-zero kinds only).
    ``shortest_length`` is the optimal plan length in cells (0 if unreachable, -1 if it was not
    computed because the plan is invalid); ``goal_close_index`` the event index of the accepted
    close of the goal (-1 if none).
    """

    plan_valid: bool
    plan_optimal: bool
    trace_valid: bool
    errors: list[tuple[str, int]]
    first_error: tuple[str, int] | None
    error_tokens: list[int]
    counts: dict[str, int]
    plan_length: int
    shortest_length: int
    n_events: int
    n_tokens: int
    goal_close_index: int

    @property
    def valid(self) -> bool:
        """Plan and trace both valid."""
        return self.plan_valid and self.trace_valid

    @property
    def n_errors(self) -> int:
        return len(self.errors)

    @property
    def trace_errors(self) -> list[tuple[str, int]]:
        return [e for e in self.errors if ERROR_KINDS.index(e[0]) < FIRST_PLAN_KIND]

    @property
    def plan_errors(self) -> list[tuple[str, int]]:
        return [e for e in self.errors if ERROR_KINDS.index(e[0]) >= FIRST_PLAN_KIND]

    @property
    def first_trace_error(self) -> tuple[str, int] | None:
        t = self.trace_errors
        return t[0] if t else None

    @property
    def first_plan_error(self) -> tuple[str, int] | None:
        p = self.plan_errors
        return p[0] if p else None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["errors"] = [list(e) for e in self.errors]
        d["first_error"] = list(self.first_error) if self.first_error else None
        return d


@dataclass(frozen=True, eq=False)
class BatchVerdict:
    """Verdicts of many outputs as arrays (one entry per example unless noted).

    ``trace_valid``, ``plan_valid``, ``plan_optimal`` (bool); ``plan_length``,
    ``shortest_length`` (-1 = not computed), ``n_events``, ``n_tokens`` (-1 without text),
    ``goal_close`` (-1 = never), ``n_errors``, ``first_error_kind`` (code into
    :data:`ERROR_KINDS`, -1 = none), ``first_error_index``; all errors, concatenated in text order
    per example: ``error_kind``, ``error_index``, ``error_token`` with ``error_offsets`` (n + 1).
    """

    trace_valid: np.ndarray
    plan_valid: np.ndarray
    plan_optimal: np.ndarray
    plan_length: np.ndarray
    shortest_length: np.ndarray
    n_events: np.ndarray
    n_tokens: np.ndarray
    goal_close: np.ndarray
    n_errors: np.ndarray
    first_error_kind: np.ndarray
    first_error_index: np.ndarray
    error_kind: np.ndarray
    error_index: np.ndarray
    error_token: np.ndarray
    error_offsets: np.ndarray

    def __len__(self) -> int:
        return int(self.trace_valid.shape[0])

    def errors(self, i: int) -> list[tuple[str, int]]:
        s = slice(self.error_offsets[i], self.error_offsets[i + 1])
        return [(ERROR_KINDS[k], int(j)) for k, j in zip(self.error_kind[s], self.error_index[s])]

    def verdict(self, i: int) -> Verdict:
        """The :class:`Verdict` of example ``i``."""
        errors = self.errors(i)
        s = slice(self.error_offsets[i], self.error_offsets[i + 1])
        counts: dict[str, int] = {}
        for kind, _ in errors:
            counts[kind] = counts.get(kind, 0) + 1
        return Verdict(
            plan_valid=bool(self.plan_valid[i]),
            plan_optimal=bool(self.plan_optimal[i]),
            trace_valid=bool(self.trace_valid[i]),
            errors=errors,
            first_error=errors[0] if errors else None,
            error_tokens=self.error_token[s].tolist(),
            counts=counts,
            plan_length=int(self.plan_length[i]),
            shortest_length=int(self.shortest_length[i]),
            n_events=int(self.n_events[i]),
            n_tokens=int(self.n_tokens[i]),
            goal_close_index=int(self.goal_close[i]),
        )

    def table(self) -> dict[str, int]:
        """The upstream 2x2 table: counts of {plan valid, invalid} x {trace valid, invalid}."""
        p, t = self.plan_valid, self.trace_valid
        return {
            "plan_valid_trace_valid": int((p & t).sum()),
            "plan_valid_trace_invalid": int((p & ~t).sum()),
            "plan_invalid_trace_valid": int((~p & t).sum()),
            "plan_invalid_trace_invalid": int((~p & ~t).sum()),
        }

    def first_error_histogram(self) -> dict[str, int]:
        """How many examples have each kind as their first error (non-zero kinds only)."""
        k = self.first_error_kind[self.first_error_kind >= 0]
        counts = np.bincount(k, minlength=len(ERROR_KINDS))
        return {ERROR_KINDS[i]: int(c) for i, c in enumerate(counts) if c}

    def error_counts(self) -> dict[str, int]:
        """All errors per kind over the batch (non-zero kinds only)."""
        counts = np.bincount(self.error_kind, minlength=len(ERROR_KINDS))
        return {ERROR_KINDS[i]: int(c) for i, c in enumerate(counts) if c}


def _options(dialect: str, after_goal: str, heuristic: str) -> tuple[bool, bool, bool]:
    sf = dialect_code(dialect)
    if after_goal not in AFTER_GOAL_MODES:
        raise ValueError(f"after_goal must be one of {', '.join(AFTER_GOAL_MODES)}")
    if heuristic not in HEURISTICS:
        raise ValueError(f"heuristic must be one of {', '.join(HEURISTICS)}")
    return sf == 0, after_goal == "error", heuristic == "zero"


def _gather(arr: np.ndarray, idx: np.ndarray, ok: np.ndarray, default: np.ndarray) -> np.ndarray:
    """``arr[idx]`` where ``ok``, else ``default``."""
    if arr.shape[0] == 0:
        return default
    return np.where(ok, arr[np.clip(idx, 0, arr.shape[0] - 1)], default)


def _assemble(
    problems: ProblemBatch,
    events: tuple,
    plans: tuple,
    parsed: ParsedBatch | None,
    *,
    dialect: str,
    check_costs: bool,
    require_optimal: bool,
    after_goal: str,
    heuristic: str,
    optimal_lengths,
    parallel: bool | None,
) -> BatchVerdict:
    preseed, after_error, zero_h = _options(dialect, after_goal, heuristic)
    n = len(problems)
    op, x, y, g, h, eoff = events
    px, py, poff = plans
    eoff = np.asarray(eoff, dtype=np.int64)
    poff = np.asarray(poff, dtype=np.int64)
    out, rk, ri, roff = run_batch(
        problems, op, x, y, g, h, eoff, px, py, poff, preseed=preseed, zero_h=zero_h,
        check_costs=check_costs,
        after_goal_error=after_error, require_optimal=require_optimal,
        optimal_lengths=optimal_lengths, parallel=parallel,
    )  # fmt: skip
    goal_close = out[:, R_GOAL_CLOSE].astype(np.int32)
    rt = np.repeat(np.arange(n, dtype=np.int64), np.diff(roff))
    rk = rk.astype(np.int16)
    ri = ri.astype(np.int64)
    if parsed is not None:
        trace_end = parsed.trace_end.astype(np.int64)
        is_plan = rk >= FIRST_PLAN_KIND
        n_ev = np.diff(eoff)[rt]
        n_pl = np.diff(poff)[rt]
        ev_tok = _gather(parsed.event_pos, eoff[rt] + ri, ri < n_ev, trace_end[rt])
        pl_tok = _gather(parsed.plan_pos, poff[rt] + ri, ri < n_pl, trace_end[rt])
        rtok = np.where(is_plan, pl_tok, ev_tok)
        pt = np.repeat(np.arange(n, dtype=np.int64), np.diff(parsed.error_offsets))
        pk = parsed.error_kind.astype(np.int16)
        pi = parsed.error_index.astype(np.int64)
        ptok = parsed.error_pos.astype(np.int64)
        if not after_error:
            gc = goal_close[pt]
            keep = (pk >= FIRST_PLAN_KIND) | (gc < 0) | (pi <= gc)
            pt, pk, pi, ptok = pt[keep], pk[keep], pi[keep], ptok[keep]
        n_tokens = parsed.n_tokens.astype(np.int32)
    else:
        rtok = np.full(rk.shape[0], -1, dtype=np.int64)
        pt = np.zeros(0, np.int64)
        pk = np.zeros(0, np.int16)
        pi = np.zeros(0, np.int64)
        ptok = np.zeros(0, np.int64)
        n_tokens = np.full(n, -1, dtype=np.int32)
    tid = np.concatenate([pt, rt])
    kind = np.concatenate([pk, rk])
    index = np.concatenate([pi, ri])
    tok = np.concatenate([ptok, rtok])
    sub = np.concatenate([np.zeros(pt.shape[0], np.int8), np.ones(rt.shape[0], np.int8)])
    section = kind >= FIRST_PLAN_KIND
    order = np.lexsort((sub, index, section, tid))
    tid, kind, index, tok, section = (a[order] for a in (tid, kind, index, tok, section))
    counts = np.bincount(tid, minlength=n)[:n]
    trace_bad = np.bincount(tid[~section], minlength=n)[:n] > 0
    plan_bad = np.bincount(tid[section], minlength=n)[:n] > 0
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    has = counts > 0
    first = np.minimum(offsets[:-1], max(kind.shape[0] - 1, 0))
    first_kind = np.where(has, kind[first] if kind.shape[0] else -1, -1).astype(np.int16)
    first_index = np.where(has, index[first] if kind.shape[0] else -1, -1).astype(np.int32)
    plan_valid = ~plan_bad
    return BatchVerdict(
        trace_valid=~trace_bad,
        plan_valid=plan_valid,
        plan_optimal=(out[:, R_PLAN_OPTIMAL] > 0) & plan_valid,
        plan_length=np.diff(poff).astype(np.int32),
        shortest_length=out[:, R_SHORTEST].astype(np.int32),
        n_events=np.diff(eoff).astype(np.int32),
        n_tokens=n_tokens,
        goal_close=goal_close,
        n_errors=counts.astype(np.int32),
        first_error_kind=first_kind,
        first_error_index=first_index,
        error_kind=kind,
        error_index=index.astype(np.int32),
        error_token=tok.astype(np.int32),
        error_offsets=offsets,
    )


def validate_parsed(
    problems: ProblemBatch | Sequence[Problem],
    parsed: ParsedBatch,
    *,
    dialect: str = "beyond-semantics",
    check_costs: bool = False,
    require_optimal: bool = False,
    after_goal: str = "error",
    heuristic: str = "manhattan",
    optimal_lengths=None,
    parallel: bool | None = None,
) -> BatchVerdict:
    """Validate completions already parsed by :func:`mazebench.evaluate.parse_batch`."""
    pb = as_problem_batch(problems)
    if len(pb) != len(parsed):
        raise ValueError(f"{len(pb)} problems but {len(parsed)} completions")
    events = (parsed.op, parsed.x, parsed.y, parsed.g, parsed.h, parsed.event_offsets)
    plans = (parsed.plan_x, parsed.plan_y, parsed.plan_offsets)
    return _assemble(
        pb, events, plans, parsed, dialect=dialect, check_costs=check_costs,
        require_optimal=require_optimal, after_goal=after_goal, heuristic=heuristic,
        optimal_lengths=optimal_lengths,
        parallel=parallel,
    )  # fmt: skip


def validate_texts(
    problems: ProblemBatch | Sequence[Problem],
    texts: Sequence[str | bytes | Sequence[str]],
    dialect: str = "beyond-semantics",
    check_costs: bool = False,
    require_optimal: bool = False,
    *,
    after_goal: str = "error",
    heuristic: str = "manhattan",
    optimal_lengths=None,
    parallel: bool | None = None,
) -> BatchVerdict:
    """Parse and validate many completions (strings, bytes or token lists) against problems."""
    dialect_code(dialect)
    return validate_parsed(
        problems, parse_batch(texts, dialect), dialect=dialect, check_costs=check_costs,
        require_optimal=require_optimal, after_goal=after_goal, heuristic=heuristic,
        optimal_lengths=optimal_lengths,
        parallel=parallel,
    )  # fmt: skip


def validate_batch(
    problems: ProblemBatch | Sequence[Problem],
    op,
    x,
    y,
    g,
    h,
    event_offsets,
    plan_x,
    plan_y,
    plan_offsets,
    *,
    dialect: str = "beyond-semantics",
    check_costs: bool = False,
    require_optimal: bool = False,
    after_goal: str = "error",
    heuristic: str = "manhattan",
    optimal_lengths=None,
    parallel: bool | None = None,
) -> BatchVerdict:
    """Validate traces and plans held as concatenated arrays (one numba call for the batch).

    Events ``op`` (0 create, 1 close), ``x``, ``y``, ``g``, ``h`` of all examples concatenated,
    ``event_offsets`` (n + 1); plans likewise. Values are cast to int32 with saturation.
    ``optimal_lengths`` (n; -1 = compute by BFS) skips the BFS of valid plans. ``parallel``
    (default: n >= 64 and more than one numba thread) spreads the batch over numba threads.
    """
    pb = as_problem_batch(problems)
    return _assemble(
        pb, (op, x, y, g, h, event_offsets), (plan_x, plan_y, plan_offsets), None,
        dialect=dialect, check_costs=check_costs, require_optimal=require_optimal,
        after_goal=after_goal, heuristic=heuristic,
        optimal_lengths=optimal_lengths, parallel=parallel,
    )  # fmt: skip


def validate(
    problem: Problem,
    text: str | bytes | Sequence[str] | ParsedCompletion,
    dialect: str = "beyond-semantics",
    check_costs: bool = False,
    require_optimal: bool = False,
    *,
    after_goal: str = "error",
    heuristic: str = "manhattan",
) -> Verdict:
    """Validate one model completion against ``problem``.

    ``text``: a string, bytes, a list of tokens, or a :class:`ParsedCompletion` (e.g. from
    :func:`mazebench.evaluate.parse_token_ids` for token-id sequences).

    The completion may be the whole example or only what follows the prompt (see
    :mod:`mazebench.evaluate.parse`); it never raises on its content. ``check_costs`` also
    requires the true g (parent g + 1) and h (Manhattan) of every create; ``require_optimal``
    makes a valid but longer-than-shortest plan a ``plan_not_optimal`` error; ``after_goal``
    (``error`` or ``ignore``) decides whether events after the goal's close are an error;
    ``heuristic`` (``manhattan`` or ``zero``, for Dijkstra/BFS traces that log h = 0) sets the
    pre-seeded start entry and the h that ``check_costs`` expects.
    """
    parsed = text.as_batch() if isinstance(text, ParsedCompletion) else parse_batch([text], dialect)
    return validate_parsed(
        [problem], parsed, dialect=dialect, check_costs=check_costs,
        require_optimal=require_optimal, after_goal=after_goal, heuristic=heuristic,
        parallel=False,
    ).verdict(0)  # fmt: skip
