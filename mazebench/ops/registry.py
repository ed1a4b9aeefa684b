"""The operator registry: names, parameters, documentation.

Each operator declares numeric parameters as :class:`mazebench.params.Param` entries (validated by
a :class:`~mazebench.params.ParamSet`) and word-valued ones as :class:`Choice` entries. Every
operator also takes ``seed`` (an integer; default: the chain's seed). The functions that do the
work live in one module per operator family (:mod:`.corrupt`, :mod:`.swap`, :mod:`.resolve`,
:mod:`.truncate`, :mod:`.dualformer`, :mod:`.anchors`); they take a
:class:`~mazebench.ops.batch.TraceBatch` and a :class:`Step` and return a new batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..params import Param, ParamSet
from ..search.profiles import Profile
from .events import op_key

FAMILIES = ("corruption", "truncation", "anchors")


@dataclass(frozen=True)
class Choice:
    """A word-valued parameter with its allowed values."""

    name: str
    default: str
    allowed: tuple[str, ...]
    doc: str = ""

    def check(self, owner: str, value: object) -> str:
        text = str(value).strip()
        if text not in self.allowed:
            raise ValueError(
                f"{owner}: parameter {self.name!r}={value!r} is not allowed "
                f"(allowed: {', '.join(self.allowed)})"
            )
        return text


@dataclass(frozen=True)
class Operator:
    """A named trace operator.

    ``scope`` is ``row`` (each row on its own: batches may be any slice of a split) or
    ``split`` (needs every row of the split at once: swap, cut-random-suffix). ``columns`` are the
    provenance columns it adds (see :mod:`mazebench.ops.batch`).
    """

    name: str
    family: str
    doc: str
    run: Callable
    params: tuple[Param, ...] = ()
    choices: tuple[Choice, ...] = ()
    scope: str = "row"
    columns: tuple[str, ...] = ()
    check: Callable | None = None  # (args) -> None, raises ValueError on a bad combination

    @property
    def param_set(self) -> ParamSet:
        return ParamSet(self.name, self.params)

    def resolve(self, values: dict[str, object]) -> dict[str, object]:
        """Defaults overridden by ``values``; raises a one-line ValueError on a bad name/value."""
        values = dict(values)
        words = {c.name: c for c in self.choices}
        args: dict[str, object] = {c.name: c.default for c in self.choices}
        numeric = {k: v for k, v in values.items() if k not in words}
        for key, value in values.items():
            if key in words:
                args[key] = words[key].check(self.name, value)
        try:
            resolved = self.param_set.resolve(numeric)
        except ValueError as exc:
            if "unknown parameter" in str(exc):
                allowed = ", ".join([*self.param_set.names(), *words]) or "none"
                bad = next(k for k in numeric if k not in self.param_set.names()
                           and not any(k in p.aliases for p in self.params))
                raise ValueError(
                    f"{self.name}: unknown parameter {bad!r} (allowed: {allowed}, seed)"
                ) from None
            raise
        for p in self.params:
            value = resolved[p.name]
            args[p.name] = int(value) if p.kind in ("int", "bool") else float(value)
        if self.check is not None:
            self.check(args)
        return args

    def describe(self) -> str:
        parts = [self.param_set.describe()] if self.params else []
        parts += [f"{c.name}={c.default} [{'|'.join(c.allowed)}]" for c in self.choices]
        return ", ".join(p for p in parts if p) or "-"


@dataclass
class Step:
    """One resolved operator of a chain, bound to a split when it runs."""

    op: Operator
    args: dict
    seed: int
    position: int
    split: str = ""
    profile: Profile | None = None
    summary: dict = field(default_factory=dict)

    @property
    def key(self) -> np.uint64:
        """Stream family of this step on its split: (seed, operator, position, split)."""
        return op_key(self.seed, self.op.name, self.position, self.split)

    def count(self, name: str, value: int) -> None:
        self.summary[name] = int(self.summary.get(name, 0)) + int(value)

    def spec(self) -> str:
        """Canonical text ``NAME:k=v,...`` with every resolved parameter and the seed."""
        items = []
        for key, value in self.args.items():
            if isinstance(value, float):
                value = f"{value:g}"
            items.append(f"{key}={value}")
        items.append(f"seed={self.seed}")
        return f"{self.op.name}:{','.join(items)}"

    def to_dict(self) -> dict:
        return {"op": self.op.name, "params": dict(self.args), "seed": self.seed,
                "position": self.position, "spec": self.spec()}


OPERATORS: dict[str, Operator] = {}


def register(op: Operator) -> Operator:
    if op.family not in FAMILIES:
        raise ValueError(f"operator {op.name!r}: unknown family {op.family!r}")
    if op.name in OPERATORS:
        raise ValueError(f"operator {op.name!r} is registered twice")
    OPERATORS[op.name] = op
    return op


def get_operator(name: str) -> Operator:
    _load()
    try:
        return OPERATORS[name]
    except KeyError:
        raise ValueError(
            f"unknown operator {name!r} (allowed: {', '.join(OPERATORS)})"
        ) from None


def operators() -> dict[str, Operator]:
    """Every registered operator by name, in family order."""
    _load()
    return dict(sorted(OPERATORS.items(), key=lambda kv: FAMILIES.index(kv[1].family)))


def describe_operators() -> list[str]:
    """Lines for ``mazebench list``: each operator with its parameters and its doc."""
    lines = []
    for op in operators().values():
        lines.append(f"  {op.name:<20} {op.describe()}")
        lines.append(f"  {'':<20} {op.doc}")
    return lines


def _load() -> None:
    from . import anchors, corrupt, dualformer, resolve, swap, truncate  # noqa: F401
