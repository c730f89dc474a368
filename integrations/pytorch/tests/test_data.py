"""Data readers: formats, templates, truncation, the held-out split, and every error naming file and record."""

import gzip
import json
import os
import tempfile
import unittest

from xright_bridge.data import (Example, ExampleTokenizer, Pair, PromptTemplate, is_held_out, read_dataset)
from xright_bridge.errors import DataError


def write(directory, name, text, compress=False):
    path = os.path.join(directory, name)
    data = text.encode()
    with open(path, "wb") as f:
        f.write(gzip.compress(data) if compress else data)
    return path


class FakeEncoding:
    def __init__(self, ids):
        self.ids = ids


class CharTokenizer:
    """One id per character: makes truncation arithmetic easy to read."""

    def encode(self, text, add_special_tokens=False):
        return FakeEncoding([ord(c) for c in text])


class ReaderTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def test_reader_readsAlpacaArrayWithInputJoinedByNewline(self):
        path = write(self.dir, "a.json", json.dumps([{"instruction": "Add", "input": "2 and 3", "output": "5"}]))
        [e] = read_dataset(path, "sft")
        self.assertEqual((e.prompt, e.response), ("Add\n2 and 3", "5"))

    def test_reader_readsGzipJSONLines(self):
        path = write(self.dir, "p.jsonl.gz", '{"prompt":"p","chosen":"a","rejected":"b"}\n', compress=True)
        [p] = read_dataset(path, "preference")
        self.assertEqual((p.prompt, p.chosen, p.rejected), ("p", "a", "b"))

    def test_reader_splitsHHTranscriptsAtTheSharedPrompt(self):
        chosen = "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: how are you?\n\nAssistant: fine"
        rejected = "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: how are you?\n\nAssistant: go away"
        path = write(self.dir, "hh.jsonl", json.dumps({"chosen": chosen, "rejected": rejected}) + "\n")
        [p] = read_dataset(path, "preference")
        self.assertEqual((p.prompt, p.chosen, p.rejected), ("how are you?", "fine", "go away"))
        self.assertEqual(p.context, [("user", "hi"), ("assistant", "hello")])
        self.assertEqual(PromptTemplate("hh").render(p.prompt, p.context) + p.chosen, chosen)

    def test_reader_readsShareGPTWithSystemMessage(self):
        record = {"conversations": [{"from": "system", "value": "be kind"}, {"from": "human", "value": "q"}],
                  "chosen": {"from": "gpt", "value": "a"}, "rejected": {"from": "gpt", "value": "b"}}
        path = write(self.dir, "s.json", json.dumps([record]))
        [p] = read_dataset(path, "preference")
        self.assertEqual((p.prompt, p.context), ("q", [("system", "be kind")]))

    def test_reader_reportsLineOfMalformedJSON(self):
        path = write(self.dir, "bad.jsonl", '{"prompt":"a","response":"b"}\n{"prompt": oops}\n')
        with self.assertRaises(DataError) as caught:
            read_dataset(path, "sft")
        self.assertIn("bad.jsonl:2", str(caught.exception))

    def test_reader_reportsMissingFieldWithRecord(self):
        path = write(self.dir, "m.json", json.dumps([{"prompt": "a", "response": "b"}, {"prompt": "c"}]))
        with self.assertRaises(DataError) as caught:
            read_dataset(path, "sft")
        self.assertIn("record 2", str(caught.exception))
        self.assertIn('missing field "response"', str(caught.exception))

    def test_reader_reportsWrongFieldType(self):
        path = write(self.dir, "t.jsonl", '{"prompt":"a","response":3}\n')
        with self.assertRaisesRegex(DataError, r't.jsonl:1: field "response": expected a string, found int'):
            read_dataset(path, "sft")

    def test_reader_refusesPreferenceRecordsAsSFT(self):
        path = write(self.dir, "x.jsonl", '{"prompt":"a","chosen":"b","rejected":"c"}\n')
        with self.assertRaisesRegex(DataError, "expected SFT"):
            read_dataset(path, "sft")

    def test_reader_skipsBadRecordsWhenNotStrict_andCountsThem(self):
        path = write(self.dir, "x.jsonl", '{"prompt":"a","chosen":"b","rejected":"b"}\n{"prompt":"a","chosen":"b","rejected":"c"}\n')
        skipped = []
        pairs = read_dataset(path, "preference", strict=False, skipped=skipped)
        self.assertEqual(len(pairs), 1)
        self.assertEqual(len(skipped), 1)
        self.assertIn("identical", skipped[0])

    def test_reader_reportsEmptyFileAndMissingFile(self):
        with self.assertRaisesRegex(DataError, "at least one usable record"):
            read_dataset(write(self.dir, "e.jsonl", "\n"), "sft")
        with self.assertRaisesRegex(DataError, "cannot read"):
            read_dataset(os.path.join(self.dir, "absent.jsonl"), "sft")

    def test_reader_reportsNonUTF8ByLine(self):
        path = os.path.join(self.dir, "b.jsonl")
        with open(path, "wb") as f:
            f.write(b'{"prompt":"a","response":"b"}\n{"prompt":"\xff"}\n')
        with self.assertRaisesRegex(DataError, r"b.jsonl:2: expected UTF-8"):
            read_dataset(path, "sft")

    def test_reader_reportsHHWithoutSharedPrompt(self):
        path = write(self.dir, "h.jsonl", json.dumps({"chosen": "a", "rejected": "b"}) + "\n")
        with self.assertRaisesRegex(DataError, "share no prompt"):
            read_dataset(path, "preference")


class TokenizationTests(unittest.TestCase):
    def tok(self, max_length=None, minimum=16, template="raw"):
        return ExampleTokenizer(CharTokenizer(), 0, PromptTemplate(template), max_length, minimum)

    def test_tokenizer_appendsEosAndScoresResponseOnly(self):
        t = self.tok().example(Example("ab", "cd"))
        self.assertEqual(t.ids, [97, 98, 99, 100, 0])
        self.assertEqual(t.response_start, 2)

    def test_tokenizer_truncatesPromptFromTheLeftAndResponseFromTheRight(self):
        # P = 6, R = 5 (with eos), L = 6, m = 2: the response keeps max(L − P, min(m, L − 1)) = 2, the prompt 4.
        t = self.tok(max_length=6, minimum=2).example(Example("abcdef", "wxyz"))
        self.assertEqual(t.ids, [ord(c) for c in "cdef"] + [ord("w"), ord("x")])
        self.assertEqual(t.response_start, 4)

    def test_tokenizer_keepsTheSamePromptForBothSidesOfAPair(self):
        chosen, rejected = self.tok(max_length=8, minimum=3).pair(Pair("abcdef", "long reply", "no"))
        self.assertEqual(chosen.ids[:chosen.response_start], rejected.ids[:rejected.response_start])

    def test_tokenizer_refusesTooShortMaxLength(self):
        with self.assertRaisesRegex(DataError, "--max-len"):
            self.tok(max_length=1)

    def test_tokenizer_refusesPromptWithNoTokens(self):
        with self.assertRaisesRegex(DataError, "encodes to no tokens"):
            self.tok().example(Example("", "x", source="f.jsonl:3"))

    def test_template_rendersTheXrightTemplateAndRefusesBadCustomOnes(self):
        self.assertEqual(PromptTemplate("xright").render("hi", []), "User: hi\nAssistant: ")
        self.assertEqual(PromptTemplate("Q: {prompt}\\nA: ").render("hi", []), "Q: hi\nA: ")
        with self.assertRaisesRegex(DataError, "--template"):
            PromptTemplate("no placeholder")


class SplitTests(unittest.TestCase):
    def test_split_dependsOnContentOnly_andMatchesTheFraction(self):
        examples = [Example(f"prompt {i}", f"response {i}") for i in range(4000)]
        held = [is_held_out(e, 0.1, 0) for e in examples]
        self.assertEqual(held, [is_held_out(Example(e.prompt, e.response), 0.1, 0) for e in examples])
        self.assertAlmostEqual(sum(held) / len(held), 0.1, delta=0.02)
        self.assertFalse(any(is_held_out(e, 0.0) for e in examples))


if __name__ == "__main__":
    unittest.main()
