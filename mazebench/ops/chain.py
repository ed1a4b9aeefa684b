"""Operator chains: parse ``NAME[:k=v,...]`` specs and apply them to a batch of rows.

A chain is a list of specs applied in order, e.g. ``["extend:fraction=0.25",
"cut-random-chunk:at=goal-closed"]``; the canonical text of a chain (recorded in the ``ops``
column and the manifest) joins the resolved specs with ``|`` and names every parameter and seed,
so it can be parsed back to the same chain. Every step draws from streams keyed by (its seed, its
name, its position in the chain, the split) and the example index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..search.profiles import Profile
from .batch import PROVENANCE, TraceBatch
from .registry import Step, get_operator


def parse_op(spec: str) -> tuple[str, dict[str, str]]:
    """``"NAME:k=v,k2=v2"`` -> ``(NAME, {k: v, k2: v2})`` (values stay strings)."""
    text = spec.strip()
    if not text:
        raise ValueError("empty operator spec (expected NAME[:k=v,...])")
    name, _, rest = text.partition(":")
    values: dict[str, str] = {}
    for item in rest.split(",") if rest.strip() else []:
        key, eq, value = item.partition("=")
        if not eq or not key.strip() or not value.strip():
            raise ValueError(f"operator spec {spec!r}: {item!r} must look like key=value")
        if key.strip() in values:
            raise ValueError(f"operator spec {spec!r}: {key.strip()!r} is given twice")
        values[key.strip()] = value.strip()
    return name.strip(), values


def parse_chain(specs: str | Sequence[str], *, seed: int = 0) -> list[Step]:
    """Resolve a chain (a list of specs, or one string joined with ``|``) into steps."""
    if isinstance(specs, str):
        specs = [s for s in specs.split("|") if s.strip()]
    if not specs:
        raise ValueError("no operator given (use --op NAME[:k=v,...]; see `mazebench list`)")
    steps = []
    for position, spec in enumerate(specs):
        name, values = parse_op(spec)
        op = get_operator(name)
        step_seed = seed
        if "seed" in values:
            raw = values.pop("seed")
            try:
                step_seed = int(raw)
            except ValueError:
                raise ValueError(f"{name}: seed={raw!r} must be a non-negative integer") from None
            if step_seed < 0:
                raise ValueError(f"{name}: seed={raw!r} must be a non-negative integer")
        steps.append(Step(op, op.resolve(values), step_seed, position))
    return steps


def chain_spec(steps: Sequence[Step]) -> str:
    """The canonical text of a chain (every parameter and seed named)."""
    return "|".join(step.spec() for step in steps)


def needs_split(steps: Sequence[Step]) -> bool:
    """Whether some step needs the whole split at once (swap, cut-random-suffix)."""
    return any(step.op.scope == "split" for step in steps)


def chain_columns(steps: Sequence[Step], existing: Sequence[str] = ()) -> list[str]:
    """Provenance columns of the output, in the fixed order of :data:`PROVENANCE`: the three
    every transform writes, those of the chain's operators and those the input already had."""
    wanted = {"source_trace_hash", "source_n_events", "ops", *existing}
    for step in steps:
        wanted.update(step.op.columns)
    return [name for name in PROVENANCE if name in wanted]


def bind(steps: Sequence[Step], split: str, profile: Profile | None) -> list[Step]:
    """Copies of the steps for one split (fresh summaries)."""
    return [replace(step, split=split, profile=profile, summary={}) for step in steps]


def apply_steps(batch: TraceBatch, steps: Sequence[Step], *, deferred: bool = False
                ) -> TraceBatch:
    """Run bound steps in order on a batch. ``deferred``: the result may keep a deferred
    gather of traces (``TraceBatch.gather``, from ``swap``) for its consumer to resolve slice by
    slice; every step itself sees resolved rows."""
    for step in steps:
        batch = step.op.run(batch.resolved(), step)
    return batch if deferred else batch.resolved()


def merge_summaries(into: list[dict], steps: Sequence[Step]) -> None:
    """Add the steps' counters to ``into`` (one dict per step)."""
    merge_counts(into, [step.summary for step in steps])


def merge_counts(into: list[dict], parts: Sequence[dict]) -> None:
    """Add per-step counter dicts ``parts`` to ``into`` (one dict per step)."""
    for target, part in zip(into, parts):
        for key, value in part.items():
            target[key] = int(target.get(key, 0)) + int(value)
