"""Build, in one run, the training sets of the published trace-supervision comparisons.

From the ``default`` suite (30x30 Wilson training mazes, Beyond Semantics A*), this writes one
dataset directory per arm; every arm transforms the ``train`` split only and keeps the same
problems and plans, so models trained on them are evaluated on the untouched test splits of
``OUT/correct``:

* ``correct`` - the suite itself (full A* traces);
* ``swapped`` - each problem gets another problem's trace, a derangement (Beyond Semantics,
  arXiv 2505.13775: plan accuracy stays, trace validity drops to 0%);
* ``extended`` - answer-correct traces with a post-conclusion tail: the search runs on after the
  goal for half the trace's length again (arXiv 2605.29288);
* ``tail-cut`` / ``suffix-control`` / ``chunk-control`` - ``extended`` with its tail cut at the
  goal's close, versus the length-matched controls that remove as many events elsewhere
  (a random-length suffix drawn from another row, a random contiguous chunk);
* ``dualformer`` - Dualformer's per-example mixture of trace-dropping levels L0-L4 (arXiv
  2410.09918), one dataset per epoch (``--epochs``);
* ``drop-anchors`` / ``drop-routine`` - the jumps between branches removed, versus as many routine
  events (thought anchors, arXiv 2506.19143).

Usage::

    python examples/build_trace_experiments.py -o experiments            # full default suite
    python examples/build_trace_experiments.py -o /tmp/exp --scale 0.1   # a quick small run

It prints one line per arm (rows, median events and tokens, share of valid traces in a sample
replayed by :func:`mazebench.validate`) and writes ``OUT/experiments.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

import mazebench
from mazebench.datasets.builder import build_dataset
from mazebench.datasets.recipe import load_recipe, suites_dir
from mazebench.ops import transform_dataset

EXTEND = "extend:fraction=0.5"
ARMS = {
    "swapped": ["swap"],
    "extended": [EXTEND],
    "tail-cut": [EXTEND, "cut-tail:at=goal-closed"],
    "suffix-control": [EXTEND, "cut-random-suffix:at=goal-closed"],
    "chunk-control": [EXTEND, "cut-random-chunk:at=goal-closed"],
    "drop-anchors": ["drop-anchors"],
    "drop-routine": ["drop-routine:kind=any"],
}


def validity(path: Path, sample: int, seed: int) -> tuple[float, float]:
    """Shares of valid traces and plans among ``sample`` rows of the train split (the strict
    replay: events after the goal's close are errors)."""
    from mazebench.conventions.dialects import get_dialect

    data = mazebench.load(path)
    rows = data.num_rows("train")
    picks = np.random.default_rng(np.random.SeedSequence([seed, rows])).choice(
        rows, size=min(sample, rows), replace=False)
    dialect = data.manifest["recipe"]["splits"][0]["profile"]["dialect"]
    writer = get_dialect(dialect)
    trace_ok = plan_ok = 0
    for i in sorted(picks.tolist()):
        ex = data.example("train", i)
        verdict = mazebench.validate(ex.problem, writer.text(ex.problem, ex.trace, ex.plan),
                                     dialect)
        trace_ok += verdict.trace_valid
        plan_ok += verdict.plan_valid
    n = max(1, len(picks))
    return trace_ok / n, plan_ok / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--scale", type=float, default=1.0, help="scale of the default suite")
    parser.add_argument("--seed", type=int, default=0, help="seed of every operator")
    parser.add_argument("--epochs", type=int, default=1, help="Dualformer datasets (epochs)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=100, help="rows validated per arm")
    args = parser.parse_args()

    out: Path = args.output
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    correct = out / "correct"
    if not (correct / "manifest.json").exists():
        recipe = load_recipe(suites_dir() / "default.toml")
        if args.scale != 1.0:
            recipe = recipe.scaled(args.scale)
        build_dataset(recipe, correct, workers=args.workers, card_images=False)
    arms = dict(ARMS)
    for epoch in range(args.epochs):
        arms[f"dualformer-epoch{epoch}"] = [f"dualformer:level=mix,epoch={epoch}"]
    record = {"source": str(correct), "seed": args.seed, "arms": {"correct": {"path": "correct",
                                                                               "ops": []}}}
    for arm, chain in arms.items():
        shutil.rmtree(out / arm, ignore_errors=True)
        transform_dataset(correct, out / arm, chain, seed=args.seed, splits=["train"],
                          workers=args.workers)
        record["arms"][arm] = {"path": arm, "ops": chain}
    (out / "experiments.json").write_text(json.dumps(record, indent=2) + "\n")

    print(f"{'arm':<22}{'rows':>8}{'events q50':>12}{'tokens q50':>12}{'valid traces':>14}"
          f"{'valid plans':>13}")
    for arm, info in record["arms"].items():
        data = mazebench.load(out / info["path"])
        st = data.manifest["splits"]["train"]["statistics"]
        if arm.startswith("dualformer"):
            valid = "-", "-"  # levels drop clauses by design: not A* traces to replay
        else:
            valid = tuple(f"{v:.0%}" for v in validity(out / info["path"], args.sample,
                                                         args.seed))
        print(f"{arm:<22}{data.num_rows('train'):>8}{st['n_events']['q50']:>12.0f}"
              f"{st['trace_tokens']['q50']:>12.0f}{valid[0]:>14}{valid[1]:>13}")
    print(f"wrote {len(record['arms'])} datasets to {out} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
