"""``mazebench verify``: every kind of tampering is reported, one line each, exit status 1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from mazebench.cli import main
from mazebench.datasets.builder import build_dataset
from mazebench.datasets.manifest import file_hash, shard_hash
from mazebench.datasets.packed import PLAN_DTYPE, TRACE_DTYPE, decode_value, encode_value
from mazebench.datasets.recipe import parse_recipe
from mazebench.datasets.verify import verify_dataset

RECIPE = {
    "suite": {"name": "v", "seed": 3, "height": 11, "width": 14, "shard_size": 20},
    "splits": {
        "train": {"family": "wilson", "count": 45},
        "test_obstacles": {"family": "obstacles", "count": 15, "placement": "uniform",
                           "params": {"density": 0.3}, "profile": "searchformer"},
        "test_random": {"family": "kruskal", "count": 12, "profile": "searchformer-nondet"},
    },
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("verify") / "data"
    build_dataset(parse_recipe(RECIPE), path, card_images=False)
    return path


@pytest.fixture
def data(pristine, tmp_path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(pristine, copy)
    return copy


def _flip_byte(path: Path, part: int) -> None:
    """Flip one bit of the byte at ``1/part`` of the file."""
    raw = bytearray(path.read_bytes())
    raw[len(raw) // part] ^= 0x40
    path.write_bytes(bytes(raw))


def _cli(path: Path, *args: str):
    return CliRunner().invoke(main, ["verify", str(path), *args])


def _rewrite(path: Path, table: pa.Table, root: Path) -> None:
    """Write a tampered shard and update its manifest entry, so only content checks can tell."""
    meta = pq.read_metadata(path).metadata
    pq.write_table(table.replace_schema_metadata(meta), path)
    manifest = json.loads((root / "manifest.json").read_text())
    rel = path.relative_to(root).as_posix()
    for info in manifest["splits"].values():
        for shard in info["shards"]:
            if shard["path"] == rel:
                shard["sha256"] = shard_hash(path)
                shard["bytes"] = path.stat().st_size
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def test_pristine_dataset_verifies(pristine):
    report = verify_dataset(pristine, sample=None)
    assert report.ok, report.problems
    assert report.rows == 72 and report.resolved == 72 and report.shards == 5
    result = _cli(pristine)
    assert result.exit_code == 0 and result.output.startswith("OK: 5 shards, 72 rows")


def test_flipped_byte_is_a_changed_shard(data):
    _flip_byte(data / "train" / "part-00001.parquet", 2)
    result = _cli(data, "--sample", "0")
    assert result.exit_code == 1
    assert "changed shard: train/part-00001.parquet" in result.output


def test_manifest_of_an_earlier_version_with_blake2b_shard_hashes(data):
    manifest = json.loads((data / "manifest.json").read_text())
    for info in manifest["splits"].values():
        for shard in info["shards"]:
            del shard["sha256"]
            shard["blake2b"] = file_hash(data / shard["path"])
    (data / "manifest.json").write_text(json.dumps(manifest))
    assert _cli(data, "--sample", "0").exit_code == 0
    _flip_byte(data / "train" / "part-00000.parquet", 3)
    result = _cli(data, "--sample", "0")
    assert result.exit_code == 1
    assert "changed shard: train/part-00000.parquet (blake2b differs" in result.output


def test_deleted_shard_is_missing(data):
    (data / "test_obstacles" / "part-00000.parquet").unlink()
    result = _cli(data)
    assert result.exit_code == 1
    assert "missing shard: test_obstacles/part-00000.parquet" in result.output
    assert len([ln for ln in result.output.splitlines() if ln.startswith("missing")]) == 1


def test_added_shard_is_extra(data):
    shutil.copy(data / "train" / "part-00000.parquet", data / "train" / "part-00003.parquet")
    result = _cli(data, "--sample", "0")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "extra shard: train/part-00003.parquet (not in the manifest)"
    )


def test_changed_trace_is_caught_by_re_solving(data):
    path = data / "train" / "part-00002.parquet"
    table = pq.read_table(path)
    rows = table.to_pylist()
    events = decode_value(rows[3]["trace"], TRACE_DTYPE).copy()
    events["g"][2] += 1
    rows[3]["trace"] = encode_value(events)
    _rewrite(path, pa.Table.from_pylist(rows, schema=table.schema), data)
    assert verify_dataset(data, sample=0).ok  # checksums and hashes agree now
    report = verify_dataset(data, sample=None)
    assert len(report.problems) == 1, report.problems
    assert report.problems[0].startswith(
        "ground truth: train/part-00002.parquet row 3 (train-"
    )
    assert "trace differs from a re-solve with beyond-semantics at event 2" in report.problems[0]


def test_changed_plan_of_randomised_profile(data):
    path = data / "test_random" / "part-00000.parquet"
    table = pq.read_table(path)
    rows = table.to_pylist()
    rows[0]["plan"] = encode_value(decode_value(rows[0]["plan"], PLAN_DTYPE)[::-1])
    _rewrite(path, pa.Table.from_pylist(rows, schema=table.schema), data)
    report = verify_dataset(data, sample=None)
    assert any("test_random-" in p and "plan differs" in p for p in report.problems), (
        report.problems
    )


def test_schema_drift(data):
    path = data / "train" / "part-00000.parquet"
    table = pq.read_table(path)
    table = table.set_column(table.schema.get_field_index("n_walls"), "n_walls",
                             table.column("n_walls").cast(pa.int64()))
    _rewrite(path, table, data)
    report = verify_dataset(data, sample=0)
    assert (
        "schema drift: train/part-00000.parquet: column 'n_walls' is int64, expected int32"
        in report.problems
    )


def test_leak_and_duplicate_are_reported(data):
    train = data / "train" / "part-00000.parquet"
    test = data / "test_obstacles" / "part-00000.parquet"
    t_train, t_test = pq.read_table(train), pq.read_table(test)
    leaked = t_train.slice(4, 1).to_pylist()[0]
    rows = t_test.to_pylist()
    rows[1] = {**leaked, "split": "test_obstacles", "id": "test_obstacles-999"}
    _rewrite(test, pa.Table.from_pylist(rows, schema=t_test.schema), data)
    rows = t_train.to_pylist()
    rows[7] = {**rows[6], "id": "train-dup"}
    _rewrite(train, pa.Table.from_pylist(rows, schema=t_train.schema), data)
    report = verify_dataset(data, sample=0)
    text = "\n".join(report.problems)
    assert f"duplicate problem in split train: {rows[6]['problem_hash']} in rows " in text
    assert (f"layout leak: {leaked['layout_hash']} is in split train ({leaked['id']}) and split "
            "test_obstacles (test_obstacles-999)") in text


def test_changed_walls_break_content_hash(data):
    path = data / "test_obstacles" / "part-00000.parquet"
    table = pq.read_table(path)
    rows = table.to_pylist()
    walls = bytearray(rows[2]["walls"])
    walls[0] ^= 0x80
    rows[2]["walls"] = bytes(walls)
    _rewrite(path, pa.Table.from_pylist(rows, schema=table.schema), data)
    report = verify_dataset(data, sample=0)
    assert report.problems[0] == (
        "content hash: test_obstacles/part-00000.parquet row 2: problem/layout hash does not "
        "match its walls, start and goal"
    )


def test_not_a_dataset(tmp_path):
    result = _cli(tmp_path)
    assert result.exit_code != 0
    assert "is not a mazebench dataset" in result.output


def test_changed_text_column(tmp_path):
    recipe = parse_recipe({"suite": {"seed": 4, "height": 8, "width": 9},
                           "splits": {"a": {"family": "dfs", "count": 6,
                                            "text": "beyond-semantics"}}})
    root = tmp_path / "t"
    build_dataset(recipe, root, card_images=False)
    assert verify_dataset(root, sample=None).ok
    path = root / "a" / "part-00000.parquet"
    table = pq.read_table(path)
    rows = table.to_pylist()
    rows[5]["text"] = rows[5]["text"].replace(" end", " end end")
    _rewrite(path, pa.Table.from_pylist(rows, schema=table.schema), root)
    report = verify_dataset(root, sample=None)
    assert report.problems == [
        "ground truth: a/part-00000.parquet row 5 (a-5): text differs from the beyond-semantics "
        "text of a re-solve"
    ]


@pytest.mark.parametrize("ops,splits", [
    (["swap"], None), (["dualformer"], None), (["budget:tokens=900"], None),
    (["extend:events=7", "anchors"], ["train", "test_obstacles"]),  # extend needs determinism
])
def test_transformed_dataset_verifies(pristine, tmp_path, ops, splits):
    from mazebench.ops import transform_dataset

    out = tmp_path / "t"
    transform_dataset(pristine, out, ops, seed=5, splits=splits)
    report = verify_dataset(out, sample=None)
    assert report.ok, report.problems[:3]
    assert report.resolved == report.rows > 0


def test_transformed_dataset_tampering_is_caught(pristine, tmp_path):
    from mazebench.ops import transform_dataset

    out = tmp_path / "t"
    transform_dataset(pristine, out, ["swap"], seed=5)
    path = out / "train" / "part-00000.parquet"
    table = pq.read_table(path)
    rows = table.to_pylist()
    rows[1]["source_trace_hash"] = rows[2]["source_trace_hash"]
    events = decode_value(rows[4]["trace"], TRACE_DTYPE)
    rows[4]["trace"] = encode_value(events[:-1])  # n_events no longer matches the trace
    _rewrite(path, pa.Table.from_pylist(rows, schema=table.schema), out)
    problems = verify_dataset(out, sample=None).problems
    assert len(problems) == 2, problems
    assert "row 1 (train-" in problems[0] and "source_trace_hash is not the hash" in problems[0]
    assert "row 4 (train-" in problems[1] and "metric n_events is" in problems[1]
    drift = table.drop_columns(["swap_source"])
    _rewrite(path, drift, out)
    assert any("column 'swap_source' is missing" in p
               for p in verify_dataset(out, sample=0).problems)
