"""Hugging Face export: declared features, prompt/completion and messages, TRL's SFT trainer."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

import mazebench
from mazebench.datasets.builder import build_dataset
from mazebench.datasets.load import Dataset, example_from_row
from mazebench.datasets.recipe import parse_recipe
from mazebench.training.hf import DEFAULT_SCHEMA, MESSAGES_SCHEMA, export_hf
from mazebench.training.tokenizer import MazeTokenizer


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf")
    recipe = parse_recipe({
        "suite": {"name": "hf-tiny", "seed": 3, "height": 6, "width": 6, "shard_size": 15},
        "splits": {"train": {"family": "wilson", "count": 32},
                   "test-ca": {"family": "cellular_automata", "count": 12}},
    })
    build_dataset(recipe, root / "data", card_images=False)
    results = export_hf(root / "data", root / "hf")
    return root, results


def test_files_rows_and_schema(exported):
    root, results = exported
    assert [(r.split, r.rows) for r in results] == [("train", 32), ("test-ca", 12)]
    for folder, schema in (("data", DEFAULT_SCHEMA), ("messages", MESSAGES_SCHEMA)):
        files = sorted((root / "hf" / folder / "train").glob("*.parquet"))
        assert len(files) == 3  # one per source shard
        assert pq.read_schema(files[0]).remove_metadata() == schema
        assert sorted((root / "hf" / folder).iterdir())[0].name == "test_ca"
    assert (root / "hf" / "tokenizer" / "tokenizer.json").exists()


def test_texts_and_problem_columns_match_the_source(exported):
    root, _ = exported
    data = Dataset(root / "data")
    table = pq.read_table(root / "hf" / "data" / "train").to_pylist()
    chat = pq.read_table(root / "hf" / "messages" / "train").to_pylist()
    for i, (row, turn) in enumerate(zip(table, chat)):
        src = data.example("train", i)
        assert row["id"] == turn["id"] == src.id
        parts = mazebench.solve(example_from_row(src.row).problem).to_parts("beyond-semantics")
        assert row["prompt"] == "<|bos|> " + parts["prompt"]
        assert row["completion"] == f" reasoning {parts['reasoning']} solution {parts['plan']} end"
        assert turn["messages"] == [
            {"role": "user", "content": parts["prompt"]},
            {"role": "assistant", "content": row["completion"][1:]}]
        for key in ("walls", "start_x", "start_y", "goal_x", "goal_y", "solvable",
                    "plan_length", "n_events", "family"):
            assert row[key] == src.row[key] == turn[key]
        assert row["trace_tokens"] == 5 * src.row["n_events"]
        assert row["anchors"][-1] == src.row["goal_y"] * 6 + src.row["goal_x"]
        assert len(row["anchors"]) == src.row["branch_jumps"] + 1


def test_card_declares_configs_and_features(exported):
    datasets = pytest.importorskip("datasets")
    root, _ = exported
    card = (root / "hf" / "README.md").read_text()
    assert "config_name: messages" in card and "num_examples: 12" in card
    plain = datasets.load_dataset(str(root / "hf"))
    assert set(plain) == {"train", "test_ca"} and plain["train"].num_rows == 32
    assert plain["train"].features == datasets.Features.from_arrow_schema(DEFAULT_SCHEMA)
    assert plain["train"].info.splits["test_ca"].num_examples == 12
    chat = datasets.load_dataset(str(root / "hf"), "messages", split="test_ca")
    assert chat.features == datasets.Features.from_arrow_schema(MESSAGES_SCHEMA)
    assert chat[0]["messages"][1]["role"] == "assistant"


def test_no_specials_and_searchformer(tmp_path, exported):
    root, _ = exported
    export_hf(root / "data", tmp_path / "sf", "searchformer", splits=["train"])
    row = pq.read_table(tmp_path / "sf" / "data" / "train").slice(0, 1).to_pylist()[0]
    assert row["prompt"].startswith("bos start ") and row["prompt"].endswith(" eos")
    assert row["completion"].startswith(" bos close ")  # the profile does not log create start
    tok = MazeTokenizer("searchformer", 6, 6)
    ids = tok.encode(row["prompt"] + row["completion"] + "eos")
    assert ids.count(tok.vocab.bos_id) == 2 and ids[-1] == tok.vocab.eos_id
    cfg = json.loads((tmp_path / "sf" / "tokenizer" / "tokenizer_config.json").read_text())
    assert cfg["mazebench"] == {"dialect": "searchformer", "height": 6, "width": 6}
    export_hf(root / "data", tmp_path / "plain", specials=False, splits=["train"])
    row = pq.read_table(tmp_path / "plain" / "data" / "train").slice(0, 1).to_pylist()[0]
    assert row["prompt"].startswith("query ") and row["completion"].startswith(" reasoning ")
    export_hf(root / "data", tmp_path / "compact", "compact", splits=["train"])
    row = pq.read_table(tmp_path / "compact" / "data" / "train").slice(0, 1).to_pylist()[0]
    assert row["prompt"].startswith("grid 6x6 start ") and row["completion"].startswith(" -")
    assert not (tmp_path / "compact" / "tokenizer").exists()
    with pytest.raises(ValueError, match="unknown split"):
        export_hf(root / "data", tmp_path / "x", splits=["nope"])


@pytest.mark.parametrize("config", ["default", "messages"])
def test_trl_sft_trainer_takes_it_unchanged(exported, tmp_path, config):
    datasets = pytest.importorskip("datasets")
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    trl = pytest.importorskip("trl")
    root, _ = exported
    tok = transformers.AutoTokenizer.from_pretrained(root / "hf" / "tokenizer")
    train = datasets.load_dataset(str(root / "hf"), config, split="train").select(range(8))
    cfg = transformers.LlamaConfig(
        vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id)
    args = trl.SFTConfig(output_dir=str(tmp_path), max_steps=1, per_device_train_batch_size=4,
                         report_to=[], save_strategy="no", use_cpu=True,
                         assistant_only_loss=config == "messages")
    trainer = trl.SFTTrainer(model=transformers.LlamaForCausalLM(cfg), args=args,
                             train_dataset=train, processing_class=tok)
    ex = trainer.train_dataset[0]
    ids, labels = ex["input_ids"], ex["labels"]
    first = next(i for i, v in enumerate(labels) if v != -100)
    assert tok.convert_ids_to_tokens(ids[:2]) == ["<|bos|>", "query"]
    assert tok.convert_ids_to_tokens([ids[first], ids[-1]]) == ["reasoning", "<|eos|>"]
    assert labels[first:] == ids[first:]  # the loss covers exactly the completion and eos
    prompt = (train[0]["prompt"][len("<|bos|> "):] if config == "default"
              else train[0]["messages"][0]["content"])
    assert tok.decode(ids[1:first]) == prompt
    assert trainer.train().training_loss > 0


def test_a_rerun_keeps_finished_shards_and_redoes_the_rest(tmp_path, exported):
    """A killed export resumes: shards whose two files were finished from the same source and
    options are kept (same bytes, same card), a missing or foreign file is written again."""

    root, _ = exported
    out = tmp_path / "hf"
    export_hf(root / "data", out, splits=["train"])
    first = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    parts = sorted((out / "data" / "train").glob("*.parquet"))
    assert len(parts) >= 2
    kept, lost = parts[0], parts[1]
    stamp = kept.stat().st_mtime_ns
    lost.unlink()  # as if killed before this shard's files were renamed into place
    (out / "data" / "train" / ".part-00001.parquet.tmp-1").write_bytes(b"partial")
    export_hf(root / "data", out, splits=["train"])
    assert kept.stat().st_mtime_ns == stamp  # not rewritten
    again = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert again == first
    export_hf(root / "data", out, splits=["train"], specials=False)  # other options: rewritten
    assert kept.read_bytes() != first[kept]
