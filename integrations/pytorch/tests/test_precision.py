"""`--precision bf16-mixed`: bfloat16 autocast with float32 master weights, gradients and AdamW state. An update
below bfloat16's resolution is kept (bf16-pure loses it), the losses are float32's within bfloat16's error, and
a checkpointed run resumes exactly."""

import contextlib
import io
import os
import shutil
import tempfile
import unittest

import torch

from xright_bridge.backend import TorchBackend
from xright_bridge.cli import main, parser, resolve_train_args
from xright_bridge.distributed import Collective
from xright_bridge.errors import SettingError
from xright_bridge.losses import PreferenceLoss
from xright_bridge.precision import Precision

from test_recipe import EXAMPLES, PAIRS, tiny_model

CPU = torch.device("cpu")


def backend(precision, lr=1e-3, seed=3):
    p = Precision(precision, CPU)
    model = tiny_model(seed).to(p.storage)
    reference = tiny_model(4).to(p.storage)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0)
    return TorchBackend(model, reference, optimizer, PreferenceLoss("sigmoid", 0.5), 0, Collective(),
                        learning_rate=lr, autocast=p.autocast)


def one_step(b):
    """A mixed step's metrics; the update applied."""
    sft = b.sft(EXAMPLES, 0.6)
    dpo = b.dpo(PAIRS, [0, 1, 2, 3], 0.4)
    grads = [p.grad.detach().float().clone() for p in b.model.parameters()]
    b.apply_update()
    return sft, dpo, grads


class MixedPrecisionTests(unittest.TestCase):
    def test_anUpdateBelowBF16Resolution_movesTheFloat32MasterWeight_butNotAPureBF16One(self):
        # AdamW's first step moves each weight by about lr = 2e-4; for |w| ≥ 1/8 bf16's spacing is 2⁻¹⁰ ≈ 9.8e-4, so
        # the rounded result is w again.
        moved = {}
        for precision in ("bf16-mixed", "bf16-pure"):
            b = backend(precision, lr=2e-4)
            before = [p.detach().clone() for p in b.model.parameters()]
            one_step(b)
            big = changed = 0
            for old, p in zip(before, b.model.parameters()):
                large = old.float().abs() >= 0.125
                big += int(large.sum())
                changed += int((large & (p.detach() != old)).sum())
            moved[precision] = changed / big
        self.assertGreater(moved["bf16-mixed"], 0.5, moved)
        self.assertEqual(moved["bf16-pure"], 0.0, moved)

    def test_bf16Mixed_keepsWeightsGradientsAndAdamWInFloat32_andComputesInBF16(self):
        b = backend("bf16-mixed")
        seen = []
        layer = b.model.gpt_neox.layers[0].attention.query_key_value
        layer.register_forward_hook(lambda module, inputs, output: seen.append(output.dtype))
        one_step(b)
        self.assertIn(torch.bfloat16, seen, "the projections ran under bf16 autocast")
        for p in b.model.parameters():
            self.assertEqual(p.dtype, torch.float32)
        states = [s for s in b.optimizer.state.values()]
        self.assertTrue(states)
        for s in states:
            self.assertEqual((s["exp_avg"].dtype, s["exp_avg_sq"].dtype), (torch.float32, torch.float32))

    def test_bf16Mixed_lossesAndGradients_areFloat32sWithinBF16Error(self):
        exact_sft, exact_dpo, exact = one_step(backend("fp32"))
        sft, dpo, grads = one_step(backend("bf16-mixed"))
        for a, b in ((sft["loss"], exact_sft["loss"]), (dpo["loss"], exact_dpo["loss"])):
            self.assertNotEqual(a, b, "autocast changed nothing")
            self.assertLess(abs(a - b) / abs(b), 2e-2, (a, b))
        flat, exact_flat = torch.cat([g.flatten() for g in grads]), torch.cat([g.flatten() for g in exact])
        cosine = float(torch.nn.functional.cosine_similarity(flat, exact_flat, dim=0))
        self.assertGreater(cosine, 0.999, cosine)


class PrecisionOptionTests(unittest.TestCase):
    def test_aBadValue_isRefusedNamingTheOption(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), self.assertRaises(SystemExit) as caught:
            parser().parse_args(["train", "--precision", "bf17"])
        self.assertEqual(caught.exception.code, 2)
        self.assertIn("--precision: invalid choice: 'bf17'", err.getvalue())
        with self.assertRaisesRegex(SettingError, "--precision: expected one of fp32, bf16-mixed"):
            Precision("bf17", CPU)

    def test_theOldDtypeOption_pointsToPrecision_andExitsNonZero(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = main(["train", "--model", "m", "--run-dir", "r", "--dtype", "bfloat16"])
        self.assertEqual(code, 2)
        self.assertIn("--dtype: replaced by --precision", err.getvalue())
        self.assertIn("bf16-mixed", err.getvalue())
        self.assertEqual(resolve_train_args(parser().parse_args(["train", "--model", "m", "--run-dir", "r"])).precision,
                         "fp32")


class MixedPrecisionRunTests(unittest.TestCase):
    def test_aBF16MixedRun_resumesFromItsCheckpointExactly_withFloat32State(self):
        import harness
        harness.require_chat_tokenizer()
        root = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, root)
        model = harness.tiny_model(root)
        sft, pref = harness.data(root)
        whole = os.path.join(root, "whole")
        code, err = harness.train(["--model", model, "--run-dir", whole, "--sft", sft, "--pref", pref,
                                   "--precision", "bf16-mixed", "--strategy", "alright", "--max-steps", "6", "--epochs", "10",
                                   "--checkpoint-every", "3", "--batch-size", "4", "--lr", "1e-3",
                                   "--eval-fraction", "0", "--threads", "1"])
        self.assertEqual(code, 0, err)
        header = harness.events(whole)[0]["settings"]
        self.assertEqual((header["precision"], header["dtype"]), ("bf16-mixed", "float32"))
        optimizer = torch.load(os.path.join(whole, "checkpoints", "step-000003", "backend", "optimizer.pt"))
        self.assertTrue(all(s["exp_avg"].dtype == torch.float32 for s in optimizer["state"].values()))

        resumed = os.path.join(root, "resumed")
        shutil.copytree(whole, resumed, symlinks=True)
        shutil.rmtree(os.path.join(resumed, "checkpoints", "step-000006"))
        os.unlink(os.path.join(resumed, "checkpoints", "latest"))
        os.symlink("step-000003", os.path.join(resumed, "checkpoints", "latest"))
        code, err = harness.train(["--resume", resumed])
        self.assertEqual(code, 0, err)
        expected, continued = harness.steps(whole), harness.steps(resumed)
        for step in (4, 5, 6):
            for key in ("objectives", "sft", "dpo", "gradientNorm", "lambda"):
                self.assertEqual(continued[step].get(key), expected[step].get(key), (step, key))
        self.assertEqual({o for step in (4, 5, 6) for o in continued[step]["objectives"]}, {"sft", "dpo"})
        a = torch.load(os.path.join(whole, "checkpoints", "step-000006", "backend", "optimizer.pt"))
        b = torch.load(os.path.join(resumed, "checkpoints", "step-000006", "backend", "optimizer.pt"))
        for k in a["state"]:
            self.assertTrue(torch.equal(a["state"][k]["exp_avg"], b["state"][k]["exp_avg"]))


if __name__ == "__main__":
    unittest.main()
