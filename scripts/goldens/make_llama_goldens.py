#!/usr/bin/env python3
"""Reference Llama-family models and their float64 forward/backward results, from Hugging Face transformers, for
the Swift Llama tests; and the check that a model directory written by xright loads in transformers
(`LlamaForCausalLM.from_pretrained`) with the same logits.

    python3 scripts/goldens/make_llama_goldens.py                  # -> Tests/EngineTests/Fixtures/llama-*/
    python3 scripts/goldens/make_llama_goldens.py --check-xright-model DIR --golden Tests/EngineTests/Fixtures/llama-gqa4x2-untied

Each fixture directory holds config.json and model.safetensors as LlamaForCausalLM.save_pretrained writes them
(F32; tied models store only model.embed_tokens.weight), golden.safetensors (F32: input_ids, attention_mask,
logits [B,T,V], loss [1], grad.<name> for every tensor of model.safetensors; the same layout as
make_model_goldens.py) and versions.txt.

Float64 throughout: transformers keeps three steps of Llama in float32 even in a float64 model (the rotary
cos/sin, the eager softmax, and RMSNorm, which casts its input to float32). The three are patched to run in
float64 while the golden is computed, and each run is checked against the unpatched model (agreement at the
float32 level, ~1e-6).
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

import safetensors
import transformers
from safetensors.torch import load_file, save_file
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.models.llama import modeling_llama

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "EngineTests", "Fixtures")
PAD_ID = 0

# Small enough for KB-sized fixtures (a gradient per weight is stored), big enough that every feature shows:
# GQA 4:2 and 6:1 (head_dim 4), tied and untied, attention biases (q/k/v and o), and llama3 rope scaling whose
# frequencies fall in all three bands (theta 100, head_dim 8: wavelengths 6.3, 20, 63, 199 against
# original_max_position_embeddings 32 with low/high factors 1/4: one high, one medium, two low).
MODELS = {
    "llama-gqa4x2-untied": dict(
        seed=11, hidden_size=32, heads=4, kv_heads=2, intermediate=48, vocab_size=97, tie=False, bias=False,
        rope_theta=10000.0, rope=None, lengths=[12, 9, 5]),
    "llama-gqa6x1-tied-bias": dict(
        seed=12, hidden_size=24, heads=6, kv_heads=1, intermediate=40, vocab_size=101, tie=True, bias=True,
        rope_theta=500.0, rope=None, lengths=[11, 7, 4]),
    "llama-gqa4x2-llama3-tied": dict(
        seed=13, hidden_size=32, heads=4, kv_heads=2, intermediate=48, vocab_size=89, tie=True, bias=False,
        rope_theta=100.0, rope=dict(rope_type="llama3", factor=4.0, low_freq_factor=1.0, high_freq_factor=4.0,
                                    original_max_position_embeddings=32),
        lengths=[12, 10, 3]),
}


def make_config(spec):
    rope = dict(rope_type="default", rope_theta=spec["rope_theta"])
    if spec["rope"]:
        rope = dict(spec["rope"], rope_theta=spec["rope_theta"])
    return LlamaConfig(
        vocab_size=spec["vocab_size"], hidden_size=spec["hidden_size"], num_hidden_layers=2,
        num_attention_heads=spec["heads"], num_key_value_heads=spec["kv_heads"],
        intermediate_size=spec["intermediate"], max_position_embeddings=64, hidden_act="silu", rms_norm_eps=1e-5,
        rope_parameters=rope, tie_word_embeddings=spec["tie"], attention_bias=spec["bias"],
        bos_token_id=1, eos_token_id=2, pad_token_id=None, attn_implementation="eager")


def randomize(model, seed):
    """Weights large enough that every part shapes the output (the default init leaves attention near uniform
    and norm weights at 1)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=generator, dtype=torch.float64)
            if "norm.weight" in name:
                value = 1 + 0.2 * noise
            elif name.endswith(".bias"):
                value = 0.1 * noise
            elif "embed_tokens" in name:
                value = 0.5 * noise
            else:
                value = 0.2 * noise
            p.copy_(value.to(p.dtype))


def inverse_frequencies_float64(config):
    """transformers' default / llama3 inverse frequencies, computed in float64."""
    rope = config.rope_parameters
    dim = config.head_dim
    inv = 1.0 / (rope["rope_theta"] ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    if rope.get("rope_type", "default") == "llama3":
        factor, low, high = rope["factor"], rope["low_freq_factor"], rope["high_freq_factor"]
        old = rope["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > old / low, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < old / high) & ~(wavelen > old / low)
        inv = torch.where(medium, smoothed, scaled)
    return inv


def rotary_float64(self, x, position_ids):
    inv_freq = inverse_frequencies_float64(self.config)
    freqs = position_ids[..., None].to(torch.float64) * inv_freq
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(x.dtype), emb.sin().to(x.dtype)


def rms_norm_float64(self, hidden_states):
    variance = hidden_states.pow(2).mean(-1, keepdim=True)
    return self.weight * (hidden_states * torch.rsqrt(variance + self.variance_epsilon))


def eager_attention_float64(module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs):
    key = modeling_llama.repeat_kv(key, module.num_key_value_groups)
    value = modeling_llama.repeat_kv(value, module.num_key_value_groups)
    weights = torch.matmul(query, key.transpose(2, 3)) * scaling
    if attention_mask is not None:
        weights = weights + attention_mask
    weights = torch.softmax(weights, dim=-1)
    return torch.matmul(weights, value).transpose(1, 2).contiguous(), weights


class Float64Reference:
    """Patches the three float32 steps while active; see the module docstring."""

    def __init__(self, model):
        self.rotary = model.model.rotary_emb

    def __enter__(self):
        self.saved = (modeling_llama.eager_attention_forward, modeling_llama.LlamaRMSNorm.forward, self.rotary.forward)
        modeling_llama.eager_attention_forward = eager_attention_float64
        modeling_llama.LlamaRMSNorm.forward = rms_norm_float64
        self.rotary.forward = rotary_float64.__get__(self.rotary)

    def __exit__(self, *exc):
        (modeling_llama.eager_attention_forward, modeling_llama.LlamaRMSNorm.forward, self.rotary.forward) = self.saved


def make_batch(spec, generator):
    lengths = spec["lengths"]
    batch, width = len(lengths), max(lengths)
    ids = torch.randint(2, spec["vocab_size"], (batch, width), generator=generator)
    mask = torch.zeros(batch, width, dtype=torch.long)
    for row, length in enumerate(lengths):
        mask[row, :length] = 1
    return ids.masked_fill(mask == 0, PAD_ID), mask


def next_token_loss(logits, ids, mask):
    labels = ids.masked_fill(mask == 0, -100)
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1),
                           ignore_index=-100)


def reference_logits(model, ids, mask):
    with Float64Reference(model):
        return model(input_ids=ids, attention_mask=mask).logits


def directional_derivative_error(model, ids, mask, seed):
    """Relative gap between Σ grad·d and the central difference along a random direction d."""
    generator = torch.Generator().manual_seed(1000 + seed)
    parameters = list(model.parameters())
    direction = [torch.randn(p.shape, generator=generator, dtype=p.dtype) for p in parameters]
    analytic = sum((p.grad * d).sum() for p, d in zip(parameters, direction)).item()
    epsilon = 1e-6

    def loss_at(scale):
        with torch.no_grad():
            for p, d in zip(parameters, direction):
                p.add_(scale * epsilon * d)
            value = next_token_loss(reference_logits(model, ids, mask), ids, mask).item()
            for p, d in zip(parameters, direction):
                p.sub_(scale * epsilon * d)
        return value

    numeric = (loss_at(1) - loss_at(-1)) / (2 * epsilon)
    return abs(numeric - analytic) / max(1.0, abs(analytic))


def file_name(parameter_name, saved_names, tied):
    """A tied model saves the shared matrix once, as model.embed_tokens.weight."""
    if parameter_name == "lm_head.weight" and tied:
        return None
    if parameter_name not in saved_names:
        raise SystemExit(f"parameter {parameter_name} is not in model.safetensors ({sorted(saved_names)})")
    return parameter_name


def make_fixture(name, spec):
    directory = os.path.join(FIXTURES, name)
    os.makedirs(directory, exist_ok=True)
    torch.manual_seed(spec["seed"])
    model = LlamaForCausalLM(make_config(spec)).eval()
    randomize(model, spec["seed"])
    if spec["tie"]:
        model.tie_weights()
    model.save_pretrained(directory)
    generation = os.path.join(directory, "generation_config.json")
    if os.path.exists(generation):
        os.remove(generation)

    loaded = LlamaForCausalLM.from_pretrained(directory, attn_implementation="eager").eval()
    saved = load_file(os.path.join(directory, "model.safetensors"))
    names = {p: file_name(p, saved.keys(), spec["tie"]) for p, _ in loaded.named_parameters(remove_duplicate=False)}
    stored = sorted(n for n in names.values() if n)
    if stored != sorted(saved.keys()):
        raise SystemExit(f"{name}: model.safetensors holds {sorted(saved)}, parameters are {stored}")
    for p, tensor in loaded.named_parameters():
        if names[p]:
            assert torch.equal(tensor.detach(), saved[names[p]]), f"{name}: {p} changed on reload"

    ids, mask = make_batch(spec, torch.Generator().manual_seed(100 + spec["seed"]))
    model64 = loaded.double()
    logits = reference_logits(model64, ids, mask)
    loss = next_token_loss(logits, ids, mask)
    loss.backward()

    with torch.no_grad():
        upstream = model64(input_ids=ids, attention_mask=mask, labels=ids.masked_fill(mask == 0, -100))
    valid = mask.bool()
    patch_effect = (upstream.logits - logits).abs()[valid].max().item()
    loss_gap = abs(upstream.loss.item() - loss.item())
    assert 0 < patch_effect < 1e-4, f"{name}: float64 patches moved logits by {patch_effect} (0: not applied)"
    assert loss_gap < 1e-5, f"{name}: loss differs from transformers' by {loss_gap}"

    golden = {
        "input_ids": ids.to(torch.float32),
        "attention_mask": mask.to(torch.float32),
        "logits": logits.detach().to(torch.float32),
        "loss": loss.detach().reshape(1).to(torch.float32),
    }
    grad_norms = {}
    for p, tensor in model64.named_parameters():  # a tied matrix appears once, with both uses' gradient
        stored_name = names[p] or "model.embed_tokens.weight"
        assert tensor.grad is not None, f"{name}: no gradient for {p}"
        grad_norms[stored_name] = tensor.grad.norm().item()
        golden["grad." + stored_name] = tensor.grad.to(torch.float32).contiguous()
    assert sorted(grad_norms) == stored, f"{name}: gradients for {sorted(grad_norms)}, tensors {stored}"
    dead = [n for n, g in grad_norms.items() if g == 0]
    assert not dead, f"{name}: parameters without influence on the loss: {dead}"
    slope_error = directional_derivative_error(model64, ids, mask, spec["seed"])
    assert slope_error < 1e-6, f"{name}: gradients disagree with finite differences by {slope_error}"

    save_file(golden, os.path.join(directory, "golden.safetensors"), metadata={
        "generator": f"scripts/goldens/make_llama_goldens.py; pad id {PAD_ID}; loss = mean next-token "
                     "cross-entropy over targets with attention_mask 1"})
    write_versions(directory, spec, saved, patch_effect, loss_gap)
    sizes = sum(os.path.getsize(os.path.join(directory, f)) for f in os.listdir(directory))
    print(f"{name}: loss {loss.item():.6f}, logits |max| {logits.abs().max().item():.2f}, "
          f"grad norms {min(grad_norms.values()):.2e}..{max(grad_norms.values()):.2e}, "
          f"patch effect {patch_effect:.1e}, finite-difference gap {slope_error:.1e}, {sizes} bytes")


def write_versions(directory, spec, saved, patch_effect, loss_gap):
    lines = [
        f"python {sys.version.split()[0]}",
        f"torch {torch.__version__}",
        f"transformers {transformers.__version__}",
        f"safetensors {safetensors.__version__}",
        f"numpy {np.__version__}",
        "",
        f"generated by scripts/goldens/make_llama_goldens.py, spec {json.dumps(spec)}",
        f"model.safetensors: {len(saved)} F32 tensors"
        + (" (tied: lm_head is model.embed_tokens.weight, stored once)" if spec["tie"] else ""),
        f"float64 patches (rotary, softmax, RMSNorm) moved valid logits by at most {patch_effect:.2e}; "
        f"loss vs transformers' own: {loss_gap:.2e}",
    ]
    with open(os.path.join(directory, "versions.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def check_xright_model(model_dir, golden_dir):
    """Exit status 0 when `model_dir` loads in transformers as LlamaForCausalLM and reproduces the golden logits."""
    for path in (os.path.join(model_dir, "config.json"), os.path.join(model_dir, "model.safetensors"),
                 os.path.join(golden_dir, "golden.safetensors")):
        if not os.path.isfile(path):
            print(f"FAIL: {path} does not exist")
            return 1
    golden = load_file(os.path.join(golden_dir, "golden.safetensors"))
    ids = golden["input_ids"].to(torch.long)
    mask = golden["attention_mask"].to(torch.long)
    expected = golden["logits"].to(torch.float64)
    try:
        model = LlamaForCausalLM.from_pretrained(model_dir, attn_implementation="eager").eval().double()
    except Exception as error:  # any load failure is the answer, not a crash
        print(f"FAIL: transformers cannot load {model_dir}: {type(error).__name__}: {error}")
        return 1
    with torch.no_grad():
        logits = reference_logits(model, ids, mask)
    if logits.shape != expected.shape:
        print(f"FAIL: {model_dir} gives logits of shape {list(logits.shape)}, golden has {list(expected.shape)}")
        return 1
    valid = mask.bool()
    difference = (logits - expected).abs().masked_fill(~valid[..., None], 0)
    worst = difference.max().item()
    tolerance = 1e-5 * max(1.0, expected[valid].abs().max().item())
    if worst > tolerance:
        b, t, v = np.unravel_index(difference.argmax().item(), difference.shape)
        print(f"FAIL: {model_dir} logits differ from {golden_dir} by up to {worst:.3e} at batch {b}, position {t}, "
              f"token {v} (tolerance {tolerance:.1e})")
        return 1
    print(f"OK: {model_dir} loads in transformers {transformers.__version__}; logits match {golden_dir} within "
          f"{worst:.3e} (tolerance {tolerance:.1e}) over {int(valid.sum())} positions")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check-xright-model", metavar="DIR", action="append",
                        help="model directory written by xright (repeatable, paired with --golden in order)")
    parser.add_argument("--golden", metavar="DIR", action="append",
                        help="fixture directory holding golden.safetensors (one per --check-xright-model)")
    parser.add_argument("--only", metavar="NAME", help="generate only this fixture")
    args = parser.parse_args()
    torch.set_num_threads(1)  # deterministic reductions
    if args.check_xright_model:
        if not args.golden or len(args.golden) != len(args.check_xright_model):
            parser.error("each --check-xright-model DIR needs its --golden DIR")
        failures = sum(check_xright_model(m, g) for m, g in zip(args.check_xright_model, args.golden))
        sys.exit(1 if failures else 0)
    for name, spec in MODELS.items():
        if args.only in (None, name):
            make_fixture(name, spec)


if __name__ == "__main__":
    main()
