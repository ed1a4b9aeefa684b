"""Dataset generation throughput and memory: maze + trace + Parquet, end to end.

Reports, on this machine:

* per family at 30x30 (one process): examples/s of each stage - maze + search + metrics
  (``generate_block``), hashes, Arrow table, Parquet write - and of the whole scan task that a
  worker runs for one shard;
* the ``default`` suite's family mix built by ``mazebench generate --workers N`` (examples/s of
  the whole command, numba compiled and cached beforehand);
* with ``--memory``: peak RSS of ``mazebench generate`` for one 30x30 Wilson split at 10^5 and
  10^6 examples (the largest process of the run, via ``getrusage(RUSAGE_CHILDREN)`` in a fresh
  wrapper process per count).

Run: ``python benchmarks/bench_generate.py [--workers 2] [--scale 30] [--memory]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

FAMILIES = [
    ("wilson", {}, "family"),
    ("kruskal", {}, "family"),
    ("dfs", {}, "family"),
    ("drunkards_walk", {}, "family"),
    ("searchformer", {}, "family"),
    ("cellular_automata", {}, "family"),
    ("free_space", {}, "uniform"),
]


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def per_family(n: int, repeats: int) -> list[dict]:
    from mazebench.datasets.batch import generate_block
    from mazebench.datasets.parquet_format import write_shard_file
    from mazebench.datasets.recipe import parse_recipe
    from mazebench.datasets.schema import block_hashes
    from mazebench.datasets.tasks import ScanTask, SplitJob, scan, shard_table

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for family, params, placement in FAMILIES:
            recipe = parse_recipe({"splits": {"s": {"family": family, "count": n,
                                                    "params": params, "placement": placement}}})
            split = recipe.splits[0]
            job = SplitJob(split, 12345, recipe.fingerprint(), tmp)
            generate_block(split.maze, split.profile, job.key, 0, 8)  # compile / load cache
            holder = {}

            def gen(split=split, job=job, holder=holder):
                holder["b"] = generate_block(split.maze, split.profile, job.key, 0, n)

            t_gen = _best(gen, repeats)
            block = holder["b"]
            t_hash = _best(lambda block=block: block_hashes(block), repeats)
            hashes = block_hashes(block)
            t_table = _best(lambda job=job, block=block, hashes=hashes:
                            shard_table(job, block, hashes), repeats)
            table = shard_table(job, block, hashes)
            path = Path(tmp) / "t.parquet"
            t_pq = _best(lambda table=table, path=path: write_shard_file(
                table, path, {}, fsync=False), repeats)
            spec = str(Path(tmp) / "spec.parquet")
            t_task = _best(lambda job=job, spec=spec: scan(ScanTask(job, 0, n, spec)), repeats)
            rows.append({
                "family": family,
                "events": float(np.mean(np.diff(block.ev_off))),
                "maze+search": n / t_gen,
                "hashes": n / t_hash,
                "table": n / t_table,
                "parquet": n / t_pq,
                "scan task": n / t_task,
                "bytes/ex": path.stat().st_size / n,
            })
    return rows


def _default_recipe(tmp: str, codec: str) -> str:
    """The shipped ``default`` suite with the packed columns' codec set to ``codec``."""
    from mazebench.datasets.recipe import suites_dir

    text = (suites_dir() / "default.toml").read_text()
    path = Path(tmp) / f"default-{codec}.toml"
    path.write_text(text.replace("[suite]\n", f'[suite]\ncompression = "{codec}"\n', 1))
    return str(path)


def default_mix(workers: int, scale: float, codec: str = "lz4") -> tuple[int, float, float]:
    """Rows, seconds of ``mazebench generate --scale S --workers N`` (cache warm) and seconds
    of the same command at scale 0.01 (start-up: interpreter, imports, numba cache loads)."""
    with tempfile.TemporaryDirectory() as tmp:
        recipe = _default_recipe(tmp, codec)

        def run(s: float, out: str) -> float:
            cmd = [sys.executable, "-m", "mazebench.cli", "generate", recipe, "--scale", str(s),
                   "--no-images", "-o", f"{tmp}/{out}", "--workers", str(workers)]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            return time.perf_counter() - t0

        run(0.01, "warm")
        startup = min(run(0.01, f"tiny{k}") for k in range(2))
        seconds = run(scale, "d")
    return round(3400 * scale), seconds, startup


_MEMORY = textwrap.dedent("""
    import resource, subprocess, sys
    subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
    print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
""")


def peak_rss(count: int, workers: int) -> tuple[float, float]:
    """Peak RSS (MB) and seconds of generating ``count`` 30x30 Wilson examples."""
    with tempfile.TemporaryDirectory() as tmp:
        recipe = Path(tmp) / "mem.toml"
        recipe.write_text(f'[suite]\nname = "mem"\nseed = 1\n[splits.train]\n'
                          f'family = "wilson"\ncount = {count}\n')
        cmd = [sys.executable, "-m", "mazebench.cli", "generate", str(recipe), "--no-images",
               "-o", f"{tmp}/d", "--workers", str(workers)]
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _MEMORY, *cmd], check=True,
                             capture_output=True, text=True)
        return int(out.stdout.strip()) / 1024, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scale", type=float, default=30.0,
                        help="default suite scale for the mix (30 = 102,000 examples)")
    parser.add_argument("--block", type=int, default=5000, help="examples per family block")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory", action="store_true", help="also measure peak RSS")
    parser.add_argument("--codecs", default="lz4,none",
                        help="compression of the packed columns for the default-mix runs")
    args = parser.parse_args()

    print(f"per family, 30x30, one process, {args.block} examples, best of {args.repeats} "
          "(examples/s):")
    head = ("family", "events", "maze+search", "hashes", "table", "parquet", "scan task",
            "bytes/ex")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in per_family(args.block, args.repeats):
        print("| " + " | ".join(
            row[k] if isinstance(row[k], str) else f"{row[k]:,.0f}" for k in head) + " |")
    for codec in args.codecs.split(","):
        rows, seconds, startup = default_mix(args.workers, args.scale, codec)
        print(f"\ndefault mix, compression {codec}: {rows} examples with --workers "
              f"{args.workers} in {seconds:.1f} s = {rows / seconds:,.0f} examples/s (whole "
              f"command, maze + trace + Parquet + manifest); start-up {startup:.1f} s, "
              f"{rows / max(seconds - startup, 1e-9):,.0f} examples/s after it")
    if args.memory:
        for count in (10**5, 10**6):
            rss, secs = peak_rss(count, args.workers)
            print(f"peak RSS, {count:>9,} wilson 30x30 examples, --workers {args.workers}: "
                  f"{rss:,.0f} MB ({secs:.0f} s)")


if __name__ == "__main__":
    main()
