"""Engines and write paths give the same bytes: inline, processes, Ray, speculative or not."""

from __future__ import annotations

from pathlib import Path

import pytest

from mazebench.datasets import builder
from mazebench.datasets.builder import build_dataset
from mazebench.datasets.load import load
from mazebench.datasets.recipe import parse_recipe

RECIPE = {
    "suite": {"name": "eng", "seed": 21, "shard_size": 30, "height": 12, "width": 12},
    "splits": {
        "train": {"family": "kruskal", "count": 95},
        # 4x4 free space: 16 * 15 = 240 distinct problems, so duplicates are frequent and
        # shards must be rebuilt from their accepted indices
        "test_dups": {"family": "free_space", "count": 70, "height": 4, "width": 4,
                      "placement": "uniform"},
        "test_bins": {"family": "drunkards_walk", "count": 24, "profile": "astar-lifo",
                      "difficulty": {"metric": "n_events", "bins": [0, 30, 60, 400]}},
    },
}


def _files(root: Path) -> dict[str, bytes]:
    names = [*root.rglob("*.parquet"), root / "manifest.json", root / "README.md"]
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(names)}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("ref") / "d"
    manifest = build_dataset(parse_recipe(RECIPE), out, workers=1, card_images=False)
    assert manifest["splits"]["test_dups"]["build"]["rejected_duplicate"] > 0
    assert manifest["splits"]["train"]["build"]["renamed_shards"] == 4
    return _files(out)


def test_two_workers_same_bytes(reference, tmp_path):
    build_dataset(parse_recipe(RECIPE), tmp_path / "d", workers=2, card_images=False)
    assert _files(tmp_path / "d") == reference


@pytest.mark.parametrize("path", ["assembled", "regenerated"])
@pytest.mark.parametrize("workers", [1, 2])
def test_without_speculation_same_bytes(reference, tmp_path, monkeypatch, path, workers):
    """Windows smaller than a shard: every shard is assembled from the accepted rows of
    several window files, or regenerated from its accepted indices; same bytes either way."""
    monkeypatch.setattr(builder, "MAX_WINDOW", 7)
    monkeypatch.setattr(builder, "ASSEMBLE_MIN_CELLS", 0 if path == "assembled" else 10**9)
    manifest = build_dataset(parse_recipe(RECIPE), tmp_path / "d", card_images=False,
                             workers=workers)
    for split in ("train", "test_dups"):
        build = manifest["splits"][split]["build"]
        assert build["renamed_shards"] == 0 and build[f"{path}_shards"] == len(
            manifest["splits"][split]["shards"])
    assert _files(tmp_path / "d") == reference
    assert not list((tmp_path / "d").rglob(".spec-*"))  # window files are all removed


def test_assembled_after_rejections_same_bytes(reference, tmp_path, monkeypatch):
    """Speculative windows misaligned by duplicates: the rest of the split is assembled."""
    monkeypatch.setattr(builder, "ASSEMBLE_MIN_CELLS", 0)
    manifest = build_dataset(parse_recipe(RECIPE), tmp_path / "d", card_images=False,
                             workers=2)
    assert manifest["splits"]["test_dups"]["build"]["assembled_shards"] > 0
    assert _files(tmp_path / "d") == reference


def test_duplicates_never_enter_a_split(reference, tmp_path):
    build_dataset(parse_recipe(RECIPE), tmp_path / "d", card_images=False)
    data = load(tmp_path / "d")
    table = data.table("test_dups", ["problem_hash", "index"])
    hashes = table.column(0).to_pylist()
    assert len(set(hashes)) == len(hashes) == 70
    assert table.column(1).to_pylist() == sorted(table.column(1).to_pylist())
    shards = [s["rows"] for s in data.manifest["splits"]["test_dups"]["shards"]]
    assert shards == [30, 30, 10]


def test_ray_engine_same_bytes(reference, tmp_path):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        build_dataset(parse_recipe(RECIPE), tmp_path / "d", engine="ray", card_images=False)
    finally:
        ray.shutdown()
    assert _files(tmp_path / "d") == reference


def test_unknown_engine():
    with pytest.raises(ValueError, match="unknown engine 'spark'"):
        build_dataset(parse_recipe(RECIPE), "/nonexistent/never", engine="spark")


def test_card_has_example_pictures(tmp_path):
    from matplotlib.image import imread

    recipe = parse_recipe({**RECIPE, "splits": {"train": {"family": "wilson", "count": 6},
                                                "test-wide": {"family": "prim", "count": 3,
                                                              "height": 9, "width": 21}}})
    build_dataset(recipe, tmp_path / "d")
    card = (tmp_path / "d" / "README.md").read_text()
    assert "![train](images/train.png)" in card and "![test-wide](images/test-wide.png)" in card
    image = imread(tmp_path / "d" / "images" / "test-wide.png")
    assert image.shape[1] > 2 * image.shape[0]  # three 21x9 mazes side by side
    assert (image[..., :3] == 0).all(axis=-1).any()  # walls are black


@pytest.mark.slow
def test_peak_memory_is_flat_in_the_count():
    """Peak RSS of `mazebench generate` grows < 1.3x from 2*10^4 to 2*10^5 examples."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_generate", Path(__file__).parents[1] / "benchmarks" / "bench_generate.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    small, _ = bench.peak_rss(20_000, 1)
    large, _ = bench.peak_rss(200_000, 1)
    assert large < 1.3 * small, (small, large)
