"""The dataset manifest (``manifest.json``) and dataset card (``README.md``).

The manifest holds the resolved recipe, the mazebench version, per-split counts, the blake2b
hash and row count of every shard, and summary statistics; it contains no timestamps, so the
same recipe gives the same manifest bytes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from .. import __version__
from .recipe import Recipe

STAT_COLUMNS = ("n_events", "trace_tokens", "plan_length", "n_walls", "branch_jumps")
QUANTILES = (0.0, 0.1, 0.5, 0.9, 1.0)


def file_hash(path: Path) -> str:
    """blake2b-256 of a file's bytes (hex)."""
    digest = hashlib.blake2b(digest_size=32)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def split_statistics(paths: list[Path]) -> dict:
    """Quantiles and means of the main difficulty columns over a split's shards."""
    if not paths:
        return {}
    columns = {c: [] for c in (*STAT_COLUMNS, "solvable")}
    for path in paths:
        table = pq.read_table(path, columns=list(columns))
        for c in columns:
            columns[c].append(table.column(c).to_numpy())
    stats: dict = {}
    for c in STAT_COLUMNS:
        values = np.concatenate(columns[c]).astype(np.float64)
        stats[c] = {
            "mean": round(float(values.mean()), 4),
            **{f"q{int(q * 100)}": float(np.quantile(values, q)) for q in QUANTILES},
        }
    solvable = np.concatenate(columns["solvable"])
    stats["unsolvable"] = int((~solvable).sum())
    return stats


def write_manifest(out: Path, recipe: Recipe, results: list, seconds: float) -> dict:
    """Write ``manifest.json`` for the splits in ``results`` and return it."""
    splits = {}
    for res in results:
        paths = [out / res.name / s for s in res.shards]
        splits[res.name] = {
            "rows": res.rows,
            "candidates": res.candidates,
            "shards": [
                {
                    "path": f"{res.name}/{p.name}",
                    "rows": pq.read_metadata(p).num_rows,
                    "blake2b": file_hash(p),
                    "bytes": p.stat().st_size,
                }
                for p in paths
            ],
            "statistics": split_statistics(paths),
        }
    manifest = {
        "format": "mazebench-dataset",
        "format_version": 1,
        "mazebench_version": __version__,
        "recipe": recipe.to_dict(),
        "splits": splits,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def write_card(out: Path, manifest: dict) -> None:
    """Write the dataset card ``README.md`` with a statistics table per split."""
    recipe = manifest["recipe"]
    lines = [
        f"# {recipe['name']} (mazebench dataset)",
        "",
        recipe.get("description") or "Grid-maze problems with full A* search traces.",
        "",
        f"Built by mazebench {manifest['mazebench_version']} from the recipe recorded in "
        "`manifest.json` (seed "
        f"{recipe['seed']}). Each split is a folder of Parquet shards; one row per example "
        "(see the mazebench README for the columns).",
        "",
        "| split | rows | family | size | profile | events median (q10-q90) | "
        "plan length median | walls median | unsolvable |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    specs = {s["name"]: s for s in recipe["splits"]}
    for name, spec in specs.items():
        info = manifest["splits"][name]
        st = info["statistics"]
        maze = spec["maze"]
        ev = st.get("n_events", {})
        lines.append(
            f"| {name} | {info['rows']} | {maze['family']} | {maze['width']}x{maze['height']} "
            f"| {spec['profile']['name']} | {ev.get('q50', 0):.0f} ({ev.get('q10', 0):.0f}-"
            f"{ev.get('q90', 0):.0f}) | {st.get('plan_length', {}).get('q50', 0):.0f} | "
            f"{st.get('n_walls', {}).get('q50', 0):.0f} | {st.get('unsolvable', 0)} |"
        )
    lines += [
        "",
        "Load without mazebench: `pandas.read_parquet(\"<dir>/<split>\")`, "
        "`polars.read_parquet(\"<dir>/<split>/*.parquet\")` or "
        "`datasets.load_dataset(\"parquet\", data_files={\"train\": \"<dir>/train/*.parquet\"})`.",
        "",
    ]
    (out / "README.md").write_text("\n".join(lines))
