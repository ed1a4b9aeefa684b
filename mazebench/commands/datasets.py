"""Dataset commands: ``mazebench export`` and ``mazebench verify``."""

from __future__ import annotations

import sys
import time

import click


@click.command("export")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "hf"]), default="jsonl",
              show_default=True, help="jsonl: one file per split; hf: a Hugging Face folder.")
@click.option("--dialect", default=None,
              help="beyond-semantics, searchformer or compact (default: each split's profile).")
@click.option("--split", "splits", multiple=True, help="Export only this split (repeatable).")
@click.option("--no-specials", is_flag=True,
              help="hf: leave the upstream bos/eos tokens out of prompt and completion.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1),
              help="Threads rendering text (the output does not depend on it).")
@click.option("-o", "--output", required=True, type=click.Path(),
              help="Output folder (or a .jsonl file when one split is exported as jsonl).")
def export(directory: str, fmt: str, dialect: str | None, splits: tuple[str, ...],
           no_specials: bool, workers: int, output: str) -> None:
    """Export a dataset in the upstream text formats, or as a Hugging Face folder.

    jsonl + beyond-semantics writes {"text": "..."} lines byte for byte as the Beyond Semantics
    generator does (arXiv 2505.13775); jsonl + searchformer writes lines with the Searchformer
    keys width, height, start, goal, walls, deterministic, prompt, reasoning, plan; hf writes a
    folder TRL's SFTTrainer/GRPOTrainer take unchanged: config default (id, prompt, completion
    and the problem columns mazebench.training.rewards reads), config messages (the
    conversational form), a README.md declaring splits and features for datasets.load_dataset,
    and the matching tokenizer in OUT/tokenizer when all splits share a grid size and dialect.

    \b
    Example:
      mazebench export data/bs --format jsonl --dialect beyond-semantics -o data/bs-jsonl
      mazebench export data/bs --split train --format jsonl -o train.jsonl
      mazebench export data/bs --format hf -o data/bs-hf
      python -c "import datasets; print(datasets.load_dataset('data/bs-hf'))"
    """
    from ..datasets.export import export_dataset

    t0 = time.perf_counter()
    results = export_dataset(directory, output, format=fmt, dialect=dialect,
                             splits=list(splits) or None, progress=sys.stderr.isatty(),
                             specials=not no_specials, workers=workers)
    seconds = time.perf_counter() - t0
    rows = sum(r.rows for r in results)
    size = sum(r.bytes for r in results)
    click.echo(f"exported {rows} rows of {len(results)} splits as {fmt} -> {output} "
               f"({size / 1e6:.1f} MB, {rows / max(seconds, 1e-9):.0f} rows/s)")
    for r in results:
        click.echo(f"  {r.split:<28}{r.rows:>9} rows  {r.path}")


@click.command("verify")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--sample", default=64, show_default=True, type=int,
              help="Rows per split rebuilt and re-solved (0: none, -1: all).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the row sample.")
def verify(directory: str, sample: int, seed: int) -> None:
    """Check a dataset: checksums, schema, content hashes, leakage and re-solved rows.

    Prints one line per problem (changed, missing or extra shard, schema drift, a problem twice
    in a split, a layout in two splits, a row whose trace or plan differs from a re-solve) and
    exits with status 1 if there is any.

    \b
    Example:
      mazebench verify mazebench-data
      mazebench verify data/bs --sample -1     # re-solve every row
    """
    from ..datasets.verify import verify_dataset

    t0 = time.perf_counter()
    report = verify_dataset(directory, sample=None if sample < 0 else sample, seed=seed)
    seconds = time.perf_counter() - t0
    for line in report.problems:
        click.echo(line)
    summary = (f"{report.shards} shards, {report.rows} rows, {report.resolved} re-solved "
               f"in {seconds:.1f} s")
    if report.ok:
        click.echo(f"OK: {summary}")
        return
    click.echo(f"FAILED: {len(report.problems)} problems ({summary})", err=True)
    sys.exit(1)


COMMANDS = [export, verify]
