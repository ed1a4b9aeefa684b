"""Step-level confidence of model samples: DeepConf (Fu et al., arXiv 2508.15260).

* token confidence ``C_i = -(1/k) * sum of the top-k log-probabilities at position i``
  (:func:`token_confidence`; entries that are nan or infinite are absent candidates);
* group confidence = mean C over a sliding window of ``window`` tokens, stride 1, one window over
  the whole sample if it is not longer (DeepConf's ``compute_least_grouped``); in mazes a step is
  a trace event, so windows can also count events (``event_index``: the event of each token,
  negative for tokens outside the trace), a window then averaging the tokens of its events;
* per sample (:func:`sample_confidence`): lowest group confidence, bottom-10% group confidence
  (mean of the ``max(1, int(0.1 * n_windows))`` lowest window means), tail confidence (mean over
  the last ``tail`` units, 2048 tokens in DeepConf) and average confidence;
* offline (:func:`offline_filter`, :func:`weighted_vote`, :func:`selection_accuracy`): keep the
  samples of a problem whose confidence is at least the ``(100 - eta)``-th percentile of that
  problem's answered samples (top eta%, eta = 10 or 90), then confidence-weighted plurality vote;
* online (:func:`online_early_stop`): the first ``n_warmup = 16`` samples of a problem set the
  threshold at the ``(100 - eta)``-th percentile of their lowest group confidence, and every later
  sample stops once its current window falls below it.

Layout: samples are flat arrays with ``offsets`` (sample ``s`` owns tokens
``offsets[s]:offsets[s+1]``), per-sample results are arrays, so a million samples never make a
million Python objects. A token whose confidence is nan adds nothing to any mean. A sample
without tokens has nan confidences. Answers are integer codes (:func:`factorize` turns plan
strings or tuples into codes); -1 = no answer, which never votes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .confidence_kernels import (
    event_units,
    first_below,
    group_percentiles,
    token_conf,
    vote,
    window_means,
    window_stats,
)

WINDOW = 2048
N_WARMUP = 16


def token_confidence(logprobs: np.ndarray, k: int | None = None) -> np.ndarray:
    """Per-token confidence from a ``(tokens, candidates)`` array of top-k log-probabilities.

    ``k`` keeps the k largest finite entries of a row (default: all finite entries). A row with
    no finite entry gives nan.
    """
    lp = np.asarray(logprobs, dtype=np.float64)
    if lp.ndim != 2:
        raise ValueError(f"logprobs must be a 2-d (tokens, top-k) array, got {lp.ndim} dims")
    if k is not None and k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return token_conf(np.ascontiguousarray(lp), 0 if k is None else int(k))


def _offsets(offsets: np.ndarray, total: int) -> np.ndarray:
    off = np.asarray(offsets, dtype=np.int64).ravel()
    if off.size < 1 or off[0] != 0 or off[-1] != total or (np.diff(off) < 0).any():
        raise ValueError(
            f"offsets must start at 0, never decrease and end at the number of tokens ({total})"
        )
    return off


def _units(
    conf: np.ndarray, offsets: np.ndarray, event_index: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    conf = np.asarray(conf, dtype=np.float64).ravel()
    off = _offsets(offsets, conf.size)
    if event_index is None:
        missing = np.isnan(conf)
        return np.where(missing, 0.0, conf), (~missing).astype(np.int64), off
    ev = np.asarray(event_index, dtype=np.int64).ravel()
    if ev.size != conf.size:
        raise ValueError(f"event_index must have one entry per token ({conf.size}), got {ev.size}")
    return event_units(conf, off, ev)


def _positive(name: str, value: int) -> int:
    if int(value) < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def sample_confidence(
    conf: np.ndarray,
    offsets: np.ndarray,
    *,
    window: int = WINDOW,
    tail: int | None = None,
    bottom_fraction: float = 0.1,
    event_index: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """DeepConf's per-sample confidences from token confidences ``conf``.

    ``window`` and ``tail`` (default ``window``) count tokens, or events when ``event_index`` is
    given. Returns float arrays ``lowest_group``, ``bottom_group``, ``tail``, ``average`` and the
    int array ``n_windows`` (windows with at least one token), one entry per sample.
    """
    if not 0.0 < bottom_fraction <= 1.0:
        raise ValueError(f"bottom_fraction must be in (0, 1], got {bottom_fraction}")
    window = _positive("window", window)
    tail = window if tail is None else _positive("tail", tail)
    usum, ucnt, uoff = _units(conf, offsets, event_index)
    lowest, bottom, tl, avg, nwin = window_stats(usum, ucnt, uoff, window, tail, bottom_fraction)
    return {"lowest_group": lowest, "bottom_group": bottom, "tail": tl, "average": avg,
            "n_windows": nwin}


def group_confidence(
    conf: np.ndarray,
    offsets: np.ndarray,
    *,
    window: int = WINDOW,
    event_index: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Every window mean of every sample: ``(values, value_offsets)`` in the flat layout.

    Sample ``s`` has ``max(1, units - window + 1)`` windows (none without units); window j
    covers units ``j .. j + window - 1``; a window without tokens is nan.
    """
    usum, ucnt, uoff = _units(conf, offsets, event_index)
    return window_means(usum, ucnt, uoff, _positive("window", window))


def factorize(answers: Sequence | np.ndarray) -> np.ndarray:
    """Integer codes (order of first appearance) for answers; ``None`` becomes -1.

    An integer array is taken as codes already. Lists and numpy arrays are compared by content.
    """
    if isinstance(answers, np.ndarray) and answers.dtype.kind in "iu":
        return answers.astype(np.int64).ravel()
    codes = np.empty(len(answers), dtype=np.int64)
    seen: dict = {}
    for i, a in enumerate(answers):
        if a is None:
            codes[i] = -1
            continue
        if isinstance(a, np.ndarray):
            a = (a.dtype.str, a.shape, a.tobytes())
        elif isinstance(a, list):
            a = tuple(tuple(e) if isinstance(e, list) else e for e in a)
        codes[i] = seen.setdefault(a, len(seen))
    return codes


def _groups(problem: np.ndarray | Sequence) -> tuple[np.ndarray, int]:
    p = np.asarray(problem).ravel()
    if p.size == 0:
        return np.zeros(0, dtype=np.int64), 0
    uniq, inv = np.unique(p, return_inverse=True)
    return inv.astype(np.int64).ravel(), int(uniq.size)


def _check_eta(eta: float) -> float:
    if not 0.0 < eta <= 100.0:
        raise ValueError(f"eta must be a percentage in (0, 100], got {eta}")
    return float(eta)


def _vector(name: str, values, n: int, dtype) -> np.ndarray:
    v = np.asarray(values, dtype=dtype).ravel()
    if v.size != n:
        raise ValueError(f"{name} must have one entry per sample ({n}), got {v.size}")
    return v


def _by_score(p: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Samples sorted by (problem, score): one stable sort by score, then one by problem."""
    o = np.argsort(s, kind="stable")
    return o[np.argsort(p[o], kind="stable")]


def _filter(
    p: np.ndarray, ng: int, s: np.ndarray, answered: np.ndarray, eta: float,
    order: np.ndarray | None = None,
) -> np.ndarray:
    ok = answered & np.isfinite(s)
    order = _by_score(p, s) if order is None else order
    thr = group_percentiles(p, s, order, ok, ng, 100.0 - eta)
    return ok & (s >= thr[p])


def offline_filter(
    score: np.ndarray, problem: np.ndarray, *, eta: float, answer: np.ndarray | None = None
) -> np.ndarray:
    """Keep the top ``eta``% of each problem's samples by ``score`` (DeepConf offline).

    A sample is kept iff it is answered (``answer >= 0``; all are if ``answer`` is None), its
    score is finite and at least the ``(100 - eta)``-th percentile (numpy 'linear') of the
    finite scores of its problem's answered samples.
    """
    eta = _check_eta(eta)
    p, ng = _groups(problem)
    s = _vector("score", score, p.size, np.float64)
    answered = np.ones(p.size, dtype=bool)
    if answer is not None:
        answered = _vector("answer", factorize(answer), p.size, np.int64) >= 0
    return _filter(p, ng, s, answered, eta)


def _vote(p, ng, a, by_answer, weight, keep) -> tuple[np.ndarray, ...]:
    w = np.ones(p.size) if weight is None else weight
    use = (a >= 0) & np.isfinite(w)
    if keep is not None:
        use &= keep
    return vote(p, a, w, by_answer, use, ng)


def weighted_vote(
    problem: np.ndarray,
    answer: np.ndarray | Sequence,
    weight: np.ndarray | None = None,
    keep: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Confidence-weighted plurality vote per problem (DeepConf; weight 1 = majority vote).

    Voters: samples with an answer, a finite weight and ``keep`` (default all). Ties go to the
    answer that appeared first. Returns, per problem in ``numpy.unique(problem)`` order:
    ``problem``, ``answer`` (code, -1 if nobody voted), ``sample`` (first sample giving that
    answer, -1 if none), ``weight`` (its total) and ``votes`` (number of voters).
    """
    prob = np.asarray(problem).ravel()
    p, ng = _groups(prob)
    a = _vector("answer", factorize(answer), p.size, np.int64)
    w = None if weight is None else _vector("weight", weight, p.size, np.float64)
    k = None if keep is None else _vector("keep", keep, p.size, bool)
    sample, ans, total, votes = _vote(p, ng, a, np.lexsort((a, p)), w, k)
    return {"problem": np.unique(prob), "answer": ans, "sample": sample, "weight": total,
            "votes": votes}


def selection_accuracy(
    problem: np.ndarray,
    answer: np.ndarray | Sequence,
    correct: np.ndarray,
    scores: Mapping[str, np.ndarray],
    *,
    etas: Sequence[float] = (10, 90),
    extra_rules: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> dict[str, dict]:
    """Accuracy of each way of picking one answer per problem from its samples.

    Rules: ``majority`` (unweighted vote), ``weighted_<name>`` (vote weighted by
    ``scores[name]``), ``top<eta>_<name>`` (:func:`offline_filter` then the weighted vote), every
    ``extra_rules[name] = (keep, weight)`` (e.g. the ``keep`` of :func:`online_early_stop` with
    the lowest group confidence as weight), and ``any_correct`` (an oracle: some sample correct).
    A selected answer is as correct as the first sample giving it (answers are assumed to decide
    correctness); a problem nobody voted on counts as wrong. Each rule gives
    ``{"accuracy", "n_problems", "mean_votes"}``.
    """
    p, ng = _groups(problem)
    a = _vector("answer", factorize(answer), p.size, np.int64)
    c = _vector("correct", correct, p.size, bool)
    answered = a >= 0
    rules: dict[str, tuple[np.ndarray | None, np.ndarray | None]] = {"majority": (None, None)}
    for name, score in scores.items():
        s = _vector(f"scores[{name!r}]", score, p.size, np.float64)
        rules[f"weighted_{name}"] = (None, s)
        order = _by_score(p, s)
        for eta in etas:
            keep = _filter(p, ng, s, answered, _check_eta(eta), order)
            rules[f"top{eta:g}_{name}"] = (keep, s)
    for name, (keep, weight) in (extra_rules or {}).items():
        rules[name] = (_vector(f"extra_rules[{name!r}] keep", keep, p.size, bool),
                       _vector(f"extra_rules[{name!r}] weight", weight, p.size, np.float64))
    by_answer = np.lexsort((a, p))
    out = {}
    for name, (keep, weight) in rules.items():
        sample, _, _, votes = _vote(p, ng, a, by_answer, weight, keep)
        hit = np.where(sample >= 0, c[np.maximum(sample, 0)], False)
        out[name] = {"accuracy": float(hit.mean()) if ng else float("nan"), "n_problems": ng,
                     "mean_votes": float(votes.mean()) if ng else float("nan")}
    any_ok = np.bincount(p, weights=c, minlength=ng) > 0
    out["any_correct"] = {"accuracy": float(any_ok.mean()) if ng else float("nan"),
                          "n_problems": ng, "mean_votes": float("nan")}
    return out


def online_early_stop(
    conf: np.ndarray,
    offsets: np.ndarray,
    problem: np.ndarray,
    *,
    eta: float,
    window: int = WINDOW,
    n_warmup: int = N_WARMUP,
    event_index: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """DeepConf online: replay early stopping on complete samples.

    The first ``n_warmup`` samples of each problem (input order) run in full and set the
    threshold: the ``(100 - eta)``-th percentile of their (finite) lowest group confidences. Each
    later sample stops at the end of the first window whose mean is below it (checks begin once
    a window is full; a sample not longer than the window is judged on its whole mean at its
    end). Per sample: ``threshold`` (nan if its problem has none), ``warmup``, ``stopped``,
    ``stop`` (units consumed: tokens, or events with ``event_index``), ``length`` (units),
    ``lowest_group`` and ``keep`` (who votes afterwards, as DeepConf does: warm-up samples whose
    lowest group confidence reaches the threshold, and later samples that were not stopped).
    """
    eta = _check_eta(eta)
    window = _positive("window", window)
    n_warmup = _positive("n_warmup", n_warmup)
    usum, ucnt, uoff = _units(conf, offsets, event_index)
    n = uoff.size - 1
    p, ng = _groups(_vector("problem", problem, n, np.asarray(problem).dtype))
    lowest = window_stats(usum, ucnt, uoff, window, window, 0.1)[0]
    by_problem = np.argsort(p, kind="stable")
    starts = np.searchsorted(p[by_problem], np.arange(ng))
    rank = np.empty(n, dtype=np.int64)
    rank[by_problem] = np.arange(n) - np.repeat(starts, np.bincount(p, minlength=ng))
    warm = rank < n_warmup
    use = warm & np.isfinite(lowest)
    thr = group_percentiles(p, lowest, _by_score(p, lowest), use, ng, 100.0 - eta)[p]
    stop, stopped = first_below(usum, ucnt, uoff, window, np.where(warm, np.nan, thr))
    length = np.diff(uoff)
    with np.errstate(invalid="ignore"):
        keep = np.where(warm, lowest >= thr, ~stopped)
    return {"threshold": thr, "warmup": warm, "stopped": stopped, "stop": stop,
            "length": length, "lowest_group": lowest, "keep": keep}
