"""Shared test helpers: fixture paths and loaders."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("MAZEBENCH_SHARED", Path(__file__).resolve().parents[2] / "shared"))
FIXTURES = SHARED / "fixtures"


def fixture_lines(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    if not FIXTURES.exists():
        pytest.skip(f"shared fixtures not found at {FIXTURES}")
    return FIXTURES
