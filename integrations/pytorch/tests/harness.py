"""Small real bridge runs for the tests: a tiny seeded GPT-NeoX directory, a few records, `xright-bridge train`
called in this process, and the run log read back."""

import contextlib
import io
import json
import os

from xright_bridge.cli import main
from xright_bridge.tiny import write_tiny_model

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CHAT_TOKENIZER = os.path.join(ROOT, "Tests", "DataTests", "Fixtures", "chat_tokenizer.json")
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
          "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def require_chat_tokenizer():
    import unittest
    if not os.path.isfile(CHAT_TOKENIZER):
        raise unittest.SkipTest(f"{CHAT_TOKENIZER} is absent: the fixtures live in the xright repository")


def tiny_model(root, chat_template=None, name="model"):
    """A seeded tiny GPT-NeoX with the chat fixtures' tokenizer; with `chat_template`, a tokenizer_config.json."""
    directory = os.path.join(root, name)
    write_tiny_model(directory, CHAT_TOKENIZER, seed=1, hidden=32, layers=2, max_positions=96)
    if chat_template is not None:
        with open(os.path.join(directory, "tokenizer_config.json"), "w") as f:
            json.dump({"chat_template": chat_template, "eos_token": "<|im_end|>"}, f)
    return directory


def data(root, count=12):
    sft, pref = os.path.join(root, "sft.jsonl"), os.path.join(root, "pref.jsonl")
    with open(sft, "w") as f:
        for i in range(count):
            f.write(json.dumps({"prompt": f"What is {i} and {i + 1}?", "response": f"The capital of {i} is Paris."}) + "\n")
    with open(pref, "w") as f:
        for i in range(count):
            f.write(json.dumps({"prompt": f"Name colour {i}.", "chosen": f"Blue, green and red {i}.",
                                "rejected": "I would rather not say."}) + "\n")
    return sft, pref


def train(argv):
    """(exit code, stderr) of `xright-bridge train ARGV` in this process."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["train"] + argv)
    return code, err.getvalue()


def events(run_dir):
    with open(os.path.join(run_dir, "run.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def steps(run_dir):
    """{step: event} of the run's step events, the later ones winning (a resume supersedes)."""
    return {e["step"]: e for e in events(run_dir) if e["type"] == "step"}
