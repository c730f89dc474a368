#!/usr/bin/env python3
"""Reference GPT-NeoX models and their float64 forward/backward results, from Hugging Face transformers, for the
Swift model tests; and the check that a model directory written by xright loads in transformers with the same logits.

    python3 scripts/goldens/make_model_goldens.py                 # -> Tests/EngineTests/Fixtures/neox-*/
    python3 scripts/goldens/make_model_goldens.py --check-xright-model DIR --golden Tests/EngineTests/Fixtures/neox-rot25-parallel

Each fixture directory holds:
  config.json, model.safetensors (+ generation_config.json)  as GPTNeoXForCausalLM.save_pretrained writes them (F32);
  golden.safetensors (F32):
    input_ids [B,T]        token ids stored as floats; right padding, pad positions hold PAD_ID
    attention_mask [B,T]   1 for real tokens, 0 for padding
    logits [B,T,V]         float64 forward of the saved weights, rounded to F32. Padding positions hold whatever the
                           model computes there (with right padding and causal attention, real positions never see
                           them); compare only where attention_mask == 1
    loss [1]               mean next-token cross-entropy, labels = input_ids where mask == 1 else -100, shifted as
                           transformers does (position t predicts label t+1), averaged over the counted targets
    grad.<name>            d loss / d parameter, for every tensor in model.safetensors, same name and shape
  versions.txt             library versions and what the saved files contain

Float64 throughout: the model runs in float64 with two patches, because transformers keeps two steps in float32
even in a float64 model: the rotary cos/sin (computed from float32 inv_freq) and the eager softmax
(dtype=torch.float32). Both patches are checked against the unpatched model (agreement ~1e-6, float32 level).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

import safetensors
import transformers
from safetensors.torch import load_file, save_file
from transformers import GPTNeoXConfig, GPTNeoXForCausalLM
from transformers.models.gpt_neox import modeling_gpt_neox

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "EngineTests", "Fixtures")
PAD_ID = 1

# Sizes: fixtures must stay under 300 KB per directory, and golden.safetensors holds a gradient for every weight,
# so parameters are capped near 33K (2 × 4 bytes each). Hence hidden 24 for the odd-shaped model: 3 heads (odd),
# head_size 8, rotary_ndims 4 (half rotated, half passed through), vocab 101 (prime), T = 11.
MODELS = {
    "neox-rot25-parallel": dict(
        seed=1, hidden_size=32, num_attention_heads=4, vocab_size=97, rotary_pct=0.25,
        use_parallel_residual=True, lengths=[12, 9, 5]),
    "neox-rot100-sequential": dict(
        seed=2, hidden_size=32, num_attention_heads=2, vocab_size=113, rotary_pct=1.0,
        use_parallel_residual=False, lengths=[12, 9, 5]),
    "neox-rot50-parallel-odd": dict(
        seed=3, hidden_size=24, num_attention_heads=3, vocab_size=101, rotary_pct=0.5,
        use_parallel_residual=True, lengths=[11, 7, 4]),
}


def make_config(spec):
    return GPTNeoXConfig(
        vocab_size=spec["vocab_size"], hidden_size=spec["hidden_size"], num_hidden_layers=2,
        num_attention_heads=spec["num_attention_heads"], intermediate_size=4 * spec["hidden_size"],
        max_position_embeddings=64, hidden_act="gelu", layer_norm_eps=1e-5,
        rotary_pct=spec["rotary_pct"], rotary_emb_base=10000, use_parallel_residual=spec["use_parallel_residual"],
        tie_word_embeddings=False, attn_implementation="eager")


def randomize(model, seed):
    """Weights large enough that every part of the model shapes the output: the default init (std 0.02, zero
    biases, unit LayerNorms) would leave attention nearly uniform and LayerNorm affine parts invisible."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=generator, dtype=torch.float64)
            if "layernorm.weight" in name or "layer_norm.weight" in name:
                value = 1 + 0.2 * noise
            elif name.endswith(".bias"):
                value = 0.1 * noise
            elif "embed_in" in name:
                value = 0.5 * noise
            else:
                value = 0.2 * noise
            p.copy_(value.to(p.dtype))


def rotary_float64(self, x, position_ids):
    """GPTNeoXRotaryEmbedding.forward in float64: inv_freq = 1/base^(arange(0,d,2)/d), emb = cat(freqs, freqs)."""
    rope = self.config.rope_parameters
    head_size = self.config.hidden_size // self.config.num_attention_heads
    dim = int(head_size * rope.get("partial_rotary_factor", 1.0))
    inv_freq = 1.0 / (rope["rope_theta"] ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    freqs = position_ids[..., None].to(torch.float64) * inv_freq
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(x.dtype), emb.sin().to(x.dtype)


def eager_attention_float64(module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs):
    """modeling_gpt_neox.eager_attention_forward with the softmax in the inputs' dtype (upstream forces float32)."""
    weights = torch.matmul(query, key.transpose(2, 3)) * scaling
    if attention_mask is not None:
        weights = weights + attention_mask
    weights = torch.softmax(weights, dim=-1)
    output = torch.matmul(weights, value).transpose(1, 2).contiguous()
    return output, weights


class Float64Reference:
    """Patches the two float32 steps while active; see the module docstring."""

    def __init__(self, model):
        self.rotary = model.gpt_neox.rotary_emb

    def __enter__(self):
        self.saved = (modeling_gpt_neox.eager_attention_forward, self.rotary.forward)
        modeling_gpt_neox.eager_attention_forward = eager_attention_float64
        self.rotary.forward = rotary_float64.__get__(self.rotary)

    def __exit__(self, *exc):
        modeling_gpt_neox.eager_attention_forward, self.rotary.forward = self.saved


def make_batch(spec, generator):
    lengths = spec["lengths"]
    batch, width = len(lengths), max(lengths)
    ids = torch.randint(2, spec["vocab_size"], (batch, width), generator=generator)
    mask = torch.zeros(batch, width, dtype=torch.long)
    for row, length in enumerate(lengths):
        mask[row, :length] = 1
    ids = ids.masked_fill(mask == 0, PAD_ID)
    return ids, mask


def next_token_loss(logits, ids, mask):
    """Mean cross-entropy of token t+1 given tokens ≤ t, over targets inside the mask (transformers' shift)."""
    labels = ids.masked_fill(mask == 0, -100)
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1),
                           ignore_index=-100)


def directional_derivative_error(model, ids, mask, seed):
    """Relative gap between Σ grad·d and the central difference (L(θ+εd) − L(θ−εd)) / 2ε along a random d."""
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


def file_name(parameter_name, saved_names):
    """transformers names the output head `lm_head` in memory and `embed_out` on disk (its Pythia name)."""
    if parameter_name in saved_names:
        return parameter_name
    renamed = parameter_name.replace("lm_head.", "embed_out.", 1)
    if renamed in saved_names:
        return renamed
    raise SystemExit(f"parameter {parameter_name} is not in model.safetensors ({sorted(saved_names)})")


def reference_logits(model, ids, mask):
    with Float64Reference(model):
        return model(input_ids=ids, attention_mask=mask).logits


def make_fixture(name, spec):
    directory = os.path.join(FIXTURES, name)
    os.makedirs(directory, exist_ok=True)
    torch.manual_seed(spec["seed"])
    model = GPTNeoXForCausalLM(make_config(spec)).eval()
    randomize(model, spec["seed"])
    model.save_pretrained(directory)

    # The golden is a function of the files, so compute it from the model as transformers loads it back.
    loaded = GPTNeoXForCausalLM.from_pretrained(directory, attn_implementation="eager").eval()
    saved = load_file(os.path.join(directory, "model.safetensors"))
    names = {p: file_name(p, saved.keys()) for p, _ in loaded.named_parameters()}
    if sorted(names.values()) != sorted(saved.keys()):
        raise SystemExit(f"{name}: model.safetensors holds {sorted(set(saved) - set(names.values()))} "
                         "besides the parameters")
    for p, tensor in loaded.named_parameters():
        assert torch.equal(tensor.detach(), saved[names[p]]), f"{name}: {p} changed on reload"

    ids, mask = make_batch(spec, torch.Generator().manual_seed(100 + spec["seed"]))
    model64 = loaded.double()
    logits = reference_logits(model64, ids, mask)
    loss = next_token_loss(logits, ids, mask)
    loss.backward()

    # Cross-checks: the patches change only float32 rounding; our loss is transformers' loss.
    with torch.no_grad():
        upstream = model64(input_ids=ids, attention_mask=mask, labels=ids.masked_fill(mask == 0, -100))
    valid = mask.bool()
    patch_effect = (upstream.logits - logits).abs()[valid].max().item()
    loss_gap = abs(upstream.loss.item() - loss.item())
    assert 0 < patch_effect < 1e-5, f"{name}: float64 patches moved logits by {patch_effect} (0: not applied)"
    assert loss_gap < 1e-5, f"{name}: loss differs from transformers' by {loss_gap}"

    golden = {
        "input_ids": ids.to(torch.float32),
        "attention_mask": mask.to(torch.float32),
        "logits": logits.detach().to(torch.float32),
        "loss": loss.detach().reshape(1).to(torch.float32),
    }
    grad_norms = {}
    for p, tensor in model64.named_parameters():
        assert tensor.grad is not None, f"{name}: no gradient for {p}"
        grad_norms[names[p]] = tensor.grad.norm().item()
        golden["grad." + names[p]] = tensor.grad.to(torch.float32).contiguous()
    dead = [n for n, g in grad_norms.items() if g == 0]
    assert not dead, f"{name}: parameters without influence on the loss: {dead}"
    slope_error = directional_derivative_error(model64, ids, mask, spec["seed"])
    assert slope_error < 1e-6, f"{name}: gradients disagree with finite differences by {slope_error}"

    # One metadata key: safetensors writes several in hash order, which would make reruns differ byte-wise.
    save_file(golden, os.path.join(directory, "golden.safetensors"), metadata={
        "generator": f"scripts/goldens/make_model_goldens.py; pad id {PAD_ID}; loss = mean next-token "
                     "cross-entropy over targets with attention_mask 1"})
    write_versions(directory, spec, saved, patch_effect, loss_gap)

    sizes = sum(os.path.getsize(os.path.join(directory, f)) for f in os.listdir(directory))
    print(f"{name}: loss {loss.item():.6f}, logits |max| {logits.abs().max().item():.2f}, "
          f"grad norms {min(grad_norms.values()):.2e}..{max(grad_norms.values()):.2e}, "
          f"patch effect {patch_effect:.1e}, finite-difference gap {slope_error:.1e}, {sizes} bytes")


def write_versions(directory, spec, saved, patch_effect, loss_gap):
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    rotary_keys = {k: config[k] for k in ("rope_parameters", "rotary_pct", "rotary_emb_base", "rope_theta",
                                          "partial_rotary_factor") if k in config}
    lines = [
        f"python {sys.version.split()[0]}",
        f"torch {torch.__version__}",
        f"transformers {transformers.__version__}",
        f"safetensors {safetensors.__version__}",
        f"numpy {np.__version__}",
        "",
        f"generated by scripts/goldens/make_model_goldens.py, spec {json.dumps(spec)}",
        f"config.json rotary keys as written: {json.dumps(rotary_keys)}",
        f"model.safetensors: {len(saved)} F32 tensors, parameters only (no attention.bias/masked_bias/inv_freq "
        "buffers); the output head is stored as embed_out.weight",
        f"float64 patches (rotary, softmax) moved valid logits by at most {patch_effect:.2e}; "
        f"loss vs transformers' own: {loss_gap:.2e}",
    ]
    with open(os.path.join(directory, "versions.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def check_xright_model(model_dir, golden_dir):
    """Exit status 0 when `model_dir` loads in transformers and reproduces the golden logits."""
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
        model = GPTNeoXForCausalLM.from_pretrained(model_dir, attn_implementation="eager").eval().double()
    except Exception as error:  # any load failure is the answer, not a crash
        print(f"FAIL: transformers cannot load {model_dir}: {type(error).__name__}: {error}")
        return 1
    with torch.no_grad():
        logits = reference_logits(model, ids, mask)
    if logits.shape != expected.shape:
        print(f"FAIL: {model_dir} gives logits of shape {list(logits.shape)}, golden {golden_dir} has "
              f"{list(expected.shape)}")
        return 1
    valid = mask.bool()
    difference = (logits - expected).abs().masked_fill(~valid[..., None], 0)
    worst = difference.max().item()
    # Identical F32 weights reproduce the golden to its own F32 rounding (~1e-7); any real change is far larger.
    tolerance = 1e-5 * max(1.0, expected[valid].abs().max().item())
    b, t, v = np.unravel_index(difference.argmax().item(), difference.shape)
    where = f"at batch {b}, position {t}, token {v}"
    if worst > tolerance:
        print(f"FAIL: {model_dir} logits differ from {golden_dir} by up to {worst:.3e} {where} "
              f"(tolerance {tolerance:.1e})")
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
        # One process for all pairs: importing torch dominates the cost.
        failures = sum(check_xright_model(m, g) for m, g in zip(args.check_xright_model, args.golden))
        sys.exit(1 if failures else 0)
    for name, spec in MODELS.items():
        if args.only in (None, name):
            make_fixture(name, spec)


if __name__ == "__main__":
    main()
