"""Dataset builder: determinism across workers, resume after SIGKILL, loading without mazebench."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from mazebench import solve
from mazebench.cli import main
from mazebench.datasets.builder import build_dataset
from mazebench.datasets.load import load
from mazebench.datasets.packed import READER
from mazebench.datasets.recipe import load_recipe, parse_recipe

RECIPE = """
[suite]
name = "tiny"
seed = 11
height = 15
width = 15
shard_size = 40

[splits.train]
family = "wilson"
count = 130

[splits.test_free]
family = "free_space"
count = 60
placement = "uniform"

[splits.test_obstacles]
family = "obstacles"
count = 50
height = 12
width = 20
params = { density = 0.35 }
placement = "min_plan"
placement_params = { length = 10 }
profile = "searchformer"
"""


def _shard_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


@pytest.fixture(scope="module")
def recipe_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("recipe") / "tiny.toml"
    path.write_text(RECIPE)
    return path


def test_workers_do_not_change_bytes(recipe_file, tmp_path):
    recipe = load_recipe(recipe_file)
    build_dataset(recipe, tmp_path / "w1", workers=1)
    build_dataset(recipe, tmp_path / "w2", workers=2)
    one, two = _shard_bytes(tmp_path / "w1"), _shard_bytes(tmp_path / "w2")
    assert one == two and len(one) == 4 + 2 + 2
    assert (tmp_path / "w1" / "manifest.json").read_bytes() == (
        tmp_path / "w2" / "manifest.json"
    ).read_bytes()


def test_shard_size_does_not_change_rows(recipe_file, tmp_path):
    a = load_recipe(recipe_file)
    b = parse_recipe({"suite": {**_suite(a), "shard_size": 7}, "splits": _splits(a)})
    build_dataset(a, tmp_path / "a")
    build_dataset(b, tmp_path / "b")
    for split in ("train", "test_free", "test_obstacles"):
        ta = load(tmp_path / "a").table(split)
        tb = load(tmp_path / "b").table(split)
        assert ta.equals(tb)


def _suite(recipe):
    return {"name": recipe.name, "seed": recipe.seed, "shard_size": recipe.shard_size}


def _splits(recipe):
    out = {}
    for s in recipe.splits:
        out[s.name] = {
            "family": s.maze.family, "count": s.count, "height": s.maze.height,
            "width": s.maze.width, "params": s.maze.params, "placement": s.maze.placement,
            "placement_params": s.maze.placement_params, "profile": s.profile.name,
        }
    return out


def test_rows_are_solver_ground_truth(recipe_file, tmp_path):
    build_dataset(load_recipe(recipe_file), tmp_path / "d")
    data = load(tmp_path / "d")
    assert data.splits == ["train", "test_free", "test_obstacles"]
    assert len(data) == 240
    for split in data.splits:
        for i in (0, 5, data.num_rows(split) - 1):
            ex = data.example(split, i)
            sol = solve(ex.problem, ex.row["profile"])
            assert sol.trace == ex.trace and sol.plan == ex.plan
            assert sol.metrics["n_events"] == ex.row["n_events"]
    table = data.table("test_obstacles")
    assert min(table.column("plan_length").to_pylist()) >= 10
    # no problem twice in a split, no layout in two splits
    layouts = {s: set(data.table(s, ["layout_hash"]).column(0).to_pylist()) for s in data.splits}
    assert not (layouts["train"] & layouts["test_obstacles"])
    for s in data.splits:
        hashes = data.table(s, ["problem_hash"]).column(0).to_pylist()
        assert len(set(hashes)) == len(hashes)


def test_loads_without_mazebench(recipe_file, tmp_path):
    build_dataset(load_recipe(recipe_file), tmp_path / "d")
    code = f"""
import sys
sys.modules['mazebench'] = None  # importing mazebench would fail
import numpy as np, pandas as pd, pyarrow.parquet as pq
TRACE = np.dtype([("op", "i1"), ("x", "<i2"), ("y", "<i2"), ("g", "<i4"), ("h", "<i4")])
PLAN = np.dtype([("x", "<i2"), ("y", "<i2")])
{READER}df = pd.read_parquet({str(tmp_path / 'd' / 'train')!r})
assert len(df) == 130
traces = df.trace.map(lambda b: records(b, TRACE))
plans = df.plan.map(lambda b: records(b, PLAN))
assert (traces.map(len) == df.n_events).all() and (plans.map(len) == df.plan_length).all()
first = traces.iloc[0]
assert set(first["op"]) <= {{0, 1}} and first["g"].min() >= 0
assert (plans.iloc[0]["x"][0], plans.iloc[0]["y"][0]) == (df.start_x.iloc[0], df.start_y.iloc[0])
t = pq.read_table({str(tmp_path / 'd' / 'test_free')!r})
assert t.num_rows == 60
try:
    import polars as pl
    d = pl.read_parquet({str(tmp_path / 'd' / 'train' / '*.parquet')!r})
    assert d.height == 130
    assert len(records(d["trace"][0], TRACE)) == d["n_events"][0]
except ImportError:
    pass
print('ok')
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_resume_after_sigkill(tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text(RECIPE.replace("count = 130", "count = 900").replace("= 40", "= 60"))
    ref = tmp_path / "ref"
    build_dataset(load_recipe(recipe), ref)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "mazebench.cli", "generate", str(recipe), "-o", str(out)]
    log = tmp_path / "stderr.txt"
    with open(log, "w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.time() + 120
        while time.time() < deadline and len(list(out.glob("train/part-*.parquet"))) < 3:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    partial = list(out.glob("train/part-*.parquet"))
    assert 0 < len(partial) < 15, "the kill must land mid-run"
    for p in partial:
        pq.read_metadata(p)  # every visible shard is complete
    assert not (out / "manifest.json").exists()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    assert _shard_bytes(out) == _shard_bytes(ref)
    assert (out / "manifest.json").read_bytes() == (ref / "manifest.json").read_bytes()
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]


def test_resume_refuses_other_recipe(recipe_file, tmp_path):
    build_dataset(load_recipe(recipe_file), tmp_path / "d")
    other = load_recipe(recipe_file).scaled(2)
    with pytest.raises(ValueError, match="different recipe"):
        build_dataset(other, tmp_path / "d")


def test_cli_generate_default_scaled(tmp_path):
    result = CliRunner().invoke(main, ["generate", "--scale", "0.02", "-o", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert "default:" in result.output and "test_free_space" in result.output
    data = load(tmp_path / "d")
    assert data.num_rows("train") == 40
    assert (tmp_path / "d" / "README.md").read_text().startswith("# default")
    show = CliRunner().invoke(main, ["show", str(tmp_path / "d"), "--split", "test_dfs"])
    assert show.exit_code == 0 and "S" in show.output and "G" in show.output


@pytest.mark.parametrize(
    "text, message",
    [
        ('[splits.a]\nfamily = "wilson"\n', "missing key 'count'"),
        ('[splits.a]\nfamily = "wilson"\ncount = 5\ncolour = 1\n', "unknown key 'colour'"),
        ('[splits.a]\nfamily = "maze"\ncount = 5\n', "unknown maze family 'maze'"),
        ('[suite]\nseed = -1\n[splits.a]\nfamily = "wilson"\ncount = 5\n', "seed = -1"),
        ('[splits.a]\nfamily = "wilson"\ncount = 5\nprofile = "fast"\n', "unknown profile"),
        ('[splits.A]\nfamily = "wilson"\ncount = 5\n', "split names use"),
    ],
)
def test_recipe_errors(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    result = CliRunner().invoke(main, ["generate", str(path), "-o", str(tmp_path / "o")])
    assert result.exit_code != 0
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_cli_list_and_unknown_suite():
    result = CliRunner().invoke(main, ["list"])
    assert result.exit_code == 0
    for word in ("wilson", "searchformer-nondet", "min_plan", "compact", "default"):
        assert word in result.output
    bad = CliRunner().invoke(main, ["generate", "nosuch"])
    assert bad.exit_code != 0 and "unknown suite 'nosuch'" in bad.output


def test_example_walls_round_trip(recipe_file, tmp_path):
    build_dataset(load_recipe(recipe_file), tmp_path / "d")
    t = load(tmp_path / "d").table("test_obstacles", ["walls", "n_walls", "height", "width"])
    for packed, n, h, w in zip(*(t.column(c).to_pylist() for c in t.column_names)):
        bits = np.unpackbits(np.frombuffer(packed, np.uint8), count=h * w)
        assert bits.sum() == n
