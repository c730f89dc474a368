#!/usr/bin/env python3
"""PyTorch eager CPU throughput for xright's `bench` preset: the baseline the Swift engine is compared with.

    python3 scripts/bench/pytorch_engine.py [--threads 2] [--json]

Model: GPT-NeoX (transformers GPTNeoXForCausalLM), hidden 256, 4 layers, 4 heads, intermediate 1024, vocab 4096,
rotary_pct 0.25, parallel residual, fp32; batch 8 × sequence 256 of random tokens; AdamW (betas 0.9/0.95, no
weight decay). After warm-up steps, reports the median of the timed steps:
  train_tokens_per_s    tokens / (forward + backward + AdamW step)
  forward_tokens_per_s  tokens / forward under no_grad
  gflops                6 · params · train_tokens_per_s / 1e9 (params counts every parameter, embeddings too)
  sgemm_gflops          2 · n³ / time of torch.mm on two n×n fp32 matrices, n = 2048 (the machine's ceiling)
"""
import argparse
import json
import os
import statistics
import time

import torch
import transformers
from transformers import GPTNeoXConfig, GPTNeoXForCausalLM


def bench_config(attention):
    return GPTNeoXConfig(
        vocab_size=4096, hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024,
        max_position_embeddings=2048, hidden_act="gelu", layer_norm_eps=1e-5, rotary_pct=0.25,
        rotary_emb_base=10000, use_parallel_residual=True, tie_word_embeddings=False,
        attn_implementation=attention)


def median_seconds(step, warmup, steps):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sgemm_gflops(n, warmup=2, steps=7):
    a = torch.randn(n, n, dtype=torch.float32)
    b = torch.randn(n, n, dtype=torch.float32)
    out = torch.empty(n, n, dtype=torch.float32)
    seconds = median_seconds(lambda: torch.mm(a, b, out=out), warmup, steps)
    return 2 * n ** 3 / seconds / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps; the median is reported (default 10)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--sequence", type=int, default=256)
    parser.add_argument("--attention", choices=["sdpa", "eager"], default="sdpa",
                        help="transformers attention implementation (default sdpa, what from_pretrained picks)")
    parser.add_argument("--sgemm-size", type=int, default=2048)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()
    if args.threads < 1 or args.steps < 1 or args.warmup < 0:
        parser.error("--threads and --steps must be at least 1, --warmup at least 0")

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = GPTNeoXForCausalLM(bench_config(args.attention))
    params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.0)
    ids = torch.randint(0, 4096, (args.batch, args.sequence))
    tokens = args.batch * args.sequence

    def train_step():
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def forward_step():
        with torch.no_grad():
            model(input_ids=ids)

    model.train()
    train_seconds = median_seconds(train_step, args.warmup, args.steps)
    model.eval()
    forward_seconds = median_seconds(forward_step, args.warmup, args.steps)
    train_tokens_per_s = tokens / train_seconds
    result = {
        "train_tokens_per_s": round(train_tokens_per_s, 1),
        "forward_tokens_per_s": round(tokens / forward_seconds, 1),
        "gflops": round(6 * params * train_tokens_per_s / 1e9, 2),
        "sgemm_gflops": round(sgemm_gflops(args.sgemm_size), 2),
        "params": params,
        "threads": args.threads,
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
        "attention": args.attention,
        "batch": args.batch,
        "sequence": args.sequence,
        "steps": args.steps,
        # Other work on the machine skews every figure above; the 1-minute load average says how much.
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:22} {value}")


if __name__ == "__main__":
    main()
