"""Train a tiny transformer on 10x10 mazes for a few minutes on CPU, then evaluate it.

The whole loop with mazebench's pieces:

1. a recipe (10x10 Wilson mazes, Beyond Semantics A* traces) -> a dataset directory
   (``mazebench.datasets.builder.build_dataset``);
2. the upstream word-level tokenizer and ``MazeIterableDataset`` (token ids in numba, shuffled per
   epoch, prompt masked out of the loss) -> a decoder-only transformer written in plain torch;
3. greedy decoding (with a KV cache) of the test prompts -> ``predictions.jsonl`` lines
   ``{"id": ..., "completion": ...}``;
4. plan and trace validity with ``mazebench.evaluate.validate_texts``, and the full report of
   ``mazebench evaluate DIR predictions.jsonl -o REPORT``.

Usage::

    python examples/train_tiny.py --minutes 5 --out runs/tiny
    python examples/train_tiny.py --minutes 1 --no-trace        # plan-only supervision

Needs ``torch`` (CPU is enough). Everything is seeded; the numbers depend on how many steps fit
in the time budget.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from mazebench.datasets.builder import build_dataset
from mazebench.datasets.recipe import parse_recipe
from mazebench.training.tokenizer import MazeTokenizer
from mazebench.training.torch_data import MazeIterableDataset


def recipe(train_rows: int, test_rows: int, seed: int):
    return parse_recipe({
        "suite": {"name": "tiny-10x10", "seed": seed, "height": 10, "width": 10,
                  "profile": "beyond-semantics", "shard_size": 5000},
        "splits": {"train": {"family": "wilson", "count": train_rows},
                   "test": {"family": "wilson", "count": test_rows}},
    }, source="tiny-10x10")


class Block(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x, cache=None):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.heads, d // self.heads).unbind(2)
        q, k, v = (a.transpose(1, 2) for a in (q, k, v))
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        y = F.scaled_dot_product_attention(q, k, v, is_causal=t > 1)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    def __init__(self, vocab: int, d: int, layers: int, heads: int, context: int) -> None:
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(context, d)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.head.weight = self.tok.weight
        for module in self.modules():  # GPT-2 initialisation (N(0, 0.02), zero biases)
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

    def forward(self, ids, caches=None, start: int = 0):
        pos = torch.arange(start, start + ids.shape[1], device=ids.device)
        x = self.tok(ids) + self.pos(pos)
        for i, block in enumerate(self.blocks):
            x = block(x, None if caches is None else caches[i])
        return self.head(self.ln(x))


@torch.inference_mode()
def generate(model: TinyGPT, prompt: list[int], eos: int, max_new: int, context: int) -> list[int]:
    caches = [{} for _ in model.blocks]
    logits = model(torch.tensor([prompt]), caches)
    out: list[int] = []
    pos = len(prompt)
    while len(out) < max_new and pos < context:
        nxt = int(logits[0, -1].argmax())
        if nxt == eos:
            break
        out.append(nxt)
        logits = model(torch.tensor([[nxt]]), caches, start=pos)
        pos += 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="runs/tiny", help="Working folder (dataset, predictions).")
    ap.add_argument("--minutes", type=float, default=5.0, help="Training time budget.")
    ap.add_argument("--train-rows", type=int, default=20000)
    ap.add_argument("--test-rows", type=int, default=50)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-trace", action="store_true",
                    help="Solution-only rows: 'reasoning solution <plan> end' (no search trace).")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    data_dir = out / "data"
    t0 = time.perf_counter()
    build_dataset(recipe(args.train_rows, args.test_rows, args.seed), data_dir,
                  card_images=False)
    print(f"dataset: {args.train_rows} train / {args.test_rows} test 10x10 wilson mazes "
          f"({time.perf_counter() - t0:.1f} s) in {data_dir}")

    tok = MazeTokenizer("beyond-semantics", 10, 10)
    train = MazeIterableDataset(data_dir, "train", tok, seed=args.seed, batch_size=args.batch,
                                buffer_rows=2048, trace=not args.no_trace)
    context = 1024
    model = TinyGPT(len(tok), args.d_model, args.layers, args.heads, context)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params / 1e6:.2f} M parameters, vocabulary {len(tok)}")
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    budget = args.minutes * 60
    start, step, epoch, tokens = time.perf_counter(), 0, 0, 0
    done = False
    while not done:
        train.set_epoch(epoch)
        for batch in train:
            ids, labels = batch["input_ids"], batch["labels"]
            elapsed = time.perf_counter() - start
            frac = min(elapsed / budget, 1.0)
            for group in opt.param_groups:  # warm-up, then cosine decay over the time budget
                group["lr"] = args.lr * min(1.0, (step + 1) / 100) * 0.5 * (
                    1 + math.cos(math.pi * frac))
            logits = model(ids[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                   labels[:, 1:].reshape(-1), ignore_index=-100)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            tokens += int(batch["attention_mask"].sum())
            if step % 50 == 0:
                print(f"step {step:5d} epoch {epoch} loss {loss.item():.3f} "
                      f"({tokens / elapsed:.0f} tokens/s)", flush=True)
            if elapsed > budget:
                done = True
                break
        epoch += 1
    print(f"trained {step} steps ({epoch} epochs started) in {time.perf_counter() - start:.0f} s")

    model.eval()
    test = MazeIterableDataset(data_dir, "test", tok, shuffle=False, buffer_rows=args.test_rows,
                               trace=not args.no_trace)
    from mazebench.datasets.load import Dataset
    from mazebench.evaluate import validate_texts

    data = Dataset(data_dir)
    ids_col = data.table("test", columns=["id"]).column("id").to_pylist()
    preds, problems = [], []
    t1 = time.perf_counter()
    for enc, rows in test.iter_chunks():
        for i, row in enumerate(rows.tolist()):
            full = enc.row(i)
            prompt = full[: int(enc.prompt_lengths[i])].tolist()
            budget_new = int(1.5 * (len(full) - len(prompt))) + 8  # runaway cap
            gen = generate(model, prompt, tok.vocab.eos_id, max_new=budget_new, context=context)
            text = tok.decode(gen)
            preds.append({"id": ids_col[row], "completion": text})
            problems.append(data.example("test", row).problem)
    pred_path = out / "predictions.jsonl"
    pred_path.write_text("".join(json.dumps(p) + "\n" for p in preds))
    v = validate_texts(problems, [p["completion"] for p in preds], "beyond-semantics")
    n = len(preds)
    print(f"decoded {n} test prompts in {time.perf_counter() - t1:.0f} s -> {pred_path}")
    print(f"plan valid {v.plan_valid.mean():.1%}, plan optimal {v.plan_optimal.mean():.1%}, "
          f"trace valid {v.trace_valid.mean():.1%}; 2x2 table {v.table()}")
    print(f"first errors: {v.first_error_histogram()}")
    report = out / "report"
    res = subprocess.run([sys.executable, "-m", "mazebench.cli", "evaluate", str(data_dir),
                          str(pred_path), "-o", str(report), "--split", "test", "--n-boot", "200"],
                         capture_output=True, text=True)
    print(res.stdout.strip() or "\n".join(res.stderr.strip().splitlines()[-1:]))


if __name__ == "__main__":
    sys.exit(main())
