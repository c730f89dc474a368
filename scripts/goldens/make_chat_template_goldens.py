#!/usr/bin/env python3
"""Goldens for the chat templates (Sources/Text/ChatTemplate*.swift): conversations rendered by transformers'
own Jinja renderer (`transformers.utils.chat_template_utils.render_jinja_template`, what `apply_chat_template`
calls) with the template texts below.

    python3 scripts/goldens/make_chat_template_goldens.py   # -> Tests/TextTests/Fixtures/chat_templates.json

Templates: SmolLM2-135M-Instruct's, read from its GGUF (~/.cache/xright/models; written from the copy below
when the file is absent), and the published templates of Qwen2.5-Instruct (its no-tools branch; the tools branch
is elided), Meta-Llama-3-Instruct, Llama-2-chat, Mistral-7B-Instruct-v0.1, and an Alpaca chat template in
Stanford Alpaca's wording. The Swift side must recognise each from its text alone.
"""
import json
import os

from transformers.utils.chat_template_utils import render_jinja_template

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "TextTests", "Fixtures", "chat_templates.json")
MODEL = os.path.expanduser("~/.cache/xright/models/SmolLM2-135M-Instruct.Q4_1.gguf")

SMOLLM2 = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n"
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

QWEN25 = (
    "{%- if tools %}\n    {{- '<|im_start|>system\\n' }}\n    {{- '(tools elided)' }}\n{%- else %}\n"
    "    {%- if messages[0]['role'] == 'system' %}\n"
    "        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n    {%- else %}\n"
    "        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}\n"
    "    {%- endif %}\n{%- endif %}\n{%- for message in messages %}\n"
    "    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or "
    "(message.role == \"assistant\" and not message.tool_calls) %}\n"
    "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n"
    "    {%- endif %}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<|im_start|>assistant\\n' }}\n{%- endif %}\n"
)

LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
    "message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)

LLAMA2 = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = "
    "messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
    "{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + "
    "'\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"
)

MISTRAL = (
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
)

ALPACA = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{{ messages[0]['content'] + '\\n\\n' }}{% else %}{% set loop_messages = messages %}"
    "{{ 'Below is an instruction that describes a task. Write a response that appropriately completes the request.\\n\\n' }}"
    "{% endif %}{% for message in loop_messages %}{% if message['role'] == 'user' %}"
    "{{ '### Instruction:\\n' + message['content'] + '\\n\\n' }}{% elif message['role'] == 'assistant' %}"
    "{{ '### Response:\\n' + message['content'] + eos_token + '\\n\\n' }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '### Response:\\n' }}{% endif %}"
)

# family, template, bos, eos, whether a system message is allowed
TEMPLATES = {
    "smollm2": ("chatml", SMOLLM2, "<|im_start|>", "<|im_end|>", True),
    "qwen2.5": ("chatml", QWEN25, None, "<|im_end|>", True),
    "llama3": ("llama3", LLAMA3, "<|begin_of_text|>", "<|eot_id|>", True),
    "llama2": ("llama2", LLAMA2, "<s>", "</s>", True),
    "mistral": ("mistral", MISTRAL, "<s>", "</s>", False),
    "alpaca": ("alpaca", ALPACA, "<s>", "</s>", True),
}

U, A, S = "user", "assistant", "system"
CONVERSATIONS = [
    [(U, "What is the capital of France?")],
    [(U, "What is the capital of France?"), (A, "The capital of France is Paris.")],
    [(S, "You are terse."), (U, "Hi"), (A, "Hello.")],
    [(U, "Name a colour."), (A, "Blue."), (U, "Another?"), (A, "Green.")],
    [(S, "Answer in French."), (U, "Hello"), (A, "Bonjour"), (U, "Thanks")],
    [(U, "  spaced question \n"), (A, "\n answer with spaces  ")],
    [(U, "ünïcode ✓ 日本語"), (A, "🤗")],
    [(U, ""), (A, "")],
]


def smollm2_template():
    if os.path.exists(MODEL):
        import gguf
        reader = gguf.GGUFReader(MODEL)
        field = reader.fields["tokenizer.chat_template"]
        text = bytes(field.parts[field.data[0]]).decode("utf-8")
        assert text == SMOLLM2, "the GGUF's template differs from the copy in this script"
        return text
    return SMOLLM2


def main():
    templates = {}
    cases = []
    for name, (family, text, bos, eos, system) in TEMPLATES.items():
        if name == "smollm2":
            text = smollm2_template()
        templates[name] = {"family": family, "template": text, "bos_token": bos, "eos_token": eos}
        for conversation in CONVERSATIONS:
            if not system and conversation[0][0] == S:
                continue
            messages = [{"role": r, "content": c} for r, c in conversation]
            for generation_prompt in (False, True):
                if family in ("llama2", "mistral") and generation_prompt:
                    continue  # these templates have no generation prompt
                rendered = render_jinja_template(conversations=[messages], chat_template=text,
                                                 add_generation_prompt=generation_prompt,
                                                 bos_token=bos, eos_token=eos)
                rendered = rendered[0] if isinstance(rendered, tuple) else rendered
                rendered = rendered[0] if isinstance(rendered, list) else rendered
                cases.append({"template": name, "messages": [[r, c] for r, c in conversation],
                              "add_generation_prompt": generation_prompt, "text": rendered})
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"templates": templates, "cases": cases}, f, ensure_ascii=True, indent=1)
    print(f"{len(cases)} cases")


if __name__ == "__main__":
    main()
