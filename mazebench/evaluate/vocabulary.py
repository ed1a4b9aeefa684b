"""Token vocabularies, to read predictions given as token ids (``token_ids`` lines).

:func:`default_vocab` is the upstream word-level vocabulary of a dialect and grid (Beyond
Semantics, arXiv 2505.13775; Searchformer, arXiv 2402.14083); :func:`load_vocab` reads a
tokenizer's own. A :class:`Vocabulary` decodes ids to dialect text, or maps them straight to the
parser's token kinds (:attr:`Vocabulary.table`), which parses the same.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from .parse import TokenTable, token_table

UNKNOWN_TOKEN = "<|unk|>"


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """Token strings indexed by id; :meth:`decode` turns ids into dialect text."""

    tokens: np.ndarray  # object array, one entry per id, plus a trailing unknown token

    @classmethod
    def from_tokens(cls, tokens: Sequence[str]) -> Vocabulary:
        """From an id-ordered token list. Empty tokens or tokens with whitespace read as unknown."""
        clean = [t if isinstance(t, str) and t and not any(c.isspace() for c in t)
                 else UNKNOWN_TOKEN for t in tokens]
        arr = np.empty(len(clean) + 1, dtype=object)
        arr[: len(clean)] = clean
        arr[-1] = UNKNOWN_TOKEN
        return cls(arr)

    def __len__(self) -> int:
        return int(self.tokens.shape[0]) - 1

    def decode(self, ids: np.ndarray) -> str:
        """Space-joined tokens of ``ids``; ids outside the vocabulary become unknown tokens."""
        ids = np.asarray(ids, dtype=np.int64)
        n = len(self)
        safe = np.where((ids >= 0) & (ids < n), ids, n)
        return " ".join(self.tokens[safe].tolist())

    @cached_property
    def table(self) -> TokenTable:
        """Token kinds and values of every id (ids outside the vocabulary read as unknown), to
        parse token ids as :meth:`decode` followed by the text parser would."""
        return token_table(self.tokens.tolist())

    def encode(self, text: str) -> np.ndarray:
        """Ids of the whitespace tokens of ``text`` (-1 for a token outside the vocabulary)."""
        index = {t: i for i, t in enumerate(self.tokens[:-1].tolist())}
        return np.array([index.get(t, -1) for t in text.split()], dtype=np.int64)


@lru_cache(maxsize=16)
def default_vocab(height: int, width: int, dialect: str = "beyond-semantics") -> Vocabulary:
    """The upstream word-level vocabulary of ``dialect`` for ``height`` x ``width`` grids
    (:func:`mazebench.training.vocab.vocabulary`, id for id as the Beyond Semantics and
    Searchformer training code builds it: 944 tokens at 30 x 30 for Beyond Semantics). Pass your
    tokenizer's own vocabulary (:func:`load_vocab`) when its ids differ."""
    from ..training.vocab import vocabulary

    return Vocabulary.from_tokens(vocabulary(dialect, height, width).tokens)


def load_vocab(path: str | Path) -> Vocabulary:
    """A vocabulary from JSON: an id-ordered token list, a ``{token: id}`` object, or a Hugging
    Face ``tokenizer.json`` (its ``model.vocab`` and ``added_tokens``)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"vocabulary {path}: cannot read it as JSON ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("model"), dict):
        mapping = dict(data["model"].get("vocab") or {})
        for added in data.get("added_tokens") or []:
            if isinstance(added, dict) and "content" in added and "id" in added:
                mapping[added["content"]] = added["id"]
        data = mapping
    if isinstance(data, list):
        return Vocabulary.from_tokens(data)
    if isinstance(data, dict) and data and all(
        isinstance(i, int) and not isinstance(i, bool) and 0 <= i < 1 << 24 for i in data.values()
    ):
        tokens = [""] * (max(data.values()) + 1)
        for tok, i in data.items():
            tokens[i] = tok
        return Vocabulary.from_tokens(tokens)
    raise ValueError(
        f"vocabulary {path}: expected a JSON list of tokens, a {{token: id}} object or a "
        "tokenizer.json with model.vocab"
    )
