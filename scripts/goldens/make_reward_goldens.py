#!/usr/bin/env python3
"""Goldens for the reward-model (sequence-classification) head: two tiny random reward models as TRL's
RewardTrainer saves them (GPTNeoXForSequenceClassification and LlamaForSequenceClassification, num_labels 1,
head `score.weight` [1, hidden], no bias) and the scores transformers gives for a few token sequences.

    python3 scripts/goldens/make_reward_goldens.py     # -> Tests/EngineTests/Fixtures/reward/

transformers reads the score at each sequence's last token that is not pad_token_id (here 0); the sequences
include ones that end in pad tokens (that position is skipped) and one with a pad token inside (it is not the
last non-pad one). The Llama config says tie_word_embeddings: true (as a classifier converted from a tied model
does); the classifier has no language-model head either way. Each sequence is scored alone (batch of one).

Writes neox/ and llama/ (config.json + model.safetensors, F32) and expected.json {name: {"sequences", "scores"}}.
"""
import json
import os

import torch

import transformers
from transformers import (GPTNeoXConfig, GPTNeoXForSequenceClassification, LlamaConfig,
                          LlamaForSequenceClassification)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "Tests", "EngineTests", "Fixtures", "reward")
PAD = 0
SEQUENCES = [
    [5, 17, 33, 2, 90, 41],
    [7, 7, 7, 12],
    [3, 50, 60, 70, 0, 0],       # ends in pad: scored at 70
    [9, 0, 11, 13],              # a pad inside: scored at the end
    [88],
    [44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 0],
]


def randomize(model, seed):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=generator, dtype=torch.float32)
            if "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.1 * noise)
            elif name.endswith(".bias"):
                p.copy_(0.05 * noise)
            else:
                p.copy_(0.3 * noise)


def main():
    torch.set_num_threads(1)
    models = {
        "neox": (GPTNeoXForSequenceClassification, GPTNeoXConfig(
            vocab_size=410, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
            max_position_embeddings=128, hidden_act="gelu", layer_norm_eps=1e-5, rotary_pct=0.5,
            use_parallel_residual=True, tie_word_embeddings=False, num_labels=1, pad_token_id=PAD,
            attn_implementation="eager"), 31),
        "llama": (LlamaForSequenceClassification, LlamaConfig(
            vocab_size=410, hidden_size=16, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
            intermediate_size=32, max_position_embeddings=128, hidden_act="silu", rms_norm_eps=1e-5,
            tie_word_embeddings=True, num_labels=1, pad_token_id=PAD, bos_token_id=1, eos_token_id=2,
            attn_implementation="eager"), 32),
    }
    expected = {}
    for name, (cls, config, seed) in models.items():
        torch.manual_seed(seed)
        model = cls(config).eval()
        randomize(model, seed)
        directory = os.path.join(OUT, name)
        model.save_pretrained(directory)
        reloaded = cls.from_pretrained(directory, attn_implementation="eager").eval().double()
        assert tuple(reloaded.score.weight.shape) == (1, 16) and reloaded.score.bias is None
        scores = []
        for ids in SEQUENCES:
            with torch.no_grad():
                scores.append(reloaded(input_ids=torch.tensor([ids])).logits[0, 0].item())
        expected[name] = {"sequences": SEQUENCES, "scores": scores}
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    with open(os.path.join(OUT, "versions.txt"), "w") as f:
        f.write(f"torch {torch.__version__}\ntransformers {transformers.__version__}\n")
        f.write("neox seed 31, llama seed 32; float64 forward of the saved F32 weights; pad_token_id 0\n")
    print(json.dumps(expected, indent=1))


if __name__ == "__main__":
    main()
