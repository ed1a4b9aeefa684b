"""An endless, seeded stream of fresh problems for online training (RL), with a curriculum.

``ProblemStream({"family": "wilson", "height": 30, "width": 30}, seed=1)`` generates and solves
problems in numba blocks (:func:`mazebench.datasets.batch.generate_block`, native streams keyed
by ``(seed, "stream", rank)``, so ranks never share a problem and a rerun gives the same
sequence) and yields rows with the columns of the Hugging Face export
(:mod:`mazebench.training.hf`: ``id``, ``prompt``, ``completion`` and the problem columns the
rewards read), plus ``bin`` (the curriculum bin, -1 without curriculum) and ``index`` (the
candidate index in the rank's stream).

A :class:`Curriculum` chooses, for every row, a difficulty bin of a ground-truth metric
(``n_events``, ``plan_length``, ... : Performative Thinking, arXiv 2509.07339, bins problems by
ground-truth trace length) with weights that change by stage; candidates wait in per-bin queues
of bounded size, so memory stays flat. ``exclude`` drops candidates whose wall layout appears in
given datasets (keep an RL stream off the test sets).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..rng import stream_key
from ..search.metrics import METRIC_NAMES
from .hf import DEFAULT_SCHEMA, problem_columns, with_specials

STREAM_TAG = 0x73747265  # "stre": separates bin choices from other seeded streams


@dataclass
class Curriculum:
    """Bins ``edges[k] <= metric < edges[k + 1]`` and the weight of each bin by stage.

    ``weights`` is one row of per-bin weights per stage (or a callable ``step -> weights``);
    stage ``k + 1`` starts at row ``stages[k]`` of the stream (``len(stages) ==
    len(weights) - 1``). Example: ``Curriculum("n_events", [0, 50, 150, 400],
    [[1, 0, 0], [1, 1, 0], [1, 1, 1]], stages=[2000, 10000])``.
    """

    metric: str
    edges: Sequence[int]
    weights: Sequence[Sequence[float]] | Callable[[int], Sequence[float]]
    stages: Sequence[int] = ()

    def __post_init__(self) -> None:
        if self.metric not in METRIC_NAMES:
            raise ValueError(f"curriculum metric {self.metric!r} (allowed: "
                             f"{', '.join(METRIC_NAMES)})")
        e = list(self.edges)
        if len(e) < 2 or any(a >= b for a, b in zip(e, e[1:])):
            raise ValueError(f"curriculum edges {e} must be at least two increasing numbers")
        if not callable(self.weights):
            rows = [list(map(float, w)) for w in self.weights]
            if not rows or any(len(r) != len(e) - 1 for r in rows):
                raise ValueError(f"curriculum weights need {len(e) - 1} numbers per stage")
            if len(self.stages) != len(rows) - 1 or list(self.stages) != sorted(self.stages):
                raise ValueError("curriculum stages must be increasing row counts, one fewer "
                                 "than the weight rows")
            for r in rows:
                self._check(r)

    @property
    def n_bins(self) -> int:
        return len(self.edges) - 1

    def _check(self, w) -> np.ndarray:
        w = np.asarray(w, dtype=np.float64)
        if w.shape != (self.n_bins,) or (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"curriculum weights {w.tolist()} must be {self.n_bins} "
                             "non-negative numbers, not all zero")
        return w / w.sum()

    def weights_at(self, step: int) -> np.ndarray:
        """Normalised bin weights for row ``step``."""
        if callable(self.weights):
            return self._check(self.weights(step))
        stage = int(np.searchsorted(np.asarray(self.stages, dtype=np.int64), step, "right"))
        return self._check(self.weights[stage])

    def bins(self, values: np.ndarray) -> np.ndarray:
        """Bin of each value, -1 outside the edges."""
        k = np.searchsorted(np.asarray(self.edges), values, side="right") - 1
        return np.where((k >= 0) & (k < self.n_bins), k, -1)


def _split_spec(split, recipe):
    from ..datasets.recipe import SplitSpec, load_recipe, parse_recipe

    if isinstance(split, SplitSpec):
        return split
    if recipe is not None:
        r = load_recipe(recipe)
        names = [s.name for s in r.splits]
        if split not in names:
            raise ValueError(f"recipe has no split {split!r} (splits: {', '.join(names)})")
        return r.splits[names.index(split)]
    spec = {"family": split} if isinstance(split, str) else dict(split)
    spec.setdefault("count", 1)
    return parse_recipe({"splits": {"stream": spec}}, source="stream").splits[0]


def _layouts(exclude) -> set[str]:
    from ..datasets.load import Dataset

    out: set[str] = set()
    for item in exclude:
        if isinstance(item, (str, Path)) and Path(item).is_dir():
            data = Dataset(item)
            for name in data.splits:
                for b in data.iter_batches(name, columns=["layout_hash"]):
                    out.update(b.column(0).to_pylist())
        else:
            out.add(str(item))
    return out


class ProblemStream:
    """Endless rows of fresh problems (see the module docstring).

    ``split``: a family name, a dict of recipe split keys (``family``, ``height``, ``width``,
    ``params``, ``placement``, ``loops``, ``profile``, ...), a :class:`SplitSpec`, or a split name
    of ``recipe`` (a TOML path or suite name). ``dialect`` defaults to the profile's;
    ``specials`` as in :func:`mazebench.training.hf.export_hf`. ``rank``/``world_size`` give
    disjoint streams; ``block`` problems are generated per numba call.
    """

    def __init__(self, split="wilson", *, recipe=None, seed: int = 0, rank: int = 0,
                 world_size: int = 1, curriculum: Curriculum | None = None,
                 dialect: str | None = None, specials: bool = True, solvable_only: bool = True,
                 exclude: Iterable = (), block: int = 256, queue_rows: int | None = None,
                 max_candidates: int = 1_000_000) -> None:
        from ..datasets.text import NATIVE_DIALECTS
        from .sharding import check_rank

        check_rank(rank, world_size)
        self.spec = _split_spec(split, recipe)
        self.dialect = dialect or self.spec.profile.dialect
        if self.dialect not in NATIVE_DIALECTS:
            raise ValueError(f"stream dialect {self.dialect!r} (allowed: "
                             f"{', '.join(NATIVE_DIALECTS)})")
        if block < 1:
            raise ValueError(f"block = {block} must be at least 1")
        self.seed, self.rank, self.world_size = int(seed), int(rank), int(world_size)
        self.curriculum, self.specials = curriculum, specials
        self.solvable_only, self.block = solvable_only, int(block)
        self.queue_rows = int(queue_rows or 4 * block)
        self.max_candidates = int(max_candidates)
        self.exclude = _layouts(exclude)
        self.key = stream_key(self.seed, "stream", self.spec.name, self.rank)

    def _generate(self, first: int) -> tuple[pa.Table, np.ndarray, np.ndarray]:
        """Candidates ``first .. first + block - 1`` as a table, their metric and usability."""
        from ..datasets.batch import generate_block
        from ..datasets.schema import block_hashes
        from ..datasets.text import render, to_string_array

        maze, profile = self.spec.maze, self.spec.profile
        b = generate_block(maze, profile, self.key, first, self.block)
        solved = b.status == 1
        unsolved = ~solved & (profile.unsolvable_plan == "start-goal")
        ev = (b.ev_op, b.ev_x, b.ev_y, b.ev_g, b.ev_h)
        texts = [to_string_array(*render(layout, self.dialect, b.walls, b.sg, b.ev_off, ev,
                                         b.pl_off, (b.pl_x, b.pl_y), unsolved))
                 for layout in ("prompt", "completion")]
        prompt, completion = with_specials(*texts, self.dialect, self.specials)
        metrics = {name: b.metrics[:, j] for j, name in enumerate(METRIC_NAMES)}
        ids = pa.array([f"stream{self.seed}-r{self.rank}-{i}" for i in b.indices.tolist()],
                       pa.string())
        cols = problem_columns(
            family=maze.family, height=maze.height, width=maze.width, walls=b.walls, sg=b.sg,
            solvable=solved, plan_length=metrics["plan_length"], n_events=metrics["n_events"],
            ev_off=b.ev_off, ev=ev,
        )  # fmt: skip
        table = pa.Table.from_pydict({"id": ids, "prompt": prompt, "completion": completion,
                                      **cols}, schema=DEFAULT_SCHEMA)
        table = table.append_column("index", pa.array(b.indices, pa.int64()))
        usable = solved if self.solvable_only else np.ones(len(b), dtype=np.bool_)
        if self.exclude:
            layouts = block_hashes(b).layout_hex()
            usable &= np.array([h not in self.exclude for h in layouts], dtype=np.bool_)
        metric = metrics[self.curriculum.metric] if self.curriculum else metrics["n_events"]
        return table, metric, usable

    def _picks(self) -> Iterator[tuple[pa.Table, int, int]]:
        """``(block table, row, bin)`` in stream order."""
        cur = self.curriculum
        n_bins = cur.n_bins if cur else 1
        queues: list[deque] = [deque() for _ in range(n_bins)]
        rng = np.random.default_rng(np.random.SeedSequence(
            [self.seed, STREAM_TAG, self.rank, stream_key(0, self.spec.name)]))
        first = 0
        step = 0
        since = 0
        while True:
            b = int(rng.choice(n_bins, p=cur.weights_at(step))) if cur else 0
            while not queues[b]:
                if since >= self.max_candidates:
                    label = f"bin {b} [{cur.edges[b]}, {cur.edges[b + 1]}) of {cur.metric}" \
                        if cur else "any row"
                    raise ValueError(f"stream found no candidate for {label} in "
                                     f"{self.max_candidates} candidates; widen the bins")
                table, metric, usable = self._generate(first)
                first += self.block
                since += self.block
                bins = cur.bins(metric) if cur else np.zeros(len(metric), dtype=np.int64)
                for row in np.flatnonzero(usable & (bins >= 0)).tolist():
                    q = queues[int(bins[row])]
                    if len(q) < self.queue_rows:
                        q.append((table, row))
            table, row = queues[b].popleft()
            since = 0
            step += 1
            yield table, row, (b if cur else -1)

    def batches(self, rows: int = 256) -> Iterator[pa.Table]:
        """Endless Arrow tables of ``rows`` rows (columns of the export plus ``index``, ``bin``)."""
        picks = self._picks()
        while True:
            chosen = [next(picks) for _ in range(rows)]
            groups: dict[int, tuple[pa.Table, list[int], list[int]]] = {}
            for pos, (table, row, _) in enumerate(chosen):
                groups.setdefault(id(table), (table, [], []))
                groups[id(table)][1].append(row)
                groups[id(table)][2].append(pos)
            parts = [t.take(pa.array(r, pa.int64())) for t, r, _ in groups.values()]
            where = np.concatenate([np.asarray(p, np.int64) for _, _, p in groups.values()])
            out = pa.concat_tables(parts).take(pa.array(np.argsort(where, kind="stable")))
            bins = pa.array([b for _, _, b in chosen], pa.int32())
            yield out.combine_chunks().append_column("bin", bins)

    def __iter__(self) -> Iterator[dict]:
        for table in self.batches(self.block):
            yield from table.to_pylist()

    def take(self, n: int) -> list[dict]:
        """The first ``n`` rows."""
        out = []
        for row in self:
            if len(out) == n:
                break
            out.append(row)
        return out

    def hf_dataset(self):
        """A ``datasets.IterableDataset`` over this stream (needs ``datasets``)."""
        try:
            import datasets
        except ImportError:  # pragma: no cover - optional dependency
            raise ValueError("hf_dataset needs datasets: pip install 'mazebench[hf]'") from None

        def rows():
            yield from self

        return datasets.IterableDataset.from_generator(rows)
