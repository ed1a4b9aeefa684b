"""Export a dataset to the text formats training code reads.

* ``jsonl`` - one file per split, ``<split>.jsonl``:

  - ``beyond-semantics``: ``{"text":"query start ... end"}`` lines, byte for byte the format of the
    Beyond Semantics generator (arXiv 2505.13775), so its training code reads them unchanged;
  - ``searchformer``: lines with the Searchformer fixture keys ``width``, ``height``, ``start``,
    ``goal``, ``walls``, ``deterministic``, ``prompt``, ``reasoning``, ``plan``
    (arXiv 2402.14083);
  - ``compact``: ``{"prompt", "reasoning", "plan"}`` lines in mazebench's compact dialect.

* ``hf`` - a folder that ``datasets.load_dataset(FOLDER)`` loads: ``data/<split>/part-*.parquet``
  with the string columns ``id``, ``prompt`` and ``completion`` (what the model reads and what it
  must write, see :mod:`mazebench.datasets.text`), and a ``README.md`` dataset card whose YAML
  header declares every split (Hugging Face split names allow ``[A-Za-z0-9_.]``: ``-`` becomes
  ``_``). This is the plain prompt-completion layout of TRL's ``SFTTrainer``.

The dialect defaults to each split's profile dialect. Rows stream shard by shard (flat memory)
and become text in numba (:mod:`mazebench.datasets.text`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..atomic import write_chunks
from ..search.profiles import get_profile
from .load import Dataset, example_from_row
from .packed import unpack_plan, unpack_trace
from .text import NATIVE_DIALECTS, render, to_string_array

FORMATS = ("jsonl", "hf")
BATCH_ROWS = 4096
_ROW_COLUMNS = [
    "id", "height", "width", "walls", "start_x", "start_y", "goal_x", "goal_y", "solvable",
    "trace", "plan",
]


@dataclass
class ExportResult:
    split: str
    rows: int
    bytes: int
    path: str


@dataclass
class RowArrays:
    """A record batch of a dataset as the flat arrays the text writers take."""

    ids: pa.Array
    walls: np.ndarray
    sg: np.ndarray
    ev_off: np.ndarray
    ev: tuple
    pl_off: np.ndarray
    pl: tuple
    solvable: np.ndarray


def batch_arrays(batch: pa.RecordBatch, height: int, width: int) -> RowArrays:
    """Unpack a record batch (walls bits, list columns) into flat numpy arrays."""
    n = batch.num_rows
    walls_col = batch.column("walls")
    nbytes = (height * width + 7) // 8
    _, offsets, data = walls_col.buffers()
    off = np.frombuffer(offsets, dtype=np.int32)[walls_col.offset : walls_col.offset + n + 1]
    raw = np.frombuffer(data, dtype=np.uint8)[off[0] : off[-1]]
    if len(raw) != n * nbytes:
        raise ValueError(f"walls column has rows of the wrong size for {width}x{height}")
    walls = np.unpackbits(raw.reshape(n, nbytes), axis=1, count=height * width)
    walls = walls.astype(np.bool_).reshape(n, height, width)
    sg = np.stack(
        [batch.column(c).to_numpy().astype(np.int64)
         for c in ("start_x", "start_y", "goal_x", "goal_y")], axis=1,
    )
    ev_off, *ev = unpack_trace(batch.column("trace"))
    pl_off, px, py = unpack_plan(batch.column("plan"))
    solvable = batch.column("solvable").to_numpy(zero_copy_only=False).astype(np.bool_)
    return RowArrays(batch.column("id"), walls, sg, ev_off, tuple(ev), pl_off, (px, py), solvable)


class SplitReader:
    """Streams one split of a dataset as :class:`RowArrays` batches."""

    def __init__(self, data: Dataset, split: str) -> None:
        spec = next(s for s in data.manifest["recipe"]["splits"] if s["name"] == split)
        self.data, self.split = data, split
        self.height, self.width = int(spec["maze"]["height"]), int(spec["maze"]["width"])
        self.profile = get_profile(spec["profile"])
        self.rows = data.num_rows(split)

    def batches(self) -> Iterator[tuple[pa.RecordBatch, RowArrays]]:
        for batch in self.data.iter_batches(self.split, BATCH_ROWS, columns=_ROW_COLUMNS):
            yield batch, batch_arrays(batch, self.height, self.width)

    def unsolved_plan(self, rows: RowArrays) -> np.ndarray:
        return ~rows.solvable & (self.profile.unsolvable_plan == "start-goal")


def _render(reader: SplitReader, rows: RowArrays, layout: str, dialect: str):
    return render(layout, dialect, rows.walls, rows.sg, rows.ev_off, rows.ev, rows.pl_off,
                  rows.pl, reader.unsolved_plan(rows), not reader.profile.randomized)


def _python_parts(reader: SplitReader, batch: pa.RecordBatch, dialect: str) -> list[dict]:
    """Dialects without a numba writer: one example object per row (small datasets)."""
    from ..conventions.dialects import get_dialect
    from ..search.solve import Plan

    writer = get_dialect(dialect)
    out = []
    for row in batch.to_pylist():
        ex = example_from_row(row)
        plan = ex.plan
        if not ex.solvable and reader.profile.unsolvable_plan == "start-goal":
            (sx, sy), (gx, gy) = ex.problem.start, ex.problem.goal
            plan = Plan.from_arrays([sx, gx], [sy, gy])
        out.append(writer.parts(ex.problem, ex.trace, plan))
    return out


def jsonl_chunks(reader: SplitReader, dialect: str) -> Iterator[bytes]:
    """The bytes of a split's JSONL export, batch by batch."""
    layout = {"beyond-semantics": "bs_jsonl", "searchformer": "sf_jsonl"}.get(dialect)
    for batch, rows in reader.batches():
        if layout is not None:
            buf, _ = _render(reader, rows, layout, dialect)
            yield buf.tobytes()
        else:
            yield "".join(
                json.dumps(p) + "\n" for p in _python_parts(reader, batch, dialect)
            ).encode()


def prompt_completion(reader: SplitReader, batch: pa.RecordBatch, rows: RowArrays,
                      dialect: str) -> tuple[pa.Array, pa.Array]:
    """``prompt`` and ``completion`` string arrays of a batch."""
    if dialect in NATIVE_DIALECTS:
        prompt = to_string_array(*_render(reader, rows, "prompt", dialect))
        completion = to_string_array(*_render(reader, rows, "completion", dialect))
        return prompt.cast(pa.string()), completion.cast(pa.string())
    parts = _python_parts(reader, batch, dialect)
    prompts = [p["prompt"] for p in parts]
    completions = [f"{p['reasoning']} | {p['plan']}" for p in parts]
    return pa.array(prompts, pa.string()), pa.array(completions, pa.string())


def hf_split_name(split: str) -> str:
    """A split name Hugging Face accepts (``[A-Za-z0-9_.]``)."""
    return re.sub(r"[^A-Za-z0-9_.]", "_", split)


HF_SCHEMA = pa.schema([("id", pa.string()), ("prompt", pa.string()), ("completion", pa.string())])


def _hf_split(reader: SplitReader, folder: Path, dialect: str) -> tuple[int, int]:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.parquet"):
        old.unlink()
    total = 0
    for number, path in enumerate(reader.data.shard_paths(reader.split)):
        tables = []
        for batch in pq.ParquetFile(path).iter_batches(BATCH_ROWS, columns=_ROW_COLUMNS):
            rows = batch_arrays(batch, reader.height, reader.width)
            prompt, completion = prompt_completion(reader, batch, rows, dialect)
            tables.append(pa.Table.from_arrays([rows.ids, prompt, completion], schema=HF_SCHEMA))
        table = pa.concat_tables(tables) if tables else HF_SCHEMA.empty_table()
        target = folder / f"part-{number:05d}.parquet"
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, target)
        total += target.stat().st_size
    return reader.rows, total


def _hf_card(data: Dataset, names: list[str], dialect_of: dict[str, str]) -> str:
    recipe = data.manifest["recipe"]
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for name in names:
        hf = hf_split_name(name)
        lines += [f"  - split: {hf}", f"    path: data/{hf}/*.parquet"]
    lines += [
        "---",
        "",
        f"# {recipe['name']} (mazebench, prompt-completion export)",
        "",
        recipe.get("description") or "Grid mazes with ground-truth A* search traces.",
        "",
        "Columns: `id` (row id in the source dataset), `prompt` (the maze: start, goal, walls), "
        "`completion` (the ground-truth search trace and plan the model must write).",
        "Load with `datasets.load_dataset(\"<this folder>\")`; every split is declared above.",
        "",
        "| split | rows | dialect |",
        "|---|---|---|",
    ]
    for name in names:
        lines.append(f"| {hf_split_name(name)} | {data.num_rows(name)} | {dialect_of[name]} |")
    return "\n".join(lines) + "\n"


def export_dataset(
    path: str | Path,
    out: str | Path,
    *,
    format: str = "jsonl",
    dialect: str | None = None,
    splits: list[str] | None = None,
    progress: bool = False,
) -> list[ExportResult]:
    """Export splits of the dataset at ``path`` to ``out`` (see module doc)."""
    from ..conventions.dialects import get_dialect

    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r} (allowed: {', '.join(FORMATS)})")
    if dialect is not None:
        get_dialect(dialect)
    data = Dataset(path)
    names = list(splits) if splits else data.splits
    for name in names:
        data.shard_paths(name)  # validates the name
    out = Path(out)
    single_file = format == "jsonl" and len(names) == 1 and out.suffix == ".jsonl"
    results = []
    dialect_of = {}
    bar = _bar(sum(data.num_rows(n) for n in names), progress)
    for name in names:
        reader = SplitReader(data, name)
        use = dialect or reader.profile.dialect
        dialect_of[name] = use
        if format == "jsonl":
            target = out if single_file else out / f"{name}.jsonl"
            size = write_chunks(target, _progress(jsonl_chunks(reader, use), bar, reader))
            results.append(ExportResult(name, reader.rows, size, str(target)))
        else:
            folder = out / "data" / hf_split_name(name)
            rows, size = _hf_split(reader, folder, use)
            if bar is not None:
                bar.update(rows)
            results.append(ExportResult(name, rows, size, str(folder)))
    if format == "hf":
        (out / "README.md").write_text(_hf_card(data, names, dialect_of))
    if bar is not None:
        bar.close()
    return results


def _bar(total: int, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=total, unit="ex", leave=False)


def _progress(chunks, bar, reader):
    if bar is None:
        yield from chunks
        return
    done = 0
    for chunk in chunks:
        yield chunk
        new = min(reader.rows, done + BATCH_ROWS)
        bar.update(new - done)
        done = new
