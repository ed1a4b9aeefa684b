"""Declared, validated parameters for maze families and placement policies.

Each family or policy declares its parameters as :class:`Param` entries; the values travel to the
numba kernels as a float64 array in declaration order, so kernels never see Python objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Param:
    """One numeric parameter with its default and allowed closed range."""

    name: str
    default: float
    low: float
    high: float
    kind: str = "float"  # "float", "int" or "bool"
    doc: str = ""
    aliases: tuple[str, ...] = ()

    def check(self, owner: str, value: object) -> float:
        """Convert and range-check ``value``; raise a one-line ValueError naming the problem."""
        if isinstance(value, str):
            text = value.strip().lower()
            if self.kind == "bool" and text in ("true", "false", "yes", "no", "on", "off"):
                value = text in ("true", "yes", "on")
            else:
                try:
                    value = float(text)
                except ValueError:
                    raise ValueError(
                        f"{owner}: parameter {self.name!r} must be a number, got {value!r}"
                    ) from None
        if isinstance(value, bool):
            value = float(value)
        if not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"{owner}: parameter {self.name!r} must be a number, got {value!r}")
        number = float(value)
        if self.kind in ("int", "bool") and number != int(number):
            raise ValueError(f"{owner}: parameter {self.name!r} must be an integer, got {value!r}")
        if not (self.low <= number <= self.high):
            raise ValueError(
                f"{owner}: parameter {self.name!r}={value!r} is out of range "
                f"[{_fmt(self.low)}, {_fmt(self.high)}]"
            )
        return number


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True)
class ParamSet:
    """An ordered set of parameters owned by a named family or policy."""

    owner: str
    params: tuple[Param, ...] = field(default_factory=tuple)

    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def resolve(self, values: Mapping[str, object] | None = None) -> dict[str, float]:
        """Defaults overridden by ``values``; unknown names raise listing the allowed ones."""
        values = dict(values or {})
        lookup = {}
        for p in self.params:
            lookup[p.name] = p
            for alias in p.aliases:
                lookup[alias] = p
        resolved = {p.name: float(p.default) for p in self.params}
        for key, value in values.items():
            if key not in lookup:
                allowed = ", ".join(self.names()) or "none"
                raise ValueError(f"{self.owner}: unknown parameter {key!r} (allowed: {allowed})")
            p = lookup[key]
            resolved[p.name] = p.check(self.owner, value)
        return resolved

    def to_array(self, values: Mapping[str, object] | None = None) -> np.ndarray:
        resolved = self.resolve(values)
        return np.array([resolved[p.name] for p in self.params], dtype=np.float64)

    def describe(self) -> str:
        parts = []
        for p in self.params:
            parts.append(f"{p.name}={_fmt(p.default)} [{_fmt(p.low)}..{_fmt(p.high)}]")
        return ", ".join(parts)
