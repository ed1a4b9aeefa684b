"""Speed of the trace operators over a large dataset, Parquet in and out.

Measures, for ``swap``, ``cut-tail`` (at ``goal-created``: plain A* traces end at the goal's
close, so a cut there would remove nothing) and ``dualformer`` (level mix):

* ``transform`` - :func:`mazebench.ops.transform_dataset` end to end in this process: read the
  source shards, run the operator, write the new shards, manifest and card (``--workers``
  threads), with Arrow's memory pool chosen as the command line chooses it;
* ``command`` - ``mazebench transform`` in a new process, its start-up included;
* ``parquet copy`` - the same shards read and written back unchanged with the same writer
  settings and threads: the Parquet ceiling any transform of this schema has on this machine;
* ``kernel`` - the operator alone on the split already in memory (flat arrays in, Arrow table
  of the new shard columns out), no Parquet.

The dataset is a ``mazebench generate`` recipe with one Wilson split at 30x30 (``--make N``
writes it first: about 32,000 examples/s on 2 cores, so 10^6 rows take about 30 s)::

    python benchmarks/bench_ops.py --make 1000000 --data /tmp/bench-ops-1e6
    python benchmarks/bench_ops.py --data /tmp/bench-ops-1e6          # reuse it
    python benchmarks/bench_ops.py --make 100000 --data /tmp/bench-ops-1e5 --out /tmp/ops.md

Each transform and command runs once untimed, then ``--repeat`` times; the table gives the
fastest timed run and the slowest in brackets. The untimed run is there because on the machine
these figures come from (a Firecracker virtual machine) memory has a large first-touch cost:
the host backs guest memory lazily and takes back what the guest frees (free page reporting of
8 MB blocks), and DAMON pages out memory idle for a minute, so the first run after other work
or a pause touches pages the host must provide again, at about 1.7 s per GB (measured: 14 GB
of new anonymous memory in 24.6 s; a 2 GB file written at 0.4-0.5 GB/s into such pages and at
4.9 GB/s into reused ones). Such a run was 1.5-3x slower than the next with identical work
(user and system time both grow). The first run is reported apart, in square brackets.
Writes a markdown table to ``benchmarks/results/ops.md`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

OPS = ("swap", "cut-tail:at=goal-created", "dualformer")

RECIPE = """[suite]
name = "bench-ops"
seed = 7
height = 30
width = 30
profile = "beyond-semantics"
shard_size = {shard}

[splits.train]
family = "wilson"
count = {count}
"""


def make_dataset(path: Path, count: int, shard: int, workers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        recipe = Path(tmp) / "bench-ops.toml"
        recipe.write_text(RECIPE.format(count=count, shard=shard))
        subprocess.run([sys.executable, "-m", "mazebench.cli", "generate", str(recipe),
                        "--workers", str(workers), "--no-images", "-o", str(path)], check=True)


REREADS: list[str] = []  # runs that read evicted file pages back from disk


def refaulted_bytes() -> int:
    """File pages read back after the kernel evicted them (``workingset_refault_file`` of
    ``/proc/vmstat``, in bytes; 0 where there is no such counter)."""
    try:
        for line in Path("/proc/vmstat").read_text().splitlines():
            if line.startswith("workingset_refault_file "):
                return int(line.split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        pass
    return 0


def timed(fn, repeat: int, setup=None, label: str = "") -> list[float]:
    """The wall times of ``repeat`` runs of ``fn``, each after an untimed ``setup()`` (deleting
    the previous run's output). A run that read more than 50 MB of evicted file pages back
    from disk (the source shards, paged out by the machine) is noted in :data:`REREADS`. (A
    ``sync`` before each run made every figure lower on this machine, not steadier: the
    flushed outputs stay as clean page cache that the next run's allocations must reclaim.)"""
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        before = refaulted_bytes()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        reread = (refaulted_bytes() - before) / 1e6
        if label and reread > 50:
            REREADS.append(f"{label} ({times[-1]:.2f} s): {reread:,.0f} MB")
    return times


def best(fn, repeat: int) -> float:
    """The fastest of ``repeat`` runs of ``fn``."""
    return min(timed(fn, repeat))


def spread(rows: int, times: list[float], first: list[float]) -> str:
    """``best (slowest) [first]`` examples/s of the timed runs and the first run."""
    return f"{rows / min(times):,.0f} ({rows / max(times):,.0f}) [{rows / first[0]:,.0f}]"


def parquet_copy(paths: list[Path], out: Path, workers: int, codec: str) -> None:
    import pyarrow.parquet as pq

    from mazebench.datasets.parquet_format import write_shard_file

    out.mkdir(parents=True, exist_ok=True)

    def one(k: int) -> None:
        write_shard_file(pq.read_table(paths[k]), out / f"part-{k:05d}.parquet", {},
                         codec=codec, fsync=False)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(len(paths))))


def kernel_only(batch, spec: str, order: list[str]) -> None:
    from mazebench.ops import apply_steps, bind, parse_chain, table_from_batch
    from mazebench.ops.chain import chain_columns, chain_spec
    from mazebench.search.profiles import get_profile

    steps = parse_chain([spec], seed=1)
    out = apply_steps(batch, bind(steps, "train", get_profile("beyond-semantics")))
    step = 50_000
    for a in range(0, len(out), step):
        table_from_batch(out.slice(a, min(a + step, len(out))), chain_spec(steps), order,
                         chain_columns(steps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/tmp/bench-ops-1e6"))
    parser.add_argument("--make", type=int, default=0, help="generate this many rows first")
    parser.add_argument("--shard", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--ops", default=",".join(OPS), help="comma-separated operator specs")
    parser.add_argument("--compression", default="none", help="codec of the written shards")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parent / "results" / "ops.md")
    args = parser.parse_args()

    import pyarrow.parquet as pq

    import mazebench
    from mazebench.datasets.parquet_format import choose_memory_pool
    from mazebench.ops import transform_dataset
    from mazebench.ops.dataset import read_split

    pool = choose_memory_pool()  # as the command line does

    if args.make:
        if args.data.exists():
            shutil.rmtree(args.data)
        t0 = time.perf_counter()
        make_dataset(args.data, args.make, args.shard, args.workers)
        print(f"generated {args.make} rows in {time.perf_counter() - t0:.0f} s", flush=True)
    data = mazebench.load(args.data)
    paths = data.shard_paths("train")
    rows = data.num_rows("train")
    events = data.manifest["splits"]["train"]["statistics"]["n_events"]
    size = sum(p.stat().st_size for p in paths)
    scratch = Path(tempfile.mkdtemp(prefix="bench-ops-"))
    specs = [s for s in args.ops.split(",") if s]
    order = pq.read_schema(paths[0]).names
    results = []
    try:
        copy = min(timed(lambda: parquet_copy(paths, scratch / "copy", args.workers,
                                              args.compression), args.repeat,
                         lambda: shutil.rmtree(scratch / "copy", ignore_errors=True)))
        print(f"parquet copy: {rows / copy:,.0f} examples/s", flush=True)
        for spec in specs:
            def run(spec=spec):
                transform_dataset(args.data, scratch / "out", [spec], seed=1,
                                  workers=args.workers, compression=args.compression)

            def cli(spec=spec):
                subprocess.run([sys.executable, "-m", "mazebench.cli", "transform",
                                str(args.data), "--op", spec, "--seed", "1", "--workers",
                                str(args.workers), "--compression", args.compression, "-o",
                                str(scratch / "out")], check=True)

            def clean() -> None:
                shutil.rmtree(scratch / "out", ignore_errors=True)

            # the command first: in-process runs free gigabytes that the host then takes back
            # (module docstring); a first run of each apart
            first_command = timed(cli, 1, clean, f"`{spec}` command, first run")
            command = timed(cli, args.repeat, clean, f"`{spec}` command")
            first = timed(run, 1, clean, f"`{spec}` transform, first run")
            full = timed(run, args.repeat, clean, f"`{spec}` transform")
            results.append([spec, spread(rows, full, first), spread(rows, command, first_command)])
            print(f"{spec}: transform {results[-1][1]} examples/s, command "
                  f"{results[-1][2]}/s (best (slowest) [first])", flush=True)
        shutil.rmtree(scratch / "out", ignore_errors=True)
        batch = read_split(paths, args.workers)  # read once the transforms are measured
        for result in results:
            spec = result[0]
            kernel_only(batch.slice(0, min(len(batch), 1000)), spec, order)  # load the kernels
            kernel = best(lambda spec=spec: kernel_only(batch, spec, order), args.repeat)
            result.append(f"{rows / kernel:,.0f}")
            print(f"{spec}: kernel {rows / kernel:,.0f} examples/s", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    lines = [
        "# Trace operators: examples/s, Parquet in and out",
        "",
        f"{rows:,} examples (30x30 Wilson, Beyond Semantics A*; events per trace median "
        f"{events['q50']:.0f}, q90 {events['q90']:.0f}), {len(paths)} shards, "
        f"{size / 1e6:.0f} MB; {args.workers} threads on {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()}); after a first run (its figure in "
        f"square brackets), {args.repeat} runs each: the fastest (the slowest in brackets; "
        f"kernel and copy: the fastest); written "
        f"codec `{args.compression}`; Arrow memory pool `{pool}`.",
        "",
        "| operator | transform (Parquet in/out) | `mazebench transform` (new process) "
        "| kernel only (in memory) | Parquet copy |",
        "|---|---|---|---|---|",
    ]
    for spec, full, command, kernel in results:
        lines.append(f"| `{spec}` | {full} | {command} | {kernel} | {rows / copy:,.0f} |")
    lines += [
        "",
        "`transform` is `mazebench.transform_dataset` end to end in this process after a first "
        "run (read, operator, write shards, manifest, card); `mazebench transform` is the "
        "command in a new process, its start (imports, loading the numba kernels from their "
        "cache, about 1.2 s) included; `Parquet copy` reads and rewrites the same shards "
        "unchanged with the same writer settings and threads, the ceiling of any transform of "
        "this schema here; `kernel only` runs the operator on the split in memory and builds "
        "the new Arrow columns.",
        "",
        "Runs that read evicted pages of the source back from disk (`workingset_refault_file`): "
        + ("; ".join(REREADS) if REREADS else "none") + ".",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
