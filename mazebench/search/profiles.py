"""Solver profiles: how a trace is produced (algorithm, heuristic, order, tie-break, logging).

Built-in profiles:

* ``beyond-semantics`` - A* exactly as the Beyond Semantics generator runs it (arXiv 2505.13775):
  f ties go to the earliest-created open cell (``fifo``), neighbours N E S W (up, right, down,
  left), the start is pre-seeded (the trace opens with ``close start``).
* ``searchformer`` - the Searchformer reference A* in deterministic mode (arXiv 2402.14083):
  f ties go to the smaller ``x + 100000*y`` (``yx``), children S N W E, ``create start`` first.
* ``searchformer-nondet`` - its randomised mode: seeded random f tie-breaks and shuffled children.
* ``astar-<tie>`` for every tie policy, ``weighted-astar`` (w = 2), ``dijkstra``, ``greedy``,
  ``bfs`` and ``dfs`` - same event format and Beyond Semantics ordering, so that the solver is an
  out-of-distribution axis too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from fractions import Fraction

import numpy as np

from .kernel import TIE_FIFO, TIE_HIGH_G, TIE_LIFO, TIE_LOW_G, TIE_RANDOM, TIE_YX

ALGORITHMS = ("astar", "weighted_astar", "dijkstra", "greedy", "bfs", "dfs")
TIE_BREAKS = {
    "fifo": TIE_FIFO,
    "lifo": TIE_LIFO,
    "low_g": TIE_LOW_G,
    "high_g": TIE_HIGH_G,
    "yx": TIE_YX,
    "random": TIE_RANDOM,
}
DIRECTIONS = "NESW"  # N = y-1, E = x+1, S = y+1, W = x-1
DIALECTS = ("beyond-semantics", "searchformer", "compact")


@dataclass(frozen=True)
class Profile:
    """A complete description of a solver run and of how its trace is written.

    ``neighbour_order`` is a permutation of ``NESW`` (N = y-1, E = x+1, S = y+1, W = x-1).
    ``tie_break``: ``fifo`` = earliest first-created cell (an improved cell keeps its place),
    ``lifo`` = most recent create, ``low_g``/``high_g`` = smaller/larger g then fifo,
    ``yx`` = lower y then lower x, ``random`` = a seeded random key per create.
    ``log_start``: log ``create start`` before the first close (Searchformer) or not (Beyond
    Semantics). ``unsolvable_plan``: ``start-goal`` writes the two-cell plan upstream writes for
    an unreachable goal, ``empty`` writes none.
    """

    name: str
    algorithm: str = "astar"
    weight: float = 1.0
    tie_break: str = "fifo"
    neighbour_order: str = "NESW"
    shuffle_children: bool = False
    log_start: bool = False
    dialect: str = "beyond-semantics"
    unsolvable_plan: str = "start-goal"

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(
                f"profile {self.name!r}: unknown algorithm {self.algorithm!r} "
                f"(allowed: {', '.join(ALGORITHMS)})"
            )
        if self.tie_break not in TIE_BREAKS:
            raise ValueError(
                f"profile {self.name!r}: unknown tie_break {self.tie_break!r} "
                f"(allowed: {', '.join(TIE_BREAKS)})"
            )
        order = self.neighbour_order.upper()
        if sorted(order) != sorted(DIRECTIONS):
            raise ValueError(
                f"profile {self.name!r}: neighbour_order {self.neighbour_order!r} must be a "
                "permutation of NESW"
            )
        object.__setattr__(self, "neighbour_order", order)
        if self.dialect not in DIALECTS:
            raise ValueError(
                f"profile {self.name!r}: unknown dialect {self.dialect!r} "
                f"(allowed: {', '.join(DIALECTS)})"
            )
        if not (1.0 <= float(self.weight) <= 100.0):
            raise ValueError(f"profile {self.name!r}: weight must be in [1, 100]")
        if self.unsolvable_plan not in ("start-goal", "empty"):
            raise ValueError(
                f"profile {self.name!r}: unsolvable_plan must be 'start-goal' or 'empty'"
            )

    # -- kernel arguments -------------------------------------------------------------------
    def kernel_args(self) -> tuple[int, int, bool, int, bool, np.ndarray, bool, bool]:
        """``(wg, wh, log_h, tie, improve, order, shuffle_children, log_start)`` for the kernel."""
        algo = self.algorithm
        if algo == "astar":
            wg, wh = 1, 1
        elif algo == "weighted_astar":
            frac = Fraction(float(self.weight)).limit_denominator(1000)
            wg, wh = frac.denominator, frac.numerator
        elif algo in ("dijkstra", "bfs"):
            wg, wh = 1, 0
        elif algo == "greedy":
            wg, wh = 0, 1
        else:  # dfs
            wg, wh = 0, 0
        log_h = algo in ("astar", "weighted_astar", "greedy")
        improve = algo not in ("greedy", "dfs")
        tie = TIE_BREAKS[self.tie_break]
        order = np.array([DIRECTIONS.index(c) for c in self.neighbour_order], dtype=np.int64)
        return wg, wh, log_h, tie, improve, order, self.shuffle_children, self.log_start

    @property
    def optimal(self) -> bool:
        """Whether plans of this profile are always shortest paths."""
        return self.algorithm in ("astar", "dijkstra", "bfs")

    @property
    def randomized(self) -> bool:
        return self.tie_break == "random" or self.shuffle_children

    def to_dict(self) -> dict:
        return asdict(self)


_BS = Profile("beyond-semantics")
_SF = Profile(
    "searchformer", tie_break="yx", neighbour_order="SNWE", log_start=True, dialect="searchformer"
)

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in [
        _BS,
        _SF,
        replace(_SF, name="searchformer-nondet", tie_break="random", shuffle_children=True),
        *[replace(_BS, name=f"astar-{t.replace('_', '-')}", tie_break=t) for t in TIE_BREAKS],
        replace(_BS, name="weighted-astar", algorithm="weighted_astar", weight=2.0),
        replace(_BS, name="dijkstra", algorithm="dijkstra"),
        replace(_BS, name="greedy", algorithm="greedy"),
        replace(_BS, name="bfs", algorithm="bfs"),
        replace(_BS, name="dfs", algorithm="dfs", tie_break="lifo"),
    ]
}


def get_profile(profile: str | Profile | dict) -> Profile:
    """A profile by name, a :class:`Profile`, or a dict of fields (a recipe's custom profile).

    A dict may name a ``base`` built-in profile whose fields it overrides.
    """
    if isinstance(profile, Profile):
        return profile
    if isinstance(profile, dict):
        fields = dict(profile)
        base = fields.pop("base", None)
        allowed = set(Profile.__dataclass_fields__)
        unknown = sorted(set(fields) - allowed)
        if unknown:
            raise ValueError(
                f"profile: unknown key {unknown[0]!r} (allowed: base, {', '.join(sorted(allowed))})"
            )
        if base is not None:
            return replace(get_profile(base), **{"name": fields.pop("name", base), **fields})
        if "name" not in fields:
            fields["name"] = "custom"
        return Profile(**fields)
    try:
        return PROFILES[profile]
    except KeyError:
        allowed = ", ".join(PROFILES)
        raise ValueError(f"unknown profile {profile!r} (allowed: {allowed})") from None
