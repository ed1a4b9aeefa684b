"""The dataset manifest (``manifest.json``) and dataset card (``README.md``).

The manifest holds the resolved recipe, the mazebench version, per-split counts, the sha256
hash and row count of every shard, and summary statistics; it contains no timestamps, so the
same recipe gives the same manifest bytes. Shards are hashed with sha256, the digest the Hugging
Face Hub and Git LFS use for files, which this machine's CPU computes in hardware (1.4 GB/s
against blake2b's 0.5 GB/s); manifests of earlier versions list ``blake2b`` and still verify.
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import __version__
from .packed import FORMAT_VERSION, READER
from .recipe import Recipe
from .shard_summary import (
    SHARD_HASH,
    STAT_COLUMNS,
    ShardSummary,
    SummaryPool,
    ValueCounts,
    file_hash,
    shard_hash,
)

__all__ = ["SHARD_HASH", "STAT_COLUMNS", "file_hash", "shard_hash", "shard_entries",
           "split_statistics", "write_manifest", "write_card"]

QUANTILES = (0.0, 0.1, 0.5, 0.9, 1.0)


def _summaries(paths: list[Path], pool: SummaryPool | None, threads: int,
               hashed: bool = True) -> list[ShardSummary]:
    if pool is not None:
        return pool.summaries(paths)
    with SummaryPool(threads, hashed=hashed) as own:
        return own.summaries(paths)


def shard_entries(split: str, paths: list[Path], workers: int = 2,
                  pool: SummaryPool | None = None) -> list[dict]:
    """The manifest entries of a split's shards: path, rows, sha256, bytes (from ``pool``'s
    summaries, or computed on ``workers`` threads)."""
    return [{"path": f"{split}/{Path(p).name}", "rows": s.rows, SHARD_HASH: s.sha256,
             "bytes": s.size} for p, s in zip(paths, _summaries(paths, pool, workers))]


def split_statistics(paths: list[Path], pool: SummaryPool | None = None,
                     workers: int = 2) -> dict:
    """Quantiles and means of the main difficulty columns over a split's shards.

    Merges exact per-shard value counts, so memory does not grow with the rows.
    """
    if not paths:
        return {}
    summaries = _summaries(paths, pool, workers, hashed=False)
    rows = sum(s.rows for s in summaries)
    if rows == 0:
        return {}
    stats: dict = {}
    for c in STAT_COLUMNS:
        counts = ValueCounts()
        for s in summaries:
            if c in s.counts:
                counts.merge(s.counts[c])
        if counts.counts.sum() == 0:
            continue
        stats[c] = {
            "mean": round(counts.mean(), 4),
            **{f"q{int(q * 100)}": counts.quantile(q) for q in QUANTILES},
        }
    stats["unsolvable"] = sum(s.unsolvable for s in summaries)
    return stats


def write_manifest(out: Path, recipe: Recipe, results: list, seconds: float,
                   workers: int = 2, pool: SummaryPool | None = None) -> dict:
    """Write ``manifest.json`` for the splits in ``results`` and return it (shard facts from
    ``pool``, which may have computed them while the build ran)."""
    own = pool is None
    pool = SummaryPool(workers) if own else pool
    splits = {}
    try:
        for res in results:
            paths = [out / res.name / s for s in res.shards]
            pool.summaries(paths)  # all of them in flight before waiting on any
        for res in results:
            paths = [out / res.name / s for s in res.shards]
            splits[res.name] = {
                "rows": res.rows,
                "candidates": res.candidates,
                "shards": shard_entries(res.name, paths, pool=pool),
                "statistics": split_statistics(paths, pool),
            }
    finally:
        if own:
            pool.close()
    manifest = {
        "format": "mazebench-dataset",
        "format_version": FORMAT_VERSION,
        "mazebench_version": __version__,
        "recipe": recipe.to_dict(),
        "splits": splits,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def _notes(spec: dict) -> str:
    """Placement, non-default parameters, loops, difficulty bins, stream and description of a
    split (a card cell)."""
    maze = spec["maze"]
    notes = []
    if maze["placement"] != "family":
        notes.append(f"placement {maze['placement']}")
    from ..mazes.registry import FAMILIES

    family = FAMILIES.get(maze["family"])
    defaults = family.params.resolve({}) if family else {}
    notes += [f"{k}={v:g}" for k, v in maze["params"].items() if defaults.get(k) != v]
    if maze["loops"]:
        notes.append(f"loops {maze['loops']:g} ({maze['loop_mode']})")
    diff = spec.get("difficulty")
    if diff:
        notes.append(f"equal-count bins of {diff['metric']}: {diff['bins']}")
    if spec.get("stream", "native") != "native":
        notes.append(f"{spec['stream']} stream")
    if spec.get("description"):
        notes.append(spec["description"])
    return "; ".join(notes).replace("|", "/")


def write_card(out: Path, manifest: dict, *, images: bool | dict[str, str] = True) -> None:
    """Write the dataset card ``README.md``: a statistics table per split and, with
    ``images`` (and matplotlib installed), a PNG of example mazes per split under ``images/``
    (``images`` may also map splits to pictures already written, as the builder does)."""
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
        "plan length median | walls median | unsolvable | notes |",
        "|---|---|---|---|---|---|---|---|---|---|",
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
            f"{st.get('n_walls', {}).get('q50', 0):.0f} | {st.get('unsolvable', 0)} | "
            f"{_notes(spec)} |"
        )
    pictures = images if isinstance(images, dict) else {}
    if images is True:
        from .card_images import write_split_images

        pictures = write_split_images(out, manifest)
    if pictures:
        lines += ["", "## Example mazes", ""]
        for name, rel in pictures.items():
            lines += [f"### {name}", "", f"![{name}]({rel})", ""]
    lines += [
        "",
        "Load without mazebench: `pandas.read_parquet(\"<dir>/<split>\")`, "
        "`polars.read_parquet(\"<dir>/<split>/*.parquet\")` or "
        "`datasets.load_dataset(\"parquet\", data_files={\"train\": \"<dir>/train/*.parquet\"})`.",
        "",
        "The `trace` and `plan` columns hold one binary value per row: the row's records "
        "(little-endian, packed) in folded byte planes: a header (uint32 record count, "
        "uint16 mask of the planes stored in full), one byte per constant plane, then the "
        "other planes (byte 0 of every record, then byte 1, ...); numpy reads them:",
        "",
        "```python",
        "import numpy as np",
        'TRACE = np.dtype([("op", "i1"), ("x", "<i2"), ("y", "<i2"), ("g", "<i4"), ("h", "<i4")])',
        'PLAN = np.dtype([("x", "<i2"), ("y", "<i2")])',
        "",
        *READER.splitlines(),
        "",
        "trace = records(row[\"trace\"], TRACE)   # op: 0 create, 1 close",
        "plan = records(row[\"plan\"], PLAN)",
        "```",
        "",
    ]
    (out / "README.md").write_text("\n".join(lines))
