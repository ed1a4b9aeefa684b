"""``generate_maze``: one maze of a named family, validated parameters, any grid size."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..problem import Problem
from ..rng import as_stream
from .placement import P_FAMILY, P_SEARCHFORMER, get_policy
from .registry import get_family

LOOP_MODES = {"dead_ends": 0, "walls": 1}
MAX_SIDE = 32767


@dataclass(frozen=True)
class MazeSpec:
    """A resolved maze request: everything the numba builder needs, validated once.

    ``loops`` is the braid fraction (0 = the family as is): with ``loop_mode`` ``dead_ends`` each
    dead end is opened into a neighbouring corridor with that probability; with ``walls`` each
    removable wall is opened with that probability.
    """

    family: str
    height: int
    width: int
    params: dict[str, float] = field(default_factory=dict)
    placement: str = "family"
    placement_params: dict[str, float] = field(default_factory=dict)
    loops: float = 0.0
    loop_mode: str = "dead_ends"

    @classmethod
    def create(
        cls,
        family: str,
        height: int,
        width: int,
        *,
        params: Mapping[str, object] | None = None,
        placement: str = "family",
        placement_params: Mapping[str, object] | None = None,
        loops: float = 0.0,
        loop_mode: str = "dead_ends",
    ) -> MazeSpec:
        fam = get_family(family)
        for name, value in (("height", height), ("width", width)):
            if not isinstance(value, (int, np.integer)) or not (2 <= int(value) <= MAX_SIDE):
                raise ValueError(f"{name} must be an integer in [2, {MAX_SIDE}], got {value!r}")
        if int(height) * int(width) < 4:
            raise ValueError(f"grid {width}x{height} too small: at least 4 cells")
        policy = get_policy(placement)
        if policy.pid == P_SEARCHFORMER and fam.placement != "searchformer":
            raise ValueError("placement 'searchformer' only applies to the searchformer family")
        if loop_mode not in LOOP_MODES:
            allowed = ", ".join(LOOP_MODES)
            raise ValueError(f"unknown loop_mode {loop_mode!r} (allowed: {allowed})")
        loops = float(loops)
        if not (0.0 <= loops <= 1.0):
            raise ValueError(f"loops must be in [0, 1], got {loops}")
        return cls(
            family,
            int(height),
            int(width),
            fam.params.resolve(params),
            placement,
            policy.params.resolve(placement_params),
            loops,
            loop_mode,
        )

    def kernel_args(self) -> tuple:
        """``(fid, height, width, fparams, loops, loop_mode, pid, pparams)``."""
        fam = get_family(self.family)
        policy = get_policy(self.placement)
        if policy.pid == P_FAMILY:
            policy = get_policy(fam.placement)
        return (
            fam.fid,
            self.height,
            self.width,
            fam.params.to_array(self.params),
            self.loops,
            LOOP_MODES[self.loop_mode],
            policy.pid,
            policy.params.to_array(self.placement_params),
        )


def generate_maze(
    name: str,
    height: int,
    width: int,
    *,
    rng: np.ndarray | int | None = None,
    seed: int | None = None,
    placement: str = "family",
    placement_params: Mapping[str, object] | None = None,
    loops: float = 0.0,
    loop_mode: str = "dead_ends",
    **params: object,
) -> Problem:
    """Build one maze of family ``name`` with a start and a goal.

    ``rng`` is a mazebench stream (see :mod:`mazebench.rng`) or an int seed; ``seed`` the same as
    an int. Family parameters go as keyword arguments (``coverage=0.3``). ``placement`` names a
    start/goal policy (``family`` = the family's default, upstream for the Beyond Semantics
    families); ``loops`` braids the maze.
    """
    from .dispatch import build

    spec = MazeSpec.create(
        name,
        height,
        width,
        params=params,
        placement=placement,
        placement_params=placement_params,
        loops=loops,
        loop_mode=loop_mode,
    )
    stream = as_stream(rng, seed)
    fid, h, w, fparams, loops_, mode, pid, pparams = spec.kernel_args()
    walls, sx, sy, gx, gy, attempts = build(fid, h, w, stream, fparams, loops_, mode, pid, pparams)
    if attempts < 0:
        raise ValueError(
            f"{name}: no valid start/goal placement ({spec.placement}) in 1000 mazes of "
            f"{width}x{height}; relax the parameters"
        )
    return Problem(walls, (int(sx), int(sy)), (int(gx), int(gy)))
