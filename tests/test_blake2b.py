"""The numba BLAKE2b kernel against hashlib (the oracle), and block hashes against the
single-problem definitions."""

from __future__ import annotations

import hashlib

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mazebench.blake2b import blake2b_rows, hex_rows
from mazebench.datasets.batch import generate_block
from mazebench.datasets.recipe import load_recipe
from mazebench.datasets.schema import block_hashes
from mazebench.problem import Problem


@settings(max_examples=60, deadline=None)
@given(rows=st.integers(0, 4), length=st.integers(0, 300), digest_size=st.integers(1, 64),
       seed=st.integers(0, 2**32 - 1))
def test_blake2b_rows_match_hashlib(rows, length, digest_size, seed):
    messages = np.random.default_rng(seed).integers(0, 256, (rows, length), dtype=np.uint8)
    digests = blake2b_rows(messages, digest_size)
    assert digests.shape == (rows, digest_size)
    hexes = hex_rows(digests)
    for i in range(rows):
        want = hashlib.blake2b(messages[i].tobytes(), digest_size=digest_size)
        assert digests[i].tobytes() == want.digest()
        assert hexes[i].tobytes().decode() == want.hexdigest()


def test_block_hashes_match_problem_hashes():
    recipe = load_recipe(None)
    split = recipe.splits[0]
    block = generate_block(split.maze, split.profile, 12345, 0, 20)
    hashes = block_hashes(block)
    problems, layouts = hashes.problem_hex(), hashes.layout_hex()
    keys = hashes.problem_keys()
    for i in range(len(block)):
        sx, sy, gx, gy = (int(v) for v in block.sg[i])
        problem = Problem(block.walls[i], (sx, sy), (gx, gy))
        assert problems[i] == problem.hash
        assert layouts[i] == problem.layout_hash
        assert int(keys[i]) == int.from_bytes(bytes.fromhex(problem.hash)[:8], "little")
