"""Example-maze pictures for the dataset card: one small PNG per split.

Each picture shows the first rows of a split side by side: walls black, floor white, cells closed
by the ground-truth search shaded from dark (early) to light (late) along the viridis colour map,
the plan red, the start green and the goal blue. Pictures are composed as pixel arrays (no
figure layout), so a card costs milliseconds per split.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..render import closed_order
from .load import example_from_row
from .parquet_format import open_shard

START = (0.1, 0.75, 0.2)
GOAL = (0.15, 0.35, 0.95)
PLAN = (0.85, 0.1, 0.15)


def maze_pixels(example, cell: int) -> np.ndarray:
    """An ``(H * cell, W * cell, 3)`` float image of one example (see module doc)."""
    from matplotlib import colormaps

    problem = example.problem
    h, w = problem.walls.shape
    image = np.ones((h, w, 3))
    order = closed_order(problem, example.trace)
    seen = order >= 0
    if seen.any():
        shade = colormaps["viridis"](order[seen] / max(1, order.max()))[:, :3]
        image[seen] = 0.45 + 0.55 * shade
    image[problem.walls] = 0.0
    for x, y in zip(example.plan.x.tolist(), example.plan.y.tolist()):
        image[y, x] = PLAN
    (sx, sy), (gx, gy) = problem.start, problem.goal
    image[sy, sx] = START
    image[gy, gx] = GOAL
    return np.repeat(np.repeat(image, cell, axis=0), cell, axis=1)


def examples_grid(examples: list, *, columns: int = 4, cell: int | None = None) -> np.ndarray:
    """Examples side by side (``columns`` per row) on a grey background, as a float image."""
    if not examples:
        raise ValueError("examples_grid needs at least one example")
    h = max(e.problem.height for e in examples)
    w = max(e.problem.width for e in examples)
    if cell is None:
        cell = max(1, min(6, 160 // max(h, w)))
    gap = max(2, cell)
    rows = -(-len(examples) // columns)
    cols = min(columns, len(examples))
    canvas = np.full((rows * (h * cell + gap) + gap, cols * (w * cell + gap) + gap, 3), 0.82)
    for k, example in enumerate(examples):
        r, c = divmod(k, columns)
        tile = maze_pixels(example, cell)
        y0 = gap + r * (h * cell + gap)
        x0 = gap + c * (w * cell + gap)
        canvas[y0 : y0 + tile.shape[0], x0 : x0 + tile.shape[1]] = tile
    return canvas


def save_png(path: str | Path, image: np.ndarray) -> None:
    """Write a float RGB image as PNG (no timestamp or software metadata)."""
    from matplotlib.image import imsave

    imsave(str(path), np.clip(image, 0.0, 1.0), metadata={"Software": None})


def write_split_image(out: Path, split: str, shard: Path, *, per_split: int = 4) -> str | None:
    """Write ``images/<split>.png`` from the first rows of ``shard``; returns its path relative
    to ``out``, or None when the shard is empty or matplotlib is not installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return None
    batch = next(open_shard(shard).iter_batches(batch_size=per_split), None)
    if batch is None or batch.num_rows == 0:
        return None
    rows = batch.slice(0, per_split).to_pylist()
    folder = Path(out) / "images"
    folder.mkdir(exist_ok=True)
    save_png(folder / f"{split}.png", examples_grid([example_from_row(r) for r in rows]))
    return f"images/{split}.png"


def write_split_images(out: Path, manifest: dict, *, per_split: int = 4) -> dict[str, str]:
    """Write ``images/<split>.png`` for every split; returns ``{split: relative path}``
    (``{}`` when matplotlib is not installed: the card then has no pictures)."""
    written: dict[str, str] = {}
    for name, info in manifest["splits"].items():
        if not info["shards"]:
            continue
        rel = write_split_image(out, name, out / info["shards"][0]["path"], per_split=per_split)
        if rel is not None:
            written[name] = rel
    return written
