"""Adapters for training runs: tokenizers, PyTorch and Hugging Face data, streams, rewards.

* :class:`MazeTokenizer` / :func:`vocabulary` - upstream word-level vocabularies, numba batch
  encode/decode, Hugging Face ``tokenizers``/``transformers`` export (:mod:`.tokenizer`);
* :func:`length_stats` - sequence lengths per split (:mod:`.lengths`);
* :class:`MazeIterableDataset`, :class:`PadCollator` - a PyTorch ``IterableDataset`` sharded over
  ranks and workers (:mod:`.torch_data`; needs ``torch``);
* :func:`export_hf` - a Hugging Face dataset folder for TRL (:mod:`.hf`);
* :class:`ProblemStream`, :class:`Curriculum` - endless fresh problems for RL (:mod:`.stream`);
* :mod:`.rewards` - TRL-style reward functions; :mod:`.negatives` - near-miss hard negatives.

Three lines to train on a dataset::

    from mazebench.training import MazeIterableDataset
    ds = MazeIterableDataset("mazebench-data", "train", batch_size=32)
    for batch in torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2): ...
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Curriculum": "stream", "ProblemStream": "stream",
    "Encoded": "tokenizer", "MazeTokenizer": "tokenizer", "tokenizer_for": "tokenizer",
    "MazeIterableDataset": "torch_data", "PadCollator": "torch_data",
    "MazeRewards": "rewards", "graded_reward": "rewards", "plan_optimal_reward": "rewards",
    "plan_valid_reward": "rewards", "process_reward": "rewards", "trace_valid_reward": "rewards",
    "Vocabulary": "vocab", "vocabulary": "vocab",
    "export_hf": "hf", "length_stats": "lengths",
    "near_misses": "negatives", "negatives_table": "negatives",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """Import submodules on first use (``torch`` is imported only for the torch adapters)."""
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
