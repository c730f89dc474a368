"""The official recipe's options on the bridge, as on `xright train`: --sft-from-pref, --ref-model, separate batch
sizes with gradient accumulation (the update of the whole batch), and sample caps; every refusal names the flag."""

import contextlib
import io
import json
import os
import shutil
import tempfile
import unittest

import torch
from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

from xright_bridge.backend import TorchBackend, micro_slices, scored_tokens
from xright_bridge.cli import parser
from xright_bridge.data import Example, Tokenized, is_held_out
from xright_bridge.distributed import Collective
from xright_bridge.errors import SettingError
from xright_bridge.losses import PreferenceLoss
from xright_bridge.train import check_recipe, data_records


def tiny_model(seed=3):
    torch.manual_seed(seed)
    config = GPTNeoXConfig(vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                           intermediate_size=32, max_position_embeddings=32, rotary_pct=0.5, tie_word_embeddings=False)
    model = GPTNeoXForCausalLM(config)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model


def seq(prompt, response):
    return Tokenized(ids=prompt + response, response_start=len(prompt))


EXAMPLES = [seq([1, 2], [3, 4, 0]), seq([5], [6, 7, 8, 9, 0]), seq([10, 11, 12], [13, 0]), seq([14], [15, 16, 0])]
PAIRS = [(seq([1, 2, 3], [4, 5, 0]), seq([1, 2, 3], [6, 0])), (seq([7, 8], [9, 10, 11, 0]), seq([7, 8], [12, 13, 0])),
         (seq([14], [15, 0]), seq([14], [16, 17, 18, 0])), (seq([19, 20], [21, 0]), seq([19, 20], [22, 0]))]


class GradientAccumulationTests(unittest.TestCase):
    def step(self, micro_batches):
        """One mixed step (SFT and DPO gradients summed): the metrics and every gradient."""
        model, reference = tiny_model(), tiny_model(seed=4)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        backend = TorchBackend(model, reference, optimizer, PreferenceLoss("sigmoid", 0.5), 0, Collective(),
                               micro_batches=micro_batches)
        sft = backend.sft(EXAMPLES, 0.6)
        dpo = backend.dpo(PAIRS, [0, 1, 2, 3], 0.4)
        return sft, dpo, [p.grad.clone() for p in model.parameters()]

    def test_twoMicroBatchesOfTwo_giveTheGradientOfOneBatchOfFour(self):
        whole_sft, whole_dpo, whole = self.step(1)
        for parts in (2, 4):
            sft, dpo, grads = self.step(parts)
            self.assertAlmostEqual(sft["loss"], whole_sft["loss"], places=6)
            self.assertAlmostEqual(dpo["loss"], whole_dpo["loss"], places=6)
            self.assertEqual(sft["tokens"], whole_sft["tokens"])
            self.assertEqual(dpo["preference"]["rewardAccuracy"], whole_dpo["preference"]["rewardAccuracy"])
            for a, b in zip(grads, whole):
                torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
        self.assertGreater(max(float(g.abs().max()) for g in whole), 0)

    def test_slices_areContiguousAndEven_andTheScoredCountIsTheLabels(self):
        self.assertEqual(micro_slices(list(range(5)), 2), [[0, 1], [2, 3, 4]])
        self.assertEqual(micro_slices([1], 4), [[1]])
        self.assertEqual(micro_slices([], 3), [[]])
        self.assertEqual(scored_tokens(EXAMPLES), 3 + 5 + 2 + 3)


class RecipeOptionTests(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.root)
        self.pref = os.path.join(self.root, "pref.jsonl")
        with open(self.pref, "w") as f:
            for i in range(40):
                f.write(json.dumps({"prompt": f"{i}+1=", "chosen": str(i + 1), "rejected": str(i + 2)}) + "\n")

    def args(self, *argv):
        return parser().parse_args(["train", "--model", "m", "--run-dir", "r", *argv])

    def test_defaults_keepTheOneBatchBehaviour(self):
        a = self.args()
        self.assertEqual((a.grad_accum, a.sft_batch_size, a.pref_batch_size, a.ref_model, a.sft_from_pref), (1, None, None, None, None))
        self.assertEqual((a.sft_max_samples, a.pref_max_samples), (None, None))

    def test_sizesAndCaps_mustBePositive(self):
        for flag in ("--grad-accum", "--sft-batch-size", "--pref-batch-size", "--sft-max-samples", "--pref-max-samples"):
            with contextlib.redirect_stderr(io.StringIO()) as err, self.assertRaises(SystemExit):
                self.args(flag, "0")
            self.assertIn(f"{flag} expects an integer ≥ 1, got 0", err.getvalue())

    def test_sftFromPref_isTheChosenResponses_heldOutWithTheirPairs_andCapped(self):
        a = self.args("--sft-from-pref", self.pref, "--eval-fraction", "0.3", "--sft-max-samples", "25")
        path, records, held, _ = data_records("sft", a, "sft")
        self.assertEqual(path, self.pref)
        self.assertEqual(len(records), 25)
        self.assertEqual(records[3], Example("3+1=", "4", [], records[3].source))
        pairs = data_records("dpo", self.args("--pref", self.pref, "--eval-fraction", "0.3"), "preference")[1]
        self.assertEqual(held, [is_held_out(p, 0.3, 0) for p in pairs[:25]])
        self.assertTrue(any(held) and not all(held))
        capped = data_records("dpo", self.args("--pref", self.pref, "--pref-max-samples", "7"), "preference")[1]
        self.assertEqual([p.prompt for p in capped], [f"{i}+1=" for i in range(7)])

    def test_refusals_nameTheFlag(self):
        with self.assertRaises(SettingError) as caught:
            check_recipe(self.args("--sft", "s.jsonl", "--sft-from-pref", self.pref))
        self.assertIn("--sft-from-pref", str(caught.exception))
        with self.assertRaises(SettingError) as caught:
            check_recipe(self.args("--ref-model", os.path.join(self.root, "missing")))
        self.assertIn("--ref-model", str(caught.exception))
        self.assertIn("no such directory", str(caught.exception))
        run = os.path.join(self.root, "run")
        os.makedirs(run)
        open(os.path.join(run, "run.jsonl"), "w").close()
        with self.assertRaises(SettingError) as caught:
            check_recipe(self.args("--ref-model", run))
        self.assertIn("no final model yet", str(caught.exception))
        os.makedirs(os.path.join(run, "final"))
        open(os.path.join(run, "final", "config.json"), "w").close()
        self.assertEqual(check_recipe(self.args("--ref-model", run)), os.path.join(run, "final"))
        self.assertIsNone(check_recipe(self.args()))


if __name__ == "__main__":
    unittest.main()
