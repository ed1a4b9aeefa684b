"""End-to-end tests of the evaluator: baselines -> predictions -> report (issue 5)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import scipy.stats
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mazebench
from mazebench.cli import main
from mazebench.datasets.builder import build_dataset
from mazebench.datasets.load import example_from_row
from mazebench.datasets.packed import TRACE_DTYPE, decode_value
from mazebench.datasets.recipe import load_recipe
from mazebench.evaluate import ERROR_KINDS
from mazebench.evaluate import parse as parse_completion
from mazebench.evaluate.baseline import KINDS, derangement, write_baseline
from mazebench.evaluate.predictions import default_vocab, load_vocab, read_predictions
from mazebench.evaluate.report import evaluate_predictions, write_report

RECIPE = """
[suite]
name = "evaltiny"
seed = 5
height = 12
width = 12
shard_size = 25

[splits.train]
family = "wilson"
count = 41

[splits.test_sf]
family = "free_space"
count = 14
height = 9
width = 14
placement = "uniform"
profile = "searchformer"

[splits.test_dijkstra]
family = "kruskal"
count = 9
profile = "dijkstra"
"""
FAST = {"n_boot": 20}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("evaldata")
    recipe = root / "tiny.toml"
    recipe.write_text(RECIPE)
    build_dataset(load_recipe(recipe), root / "ds")
    return root / "ds"


@pytest.fixture(scope="module")
def preds(data, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("preds")
    out = {}
    for kind in KINDS:
        out[kind] = root / f"{kind}.jsonl"
        write_baseline(data, kind, out[kind], seed=3)
    return out


def _rows(data: Path) -> dict[str, dict]:
    ds = mazebench.load(data)
    rows = {}
    for split in ds.splits:
        for row in ds.table(split).to_pylist():
            rows[row["id"]] = row
    return rows


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _events(row: dict) -> list[tuple]:
    return decode_value(row["trace"], TRACE_DTYPE).tolist()


def _parsed_events(text: str, dialect: str) -> list[tuple]:
    p = parse_completion(text, dialect)
    return list(zip(p.op.tolist(), p.x.tolist(), p.y.tolist(), p.g.tolist(), p.h.tolist()))


def _dialect(split: str) -> str:
    return "searchformer" if split == "test_sf" else "beyond-semantics"


def test_dataset_is_solvable(data):
    # the expectations below assume every problem has a path (free space and perfect mazes)
    assert all(r["solvable"] for r in _rows(data).values())


def test_ground_truth_is_perfect(data, preds):
    ev = evaluate_predictions(data, preds["ground-truth"], **FAST)
    rep = ev.report
    assert rep["predictions"]["evaluated"] == len(_rows(data)) == 64
    assert set(rep["splits"]) == {"train", "test_sf", "test_dijkstra"}
    assert rep["options"]["dialects"]["test_sf"] == "searchformer"
    for g in [rep["overall"], *rep["splits"].values()]:
        assert g["plan_validity"] == g["trace_validity"] == g["exact_trace_match"] == 1.0
        assert g["plan_optimality"] == 1.0 and g["swc"] == 1.0 and g["ilr_solved"] == 1.0
        assert g["runaway"]["rate"] == 0.0 and g["runaway"]["hit_max_tokens"] is None
        assert g["first_error_histogram"]["none"] == g["n"]
        assert g["validity_table"]["counts"] == [[g["n"], 0], [0, 0]]
        assert g["coverage"] == 1.0
        lvd = g["length_vs_difficulty"]
        assert lvd["events"]["length_ratio"]["mean"] == pytest.approx(1.0)
        assert lvd["tokens"]["correlations"]["pearson"]["estimate"] == pytest.approx(1.0)
        assert g["confidence"] is None and g["selection"] is None
    # DESIGN.md's API: the package itself is callable
    same = mazebench.evaluate(data, preds["ground-truth"], **FAST).report
    assert json.dumps(same, sort_keys=True, default=str) == json.dumps(rep, sort_keys=True,
                                                                        default=str)


def test_swapped_keeps_plans_and_breaks_traces(data, preds):
    rows = _rows(data)
    lines = _lines(preds["swapped"])
    for line in lines:
        row = rows[line["id"]]
        events = _parsed_events(line["completion"], _dialect(row["split"]))
        assert events != _events(row)
        donors = [r for r in rows.values() if r["split"] == row["split"] and r is not row]
        assert any(events == _events(d) for d in donors)  # another problem's own trace
    rep = evaluate_predictions(data, preds["swapped"], **FAST).report
    assert rep["overall"]["plan_validity"] == 1.0
    assert rep["overall"]["trace_validity"] <= 0.05
    assert rep["overall"]["exact_trace_match"] == 0.0


def test_derangement_has_no_fixed_point():
    rng = np.random.default_rng(0)
    for n in (2, 3, 10, 100):
        perm = derangement(n, rng)
        assert sorted(perm.tolist()) == list(range(n))
        assert not (perm == np.arange(n)).any()
    with pytest.raises(ValueError, match="at least 2"):
        derangement(1, rng)


def test_truncated_flags_goal_not_closed(data, preds):
    rows = _rows(data)
    for line in _lines(preds["truncated"]):
        row = rows[line["id"]]
        events = _parsed_events(line["completion"], _dialect(row["split"]))
        full = _events(row)
        assert 1 <= len(events) < len(full) and events == full[: len(events)]
    ev = evaluate_predictions(data, preds["truncated"], **FAST)
    g = ev.report["overall"]
    assert g["plan_validity"] == 1.0 and g["trace_validity"] == 0.0
    assert g["first_error_histogram"]["goal_not_closed"] == g["n"]
    assert g["error_counts"]["goal_not_closed"] == g["n"]
    assert g["length_vs_difficulty"]["events"]["length_ratio"]["mean"] < 1.0
    # the same cut points for the same seed, different ones for another seed
    again = data.parent / "t2.jsonl"
    write_baseline(data, "truncated", again, seed=3)
    assert again.read_bytes() == preds["truncated"].read_bytes()
    write_baseline(data, "truncated", again, seed=4)
    assert again.read_bytes() != preds["truncated"].read_bytes()


def test_greedy_is_the_greedy_solver(data, preds):
    rows = _rows(data)
    train = [line for line in _lines(preds["greedy"]) if line["id"].startswith("train-")]
    for line in train[:12]:
        ex = example_from_row(rows[line["id"]])
        sol = mazebench.solve(ex.problem, "greedy")
        assert _parsed_events(line["completion"], "beyond-semantics") == list(
            zip(*(a.tolist() for a in (sol.trace.op, sol.trace.x, sol.trace.y, sol.trace.g,
                                       sol.trace.h)))
        )
        p = parse_completion(line["completion"])
        assert p.plan_x.tolist() == sol.plan.x.tolist()
    g = evaluate_predictions(data, preds["greedy"], **FAST).report["overall"]
    assert g["plan_validity"] == 1.0


def test_random_walk_is_plausible(data, preds):
    rows = _rows(data)
    ev = evaluate_predictions(data, preds["random-walk"], **FAST)
    o = ev.outcomes
    gt = ev.truth("n_events")
    assert (o["n_events"] <= gt).all() and (o["n_events"] > 0).all()
    # a plan, when there is one, follows real parent links from start to goal
    assert o["plan_valid"][~o["no_plan"]].all()
    g = ev.report["overall"]
    for kind in ("malformed", "unknown_token", "out_of_bounds", "wall", "create_closed",
                 "create_not_improving"):
        assert g["error_counts"][kind] == 0
    for line in _lines(preds["random-walk"]):
        row = rows[line["id"]]
        p = parse_completion(line["completion"], _dialect(row["split"]))
        walls = np.unpackbits(np.frombuffer(row["walls"], np.uint8),
                              count=row["height"] * row["width"]).reshape(row["height"], -1)
        assert not walls[p.y, p.x].any()  # every event on a floor cell
        assert (p.h == np.abs(p.x - row["goal_x"]) + np.abs(p.y - row["goal_y"])).all()


def test_report_files_and_documented_keys(data, preds, tmp_path):
    ev = evaluate_predictions(data, preds["swapped"], max_tokens=400, **FAST)
    paths = write_report(ev, tmp_path / "rep")
    files = {p.name for p in (tmp_path / "rep").iterdir()}
    assert {"report.json", "report.md", "validity_by_bin.png", "first_errors.png",
            "scatter_train.png", "scatter_test_sf.png", "scatter_test_dijkstra.png"} <= files
    assert all(Path(p).stat().st_size > 1000 for p in paths["plots"].values())
    rep = json.loads((tmp_path / "rep" / "report.json").read_text())
    schema = rep["schema"]
    top = {k for k in schema if "." not in k}
    assert set(rep) == top
    group_keys = {k.split(".", 1)[1] for k in schema if k.startswith("GROUP.")}
    measure_keys = {k.split(".", 1)[1] for k in schema if k.startswith("MEASURE.")}
    for g in [rep["overall"], *rep["splits"].values()]:
        assert set(g) == group_keys
        assert set(g["length_vs_difficulty"]) == {"events", "tokens", "plan_length",
                                                  "closed_cells", "branch_jumps"}
        for m in g["length_vs_difficulty"].values():
            assert set(m) == measure_keys
            assert sum(b["count"] for b in m["bins"]) == g["n"]
        assert g["runaway"]["hit_max_tokens"] is not None
    lines = pq.read_table(tmp_path / "rep" / "lines.parquet").to_pydict()
    assert lines["id"] == [x["id"] for x in _lines(preds["swapped"])]
    assert lines["line"] == list(range(1, rep["overall"]["n"] + 1))
    assert set(lines["first_error"]) <= set(ERROR_KINDS) and lines["plan_valid"] == [True] * 64
    gt = _rows(data)
    assert lines["gt_events"] == [len(decode_value(gt[i]["trace"], TRACE_DTYPE))
                                  for i in lines["id"]]
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "## Summary" in md and "| overall |" in md and "scatter_train.png" in md


def test_statistics_match_scipy(data, preds):
    ev = evaluate_predictions(data, preds["truncated"], seed=7, **FAST)
    o = ev.outcomes
    x, y = ev.truth("trace_tokens"), o["trace_tokens"]
    corr = ev.report["overall"]["length_vs_difficulty"]["tokens"]["correlations"]
    assert corr["pearson"]["estimate"] == pytest.approx(scipy.stats.pearsonr(x, y)[0], abs=1e-9)
    assert corr["spearman"]["estimate"] == pytest.approx(
        scipy.stats.spearmanr(x, y)[0], abs=1e-9)
    assert corr["kendall"]["estimate"] == pytest.approx(
        scipy.stats.kendalltau(x, y)[0], abs=1e-9)
    assert corr["pearson"]["ci_low"] <= corr["pearson"]["estimate"] <= corr["pearson"]["ci_high"]
    # plan length against the ground truth's plan length in cells
    xs = ev.truth("plan_length")
    c2 = ev.report["overall"]["length_vs_difficulty"]["plan_length"]["correlations"]
    assert c2["pearson"]["estimate"] == pytest.approx(
        scipy.stats.pearsonr(xs, o["n_events"])[0], abs=1e-9)
    # a seeded bootstrap: same seed, same interval
    again = evaluate_predictions(data, preds["truncated"], seed=7, **FAST).report
    assert again["overall"]["length_vs_difficulty"] == ev.report["overall"][
        "length_vs_difficulty"]


def test_chunking_does_not_change_the_report(data, preds):
    a = evaluate_predictions(data, preds["random-walk"], **FAST).report
    b = evaluate_predictions(data, preds["random-walk"], chunk_lines=7, **FAST).report
    assert a["overall"] == b["overall"] and a["splits"] == b["splits"]


def test_runaway_and_max_tokens(data, preds):
    ev = evaluate_predictions(data, preds["ground-truth"], max_tokens=100, **FAST)
    o = ev.outcomes
    g = ev.report["overall"]
    assert g["runaway"]["hit_max_tokens"] == pytest.approx((o["n_tokens"] >= 100).mean())
    assert g["runaway"]["rate"] == g["runaway"]["hit_max_tokens"] > 0


def test_token_ids_logprobs_and_voting(data, preds, tmp_path):
    """Three samples per problem: the true completion as token ids with confident log-probs,
    and twice a completion whose plan is broken, with unconfident log-probs."""
    rows = _rows(data)
    vocab = {"train": default_vocab(12, 12), "test_dijkstra": default_vocab(12, 12),
             "test_sf": default_vocab(9, 14, "searchformer")}
    sure, unsure = [0.0, -12.0, -12.0], [-1.0, -1.5, -2.0]
    lines = []
    for line in _lines(preds["ground-truth"]):
        split = rows[line["id"]]["split"]
        ids = vocab[split].encode(line["completion"])
        assert (ids >= 0).all()
        lines.append({"id": line["id"], "sample": 0, "token_ids": ids.tolist(),
                      "logprobs": [sure] * len(ids)})
        bad = line["completion"].replace("plan", "plan 0 0 plan", 1)
        n_bad = len(bad.split())
        for s in (1, 2):
            lines.append({"id": line["id"], "sample": s, "completion": bad,
                          "logprobs": [unsure] * n_bad})
    path = tmp_path / "samples.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    ev = evaluate_predictions(data, path, window=64, **FAST)
    o = ev.outcomes
    g = ev.report["overall"]
    assert g["n"] == 3 * 64 and g["problems"] == 64 and g["samples_per_problem"] == 3
    assert o["trace_valid"][o["sample"] == 0].all()
    assert o["plan_valid"][o["sample"] == 0].all() and not o["plan_valid"][o["sample"] > 0].any()
    order = np.lexsort((o["sample"], o["row"]))
    assert np.allclose(o["average"][order], np.tile([8.0, 1.5, 1.5], 64))
    sel = g["selection"]
    assert sel["problems_with_several_samples"] == 64
    rules = sel["rules"]
    assert rules["majority"]["accuracy"] == 0.0  # two broken votes beat one good vote
    assert rules["weighted_average"]["accuracy"] == 1.0  # 8 > 1.5 + 1.5
    assert rules["top10_lowest_group"]["accuracy"] == 1.0
    assert rules["any_correct"]["accuracy"] == 1.0
    conf = g["confidence"]["scores"]["average"]
    assert conf["mean_plan_valid"] == pytest.approx(8.0)
    assert conf["mean_plan_invalid"] == pytest.approx(1.5)
    assert g["confidence"]["n_with_logprobs"] == 3 * 64
    assert ev.report["predictions"]["duplicates"] == 0


def test_vocab_files(tmp_path):
    toks = ["a", "create", "1", "c2"]
    (tmp_path / "list.json").write_text(json.dumps(toks))
    (tmp_path / "map.json").write_text(json.dumps({t: i for i, t in enumerate(toks)}))
    (tmp_path / "tok.json").write_text(json.dumps({"model": {"vocab": {"a": 0, "create": 1}},
                                                   "added_tokens": [{"content": "1", "id": 2},
                                                                    {"content": "c2", "id": 3}]}))
    for name in ("list.json", "map.json", "tok.json"):
        assert load_vocab(tmp_path / name).decode(np.array([1, 2, 3, 9, -1])) == (
            "create 1 c2 <|unk|> <|unk|>")
    (tmp_path / "bad.json").write_text("{\"a\": \"x\"}")
    with pytest.raises(ValueError, match="expected a JSON list"):
        load_vocab(tmp_path / "bad.json")
    assert len(default_vocab(30, 30)) == 944  # the Beyond Semantics WordLevel size
    sf = default_vocab(30, 30, "searchformer")
    assert sf.tokens[:2].tolist() == ["bos", "eos"] and "reasoning" not in sf.tokens.tolist()


GARBAGE = [
    "not json at all",
    "[1, 2, 3]",
    '{"completion": "close 1 1 c0 c0"}',
    '{"id": "train-0"}',
    '{"id": "train-0", "completion": 5}',
    '{"id": "train-0", "token_ids": [1, "a"]}',
    '{"id": "train-0", "completion": "x", "sample": -5}',
    "",
    '{"id": "nope-1", "completion": "reasoning close 1 1 c0 c0 end"}',
    '{"id": "train-1", "completion": "reasoning close 99999999999999999999 1 c0 c-1 create '
    'create plan plan 3 solution plan 1 end"}',
    '{"id": "train-2", "token_ids": [1, 2, 99999, -5, 100000000000000000000000]}',
    '{"id": "train-3", "completion": "\\u00e9\\u2003 \\ud800 x \\u0000", "logprobs": [[1, "x"]]}',
    '{"id": "train-4", "completion": "", "logprobs": [[-1, -2], [-3]]}',
    '{"id": 5, "completion": "x"}',
    '{"id": "test_sf-1", "completion": "reasoning close 3 3 c0 c0", "logprobs": []}',
    '{"id": "test_sf-2", "completion": "create 0 0 c0 c9 plan", "logprobs": [-0.5, -0.1]}',
    '{"id": "train-5", "completion": "solution plan 1 1 end", "logprobs": {"a": 1}}',
]


def test_garbage_never_crashes(data, tmp_path):
    path = tmp_path / "garbage.jsonl"
    path.write_bytes(("\n".join(GARBAGE) + "\n").encode("utf-8", "surrogatepass")
                     + b"\xff\xfe{broken utf8\n")
    ev = evaluate_predictions(data, path, **FAST)
    p = ev.report["predictions"]
    assert p["lines"] == len(GARBAGE) + 1 and p["blank"] == 1
    assert p["bad_by_reason"] == {"invalid_json": 2, "not_an_object": 1, "missing_id": 1,
                                  "missing_completion": 1, "bad_completion": 1,
                                  "bad_token_ids": 1, "bad_sample": 1}
    assert p["unknown_ids"] == 2 and p["unknown_id_examples"] == ["nope-1", "5"]
    assert p["evaluated"] == 7 and p["bad_logprobs"] == 2
    assert ev.report["overall"]["plan_validity"] == 0.0
    write_report(ev, tmp_path / "rep")
    assert (tmp_path / "rep" / "report.json").exists()


def test_no_usable_line(data, tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("garbage\n\n{}\n")
    ev = evaluate_predictions(data, path, **FAST)
    assert ev.report["overall"]["n"] == 0 and ev.report["splits"] == {}
    write_report(ev, tmp_path / "rep")
    assert json.loads((tmp_path / "rep" / "report.json").read_text())["overall"]["swc"] is None


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(
    st.text(max_size=60),
    st.builds(lambda i, t: json.dumps({"id": f"train-{i}", "completion": t}),
              st.integers(-2, 45), st.lists(st.sampled_from(
                  ["create", "close", "plan", "solution", "end", "reasoning", "1", "3", "c0",
                   "c5", "x", "-1"]), max_size=40).map(" ".join)),
    st.builds(lambda i, ids: json.dumps({"id": f"test_sf-{i}", "token_ids": ids}),
              st.integers(0, 20), st.lists(st.integers(-3, 200), max_size=40)),
), max_size=12))
def test_fuzzed_predictions_never_crash(data, tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("fuzz") / "p.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    rep = evaluate_predictions(data, path, n_boot=5).report
    p = rep["predictions"]
    assert p["lines"] == p["blank"] + p["bad"] + p["read"]
    assert p["read"] == p["evaluated"] + p["unknown_ids"]


def test_cli_baseline_and_evaluate(data, tmp_path):
    runner = CliRunner()
    pred = tmp_path / "gt.jsonl"
    res = runner.invoke(main, ["baseline", str(data), "--kind", "ground-truth", "--split",
                               "test_sf", "-o", str(pred)])
    assert res.exit_code == 0, res.output
    assert "14 predictions" in res.output
    res = runner.invoke(main, ["evaluate", str(data), str(pred), "-o", str(tmp_path / "r"),
                               "--n-boot", "10", "--split", "test_sf", "--no-plots"])
    assert res.exit_code == 0, res.output
    assert "overall" in res.output and "100.0%" in res.output
    assert (tmp_path / "r" / "report.md").exists()
    res = runner.invoke(main, ["evaluate", str(data), str(pred), "-o", str(tmp_path / "r2"),
                               "--split", "nosuch"])
    assert res.exit_code != 0 and "unknown split 'nosuch'" in res.output
    res = runner.invoke(main, ["baseline", str(data), "--kind", "swapped", "--dialect", "x",
                               "-o", str(tmp_path / "x.jsonl")])
    assert res.exit_code != 0 and "unknown dialect" in res.output
    for cmd in ("evaluate", "baseline"):
        assert "Example:" in runner.invoke(main, [cmd, "--help"]).output


def test_read_predictions_chunks(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps({"id": f"a-{i}", "completion": "x" * i}) + "\n"
                            for i in range(10)))
    chunks, stats = read_predictions(path, chunk_lines=3)
    assert [len(c) for c in chunks] == [3, 3, 3, 1]
    assert stats.read == 10 and chunks[1].line.tolist() == [4, 5, 6]
    with pytest.raises(ValueError, match="does not exist"):
        read_predictions(tmp_path / "missing.jsonl")


@pytest.mark.parametrize("kind", KINDS)
def test_baseline_file_does_not_depend_on_threads(data, tmp_path, monkeypatch, kind):
    """Blocks of a few rows made on 1 or 3 threads are written in the same order and bytes."""
    from mazebench.datasets import export

    monkeypatch.setattr(export, "BATCH_ROWS", 6)
    files = []
    for workers in (1, 3):
        out = tmp_path / f"{kind}-{workers}.jsonl"
        result = write_baseline(data, kind, out, seed=3, workers=workers)
        assert result.lines == 64
        files.append(out.read_bytes())
    assert files[0] == files[1]


def test_reference_digests_a_split_only_when_asked(data):
    """Trace digests are computed per split on first use and equal the digests of the
    dataset's own traces."""
    from mazebench.datasets.load import load
    from mazebench.datasets.packed import unpack_trace
    from mazebench.evaluate.digests import event_digests
    from mazebench.evaluate.reference import Reference

    ref = Reference(data)
    info = next(s for s in ref.splits if s.name == "test_sf")
    rows = np.arange(info.first, info.first + info.rows)
    got = ref.digests(rows[::-1])
    assert ref._digested == [s.code == info.code for s in ref.splits]
    import pyarrow as pa
    import pyarrow.parquet as pq

    paths = load(data).shard_paths("test_sf")
    table = pa.concat_tables([pq.read_table(p, columns=["trace"]) for p in paths])
    off, op, *ev = unpack_trace(table.column("trace"))
    assert np.array_equal(got, event_digests(op, *ev, off)[::-1])
