"""Train a tiny transformer on 10x10 mazes for a few minutes on CPU, then evaluate it.

The whole loop with mazebench's pieces:

1. a recipe (10x10 Wilson mazes, Beyond Semantics A* traces) -> a dataset directory
   (``mazebench.datasets.builder.build_dataset``; the test mazes are layout-disjoint from the
   training mazes);
2. the upstream word-level tokenizer and ``MazeIterableDataset`` (token ids in numba, shuffled per
   epoch, prompt masked out of the loss) -> rows grouped by length into batches
   (``pad_rows``) -> a decoder-only transformer written in plain torch, AdamW with warm-up and a
   cosine decay over the time budget;
3. batched greedy decoding (with a KV cache) of the test prompts until ``<|eos|>`` ->
   ``predictions.jsonl`` lines ``{"id": ..., "completion": ...}``;
4. plan and trace validity with ``mazebench.evaluate.validate_texts``, and the full report of
   ``mazebench evaluate DIR predictions.jsonl -o REPORT``.

Usage::

    python examples/train_tiny.py --minutes 10 --out runs/tiny              # A* trace + plan
    python examples/train_tiny.py --minutes 10 --no-trace --out runs/plan   # plan-only supervision

Needs ``torch`` (CPU is enough). Everything is seeded; the numbers depend on how many steps fit
in the time budget (the time-based schedule makes a faster machine train longer, not differently).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mazebench.datasets.builder import build_dataset
from mazebench.datasets.recipe import parse_recipe
from mazebench.training.tokenizer import MazeTokenizer
from mazebench.training.torch_data import MazeIterableDataset, pad_rows


def recipe(train_rows: int, test_rows: int, seed: int):
    return parse_recipe({
        "suite": {"name": "tiny-10x10", "seed": seed, "height": 10, "width": 10,
                  "profile": "beyond-semantics", "shard_size": 5000},
        "splits": {"train": {"family": "wilson", "count": train_rows},
                   "test": {"family": "wilson", "count": test_rows}},
    }, source="tiny-10x10")


def rotate(x, rope):
    """Rotary embedding of ``x`` (B, heads, T, head_dim) with ``rope`` = (cos, sin), (T, half)."""
    cos, sin = rope
    a, b = x[..., : cos.shape[-1]], x[..., cos.shape[-1] :]
    return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)


class Block(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x, cache=None, rope=None):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.heads, d // self.heads).unbind(2)
        q, k, v = (a.transpose(1, 2) for a in (q, k, v))
        if rope is not None:
            q, k = rotate(q, rope), rotate(k, rope)
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        # causal within the new tokens; a single decoded token sees the whole cache
        y = F.scaled_dot_product_attention(q, k, v, is_causal=t > 1)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    def __init__(self, vocab: int, d: int, layers: int, heads: int, context: int,
                 rope: bool = True, absolute: bool = False) -> None:
        super().__init__()
        self.context = context
        self.tok = nn.Embedding(vocab, d)
        self.rope = rope
        if rope:  # rotary position embedding (RoFormer, arXiv 2104.09864)
            half = d // heads // 2
            freq = 10000.0 ** (-torch.arange(half, dtype=torch.float32) / half)
            angle = torch.arange(context, dtype=torch.float32)[:, None] * freq[None]
            self.register_buffer("cos", angle.cos(), persistent=False)
            self.register_buffer("sin", angle.sin(), persistent=False)
        self.absolute = absolute or not rope
        if self.absolute:  # learned absolute positions: the goal is always at prompt tokens 6-7
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
        for block in self.blocks:  # GPT-2: residual projections scaled by 1/sqrt(2 * layers)
            for lin in (block.proj, block.mlp[2]):
                nn.init.normal_(lin.weight, std=0.02 / math.sqrt(2 * layers))

    def forward(self, ids, caches=None, start: int = 0):
        pos = torch.arange(start, start + ids.shape[1], device=ids.device)
        x = self.tok(ids)
        rope = (self.cos[pos], self.sin[pos]) if self.rope else None
        if self.absolute:
            x = x + self.pos(pos)
        for i, block in enumerate(self.blocks):
            x = block(x, None if caches is None else caches[i], rope)
        return self.head(self.ln(x))


def length_batches(data: MazeIterableDataset, batch: int, rng: np.random.Generator):
    """Padded batches of rows of similar length (less padding), in a random order.

    Each shuffle buffer of ``data`` (already shuffled per epoch) is sorted by row length and cut
    into batches of ``batch`` rows, whose order is then shuffled."""
    pad = data.tokenizer.pad_id
    for enc, _ in data.iter_chunks():
        order = np.argsort(enc.lengths, kind="stable")
        cuts = [order[a : a + batch] for a in range(0, len(order), batch)]
        for k in rng.permutation(len(cuts)):
            out = pad_rows(enc, cuts[k], pad)
            yield {key: torch.from_numpy(v) for key, v in out.items()}


@torch.inference_mode()
def generate_batch(model: TinyGPT, prompts: np.ndarray, eos: int, max_new: int) -> list[list[int]]:
    """Greedy completions of prompts of equal length (``(B, P)`` ids), each up to ``eos``
    (excluded) or ``max_new`` tokens."""
    b, p = prompts.shape
    caches = [{} for _ in model.blocks]
    logits = model(torch.from_numpy(prompts.astype(np.int64)), caches)
    steps = min(max_new, model.context - p)
    out = torch.full((b, max(steps, 0)), eos, dtype=torch.long)
    alive = torch.ones(b, dtype=torch.bool)
    for s in range(steps):
        nxt = logits[:, -1].argmax(-1)
        nxt = torch.where(alive, nxt, torch.full_like(nxt, eos))
        out[:, s] = nxt
        alive &= nxt != eos
        if not alive.any() or s + 1 == steps:
            break
        logits = model(nxt[:, None], caches, start=p + s)
    rows = []
    for r in out.tolist():
        rows.append(r[: r.index(eos)] if eos in r else r)
    return rows


def lr_at(step: int, frac: float, args) -> float:
    """Linear warm-up over ``args.warmup`` steps, then cosine decay over the time budget to
    ``args.min_lr`` x the peak."""
    warm = min(1.0, (step + 1) / max(args.warmup, 1))
    cos = 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))
    return args.lr * warm * (args.min_lr + (1 - args.min_lr) * cos)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="runs/tiny", help="Working folder (dataset, predictions).")
    ap.add_argument("--minutes", type=float, default=10.0, help="Training time budget.")
    ap.add_argument("--train-rows", type=int, default=100000)
    ap.add_argument("--test-rows", type=int, default=200)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--pos", choices=["rope", "learned", "both"], default="both",
                    help="Rotary, learned absolute, or both position embeddings.")
    ap.add_argument("--lr", type=float, default=3e-3, help="Peak learning rate.")
    ap.add_argument("--min-lr", type=float, default=0.1, help="Final LR as a fraction of --lr.")
    ap.add_argument("--warmup", type=int, default=100, help="Warm-up steps.")
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1,
                    help="Torch threads. A model this small gains little from more, and on a "
                         "busy machine several threads can run 10x slower than one.")
    ap.add_argument("--max-new", type=int, default=0,
                    help="Runaway cap on generated tokens (0: longest training completion + 64).")
    ap.add_argument("--show", type=int, default=2, help="Decoded test outputs to print.")
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
    trace = not args.no_trace
    train = MazeIterableDataset(data_dir, "train", tok, seed=args.seed, buffer_rows=4096,
                                trace=trace)
    context = 1024
    model = TinyGPT(len(tok), args.d_model, args.layers, args.heads, context,
                    rope=args.pos in ("rope", "both"), absolute=args.pos in ("learned", "both"))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params / 1e6:.2f} M parameters, vocabulary {len(tok)}, "
          f"{'trace + plan' if trace else 'plan only'} supervision")
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    budget = args.minutes * 60
    start, step, epoch, tokens, loss_tokens = time.perf_counter(), 0, 0, 0, 0
    longest = 0
    done, avg = False, None
    while not done:
        train.set_epoch(epoch)
        rng = np.random.default_rng([args.seed, epoch])
        for batch in length_batches(train, args.batch, rng):
            ids, labels = batch["input_ids"], batch["labels"]
            elapsed = time.perf_counter() - start
            for group in opt.param_groups:
                group["lr"] = lr_at(step, elapsed / budget, args)
            logits = model(ids[:, :-1])
            target = labels[:, 1:]  # the prompt is -100: the loss falls on the completion only
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1),
                                   ignore_index=-100)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            tokens += int(batch["attention_mask"].sum())
            n_loss = int((target != -100).sum(1).max())
            loss_tokens += int((target != -100).sum())
            longest = max(longest, n_loss)
            avg = loss.item() if avg is None else 0.95 * avg + 0.05 * loss.item()
            if step % 100 == 0:
                print(f"step {step:5d} epoch {epoch} loss {avg:.3f} "
                      f"({tokens / elapsed:.0f} tokens/s, {elapsed:.0f} s)", flush=True)
            if elapsed > budget:
                done = True
                break
        epoch += 1
    train_s = time.perf_counter() - start
    print(f"trained {step} steps, {tokens} tokens ({loss_tokens} in the loss), "
          f"{step * args.batch} rows ({epoch} epochs started) in {train_s:.0f} s")

    torch.save(model.state_dict(), out / "model.pt")
    model.eval()
    test = MazeIterableDataset(data_dir, "test", tok, shuffle=False, buffer_rows=args.test_rows,
                               trace=trace)
    from mazebench.datasets.load import Dataset
    from mazebench.evaluate import validate_texts

    data = Dataset(data_dir)
    ids_col = data.table("test", columns=["id"]).column("id").to_pylist()
    max_new = args.max_new or longest + 64
    preds, problems, refs = [], [], []
    t1 = time.perf_counter()
    for enc, rows in test.iter_chunks():
        plen = enc.prompt_lengths
        for p in np.unique(plen):  # equal-length prompts decode together
            sel = np.flatnonzero(plen == p)
            for a in range(0, len(sel), 64):
                part = sel[a : a + 64]
                prompts = np.stack([enc.row(i)[:p] for i in part])
                gens = generate_batch(model, prompts, tok.vocab.eos_id, max_new)
                for i, gen in zip(part, gens):
                    row = int(rows[i])
                    preds.append({"id": ids_col[row], "completion": tok.decode(gen)})
                    refs.append(tok.decode(enc.row(i)[p:-1]))
                    problems.append(data.example("test", row).problem)
    pred_path = out / "predictions.jsonl"
    pred_path.write_text("".join(json.dumps(p) + "\n" for p in preds))
    v = validate_texts(problems, [p["completion"] for p in preds], "beyond-semantics")
    n = len(preds)
    print(f"decoded {n} test prompts in {time.perf_counter() - t1:.0f} s -> {pred_path}")
    for k in range(min(args.show, n)):
        print(f"  test {k} model: {preds[k]['completion']}\n  test {k} truth: {refs[k]}")
    print(f"plan valid {v.plan_valid.mean():.1%}, plan optimal {v.plan_optimal.mean():.1%}, "
          f"trace valid {v.trace_valid.mean():.1%} of {n}; 2x2 table {v.table()}")
    print(f"first errors: {v.first_error_histogram()}")
    report = out / "report"
    res = subprocess.run([sys.executable, "-m", "mazebench.cli", "evaluate", str(data_dir),
                          str(pred_path), "-o", str(report), "--split", "test", "--n-boot", "200"],
                         capture_output=True, text=True)
    print(res.stdout.strip() or "\n".join(res.stderr.strip().splitlines()[-1:]))


if __name__ == "__main__":
    sys.exit(main())
