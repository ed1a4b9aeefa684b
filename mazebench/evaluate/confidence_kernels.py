"""Numba kernels of :mod:`.confidence` (DeepConf, arXiv 2508.15260).

Samples are stored flat: the values of sample ``s`` are ``values[offsets[s]:offsets[s+1]]``.
Window passes work on *units* (tokens, or trace events) holding a confidence sum and a token
count, so a window mean is a difference of per-sample prefix sums: O(length) per sample.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def token_conf(logprobs: np.ndarray, k: int) -> np.ndarray:
    """-(mean of the top-k finite log-probabilities) per row; k <= 0 = every finite entry."""
    t, width = logprobs.shape
    out = np.empty(t)
    buf = np.empty(width)
    for i in range(t):
        m = 0
        for j in range(width):
            v = logprobs[i, j]
            if math.isfinite(v):
                buf[m] = v
                m += 1
        if m == 0:
            out[i] = np.nan
            continue
        if 0 < k < m:
            top = np.sort(buf[:m])[m - k:]
            out[i] = -top.sum() / k
        else:
            s = 0.0
            for j in range(m):
                s += buf[j]
            out[i] = -s / m
    return out


@njit(cache=True)
def event_units(
    conf: np.ndarray, offsets: np.ndarray, event: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-event confidence sums and token counts; events of a sample are 0..max id.

    Tokens with a negative event id, or a nan confidence, add nothing.
    """
    ns = offsets.size - 1
    uoff = np.zeros(ns + 1, dtype=np.int64)
    for s in range(ns):
        top = -1
        for t in range(offsets[s], offsets[s + 1]):
            top = max(top, event[t])
        uoff[s + 1] = uoff[s] + top + 1
    usum = np.zeros(uoff[ns])
    ucnt = np.zeros(uoff[ns], dtype=np.int64)
    for s in range(ns):
        base = uoff[s]
        for t in range(offsets[s], offsets[s + 1]):
            e = event[t]
            if e >= 0 and not math.isnan(conf[t]):
                usum[base + e] += conf[t]
                ucnt[base + e] += 1
    return usum, ucnt, uoff


@njit(cache=True, inline="always")
def _prefix(usum, ucnt, lo, u, ps, pc):
    ps[0] = 0.0
    pc[0] = 0
    for i in range(u):
        ps[i + 1] = ps[i] + usum[lo + i]
        pc[i + 1] = pc[i] + ucnt[lo + i]


@njit(cache=True)
def window_stats(
    usum: np.ndarray, ucnt: np.ndarray, uoff: np.ndarray, window: int, tail: int, frac: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per sample: lowest window mean, mean of the lowest ``frac`` of windows, tail, average.

    Windows of ``window`` units at stride 1 (one window over everything if the sample is not
    longer); a window without tokens is skipped. Also returns the number of windows counted.
    """
    ns = uoff.size - 1
    lowest = np.full(ns, np.nan)
    bottom = np.full(ns, np.nan)
    tailv = np.full(ns, np.nan)
    avg = np.full(ns, np.nan)
    nwin = np.zeros(ns, dtype=np.int64)
    umax = 0
    for s in range(ns):
        umax = max(umax, uoff[s + 1] - uoff[s])
    ps = np.empty(umax + 1)
    pc = np.empty(umax + 1, dtype=np.int64)
    means = np.empty(umax + 1)
    for s in range(ns):
        lo = uoff[s]
        u = uoff[s + 1] - lo
        _prefix(usum, ucnt, lo, u, ps, pc)
        if pc[u] == 0:
            continue
        avg[s] = ps[u] / pc[u]
        tl = min(tail, u)
        if pc[u] - pc[u - tl] > 0:
            tailv[s] = (ps[u] - ps[u - tl]) / (pc[u] - pc[u - tl])
        w = min(window, u)
        m = 0
        for j in range(u - w + 1):
            c = pc[j + w] - pc[j]
            if c > 0:
                means[m] = (ps[j + w] - ps[j]) / c
                m += 1
        nwin[s] = m
        lo_mean = means[0]
        for j in range(1, m):
            lo_mean = min(lo_mean, means[j])
        lowest[s] = lo_mean
        nb = max(1, int(m * frac))
        if nb == 1:
            bottom[s] = lo_mean
        else:
            part = np.partition(means[:m], nb - 1)
            acc = 0.0
            for j in range(nb):
                acc += part[j]
            bottom[s] = acc / nb
    return lowest, bottom, tailv, avg, nwin


@njit(cache=True)
def window_means(
    usum: np.ndarray, ucnt: np.ndarray, uoff: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every window mean of every sample (nan for a window without tokens), flat + offsets."""
    ns = uoff.size - 1
    woff = np.zeros(ns + 1, dtype=np.int64)
    umax = 0
    for s in range(ns):
        u = uoff[s + 1] - uoff[s]
        umax = max(umax, u)
        woff[s + 1] = woff[s] + (u - min(window, u) + 1 if u > 0 else 0)
    out = np.empty(woff[ns])
    ps = np.empty(umax + 1)
    pc = np.empty(umax + 1, dtype=np.int64)
    for s in range(ns):
        lo = uoff[s]
        u = uoff[s + 1] - lo
        _prefix(usum, ucnt, lo, u, ps, pc)
        w = min(window, u)
        for j in range(woff[s + 1] - woff[s]):
            c = pc[j + w] - pc[j]
            out[woff[s] + j] = (ps[j + w] - ps[j]) / c if c > 0 else np.nan
    return out, woff


@njit(cache=True)
def first_below(
    usum: np.ndarray, ucnt: np.ndarray, uoff: np.ndarray, window: int, thr: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Online stop: units consumed when the first window mean falls below ``thr[s]``.

    The check starts once a full window is available (a sample not longer than the window is
    judged once, at its end, on its mean). Not stopped (or ``thr[s]`` nan): its length.
    """
    ns = uoff.size - 1
    stop = np.empty(ns, dtype=np.int64)
    stopped = np.zeros(ns, dtype=np.bool_)
    umax = 0
    for s in range(ns):
        umax = max(umax, uoff[s + 1] - uoff[s])
    ps = np.empty(umax + 1)
    pc = np.empty(umax + 1, dtype=np.int64)
    for s in range(ns):
        lo = uoff[s]
        u = uoff[s + 1] - lo
        stop[s] = u
        if math.isnan(thr[s]) or u == 0:
            continue
        _prefix(usum, ucnt, lo, u, ps, pc)
        w = min(window, u)
        for j in range(u - w + 1):
            c = pc[j + w] - pc[j]
            if c > 0 and (ps[j + w] - ps[j]) / c < thr[s]:
                stop[s] = j + w
                stopped[s] = True
                break
    return stop, stopped


@njit(cache=True, inline="always")
def percentile_sorted(v: np.ndarray, pct: float) -> float:
    """``numpy.percentile(v, pct)`` (method 'linear', same arithmetic) of a sorted array."""
    n = v.size
    vi = (n - 1) * (pct / 100.0)
    if vi >= n - 1:
        return v[n - 1]
    if vi < 0:
        return v[0]
    prev = math.floor(vi)
    gamma = vi - prev
    a = v[int(prev)]
    b = v[int(prev) + 1]
    diff = b - a
    if gamma >= 0.5:
        return b - diff * (1 - gamma)
    return a + diff * gamma


@njit(cache=True)
def group_percentiles(
    group: np.ndarray, value: np.ndarray, order: np.ndarray, use: np.ndarray, ngroups: int,
    pct: float,
) -> np.ndarray:
    """Percentile of ``value`` over the samples with ``use`` set, per group; ``order`` sorts the
    samples by (group, value). Groups without such samples get nan."""
    out = np.full(ngroups, np.nan)
    m = order.size
    buf = np.empty(m)
    i = 0
    while i < m:
        g = group[order[i]]
        k = 0
        j = i
        while j < m and group[order[j]] == g:
            if use[order[j]]:
                buf[k] = value[order[j]]
                k += 1
            j += 1
        if k:
            out[g] = percentile_sorted(buf[:k], pct)
        i = j
    return out


@njit(cache=True)
def vote(
    group: np.ndarray, answer: np.ndarray, weight: np.ndarray, order: np.ndarray, use: np.ndarray,
    ngroups: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weighted plurality per group over the samples with ``use`` set; ``order`` sorts the samples
    by (group, answer, sample index). Ties go to the answer seen first. Returns the winning sample
    (first of its answer, -1 if none), its answer, its total weight and the votes per group."""
    best = np.full(ngroups, -1, dtype=np.int64)
    best_answer = np.full(ngroups, -1, dtype=np.int64)
    best_w = np.full(ngroups, np.nan)
    votes = np.zeros(ngroups, dtype=np.int64)
    m = order.size
    i = 0
    while i < m:
        g = group[order[i]]
        a = answer[order[i]]
        first = -1
        total = 0.0
        j = i
        while j < m and group[order[j]] == g and answer[order[j]] == a:
            o = order[j]
            if use[o]:
                if first < 0:
                    first = o
                total += weight[o]
                votes[g] += 1
            j += 1
        i = j
        if first < 0:
            continue
        if best[g] < 0 or total > best_w[g] or (total == best_w[g] and first < best[g]):
            best[g] = first
            best_answer[g] = a
            best_w[g] = total
    return best, best_answer, best_w, votes
