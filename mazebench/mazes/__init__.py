"""Maze families: construction kernels, a registry by name, start/goal placement, loops."""

from __future__ import annotations

from .api import LOOP_MODES, MazeSpec, generate_maze
from .placement import POLICIES, get_policy
from .registry import FAMILIES, get_family

__all__ = [
    "FAMILIES",
    "LOOP_MODES",
    "MazeSpec",
    "POLICIES",
    "generate_maze",
    "get_family",
    "get_policy",
]
