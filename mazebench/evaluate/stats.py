"""Length-vs-difficulty statistics and Searchformer summary metrics, array in, numbers out.

Correlations between a generated length and a difficulty measure (Performative Thinking; Beyond
Semantics v3+, arXiv 2505.13775): Pearson r, Spearman rho (average ranks for ties) and Kendall
tau-b (ties as in ``scipy.stats.kendalltau``, variant 'b'), each equal to scipy's to 1e-9 and
each with a seeded percentile-bootstrap confidence interval. Kendall's tau uses Knight's
O(n log n) merge-sort count of discordant pairs (Knight 1966, JASA 61:436).

Bootstrap: resample ``b`` is row ``b`` of a stream of index vectors drawn by
``numpy.random.default_rng`` seeded from ``blake2b(seed, "bootstrap", label)``
(:func:`mazebench.rng.stream_key`); the same ``(seed, label, n)`` gives the same resamples for
every statistic (a paired bootstrap), on any machine. Replicates are computed from resample
*counts* against data sorted once, so a resample costs O(n) (Pearson, Spearman) or O(n log n)
without a sort (Kendall, a Fenwick tree over the weighted sequence). A replicate that is
undefined (a constant resample) is dropped; the interval is the percentile interval of the
finite replicates (nan if none).

Undefined statistics (n < 2, a constant input, a nan anywhere) are nan, never an exception.
Also here: the length ratio generated / ground truth, validity by difficulty bin, SWC and ILR
(Searchformer, arXiv 2402.14083), the plan x trace validity table and the first-error histogram
(Beyond Semantics).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence

import numpy as np

from ..rng import stream_key
from .stats_kernels import (
    boot_kendall,
    boot_pearson,
    boot_spearman,
    group_starts,
    kendall_from_sorted,
)

METHODS: tuple[str, ...] = ("pearson", "spearman", "kendall")
_CHUNK_ELEMENTS = 1 << 23  # indices held at once while bootstrapping (64 MB): enough resamples
# per block for every numba thread even at 10^6 lines


def _pair(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.size} and {y.size}")
    return x, y


def _undefined(x: np.ndarray, y: np.ndarray) -> bool:
    """n < 2, a nan, or a constant input: every correlation is undefined."""
    if x.size < 2 or np.isnan(x).any() or np.isnan(y).any():
        return True
    return bool((x == x[0]).all() or (y == y[0]).all())


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's r with ``scipy.stats.pearsonr``'s arithmetic (scaled norms, clipped to [-1, 1])."""
    x, y = _pair(x, y)
    if _undefined(x, y):
        return float("nan")
    xm = x - x.mean()
    ym = y - y.mean()
    xmax = np.abs(xm).max()
    ymax = np.abs(ym).max()
    normx = xmax * np.linalg.norm(xm / xmax)
    normy = ymax * np.linalg.norm(ym / ymax)
    r = float(np.clip(np.dot(xm / normx, ym / normy), -1.0, 1.0))
    return float(np.round(r)) if x.size == 2 else r


def rank_average(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties given their average rank (``scipy.stats.rankdata(method='average')``)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    order = np.argsort(x, kind="stable")
    starts = group_starts(x[order])
    ends = np.append(starts[1:], x.size)
    avg = (starts + ends + 1) / 2.0  # mean of the 1-based ranks starts+1 .. ends
    ranks = np.empty(x.size, dtype=np.float64)
    ranks[order] = np.repeat(avg, ends - starts)
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho: Pearson's r of the average ranks (``scipy.stats.spearmanr``)."""
    x, y = _pair(x, y)
    if _undefined(x, y):
        return float("nan")
    return pearson(rank_average(x), rank_average(y))


def _dense(v: np.ndarray) -> np.ndarray:
    """Dense ranks 0.. of ``v`` (int32: per-line arrays stay compact)."""
    return np.unique(v, return_inverse=True)[1].astype(np.int32).ravel()


def kendall_tau_b(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b (``scipy.stats.kendalltau``, variant 'b') by an O(n log n) merge sort."""
    x, y = _pair(x, y)
    if _undefined(x, y):
        return float("nan")
    order = np.lexsort((y, x))
    xr = _dense(x)[order]
    yr = _dense(y)[order]
    del order
    return float(kendall_from_sorted(xr, yr))


_POINT = {"pearson": pearson, "spearman": spearman, "kendall": kendall_tau_b}


def bootstrap_rng(seed: int, label: str | int = "") -> np.random.Generator:
    """The resampling generator of ``(seed, label)``."""
    key = stream_key(int(seed), "bootstrap", label)
    return np.random.default_rng(np.random.SeedSequence(key))


def bootstrap_indices(
    n: int, n_boot: int, *, seed: int = 0, label: str | int = "", chunk: int | None = None
) -> Iterator[np.ndarray]:
    """Resample indices, ``chunk`` rows of ``n`` at a time.

    Row b is resample b whatever ``chunk``: each row is one ``integers(0, n, n)`` draw.
    """
    if n < 1 or n_boot < 0 or (chunk is not None and chunk < 1):
        raise ValueError(f"need n >= 1, n_boot >= 0, chunk >= 1; got {n}, {n_boot}, {chunk}")
    rng = bootstrap_rng(seed, label)
    rows = chunk if chunk is not None else max(1, min(n_boot, _CHUNK_ELEMENTS // n))
    done = 0
    while done < n_boot:
        b = min(rows, n_boot - done)
        out = np.empty((b, n), dtype=np.int64)
        for i in range(b):  # one draw per resample keeps the stream independent of chunking
            out[i] = rng.integers(0, n, size=n, dtype=np.int64)
        done += b
        yield out


def bootstrap_replicates(
    x: np.ndarray,
    y: np.ndarray,
    methods: Sequence[str] = METHODS,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    label: str | int = "",
) -> dict[str, np.ndarray]:
    """The statistic on every resample: ``{method: float64[n_boot]}`` (nan where undefined)."""
    x, y = _pair(x, y)
    methods = _check_methods(methods)
    n = x.size
    out = {m: np.full(n_boot, np.nan) for m in methods}
    if n < 2 or n_boot == 0 or _undefined(x, y):
        return out
    xd, yd = _dense(x), _dense(y)
    mx, my = int(xd.max()) + 1, int(yd.max()) + 1
    if "kendall" in methods:
        lex = np.lexsort((y, x))
        pos = np.empty(n, dtype=np.int32)
        pos[lex] = np.arange(n, dtype=np.int32)
        xr, yr = xd[lex], yd[lex]
        del lex
    b0 = 0
    for idx in bootstrap_indices(n, n_boot, seed=seed, label=label):
        b1 = b0 + idx.shape[0]
        if "pearson" in methods:
            out["pearson"][b0:b1] = boot_pearson(idx, x, y)
        if "spearman" in methods:
            out["spearman"][b0:b1] = boot_spearman(idx, xd, yd, mx, my)
        if "kendall" in methods:
            out["kendall"][b0:b1] = boot_kendall(idx, pos, xr, yr, my)
        b0 = b1
    return out


def _check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    methods = (methods,) if isinstance(methods, str) else tuple(methods)
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise ValueError(f"unknown correlation method {bad[0]!r}; allowed: {', '.join(METHODS)}")
    return methods


def correlations(
    x: np.ndarray,
    y: np.ndarray,
    methods: Sequence[str] = METHODS,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    label: str | int = "",
) -> dict[str, dict]:
    """Each statistic with its percentile bootstrap interval.

    Returns ``{method: {"estimate", "ci_low", "ci_high", "n", "n_boot", "n_boot_valid",
    "confidence"}}`` with Python floats and ints (nan where undefined). ``label`` names the
    comparison (e.g. ``"test_wilson/tokens"``) so that different comparisons get different
    resamples; all methods of one call share them.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_boot < 0:
        raise ValueError(f"n_boot must be >= 0, got {n_boot}")
    x, y = _pair(x, y)
    methods = _check_methods(methods)
    reps = bootstrap_replicates(x, y, methods, n_boot=n_boot, seed=seed, label=label)
    alpha = 100.0 * (1.0 - confidence) / 2.0
    result = {}
    for m in methods:
        finite = reps[m][np.isfinite(reps[m])]
        lo, hi = (np.percentile(finite, [alpha, 100.0 - alpha]) if finite.size
                  else (np.nan, np.nan))
        result[m] = {
            "estimate": _POINT[m](x, y),
            "ci_low": float(lo),
            "ci_high": float(hi),
            "n": int(x.size),
            "n_boot": int(n_boot),
            "n_boot_valid": int(finite.size),
            "confidence": float(confidence),
        }
    return result


def correlation(x: np.ndarray, y: np.ndarray, method: str = "pearson", **kwargs) -> dict:
    """One statistic with its bootstrap interval (see :func:`correlations` for the keywords)."""
    return correlations(x, y, (method,), **kwargs)[method]


def length_ratio(generated: np.ndarray, ground_truth: np.ndarray) -> dict:
    """Generated / ground-truth length: mean and median of per-problem ratios, ratio of means.

    Problems whose ground-truth length is 0 have no ratio and are left out of all three figures
    (counted in ``n_excluded``); a generated length of 0 gives a ratio of 0.
    """
    gen, gt = _pair(generated, ground_truth)
    if np.isnan(gen).any() or np.isnan(gt).any() or (gen < 0).any() or (gt < 0).any():
        raise ValueError("lengths must be non-negative numbers (no nan)")
    keep = gt > 0
    gen, gt = gen[keep], gt[keep]
    nan = float("nan")
    ratios = gen / gt
    return {
        "mean": float(ratios.mean()) if ratios.size else nan,
        "median": float(np.median(ratios)) if ratios.size else nan,
        "ratio_of_means": float(gen.sum() / gt.sum()) if ratios.size else nan,
        "n": int(ratios.size),
        "n_excluded": int((~keep).sum()),
    }


def _rate(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.maximum(den, 1), np.nan)


def binned_validity(
    gt_length: np.ndarray,
    plan_valid: np.ndarray,
    trace_valid: np.ndarray,
    *,
    bin_width: float = 500,
) -> dict[str, np.ndarray]:
    """Validity by difficulty bin (Beyond Semantics v3+): bin k holds k*w <= length < (k+1)*w.

    ``gt_length`` is the ground-truth trace length in tokens (``bin_width=500`` as published)
    or in events (pick a width in events). Only non-empty bins are listed, in increasing order.
    Keys: ``bin_low``, ``bin_high``, ``count``, ``plan_valid``, ``trace_valid``, ``both_valid``
    (counts), ``plan_valid_rate``, ``trace_valid_rate`` and ``trace_valid_given_plan_valid``
    (nan in a bin without a valid plan).
    """
    if not bin_width > 0:
        raise ValueError(f"bin_width must be > 0, got {bin_width}")
    gt = np.asarray(gt_length, dtype=np.float64).ravel()
    pv = np.asarray(plan_valid, dtype=bool).ravel()
    tv = np.asarray(trace_valid, dtype=bool).ravel()
    if not gt.size == pv.size == tv.size:
        raise ValueError("gt_length, plan_valid and trace_valid must have the same length")
    if np.isnan(gt).any() or (gt < 0).any():
        raise ValueError("gt_length must be non-negative numbers (no nan)")
    k = np.floor(gt / bin_width).astype(np.int64)
    bins, inv = np.unique(k, return_inverse=True)
    inv = inv.ravel()
    m = bins.size
    count = np.bincount(inv, minlength=m)
    n_pv = np.bincount(inv, weights=pv, minlength=m).astype(np.int64)
    n_tv = np.bincount(inv, weights=tv, minlength=m).astype(np.int64)
    n_both = np.bincount(inv, weights=pv & tv, minlength=m).astype(np.int64)
    return {
        "bin_low": bins * bin_width,
        "bin_high": (bins + 1) * bin_width,
        "count": count,
        "plan_valid": n_pv,
        "trace_valid": n_tv,
        "both_valid": n_both,
        "plan_valid_rate": _rate(n_pv, count),
        "trace_valid_rate": _rate(n_tv, count),
        "trace_valid_given_plan_valid": _rate(n_both, n_pv),
    }


def _same_length(*arrays: np.ndarray, names: str) -> list[np.ndarray]:
    out = [np.asarray(a).ravel() for a in arrays]
    if len({a.size for a in out}) > 1:
        raise ValueError(f"{names} must have the same length")
    return out


def swc(correct: np.ndarray, plan_length: np.ndarray, optimal_length: np.ndarray) -> float:
    """Success weighted by cost (Searchformer, arXiv 2402.14083): mean of c * l* / max(l, l*).

    ``l`` and ``l*`` in the same unit (cells or moves). A term with ``max(l, l*) == 0`` is ``c``.
    nan for no problems.
    """
    c, l, ls = _same_length(correct, plan_length, optimal_length,
                            names="correct, plan_length and optimal_length")
    if c.size == 0:
        return float("nan")
    c = c.astype(bool)
    l, ls = l.astype(np.float64), ls.astype(np.float64)
    den = np.maximum(l, ls)
    term = np.where(den > 0, ls / np.where(den > 0, den, 1.0), 1.0)
    return float(np.where(c, term, 0.0).mean())


def ilr(correct: np.ndarray, trace_length: np.ndarray, reference_length: np.ndarray) -> float:
    """Improved length ratio (Searchformer, arXiv 2402.14083): mean of c * t* / t.

    ``t`` is the model's trace length, ``t*`` the A* trace length of the same problem (same
    unit). Pass plan correctness as ``c`` for ILR-on-solved, optimality for ILR-on-optimal.
    A problem with an empty model trace (``t == 0``) contributes 0, correct or not: a missing
    trace earns no credit (instead of an infinite ratio). nan for no problems.
    """
    c, t, ts = _same_length(correct, trace_length, reference_length,
                            names="correct, trace_length and reference_length")
    if c.size == 0:
        return float("nan")
    t, ts = t.astype(np.float64), ts.astype(np.float64)
    ok = c.astype(bool) & (t > 0)
    return float(np.where(ok, ts / np.where(t > 0, t, 1.0), 0.0).mean())


def validity_table(plan_valid: np.ndarray, trace_valid: np.ndarray) -> dict:
    """The 2x2 table plan validity x trace validity (Beyond Semantics, arXiv 2505.13775).

    ``counts[i][j]``: rows plan valid / invalid, columns trace valid / invalid.
    """
    pv, tv = _same_length(plan_valid, trace_valid, names="plan_valid and trace_valid")
    pv, tv = pv.astype(bool), tv.astype(bool)
    counts = np.array(
        [[int((pv & tv).sum()), int((pv & ~tv).sum())],
         [int((~pv & tv).sum()), int((~pv & ~tv).sum())]],
        dtype=np.int64,
    )
    return {
        "rows": ("plan_valid", "plan_invalid"),
        "cols": ("trace_valid", "trace_invalid"),
        "counts": counts,
        "n": int(pv.size),
    }


def first_error_histogram(
    first_errors: Sequence | np.ndarray, kinds: Sequence[str] | None = None
) -> dict[str, int]:
    """Counts of the first error kind (Beyond Semantics' histogram), ``"none"`` for no error.

    ``first_errors``: integer codes into ``kinds`` (negative = no error), or kind names
    (``None``, ``""`` or ``"none"`` = no error). ``kinds`` defaults to
    :data:`mazebench.evaluate.parse.ERROR_KINDS`. Every kind is listed (zeros included), in
    that order; names outside ``kinds`` follow, sorted.
    """
    if kinds is None:
        from .parse import ERROR_KINDS as kinds
    kinds = tuple(kinds)
    arr = np.asarray(first_errors).ravel()
    hist = {"none": 0, **{k: 0 for k in kinds}}
    if arr.size == 0:
        return hist
    if arr.dtype.kind in "iu":
        if arr.max() >= len(kinds):
            raise ValueError(
                f"error code {int(arr.max())} out of range; allowed: -1..{len(kinds) - 1}"
            )
        hist["none"] = int((arr < 0).sum())
        counts = np.bincount(arr[arr >= 0].astype(np.int64), minlength=len(kinds))
        for k, c in zip(kinds, counts):
            hist[k] = int(c)
        return hist
    extra: dict[str, int] = {}
    for name, c in Counter("" if e is None else str(e) for e in arr.tolist()).items():
        if name in ("", "none"):
            hist["none"] += c
        elif name in hist:
            hist[name] += c
        else:
            extra[name] = c
    hist.update(sorted(extra.items()))
    return hist
