"""Build a dataset directory from a recipe: Parquet shards per split, manifest, dataset card.

Determinism: candidate example ``i`` of split ``s`` is a pure function of ``(seed, s, i)``.
Candidates are decided in index order (:mod:`mazebench.datasets.dedupe`): a candidate is skipped
when its problem already appeared in the split, its wall layout in an earlier split (no leakage),
or its difficulty bin is full. Shard ``k`` holds accepted rows ``k * S .. (k + 1) * S - 1`` (S the
shard size), so the shard bytes are the same whatever the worker count or engine.

Work split: workers scan windows of candidates (maze, search, hashes) and, speculatively, write
each window as the shard it will be if all its candidates are accepted; the parent only decides
(one numba call per window) and renames finished files into place, or asks a worker to assemble
the shard from the accepted rows of window files, or to regenerate exactly the accepted
candidates of a shard (the three give the same bytes). Memory does not grow with the count
beyond the 64-bit hash tables (16-32 bytes per row).

Faults: every shard is written under a temporary name and renamed into place; its Parquet
metadata records the next candidate index. Re-running the same command with the same recipe
skips the shards already present (after checking their recipe fingerprint) and ends with the
same bytes as an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from ..progress import Progress
from ..rng import stream_key
from ..search.kernel import trace_capacity
from .dedupe import Decider, KeySet, hex_keys
from .engine import make_engine
from .packed import LAYOUT, LAYOUT_KEY
from .recipe import Recipe, SplitSpec
from .shard_summary import ShardSummary, SummaryPool
from .tasks import (
    META_FINGERPRINT,
    META_LCG,
    META_NEXT,
    AssembleTask,
    ScanTask,
    SplitJob,
    WriteTask,
    assemble,
    scan,
    shard_table,
    write,
    write_table,
)

SCAN_WINDOW = 4096  # largest window of candidates when not speculating (they start at 256)
MAX_WINDOW = 16384  # largest window written to a file; larger shards are assembled from several
ASSEMBLE_MIN_CELLS = 900  # smaller grids regenerate misaligned shards instead (measured)


def shard_name(number: int) -> str:
    return f"part-{number:05d}.parquet"


def split_key(recipe: Recipe, split: SplitSpec) -> int:
    """The 64-bit stream-family key of a split: blake2b of (suite seed, split name)."""
    return stream_key(recipe.seed, "split", split.name)


def rows_per_shard(recipe: Recipe, split: SplitSpec) -> int:
    """Shard rows: the recipe's shard size, capped so a shard's events fit 32-bit offsets."""
    cells = split.maze.height * split.maze.width
    # the plain-Python body: calling the numba dispatcher would load its compiled cache into
    # the parent before any task starts (0.6 s of serial start-up)
    cap = max(1, (2**31 - 1) // int(trace_capacity.py_func(cells)))
    return max(1, min(recipe.shard_size, cap))


@dataclass
class SplitResult:
    """What was written for one split (rejection counts cover this run's candidates only)."""

    name: str
    rows: int = 0
    candidates: int = 0
    rejected_duplicate: int = 0
    rejected_leak: int = 0
    rejected_bin: int = 0
    unsolvable: int = 0
    shards: list[str] = field(default_factory=list)
    renamed: int = 0  # shards committed from a speculative window
    assembled: int = 0  # shards assembled from the accepted rows of window files
    regenerated: int = 0  # shards written from their accepted indices
    seconds: float = 0.0


def _existing_shards(split_dir: Path, fingerprint: str) -> list[tuple[Path, int, dict]]:
    """Complete shards already written under this recipe, in order, with their next index and
    Parquet metadata."""
    found = []
    number = 0
    while (path := split_dir / shard_name(number)).exists():
        meta = pq.read_metadata(path).metadata or {}
        if meta.get(LAYOUT_KEY) != LAYOUT:
            raise ValueError(f"{path} was written by an earlier mazebench (dataset format 1); "
                             "use another output folder or delete it")
        if meta.get(META_FINGERPRINT, b"").decode() != fingerprint:
            raise ValueError(
                f"{path} was written by a different recipe; use another output folder "
                "or delete it"
            )
        found.append((path, int(meta[META_NEXT]), meta))
        number += 1
    return found


@dataclass
class _Window:
    first: int
    count: int
    handle: object
    spec_path: str | None  # the window's rows as a file (None: keys only)
    result: object = None
    last_use: int = -1  # the last write-queue task reading the file


class _SplitBuilder:
    """The parent's side of one split: launches windows, decides, commits shards."""

    def __init__(self, recipe, split, out_dir, earlier, engine, progress, on_shard) -> None:
        self.split = split
        self.engine = engine
        self.on_shard = on_shard
        self.split_dir = out_dir / split.name
        self.split_dir.mkdir(parents=True, exist_ok=True)
        for stale in [*self.split_dir.glob(".*.tmp-*"), *self.split_dir.glob(".spec-*")]:
            stale.unlink()  # left by a killed run
        self.job = SplitJob(split, split_key(recipe, split), recipe.fingerprint(),
                            str(self.split_dir), recipe.compression)
        self.job_seed = recipe.seed
        self.per_shard = rows_per_shard(recipe, split)
        edges = quota = None
        if split.difficulty is not None:
            edges, quota = split.difficulty.edges, split.difficulty.quotas(split.count)
        self.decider = Decider(earlier, edges, quota)
        # Speculative windows are written to files as the shards they will be, and renamed
        # into place when every candidate is accepted. When rejections misalign them (or
        # shards are larger than a window), later windows are still written to files and the
        # shards assembled from their accepted rows, where regenerating costs more than
        # reading and writing the rows again: measured with 2 workers, 30x30 free space with
        # 1.3% duplicates 1.8-2.1 -> 1.0-1.2 s per 20,000 rows, 30x30 Wilson in 50,000-row
        # shards 47 -> 38 s per 10^6, but 20x20 Wilson in 20,000-row shards 1.9 -> 2.2 s.
        # Smaller grids and difficulty bins (which reject most candidates) scan keys only and
        # regenerate each shard from its accepted indices.
        cells = split.maze.height * split.maze.width
        self.files = split.difficulty is None and cells >= ASSEMBLE_MIN_CELLS
        self.speculative = split.difficulty is None and self.per_shard <= MAX_WINDOW
        self.result = SplitResult(split.name)
        self.progress = progress
        self.bar = Progress(enabled=False)
        self.start_pos: int | None = None  # next candidate after the resumed shards
        self.next: _SplitBuilder | None = None  # the following split, whose windows may start
        self.windows: deque[_Window] = deque()
        self.consumed: list[_Window] = []  # used up while filling the current shard
        self.retired: list[_Window] = []  # consumed: removed once the tasks reading them end
        self.writes: deque = deque()
        self.submitted = 0  # tasks put on the write queue
        self.finished = 0  # of which finished
        self.scanned = 0  # non-speculative windows launched (their size grows)
        self.upstream_state = -1
        self.summaries: SummaryPool | None = None  # takes the summaries workers return

    # -- resume -----------------------------------------------------------------------------
    def resume(self) -> int:
        next_candidate = 0
        columns = ["problem_hash", "layout_hash", "solvable", self.split.metric]
        for path, nxt, meta in _existing_shards(self.split_dir, self.job.fingerprint):
            t = pq.read_table(path, columns=columns)
            self.decider.seed_rows(
                hex_keys(t.column(0).to_pylist()), hex_keys(t.column(1).to_pylist()),
                t.column(3).to_numpy(),
            )
            self.result.rows += t.num_rows
            self.result.unsolvable += int(t.num_rows - np.count_nonzero(t.column(2).to_numpy()))
            self.result.shards.append(path.name)
            next_candidate = nxt
            self.upstream_state = int(meta.get(META_LCG, b"-1"))
        return next_candidate

    def start(self) -> int:
        """Resume once; returns the next candidate to decide."""
        if self.start_pos is None:
            self.start_pos = self.resume()
        return self.start_pos

    def prefetch(self) -> None:
        """Launch this split's first windows while the previous split finishes (they do not
        depend on its layouts: only the decisions do)."""
        pos = self.start()
        if self.split.stream == "native" and self.result.rows < self.split.count:
            self._fill(pos, self.result.rows, 0)

    # -- windows ----------------------------------------------------------------------------
    def _launch(self, first: int, count: int, speculative: bool) -> None:
        spec = str(self.split_dir / f".spec-{first}-{count}.parquet") if speculative else None
        handle = self.engine.submit(scan, ScanTask(self.job, first, count, spec))
        self.windows.append(_Window(first, count, handle, spec))

    def _fill(self, pos: int, rows: int, missing: int, short: int = 0) -> bool:
        """Keep enough windows in flight: speculative ones predict one shard each.

        ``rows`` counts rows accepted so far (the current shard's too), ``missing`` the rows the
        current shard still needs when it has some already (rejections cost it candidates): a
        small window then completes it, so that the next shard starts where the next
        speculative window does. Unaligned file windows are sized to the rows still wanted
        (at least ``short``, what the current shard lacks). Returns True when every window the
        split needs is launched.
        """
        depth = max(1, 2 * self.engine.parallelism) if self.engine.parallelism > 1 else 1
        limit = self.split.max_candidates
        while len(self.windows) < depth:
            nxt = self.windows[-1].first + self.windows[-1].count if self.windows else pos
            if nxt >= limit:
                return True
            if self.speculative and not self.windows and missing:
                self._launch(nxt, min(missing, limit - nxt), True)
            elif self.speculative:
                # rows predicted before this window (no rejections assumed)
                predicted = rows + sum(w.count for w in self.windows)
                shard_rows = min(self.per_shard, self.split.count - predicted)
                if shard_rows <= 0:
                    return True
                self._launch(nxt, min(shard_rows, limit - nxt), True)
            elif self.files:
                # as many candidates as rows are still wanted beyond those in flight (too few
                # after rejections: the shortfall is launched when the windows run out)
                in_flight = sum(w.count for w in self.windows)
                decided = pos - (self.start_pos or 0)
                rate = min(0.5, 1.5 * int(self.decider.rejected.sum()) / decided) if decided \
                    else 0.0  # the rejection rate so far, with a margin
                need = self.split.count - rows - int(in_flight * (1.0 - rate))
                need = int(need / (1.0 - rate)) + (8 if rate else 0)
                if need <= 0 and self.windows:
                    return True
                need = max(need, short, 1)
                self._launch(nxt, min(need, self.per_shard, MAX_WINDOW, limit - nxt), True)
            else:
                size = min(SCAN_WINDOW, 256 << min(self.scanned, 4))
                self.scanned += 1
                self._launch(nxt, min(size, limit - nxt), False)
        return False

    # -- shards -----------------------------------------------------------------------------
    def _commit_rename(self, window: _Window) -> None:
        path = self.split_dir / shard_name(len(self.result.shards))
        with open(window.spec_path, "rb+") as fh:  # workers leave window files unsynced
            os.fsync(fh.fileno())
        Path(window.spec_path).replace(path)
        self.result.renamed += 1
        self._shard_done(path, window.result.spec_summary)

    def _commit_write(self, indices: np.ndarray) -> None:
        path = self.split_dir / shard_name(len(self.result.shards))
        self._queue(write, WriteTask(self.job, indices, str(path)))
        self.result.regenerated += 1
        self.result.shards.append(path.name)

    def _commit_assemble(self, sources: list[tuple[_Window, np.ndarray]],
                         indices: np.ndarray) -> None:
        path = self.split_dir / shard_name(len(self.result.shards))
        for window, _ in sources:
            window.last_use = self.submitted
        pieces = tuple((w.spec_path, positions) for w, positions in sources)
        self._queue(assemble, AssembleTask(self.job, pieces, str(path), int(indices[-1]) + 1))
        self.result.assembled += 1
        self.result.shards.append(path.name)

    def _queue(self, fn, task) -> None:
        self.writes.append(self.engine.submit(fn, task))
        self.submitted += 1
        while len(self.writes) > max(1, self.engine.parallelism):
            self._finish_write()

    def _finish_write(self) -> None:
        path, summary = self.engine.result(self.writes.popleft())
        self.finished += 1
        self._landed(Path(path), summary)
        self._release()

    def _release(self) -> None:
        """Remove the consumed window files no queued task reads any more."""
        keep = []
        for window in self.retired:
            if window.last_use < self.finished:
                Path(window.spec_path).unlink(missing_ok=True)
            else:
                keep.append(window)
        self.retired = keep

    def _shard_done(self, path: Path, summary: ShardSummary | None = None) -> None:
        self.result.shards.append(path.name)
        self._landed(path, summary)

    def _landed(self, path: Path, summary: ShardSummary | None) -> None:
        if summary is not None and self.summaries is not None:
            self.summaries.put(path, summary)
        if self.on_shard is not None:
            self.on_shard(path)

    # -- main loop --------------------------------------------------------------------------
    def run(self) -> SplitResult:
        t0 = time.perf_counter()
        pos = self.start()
        self.bar = Progress(self.split.count, self.split.name, enabled=self.progress)
        self.bar.update(self.result.rows)
        try:
            if self.split.stream == "native":
                self._run(pos)
            else:
                self._run_upstream(pos)
        finally:
            self._cleanup()
        self.bar.close()
        self.result.seconds = time.perf_counter() - t0
        return self.result

    def _run(self, pos: int) -> None:
        split, res = self.split, self.result
        shard_start = pos
        parts: list[np.ndarray] = []
        sources: list[tuple[_Window, np.ndarray]] = []  # (window, positions) of the rows
        cur = 0
        offset = 0  # position inside the head window
        while res.rows < split.count:
            target = min(self.per_shard, split.count - res.rows)
            if self._fill(pos, res.rows + cur, target - cur if cur else 0, target - cur) \
                    and self.next:
                self.next.prefetch()
            if not self.windows:
                self._budget_error(pos)
            head = self.windows[0]
            if head.result is None:
                head.result = self.engine.result(head.handle)
            r = head.result
            accepted, end = self.decider.decide(
                r.problem_keys, r.layout_keys, r.metric, offset, target - cur
            )
            if len(accepted):
                parts.append(head.first + accepted)
                sources.append((head, accepted))
                res.unsolvable += int(np.count_nonzero(~r.solvable[accepted]))
                self.bar.update(len(accepted))
            cur += len(accepted)
            pos = head.first + end
            complete = cur == target
            whole = (complete and head.spec_path is not None and shard_start == head.first
                     and end == head.count and cur == head.count)
            if end == head.count or whole:
                self.windows.popleft()
                offset = 0
                if head.spec_path is not None and not whole:
                    self.consumed.append(head)
            else:
                offset = end
            if not complete:
                continue
            if whole:
                self._commit_rename(head)
            elif all(w.spec_path is not None for w, _ in sources):
                self._commit_assemble(sources, np.concatenate(parts))
            else:
                self._commit_write(np.concatenate(parts))
            self.retired.extend(self.consumed)
            self.consumed = []
            self._release()
            res.rows += cur
            parts, sources, cur, shard_start = [], [], 0, pos
            if res.rows < split.count and self.speculative and (
                offset != 0 or (self.windows and self.windows[0].first != pos)
            ):
                # rejections moved the next shard's start inside a window: from here on the
                # shards are assembled from the windows already in flight and those that follow
                self.speculative = False
        while self.writes:
            self._finish_write()
        res.candidates = pos
        res.rejected_duplicate, res.rejected_leak, res.rejected_bin = (
            int(v) for v in self.decider.rejected
        )

    def _run_upstream(self, pos: int) -> None:
        """Rows drawn one after the other from the upstream LCG stream (sequential, in this
        process): shard k holds examples k * S .. of the upstream file; each shard records the
        stream state after it, so a killed run resumes exactly."""
        from ..rng import lcg_stream
        from .schema import block_hashes

        split, res = self.split, self.result
        state = self.upstream_state
        if pos == 0:
            state = int(lcg_stream(self.job_seed, split.upstream_mode)[1])
        while res.rows < split.count:
            n = min(self.per_shard, split.count - res.rows)
            block = generate_block_upstream(split, np.arange(pos, pos + n), state)
            state = block.stream_state
            hashes = block_hashes(block)
            self.decider.layouts.add(hashes.layout_keys())
            path = self.split_dir / shard_name(len(res.shards))
            write_table(path, shard_table(self.job, block, hashes), self.job, pos + n,
                        {META_LCG: str(state).encode()})
            res.rows += n
            res.unsolvable += int(np.count_nonzero(block.status != 1))
            pos += n
            self.bar.update(n)
            self._shard_done(path)
        res.candidates = pos

    def _budget_error(self, pos: int) -> None:
        split, dec = self.split, self.decider
        budget = f"{pos} candidates (candidate_budget = {split.candidate_budget:g} per row)"
        if split.difficulty is not None:
            quotas = split.difficulty.quotas(split.count)
            for k, (have, want) in enumerate(zip(dec.have.tolist(), quotas)):
                if have < want:
                    raise ValueError(
                        f"split {split.name!r}: difficulty bin {k} {split.difficulty.label(k)} "
                        f"of {split.difficulty.metric} has {have} of {want} rows after {budget}; "
                        "widen the bins or raise candidate_budget"
                    )
        dup, leak, _ = dec.rejected.tolist()
        raise ValueError(
            f"split {split.name!r}: only {len(dec.problems)} of {split.count} rows after "
            f"{budget} ({dup} duplicate problems, {leak} layouts of earlier splits); use a "
            f"larger grid, fewer rows or a larger candidate_budget"
        )

    def _cleanup(self) -> None:
        error = None
        while self.writes:  # first: queued tasks may still read window files
            try:
                self._finish_write()
            except Exception as exc:  # noqa: BLE001 - re-raised after the files are removed
                error = error or exc
        pending = list(self.windows) + self.consumed + self.retired
        self.windows.clear()
        self.consumed, self.retired = [], []
        for window in pending:
            if window.spec_path is None:
                continue
            if window.result is None:
                try:
                    self.engine.result(window.handle)
                except Exception:  # noqa: BLE001 - the file is removed either way
                    pass
            Path(window.spec_path).unlink(missing_ok=True)
        if error is not None:
            raise error


def _warm_up(recipe: Recipe) -> None:
    """Initialise numba and load the kernels of generation and of the decisions (the first
    candidate of the first split, discarded), so that forked workers start with them loaded.
    Best effort: any error is left for the build itself to report."""
    from .batch import generate_block

    try:
        for split in recipe.splits[:1]:
            block = generate_block(split.maze, split.profile, split_key(recipe, split),
                                   np.zeros(1, dtype=np.int64))
            keys = np.zeros(1, dtype=np.uint64)
            KeySet().add(keys)
            Decider(KeySet()).decide(keys, keys, block.metrics[:, 0].astype(np.int64), 0, 1)
    except Exception:  # noqa: BLE001 - only a warm-up
        pass


def generate_block_upstream(split: SplitSpec, positions: np.ndarray, state: int):
    """Examples at ``positions`` of an upstream-stream split, from the LCG ``state``."""
    from .batch import generate_block

    return generate_block(split.maze, split.profile, 0, positions, upstream_state=state)


def build_split(
    recipe: Recipe,
    split: SplitSpec,
    out_dir: Path,
    *,
    earlier_layouts: KeySet,
    engine,
    progress: bool = False,
    on_shard: Callable[[Path], None] | None = None,
) -> tuple[SplitResult, KeySet]:
    """Write one split's shards; returns its result and its layout keys."""
    builder = _SplitBuilder(recipe, split, out_dir, earlier_layouts, engine, progress, on_shard)
    return builder.run(), builder.decider.layouts


def build_dataset(
    recipe: Recipe,
    out_dir: str | Path,
    *,
    workers: int = 1,
    engine: str = "local",
    progress: bool = False,
    on_shard: Callable[[Path], None] | None = None,
    card_images: bool = True,
) -> dict:
    """Build every split of ``recipe`` into ``out_dir``; returns the manifest dict.

    ``engine`` is ``local`` (``workers`` processes) or ``ray``; the bytes are the same. The
    returned manifest's ``splits.<name>.build`` holds this run's rejection counts and how many
    shards were renamed from speculative windows or regenerated (not written to
    ``manifest.json``, which depends on the recipe only).
    """
    from .card_images import write_split_image
    from .manifest import write_card, write_manifest

    out = Path(out_dir)
    runner = make_engine(engine, workers, warm_up=lambda: _warm_up(recipe))
    out.mkdir(parents=True, exist_ok=True)
    earlier = KeySet()
    results = []
    t0 = time.perf_counter()
    # Workers return the summaries (hash, statistics) of the shards they write; shards they do
    # not (resumed, upstream stream) and the card pictures are done on parent threads as the
    # shards land, overlapping the workers: at the end they had been a serial tail of 1.5 s
    # per 340k rows.
    pool = SummaryPool(max(2, workers))
    pictures: dict[str, Future] = {}

    def landed(path: Path) -> None:
        pool.submit(path)
        if card_images and path.name == shard_name(0):
            pictures[path.parent.name] = pool.call(write_split_image, out, path.parent.name, path)
        if on_shard is not None:
            on_shard(path)

    builders = [
        _SplitBuilder(recipe, split, out, earlier, runner, progress, landed)
        for split in recipe.splits
    ]
    for builder in builders:
        builder.summaries = pool
    for builder, following in zip(builders, builders[1:]):
        builder.next = following
    try:
        try:
            for k, builder in enumerate(builders):
                results.append(builder.run())
                if k + 1 < len(builders):
                    earlier.update(builder.decider.layouts)
                builder.decider = None  # free the split's hash tables
        finally:
            for builder in builders:
                builder._cleanup()
            runner.close()
        manifest = write_manifest(out, recipe, results, time.perf_counter() - t0,
                                  max(2, workers), pool=pool)
        images: dict[str, str] = {}
        for res in results if card_images else []:
            if not res.shards:
                continue
            if res.name not in pictures:  # its first shard was there before this run
                pictures[res.name] = pool.call(write_split_image, out, res.name,
                                               out / res.name / res.shards[0])
            rel = pictures[res.name].result()
            if rel is not None:
                images[res.name] = rel
        write_card(out, manifest, images=images if card_images else False)
    finally:
        pool.close()
    for res in results:
        manifest["splits"][res.name]["build"] = {
            "rejected_duplicate": res.rejected_duplicate,
            "rejected_leak": res.rejected_leak,
            "rejected_bin": res.rejected_bin,
            "renamed_shards": res.renamed,
            "assembled_shards": res.assembled,
            "regenerated_shards": res.regenerated,
            "seconds": round(res.seconds, 3),
        }
    return manifest


def read_manifest(path: str | Path) -> dict:
    return json.loads((Path(path) / "manifest.json").read_text())
