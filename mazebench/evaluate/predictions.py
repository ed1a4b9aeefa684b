"""Streaming reader of model predictions (JSONL), and token vocabularies for token-id input.

One JSON object per line (a ``.gz`` file is read through gzip)::

    {"id": "test_wilson-17", "completion": "reasoning close 3 4 c0 c21 ... end"}
    {"id": "test_wilson-17", "sample": 3, "token_ids": [930, 7, 12, ...],
     "logprobs": [[-0.01, -4.2, ...], ...]}

* ``id`` (required): the dataset's ``id`` column (a string; an integer is read as its decimal
  string);
* ``completion`` (a string, any dialect text, see :mod:`mazebench.evaluate.parse`) or
  ``token_ids`` (a list of integers in a vocabulary: by default the upstream vocabulary of the
  split's dialect and grid, :func:`default_vocab`; else :func:`load_vocab`); ``completion``
  wins when both are present;
* ``sample`` (optional): a non-negative integer index when several samples share an id;
* ``logprobs`` (optional): per generated token, the log-probabilities of its top-k candidates
  (a list of lists; a flat list of numbers is read as k = 1; shorter rows are padded with absent
  candidates). Token ``i`` of the completion (the ``i``-th whitespace token, or the ``i``-th
  token id) is row ``i``. They become DeepConf token confidences at once
  (:func:`mazebench.evaluate.confidence.token_confidence`, arXiv 2508.15260); the raw rows are
  not kept.

Nothing in a line can stop the reading: a line that is not usable is counted under one reason of
:data:`BAD_REASONS` (the first :data:`MAX_EXAMPLES` of each are kept with their line numbers) and
skipped; unusable ``logprobs`` only drop the confidence of that line (``bad_logprobs``). Lines
come out in chunks of bounded size (lines and bytes), so a file of any length streams in flat
memory.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .confidence import token_confidence

BAD_REASONS: tuple[str, ...] = (
    "invalid_json",
    "not_an_object",
    "missing_id",
    "missing_completion",
    "bad_completion",
    "bad_token_ids",
    "bad_sample",
)
MAX_EXAMPLES = 5
CHUNK_LINES = 4096
CHUNK_BYTES = 1 << 25
UNKNOWN_TOKEN = "<|unk|>"


# -- vocabularies ------------------------------------------------------------------------------
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


# -- reading -----------------------------------------------------------------------------------
@dataclass
class ReadStats:
    """Counts of what the reader saw (every line is in exactly one of ``blank``, ``bad`` or
    ``read``); ``examples`` keeps the first lines of each bad reason as ``(line, reason)``."""

    lines: int = 0
    blank: int = 0
    read: int = 0
    bad: Counter = field(default_factory=Counter)
    examples: list = field(default_factory=list)
    with_logprobs: int = 0
    bad_logprobs: int = 0

    def add_bad(self, line: int, reason: str, detail: str = "") -> None:
        self.bad[reason] += 1
        if self.bad[reason] <= MAX_EXAMPLES:
            self.examples.append({"line": line, "reason": reason, "detail": detail[:120]})

    @property
    def n_bad(self) -> int:
        return int(sum(self.bad.values()))

    def to_dict(self) -> dict:
        return {
            "lines": self.lines,
            "blank": self.blank,
            "read": self.read,
            "bad": self.n_bad,
            "bad_by_reason": {r: int(self.bad.get(r, 0)) for r in BAD_REASONS},
            "bad_examples": list(self.examples),
            "with_logprobs": self.with_logprobs,
            "bad_logprobs": self.bad_logprobs,
        }


@dataclass(eq=False)
class PredictionChunk:
    """Usable lines of one chunk, in file order.

    ``texts[i]`` is the completion string, or None when the line gave ``token_ids[i]`` (an int64
    array; decode with a :class:`Vocabulary`). ``line`` (int64) is the 1-based line number,
    ``sample`` (int32) the sample index (-1 absent). Token confidences of the lines with usable
    ``logprobs`` are flat in ``conf`` with ``conf_offsets`` (n + 1); ``has_conf`` marks them.
    """

    ids: list[str]
    line: np.ndarray
    sample: np.ndarray
    texts: list[str | None]
    token_ids: list[np.ndarray | None]
    conf: np.ndarray
    conf_offsets: np.ndarray
    has_conf: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _token_ids(value: object) -> np.ndarray | None:
    if not isinstance(value, list) or not all(_is_int(v) for v in value):
        return None
    try:
        return np.array(value, dtype=np.int64)
    except OverflowError:  # ids beyond int64 are just unknown tokens
        return np.array([v if -(1 << 62) < v < 1 << 62 else -1 for v in value], dtype=np.int64)


def _logprob_matrix(value: object) -> np.ndarray | None:
    """``(tokens, k)`` float64, nan-padded; None if unusable."""
    if not isinstance(value, list):
        return None
    if not value:
        return np.zeros((0, 1))
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        arr = None
    if arr is not None:
        if arr.ndim == 1:
            return arr.reshape(-1, 1)
        return arr if arr.ndim == 2 else None
    rows = []
    for row in value:  # ragged: pad with absent candidates
        if isinstance(row, (int, float)) and not isinstance(row, bool):
            row = [row]
        if not isinstance(row, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in row
        ):
            return None
        rows.append(row)
    k = max((len(r) for r in rows), default=1) or 1
    out = np.full((len(rows), k), np.nan)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


class _ChunkBuilder:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.line: list[int] = []
        self.sample: list[int] = []
        self.texts: list[str | None] = []
        self.token_ids: list[np.ndarray | None] = []
        self.conf: list[np.ndarray] = []
        self.conf_len: list[int] = []
        self.nbytes = 0

    def __len__(self) -> int:
        return len(self.ids)

    def build(self) -> PredictionChunk:
        lens = np.array(self.conf_len, dtype=np.int64).reshape(-1)
        off = np.zeros(lens.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.maximum(lens, 0), out=off[1:])
        conf = np.concatenate(self.conf) if self.conf else np.zeros(0)
        return PredictionChunk(
            self.ids, np.array(self.line, dtype=np.int64), np.array(self.sample, dtype=np.int32),
            self.texts, self.token_ids, conf, off, lens >= 0,
        )  # fmt: skip


def _add_line(raw: bytes, number: int, out: _ChunkBuilder, stats: ReadStats) -> None:
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        stats.add_bad(number, "invalid_json", str(exc))
        return
    if not isinstance(obj, dict):
        stats.add_bad(number, "not_an_object", type(obj).__name__)
        return
    ident = obj.get("id")
    if _is_int(ident):
        ident = str(ident)
    if not isinstance(ident, str) or not ident:
        stats.add_bad(number, "missing_id", repr(ident))
        return
    text = obj.get("completion")
    ids = None
    if text is None:
        if "token_ids" not in obj:
            stats.add_bad(number, "missing_completion", "neither completion nor token_ids")
            return
        ids = _token_ids(obj["token_ids"])
        if ids is None:
            stats.add_bad(number, "bad_token_ids", "token_ids must be a list of integers")
            return
    elif not isinstance(text, str):
        stats.add_bad(number, "bad_completion", f"completion is a {type(text).__name__}")
        return
    sample = obj.get("sample", -1)
    if sample is None:
        sample = -1
    if not _is_int(sample) or not (-1 <= sample < 1 << 31):
        stats.add_bad(number, "bad_sample", repr(sample))
        return
    conf_len = -1
    lp = obj.get("logprobs")
    if lp is not None:
        matrix = _logprob_matrix(lp)
        if matrix is None:
            stats.bad_logprobs += 1
        else:
            conf = token_confidence(np.ascontiguousarray(matrix))
            out.conf.append(conf)
            conf_len = int(conf.shape[0])
            stats.with_logprobs += 1
    out.ids.append(ident)
    out.line.append(number)
    out.sample.append(int(sample))
    out.texts.append(text)
    out.token_ids.append(ids)
    out.conf_len.append(conf_len)
    out.nbytes += len(raw)
    stats.read += 1


def _open(path: Path):
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def iter_predictions(
    path: str | Path,
    stats: ReadStats | None = None,
    *,
    chunk_lines: int = CHUNK_LINES,
    chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[PredictionChunk]:
    """Stream a predictions file as :class:`PredictionChunk` s of at most ``chunk_lines`` lines
    and about ``chunk_bytes`` bytes; ``stats`` (a :class:`ReadStats`) is updated as it goes."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"predictions file {path} does not exist")
    if chunk_lines < 1 or chunk_bytes < 1:
        raise ValueError("chunk_lines and chunk_bytes must be >= 1")
    stats = stats if stats is not None else ReadStats()
    out = _ChunkBuilder()
    with _open(path) as fh:
        for number, raw in enumerate(fh, start=1):
            stats.lines += 1
            if not raw.strip():
                stats.blank += 1
                continue
            _add_line(raw, number, out, stats)
            if len(out) >= chunk_lines or out.nbytes >= chunk_bytes:
                yield out.build()
                out = _ChunkBuilder()
    if len(out):
        yield out.build()


def read_predictions(path: str | Path, **kwargs) -> tuple[list[PredictionChunk], ReadStats]:
    """All chunks of a (small) predictions file and the reader's counts."""
    stats = ReadStats()
    return list(iter_predictions(path, stats, **kwargs)), stats

