"""Tokens of completions: the kinds the parser knows, the numba tokenizer, vocabulary tables.

A token is a maximal run of non-whitespace bytes (exactly what ``str.split()`` gives for ASCII
text; whitespace is the bytes 9-13 and 28-32). Each token has a kind (``T_*``) and a value: the
integer of ``T_INT`` tokens and of ``c<int>`` cost tokens (``T_COST``), saturated at ``2**31 - 1``.
Keywords are those of the Beyond Semantics (arXiv 2505.13775) and Searchformer (arXiv 2402.14083)
vocabularies. Token-id sequences are mapped to kinds and values through a :class:`TokenTable`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

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

_KW_WIDTH = max(len(k) for k in KEYWORDS)
_KW_BYTES = np.zeros((len(KEYWORDS), _KW_WIDTH), dtype=np.uint8)
_KW_LEN = np.zeros(len(KEYWORDS), dtype=np.int64)
_KW_CODE = np.zeros(len(KEYWORDS), dtype=np.int8)
for _i, (_k, _c) in enumerate(KEYWORDS.items()):
    _KW_BYTES[_i, : len(_k)] = np.frombuffer(_k.encode("ascii"), dtype=np.uint8)
    _KW_LEN[_i] = len(_k)
    _KW_CODE[_i] = _c


# -- tokenizer kernel --------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _keyword(buf, a, b):
    """Kind of the non-numeric token ``buf[a:b]`` (a keyword or unknown)."""
    n = b - a
    c0 = buf[a]
    for k in range(_KW_LEN.shape[0]):
        if _KW_LEN[k] != n or _KW_BYTES[k, 0] != c0:
            continue
        same = True
        for j in range(1, n):
            if _KW_BYTES[k, j] != buf[a + j]:
                same = False
                break
        if same:
            return _KW_CODE[k]
    return T_UNKNOWN


@njit(cache=True, inline="always")
def _space(c) -> bool:
    return c == 32 or (9 <= c <= 13) or (28 <= c <= 31)


@njit(cache=True, inline="always")
def tokenize_span(buf, a, b, kinds, vals, t0):
    """Tokenize ``buf[a:b]`` into ``kinds``/``vals`` from index ``t0``; returns the count.

    One pass over the bytes: a number (or ``c<number>``) is read while its end is found.
    """
    n = 0
    i = a
    while i < b:
        c = buf[i]
        if _space(c):
            i += 1
            continue
        kind = T_UNKNOWN
        v = np.int64(0)
        j = i
        if 48 <= c <= 57 or (c == 99 and i + 1 < b and 48 <= buf[i + 1] <= 57):
            kind = T_INT if c != 99 else T_COST
            j = i if c != 99 else i + 1
            while j < b:
                d = buf[j]
                if 48 <= d <= 57:
                    v = min(v * 10 + (d - 48), INT_CAP)
                    j += 1
                elif _space(d):
                    break
                else:
                    kind = T_UNKNOWN
                    v = 0
                    while j < b and not _space(buf[j]):
                        j += 1
                    break
        else:
            while j < b and not _space(buf[j]):
                j += 1
            kind = _keyword(buf, i, j)
        kinds[t0 + n] = kind
        vals[t0 + n] = v
        n += 1
        i = j
    return n


# -- token lists and vocabularies --------------------------------------------------------------
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
