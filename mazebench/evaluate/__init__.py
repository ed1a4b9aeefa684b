"""Validators of model outputs: tolerant parsing, the A* trace interpreter, plan checks, verdicts.

The trace interpreter is the one of Beyond Semantics (arXiv 2505.13775) with mazebench's pinned
open-list state; see :mod:`.replay` for the rules, :mod:`.parse` for the accepted text and
:mod:`.verdict` for what error indices mean.

The package is also callable, as DESIGN.md's API promises: ``mazebench.evaluate(DIR, PRED, ...)``
is :func:`mazebench.evaluate.report.evaluate_predictions`.
"""

from __future__ import annotations

import sys
import types

from .parse import (
    ERROR_KINDS,
    KIND_CODES,
    PLAN_KINDS,
    TRACE_KINDS,
    ParsedBatch,
    ParsedCompletion,
    TokenTable,
    classify_tokens,
    parse,
    parse_batch,
    parse_token_ids,
    token_table,
)
from .plan_check import plan_errors
from .replay import ProblemBatch, concat_events, concat_plans, replay_trace
from .verdict import (
    BatchVerdict,
    Verdict,
    validate,
    validate_batch,
    validate_parsed,
    validate_texts,
)

_LAZY = {
    "evaluate_predictions": ".report",
    "write_report": ".report",
    "write_baseline": ".baseline",
}


def __getattr__(name: str):
    """The report and baseline builders load lazily (they pull in plotting and dataset code)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _CallableModule(types.ModuleType):
    """``mazebench.evaluate(dataset, predictions, **options)`` runs the whole evaluation."""

    def __call__(self, dataset, predictions, **options):
        from .report import evaluate_predictions

        return evaluate_predictions(dataset, predictions, **options)


sys.modules[__name__].__class__ = _CallableModule

__all__ = [
    "ERROR_KINDS",
    "KIND_CODES",
    "PLAN_KINDS",
    "TRACE_KINDS",
    "BatchVerdict",
    "ParsedBatch",
    "ParsedCompletion",
    "ProblemBatch",
    "TokenTable",
    "Verdict",
    "classify_tokens",
    "concat_events",
    "concat_plans",
    "evaluate_predictions",
    "parse",
    "parse_batch",
    "parse_token_ids",
    "plan_errors",
    "replay_trace",
    "token_table",
    "validate",
    "validate_batch",
    "validate_parsed",
    "validate_texts",
    "write_baseline",
    "write_report",
]
