#!/usr/bin/env python3
"""Greedy generation goldens for `xright generate` (Tests/EngineTests/GenerationGoldenTests).

For each random model fixture in Tests/EngineTests/Fixtures (llama-*, neox-*), transformers
`generate(do_sample=False)` in float64 from a fixed prompt, with the end token disabled so all
`max_new_tokens` come out; and for SmolLM2-135M-Instruct.Q4_1.gguf (when given), the reply to
"What is the capital of France?" under the file's chat template, stopping at its end token, in float32 as
`AutoModelForCausalLM.from_pretrained(dir, gguf_file=...)` loads it.

Writes Tests/EngineTests/Fixtures/generate/greedy.json:
  {"random": {name: {"prompt": [...], "ids": [...], "min_gap": float}}, "smollm2": {...}}
min_gap is the smallest top-1 minus top-2 logit over the steps: how far greedy is from a tie.

Usage: python3 scripts/goldens/make_generate_goldens.py [path/to/SmolLM2-135M-Instruct.Q4_1.gguf]
"""
import json
import os
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
FIXTURES = os.path.join(ROOT, "Tests", "EngineTests", "Fixtures")
RANDOM = ["llama-gqa4x2-untied", "llama-gqa6x1-tied-bias", "llama-gqa4x2-llama3-tied",
          "neox-rot25-parallel", "neox-rot50-parallel-odd", "neox-rot100-sequential"]
PROMPT = [3, 17, 5, 42, 8, 11]
NEW_TOKENS = 24


def greedy(model, prompt, new_tokens, eos):
    ids = torch.tensor([prompt])
    out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=new_tokens,
                         eos_token_id=eos, pad_token_id=0, output_scores=True, return_dict_in_generate=True,
                         temperature=None, top_p=None, top_k=None)
    gaps = []
    for s in out.scores:
        top = torch.topk(s[0].double(), 2).values
        gaps.append(float(top[0] - top[1]))
    return out.sequences[0, len(prompt):].tolist(), min(gaps)


def main():
    torch.manual_seed(0)
    result = {"random": {}, "prompt": PROMPT, "new_tokens": NEW_TOKENS}
    for name in RANDOM:
        model = AutoModelForCausalLM.from_pretrained(os.path.join(FIXTURES, name), torch_dtype=torch.float64)
        model.eval()
        # A token id no random model emits: the end token is disabled so every step is compared.
        ids, gap = greedy(model, PROMPT, NEW_TOKENS, eos=[model.config.vocab_size + 1])
        result["random"][name] = {"ids": ids, "min_gap": gap}
        print(name, ids, "min gap", gap)
    if len(sys.argv) > 1:
        path = sys.argv[1]
        directory, file = os.path.dirname(path), os.path.basename(path)
        tok = AutoTokenizer.from_pretrained(directory, gguf_file=file)
        model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=file, torch_dtype=torch.float32)
        model.eval()
        question = "What is the capital of France?"
        prompt = tok.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                         add_generation_prompt=True)
        prompt_ids = tok(prompt, add_special_tokens=False)["input_ids"]
        ids, gap = greedy(model, prompt_ids, 32, eos=[tok.eos_token_id])
        result["smollm2"] = {"question": question, "prompt_text": prompt, "prompt": prompt_ids, "ids": ids,
                             "text": tok.decode(ids, skip_special_tokens=True), "min_gap": gap,
                             "eos": tok.eos_token_id}
        print("smollm2", ids, repr(result["smollm2"]["text"]), "min gap", gap)
    import transformers
    result["versions"] = {"torch": torch.__version__, "transformers": transformers.__version__}
    with open(os.path.join(FIXTURES, "generate", "greedy.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
