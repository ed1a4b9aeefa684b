"""PyTorch input pipeline: exact sharding over ranks and workers, seeded shuffles, padding."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mazebench.datasets.builder import build_dataset
from mazebench.datasets.export import SplitReader, batch_arrays
from mazebench.datasets.load import Dataset
from mazebench.datasets.recipe import parse_recipe
from mazebench.training.sharding import plan_segments
from mazebench.training.tokenizer import MazeTokenizer


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("torch") / "data"
    recipe = parse_recipe({
        "suite": {"name": "t", "seed": 11, "height": 7, "width": 7, "shard_size": 23},
        "splits": {"train": {"family": "kruskal", "count": 101},
                   "one": {"family": "dfs", "count": 1}},
    })
    build_dataset(recipe, out, card_images=False)
    return out


def _reference(tiny, split="train"):
    data = Dataset(tiny)
    reader = SplitReader(data, split)
    batch = data.table(split).combine_chunks().to_batches()[0]
    rows = batch_arrays(batch, reader.height, reader.width)
    return MazeTokenizer("beyond-semantics", 7, 7).encode_rows(rows, reader.unsolved_plan(rows))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=6), st.integers(1, 4),
       st.integers(1, 4), st.integers(1, 9), st.booleans(), st.integers(0, 3),
       st.booleans())
def test_segments_partition_every_epoch(shards, world, workers, block, shuffle, epoch, drop):
    starts = np.concatenate([[0], np.cumsum(shards)])
    seen = []
    sizes = []
    for rank in range(world):
        rank_rows = 0
        for worker in range(workers):
            for seg in plan_segments(shards, seed=3, epoch=epoch, shuffle=shuffle, rank=rank,
                                     world_size=world, worker=worker, num_workers=workers,
                                     block_rows=block, drop_remainder=drop):
                assert 0 <= seg.lo < seg.hi <= shards[seg.shard]
                assert seg.first == starts[seg.shard] + seg.lo
                seen.extend(range(seg.first, seg.first + len(seg)))
                rank_rows += len(seg)
        sizes.append(rank_rows)
    total = int(sum(shards))
    assert len(seen) == len(set(seen))
    if drop:
        assert sizes == [total // world] * world
        assert len(seen) == total - total % world
    else:
        assert sorted(seen) == list(range(total))
        assert max(sizes) - min(sizes) <= 1


def test_shuffle_is_seeded_per_epoch():
    a = plan_segments([50, 50, 50], seed=1, epoch=0, block_rows=8)
    assert a == plan_segments([50, 50, 50], seed=1, epoch=0, block_rows=8)
    assert a != plan_segments([50, 50, 50], seed=1, epoch=1, block_rows=8)
    assert a != plan_segments([50, 50, 50], seed=2, epoch=0, block_rows=8)
    plain = plan_segments([50, 50, 50], shuffle=False)
    assert [(s.shard, s.lo, s.hi) for s in plain] == [(0, 0, 50), (1, 0, 50), (2, 0, 50)]


def test_bad_rank_is_a_clear_error():
    with pytest.raises(ValueError, match="rank 2 of 2"):
        plan_segments([5], rank=2, world_size=2)


@pytest.mark.parametrize("world", [1, 2, 3, 4])
@pytest.mark.parametrize("workers", [0, 1, 2, 3])
def test_dataloader_reads_every_row_once(tiny, world, workers):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    from mazebench.training.torch_data import MazeIterableDataset

    ref = _reference(tiny)
    seen = []
    batched = workers % 2 == 1  # alternate the two output modes
    for rank in range(world):
        ds = MazeIterableDataset(tiny, "train", rank=rank, world_size=world, seed=7,
                                 block_rows=5, buffer_rows=9, batch_size=4 if batched else None)
        ds.set_epoch(world)
        assert ds.num_rows() in (101 // world, 101 // world + 1)
        loader = DataLoader(ds, batch_size=None if batched else 3, num_workers=workers,
                            collate_fn=None if batched else ds.collator())
        for batch in loader:
            assert batch["input_ids"].dtype == torch.long
            for j, row in enumerate(batch["row"].tolist()):
                seen.append(row)
                n = int(batch["attention_mask"][j].sum())
                expect = ref.row(row).tolist()
                k = int(ref.prompt_lengths[row])
                assert batch["input_ids"][j, :n].tolist() == expect
                assert (batch["input_ids"][j, n:] == ds.tokenizer.pad_id).all()
                labels = batch["labels"][j].tolist()
                assert labels[:k] == [-100] * k and labels[k:n] == expect[k:]
                assert labels[n:] == [-100] * (len(labels) - n)
    assert sorted(seen) == list(range(101))


def _order(ds, epoch):
    ds.set_epoch(epoch)
    return np.concatenate([rows for _, rows in ds.iter_chunks()]).tolist()


def test_epoch_order_is_seeded_and_changes(tiny):
    from mazebench.training.torch_data import MazeIterableDataset

    ds = MazeIterableDataset(tiny, "train", seed=1, block_rows=4, buffer_rows=16)
    e0, e1 = _order(ds, 0), _order(ds, 1)
    assert sorted(e0) == sorted(e1) == list(range(101))
    assert e0 != e1 and e0 == _order(ds, 0)
    assert _order(MazeIterableDataset(tiny, "train", seed=2, block_rows=4), 0) != e0
    assert _order(MazeIterableDataset(tiny, "train", shuffle=False), 0) == list(range(101))


def test_drop_remainder_gives_equal_rank_sizes(tiny):
    from mazebench.training.torch_data import MazeIterableDataset

    sizes = [len(_order(MazeIterableDataset(tiny, "train", rank=r, world_size=4,
                                            drop_remainder=True), 0)) for r in range(4)]
    assert sizes == [25] * 4


def test_max_length_truncates_and_single_row_split(tiny):
    pytest.importorskip("torch")
    from mazebench.training.torch_data import MazeIterableDataset

    ds = MazeIterableDataset(tiny, "train", max_length=20, batch_size=8)
    batch = next(iter(ds))
    assert batch["input_ids"].shape == (8, 20)
    one = list(MazeIterableDataset(tiny, "one", rank=3, world_size=4))
    none = list(MazeIterableDataset(tiny, "one", rank=0, world_size=4))
    assert len(one) == 1 and none == []
    with pytest.raises(ValueError, match="rank and world_size"):
        MazeIterableDataset(tiny, "train", rank=1)
    with pytest.raises(ValueError, match="tokenizer is 9x9"):
        MazeIterableDataset(tiny, "train", MazeTokenizer("beyond-semantics", 9, 9))


def test_pad_collator_pads_and_masks():
    torch = pytest.importorskip("torch")
    from mazebench.training.torch_data import PadCollator

    out = PadCollator(0, pad_to_multiple_of=4)([
        {"input_ids": torch.tensor([5, 6, 7]), "labels": torch.tensor([-100, 6, 7]), "row": 3},
        {"input_ids": np.array([8]), "labels": np.array([8]), "row": 9}])
    assert out["input_ids"].tolist() == [[5, 6, 7, 0], [8, 0, 0, 0]]
    assert out["attention_mask"].tolist() == [[1, 1, 1, 0], [1, 0, 0, 0]]
    assert out["labels"].tolist() == [[-100, 6, 7, -100], [8, -100, -100, -100]]
    assert out["row"].tolist() == [3, 9]


def test_memory_is_flat(tmp_path):
    """Peak Arrow + Python allocations while iterating do not grow with the split size."""
    import tracemalloc

    from mazebench.training.torch_data import MazeIterableDataset

    peaks = []
    for count in (200, 800):
        out = tmp_path / f"d{count}"
        build_dataset(parse_recipe({
            "suite": {"name": "m", "seed": 1, "height": 12, "width": 12, "shard_size": 100},
            "splits": {"train": {"family": "wilson", "count": count}}}), out, card_images=False)
        ds = MazeIterableDataset(out, "train", block_rows=32, buffer_rows=64)
        base = pa.total_allocated_bytes()
        tracemalloc.start()
        peak_arrow = 0
        n = 0
        for _, rows in ds.iter_chunks():
            n += len(rows)
            peak_arrow = max(peak_arrow, pa.total_allocated_bytes() - base)
        _, peak_py = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert n == count
        peaks.append(peak_arrow + peak_py)
    assert peaks[1] < 1.5 * peaks[0], peaks
