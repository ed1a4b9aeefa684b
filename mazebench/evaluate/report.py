"""Evaluate a predictions file against a dataset: every figure per split and overall.

:func:`evaluate_predictions` streams the predictions (:mod:`.predictions`) in chunks, joins each
line to its dataset row by id (:class:`.reference.Reference`), validates it in numba batches
(:mod:`.outcomes`) and keeps only per-line numbers; :func:`summarize` turns them into the figures
of the Beyond Semantics (arXiv 2505.13775), Searchformer (arXiv 2402.14083), Performative
Thinking (arXiv 2509.07339) and DeepConf (arXiv 2508.15260) analyses with :mod:`.stats` and
:mod:`.confidence`. :func:`write_report` writes ``report.json``, ``report.md``, the PNG plots
(:mod:`.report_render`) and ``lines.parquet``: one row per evaluated line, in file order, with
``line`` (1-based line number), ``id``, ``split``, ``sample`` (-1 absent), the per-line columns of
:mod:`.outcomes` (``first_error`` as the kind name, null for none) and the ground truth's
``gt_<measure>`` for every difficulty measure.

``report.json`` schema (also stored in the report under ``"schema"``; nan is written as null)::

    schema_version      "mazebench-report/1"
    mazebench_version   version that wrote the report
    dataset             {"path", "name" (suite), "splits": [evaluated split names]}
    predictions         {"path", "lines", "blank", "read", "bad", "bad_by_reason": {reason: n},
                         "bad_examples": [{"line", "reason", "detail"}], "with_logprobs",
                         "bad_logprobs", "unknown_ids", "unknown_id_examples": [id],
                         "evaluated", "duplicates"}
    options             {"dialect", "dialects": {split: dialect}, "check_costs",
                         "require_optimal", "after_goal", "max_tokens", "bins", "seed",
                         "n_boot", "confidence_level", "window", "event_window", "vocab"}
    overall             GROUP over every evaluated line
    splits              {split: GROUP} for each split with at least one evaluated line
    schema              this description, {key path: meaning}

    GROUP:
    n                   evaluated lines (samples)
    problems            distinct dataset rows among them
    dataset_rows        rows of the split (of all evaluated splits for overall)
    coverage            problems / dataset_rows
    samples_per_problem  n / problems
    plan_validity       share of lines with a valid plan
    plan_optimality     share with a valid plan of the shortest length
    trace_validity      share with a valid trace (the A* interpreter)
    both_valid          share with a valid plan and a valid trace
    exact_trace_match   share whose events equal the ground truth's
    swc                 Searchformer success weighted by cost, mean c * l* / max(l, l*)
                        (cells, c = valid plan)
    ilr_solved          Searchformer improved length ratio, mean c * t* / t (events, c = valid
                        plan, t* = ground-truth events)
    ilr_optimal         the same with c = optimal plan
    runaway             {"rate": no plan or hit the token limit, "no_plan", "hit_max_tokens"
                        (null without --max-tokens)}
    validity_table      {"rows": [plan_valid, plan_invalid], "cols": [trace_valid,
                        trace_invalid], "counts": 2x2 counts}
    first_error_histogram  {"none" or error kind: lines whose first error is of that kind}
    error_counts        {error kind: every error of that kind over the lines}
    lengths             {"generated_events", "generated_tokens", "ground_truth_events",
                        "ground_truth_tokens"}, each {"mean", "median", "p90", "max"}
    length_vs_difficulty  {measure: MEASURE} for events, tokens, plan_length, closed_cells,
                        branch_jumps
    confidence          null without log-probabilities, else {"n_with_logprobs", "scores":
                        {score: {"mean", "mean_plan_valid", "mean_plan_invalid",
                        "mean_trace_valid", "mean_trace_invalid"}}} (DeepConf scores of
                        mazebench.evaluate.outcomes.CONF_SCORES)
    selection           null unless some problem has two or more samples, else
                        {"problems_with_several_samples", "correct": "plan_valid", "rules":
                        {rule: {"accuracy", "n_problems", "mean_votes"}}}: majority vote,
                        confidence-weighted votes and top-eta% filters (eta 10, 90) of every
                        score, any_correct; accuracy = share of problems whose selected plan
                        is valid

    MEASURE:
    difficulty          dataset column of the ground-truth difficulty (x)
    generated           per-line generated length compared with it (y): n_events, or
                        trace_tokens for the tokens measure
    correlations        {"pearson", "spearman", "kendall"}: each {"estimate", "ci_low",
                        "ci_high", "n", "n_boot", "n_boot_valid", "confidence"} (seeded
                        percentile bootstrap)
    length_ratio        generated / ground truth {"mean", "median", "ratio_of_means", "n",
                        "n_excluded"} (events and tokens; null for other measures)
    bin_width           width of the difficulty bins (--bins tokens; tokens / 5 for events;
                        1, 2 or 5 x 10^k giving at most 10 bins otherwise)
    bins                [{"bin_low", "bin_high", "count", "plan_valid", "trace_valid",
                        "both_valid", "plan_valid_rate", "trace_valid_rate",
                        "trace_valid_given_plan_valid"}] (non-empty bins, increasing)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..progress import Progress
from . import stats
from .confidence import selection_accuracy
from .outcomes import CONF_SCORES, Outcomes, ScoreOptions, score_chunk
from .parse import ERROR_KINDS
from .predictions import ReadStats, Vocabulary, iter_predictions, load_vocab
from .reference import DIFFICULTY, Reference

SCHEMA_VERSION = "mazebench-report/1"
MAX_UNKNOWN_EXAMPLES = 5
_GENERATED = {"tokens": "trace_tokens"}  # other measures are compared with generated events


def _schema() -> dict[str, str]:
    """``{key path: meaning}`` parsed from the module docstring's schema block."""
    text = __doc__.split("::", 1)[1]
    out: dict[str, str] = {}
    prefix = ""
    key = None
    for line in text.splitlines():
        if not line.strip():
            continue
        body = line[4:]
        if body.rstrip().endswith(":") and " " not in body.strip():
            prefix = body.strip()[:-1] + "."
            continue
        if not body.startswith(" "):
            key, _, meaning = body.partition(" ")
            key = prefix + key
            out[key] = meaning.strip()
        elif key is not None:
            out[key] += " " + body.strip()
    return out


@dataclass(eq=False)
class Evaluation:
    """An evaluation: the report (JSON-ready dict), the per-line columns and the reference."""

    report: dict
    outcomes: dict[str, np.ndarray]
    reference: Reference

    def truth(self, name: str) -> np.ndarray:
        """Ground-truth metric ``name`` (a :data:`DIFFICULTY` column) of every evaluated line."""
        return self.reference.metrics[name][self.outcomes["row"]]

    def split_mask(self, split: str) -> np.ndarray:
        code = self.reference.split_names.index(split)
        return self.reference.split_of[self.outcomes["row"]] == code


# -- figures -----------------------------------------------------------------------------------
def _rate(mask: np.ndarray) -> float:
    return float(mask.mean()) if mask.size else float("nan")


def _summary(values: np.ndarray) -> dict:
    if not values.size:
        return {"mean": None, "median": None, "p90": None, "max": None}
    v = values.astype(np.float64)
    return {"mean": float(v.mean()), "median": float(np.median(v)),
            "p90": float(np.percentile(v, 90)), "max": float(v.max())}


def nice_width(top: float, bins: int = 10) -> float:
    """The smallest of 1, 2, 5 x 10^k that splits ``[0, top]`` into at most ``bins`` bins."""
    if not top > 0:
        return 1.0
    raw = top / bins
    base = 10.0 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * base >= raw:
            return max(1.0, m * base)
    return max(1.0, 10 * base)


def bin_widths(truth: Mapping[str, np.ndarray], bins: float) -> dict[str, float]:
    """Bin width per difficulty measure: ``bins`` tokens, ``bins / 5`` events, else automatic."""
    out = {"tokens": float(bins), "events": float(bins) / 5.0}
    for measure, column in DIFFICULTY.items():
        if measure not in out:
            values = truth[column]
            out[measure] = nice_width(float(values.max()) if values.size else 0.0)
    return out


def _bins_table(table: dict[str, np.ndarray]) -> list[dict]:
    keys = list(table)
    return [{k: table[k][i].item() for k in keys} for i in range(len(table["count"]))]


def _length_vs_difficulty(o: dict[str, np.ndarray], truth: Mapping[str, np.ndarray], *,
                          widths: dict[str, float], label: str, seed: int, n_boot: int,
                          level: float) -> dict:
    out = {}
    for measure, column in DIFFICULTY.items():
        gen_name = _GENERATED.get(measure, "n_events")
        x = truth[column].astype(np.float64)
        y = o[gen_name].astype(np.float64)
        ratio = None
        if measure in ("events", "tokens") and x.size:
            ratio = stats.length_ratio(y, x)
        table = stats.binned_validity(x, o["plan_valid"], o["trace_valid"],
                                      bin_width=widths[measure]) if x.size else None
        out[measure] = {
            "difficulty": column,
            "generated": gen_name,
            "correlations": stats.correlations(x, y, n_boot=n_boot, seed=seed,
                                               confidence=level, label=f"{label}/{measure}"),
            "length_ratio": ratio,
            "bin_width": widths[measure],
            "bins": _bins_table(table) if table is not None else [],
        }
    return out


def _answers(o: dict[str, np.ndarray]) -> np.ndarray:
    _, codes = np.unique(o["plan_digest"], return_inverse=True)
    return np.where(o["no_plan"], -1, codes.ravel()).astype(np.int64)


def _confidence(o: dict[str, np.ndarray]) -> dict | None:
    if "average" not in o:
        return None
    has = np.isfinite(o["average"]) | np.isfinite(o["lowest_group"])
    if not has.any():
        return None

    def mean(v: np.ndarray, m: np.ndarray) -> float:
        v = v[m & np.isfinite(v)]
        return float(v.mean()) if v.size else float("nan")

    pv, tv = o["plan_valid"], o["trace_valid"]
    scores = {
        k: {"mean": mean(o[k], has), "mean_plan_valid": mean(o[k], has & pv),
            "mean_plan_invalid": mean(o[k], has & ~pv), "mean_trace_valid": mean(o[k], has & tv),
            "mean_trace_invalid": mean(o[k], has & ~tv)}
        for k in CONF_SCORES
    }
    return {"n_with_logprobs": int(has.sum()), "scores": scores}


def _selection(o: dict[str, np.ndarray]) -> dict | None:
    counts = np.unique(o["row"], return_counts=True)[1]
    several = int((counts >= 2).sum())
    if not several:
        return None
    scores = {}
    if "average" in o:
        scores = {k: o[k].astype(np.float64) for k in CONF_SCORES if np.isfinite(o[k]).any()}
    rules = selection_accuracy(o["row"], _answers(o), o["plan_valid"], scores)
    return {"problems_with_several_samples": several, "correct": "plan_valid", "rules": rules}


def summarize(o: dict[str, np.ndarray], truth: Mapping[str, np.ndarray], *, dataset_rows: int,
              errors: np.ndarray, widths: dict[str, float], label: str, seed: int = 0,
              n_boot: int = 1000, level: float = 0.95) -> dict:
    """The GROUP figures (see the module docstring) of the lines ``o`` (columns of
    :class:`.outcomes.Outcomes`) with their ground truth ``truth`` (one value per line)."""
    n = int(o["row"].shape[0])
    problems = int(np.unique(o["row"]).size)
    pv, tv, opt = o["plan_valid"], o["trace_valid"], o["plan_optimal"]
    gt_events = truth["n_events"]
    table = stats.validity_table(pv, tv)
    runaway = o["no_plan"] | o["hit_limit"]
    return {
        "n": n,
        "problems": problems,
        "dataset_rows": int(dataset_rows),
        "coverage": problems / dataset_rows if dataset_rows else float("nan"),
        "samples_per_problem": n / problems if problems else float("nan"),
        "plan_validity": _rate(pv),
        "plan_optimality": _rate(opt),
        "trace_validity": _rate(tv),
        "both_valid": _rate(pv & tv),
        "exact_trace_match": _rate(o["exact"]),
        "swc": stats.swc(pv, o["plan_length"], np.maximum(o["shortest"], 0)),
        "ilr_solved": stats.ilr(pv, o["n_events"], gt_events),
        "ilr_optimal": stats.ilr(opt, o["n_events"], gt_events),
        "runaway": {"rate": _rate(runaway), "no_plan": _rate(o["no_plan"]),
                    "hit_max_tokens": _rate(o["hit_limit"])},
        "validity_table": {"rows": list(table["rows"]), "cols": list(table["cols"]),
                           "counts": table["counts"].tolist()},
        "first_error_histogram": stats.first_error_histogram(o["first_error"].astype(np.int64)),
        "error_counts": {k: int(c) for k, c in zip(ERROR_KINDS, errors)},
        "lengths": {
            "generated_events": _summary(o["n_events"]),
            "generated_tokens": _summary(o["trace_tokens"]),
            "ground_truth_events": _summary(gt_events),
            "ground_truth_tokens": _summary(truth["trace_tokens"]),
        },
        "length_vs_difficulty": _length_vs_difficulty(o, truth, widths=widths, label=label,
                                                      seed=seed, n_boot=n_boot, level=level),
        "confidence": _confidence(o),
        "selection": _selection(o),
    }


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


class _Truth(Mapping):
    """Ground-truth metrics of the evaluated lines, gathered on access (not held: one per-line
    column at a time keeps the memory of the statistics flat)."""

    def __init__(self, metrics: dict[str, np.ndarray], rows: np.ndarray) -> None:
        self._metrics = metrics
        self._rows = rows

    def __getitem__(self, name: str) -> np.ndarray:
        return self._metrics[name][self._rows]

    def __iter__(self):
        return iter(sorted(set(DIFFICULTY.values())))

    def __len__(self) -> int:
        return len(set(DIFFICULTY.values()))


# -- driver ------------------------------------------------------------------------------------
def evaluate_predictions(
    dataset: str | Path,
    predictions: str | Path,
    *,
    dialect: str | None = None,
    check_costs: bool = False,
    require_optimal: bool = False,
    after_goal: str = "error",
    max_tokens: int | None = None,
    bins: float = 500,
    seed: int = 0,
    n_boot: int = 1000,
    confidence_level: float = 0.95,
    window: int = 2048,
    event_window: int | None = None,
    splits: Sequence[str] | None = None,
    vocab: str | Path | Vocabulary | None = None,
    chunk_lines: int = 4096,
    progress: bool = False,
) -> Evaluation:
    """Evaluate the predictions file against the dataset directory (see the module docstring).

    ``dialect`` overrides every split's profile dialect; ``check_costs``, ``require_optimal`` and
    ``after_goal`` go to the validator; ``max_tokens`` flags completions of that many tokens as
    runaways; ``bins`` is the width of the token bins; ``seed``, ``n_boot`` and
    ``confidence_level`` set the bootstrap; ``window``/``event_window`` the DeepConf windows;
    ``splits`` restricts the evaluation; ``vocab`` (a path or :class:`Vocabulary`) decodes
    ``token_ids`` lines (default: :func:`.predictions.default_vocab` of each split's grid).
    """
    if max_tokens is not None and max_tokens < 1:
        raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
    if not bins > 0:
        raise ValueError(f"bins must be > 0, got {bins}")
    if n_boot < 0:
        raise ValueError(f"n_boot must be >= 0, got {n_boot}")
    if window < 1 or (event_window is not None and event_window < 1):
        raise ValueError("window and event_window must be >= 1")
    voc = load_vocab(vocab) if isinstance(vocab, (str, Path)) else vocab
    ref = Reference(dataset, splits, dialect)
    opts = ScoreOptions(check_costs=check_costs, require_optimal=require_optimal,
                        after_goal=after_goal, max_tokens=max_tokens, window=window,
                        event_window=event_window, vocab=voc)
    read = ReadStats()
    out = Outcomes(len(ref.splits))
    unknown = 0
    unknown_examples: list[str] = []
    bar = Progress(desc="evaluate", enabled=progress, unit=" lines")
    for chunk in iter_predictions(predictions, read, chunk_lines=chunk_lines):
        rows = ref.lookup_spans(chunk.buf, chunk.id_start, chunk.id_end)
        missing = np.flatnonzero(rows < 0)
        unknown += int(missing.size)
        for i in missing[: max(0, MAX_UNKNOWN_EXAMPLES - len(unknown_examples))].tolist():
            unknown_examples.append(chunk.id(i)[:80])
        score_chunk(ref, chunk, rows, opts, out)
        bar.update(len(chunk))
    bar.close()
    o = out.finish(ref.split_of)  # lines sorted by split: each split is a slice (views)

    def truth(rows: np.ndarray) -> _Truth:
        return _Truth(ref.metrics, rows)

    widths = bin_widths(truth(o["row"]), bins)
    has_sample = o["sample"] >= 0
    keys = o["row"][has_sample].astype(np.int64) << 32 | o["sample"][has_sample]
    duplicates = int(keys.size - np.unique(keys).size)
    del keys, has_sample
    common = dict(widths=widths, seed=seed, n_boot=n_boot, level=confidence_level)
    bounds = np.searchsorted(ref.split_of[o["row"]], np.arange(len(ref.splits) + 1))
    groups = {}
    for info in ref.splits:
        a, b = int(bounds[info.code]), int(bounds[info.code + 1])
        if a == b:
            continue
        sub = {k: v[a:b] for k, v in o.items()}
        groups[info.name] = summarize(
            sub, truth(sub["row"]), dataset_rows=info.rows, errors=out.error_counts[info.code],
            label=info.name, **common,
        )  # fmt: skip
    overall = summarize(o, truth(o["row"]), dataset_rows=len(ref),
                        errors=out.error_counts.sum(axis=0), label="overall", **common)
    if max_tokens is None:
        for g in [overall, *groups.values()]:
            g["runaway"]["hit_max_tokens"] = None
    from .. import __version__

    report = {
        "schema_version": SCHEMA_VERSION,
        "mazebench_version": __version__,
        "dataset": {"path": str(dataset), "name": ref.dataset.manifest["recipe"].get("name"),
                    "splits": ref.split_names},
        "predictions": {**read.to_dict(), "path": str(predictions), "unknown_ids": unknown,
                        "unknown_id_examples": unknown_examples,
                        "evaluated": int(o["row"].shape[0]), "duplicates": duplicates},
        "options": {
            "dialect": dialect, "dialects": {s.name: s.dialect for s in ref.splits},
            "check_costs": check_costs, "require_optimal": require_optimal,
            "after_goal": after_goal, "max_tokens": max_tokens, "bins": bins, "seed": seed,
            "n_boot": n_boot, "confidence_level": confidence_level, "window": window,
            "event_window": opts.events_per_window,
            "vocab": str(vocab) if isinstance(vocab, (str, Path)) else
            ("custom" if vocab is not None else "default"),
        },
        "overall": overall,
        "splits": groups,
        "schema": _schema(),
    }
    return Evaluation(_jsonable(report), o, ref)


def write_lines(evaluation: Evaluation, path: str | Path, *, group_rows: int = 1 << 16) -> None:
    """``lines.parquet``: the per-line verdicts (see the module docstring), in file order,
    written ``group_rows`` lines at a time (bounded extra memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    o, ref = evaluation.outcomes, evaluation.reference
    order = np.argsort(o["line"], kind="stable")
    kinds = pa.array(list(ERROR_KINDS), pa.string())
    names = pa.array(ref.split_names, pa.string())
    writer = None
    try:
        for lo in range(0, max(order.shape[0], 1), group_rows):
            idx = order[lo : lo + group_rows]
            rows = o["row"][idx]
            first = o["first_error"][idx].astype(np.int32)
            cols: dict[str, pa.Array] = {
                "line": pa.array(o["line"][idx]),
                "id": ref.ids(rows),
                "split": pa.DictionaryArray.from_arrays(
                    pa.array(ref.split_of[rows].astype(np.int32)), names),
                "first_error": pa.DictionaryArray.from_arrays(
                    pa.array(first, mask=first < 0), kinds),
            }  # fmt: skip
            for k, v in o.items():
                if k not in ("line", "row", "first_error"):
                    cols[k] = pa.array(v[idx])
            for measure, column in DIFFICULTY.items():
                cols[f"gt_{measure}"] = pa.array(ref.metrics[column][rows])
            table = pa.table(cols)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def write_report(evaluation: Evaluation, out_dir: str | Path, *, plots: bool = True) -> dict:
    """Write ``report.json``, ``report.md`` and (``plots``) the PNGs; returns their paths."""
    import json

    from .report_render import render_markdown, render_plots

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"report directory {out} is a file")
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "markdown": out / "report.md",
             "lines": out / "lines.parquet"}
    images = render_plots(evaluation, out) if plots else {}
    write_lines(evaluation, paths["lines"])
    paths["json"].write_text(json.dumps(evaluation.report, indent=1, allow_nan=False) + "\n")
    paths["markdown"].write_text(render_markdown(evaluation.report, images))
    return {**{k: str(v) for k, v in paths.items()}, "plots": {k: str(v)
                                                                for k, v in images.items()}}
