"""``mazebench export``: upstream JSONL formats byte for byte, and the Hugging Face folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from mazebench import solve
from mazebench.cli import main
from mazebench.conventions.dialects import get_dialect
from mazebench.datasets.builder import build_dataset
from mazebench.datasets.load import load
from mazebench.datasets.recipe import parse_recipe

RECIPE = {
    "suite": {"name": "ex", "seed": 8, "shard_size": 25, "height": 16, "width": 16},
    "splits": {
        "train": {"family": "wilson", "count": 30, "text": "beyond-semantics"},
        "test_caves": {"family": "cellular_automata", "count": 60,
                       "params": {"fillProbability": 0.5}},
        "test-sf": {"family": "searchformer", "count": 12, "height": 10, "width": 12,
                    "profile": "searchformer", "text": "searchformer"},
        "test_compact": {"family": "obstacles", "count": 5, "placement": "uniform",
                         "text": "compact"},
    },
}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("export") / "data"
    build_dataset(parse_recipe(RECIPE), path, card_images=False)
    return path


def _solutions(path: Path, split: str):
    data = load(path)
    for i in range(data.num_rows(split)):
        ex = data.example(split, i)
        sol = solve(ex.problem, ex.row["profile"])
        assert sol.trace == ex.trace
        yield ex, sol


def test_beyond_semantics_lines_are_upstream_bytes(dataset, tmp_path):
    result = CliRunner().invoke(main, ["export", str(dataset), "--format", "jsonl", "--dialect",
                                       "beyond-semantics", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    for split in ("train", "test_caves"):
        lines = (tmp_path / "out" / f"{split}.jsonl").read_bytes().decode().splitlines(True)
        expected = [
            json.dumps({"text": sol.to_text("beyond-semantics")}, separators=(",", ":")) + "\n"
            for _, sol in _solutions(dataset, split)
        ]
        assert lines == expected
    caves = load(dataset).table("test_caves", ["solvable"]).column(0).to_pylist()
    assert not all(caves), "the test needs an unsolvable row (upstream 'start goal' plan)"


def test_searchformer_lines_have_fixture_keys(dataset, tmp_path, fixtures_dir):
    out = tmp_path / "sf.jsonl"
    result = CliRunner().invoke(main, ["export", str(dataset), "--split", "test-sf", "--format",
                                       "jsonl", "-o", str(out)])
    assert result.exit_code == 0, result.output
    fixture_line = (fixtures_dir / "searchformer" / "sf-det-10x10.jsonl.gz")
    import gzip

    with gzip.open(fixture_line, "rt") as fh:
        first = fh.readline()
    fixture = json.loads(first)
    assert json.dumps(fixture) + "\n" == first  # the fixtures use json.dumps spacing
    lines = out.read_text().splitlines(True)
    sols = list(_solutions(dataset, "test-sf"))
    assert len(lines) == len(sols) == 12
    for line, (ex, sol) in zip(lines, sols):
        obj = json.loads(line)
        assert list(obj) == list(fixture)
        expected = {**ex.problem.to_json(), "deterministic": True, **sol.to_parts("searchformer")}
        expected = {k: expected[k] for k in fixture}
        assert line == json.dumps(expected) + "\n"


def test_compact_dialect_round_trips(dataset, tmp_path):
    out = tmp_path / "c"
    CliRunner().invoke(main, ["export", str(dataset), "--split", "test_compact", "--dialect",
                              "compact", "-o", str(out)])
    dialect = get_dialect("compact")
    for line, (ex, sol) in zip((out / "test_compact.jsonl").read_text().splitlines(),
                               _solutions(dataset, "test_compact")):
        parts = json.loads(line)
        parsed = dialect.parse(f"{parts['prompt']} | {parts['reasoning']} | {parts['plan']}")
        assert parsed.problem == ex.problem and parsed.trace == sol.trace


def test_text_column_matches_dialects(dataset):
    data = load(dataset)
    for split, dialect in (("train", "beyond-semantics"), ("test-sf", "searchformer"),
                           ("test_compact", "compact")):
        texts = data.table(split, ["text"]).column(0).to_pylist()
        assert texts == [sol.to_text(dialect) for _, sol in _solutions(dataset, split)]


def test_hf_folder(dataset, tmp_path):
    out = tmp_path / "hf"
    result = CliRunner().invoke(main, ["export", str(dataset), "--format", "hf", "--no-specials",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    card = (out / "README.md").read_text()
    assert card.startswith("---\nconfigs:\n") and "split: test_sf" in card
    table = pq.read_table(out / "data" / "train")
    assert table.column_names[:3] == ["id", "prompt", "completion"]
    assert {"walls", "start_x", "goal_y", "plan_length"} <= set(table.column_names)
    texts = load(dataset).table("train", ["text"]).column(0).to_pylist()
    # TRL tokenizes prompt + completion: the completion carries the separating space
    joined = [p + c for p, c in zip(table.column("prompt").to_pylist(),
                                    table.column("completion").to_pylist())]
    assert joined == texts
    assert table.column("prompt").to_pylist()[0].startswith("query start ")
    assert table.column("completion").to_pylist()[0].startswith(" reasoning close ")
    sf = pq.read_table(out / "data" / "test_sf")
    assert sf.column("prompt").to_pylist()[0].startswith("start ")
    assert sf.column("completion").to_pylist()[0].startswith(" create ")
    specials = tmp_path / "hf-specials"
    result = CliRunner().invoke(main, ["export", str(dataset), "--format", "hf", "--split",
                                       "train", "-o", str(specials)])
    assert result.exit_code == 0, result.output
    first = pq.read_table(specials / "data" / "train").column("prompt").to_pylist()[0]
    assert first.startswith("<|bos|> query start ")


def test_hf_folder_loads_with_datasets_without_mazebench(dataset, tmp_path):
    pytest.importorskip("datasets")
    out = tmp_path / "hf"
    CliRunner().invoke(main, ["export", str(dataset), "--format", "hf", "-o", str(out)])
    code = f"""
import sys
sys.modules['mazebench'] = None
import datasets
d = datasets.load_dataset({str(out)!r})
assert sorted(d) == ['test_caves', 'test_compact', 'test_sf', 'train'], sorted(d)
assert d['train'].num_rows == 30
assert d['train'].column_names[:3] == ['id', 'prompt', 'completion']
files = {{'train': {str(dataset / 'train' / '*.parquet')!r}}}
p = datasets.load_dataset('parquet', data_files=files)
assert p['train'].num_rows == 30
print('ok')
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hfhome"),
                              "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().endswith("ok")


def test_export_errors_are_one_line(dataset, tmp_path):
    for args, message in (
        (["--dialect", "klingon"], "unknown dialect 'klingon'"),
        (["--split", "nosuch"], "unknown split 'nosuch'"),
    ):
        result = CliRunner().invoke(main, ["export", str(dataset), *args, "-o", str(tmp_path)])
        assert result.exit_code != 0 and message in result.output
        assert len(result.output.strip().splitlines()) == 1


UPSTREAM = {
    "suite": {"name": "bs", "seed": 42, "shard_size": 15},
    "splits": {
        "wilson-train": {"family": "wilson", "count": 40, "stream": "upstream-train"},
        "cellular_automata-test": {"family": "cellular_automata", "count": 40,
                                   "stream": "upstream-test"},
        "kruskal-12x25-train": {"family": "kruskal", "count": 20, "height": 12, "width": 25,
                                "stream": "upstream-train"},
        "searchformer-train": {"family": "searchformer", "count": 40,
                               "stream": "upstream-train"},
        "drunkards_walk-coverage0p3-train": {"family": "drunkards_walk", "count": 20,
                                             "params": {"coverage": 0.3},
                                             "stream": "upstream-train"},
    },
}


def test_upstream_stream_splits_export_the_authors_files(tmp_path, fixtures_dir):
    import gzip

    recipe = parse_recipe(UPSTREAM)
    calls = []

    def stop_after_two(path):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # an interrupted run resumes mid-stream
        build_dataset(recipe, tmp_path / "d", on_shard=stop_after_two, card_images=False)
    build_dataset(recipe, tmp_path / "d", card_images=False)
    result = CliRunner().invoke(main, ["export", str(tmp_path / "d"), "-o", str(tmp_path / "x")])
    assert result.exit_code == 0, result.output
    for split in UPSTREAM["splits"]:
        name = split.replace("-train", "-seed42-train").replace("-test", "-seed42-test")
        name = name.replace("0p3", "0.3")
        with gzip.open(fixtures_dir / "beyond-semantics" / f"{name}.jsonl.gz", "rb") as fh:
            expected = fh.read()
        assert (tmp_path / "x" / f"{split}.jsonl").read_bytes() == expected, split
    assert CliRunner().invoke(main, ["verify", str(tmp_path / "d")]).exit_code == 0


def test_upstream_stream_needs_upstream_conventions():
    bad = {"splits": {"a": {"family": "prim", "count": 3, "stream": "upstream-train"}}}
    with pytest.raises(ValueError, match="needs an upstream family"):
        parse_recipe(bad)
    bad = {"splits": {"a": {"family": "wilson", "count": 3, "stream": "upstream-train",
                            "profile": "searchformer"}}}
    with pytest.raises(ValueError, match="needs profile = 'beyond-semantics'"):
        parse_recipe(bad)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize("fmt", ["jsonl", "hf"])
def test_export_bytes_do_not_depend_on_threads(dataset, tmp_path, monkeypatch, fmt):
    """Batches of 7 rows rendered on 1 or 3 threads give the same files; the JSONL bytes also
    equal the default batch size's."""
    from mazebench.datasets import export

    whole = _files(Path(export.export_dataset(dataset, tmp_path / "whole", format=fmt,
                                              workers=1)[0].path).parent)
    monkeypatch.setattr(export, "BATCH_ROWS", 7)
    outs = []
    for workers in (1, 3):
        result = export.export_dataset(dataset, tmp_path / f"w{workers}", format=fmt,
                                       workers=workers)
        outs.append(_files(tmp_path / f"w{workers}"))
        assert sum(r.rows for r in result) == 107
    assert outs[0] == outs[1]
    if fmt == "jsonl":
        assert outs[0] == whole
    else:
        part = "data/train/part-00000.parquet"
        assert pq.read_table(tmp_path / "w1" / part).equals(
            pq.read_table(tmp_path / "whole" / part))
        assert pq.ParquetFile(tmp_path / "w1" / part).metadata.num_row_groups == 4  # 25 rows


def test_jsonl_rerun_keeps_finished_splits(dataset, tmp_path):
    """A killed JSONL export resumes: splits written from the same source and dialect are kept,
    a missing one is written again, another dialect rewrites them."""
    from mazebench.datasets.export import export_dataset

    out = tmp_path / "out"
    export_dataset(dataset, out, format="jsonl", splits=["train", "test_caves"])
    first = _files(out)
    kept, lost = out / "train.jsonl", out / "test_caves.jsonl"
    stamp = kept.stat().st_mtime_ns
    lost.unlink()
    results = export_dataset(dataset, out, format="jsonl", splits=["train", "test_caves"])
    assert kept.stat().st_mtime_ns == stamp
    assert _files(out) == first
    assert [r.bytes for r in results] == [len(first["train.jsonl"]),
                                          len(first["test_caves.jsonl"])]
    export_dataset(dataset, out, format="jsonl", splits=["train"], dialect="compact")
    assert kept.read_bytes() != first["train.jsonl"]
