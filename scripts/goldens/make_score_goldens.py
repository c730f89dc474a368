#!/usr/bin/env python3
"""Goldens for `xright score`: two tiny GPT-NeoX models (a policy and a different reference), small SFT and
preference JSONL files, and the per-record values transformers computes for them.

    python3 scripts/goldens/make_score_goldens.py     # -> Tests/CLITests/Fixtures/score/

Token convention (docs/DESIGN.md §1, no template): ids = tok(prompt) ++ tok(response) ++ [eos]; the loss covers the
response tokens and eos. The tokenizer is Tests/TextTests/Fixtures/tiny_bpe_tokenizer.json (byte-level BPE, 404 ids,
eos `<|endoftext|>` = 0), encoded with `tokenizers` without special tokens added.

Writes:
  policy/, reference/   config.json + model.safetensors (F32) as GPTNeoXForCausalLM.save_pretrained writes them
  sft.jsonl             {"prompt", "response"} per line
  pref.jsonl            {"prompt", "chosen", "rejected"} per line
  expected.json         {"sft_loss", "chosen_logp", "rejected_logp", "ref_chosen_logp", "ref_rejected_logp",
                         "dpo_loss", "beta"}: per record, in file order, computed in float64 from the saved weights
  versions.txt          library versions

sft_loss = mean −log p over the scored tokens; *_logp = Σ log p over them; dpo_loss = −log σ(β z) with
z = (chosen_logp − rejected_logp) − (ref_chosen_logp − ref_rejected_logp), β = 0.1.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

import tokenizers
import transformers
from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "Tests", "CLITests", "Fixtures", "score")
TOKENIZER = os.path.join(ROOT, "Tests", "TextTests", "Fixtures", "tiny_bpe_tokenizer.json")
EOS_ID = 0
BETA = 0.1

SFT = [
    {"prompt": "User: what is 3 plus 4?\nAssistant: ", "response": "it is 7."},
    {"prompt": "Name a colour.", "response": " Blue, like the sky in summer"},
    {"prompt": "x", "response": "y"},
    {"prompt": "Translate 'bonjour':", "response": " hello (café, naïve: UTF-8 survives)"},
]
PREF = [
    {"prompt": "what's 6 times 7?", "chosen": "42 it is.", "rejected": "it is 42."},
    {"prompt": "Say something kind.", "chosen": " You did well today.", "rejected": " Whatever."},
    {"prompt": "2+2=", "chosen": "4", "rejected": "5, obviously, because numbers are hard"},
]


def make_model(seed):
    config = GPTNeoXConfig(
        vocab_size=410, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=64, hidden_act="gelu", layer_norm_eps=1e-5, rotary_pct=0.5, rotary_emb_base=10000,
        use_parallel_residual=True, tie_word_embeddings=False, attn_implementation="eager")
    torch.manual_seed(seed)
    model = GPTNeoXForCausalLM(config).eval()
    # Larger than the default init (std 0.02) so per-token log-probs differ visibly between tokens and models.
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=generator, dtype=torch.float32)
            if "norm.weight" in name:
                p.copy_(1 + 0.1 * noise)
            elif name.endswith(".bias"):
                p.copy_(0.05 * noise)
            else:
                p.copy_(0.3 * noise)
    return model


def save_and_reload(model, directory):
    os.makedirs(directory, exist_ok=True)
    model.save_pretrained(directory)
    # The goldens are a function of the files: compute them from the model as it loads back, in float64.
    return GPTNeoXForCausalLM.from_pretrained(directory, attn_implementation="eager").eval().double()


def sequence(tokenizer, prompt, response):
    p = tokenizer.encode(prompt, add_special_tokens=False).ids
    r = tokenizer.encode(response, add_special_tokens=False).ids + [EOS_ID]
    return p + r, len(p)


def scored_logp(model, ids, response_start):
    """Σ log p and count over the response tokens and eos (position t predicts token t+1)."""
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0]
    logp = F.log_softmax(logits, dim=-1)
    total = sum(logp[t - 1, ids[t]].item() for t in range(response_start, len(ids)))
    return total, len(ids) - response_start


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def main():
    torch.set_num_threads(1)
    tokenizer = tokenizers.Tokenizer.from_file(TOKENIZER)
    assert tokenizer.get_vocab_size() <= 410, "model vocab must cover the tokenizer"
    policy = save_and_reload(make_model(7), os.path.join(OUT, "policy"))
    reference = save_and_reload(make_model(8), os.path.join(OUT, "reference"))

    expected = {"beta": BETA, "sft_loss": [], "chosen_logp": [], "rejected_logp": [], "ref_chosen_logp": [],
                "ref_rejected_logp": [], "dpo_loss": []}
    for r in SFT:
        ids, start = sequence(tokenizer, r["prompt"], r["response"])
        total, count = scored_logp(policy, ids, start)
        expected["sft_loss"].append(-total / count)
    for r in PREF:
        chosen = sequence(tokenizer, r["prompt"], r["chosen"])
        rejected = sequence(tokenizer, r["prompt"], r["rejected"])
        pc, pr = scored_logp(policy, *chosen)[0], scored_logp(policy, *rejected)[0]
        rc, rr = scored_logp(reference, *chosen)[0], scored_logp(reference, *rejected)[0]
        z = (pc - pr) - (rc - rr)
        expected["chosen_logp"].append(pc)
        expected["rejected_logp"].append(pr)
        expected["ref_chosen_logp"].append(rc)
        expected["ref_rejected_logp"].append(rr)
        # −log σ(βz) = softplus(−βz)
        expected["dpo_loss"].append(F.softplus(torch.tensor(-BETA * z, dtype=torch.float64)).item())
        assert math.isfinite(expected["dpo_loss"][-1])

    write_jsonl(os.path.join(OUT, "sft.jsonl"), SFT)
    write_jsonl(os.path.join(OUT, "pref.jsonl"), PREF)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    with open(os.path.join(OUT, "versions.txt"), "w") as f:
        f.write(f"torch {torch.__version__}\ntransformers {transformers.__version__}\ntokenizers {tokenizers.__version__}\n")
        f.write("policy seed 7, reference seed 8; float64 forward of the saved F32 weights; beta 0.1\n")
    print(json.dumps(expected, indent=1))


if __name__ == "__main__":
    main()
