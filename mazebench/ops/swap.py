"""``swap``: each example keeps its problem and correct plan but gets another example's trace.

The swapped-trace control of Beyond Semantics (arXiv 2505.13775): a random permutation of the
traces of a split, here a uniformly random *derangement* so that no example keeps its own trace,
optionally within groups (same maze family, or same difficulty bin: equal-count bins of the
ground-truth trace length ``source_n_events``). It needs the whole split at once; the permutation
is drawn from one stream per (seed, step, split), so it does not depend on shards or batches.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..params import Param
from .batch import TraceBatch, _plain, _ro
from .events import derangement
from .registry import Choice, Operator, Step, register

WITHIN = ("split", "family", "bin")


def group_codes(batch: TraceBatch, within: str, bins: int) -> np.ndarray:
    """One int64 group code per row for ``within`` = split, family or bin."""
    n = len(batch)
    if within == "split":
        return np.zeros(n, dtype=np.int64)
    if within == "family":
        # as strings (a split read whole holds them as dictionaries): codes by first appearance
        family = _plain(batch.table.column("family"))
        codes = family.combine_chunks().dictionary_encode().indices
        return codes.to_numpy(zero_copy_only=False).astype(np.int64)
    length = batch.column("source_n_events", np.int64)
    order = np.argsort(length, kind="mergesort")
    k = max(1, min(int(bins), n // 2))
    codes = np.empty(n, dtype=np.int64)
    codes[order] = np.arange(n, dtype=np.int64) * k // max(n, 1)
    return codes


def derange(codes: np.ndarray, key: np.uint64, what: str) -> np.ndarray:
    """A derangement of the rows within groups, or a one-line ValueError for a lone row."""
    n = codes.shape[0]
    if n == 1:
        raise ValueError(f"{what}: a split of one row cannot be deranged")
    perm = np.empty(n, dtype=np.int64)
    lone = derangement(_ro(codes, np.int64), key, 0, perm)
    if lone >= 0:
        raise ValueError(f"{what}: group {lone} has a single row and cannot be deranged "
                         "(use within=split or fewer bins)")
    return perm


def run_swap(batch: TraceBatch, step: Step) -> TraceBatch:
    if len(batch) == 0:
        return batch
    codes = group_codes(batch, step.args["within"], int(step.args["bins"]))
    perm = derange(codes, step.key, f"swap on split {step.split!r}")
    donors = batch.extra.get("swap_source", batch.index())
    extra = {k: _ro(np.asarray(v)[perm]) for k, v in batch.extra.items()
             if k in ("tail_events", "removed_events", "dualformer_level")}
    extra = {**batch.extra, **extra, "swap_source": _ro(np.asarray(donors)[perm])}
    # the gather of the traces is deferred: the dataset writer resolves it row group by row group
    return replace(batch, costs=_ro(batch.costs[perm]), extra=extra, gather=_ro(perm))


register(Operator(
    "swap", "corruption",
    "give every example the trace of another example of its split (a uniform derangement; "
    "within=family or within=bin (equal-count bins of the true trace length) restrict it); "
    "plans stay",
    run_swap,
    (Param("bins", 10, 1, 1e6, "int", "difficulty bins for within=bin"),),
    (Choice("within", "split", WITHIN),),
    scope="split",
    columns=("swap_source",),
))
