#!/usr/bin/env python3
"""Single-threaded encoding throughput of Python `tokenizers`, the baseline for `xright bench tokenizer`.

Encodes every field (instruction, input, output) of every record of an Alpaca JSON file, one `encode` call per
text (no `encode_batch`: it fans out over threads), `--passes` times, and prints one JSON object on stdout:
  {"tokenizers_version", "texts", "bytes", "tokens", "pass_seconds": [...], "mb_per_s", "first_pass_mb_per_s"}
MB = 10^6 bytes of UTF-8 text; mb_per_s is over the fastest pass, as on the Swift side.

--tokenizer: a tokenizer.json, a directory holding one, or a directory holding encoder.json + vocab.bpe.
"""
import os

# Before `tokenizers` is imported: its Rust thread pool reads these once.
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402


def load_tokenizer(path):
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    if os.path.isfile(path):
        return Tokenizer.from_file(path)
    if os.path.isfile(os.path.join(path, "tokenizer.json")):
        return Tokenizer.from_file(os.path.join(path, "tokenizer.json"))
    encoder, merges = os.path.join(path, "encoder.json"), os.path.join(path, "vocab.bpe")
    if os.path.isfile(encoder) and os.path.isfile(merges):
        tok = Tokenizer(models.BPE.from_file(encoder, merges))
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        tok.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
        return tok
    raise SystemExit(f"{path}: expected tokenizer.json, or encoder.json + vocab.bpe")


def alpaca_texts(path):
    with open(path, encoding="utf-8") as f:
        records = json.load(f)
    return [r[field] for r in records for field in ("instruction", "input", "output")]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()

    import tokenizers

    tok = load_tokenizer(args.tokenizer)
    texts = alpaca_texts(args.data)
    total_bytes = sum(len(t.encode("utf-8")) for t in texts)
    seconds, tokens = [], 0
    for p in range(max(1, args.passes)):
        encode = tok.encode
        count = 0
        start = time.perf_counter()
        for text in texts:
            count += len(encode(text).ids)
        seconds.append(time.perf_counter() - start)
        tokens = count
        print(f"python pass {p + 1}/{args.passes}: {seconds[-1]:.3f} s", file=sys.stderr)
    print(json.dumps({
        "tokenizers_version": tokenizers.__version__,
        "texts": len(texts),
        "bytes": total_bytes,
        "tokens": tokens,
        "pass_seconds": seconds,
        "mb_per_s": total_bytes / min(seconds) / 1e6,
        "first_pass_mb_per_s": total_bytes / seconds[0] / 1e6,
    }))


if __name__ == "__main__":
    main()
