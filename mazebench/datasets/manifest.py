"""The dataset manifest (``manifest.json``) and dataset card (``README.md``).

The manifest holds the resolved recipe, the mazebench version, per-split counts, the sha256
hash and row count of every shard, and summary statistics; it contains no timestamps, so the
same recipe gives the same manifest bytes. Shards are hashed with sha256, the digest the Hugging
Face Hub and Git LFS use for files, which this machine's CPU computes in hardware (1.4 GB/s
against blake2b's 0.5 GB/s); manifests of earlier versions list ``blake2b`` and still verify.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import __version__
from .recipe import Recipe

STAT_COLUMNS = ("n_events", "trace_tokens", "plan_length", "n_walls", "branch_jumps")
QUANTILES = (0.0, 0.1, 0.5, 0.9, 1.0)


def file_hash(path: Path, algorithm: str = "blake2b") -> str:
    """The hex digest of a file's bytes: blake2b-256 (manifests) or sha256 (shards)."""
    digest = hashlib.blake2b(digest_size=32) if algorithm == "blake2b" else hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


SHARD_HASH = "sha256"


def shard_hash(path: Path) -> str:
    """The content hash a manifest lists for a shard (:data:`SHARD_HASH`)."""
    return file_hash(path, SHARD_HASH)


def shard_entries(split: str, paths: list[Path], workers: int = 2) -> list[dict]:
    """The manifest entries of a split's shards: path, rows, sha256, bytes. The files are
    hashed on ``workers`` threads (hashlib releases the GIL): hashing was the largest serial
    step at the end of a run."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max(1, workers)) as pool:
        hashes = list(pool.map(shard_hash, paths))
    return [{"path": f"{split}/{p.name}", "rows": pq.read_metadata(p).num_rows, SHARD_HASH: h,
             "bytes": p.stat().st_size} for p, h in zip(paths, hashes)]


class _Counts:
    """Exact value counts of an integer column, merged shard by shard (memory: distinct values)."""

    def __init__(self) -> None:
        self.values = np.empty(0, dtype=np.int64)
        self.counts = np.empty(0, dtype=np.int64)

    def add(self, column: np.ndarray) -> None:
        vals, counts = np.unique(np.asarray(column, dtype=np.int64), return_counts=True)
        merged = np.concatenate([self.values, vals])
        weights = np.concatenate([self.counts, counts])
        self.values, inverse = np.unique(merged, return_inverse=True)
        self.counts = np.bincount(inverse, weights=weights, minlength=len(self.values)).astype(
            np.int64
        )

    def quantile(self, q: float) -> float:
        """As ``numpy.quantile(values, q)`` (linear interpolation) on the expanded values."""
        n = int(self.counts.sum())
        position = q * (n - 1)
        lo, frac = int(np.floor(position)), position - np.floor(position)
        ends = np.cumsum(self.counts)
        v_lo = self.values[np.searchsorted(ends, lo, side="right")]
        v_hi = self.values[np.searchsorted(ends, min(lo + 1, n - 1), side="right")]
        return float(v_lo + (v_hi - v_lo) * frac)

    def mean(self) -> float:
        return float((self.values * self.counts).sum() / max(1, self.counts.sum()))


def _int_values(column: pa.ChunkedArray) -> np.ndarray:
    """The values of a null-free integer column, read from its buffers (``to_numpy`` imports
    pandas, 0.5 s of the parent's serial tail)."""
    dtype = column.type.to_pandas_dtype()
    parts = [np.frombuffer(c.buffers()[1], dtype=dtype)[c.offset : c.offset + len(c)]
             for c in column.chunks]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def split_statistics(paths: list[Path]) -> dict:
    """Quantiles and means of the main difficulty columns over a split's shards.

    Streams the shards and keeps exact value counts, so memory does not grow with the rows.
    """
    if not paths:
        return {}
    counts = {c: _Counts() for c in STAT_COLUMNS}
    unsolvable = 0
    rows = 0
    for path in paths:
        # ParquetFile.read, not pq.read_table: the latter imports pyarrow.dataset (0.4 s)
        table = pq.ParquetFile(path).read(columns=[*STAT_COLUMNS, "solvable"])
        rows += table.num_rows
        for c in STAT_COLUMNS:
            counts[c].add(_int_values(table.column(c)))
        unsolvable += int(table.num_rows - (pc.sum(table.column("solvable")).as_py() or 0))
    if rows == 0:
        return {}
    stats: dict = {}
    for c in STAT_COLUMNS:
        stats[c] = {
            "mean": round(counts[c].mean(), 4),
            **{f"q{int(q * 100)}": counts[c].quantile(q) for q in QUANTILES},
        }
    stats["unsolvable"] = unsolvable
    return stats


def write_manifest(out: Path, recipe: Recipe, results: list, seconds: float,
                   workers: int = 2) -> dict:
    """Write ``manifest.json`` for the splits in ``results`` and return it."""
    splits = {}
    for res in results:
        paths = [out / res.name / s for s in res.shards]
        splits[res.name] = {
            "rows": res.rows,
            "candidates": res.candidates,
            "shards": shard_entries(res.name, paths, workers),
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


def write_card(out: Path, manifest: dict, *, images: bool = True) -> None:
    """Write the dataset card ``README.md``: a statistics table per split and, with
    ``images`` (and matplotlib installed), a PNG of example mazes per split under ``images/``."""
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
    pictures = {}
    if images:
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
        "The `trace` and `plan` columns hold one binary value per row, records back to back "
        "(little-endian, packed); numpy reads them:",
        "",
        "```python",
        "import numpy as np",
        'TRACE = np.dtype([("op", "i1"), ("x", "<i2"), ("y", "<i2"), ("g", "<i4"), ("h", "<i4")])',
        'PLAN = np.dtype([("x", "<i2"), ("y", "<i2")])',
        "trace = np.frombuffer(row[\"trace\"], TRACE)   # op: 0 create, 1 close",
        "plan = np.frombuffer(row[\"plan\"], PLAN)",
        "```",
        "",
    ]
    (out / "README.md").write_text("\n".join(lines))
