"""Subcommands of the ``mazebench`` CLI that live in their own modules.

Each module here defines ``COMMANDS``, a list of click commands; :mod:`mazebench.cli` registers
them all. Modules keep heavy imports inside the command functions so that ``mazebench --help``
stays fast.
"""

from __future__ import annotations

import importlib
import pkgutil

import click


def discover() -> list[click.Command]:
    """Every command declared by the modules of this package, in module-name order."""
    commands: list[click.Command] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        commands.extend(getattr(module, "COMMANDS", []))
    return commands
