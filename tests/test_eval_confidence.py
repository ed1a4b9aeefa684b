"""DeepConf confidence (mazebench.evaluate.confidence) against brute-force re-implementations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mazebench.evaluate import confidence as C

# ---- independent brute force (plain Python / numpy, one sample at a time) -------------------


def brute_windows(values: list[float], window: int) -> list[float]:
    """DeepConf's compute_least_grouped, with nan tokens left out of each mean."""
    if not values:
        return []
    w = min(window, len(values))
    out = []
    for j in range(len(values) - w + 1):
        chunk = [v for v in values[j : j + w] if not np.isnan(v)]
        if chunk:
            out.append(sum(chunk) / len(chunk))
    return out


def brute_event_units(values, events) -> list[list[float]]:
    """Tokens grouped by event id 0..max (empty events allowed, negative ids dropped)."""
    top = max([e for e in events if e >= 0], default=-1)
    units: list[list[float]] = [[] for _ in range(top + 1)]
    for v, e in zip(values, events):
        if e >= 0 and not np.isnan(v):
            units[e].append(v)
    return units


def brute_event_windows(units: list[list[float]], window: int) -> list[float]:
    if not units:
        return []
    w = min(window, len(units))
    out = []
    for j in range(len(units) - w + 1):
        toks = [v for u in units[j : j + w] for v in u]
        if toks:
            out.append(sum(toks) / len(toks))
    return out


def brute_summary(windows: list[float], tail_tokens: list[float], all_tokens: list[float]):
    nan = float("nan")
    if not windows:
        return nan, nan, nan, nan
    nb = max(1, int(len(windows) * 0.1))
    tail = [v for v in tail_tokens if not np.isnan(v)]
    toks = [v for v in all_tokens if not np.isnan(v)]
    return (min(windows), float(np.mean(sorted(windows)[:nb])),
            sum(tail) / len(tail) if tail else nan, sum(toks) / len(toks))


def close(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True)


# ---- strategies --------------------------------------------------------------------------

CONF = st.one_of(st.integers(0, 4).map(lambda v: v / 2.0),  # heavy ties
                 st.floats(0, 20, allow_nan=False), st.just(float("nan")))


@st.composite
def samples(draw, max_samples=8, max_len=40):
    lens = draw(st.lists(st.integers(0, max_len), min_size=1, max_size=max_samples))
    values = [draw(st.lists(CONF, min_size=n, max_size=n)) for n in lens]
    return values


def flat(values):
    conf = np.array([v for s in values for v in s], dtype=np.float64)
    off = np.concatenate(([0], np.cumsum([len(s) for s in values]))).astype(np.int64)
    return conf, off


# ---- tests -------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 30), st.integers(1, 25), st.integers(0, 2**31), st.sampled_from([None, 1, 5]))
def test_token_confidence_against_numpy(t, k_cols, seed, k):
    rng = np.random.default_rng(seed)
    lp = -rng.exponential(2.0, (t, k_cols))
    lp[rng.random((t, k_cols)) < 0.2] = np.nan  # fewer candidates on some rows
    got = C.token_confidence(lp, k=k)
    for i in range(t):
        row = lp[i][np.isfinite(lp[i])]
        if row.size == 0:
            assert np.isnan(got[i])
            continue
        if k is not None and row.size > k:
            row = np.sort(row)[::-1][:k]
        close(got[i], -row.mean())


def test_token_confidence_definition():
    lp = np.log(np.array([[0.5, 0.25, 0.25], [1.0, np.nan, np.nan]]))
    np.testing.assert_allclose(C.token_confidence(lp), [-np.log([0.5, 0.25, 0.25]).mean(), 0.0])
    with pytest.raises(ValueError, match="2-d"):
        C.token_confidence(np.zeros(4))


@settings(max_examples=150, deadline=None)
@given(samples(), st.integers(1, 12), st.integers(1, 12))
def test_sample_confidence_tokens_against_brute(values, window, tail):
    conf, off = flat(values)
    got = C.sample_confidence(conf, off, window=window, tail=tail)
    for s, vals in enumerate(values):
        wins = brute_windows(vals, window)
        exp = brute_summary(wins, vals[-tail:] if vals else [], vals)
        close([got["lowest_group"][s], got["bottom_group"][s], got["tail"][s],
               got["average"][s]], exp)
        assert got["n_windows"][s] == len(wins)
    vals, woff = C.group_confidence(conf, off, window=window)
    for s, v in enumerate(values):
        exp = [np.nan if not np.isfinite(x) else x for x in _all_windows(v, window)]
        close(vals[woff[s] : woff[s + 1]], exp)


def _all_windows(values, window):
    """Every window mean including nan for windows without a token."""
    if not values:
        return []
    w = min(window, len(values))
    out = []
    for j in range(len(values) - w + 1):
        chunk = [v for v in values[j : j + w] if not np.isnan(v)]
        out.append(sum(chunk) / len(chunk) if chunk else np.nan)
    return out


@settings(max_examples=150, deadline=None)
@given(samples(), st.integers(1, 6), st.integers(0, 2**31))
def test_sample_confidence_events_against_brute(values, window, seed):
    rng = np.random.default_rng(seed)
    events = []
    for v in values:  # nondecreasing event ids with gaps and a few tokens outside events
        ids = np.sort(rng.integers(0, max(1, len(v) // 2 + 1), len(v)))
        ids[rng.random(len(v)) < 0.15] = -1
        events.append(ids.tolist())
    conf, off = flat(values)
    ev = np.array([e for s in events for e in s], dtype=np.int64)
    got = C.sample_confidence(conf, off, window=window, event_index=ev)
    for s, (vals, evs) in enumerate(zip(values, events)):
        units = brute_event_units(vals, evs)
        wins = brute_event_windows(units, window)
        tail_tokens = [v for u in units[-window:] for v in u] if units else []
        all_tokens = [v for u in units for v in u]
        exp = brute_summary(wins, tail_tokens, all_tokens)
        close([got["lowest_group"][s], got["bottom_group"][s], got["tail"][s],
               got["average"][s]], exp)


def test_long_sample_default_window_and_bottom_ten_percent():
    rng = np.random.default_rng(0)
    v = rng.uniform(0, 10, 5000)
    got = C.sample_confidence(v, [0, v.size])
    means = np.convolve(v, np.ones(2048) / 2048, mode="valid")
    assert got["n_windows"][0] == means.size == 5000 - 2048 + 1
    close(got["lowest_group"][0], means.min())
    close(got["bottom_group"][0], np.sort(means)[: int(means.size * 0.1)].mean())
    close(got["tail"][0], v[-2048:].mean())
    close(got["average"][0], v.mean())


def test_bad_layout_raises():
    with pytest.raises(ValueError, match="offsets"):
        C.sample_confidence(np.ones(5), [0, 3])
    with pytest.raises(ValueError, match="window"):
        C.sample_confidence(np.ones(5), [0, 5], window=0)
    with pytest.raises(ValueError, match="event_index"):
        C.sample_confidence(np.ones(5), [0, 5], event_index=np.zeros(3))


# ---- offline filtering and voting ------------------------------------------------------------


@st.composite
def votes(draw, max_n=60):
    n = draw(st.integers(0, max_n))
    problem = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    answer = draw(st.lists(st.integers(-1, 3), min_size=n, max_size=n))
    score = draw(st.lists(st.one_of(st.integers(1, 4).map(float), st.floats(0.5, 9),
                                    st.just(float("nan"))), min_size=n, max_size=n))
    return np.array(problem), np.array(answer, dtype=np.int64), np.array(score)


def brute_filter(problem, answer, score, eta):
    keep = np.zeros(len(problem), dtype=bool)
    for p in set(problem.tolist()):
        members = [i for i in range(len(problem))
                   if problem[i] == p and answer[i] >= 0 and np.isfinite(score[i])]
        if not members:
            continue
        thr = np.percentile([score[i] for i in members], 100 - eta)
        for i in members:
            keep[i] = score[i] >= thr
    return keep


def brute_vote(problem, answer, weight, keep):
    """DeepConf's weighted_majority_vote per problem (dict in order of first appearance)."""
    out = {}
    for p in sorted(set(problem.tolist())):
        totals: dict[int, float] = {}
        for i in range(len(problem)):
            if problem[i] == p and keep[i] and answer[i] >= 0 and np.isfinite(weight[i]):
                totals[int(answer[i])] = totals.get(int(answer[i]), 0.0) + float(weight[i])
        out[p] = max(totals, key=lambda a: totals[a]) if totals else -1
    return out


@settings(max_examples=200, deadline=None)
@given(votes(), st.sampled_from([10, 90, 50, 100]))
def test_offline_filter_against_brute(data, eta):
    problem, answer, score = data
    got = C.offline_filter(score, problem, eta=eta, answer=answer)
    np.testing.assert_array_equal(got, brute_filter(problem, answer, score, eta))


@settings(max_examples=200, deadline=None)
@given(votes(), st.booleans())
def test_weighted_vote_against_brute(data, weighted):
    problem, answer, score = data
    keep = np.ones(problem.size, dtype=bool)
    weight = score if weighted else np.ones(problem.size)
    got = C.weighted_vote(problem, answer, weight if weighted else None)
    exp = brute_vote(problem, answer, weight, keep)
    assert got["problem"].tolist() == sorted(exp)
    assert got["answer"].tolist() == [exp[p] for p in sorted(exp)]
    for p_code, s in enumerate(got["sample"]):
        if s >= 0:
            assert answer[s] == got["answer"][p_code]
            first = [i for i in range(problem.size) if problem[i] == got["problem"][p_code]
                     and answer[i] == answer[s] and np.isfinite(weight[i])]
            assert s == first[0]


@settings(max_examples=100, deadline=None)
@given(votes())
def test_selection_accuracy_against_brute(data):
    problem, answer, score = data
    correct = answer == 1
    got = C.selection_accuracy(problem, answer, correct, {"c": score}, etas=(10, 90))
    probs = sorted(set(problem.tolist()))
    if not probs:
        assert np.isnan(got["majority"]["accuracy"])
        return
    ones = np.ones(problem.size)
    every = np.ones(problem.size, dtype=bool)
    rules = {"majority": brute_vote(problem, answer, ones, every),
             "weighted_c": brute_vote(problem, answer, score, every)}
    for eta in (10, 90):
        rules[f"top{eta}_c"] = brute_vote(problem, answer, score,
                                          brute_filter(problem, answer, score, eta))
    for name, chosen in rules.items():
        acc = np.mean([chosen[p] == 1 for p in probs])
        assert got[name]["accuracy"] == pytest.approx(acc), name
    oracle = np.mean([any(correct[problem == p]) for p in probs])
    assert got["any_correct"]["accuracy"] == pytest.approx(oracle)


def test_factorize_plans():
    plans = ["0 0 1 0", None, (1, 2), "0 0 1 0", [[1, 2]], np.array([1, 2]), (1, 2)]
    codes = C.factorize(plans)
    assert codes[0] == codes[3] and codes[1] == -1 and codes[2] == codes[6]
    assert len({codes[0], codes[2], codes[4], codes[5]}) == 4


# ---- online early stopping -----------------------------------------------------------------


def brute_online(values, problem, eta, window, n_warmup):
    """Stream tokens one at a time; stop as soon as the last full window's mean < threshold."""
    n = len(values)
    lowest = [min(w) if (w := brute_windows(v, window)) else np.nan for v in values]
    seen: dict[int, int] = {}
    warm = []
    for p in problem:
        warm.append(seen.get(p, 0) < n_warmup)
        seen[p] = seen.get(p, 0) + 1
    thr = {}
    for p in set(problem):
        pool = [lowest[i] for i in range(n) if problem[i] == p and warm[i]
                and np.isfinite(lowest[i])]
        thr[p] = np.percentile(pool, 100 - eta) if pool else np.nan
    stops, stopped, tie = [], [], []
    for i, v in enumerate(values):
        t_i = thr[problem[i]]
        stop, hit, near = len(v), False, False
        if not warm[i] and np.isfinite(t_i):
            for t in range(1, len(v) + 1):
                if t < min(window, len(v)):
                    continue
                chunk = [x for x in v[t - min(window, len(v)) : t] if not np.isnan(x)]
                if not chunk:
                    continue
                mean = sum(chunk) / len(chunk)
                near = near or abs(mean - t_i) <= 1e-9 * max(1.0, abs(t_i))
                if mean < t_i:
                    stop, hit = t, True
                    break
        stops.append(stop)
        stopped.append(hit)
        tie.append(near)  # a window equal to the threshold up to rounding: either side is right
    return [thr[p] for p in problem], warm, stops, stopped, lowest, tie


@settings(max_examples=150, deadline=None)
@given(samples(max_samples=14, max_len=30), st.integers(0, 2**31), st.sampled_from([10, 90]),
       st.integers(1, 8), st.integers(1, 5))
def test_online_early_stop_against_brute(values, seed, eta, window, n_warmup):
    rng = np.random.default_rng(seed)
    problem = rng.integers(0, 3, len(values)).tolist()
    conf, off = flat(values)
    got = C.online_early_stop(conf, off, np.array(problem), eta=eta, window=window,
                              n_warmup=n_warmup)
    thr, warm, stops, stopped, lowest, tie = brute_online(values, problem, eta, window,
                                                          n_warmup)
    close(got["threshold"], thr)
    np.testing.assert_array_equal(got["warmup"], warm)
    close(got["lowest_group"], lowest)
    sure = ~np.array(tie, dtype=bool)
    np.testing.assert_array_equal(got["stop"][sure], np.array(stops)[sure])
    np.testing.assert_array_equal(got["stopped"][sure], np.array(stopped, dtype=bool)[sure])
    # a later sample stops iff its lowest group confidence is below the threshold (DeepConf's
    # offline replay of the online rule), computed from the same window means
    later = ~got["warmup"] & np.isfinite(got["threshold"])
    np.testing.assert_array_equal(got["stopped"][later],
                                  (got["lowest_group"] < got["threshold"])[later])
    with np.errstate(invalid="ignore"):
        exp_keep = np.where(got["warmup"], got["lowest_group"] >= got["threshold"],
                            ~got["stopped"])
    np.testing.assert_array_equal(got["keep"], exp_keep)


def test_online_threshold_is_percentile_of_sixteen_warmups():
    rng = np.random.default_rng(4)
    lens = [300] * 40
    conf = rng.uniform(0, 1, sum(lens)) + np.repeat(rng.uniform(0, 3, 40), 300)
    off = np.concatenate(([0], np.cumsum(lens)))
    res = C.online_early_stop(conf, off, np.zeros(40, dtype=int), eta=10, window=64)
    lowest = C.sample_confidence(conf, off, window=64)["lowest_group"]
    assert res["warmup"].sum() == 16 and res["warmup"][:16].all()
    close(res["threshold"][0], np.percentile(lowest[:16], 90))
    assert (res["stop"][res["stopped"]] < 300).all() and res["stopped"].any()
