"""Numba kernels of :mod:`.stats`: Kendall's tau-b by merge sort, bootstrap replicates.

Kendall's tau-b follows ``scipy.stats.kendalltau`` (variant 'b'): with ``tot = n(n-1)/2`` pairs,
``xtie``/``ytie`` the pairs tied in x / in y and ``ntie`` the pairs tied in both,
``tau = (tot - xtie - ytie + ntie - 2 dis) / sqrt(tot - xtie) / sqrt(tot - ytie)``, where the
discordant pairs ``dis`` are the inversions of y once the data are sorted by (x, y) (Knight
1966, JASA 61:436): a bottom-up merge sort counts them in O(n log n).

Bootstrap kernels take a block of resample index rows and return one replicate per row, the rows
spread over numba's threads (each resample with its own scratch, so results do not depend on the
thread count). They work from resample *counts* against orderings computed once, so no resample is
ever sorted: Spearman's average ranks of a resample are running sums of counts along the sorted
distinct values, and Kendall's discordant pairs are a count-weighted inversion count (a Fenwick
tree over y ranks).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange


def group_starts(sorted_values: np.ndarray) -> np.ndarray:
    """Start index of each run of equal values in a sorted array (int64)."""
    v = sorted_values
    if v.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate(([True], v[1:] != v[:-1]))).astype(np.int64)


@njit(cache=True)
def merge_inversions(a: np.ndarray) -> int:
    """Pairs i < j with a[i] > a[j], by a bottom-up merge sort (a is not modified)."""
    n = a.size
    src = a.copy()
    dst = np.empty_like(src)
    inv = 0
    width = 1
    while width < n:
        lo = 0
        while lo < n:
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if src[i] <= src[j]:
                    dst[k] = src[i]
                    i += 1
                else:
                    dst[k] = src[j]
                    j += 1
                    inv += mid - i
                k += 1
            while i < mid:
                dst[k] = src[i]
                i += 1
                k += 1
            while j < hi:
                dst[k] = src[j]
                j += 1
                k += 1
            lo = hi
        src, dst = dst, src
        width *= 2
    return inv


@njit(cache=True, inline="always")
def _tau_b(tot: int, xtie: int, ytie: int, ntie: int, dis: int) -> float:
    if xtie == tot or ytie == tot:
        return np.nan
    num = tot - xtie - ytie + ntie - 2 * dis
    tau = num / math.sqrt(tot - xtie) / math.sqrt(tot - ytie)
    return min(1.0, max(-1.0, tau))


@njit(cache=True)
def kendall_from_sorted(xr: np.ndarray, yr: np.ndarray) -> float:
    """tau-b of dense ranks already sorted by (x, y)."""
    n = xr.size
    xtie = 0
    ntie = 0
    run_x = 1
    run_xy = 1
    for i in range(1, n + 1):
        if i < n and xr[i] == xr[i - 1]:
            run_x += 1
        else:
            xtie += run_x * (run_x - 1) // 2
            run_x = 1
        if i < n and xr[i] == xr[i - 1] and yr[i] == yr[i - 1]:
            run_xy += 1
        else:
            ntie += run_xy * (run_xy - 1) // 2
            run_xy = 1
    cnt = np.zeros(yr.max() + 1 if n else 1, dtype=np.int64)
    for i in range(n):
        cnt[yr[i]] += 1
    ytie = 0
    for c in cnt:
        ytie += c * (c - 1) // 2
    return _tau_b(n * (n - 1) // 2, xtie, ytie, ntie, merge_inversions(yr))


@njit(cache=True, parallel=True)
def boot_pearson(idx: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson's r of each resample row of ``idx`` (nan if a resample is constant)."""
    nb, n = idx.shape
    out = np.empty(nb)
    for b in prange(nb):  # the resample is read through idx: no n-sized copy
        sx = 0.0
        sy = 0.0
        xdiff = 0
        ydiff = 0
        x0 = x[idx[b, 0]]
        y0 = y[idx[b, 0]]
        for j in range(n):
            xj = x[idx[b, j]]
            yj = y[idx[b, j]]
            sx += xj
            sy += yj
            xdiff += xj != x0
            ydiff += yj != y0
        if xdiff == 0 or ydiff == 0:
            out[b] = np.nan
            continue
        mx = sx / n
        my = sy / n
        xmax = 0.0  # deviations scaled by their largest magnitude, as scipy: no underflow
        ymax = 0.0
        for j in range(n):
            xmax = max(xmax, abs(x[idx[b, j]] - mx))
            ymax = max(ymax, abs(y[idx[b, j]] - my))
        sxx = 0.0
        syy = 0.0
        sxy = 0.0
        for j in range(n):
            dx = (x[idx[b, j]] - mx) / xmax
            dy = (y[idx[b, j]] - my) / ymax
            sxx += dx * dx
            syy += dy * dy
            sxy += dx * dy
        r = min(1.0, max(-1.0, sxy / math.sqrt(sxx) / math.sqrt(syy)))
        out[b] = round(r) if n == 2 else r  # exactly +-1 for two points, as scipy
    return out


@njit(cache=True, inline="always")
def _group_ranks(counts: np.ndarray, ranks: np.ndarray) -> int:
    """Average rank of each distinct value given its count; returns how many values occur."""
    cum = 0
    distinct = 0
    for g in range(counts.size):
        c = counts[g]
        distinct += c > 0
        ranks[g] = cum + (c + 1) / 2.0  # unused when c == 0 (weighted by 0)
        cum += c
    return distinct


@njit(cache=True, parallel=True)
def boot_spearman(idx: np.ndarray, xd: np.ndarray, yd: np.ndarray, mx: int, my: int) -> np.ndarray:
    """Spearman's rho of each resample from dense ranks ``xd`` < mx, ``yd`` < my.

    A resample's average rank of a value is the count of smaller values plus (count + 1) / 2,
    so ranks come from per-value counts without sorting.
    """
    nb, n = idx.shape
    out = np.empty(nb)
    mean = (n + 1) / 2.0
    for b in prange(nb):  # resamples on numba's threads, each with its own scratch
        w = np.zeros(n, dtype=np.int32)
        cx = np.zeros(mx, dtype=np.int64)
        cy = np.zeros(my, dtype=np.int64)
        rx = np.zeros(mx)
        ry = np.zeros(my)
        for j in range(n):
            w[idx[b, j]] += 1
        for i in range(n):  # branch-free: a zero count adds nothing
            cx[xd[i]] += w[i]
            cy[yd[i]] += w[i]
        if _group_ranks(cx, rx) < 2 or _group_ranks(cy, ry) < 2:
            out[b] = np.nan
            continue
        sxx = 0.0
        for g in range(mx):
            d = rx[g] - mean
            sxx += cx[g] * d * d
        syy = 0.0
        for g in range(my):
            d = ry[g] - mean
            syy += cy[g] * d * d
        sxy = 0.0
        for i in range(n):
            sxy += w[i] * (rx[xd[i]] - mean) * (ry[yd[i]] - mean)
        out[b] = min(1.0, max(-1.0, sxy / math.sqrt(sxx) / math.sqrt(syy)))
    return out


@njit(cache=True, parallel=True)
def boot_kendall(
    idx: np.ndarray, pos: np.ndarray, xr: np.ndarray, yr: np.ndarray, my: int
) -> np.ndarray:
    """Kendall's tau-b of each resample; ``pos`` maps an index to its place in (x, y) order."""
    nb, n = idx.shape
    out = np.empty(nb)
    for b in prange(nb):  # resamples on numba's threads, each with its own scratch
        w = np.zeros(n, dtype=np.int64)
        wy = np.zeros(my, dtype=np.int64)
        tree = np.zeros(my + 1, dtype=np.int64)
        for j in range(n):
            w[pos[idx[b, j]]] += 1
        xtie = 0
        ntie = 0
        run_x = 0
        run_xy = 0
        dis = 0
        seen = 0
        for i in range(n):
            wi = w[i]
            if i > 0 and xr[i] != xr[i - 1]:
                xtie += run_x * (run_x - 1) // 2
                run_x = 0
            if i > 0 and (xr[i] != xr[i - 1] or yr[i] != yr[i - 1]):
                ntie += run_xy * (run_xy - 1) // 2
                run_xy = 0
            if wi == 0:
                continue
            run_x += wi
            run_xy += wi
            yi = yr[i]
            wy[yi] += wi
            # weight already seen with a y rank <= yi (Fenwick prefix sum over ranks 0..yi)
            le = 0
            k = yi + 1
            while k > 0:
                le += tree[k]
                k -= k & (-k)
            dis += wi * (seen - le)
            k = yi + 1
            while k <= my:
                tree[k] += wi
                k += k & (-k)
            seen += wi
        xtie += run_x * (run_x - 1) // 2
        ntie += run_xy * (run_xy - 1) // 2
        ytie = 0
        for c in wy:
            ytie += c * (c - 1) // 2
        out[b] = _tau_b(n * (n - 1) // 2, xtie, ytie, ntie, dis)
    return out
