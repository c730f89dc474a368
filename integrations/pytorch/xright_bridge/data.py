"""Data readers equivalent to xright's (Sources/Data): the same formats, the same prompt templates, the same
token convention and truncation, the same held-out split, so a bridge run trains on what `xright train` would.

Formats: alpaca {instruction, input?, output} · prompt-response · prompt-chosen-rejected · hh (Anthropic HH
transcripts) · sharegpt (LLaMA-Factory ranking). Each in a JSON array or JSON Lines, gzip-compressed or not.
"""

import gzip
import json
import os
from dataclasses import dataclass, field

from .chat import FAMILIES, ChatTemplate, ChatTemplateError, ModelChatSettings
from .errors import DataError

FORMATS = ("alpaca", "prompt-response", "prompt-chosen-rejected", "hh", "sharegpt")
SFT_FORMATS = ("alpaca", "prompt-response")
ASSISTANT = "\n\nAssistant:"
HUMAN = "\n\nHuman:"


@dataclass
class Example:
    prompt: str
    response: str
    context: list = field(default_factory=list)     # [(role, text)] before the prompt
    source: str = ""


@dataclass
class Pair:
    prompt: str
    chosen: str
    rejected: str
    context: list = field(default_factory=list)
    source: str = ""


# -- reading records -------------------------------------------------------------------------------------------

def read_records(path):
    """(location, object) per record. JSON arrays name records by index, JSON Lines by line number."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise DataError(path, f"cannot read the file ({e.strerror})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise DataError(path, f"expected a gzip stream (it starts with the gzip magic); {e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}", f"expected UTF-8 text; found byte 0x{raw[e.start]:02x}") from None
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            array = json.loads(text)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}:{e.lineno}", f"expected a JSON array of records; {e.msg} at column {e.colno}") from None
        for index, obj in enumerate(array):
            yield f"{path}: record {index + 1}", obj
        return
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}:{number}", f"expected one JSON object per line; {e.msg} at column {e.colno}") from None
        yield f"{path}:{number}", obj


def detect_format(keys):
    """RecordFormat.detect: loose on purpose, so a record missing one field is reported as a missing field."""
    if "conversations" in keys or "messages" in keys:
        return "sharegpt"
    if "chosen" in keys or "rejected" in keys:
        return "prompt-chosen-rejected" if "prompt" in keys else "hh"
    if "instruction" in keys:
        return "alpaca"
    if "prompt" in keys or "response" in keys:
        return "prompt-response"
    return None


def _string(obj, key, where, optional=False):
    if key not in obj:
        if optional:
            return ""
        raise DataError(where, f"missing field \"{key}\"")
    value = obj[key]
    if not isinstance(value, str):
        raise DataError(where, f"field \"{key}\": expected a string, found {type(value).__name__}")
    return value


def read_dataset(path, kind, fmt=None, strict=True, skipped=None):
    """Examples (kind "sft") or pairs (kind "preference") of a file; DataError names the file and record. Not
    strict: a bad record is skipped and its error appended to `skipped` (as xright does without --strict)."""
    out = []
    for where, obj in read_records(path):
        try:
            out.append(_record(obj, where, kind, fmt))
        except DataError as error:
            if strict or skipped is None:
                raise
            skipped.append(str(error))
    if not out:
        raise DataError(path, "expected at least one usable record; found none"
                              + (f" ({len(skipped)} skipped, first: {skipped[0]})" if skipped else ""))
    return out


def _record(obj, where, kind, fmt):
    if not isinstance(obj, dict):
        raise DataError(where, f"expected a JSON object, found {type(obj).__name__}")
    record_format = fmt or detect_format(obj.keys())
    if record_format is None:
        raise DataError(where, "expected the keys of one of the formats (instruction/input/output, "
                               "prompt/response, prompt/chosen/rejected, chosen/rejected, conversations); found "
                               + (", ".join(sorted(obj.keys())) or "none"))
    is_sft = record_format in SFT_FORMATS
    if is_sft != (kind == "sft"):
        wanted = "SFT (alpaca, prompt-response)" if kind == "sft" else "preference (prompt-chosen-rejected, hh, sharegpt)"
        raise DataError(where, f"expected {wanted} records; found a {record_format} record")
    return _decode(record_format, obj, where)


def _decode(fmt, obj, where):
    if fmt == "alpaca":
        instruction, extra = _string(obj, "instruction", where), _string(obj, "input", where, optional=True)
        return Example(instruction + ("\n" + extra if extra else ""), _string(obj, "output", where), source=where)
    if fmt == "prompt-response":
        return Example(_string(obj, "prompt", where), _string(obj, "response", where), source=where)
    if fmt == "prompt-chosen-rejected":
        return _pair(_string(obj, "prompt", where), _string(obj, "chosen", where), _string(obj, "rejected", where),
                     [], where)
    if fmt == "hh":
        return _hh(_string(obj, "chosen", where), _string(obj, "rejected", where), where)
    return _sharegpt(obj, where)


def _pair(prompt, chosen, rejected, context, where):
    if not prompt.strip() and not context:
        raise DataError(where, "the prompt is empty, so there is nothing to answer")
    if chosen == rejected:
        raise DataError(where, "chosen and rejected are identical, so the pair states no preference")
    return Pair(prompt, chosen, rejected, context, where)


def _reply(text):
    return text[1:] if text.startswith(" ") else text


def _hh(chosen, rejected, where):
    """The prompt is the longest common prefix cut back to its last "\\n\\nAssistant:" (AnthropicHH.swift)."""
    c, r = chosen.encode(), rejected.encode()
    common = 0
    while common < min(len(c), len(r)) and c[common] == r[common]:
        common += 1
    marker = c.rfind(ASSISTANT.encode(), 0, common)
    if marker < 0:
        raise DataError(where, f"field \"chosen\": chosen and rejected share no prompt: their common beginning "
                               f"({common} bytes) holds no \"\\n\\nAssistant:\" marker")
    end = marker + len(ASSISTANT)
    if HUMAN.encode() in c[end:] or HUMAN.encode() in r[end:]:
        raise DataError(where, "field \"chosen\": chosen and rejected part before their last Human turn, so they "
                               "do not answer the same prompt")
    context, prompt = _hh_turns(c[:marker].decode("utf-8", "replace"))
    return _pair(prompt, _reply(c[end:].decode("utf-8", "replace")), _reply(r[end:].decode("utf-8", "replace")),
                 context, where)


def _hh_turns(transcript):
    first = transcript.find(HUMAN)
    if first < 0:
        return [], transcript
    context = []
    if transcript[:first].strip():
        context.append(("system", transcript[:first]))
    position = first + len(HUMAN)
    while True:
        assistant = transcript.find(ASSISTANT, position)
        if assistant < 0:
            return context, _reply(transcript[position:])
        context.append(("user", _reply(transcript[position:assistant])))
        start = assistant + len(ASSISTANT)
        human = transcript.find(HUMAN, start)
        if human < 0:
            return [], transcript
        context.append(("assistant", _reply(transcript[start:human])))
        position = human + len(HUMAN)


ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "model": "assistant",
         "bot": "assistant", "system": "system"}


def _sharegpt(obj, where):
    key = "conversations" if "conversations" in obj else "messages"
    messages = obj.get(key)
    if not isinstance(messages, list):
        raise DataError(where, f"field \"{key}\": expected an array of {{from, value}} messages, found "
                               f"{type(messages).__name__ if key in obj else 'nothing'}")
    turns = []
    for i, m in enumerate(messages):
        role, text = _role_text(m, f"{key}[{i}]", where)
        if role == "system" and not text.strip():
            continue
        if role == "system" and any(t[0] != "system" for t in turns):
            raise DataError(where, f"{key}[{i}]: a system message may only open the conversation")
        turns.append((role, text))
    if not turns or turns[-1][0] != "user":
        raise DataError(where, f"field \"{key}\": expected the conversation to end with a human message, found "
                               + (f"a {turns[-1][0]} message" if turns else "no messages"))
    replies = []
    for k in ("chosen", "rejected"):
        if k not in obj:
            raise DataError(where, f"missing field \"{k}\"")
        if isinstance(obj[k], str):
            replies.append(obj[k])
            continue
        role, text = _role_text(obj[k], k, where)
        if role != "assistant":
            raise DataError(where, f"field \"{k}\": expected a reply from \"gpt\", found one from \"{role}\"")
        replies.append(text)
    return _pair(turns[-1][1], replies[0], replies[1], turns[:-1], where)


def _role_text(m, name, where):
    if not isinstance(m, dict):
        raise DataError(where, f"{name}: expected a {{from, value}} object, found {type(m).__name__}")
    role_key = "from" if "from" in m else "role"
    text_key = "value" if "value" in m else "content"
    if role_key not in m:
        raise DataError(where, f"{name}: missing field \"from\" (who speaks: human, gpt or system)")
    if text_key not in m:
        raise DataError(where, f"{name}: missing field \"value\" (the message text)")
    role, text = m[role_key], m[text_key]
    if not isinstance(role, str) or not isinstance(text, str):
        raise DataError(where, f"{name}: expected string \"{role_key}\" and \"{text_key}\"")
    if role not in ROLES:
        raise DataError(where, f"{name}.{role_key}: expected human, gpt or system, found \"{role}\"")
    return ROLES[role], text


# -- templates and tokens --------------------------------------------------------------------------------------

TEMPLATES = {
    "xright": "User: {prompt}\nAssistant: ",
    "raw": "{prompt}",
    "alpaca": "Below is an instruction that describes a task. Write a response that appropriately completes the "
              "request.\n\n### Instruction:\n{prompt}\n\n### Response:\n",
    "hh": "\n\nHuman: {prompt}\n\nAssistant: ",
}


class PromptTemplate:
    """PromptTemplate.swift: a text with one {prompt}; earlier turns rendered through the same template."""

    def __init__(self, spec):
        text = TEMPLATES.get(spec)
        self.name = spec if text is not None else None
        if text is None:
            if spec.count("{prompt}") != 1:
                raise DataError("--template", f"\"{spec}\" is neither a template name ({', '.join(template_names())}) "
                                              "nor a custom template containing {prompt} exactly once")
            text = _unescape(spec)
        self.format = text
        self.prefix, self.suffix = text.split("{prompt}")

    @property
    def description(self):
        """What the run header records as `prompt_format`: the name, or the custom text."""
        return self.name or self.format

    def render(self, prompt, context):
        if not context:
            return self.prefix + prompt + self.suffix
        reply_end = "" if self.prefix.startswith("\n") else "\n"
        user_end = self.suffix or "\n"
        out = ""
        for role, text in context:
            if role == "system":
                out += text + "\n"
            elif role == "user":
                out += self.prefix + text + user_end
            else:
                out += text + reply_end
        return out + self.prefix + prompt + self.suffix


def _unescape(text):
    """`\\n`, `\\t` and `\\\\` typed in a shell stand for a line break, a tab and a backslash."""
    out, escaping = [], False
    for c in text:
        if escaping:
            out.append({"n": "\n", "t": "\t", "\\": "\\"}.get(c, "\\" + c))
            escaping = False
        elif c == "\\":
            escaping = True
        else:
            out.append(c)
    if escaping:
        out.append("\\")
    return "".join(out)


def template_names():
    """`--template` names: the chat families, then the text templates no family shares a name with."""
    return list(FAMILIES) + [name for name in TEMPLATES if name not in FAMILIES]


def resolve_prompt_format(template, model_directory, fallback="xright"):
    """PromptFormatChoice.resolve: `--template` given: a chat family by name (with the model's BOS / EOS when its
    tokenizer_config.json names them) or a text template; otherwise the model's chat template, which must be one
    xright recognises; otherwise `fallback`. Returns a PromptTemplate or a ChatTemplate."""
    if template is not None and ChatTemplate.named(template) is None:
        return PromptTemplate(template)
    settings = ModelChatSettings.read(model_directory) if model_directory and os.path.isdir(model_directory) else None
    if template is not None:
        return ChatTemplate.named(template).with_tokens(settings and settings.bos_token, settings and settings.eos_token)
    chat = settings.chat_template() if settings else None
    return chat if chat is not None else PromptTemplate(fallback)


@dataclass
class Tokenized:
    """ids = tok(templated prompt) ++ tok(response) ++ [eos]; the loss covers ids[response_start:]."""
    ids: list
    response_start: int


class ExampleTokenizer:
    """ExampleTokenizer.swift, including its truncation rule (P prompt, R response tokens with eos, L max):
    when P + R > L the response keeps min(R, max(L − P, min(m, L − 1))) tokens from the left, the prompt the rest
    of the budget from the right; a pair's longer response sets the budget so both keep the same prompt.

    `template` is a PromptTemplate (ids = tok(templated prompt) ++ tok(response) ++ [eos]) or a ChatTemplate: the
    conversation (context, the prompt as the user turn, the response as the assistant turn) rendered and encoded
    at once, through the reply's end-of-turn marker, with no eos after it; the prompt part is everything before
    the reply. For a pair, the prompt is the part both sequences share."""

    def __init__(self, tokenizer, eos_id, template, max_length=None, min_response_tokens=16):
        if max_length is not None and max_length < 2:
            raise DataError("--max-len", f"expected at least 2 tokens (one of prompt, one of response), found {max_length}")
        self.tokenizer, self.eos_id, self.template = tokenizer, eos_id, template
        self.max_length, self.min_response = max_length, min_response_tokens
        self.chat = isinstance(template, ChatTemplate)

    def _encode(self, text):
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def _require_prompt(self, ids, where):
        if not ids:
            raise DataError(where, "the templated prompt encodes to no tokens, so the first response token has "
                                   "nothing to be predicted from")
        return ids

    def _chat_sequence(self, context, prompt, response, where):
        """The conversation's ids through the reply's end-of-turn marker, and where the reply starts. A
        conversation the template rejects is a bad record (skipped unless --strict), not a failed run."""
        messages = [(role, text) for role, text in context] + [("user", prompt), ("assistant", response)]
        try:
            return self.template.tokenize_last_reply(messages, self._encode)
        except ChatTemplateError as error:
            raise DataError(where, str(error)) from None

    def _budget(self, p, r):
        if self.max_length is None or p + r <= self.max_length:
            return p, r
        L = self.max_length
        response = min(r, max(L - p, min(self.min_response, L - 1)))
        return min(p, L - response), response

    @staticmethod
    def _assemble(prompt, keep_prompt, response, keep_response):
        return Tokenized(prompt[len(prompt) - keep_prompt:] + response[:keep_response], keep_prompt)

    def example(self, e):
        if self.chat:
            ids, start = self._chat_sequence(e.context, e.prompt, e.response, e.source)
            prompt, response = self._require_prompt(ids[:start], e.source), ids[start:]
        else:
            prompt = self._require_prompt(self._encode(self.template.render(e.prompt, e.context)), e.source)
            response = self._encode(e.response) + [self.eos_id]
        kp, kr = self._budget(len(prompt), len(response))
        return self._assemble(prompt, kp, response, min(len(response), kr))

    def pair(self, p):
        if self.chat:
            a, a_start = self._chat_sequence(p.context, p.prompt, p.chosen, p.source)
            b, b_start = self._chat_sequence(p.context, p.prompt, p.rejected, p.source)
            # Both render the same text up to their replies, so their ids agree there (short of a token that
            # straddles a reply's start in one of them).
            shared = 0
            while shared < min(a_start, b_start) and a[shared] == b[shared]:
                shared += 1
            prompt = self._require_prompt(a[:shared], p.source)
            chosen, rejected = a[shared:], b[shared:]
        else:
            prompt = self._require_prompt(self._encode(self.template.render(p.prompt, p.context)), p.source)
            chosen = self._encode(p.chosen) + [self.eos_id]
            rejected = self._encode(p.rejected) + [self.eos_id]
        kp, kr = self._budget(len(prompt), max(len(chosen), len(rejected)))
        return (self._assemble(prompt, kp, chosen, min(len(chosen), kr)),
                self._assemble(prompt, kp, rejected, min(len(rejected), kr)))


EOS_CANDIDATES = ("<|endoftext|>", "</s>", "<|end_of_text|>", "<eos>", "<|im_end|>")


def eos_id_of(tokenizer, path):
    """The end-of-sequence id by the conventional names, as the Swift tokenizer loader picks it."""
    for name in EOS_CANDIDATES:
        token_id = tokenizer.token_to_id(name)
        if token_id is not None:
            return token_id
    raise DataError(path, f"expected an end-of-sequence token (one of {' '.join(EOS_CANDIDATES)}); found none")


# -- the held-out split (EvalSplit.swift) -----------------------------------------------------------------------

MASK = (1 << 64) - 1


def _mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


class _ContentHash:
    """FNV-1a over each field's UTF-8, fields separated by 0xFF, turn lists closed by 0xFE."""

    def __init__(self):
        self.value = 0xCBF29CE484222325

    def byte(self, b):
        self.value = ((self.value ^ b) * 0x100000001B3) & MASK

    def text(self, s):
        for b in s.encode():
            self.byte(b)
        self.byte(0xFF)

    def turns(self, turns):
        for role, text in turns:
            self.text(role)
            self.text(text)
        self.byte(0xFE)


def is_held_out(record, fraction, seed=0):
    """A record goes to evaluation when a seeded hash of its content falls below `fraction`."""
    h = _ContentHash()
    h.turns(record.context)
    h.text(record.prompt)
    if isinstance(record, Example):
        h.text(record.response)
    else:
        h.text(record.chosen)
        h.text(record.rejected)
    mixed = _mix(h.value ^ _mix((seed + 0x9E3779B97F4A7C15) & MASK))
    return (mixed >> 11) * (2.0 ** -53) < fraction
