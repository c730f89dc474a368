"""A tiny seeded GPT-NeoX model directory (config.json, model.safetensors, tokenizer.json) for tests and demos:
the architecture of Pythia at a size a CPU trains in milliseconds per step."""

import os
import shutil


def write_tiny_model(out, tokenizer_path, seed=1, hidden=32, layers=2, max_positions=128):
    import torch
    from tokenizers import Tokenizer
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    vocab = Tokenizer.from_file(tokenizer_path).get_vocab_size(with_added_tokens=True)
    config = GPTNeoXConfig(
        vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
        intermediate_size=4 * hidden, max_position_embeddings=max_positions, hidden_act="gelu",
        layer_norm_eps=1e-5, rotary_pct=0.5, rotary_emb_base=10000, use_parallel_residual=True,
        tie_word_embeddings=False)
    torch.manual_seed(seed)
    model = GPTNeoXForCausalLM(config)
    # Larger than the default init (std 0.02, near-uniform outputs), so losses differ visibly between records,
    # models and steps: a parity check on near-constant log V would prove little.
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
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out)
    shutil.copyfile(tokenizer_path, os.path.join(out, "tokenizer.json"))
