"""Which rows of a split each distributed rank and data-loader worker reads, epoch by epoch.

A split is a list of shards (one Parquet row group each). Every epoch fixes one *virtual order*
of all its rows: with shuffling, the shards in a seeded random order and, inside each shard,
blocks of ``block_rows`` rows in a seeded random order (seeds derived from ``(seed, epoch)``
with :class:`numpy.random.SeedSequence`); without, the split's own order. Rank ``r`` of ``R``
takes the contiguous virtual range ``[r * N // R, (r + 1) * N // R)`` (sizes differ by at most
one row), and worker ``w`` of ``K`` the same share of its rank's range, so every row of the
epoch is read by exactly one (rank, worker): none repeated, none skipped. ``drop_remainder``
gives every rank ``N // R`` rows (equal step counts for DDP) and leaves out the last
``N mod R`` rows of the virtual order (different rows each epoch when shuffling).

Because a shard's blocks stay together in the virtual order, a consumer meets each shard in one
contiguous run and reads it once: memory is one shard plus the shuffle buffer, whatever the
split size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHUFFLE_TAG = 0x6D617A65  # "maze": separates the epoch-order stream from other seeded streams


@dataclass(frozen=True)
class Segment:
    """Rows ``lo .. hi-1`` of shard ``shard`` (positions within the shard); ``first`` is the
    position of row ``lo`` in the split (0-based, shards concatenated in split order)."""

    shard: int
    lo: int
    hi: int
    first: int

    def __len__(self) -> int:
        return self.hi - self.lo


def epoch_rng(seed: int, epoch: int, *labels: int) -> np.random.Generator:
    """The generator of one epoch (and optional labels such as rank and worker)."""
    return np.random.default_rng(
        np.random.SeedSequence([int(seed), SHUFFLE_TAG, int(epoch), *map(int, labels)])
    )


def virtual_blocks(shard_rows, *, seed: int, epoch: int, shuffle: bool, block_rows: int
                   ) -> np.ndarray:
    """``(n_blocks, 3)`` array of ``(shard, lo, hi)`` blocks in the epoch's virtual order."""
    if block_rows < 1:
        raise ValueError(f"block_rows = {block_rows} must be at least 1")
    rows = np.asarray(shard_rows, dtype=np.int64)
    order = np.arange(rows.shape[0])
    rng = epoch_rng(seed, epoch) if shuffle else None
    if rng is not None:
        order = rng.permutation(rows.shape[0])
    parts = []
    for s in order.tolist():
        starts = np.arange(0, int(rows[s]), block_rows, dtype=np.int64)
        if rng is not None and starts.shape[0] > 1:
            starts = starts[rng.permutation(starts.shape[0])]
        block = np.empty((starts.shape[0], 3), dtype=np.int64)
        block[:, 0] = s
        block[:, 1] = starts
        block[:, 2] = np.minimum(starts + block_rows, rows[s])
        parts.append(block)
    return np.concatenate(parts) if parts else np.zeros((0, 3), dtype=np.int64)


def share(lo: int, hi: int, part: int, parts: int) -> tuple[int, int]:
    """The ``part``-th of ``parts`` balanced contiguous pieces of ``[lo, hi)``."""
    n = hi - lo
    return lo + part * n // parts, lo + (part + 1) * n // parts


def check_rank(rank: int, world_size: int, what: str = "rank") -> None:
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"{what} {rank} of {world_size}: need 0 <= {what} < size and size >= 1")


def consumer_range(total: int, *, rank: int, world_size: int, worker: int, num_workers: int,
                   drop_remainder: bool = False) -> tuple[int, int]:
    """The virtual row range of one (rank, worker)."""
    check_rank(rank, world_size)
    check_rank(worker, num_workers, "worker")
    if drop_remainder:
        per = total // world_size
        lo, hi = rank * per, (rank + 1) * per
    else:
        lo, hi = share(0, total, rank, world_size)
    return share(lo, hi, worker, num_workers)


def plan_segments(shard_rows, *, seed: int = 0, epoch: int = 0, shuffle: bool = True,
                  rank: int = 0, world_size: int = 1, worker: int = 0, num_workers: int = 1,
                  block_rows: int = 1024, drop_remainder: bool = False) -> list[Segment]:
    """The segments one (rank, worker) reads in an epoch, in reading order."""
    rows = np.asarray(shard_rows, dtype=np.int64)
    shard_start = np.zeros(rows.shape[0] + 1, dtype=np.int64)
    np.cumsum(rows, out=shard_start[1:])
    blocks = virtual_blocks(rows, seed=seed, epoch=epoch, shuffle=shuffle, block_rows=block_rows)
    lengths = blocks[:, 2] - blocks[:, 1]
    ends = np.cumsum(lengths)
    starts = ends - lengths
    lo, hi = consumer_range(int(rows.sum()), rank=rank, world_size=world_size, worker=worker,
                            num_workers=num_workers, drop_remainder=drop_remainder)
    out: list[Segment] = []
    if hi <= lo:
        return out
    first = int(np.searchsorted(ends, lo, side="right"))
    for b in range(first, blocks.shape[0]):
        if starts[b] >= hi:
            break
        a = max(lo, int(starts[b])) - int(starts[b])
        z = min(hi, int(ends[b])) - int(starts[b])
        shard, b_lo = int(blocks[b, 0]), int(blocks[b, 1])
        seg = Segment(shard, b_lo + a, b_lo + z, int(shard_start[shard]) + b_lo + a)
        prev = out[-1] if out else None
        if prev is not None and prev.shard == shard and prev.hi == seg.lo:
            out[-1] = Segment(shard, prev.lo, seg.hi, prev.first)
        else:
            out.append(seg)
    return out
