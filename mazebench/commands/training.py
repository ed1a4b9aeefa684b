"""Training commands: ``tokenizer``, ``negatives`` and ``stream`` (the Hugging Face export is
``mazebench export --format hf``)."""

from __future__ import annotations

import json
import sys
import time

import click


def _size(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        w, h = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size {value!r} must be WIDTHxHEIGHT, e.g. 30x30") from None
    return h, w


@click.command("tokenizer")
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--dialect", default=None,
              help="beyond-semantics or searchformer (default: the dataset's profile dialect).")
@click.option("--size", default=None, help="WIDTHxHEIGHT without a dataset (default 30x30).")
@click.option("--split", "split", default=None, help="Take the grid size from this split.")
@click.option("--context", default=None, type=int,
              help="Also report the share of rows longer than this many tokens.")
@click.option("-o", "--output", default=None, type=click.Path(),
              help="A folder (tokenizer.json + transformers config) or a .json file.")
def tokenizer(directory: str | None, dialect: str | None, size: str | None, split: str | None,
              context: int | None, output: str | None) -> None:
    """Write the word-level tokenizer of a dialect and print sequence-length statistics.

    The vocabulary is the upstream one, id for id (Beyond Semantics: 944 tokens at 30x30 with
    <|pad|> <|unk|> <|bos|> <|eos|>; Searchformer: bos, eos and sorted words). The folder
    loads with transformers.AutoTokenizer.from_pretrained(FOLDER). With a dataset DIRECTORY the
    lengths (prompt, completion, total, in ids with bos/eos) of every split are printed.

    \b
    Example:
      mazebench tokenizer mazebench-data -o tok/            # grid size and dialect from the data
      mazebench tokenizer --dialect searchformer --size 10x10 -o sf10.json
      mazebench tokenizer mazebench-data --context 4096     # statistics only
    """
    from ..training.lengths import length_stats
    from ..training.tokenizer import MazeTokenizer, tokenizer_for

    hw = _size(size)
    if directory is None:
        h, w = hw or (30, 30)
        tok = MazeTokenizer(dialect or "beyond-semantics", h, w)
    else:
        if hw is not None:
            raise ValueError("--size applies without a dataset DIRECTORY only")
        tok = tokenizer_for(directory, dialect, split)
    click.echo(f"{tok.dialect} {tok.width}x{tok.height}: {len(tok)} tokens "
               f"(bos {tok.vocab.bos_id}, eos {tok.vocab.eos_id}, pad {tok.pad_id}, "
               f"unk {tok.vocab.unk_id})")
    if output:
        files = tok.save(output)
        click.echo("wrote " + ", ".join(str(f) for f in files))
    if directory is not None:
        stats = length_stats(directory, tok.dialect, splits=[split] if split else None,
                             context=context)
        head = f"{'split':<28}{'rows':>8}{'prompt p50':>11}{'compl p50':>10}{'compl p99':>10}" \
               f"{'total max':>10}"
        click.echo(head + (f"{'> ' + str(context):>10}" if context else ""))
        for name, s in stats.items():
            line = (f"{name:<28}{s['rows']:>8}{s['prompt']['p50']:>11}"
                    f"{s['completion']['p50']:>10}{s['completion']['p99']:>10}"
                    f"{s['total']['max']:>10}")
            if context:
                line += f"{s['over_context']:>10.2%}"
            click.echo(line)


@click.command("negatives")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--split", required=True, help="Split whose rows get near misses.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(["move_goal", "open_wall"]),
              help="Near-miss kind (repeatable; default both).")
@click.option("--per-kind", default=1, show_default=True, type=int,
              help="Near misses per kind and row.")
@click.option("--radius", default=3, show_default=True, type=int,
              help="move_goal: the new goal is at most this many moves from the old one.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the draws.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Parquet file to write.")
def negatives(directory: str, split: str, kinds: tuple[str, ...], per_kind: int, radius: int,
              seed: int, output: str) -> None:
    """Write hard negatives: near misses of a split's problems, paired with their targets.

    A near miss keeps the target's maze and moves the goal (the recalled plan is invalid) or
    opens one wall that makes a shorter path (the recalled plan is no longer optimal). Rows have
    the dataset schema plus pair_id, pair_row, pair_problem_hash, negative_kind, edit_x, edit_y
    and the verdict on the recalled answer.

    \b
    Example:
      mazebench negatives mazebench-data --split test_wilson -o wilson-negatives.parquet
      mazebench negatives mazebench-data --split test_dfs --kind open_wall --per-kind 3 -o n.parquet
    """
    import os
    from pathlib import Path

    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from ..training.negatives import KINDS, negatives_table

    t0 = time.perf_counter()
    table = negatives_table(directory, split, kinds=kinds or KINDS, per_kind=per_kind,
                            radius=radius, seed=seed)
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, out)
    click.echo(f"{table.num_rows} near misses of split {split!r} -> {output} "
               f"({time.perf_counter() - t0:.1f} s)")
    for kind in kinds or KINDS:
        sub = table.filter(pc.equal(table["negative_kind"], kind))
        if sub.num_rows:
            share = {c: pc.mean(sub[c].cast("int8")).as_py() for c in
                     ("recalled_plan_valid", "recalled_plan_optimal", "recalled_trace_valid")}
            click.echo(f"  {kind:<10}{sub.num_rows:>8} rows; recalled answer: plan valid "
                       f"{share['recalled_plan_valid']:.0%}, optimal "
                       f"{share['recalled_plan_optimal']:.0%}, trace valid "
                       f"{share['recalled_trace_valid']:.0%}")


@click.command("stream")
@click.argument("family", default="wilson")
@click.option("--recipe", default=None, help="Take split FAMILY of this recipe (path or suite).")
@click.option("--size", default="30x30", show_default=True, help="WIDTHxHEIGHT.")
@click.option("--profile", default=None, help="Solver profile (default beyond-semantics).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--count", default=1000, show_default=True, type=int, help="Rows to write.")
@click.option("--curriculum", default=None,
              help='JSON {"metric": "n_events", "edges": [...], "weights": [[...], ...], '
                   '"stages": [...]}.')
@click.option("-o", "--output", default="-", show_default=True, type=click.Path(dir_okay=False),
              help="JSONL file (- for standard output).")
def stream(family: str, recipe: str | None, size: str, profile: str | None, seed: int,
           count: int, curriculum: str | None, output: str) -> None:
    """Sample the online problem stream used for RL and report its speed.

    Rows carry id, prompt, completion, the problem columns the rewards read, index and bin.

    \b
    Example:
      mazebench stream wilson --size 30x30 --count 10000 -o /dev/null
      mazebench stream dfs --count 100 --curriculum \\
        '{"metric": "n_events", "edges": [0, 100, 400],
          "weights": [[1, 0], [1, 1]], "stages": [50]}'
    """
    import base64

    from ..training.stream import Curriculum, ProblemStream

    if count < 1:
        raise ValueError(f"--count {count} must be at least 1")
    cur = None
    if curriculum:
        try:
            cur = Curriculum(**json.loads(curriculum))
        except (json.JSONDecodeError, TypeError) as exc:
            raise ValueError(f"--curriculum is not a valid curriculum JSON: {exc}") from None
    if recipe:
        split = family
    else:
        h, w = _size(size)
        split = {"family": family, "height": h, "width": w}
        if profile:
            split["profile"] = profile
    s = ProblemStream(split, recipe=recipe, seed=seed, curriculum=cur)
    fh = sys.stdout if output == "-" else open(output, "w")  # noqa: SIM115
    t0 = time.perf_counter()
    done = 0
    try:
        for table in s.batches(min(count, 1024)):
            for row in table.slice(0, count - done).to_pylist():
                row["walls"] = base64.b64encode(row["walls"]).decode()
                fh.write(json.dumps(row) + "\n")
            done += min(len(table), count - done)
            if done >= count:
                break
    finally:
        if fh is not sys.stdout:
            fh.close()
    seconds = max(time.perf_counter() - t0, 1e-9)
    click.echo(f"streamed {done} rows of {s.spec.maze.family} "
               f"{s.spec.maze.width}x{s.spec.maze.height} in {seconds:.1f} s "
               f"({done / seconds:.0f} rows/s)", err=True)


COMMANDS = [tokenizer, negatives, stream]
