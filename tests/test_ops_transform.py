"""``mazebench transform`` and :func:`mazebench.ops.transform_dataset` on dataset directories:
layout, provenance, manifest, determinism (same seed, same bytes; independent of batches and
workers), the text column and the CLI's errors."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet  # noqa: F401 - pa.parquet
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import mazebench
from mazebench.cli import main
from mazebench.conventions.dialects import get_dialect
from mazebench.datasets.export import export_dataset
from mazebench.datasets.packed import TRACE_DTYPE, row_lengths
from mazebench.ops import (
    apply_steps,
    batch_from_table,
    bind,
    parse_chain,
    table_from_batch,
    transform_dataset,
)
from mazebench.ops.chain import chain_columns, chain_spec
from mazebench.ops.text import example_text
from mazebench.search.profiles import get_profile

from .test_ops_common import tiny_dataset  # noqa: F401 - a fixture

CHAIN = ["extend:fraction=0.3", "cut-random-chunk:at=goal-closed", "dualformer:level=mix",
         "anchors"]


def _files(path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes()
            for p in sorted(path.rglob("*")) if p.is_file()}


def test_cli_transform_writes_a_loadable_dataset(tiny_dataset, tmp_path) -> None:  # noqa: F811
    out = tmp_path / "out"
    args = ["transform", str(tiny_dataset), "--seed", "4", "-o", str(out)]
    for op in (CHAIN[0], "swap:within=split", CHAIN[1]):
        args += ["--op", op]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "examples/s" in result.output and "train" in result.output
    src, dst = mazebench.load(tiny_dataset), mazebench.load(out)
    assert dst.splits == src.splits
    tr = dst.manifest["transform"]
    assert [c["op"] for c in tr["chain"]] == ["extend", "swap", "cut-random-chunk"]
    assert all(c["seed"] == 4 for c in tr["chain"]) and tr["seed"] == 4
    assert tr["source"]["manifest_blake2b"] == mazebench.datasets.manifest.file_hash(
        tiny_dataset / "manifest.json")
    assert (out / "README.md").read_text().count("swap:within=split") == 1
    for split in src.splits:
        a, b = src.table(split), dst.table(split)
        assert b.num_rows == a.num_rows == dst.manifest["splits"][split]["rows"]
        extra = ["source_trace_hash", "source_n_events", "ops", "swap_source", "tail_events",
                 "removed_events"]
        assert b.column_names == [c for c in a.column_names if c != "text"] + extra + (
            ["text"] if "text" in a.column_names else [])
        assert [(c, b.schema.field(c).type) for c in a.column_names] == [
            (c, a.schema.field(c).type) for c in a.column_names]
        for name in ("id", "walls", "plan", "problem_hash"):
            assert b.column(name).equals(a.column(name))
        lengths = row_lengths(b.column("trace"), TRACE_DTYPE)
        assert np.array_equal(lengths, b.column("n_events").to_numpy())
        assert set(b.column("ops").to_pylist()) == {tr["spec"]}
        assert np.array_equal(b.column("source_n_events").to_numpy(),
                              a.column("n_events").to_numpy())
        # shards keep the source's sizes; pandas and polars read them without mazebench
        assert [s["rows"] for s in dst.manifest["splits"][split]["shards"]] == [
            s["rows"] for s in src.manifest["splits"][split]["shards"]]
        pd = pytest.importorskip("pandas")
        assert len(pd.read_parquet(out / split)) == a.num_rows
        pl = pytest.importorskip("polars")
        assert pl.read_parquet(str(out / split / "*.parquet")).height == a.num_rows
    ex = dst.example("train", 3)
    assert ex.problem == src.example("train", 3).problem


def test_text_column_is_rewritten(tiny_dataset, tmp_path) -> None:  # noqa: F811
    src = mazebench.load(tiny_dataset)
    transform_dataset(tiny_dataset, tmp_path / "a", ["reverse"], splits=["test_dfs"])
    out = mazebench.load(tmp_path / "a")
    assert out.splits == ["test_dfs"]
    for i in (0, 7):
        ex = out.example("test_dfs", i)
        assert ex.row["text"] == get_dialect("searchformer").text(ex.problem, ex.trace, ex.plan)
        assert ex.row["text"] != src.example("test_dfs", i).row["text"]
    # Dualformer L2/L3-paper rows write their create clauses without costs (arXiv 2410.09918)
    m = transform_dataset(tiny_dataset, tmp_path / "b", ["dualformer:level=mix,p2=0.5"])
    assert not m["transform"]["notes"] and m["recipe"]["splits"][1]["text"] == "searchformer"
    out = mazebench.load(tmp_path / "b")
    costless = 0
    for i in range(out.num_rows("test_dfs")):
        ex = out.example("test_dfs", i)
        costs = ex.row["trace_costs"]
        costless += not costs
        assert ex.row["text"] == example_text(ex.problem, ex.trace, ex.plan, "searchformer",
                                              costs=costs)
    assert 0 < costless < out.num_rows("test_dfs")
    exported = tmp_path / "b.jsonl"
    export_dataset(tmp_path / "b", exported, splits=["test_dfs"], dialect="beyond-semantics")
    lines = [json.loads(x)["text"] for x in exported.read_text().splitlines()]
    for i, line in enumerate(lines):
        ex = out.example("test_dfs", i)
        want = example_text(ex.problem, ex.trace, ex.plan, "beyond-semantics",
                            costs=ex.row["trace_costs"])
        assert line == want
    hf = tmp_path / "b-hf"
    export_dataset(tmp_path / "b", hf, format="hf", splits=["test_dfs"], specials=False)
    table = pa.parquet.read_table(hf / "data" / "test_dfs")
    src_tokens = out.table("test_dfs", ["trace_tokens"]).column(0).to_pylist()
    assert table.column("trace_tokens").to_pylist() == src_tokens
    texts = out.table("test_dfs", ["text"]).column(0).to_pylist()
    joined = [p + c for p, c in zip(table.column("prompt").to_pylist(),
                                    table.column("completion").to_pylist())]
    assert joined == texts  # costless rows stay costless in the TRL export


def test_same_seed_same_bytes_whatever_the_workers(tiny_dataset, tmp_path) -> None:  # noqa: F811
    for chain in (CHAIN, ["swap:within=bin,bins=3", "cut-random-suffix", "insert:p=0.2"]):
        a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
        transform_dataset(tiny_dataset, a, chain, seed=7, workers=1)
        transform_dataset(tiny_dataset, b, chain, seed=7, workers=2)
        transform_dataset(tiny_dataset, c, chain, seed=8, workers=2)
        assert _files(a) == _files(b)
        assert _files(a)["train/part-00000.parquet"] != _files(c)["train/part-00000.parquet"]
        for d in (a, b, c):
            import shutil

            shutil.rmtree(d)


def test_row_operators_do_not_depend_on_batch_boundaries(tiny_dataset) -> None:  # noqa: F811
    table = mazebench.load(tiny_dataset).table("train")
    steps = parse_chain(["extend:events=5", "perturb:p=0.3,costs=1", "drop:p=0.2",
                         "shuffle:window=4", "dualformer", "anchors"], seed=3)
    profile = get_profile("beyond-semantics")
    order, cols = table.column_names, chain_columns(steps)

    def apply(t):
        batch = apply_steps(batch_from_table(t), bind(steps, "train", profile))
        return table_from_batch(batch, chain_spec(steps), order, cols)

    whole = apply(table)
    parts = pa.concat_tables([apply(table.slice(0, 17)), apply(table.slice(17, 40)),
                              apply(table.slice(57))])
    assert whole.equals(parts)


def test_transform_of_a_transform_keeps_the_original_hash(
        tiny_dataset, tmp_path) -> None:  # noqa: F811
    transform_dataset(tiny_dataset, tmp_path / "a", ["extend:events=4"], splits=["train"])
    transform_dataset(tmp_path / "a", tmp_path / "b", ["cut-tail"], seed=1)
    src, a, b = (mazebench.load(p).table("train") for p in (tiny_dataset, tmp_path / "a",
                                                              tmp_path / "b"))
    assert b.column("source_trace_hash").equals(a.column("source_trace_hash"))
    assert b.column("source_n_events").equals(src.column("n_events").cast(pa.int32()))
    assert b.column("trace").equals(src.column("trace"))  # extend then cut-tail: identity
    assert b.column("ops")[0].as_py() == (a.column("ops")[0].as_py() + "|"
                                          "cut-tail:at=goal-closed,seed=1")
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    previous = manifest["transform"]["source"]["transform"]
    assert previous["spec"] == "extend:events=4,fraction=0,seed=0"


def test_errors_are_one_line_messages(tiny_dataset, tmp_path) -> None:  # noqa: F811
    runner = CliRunner()
    cases = [
        (["--op", "nosuch"], "unknown operator 'nosuch'"),
        (["--op", "drop:p=2"], "out of range"),
        (["--op", "drop:q=1"], "unknown parameter 'q'"),
        (["--op", "drop:kind=some"], "not allowed"),
        (["--op", "drop:p"], "key=value"),
        (["--op", "swap", "--split", "nope"], "unknown split 'nope'"),
        ([], "at least one --op"),
    ]
    for extra, message in cases:
        result = runner.invoke(main, ["transform", str(tiny_dataset), "-o",
                                      str(tmp_path / "x"), *extra])
        assert result.exit_code != 0 and message in result.output, (extra, result.output)
        assert "Traceback" not in result.output
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("x")
    result = runner.invoke(main, ["transform", str(tiny_dataset), "--op", "swap", "-o",
                                  str(tmp_path / "full")])
    assert result.exit_code != 0 and "not empty" in result.output
    listing = runner.invoke(main, ["transform", "--list-ops"])
    assert listing.exit_code == 0 and "cut-random-suffix" in listing.output


_CLAUSES = st.one_of(
    st.tuples(st.sampled_from(["create", "close"]), st.integers(0, 99), st.integers(0, 99),
              st.integers(-5, 999), st.integers(0, 999)).map(
        lambda t: f"{t[0]} {t[1]} {t[2]} c{t[3]} c{t[4]}"),
    st.tuples(st.sampled_from(["wall", "plan", "start", "goal"]), st.integers(0, 99),
              st.integers(0, 99)).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
    st.sampled_from(["reasoning", "solution", "end", "query", "bos", "eos"]),
)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(st.lists(_CLAUSES, max_size=12), st.booleans(), st.booleans()),
                     min_size=1, max_size=6))
def test_strip_costs_equals_the_token_oracle(rows):
    from mazebench.datasets.text import strip_costs
    from mazebench.ops.text import drop_cost_tokens

    texts = [(" " if lead else "") + " ".join(clauses) for clauses, lead, _ in rows]
    raw = [t.encode() for t in texts]
    offsets = np.zeros(len(raw) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in raw], out=offsets[1:])
    buf = np.frombuffer(b"".join(raw), dtype=np.uint8).copy()
    costs = np.array([keep for _, _, keep in rows])
    out, off = strip_costs(buf, offsets, costs)
    for i, (text, keep) in enumerate(zip(texts, costs)):
        got = out[off[i] : off[i + 1]].tobytes().decode()
        want = text if keep else (" " if text.startswith(" ") else "") + drop_cost_tokens(text)
        assert got == want


def _tree_bytes(root) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.suffix in (".parquet", ".json")}


@pytest.mark.parametrize("op", ["extend:events=40", "swap"])
def test_transform_resumes_after_sigkill(tmp_path, op):
    import os
    import signal
    import subprocess
    import sys
    import time

    from mazebench.datasets.builder import build_dataset
    from mazebench.datasets.recipe import parse_recipe

    src = tmp_path / "src"
    build_dataset(parse_recipe({"suite": {"seed": 4, "height": 30, "width": 30, "shard_size": 40},
                                "splits": {"train": {"family": "dfs", "count": 2400}}}), src,
                  card_images=False)
    ref = tmp_path / "ref"
    transform_dataset(src, ref, [op], seed=3, workers=1)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "mazebench.cli", "transform", str(src), "--op", op, "--seed",
           "3", "--workers", "1", "-o", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("train/part-*.parquet"))) < 3:
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = list(out.glob("train/part-*.parquet"))
    assert 0 < len(partial) < 60 and not (out / "manifest.json").exists(), len(partial)
    run = subprocess.run(cmd, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    got, want = _tree_bytes(out), _tree_bytes(ref)
    assert got.keys() == want.keys()
    for name in want:
        if name != "manifest.json":
            assert got[name] == want[name], name
    manifest = json.loads(got["manifest.json"])
    expected = json.loads(want["manifest.json"])
    assert manifest["splits"] == expected["splits"]
    assert manifest["transform"]["splits"] == expected["transform"]["splits"]
    # a different chain into the same partial directory is refused
    again = subprocess.run([*cmd[:-2], "--seed", "4", "-o", str(out)], capture_output=True,
                           text=True)
    assert again.returncode != 0 and "is not empty" in again.stderr + again.stdout
