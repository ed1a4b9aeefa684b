"""Throughput and memory of the evaluator (``mazebench evaluate``).

Throughput, on 30 x 30 ground-truth traces of the ``default`` suite (every split; the traces are
the dataset's own, so every line is replayed to the end):

* ``validate_batch`` - the numba A* interpreter on traces held as arrays (no text);
* ``validate_texts`` - tolerant parsing of the completion text plus the replay;
* pipeline - :func:`mazebench.evaluate.report.evaluate_predictions` on a JSONL file: reading
  and decoding the lines, joining ids, parsing, replaying, digests, per-line columns and the
  summary (``--n-boot 0``: no bootstrap, no plots);
* full report - the same with 1,000 bootstrap resamples per correlation and the report files.

Memory: peak RSS (``VmHWM`` of a fresh process) of a whole evaluation, report and plots
included, of predictions files of 10^5 and 10^6 lines (ground-truth completions of a 10 x 10
``wilson`` dataset of 10,000 rows, each id repeated with ``sample`` indices), the marginal bytes
per line between the two and their ratio (the goal: at most 1.3). The machine may be shared:
every timing is the best of ``--repeats`` runs, with the rate per CPU-second of the process
beside it, and the load average is noted.

Run: ``python benchmarks/bench_evaluate.py [--quick]``; writes ``benchmarks/results/evaluate.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

SMALL_RECIPE = """
[suite]
name = "bench-small"
seed = 1
height = 10
width = 10
shard_size = 5000

[splits.test]
family = "wilson"
count = 10000
"""

# VmHWM, not ru_maxrss: ru_maxrss survives exec and would report the parent's size
MEMORY_RUN = """
import sys, time
from mazebench.evaluate.report import evaluate_predictions, write_report
t = time.perf_counter()
ev = evaluate_predictions(sys.argv[1], sys.argv[2], n_boot=int(sys.argv[4]))
write_report(ev, sys.argv[3])
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(hwm, time.perf_counter() - t, ev.report["predictions"]["evaluated"])
"""


def build(recipe, out: Path) -> None:
    from mazebench.datasets.builder import build_dataset

    if not (out / "manifest.json").exists():
        build_dataset(recipe, out)


def replicate(src: Path, dst: Path, lines: int) -> None:
    """``lines`` lines cycling over ``src``'s, each repeat with the next ``sample`` index."""
    base = src.read_text().splitlines()
    with open(dst, "w") as fh:
        for i in range(lines):
            obj = json.loads(base[i % len(base)])
            obj["sample"] = i // len(base)
            fh.write(json.dumps(obj, separators=(",", ":")) + "\n")


def best_rate(fn, n: int, repeats: int) -> str:
    """Best wall-clock rate over ``repeats`` runs, and the best rate per CPU-second of the
    process (all threads): the second is what a shared machine cannot take away."""
    fn()
    wall = cpu = 0.0
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall = max(wall, n / (time.perf_counter() - t))
        cpu = max(cpu, n / (time.process_time() - c))
    return f"{wall:,.0f}/s wall ({cpu:,.0f} per CPU-second)"


def throughput(root: Path, lines: int, repeats: int) -> list[tuple[str, str]]:
    from mazebench.datasets.packed import unpack_plan, unpack_trace
    from mazebench.datasets.recipe import load_recipe
    from mazebench.evaluate import validate_batch, validate_texts
    from mazebench.evaluate.baseline import write_baseline
    from mazebench.evaluate.predictions import read_predictions
    from mazebench.evaluate.reference import Reference
    from mazebench.evaluate.report import evaluate_predictions, write_report

    data = root / "default"
    build(load_recipe("default"), data)
    gt = root / "gt.jsonl"
    write_baseline(data, "ground-truth", gt)
    big = root / "gt_many.jsonl"
    replicate(gt, big, lines)
    ref = Reference(data)
    chunks, _ = read_predictions(gt, chunk_lines=1 << 30, chunk_bytes=1 << 40)
    texts = chunks[0].texts
    rows = ref.lookup(chunks[0].ids)
    code = ref.split_of[rows]
    problems = [ref.problems(rows[code == c]) for c in np.unique(code)]
    groups = [[t for t, k in zip(texts, code) if k == c] for c in np.unique(code)]
    n = len(texts)
    tables = [ref.dataset.table(s, ["trace", "plan"]) for s in ref.split_names]

    def arrays(t):
        eoff, *ev = unpack_trace(t.column("trace"))
        poff, *pl = unpack_plan(t.column("plan"))
        return ev, eoff, pl, poff

    arr = [arrays(t) for t in tables]
    split_problems = [ref.problems(np.arange(s.first, s.first + s.rows)) for s in ref.splits]
    events = sum(int(a[1][-1]) for a in arr)

    def run_arrays():
        for pb, (ev, eoff, pl, poff) in zip(split_problems, arr):
            validate_batch(pb, *ev, eoff, *pl, poff)

    def run_texts():
        for pb, group in zip(problems, groups):
            validate_texts(pb, group)

    r_arr = best_rate(run_arrays, n, repeats)
    r_txt = best_rate(run_texts, n, repeats)
    r_pipe = best_rate(lambda: evaluate_predictions(data, big, n_boot=0), lines, repeats)
    t = time.perf_counter()
    write_report(evaluate_predictions(data, big, n_boot=1000), root / "report")
    full = time.perf_counter() - t
    return [
        ("traces", f"{n} ground-truth traces of the default suite (30 x 30), "
                   f"{events / n:.0f} events and {sum(map(len, texts)) / n / 1e3:.1f} kB each"),
        ("validate_batch (arrays, numba replay), traces", r_arr),
        ("validate_texts (parse + replay), traces", r_txt),
        (f"pipeline: evaluate_predictions on {lines:,} JSONL lines, n_boot=0, lines", r_pipe),
        (f"full report: n_boot=1000, report.json/md + plots, {lines:,} lines", f"{full:.1f} s"),
    ]


def memory(root: Path, sizes: list[int], n_boot: int) -> list[tuple[str, str]]:
    import tomllib

    from mazebench.datasets.recipe import parse_recipe
    from mazebench.evaluate.baseline import write_baseline

    data = root / "small"
    build(parse_recipe(tomllib.loads(SMALL_RECIPE)), data)
    gt = root / "small_gt.jsonl"
    write_baseline(data, "ground-truth", gt)
    out, rss = [], {}
    for size in sizes:
        path = root / f"pred_{size}.jsonl"
        replicate(gt, path, size)
        mb = path.stat().st_size / 1e6
        res = subprocess.run([sys.executable, "-c", MEMORY_RUN, str(data), str(path),
                              str(root / f"rep_{size}"), str(n_boot)],
                             capture_output=True, text=True, check=True)
        kb, seconds, evaluated = res.stdout.split()[-3:]
        rss[size] = int(kb) * 1024
        out.append((f"{size:,} lines ({mb:,.0f} MB), n_boot={n_boot}",
                    f"peak RSS {rss[size] / 2**20:,.0f} MiB, {float(seconds):.1f} s, "
                    f"{int(evaluated):,} evaluated"))
        path.unlink()
    if len(sizes) >= 2:
        a, b = sizes[0], sizes[-1]
        out.append(("marginal memory per line", f"{(rss[b] - rss[a]) / (b - a):.0f} bytes"))
        out.append((f"peak RSS ratio {b:,} / {a:,} lines", f"{rss[b] / rss[a]:.2f}"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--lines", type=int, default=40000, help="pipeline lines (throughput)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n-boot-memory", type=int, default=20)
    ap.add_argument("--part", choices=["all", "throughput", "memory"], default="all")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "evaluate.md")
    args = ap.parse_args()
    lines = 4000 if args.quick else args.lines
    load_before = os.getloadavg()[0]
    sizes = [10_000, 100_000] if args.quick else [100_000, 1_000_000]
    with tempfile.TemporaryDirectory() as tmp:
        root = args.workdir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        rows = []
        if args.part in ("all", "throughput"):
            rows += throughput(root, lines, args.repeats)
        if args.part in ("all", "memory"):
            rows += memory(root, sizes, args.n_boot_memory)
    cpu = platform.processor() or platform.machine()
    head = (f"# Evaluator benchmark\n\n{dt.date.today()}, {cpu}, {os.cpu_count()} cores, "
            f"numba {numba.__version__}, {numba.get_num_threads()} numba threads, "
            f"1-minute load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after "
            "(the machine is shared: timings are best-of-repeats)\n\n"
            "| what | result |\n|---|---|\n")
    text = head + "".join(f"| {a} | {b} |\n" for a, b in rows)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
