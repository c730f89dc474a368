"""Chat templates as `xright train` renders them (Sources/Text/ChatTemplate*.swift, docs/DATA.md "Prompt formats"):
a model's Jinja chat template is recognised as one of the families xright renders natively (ChatML as in SmolLM2
and Qwen2.5, Llama 3, Llama 2 [INST] <<SYS>>, Mistral [INST], Alpaca), rendered to the text `transformers`'
`apply_chat_template` gives, with the spans of the assistant replies (each reply and its end-of-turn marker: the
part the loss goes on). The same rules, the same texts, so a bridge run trains on the token ids the Swift trainer
trains on."""

import json
import os
from dataclasses import dataclass

from .errors import SettingError

FAMILIES = ("chatml", "llama3", "llama2", "mistral", "alpaca")
ALPACA_PREAMBLE = ("Below is an instruction that describes a task. Write a response that appropriately completes "
                   "the request.")


class ChatTemplateError(Exception):
    """Why a chat template cannot be used, or cannot render a conversation (names the message or --template)."""


@dataclass(frozen=True)
class ChatTemplate:
    family: str
    bos_token: str
    eos_token: str
    default_system_prompt: str = None

    # -- which template --------------------------------------------------------------------------------------

    @classmethod
    def named(cls, name):
        """The template a `--template` name stands for, with the family's usual special tokens; None otherwise."""
        family = name.lower()
        if family == "chatml":
            return cls("chatml", "", "<|im_end|>")
        if family == "llama3":
            return cls("llama3", "<|begin_of_text|>", "<|eot_id|>")
        if family in ("llama2", "mistral"):
            return cls(family, "<s>", "</s>")
        if family == "alpaca":
            return cls("alpaca", "<s>", "</s>", ALPACA_PREAMBLE)
        return None

    @classmethod
    def recognizing(cls, template, bos_token, eos_token):
        """The family of a Jinja chat template, by the markers it writes (ChatTemplate(recognizing:))."""
        has = template.__contains__
        if has("<|im_start|>") and has("<|im_end|>"):
            return cls("chatml", bos_token, eos_token, chatml_default_system(template))
        if has("<|start_header_id|>") and has("<|end_header_id|>") and has("<|eot_id|>"):
            if has("Cutting Knowledge Date"):
                raise ChatTemplateError("the model's chat template is Llama 3.1 or later (a dated system header), "
                                        "which xright does not render; choose a prompt format with --template "
                                        "(e.g. --template llama3)")
            return cls("llama3", bos_token, eos_token)
        if has("[INST]") and has("[/INST]") and has("<<SYS>>"):
            return cls("llama2", bos_token, eos_token)
        if has("[INST]") and has("[/INST]") and "system" not in template.lower():
            return cls("mistral", bos_token, eos_token)
        if has("### Instruction:") and has("### Response:"):
            return cls("alpaca", bos_token, eos_token, ALPACA_PREAMBLE if has(ALPACA_PREAMBLE) else None)
        head = template[:80].replace("\n", "\\n")
        raise ChatTemplateError("the model's chat template is not one xright recognises (ChatML, Llama 3, Llama 2 "
                                f"[INST] <<SYS>>, Mistral [INST], Alpaca); it begins \"{head}\"; choose a prompt "
                                f"format with --template ({', '.join(FAMILIES)} or a custom one)")

    def with_tokens(self, bos_token, eos_token):
        """The same family rendered with a model's BOS / EOS texts (None keeps the current one)."""
        return ChatTemplate(self.family, self.bos_token if bos_token is None else bos_token,
                            self.eos_token if eos_token is None else eos_token, self.default_system_prompt)

    @property
    def description(self):
        """What the run header records as `prompt_format` (PromptFormat.description)."""
        return "chat:" + self.family

    @property
    def end_of_turn(self):
        return {"chatml": "<|im_end|>", "llama3": "<|eot_id|>"}.get(self.family, self.eos_token)

    # -- rendering -------------------------------------------------------------------------------------------

    def render(self, messages, add_generation_prompt):
        """(text, assistant spans) of [(role, content)]; spans are character offsets into text, each covering a
        reply and its end-of-turn marker. ChatTemplateError for a conversation the template rejects."""
        out = _Output()
        if self.family == "chatml":
            if (not messages or messages[0][0] != "system") and self.default_system_prompt is not None:
                out.append(f"<|im_start|>system\n{self.default_system_prompt}<|im_end|>\n")
            for role, content in messages:
                out.append(f"<|im_start|>{role}\n")
                (out.assistant if role == "assistant" else out.append)(content + "<|im_end|>")
                out.append("\n")
            if add_generation_prompt:
                out.append("<|im_start|>assistant\n")
        elif self.family == "llama3":
            out.append(self.bos_token)
            for role, content in messages:
                out.append(f"<|start_header_id|>{role}<|end_header_id|>\n\n")
                (out.assistant if role == "assistant" else out.append)(content.strip() + "<|eot_id|>")
            if add_generation_prompt:
                out.append("<|start_header_id|>assistant<|end_header_id|>\n\n")
        elif self.family == "llama2":
            turns, system = list(messages), None
            if turns and turns[0][0] == "system":
                system, turns = turns[0][1], turns[1:]
            for index, (role, content) in enumerate(turns):
                self._check_alternation(role, index)
                if index == 0 and system is not None:
                    content = f"<<SYS>>\n{system}\n<</SYS>>\n\n" + content
                if role == "user":
                    out.append(self.bos_token + "[INST] " + content.strip() + " [/INST]")
                else:
                    out.assistant(" " + content.strip() + " " + self.eos_token)
        elif self.family == "mistral":
            out.append(self.bos_token)
            for index, (role, content) in enumerate(messages):
                if role == "system":
                    raise ChatTemplateError("the Mistral [INST] chat template takes only user and assistant turns; "
                                            f"message {index + 1} is a system turn (choose another format with "
                                            "--template)")
                self._check_alternation(role, index)
                if role == "user":
                    out.append("[INST] " + content + " [/INST]")
                else:
                    out.assistant(content + self.eos_token)
        else:   # alpaca
            turns = list(messages)
            if turns and turns[0][0] == "system":
                out.append(turns[0][1] + "\n\n")
                turns = turns[1:]
            elif self.default_system_prompt is not None:
                out.append(self.default_system_prompt + "\n\n")
            for index, (role, content) in enumerate(turns):
                if role == "user":
                    out.append("### Instruction:\n" + content + "\n\n")
                elif role == "assistant":
                    out.append("### Response:\n")
                    out.assistant(content + self.eos_token)
                    out.append("\n\n")
                else:
                    raise ChatTemplateError("the Alpaca chat template takes a system turn only first; message "
                                            f"{index + 2} is a system turn")
            if add_generation_prompt:
                out.append("### Response:\n")
        return out.text, out.spans

    def _check_alternation(self, role, index):
        expected = "user" if index % 2 == 0 else "assistant"
        if role != expected:
            raise ChatTemplateError(f"the {self.family} chat template needs turns alternating user/assistant (after "
                                    f"an optional first system turn); turn {index + 1} is {role}, expected {expected}")

    def tokenize_last_reply(self, messages, encode):
        """(ids, reply start) of a conversation ending with an assistant reply: the ids of the rendered text
        through the end of that reply's span (the reply and its end-of-turn marker, not what the template writes
        after it), encoded at once as `apply_chat_template(tokenize=True)` does, and the index of the reply's
        first id (a token straddling the reply's start counts as reply). `encode`: text → ids."""
        if not messages or messages[-1][0] != "assistant":
            raise ChatTemplateError("a training conversation must end with an assistant reply; it ends with "
                                    + (f"a {messages[-1][0]} turn" if messages else "no turn"))
        text, spans = self.render(messages, add_generation_prompt=False)
        if not spans:
            raise ChatTemplateError(f"the {self.family} chat template wrote no assistant reply")
        start, end = spans[-1]
        ids = encode(text[:end])
        prefix = encode(text[:start])
        k = 0
        while k < len(prefix) and k < len(ids) and prefix[k] == ids[k]:
            k += 1
        return ids, k


class _Output:
    def __init__(self):
        self.text, self.spans = "", []

    def append(self, piece):
        self.text += piece

    def assistant(self, piece):
        start = len(self.text)
        self.text += piece
        self.spans.append((start, len(self.text)))


def chatml_default_system(template):
    """The system turn a ChatML template inserts when a conversation has none, written as one string literal
    `'<|im_start|>system\\n…<|im_end|>\\n'` (the first such literal with no quote, `+` or brace inside)."""
    rest = template
    marker = "<|im_start|>system"
    while True:
        at = rest.find(marker)
        if at < 0:
            return None
        rest = rest[at + len(marker):]
        if rest.startswith("\n"):
            body = rest[1:]
        elif rest.startswith("\\n"):
            body = rest[2:]
        else:
            continue
        end = body.find("<|im_end|>")
        if end < 0:
            return None
        literal = body[:end]
        if any(c in "'\"+{}" for c in literal):
            continue
        return literal.replace("\\n", "\n")


# -- the model's chat settings (ModelChatSettings.swift) ----------------------------------------------------------

@dataclass
class ModelChatSettings:
    source: str
    template: str = None
    bos_token: str = None
    eos_token: str = None

    @classmethod
    def read(cls, directory):
        """`tokenizer_config.json` of a model directory, as transformers reads it; None when there is none.
        Special tokens are strings or {"content": …} objects."""
        path = os.path.join(directory, "tokenizer_config.json")
        if not os.path.isfile(path):
            return None
        try:
            with open(path, encoding="utf-8") as f:
                config = json.load(f)
        except (OSError, ValueError) as error:
            raise SettingError("--template", f"{path}: not readable as JSON ({error}); choose a prompt format with "
                                             "--template") from None
        if not isinstance(config, dict):
            raise SettingError("--template", f"{path}: not a JSON object")

        def token(key):
            value = config.get(key)
            if isinstance(value, dict):
                value = value.get("content")
            return value if isinstance(value, str) else None

        template = config.get("chat_template")
        if template is not None and not isinstance(template, str):
            raise SettingError("--template", f"{path}: field \"chat_template\": expected a string (xright does not "
                                             "read named template lists); choose a prompt format with --template")
        return cls(path, template, token("bos_token"), token("eos_token"))

    def chat_template(self):
        if self.template is None:
            return None
        try:
            return ChatTemplate.recognizing(self.template, self.bos_token or "", self.eos_token or "")
        except ChatTemplateError as error:
            raise SettingError("--template", f"{self.source}: {error}") from None
