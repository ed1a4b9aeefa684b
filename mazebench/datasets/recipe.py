"""Benchmark recipes: a suite of named splits, each a maze distribution solved by a profile.

A recipe is a TOML file (or the equivalent dict)::

    [suite]
    name = "default"
    seed = 20261129
    height = 30            # defaults every split inherits
    width = 30
    profile = "beyond-semantics"
    shard_size = 5000

    [splits.train]
    family = "wilson"
    count = 2000

    [splits.test_kruskal]
    family = "kruskal"
    count = 200
    params = { }           # family parameters
    placement = "family"   # start/goal policy; placement_params = { distance = 10 }
    loops = 0.0            # braid fraction; loop_mode = "dead_ends" | "walls"

Every key is validated; unknown keys or bad values raise a one-line error naming the key, the
value and what is allowed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from ..mazes.api import MazeSpec
from ..search.profiles import Profile, get_profile

SUITE_KEYS = {"name", "seed", "height", "width", "profile", "shard_size", "text", "description"}
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
}
SPLIT_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass(frozen=True)
class SplitSpec:
    """One split: a maze distribution, a solver profile and a count."""

    name: str
    maze: MazeSpec
    profile: Profile
    count: int
    text: str | None = None
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "count": self.count,
            "maze": asdict(self.maze),
            "profile": self.profile.to_dict(),
            "text": self.text,
            "description": self.description,
        }


@dataclass(frozen=True)
class Recipe:
    """A resolved suite: seed, shard size and its splits in declaration order."""

    name: str
    seed: int
    shard_size: int
    splits: tuple[SplitSpec, ...] = field(default_factory=tuple)
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seed": self.seed,
            "shard_size": self.shard_size,
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
            SplitSpec(s.name, s.maze, s.profile, max(1, round(s.count * factor)), s.text,
                      s.description)
            for s in self.splits
        )
        return Recipe(self.name, self.seed, self.shard_size, splits, self.description)


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
    _unknown(source, data, {"suite", "splits"})
    suite = data.get("suite", {})
    if not isinstance(suite, dict):
        raise ValueError(f"{source}: [suite] must be a table")
    _unknown(f"{source} [suite]", suite, SUITE_KEYS)
    name = str(suite.get("name", Path(source).stem))
    seed = _int(f"{source} [suite]", "seed", suite.get("seed", 0), 0, 2**63 - 1)
    shard = _int(f"{source} [suite]", "shard_size", suite.get("shard_size", 5000), 1, 10**7)
    splits_in = data.get("splits")
    if not isinstance(splits_in, dict) or not splits_in:
        raise ValueError(f"{source}: needs at least one [splits.NAME] table")
    splits = []
    for split_name, spec in splits_in.items():
        where = f"{source} [splits.{split_name}]"
        if not set(split_name) <= SPLIT_NAME_CHARS:
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
        splits.append(
            SplitSpec(split_name, maze, profile, count, text, str(spec.get("description", "")))
        )
    return Recipe(name, seed, shard, tuple(splits), str(suite.get("description", "")))


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
    if not path.suffix and not path.exists():
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
