"""Export a dataset as a Hugging Face dataset folder that TRL trainers take unchanged.

``export_hf(DIR, OUT)`` writes, for every split (names made Hugging Face safe: ``-`` -> ``_``):

* ``data/<split>/part-NNNNN.parquet`` - config ``default``: ``id``, ``prompt``, ``completion``
  (strings: the standard prompt-completion format of TRL's ``SFTTrainer``, with completion-only
  loss, and the prompt format of ``GRPOTrainer``) and the problem columns below;
* ``messages/<split>/part-NNNNN.parquet`` - config ``messages``: ``id``, ``messages``
  (``[{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}]``,
  TRL's conversational language-modeling format) and the problem columns. The two formats live in
  separate configs because TRL decides "conversational" from whichever of ``prompt``,
  ``completion``, ``messages`` it happens to look at first;
* ``README.md`` - a dataset card whose YAML header declares both configs, their splits and their
  features (``datasets.load_dataset(OUT)`` / ``load_dataset(OUT, "messages")``);
* ``tokenizer/`` - the matching word-level tokenizer (:mod:`mazebench.training.tokenizer`), when
  every exported split shares one grid size and dialect.

Text: ``prompt`` is what the model reads and ``completion`` what it writes
(:mod:`mazebench.datasets.text`). With ``specials`` (default) they carry the upstream special
tokens: Beyond Semantics (arXiv 2505.13775) ``<|bos|> PROMPT`` / `` COMPLETION`` (TRL appends
``<|eos|>``), Searchformer (arXiv 2402.14083) ``bos PROMPT eos`` / `` bos COMPLETION`` (TRL
appends ``eos``). The completion starts with a space because TRL tokenizes the concatenation
``prompt + completion``. ``messages`` hold the bare texts (the tokenizer's chat template adds the
special tokens).

Problem columns (what reward functions need, :mod:`mazebench.training.rewards`): ``family``,
``height``, ``width``, ``walls`` (row-major, ``numpy.packbits``), ``start_x``, ``start_y``,
``goal_x``, ``goal_y``, ``solvable``, ``plan_length`` (optimal, cells), ``n_events`` and
``trace_tokens`` (ground-truth trace length), ``anchors`` (:mod:`mazebench.training.anchors`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import __version__
from ..ordered import ordered_map
from ..progress import Progress
from .anchors import anchor_cells

METRIC_COLUMNS = ["family", "height", "width", "plan_length", "n_events"]
_ROW_COLUMNS = ["id", "walls", "start_x", "start_y", "goal_x", "goal_y", "solvable", "trace",
                "plan"]
PROBLEM_FIELDS = [
    ("family", pa.string()), ("height", pa.int16()), ("width", pa.int16()),
    ("walls", pa.binary()), ("start_x", pa.int16()), ("start_y", pa.int16()),
    ("goal_x", pa.int16()), ("goal_y", pa.int16()), ("solvable", pa.bool_()),
    ("plan_length", pa.int32()), ("n_events", pa.int32()), ("trace_tokens", pa.int32()),
    ("anchors", pa.list_(pa.int32())),
]
MESSAGE_TYPE = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
DEFAULT_SCHEMA = pa.schema([("id", pa.string()), ("prompt", pa.string()),
                            ("completion", pa.string()), *PROBLEM_FIELDS])
MESSAGES_SCHEMA = pa.schema([("id", pa.string()), ("messages", MESSAGE_TYPE), *PROBLEM_FIELDS])
CONFIGS = {"default": ("data", DEFAULT_SCHEMA), "messages": ("messages", MESSAGES_SCHEMA)}
_SPECIALS = {"beyond-semantics": ("<|bos|>", None, None), "searchformer": ("bos", "eos", "bos")}


@dataclass
class HFResult:
    split: str
    rows: int
    bytes: int
    path: str


def with_specials(prompt: pa.Array, completion: pa.Array, dialect: str, specials: bool
                  ) -> tuple[pa.Array, pa.Array]:
    """The ``prompt``/``completion`` strings of the ``default`` config (see module doc)."""
    prompt, completion = prompt.cast(pa.string()), completion.cast(pa.string())
    if specials and dialect in _SPECIALS:
        bos, eos, cbos = _SPECIALS[dialect]
        prompt = pc.binary_join_element_wise(*(t for t in (bos, prompt, eos) if t is not None),
                                             " ")
        if cbos is not None:
            completion = pc.binary_join_element_wise(cbos, completion, " ")
    completion = pc.binary_join_element_wise("", completion, " ")
    return prompt.cast(pa.string()), completion.cast(pa.string())


def messages_array(prompt: pa.Array, completion: pa.Array) -> pa.Array:
    """``[{"role": "user", "content": p}, {"role": "assistant", "content": c}]`` per row."""
    n = len(prompt)
    content = pa.concat_arrays([prompt.cast(pa.string()), completion.cast(pa.string())])
    order = np.empty(2 * n, dtype=np.int64)
    order[0::2] = np.arange(n)
    order[1::2] = np.arange(n) + n
    roles = pa.array(["user", "assistant"], pa.string()).take(
        pa.array(np.tile(np.array([0, 1], dtype=np.int32), n)))
    items = pa.StructArray.from_arrays([roles, content.take(pa.array(order))],
                                       names=["role", "content"])
    return pa.ListArray.from_arrays(pa.array(np.arange(0, 2 * n + 1, 2, dtype=np.int32)), items)


def problem_columns(*, family, height: int, width: int, walls: np.ndarray, sg: np.ndarray,
                    solvable: np.ndarray, plan_length: np.ndarray, n_events: np.ndarray,
                    ev_off, ev, trace_tokens: np.ndarray | None = None) -> dict[str, pa.Array]:
    """The problem columns of rows given as arrays (``walls`` (n, H, W) bool, ``sg`` (n, 4),
    ``ev`` the event arrays with ``ev_off``); ``trace_tokens`` defaults to five per event
    (a dataset's own column also counts Dualformer rows written without costs)."""
    n = walls.shape[0]
    packed = np.packbits(walls.reshape(n, -1), axis=1)
    nbytes = packed.shape[1]
    walls_arr = pa.Array.from_buffers(
        pa.binary(), n, [None, pa.py_buffer(np.arange(n + 1, dtype=np.int32) * nbytes),
                         pa.py_buffer(packed.tobytes())])
    values, off = anchor_cells(ev_off, ev[0], ev[1], ev[2], sg[:, 2:4], width)
    anchors = pa.ListArray.from_arrays(pa.array((off - off[0]).astype(np.int32)),
                                       pa.array(values, pa.int32()))
    fam = family if isinstance(family, pa.Array) else pa.array([family] * n, pa.string())
    n_events = np.asarray(n_events, dtype=np.int32)
    return {
        "family": fam,
        "height": pa.array(np.full(n, height, np.int16)),
        "width": pa.array(np.full(n, width, np.int16)),
        "walls": walls_arr,
        **{k: pa.array(sg[:, j].astype(np.int16)) for j, k in
           enumerate(("start_x", "start_y", "goal_x", "goal_y"))},
        "solvable": pa.array(np.asarray(solvable, dtype=np.bool_)),
        "plan_length": pa.array(np.asarray(plan_length, dtype=np.int32)),
        "n_events": pa.array(n_events),
        "trace_tokens": pa.array(5 * n_events if trace_tokens is None
                                 else np.asarray(trace_tokens, dtype=np.int32)),
        "anchors": anchors,
    }


def _yaml_type(t: pa.DataType, indent: str) -> list[str]:
    if pa.types.is_list(t):
        inner = t.value_type
        if pa.types.is_struct(inner):
            lines = [f"{indent}  list:"]
            for f in inner:
                lines += [f"{indent}  - name: {f.name}", f"{indent}    dtype: {f.type}"]
            return lines
        return [f"{indent}  list: {inner}"]
    return [f"{indent}  dtype: {'bool' if pa.types.is_boolean(t) else t}"]


def _card(names: list[tuple[str, int]], nbytes: dict[tuple[str, str], int],
          dialects: dict[str, str], title: str, tokenizer: bool) -> str:
    lines = ["---", "configs:"]
    for config, (folder, _) in CONFIGS.items():
        lines += [f"- config_name: {config}", "  data_files:"]
        for hf, _ in names:
            lines += [f"  - split: {hf}", f"    path: {folder}/{hf}/*.parquet"]
    lines.append("dataset_info:")
    for config, (_, schema) in CONFIGS.items():
        lines += [f"- config_name: {config}", "  features:"]
        for field in schema:
            lines.append(f"  - name: {field.name}")
            lines += _yaml_type(field.type, "  ")
        lines.append("  splits:")
        for hf, rows in names:
            lines += [f"  - name: {hf}", f"    num_bytes: {nbytes[config, hf]}",
                      f"    num_examples: {rows}"]
    lines += [
        "---", "", f"# {title} (mazebench export for Hugging Face and TRL)", "",
        "Grid mazes with ground-truth A* search traces. Config `default`: `prompt` / "
        "`completion` strings (TRL prompt-completion format); config `messages`: "
        "`messages` (TRL conversational format). Both carry the problem columns that "
        "`mazebench.training.rewards` reads.", "",
        "```python", "from datasets import load_dataset",
        'train = load_dataset("<this folder>", split="train")',
        'chat = load_dataset("<this folder>", "messages", split="train")', "```", "",
    ]
    if tokenizer:
        lines += ["The matching word-level tokenizer is in `tokenizer/` "
                  "(`AutoTokenizer.from_pretrained(\"<this folder>/tokenizer\")`).", ""]
    lines += ["| split | rows | dialect |", "|---|---|---|"]
    lines += [f"| {hf} | {rows} | {dialects[hf]} |" for hf, rows in names]
    return "\n".join(lines) + "\n"


EXPORT_KEY = b"mazebench.export"


class _ShardFiles:
    """The two config files of one exported shard, written batch by batch (one row group per
    batch, so memory stays at a batch) under temporary names, renamed when complete. Each file
    records what it was made from (``origin``: the source shard's sha256, the text options and
    the mazebench version) and its in-memory size, so a rerun keeps the files a killed run
    finished."""

    def __init__(self, out: Path, hf: str, number: int, origin: dict) -> None:
        self.targets = [out / folder / hf / f"part-{number:05d}.parquet"
                        for folder, _ in CONFIGS.values()]
        self.origin = origin
        self.tmps = [t.with_name(f".{t.name}.tmp-{os.getpid()}") for t in self.targets]
        self.writers: list[pq.ParquetWriter] = []
        self.nbytes = [0] * len(CONFIGS)
        self.rows = 0

    def finished(self) -> bool:
        """True (with ``nbytes``, ``rows`` set) when both files exist from the same origin."""
        found = []
        for target in self.targets:
            try:
                meta = pq.read_metadata(target).metadata or {}
                record = json.loads(meta[EXPORT_KEY])
            except (OSError, KeyError, ValueError):
                return False
            if record.get("origin") != self.origin:
                return False
            found.append(record)
        self.nbytes = [int(r["nbytes"]) for r in found]
        self.rows = int(found[0]["rows"])
        return True

    def write(self, tables: tuple[pa.Table, ...]) -> None:
        if not self.writers:
            for tmp, (_, schema) in zip(self.tmps, CONFIGS.values()):
                tmp.parent.mkdir(parents=True, exist_ok=True)
                self.writers.append(pq.ParquetWriter(tmp, schema, compression="zstd"))
        for k, table in enumerate(tables):
            self.writers[k].write_table(table)
            self.nbytes[k] += table.nbytes
        self.rows += tables[0].num_rows

    def close(self) -> int:
        """Finish and rename both files; returns their total size."""
        if not self.writers:
            self.write(tuple(schema.empty_table() for _, schema in CONFIGS.values()))
        for writer, nbytes in zip(self.writers, self.nbytes):
            writer.add_key_value_metadata({EXPORT_KEY: json.dumps(
                {"origin": self.origin, "nbytes": nbytes, "rows": self.rows},
                sort_keys=True).encode()})
            writer.close()
        for tmp, target in zip(self.tmps, self.targets):
            os.replace(tmp, target)
        return self.size()

    def size(self) -> int:
        return sum(t.stat().st_size for t in self.targets)

    def abort(self) -> None:
        for writer in self.writers:
            writer.close()
        for tmp in self.tmps:
            tmp.unlink(missing_ok=True)


def _shard_tables(reader, path: Path, dialect: str, specials: bool):
    from ..datasets.export import BATCH_ROWS, batch_arrays, prompt_completion
    from ..datasets.parquet_format import open_shard

    columns = sorted(set(reader.columns()) | set(METRIC_COLUMNS) | {"trace_tokens"})
    for batch in open_shard(path).iter_batches(BATCH_ROWS, columns=columns):
        rows = batch_arrays(batch, reader.height, reader.width)
        prompt, completion = prompt_completion(reader, batch, rows, dialect)
        problem = problem_columns(
            family=batch.column("family"), height=reader.height, width=reader.width,
            walls=rows.walls, sg=rows.sg, solvable=rows.solvable,
            plan_length=batch.column("plan_length").to_numpy(),
            n_events=batch.column("n_events").to_numpy(), ev_off=rows.ev_off, ev=rows.ev,
            trace_tokens=batch.column("trace_tokens").to_numpy(),
        )  # fmt: skip
        p, c = with_specials(prompt, completion, dialect, specials and dialect in _SPECIALS)
        default = pa.Table.from_pydict({"id": rows.ids, "prompt": p, "completion": c, **problem},
                                       schema=DEFAULT_SCHEMA)
        chat = pa.Table.from_pydict(
            {"id": rows.ids, "messages": messages_array(prompt, completion), **problem},
            schema=MESSAGES_SCHEMA)
        yield default, chat


def export_hf(dataset_dir: str | Path, out_dir: str | Path, dialect: str | None = None, *,
              splits: list[str] | None = None, specials: bool = True, progress: bool = False,
              workers: int = 2) -> list[HFResult]:
    """Write the Hugging Face folder of a dataset (see the module docstring).

    ``dialect``: ``beyond-semantics``, ``searchformer`` or ``compact`` (default: each split's
    profile dialect). Rows stream batch by batch; one output file per shard and config, shards
    on ``workers`` threads (the bytes do not depend on it). Rerun on the same folder, it keeps
    the shards a killed run finished from the same source shard and options.
    """
    from ..conventions.dialects import get_dialect
    from ..datasets.export import SplitReader, hf_split_name
    from ..datasets.load import Dataset
    from .tokenizer import MazeTokenizer

    if dialect is not None:
        get_dialect(dialect)
    data = Dataset(dataset_dir)
    names = list(splits) if splits else data.splits
    for name in names:
        data.shard_paths(name)
    hf_names = [hf_split_name(n) for n in names]
    if len(set(hf_names)) != len(hf_names):
        raise ValueError(f"splits {names} collide once made Hugging Face safe ({hf_names})")
    out = Path(out_dir)
    bar = Progress(sum(data.num_rows(n) for n in names), enabled=progress)
    results, dialects, sizes, nbytes = [], {}, set(), {}
    for name, hf in zip(names, hf_names):
        reader = SplitReader(data, name)
        use = dialect or reader.profile.dialect
        dialects[hf] = use
        sizes.add((use, reader.height, reader.width))
        paths = data.shard_paths(name)
        hashes = [s["sha256"] for s in data.manifest["splits"][name]["shards"]]
        keep = {f"part-{number:05d}.parquet" for number in range(len(paths))}
        for folder, _ in CONFIGS.values():  # files of another export, and killed writers' files
            for old in (out / folder / hf).glob("*.parquet*"):
                if old.name not in keep:
                    old.unlink()

        def shard(item: tuple[int, Path], reader=reader, hf=hf, use=use, hashes=hashes):
            number, path = item
            origin = {"source_sha256": hashes[number], "dialect": use, "specials": specials,
                      "mazebench": __version__}
            files = _ShardFiles(out, hf, number, origin)
            if files.finished():  # a killed run wrote it: keep it
                return files.size(), files.nbytes, files.rows
            try:
                for tables in _shard_tables(reader, path, use, specials):
                    files.write(tables)
            except BaseException:
                files.abort()
                raise
            return files.close(), files.nbytes, files.rows

        size = 0
        for config in CONFIGS:
            nbytes[config, hf] = 0
        shards = enumerate(paths)
        for written, sizes_in_memory, rows in ordered_map(shard, shards, workers, workers):
            size += written
            for config, n in zip(CONFIGS, sizes_in_memory):
                nbytes[config, hf] += n
            bar.update(rows)
        results.append(HFResult(name, reader.rows, size, str(out / "data" / hf)))
    tokenizer = len(sizes) == 1 and next(iter(sizes))[0] != "compact"
    if tokenizer:
        use, h, w = next(iter(sizes))
        MazeTokenizer(use, h, w).save(out / "tokenizer")
    title = data.manifest["recipe"].get("name", "mazebench")
    (out / "README.md").write_text(
        _card(list(zip(hf_names, [r.rows for r in results])), nbytes, dialects, title,
              tokenizer))
    bar.close()
    return results

