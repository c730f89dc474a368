#!/usr/bin/env python3
"""transformers' side of `xright bench generate` (docs/GENERATE.md, "Benchmark").

Started once by the bench with the model; then, for every line "go" on stdin, runs one greedy
`generate` of exactly NEW tokens from the given prompt ids (end token ignored, as on the xright side) and
answers one JSON line: {"ttft_s": prefill → first token's logits, "decode_tokens_per_s": tokens after the first
over the time they took}. Threads: torch.set_num_threads(THREADS).

Usage: generate_transformers.py (--gguf FILE | --config-dir DIR) --prompt-ids 1,2,3 --new 64 --threads 2
"""
import argparse
import json
import sys
import time
import warnings

warnings.filterwarnings("ignore")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf")
    ap.add_argument("--config-dir")
    ap.add_argument("--prompt-ids", required=True)
    ap.add_argument("--new", type=int, required=True)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, LogitsProcessor, LogitsProcessorList
    torch.set_num_threads(a.threads)
    if a.gguf:
        import os
        model = AutoModelForCausalLM.from_pretrained(os.path.dirname(a.gguf), gguf_file=os.path.basename(a.gguf),
                                                     torch_dtype=torch.float32)
    else:
        # Same architecture as the xright preset, transformers' own random weights: the workload (fixed token
        # count, end token ignored) does not depend on the values.
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(a.config_dir), torch_dtype=torch.float32)
    model.eval()
    ids = torch.tensor([[int(x) for x in a.prompt_ids.split(",")]])

    class Clock(LogitsProcessor):
        def __init__(self):
            self.times = []

        def __call__(self, input_ids, scores):
            self.times.append(time.perf_counter())
            return scores

    print(json.dumps({"ready": True, "torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        if line.strip() != "go":
            break
        clock = Clock()
        with torch.inference_mode():
            start = time.perf_counter()
            out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=a.new,
                                 min_new_tokens=a.new, pad_token_id=0, logits_processor=LogitsProcessorList([clock]),
                                 temperature=None, top_p=None, top_k=None)
        n = out.shape[1] - ids.shape[1]
        t = clock.times
        rate = (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 else 0.0
        print(json.dumps({"ttft_s": t[0] - start, "decode_tokens_per_s": rate, "new_tokens": n}), flush=True)


if __name__ == "__main__":
    main()
