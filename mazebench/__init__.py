"""mazebench: grid-maze benchmarks with exact search traces, for research on reasoning traces.

Public API (stable): :class:`Problem`, :func:`generate_maze`, :func:`solve` (returns a
:class:`Solution` with ``.trace``, ``.plan``, ``.metrics`` and ``.to_text(dialect)``),
:func:`load` (a dataset directory), :func:`validate` (a model's text against a problem: a
:class:`Verdict`).
Numba kernels compile lazily on first use and are cached on disk.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# The public names load their modules (numpy, numba, pyarrow) on first use, so that the
# command line can set up its process first (mazebench.cli).
_PUBLIC = {
    "Dataset": ".datasets.load", "load": ".datasets.load",
    "Verdict": ".evaluate", "validate": ".evaluate",
    "generate_maze": ".mazes",
    "Problem": ".problem",
    "PROFILES": ".search.profiles", "Profile": ".search.profiles",
    "get_profile": ".search.profiles",
    "Plan": ".search.solve", "Solution": ".search.solve", "Trace": ".search.solve",
    "solve": ".search.solve",
}

if TYPE_CHECKING:
    from .datasets.load import Dataset, load
    from .evaluate import Verdict, validate
    from .mazes import generate_maze
    from .problem import Problem
    from .search.profiles import PROFILES, Profile, get_profile
    from .search.solve import Plan, Solution, Trace, solve


def __getattr__(name: str):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mazebench' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})

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
