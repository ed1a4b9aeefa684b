"""Sequence-length statistics of a dataset's splits in token ids of a word-level dialect.

Lengths follow from the integer columns alone (``n_walls``, ``n_events``, ``plan_length``,
``solvable``) with the row layout of :func:`mazebench.training.kernels.encode_rows`, so a split
of any size is summarised without reading its traces. Use them to choose a context length.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .kernels import BS, SF, row_lengths
from .vocab import vocabulary

QUANTILES = (0.5, 0.9, 0.99)


def _summary(values: np.ndarray) -> dict:
    if values.shape[0] == 0:
        return {"min": 0, "mean": 0.0, "p50": 0, "p90": 0, "p99": 0, "max": 0}
    q = np.quantile(values, QUANTILES, method="higher")
    return {"min": int(values.min()), "mean": round(float(values.mean()), 2),
            "p50": int(q[0]), "p90": int(q[1]), "p99": int(q[2]), "max": int(values.max())}


def split_lengths(data, split: str, dialect: str | None = None, *, specials: bool = True
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``(prompt, completion)`` token counts of every row of a split (int64 arrays)."""
    from ..datasets.export import SplitReader

    reader = SplitReader(data, split)
    use = dialect or reader.profile.dialect
    vocabulary(use, reader.height, reader.width)  # validates the dialect
    prompts, completions = [], []
    for b in data.iter_batches(split, 65536, columns=["n_walls", "n_events", "plan_length",
                                                      "solvable"]):
        solvable = b.column("solvable").to_numpy(zero_copy_only=False).astype(np.bool_)
        plan = b.column("plan_length").to_numpy().astype(np.int64)
        if reader.profile.unsolvable_plan == "start-goal":
            plan = np.where(solvable, plan, 2)
        p, c = row_lengths(BS if use == "beyond-semantics" else SF,
                           b.column("n_walls").to_numpy().astype(np.int64),
                           b.column("n_events").to_numpy().astype(np.int64), plan, specials)
        prompts.append(p)
        completions.append(c)
    cat = (lambda xs: np.concatenate(xs) if xs else np.zeros(0, np.int64))  # noqa: E731
    return cat(prompts), cat(completions)


def length_stats(dataset_dir: str | Path, dialect: str | None = None, *,
                 splits: list[str] | None = None, specials: bool = True,
                 context: int | None = None) -> dict[str, dict]:
    """Per split: rows and min/mean/p50/p90/p99/max of prompt, completion and total lengths;
    with ``context``, the share of rows whose total exceeds it."""
    from ..datasets.load import Dataset

    data = Dataset(dataset_dir)
    out = {}
    for split in splits or data.splits:
        p, c = split_lengths(data, split, dialect, specials=specials)
        total = p + c
        entry = {"rows": int(total.shape[0]), "prompt": _summary(p),
                 "completion": _summary(c), "total": _summary(total)}
        if context is not None:
            entry["over_context"] = round(float((total > context).mean()), 4) if total.size \
                else 0.0
        out[split] = entry
    return out
