"""Tokenizers: upstream vocabularies, numba encode/decode against Hugging Face, length stats."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mazebench.datasets.builder import build_dataset
from mazebench.datasets.export import SplitReader, batch_arrays
from mazebench.datasets.load import Dataset
from mazebench.datasets.recipe import parse_recipe
from mazebench.datasets.text import render, to_string_array
from mazebench.training.lengths import length_stats
from mazebench.training.tokenizer import MazeTokenizer, tokenizer_for
from mazebench.training.vocab import vocabulary


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("tok") / "data"
    recipe = parse_recipe({
        "suite": {"name": "t", "seed": 5, "height": 8, "width": 9, "shard_size": 40},
        "splits": {"train": {"family": "wilson", "count": 60},
                   "ca": {"family": "cellular_automata", "count": 40},
                   "sf": {"family": "searchformer", "count": 20, "profile": "searchformer"}},
    })
    build_dataset(recipe, out, card_images=False)
    return out


def _upstream_bs_vocab(width: int, height: int) -> list[str]:
    # the authors' return_vocabulary() + special tokens, as quoted in the reference notes
    v = [f"c{i}" for i in range(width * height)] + [str(i) for i in range(max(width, height))]
    v += ["start", "goal", "wall", "create", "close", "plan", "query", "reasoning", "solution",
          "end"]
    return v + ["<|pad|>", "<|unk|>", "<|bos|>", "<|eos|>"]


def test_beyond_semantics_vocabulary_is_upstream():
    v = vocabulary("beyond-semantics", 30, 30)
    assert len(v) == 944
    assert list(v.tokens) == _upstream_bs_vocab(30, 30)
    assert (v.pad_id, v.unk_id, v.bos_id, v.eos_id) == (940, 941, 942, 943)
    assert list(vocabulary("beyond-semantics", 12, 25).tokens) == _upstream_bs_vocab(25, 12)


def test_searchformer_vocabulary_is_upstream():
    # SimpleMazeTokenizer words, sorted as strings, after bos and eos (DictTokenizer)
    v = vocabulary("searchformer", 10, 10)
    words = [str(i) for i in range(10)] + [f"c{i}" for i in range(100)]
    words += ["start", "goal", "wall", "create", "close", "plan"]
    assert list(v.tokens) == ["bos", "eos"] + sorted(words)
    assert v.tokens.index("0") == 2 and v.tokens[-1] == "wall"
    assert v.pad is None and v.unk is None and len(v) == 118


@pytest.mark.parametrize("dialect", ["compact", "nope"])
def test_bad_dialect(dialect):
    with pytest.raises(ValueError, match="dialect"):
        MazeTokenizer(dialect, 10, 10)


def test_hf_json_equals_upstream_construction():
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    vocab = _upstream_bs_vocab(7, 6)
    specials = vocab[-4:]
    ref = tokenizers.Tokenizer(WordLevel(vocab={t: i for i, t in enumerate(vocab)},
                                         unk_token="<|unk|>"))
    ref.pre_tokenizer = Whitespace()
    ref.add_special_tokens(specials)
    ref.enable_padding(pad_id=vocab.index("<|pad|>"), pad_token="<|pad|>")
    assert MazeTokenizer("beyond-semantics", 6, 7).hf_json() == json.loads(ref.to_str())


def _texts(tiny, split, dialect):
    data = Dataset(tiny)
    reader = SplitReader(data, split)
    batch = data.table(split).combine_chunks().to_batches()[0]
    rows = batch_arrays(batch, reader.height, reader.width)
    un = reader.unsolved_plan(rows)
    args = (rows.walls, rows.sg, rows.ev_off, rows.ev, rows.pl_off, rows.pl, un)
    p = to_string_array(*render("prompt", dialect, *args)).to_pylist()
    c = to_string_array(*render("completion", dialect, *args)).to_pylist()
    return rows, un, p, c


@pytest.mark.parametrize("split,dialect", [("train", "beyond-semantics"),
                                           ("ca", "beyond-semantics"), ("sf", "searchformer"),
                                           ("train", "searchformer")])
def test_rows_encode_like_hf_tokenizer_on_text(tiny, split, dialect):
    tokenizers = pytest.importorskip("tokenizers")
    tok = MazeTokenizer(dialect, 8, 9)
    hf = tokenizers.Tokenizer.from_str(json.dumps(tok.hf_json()))
    rows, un, prompts, completions = _texts(tiny, split, dialect)
    enc = tok.encode_rows(rows, un)
    fulls = []
    for i, (p, c) in enumerate(zip(prompts, completions)):
        full = (f"<|bos|> {p} {c} <|eos|>" if dialect == "beyond-semantics"
                else f"bos {p} eos bos {c} eos")
        fulls.append(full)
        ids = hf.encode(full).ids
        assert enc.row(i).tolist() == ids
        k = int(enc.prompt_lengths[i])
        assert tok.decode(ids[:k]).split()[-1] == ("eos" if dialect == "searchformer" else
                                                   p.split()[-1])
        assert tok.decode(ids[k:]).split()[: 2 if dialect == "searchformer" else 1] == (
            ["bos", c.split()[0]] if dialect == "searchformer" else ["reasoning"])
    # text encoder and decoder agree with the row encoder and with tokenizers
    assert tok.encode_batch(fulls).ids.tolist() == enc.ids.tolist()
    assert tok.decode_batch(enc.ids, enc.offsets) == [" ".join(f.split()) for f in fulls]
    assert tok.decode_batch(enc.ids, enc.offsets, skip_special_tokens=True)[0] == \
        hf.decode(enc.row(0).tolist())
    no_specials = tok.encode_rows(rows, un, specials=False)
    assert no_specials.row(0).tolist() == hf.encode(f"{prompts[0]} {completions[0]}").ids
    # solution-only rows: the events are left out, the rest is unchanged
    plan_only = tok.encode_rows(rows, un, trace=False)
    for i, (p, c) in enumerate(zip(prompts, completions)):
        plan = c[c.index("plan"):].removesuffix(" end")
        text = (f"<|bos|> {p} reasoning solution {plan} end <|eos|>"
                if dialect == "beyond-semantics" else f"bos {p} eos bos {plan} eos")
        assert plan_only.row(i).tolist() == hf.encode(text).ids
    assert (plan_only.prompt_lengths == enc.prompt_lengths).all()


_WORDS = st.sampled_from(["c0", "c71", "c72", "c07", "7", "8", "9", "07", "query", "plan", "end",
                          "reasoning", "<|bos|>", "<|eos|>", "<|pad|>", "<|unk|>", "<|bo",
                          "wall", "x", "_a", ",", "c", "start", "-1", "99999999999"])
_GLUE = st.sampled_from([" ", "  ", "\n", "\t", "", ",", "|", "\x0b"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_WORDS, _GLUE), max_size=20),
       st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=30))
def test_encode_batch_matches_tokenizers_on_ascii(parts, noise):
    tokenizers = pytest.importorskip("tokenizers")
    tok = _bs_8x9()
    hf = tokenizers.Tokenizer.from_str(json.dumps(tok.hf_json()))
    text = "".join(w + g for w, g in parts) + noise
    assert tok.encode(text) == hf.encode(text).ids


_CACHE: dict = {}


def _bs_8x9() -> MazeTokenizer:
    if "bs" not in _CACHE:
        _CACHE["bs"] = MazeTokenizer("beyond-semantics", 8, 9)
    return _CACHE["bs"]


def test_searchformer_unknown_word_is_a_clear_error():
    tok = MazeTokenizer("searchformer", 10, 10)
    assert tok.encode("bos start 1 2eos") == [0, tok.vocab.ids["start"], tok.vocab.ids["1"],
                                               tok.vocab.ids["2"], 1]
    with pytest.raises(ValueError, match="'query' is not in the searchformer vocabulary"):
        tok.encode_batch(["start 1 2", "query start"])


def test_decode_rejects_ids_outside_vocabulary():
    tok = MazeTokenizer("beyond-semantics", 3, 3)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tok.decode([0, len(tok)])
    assert tok.decode_batch(np.array([[0, 9], [10, 1]])) == ["c0 0", "1 c1"]


@pytest.mark.parametrize("dialect", ["beyond-semantics", "searchformer"])
def test_transformers_loads_saved_tokenizer(tmp_path, dialect):
    transformers = pytest.importorskip("transformers")
    tok = MazeTokenizer(dialect, 30, 30)
    tok.save(tmp_path / "tok")
    text = "start 3 4 goal 5 6 wall 0 0 create 3 4 c0 c4 plan 3 4"
    for cls in (transformers.PreTrainedTokenizerFast, transformers.AutoTokenizer):
        hf = cls.from_pretrained(tmp_path / "tok")
        assert len(hf) == len(tok)
        assert (hf.bos_token, hf.eos_token) == (tok.vocab.bos, tok.vocab.eos)
        assert hf.bos_token_id == tok.vocab.bos_id and hf.eos_token_id == tok.vocab.eos_id
        assert hf.pad_token_id == tok.pad_id
        assert hf(text)["input_ids"] == tok.encode(text)
        assert hf.decode(tok.encode(text)) == text
    if dialect == "beyond-semantics":
        assert hf.unk_token == "<|unk|>" and hf.unk_token_id == 941
    chat = hf.apply_chat_template([{"role": "user", "content": "start 1 2 goal 3 4"},
                                   {"role": "assistant", "content": "plan 1 2"}], tokenize=False)
    expected = {"beyond-semantics": "<|bos|> start 1 2 goal 3 4 plan 1 2 <|eos|>",
                "searchformer": "bos start 1 2 goal 3 4 eos bos plan 1 2 eos"}[dialect]
    assert chat == expected
    only = tok.save(tmp_path / "single.json")
    assert [p.name for p in only] == ["single.json"]


def test_length_stats_match_encoded_lengths(tiny):
    stats = length_stats(tiny, "beyond-semantics", context=150)
    data = Dataset(tiny)
    for split in data.splits:
        rows, un, _, _ = _texts(tiny, split, "beyond-semantics")
        enc = _bs_8x9().encode_rows(rows, un)
        lengths = enc.lengths
        s = stats[split]
        assert s["rows"] == len(lengths)
        assert s["total"]["max"] == lengths.max() and s["total"]["min"] == lengths.min()
        assert s["prompt"]["max"] == enc.prompt_lengths.max()
        assert s["completion"]["p50"] == int(np.quantile(lengths - enc.prompt_lengths, 0.5,
                                                         method="higher"))
        assert s["over_context"] == round(float((lengths > 150).mean()), 4)


def test_tokenizer_for_dataset(tiny):
    tok = tokenizer_for(tiny)
    assert (tok.dialect, tok.height, tok.width) == ("beyond-semantics", 8, 9)
    assert tokenizer_for(tiny, split="sf").dialect == "searchformer"
