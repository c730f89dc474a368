#!/usr/bin/env python3
"""Qwen2 and Mistral goldens for the Swift Llama model (which reads `model_type` qwen2 and mistral): small random
models of the two classes in transformers (Qwen2ForCausalLM: q/k/v biases, no o_proj bias; MistralForCausalLM: no
biases, a sliding window), their float64 forward/backward results, and the check that a directory xright writes
loads back as the same class with the same logits.

    python3 scripts/goldens/make_qwen2_mistral_goldens.py          # -> Tests/EngineTests/Fixtures/{qwen2,mistral}-*/
    python3 scripts/goldens/make_qwen2_mistral_goldens.py --check-xright-model DIR --golden Tests/EngineTests/Fixtures/qwen2-gqa4x2-bias

Same fixture layout, float64 patches and checks as make_llama_goldens.py (whose helpers this script uses), with
each architecture's own module patched. Mistral's sliding window (16) is longer than every sequence here, so it
masks nothing: xright does not implement a sliding window and instead limits a Mistral model to the window's
length (`--max-len` beyond it is refused; tested in Swift).
"""
import argparse
import os
import sys

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM, MistralConfig, MistralForCausalLM, Qwen2Config, Qwen2ForCausalLM
from transformers.models.mistral import modeling_mistral
from transformers.models.qwen2 import modeling_qwen2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_llama_goldens as llama  # noqa: E402

MODELS = {
    "qwen2-gqa4x2-bias": dict(
        architecture="qwen2", seed=21, hidden_size=32, heads=4, kv_heads=2, intermediate=48, vocab_size=83, tie=True,
        rope_theta=1000000.0, lengths=[12, 8, 5]),
    "mistral-gqa4x1-window": dict(
        architecture="mistral", seed=22, hidden_size=32, heads=4, kv_heads=1, intermediate=40, vocab_size=79, tie=False,
        rope_theta=10000.0, sliding_window=16, lengths=[12, 9, 4]),
}

CLASSES = {"qwen2": (Qwen2Config, Qwen2ForCausalLM, modeling_qwen2, modeling_qwen2.Qwen2RMSNorm),
           "mistral": (MistralConfig, MistralForCausalLM, modeling_mistral, modeling_mistral.MistralRMSNorm)}


def make_config(spec):
    config_class = CLASSES[spec["architecture"]][0]
    extra = dict(sliding_window=spec["sliding_window"]) if "sliding_window" in spec else dict(use_sliding_window=False)
    return config_class(
        vocab_size=spec["vocab_size"], hidden_size=spec["hidden_size"], num_hidden_layers=2,
        num_attention_heads=spec["heads"], num_key_value_heads=spec["kv_heads"],
        intermediate_size=spec["intermediate"], max_position_embeddings=64, hidden_act="silu", rms_norm_eps=1e-5,
        rope_parameters=dict(rope_type="default", rope_theta=spec["rope_theta"]), tie_word_embeddings=spec["tie"],
        head_dim=spec["hidden_size"] // spec["heads"], bos_token_id=1, eos_token_id=2, pad_token_id=None,
        attn_implementation="eager", **extra)


class Float64Reference:
    """make_llama_goldens.Float64Reference for this architecture's module."""

    def __init__(self, model):
        _, _, self.module, self.norm = CLASSES[model.config.model_type]
        self.rotary = model.model.rotary_emb

    def __enter__(self):
        self.saved = (self.module.eager_attention_forward, self.norm.forward, self.rotary.forward)
        self.module.eager_attention_forward = llama.eager_attention_float64
        self.norm.forward = llama.rms_norm_float64
        self.rotary.forward = llama.rotary_float64.__get__(self.rotary)

    def __exit__(self, *exc):
        (self.module.eager_attention_forward, self.norm.forward, self.rotary.forward) = self.saved


def reference_logits(model, ids, mask):
    with Float64Reference(model):
        return model(input_ids=ids, attention_mask=mask).logits


def make_fixture(name, spec):
    directory = os.path.join(llama.FIXTURES, name)
    os.makedirs(directory, exist_ok=True)
    model_class = CLASSES[spec["architecture"]][1]
    torch.manual_seed(spec["seed"])
    model = model_class(make_config(spec)).eval()
    llama.randomize(model, spec["seed"])
    if spec["tie"]:
        model.tie_weights()
    model.save_pretrained(directory)
    generation = os.path.join(directory, "generation_config.json")
    if os.path.exists(generation):
        os.remove(generation)

    loaded = model_class.from_pretrained(directory, attn_implementation="eager").eval()
    saved = load_file(os.path.join(directory, "model.safetensors"))
    names = {p: llama.file_name(p, saved.keys(), spec["tie"]) for p, _ in loaded.named_parameters(remove_duplicate=False)}
    stored = sorted(n for n in names.values() if n)
    if stored != sorted(saved.keys()):
        raise SystemExit(f"{name}: model.safetensors holds {sorted(saved)}, parameters are {stored}")

    ids, mask = llama.make_batch(spec, torch.Generator().manual_seed(100 + spec["seed"]))
    model64 = loaded.double()
    logits = reference_logits(model64, ids, mask)
    loss = llama.next_token_loss(logits, ids, mask)
    loss.backward()
    with torch.no_grad():
        upstream = model64(input_ids=ids, attention_mask=mask, labels=ids.masked_fill(mask == 0, -100))
    valid = mask.bool()
    patch_effect = (upstream.logits - logits).abs()[valid].max().item()
    loss_gap = abs(upstream.loss.item() - loss.item())
    assert 0 < patch_effect < 1e-4, f"{name}: float64 patches moved logits by {patch_effect} (0: not applied)"
    assert loss_gap < 1e-5, f"{name}: loss differs from transformers' by {loss_gap}"

    golden = {"input_ids": ids.to(torch.float32), "attention_mask": mask.to(torch.float32),
              "logits": logits.detach().to(torch.float32), "loss": loss.detach().reshape(1).to(torch.float32)}
    grad_norms = {}
    for p, tensor in model64.named_parameters():
        stored_name = names[p] or "model.embed_tokens.weight"
        assert tensor.grad is not None, f"{name}: no gradient for {p}"
        grad_norms[stored_name] = tensor.grad.norm().item()
        golden["grad." + stored_name] = tensor.grad.to(torch.float32).contiguous()
    assert sorted(grad_norms) == stored, f"{name}: gradients for {sorted(grad_norms)}, tensors {stored}"
    dead = [n for n, g in grad_norms.items() if g == 0]
    assert not dead, f"{name}: parameters without influence on the loss: {dead}"
    with Float64Reference(model64):
        slope_error = llama.directional_derivative_error(model64, ids, mask, spec["seed"])
    assert slope_error < 1e-6, f"{name}: gradients disagree with finite differences by {slope_error}"
    save_file(golden, os.path.join(directory, "golden.safetensors"), metadata={
        "generator": f"scripts/goldens/make_qwen2_mistral_goldens.py; pad id {llama.PAD_ID}; loss = mean next-token "
                     "cross-entropy over targets with attention_mask 1"})
    llama.write_versions(directory, spec, saved, patch_effect, loss_gap)
    with open(os.path.join(directory, "versions.txt")) as f:
        text = f.read().replace("make_llama_goldens.py", "make_qwen2_mistral_goldens.py")
    with open(os.path.join(directory, "versions.txt"), "w") as f:
        f.write(text)
    print(f"{name}: loss {loss.item():.6f}, patch effect {patch_effect:.1e}, finite-difference gap {slope_error:.1e}")


def check_xright_model(model_dir, golden_dir):
    """Exit status 0 when `model_dir` loads in transformers as the golden's class with the golden logits."""
    golden = load_file(os.path.join(golden_dir, "golden.safetensors"))
    ids, mask = golden["input_ids"].to(torch.long), golden["attention_mask"].to(torch.long)
    expected = golden["logits"].to(torch.float64)
    try:
        model = AutoModelForCausalLM.from_pretrained(model_dir, attn_implementation="eager").eval().double()
    except Exception as error:  # any load failure is the answer, not a crash
        print(f"FAIL: transformers cannot load {model_dir}: {type(error).__name__}: {error}")
        return 1
    reference = load_file(os.path.join(golden_dir, "model.safetensors"))  # noqa: F841 (the fixture must exist)
    expected_class = type(AutoModelForCausalLM.from_pretrained(golden_dir)).__name__
    if type(model).__name__ != expected_class:
        print(f"FAIL: {model_dir} loads as {type(model).__name__}, the golden is {expected_class}")
        return 1
    with torch.no_grad():
        logits = reference_logits(model, ids, mask)
    valid = mask.bool()
    worst = (logits - expected).abs().masked_fill(~valid[..., None], 0).max().item()
    tolerance = 1e-5 * max(1.0, expected[valid].abs().max().item())
    if worst > tolerance:
        print(f"FAIL: {model_dir} logits differ from {golden_dir} by up to {worst:.3e} (tolerance {tolerance:.1e})")
        return 1
    print(f"OK: {model_dir} loads as {expected_class}; logits match {golden_dir} within {worst:.3e}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check-xright-model", metavar="DIR", action="append")
    parser.add_argument("--golden", metavar="DIR", action="append")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.check_xright_model:
        if not args.golden or len(args.golden) != len(args.check_xright_model):
            parser.error("each --check-xright-model DIR needs its --golden DIR")
        sys.exit(1 if sum(check_xright_model(m, g) for m, g in zip(args.check_xright_model, args.golden)) else 0)
    for name, spec in MODELS.items():
        make_fixture(name, spec)


if __name__ == "__main__":
    main()
