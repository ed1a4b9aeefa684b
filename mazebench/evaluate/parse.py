"""Tolerant parser of model completions (the registry of error kinds is :mod:`.errors`).

A completion is any Python string (or a list of tokens) in the ``beyond-semantics`` or
``searchformer`` dialect. It may be the whole example (prompt included) or only what follows the
prompt: ``reasoning <events> solution <plan> end`` (Beyond Semantics), ``<events> <plan>``
(both). The parser never raises on model output: every problem becomes an error
``(kind, index, token position)`` and parsing goes on.

Grammar (tokens are whitespace-separated, exactly as ``str.split()`` splits them):

* leading ``<|bos|>``/``bos`` and ``<|pad|>`` tokens are skipped;
* a prompt, if the completion starts with ``query`` (BS) or ``start``, runs over the tokens
  ``query start goal wall <int>`` and is skipped (it is not checked against the problem);
* then an optional ``reasoning`` (BS), then the trace section: clauses
  ``create|close X Y c<g> c<h>``;
* the plan section starts at ``solution`` (BS) or at the first ``plan`` token: clauses
  ``plan X Y``;
* parsing stops at ``end`` (BS) or ``<|eos|>``/``eos``; later tokens are ignored. ``<|pad|>``
  tokens are ignored anywhere.

Errors: in the trace section a broken clause (``create``/``close`` not followed by
``<int> <int> c<int> c<int>``) or a run of stray known tokens is one ``malformed`` error at its
first token; each token outside the vocabulary is an ``unknown_token`` error. In the plan section
both become ``plan_malformed``. The *index* of a parse error is the number of well-formed events
(plan cells) before it, i.e. the slot the broken clause occupies. Integers saturate at
``2**31 - 1`` (an off-grid coordinate, not a crash). In the ``searchformer`` dialect the Beyond
Semantics markers ``query reasoning solution end`` are unknown tokens.

The token-level core works on arrays of token kinds and values, so token-id sequences only need a
lookup table (:func:`token_table`, :func:`parse_token_ids`); texts are tokenized by a numba
kernel over their bytes (:mod:`.tokens`, :mod:`.grammar`), in place when they are spans of one
buffer (:func:`parse_spans`, used on predictions files without a Python string per line).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np

from .errors import (  # noqa: F401  (re-exported: the historical home of the registry)
    E_AFTER_GOAL,
    E_CLOSE_NOT_OPEN,
    E_CREATE_CLOSED,
    E_CREATE_NOT_IMPROVING,
    E_EXTRACTED_PLAN_INVALID,
    E_GOAL_NOT_CLOSED,
    E_GOAL_NOT_REACHED,
    E_MALFORMED,
    E_NOT_ADJACENT,
    E_NOT_MIN_F,
    E_OUT_OF_BOUNDS,
    E_PARENTS_BROKEN,
    E_PLAN_EMPTY,
    E_PLAN_LENGTH_MISMATCH,
    E_PLAN_MALFORMED,
    E_PLAN_NOT_ADJACENT,
    E_PLAN_NOT_OPTIMAL,
    E_PLAN_OUT_OF_BOUNDS,
    E_PLAN_WALL,
    E_UNKNOWN_TOKEN,
    E_WALL,
    E_WRONG_G,
    E_WRONG_H,
    E_WRONG_START,
    ERROR_KINDS,
    FIRST_PLAN_KIND,
    KIND_CODES,
    PLAN_KINDS,
    TRACE_KINDS,
)
from .grammar import gather_kernel, parse_spans_kernel, parse_tokens
from .tokens import (  # noqa: F401  (re-exported)
    INT_CAP,
    KEYWORDS,
    TokenTable,
    classify_tokens,
    token_table,
)

DIALECT_CODES: dict[str, int] = {"beyond-semantics": 0, "searchformer": 1}
_CHUNK_BYTES = 1 << 23


def dialect_code(dialect: str) -> int:
    """The kernel code of a dialect name (``ValueError`` naming the allowed ones)."""
    try:
        return DIALECT_CODES[dialect]
    except (KeyError, TypeError):
        allowed = ", ".join(DIALECT_CODES)
        raise ValueError(f"unknown dialect {dialect!r} (allowed: {allowed})") from None


@dataclass(frozen=True, eq=False)
class ParsedCompletion:
    """One parsed completion: events, plan cells and parse errors as arrays.

    Events: ``op`` (int8, 0 create, 1 close), ``x``, ``y``, ``g``, ``h`` (int32) and
    ``event_pos`` (token position of the clause). Plan: ``plan_x``, ``plan_y``, ``plan_pos``.
    Errors: ``error_kind`` (codes into :data:`ERROR_KINDS`), ``error_index`` (event or plan slot),
    ``error_pos`` (token position). ``trace_end``: token position where the trace section ends.
    """

    op: np.ndarray
    x: np.ndarray
    y: np.ndarray
    g: np.ndarray
    h: np.ndarray
    event_pos: np.ndarray
    plan_x: np.ndarray
    plan_y: np.ndarray
    plan_pos: np.ndarray
    error_kind: np.ndarray
    error_index: np.ndarray
    error_pos: np.ndarray
    n_tokens: int
    trace_end: int

    @property
    def errors(self) -> list[tuple[str, int]]:
        """Parse errors as ``(kind, token position)``."""
        return [(ERROR_KINDS[k], int(p)) for k, p in zip(self.error_kind, self.error_pos)]

    def as_batch(self) -> ParsedBatch:
        """This completion as a :class:`ParsedBatch` of one."""

        def off(n: int) -> np.ndarray:
            return np.array([0, n], dtype=np.int64)

        return ParsedBatch(
            self.op, self.x, self.y, self.g, self.h, self.event_pos, off(len(self.op)),
            self.plan_x, self.plan_y, self.plan_pos, off(len(self.plan_x)),
            self.error_kind, self.error_index, self.error_pos, off(len(self.error_kind)),
            np.array([self.n_tokens], dtype=np.int32), np.array([self.trace_end], np.int32),
        )  # fmt: skip


@dataclass(frozen=True, eq=False)
class ParsedBatch:
    """Many parsed completions, concatenated, with ``(n + 1)`` offsets per array group.

    ``event_digest``/``plan_digest`` (uint64 per completion, :mod:`.digests`) are filled by the
    batch parsers and None on a batch built by hand."""

    op: np.ndarray
    x: np.ndarray
    y: np.ndarray
    g: np.ndarray
    h: np.ndarray
    event_pos: np.ndarray
    event_offsets: np.ndarray
    plan_x: np.ndarray
    plan_y: np.ndarray
    plan_pos: np.ndarray
    plan_offsets: np.ndarray
    error_kind: np.ndarray
    error_index: np.ndarray
    error_pos: np.ndarray
    error_offsets: np.ndarray
    n_tokens: np.ndarray
    trace_end: np.ndarray
    event_digest: np.ndarray | None = None
    plan_digest: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.n_tokens.shape[0])

    def item(self, i: int) -> ParsedCompletion:
        e = slice(self.event_offsets[i], self.event_offsets[i + 1])
        p = slice(self.plan_offsets[i], self.plan_offsets[i + 1])
        r = slice(self.error_offsets[i], self.error_offsets[i + 1])
        return ParsedCompletion(
            self.op[e], self.x[e], self.y[e], self.g[e], self.h[e], self.event_pos[e],
            self.plan_x[p], self.plan_y[p], self.plan_pos[p],
            self.error_kind[r], self.error_index[r], self.error_pos[r],
            int(self.n_tokens[i]), int(self.trace_end[i]),
        )  # fmt: skip


def completion_bytes(text: str | bytes | bytearray) -> bytes:
    """The bytes the tokenizer reads for ``text`` (tokens exactly as ``str.split()`` gives)."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    if not text.isascii():
        # same tokens as str.split(): unicode whitespace becomes a plain space
        text = " ".join(text.split())
    return text.encode("utf-8", "surrogatepass")


def _offsets(counts: np.ndarray) -> np.ndarray:
    out = np.empty(counts.shape[0] + 1, dtype=np.int64)
    out[0] = 0
    np.cumsum(counts, out=out[1:])
    return out


_SCRATCH = threading.local()


def _scratch(name: str, rows: int, cols: int) -> np.ndarray:
    """A ``(rows, cols)`` int32 work array kept between calls of this thread (its pages are
    touched once, not once per chunk); grown by half again when too small."""
    have = getattr(_SCRATCH, name, None)
    if have is None or have.shape[1] < cols:
        have = np.empty((rows, max(cols, int(1.5 * (have.shape[1] if have is not None else 0)))),
                        dtype=np.int32)  # fmt: skip
        setattr(_SCRATCH, name, have)
    return have


_EMPTY_I8 = np.zeros(0, dtype=np.int8)
_EMPTY_I32 = np.zeros(0, dtype=np.int32)


def parse_spans(
    buf: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    dialect: str | int = "beyond-semantics",
    *,
    token_kinds: np.ndarray | None = None,
    token_vals: np.ndarray | None = None,
    token_offsets: np.ndarray | None = None,
) -> ParsedBatch:
    """Parse the completions ``buf[starts[i]:ends[i]]`` of one uint8 buffer, in place.

    The bytes must already be what :func:`parse` tokenizes (ASCII, or UTF-8 whose only whitespace
    is ASCII). A completion with ``starts[i] < 0`` is given as pre-classified tokens instead:
    ``token_kinds``/``token_vals`` rows ``token_offsets[i]:token_offsets[i + 1]``. The result
    carries the event and plan digests of every completion. Never raises on content.
    """
    sf = dialect if isinstance(dialect, int) else dialect_code(dialect)
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    ends = np.ascontiguousarray(ends, dtype=np.int64)
    n = starts.shape[0]
    lk = _EMPTY_I8 if token_kinds is None else np.ascontiguousarray(token_kinds, np.int8)
    lv = _EMPTY_I32 if token_vals is None else np.ascontiguousarray(token_vals, np.int32)
    loff = (np.zeros(n + 1, np.int64) if token_offsets is None
            else np.ascontiguousarray(token_offsets, np.int64))
    lists = starts < 0
    tcount = np.where(lists, np.diff(loff), (ends - starts + 1) // 2)
    ecap = _offsets(tcount // 5)
    pcap = _offsets(tcount // 3)
    rcap = _offsets(tcount)
    ev = _scratch("ev", 6, max(int(ecap[-1]), 1))
    pl = _scratch("pl", 3, max(int(pcap[-1]), 1))
    er = _scratch("er", 3, max(int(rcap[-1]), 1))
    meta = np.empty((6, n), dtype=np.int64)
    if n:
        blocks = min(n, 8 * numba.get_num_threads())
        buf = np.ascontiguousarray(buf, dtype=np.uint8).reshape(-1)
        parse_spans_kernel(buf if buf.size else np.zeros(1, np.uint8), starts, ends, tcount, lk,
                           lv, loff, sf, ev, ecap, pl, pcap, er, rcap, meta, blocks)  # fmt: skip
    eoff, poff, roff = _offsets(meta[0]), _offsets(meta[1]), _offsets(meta[2])
    ne, npl, nr = int(eoff[-1]), int(poff[-1]), int(roff[-1])
    op = np.empty(ne, np.int8)
    x, y, g, h, epos = (np.empty(ne, np.int32) for _ in range(5))
    px, py, ppos = (np.empty(npl, np.int32) for _ in range(3))
    rkind = np.empty(nr, np.int16)
    rindex, rpos = np.empty(nr, np.int32), np.empty(nr, np.int32)
    edig, pdig = np.empty(n, np.uint64), np.empty(n, np.uint64)
    if n:
        gather_kernel(ev, ecap, pl, pcap, er, rcap, meta, eoff, poff, roff, op, x, y, g, h, epos,
                      px, py, ppos, rkind, rindex, rpos, edig, pdig)  # fmt: skip
    return ParsedBatch(
        op, x, y, g, h, epos, eoff, px, py, ppos, poff, rkind, rindex, rpos, roff,
        meta[5].astype(np.int32), meta[3].astype(np.int32), edig, pdig,
    )  # fmt: skip


def _parse_chunk(items: Sequence[object], sf: int) -> ParsedBatch:
    n = len(items)
    blobs: list[bytes] = []
    lists: list[tuple[np.ndarray, np.ndarray]] = []
    starts = np.empty(n, dtype=np.int64)
    ends = np.empty(n, dtype=np.int64)
    loff = np.zeros(n + 1, dtype=np.int64)
    pos = 0
    for i, item in enumerate(items):
        if isinstance(item, (str, bytes, bytearray)):
            blob = completion_bytes(item)
            blobs.append(blob)
            starts[i], ends[i] = pos, pos + len(blob)
            pos += len(blob)
            loff[i + 1] = loff[i]
        else:
            k, v = classify_tokens(list(item))  # type: ignore[call-overload]
            lists.append((k, v))
            starts[i] = ends[i] = -1
            loff[i + 1] = loff[i] + k.shape[0]
    buf = np.frombuffer(b"".join(blobs), dtype=np.uint8)
    lk = np.concatenate([k for k, _ in lists]) if lists else None
    lv = np.concatenate([v for _, v in lists]) if lists else None
    return parse_spans(buf, starts, ends, sf, token_kinds=lk, token_vals=lv, token_offsets=loff)


def concat_parsed(parts: Sequence[ParsedBatch]) -> ParsedBatch:
    """Concatenate parsed batches in order."""
    if len(parts) == 1:
        return parts[0]

    def cat(name: str) -> np.ndarray | None:
        arrays = [getattr(p, name) for p in parts]
        return None if any(a is None for a in arrays) else np.concatenate(arrays)

    def cat_off(name: str) -> np.ndarray:
        return _offsets(np.concatenate([np.diff(getattr(p, name)) for p in parts]))

    return ParsedBatch(
        cat("op"), cat("x"), cat("y"), cat("g"), cat("h"), cat("event_pos"),
        cat_off("event_offsets"), cat("plan_x"), cat("plan_y"), cat("plan_pos"),
        cat_off("plan_offsets"), cat("error_kind"), cat("error_index"), cat("error_pos"),
        cat_off("error_offsets"), cat("n_tokens"), cat("trace_end"), cat("event_digest"),
        cat("plan_digest"),
    )  # fmt: skip


def parse_batch(
    completions: Sequence[str | bytes | Sequence[str]], dialect: str = "beyond-semantics"
) -> ParsedBatch:
    """Parse many completions (strings, bytes or token lists) in numba; never raises on content.

    Work is done in chunks of about 8 MB of text so that memory stays bounded.
    """
    sf = dialect_code(dialect)
    parts: list[ParsedBatch] = []
    lo = 0
    n = len(completions)
    while lo < n or not parts:
        size = 0
        hi = lo
        while hi < n and (hi == lo or size < _CHUNK_BYTES):
            item = completions[hi]
            size += len(item) if isinstance(item, (str, bytes, bytearray)) else 8 * len(item)
            hi += 1
        parts.append(_parse_chunk(completions[lo:hi], sf))
        lo = hi
        if n == 0:
            break
    return concat_parsed(parts)


def parse(completion: str | bytes | Sequence[str], dialect: str = "beyond-semantics"):
    """Parse one completion (a string, bytes or a list of tokens); never raises on content.

    Returns a :class:`ParsedCompletion`.
    """
    return parse_batch([completion], dialect).item(0)


def parse_token_ids(ids, table: TokenTable, dialect: str = "beyond-semantics"):
    """Parse one sequence of token ids through a :func:`token_table`."""
    sf = dialect_code(dialect)
    kinds, vals = table.lookup(ids)
    n = kinds.shape[0]
    ev = np.zeros((6, max(n // 5, 1)), dtype=np.int32)
    pl = np.zeros((3, max(n // 3, 1)), dtype=np.int32)
    er = np.zeros((3, max(n, 1)), dtype=np.int32)
    ne, np_, nr, tend, _ = parse_tokens(kinds, vals, 0, n, sf, ev, 0, pl, 0, er, 0)
    return ParsedCompletion(
        ev[0, :ne].astype(np.int8), ev[1, :ne].copy(), ev[2, :ne].copy(), ev[3, :ne].copy(),
        ev[4, :ne].copy(), ev[5, :ne].copy(), pl[0, :np_].copy(), pl[1, :np_].copy(),
        pl[2, :np_].copy(), er[0, :nr].astype(np.int16), er[1, :nr].copy(), er[2, :nr].copy(),
        n, int(tend),
    )  # fmt: skip
