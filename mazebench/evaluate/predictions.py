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

Most lines are read in place by a numba scan of the file's bytes (:mod:`.jsonl_scan`); the others by
``json.loads``, with the same result. Nothing in a line can stop the reading: a line that is not
usable is counted under one reason of :data:`BAD_REASONS` (the first :data:`MAX_EXAMPLES` of each
are kept with their line numbers) and skipped; unusable ``logprobs`` only drop the confidence of
that line (``bad_logprobs``). Lines come out in chunks of bounded size (lines and bytes), so a file
of any length streams in flat memory.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .confidence import token_confidence
from .jsonl_scan import BLANK, FALLBACK, OK, line_bounds, scan_lines
from .parse import completion_bytes
from .vocabulary import UNKNOWN_TOKEN, Vocabulary, default_vocab, load_vocab  # noqa: F401

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
_READ_STEP = 1 << 24  # first allocation of a block; it doubles up to the block size


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
    """Usable lines of one chunk, in file order, held as byte spans of one buffer.

    Line ``i``'s id is ``buf[id_start[i]:id_end[i]]`` (UTF-8) and its completion text
    ``buf[text_start[i]:text_end[i]]`` (the bytes the parser tokenizes); a line that gave
    ``token_ids`` instead has ``text_start[i] == -1`` and its ids in ``token_ids[i]`` (int64;
    decode with a :class:`Vocabulary`). ``line`` (int64) is the 1-based line number, ``sample``
    (int32) the sample index (-1 absent). Token confidences of the lines with usable
    ``logprobs`` are flat in ``conf`` with ``conf_offsets`` (n + 1); ``has_conf`` marks them.
    :attr:`ids` and :attr:`texts` give Python strings (for inspection, not the hot path).
    """

    buf: np.ndarray
    id_start: np.ndarray
    id_end: np.ndarray
    text_start: np.ndarray
    text_end: np.ndarray
    line: np.ndarray
    sample: np.ndarray
    token_ids: dict[int, np.ndarray]
    conf: np.ndarray
    conf_offsets: np.ndarray
    has_conf: np.ndarray

    def __len__(self) -> int:
        return int(self.line.shape[0])

    def id(self, i: int) -> str:
        """The id of line ``i``."""
        return self.buf[self.id_start[i] : self.id_end[i]].tobytes().decode("utf-8",
                                                                            "surrogatepass")

    @property
    def ids(self) -> list[str]:
        return [self.id(i) for i in range(len(self))]

    @property
    def texts(self) -> list[str | None]:
        """Completion texts as the parser reads them (non-ASCII whitespace of a text read by
        ``json.loads`` is a plain space, see :func:`.parse.completion_bytes`); None for token-id
        lines."""
        return [None if a < 0 else self.buf[a:b].tobytes().decode("utf-8", "surrogatepass")
                for a, b in zip(self.text_start.tolist(), self.text_end.tolist())]


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


def _decode_line(raw: bytes, number: int, stats: ReadStats):
    """The slow path of one line (``json.loads``): ``(id, text, token_ids, sample, conf)`` or
    None when the line is not usable (counted in ``stats``)."""
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        stats.add_bad(number, "invalid_json", str(exc))
        return None
    if not isinstance(obj, dict):
        stats.add_bad(number, "not_an_object", type(obj).__name__)
        return None
    ident = obj.get("id")
    if _is_int(ident):
        ident = str(ident)
    if not isinstance(ident, str) or not ident:
        stats.add_bad(number, "missing_id", repr(ident))
        return None
    text = obj.get("completion")
    ids = None
    if text is None:
        if "token_ids" not in obj:
            stats.add_bad(number, "missing_completion", "neither completion nor token_ids")
            return None
        ids = _token_ids(obj["token_ids"])
        if ids is None:
            stats.add_bad(number, "bad_token_ids", "token_ids must be a list of integers")
            return None
    elif not isinstance(text, str):
        stats.add_bad(number, "bad_completion", f"completion is a {type(text).__name__}")
        return None
    sample = obj.get("sample", -1)
    if sample is None:
        sample = -1
    if not _is_int(sample) or not (-1 <= sample < 1 << 31):
        stats.add_bad(number, "bad_sample", repr(sample))
        return None
    conf = None
    lp = obj.get("logprobs")
    if lp is not None:
        matrix = _logprob_matrix(lp)
        if matrix is None:
            stats.bad_logprobs += 1
        else:
            conf = token_confidence(np.ascontiguousarray(matrix))
            stats.with_logprobs += 1
    return ident, text, ids, int(sample), conf


class _Block:
    """The lines of one block of the file: fast-path spans, slow-path lines re-encoded into an
    auxiliary region after the block's bytes."""

    def __init__(self, arr: np.ndarray, final: bool, first_line: int, stats: ReadStats) -> None:
        starts, ends, self.used = line_bounds(arr, final)
        res = scan_lines(arr, starts, ends) if starts.size else np.zeros((0, 6), np.int64)
        status = res[:, 0]
        self.n_lines = int(starts.size)
        stats.lines += self.n_lines
        stats.blank += int((status == BLANK).sum())
        usable = status == OK
        cols = res[:, 1:6].copy()
        self.token_ids: dict[int, np.ndarray] = {}
        self.conf: dict[int, np.ndarray] = {}
        aux: list[bytes] = []
        pos = int(arr.shape[0])
        for i in np.flatnonzero(status == FALLBACK).tolist():
            raw = arr[starts[i] : min(int(ends[i]) + 1, arr.shape[0])].tobytes()
            got = _decode_line(raw, first_line + i, stats)
            if got is None:
                continue
            ident, text, ids, sample, conf = got
            usable[i] = True
            key = ident.encode("utf-8", "surrogatepass")
            cols[i, 0], cols[i, 1] = pos, pos + len(key)
            aux.append(key)
            pos += len(key)
            if text is None:
                cols[i, 2] = cols[i, 3] = -1
                self.token_ids[i] = ids
            else:
                blob = completion_bytes(text)
                cols[i, 2], cols[i, 3] = pos, pos + len(blob)
                aux.append(blob)
                pos += len(blob)
            cols[i, 4] = sample
            if conf is not None:
                self.conf[i] = conf
        self.buf = np.concatenate([arr, np.frombuffer(b"".join(aux), np.uint8)]) if aux else arr
        self.rows = np.flatnonzero(usable)
        stats.read += int(self.rows.size)
        self.cols = cols
        self.first_line = first_line

    def chunk(self, sel: np.ndarray) -> PredictionChunk:
        c = self.cols[sel]
        tok = {k: self.token_ids[i] for k, i in enumerate(sel.tolist()) if i in self.token_ids}
        lens = np.full(sel.shape[0], -1, dtype=np.int64)
        parts = []
        for k, i in enumerate(sel.tolist()):
            if i in self.conf:
                lens[k] = self.conf[i].shape[0]
                parts.append(self.conf[i])
        off = np.zeros(sel.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.maximum(lens, 0), out=off[1:])
        return PredictionChunk(
            self.buf, c[:, 0].copy(), c[:, 1].copy(), c[:, 2].copy(), c[:, 3].copy(),
            (sel + self.first_line).astype(np.int64), c[:, 4].astype(np.int32), tok,
            np.concatenate(parts) if parts else np.zeros(0), off, lens >= 0,
        )  # fmt: skip


def _open(path: Path):
    """The file's bytes: through gzip for a ``.gz`` name, as they are otherwise (a plain file
    whose first bytes happen to look like gzip's magic is still read as text)."""
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _read_block(fh, rest: np.ndarray, chunk_bytes: int) -> tuple[np.ndarray, int, bool]:
    """``rest`` followed by up to ``chunk_bytes`` bytes of ``fh``: ``(buffer, size, at end)``.
    The buffer grows as it fills, so a huge ``chunk_bytes`` costs only what the file holds."""
    want = rest.shape[0] + chunk_bytes
    buf = np.empty(min(want, rest.shape[0] + _READ_STEP), dtype=np.uint8)
    buf[: rest.shape[0]] = rest
    size = rest.shape[0]
    while True:
        view = memoryview(buf)
        while size < buf.shape[0]:
            got = fh.readinto(view[size:])
            if not got:
                return buf, size, True
            size += got
        del view
        if size >= want:
            return buf, size, False
        grown = np.empty(min(want, 2 * buf.shape[0]), dtype=np.uint8)
        grown[:size] = buf[:size]
        buf = grown


def iter_predictions(
    path: str | Path,
    stats: ReadStats | None = None,
    *,
    chunk_lines: int = CHUNK_LINES,
    chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[PredictionChunk]:
    """Stream a predictions file as :class:`PredictionChunk` s of at most ``chunk_lines`` lines
    from one block of about ``chunk_bytes`` bytes (a longer line makes a longer block);
    ``stats`` (a :class:`ReadStats`) is updated as it goes.

    Lines go through the numba fast path (:mod:`.jsonl_scan`) or, when it cannot be sure of
    them, through ``json.loads``: the two read every line alike.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"predictions file {path} does not exist")
    if chunk_lines < 1 or chunk_bytes < 1:
        raise ValueError("chunk_lines and chunk_bytes must be >= 1")
    stats = stats if stats is not None else ReadStats()
    first = 1
    rest = np.zeros(0, dtype=np.uint8)
    with _open(path) as fh:
        final = False
        while not final:
            try:
                buf, size, final = _read_block(fh, rest, chunk_bytes)
            except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
                raise ValueError(f"predictions file {path}: damaged gzip stream "
                                 f"({exc})") from None
            if size == 0:
                break
            block = _Block(buf[:size], final, first, stats)
            rest = buf[block.used : size].copy()
            first += block.n_lines
            for lo in range(0, block.rows.shape[0], chunk_lines):
                yield block.chunk(block.rows[lo : lo + chunk_lines])
            del block


def read_predictions(path: str | Path, **kwargs) -> tuple[list[PredictionChunk], ReadStats]:
    """All chunks of a (small) predictions file and the reader's counts."""
    stats = ReadStats()
    return list(iter_predictions(path, stats, **kwargs)), stats

