"""Execution engines for dataset tasks: inline, local processes, Ray.

The builder submits pure tasks (:mod:`mazebench.datasets.tasks`: scan a window of candidates,
write a shard) and consumes their results in submission order, so the output is the same bytes
whatever the engine or the number of workers. ``ray`` is an optional dependency
(``pip install 'mazebench[ray]'``): shards and candidate windows become Ray tasks; a running Ray
instance (``ray.init(...)`` done by the caller, or ``RAY_ADDRESS``) is used as is, otherwise a
local one is started with ``workers`` CPUs and shut down at the end.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

ENGINES = ("local", "ray")


class InlineEngine:
    """Runs each task when it is submitted (one process, no lookahead)."""

    parallelism = 1

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(arg))
        except BaseException as exc:  # noqa: BLE001 - re-raised by result()
            future.set_exception(exc)
        return future

    def result(self, handle: Future) -> Any:
        return handle.result()

    def close(self) -> None:
        pass


def tune_malloc() -> None:
    """Tune a worker process's glibc allocator for many same-sized batches (measured on the
    ``default`` suite).

    glibc serves allocations above 128 kB-32 MB with fresh ``mmap`` pages and unmaps them on
    free, so every block's arrays were page-faulted and zeroed anew: about 240,000 faults and a
    second of system time per 340,000 examples. Fixed thresholds keep them in the heap.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # not glibc
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 1 << 30)
    mallopt(m_trim_threshold, 1 << 30)


def _run_in_worker(fn: Callable[[Any], Any], arg: Any) -> Any:
    """Run one task with the cycle collector paused, then freeze what survived it.

    A task makes a few objects per example and no cycles, but each collection walked the whole
    heap of numba dispatchers and types loaded by the first task: 2-3% of a build's CPU. Frozen
    objects are never scanned again (this is a worker process, so nothing else is affected).
    """
    gc.disable()
    try:
        return fn(arg)
    finally:
        gc.enable()
        gc.freeze()


class ProcessEngine:
    """A pool of local worker processes (``concurrent.futures``).

    ``warm_up`` runs in this process before the workers start; where they are forked (Linux) they
    inherit what it loaded. The builder passes a call that initialises numba and loads the
    generation kernels: numba's first call costs about 0.5 s per process, which every worker
    and then the parent (for its decisions) paid anew while the workers were generating.
    """

    def __init__(self, workers: int, warm_up: Callable[[], Any] | None = None) -> None:
        import multiprocessing

        self.parallelism = workers
        context = multiprocessing.get_context()
        if warm_up is not None and context.get_start_method() == "fork":
            warm_up()
        self.pool = ProcessPoolExecutor(max_workers=workers, initializer=tune_malloc,
                                        mp_context=context)

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> Future:
        return self.pool.submit(_run_in_worker, fn, arg)

    def result(self, handle: Future) -> Any:
        return handle.result()

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


class RayEngine:
    """Tasks as Ray remote functions (one CPU each)."""

    def __init__(self, workers: int) -> None:
        try:
            import ray
        except ImportError:
            raise ValueError(
                "--engine ray needs Ray: pip install 'mazebench[ray]'"
            ) from None
        self.ray = ray
        self.started = False
        if not ray.is_initialized():
            ray.init(
                num_cpus=workers if workers > 1 else None,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
            self.started = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.parallelism = max(1, cpus)
        self._remote: dict[Callable, Any] = {}

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> Any:
        remote = self._remote.get(fn)
        if remote is None:
            remote = self._remote[fn] = self.ray.remote(num_cpus=1, max_retries=2)(fn)
        return remote.remote(arg)

    def result(self, handle: Any) -> Any:
        return self.ray.get(handle)

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()


def make_engine(engine: str = "local", workers: int = 1,
                warm_up: Callable[[], Any] | None = None):
    """The engine called ``engine`` (``local`` with ``workers`` processes, or ``ray``);
    ``warm_up`` is run before forking local worker processes (see :class:`ProcessEngine`)."""
    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    if engine == "local":
        return InlineEngine() if workers == 1 else ProcessEngine(workers, warm_up)
    if engine == "ray":
        return RayEngine(workers)
    raise ValueError(f"unknown engine {engine!r} (allowed: {', '.join(ENGINES)})")
