"""Speed of the whole-dataset commands around training: export, baseline, evaluate.

On one generated dataset (the ``default`` suite at ``--scale``, 30x30), with 1 and ``--workers``
threads, each command run through its Python entry point exactly as the command line does:

* ``export --format hf`` (:func:`mazebench.training.hf.export_hf`) and ``--format jsonl``;
* ``baseline --kind swapped`` (:func:`mazebench.evaluate.baseline.write_baseline`);
* ``evaluate`` of those swapped predictions with the default report statistics (1,000
  bootstrap resamples; numba's threads) and, for comparison, without the bootstrap.

Every output is compared across thread counts (the bytes must not depend on them)::

    python benchmarks/bench_export.py                      # x100: 340,000 rows, about 5 minutes
    python benchmarks/bench_export.py --scale 10 --out /tmp/export.md

Writes a markdown table to ``benchmarks/results/export.md`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def digest(root: Path) -> str:
    """One sha256 over a file's bytes, or over every file under a folder (relative names and
    bytes, in order)."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]:
        if root.is_dir():
            h.update(str(path.relative_to(root)).encode())
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None,
                        help="a dataset to use (default: generate the default suite)")
    parser.add_argument("--scale", type=float, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parent / "results" / "export.md")
    args = parser.parse_args()

    import mazebench
    from mazebench.datasets.export import export_dataset
    from mazebench.evaluate.baseline import write_baseline
    from mazebench.evaluate.report import evaluate_predictions

    scratch = Path(tempfile.mkdtemp(prefix="bench-export-"))
    try:
        data = args.data
        if data is None:
            data = scratch / "data"
            subprocess.run([sys.executable, "-m", "mazebench.cli", "generate", "--scale",
                            str(args.scale), "--workers", str(args.workers), "--no-images",
                            "-o", str(data)], check=True, stdout=subprocess.DEVNULL)
        dataset = mazebench.load(data)
        rows = sum(dataset.num_rows(s) for s in dataset.splits)
        # compile every kernel on a small split first, so timings hold no compilation
        small = min(dataset.splits, key=dataset.num_rows)
        export_dataset(data, scratch / "warm-hf", format="hf", splits=[small])
        export_dataset(data, scratch / "warm-jsonl", format="jsonl", splits=[small])
        write_baseline(data, "swapped", scratch / "warm.jsonl", splits=[small])
        evaluate_predictions(data, scratch / "warm.jsonl", n_boot=20)

        results = []
        for name, run in (
            ("export --format hf", lambda out, w: export_dataset(data, out, format="hf",
                                                                 workers=w)),
            ("export --format jsonl", lambda out, w: export_dataset(data, out, format="jsonl",
                                                                    workers=w)),
            ("baseline --kind swapped", lambda out, w: write_baseline(data, "swapped", out,
                                                                      workers=w)),
        ):
            times, digests = {}, set()
            for workers in sorted({1, args.workers}):
                out = scratch / f"{name.split()[0]}-{workers}"
                out = out.with_suffix(".jsonl") if name.startswith("baseline") else out
                times[workers] = timed(lambda out=out, w=workers, run=run: run(out, w))
                digests.add(digest(out))
                if not name.startswith("baseline"):
                    shutil.rmtree(out)
            same = "yes" if len(digests) == 1 else "NO"
            results.append((name, times, same))
            print(name, {w: f"{rows / t:,.0f}/s" for w, t in times.items()}, "same:", same,
                  flush=True)
        predictions = scratch / f"baseline-{args.workers}.jsonl"
        full = timed(lambda: evaluate_predictions(data, predictions))
        quick = timed(lambda: evaluate_predictions(data, predictions, n_boot=0))
        print(f"evaluate: {rows / full:,.0f} lines/s (n_boot 1000), {rows / quick:,.0f} "
              "(n_boot 0)", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    w = args.workers
    lines = [
        "# Export, baseline and evaluate: rows/s",
        "",
        f"`default` suite x{args.scale:g} ({rows:,} rows, 30x30), {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()}), one run each after warming the "
        "numba cache; `python benchmarks/bench_export.py`.",
        "",
        f"| command | 1 thread | {w} threads | same bytes |",
        "|---|---|---|---|",
    ]
    for name, times, same in results:
        lines.append(f"| `{name}` | {rows / times[1]:,.0f} ({times[1]:.1f} s) | "
                     f"{rows / times[w]:,.0f} ({times[w]:.1f} s) | {same} |")
    lines += [
        f"| `evaluate`, default report (1,000 bootstrap resamples) | | {rows / full:,.0f} "
        f"({full:.1f} s) | |",
        f"| `evaluate --n-boot 0` | | {rows / quick:,.0f} ({quick:.1f} s) | |",
        "",
        "JSONL export writes about 10 kB of text per row, so its speed also depends on how "
        "fast the disk takes writes (`dd` measured 368 MB/s here once). `evaluate` runs its "
        "numba kernels on all cores either way.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
