"""Word-level vocabularies of the token dialects, id for id as upstream builds them.

* ``beyond-semantics`` (arXiv 2505.13775, the authors' training code): ``c0 .. c{H*W-1}``, then
  ``0 .. max(H, W)-1``, then ``start goal wall create close plan query reasoning solution end``,
  then the special tokens ``<|pad|> <|unk|> <|bos|> <|eos|>``, numbered in that order (944 tokens
  at 30 x 30). An example is ``<|bos|> text <|eos|>``; the prompt is everything before
  ``reasoning``.
* ``searchformer`` (arXiv 2402.14083, ``SimpleMazeTokenizer`` + ``DictTokenizer``): the words
  ``0 .. max(W, H)-1``, ``c0 .. c{W*H-1}``, ``start goal wall create close plan`` sorted as Python
  strings, after ``bos`` (id 0) and ``eos`` (id 1); no pad and no unknown token. Encoder input
  ``bos prompt eos``, decoder target ``bos reasoning plan eos``.

The ``compact`` dialect writes one token per event (``+X,Y,G,H``), so it has no word-level
vocabulary of bounded size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

BS_MARKERS = ("start", "goal", "wall", "create", "close", "plan", "query", "reasoning",
              "solution", "end")
BS_SPECIALS = ("<|pad|>", "<|unk|>", "<|bos|>", "<|eos|>")
SF_WORDS = ("start", "goal", "wall", "create", "close", "plan")
DIALECTS = ("beyond-semantics", "searchformer")
MAX_SIDE = 4096


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """The tokens of one dialect and grid size, in id order, with the role of each special.

    ``pad``, ``unk``, ``bos``, ``eos`` are token strings or None (the upstream Searchformer
    vocabulary has no pad and no unknown token). ``specials`` are the tokens registered as special
    (added) tokens: they are matched anywhere in a text, even glued to a word (``end<|eos|>``).
    """

    dialect: str
    height: int
    width: int
    tokens: tuple[str, ...]
    pad: str | None
    unk: str | None
    bos: str
    eos: str
    specials: tuple[str, ...]
    ids: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", {t: i for i, t in enumerate(self.tokens)})

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def side(self) -> int:
        """Coordinates are the words ``0 .. side-1``."""
        return max(self.height, self.width)

    def id_of(self, token: str | None) -> int:
        """The id of a token, -1 for None."""
        return -1 if token is None else self.ids[token]

    @property
    def pad_id(self) -> int:
        return self.id_of(self.pad)

    @property
    def unk_id(self) -> int:
        return self.id_of(self.unk)

    @property
    def bos_id(self) -> int:
        return self.ids[self.bos]

    @property
    def eos_id(self) -> int:
        return self.ids[self.eos]

    def number_ids(self) -> np.ndarray:
        """``out[n]`` = id of the word ``str(n)`` for ``n < side``."""
        return np.array([self.ids[str(n)] for n in range(self.side)], dtype=np.int32)

    def cost_ids(self) -> np.ndarray:
        """``out[k]`` = id of ``c{k}`` for ``k < height * width``."""
        return np.array([self.ids[f"c{k}"] for k in range(self.height * self.width)],
                        dtype=np.int32)

    def special_mask(self) -> np.ndarray:
        """True for the ids of special tokens."""
        mask = np.zeros(len(self.tokens), dtype=np.bool_)
        for tok in self.specials:
            mask[self.ids[tok]] = True
        return mask


def _check(dialect: str, height: int, width: int) -> None:
    if dialect == "compact":
        raise ValueError(
            "dialect 'compact' has no word-level vocabulary "
            f"(allowed: {', '.join(DIALECTS)})"
        )
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r} (allowed: {', '.join(DIALECTS)})")
    for name, v in (("height", height), ("width", width)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 1 <= v <= MAX_SIDE:
            raise ValueError(f"{name} = {v!r} must be an integer in [1, {MAX_SIDE}]")


def vocabulary(dialect: str, height: int = 30, width: int = 30) -> Vocabulary:
    """The upstream vocabulary of ``dialect`` for ``height`` x ``width`` grids."""
    _check(dialect, height, width)
    height, width = int(height), int(width)
    side = max(height, width)
    if dialect == "beyond-semantics":
        tokens = (
            [f"c{i}" for i in range(width * height)]
            + [str(i) for i in range(side)]
            + list(BS_MARKERS)
            + list(BS_SPECIALS)
        )
        pad, unk, bos, eos = BS_SPECIALS
        return Vocabulary(dialect, height, width, tuple(tokens), pad, unk, bos, eos, BS_SPECIALS)
    words = sorted(
        [str(i) for i in range(side)] + [f"c{i}" for i in range(width * height)] + list(SF_WORDS)
    )
    return Vocabulary(dialect, height, width, tuple(["bos", "eos"] + words), None, None, "bos",
                      "eos", ("bos", "eos"))
