"""Export a dataset to the text formats training code reads.

* ``jsonl`` - one file per split, ``<split>.jsonl``:

  - ``beyond-semantics``: ``{"text":"query start ... end"}`` lines, byte for byte the format of the
    Beyond Semantics generator (arXiv 2505.13775), so its training code reads them unchanged;
  - ``searchformer``: lines with the Searchformer fixture keys ``width``, ``height``, ``start``,
    ``goal``, ``walls``, ``deterministic``, ``prompt``, ``reasoning``, ``plan``
    (arXiv 2402.14083);
  - ``compact``: ``{"prompt", "reasoning", "plan"}`` lines in mazebench's compact dialect.

* ``hf`` - a Hugging Face folder that TRL's trainers take unchanged, written by
  :func:`mazebench.training.hf.export_hf`: configs ``default`` (``prompt``/``completion``) and
  ``messages``, the problem columns reward functions read, a dataset card declaring splits and
  features, and the matching tokenizer.

The dialect defaults to each split's profile dialect. Rows stream shard by shard (flat memory)
and become text in numba (:mod:`mazebench.datasets.text`). Each JSONL file appears complete or
not at all, with a hidden ``.<file>.mazebench.json`` beside it naming its source shards and
dialect, so a rerun after a kill keeps the splits already written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .. import __version__
from ..atomic import write_chunks
from ..ordered import ordered_map
from ..progress import Progress
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
    costs: np.ndarray | None = None  # False: create clauses without costs (Dualformer L2/L3)


def batch_arrays(batch: pa.RecordBatch, height: int, width: int) -> RowArrays:
    """Unpack a record batch (walls bits, packed trace and plan) into flat numpy arrays."""
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
    costs = None
    if "trace_costs" in batch.schema.names:
        costs = batch.column("trace_costs").to_numpy(zero_copy_only=False).astype(np.bool_)
    return RowArrays(batch.column("id"), walls, sg, ev_off, tuple(ev), pl_off, (px, py), solvable,
                     costs)


class SplitReader:
    """Streams one split of a dataset as :class:`RowArrays` batches."""

    def __init__(self, data: Dataset, split: str) -> None:
        spec = next(s for s in data.manifest["recipe"]["splits"] if s["name"] == split)
        self.data, self.split = data, split
        self.height, self.width = int(spec["maze"]["height"]), int(spec["maze"]["width"])
        self.profile = get_profile(spec["profile"])
        self.rows = data.num_rows(split)
        paths = data.shard_paths(split)
        names = pq.read_schema(paths[0]).names if paths else []
        self._columns = _ROW_COLUMNS + (["trace_costs"] if "trace_costs" in names else [])

    def columns(self) -> list[str]:
        """The columns the writers read (``trace_costs`` when the dataset has it)."""
        return list(self._columns)

    def record_batches(self) -> Iterator[pa.RecordBatch]:
        """The split's rows, :data:`BATCH_ROWS` at a time, in the columns the writers read."""
        return self.data.iter_batches(self.split, BATCH_ROWS, columns=self.columns())

    def batches(self) -> Iterator[tuple[pa.RecordBatch, RowArrays]]:
        for batch in self.record_batches():
            yield batch, batch_arrays(batch, self.height, self.width)

    def unsolved_plan(self, rows: RowArrays) -> np.ndarray:
        return ~rows.solvable & (self.profile.unsolvable_plan == "start-goal")


def _render(reader: SplitReader, rows: RowArrays, layout: str, dialect: str):
    return render(layout, dialect, rows.walls, rows.sg, rows.ev_off, rows.ev, rows.pl_off,
                  rows.pl, reader.unsolved_plan(rows), not reader.profile.randomized, rows.costs)


def _python_parts(reader: SplitReader, batch: pa.RecordBatch, dialect: str) -> list[dict]:
    """Dialects without a numba writer: one example object per row (small datasets)."""
    from ..conventions.dialects import get_dialect
    from ..search.solve import Plan

    writer = get_dialect(dialect)
    if "trace_costs" in batch.schema.names and not all(batch.column("trace_costs").to_pylist()):
        raise ValueError(f"rows without cost tokens (Dualformer L2/L3) have no {dialect!r} "
                         "writer; export them as beyond-semantics or searchformer")
    out = []
    for row in batch.to_pylist():
        ex = example_from_row(row)
        plan = ex.plan
        if not ex.solvable and reader.profile.unsolvable_plan == "start-goal":
            (sx, sy), (gx, gy) = ex.problem.start, ex.problem.goal
            plan = Plan.from_arrays([sx, gx], [sy, gy])
        out.append(writer.parts(ex.problem, ex.trace, plan))
    return out


def jsonl_chunks(reader: SplitReader, dialect: str, workers: int = 1) -> Iterator[bytes]:
    """The bytes of a split's JSONL export, batch by batch (rendered on ``workers`` threads,
    in order)."""
    layout = {"beyond-semantics": "bs_jsonl", "searchformer": "sf_jsonl"}.get(dialect)

    def chunk(batch: pa.RecordBatch) -> bytes:
        if layout is not None:
            rows = batch_arrays(batch, reader.height, reader.width)
            buf, _ = _render(reader, rows, layout, dialect)
            return buf.tobytes()
        return "".join(json.dumps(p) + "\n" for p in _python_parts(reader, batch, dialect)
                       ).encode()

    yield from ordered_map(chunk, reader.record_batches(), workers if layout else 1)


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


def export_dataset(
    path: str | Path,
    out: str | Path,
    *,
    format: str = "jsonl",
    dialect: str | None = None,
    splits: list[str] | None = None,
    progress: bool = False,
    specials: bool = True,
    workers: int = 2,
) -> list[ExportResult]:
    """Export splits of the dataset at ``path`` to ``out`` (see module doc); ``specials``:
    the ``hf`` texts carry the upstream bos/eos tokens; ``workers``: threads rendering text
    (the bytes do not depend on it)."""
    from ..conventions.dialects import get_dialect

    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r} (allowed: {', '.join(FORMATS)})")
    if dialect is not None:
        get_dialect(dialect)
    if format == "hf":
        from ..training.hf import export_hf

        return [ExportResult(r.split, r.rows, r.bytes, r.path)
                for r in export_hf(path, out, dialect, splits=splits, specials=specials,
                                   progress=progress, workers=workers)]
    data = Dataset(path)
    names = list(splits) if splits else data.splits
    for name in names:
        data.shard_paths(name)  # validates the name
    out = Path(out)
    single_file = len(names) == 1 and out.suffix == ".jsonl"
    results = []
    bar = Progress(sum(data.num_rows(n) for n in names), enabled=progress)
    for name in names:
        reader = SplitReader(data, name)
        use = dialect or reader.profile.dialect
        target = out if single_file else out / f"{name}.jsonl"
        origin = {"source_sha256": [s["sha256"] for s in data.manifest["splits"][name]["shards"]],
                  "dialect": use, "mazebench": __version__}
        size = _finished_size(target, origin)
        if size is None:
            size = write_chunks(target, _progress(jsonl_chunks(reader, use, workers), bar,
                                                  reader))
            _record(target).write_text(json.dumps({"origin": origin, "bytes": size},
                                                  sort_keys=True))
        else:
            bar.update(reader.rows)
        results.append(ExportResult(name, reader.rows, size, str(target)))
    bar.close()
    return results


def _record(target: Path) -> Path:
    """The hidden file beside a JSONL export saying what it was made from."""
    return target.with_name(f".{target.name}.mazebench.json")


def _finished_size(target: Path, origin: dict) -> int | None:
    """The size of ``target`` when a run (perhaps killed later) already wrote it from
    ``origin``, else None: a rerun keeps the splits it finished."""
    try:
        record = json.loads(_record(target).read_text())
        size = target.stat().st_size
    except (OSError, ValueError):
        return None
    if record.get("origin") != origin or record.get("bytes") != size:
        return None
    return size


def _progress(chunks, bar: Progress, reader):
    done = 0
    for chunk in chunks:
        yield chunk
        new = min(reader.rows, done + BATCH_ROWS)
        bar.update(new - done)
        done = new
