"""Trace operators: corruption, truncation and anchors, on datasets and on single examples.

Operators are named and parameterised as ``NAME[:k=v,...]`` (see :func:`operators` or
``mazebench list``) and applied in chains, seeded and deterministic:

* datasets: :func:`transform_dataset` (``mazebench transform DIR --op ... -o DIR2``) writes a new
  dataset directory whose rows and manifest record the operator chain and the original traces;
* tables: :func:`batch_from_table`, :func:`apply_steps`, :func:`table_from_batch` run a chain on an
  Arrow table of rows with numba kernels over the flat event arrays;
* examples: :func:`transform_example` / :func:`transform_examples` on ``(problem, trace, plan)``
  tuples or :class:`~mazebench.search.solve.Solution` objects, :func:`conclusion_points`,
  :func:`anchor_labels`, :func:`example_text` (Dualformer traces without cost tokens).

Families: corruption (Beyond Semantics, arXiv 2505.13775: swap, shuffle, perturb, drop, insert,
reverse, foreign, random-walk), truncation (post-conclusion continuation, arXiv 2605.29288:
extend, cut-tail and its controls, keep-prefix, budget; Dualformer levels, arXiv 2410.09918) and
anchors (thought anchors, arXiv 2506.19143).
"""

from __future__ import annotations

from .batch import TraceBatch, batch_from_table, table_from_batch
from .chain import apply_steps, bind, chain_spec, parse_chain, parse_op
from .dataset import transform_dataset
from .registry import Operator, Step, describe_operators, get_operator, operators
from .single import (
    Transformed,
    anchor_labels,
    conclusion_points,
    examples_table,
    transform_example,
    transform_examples,
)
from .text import example_text, parse_example

__all__ = [
    "Operator",
    "Step",
    "TraceBatch",
    "Transformed",
    "anchor_labels",
    "apply_steps",
    "batch_from_table",
    "bind",
    "chain_spec",
    "conclusion_points",
    "describe_operators",
    "example_text",
    "examples_table",
    "get_operator",
    "operators",
    "parse_chain",
    "parse_example",
    "parse_op",
    "table_from_batch",
    "transform_dataset",
    "transform_example",
    "transform_examples",
]
