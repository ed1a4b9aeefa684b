"""Map a function over a stream on threads, results in input order, memory bounded.

``ThreadPoolExecutor.map`` submits the whole input at once, so a stream of a split's record
batches would be read (and its results held) in full before the first one is written. Here at
most ``ahead`` items are in flight. The work must release the GIL to run in parallel: numba
kernels compiled ``nogil=True``, Arrow/Parquet and hashlib do.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int,
                ahead: int | None = None) -> Iterator[R]:
    """``fn(item)`` for every item, in order, on ``workers`` threads (``workers <= 1``: in the
    calling thread); at most ``ahead`` (default ``2 * workers``) items are in flight."""
    if workers <= 1:
        yield from map(fn, items)
        return
    limit = max(1, ahead if ahead is not None else 2 * workers)
    pending: deque[Future] = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="mazebench-map") as pool:
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) >= limit:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
