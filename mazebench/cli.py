"""The ``mazebench`` command line (see DESIGN.md for the stable contract)."""

from __future__ import annotations

import os

# No command uses BLAS, and OpenBLAS's idle worker threads spin on the cores the commands' own
# threads need (numpy loads one OpenBLAS, numba's start loads scipy's when scipy is installed):
# one BLAS thread made a 10^6-row `transform` 0.1-0.2 s faster on 2 cores. Set before numpy
# loads (the package's public names load lazily for this); a value the user set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json
import sys
import time
from pathlib import Path

import click

from .atomic import write_chunks


class _Group(click.Group):
    """A command group that turns user errors into one-line messages (no traceback)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (ValueError, OSError, KeyError) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            raise click.ClickException(str(message).splitlines()[0] if str(message) else
                                       type(exc).__name__) from None


def _progress_enabled() -> bool:
    return sys.stderr.isatty()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mazebench")
def main() -> None:
    """mazebench: grid-maze benchmarks with exact search traces.

    \b
    Example:
      mazebench generate                 # the built-in default benchmark in ./mazebench-data
      mazebench show mazebench-data --split test_dfs --index 3
    """
    from .datasets.parquet_format import choose_memory_pool

    choose_memory_pool()


# --------------------------------------------------------------------------------- generate
@main.command()
@click.argument("recipe", required=False)
@click.option("-o", "--output", "out", default="mazebench-data", show_default=True,
              type=click.Path(file_okay=False), help="Dataset directory to write.")
@click.option("--workers", default=1, show_default=True, type=int,
              help="Worker processes (local) or CPUs of a Ray instance started here.")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Execution engine (ray: pip install 'mazebench[ray]').")
@click.option("--scale", default=1.0, show_default=True, type=float,
              help="Multiply every split count by this factor.")
@click.option("--no-images", is_flag=True, help="Leave the example PNGs out of the dataset card.")
def generate(recipe: str | None, out: str, workers: int, engine: str, scale: float,
             no_images: bool) -> None:
    """Build a benchmark dataset from RECIPE (a TOML path or a shipped suite name).

    Without RECIPE the built-in default suite is built. Re-running an interrupted command
    resumes it and ends with the same bytes, whatever --workers or --engine.

    \b
    Example:
      mazebench generate -o data/default
      mazebench generate beyond-semantics --workers 2 -o data/bs
      mazebench generate my_suite.toml --engine ray --scale 0.1 -o data/small
    """
    from .datasets.builder import build_dataset
    from .datasets.recipe import load_recipe

    resolved = load_recipe(recipe)
    if scale != 1.0:
        resolved = resolved.scaled(scale)
    t0 = time.perf_counter()
    manifest = build_dataset(resolved, out, workers=workers, engine=engine,
                             progress=_progress_enabled(), card_images=not no_images)
    seconds = time.perf_counter() - t0
    total = sum(s["rows"] for s in manifest["splits"].values())
    click.echo(f"{resolved.name}: {total} examples in {len(manifest['splits'])} splits -> {out}"
               f" ({seconds:.1f} s, {total / max(seconds, 1e-9):.0f} examples/s)")
    click.echo(f"{'split':<30}{'rows':>8}{'events q50':>12}{'plan q50':>10}{'unsolvable':>12}"
               f"{'rejected':>10}")
    for name, info in manifest["splits"].items():
        st = info["statistics"]
        build = info.get("build", {})
        rejected = sum(build.get(k, 0) for k in ("rejected_duplicate", "rejected_leak",
                                                  "rejected_bin"))
        click.echo(
            f"{name:<30}{info['rows']:>8}{st.get('n_events', {}).get('q50', 0):>12.0f}"
            f"{st.get('plan_length', {}).get('q50', 0):>10.0f}{st.get('unsolvable', 0):>12}"
            f"{rejected:>10}"
        )


# -------------------------------------------------------------------------------- reproduce
@main.group()
def reproduce() -> None:
    """Reproduce upstream datasets byte for byte."""


@reproduce.command("beyond-semantics")
@click.option("-g", "--generator", required=True,
              help="wilson, kruskal, dfs, drunkards_walk, searchformer or cellular_automata.")
@click.option("--mode", type=click.Choice(["train", "test"]), default="train", show_default=True)
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--count", default=1000, show_default=True, type=int)
@click.option("--rows", default=30, show_default=True, type=int)
@click.option("--cols", default=30, show_default=True, type=int)
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Generator parameter, e.g. coverage=0.3 or fillProbability=0.4.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
def reproduce_bs(generator, mode, seed, count, rows, cols, params, output) -> None:
    """Write the Beyond Semantics generator's JSONL output, byte-identical (arXiv 2505.13775).

    \b
    Example:
      mazebench reproduce beyond-semantics -g wilson --mode train --count 50000 -o train.jsonl
      mazebench reproduce beyond-semantics -g drunkards_walk --param coverage=0.3 -o dw.jsonl
    """
    from .reproduce import ReproduceReport, reproduce_chunks

    values = {}
    for item in params:
        if "=" not in item:
            raise ValueError(f"--param {item!r} must look like NAME=VALUE")
        name, value = item.split("=", 1)
        values[name.strip()] = value.strip()
    report = ReproduceReport()
    t0 = time.perf_counter()
    chunks = reproduce_chunks(
        generator, mode=mode, seed=seed, count=count, rows=rows, cols=cols, params=values,
        report=report,
    )
    write_chunks(Path(output), chunks)
    seconds = time.perf_counter() - t0
    click.echo(
        f"{generator} {mode} seed {seed}: {report.count} examples, {report.bytes} bytes -> "
        f"{output} ({report.count / max(seconds, 1e-9):.0f} examples/s); "
        f"{len(report.unsolvable)} unsolvable"
        + (f" (lines {', '.join(str(i + 1) for i in report.unsolvable[:10])}"
           f"{', ...' if len(report.unsolvable) > 10 else ''})" if report.unsolvable else "")
    )


# ------------------------------------------------------------------------------------ solve
@main.command()
@click.argument("problems", type=click.Path(exists=True, dir_okay=False))
@click.option("--profile", default="beyond-semantics", show_default=True,
              help="Solver profile (see `mazebench list`).")
@click.option("--dialect", default=None, help="Token dialect (default: the profile's).")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Seed of randomised profiles (line i uses stream (seed, i)).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
def solve(problems: str, profile: str, dialect: str | None, seed: int, output: str) -> None:
    """Solve every problem line of PROBLEMS.jsonl and write traces as token strings.

    Input lines: {"width", "height", "walls": [[x, y], ...], "start": [x, y], "goal": [x, y]};
    other keys are ignored. Each output line adds "profile", "solvable", "prompt",
    "reasoning", "plan" and the trace/plan metrics.

    \b
    Example:
      mazebench solve problems.jsonl --profile searchformer -o solved.jsonl
    """
    from .conventions.dialects import get_dialect
    from .problem import Problem
    from .rng import native_stream
    from .search.profiles import get_profile
    from .search.solve import solve as run

    prof = get_profile(profile)
    dia = get_dialect(dialect or prof.dialect)
    lines = []
    n_unsolvable = 0
    with open(problems, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError("line is not a JSON object")
                problem = Problem.from_json(obj)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{problems}:{number}: {exc}") from None
            sol = run(problem, prof, rng=native_stream(seed, "solve", index=number - 1))
            n_unsolvable += not sol.solved
            out = problem.to_json()
            out.update({"profile": prof.name, "solvable": sol.solved})
            out.update(dia.parts(problem, sol.trace, sol.written_plan()))
            out.update(sol.metrics)
            lines.append(json.dumps(out) + "\n")
    write_chunks(Path(output), [s.encode() for s in lines])
    click.echo(f"solved {len(lines)} problems with {prof.name} -> {output}; "
               f"{n_unsolvable} unsolvable")


# ------------------------------------------------------------------------------------- show
@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--split", default=None, help="Split name (default: the first).")
@click.option("--index", default=0, show_default=True, type=int, help="Row in the split.")
@click.option("--family", default=None, help="Show a fresh maze of this family instead.")
@click.option("--size", default="30x30", show_default=True, help="WIDTHxHEIGHT with --family.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed with --family.")
@click.option("--profile", default="beyond-semantics", show_default=True,
              help="Solver profile with --family.")
@click.option("--png", default=None, type=click.Path(dir_okay=False), help="Also save a PNG.")
def show(directory, split, index, family, size, seed, profile, png) -> None:
    """Print a maze with its plan (*) and closed cells (.) from a dataset, or a fresh one.

    \b
    Example:
      mazebench show mazebench-data --split test_kruskal --index 5 --png maze.png
      mazebench show --family prim --size 21x15 --seed 3
    """
    from .render import ascii_maze, png_maze

    if family is not None:
        from .mazes import generate_maze
        from .search.solve import solve as run

        try:
            width, height = (int(v) for v in size.lower().split("x"))
        except ValueError:
            raise ValueError(f"--size {size!r} must look like WIDTHxHEIGHT") from None
        problem = generate_maze(family, height, width, seed=seed)
        sol = run(problem, profile)
        trace, plan, title = sol.trace, sol.plan, f"{family} {width}x{height} seed {seed}"
        metrics = sol.metrics
    else:
        if directory is None:
            raise ValueError("give a dataset DIRECTORY or --family NAME")
        from .datasets.load import load

        data = load(directory)
        split = split or data.splits[0]
        ex = data.example(split, index)
        problem, trace, plan, title = ex.problem, ex.trace, ex.plan, f"{ex.id}"
        metrics = {k: ex.row[k] for k in ("n_events", "plan_length", "branch_jumps")}
    click.echo(ascii_maze(problem, trace, plan))
    click.echo(f"{title}: start {problem.start} goal {problem.goal} "
               + " ".join(f"{k}={v}" for k, v in metrics.items()))
    if png:
        png_maze(png, problem, trace, plan, title)
        click.echo(f"wrote {png}")


# ------------------------------------------------------------------------------------- list
@main.command("list")
def list_() -> None:
    """List maze families, placement policies, solver profiles, operators, dialects and suites."""
    from .conventions.dialects import DIALECTS
    from .datasets.recipe import available_suites
    from .mazes import FAMILIES, POLICIES
    from .search.profiles import PROFILES

    click.echo("maze families (parameters name=default [range]):")
    for fam in FAMILIES.values():
        params = fam.params.describe() or "-"
        click.echo(f"  {fam.name:<20} {params}")
        click.echo(f"  {'':<20} {fam.doc}")
    click.echo("\nplacement policies:")
    for pol in POLICIES.values():
        extra = f" ({pol.params.describe()})" if pol.params.params else ""
        click.echo(f"  {pol.name:<20} {pol.doc}{extra}")
    click.echo("\nsolver profiles:")
    for prof in PROFILES.values():
        click.echo(
            f"  {prof.name:<20} {prof.algorithm}, tie={prof.tie_break}, "
            f"order={prof.neighbour_order}, log_start={prof.log_start}, dialect={prof.dialect}"
        )
    from .ops.registry import describe_operators

    click.echo("\noperators (mazebench transform --op NAME[:k=v,...]):")
    click.echo("\n".join(describe_operators()))
    click.echo("\ndialects: " + ", ".join(DIALECTS))
    click.echo("suites: " + ", ".join(available_suites()))


def _register_commands() -> None:
    from .commands import discover

    for command in discover():
        main.add_command(command)


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
