"""Dualformer levels (arXiv 2410.09918) have exactly the token structure of their definitions."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .test_ops_common import FAST, assert_round_trip, example_sets, run, solutions

LEVEL_NAMES = {"0": "L0", "1": "L1", "2": "L2", "4": "L4"}


def _sections(text: str, dialect: str) -> tuple[list[str], list[str], list[str]]:
    """(prompt, reasoning, plan) tokens of a whole example text."""
    tokens = text.split()
    if dialect == "beyond-semantics":
        r, s = tokens.index("reasoning"), tokens.index("solution")
        return tokens[:r], tokens[r + 1 : s], tokens[s + 1 : -1]
    cut = next((i for i, t in enumerate(tokens) if t in ("create", "close", "plan")), len(tokens))
    plan = next((i for i in range(cut, len(tokens)) if tokens[i] == "plan"), len(tokens))
    return tokens[:cut], tokens[cut:plan], tokens[plan:]


def _clauses(tokens: list[str]) -> list[tuple[str, ...]]:
    """Split reasoning tokens into clauses at every create/close keyword."""
    starts = [i for i, t in enumerate(tokens) if t in ("create", "close")] + [len(tokens)]
    assert not tokens or starts[0] == 0
    return [tuple(tokens[a:b]) for a, b in zip(starts, starts[1:])]


def _is_subsequence(small, big) -> bool:
    it = iter(big)
    return all(any(s == b for b in it) for s in small)


@FAST
@given(example_sets(), st.sampled_from(["0", "1", "2", "3", "4"]),
       st.sampled_from(["paper", "code"]), st.sampled_from(["beyond-semantics", "searchformer"]))
def test_levels_have_the_token_structure_of_the_definitions(data, level, l3, dialect) -> None:
    sols, profile, seed = data
    outs = run(sols, f"dualformer:level={level},l3={l3}", seed=seed, profile=profile)
    for sol, out in zip(sols, outs):
        assert out.problem == sol.problem and out.plan == sol.plan
        src_prompt, src_reason, src_plan = _sections(sol.to_text(dialect), dialect)
        prompt, reason, plan = _sections(out.to_text(dialect), dialect)
        assert prompt == src_prompt and plan == src_plan
        full = _clauses(src_reason)
        creates = [c for c in full if c[0] == "create"]
        l2 = [c[:3] for c in creates]
        got = _clauses(reason)
        m = len(creates)
        name = out.info["dualformer_level"]
        if level == "0":
            assert got == full and out.costs
        elif level == "1":
            assert got == creates and out.costs
        elif level == "2":
            assert got == l2 and not out.costs
        elif level == "4":
            assert reason == [] and len(out.trace) == 0
        elif l3 == "paper":
            assert name == "L3-paper" and not out.costs
            assert all(len(c) == 3 for c in got) and _is_subsequence(got, l2)
            assert len(got) == m - (3 * m) // 10
        else:
            assert name == "L3-code" and out.costs
            assert all(len(c) == 5 for c in got) and _is_subsequence(got, creates)
            assert any(len(got) == m - (p * m) // 100 for p in range(10, 41))
        if level in LEVEL_NAMES:
            assert name == LEVEL_NAMES[level]
        assert_round_trip(out)


def test_mixture_follows_the_weights_and_redraws_per_epoch() -> None:
    sols = solutions(400, seed=9, size=5, families=("free_space", "drunkards_walk"))
    spec = "dualformer:level=mix,p0=0.1,p1=0.2,p2=0,p3=0.3,p4=0.4"
    outs = run(sols, spec + ",epoch=0", seed=5, profile="searchformer")
    levels = Counter(o.info["dualformer_level"] for o in outs)
    assert levels["L2"] == 0
    for name, weight in (("L0", 0.1), ("L1", 0.2), ("L3-paper", 0.3), ("L4", 0.4)):
        assert abs(levels[name] / 400 - weight) < 0.08, (name, levels)
    same = run(sols, spec + ",epoch=0", seed=5, profile="searchformer")
    other = run(sols, spec + ",epoch=1", seed=5, profile="searchformer")
    assert [o.info["dualformer_level"] for o in same] == [o.info["dualformer_level"] for o in outs]
    assert [o.info["dualformer_level"] for o in other] != [
        o.info["dualformer_level"] for o in outs]


def test_mixture_needs_a_weight() -> None:
    with pytest.raises(ValueError, match="positive weight"):
        run(solutions(2, seed=1), "dualformer:p0=0,p1=0,p2=0,p3=0,p4=0", seed=0,
            profile="searchformer")
