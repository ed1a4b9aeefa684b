"""Transform a dataset directory with an operator chain into a new dataset directory.

The output has the layout :mod:`mazebench.datasets` writes (one folder of Parquet shards per
split, ``manifest.json``, a dataset card ``README.md``) and loads with :func:`mazebench.load`.
Rows keep every source column; the trace, plan and trace-metric columns are replaced, and the
provenance columns of :mod:`mazebench.ops.batch` are appended. The manifest keeps the source
recipe and adds a ``transform`` section: the source (path, blake2b of its manifest, its own
``transform`` if it was itself transformed), the resolved chain with every parameter and seed,
and per split the row counts and the operators' counters. It holds no timestamps: the same
source, chain and seed give the same bytes.

Row-scope chains stream shard by shard (one output shard per source shard, ``workers`` threads;
the numba kernels and Parquet release the GIL). A chain with a split-scope operator (``swap``,
``cut-random-suffix``) holds the split: the columns other than ``trace`` and the trace metrics
as Arrow reads them, dictionary-encoded strings as dictionaries (about 0.3 GB for 10^6 30x30
rows), and the trace values where the memory-mapped pages of the shards hold them
(:func:`source_batches`; shards with a codec are decoded instead, about 1.5 GB more). It
writes shards of the source's shard size; a final ``swap`` defers its gather of traces to the
writer threads, a row group at a time, copying values straight from the pages.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .. import __version__
from ..datasets.load import Dataset
from ..datasets.manifest import file_hash, shard_entries, split_statistics
from ..datasets.packed import FORMAT_VERSION, PLAN_DTYPE, TRACE_DTYPE
from ..datasets.parquet_format import (
    DEFAULT_CODEC,
    ROW_GROUP_ROWS,
    ShardWriter,
    check_codec,
    dictionary_columns,
    open_shard,
)
from ..datasets.parquet_pages import ChunkLocator
from ..datasets.shard_summary import ShardSummary, SummaryPool
from ..progress import Progress
from ..search.profiles import get_profile
from .batch import (
    PROVENANCE,
    PROVENANCE_DOCS,
    TRACE_METRICS,
    TraceBatch,
    _ro,
    batch_from_table,
    table_from_batch,
)
from .chain import (
    apply_steps,
    bind,
    chain_columns,
    chain_spec,
    merge_counts,
    merge_summaries,
    needs_split,
    parse_chain,
)
from .registry import Step
from .traces import Traces

META_OPS = b"mazebench.ops"
META_SPLIT = b"mazebench.split"


def shard_name(number: int) -> str:
    return f"part-{number:05d}.parquet"


def _meta(split: str, spec: str) -> dict[bytes, bytes]:
    return {META_OPS: spec.encode(), META_SPLIT: split.encode()}


META_SUMMARY = b"mazebench.ops_summary"
META_SOURCE_ROWS = b"mazebench.source_rows"
RESUME_MARKER = ".transform-in-progress.json"
MAX_LOCATED_ROWS = 65_536  # larger row groups are read by Arrow in batches


def _finished(path: Path, split: str, spec: str) -> pq.FileMetaData | None:
    """The Parquet metadata of a shard a killed run already finished, or None."""
    if not path.exists():
        return None
    try:
        info = pq.read_metadata(path)
    except Exception:  # noqa: BLE001 - unreadable: write it again
        return None
    meta = info.metadata or {}
    if meta.get(META_OPS) != spec.encode() or meta.get(META_SPLIT) != split.encode():
        return None
    return info


# -- text column -------------------------------------------------------------------------------


def _text_column(batch: TraceBatch, dialect: str, profile) -> pa.Array:
    """The ``text`` column of a resolved batch's new traces (native dialects only)."""
    from ..datasets.text import render, to_string_array
    from .events import unpack_all

    n = len(batch)
    hw = batch.hw()
    h, w = (int(v) for v in hw[0]) if n else (1, 1)
    cell_off = np.arange(n + 1, dtype=np.int64) * (h * w)
    walls = unpack_all(*batch.packed_walls(), hw, _ro(cell_off)).reshape(n, h, w)
    solvable = batch.column("solvable", np.bool_)
    unsolved = ~solvable & (profile.unsolvable_plan == "start-goal")
    buf, offsets = render("text", dialect, walls, batch.sg(), batch.off, batch.events[1:],
                          batch.plan_off, (batch.plan_x, batch.plan_y), unsolved,
                          not profile.randomized, np.asarray(batch.costs))
    return to_string_array(buf, offsets).cast(pa.string())  # the builder's column type


# -- reading a whole split ---------------------------------------------------------------------


def source_batches(path: Path, dictionary: Sequence[str] = ()) -> Iterator[TraceBatch]:
    """A source shard's row groups as batches (an empty shard: one empty batch).
    ``dictionary``: string columns to read as dictionary arrays (a split read whole holds
    the columns its shards store dictionary-encoded that way: 125 MB less for 10^6 rows).

    The ``trace`` values of a shard in the layout mazebench writes (no codec) stay where the
    file's pages hold them (:class:`~mazebench.datasets.parquet_pages.ChunkLocator` over a
    memory map of the page cache): Arrow reads the other columns. Arrow decoding the traces
    into new buffers was most of a shard's read time and nearly all its page faults: reading
    the 20 shards of 10^6 30x30 rows took 1.8-2.0 s on one thread, 0.5 s this way. Other
    layouts (a codec, a dictionary, nulls, row groups of more than
    :data:`MAX_LOCATED_ROWS` rows) are read by Arrow in batches of ``ROW_GROUP_ROWS``.
    """
    source = open_shard(path)
    meta = source.metadata
    # every column but the trace metrics, which are recomputed for the new traces
    columns = [c for c in source.schema_arrow.names if c not in TRACE_METRICS]
    if dictionary:
        source = open_shard(path, [c for c in dictionary if c in columns])
    if meta.num_rows == 0:
        yield batch_from_table(source.schema_arrow.empty_table().select(columns))
        return
    located = None
    if max(meta.row_group(g).num_rows for g in range(meta.num_row_groups)) <= MAX_LOCATED_ROWS:
        located = ChunkLocator.open(path, source, "trace")
    if located is None:
        for part in source.iter_batches(batch_size=ROW_GROUP_ROWS, columns=columns,
                                        use_threads=False):
            yield batch_from_table(pa.Table.from_batches([part]))
        return
    others = [c for c in columns if c != "trace"]
    for g in range(meta.num_row_groups):
        ranges = located.values(g)
        if ranges is None:  # a page this reader does not take: Arrow reads the group
            yield batch_from_table(source.read_row_group(g, columns=columns, use_threads=False))
            continue
        table = source.read_row_group(g, columns=others, use_threads=False)
        yield batch_from_table(table, Traces.from_ranges(*ranges, located.data))


def read_split(paths: Sequence[Path], workers: int = 2) -> TraceBatch:
    """Every shard of a split as one batch; the traces stay each shard's folded values
    (:meth:`Traces.concat`). Shards are read as a row-scope transform reads them
    (:func:`source_batches`: one thread per shard, no pre-buffering; ``pq.read_table``'s
    defaults took 3x the time here, most of it page faults: 5.0 vs 1.6 s for 20 shards of
    50,000 30x30 rows on 2 threads)."""
    first = open_shard(paths[0]) if paths else None
    dictionary = dictionary_columns(first, first.schema_arrow.names) if first else []

    def read(k: int) -> list[TraceBatch]:
        try:
            return list(source_batches(paths[k], dictionary))
        except ValueError as exc:
            raise ValueError(f"{paths[k]}: {exc}") from None

    with ThreadPoolExecutor(max(1, workers)) as pool:
        parts = [part for parts in pool.map(read, range(len(paths))) for part in parts]
    if not parts:
        return TraceBatch(pa.table({}), Traces(np.zeros(1, np.int64),
                                               records=np.empty(0, TRACE_DTYPE)),
                          _ro(np.zeros(1, np.int64)), _ro(np.empty(0, PLAN_DTYPE)),
                          _ro(np.zeros(0, bool)))
    traces = Traces.concat([p.traces for p in parts])
    plan_counts = np.concatenate([np.diff(p.plan_off) for p in parts])
    plan_off = np.zeros(plan_counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(plan_counts, out=plan_off[1:])
    extra = {key: _ro(np.concatenate([p.extra[key] for p in parts])) for key in parts[0].extra}
    table = pa.concat_tables([p.table for p in parts])
    return TraceBatch(table, traces, _ro(plan_off), None,
                      _ro(np.concatenate([np.asarray(p.costs) for p in parts])), extra,
                      parts[0].anchors,
                      plan_column=pa.chunked_array([c for p in parts for c in
                                                    p.plan_column.chunks], pa.binary()))


# -- one split ---------------------------------------------------------------------------------


class _SplitJob:
    def __init__(self, name, spec, paths, out_dir, steps, spec_text, columns, order, text,
                 codec=DEFAULT_CODEC):
        self.name, self.spec, self.paths = name, spec, paths
        self.out_dir, self.steps, self.spec_text = out_dir, steps, spec_text
        self.columns, self.order, self.text, self.codec = columns, order, text, codec
        self.profile = get_profile(spec["profile"])
        self.summaries: list[dict] = [{} for _ in steps]
        self.written: dict[Path, ShardSummary] = {}  # the manifest summaries of new shards
        self.lock = threading.Lock()

    def table(self, batch: TraceBatch) -> pa.Table:
        batch = batch.resolved()  # a swapped split's traces are gathered here, a slice at a time
        table = table_from_batch(batch, self.spec_text, self.order, self.columns)
        if self.text is not None:
            table = table.append_column("text", _text_column(batch, self.text, self.profile))
        return table

    def write(self, number: int, tables, metadata=None) -> int:
        """Write the tables of an iterable as shard ``number`` (the writer opens on the first
        table, whose schema it takes); ``metadata()`` gives key-value pairs known only at the
        end. Returns the rows written; the shard's summary goes to ``self.written``."""
        writer = None
        try:
            for table in tables:
                writer = writer or ShardWriter(
                    self.out_dir / shard_name(number), table.schema,
                    _meta(self.name, self.spec_text), codec=self.codec, fsync=False)
                writer.write(table)
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        summary = writer.close(metadata() if metadata else None)
        with self.lock:
            self.written[writer.path] = summary
        return summary.rows

    def finish(self, batch: TraceBatch, number: int) -> tuple[str, int]:
        """Write rows of a batch in memory as shard ``number``, a row group at a time."""
        done = _finished(self.out_dir / shard_name(number), self.name, self.spec_text)
        if done is not None:
            return shard_name(number), done.num_rows
        tables = (self.table(batch.slice(a, min(a + ROW_GROUP_ROWS, len(batch))))
                  for a in range(0, max(1, len(batch)), ROW_GROUP_ROWS))
        return shard_name(number), self.write(number, tables)

    def run_shard(self, number: int) -> tuple[str, int, int]:
        """Stream source shard ``number`` row group by row group through the chain (a shard
        that a killed run finished is kept: its counters are in its metadata)."""
        done = _finished(self.out_dir / shard_name(number), self.name, self.spec_text)
        if done is not None and META_SUMMARY in done.metadata:
            with self.lock:
                merge_counts(self.summaries, json.loads(done.metadata[META_SUMMARY]))
            return shard_name(number), done.num_rows, int(done.metadata[META_SOURCE_ROWS])
        steps = bind(self.steps, self.name, self.profile)
        source_rows = 0

        def tables():
            nonlocal source_rows
            for batch in source_batches(self.paths[number]):
                source_rows += len(batch)
                yield self.table(apply_steps(batch, steps))

        rows = self.write(number, tables(), lambda: {
            META_SUMMARY: json.dumps([dict(st.summary) for st in steps]).encode(),
            META_SOURCE_ROWS: str(source_rows).encode()})
        self._merge(steps)
        return shard_name(number), rows, source_rows

    def _merge(self, steps: list[Step]) -> None:
        with self.lock:
            merge_summaries(self.summaries, steps)


def _transform_split(job: _SplitJob, workers: int, shard_rows: int, bar: Progress) -> list[str]:
    names: list[str] = []
    if needs_split(job.steps):
        batch = read_split(job.paths, workers)
        bar.update(len(batch) // 2)
        steps = bind(job.steps, job.name, job.profile)
        batch = apply_steps(batch, steps, deferred=True)
        job._merge(steps)
        bounds = list(range(0, len(batch), shard_rows)) or [0]
        slices = [(k, a, min(a + shard_rows, len(batch))) for k, a in enumerate(bounds)]
        with ThreadPoolExecutor(max(1, workers)) as pool:
            done = pool.map(lambda s: job.finish(batch.slice(s[1], s[2]), s[0]), slices)
            for name, rows in done:
                names.append(name)
                bar.update(rows - rows // 2)
        return names
    with ThreadPoolExecutor(max(1, workers)) as pool:
        for name, _, source_rows in pool.map(job.run_shard, range(len(job.paths))):
            names.append(name)
            bar.update(source_rows)
    return names


# -- the dataset -------------------------------------------------------------------------------


def _output_dir(out: Path, source: Path, marker: dict) -> bool:
    """Create ``out``; True when it holds the shards of a killed run of the same transform
    (its marker file matches), which then resumes."""
    if out.resolve() == source.resolve():
        raise ValueError("the output directory must differ from the source dataset")
    marker_path = out / RESUME_MARKER
    if out.exists() and any(out.iterdir()):
        try:
            same = json.loads(marker_path.read_text()) == marker
        except (OSError, ValueError):
            same = False
        if not same:
            raise ValueError(f"output directory {str(out)!r} is not empty; choose another or "
                             "delete it")
        for tmp in out.rglob(".*.tmp-*"):  # a killed writer's temporary file
            tmp.unlink()
        return True
    out.mkdir(parents=True, exist_ok=True)
    marker_path.write_text(json.dumps(marker, sort_keys=True))
    return False


def transform_dataset(
    source: str | Path,
    out: str | Path,
    ops: str | Sequence[str],
    *,
    seed: int = 0,
    splits: Iterable[str] | None = None,
    workers: int = 2,
    progress: bool = False,
    compression: str = DEFAULT_CODEC,
) -> dict:
    """Apply an operator chain to every split (or ``splits``) of ``source``; write ``out``.

    ``compression``: codec of the new shards (none, lz4 or zstd; see
    :mod:`mazebench.datasets.parquet_format`).

    Returns the manifest written to ``out/manifest.json``.
    """
    check_codec(compression)
    data = Dataset(source)
    src, dst = Path(source), Path(out)
    steps = parse_chain(ops, seed=seed)
    names = list(splits) if splits else data.splits
    for name in names:
        data.shard_paths(name)  # raises on an unknown split
    spec_text = chain_spec(steps)
    marker = {"spec": spec_text, "splits": names, "compression": compression,
              "source_manifest_blake2b": file_hash(src / "manifest.json")}
    _output_dir(dst, src, marker)
    recipe = json.loads(json.dumps(data.manifest["recipe"]))
    recipe["splits"] = [s for s in recipe["splits"] if s["name"] in names]
    split_info, summaries, notes, written = {}, {}, [], set()
    try:
        for spec in recipe["splits"]:
            name = spec["name"]
            paths = data.shard_paths(name)
            schema = pq.read_schema(paths[0]) if paths else pa.schema([])
            existing = [c for c in schema.names if c in PROVENANCE]
            columns = chain_columns(steps, existing)
            written.update(columns)
            order = [c for c in schema.names if c not in PROVENANCE and c != "text"]
            text = spec.get("text") if "text" in schema.names else None
            if text is not None and text not in ("beyond-semantics", "searchformer"):
                notes.append(f"split {name}: text column dropped (no writer for the new traces)")
                spec["text"] = None
                text = None
            out_dir = dst / name
            out_dir.mkdir(parents=True, exist_ok=True)
            job = _SplitJob(name, spec, paths, out_dir, steps, spec_text, columns, order, text,
                            compression)
            source_rows = data.num_rows(name)
            shard_rows = max([pq.read_metadata(p).num_rows for p in paths] + [1])
            bar = Progress(source_rows, name, enabled=progress)
            try:
                shard_names = _transform_split(job, workers, shard_rows, bar)
            finally:
                bar.close()
            shard_paths = [out_dir / s for s in shard_names]
            info = data.manifest["splits"][name]
            with SummaryPool(workers) as pool:  # shards a killed run wrote are read again
                for path, summary in job.written.items():
                    pool.put(path, summary)
                shards = shard_entries(name, shard_paths, pool=pool)
                statistics = split_statistics(shard_paths, pool)
            split_info[name] = {
                "rows": sum(s["rows"] for s in shards),
                "candidates": info.get("candidates", source_rows),
                "shards": shards,
                "statistics": statistics,
            }
            summaries[name] = {
                "source_rows": source_rows,
                "rows": split_info[name]["rows"],
                "steps": [{"op": s.op.name, **dict(sorted(c.items()))}
                          for s, c in zip(steps, job.summaries)],
            }
    except KeyboardInterrupt:
        raise  # finished shards stay: the same command resumes
    except BaseException:
        shutil.rmtree(dst, ignore_errors=True)
        raise
    manifest = {
        "format": "mazebench-dataset",
        "format_version": FORMAT_VERSION,
        "mazebench_version": __version__,
        "recipe": recipe,
        "splits": split_info,
        "transform": {
            "source": {
                "path": str(src.resolve()),
                "manifest_blake2b": file_hash(src / "manifest.json"),
                "recipe": data.manifest["recipe"]["name"],
                "seed": data.manifest["recipe"].get("seed"),
                "transform": data.manifest.get("transform"),
            },
            "seed": int(seed),
            "spec": spec_text,
            "chain": [s.to_dict() for s in steps],
            "columns": [c for c in PROVENANCE if c in written],
            "notes": notes,
            "splits": summaries,
        },
    }
    (dst / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    write_card(dst, manifest, data.manifest)
    (dst / RESUME_MARKER).unlink(missing_ok=True)
    return manifest


def write_card(out: Path, manifest: dict, source_manifest: dict) -> None:
    """The dataset card of a transformed dataset (``README.md``)."""
    tr = manifest["transform"]
    lines = [
        f"# {manifest['recipe']['name']}, transformed (mazebench dataset)",
        "",
        f"Made by `mazebench transform` (mazebench {manifest['mazebench_version']}) from the "
        f"dataset `{manifest['recipe']['name']}` (seed {tr['source']['seed']}, manifest blake2b "
        f"`{tr['source']['manifest_blake2b'][:16]}...`) with the operator chain",
        "",
        "```",
        *[step["spec"] for step in tr["chain"]],
        "```",
        "",
        f"(chain seed {tr['seed']}). Every row keeps its problem and the source columns; its "
        "trace, plan and trace metrics are the transformed ones, and provenance columns record "
        "the original trace (`source_trace_hash`, `source_n_events`) and the chain (`ops`).",
        "",
        "| split | rows (source) | events median: source -> now | tokens median | counters |",
        "|---|---|---|---|---|",
    ]
    for name, info in manifest["splits"].items():
        st = info["statistics"]
        src_st = source_manifest["splits"][name]["statistics"]
        summary = tr["splits"][name]
        counters = "; ".join(
            f"{s['op']}: " + ", ".join(f"{k}={v}" for k, v in s.items() if k != "op")
            for s in summary["steps"] if len(s) > 1
        ) or "-"
        lines.append(
            f"| {name} | {info['rows']} ({summary['source_rows']}) | "
            f"{src_st.get('n_events', {}).get('q50', 0):.0f} -> "
            f"{st.get('n_events', {}).get('q50', 0):.0f} | "
            f"{st.get('trace_tokens', {}).get('q50', 0):.0f} | {counters} |"
        )
    lines += ["", "Provenance columns:", ""]
    lines += [f"- `{c}`: {PROVENANCE_DOCS[c]}" for c in tr["columns"]]
    for note in tr["notes"]:
        lines += ["", f"Note: {note}."]
    lines += [
        "",
        "Load without mazebench: `pandas.read_parquet(\"<dir>/<split>\")` or "
        "`datasets.load_dataset(\"parquet\", data_files={\"train\": \"<dir>/train/*.parquet\"})`.",
        "",
    ]
    (out / "README.md").write_text("\n".join(lines))
