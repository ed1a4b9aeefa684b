"""Length-vs-difficulty statistics against scipy and brute force (mazebench.evaluate.stats)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mazebench.evaluate import stats as S
from mazebench.evaluate.stats_kernels import merge_inversions

scipy_stats = pytest.importorskip("scipy.stats")

ELEMENTS = [
    st.integers(0, 2),  # heavy ties
    st.integers(-5, 5),
    st.integers(0, 10**6),
    st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False),
]


@st.composite
def paired(draw, min_size=0, max_size=60):
    n = draw(st.integers(min_size, max_size))
    ex, ey = draw(st.sampled_from(ELEMENTS)), draw(st.sampled_from(ELEMENTS))
    x = draw(st.lists(ex, min_size=n, max_size=n))
    y = draw(st.lists(ey, min_size=n, max_size=n))
    return np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)


def scipy_values(x, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = scipy_stats.pearsonr(x, y).statistic if x.size >= 2 else np.nan
        s = scipy_stats.spearmanr(x, y).statistic
        k = scipy_stats.kendalltau(x, y).statistic
    return float(p), float(s), float(k)


def assert_same(a, b, tol=1e-9):
    assert np.isnan(a) == np.isnan(b), (a, b)
    if not np.isnan(a):
        assert abs(a - b) <= tol, (a, b)


@settings(max_examples=400, deadline=None)
@given(paired())
def test_point_estimates_equal_scipy(xy):
    x, y = xy
    p, s, k = scipy_values(x, y)
    assert_same(S.pearson(x, y), p)
    assert_same(S.spearman(x, y), s)
    assert_same(S.kendall_tau_b(x, y), k)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), max_size=40))
def test_rank_average_equals_scipy(values):
    x = np.array(values, dtype=np.float64)
    np.testing.assert_array_equal(S.rank_average(x), scipy_stats.rankdata(x, method="average"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paired(min_size=2, max_size=40), st.integers(0, 2**32))
def test_bootstrap_replicates_equal_scipy_on_each_resample(xy, seed):
    x, y = xy
    n_boot = 6
    reps = S.bootstrap_replicates(x, y, n_boot=n_boot, seed=seed, label="prop")
    if any(np.isnan(v) for v in scipy_values(x, y)):
        assert all(np.isnan(reps[m]).all() for m in S.METHODS)  # undefined on the whole data
        return
    idx = np.concatenate(list(S.bootstrap_indices(x.size, n_boot, seed=seed, label="prop")))
    for b in range(n_boot):
        expected = scipy_values(x[idx[b]], y[idx[b]])
        for m, e in zip(S.METHODS, expected):
            assert_same(reps[m][b], e)


def test_kendall_large_n_with_ties_equals_scipy():
    rng = np.random.default_rng(5)
    x = rng.integers(0, 400, 30_000)
    y = x + rng.integers(0, 300, x.size)
    assert_same(S.kendall_tau_b(x, y), scipy_values(x, y)[2], 1e-12)
    assert_same(S.spearman(x, y), scipy_values(x, y)[1], 1e-12)


def test_merge_inversions_against_quadratic_count():
    rng = np.random.default_rng(2)
    for n in (0, 1, 2, 7, 64, 257):
        a = rng.integers(0, 5, n)
        brute = sum(int(a[i] > a[j]) for i in range(n) for j in range(i + 1, n))
        assert merge_inversions(a) == brute


def typical(n=400, seed=0):
    rng = np.random.default_rng(seed)
    gt = rng.integers(50, 3000, n)
    gen = np.round(gt * rng.lognormal(0.0, 0.3, n))
    return gen, gt


def test_ci_contains_estimate_and_is_reproducible():
    gen, gt = typical()
    a = S.correlations(gen, gt, n_boot=500, seed=7, label="test_wilson/tokens")
    b = S.correlations(gen, gt, n_boot=500, seed=7, label="test_wilson/tokens")
    assert a == b
    for m in S.METHODS:
        r = a[m]
        assert r["ci_low"] <= r["estimate"] <= r["ci_high"]
        assert r["ci_high"] - r["ci_low"] < 0.2
        assert r["n_boot_valid"] == 500 and r["n"] == gen.size
    c = S.correlations(gen, gt, n_boot=500, seed=7, label="other")
    assert c["pearson"]["ci_low"] != a["pearson"]["ci_low"]
    d = S.correlations(gen, gt, n_boot=500, seed=8, label="test_wilson/tokens")
    assert d["kendall"]["ci_low"] != a["kendall"]["ci_low"]
    one = S.correlation(gen, gt, "spearman", n_boot=500, seed=7, label="test_wilson/tokens")
    assert one == a["spearman"]


def test_bootstrap_indices_do_not_depend_on_chunking():
    whole = np.concatenate(list(S.bootstrap_indices(37, 11, seed=3, label="x", chunk=11)))
    parts = np.concatenate(list(S.bootstrap_indices(37, 11, seed=3, label="x", chunk=4)))
    np.testing.assert_array_equal(whole, parts)
    assert whole.shape == (11, 37) and whole.min() >= 0 and whole.max() < 37


def test_ci_level_widens_interval():
    gen, gt = typical(200, seed=3)
    narrow = S.correlation(gen, gt, "kendall", n_boot=400, confidence=0.5, label="w")
    wide = S.correlation(gen, gt, "kendall", n_boot=400, confidence=0.99, label="w")
    assert wide["ci_low"] < narrow["ci_low"] < narrow["ci_high"] < wide["ci_high"]


@pytest.mark.parametrize(
    "x, y",
    [
        ([], []),
        ([1.0], [2.0]),
        ([3, 3, 3, 3], [1, 2, 3, 4]),
        ([1, 2, 3, 4], [5, 5, 5, 5]),
        ([1, np.nan, 3], [1, 2, 3]),
    ],
)
def test_undefined_inputs_give_nan_without_raising(x, y):
    x, y = np.array(x, dtype=float), np.array(y, dtype=float)
    for f in (S.pearson, S.spearman, S.kendall_tau_b):
        assert np.isnan(f(x, y))
    res = S.correlations(x, y, n_boot=20)
    for m in S.METHODS:
        assert np.isnan(res[m]["estimate"]) and np.isnan(res[m]["ci_low"])
        assert res[m]["n_boot_valid"] == 0


def test_two_points_and_constant_resamples():
    res = S.correlations([1, 2], [3, 5], n_boot=200, label="two")
    assert res["pearson"]["estimate"] == 1.0 and res["kendall"]["estimate"] == 1.0
    # resamples of two points are constant half of the time: they are dropped, not errors
    assert 0 < res["pearson"]["n_boot_valid"] < 200
    assert res["pearson"]["ci_low"] == res["pearson"]["ci_high"] == 1.0


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match="same length"):
        S.pearson([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="unknown correlation method"):
        S.correlations([1, 2, 3], [1, 2, 3], ("pearson", "tau"))
    with pytest.raises(ValueError, match="confidence"):
        S.correlations([1, 2, 3], [1, 2, 3], confidence=1.5)


def test_length_ratio():
    gen = np.array([10, 0, 30, 7, 50])
    gt = np.array([5, 4, 10, 0, 25])
    r = S.length_ratio(gen, gt)
    ratios = [2.0, 0.0, 3.0, 2.0]
    assert r["mean"] == pytest.approx(np.mean(ratios))
    assert r["median"] == pytest.approx(2.0)
    assert r["ratio_of_means"] == pytest.approx((10 + 0 + 30 + 50) / (5 + 4 + 10 + 25))
    assert (r["n"], r["n_excluded"]) == (4, 1)
    assert np.isnan(S.length_ratio([], [])["mean"])
    with pytest.raises(ValueError):
        S.length_ratio([1, -1], [1, 1])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2600), st.booleans(), st.booleans()), max_size=80),
    st.sampled_from([1, 100, 500, 250.5]),
)
def test_binned_validity_against_loop(rows, width):
    gt = np.array([r[0] for r in rows], dtype=np.int64)
    pv = np.array([r[1] for r in rows], dtype=bool)
    tv = np.array([r[2] for r in rows], dtype=bool)
    table = S.binned_validity(gt, pv, tv, bin_width=width)
    groups: dict[int, list] = {}
    for g, p, t in rows:
        groups.setdefault(int(g // width), []).append((p, t))
    keys = sorted(groups)
    np.testing.assert_allclose(table["bin_low"], [k * width for k in keys])
    np.testing.assert_allclose(table["bin_high"], [(k + 1) * width for k in keys])
    for i, k in enumerate(keys):
        members = groups[k]
        n_p = sum(p for p, _ in members)
        n_both = sum(p and t for p, t in members)
        assert table["count"][i] == len(members)
        assert table["plan_valid_rate"][i] == pytest.approx(n_p / len(members))
        assert table["trace_valid_rate"][i] == pytest.approx(
            sum(t for _, t in members) / len(members))
        if n_p:
            assert table["trace_valid_given_plan_valid"][i] == pytest.approx(n_both / n_p)
        else:
            assert np.isnan(table["trace_valid_given_plan_valid"][i])


def test_binned_validity_rejects_bad_input():
    with pytest.raises(ValueError, match="bin_width"):
        S.binned_validity([1], [True], [True], bin_width=0)
    with pytest.raises(ValueError, match="non-negative"):
        S.binned_validity([-1], [True], [True])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 40), st.integers(0, 40)), max_size=30))
def test_swc_and_ilr_against_loop(rows):
    c = [r[0] for r in rows]
    a = [r[1] for r in rows]
    b = [r[2] for r in rows]
    swc_terms, ilr_terms = [], []
    for ci, l_model, l_ref in zip(c, a, b):
        m = max(l_model, l_ref)
        swc_terms.append((l_ref / m if m else 1.0) if ci else 0.0)
        ilr_terms.append(l_ref / l_model if ci and l_model > 0 else 0.0)
    if rows:
        assert S.swc(c, a, b) == pytest.approx(np.mean(swc_terms))
        assert S.ilr(c, a, b) == pytest.approx(np.mean(ilr_terms))
    else:
        assert np.isnan(S.swc(c, a, b)) and np.isnan(S.ilr(c, a, b))


def test_swc_ilr_examples():
    # optimal plan of 10, a correct plan of 12 and a failure: (10/12 + 10/10 + 0) / 3
    assert S.swc([1, 1, 0], [12, 10, 10], [10, 10, 10]) == pytest.approx((10 / 12 + 1) / 3)
    # trace half as long as A*'s counts 2; an empty trace counts 0
    assert S.ilr([1, 1], [50, 0], [100, 100]) == pytest.approx(1.0)


def test_validity_table():
    pv = np.array([1, 1, 0, 0, 1, 0], dtype=bool)
    tv = np.array([1, 0, 1, 0, 1, 0], dtype=bool)
    t = S.validity_table(pv, tv)
    np.testing.assert_array_equal(t["counts"], [[2, 1], [1, 2]])
    assert t["n"] == 6 and t["rows"][0] == "plan_valid" and t["cols"][1] == "trace_invalid"


def test_first_error_histogram():
    from mazebench.evaluate.parse import ERROR_KINDS

    h = S.first_error_histogram(np.array([-1, 0, 0, 5, -1, -1]))
    assert list(h)[: len(ERROR_KINDS) + 1] == ["none", *ERROR_KINDS]
    assert h["none"] == 3 and h[ERROR_KINDS[0]] == 2 and h[ERROR_KINDS[5]] == 1
    assert sum(h.values()) == 6
    h2 = S.first_error_histogram([None, "wall", "wall", "", "mystery"], kinds=("wall", "other"))
    assert h2 == {"none": 2, "wall": 2, "other": 0, "mystery": 1}
    with pytest.raises(ValueError, match="out of range"):
        S.first_error_histogram(np.array([99]), kinds=("a",))
