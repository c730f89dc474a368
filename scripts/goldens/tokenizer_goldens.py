#!/usr/bin/env python3
"""Parity goldens for the Swift tokenizers (module Text), made with the Python `tokenizers` library.

Writes into Tests/TextTests/Fixtures/:
  tokenizer_digests_pythia.bin, tokenizer_digests_gpt2.bin
      one digest per text of the shared corpus (see `corpus()`): LEB128 token count + FNV-1a 64 of the ids.
      Layout: ASCII header line, then per source an ASCII line "source <name> <count>\n" followed by
      <count> binary records (varint count, 8-byte little-endian hash).
  tokenizer_full_ids.txt      a few dozen complete id lists: "<tokenizer> <source> <index> <ids...>"
  tokenizer_edge_cases.json   hand-written texts with their ids for every tokenizer, plus decode cases
                              (byte sequences that are not valid UTF-8, unknown ids)
  tiny_bpe_tokenizer.json     a small byte-level BPE trained here (pair-encoded merges, added tokens with
                              lstrip / rstrip / single_word / normalized flags) so tests run without ../shared
  onig_unicode_classes.txt    how the `tokenizers` regex engine classifies every code point for the GPT-2
                              split pattern: ranges of \\s, \\p{L}, \\p{N} (everything else is "other")

FNV-1a 64 over ids: h = 0xcbf29ce484222325; for each id, for each of its 4 little-endian bytes b:
h = (h ^ b) * 0x100000001b3 mod 2^64.

Usage: python3 scripts/goldens/tokenizer_goldens.py [--data ../shared/data]
"""
import argparse
import gzip
import json
import os
import sys

import tokenizers
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from tokenizers import AddedToken

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "Tests", "TextTests", "Fixtures")

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = (1 << 64) - 1


def fnv1a_ids(ids):
    h = FNV_OFFSET
    for i in ids:
        for b in i.to_bytes(4, "little"):
            h = ((h ^ b) * FNV_PRIME) & MASK64
    return h


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def corpus(data_dir):
    """(source name, [texts]) in the order the Swift tests enumerate them."""
    def load(name):
        with open(os.path.join(data_dir, name), encoding="utf-8") as f:
            return json.load(f)

    sources = []
    for name in ["alpaca_5000.json", "alpaca_en_demo.json"]:
        texts = []
        for r in load(name):
            texts += [r["instruction"], r["input"], r["output"]]
        sources.append((name, texts))
    for name in ["hh_harmless_test.jsonl.gz", "hh_helpful_test.jsonl.gz"]:
        texts = []
        with gzip.open(os.path.join(data_dir, name), "rt", encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    texts += [r["chosen"], r["rejected"]]
        sources.append((name, texts))
    texts = []
    for r in load("dpo_en_demo.json"):
        texts += [m["value"] for m in r["conversations"]]
        texts += [r["chosen"]["value"], r["rejected"]["value"]]
    sources.append(("dpo_en_demo.json", texts))
    return sources


def gpt2_tokenizer(data_dir):
    """GPT-2 from encoder.json + vocab.bpe, as GPT2TokenizerFast has it: no normalizer, `<|endoftext|>` special."""
    gpt2 = os.path.join(data_dir, "gpt2")
    model = models.BPE.from_file(os.path.join(gpt2, "encoder.json"), os.path.join(gpt2, "vocab.bpe"))
    tok = Tokenizer(model)
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
    assert tok.token_to_id("<|endoftext|>") == 50256
    return tok


EDGE_TEXTS = [
    "",
    " ",
    "   ",
    " " * 50,
    "\t",
    "\t\t\n\n  \n",
    "a\n\n\nb",
    "  leading spaces",
    "trailing spaces  ",
    "hello   \n  world",
    "a \t b\r\nc\n",
    "x  y   z    w" + " " * 30 + "v",
    "👍🏽 family: 👨\u200d👩\u200d👧\u200d👦 🎉",
    "日本語のテキスト、漢字。中文 测试 한국어",
    "e\u0301 Cafe\u0301 re\u0301sume\u0301",
    "\u1100\u1161\u11a8 \u212b \u2126 \ufb01",
    "12345 3.14159 1,000,000 ٣٤٥ Ⅻ ½ ²",
    "I'm, you're, he's, we've, they'll, I'd, it's, don't 'S 'Re ''s rock 'n' roll",
    "Hello<|endoftext|>World",
    "<|endoftext|><|padding|>",
    "a <|endoftext|> b <|endoftext",
    "\u200b zero\u200bwidth \u00a0nbsp\u00a0 \u2028line\u2029 \u0085next \ufeffBOM",
    "\U0001F600 \U000E0041 \ue000 \U0010FFFF \u0000 null \u0001\u001f",
    "\u3000ideographic\u3000space ｆｕｌｌｗｉｄｔｈ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u180e",
    "\U000323b0 new in Unicode 17 \u1c89",
    "!!!??? ... --- *** $$$ 100% #hash @at",
    "User: What is 2+2?\nAssistant: 2+2 = 4.\n\nHuman: ok",
    "a" * 500,
    "\u0301 starts with a combining mark",
    "tab\tseparated\tvalues\n1\t2\t3",
]

TINY_EXTRA_TEXTS = [
    "a <mask> b  <mask>c",
    "x[R]   y [R]\tz",
    "wordtok wordtoks awordtok wordtok. (wordtok)",
    "wordtok\u0301 e\u0301wordtok",
    "<|endoftext|><|pad|>",
]

TINY_TRAINING_TEXT = """The quick brown fox jumps over the lazy dog. It's a fine day, isn't it? We'll see.
User: Give me three tips for staying healthy.
Assistant: 1. Eat a balanced diet. 2. Exercise regularly. 3. Sleep well.
Numbers like 12345 and 3.14 appear; so do émigrés, naïve cafés and 日本語.
    Indented code: for i in range(10): print(i)
Emoji 👍 and symbols $ % & * ( ) [ ] { } < > / \\ | ~ ^
"""


def tiny_tokenizer():
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        min_frequency=1,
        special_tokens=["<|endoftext|>", "<|pad|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(TINY_TRAINING_TEXT.splitlines() * 3 + EDGE_TEXTS, trainer=trainer)
    tok.add_special_tokens([
        AddedToken("<mask>", lstrip=True, special=True, normalized=False),
        AddedToken("[R]", rstrip=True, special=True, normalized=False),
    ])
    tok.add_tokens([
        AddedToken("wordtok", single_word=True, normalized=True, special=False),
        AddedToken("  ", normalized=True, special=False),
    ])
    return tok


def byte_level_ids(tok, raw):
    """Ids of the single-byte tokens for `raw` (to build byte sequences that are not valid UTF-8)."""
    alphabet = bytes_to_unicode()
    return [tok.token_to_id(alphabet[b]) for b in raw]


def bytes_to_unicode():
    # GPT-2's printable mapping (openai/gpt-2 encoder.py): printable Latin-1 bytes map to themselves,
    # the rest to U+0100 onwards in byte order.
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    mapping, n = {}, 0
    for b in range(256):
        if b in keep:
            mapping[b] = chr(b)
        else:
            mapping[b] = chr(256 + n)
            n += 1
    return mapping


DECODE_BYTES = [
    [0x61, 0xE2, 0x82, 0x61],  # truncated 3-byte sequence
    [0xF0, 0x9F, 0x98],  # truncated 4-byte sequence at the end
    [0xFF, 0xFE, 0x41],  # bytes that never appear in UTF-8
    [0xC0, 0xAF],  # overlong encoding of "/"
    [0xE0, 0x80, 0x41],  # overlong 3-byte lead
    [0xED, 0xA0, 0x80, 0x62],  # encoded surrogate
    [0xE2, 0x82, 0xAC],  # valid: "€" split over three tokens
    [0x80, 0x80, 0xC3],  # lone continuation bytes, truncated lead
]


def edge_cases(toks):
    out = {"tokenizers_version": tokenizers.__version__, "texts": [], "decode": []}
    for text in EDGE_TEXTS + TINY_EXTRA_TEXTS:
        entry = {"text": text}
        for name, tok in toks.items():
            if tok is None:
                continue
            enc = tok.encode(text)
            entry[name] = enc.ids
            entry[name + "_decoded"] = tok.decode(enc.ids, skip_special_tokens=False)
        out["texts"].append(entry)
    for raw in DECODE_BYTES:
        entry = {"bytes": raw}
        for name, tok in toks.items():
            if tok is None:
                continue
            ids = byte_level_ids(tok, raw)
            if None in ids:  # Pythia's vocabulary lacks the bytes UTF-8 never uses (C0, C1, F5-FF)
                continue
            entry[name] = {"ids": ids, "text": tok.decode(ids, skip_special_tokens=False)}
        out["decode"].append(entry)
    for name, tok in toks.items():
        if tok is None:
            continue
        ids = tok.encode("ok").ids + [10_000_000] + tok.encode("!").ids
        out["decode"].append({"unknown_id": True, name: {"ids": ids,
                                                          "text": tok.decode(ids, skip_special_tokens=False)}})
    return out


def unicode_classes():
    """Ranges of code points the onig regex of `tokenizers` puts in \\s, \\p{L}, \\p{N}."""
    cps = [c for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    text = "".join(chr(c) for c in cps)
    classes = {}
    for name, pattern in [("s", r"\s"), ("L", r"\p{L}"), ("N", r"\p{N}")]:
        split = pre_tokenizers.Split(Regex(pattern), behavior="removed")
        kept = {ord(ch) for piece, _ in split.pre_tokenize_str(text) for ch in piece}
        for c in cps:
            if c not in kept:
                assert c not in classes, hex(c)
                classes[c] = name
    lines, start, prev, cls = [], None, None, None
    for c in sorted(classes):
        if start is not None and c == prev + 1 and classes[c] == cls:
            prev = c
            continue
        if start is not None:
            lines.append(f"{start:X} {prev:X} {cls}")
        start, prev, cls = c, c, classes[c]
    lines.append(f"{start:X} {prev:X} {cls}")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    args = parser.parse_args()
    os.makedirs(FIXTURES, exist_ok=True)

    pythia = Tokenizer.from_file(os.path.join(args.data, "pythia_tokenizer.json"))
    gpt2 = gpt2_tokenizer(args.data)
    tiny = tiny_tokenizer()
    tiny.save(os.path.join(FIXTURES, "tiny_bpe_tokenizer.json"))

    sources = corpus(args.data)
    full_lines = []
    for name, tok in [("pythia", pythia), ("gpt2", gpt2)]:
        blob = bytearray(f"xright-token-digests 1 {name} tokenizers={tokenizers.__version__}\n".encode())
        for source, texts in sources:
            blob += f"source {source} {len(texts)}\n".encode()
            picked_ascii = picked_other = 0
            for index, text in enumerate(texts):
                ids = tok.encode(text).ids
                assert tok.decode(ids, skip_special_tokens=False) == text, (name, source, index)
                blob += varint(len(ids)) + fnv1a_ids(ids).to_bytes(8, "little")
                if not text or len(ids) > 300:
                    continue
                if text.isascii() and picked_ascii < 2:
                    picked_ascii += 1
                elif not text.isascii() and picked_other < 3:
                    picked_other += 1
                else:
                    continue
                full_lines.append(f"{name} {source} {index} " + " ".join(map(str, ids)))
        with open(os.path.join(FIXTURES, f"tokenizer_digests_{name}.bin"), "wb") as f:
            f.write(blob)
        print(f"{name}: {sum(len(t) for _, t in sources)} texts, {len(blob)} bytes of digests", file=sys.stderr)
    with open(os.path.join(FIXTURES, "tokenizer_full_ids.txt"), "w", encoding="utf-8") as f:
        f.write("# tokenizer source index ids... (scripts/goldens/tokenizer_goldens.py)\n")
        f.write("\n".join(full_lines) + "\n")

    edges = edge_cases({"pythia": pythia, "gpt2": gpt2, "tiny": tiny})
    with open(os.path.join(FIXTURES, "tokenizer_edge_cases.json"), "w", encoding="utf-8") as f:
        json.dump(edges, f, ensure_ascii=True, indent=1)

    with open(os.path.join(FIXTURES, "onig_unicode_classes.txt"), "w", encoding="ascii") as f:
        f.write("# first last class (s = \\s, L = \\p{L}, N = \\p{N}); tokenizers=" + tokenizers.__version__ + "\n")
        f.write("\n".join(unicode_classes()) + "\n")


if __name__ == "__main__":
    main()
