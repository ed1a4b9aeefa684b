"""``mazebench verify``: check a dataset directory against its manifest and its recipe.

Every problem found is one line of the report:

* checksums: a shard listed in the manifest that is missing, or whose sha256 (blake2b in
  manifests of earlier versions) differs (changed),
  or a Parquet file in a split folder that the manifest does not list (extra); row counts;
* schema drift: a shard whose columns or types differ from the row schema;
* content hashes: a row whose ``problem_hash`` / ``layout_hash`` do not match its walls, start
  and goal;
* leakage: a problem twice in a split, a wall layout in two splits;
* ground truth: for a sample of rows per split, the row is rebuilt from the recipe's random
  stream (maze, start, goal) and re-solved with :func:`mazebench.solve` and the row's profile; its
  trace, plan and metrics must be equal (randomised profiles are checked against the rebuilt row,
  whose search stream continues the maze stream);
* statistics: the manifest's summary statistics of every split.

A dataset written by ``mazebench transform`` (``manifest["transform"]``) is checked the same way
with its provenance columns in the schema; its rows' traces are meant to differ from the solver's,
so the sample check instead rebuilds the problem, re-solves it and requires the row's
``source_trace_hash`` / ``source_n_events`` to be those of the re-solved trace, and the row's
trace metrics to be those of its own trace.

Duplicate and leak detection use 64-bit keys (:mod:`mazebench.datasets.dedupe`) and confirm each
hit on the full 128-bit hashes, so memory stays small for large datasets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..search.metrics import METRIC_NAMES
from .dedupe import KeySet, hex_keys
from .manifest import file_hash, split_statistics
from .packed import check_format
from .schema import SCHEMA


@dataclass
class Report:
    """The outcome of :func:`verify_dataset`: one line per problem."""

    problems: list[str] = field(default_factory=list)
    shards: int = 0
    rows: int = 0
    resolved: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, text: str) -> None:
        self.problems.append(text)


def expected_schema(spec: dict, transform: dict | None = None) -> pa.Schema:
    """The row schema of a split: the builder's columns, then the provenance columns of a
    transformed dataset, then ``text`` when the recipe asks for one."""
    schema = SCHEMA
    if transform:
        from ..ops.batch import PROVENANCE

        for name in transform.get("columns", []):
            if name not in PROVENANCE:
                raise ValueError(f"manifest transform lists an unknown column {name!r}")
            schema = schema.append(pa.field(name, PROVENANCE[name]))
    if spec.get("text"):
        schema = schema.append(pa.field("text", pa.string()))
    return schema


def _schema_drift(path: str, actual: pa.Schema, expected: pa.Schema) -> str | None:
    actual = actual.remove_metadata()
    if actual.equals(expected):
        return None
    have = {f.name: f.type for f in actual}
    want = {f.name: f.type for f in expected}
    for name in want:
        if name not in have:
            return f"schema drift: {path}: column {name!r} is missing"
        if have[name] != want[name]:
            return f"schema drift: {path}: column {name!r} is {have[name]}, expected {want[name]}"
    for name in have:
        if name not in want:
            return f"schema drift: {path}: unexpected column {name!r}"
    return f"schema drift: {path}: columns are out of order"


def _check_files(root: Path, manifest: dict, report: Report) -> dict[str, list[Path]]:
    """Checksums and the shard lists; returns the readable shards per split."""
    readable: dict[str, list[Path]] = {}
    listed = set()
    order = [s["name"] for s in manifest["recipe"]["splits"] if s["name"] in manifest["splits"]]
    order += [n for n in manifest["splits"] if n not in order]
    for name in order:
        info = manifest["splits"][name]
        readable[name] = []
        rows = 0
        for shard in info["shards"]:
            rel = shard["path"]
            listed.add(rel)
            path = root / rel
            if not path.exists():
                report.add(f"missing shard: {rel}")
                continue
            report.shards += 1
            algorithm = next((a for a in ("sha256", "blake2b") if a in shard), None)
            if algorithm is None:
                report.add(f"changed shard: {rel} (the manifest lists no hash for it)")
            elif file_hash(path, algorithm) != shard[algorithm]:
                report.add(f"changed shard: {rel} ({algorithm} differs from the manifest)")
            try:
                n = pq.read_metadata(path).num_rows
            except Exception as exc:  # noqa: BLE001 - any unreadable file is a finding
                report.add(f"unreadable shard: {rel}: {str(exc).splitlines()[0]}")
                continue
            if n != shard["rows"]:
                report.add(f"row count: {rel} has {n} rows, the manifest says {shard['rows']}")
            rows += n
            readable[name].append(path)
        if rows != info["rows"] and len(readable[name]) == len(info["shards"]):
            report.add(f"row count: split {name} has {rows} rows, the manifest says {info['rows']}")
    for path in sorted(root.rglob("*.parquet")):
        rel = path.relative_to(root).as_posix()
        top = rel.split("/")[0]
        if rel not in listed and (top in manifest["splits"] or path.parent == root):
            report.add(f"extra shard: {rel} (not in the manifest)")
    return readable


def _check_rows(root: Path, manifest: dict, readable: dict[str, list[Path]], report: Report,
                check_hashes: bool) -> None:
    """Schema, content hashes, duplicates in a split and layouts shared by splits."""
    from .schema import block_hashes

    specs = {s["name"]: s for s in manifest["recipe"]["splits"]}
    layout_sets: dict[str, KeySet] = {}
    for name, paths in readable.items():
        expected = expected_schema(specs.get(name, {}), manifest.get("transform"))
        problems = KeySet()
        layouts = KeySet()
        dup_keys: list[int] = []
        for path in paths:
            rel = path.relative_to(root).as_posix()
            drift = _schema_drift(rel, pq.read_schema(path), expected)
            if drift:
                report.add(drift)
                continue
            cols = ["problem_hash", "layout_hash", "walls", "height", "width", "start_x",
                    "start_y", "goal_x", "goal_y"]
            table = pq.read_table(path, columns=cols)
            report.rows += table.num_rows
            p_hex = table.column("problem_hash").to_pylist()
            l_hex = table.column("layout_hash").to_pylist()
            if check_hashes and table.num_rows:
                bad = _hash_mismatch(table, p_hex, l_hex, block_hashes)
                for i in bad[:5]:
                    report.add(f"content hash: {rel} row {i}: problem/layout hash does not match "
                               "its walls, start and goal")
                if len(bad) > 5:
                    report.add(f"content hash: {rel}: {len(bad) - 5} more rows do not match")
            pk = hex_keys(p_hex)
            seen = problems.contains(pk)
            # duplicates inside this shard too
            _, first = np.unique(pk, return_index=True)
            inside = np.ones(len(pk), dtype=bool)
            inside[first] = False
            dup_keys.extend(pk[seen | inside].tolist())
            problems.add(pk)
            layouts.add(hex_keys(l_hex))
        if dup_keys:
            _report_duplicates(root, name, paths, set(dup_keys), report)
        layout_sets[name] = layouts
    names = list(layout_sets)
    for a_i, a in enumerate(names):
        for b in names[a_i + 1 :]:
            _report_leaks(root, a, b, readable, layout_sets, report)


def _hash_mismatch(table: pa.Table, p_hex: list[str], l_hex: list[str], block_hashes) -> list[int]:
    from .batch import Block

    h = table.column("height").to_numpy()
    w = table.column("width").to_numpy()
    bad: list[int] = []
    if len(set(h.tolist())) != 1 or len(set(w.tolist())) != 1:
        return list(range(table.num_rows))
    height, width = int(h[0]), int(w[0])
    n = table.num_rows
    try:
        raw = b"".join(table.column("walls").to_pylist())
        bits = np.unpackbits(np.frombuffer(raw, np.uint8).reshape(n, -1), axis=1,
                             count=height * width)
    except ValueError:
        return list(range(n))
    sg = np.stack([table.column(c).to_numpy() for c in ("start_x", "start_y", "goal_x", "goal_y")],
                  axis=1).astype(np.int16)
    empty = np.empty(0)
    block = Block(np.arange(n), bits.astype(bool).reshape(n, height, width), sg, empty, empty,
                  empty, empty, empty, empty, empty, empty, empty, empty, empty, empty)
    hashes = block_hashes(block)
    problems, layouts = hashes.problem_hex(), hashes.layout_hex()
    for i in range(n):
        if problems[i] != p_hex[i] or layouts[i] != l_hex[i]:
            bad.append(i)
    return bad


def _report_duplicates(root, name, paths, keys: set[int], report: Report) -> None:
    rows: dict[str, list[str]] = {}
    for path in paths:
        t = pq.read_table(path, columns=["id", "problem_hash"])
        ids, hashes = t.column(0).to_pylist(), t.column(1).to_pylist()
        for k, row_id, hx in zip(hex_keys(hashes).tolist(), ids, hashes):
            if k in keys:
                rows.setdefault(hx, []).append(row_id)
    for hx, ids in rows.items():
        if len(ids) > 1:
            report.add(f"duplicate problem in split {name}: {hx} in rows {', '.join(ids[:5])}")


def _report_leaks(root, a, b, readable, layout_sets, report: Report) -> None:
    hits: dict[int, None] = {}
    for path in readable[b]:
        t = pq.read_table(path, columns=["layout_hash"])
        keys = hex_keys(t.column(0).to_pylist())
        for k in keys[layout_sets[a].contains(keys)].tolist():
            hits[k] = None
    if not hits:
        return

    def full(split: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for path in readable[split]:
            t = pq.read_table(path, columns=["id", "layout_hash"])
            for row_id, hx in zip(t.column(0).to_pylist(), t.column(1).to_pylist()):
                if int.from_bytes(bytes.fromhex(hx[:16]), "little") in hits:
                    found.setdefault(hx, row_id)
        return found

    in_a, in_b = full(a), full(b)
    shared = sorted(set(in_a) & set(in_b))
    for hx in shared[:5]:
        report.add(f"layout leak: {hx} is in split {a} ({in_a[hx]}) and split {b} ({in_b[hx]})")
    if len(shared) > 5:
        report.add(f"layout leak: {len(shared) - 5} more layouts shared by {a} and {b}")


def _sample_positions(n: int, sample: int | None, seed: int, split: str) -> np.ndarray:
    if sample is None or sample >= n:
        return np.arange(n)
    rng = np.random.default_rng(np.random.SeedSequence([seed, *split.encode()]))
    return np.sort(rng.choice(n, size=sample, replace=False))


def _first_difference(a: np.ndarray, b: np.ndarray) -> int:
    m = min(len(a), len(b))
    diff = np.nonzero(np.asarray(a[:m]) != np.asarray(b[:m]))[0]
    return int(diff[0]) if len(diff) else m


def _check_samples(root: Path, manifest: dict, readable: dict[str, list[Path]], report: Report,
                   sample: int | None, seed: int) -> None:
    from ..search.solve import solve
    from .batch import generate_block
    from .load import example_from_row
    from .recipe import parse_recipe_dict

    recipe = parse_recipe_dict(manifest["recipe"])
    splits = {s.name: s for s in recipe.splits}
    from .builder import split_key

    for name, paths in readable.items():
        if name not in splits or not paths:
            continue
        spec = splits[name]
        sizes = [pq.read_metadata(p).num_rows for p in paths]
        positions = _sample_positions(sum(sizes), sample, seed, name)
        starts = np.cumsum([0, *sizes])
        for k, path in enumerate(paths):
            local = positions[(positions >= starts[k]) & (positions < starts[k + 1])] - starts[k]
            if not len(local):
                continue
            try:
                table = pq.read_table(path).take(pa.array(local))
            except Exception:  # noqa: BLE001 - schema drift was reported already
                continue
            rows = table.to_pylist()
            indices = np.array([r["index"] for r in rows], dtype=np.int64)
            block = None
            if spec.stream == "native":  # upstream streams are sequential: re-solve only
                block = generate_block(spec.maze, spec.profile, split_key(recipe, spec), indices)
            rel = path.relative_to(root).as_posix()
            check = _check_transformed_row if manifest.get("transform") else _check_row
            for j, row in enumerate(rows):
                report.resolved += 1
                problem = check(row, block, j, spec, solve, example_from_row)
                if problem:
                    report.add(f"ground truth: {rel} row {int(local[j])} ({row['id']}): {problem}")


@dataclass
class _Truth:
    """A sampled row decoded, and what the recipe's stream and a re-solve say it should hold."""

    ex: object
    events: tuple  # op, x, y, g, h
    plan: tuple  # x, y
    metrics: dict
    solved: bool


def _truth(row: dict, block, j: int, spec, solve, example_from_row) -> _Truth | str:
    """Decode the row, check its problem against the rebuilt one, and re-solve it (randomised
    profiles: the rebuilt row, whose search stream continues the maze stream); a string is the
    problem found."""
    try:
        ex = example_from_row(row)
    except (ValueError, TypeError) as exc:
        return f"row does not decode: {exc}"
    (sx, sy), (gx, gy) = ex.problem.start, ex.problem.goal
    if block is not None:
        if (not np.array_equal(ex.problem.walls, block.walls[j])
                or [sx, sy, gx, gy] != block.sg[j].tolist()):
            return "maze, start or goal differ from the recipe's stream at this index"
    if spec.profile.randomized and block is not None:
        e0, e1 = block.ev_off[j], block.ev_off[j + 1]
        p0, p1 = block.pl_off[j], block.pl_off[j + 1]
        events = tuple(a[e0:e1] for a in (block.ev_op, block.ev_x, block.ev_y, block.ev_g,
                                           block.ev_h))
        return _Truth(ex, events, (block.pl_x[p0:p1], block.pl_y[p0:p1]),
                      dict(zip(METRIC_NAMES, block.metrics[j].tolist())),
                      bool(block.status[j] == 1))
    sol = solve(ex.problem, spec.profile)
    t = sol.trace
    return _Truth(ex, (t.op, t.x, t.y, t.g, t.h), (sol.plan.x, sol.plan.y), sol.metrics,
                  sol.solved)


def _check_row(row: dict, block, j: int, spec, solve, example_from_row) -> str | None:
    truth = _truth(row, block, j, spec, solve, example_from_row)
    if isinstance(truth, str):
        return truth
    ex, want_ev, want_plan = truth.ex, truth.events, truth.plan
    (sx, sy), (gx, gy) = ex.problem.start, ex.problem.goal
    have_ev = (ex.trace.op, ex.trace.x, ex.trace.y, ex.trace.g, ex.trace.h)
    if any(len(a) != len(b) or not np.array_equal(a, b) for a, b in zip(have_ev, want_ev)):
        first = min(_first_difference(a, b) for a, b in zip(have_ev, want_ev))
        return (f"trace differs from a re-solve with {spec.profile.name} at event {first} "
                f"({len(have_ev[0])} vs {len(want_ev[0])} events)")
    if any(not np.array_equal(a, b) for a, b in zip((ex.plan.x, ex.plan.y), want_plan)):
        return f"plan differs from a re-solve with {spec.profile.name}"
    if bool(row["solvable"]) != truth.solved:
        return "solvable flag is wrong"
    for key, value in truth.metrics.items():
        if row.get(key) != value:
            return f"metric {key} is {row.get(key)}, a re-solve gives {value}"
    if spec.text is not None:
        from ..conventions.dialects import get_dialect
        from ..search.solve import Plan, Trace

        plan = Plan.from_arrays(*want_plan)
        if not truth.solved and spec.profile.unsolvable_plan == "start-goal":
            plan = Plan.from_arrays([sx, gx], [sy, gy])
        text = get_dialect(spec.text).text(ex.problem, Trace.from_arrays(*want_ev), plan)
        if row.get("text") != text:
            return f"text differs from the {spec.text} text of a re-solve"
    return None


def _check_transformed_row(row: dict, block, j: int, spec, solve, example_from_row
                           ) -> str | None:
    """A transformed row: same problem, provenance of the re-solved trace, own metrics."""
    from ..ops.batch import TRACE_METRICS, trace_hashes, trace_metrics

    truth = _truth(row, block, j, spec, solve, example_from_row)
    if isinstance(truth, str):
        return truth
    ex, source = truth.ex, truth.events
    (sx, sy), (gx, gy) = ex.problem.start, ex.problem.goal
    off = np.array([0, len(source[0])], dtype=np.int64)
    if trace_hashes(off, *source).to_pylist()[0] != row.get("source_trace_hash"):
        return (f"source_trace_hash is not the hash of a re-solve with {spec.profile.name} "
                "(the row's original trace)")
    if row.get("source_n_events") != len(source[0]):
        return (f"source_n_events is {row.get('source_n_events')}, a re-solve gives "
                f"{len(source[0])}")
    t = ex.trace
    off = np.array([0, len(t.op)], dtype=np.int64)
    sg = np.array([[sx, sy, gx, gy]], dtype=np.int16)
    costs = np.array([row.get("trace_costs", True) is not False])
    plan_off = np.array([0, len(ex.plan.x)], dtype=np.int64)
    out = np.empty((1, len(TRACE_METRICS)), dtype=np.int64)
    trace_metrics(off, t.op, t.x, t.y, sg, costs, plan_off, out)
    for name, value in zip(TRACE_METRICS, out[0].tolist()):
        if row.get(name) != value:
            return f"metric {name} is {row.get(name)}, the row's trace gives {value}"
    return None


def verify_dataset(path: str | Path, *, sample: int | None = 64, seed: int = 0,
                   check_hashes: bool = True) -> Report:
    """Check the dataset at ``path``; ``sample`` rows per split are re-solved (None = all)."""
    root = Path(path)
    manifest_path = root / "manifest.json"
    if not manifest_path.exists():
        raise ValueError(f"{root} is not a mazebench dataset (no manifest.json)")
    try:
        manifest = json.loads(manifest_path.read_text())
        manifest["splits"], manifest["recipe"]["splits"]  # noqa: B018 - shape check
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{manifest_path}: not a mazebench manifest ({exc})") from None
    check_format(manifest, str(root))
    report = Report()
    readable = _check_files(root, manifest, report)
    _check_rows(root, manifest, readable, report, check_hashes)
    if sample is None or sample > 0:
        _check_samples(root, manifest, readable, report, sample, seed)
    for name, paths in readable.items():
        if len(paths) != len(manifest["splits"][name]["shards"]):
            continue
        try:
            stats = split_statistics(paths)
        except Exception:  # noqa: BLE001 - drift reported above
            continue
        if json.dumps(stats, sort_keys=True) != json.dumps(
            manifest["splits"][name]["statistics"], sort_keys=True
        ):
            report.add(f"statistics: split {name} differs from the manifest's summary")
    return report
