#!/usr/bin/env python3
"""PyTorch eager CPU throughput for xright's engine presets: the baseline the Swift engine is compared with.

    python3 scripts/bench/pytorch_engine.py [--preset bench|smollm2-135m] [--lora-rank R] [--gradient-checkpointing]
                                            [--threads 2] [--json]

Models (random init, fp32), as `xright bench engine --preset …` builds them:
  bench         GPT-NeoX (GPTNeoXForCausalLM), hidden 256, 4 layers, 4 heads, intermediate 1024, vocab 4096,
                rotary_pct 0.25, parallel residual; batch 8 × sequence 256
  smollm2-135m  Llama (LlamaForCausalLM) shaped like SmolLM2-135M: 30 layers, hidden 576, 9 heads, 3 KV heads,
                intermediate 1536, vocab 49152, tied embeddings, rope θ 100000; batch 4 × sequence 256
Random tokens; AdamW (betas 0.9/0.95, no weight decay). --lora-rank R freezes the model and trains LoRA adapters
(α = 2R) on every linear layer xright adapts by default for Llama (q,k,v,o,gate,up,down_proj), written out here
as PEFT computes them (x·Wᵀ + (α/r)·(x·Aᵀ)·Bᵀ) so no extra package is needed. After warm-up steps, reports the
median of the timed steps:
  train_tokens_per_s    tokens / (forward + backward + AdamW step)
  forward_tokens_per_s  tokens / forward under no_grad
  gflops                6 · params · train_tokens_per_s / 1e9 (params counts every parameter, embeddings too)
  sgemm_gflops          2 · n³ / time of torch.mm on two n×n fp32 matrices, n = 2048 (the machine's ceiling)
  peak_rss_mb           the process's peak resident set (getrusage), model and optimizer included
"""
import argparse
import json
import os
import resource
import statistics
import time

import torch
import transformers
from transformers import GPTNeoXConfig, GPTNeoXForCausalLM, LlamaConfig, LlamaForCausalLM

PRESETS = {"bench": (8, 256), "smollm2-135m": (4, 256)}
LLAMA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def make_model(preset, attention):
    if preset == "smollm2-135m":
        return LlamaForCausalLM(LlamaConfig(
            vocab_size=49152, hidden_size=576, num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
            intermediate_size=1536, max_position_embeddings=8192, rms_norm_eps=1e-5, rope_theta=100000.0,
            tie_word_embeddings=True, attn_implementation=attention))
    return GPTNeoXForCausalLM(bench_config(attention))


class LoRALinear(torch.nn.Module):
    """PEFT's LoRA forward for one frozen nn.Linear: base(x) + (α/r)·B(A(x)), A ~ kaiming, B = 0."""

    def __init__(self, base, rank, alpha):
        super().__init__()
        self.base = base
        self.lora_A = torch.nn.Linear(base.in_features, rank, bias=False)
        self.lora_B = torch.nn.Linear(rank, base.out_features, bias=False)
        torch.nn.init.zeros_(self.lora_B.weight)
        self.scale = alpha / rank

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scale


def attach_lora(model, rank, targets):
    for p in model.parameters():
        p.requires_grad_(False)
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if child_name in targets and isinstance(child, torch.nn.Linear):
                setattr(module, child_name, LoRALinear(child, rank, 2 * rank))


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
    parser.add_argument("--preset", choices=sorted(PRESETS), default="bench")
    parser.add_argument("--lora-rank", type=int, default=0, help="train LoRA adapters of this rank (0: full)")
    parser.add_argument("--batch", type=int, help="sequences per step (default: the preset's)")
    parser.add_argument("--sequence", type=int, help="tokens per sequence (default: the preset's)")
    parser.add_argument("--attention", choices=["sdpa", "eager"], default="sdpa",
                        help="transformers attention implementation (default sdpa, what from_pretrained picks)")
    parser.add_argument("--gradient-checkpointing", action="store_true",
                        help="model.gradient_checkpointing_enable() (non-reentrant): recompute each decoder layer in "
                             "the backward pass, as `xright bench engine --gradient-checkpointing`")
    parser.add_argument("--sgemm-size", type=int, default=2048)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()
    if args.threads < 1 or args.steps < 1 or args.warmup < 0:
        parser.error("--threads and --steps must be at least 1, --warmup at least 0")

    args.batch = args.batch or PRESETS[args.preset][0]
    args.sequence = args.sequence or PRESETS[args.preset][1]
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = make_model(args.preset, args.attention)
    params = sum(p.numel() for p in model.parameters())
    if args.lora_rank > 0:
        targets = LLAMA_TARGETS if args.preset == "smollm2-135m" else ("query_key_value",)
        attach_lora(model, args.lora_rank, targets)
    if args.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, betas=(0.9, 0.95), weight_decay=0.0)
    ids = torch.randint(0, model.config.vocab_size, (args.batch, args.sequence))
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
        "preset": args.preset,
        "lora_rank": args.lora_rank,
        "gradient_checkpointing": args.gradient_checkpointing,
        "trainable_params": sum(p.numel() for p in trainable),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
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
