"""Tolerant parser of model completions, and the stable registry of validation error kinds.

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
kernel over their bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

# -- error kinds (stable codes: append only) -------------------------------------------------
ERROR_KINDS: tuple[str, ...] = (
    "malformed",
    "out_of_bounds",
    "wall",
    "not_adjacent",
    "create_closed",
    "close_not_open",
    "not_min_f",
    "goal_not_closed",
    "parents_broken",
    "plan_length_mismatch",
    "extracted_plan_invalid",
    "create_not_improving",
    "unknown_token",
    "wrong_g",
    "wrong_h",
    "after_goal",
    "plan_malformed",
    "plan_empty",
    "wrong_start",
    "plan_out_of_bounds",
    "plan_wall",
    "plan_not_adjacent",
    "goal_not_reached",
    "plan_not_optimal",
)
KIND_CODES: dict[str, int] = {k: i for i, k in enumerate(ERROR_KINDS)}
FIRST_PLAN_KIND = KIND_CODES["plan_malformed"]
TRACE_KINDS: tuple[str, ...] = ERROR_KINDS[:FIRST_PLAN_KIND]
PLAN_KINDS: tuple[str, ...] = ERROR_KINDS[FIRST_PLAN_KIND:]

E_MALFORMED = 0
E_OUT_OF_BOUNDS = 1
E_WALL = 2
E_NOT_ADJACENT = 3
E_CREATE_CLOSED = 4
E_CLOSE_NOT_OPEN = 5
E_NOT_MIN_F = 6
E_GOAL_NOT_CLOSED = 7
E_PARENTS_BROKEN = 8
E_PLAN_LENGTH_MISMATCH = 9
E_EXTRACTED_PLAN_INVALID = 10
E_CREATE_NOT_IMPROVING = 11
E_UNKNOWN_TOKEN = 12
E_WRONG_G = 13
E_WRONG_H = 14
E_AFTER_GOAL = 15
E_PLAN_MALFORMED = 16
E_PLAN_EMPTY = 17
E_WRONG_START = 18
E_PLAN_OUT_OF_BOUNDS = 19
E_PLAN_WALL = 20
E_PLAN_NOT_ADJACENT = 21
E_GOAL_NOT_REACHED = 22
E_PLAN_NOT_OPTIMAL = 23

# -- token kinds -------------------------------------------------------------------------------
T_UNKNOWN = 0
T_INT = 1
T_COST = 2
T_CREATE = 3
T_CLOSE = 4
T_PLAN = 5
T_START = 6
T_GOAL = 7
T_WALL = 8
T_QUERY = 9
T_REASONING = 10
T_SOLUTION = 11
T_END = 12
T_BOS = 13
T_EOS = 14
T_PAD = 15

KEYWORDS: dict[str, int] = {
    "create": T_CREATE,
    "close": T_CLOSE,
    "plan": T_PLAN,
    "start": T_START,
    "goal": T_GOAL,
    "wall": T_WALL,
    "query": T_QUERY,
    "reasoning": T_REASONING,
    "solution": T_SOLUTION,
    "end": T_END,
    "<|bos|>": T_BOS,
    "bos": T_BOS,
    "<|eos|>": T_EOS,
    "eos": T_EOS,
    "<|pad|>": T_PAD,
}
INT_CAP = 2**31 - 1
DIALECT_CODES: dict[str, int] = {"beyond-semantics": 0, "searchformer": 1}

_KW_WIDTH = max(len(k) for k in KEYWORDS)
_KW_BYTES = np.zeros((len(KEYWORDS), _KW_WIDTH), dtype=np.uint8)
_KW_LEN = np.zeros(len(KEYWORDS), dtype=np.int64)
_KW_CODE = np.zeros(len(KEYWORDS), dtype=np.int8)
for _i, (_k, _c) in enumerate(KEYWORDS.items()):
    _KW_BYTES[_i, : len(_k)] = np.frombuffer(_k.encode("ascii"), dtype=np.uint8)
    _KW_LEN[_i] = len(_k)
    _KW_CODE[_i] = _c
_CHUNK_BYTES = 1 << 23


def dialect_code(dialect: str) -> int:
    """The kernel code of a dialect name (``ValueError`` naming the allowed ones)."""
    try:
        return DIALECT_CODES[dialect]
    except (KeyError, TypeError):
        allowed = ", ".join(DIALECT_CODES)
        raise ValueError(f"unknown dialect {dialect!r} (allowed: {allowed})") from None


# -- tokenizer kernel --------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _is_space(c) -> bool:
    return c == 32 or (9 <= c <= 13) or (28 <= c <= 31)


@njit(cache=True)
def _classify(buf, a, b):
    """Kind and value of the token ``buf[a:b]``."""
    c0 = buf[a]
    if 48 <= c0 <= 57:
        v = np.int64(0)
        for i in range(a, b):
            c = buf[i]
            if c < 48 or c > 57:
                return T_UNKNOWN, 0
            v = v * 10 + (c - 48)
            if v > INT_CAP:
                v = INT_CAP
        return T_INT, v
    if c0 == 99 and b - a >= 2 and 48 <= buf[a + 1] <= 57:
        v = np.int64(0)
        for i in range(a + 1, b):
            c = buf[i]
            if c < 48 or c > 57:
                return T_UNKNOWN, 0
            v = v * 10 + (c - 48)
            if v > INT_CAP:
                v = INT_CAP
        return T_COST, v
    n = b - a
    for k in range(_KW_LEN.shape[0]):
        if _KW_LEN[k] != n or _KW_BYTES[k, 0] != c0:
            continue
        same = True
        for j in range(1, n):
            if _KW_BYTES[k, j] != buf[a + j]:
                same = False
                break
        if same:
            return _KW_CODE[k], 0
    return T_UNKNOWN, 0


@njit(cache=True)
def _tokenize(buf, a, b, kinds, vals, t0):
    """Tokenize ``buf[a:b]`` into ``kinds``/``vals`` from index ``t0``; returns the count."""
    n = 0
    i = a
    while i < b:
        while i < b and _is_space(buf[i]):
            i += 1
        if i >= b:
            break
        j = i
        while j < b and not _is_space(buf[j]):
            j += 1
        k, v = _classify(buf, i, j)
        kinds[t0 + n] = k
        vals[t0 + n] = v
        n += 1
        i = j
    return n


@njit(cache=True, parallel=True)
def _tokenize_batch(buf, boff, tcap, kinds, vals, ntok, todo):
    for t in prange(todo.shape[0]):
        i = todo[t]
        ntok[i] = _tokenize(buf, boff[i], boff[i + 1], kinds, vals, tcap[i])


# -- structural parser kernel ----------------------------------------------------------------
@njit(cache=True)
def _parse_tokens(kinds, vals, t0, n, sf, ev, e0, pl, p0, er, r0):
    """Parse tokens ``t0 .. t0+n`` (see the module docstring for the grammar).

    Writes events to columns ``e0..`` of ``ev`` (rows op, x, y, g, h, token position), plan cells
    to ``pl`` (rows x, y, position), errors to ``er`` (rows kind, index, position); positions are
    relative to ``t0``. Returns ``(n_events, n_plan, n_errors, trace_end, stop)``: ``trace_end``
    is the position where the trace section ends, ``stop`` where parsing stopped.
    """
    ne = 0
    np_ = 0
    nr = 0
    i = 0
    while i < n and (kinds[t0 + i] == T_BOS or kinds[t0 + i] == T_PAD):
        i += 1
    if i < n and ((kinds[t0 + i] == T_QUERY and not sf) or kinds[t0 + i] == T_START):
        i += 1
        while i < n:
            k = kinds[t0 + i]
            if k == T_START or k == T_GOAL or k == T_WALL or k == T_INT or k == T_PAD:
                i += 1
            else:
                break
    if i < n and kinds[t0 + i] == T_REASONING and not sf:
        i += 1
    section = 0
    junk = False
    trace_end = -1
    while i < n:
        k = kinds[t0 + i]
        if sf and (k == T_QUERY or k == T_REASONING or k == T_SOLUTION or k == T_END):
            k = T_UNKNOWN
        if k == T_EOS or k == T_END:
            break
        if k == T_PAD:
            i += 1
            continue
        if section == 0:
            if k == T_CREATE or k == T_CLOSE:
                if (
                    i + 4 < n
                    and kinds[t0 + i + 1] == T_INT
                    and kinds[t0 + i + 2] == T_INT
                    and kinds[t0 + i + 3] == T_COST
                    and kinds[t0 + i + 4] == T_COST
                ):
                    c = e0 + ne
                    ev[0, c] = 0 if k == T_CREATE else 1
                    ev[1, c] = vals[t0 + i + 1]
                    ev[2, c] = vals[t0 + i + 2]
                    ev[3, c] = vals[t0 + i + 3]
                    ev[4, c] = vals[t0 + i + 4]
                    ev[5, c] = i
                    ne += 1
                    i += 5
                    junk = False
                    continue
                er[0, r0 + nr] = E_MALFORMED
                er[1, r0 + nr] = ne
                er[2, r0 + nr] = i
                nr += 1
                junk = True
                i += 1
                continue
            if k == T_SOLUTION or k == T_PLAN:
                section = 1
                trace_end = i
                junk = False
                if k == T_SOLUTION:
                    i += 1
                continue
            if k == T_UNKNOWN:
                er[0, r0 + nr] = E_UNKNOWN_TOKEN
                er[1, r0 + nr] = ne
                er[2, r0 + nr] = i
                nr += 1
            elif not junk:
                er[0, r0 + nr] = E_MALFORMED
                er[1, r0 + nr] = ne
                er[2, r0 + nr] = i
                nr += 1
                junk = True
            i += 1
        else:
            if k == T_PLAN:
                if i + 2 < n and kinds[t0 + i + 1] == T_INT and kinds[t0 + i + 2] == T_INT:
                    c = p0 + np_
                    pl[0, c] = vals[t0 + i + 1]
                    pl[1, c] = vals[t0 + i + 2]
                    pl[2, c] = i
                    np_ += 1
                    i += 3
                    junk = False
                    continue
                er[0, r0 + nr] = E_PLAN_MALFORMED
                er[1, r0 + nr] = np_
                er[2, r0 + nr] = i
                nr += 1
                junk = True
                i += 1
                continue
            if k == T_UNKNOWN or not junk:
                er[0, r0 + nr] = E_PLAN_MALFORMED
                er[1, r0 + nr] = np_
                er[2, r0 + nr] = i
                nr += 1
                junk = junk or k != T_UNKNOWN
            i += 1
    if trace_end < 0:
        trace_end = i
    return ne, np_, nr, trace_end, i


@njit(cache=True, parallel=True)
def _parse_batch(kinds, vals, tcap, ntok, sf, ev, ecap, pl, pcap, er, rcap, meta):
    for t in prange(ntok.shape[0]):
        ne, np_, nr, tend, stop = _parse_tokens(
            kinds, vals, tcap[t], ntok[t], sf, ev, ecap[t], pl, pcap[t], er, rcap[t]
        )
        meta[0, t] = ne
        meta[1, t] = np_
        meta[2, t] = nr
        meta[3, t] = tend
        meta[4, t] = stop


# -- Python front ends -------------------------------------------------------------------------
def classify_tokens(tokens: Sequence[object]) -> tuple[np.ndarray, np.ndarray]:
    """Token kinds (int8) and values (int32, saturated) of a list of token strings.

    Non-string items are converted with ``str``; nothing raises.
    """
    n = len(tokens)
    kinds = np.zeros(n, dtype=np.int8)
    vals = np.zeros(n, dtype=np.int32)
    for i, tok in enumerate(tokens):
        if not isinstance(tok, str):
            try:
                tok = tok.decode("utf-8", "replace") if isinstance(tok, bytes) else str(tok)
            except Exception:  # an object whose __str__ fails is an unknown token
                continue
        code = KEYWORDS.get(tok)
        if code is not None:
            kinds[i] = code
            continue
        cost = tok[:1] == "c"
        digits = tok[1:] if cost else tok
        if digits and digits.isascii() and digits.isdigit():
            kinds[i] = T_COST if cost else T_INT
            digits = digits.lstrip("0") or "0"
            vals[i] = int(digits) if len(digits) < 10 else min(int(digits[:11]), INT_CAP)
    return kinds, vals


@dataclass(frozen=True, eq=False)
class TokenTable:
    """Kinds and values of every id of a vocabulary, to parse token-id sequences."""

    kinds: np.ndarray
    vals: np.ndarray

    def lookup(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Kinds and values of ``ids``; ids outside the vocabulary are unknown tokens."""
        ids = np.asarray(ids, dtype=np.int64).ravel()
        ok = (ids >= 0) & (ids < self.kinds.shape[0])
        safe = np.where(ok, ids, 0)
        return np.where(ok, self.kinds[safe], T_UNKNOWN).astype(np.int8), np.where(
            ok, self.vals[safe], 0
        ).astype(np.int32)


def token_table(vocab: Sequence[str] | dict[str, int]) -> TokenTable:
    """A :class:`TokenTable` from an id-ordered token list or a ``{token: id}`` mapping."""
    if isinstance(vocab, dict):
        size = max(vocab.values(), default=-1) + 1
        tokens: list[object] = [""] * size
        for tok, i in vocab.items():
            tokens[i] = tok
    else:
        tokens = list(vocab)
    kinds, vals = classify_tokens(tokens)
    return TokenTable(kinds, vals)


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
    """Many parsed completions, concatenated, with ``(n + 1)`` offsets per array group."""

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


def _as_bytes(text: str | bytes | bytearray) -> bytes:
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    if not text.isascii():
        # same tokens as str.split(): unicode whitespace becomes a plain space
        text = " ".join(text.split())
    return text.encode("utf-8", "surrogatepass")


def _offsets(counts: np.ndarray) -> np.ndarray:
    out = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def _compact(arr: np.ndarray, cap_off: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Keep the first ``counts[i]`` columns of each capacity block ``cap_off[i]..``."""
    total = int(counts.sum())
    if total == 0:
        return arr[..., :0].copy()
    idx = np.repeat(cap_off[:-1] - _offsets(counts)[:-1], counts) + np.arange(total)
    return arr[..., idx]


def _parse_chunk(items: Sequence[object], sf: int) -> ParsedBatch:
    n = len(items)
    blobs: list[bytes] = []
    lists: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    tcount = np.zeros(n, dtype=np.int64)
    for i, item in enumerate(items):
        if isinstance(item, (str, bytes, bytearray)):
            blob = _as_bytes(item)
            blobs.append(blob)
            tcount[i] = (len(blob) + 1) // 2
        else:
            blobs.append(b"")
            lists[i] = classify_tokens(list(item))  # type: ignore[call-overload]
            tcount[i] = lists[i][0].shape[0]
    buf = np.frombuffer(b"".join(blobs) or b" ", dtype=np.uint8)
    boff = _offsets(np.array([len(b) for b in blobs], dtype=np.int64))
    tcap = _offsets(tcount)
    kinds = np.zeros(max(int(tcap[-1]), 1), dtype=np.int8)
    vals = np.zeros(max(int(tcap[-1]), 1), dtype=np.int32)
    ntok = np.zeros(n, dtype=np.int64)
    todo = np.array([i for i in range(n) if i not in lists], dtype=np.int64)
    if todo.shape[0]:
        _tokenize_batch(buf, boff, tcap, kinds, vals, ntok, todo)
    for i, (k, v) in lists.items():
        kinds[tcap[i] : tcap[i] + k.shape[0]] = k
        vals[tcap[i] : tcap[i] + k.shape[0]] = v
        ntok[i] = k.shape[0]
    ecap = _offsets(ntok // 5)
    pcap = _offsets(ntok // 3)
    rcap = _offsets(ntok)
    ev = np.zeros((6, max(int(ecap[-1]), 1)), dtype=np.int32)
    pl = np.zeros((3, max(int(pcap[-1]), 1)), dtype=np.int32)
    er = np.zeros((3, max(int(rcap[-1]), 1)), dtype=np.int32)
    meta = np.zeros((5, n), dtype=np.int64)
    _parse_batch(kinds, vals, tcap[:-1], ntok, sf, ev, ecap[:-1], pl, pcap[:-1], er, rcap[:-1],
                 meta)  # fmt: skip
    ev = _compact(ev, ecap, meta[0])
    pl = _compact(pl, pcap, meta[1])
    er = _compact(er, rcap, meta[2])
    return ParsedBatch(
        ev[0].astype(np.int8), ev[1].copy(), ev[2].copy(), ev[3].copy(), ev[4].copy(),
        ev[5].copy(), _offsets(meta[0]),
        pl[0].copy(), pl[1].copy(), pl[2].copy(), _offsets(meta[1]),
        er[0].astype(np.int16), er[1].copy(), er[2].copy(), _offsets(meta[2]),
        ntok.astype(np.int32), meta[3].astype(np.int32),
    )  # fmt: skip


def concat_parsed(parts: Sequence[ParsedBatch]) -> ParsedBatch:
    """Concatenate parsed batches in order."""
    if len(parts) == 1:
        return parts[0]

    def cat(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in parts])

    def cat_off(name: str) -> np.ndarray:
        return _offsets(np.concatenate([np.diff(getattr(p, name)) for p in parts]))

    return ParsedBatch(
        cat("op"), cat("x"), cat("y"), cat("g"), cat("h"), cat("event_pos"),
        cat_off("event_offsets"), cat("plan_x"), cat("plan_y"), cat("plan_pos"),
        cat_off("plan_offsets"), cat("error_kind"), cat("error_index"), cat("error_pos"),
        cat_off("error_offsets"), cat("n_tokens"), cat("trace_end"),
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
    ne, np_, nr, tend, _ = _parse_tokens(kinds, vals, 0, n, sf, ev, 0, pl, 0, er, 0)
    return ParsedCompletion(
        ev[0, :ne].astype(np.int8), ev[1, :ne].copy(), ev[2, :ne].copy(), ev[3, :ne].copy(),
        ev[4, :ne].copy(), ev[5, :ne].copy(), pl[0, :np_].copy(), pl[1, :np_].copy(),
        pl[2, :np_].copy(), er[0, :nr].astype(np.int16), er[1, :nr].copy(), er[2, :nr].copy(),
        n, int(tend),
    )  # fmt: skip
