#!/usr/bin/env python3
"""Checks a model xright saved or exported against what xright itself computes on it (docs/GGUF.md, "Saving").

    check_saved_model.py EXPECT.json

EXPECT.json (written by the Swift tests) holds:
  "model":      a Hugging Face directory, or a .gguf file (loaded with transformers' gguf_file=)
  "ids":        token id sequences; "logits": xright's logits at the last position of each, on the same model
  "tolerance":  largest allowed max|xright - transformers| / max|transformers| per sequence
  "texts", "text_ids" (optional): texts and the ids xright's tokenizer gives; AutoTokenizer must give the same
  "chat_template" (optional): the template the tokenizer must carry
  "gguf" (optional): {"architecture": "llama", "tensor_types": {"name": "Q8_0", ...}, "keys": [...]} checked with
                     the gguf package's reader

Prints one "OK: ..." line per check that passed and exits 0; exits 1 naming the first failure.
"""
import json
import os
import sys

import torch


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def load(path):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    if path.endswith(".gguf"):
        folder, name = os.path.split(os.path.abspath(path))
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, torch_dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    else:
        model = AutoModelForCausalLM.from_pretrained(path, torch_dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(path)
    model.eval()
    return model, tokenizer


def check_gguf(path, wanted):
    from gguf import GGUFReader
    reader = GGUFReader(path)
    fields = reader.fields
    arch = fields["general.architecture"]
    architecture = bytes(arch.parts[arch.data[0]]).decode()
    if architecture != wanted["architecture"]:
        fail(f"general.architecture is {architecture!r}, expected {wanted['architecture']!r}")
    for key in wanted.get("keys", []):
        if key not in fields:
            fail(f"metadata key {key!r} missing")
    types = {t.name: t.tensor_type.name for t in reader.tensors}
    for name, kind in wanted.get("tensor_types", {}).items():
        if types.get(name) != kind:
            fail(f"tensor {name!r} is {types.get(name)}, expected {kind}")
    print(f"OK: gguf reader: {architecture}, {len(reader.tensors)} tensors, {len(fields)} metadata keys")


def main():
    expect = json.load(open(sys.argv[1]))
    path = expect["model"]
    if "gguf" in expect:
        check_gguf(path, expect["gguf"])
    model, tokenizer = load(path)
    worst = 0.0
    with torch.no_grad():
        for ids, wanted in zip(expect["ids"], expect["logits"]):
            got = model(torch.tensor([ids])).logits[0, -1].double()
            want = torch.tensor(wanted, dtype=torch.float64)
            if got.shape != want.shape:
                fail(f"logits of {len(got)} classes, xright has {len(want)}")
            error = ((got - want).abs().max() / got.abs().max()).item()
            worst = max(worst, error)
            if not error <= expect["tolerance"]:
                fail(f"ids {ids[:8]}...: relative logit difference {error:.3g} > {expect['tolerance']}")
    print(f"OK: logits of {len(expect['ids'])} sequences, largest relative difference {worst:.3g}")
    for text, ids in zip(expect.get("texts", []), expect.get("text_ids", [])):
        got = tokenizer.encode(text)
        if got != ids:
            fail(f"AutoTokenizer gives {got[:20]} for {text[:40]!r}; xright gives {ids[:20]}")
    if expect.get("texts"):
        print(f"OK: tokenizer ids of {len(expect['texts'])} texts")
    if "chat_template" in expect:
        if tokenizer.chat_template != expect["chat_template"]:
            fail(f"chat_template differs: {str(tokenizer.chat_template)[:80]!r}")
        if "eos_token" in expect and tokenizer.eos_token != expect["eos_token"]:
            fail(f"eos_token is {tokenizer.eos_token!r}, expected {expect['eos_token']!r}")
        print("OK: chat template and special tokens")


if __name__ == "__main__":
    main()
