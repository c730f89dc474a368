#!/usr/bin/env python3
"""transformers' logits for SmolLM2-135M-Instruct loaded from its GGUF (Q4_1, dequantized to float32 by
transformers' GGUF loader), for the Swift test that loads the same file into the Llama engine.

    python3 scripts/goldens/make_llama_gguf_goldens.py [--gguf PATH]   # -> Tests/EngineTests/Fixtures/gguf/smollm2_logits.json

The weights are not in the repository (see Tests/TestSupport/SmolLM2File.swift for where the file comes from). The
fixture holds token ids of three short prompts (encoded with the GGUF's tokenizer under its chat template) and,
per position, the logits of a fixed sample of 48 vocabulary ids, the argmax and the log-probability of the next
token, computed in float32 with eager attention (what the engine computes).
"""
import argparse
import json
import os

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "EngineTests", "Fixtures",
                       "gguf", "smollm2_logits.json")
PROMPTS = ["What is the capital of France?", "Write a haiku about the sea.", "2 + 2 ="]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gguf", default=os.path.expanduser("~/.cache/xright/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    directory, name = os.path.split(args.gguf)
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, torch_dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    generator = torch.Generator().manual_seed(0)
    sample = sorted(torch.randperm(model.config.vocab_size, generator=generator)[:48].tolist())
    cases = []
    for prompt in PROMPTS:
        text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                             add_generation_prompt=True)
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids])).logits[0]
        log_probs = torch.log_softmax(logits, dim=-1)
        cases.append({
            "prompt": prompt,
            "ids": ids,
            "sample_logits": [[round(v, 6) for v in logits[t, sample].tolist()] for t in range(len(ids))],
            "argmax": logits.argmax(dim=-1).tolist(),
            "next_log_probs": [round(log_probs[t, ids[t + 1]].item(), 6) for t in range(len(ids) - 1)],
        })
    with open(FIXTURE, "w") as f:
        json.dump({"generator": "scripts/goldens/make_llama_gguf_goldens.py",
                   "transformers": transformers.__version__, "torch": torch.__version__,
                   "file": name, "sample_ids": sample, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {FIXTURE}: {sum(len(c['ids']) for c in cases)} positions")


if __name__ == "__main__":
    main()
