"""Dialect writers and parsers round-trip exactly (text -> arrays -> text)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mazebench import generate_maze, solve
from mazebench.conventions.dialects import DIALECTS, get_dialect
from mazebench.mazes import FAMILIES


@settings(max_examples=60, deadline=None)
@given(
    family=st.sampled_from(sorted(FAMILIES)),
    height=st.integers(4, 40),
    width=st.integers(4, 40),
    seed=st.integers(0, 2**32),
    profile=st.sampled_from(["beyond-semantics", "searchformer", "dfs", "greedy"]),
    dialect=st.sampled_from(sorted(DIALECTS)),
)
def test_round_trip(family, height, width, seed, profile, dialect):
    problem = generate_maze(family, height, width, seed=seed, placement="uniform"
                            if family != "searchformer" else "family")
    sol = solve(problem, profile, seed=seed)
    d = get_dialect(dialect)
    text = sol.to_text(dialect)
    parsed = d.parse(text, width=width, height=height)
    assert parsed.problem == problem
    assert parsed.trace == sol.trace
    assert parsed.plan == sol.written_plan()
    assert d.text(parsed.problem, parsed.trace, parsed.plan) == text


def test_searchformer_parts_have_no_markers():
    problem = generate_maze("wilson", 10, 10, seed=1)
    parts = solve(problem, "searchformer").to_parts()
    assert parts["prompt"].startswith("start ")
    assert parts["reasoning"].startswith("create ")
    assert parts["plan"].startswith("plan ")
    assert "reasoning" not in parts["prompt"]


def test_beyond_semantics_text_layout():
    problem = generate_maze("kruskal", 9, 11, seed=4)
    text = solve(problem).to_text()
    tokens = text.split()
    assert tokens[:2] == ["query", "start"]
    assert tokens[tokens.index("reasoning") + 1] == "close"
    assert tokens[-1] == "end" and "solution" in tokens


def test_unknown_dialect():
    with pytest.raises(ValueError, match="unknown dialect 'x' \\(allowed: "):
        get_dialect("x")
