"""ordered_map: results in input order, bounded look-ahead, errors surface."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mazebench.ordered import ordered_map


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 3), max_size=40), st.integers(1, 4), st.integers(1, 6))
def test_results_come_in_input_order(delays, workers, ahead):
    def slow(item):
        index, delay = item
        time.sleep(delay / 2000)
        return index * 10

    got = list(ordered_map(slow, enumerate(delays), workers, ahead))
    assert got == [10 * i for i in range(len(delays))]


def test_no_more_than_ahead_items_are_taken_before_a_result_is_used():
    taken = []
    lock = threading.Lock()

    def source():
        for i in range(100):
            with lock:
                taken.append(i)
            yield i

    results = ordered_map(lambda i: i, source(), workers=2, ahead=3)
    assert next(results) == 0
    assert len(taken) <= 3
    assert list(results) == list(range(1, 100))


def test_an_error_in_the_work_surfaces_in_order():
    def work(i):
        if i == 5:
            raise ValueError("row 5 is bad")
        return i

    seen = []
    with pytest.raises(ValueError, match="row 5 is bad"):
        for value in ordered_map(work, range(20), workers=2):
            seen.append(value)
    assert seen == [0, 1, 2, 3, 4]
