"""Benchmark recipes: a suite of named splits, each a maze distribution solved by a profile.

A recipe is a TOML file (or the equivalent dict)::

    [suite]
    name = "default"
    seed = 20261129
    height = 30            # defaults every split inherits
    width = 30
    profile = "beyond-semantics"
    shard_size = 5000
    compression = "none"  # codec of the shards: none (default), lz4 or zstd

    [splits.train]
    family = "wilson"
    count = 2000

    [splits.test_kruskal]
    family = "kruskal"
    count = 200
    params = { }           # family parameters
    placement = "family"   # start/goal policy; placement_params = { distance = 10 }
    loops = 0.0            # braid fraction; loop_mode = "dead_ends" | "walls"
    profile = "astar-high-g"   # the solver is an out-of-distribution axis too
    difficulty = { metric = "n_events", bins = [0, 200, 400, 800] }  # equal rows per bin
    candidate_budget = 100     # give up after 100 candidates per requested row
    stream = "native"          # or "upstream-train" / "upstream-test": see below

Difficulty targets (Performative Thinking, arXiv 2509.07339, bins problems by ground-truth trace
length): ``bins`` are increasing edges, bin ``k`` holds values ``edges[k] <= v < edges[k + 1]``
of ``metric`` (any metric column: ``n_events``, ``trace_tokens``, ``plan_length``, ...). The
split's count is shared equally between the bins (the first ``count % bins`` bins get one more)
and filled by rejection sampling over the candidate stream in index order; a bin that cannot be
filled within ``candidate_budget * count`` candidates is a one-line error naming the split, the
bin and how many rows were found.

A ``[matrix.NAME]`` table declares a family of splits for systematic shift studies: the keys
``family``, ``size`` (``"WIDTHxHEIGHT"``), ``loops``, ``loop_mode``, ``placement`` and
``profile`` may be lists, ``params.<family>.<name>`` may be a list; the cartesian product
expands into splits named ``NAME_<family>[_<W>x<H>][_<param><value>][_loops<value>]
[_<placement>][_<profile>]`` (only list-valued axes appear in names; ``.`` in numbers becomes
``p``). Every other split key is shared. Matrix splits come after the ``[splits]`` tables.

``stream = "upstream-train"`` (or ``"upstream-test"``) replays the Beyond Semantics generator's
own random stream (one LCG per file, seeded ``2 * seed + mode``; arXiv 2505.13775) for an upstream
family with its placement and the ``beyond-semantics`` profile: the split's rows are then the
authors' examples in file order (no duplicate or leak filtering, which upstream does not do
either), and ``mazebench export --dialect beyond-semantics`` writes their file byte for byte.

Every key is validated; unknown keys or bad values raise a one-line error naming the key, the
value and what is allowed.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

from ..mazes.api import MazeSpec
from ..search.profiles import Profile, get_profile
from .parquet_format import CODECS, DEFAULT_CODEC

SUITE_KEYS = {"name", "seed", "height", "width", "profile", "shard_size", "text", "description",
              "compression"}
SPLIT_KEYS = {
    "family",
    "count",
    "height",
    "width",
    "params",
    "placement",
    "placement_params",
    "loops",
    "loop_mode",
    "profile",
    "text",
    "description",
    "difficulty",
    "candidate_budget",
    "stream",
}
STREAMS = ("native", "upstream-train", "upstream-test")
MATRIX_AXES = ("family", "size", "loops", "loop_mode", "placement", "profile")
MATRIX_KEYS = SPLIT_KEYS | {"size"}
DIFFICULTY_KEYS = {"metric", "bins"}
DEFAULT_BUDGET = 100.0
SPLIT_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass(frozen=True)
class Difficulty:
    """Equal-count bins of a ground-truth difficulty metric (edges ``[e0, e1, ..., ek]``)."""

    metric: str
    edges: tuple[int, ...]

    @property
    def n_bins(self) -> int:
        return len(self.edges) - 1

    def quotas(self, count: int) -> list[int]:
        """Rows per bin: ``count`` shared equally, the first ``count % bins`` bins get one more."""
        base, extra = divmod(count, self.n_bins)
        return [base + (1 if k < extra else 0) for k in range(self.n_bins)]

    def label(self, k: int) -> str:
        return f"[{self.edges[k]}, {self.edges[k + 1]})"

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "bins": list(self.edges)}


@dataclass(frozen=True)
class SplitSpec:
    """One split: a maze distribution, a solver profile, a count and optional difficulty bins."""

    name: str
    maze: MazeSpec
    profile: Profile
    count: int
    text: str | None = None
    description: str = ""
    difficulty: Difficulty | None = None
    candidate_budget: float = DEFAULT_BUDGET
    stream: str = "native"

    @property
    def upstream_mode(self) -> int | None:
        """The LCG mode bit of an upstream stream (0 train, 1 test), None for native."""
        return {"upstream-train": 0, "upstream-test": 1}.get(self.stream)

    @property
    def max_candidates(self) -> int:
        """Candidates examined at most before the split gives up with an error."""
        return max(1000, math.ceil(self.candidate_budget * self.count))

    @property
    def metric(self) -> str:
        """The metric that decides difficulty bins (``n_events`` without bins)."""
        return self.difficulty.metric if self.difficulty else "n_events"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "count": self.count,
            "maze": asdict(self.maze),
            "profile": self.profile.to_dict(),
            "text": self.text,
            "description": self.description,
            "difficulty": self.difficulty.to_dict() if self.difficulty else None,
            "candidate_budget": self.candidate_budget,
            "stream": self.stream,
        }


@dataclass(frozen=True)
class Recipe:
    """A resolved suite: seed, shard size and its splits in declaration order."""

    name: str
    seed: int
    shard_size: int
    splits: tuple[SplitSpec, ...] = field(default_factory=tuple)
    description: str = ""
    compression: str = DEFAULT_CODEC  # codec of the shards (parquet_format)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seed": self.seed,
            "shard_size": self.shard_size,
            "compression": self.compression,
            "description": self.description,
            "splits": [s.to_dict() for s in self.splits],
        }

    def fingerprint(self) -> str:
        """Canonical JSON of the resolved recipe (a dataset is resumed only under the same)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def scaled(self, factor: float) -> Recipe:
        """The same recipe with every split count multiplied by ``factor`` (at least 1)."""
        if not factor > 0:
            raise ValueError(f"--scale must be positive, got {factor}")
        splits = tuple(
            replace(s, count=max(1, round(s.count * factor))) for s in self.splits
        )
        return replace(self, splits=splits)


def _int(where: str, key: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not (low <= value <= high):
        raise ValueError(f"{where}: {key} = {value!r} must be an integer in [{low}, {high}]")
    return value


def _unknown(where: str, obj: dict, allowed: set[str]) -> None:
    extra = sorted(set(obj) - allowed)
    if extra:
        raise ValueError(
            f"{where}: unknown key {extra[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )


def parse_recipe(data: dict[str, Any], *, source: str = "recipe") -> Recipe:
    """Validate and resolve a recipe dict (as loaded from TOML)."""
    _unknown(source, data, {"suite", "splits", "matrix"})
    suite = data.get("suite", {})
    if not isinstance(suite, dict):
        raise ValueError(f"{source}: [suite] must be a table")
    _unknown(f"{source} [suite]", suite, SUITE_KEYS)
    name = str(suite.get("name", Path(source).stem))
    seed = _int(f"{source} [suite]", "seed", suite.get("seed", 0), 0, 2**63 - 1)
    shard = _int(f"{source} [suite]", "shard_size", suite.get("shard_size", 5000), 1, 10**7)
    splits_in = data.get("splits", {})
    if not isinstance(splits_in, dict):
        raise ValueError(f"{source}: [splits] must hold [splits.NAME] tables")
    specs = list(splits_in.items()) if isinstance(splits_in, dict) else []
    matrices = data.get("matrix", {})
    if not isinstance(matrices, dict):
        raise ValueError(f"{source}: [matrix] must hold [matrix.NAME] tables")
    for matrix_name, table in matrices.items():
        specs.extend(expand_matrix(matrix_name, table, source=source))
    if not specs:
        raise ValueError(f"{source}: needs at least one [splits.NAME] or [matrix.NAME] table")
    splits = []
    seen: set[str] = set()
    for split_name, spec in specs:
        if split_name in seen:
            raise ValueError(f"{source}: split {split_name!r} is declared twice")
        seen.add(split_name)
        splits.append(_parse_split(split_name, spec, suite, source))
    codec = suite.get("compression", DEFAULT_CODEC)
    if codec not in CODECS:
        raise ValueError(f"{source} [suite]: compression = {codec!r} (allowed: "
                         f"{', '.join(CODECS)})")
    return Recipe(name, seed, shard, tuple(splits), str(suite.get("description", "")), codec)


def _parse_split(split_name: str, spec: Any, suite: dict, source: str) -> SplitSpec:
    where = f"{source} [splits.{split_name}]"
    if not set(split_name) <= SPLIT_NAME_CHARS or not split_name:
        raise ValueError(f"{where}: split names use a-z, 0-9, '_' and '-' only")
    if not isinstance(spec, dict):
        raise ValueError(f"{where}: must be a table")
    _unknown(where, spec, SPLIT_KEYS)
    if "family" not in spec:
        raise ValueError(f"{where}: missing key 'family'")
    if "count" not in spec:
        raise ValueError(f"{where}: missing key 'count'")
    count = _int(where, "count", spec["count"], 1, 10**10)
    height = _int(where, "height", spec.get("height", suite.get("height", 30)), 2, 32767)
    width = _int(where, "width", spec.get("width", suite.get("width", 30)), 2, 32767)
    try:
        maze = MazeSpec.create(
            spec["family"],
            height,
            width,
            params=spec.get("params", {}),
            placement=spec.get("placement", "family"),
            placement_params=spec.get("placement_params", {}),
            loops=spec.get("loops", 0.0),
            loop_mode=spec.get("loop_mode", "dead_ends"),
        )
        profile = get_profile(spec.get("profile", suite.get("profile", "beyond-semantics")))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{where}: {exc}") from None
    text = spec.get("text", suite.get("text"))
    if text is not None:
        from ..conventions.dialects import get_dialect

        try:
            get_dialect(text)
        except ValueError as exc:
            raise ValueError(f"{where}: text: {exc}") from None
    difficulty = _parse_difficulty(where, spec.get("difficulty"))
    budget = spec.get("candidate_budget", DEFAULT_BUDGET)
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not (
        1 <= budget <= 1e9
    ):
        raise ValueError(
            f"{where}: candidate_budget = {budget!r} must be a number in [1, 1e9] "
            "(candidates per requested row)"
        )
    stream = spec.get("stream", "native")
    if stream not in STREAMS:
        raise ValueError(f"{where}: stream = {stream!r} (allowed: {', '.join(STREAMS)})")
    if stream != "native":
        _check_upstream(where, stream, maze, profile, difficulty)
    return SplitSpec(
        split_name, maze, profile, count, text, str(spec.get("description", "")), difficulty,
        float(budget), stream,
    )


def _check_upstream(where: str, stream: str, maze: MazeSpec, profile: Profile, difficulty) -> None:
    """An upstream stream replays the Beyond Semantics generator: its families and conventions."""
    from ..reproduce import UPSTREAM_GENERATORS

    if maze.family not in UPSTREAM_GENERATORS:
        raise ValueError(
            f"{where}: stream = {stream!r} needs an upstream family "
            f"({', '.join(UPSTREAM_GENERATORS)}), got {maze.family!r}"
        )
    if maze.placement != "family" or maze.loops != 0.0:
        raise ValueError(f"{where}: stream = {stream!r} needs placement = 'family' and no loops")
    if profile != get_profile("beyond-semantics"):
        raise ValueError(f"{where}: stream = {stream!r} needs profile = 'beyond-semantics'")
    if difficulty is not None:
        raise ValueError(f"{where}: stream = {stream!r} takes every example: no difficulty bins")


def _parse_difficulty(where: str, value: Any) -> Difficulty | None:
    if value is None:
        return None
    from ..search.metrics import METRIC_NAMES

    if not isinstance(value, dict):
        raise ValueError(f"{where}: difficulty must be a table {{ metric = ..., bins = [...] }}")
    _unknown(f"{where} difficulty", value, DIFFICULTY_KEYS)
    metric = value.get("metric", "n_events")
    if metric not in METRIC_NAMES:
        raise ValueError(
            f"{where}: difficulty metric = {metric!r} (allowed: {', '.join(METRIC_NAMES)})"
        )
    bins = value.get("bins")
    ok = isinstance(bins, list) and len(bins) >= 2 and all(
        isinstance(b, int) and not isinstance(b, bool) for b in bins
    )
    if not ok or any(a >= b for a, b in zip(bins, bins[1:])):
        raise ValueError(
            f"{where}: difficulty bins = {bins!r} must be at least two strictly increasing "
            "integer edges"
        )
    return Difficulty(metric, tuple(bins))


def _fmt_axis(value: Any) -> str:
    """An axis value as a split-name fragment (``0.25`` -> ``0p25``, ``-1`` -> ``m1``)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text = f"{value:g}" if isinstance(value, float) else str(value)
        return text.replace(".", "p").replace("-", "m")
    return str(value).lower()


def _parse_size(where: str, value: Any) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in str(value).lower().split("x"))
    except ValueError:
        raise ValueError(f"{where}: size = {value!r} must look like 'WIDTHxHEIGHT'") from None
    return w, h


def expand_matrix(name: str, table: Any, *, source: str = "recipe") -> list[tuple[str, dict]]:
    """The ``(split name, split table)`` pairs of a ``[matrix.NAME]`` table (see module doc)."""
    where = f"{source} [matrix.{name}]"
    if not isinstance(table, dict):
        raise ValueError(f"{where}: must be a table")
    if not set(name) <= SPLIT_NAME_CHARS or not name:
        raise ValueError(f"{where}: matrix names use a-z, 0-9, '_' and '-' only")
    _unknown(where, table, MATRIX_KEYS)
    if "family" not in table:
        raise ValueError(f"{where}: missing key 'family'")

    def axis(key: str) -> tuple[list, bool]:
        value = table.get(key)
        if isinstance(value, list):
            if not value:
                raise ValueError(f"{where}: {key} = [] needs at least one value")
            return value, True
        return [value], False

    families, _ = axis("family")
    params = table.get("params", {})
    if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
        raise ValueError(
            f"{where}: params must map a family to its parameters, e.g. "
            "params.obstacles = { density = [0.2, 0.4] }"
        )
    stray = sorted(set(params) - set(families))
    if stray:
        raise ValueError(
            f"{where}: params.{stray[0]} names a family not in family = {families!r}"
        )
    axes = {k: axis(k) for k in MATRIX_AXES if k != "family"}
    shared = {k: v for k, v in table.items() if k not in MATRIX_AXES and k != "params"}
    out: list[tuple[str, dict]] = []
    for family in families:
        fam_params = params.get(family, {})
        p_axes = [
            (k, v if isinstance(v, list) else [v], isinstance(v, list))
            for k, v in fam_params.items()
        ]
        rest = [k for k in axes if k != "size"]
        combos = itertools.product(
            axes["size"][0], *(vals for _, vals, _ in p_axes), *(axes[k][0] for k in rest)
        )
        for combo in combos:
            size, pvalues = combo[0], combo[1 : 1 + len(p_axes)]
            values = dict(zip(rest, combo[1 + len(p_axes) :]))
            parts = [name, str(family)]
            spec = dict(shared)
            spec["family"] = family
            if size is not None:
                w, h = _parse_size(where, size)
                spec["width"], spec["height"] = w, h
                if axes["size"][1]:
                    parts.append(f"{w}x{h}")
            spec["params"] = {}
            for (pname, _, is_axis), pv in zip(p_axes, pvalues):
                spec["params"][pname] = pv
                if is_axis:
                    parts.append(f"{pname.lower()}{_fmt_axis(pv)}")
            for key in rest:
                if values[key] is None:
                    continue
                spec[key] = values[key]
                if axes[key][1]:
                    label = _fmt_axis(values[key]) if not isinstance(values[key], dict) else (
                        str(values[key].get("name", "custom")).lower()
                    )
                    parts.append(f"loops{label}" if key == "loops" else label)
            out.append(("_".join(parts), spec))
    return out


def parse_recipe_dict(data: dict[str, Any]) -> Recipe:
    """Rebuild a :class:`Recipe` from its resolved form (``Recipe.to_dict()``, as in a manifest)."""
    try:
        splits = []
        for s in data["splits"]:
            diff = s.get("difficulty")
            splits.append(
                SplitSpec(
                    s["name"],
                    MazeSpec(**s["maze"]),
                    get_profile(dict(s["profile"])),
                    int(s["count"]),
                    s.get("text"),
                    s.get("description", ""),
                    Difficulty(diff["metric"], tuple(diff["bins"])) if diff else None,
                    float(s.get("candidate_budget", DEFAULT_BUDGET)),
                    s.get("stream", "native"),
                )
            )
        return Recipe(data["name"], int(data["seed"]), int(data["shard_size"]), tuple(splits),
                      data.get("description", ""), data.get("compression", DEFAULT_CODEC))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"manifest recipe is malformed ({exc})") from None


def suites_dir() -> Path:
    """The folder of shipped suite recipes (``generators/`` inside the package)."""
    return Path(__file__).resolve().parent.parent / "generators"


def available_suites() -> list[str]:
    return sorted(p.stem for p in suites_dir().glob("*.toml"))


def load_recipe(recipe: str | Path | None = None) -> Recipe:
    """A recipe from a TOML path, a shipped suite name, or the built-in default (``None``)."""
    if recipe is None:
        recipe = "default"
    path = Path(recipe)
    if not path.suffix and not path.is_file():
        candidate = suites_dir() / f"{recipe}.toml"
        if not candidate.exists():
            allowed = ", ".join(available_suites())
            raise ValueError(f"unknown suite {str(recipe)!r} (shipped suites: {allowed})")
        path = candidate
    if not path.exists():
        raise ValueError(f"recipe file {str(path)!r} does not exist")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: invalid TOML: {exc}") from None
    return parse_recipe(data, source=str(path.name))
