#!/usr/bin/env python3
"""Goldens for `xright eval --mc`: multiple-choice log-likelihoods of two tiny random models (GPT-NeoX and Llama),
computed with transformers in lm-evaluation-harness's convention, re-implemented here from the harness's code:

  context      = the k solved examples and the question, each "Question: {q}\\nAnswer:" (+ " {right choice}" for
                 the examples), joined by "\\n\\n" (fewshot_delimiter); the examples are the file's first k questions
                 and are not scored
  continuation = " {choice}" (target_delimiter " ")
  tokens       = the harness's _encode_pair: trailing whitespace of the context moves to the continuation;
                 whole = tok(context + continuation), ctx = tok(context), cont = whole[len(ctx):]; no special tokens
  loglikelihood = Σ log p(cont tokens | everything before), one forward of ctx + cont
  acc          = argmax(ll) == answer;  acc_norm = argmax(ll / len(choice)) == answer, len in characters (Python
                 len, code points) of the choice without the delimiter, as the harness's process_results does

    python3 scripts/goldens/make_eval_goldens.py     # -> Tests/CLITests/Fixtures/eval/

Writes neox/ and llama/ (config.json + model.safetensors, F32, as save_pretrained writes them), mc.jsonl,
expected_mc.json ({model: {shots: {"loglikelihoods": [[...]], "prediction", "prediction_norm", "acc", "acc_norm"}}})
and versions.txt. Tokenizer: Tests/TextTests/Fixtures/tiny_bpe_tokenizer.json (404 ids).
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

import tokenizers
import transformers
from transformers import GPTNeoXConfig, GPTNeoXForCausalLM, LlamaConfig, LlamaForCausalLM

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "Tests", "CLITests", "Fixtures", "eval")
TOKENIZER = os.path.join(ROOT, "Tests", "TextTests", "Fixtures", "tiny_bpe_tokenizer.json")
SHOTS = [0, 2]

QUESTIONS = [
    {"question": "What colour is the sky on a clear day?", "choices": ["blue", "green", "red", "purple"], "answer": 0},
    {"question": "How many legs has a spider?", "choices": ["six", "eight", "ten", "four"], "answer": 1},
    {"question": "Which is a fruit?", "choices": ["carrot", "potato", "apple", "onion"], "answer": "C",
     "subject": "food"},
    {"question": "What is 2 + 3?", "choices": ["4", "5", "six", "23"], "answer": 1},
    {"question": "Which word is French for coffee?", "choices": ["café", "tea", "naïveté itself", "Kaffee"], "answer": 0},
    {"question": "Pick the largest number.", "choices": ["12", "7", "1000", "99"], "answer": 2},
    {"question": "Which animal barks?", "choices": ["cat", "dog"], "answer": "b"},
]


def neox_model(seed):
    config = GPTNeoXConfig(
        vocab_size=410, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=256, hidden_act="gelu", layer_norm_eps=1e-5, rotary_pct=0.5, rotary_emb_base=10000,
        use_parallel_residual=True, tie_word_embeddings=False, attn_implementation="eager")
    torch.manual_seed(seed)
    return GPTNeoXForCausalLM(config).eval()


def llama_model(seed):
    config = LlamaConfig(
        vocab_size=410, hidden_size=16, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        intermediate_size=32, max_position_embeddings=256, hidden_act="silu", rms_norm_eps=1e-5,
        tie_word_embeddings=False, bos_token_id=1, eos_token_id=0, pad_token_id=None, attn_implementation="eager")
    torch.manual_seed(seed)
    return LlamaForCausalLM(config).eval()


def randomize(model, seed):
    """Weights larger than the default init so the choices' log-likelihoods differ clearly."""
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


def answer_index(q):
    a = q["answer"]
    return a if isinstance(a, int) else "ABCDEFGHIJKLMNOPQRSTUVWXYZ".index(a.upper())


def prompt(q):
    return f"Question: {q['question']}\nAnswer:"


def encode_pair(tok, context, continuation):
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces > 0:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = tok.encode(context + continuation, add_special_tokens=False).ids
    ctx = tok.encode(context, add_special_tokens=False).ids
    return ctx, whole[len(ctx):]


def loglikelihood(model, ctx, cont):
    ids = ctx + cont
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0]
    logp = F.log_softmax(logits.double(), dim=-1)
    return sum(logp[len(ctx) + j - 1, cont[j]].item() for j in range(len(cont)))


def evaluate(model, tok, shots):
    examples, scored = QUESTIONS[:shots], QUESTIONS[shots:]
    shot_text = [prompt(q) + " " + q["choices"][answer_index(q)] for q in examples]
    out = {"loglikelihoods": [], "prediction": [], "prediction_norm": []}
    for q in scored:
        context = "\n\n".join(shot_text + [prompt(q)])
        lls = [loglikelihood(model, *encode_pair(tok, context, " " + c)) for c in q["choices"]]
        lengths = np.array([float(len(c)) for c in q["choices"]])
        pred, pred_norm = int(np.argmax(lls)), int(np.argmax(np.array(lls) / lengths))
        # The test compares predictions exactly: no near-tie may decide them.
        for values in (np.array(lls), np.array(lls) / lengths):
            top = np.sort(values)[::-1]
            assert top[0] - top[1] > 1e-3, f"near tie in {q['question']}: {values}"
        out["loglikelihoods"].append(lls)
        out["prediction"].append(pred)
        out["prediction_norm"].append(pred_norm)
    answers = [answer_index(q) for q in scored]
    out["acc"] = float(np.mean([p == a for p, a in zip(out["prediction"], answers)]))
    out["acc_norm"] = float(np.mean([p == a for p, a in zip(out["prediction_norm"], answers)]))
    return out


def main():
    torch.set_num_threads(1)
    tok = tokenizers.Tokenizer.from_file(TOKENIZER)
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    for name, make, cls, seed in [("neox", neox_model, GPTNeoXForCausalLM, 21), ("llama", llama_model, LlamaForCausalLM, 22)]:
        model = make(seed)
        randomize(model, seed)
        directory = os.path.join(OUT, name)
        model.save_pretrained(directory)
        for extra in ("generation_config.json",):
            path = os.path.join(directory, extra)
            if os.path.exists(path):
                os.remove(path)
        reloaded = cls.from_pretrained(directory, attn_implementation="eager").eval().double()
        expected[name] = {str(k): evaluate(reloaded, tok, k) for k in SHOTS}
    with open(os.path.join(OUT, "mc.jsonl"), "w", encoding="utf-8") as f:
        for q in QUESTIONS:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
    with open(os.path.join(OUT, "expected_mc.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    with open(os.path.join(OUT, "versions.txt"), "w") as f:
        f.write(f"torch {torch.__version__}\ntransformers {transformers.__version__}\ntokenizers {tokenizers.__version__}\n")
        f.write("neox seed 21, llama seed 22; float64 forward of the saved F32 weights\n")
    print(json.dumps(expected, indent=1))


if __name__ == "__main__":
    main()
