"""Recipes: matrices, difficulty bins, budgets, shipped suites, acceptance kernel."""

from __future__ import annotations

import numpy as np
import pytest
import tomllib
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from mazebench.cli import main
from mazebench.datasets.builder import build_dataset
from mazebench.datasets.dedupe import Decider, KeySet
from mazebench.datasets.load import load
from mazebench.datasets.recipe import available_suites, load_recipe, parse_recipe
from mazebench.datasets.shard_summary import ValueCounts


def _recipe(text: str):
    return parse_recipe(tomllib.loads(text), source="t.toml")


def test_matrix_expands_with_systematic_names():
    r = _recipe("""
[suite]
seed = 1
[splits.train]
family = "wilson"
count = 5
[matrix.ood]
family = ["wilson", "obstacles"]
size = ["20x20", "40x10"]
loops = [0.0, 0.25]
profile = ["beyond-semantics", "astar-high-g"]
count = 3
placement = "uniform"
[matrix.ood.params.obstacles]
density = [0.2, 0.35]
""")
    names = [s.name for s in r.splits]
    assert names[0] == "train"
    assert len(names) == 1 + 2 * 2 * 2 + 2 * 2 * 2 * 2
    spec = {s.name: s for s in r.splits}
    s = spec["ood_obstacles_40x10_density0p35_loops0p25_astar-high-g"]
    assert (s.maze.width, s.maze.height) == (40, 10)
    assert s.maze.params == {"density": 0.35} and s.maze.loops == 0.25
    assert s.profile.name == "astar-high-g" and s.maze.placement == "uniform" and s.count == 3
    assert spec["ood_wilson_20x20_loops0_beyond-semantics"].maze.params == {}


@pytest.mark.parametrize(
    "text, message",
    [
        ('[matrix.m]\nfamily = ["wilson"]\ncount = 2\nsize = ["20by20"]\n', "size = '20by20'"),
        ('[matrix.m]\nfamily = ["wilson"]\ncount = 2\ncolour = 1\n', "unknown key 'colour'"),
        ('[matrix.m]\nfamily = ["wilson"]\ncount = 2\nparams = { density = [0.1] }\n',
         "params must map a family"),
        ('[matrix.m]\nfamily = ["wilson"]\ncount = 2\n[matrix.m.params.obstacles]\n'
         'density = [0.1]\n', "params.obstacles names a family not in"),
        ('[splits.a]\nfamily = "wilson"\ncount = 4\ndifficulty = { bins = [5, 5] }\n',
         "strictly increasing"),
        ('[splits.a]\nfamily = "wilson"\ncount = 4\n'
         'difficulty = { metric = "len", bins = [0, 9] }\n', "difficulty metric = 'len'"),
        ('[splits.a]\nfamily = "wilson"\ncount = 4\ndifficulty = { bins = [0, 9], x = 1 }\n',
         "unknown key 'x'"),
        ('[splits.a]\nfamily = "wilson"\ncount = 4\ncandidate_budget = 0\n', "candidate_budget"),
        ('[splits.m_wilson]\nfamily = "wilson"\ncount = 2\n[matrix.m]\nfamily = "wilson"\n'
         'count = 2\n', "declared twice"),
    ],
)
def test_recipe_errors_are_one_line(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    result = CliRunner().invoke(main, ["generate", str(path), "-o", str(tmp_path / "o")])
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1


LADDER = """
[suite]
name = "ladder"
seed = 5
height = 13
width = 17
shard_size = 16

[splits.ladder]
family = "wilson"
count = 43
difficulty = { metric = "n_events", bins = [0, 40, 80, 160, 400] }

[splits.tokens]
family = "obstacles"
count = 20
params = { density = 0.25 }
placement = "uniform"
profile = "searchformer"
difficulty = { metric = "trace_tokens", bins = [0, 200, 600] }
"""


def test_difficulty_bins_equal_counts_and_deterministic(tmp_path):
    recipe = _recipe(LADDER)
    build_dataset(recipe, tmp_path / "a", workers=1, card_images=False)
    build_dataset(recipe, tmp_path / "b", workers=2, card_images=False)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.parquet"))
    assert files_a == sorted(
        p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.parquet")
    )
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    data = load(tmp_path / "a")
    ev = np.array(data.table("ladder", ["n_events"]).column(0).to_pylist())
    counts, _ = np.histogram(ev, bins=[0, 40, 80, 160, 400])
    assert counts.tolist() == [11, 11, 11, 10]  # 43 rows: the first 43 % 4 bins get one more
    tok = np.array(data.table("tokens", ["trace_tokens"]).column(0).to_pylist())
    assert np.histogram(tok, bins=[0, 200, 600])[0].tolist() == [10, 10]
    assert data.table("tokens", ["profile"]).column(0).to_pylist()[0] == "searchformer"
    # accepted rows are the first candidates (in index order) that fit a non-full bin
    index = data.table("ladder", ["index"]).column(0).to_pylist()
    assert index == sorted(index)


def test_unfillable_bin_names_split_bin_and_count(tmp_path):
    text = LADDER.replace("bins = [0, 40, 80, 160, 400]", "bins = [0, 40, 5000, 6000]")
    text = text.replace("count = 43", "count = 9\ncandidate_budget = 2")
    with pytest.raises(ValueError) as info:
        build_dataset(_recipe(text), tmp_path / "d", card_images=False)
    message = str(info.value)
    assert "split 'ladder'" in message and "bin 2 [5000, 6000)" in message
    assert "has 0 of 3 rows after 1000 candidates" in message
    assert "\n" not in message


def test_exhausted_split_reports_duplicates(tmp_path):
    # a 3x3 empty grid has 9 * 8 = 72 distinct start/goal pairs
    text = """
[splits.tiny]
family = "free_space"
height = 3
width = 3
count = 80
placement = "uniform"
candidate_budget = 20
"""
    with pytest.raises(ValueError, match=r"split 'tiny': only 72 of 80 rows after 1600 candidates"):
        build_dataset(_recipe(text), tmp_path / "d", card_images=False)


def test_shipped_suites_parse_with_their_counts():
    suites = set(available_suites())
    assert {"default", "beyond-semantics", "beyond-semantics-upstream", "performative-thinking",
            "searchformer", "ood-grid", "difficulty-ladder"} <= suites
    bs = {s.name: s for s in load_recipe("beyond-semantics").splits}
    assert bs["train"].count == 50000 and bs["train"].maze.family == "wilson"
    for fam in ("kruskal", "dfs", "drunkards_walk", "searchformer", "cellular_automata"):
        assert bs[f"test_{fam}"].count == 1000 and bs[f"test_{fam}"].maze.family == fam
        assert bs[f"test_{fam}"].profile.name == "beyond-semantics"
        assert bs[f"test_{fam}"].maze.placement == "family"
    sf = load_recipe("searchformer")
    counts = {s.name: s.count for s in sf.splits}
    assert counts["train"] == 9 * counts["test"]
    assert {s.profile.name for s in sf.splits} == {"searchformer"}
    assert {(s.maze.family, s.maze.height, s.maze.width) for s in sf.splits} == {
        ("searchformer", 30, 30)
    }
    grid = load_recipe("ood-grid")
    sizes = {(s.maze.width, s.maze.height) for s in grid.splits}
    assert (50, 25) in sizes and len(grid.splits) > 40
    ladder = load_recipe("difficulty-ladder")
    assert all(s.difficulty is not None for s in ladder.splits)


@pytest.mark.parametrize("suite", ["beyond-semantics", "beyond-semantics-upstream",
                                   "performative-thinking", "searchformer", "ood-grid",
                                   "difficulty-ladder"])
def test_shipped_suites_build_scaled(suite, tmp_path):
    recipe = load_recipe(suite).scaled(0.002)
    manifest = build_dataset(recipe, tmp_path / suite, workers=2, card_images=False)
    assert all(info["rows"] == s.count for s, info in zip(recipe.splits,
                                                           manifest["splits"].values()))


def test_searchformer_split_has_no_layout_in_both(tmp_path):
    recipe = load_recipe("searchformer").scaled(0.0006)  # 54 train, 6 test
    build_dataset(recipe, tmp_path / "sf", card_images=False)
    data = load(tmp_path / "sf")
    train = set(data.table("train", ["layout_hash"]).column(0).to_pylist())
    test = set(data.table("test", ["layout_hash"]).column(0).to_pylist())
    assert len(train) == 54 and len(test) == 6 and not train & test
    plan = data.table("test", ["plan_length"]).column(0).to_pylist()
    assert min(plan) >= 30  # the searchformer family keeps plans of >= max(H, W) cells


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 30), st.integers(0, 12), st.integers(0, 99)), max_size=300),
    st.integers(1, 50),
    st.booleans(),
)
def test_decider_matches_python_reference(stream, need, use_bins):
    earlier_py = {3, 7}
    earlier = KeySet()
    earlier.add(np.array(sorted(earlier_py), dtype=np.uint64))
    edges = [0, 20, 50, 90] if use_bins else None
    quota = [need // 3 + 1, need // 3, need // 3 + 2] if use_bins else None
    dec = Decider(earlier, edges, quota)
    p = np.array([s[0] for s in stream], dtype=np.uint64)
    lay = np.array([s[1] for s in stream], dtype=np.uint64)
    m = np.array([s[2] for s in stream], dtype=np.int64)
    got, start = [], 0
    while start < len(stream):
        acc, start = dec.decide(p, lay, m, start, need)
        got += acc.tolist()
    seen, have, want = set(), [0, 0, 0], []
    for i, (pk, lk, v) in enumerate(stream):
        if pk in seen or lk in earlier_py:
            continue
        if use_bins:
            b = next((k for k in range(3) if edges[k] <= v < edges[k + 1]), -1)
            if b < 0 or have[b] >= quota[b]:
                continue
            have[b] += 1
        seen.add(pk)
        want.append(i)
    assert got == want


def test_keyset_grows_and_counts():
    ks = KeySet()
    keys = np.arange(0, 50000, 3, dtype=np.uint64)
    ks.add(keys)
    ks.add(keys[:100])
    assert len(ks) == len(keys)
    assert ks.contains(keys).all() and not ks.contains(keys + 1).any()


def test_streaming_quantiles_match_numpy():
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 1000):
        values = rng.integers(0, 40, n)
        counts = ValueCounts()
        for chunk in np.array_split(values, 3):
            counts.merge(ValueCounts(chunk))
        for q in (0.0, 0.1, 0.5, 0.9, 1.0):
            assert counts.quantile(q) == pytest.approx(np.quantile(values, q))
        assert counts.mean() == pytest.approx(values.mean())
