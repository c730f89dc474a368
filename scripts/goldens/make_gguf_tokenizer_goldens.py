#!/usr/bin/env python3
"""Goldens for the tokenizer built from GGUF metadata (Sources/Text/GGUFTokenizer.swift), from transformers'
GGUF tokenizer (`AutoTokenizer.from_pretrained(dir, gguf_file=...)`).

    python3 scripts/goldens/make_gguf_tokenizer_goldens.py [--data ../shared/data] [--model PATH.gguf]

Writes into Tests/TextTests/Fixtures/gguf/:
  tiny_tokenizer.gguf        the 404-token BPE of tiny_bpe_tokenizer.json as a GGUF (gpt2 model, pre "smollm"):
                             CONTROL tokens <|endoftext|>, <|pad|>, <mask> and "<| sp |>" (spelled outside the
                             byte-level alphabet, so transformers skips it), USER_DEFINED "[R]", "wordtok" and
                             "  " (not in the respelled vocabulary, so skipped), a chat template
  tiny_tokenizer_spm.gguf, tiny_tokenizer_llama3.gguf, tiny_tokenizer_no_tokens.gguf
                             the same with tokenizer.ggml.model "llama", with pre "llama-bpe", without tokens
                             (files the Swift side must reject)
  gguf_tokenizer_cases.json  {"tiny": [[text, ids], ...], "smollm2": [[text, ids], ...]} for hand-written texts
  tokenizer_digests_smollm2_gguf.bin
                             one digest per text of the shared corpus (format: tokenizer_goldens.py), with
                             SmolLM2-135M-Instruct.Q4_1.gguf's tokenizer
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

import gguf

sys.path.insert(0, os.path.dirname(__file__))
from tokenizer_goldens import corpus, fnv1a_ids, varint  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "TextTests", "Fixtures", "gguf")
TINY_JSON = os.path.join(ROOT, "Tests", "TextTests", "Fixtures", "tiny_bpe_tokenizer.json")
MODEL = os.path.expanduser("~/.cache/xright/models/SmolLM2-135M-Instruct.Q4_1.gguf")

CASES = [
    "", "Hello world", "Hello  world", "   leading and trailing   ", "tabs\tand\nnew\r\nlines\n\n\n",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n", "<|endoftext|><|endoftext|>x",
    "don't I'll we've they're it's", "numbers 12345 and 3.14159, 1,000,000", "émoji 🤗 ünïcode 日本語 한국어",
    "a <mask> b [R]  c wordtok wordtoken", "<| sp |> control with spaces", "aaaa aaaaaaaa bbbb",
    "Zero\u200bwidth and non\u00a0breaking", "mixed CASE and_under_scores", "```python\ndef f(x):\n    return x\n```",
]


def tiny_gguf(path, model="gpt2", pre="smollm", with_tokens=True):
    tiny = json.load(open(TINY_JSON, encoding="utf-8"))
    vocab = tiny["model"]["vocab"]
    tokens = [None] * 405
    for token, index in vocab.items():
        tokens[index] = token
    types = [1] * 405
    for added in tiny["added_tokens"]:
        tokens[added["id"]] = added["content"]
    tokens[404] = "<| sp |>"
    for index in (0, 1, 400, 404):
        types[index] = 3  # CONTROL
    for index in (401, 402, 403):
        types[index] = 4  # USER_DEFINED
    merges = [" ".join(m) if isinstance(m, list) else m for m in tiny["model"]["merges"]]
    w = gguf.GGUFWriter(path, arch="llama")
    w.add_tokenizer_model(model)
    w.add_tokenizer_pre(pre)
    if with_tokens:
        w.add_token_list(tokens)
        w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(0)
    w.add_eos_token_id(0)
    w.add_pad_token_id(1)
    w.add_add_bos_token(False)
    w.add_chat_template("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + "
                        "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
                        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def load(path):
    from transformers import AutoTokenizer
    directory, name = os.path.split(path)
    return AutoTokenizer.from_pretrained(directory, gguf_file=name)


def ids(tok, text):
    raw = tok.encode(text, add_special_tokens=False)
    assert tok.encode(text) == raw, "this file's tokenizer adds no BOS/EOS"
    return raw


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    parser.add_argument("--model", default=MODEL)
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)

    cases = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "tiny_tokenizer.gguf")
        tiny_gguf(path)
        tok = load(path)
        cases["tiny"] = [[text, ids(tok, text)] for text in CASES]
        shutil.copy(path, OUT)
    tiny_gguf(os.path.join(OUT, "tiny_tokenizer_spm.gguf"), model="llama")
    tiny_gguf(os.path.join(OUT, "tiny_tokenizer_llama3.gguf"), pre="llama-bpe")
    tiny_gguf(os.path.join(OUT, "tiny_tokenizer_no_tokens.gguf"), with_tokens=False)

    smol = load(args.model)
    cases["smollm2"] = [[text, ids(smol, text)] for text in CASES]
    with open(os.path.join(OUT, "gguf_tokenizer_cases.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=True, indent=0)

    import transformers
    blob = bytearray(f"xright-token-digests 1 smollm2_gguf transformers={transformers.__version__}\n".encode())
    total = 0
    for source, texts in corpus(args.data):
        blob += f"source {source} {len(texts)}\n".encode()
        for text in texts:
            encoded = smol.backend_tokenizer.encode(text, add_special_tokens=False).ids
            blob += varint(len(encoded)) + fnv1a_ids(encoded).to_bytes(8, "little")
            total += 1
    with open(os.path.join(OUT, "tokenizer_digests_smollm2_gguf.bin"), "wb") as f:
        f.write(blob)
    print(f"smollm2 gguf: {total} texts, {len(blob)} bytes of digests", file=sys.stderr)


if __name__ == "__main__":
    main()
