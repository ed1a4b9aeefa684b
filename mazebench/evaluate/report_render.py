"""Human-readable views of an evaluation report: Markdown tables, PNG plots, a terminal table.

Plots (matplotlib, Agg backend, written next to ``report.md``):

* ``scatter_<split>.png`` - generated vs ground-truth trace length in tokens, one point per line
  (green: valid trace, red: invalid; at most :data:`MAX_POINTS` points, a seeded sample), with
  the y = x line (Performative Thinking, arXiv 2509.07339; Beyond Semantics v3+);
* ``validity_by_bin.png`` - plan validity, trace validity and trace validity among valid plans
  per ground-truth token bin, one panel per split (Beyond Semantics, arXiv 2505.13775);
* ``first_errors.png`` - share of lines by first error kind, one bar per split.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

MAX_POINTS = 20000
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _num(v, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _ci(c: dict) -> str:
    if c["estimate"] is None:
        return "-"
    if c["ci_low"] is None:
        return f"{c['estimate']:.3f}"
    return f"{c['estimate']:.3f} [{c['ci_low']:.3f}, {c['ci_high']:.3f}]"


def _groups(report: dict) -> list[tuple[str, dict]]:
    return [*report["splits"].items(), ("overall", report["overall"])]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out + [""]


def summary_rows(report: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the summary table (one row per split and overall)."""
    header = ["split", "n", "plan valid", "optimal", "trace valid", "both", "exact", "SWC",
              "ILR", "runaway", "r (tokens)", "ratio"]
    rows = []
    for name, g in _groups(report):
        tok = g["length_vs_difficulty"]["tokens"]
        ratio = tok["length_ratio"]["mean"] if tok["length_ratio"] else None
        rows.append([
            name, str(g["n"]), _pct(g["plan_validity"]), _pct(g["plan_optimality"]),
            _pct(g["trace_validity"]), _pct(g["both_valid"]), _pct(g["exact_trace_match"]),
            _num(g["swc"]), _num(g["ilr_solved"]), _pct(g["runaway"]["rate"]),
            _num(tok["correlations"]["pearson"]["estimate"]), _num(ratio, 2),
        ])  # fmt: skip
    return header, rows


def terminal_table(report: dict) -> str:
    """The summary table as aligned plain text."""
    header, rows = summary_rows(report)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                       enumerate(zip(r, widths))) for r in [header, *rows]]
    return "\n".join(lines)


def render_markdown(report: dict, images: dict[str, Path] | None = None) -> str:
    """``report.md``: the tables a person reads, with the plots embedded."""
    images = images or {}
    p = report["predictions"]
    opts = report["options"]
    md = [
        "# mazebench evaluation report", "",
        f"- dataset: `{report['dataset']['path']}` (suite `{report['dataset']['name']}`)",
        f"- predictions: `{p['path']}`: {p['lines']} lines, {p['evaluated']} evaluated, "
        f"{p['bad']} unreadable, {p['unknown_ids']} with an unknown id, {p['blank']} blank, "
        f"{p['duplicates']} duplicate (id, sample)",
        f"- validator: dialects {', '.join(f'{k}={v}' for k, v in opts['dialects'].items())}; "
        f"check_costs={opts['check_costs']}, require_optimal={opts['require_optimal']}, "
        f"after_goal={opts['after_goal']}, max_tokens={opts['max_tokens']}",
        f"- statistics: {opts['n_boot']} bootstrap resamples, seed {opts['seed']}, "
        f"{100 * opts['confidence_level']:.0f}% intervals, {opts['bins']:g}-token bins", "",
    ]  # fmt: skip
    if p["bad"]:
        reasons = ", ".join(f"{k} {v}" for k, v in p["bad_by_reason"].items() if v)
        md += [f"Unreadable lines: {reasons}.", ""]
    md += ["## Summary", "",
           "Validity is over lines (samples). SWC and ILR as in Searchformer (arXiv 2402.14083); "
           "r is Pearson's r of generated vs ground-truth trace tokens, ratio the mean of "
           "generated / ground truth.", ""]
    md += _table(*summary_rows(report))
    md += ["## Plan x trace validity", ""]
    md += _table(["split", "plan+ trace+", "plan+ trace-", "plan- trace+", "plan- trace-"],
                 [[n, *(str(c) for row in g["validity_table"]["counts"] for c in row)]
                  for n, g in _groups(report)])
    md += _first_errors(report)
    md += _correlations(report)
    md += _bins(report)
    md += _confidence(report)
    if images:
        md += ["## Plots", ""]
        md += [f"![{name}]({path.name})" for name, path in images.items()] + [""]
    return "\n".join(md)


def _first_errors(report: dict) -> list[str]:
    groups = _groups(report)
    kinds = [k for k in groups[-1][1]["first_error_histogram"]
             if any(g["first_error_histogram"].get(k, 0) for _, g in groups)]
    md = ["## First error", "", "Lines by the kind of their first error (Beyond Semantics' "
          "histogram; `none` = no error).", ""]
    return md + _table(["first error", *(n for n, _ in groups)],
                       [[k, *(str(g["first_error_histogram"].get(k, 0)) for _, g in groups)]
                        for k in kinds])


def _correlations(report: dict) -> list[str]:
    md = ["## Length vs difficulty", "",
          "Generated trace length (tokens for `tokens`, events otherwise) against the ground "
          "truth's difficulty, with bootstrap intervals.", ""]
    rows = []
    for name, g in _groups(report):
        for measure, m in g["length_vs_difficulty"].items():
            c = m["correlations"]
            ratio = _num(m["length_ratio"]["mean"], 2) if m["length_ratio"] else "-"
            rows.append([name, measure, str(c["pearson"]["n"]), _ci(c["pearson"]),
                         _ci(c["spearman"]), _ci(c["kendall"]), ratio])
    return md + _table(["split", "difficulty", "n", "Pearson r", "Spearman rho", "Kendall tau",
                        "ratio"], rows)


def _bins(report: dict) -> list[str]:
    md = [f"## Validity by ground-truth trace length ({report['options']['bins']:g}-token bins)",
          ""]
    for name, g in _groups(report):
        rows = [[f"{b['bin_low']:g}-{b['bin_high']:g}", str(b["count"]),
                 _pct(b["plan_valid_rate"]), _pct(b["trace_valid_rate"]),
                 _pct(b["trace_valid_given_plan_valid"])]
                for b in g["length_vs_difficulty"]["tokens"]["bins"]]
        md += [f"### {name}", ""]
        md += _table(["tokens", "n", "plan valid", "trace valid", "trace valid | plan valid"],
                     rows)
    return md


def _confidence(report: dict) -> list[str]:
    md: list[str] = []
    groups = [(n, g) for n, g in _groups(report) if g["confidence"]]
    if groups:
        md += ["## Confidence (DeepConf, arXiv 2508.15260)", "",
               "Mean per-sample confidence, overall and by plan / trace validity.", ""]
        rows = [[n, s, _num(v["mean"]), _num(v["mean_plan_valid"]), _num(v["mean_plan_invalid"]),
                 _num(v["mean_trace_valid"]), _num(v["mean_trace_invalid"])]
                for n, g in groups for s, v in g["confidence"]["scores"].items()]
        md += _table(["split", "score", "mean", "plan valid", "plan invalid", "trace valid",
                      "trace invalid"], rows)
    sel = [(n, g) for n, g in _groups(report) if g["selection"]]
    if sel:
        md += ["## Selecting one answer per problem", "",
               "Accuracy = share of problems whose selected plan is valid.", ""]
        rows = [[n, rule, _pct(v["accuracy"]), _num(v["mean_votes"], 1)]
                for n, g in sel for rule, v in g["selection"]["rules"].items()]
        md += _table(["split", "rule", "accuracy", "mean votes"], rows)
    return md


# -- plots -------------------------------------------------------------------------------------
def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def render_plots(evaluation, out_dir: Path) -> dict[str, Path]:
    """Write the PNGs of an :class:`~mazebench.evaluate.report.Evaluation`; returns their paths."""
    plt = _pyplot()
    report, o = evaluation.report, evaluation.outcomes
    seed = int(report["options"]["seed"])
    paths: dict[str, Path] = {}
    gt_tokens = evaluation.truth("trace_tokens")
    for name in report["splits"]:
        m = evaluation.split_mask(name)
        idx = np.flatnonzero(m)
        if idx.size > MAX_POINTS:
            rng = np.random.default_rng(np.random.SeedSequence([seed, len(name), idx.size]))
            idx = np.sort(rng.choice(idx, MAX_POINTS, replace=False))
        x, y, ok = gt_tokens[idx], o["trace_tokens"][idx], o["trace_valid"][idx]
        fig, ax = plt.subplots(figsize=(5, 5))
        ax.scatter(x[ok], y[ok], s=6, alpha=0.5, color="tab:green", label="valid trace",
                   rasterized=True)
        ax.scatter(x[~ok], y[~ok], s=6, alpha=0.5, color="tab:red", label="invalid trace",
                   rasterized=True)
        top = float(max(x.max(initial=1), y.max(initial=1)))
        ax.plot([0, top], [0, top], color="black", lw=1, label="y = x")
        ax.set(xlabel="ground-truth trace tokens", ylabel="generated trace tokens",
               title=f"{name} (n = {int(m.sum())})")
        ax.legend(loc="upper left", fontsize=8)
        paths[f"scatter {name}"] = _save(fig, plt, out_dir / f"scatter_{_SAFE.sub('_', name)}.png")
    names = list(report["splits"])
    if names:
        paths["validity by bin"] = _validity_plot(plt, report, names, out_dir)
        paths["first errors"] = _errors_plot(plt, report, names, out_dir)
    return paths


def _save(fig, plt, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _validity_plot(plt, report: dict, names: list[str], out_dir: Path) -> Path:
    cols = min(4, len(names))
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3 * rows), squeeze=False,
                             sharey=True)
    for ax, name in zip(axes.ravel(), names):
        bins = report["splits"][name]["length_vs_difficulty"]["tokens"]["bins"]
        mid = [(b["bin_low"] + b["bin_high"]) / 2 for b in bins]
        for key, label in (("plan_valid_rate", "plan valid"), ("trace_valid_rate", "trace valid"),
                           ("trace_valid_given_plan_valid", "trace valid | plan valid")):
            ax.plot(mid, [np.nan if b[key] is None else b[key] for b in bins], marker="o",
                    label=label)
        ax.set(title=name, xlabel="ground-truth trace tokens", ylim=(-0.05, 1.05))
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    axes[0, 0].set_ylabel("share")
    axes[0, 0].legend(fontsize=7)
    return _save(fig, plt, out_dir / "validity_by_bin.png")


def _errors_plot(plt, report: dict, names: list[str], out_dir: Path) -> Path:
    hists = [report["splits"][n]["first_error_histogram"] for n in names]
    kinds = [k for k in hists[0] if any(h.get(k, 0) for h in hists)]
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(names) + 1.5))
    left = np.zeros(len(names))
    cmap = plt.get_cmap("tab20")
    for j, kind in enumerate(kinds):
        share = np.array([h.get(kind, 0) / max(1, sum(h.values())) for h in hists])
        ax.barh(names, share, left=left, color="lightgrey" if kind == "none" else cmap(j % 20),
                label=kind)
        left += share
    ax.set(xlabel="share of lines by first error", xlim=(0, 1))
    ax.invert_yaxis()
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _save(fig, plt, out_dir / "first_errors.png")
