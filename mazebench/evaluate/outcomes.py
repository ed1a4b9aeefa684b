"""Validate chunks of predictions against the ground truth and keep per-line numbers only.

For each usable prediction line whose id is in the reference, :func:`score_chunk` parses and
validates the completion (numba, :func:`mazebench.evaluate.validate_parsed`, one batch per split
of the chunk) and :class:`Outcomes` keeps a fixed set of numeric columns (:data:`COLUMNS`, about
52 bytes per line; 28 more with log-probabilities), never a string, so the memory of an
evaluation grows by those bytes per line whatever the completions hold.

Per line:

* ``line`` (1-based line number in the file), ``row`` (reference row), ``sample`` (-1 absent);
* ``plan_valid``, ``plan_optimal``, ``trace_valid``, ``first_error`` (code into
  :data:`mazebench.evaluate.ERROR_KINDS`, -1 none), ``plan_length`` and ``shortest`` (cells;
  -1 not computed) from the verdict;
* ``n_events``: well-formed events of the completion; ``trace_tokens``: tokens of its trace
  section, from the first event's first token to where the plan section starts (or parsing
  stops), junk included; ``n_tokens``: all whitespace tokens (or token ids) of the completion;
* ``exact``: the events equal the ground truth's (same count and digest, see
  :mod:`.reference`) and the trace section has no parse error;
* ``no_plan``: not one well-formed plan clause; ``hit_limit``: ``n_tokens >= max_tokens``;
* ``plan_digest``: digest of the plan cells (the answer that votes compare);
* with log-probabilities, DeepConf confidences (arXiv 2508.15260, :mod:`.confidence`) in
  :data:`CONF_SCORES`: over token windows of ``window`` tokens (``average``, ``lowest_group``,
  ``bottom_group``, ``tail``) and over event windows of ``event_window`` events (an event is the
  5 tokens of its clause; ``event_*``). Row ``i`` of the log-probabilities belongs to token ``i``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .confidence import sample_confidence
from .parse import ERROR_KINDS, FIRST_PLAN_KIND, ParsedBatch, parse_spans
from .predictions import PredictionChunk, Vocabulary, default_vocab
from .reference import Reference
from .verdict import validate_parsed

COLUMNS: dict[str, type] = {
    "line": np.int64,
    "row": np.int32,
    "sample": np.int32,
    "plan_valid": np.bool_,
    "plan_optimal": np.bool_,
    "trace_valid": np.bool_,
    "exact": np.bool_,
    "no_plan": np.bool_,
    "hit_limit": np.bool_,
    "n_events": np.int32,
    "trace_tokens": np.int32,
    "n_tokens": np.int32,
    "plan_length": np.int32,
    "shortest": np.int32,
    "first_error": np.int16,
    "plan_digest": np.uint64,
}
CONF_SCORES: tuple[str, ...] = (
    "average",
    "lowest_group",
    "bottom_group",
    "tail",
    "event_lowest_group",
    "event_bottom_group",
    "event_tail",
)
EVENT_TOKENS = 5


@dataclass(frozen=True)
class ScoreOptions:
    """Validator and confidence options of an evaluation (see :func:`score_chunk`)."""

    check_costs: bool = False
    require_optimal: bool = False
    after_goal: str = "error"
    max_tokens: int | None = None
    window: int = 2048
    event_window: int | None = None
    vocab: Vocabulary | None = None

    @property
    def events_per_window(self) -> int:
        return self.event_window or max(1, self.window // EVENT_TOKENS)


class Outcomes:
    """Per-line columns of an evaluation, gathered chunk by chunk (see the module docstring)."""

    def __init__(self, n_splits: int) -> None:
        self._parts: dict[str, list[np.ndarray]] = {k: [] for k in COLUMNS}
        self._conf: list[dict[str, np.ndarray] | None] = []
        self._lens: list[int] = []
        self.error_counts = np.zeros((n_splits, len(ERROR_KINDS)), dtype=np.int64)

    def add(self, cols: dict[str, np.ndarray], conf: dict[str, np.ndarray] | None) -> None:
        n = cols["row"].shape[0]
        for k, dtype in COLUMNS.items():
            self._parts[k].append(np.asarray(cols[k]).astype(dtype, copy=False))
        self._conf.append(None if conf is None else
                          {k: conf[k].astype(np.float32, copy=False) for k in CONF_SCORES})
        self._lens.append(n)

    def finish(self, split_of: np.ndarray) -> dict[str, np.ndarray]:
        """All columns, lines ordered by split then file order (independent of chunking).

        Confidence columns are present only when some line had log-probabilities (nan where a
        line had none).
        """
        out: dict[str, np.ndarray] = {}
        for k, dtype in COLUMNS.items():
            parts = self._parts.pop(k)
            out[k] = np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
        if any(c is not None for c in self._conf):
            for k in CONF_SCORES:
                out[k] = np.concatenate([
                    c[k] if c is not None else np.full(n, np.nan, np.float32)
                    for c, n in zip(self._conf, self._lens)
                ])  # fmt: skip
        self._conf = []
        codes = split_of[out["row"]]
        if codes.size and (np.diff(codes) < 0).any():
            order = np.argsort(codes, kind="stable")
            for k in out:  # one column at a time: peak memory of one extra column
                out[k] = out[k][order]
        return out


def _trace_tokens(parsed: ParsedBatch) -> np.ndarray:
    n_ev = np.diff(parsed.event_offsets)
    first = np.minimum(parsed.event_offsets[:-1], max(parsed.event_pos.shape[0] - 1, 0))
    start = parsed.event_pos[first] if parsed.event_pos.shape[0] else np.zeros(len(parsed))
    return np.where(n_ev > 0, parsed.trace_end - start, 0).astype(np.int32)


def _trace_parse_errors(parsed: ParsedBatch) -> np.ndarray:
    n = len(parsed)
    owner = np.repeat(np.arange(n), np.diff(parsed.error_offsets))
    trace = parsed.error_kind < FIRST_PLAN_KIND
    return np.bincount(owner[trace], minlength=n)[:n]


def _event_index(parsed: ParsedBatch, lines: np.ndarray, conf_off: np.ndarray) -> np.ndarray:
    """Event of each confidence token of ``lines`` (-1 outside any event clause)."""
    total = int(conf_off[-1])
    out = np.full(total, -1, dtype=np.int64)
    eoff = parsed.event_offsets
    counts = (eoff[lines + 1] - eoff[lines]).astype(np.int64)
    if counts.sum() == 0:
        return out
    owner = np.repeat(np.arange(lines.shape[0]), counts)
    starts = np.repeat(eoff[lines], counts)
    local = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    pos = parsed.event_pos[starts + local].astype(np.int64)
    length = conf_off[1:] - conf_off[:-1]
    for j in range(EVENT_TOKENS):
        p = pos + j
        ok = p < length[owner]
        out[conf_off[owner[ok]] + p[ok]] = local[ok]
    return out


def _confidence(chunk: PredictionChunk, sel: np.ndarray, parsed: ParsedBatch,
                opts: ScoreOptions) -> dict[str, np.ndarray] | None:
    has = chunk.has_conf[sel]
    if not has.any():
        return None
    lines = np.flatnonzero(has)
    src = sel[lines]
    lens = chunk.conf_offsets[src + 1] - chunk.conf_offsets[src]
    off = np.zeros(lines.shape[0] + 1, dtype=np.int64)
    np.cumsum(lens, out=off[1:])
    conf = np.concatenate([chunk.conf[chunk.conf_offsets[i]: chunk.conf_offsets[i + 1]]
                           for i in src]) if src.size else np.zeros(0)
    tok = sample_confidence(conf, off, window=opts.window)
    ev = sample_confidence(conf, off, window=opts.events_per_window,
                           event_index=_event_index(parsed, lines, off))
    out = {k: np.full(sel.shape[0], np.nan) for k in CONF_SCORES}
    for k in ("average", "lowest_group", "bottom_group", "tail"):
        out[k][lines] = tok[k]
    for k in ("lowest_group", "bottom_group", "tail"):
        out[f"event_{k}"][lines] = ev[k]
    return out


def _parse(chunk: PredictionChunk, sel: np.ndarray, info, vocab: Vocabulary | None
           ) -> ParsedBatch:
    """Parse the completions of lines ``sel`` in place in the chunk's buffer; token-id lines go
    through the vocabulary's token table."""
    starts = chunk.text_start[sel]
    lists = np.flatnonzero(starts < 0)
    if not lists.size:
        return parse_spans(chunk.buf, starts, chunk.text_end[sel], info.dialect)
    vocab = vocab or default_vocab(info.height, info.width, info.dialect)
    looked = [vocab.table.lookup(chunk.token_ids[int(i)]) for i in sel[lists]]
    lens = np.zeros(sel.shape[0], dtype=np.int64)
    lens[lists] = [k.shape[0] for k, _ in looked]
    off = np.zeros(sel.shape[0] + 1, dtype=np.int64)
    np.cumsum(lens, out=off[1:])
    return parse_spans(
        chunk.buf, starts, chunk.text_end[sel], info.dialect,
        token_kinds=np.concatenate([k for k, _ in looked]),
        token_vals=np.concatenate([v for _, v in looked]), token_offsets=off,
    )  # fmt: skip


def score_chunk(ref: Reference, chunk: PredictionChunk, rows: np.ndarray, opts: ScoreOptions,
                out: Outcomes) -> None:
    """Validate the lines of ``chunk`` with a reference row (``rows`` >= 0) into ``out``."""
    known = np.flatnonzero(rows >= 0)
    codes = ref.split_of[rows[known]]
    for code in np.unique(codes).tolist():
        info = ref.splits[code]
        sel = known[codes == code]
        r = rows[sel]
        parsed = _parse(chunk, sel, info, opts.vocab)
        v = validate_parsed(
            ref.problems(r), parsed, dialect=info.dialect, check_costs=opts.check_costs,
            require_optimal=opts.require_optimal, after_goal=opts.after_goal,
            heuristic=info.heuristic, optimal_lengths=ref.optimal_lengths(r),
        )  # fmt: skip
        out.error_counts[code] += np.bincount(v.error_kind.astype(np.int64),
                                              minlength=len(ERROR_KINDS))
        exact = ((v.n_events == ref.metrics["n_events"][r])
                 & (parsed.event_digest == ref.digests(r))
                 & (_trace_parse_errors(parsed) == 0))
        n_tokens = v.n_tokens
        hit = (n_tokens >= opts.max_tokens) if opts.max_tokens else np.zeros(len(r), bool)
        cols = {
            "line": chunk.line[sel],
            "row": r,
            "sample": chunk.sample[sel],
            "plan_valid": v.plan_valid,
            "plan_optimal": v.plan_optimal,
            "trace_valid": v.trace_valid,
            "exact": exact,
            "no_plan": v.plan_length == 0,
            "hit_limit": hit,
            "n_events": v.n_events,
            "trace_tokens": _trace_tokens(parsed),
            "n_tokens": n_tokens,
            "plan_length": v.plan_length,
            "shortest": v.shortest_length,
            "first_error": v.first_error_kind,
            "plan_digest": parsed.plan_digest,
        }
        out.add(cols, _confidence(chunk, sel, parsed, opts))
