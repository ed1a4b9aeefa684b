"""mazebench: grid-maze benchmarks with exact search traces, for research on reasoning traces.

Public API (stable): :class:`Problem`, :func:`generate_maze`, :func:`solve` (returns a
:class:`Solution` with ``.trace``, ``.plan``, ``.metrics`` and ``.to_text(dialect)``),
:func:`load` (a dataset directory), :func:`validate` (a model's text against a problem: a
:class:`Verdict`).
Numba kernels compile lazily on first use and are cached on disk.
"""

from __future__ import annotations

from .datasets.load import Dataset, load
from .evaluate import Verdict, validate
from .mazes import generate_maze
from .problem import Problem
from .search.profiles import PROFILES, Profile, get_profile
from .search.solve import Plan, Solution, Trace, solve

__version__ = "0.1.0"

__all__ = [
    "Dataset",
    "PROFILES",
    "Plan",
    "Problem",
    "Profile",
    "Solution",
    "Trace",
    "Verdict",
    "__version__",
    "generate_maze",
    "load",
    "get_profile",
    "solve",
    "validate",
]
