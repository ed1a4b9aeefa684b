"""Evaluation commands: ``mazebench evaluate`` and ``mazebench baseline``."""

from __future__ import annotations

import sys
import time

import click


@click.command("evaluate")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.argument("predictions", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False),
              help="Report directory (report.json, report.md, lines.parquet, PNG plots).")
@click.option("--dialect", default=None,
              help="beyond-semantics or searchformer (default: each split's profile dialect).")
@click.option("--split", "splits", multiple=True, help="Evaluate only this split (repeatable).")
@click.option("--check-costs", is_flag=True, help="Also require the true g and h of every create.")
@click.option("--require-optimal", is_flag=True,
              help="A valid plan longer than the shortest is a plan error.")
@click.option("--max-tokens", type=int, default=None,
              help="Generation limit: completions of this many tokens count as runaways.")
@click.option("--bins", default=500.0, show_default=True, type=float,
              help="Width of the ground-truth trace-length bins, in tokens.")
@click.option("--seed", default=0, show_default=True, type=int, help="Bootstrap seed.")
@click.option("--n-boot", default=1000, show_default=True, type=int,
              help="Bootstrap resamples per correlation (0: no intervals).")
@click.option("--window", default=2048, show_default=True, type=int,
              help="DeepConf group window in tokens (events: window / 5).")
@click.option("--vocab", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Vocabulary of token_ids lines (JSON list, {token: id} or tokenizer.json).")
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots.")
def evaluate(directory: str, predictions: str, output: str, dialect: str | None,
             splits: tuple[str, ...], check_costs: bool, require_optimal: bool,
             max_tokens: int | None, bins: float, seed: int, n_boot: int, window: int,
             vocab: str | None, no_plots: bool) -> None:
    """Evaluate model PREDICTIONS (JSONL) against the dataset in DIRECTORY.

    Each line is {"id": <dataset id>, "completion": "<text>"} or {"id", "token_ids": [...]},
    optionally with "sample" (several samples per id) and "logprobs" (per token, the top-k
    log-probabilities). Writes plan and trace validity, the 2x2 table, the first-error
    histogram, exact trace match, runaways, SWC/ILR, length-vs-difficulty correlations with
    bootstrap intervals, validity by 500-token bin and DeepConf confidence to REPORT_DIR.
    Unreadable lines and unknown ids are counted, never fatal.

    \b
    Example:
      mazebench baseline data/default --kind swapped -o swapped.jsonl
      mazebench evaluate data/default swapped.jsonl -o reports/swapped
      mazebench evaluate data/default model.jsonl -o reports/model --max-tokens 8192
    """
    from ..evaluate.report import evaluate_predictions, write_report
    from ..evaluate.report_render import terminal_table

    t0 = time.perf_counter()
    ev = evaluate_predictions(
        directory, predictions, dialect=dialect, check_costs=check_costs,
        require_optimal=require_optimal, max_tokens=max_tokens, bins=bins, seed=seed,
        n_boot=n_boot, window=window, splits=list(splits) or None, vocab=vocab,
        progress=sys.stderr.isatty(),
    )  # fmt: skip
    paths = write_report(ev, output, plots=not no_plots)
    seconds = time.perf_counter() - t0
    p = ev.report["predictions"]
    click.echo(terminal_table(ev.report))
    click.echo(f"{p['evaluated']} of {p['lines']} lines evaluated ({p['bad']} unreadable, "
               f"{p['unknown_ids']} unknown ids) in {seconds:.1f} s -> {paths['json']}, "
               f"{paths['markdown']}, {len(paths['plots'])} plots")


@click.command("baseline")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--kind", required=True,
              type=click.Choice(["ground-truth", "swapped", "truncated", "greedy",
                                 "random-walk"]),
              help="What the predictions hold (see above).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Predictions file to write (JSONL).")
@click.option("--split", "splits", multiple=True, help="Only this split (repeatable).")
@click.option("--dialect", default=None,
              help="beyond-semantics or searchformer (default: each split's profile dialect).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the random kinds.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1),
              help="Threads (the output does not depend on it).")
def baseline(directory: str, kind: str, output: str, splits: tuple[str, ...],
             dialect: str | None, seed: int, workers: int) -> None:
    """Write predictions without a model, to run the evaluator end to end.

    ground-truth: the dataset's own traces and plans; swapped: each problem's plan with the
    trace of another problem of its split (a derangement); truncated: the trace cut at a random
    event, plan kept; greedy: greedy best-first search's trace and plan; random-walk: random
    plausible events of at most the original length, and a plan from them if they reach the
    goal.

    \b
    Example:
      mazebench generate -o data/default
      mazebench baseline data/default --kind ground-truth -o gt.jsonl
      mazebench baseline data/default --kind truncated --split test_wilson --seed 1 -o t.jsonl
      mazebench evaluate data/default gt.jsonl -o reports/gt
    """
    from ..evaluate.baseline import write_baseline

    t0 = time.perf_counter()
    res = write_baseline(directory, kind, output, splits=list(splits) or None, dialect=dialect,
                         seed=seed, progress=sys.stderr.isatty(), workers=workers)
    seconds = time.perf_counter() - t0
    click.echo(f"{kind}: {res.lines} predictions of {len(res.splits)} splits -> {res.path} "
               f"({res.bytes / 1e6:.1f} MB, {res.lines / max(seconds, 1e-9):.0f} lines/s)")


COMMANDS = [evaluate, baseline]
