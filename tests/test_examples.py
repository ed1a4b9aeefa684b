"""The example scripts run end to end (smoke runs with tiny budgets)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_train_tiny_runs_the_whole_loop(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "tiny"
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "train_tiny.py"), "--minutes", "0.05",
         "--train-rows", "400", "--test-rows", "12", "--out", str(out), "--show", "0"],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    lines = (out / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == 12 and all("completion" in json.loads(x) for x in lines)
    report = json.loads((out / "report" / "report.json").read_text())
    assert report["predictions"]["evaluated"] == 12
    assert "plan valid" in run.stdout
