"""Word-level maze tokenizers: batch encode/decode in numba and a Hugging Face export.

``MazeTokenizer("beyond-semantics", 30, 30)`` holds the upstream vocabulary
(:mod:`mazebench.training.vocab`) and

* :meth:`~MazeTokenizer.encode_batch` / :meth:`~MazeTokenizer.decode_batch`: many texts to flat
  token ids with offsets and back, in one numba call each, with the same ids as the Hugging Face
  tokenizer that :meth:`~MazeTokenizer.save` writes;
* :meth:`~MazeTokenizer.encode_arrays`: examples straight from dataset arrays to ids (no text),
  with the prompt/completion boundary of every row;
* :meth:`~MazeTokenizer.hf_json` / :meth:`~MazeTokenizer.save`: the ``tokenizers`` JSON exactly
  as the Beyond Semantics authors build it (``WordLevel`` + ``Whitespace`` pre-tokenizer, special
  tokens added, padding on ``<|pad|>``), plus ``tokenizer_config.json`` and
  ``special_tokens_map.json`` so that ``transformers.PreTrainedTokenizerFast.from_pretrained(DIR)``
  (or ``AutoTokenizer``) loads it with the right special tokens. The Searchformer vocabulary has
  no pad token: ``eos`` is declared as pad (a common choice; padded positions are masked anyway).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import kernels
from .vocab import BS_MARKERS, Vocabulary, vocabulary

TOKENIZER_FILE = "tokenizer.json"
# user turn = prompt, assistant turn = completion, laid out as the dialect's token rows
_CHAT = (
    "{{% for message in messages %}}{{% if message['role'] == 'assistant' %}} "
    "{{% generation %}}{assistant}{{% endgeneration %}}"
    "{{% else %}}{user}{{% endif %}}{{% endfor %}}"
)
CHAT_TEMPLATES = {
    "beyond-semantics": _CHAT.format(
        user="{{ bos_token }} {{ message['content'] }}",
        assistant="{{ message['content'] }} {{ eos_token }}"),
    "searchformer": _CHAT.format(
        user="{{ bos_token }} {{ message['content'] }} {{ eos_token }}",
        assistant="{{ bos_token }} {{ message['content'] }} {{ eos_token }}"),
}


@dataclass(frozen=True, eq=False)
class Encoded:
    """Token ids of many rows: ``ids[offsets[i]:offsets[i + 1]]`` is row i; ``prompt_lengths[i]``
    counts the ids of its prompt (-1 when unknown, e.g. for free text)."""

    ids: np.ndarray
    offsets: np.ndarray
    prompt_lengths: np.ndarray

    def __len__(self) -> int:
        return int(self.offsets.shape[0] - 1)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def row(self, i: int) -> np.ndarray:
        return self.ids[self.offsets[i] : self.offsets[i + 1]]

    def tolist(self) -> list[list[int]]:
        return [self.row(i).tolist() for i in range(len(self))]


def _table(words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    width = max([len(w) for w in words] + [1])
    table = np.zeros((len(words), width), dtype=np.uint8)
    lengths = np.zeros(len(words), dtype=np.int64)
    for i, w in enumerate(words):
        b = w.encode("utf-8")
        table[i, : len(b)] = np.frombuffer(b, dtype=np.uint8)
        lengths[i] = len(b)
    return table, lengths


class MazeTokenizer:
    """The word-level tokenizer of a dialect and grid size (see the module docstring)."""

    def __init__(self, dialect: str = "beyond-semantics", height: int = 30, width: int = 30):
        self.vocab: Vocabulary = vocabulary(dialect, height, width)
        v = self.vocab
        self.dialect, self.height, self.width = v.dialect, v.height, v.width
        self._num = v.number_ids()
        self._cost = v.cost_ids()
        kw_words = [w for w in v.tokens if w.isalpha() and w not in v.specials]
        self._kw_bytes, self._kw_len = _table(kw_words)
        self._kw_id = np.array([v.ids[w] for w in kw_words], dtype=np.int32)
        self._sp_bytes, self._sp_len = _table(v.specials)
        self._sp_id = np.array([v.ids[w] for w in v.specials], dtype=np.int32)
        self._sp_first = np.zeros(256, dtype=np.bool_)
        self._sp_first[self._sp_bytes[:, 0]] = True
        self._row_kw = np.array([v.ids.get(w, -1) for w in BS_MARKERS], dtype=np.int32)
        self._tok_bytes, self._tok_len = _table(v.tokens)
        self._special = v.special_mask()
        self._none = np.zeros(len(v), dtype=np.bool_)

    def __len__(self) -> int:
        return len(self.vocab)

    def __repr__(self) -> str:
        return f"MazeTokenizer({self.dialect!r}, {self.height}, {self.width}; {len(self)} tokens)"

    @property
    def code(self) -> int:
        return kernels.BS if self.dialect == "beyond-semantics" else kernels.SF

    @property
    def pad_id(self) -> int:
        """The padding id (``eos`` for Searchformer, which has no pad token)."""
        return self.vocab.pad_id if self.vocab.pad is not None else self.vocab.eos_id

    # ------------------------------------------------------------------------------ text
    def encode_batch(self, texts: Sequence[str | bytes]) -> Encoded:
        """Token ids of many texts (one numba call). Raises ValueError on a word outside a
        vocabulary without an unknown token (Searchformer)."""
        blobs = [t.encode("utf-8") if isinstance(t, str) else bytes(t) for t in texts]
        boff = np.zeros(len(blobs) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in blobs], out=boff[1:])
        buf = np.frombuffer(b"".join(blobs) or b" ", dtype=np.uint8)
        ids = np.empty(max(int(boff[-1]), 1), dtype=np.int32)
        off = np.zeros(len(blobs) + 1, dtype=np.int64)
        bad = np.full(3, -1, dtype=np.int64)
        total = kernels.encode_texts(
            buf, boff, self._num, self._cost, self._kw_bytes, self._kw_len, self._kw_id,
            self._sp_bytes, self._sp_len, self._sp_id, self._sp_first, self.vocab.unk_id, ids,
            off, bad,
        )  # fmt: skip
        if bad[0] >= 0:
            word = buf[bad[1] : bad[2]].tobytes().decode("utf-8", "replace")
            raise ValueError(
                f"text {bad[0]}: {word!r} is not in the {self.dialect} vocabulary "
                f"({self.width}x{self.height}), which has no unknown token"
            )
        return Encoded(ids[:total].copy(), off, np.full(len(blobs), -1, dtype=np.int64))

    def encode(self, text: str) -> list[int]:
        return self.encode_batch([text]).row(0).tolist()

    def decode_batch(self, ids, offsets=None, *, skip_special_tokens: bool = False) -> list[str]:
        """Texts of many id sequences (tokens joined by spaces, like ``tokenizers`` without a
        decoder). ``ids`` is a flat array with ``offsets`` (n + 1), a 2-D array, or a list of
        sequences."""
        flat, off = _flatten(ids, offsets)
        if flat.shape[0] and (flat.min() < 0 or flat.max() >= len(self)):
            bad = int(flat[(flat < 0) | (flat >= len(self))][0])
            raise ValueError(f"token id {bad} is outside the vocabulary (0..{len(self) - 1})")
        bound = int((self._tok_len[flat] + 1).sum()) + 1 if flat.shape[0] else 1
        buf = np.empty(bound, dtype=np.uint8)
        out_off = np.zeros(off.shape[0], dtype=np.int64)
        skip = self._special if skip_special_tokens else self._none
        kernels.decode_ids(flat, off, self._tok_bytes, self._tok_len, skip, buf, out_off)
        raw = buf.tobytes()
        return [raw[out_off[i] : out_off[i + 1]].decode() for i in range(off.shape[0] - 1)]

    def decode(self, ids, *, skip_special_tokens: bool = False) -> str:
        return self.decode_batch([list(ids)], skip_special_tokens=skip_special_tokens)[0]

    def convert_ids_to_tokens(self, ids) -> list[str]:
        return [self.vocab.tokens[int(i)] for i in ids]

    # ------------------------------------------------------------------------------ rows
    def encode_arrays(self, walls, sg, ev_off, events, pl_off, plan, unsolved=None, *,
                      specials: bool = True, trace: bool = True) -> Encoded:
        """Ids of examples given as arrays: ``walls`` (n, H, W) bool, ``sg`` (n, 4) start/goal,
        the five event arrays ``events`` with ``ev_off`` (n + 1), the plan arrays ``plan`` with
        ``pl_off``; ``unsolved[i]`` writes the upstream plan ``start, goal``; ``trace=False``
        leaves the events out (solution-only rows). Rows follow
        :func:`mazebench.training.kernels.encode_rows`."""
        walls = np.ascontiguousarray(walls, dtype=np.bool_)
        n, h, w = walls.shape
        if (h, w) != (self.height, self.width):
            raise ValueError(f"rows are {w}x{h} but the tokenizer is {self.width}x{self.height}")
        ev_off = np.asarray(ev_off, dtype=np.int64)
        pl_off = np.asarray(pl_off, dtype=np.int64)
        unsolved = np.zeros(n, np.bool_) if unsolved is None else np.asarray(unsolved, np.bool_)
        n_plan = np.where(unsolved, 2, np.diff(pl_off))
        prompt, completion = kernels.row_lengths(
            self.code, walls.reshape(n, -1).sum(axis=1), np.diff(ev_off), n_plan, specials, trace
        )
        off = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(prompt + completion, out=off[1:])
        ids = np.empty(int(off[-1]), dtype=np.int32)
        prompt_len = np.empty(n, dtype=np.int64)
        sg = np.ascontiguousarray(sg, dtype=np.int64)
        kernels.encode_rows(
            self.code, self._num, self._cost, self._row_kw, self.vocab.bos_id, self.vocab.eos_id,
            self.vocab.unk_id, specials, trace, walls, sg, ev_off, *events, pl_off, *plan, unsolved,
            ids, off, prompt_len,
        )  # fmt: skip
        if self.vocab.unk is None and ids.shape[0] and ids.min() < 0:
            raise ValueError(f"a trace cost is outside the {self.dialect} vocabulary "
                             f"(c0..c{self.height * self.width - 1})")
        return Encoded(ids, off, prompt_len)

    def encode_rows(self, rows, unsolved=None, *, specials: bool = True,
                    trace: bool = True) -> Encoded:
        """Ids of a :class:`mazebench.datasets.export.RowArrays` batch."""
        return self.encode_arrays(rows.walls, rows.sg, rows.ev_off, rows.ev, rows.pl_off, rows.pl,
                                  unsolved, specials=specials, trace=trace)

    # ------------------------------------------------------------------------------ export
    def hf_json(self) -> dict:
        """The ``tokenizers`` JSON (``Tokenizer.from_str(json.dumps(...))`` loads it)."""
        v = self.vocab
        added = [
            {"id": v.ids[t], "content": t, "single_word": False, "lstrip": False,
             "rstrip": False, "normalized": False, "special": True}
            for t in v.specials
        ]
        padding = None
        if v.pad is not None:
            padding = {"strategy": "BatchLongest", "direction": "Right",
                       "pad_to_multiple_of": None, "pad_id": v.pad_id, "pad_type_id": 0,
                       "pad_token": v.pad}
        return {
            "version": "1.0",
            "truncation": None,
            "padding": padding,
            "added_tokens": added,
            "normalizer": None,
            "pre_tokenizer": {"type": "Whitespace"},
            "post_processor": None,
            "decoder": None,
            "model": {"type": "WordLevel", "vocab": dict(v.ids), "unk_token": v.unk or "<unk>"},
        }

    def special_tokens_map(self) -> dict[str, str]:
        v = self.vocab
        out = {"bos_token": v.bos, "eos_token": v.eos, "pad_token": v.pad or v.eos}
        if v.unk is not None:
            out["unk_token"] = v.unk
        return out

    def tokenizer_config(self, model_max_length: int | None = None) -> dict:
        """``tokenizer_config.json`` for ``transformers`` (``PreTrainedTokenizerFast``)."""
        v = self.vocab
        cfg: dict = {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "added_tokens_decoder": {
                str(v.ids[t]): {"content": t, "lstrip": False, "normalized": False,
                                "rstrip": False, "single_word": False, "special": True}
                for t in v.specials
            },
            **self.special_tokens_map(),
            "clean_up_tokenization_spaces": False,
            "model_input_names": ["input_ids", "attention_mask"],
            "chat_template": CHAT_TEMPLATES[self.dialect],
            "mazebench": {"dialect": self.dialect, "height": self.height, "width": self.width},
        }
        if model_max_length is not None:
            cfg["model_max_length"] = int(model_max_length)
        return cfg

    def save(self, path: str | Path, *, model_max_length: int | None = None) -> list[Path]:
        """Write ``tokenizer.json`` (a path ending in ``.json``: that file only) or a folder with
        ``tokenizer.json``, ``tokenizer_config.json`` and ``special_tokens_map.json``."""
        path = Path(path)
        text = json.dumps(self.hf_json(), ensure_ascii=False, separators=(",", ":"))
        if path.suffix == ".json":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            return [path]
        path.mkdir(parents=True, exist_ok=True)
        files = [path / TOKENIZER_FILE, path / "tokenizer_config.json",
                 path / "special_tokens_map.json"]
        files[0].write_text(text)
        files[1].write_text(json.dumps(self.tokenizer_config(model_max_length), indent=2) + "\n")
        files[2].write_text(json.dumps(self.special_tokens_map(), indent=2) + "\n")
        return files

    def to_hf(self, *, model_max_length: int | None = None):
        """A ``transformers.PreTrainedTokenizerFast`` (needs ``transformers``)."""
        import tempfile

        try:
            from transformers import PreTrainedTokenizerFast
        except ImportError:  # pragma: no cover - optional dependency
            raise ValueError("to_hf needs transformers: pip install 'mazebench[hf]'") from None
        with tempfile.TemporaryDirectory() as tmp:
            self.save(tmp, model_max_length=model_max_length)
            return PreTrainedTokenizerFast.from_pretrained(tmp)


def _flatten(ids, offsets) -> tuple[np.ndarray, np.ndarray]:
    if offsets is not None:
        return np.ascontiguousarray(ids, dtype=np.int64).ravel(), np.asarray(offsets, np.int64)
    if isinstance(ids, np.ndarray) and ids.ndim == 2:
        n, m = ids.shape
        return np.ascontiguousarray(ids, dtype=np.int64).ravel(), np.arange(n + 1) * m
    rows = [np.asarray(r, dtype=np.int64).ravel() for r in ids]
    off = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([r.shape[0] for r in rows], out=off[1:])
    flat = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    return flat, off


def tokenizer_for(dataset_or_dir, dialect: str | None = None, split: str | None = None
                  ) -> MazeTokenizer:
    """The tokenizer of a dataset: its grid size (all splits must share it) and ``dialect``
    (default: the profile dialect of the first split)."""
    from ..datasets.load import Dataset

    data = dataset_or_dir if isinstance(dataset_or_dir, Dataset) else Dataset(dataset_or_dir)
    specs = data.manifest["recipe"]["splits"]
    if split is not None:
        data.shard_paths(split)
        specs = [s for s in specs if s["name"] == split]
    sizes = {(int(s["maze"]["height"]), int(s["maze"]["width"])) for s in specs}
    if len(sizes) != 1:
        listed = ", ".join(f"{w}x{h}" for h, w in sorted(sizes))
        raise ValueError(f"splits have several grid sizes ({listed}): pass --split")
    (h, w), = sizes
    return MazeTokenizer(dialect or specs[0]["profile"]["dialect"], h, w)
