"""Execution engines for dataset tasks: inline, local processes, Ray.

The builder submits pure tasks (:mod:`mazebench.datasets.tasks`: scan a window of candidates,
write a shard) and consumes their results in submission order, so the output is the same bytes
whatever the engine or the number of workers. ``ray`` is an optional dependency
(``pip install 'mazebench[ray]'``): shards and candidate windows become Ray tasks; a running Ray
instance (``ray.init(...)`` done by the caller, or ``RAY_ADDRESS``) is used as is, otherwise a
local one is started with ``workers`` CPUs and shut down at the end.
"""

from __future__ import annotations

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


class ProcessEngine:
    """A pool of local worker processes (``concurrent.futures``)."""

    def __init__(self, workers: int) -> None:
        self.parallelism = workers
        self.pool = ProcessPoolExecutor(max_workers=workers)

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> Future:
        return self.pool.submit(fn, arg)

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


def make_engine(engine: str = "local", workers: int = 1):
    """The engine called ``engine`` (``local`` with ``workers`` processes, or ``ray``)."""
    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    if engine == "local":
        return InlineEngine() if workers == 1 else ProcessEngine(workers)
    if engine == "ray":
        return RayEngine(workers)
    raise ValueError(f"unknown engine {engine!r} (allowed: {', '.join(ENGINES)})")
