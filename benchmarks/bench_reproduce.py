"""Throughput of ``mazebench reproduce beyond-semantics`` (maze + A* trace + JSONL text).

Every generator of the Beyond Semantics suite at 30x30, 20,000 examples each, on ONE core: the
whole pipeline the CLI runs (``reproduce_chunks``: generation, search and serialisation in one
compiled loop, chunks handed to Python), timed with the process CPU clock and the wall clock.
The upstream JavaScript generator is not run here (it is not installable from the registries
this machine reaches); the issue quotes about 240 examples/s for it on this kind of machine, and
the ratio column uses that figure.

Run: ``python benchmarks/bench_reproduce.py [--count N]``; writes
``benchmarks/results/reproduce.md``. First-call compile time is measured in a fresh subprocess
with an empty ``NUMBA_CACHE_DIR``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba

from mazebench.reproduce import UPSTREAM_GENERATORS, reproduce_chunks

UPSTREAM_RATE = 240.0  # examples/s of the authors' generator, as quoted in the issue


def measure(generator: str, count: int, repeats: int) -> tuple[float, float, float]:
    """Best CPU-clock and wall-clock examples/s over ``repeats`` runs, and bytes per example."""
    for _ in reproduce_chunks(generator, count=20):
        pass
    best_cpu = best_wall = 0.0
    size = 0
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        size = sum(len(chunk) for chunk in reproduce_chunks(generator, count=count))
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        best_cpu = max(best_cpu, count / cpu)
        best_wall = max(best_wall, count / wall)
    return best_cpu, best_wall, size / count


def compile_time() -> float:
    code = (
        "import time; t=time.perf_counter();"
        "from mazebench.reproduce import reproduce_bytes;"
        "reproduce_bytes('wilson', count=1); print(time.perf_counter()-t)"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "reproduce.md"))
    args = parser.parse_args()
    cpu = "unknown"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name"):
                cpu = line.split(":", 1)[1].strip()
    except OSError:
        pass
    lines = [
        "# reproduce beyond-semantics throughput (30x30, one core)",
        "",
        f"{dt.date.today()}, {cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()},"
        f" numba {numba.__version__}; {args.count} examples per generator, best of "
        f"{args.repeats}.",
        "",
        "| generator | examples/s (CPU clock) | examples/s (wall) | bytes/example | "
        "vs upstream (~240/s) |",
        "|---|---|---|---|---|",
    ]
    for gen in UPSTREAM_GENERATORS:
        rate_cpu, rate_wall, size = measure(gen, args.count, args.repeats)
        lines.append(
            f"| {gen} | {rate_cpu:,.0f} | {rate_wall:,.0f} | {size:,.0f} | "
            f"{rate_cpu / UPSTREAM_RATE:,.0f}x |"
        )
        print(lines[-1], flush=True)
    lines += ["", f"First call in a fresh process with an empty numba cache: {compile_time():.1f} s"
              " (compiling every kernel the pipeline uses)."]
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
