"""The maze problem: walls, start and goal, and its content hashes.

Coordinates follow both upstream conventions: a position is ``(x, y)`` with x the column and y the
row; ``walls[y, x]`` is True for a wall cell.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

import numpy as np

_PROBLEM_TAG = b"mazebench/problem/v1"
_LAYOUT_TAG = b"mazebench/layout/v1"


def pack_walls(walls: np.ndarray) -> bytes:
    """Row-major walls packed 8 cells a byte (numpy ``packbits``, big bit order)."""
    return np.packbits(np.ascontiguousarray(walls, dtype=np.bool_).ravel()).tobytes()


def unpack_walls(packed: bytes, height: int, width: int) -> np.ndarray:
    """Inverse of :func:`pack_walls`."""
    bits = np.unpackbits(np.frombuffer(packed, dtype=np.uint8), count=height * width)
    return bits.astype(np.bool_).reshape(height, width)


def layout_hash(walls: np.ndarray) -> str:
    """blake2b-128 over H, W and the packed walls (start and goal excluded)."""
    h, w = walls.shape
    digest = hashlib.blake2b(_LAYOUT_TAG, digest_size=16)
    digest.update(struct.pack("<II", h, w))
    digest.update(pack_walls(walls))
    return digest.hexdigest()


def problem_hash(walls: np.ndarray, start: tuple[int, int], goal: tuple[int, int]) -> str:
    """blake2b-128 over H, W, the packed walls, start and goal."""
    h, w = walls.shape
    digest = hashlib.blake2b(_PROBLEM_TAG, digest_size=16)
    digest.update(struct.pack("<IIiiii", h, w, start[0], start[1], goal[0], goal[1]))
    digest.update(pack_walls(walls))
    return digest.hexdigest()


@dataclass(frozen=True, eq=False)
class Problem:
    """A grid maze with a start and a goal.

    ``walls`` is an ``(H, W)`` boolean array (True = wall); ``start`` and ``goal`` are ``(x, y)``.
    Equality and hashing use :attr:`hash`, a blake2b content hash, never Python's ``hash()`` of
    the array.
    """

    walls: np.ndarray
    start: tuple[int, int]
    goal: tuple[int, int]

    def __post_init__(self) -> None:
        walls = np.ascontiguousarray(self.walls, dtype=np.bool_)
        if walls.ndim != 2 or walls.shape[0] < 1 or walls.shape[1] < 1:
            raise ValueError(f"walls must be a non-empty 2-D array, got shape {walls.shape}")
        if walls.shape[0] > 32767 or walls.shape[1] > 32767:
            raise ValueError(f"grid {walls.shape} too large: at most 32767 rows and columns")
        walls.setflags(write=False)
        object.__setattr__(self, "walls", walls)
        for name in ("start", "goal"):
            x, y = (int(v) for v in getattr(self, name))
            if not (0 <= x < walls.shape[1] and 0 <= y < walls.shape[0]):
                raise ValueError(
                    f"{name} ({x}, {y}) is off the {walls.shape[1]}x{walls.shape[0]} grid"
                )
            if walls[y, x]:
                raise ValueError(f"{name} ({x}, {y}) is a wall cell")
            object.__setattr__(self, name, (x, y))

    @property
    def height(self) -> int:
        return int(self.walls.shape[0])

    @property
    def width(self) -> int:
        return int(self.walls.shape[1])

    @property
    def hash(self) -> str:
        return problem_hash(self.walls, self.start, self.goal)

    @property
    def layout_hash(self) -> str:
        return layout_hash(self.walls)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Problem):
            return NotImplemented
        return (
            self.start == other.start
            and self.goal == other.goal
            and self.walls.shape == other.walls.shape
            and bool(np.array_equal(self.walls, other.walls))
        )

    def __hash__(self) -> int:
        return int(self.hash[:16], 16)

    def wall_cells(self) -> np.ndarray:
        """Wall cells as an ``(n, 2)`` array of ``(x, y)``, row by row."""
        ys, xs = np.nonzero(self.walls)
        return np.stack([xs, ys], axis=1)

    def to_json(self) -> dict:
        """The problem as the line format of ``mazebench solve``."""
        return {
            "width": self.width,
            "height": self.height,
            "walls": self.wall_cells().tolist(),
            "start": list(self.start),
            "goal": list(self.goal),
        }

    @classmethod
    def from_json(cls, obj: dict) -> Problem:
        """Build a problem from ``{"width", "height", "walls": [[x, y], ...], "start", "goal"}``."""
        try:
            width, height = int(obj["width"]), int(obj["height"])
            walls = np.zeros((height, width), dtype=np.bool_)
            cells = np.asarray(obj.get("walls", []), dtype=np.int64).reshape(-1, 2)
        except KeyError as exc:
            raise ValueError(f"problem is missing the key {exc.args[0]!r}") from None
        except (TypeError, ValueError):
            raise ValueError(
                "problem keys width/height/walls must be integers and [x, y] pairs"
            ) from None
        if width < 1 or height < 1:
            raise ValueError(f"width and height must be positive, got {width}x{height}")
        if len(cells):
            bad = (cells[:, 0] < 0) | (cells[:, 0] >= width) | (cells[:, 1] < 0)
            bad |= cells[:, 1] >= height
            if bad.any():
                x, y = cells[np.argmax(bad)]
                raise ValueError(f"wall ({x}, {y}) is off the {width}x{height} grid")
            walls[cells[:, 1], cells[:, 0]] = True
        try:
            start = tuple(int(v) for v in obj["start"])
            goal = tuple(int(v) for v in obj["goal"])
        except KeyError as exc:
            raise ValueError(f"problem is missing the key {exc.args[0]!r}") from None
        if len(start) != 2 or len(goal) != 2:
            raise ValueError("start and goal must be [x, y] pairs")
        return cls(walls, start, goal)
