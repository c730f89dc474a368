"""Loading a Hugging Face causal LM and its tokenizer, with errors that name the directory and the problem."""

import os

from .errors import SettingError

def load_tokenizer(path):
    from tokenizers import Tokenizer
    if os.path.isdir(path):
        path = os.path.join(path, "tokenizer.json")
    if not os.path.isfile(path):
        raise SettingError("--tokenizer", f"expected a tokenizer.json; {path} does not exist")
    try:
        return Tokenizer.from_file(path), path
    except Exception as error:
        raise SettingError("--tokenizer", f"{path}: not a Hugging Face tokenizers JSON ({error})") from None


def load_model(directory, dtype=None, device="cpu"):
    """The model in `dtype` (a torch dtype; default float32)."""
    import torch
    from transformers import AutoModelForCausalLM
    if not os.path.isfile(os.path.join(directory, "config.json")):
        raise SettingError("--model", f"{directory}: expected a model directory with config.json")
    try:
        model = AutoModelForCausalLM.from_pretrained(directory, dtype=dtype or torch.float32)
    except Exception as error:
        raise SettingError("--model", f"{directory}: could not load the model ({error})") from None
    return model.to(device)


def check_vocabulary(tokenizer, model, tokenizer_path):
    size = tokenizer.get_vocab_size(with_added_tokens=True)
    if size > model.config.vocab_size:
        raise SettingError("--tokenizer", f"{tokenizer_path} produces ids up to {size - 1} but the model's "
                                          f"vocab_size is {model.config.vocab_size}")


def max_positions(model):
    return getattr(model.config, "max_position_embeddings", None)
