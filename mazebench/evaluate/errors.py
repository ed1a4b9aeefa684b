"""The stable registry of validation error kinds (codes are append-only).

Trace kinds (``malformed`` .. ``after_goal``) follow the error taxonomy of the Beyond Semantics
evaluator (arXiv 2505.13775) plus mazebench's own (``unknown_token``, ``wrong_g``, ``wrong_h``,
``after_goal``); plan kinds start at ``plan_malformed``. ``E_*`` are the codes the numba kernels
write; :data:`KIND_CODES` maps names to codes.
"""

from __future__ import annotations

# -- error kinds (stable codes: append only) -------------------------------------------------
ERROR_KINDS: tuple[str, ...] = (
    "malformed",
    "out_of_bounds",
    "wall",
    "not_adjacent",
    "create_closed",
    "close_not_open",
    "not_min_f",
    "goal_not_closed",
    "parents_broken",
    "plan_length_mismatch",
    "extracted_plan_invalid",
    "create_not_improving",
    "unknown_token",
    "wrong_g",
    "wrong_h",
    "after_goal",
    "plan_malformed",
    "plan_empty",
    "wrong_start",
    "plan_out_of_bounds",
    "plan_wall",
    "plan_not_adjacent",
    "goal_not_reached",
    "plan_not_optimal",
)
KIND_CODES: dict[str, int] = {k: i for i, k in enumerate(ERROR_KINDS)}
FIRST_PLAN_KIND = KIND_CODES["plan_malformed"]
TRACE_KINDS: tuple[str, ...] = ERROR_KINDS[:FIRST_PLAN_KIND]
PLAN_KINDS: tuple[str, ...] = ERROR_KINDS[FIRST_PLAN_KIND:]

E_MALFORMED = 0
E_OUT_OF_BOUNDS = 1
E_WALL = 2
E_NOT_ADJACENT = 3
E_CREATE_CLOSED = 4
E_CLOSE_NOT_OPEN = 5
E_NOT_MIN_F = 6
E_GOAL_NOT_CLOSED = 7
E_PARENTS_BROKEN = 8
E_PLAN_LENGTH_MISMATCH = 9
E_EXTRACTED_PLAN_INVALID = 10
E_CREATE_NOT_IMPROVING = 11
E_UNKNOWN_TOKEN = 12
E_WRONG_G = 13
E_WRONG_H = 14
E_AFTER_GOAL = 15
E_PLAN_MALFORMED = 16
E_PLAN_EMPTY = 17
E_WRONG_START = 18
E_PLAN_OUT_OF_BOUNDS = 19
E_PLAN_WALL = 20
E_PLAN_NOT_ADJACENT = 21
E_GOAL_NOT_REACHED = 22
E_PLAN_NOT_OPTIMAL = 23
