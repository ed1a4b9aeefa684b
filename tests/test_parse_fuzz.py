"""Fuzzing the tolerant parser and the validators: nothing raises, whatever the model wrote."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mazebench as mb
from mazebench.evaluate import (
    ERROR_KINDS,
    parse,
    parse_batch,
    parse_token_ids,
    token_table,
    validate,
    validate_texts,
)

PROBLEM = mb.generate_maze("kruskal", 8, 9, seed=3)
VOCAB = (
    ["create", "close", "plan", "start", "goal", "wall", "query", "reasoning", "solution", "end"]
    + ["<|bos|>", "<|eos|>", "<|pad|>", "<|unk|>", "bos", "eos"]
    + [str(i) for i in range(12)]
    + [f"c{i}" for i in range(25)]
)
JUNK = ["", "c", "c-1", "-3", "12a", "ｃ3", "close\u00a0", "9" * 25, "c" + "9" * 40]
DIALECTS = st.sampled_from(["beyond-semantics", "searchformer"])
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_parsed(p, n_tokens: int) -> None:
    assert p.n_tokens == n_tokens
    assert len(p.op) == len(p.x) == len(p.y) == len(p.g) == len(p.h) == len(p.event_pos)
    assert len(p.plan_x) == len(p.plan_y) == len(p.plan_pos)
    assert set(p.op.tolist()) <= {0, 1}
    for arr in (p.x, p.y, p.g, p.h, p.plan_x, p.plan_y):
        assert (arr >= 0).all()
    for pos in (p.event_pos, p.plan_pos, p.error_pos):
        assert ((pos >= 0) & (pos < max(n_tokens, 1))).all()
    assert 0 <= p.trace_end <= n_tokens
    assert all(k in ERROR_KINDS for k, _ in p.errors)


@FUZZ
@given(st.text(), DIALECTS)
def test_arbitrary_text_never_raises(text, dialect):
    p = parse(text, dialect)
    _check_parsed(p, len(text.split()))
    v = validate(PROBLEM, text, dialect, check_costs=True, require_optimal=True)
    assert not v.plan_valid or not v.trace_valid or text.strip()
    assert v.first_error == (v.errors[0] if v.errors else None)
    assert len(v.error_tokens) == len(v.errors)


@FUZZ
@given(st.lists(st.sampled_from(VOCAB), max_size=120), DIALECTS)
def test_token_soup_never_raises(tokens, dialect):
    text = " ".join(tokens)
    p = parse(text, dialect)
    _check_parsed(p, len(tokens))
    # the list of tokens parses exactly like the text, and so do token ids
    q = parse(tokens, dialect)
    ids = parse_token_ids([VOCAB.index(t) for t in tokens], token_table(VOCAB), dialect)
    for other in (q, ids):
        for name in ("op", "x", "y", "g", "h", "event_pos", "plan_x", "plan_pos", "error_kind",
                     "error_index", "error_pos"):  # fmt: skip
            np.testing.assert_array_equal(getattr(p, name), getattr(other, name))
    for check_costs in (False, True):
        v = validate(PROBLEM, text, dialect, check_costs)
        assert v.trace_valid == all(ERROR_KINDS.index(k) >= 16 for k, _ in v.errors)
        assert v.plan_valid == all(ERROR_KINDS.index(k) < 16 for k, _ in v.errors)


@FUZZ
@given(st.lists(st.sampled_from(VOCAB + JUNK), max_size=80), DIALECTS)
def test_token_soup_with_junk(tokens, dialect):
    p = parse(tokens, dialect)
    _check_parsed(p, len(tokens))
    text = " ".join(tokens)
    _check_parsed(parse(text, dialect), len(text.split()))
    validate(PROBLEM, tokens, dialect, check_costs=True)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=60), min_size=1, max_size=8), DIALECTS)
def test_batch_equals_single(texts, dialect):
    bv = validate_texts([PROBLEM] * len(texts), texts, dialect)
    for i, text in enumerate(texts):
        assert bv.verdict(i) == validate(PROBLEM, text, dialect)


def test_ground_truth_round_trip():
    for profile in ("beyond-semantics", "searchformer"):
        sol = mb.solve(mb.generate_maze("wilson", 30, 30, seed=5), profile)
        for text in (sol.to_text(), sol.to_parts()["reasoning"] + " " + sol.to_parts()["plan"]):
            p = parse(text, sol.profile.dialect)
            assert not p.errors
            for name in ("op", "x", "y", "g", "h"):
                np.testing.assert_array_equal(getattr(p, name), getattr(sol.trace, name))
            np.testing.assert_array_equal(p.plan_x, sol.plan.x)
            np.testing.assert_array_equal(p.plan_y, sol.plan.y)


def test_special_inputs():
    assert parse("").n_tokens == 0
    assert parse(b"close \xff\xfe 1").errors[0][0] == "malformed"
    assert parse("\ud800 close").errors == [("unknown_token", 0), ("malformed", 1)]
    assert parse("a\x1cb\u3000c").n_tokens == 3
    p = parse("<|bos|> reasoning close 1 2 c3 c4 <|pad|> solution plan 1 2 end plan 9 9 <|eos|>")
    assert not p.errors and p.op.tolist() == [1] and p.plan_x.tolist() == [1]
    big = parse("close 99999999999999999999 3 c1 c2")
    assert big.x.tolist() == [2**31 - 1]
    sf = parse("query start 1 2 reasoning close 1 2 c0 c0 end", "searchformer")
    kinds = ["unknown_token", "malformed", "unknown_token", "unknown_token"]
    assert [k for k, _ in sf.errors] == kinds
    assert len(parse_batch([]).n_tokens) == 0
    assert len(parse_batch(["close"] * 3000 + ["x " * 10]).n_tokens) == 3001
