"""Reward functions: TRL calling convention, outcome rewards, SWC partial credit, gated process."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mazebench.datasets.builder import build_dataset
from mazebench.datasets.recipe import parse_recipe
from mazebench.problem import unpack_walls
from mazebench.training import rewards as R
from mazebench.training.hf import export_hf

REWARDS = [R.plan_valid_reward, R.plan_optimal_reward, R.trace_valid_reward, R.graded_reward,
           R.process_reward]


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    root = tmp_path_factory.mktemp("rw")
    recipe = parse_recipe({
        "suite": {"name": "rw", "seed": 9, "height": 9, "width": 9, "shard_size": 100},
        "splits": {"train": {"family": "drunkards_walk", "count": 40}},
    })
    build_dataset(recipe, root / "data", card_images=False)
    export_hf(root / "data", root / "hf")
    table = pq.read_table(root / "hf" / "data" / "train").to_pydict()
    completions = [c.strip() for c in table.pop("completion")]
    prompts = table.pop("prompt")
    return completions, prompts, table, root


def _sections(c: str) -> tuple[str, str]:
    i = c.index(" solution ")
    return c[:i], c[i:]


def test_ground_truth_earns_everything(rows):
    completions, prompts, cols, _ = rows
    for f in REWARDS:
        out = f(completions, prompts=prompts, completion_ids=None, **cols)
        assert isinstance(out, list) and len(out) == len(completions)
        assert out == [1.0] * len(completions), f.__name__
    chat = [[{"role": "assistant", "content": c}] for c in completions]
    assert R.process_reward(chat, **cols) == [1.0] * len(completions)


def test_swapped_traces_keep_plans_lose_traces(rows):
    completions, _, cols, _ = rows
    n = len(completions)
    swapped = [_sections(completions[(i + 1) % n])[0] + _sections(completions[i])[1]
               for i in range(n)]
    assert R.plan_valid_reward(swapped, **cols) == [1.0] * n
    assert R.trace_valid_reward(swapped, **cols) == [0.0] * n
    process = np.array(R.process_reward(swapped, **cols))
    assert (process < 1.0).all() and (process >= 0.0).all()
    plan_only = ["reasoning" + _sections(c)[1] for c in completions]
    assert R.process_reward(plan_only, **cols) == [0.0] * n  # nothing closed, no credit


def _detour(walls, start, goal):
    """A valid plan longer than the shortest, found with networkx (oracle), or None."""
    g = nx.grid_2d_graph(walls.shape[1], walls.shape[0])
    g.remove_nodes_from([(x, y) for y, x in zip(*np.nonzero(walls))])
    best = nx.shortest_path_length(g, start, goal)
    for a in nx.shortest_path(g, start, goal)[1:-1]:
        for b in g.neighbors(a):
            h = g.copy()
            h.remove_edge(a, b)
            if nx.has_path(h, start, goal):
                path = nx.shortest_path(h, start, goal)
                if len(path) - 1 > best:
                    return path, best + 1
    return None


def test_graded_reward_is_swc(rows):
    completions, _, cols, _ = rows
    checked = 0
    for i in range(len(completions)):
        walls = unpack_walls(cols["walls"][i], 9, 9)
        found = _detour(walls, (cols["start_x"][i], cols["start_y"][i]),
                        (cols["goal_x"][i], cols["goal_y"][i]))
        if found is None:
            continue
        path, optimal = found
        plan = " ".join(f"plan {x} {y}" for x, y in path)
        text = f"{_sections(completions[i])[0]} solution {plan} end"
        one = {k: v[i : i + 1] for k, v in cols.items()}
        assert R.plan_valid_reward([text], **one) == [1.0]
        assert R.plan_optimal_reward([text], **one) == [0.0]
        assert R.graded_reward([text], **one) == [pytest.approx(optimal / len(path))]
        # the trace no longer leads to this plan: process credit is partial, never full
        assert 0.0 < R.process_reward([text], **one)[0] < 1.0
        checked += 1
    assert checked >= 5


def test_process_reward_parts_and_gate(rows):
    completions, _, cols, _ = rows
    rw = R.MazeRewards(weights=(1, 0, 0))
    one = {k: v[:1] for k, v in cols.items()}
    trace, tail = _sections(completions[0])
    events = trace.split()[1:]
    broken = " ".join(["reasoning"] + events[:5] + ["close", "3"] + events[5:]) + tail
    s = rw.scores([broken], **one)
    n_events = len(events) // 5
    assert s["valid_events"][0] == pytest.approx(1 - 1 / (n_events + 1))
    assert s["plan_valid"][0] == 1.0 and s["trace_valid"][0] == 0.0
    assert rw.process([broken], **one)[0] == pytest.approx(s["valid_events"][0])
    wrong_plan = trace + " solution plan 0 0 end"
    assert R.process_reward([wrong_plan], **one) == [0.0]  # gated on a valid plan
    anchors_only = R.MazeRewards(weights=(0, 1, 0))
    assert anchors_only.process([completions[0]], **one) == [1.0]
    no_anchor_cols = {k: v for k, v in one.items() if k != "anchors"}
    with pytest.raises(ValueError, match="anchors"):
        R.process_reward([completions[0]], **no_anchor_cols)
    assert R.MazeRewards(weights=(1, 0, 1)).process([completions[0]], **no_anchor_cols) == [1.0]


def test_missing_columns_and_bad_options(rows):
    completions, _, cols, _ = rows
    with pytest.raises(ValueError, match="missing: walls"):
        R.plan_valid_reward(completions[:1], **{k: v[:1] for k, v in cols.items()
                                                if k != "walls"})
    with pytest.raises(ValueError, match="weights"):
        R.MazeRewards(weights=(0, 0, 0))
    with pytest.raises(ValueError):
        R.MazeRewards("compact")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(list("0123456789 c") + [
    " create ", " close ", " plan ", " solution ", " end", " reasoning ", "<|eos|>", "\n", "x"]),
    max_size=60).map("".join), min_size=1, max_size=4))
def test_rewards_never_raise_on_model_output(rows, texts):
    _, _, cols, _ = rows
    sub = {k: v[: len(texts)] for k, v in cols.items()}
    for f in REWARDS:
        out = f(texts, **sub)
        assert len(out) == len(texts) and all(0.0 <= v <= 1.0 for v in out)


def test_trl_grpo_trainer_calls_the_rewards(rows, tmp_path):
    datasets = pytest.importorskip("datasets")
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    trl = pytest.importorskip("trl")
    root = rows[3]
    tok = transformers.AutoTokenizer.from_pretrained(root / "hf" / "tokenizer")
    train = datasets.load_dataset(str(root / "hf"), split="train").select(range(4))
    cfg = transformers.LlamaConfig(
        vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=1024,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id)
    seen = []

    def spy(completions, **kwargs):
        out = R.process_reward(completions, **kwargs)
        seen.append((list(completions), kwargs, out))
        return out

    args = trl.GRPOConfig(output_dir=str(tmp_path), max_steps=1, per_device_train_batch_size=4,
                          num_generations=2, max_completion_length=8, report_to=[],
                          save_strategy="no", use_cpu=True)
    trainer = trl.GRPOTrainer(model=transformers.LlamaForCausalLM(cfg), args=args,
                              reward_funcs=[spy, R.plan_valid_reward, R.graded_reward],
                              train_dataset=train, processing_class=tok)
    trainer.train()
    completions, kwargs, out = seen[0]
    assert {"walls", "anchors", "goal_x"} <= set(kwargs) and len(out) == len(completions)
    assert out == [0.0] * len(completions)  # an untrained model earns nothing
