"""Maze families by name: their numeric ids for the numba dispatcher and their parameters."""

from __future__ import annotations

from dataclasses import dataclass

from ..params import Param, ParamSet


@dataclass(frozen=True)
class Family:
    """A maze construction algorithm.

    ``fid`` is the family's id in :func:`mazebench.mazes.dispatch.carve_walls`; ``placement`` the
    start/goal policy it uses by default (for the Beyond Semantics families, the upstream one);
    ``perfect`` says whether it makes a spanning tree (every pair joined by exactly one path).
    """

    name: str
    fid: int
    params: ParamSet
    placement: str
    perfect: bool
    doc: str


def _family(name, fid, params, placement, perfect, doc) -> Family:
    return Family(name, fid, ParamSet(name, tuple(params)), placement, perfect, doc)


FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    FAMILIES[family.name] = family
    return family


F_WILSON = 0
F_KRUSKAL = 1
F_DFS = 2
F_DRUNKARDS_WALK = 3
F_SEARCHFORMER = 4
F_CELLULAR_AUTOMATA = 5
F_PRIM = 6
F_FREE_SPACE = 7
F_OBSTACLES = 8
F_DIVISION = 9

register(_family(
    "wilson", F_WILSON, [], "wilson", True,
    "Wilson's loop-erased random walks over a lattice of rooms (uniform spanning tree); the "
    "Beyond Semantics training family.",
))
register(_family(
    "kruskal", F_KRUSKAL, [], "kruskal", True,
    "Randomised Kruskal over a lattice of rooms (shuffled edges, union-find).",
))
register(_family(
    "dfs", F_DFS,
    [Param("random_start", 0, 0, 1, "bool",
           "0: carve from (0, 0) as upstream; 1: from a random even cell")],
    "dfs", True,
    "Recursive backtracker (depth-first carving), long corridors and few branches.",
))
register(_family(
    "drunkards_walk", F_DRUNKARDS_WALK,
    [Param("coverage", 0.5, 0.0, 1.0, "float", "fraction of cells the walker opens")],
    "floor_distinct", False,
    "A random walker opens cells until a coverage is reached (cave-like open areas).",
))
register(_family(
    "searchformer", F_SEARCHFORMER,
    [Param("min_density", 0.3, 0.0, 1.0, "float", "lowest wall fraction (upstream 0.3)"),
     Param("max_density", 0.5, 0.0, 1.0, "float", "highest wall fraction (upstream 0.5)"),
     Param("min_plan", -1, -1, 1e9, "int",
           "minimum plan length in cells; -1 = max(rows, cols) as upstream"),
     Param("tries", 100, 1, 1e6, "int", "start/goal pairs tried per wall layout")],
    "searchformer", False,
    "Searchformer-style random walls (30-50%) with a start/goal pair whose plan is long "
    "(arXiv 2402.14083, as rebuilt by the Beyond Semantics authors).",
))
register(_family(
    "cellular_automata", F_CELLULAR_AUTOMATA,
    [Param("fillProbability", 0.45, 0.0, 1.0, "float", "initial wall probability",
           aliases=("fill",)),
     Param("survivalThreshold", 4, 0, 9, "int", "a wall with fewer wall neighbours opens",
           aliases=("survival",)),
     Param("birthThreshold", 5, 0, 9, "int", "a floor with more wall neighbours closes",
           aliases=("birth",)),
     Param("iterations", 3, 0, 1000, "int", "smoothing iterations", aliases=("iter",))],
    "floor_distinct", False,
    "Cave maps: random fill smoothed by a cellular automaton; the goal may be unreachable "
    "under the upstream placement.",
))
register(_family(
    "prim", F_PRIM, [], "uniform", True,
    "Randomised Prim over a lattice of rooms (frontier grows from a random room; many short "
    "dead ends).",
))
register(_family(
    "free_space", F_FREE_SPACE, [], "uniform", False,
    "No walls at all (the Performative Thinking free-space problems).",
))
register(_family(
    "obstacles", F_OBSTACLES,
    [Param("density", 0.3, 0.0, 0.95, "float", "fraction of cells that are walls")],
    "uniform", False,
    "Independent random wall cells at a given density; placement keeps start and goal "
    "connected.",
))
register(_family(
    "division", F_DIVISION,
    [Param("min_room", 1, 1, 1000, "int",
           "smallest chamber side in rooms: a side is divided only while both parts keep at "
           "least this many rooms"),
     Param("door_width", 1, 1, 1000, "int",
           "cells opened in each dividing wall (one contiguous door starting on a room)")],
    "uniform", False,
    "Recursive division: chambers split by walls with one door each (rooms and corridors); "
    "a perfect maze over the room lattice when min_room=1 and door_width=1.",
))


def get_family(name: str) -> Family:
    """The family called ``name``; a one-line error listing every family otherwise."""
    try:
        return FAMILIES[name]
    except KeyError:
        allowed = ", ".join(sorted(FAMILIES))
        raise ValueError(f"unknown maze family {name!r} (allowed: {allowed})") from None
