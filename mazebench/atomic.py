"""Atomic file writes: a file appears complete under its name or not at all."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def write_chunks(path: Path, chunks: Iterable[bytes]) -> int:
    """Write byte chunks to ``path`` via a temporary name and a rename; returns bytes written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    total = 0
    try:
        with open(tmp, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                total += len(chunk)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return total
