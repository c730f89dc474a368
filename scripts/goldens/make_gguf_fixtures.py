#!/usr/bin/env python3
"""Writes the small GGUF fixtures the Swift reader is tested against, with the reference writer
(`gguf.GGUFWriter`), and the reference dequantization (`gguf.quants.dequantize`) of every tensor as goldens.

    python3 scripts/goldens/make_gguf_fixtures.py   # -> Tests/EngineTests/Fixtures/gguf/

types_v3.gguf: one metadata entry of every value type (arrays of numbers, of strings and of arrays included) and
one 3x512 tensor of every supported tensor type. Quantized blocks are random bytes with their f16 scale fields set
to moderate values, so every bit pattern of the quants is exercised; F16 and BF16 tensors include zeros, signed
zeros, subnormals and infinities. A Q5_0 tensor stands for a type the engine does not dequantize.
types_v2.gguf: the same bytes with the version field set to 2 (v2 and v3 have one little-endian layout).
goldens.f32 + goldens.txt: the float32 values of every dequantizable tensor, little-endian, back to back;
goldens.txt has one line per tensor, `name type offset count` (offset and count in elements).

tiny_llama_tied.gguf / tiny_llama_untied.gguf / tiny_qwen2.gguf: a random Llama (and a Qwen2 with q/k/v biases) (64 hidden, 4 heads, 2 KV heads, 2 layers, vocab 40;
F32, Q8_0 and F16 tensors) written as llama.cpp's converter writes it (Q and K rows permuted). The goldens
tiny_llama_*.expected.txt hold what transformers loads from the same file (`from_pretrained(dir, gguf_file=)`):
the config as JSON on the first line, then per tensor `name shape... : values` for a few sampled elements
and the float64 sum.
"""
import json
import os
import shutil
import tempfile

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "EngineTests", "Fixtures", "gguf")
rng = np.random.default_rng(20261201)

# Byte ranges of the f16 scale fields of each block layout (see docs/GGUF.md).
HALF_FIELDS = {
    T.Q8_0: [0], T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0],
    T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}


def random_blocks(qtype, rows, columns):
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    blocks = rng.integers(0, 256, size=(rows * columns // block, size), dtype=np.uint8)
    for at in HALF_FIELDS[qtype]:
        scale = (rng.uniform(0.001, 0.1, size=blocks.shape[0]) * rng.choice([-1, 1], size=blocks.shape[0]))
        blocks[:, at:at + 2] = scale.astype(np.float16).view(np.uint8).reshape(-1, 2)
    return blocks.reshape(rows, -1)


SPECIAL_F32 = np.array([0.0, -0.0, 1.0, -2.5, 65504.0, 6.1035156e-05, 5.9604645e-08, -5.9604645e-08,
                        np.inf, -np.inf, 1e-40, 3.0e38], dtype=np.float32)


def types_file(path):
    w = gguf.GGUFWriter(path, arch="llama")
    w.add_uint8("test.uint8", 200)
    w.add_int8("test.int8", -100)
    w.add_uint16("test.uint16", 60000)
    w.add_int16("test.int16", -30000)
    w.add_uint32("test.uint32", 4000000000)
    w.add_int32("test.int32", -2000000000)
    w.add_float32("test.float32", 0.1)
    w.add_bool("test.bool_true", True)
    w.add_bool("test.bool_false", False)
    w.add_string("test.string", "héllo, GGUF ✓")
    w.add_key_value("test.empty_string", "", gguf.GGUFValueType.STRING)  # add_string drops empty strings
    w.add_uint64("test.uint64", 18000000000000000000)
    w.add_int64("test.int64", -9000000000000000000)
    w.add_float64("test.float64", 2.718281828459045)
    w.add_array("test.array_int32", [1, -2, 3])
    w.add_key_value("test.array_float32", [0.5, -1.25], gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.FLOAT32)
    w.add_array("test.array_string", ["a", "", "ünïcode"])
    w.add_array("test.array_nested", [[1, 2], [3]])
    w.add_custom_alignment(64)  # general.alignment, and the writer pads to it

    expected = {}
    columns = 512
    for qtype in [T.Q8_0, T.Q4_0, T.Q4_1, T.Q4_K, T.Q5_K, T.Q6_K, T.Q5_0]:
        raw = random_blocks(qtype, 3, columns)
        name = "t." + qtype.name.lower()
        w.add_tensor(name, raw, raw_dtype=qtype)
        if qtype != T.Q5_0:
            expected[name] = (qtype.name, gguf.quants.dequantize(raw, qtype).astype(np.float32))
    f32 = rng.standard_normal((3, columns)).astype(np.float32)
    f32[0, :len(SPECIAL_F32)] = SPECIAL_F32
    w.add_tensor("t.f32", f32)
    expected["t.f32"] = ("F32", f32)
    f16 = f32.astype(np.float16)
    w.add_tensor("t.f16", f16)
    expected["t.f16"] = ("F16", gguf.quants.dequantize(f16.view(np.uint8), T.F16).astype(np.float32))
    bf16 = (f32.view(np.uint32) >> 16).astype(np.uint16).view(np.uint8)
    w.add_tensor("t.bf16", bf16, raw_dtype=T.BF16)
    expected["t.bf16"] = ("BF16", gguf.quants.dequantize(bf16, T.BF16).astype(np.float32))
    cube = rng.standard_normal((2, 3, 64)).astype(np.float32)
    w.add_tensor("t.cube", cube)
    expected["t.cube"] = ("F32", cube)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return expected


def write_goldens(expected):
    offset = 0
    lines = []
    with open(os.path.join(OUT, "goldens.f32"), "wb") as f:
        for name, (tname, values) in expected.items():
            flat = values.reshape(-1).astype("<f4")
            f.write(flat.tobytes())
            lines.append(f"{name} {tname} {offset} {flat.size}")
            offset += flat.size
    with open(os.path.join(OUT, "goldens.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def permute(w, n_head):
    """llama.cpp's convert_hf_to_gguf permutation of Q/K rows (rotate halves -> rotate adjacent pairs)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def tiny_llama(path, tied, arch="llama"):
    """A tiny model; `arch="qwen2"` adds q/k/v biases and, as llama.cpp does for Qwen2, leaves Q/K unpermuted."""
    hidden, heads, kv, layers, ffn, vocab = 64, 4, 2, 2, 96, 40
    qwen = arch == "qwen2"
    w = gguf.GGUFWriter(path, arch=arch)
    w.add_name("tiny-llama")
    w.add_context_length(128)
    w.add_embedding_length(hidden)
    w.add_block_count(layers)
    w.add_feed_forward_length(ffn)
    w.add_head_count(heads)
    w.add_head_count_kv(kv)
    w.add_rope_freq_base(500000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(vocab)
    w.add_rope_dimension_count(hidden // heads)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)

    def tensor(name, shape, qtype=None):
        values = (rng.standard_normal(shape) * 0.2).astype(np.float32)
        if qtype == T.Q8_0:
            w.add_tensor(name, gguf.quants.quantize(values, T.Q8_0), raw_dtype=T.Q8_0)
        elif qtype == T.F16:
            w.add_tensor(name, values.astype(np.float16))
        else:
            w.add_tensor(name, values)
        return values

    tensor("token_embd.weight", (vocab, hidden), T.Q8_0)
    for i in range(layers):
        tensor(f"blk.{i}.attn_norm.weight", (hidden,))
        q = (rng.standard_normal((hidden, hidden)) * 0.2).astype(np.float32)
        w.add_tensor(f"blk.{i}.attn_q.weight", q if qwen else permute(q, heads))
        k = (rng.standard_normal((hidden // heads * kv, hidden)) * 0.2).astype(np.float32)
        w.add_tensor(f"blk.{i}.attn_k.weight", gguf.quants.quantize(k if qwen else permute(k, kv), T.Q8_0),
                     raw_dtype=T.Q8_0)
        if qwen:
            tensor(f"blk.{i}.attn_q.bias", (hidden,))
            tensor(f"blk.{i}.attn_k.bias", (hidden // heads * kv,))
            tensor(f"blk.{i}.attn_v.bias", (hidden // heads * kv,))
        tensor(f"blk.{i}.attn_v.weight", (hidden // heads * kv, hidden), T.F16)
        tensor(f"blk.{i}.attn_output.weight", (hidden, hidden), T.Q8_0)
        tensor(f"blk.{i}.ffn_norm.weight", (hidden,))
        tensor(f"blk.{i}.ffn_gate.weight", (ffn, hidden), T.Q8_0)
        tensor(f"blk.{i}.ffn_up.weight", (ffn, hidden))
        tensor(f"blk.{i}.ffn_down.weight", (hidden, ffn), T.F16)
    tensor("output_norm.weight", (hidden,))
    if not tied:
        tensor("output.weight", (vocab, hidden), T.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def sample_indices(n, count=12):
    return sorted({(k * 2654435761 + 97) % n for k in range(count)} | {0, n - 1})


def transformers_goldens(path, out_path):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    directory, name = os.path.split(path)
    config = AutoConfig.from_pretrained(directory, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype=torch.float32)
    keys = ["model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
            "num_attention_heads", "num_key_value_heads", "head_dim", "rms_norm_eps", "max_position_embeddings",
            "tie_word_embeddings", "bos_token_id", "eos_token_id"]
    summary = {k: getattr(config, k) for k in keys if getattr(config, k, None) is not None}
    summary["rope_theta"] = config.rope_parameters["rope_theta"]
    lines = [json.dumps(summary, sort_keys=True)]
    state = model.state_dict()
    for key in sorted(state):
        if key == "lm_head.weight" and config.tie_word_embeddings:
            continue
        flat = state[key].detach().to(torch.float64).reshape(-1).numpy()
        picks = " ".join(f"{i}={float(np.float32(flat[i])).hex()}" for i in sample_indices(flat.size))
        shape = "x".join(str(s) for s in state[key].shape)
        lines.append(f"{key} {shape} {float(flat.sum()).hex()} {picks}")
    with open(out_path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    v3 = os.path.join(OUT, "types_v3.gguf")
    write_goldens(types_file(v3))
    data = bytearray(open(v3, "rb").read())
    assert data[4:8] == (3).to_bytes(4, "little")
    data[4:8] = (2).to_bytes(4, "little")
    open(os.path.join(OUT, "types_v2.gguf"), "wb").write(bytes(data))
    # Check the file with the reference reader too.
    reader = gguf.GGUFReader(v3)
    assert reader.fields["general.alignment"].parts[-1][0] == 64

    for label, tied, arch in [("llama_tied", True, "llama"), ("llama_untied", False, "llama"),
                              ("qwen2", False, "qwen2")]:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, f"tiny_{label}.gguf")
            tiny_llama(path, tied, arch)
            transformers_goldens(path, os.path.join(OUT, f"tiny_{label}.expected.txt"))
            shutil.copy(path, os.path.join(OUT, f"tiny_{label}.gguf"))
    with open(os.path.join(OUT, "versions.txt"), "w") as f:
        import importlib.metadata
        import transformers
        f.write(f"gguf {importlib.metadata.version('gguf')}\n"
                f"numpy {np.__version__}\ntransformers {transformers.__version__}\n")


if __name__ == "__main__":
    main()
