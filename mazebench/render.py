"""Pictures of a maze with its plan and its search: ASCII for the terminal, PNG with matplotlib."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .problem import Problem


def closed_order(problem: Problem, trace) -> np.ndarray:
    """(H, W) int array: the order in which each cell was first closed, -1 if never."""
    order = np.full(problem.walls.shape, -1, dtype=np.int64)
    k = 0
    for op, x, y in zip(trace.op.tolist(), trace.x.tolist(), trace.y.tolist()):
        if op == 1 and 0 <= y < order.shape[0] and 0 <= x < order.shape[1] and order[y, x] < 0:
            order[y, x] = k
            k += 1
    return order


def ascii_maze(problem: Problem, trace=None, plan=None) -> str:
    """``#`` wall, ``S``/``G`` start/goal, ``*`` plan, ``.`` closed by the search, space floor."""
    chars = np.where(problem.walls, "#", " ").astype("<U1")
    if trace is not None:
        chars[closed_order(problem, trace) >= 0] = "."
    if plan is not None:
        for x, y in zip(plan.x.tolist(), plan.y.tolist()):
            if 0 <= y < chars.shape[0] and 0 <= x < chars.shape[1]:
                chars[y, x] = "*"
    (sx, sy), (gx, gy) = problem.start, problem.goal
    chars[sy, sx] = "S"
    chars[gy, gx] = "G"
    border = "+" + "-" * problem.width + "+"
    rows = ["|" + "".join(r) + "|" for r in chars]
    return "\n".join([border, *rows, border])


def png_maze(path: str | Path, problem: Problem, trace=None, plan=None, title: str = "") -> None:
    """Save a PNG: walls black, closed cells coloured by expansion order, plan, start, goal."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ValueError("PNG output needs matplotlib: pip install 'mazebench[plot]'") from None
    h, w = problem.walls.shape
    fig, ax = plt.subplots(figsize=(max(3.0, w / 6), max(3.0, h / 6)), dpi=100)
    image = np.ones((h, w, 3))
    image[problem.walls] = 0.0
    if trace is not None:
        order = closed_order(problem, trace)
        seen = order >= 0
        if seen.any():
            cmap = plt.get_cmap("viridis")
            colours = cmap(order[seen] / max(1, order.max()))[:, :3]
            image[seen] = 0.55 + 0.45 * colours
    ax.imshow(image, interpolation="nearest")
    if plan is not None and len(plan):
        ax.plot(plan.x, plan.y, color="crimson", linewidth=1.8)
    (sx, sy), (gx, gy) = problem.start, problem.goal
    ax.scatter([sx], [sy], c="limegreen", s=40, marker="o", zorder=3, label="start")
    ax.scatter([gx], [gy], c="red", s=50, marker="*", zorder=3, label="goal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
