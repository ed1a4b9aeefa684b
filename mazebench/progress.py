"""One progress bar for every long command: a tqdm bar on stderr, or nothing at all.

Commands build their bar with ``enabled`` from the command line (``--progress`` /
``--no-progress``, or whether stderr is a terminal), so library calls stay silent and the
code paths that report progress do not branch on whether a bar exists.
"""

from __future__ import annotations

import sys


class Progress:
    """``update(n)`` and ``close()`` on a tqdm bar when ``enabled``, no-ops otherwise."""

    def __init__(self, total: int | None = None, desc: str | None = None, *,
                 enabled: bool = True, unit: str = "ex") -> None:
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit=unit, leave=False, file=sys.stderr,
                            dynamic_ncols=True)

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
