"""PyTorch input pipeline over the Parquet shards of a split: token ids, shuffled and sharded.

``MazeIterableDataset(DIR, "train")`` is a :class:`torch.utils.data.IterableDataset` that

* splits the rows of an epoch across distributed ranks (``torch.distributed`` when initialized,
  or ``rank``/``world_size`` given explicitly) and data-loader workers, each row read by exactly
  one consumer (:mod:`mazebench.training.sharding`);
* shuffles with a seed per epoch (:meth:`~MazeIterableDataset.set_epoch`, as with
  ``DistributedSampler``): shard order, block order inside shards, then rows inside a buffer of
  ``buffer_rows`` rows;
* turns rows into token ids in numba straight from the trace arrays
  (:meth:`mazebench.training.tokenizer.MazeTokenizer.encode_arrays`), with labels that mask the
  prompt (``-100``) so the loss falls on the completion only;
* yields examples ``{"input_ids", "labels", "row"}`` (pad them with :class:`PadCollator`) or,
  with ``batch_size``, ready padded batches ``{"input_ids", "attention_mask", "labels", "row"}``
  (use ``DataLoader(ds, batch_size=None)``); ``row`` is the row's position in the split.

Memory stays flat: a consumer holds one shard's columns and its shuffle buffer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .sharding import epoch_rng, plan_segments
from .tokenizer import Encoded, MazeTokenizer, tokenizer_for

try:  # torch is an optional extra
    import torch
    from torch.utils.data import IterableDataset as _Base
except ImportError:  # pragma: no cover - exercised only without torch
    torch = None
    _Base = object

LABEL_PAD = -100
COLUMNS = ["id", "walls", "start_x", "start_y", "goal_x", "goal_y", "solvable", "trace",
           "plan"]


def concat_encoded(parts: list[Encoded]) -> Encoded:
    """Rows of several :class:`Encoded` in order."""
    if len(parts) == 1:
        return parts[0]
    lengths = np.concatenate([p.lengths for p in parts])
    off = np.zeros(lengths.shape[0] + 1, dtype=np.int64)
    np.cumsum(lengths, out=off[1:])
    return Encoded(np.concatenate([p.ids for p in parts]), off,
                   np.concatenate([p.prompt_lengths for p in parts]))


def pad_rows(enc: Encoded, rows: np.ndarray, pad_id: int, *, max_length: int | None = None,
             mask_prompt: bool = True, pad_to_multiple_of: int | None = None) -> dict:
    """Padded ``(B, L)`` int64 ``input_ids``, ``attention_mask`` and ``labels`` of rows of
    ``enc`` (vectorized; rows longer than ``max_length`` keep their first tokens)."""
    rows = np.asarray(rows, dtype=np.int64)
    starts = enc.offsets[rows]
    lens = enc.offsets[rows + 1] - starts
    if max_length is not None:
        lens = np.minimum(lens, max_length)
    width = int(lens.max()) if lens.shape[0] else 0
    if pad_to_multiple_of:
        width = -(-width // pad_to_multiple_of) * pad_to_multiple_of
    b = rows.shape[0]
    r = np.repeat(np.arange(b), lens)
    c = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
    values = enc.ids[np.repeat(starts, lens) + c].astype(np.int64)
    ids = np.full((b, width), pad_id, dtype=np.int64)
    ids[r, c] = values
    mask = np.zeros((b, width), dtype=np.int64)
    mask[r, c] = 1
    labels = np.full((b, width), LABEL_PAD, dtype=np.int64)
    keep = c >= enc.prompt_lengths[rows][r] if mask_prompt else np.ones_like(c, dtype=bool)
    labels[r[keep], c[keep]] = values[keep]
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


class PadCollator:
    """Pads a list of examples ``{"input_ids", "labels"?, "row"?}`` (1-D tensors or arrays) into
    a batch: ``input_ids`` with ``pad_id``, ``labels`` with -100, an ``attention_mask``."""

    def __init__(self, pad_id: int, *, label_pad_id: int = LABEL_PAD,
                 pad_to_multiple_of: int | None = None) -> None:
        self.pad_id = int(pad_id)
        self.label_pad_id = int(label_pad_id)
        self.multiple = pad_to_multiple_of

    def __call__(self, examples: list[dict]) -> dict:
        _need_torch()
        seqs = [torch.as_tensor(e["input_ids"], dtype=torch.long) for e in examples]
        lens = torch.tensor([s.shape[0] for s in seqs], dtype=torch.long)
        width = int(lens.max()) if len(seqs) else 0
        if self.multiple:
            width = -(-width // self.multiple) * self.multiple
        b = len(seqs)
        r = torch.repeat_interleave(torch.arange(b), lens)
        c = torch.arange(int(lens.sum())) - torch.repeat_interleave(torch.cumsum(lens, 0) - lens,
                                                                      lens)
        out = {"input_ids": torch.full((b, width), self.pad_id, dtype=torch.long),
               "attention_mask": torch.zeros((b, width), dtype=torch.long)}
        out["input_ids"][r, c] = torch.cat(seqs) if seqs else torch.zeros(0, dtype=torch.long)
        out["attention_mask"][r, c] = 1
        if examples and "labels" in examples[0]:
            labels = torch.cat([torch.as_tensor(e["labels"], dtype=torch.long) for e in examples])
            out["labels"] = torch.full((b, width), self.label_pad_id, dtype=torch.long)
            out["labels"][r, c] = labels
        if examples and "row" in examples[0]:
            out["row"] = torch.tensor([int(e["row"]) for e in examples], dtype=torch.long)
        return out


def _need_torch() -> None:
    if torch is None:
        raise ValueError("this needs PyTorch: pip install 'mazebench[torch]'")


class MazeIterableDataset(_Base):
    """Token ids of one split of a mazebench dataset (see the module docstring).

    ``tokenizer``: a :class:`MazeTokenizer` (default: the dataset's grid size and ``dialect``,
    itself defaulting to the split's profile dialect). ``block_rows``: shuffle granularity
    inside shards; ``buffer_rows``: rows shuffled together (rounded up to a multiple of
    ``batch_size``). ``max_length`` truncates long rows (keeping their start); ``specials``
    adds ``bos``/``eos``; ``mask_prompt`` sets prompt labels to -100.
    """

    def __init__(self, dataset: str | Path, split: str = "train",
                 tokenizer: MazeTokenizer | None = None, *, dialect: str | None = None,
                 shuffle: bool = True, seed: int = 0, epoch: int = 0, rank: int | None = None,
                 world_size: int | None = None, block_rows: int = 1024, buffer_rows: int = 4096,
                 batch_size: int | None = None, max_length: int | None = None,
                 mask_prompt: bool = True, specials: bool = True, trace: bool = True,
                 drop_remainder: bool = False) -> None:
        from ..datasets.export import SplitReader
        from ..datasets.load import Dataset

        self.data = Dataset(dataset)
        self.split = split
        self.reader = SplitReader(self.data, split)
        self.tokenizer = tokenizer or tokenizer_for(self.data, dialect, split)
        if (self.tokenizer.height, self.tokenizer.width) != (self.reader.height,
                                                             self.reader.width):
            raise ValueError(f"tokenizer is {self.tokenizer.width}x{self.tokenizer.height} but "
                             f"split {split!r} is {self.reader.width}x{self.reader.height}")
        if (rank is None) != (world_size is None):
            raise ValueError("pass both rank and world_size, or neither")
        for name, v in (("buffer_rows", buffer_rows), ("batch_size", batch_size or 1),
                        ("max_length", max_length or 1)):
            if v < 1:
                raise ValueError(f"{name} = {v} must be at least 1")
        self.shuffle, self.seed, self.epoch = shuffle, int(seed), int(epoch)
        self.rank, self.world_size = rank, world_size
        self.block_rows, self.batch_size = int(block_rows), batch_size
        b = batch_size or 1
        self.buffer_rows = -(-int(buffer_rows) // b) * b
        self.max_length, self.mask_prompt, self.specials = max_length, mask_prompt, specials
        self.trace = trace
        self.drop_remainder = drop_remainder
        self.shard_paths = self.data.shard_paths(split)
        self.shard_rows = [int(s["rows"]) for s in self.data.manifest["splits"][split]["shards"]]

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch (and so the shuffle) of the next iteration."""
        self.epoch = int(epoch)

    def _ranks(self) -> tuple[int, int]:
        if self.rank is not None:
            return int(self.rank), int(self.world_size)
        dist = getattr(torch, "distributed", None)
        if dist is not None and dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
        return 0, 1

    def num_rows(self) -> int:
        """Rows this rank reads per epoch (all its workers together)."""
        rank, world = self._ranks()
        total = sum(self.shard_rows)
        if self.drop_remainder:
            return total // world
        return (rank + 1) * total // world - rank * total // world

    def __len__(self) -> int:
        if self.batch_size:
            raise TypeError("len() of a batched MazeIterableDataset depends on the workers; "
                            "use num_rows()")
        return self.num_rows()

    def segments(self, worker: int = 0, num_workers: int = 1):
        rank, world = self._ranks()
        return plan_segments(
            self.shard_rows, seed=self.seed, epoch=self.epoch, shuffle=self.shuffle, rank=rank,
            world_size=world, worker=worker, num_workers=num_workers, block_rows=self.block_rows,
            drop_remainder=self.drop_remainder,
        )  # fmt: skip

    def _pieces(self, worker: int, num_workers: int) -> Iterator[tuple[Encoded, np.ndarray]]:
        """Encoded runs of at most ``buffer_rows`` rows, in virtual order, with split rows."""
        from ..datasets.export import batch_arrays

        shard, table = -1, None
        for seg in self.segments(worker, num_workers):
            if seg.shard != shard:
                table = None  # release the previous shard first
                table = pq.read_table(self.shard_paths[seg.shard], columns=COLUMNS)
                shard = seg.shard
            for lo in range(seg.lo, seg.hi, self.buffer_rows):
                hi = min(seg.hi, lo + self.buffer_rows)
                batch = pa.Table.from_batches(table.slice(lo, hi - lo).to_batches())
                batch = batch.combine_chunks().to_batches()[0]
                rows = batch_arrays(batch, self.reader.height, self.reader.width)
                enc = self.tokenizer.encode_rows(rows, self.reader.unsolved_plan(rows),
                                                 specials=self.specials, trace=self.trace)
                yield enc, np.arange(seg.first + lo - seg.lo, seg.first + hi - seg.lo)

    def iter_chunks(self, worker: int = 0, num_workers: int = 1
                    ) -> Iterator[tuple[Encoded, np.ndarray]]:
        """Shuffle buffers of one consumer: ``(encoded rows, split rows)`` in yield order.

        A buffer holds ``buffer_rows`` rows (the last may hold fewer); with ``batch_size``,
        every buffer but the last holds a multiple of it. Torch-free (the tests use it)."""
        rank, _ = self._ranks()
        rng = epoch_rng(self.seed, self.epoch, rank, worker) if self.shuffle else None
        pool: list[tuple[Encoded, np.ndarray]] = []
        size = 0
        for enc, rows in self._pieces(worker, num_workers):
            pool.append((enc, rows))
            size += len(enc)
            if size >= self.buffer_rows:
                enc_all = concat_encoded([p[0] for p in pool])
                rows_all = np.concatenate([p[1] for p in pool])
                order = rng.permutation(size) if rng is not None else np.arange(size)
                take, keep = order[: self.buffer_rows], order[self.buffer_rows :]
                yield _select(enc_all, take), rows_all[take]
                pool = [(_select(enc_all, keep), rows_all[keep])] if keep.shape[0] else []
                size = int(keep.shape[0])
        if size:
            enc_all = concat_encoded([p[0] for p in pool])
            rows_all = np.concatenate([p[1] for p in pool])
            order = rng.permutation(size) if rng is not None else np.arange(size)
            yield _select(enc_all, order), rows_all[order]

    def __iter__(self):
        _need_torch()
        info = torch.utils.data.get_worker_info()
        worker, num_workers = (info.id, info.num_workers) if info is not None else (0, 1)
        pad = self.tokenizer.pad_id
        for enc, rows in self.iter_chunks(worker, num_workers):
            if self.batch_size:
                for a in range(0, len(enc), self.batch_size):
                    sel = np.arange(a, min(a + self.batch_size, len(enc)))
                    out = pad_rows(enc, sel, pad, max_length=self.max_length,
                                   mask_prompt=self.mask_prompt)
                    batch = {k: torch.from_numpy(v) for k, v in out.items()}
                    batch["row"] = torch.from_numpy(rows[sel].astype(np.int64))
                    yield batch
                continue
            ids = torch.from_numpy(enc.ids.astype(np.int64))
            for i in range(len(enc)):
                a, z = int(enc.offsets[i]), int(enc.offsets[i + 1])
                if self.max_length is not None:
                    z = min(z, a + self.max_length)
                x = ids[a:z].clone()
                y = x.clone()
                if self.mask_prompt:
                    y[: int(enc.prompt_lengths[i])] = LABEL_PAD
                yield {"input_ids": x, "labels": y, "row": int(rows[i])}

    def collator(self, pad_to_multiple_of: int | None = None) -> PadCollator:
        """A :class:`PadCollator` with this dataset's pad id."""
        return PadCollator(self.tokenizer.pad_id, pad_to_multiple_of=pad_to_multiple_of)


def _select(enc: Encoded, rows: np.ndarray) -> Encoded:
    """Rows ``rows`` of ``enc`` in that order (vectorized gather)."""
    starts = enc.offsets[rows]
    lens = enc.offsets[rows + 1] - starts
    off = np.zeros(rows.shape[0] + 1, dtype=np.int64)
    np.cumsum(lens, out=off[1:])
    idx = np.repeat(starts - off[:-1], lens) + np.arange(int(off[-1]))
    return Encoded(enc.ids[idx], off, enc.prompt_lengths[rows])
