"""`--shard fsdp` (PyTorch FSDP2) on CPU with gloo and two processes on the tiny model: each rank holds about half
of every tensor, the run takes the steps the unsharded two-rank run takes (within float32 reduction-order error),
its checkpoints hold the whole model, and a resume from one repeats the uninterrupted run's next steps."""

import faulthandler
import json
import os
import shutil
import socket
import tempfile
import time
import unittest

import torch
import torch.multiprocessing as mp

import harness

RUN = ["--strategy", "alright", "--lambda", "0.5", "--epochs", "10", "--max-steps", "6", "--checkpoint-every", "3",
       "--batch-size", "5", "--lr", "1e-3", "--eval-fraction", "0.25", "--eval-every", "3", "--threads", "1",
       "--grad-accum", "2"]
SHORT = ["--strategy", "alright", "--lambda", "0.5", "--epochs", "10", "--max-steps", "2", "--batch-size", "5",
         "--lr", "1e-3", "--eval-fraction", "0.25", "--threads", "1", "--grad-accum", "2"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def has_peft():
    try:
        import peft  # noqa: F401
        return True
    except ImportError:
        return False


def rank_main(rank, root, model, sft, pref, ports):
    """One process of four two-rank launches in turn: unsharded, sharded, the sharded run resumed, and sharded
    under bf16-mixed."""
    # A deadlock would leave both processes waiting for ever: after 10 minutes each prints where it is and exits.
    faulthandler.dump_traceback_later(600, exit=True)
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1")
    data = ["--model", model, "--sft", sft, "--pref", pref]
    launches = [("plain", data + ["--run-dir", os.path.join(root, "plain")] + RUN),
                ("fsdp", data + ["--run-dir", os.path.join(root, "fsdp"), "--shard", "fsdp"] + RUN),
                ("resumed", ["--resume", os.path.join(root, "resumed")]),
                ("fsdp-bf16", data + ["--run-dir", os.path.join(root, "fsdp-bf16"), "--shard", "fsdp",
                                      "--precision", "bf16-mixed"] + SHORT)]
    if len(ports) > len(launches):
        launches.append(("fsdp-lora", data + ["--run-dir", os.path.join(root, "fsdp-lora"), "--shard", "fsdp",
                                              "--lora-r", "4"] + SHORT))
    for (name, argv), port in zip(launches, ports):
        if name == "resumed":
            prepare_resume(rank, root)
        os.environ["MASTER_PORT"] = str(port)
        code, err = harness.train(argv)
        if code != 0:
            raise RuntimeError(f"rank {rank}, {name}: exit {code}\n{err[-3000:]}")
    faulthandler.cancel_dump_traceback_later()


def prepare_resume(rank, root):
    """The sharded run as it would be had it crashed after its step-3 checkpoint (rank 0 copies; rank 1 waits)."""
    resumed, ready = os.path.join(root, "resumed"), os.path.join(root, "resumed.ready")
    if rank == 0:
        shutil.copytree(os.path.join(root, "fsdp"), resumed, symlinks=True)
        checkpoints = os.path.join(resumed, "checkpoints")
        shutil.rmtree(os.path.join(checkpoints, "step-000006"))
        os.unlink(os.path.join(checkpoints, "latest"))
        os.symlink("step-000003", os.path.join(checkpoints, "latest"))
        open(ready, "w").close()
    deadline = time.monotonic() + 120
    while not os.path.exists(ready):
        if time.monotonic() > deadline:
            raise RuntimeError("rank 0 did not prepare the resume")
        time.sleep(0.05)


def trace(run, rank):
    with open(os.path.join(run, "ranks", f"rank-{rank}.jsonl")) as f:
        return [json.loads(line) for line in f]


class ShardedTrainingTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_chat_tokenizer()
        cls.root = tempfile.mkdtemp()
        model = harness.tiny_model(cls.root)
        sft, pref = harness.data(cls.root, count=16)
        mp.spawn(rank_main, args=(cls.root, model, sft, pref, [free_port() for _ in range(5 if has_peft() else 4)]), nprocs=2, join=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def run_dir(self, name):
        return os.path.join(self.root, name)

    def test_eachRank_holdsAboutHalfOfTheModel(self):
        notes = [[t for t in trace(self.run_dir("fsdp"), rank) if "shard" in t][0] for rank in (0, 1)]
        total = notes[0]["parameters"]
        self.assertEqual(notes[1]["parameters"], total)
        self.assertEqual(notes[0]["localParameters"] + notes[1]["localParameters"], total)
        for note in notes:
            self.assertLess(abs(note["localParameters"] / total - 0.5), 0.05, note)
        self.assertEqual(harness.events(self.run_dir("fsdp"))[0]["settings"]["shard"], "fsdp")

    def test_theShardedRun_takesTheUnshardedRunsSteps(self):
        plain, sharded = harness.steps(self.run_dir("plain")), harness.steps(self.run_dir("fsdp"))
        self.assertEqual(sorted(sharded), list(range(1, 7)))
        for step in range(1, 7):
            a, b = plain[step], sharded[step]
            self.assertEqual(a["objectives"], b["objectives"], step)
            for objective in a["objectives"]:
                self.assertAlmostEqual(a[objective]["loss"], b[objective]["loss"], delta=1e-5 * abs(a[objective]["loss"]))
                self.assertEqual(a[objective]["tokens"], b[objective]["tokens"])
            self.assertAlmostEqual(a["gradientNorm"], b["gradientNorm"], delta=1e-4 * a["gradientNorm"])
        self.assertEqual({o for s in sharded.values() for o in s["objectives"]}, {"sft", "dpo"})
        evals = [[e for e in harness.events(self.run_dir(name)) if e["type"] == "eval"] for name in ("plain", "fsdp")]
        self.assertEqual([e["step"] for e in evals[1]], [1, 3, 6])
        for a, b in zip(*evals):
            for objective in ("sft", "dpo"):
                self.assertAlmostEqual(a[objective]["loss"], b[objective]["loss"], delta=1e-5 * abs(a[objective]["loss"]))
        # Both ranks took the same decisions (λ, objectives) at every step.
        strip = lambda lines: [t for t in lines if "shard" not in t]
        self.assertEqual(strip(trace(self.run_dir("fsdp"), 0)), strip(trace(self.run_dir("fsdp"), 1)))

    def test_aShardedCheckpoint_holdsTheWholeModel(self):
        from safetensors.torch import load_file
        step = os.path.join("checkpoints", "step-000006", "backend")
        plain = load_file(os.path.join(self.run_dir("plain"), step, "model.safetensors"))
        sharded = load_file(os.path.join(self.run_dir("fsdp"), step, "model.safetensors"))
        self.assertEqual(sorted(plain), sorted(sharded))
        for name in plain:
            self.assertEqual(plain[name].shape, sharded[name].shape, name)
            # AdamW divides by √v: for a weight whose gradient is near zero, reduction-order noise in it moves the
            # weight by up to lr a step either way. So: equal to within one learning rate (1e-3) over six steps.
            torch.testing.assert_close(sharded[name], plain[name], rtol=1e-4, atol=1e-3)
        optimizer = torch.load(os.path.join(self.run_dir("fsdp"), step, "optimizer.pt"))
        moments = {k: v["exp_avg"].shape for k, v in optimizer["state"].items()}
        self.assertEqual(moments["gpt_neox.embed_in.weight"], plain["gpt_neox.embed_in.weight"].shape)

    def test_aShardedRun_resumesWithTheUninterruptedRunsNextSteps(self):
        whole, resumed = harness.steps(self.run_dir("fsdp")), harness.steps(self.run_dir("resumed"))
        started = [e for e in harness.events(self.run_dir("resumed")) if e["type"] == "started"]
        self.assertEqual(started[-1]["step"], 3)
        for step in (4, 5, 6):
            for key in ("objectives", "sft", "dpo", "gradientNorm", "lambda"):
                self.assertEqual(resumed[step].get(key), whole[step].get(key), (step, key))
        a = torch.load(os.path.join(self.run_dir("fsdp"), "checkpoints", "step-000006", "backend", "optimizer.pt"))
        b = torch.load(os.path.join(self.run_dir("resumed"), "checkpoints", "step-000006", "backend", "optimizer.pt"))
        for name in a["state"]:
            self.assertTrue(torch.equal(a["state"][name]["exp_avg_sq"], b["state"][name]["exp_avg_sq"]), name)


    def test_shardingComposesWithBF16Mixed(self):
        exact, mixed = harness.steps(self.run_dir("fsdp")), harness.steps(self.run_dir("fsdp-bf16"))
        self.assertEqual(harness.events(self.run_dir("fsdp-bf16"))[0]["settings"]["precision"], "bf16-mixed")
        self.assertEqual(sorted(mixed), [1, 2])
        differences = []
        for step in (1, 2):
            self.assertEqual(mixed[step]["objectives"], exact[step]["objectives"])
            for objective in mixed[step]["objectives"]:
                a, b = mixed[step][objective]["loss"], exact[step][objective]["loss"]
                self.assertLess(abs(a - b) / abs(b), 2e-2, (step, objective, a, b))
                differences.append(a - b)
        # (A first DPO step is log 2 in any precision: the policy is still the reference.)
        self.assertTrue(any(differences), "autocast changed nothing")


    def test_loraAdapters_shardToo_andTakeTheSingleProcessSteps(self):
        """Every rank starts from the same adapters (seeded by --seed): the sharded run is one process's run."""
        if not has_peft():
            self.skipTest("LoRA needs peft (pip install peft)")
        one = os.path.join(self.root, "one-lora")
        code, err = harness.train(["--model", os.path.join(self.root, "model"), "--sft", os.path.join(self.root, "sft.jsonl"),
                                   "--pref", os.path.join(self.root, "pref.jsonl"), "--run-dir", one, "--lora-r", "4"]
                                  + SHORT)
        self.assertEqual(code, 0, err)
        single, sharded = harness.steps(one), harness.steps(self.run_dir("fsdp-lora"))
        self.assertEqual(sorted(sharded), [1, 2])
        for step in (1, 2):
            self.assertEqual(single[step]["objectives"], sharded[step]["objectives"])
            for objective in single[step]["objectives"]:
                a, b = single[step][objective]["loss"], sharded[step][objective]["loss"]
                self.assertAlmostEqual(a, b, delta=1e-5 * abs(a))
            self.assertAlmostEqual(single[step]["gradientNorm"], sharded[step]["gradientNorm"],
                                   delta=1e-4 * single[step]["gradientNorm"])
        self.assertTrue(os.path.isfile(os.path.join(self.run_dir("fsdp-lora"), "checkpoints", "step-000002", "backend",
                                                    "adapter_model.safetensors")))


class ShardOptionTests(unittest.TestCase):
    def test_aModelThatDoesNotNameItsBlocks_isRefusedNamingShard(self):
        from xright_bridge.errors import SettingError
        from xright_bridge.sharding import block_classes
        with self.assertRaisesRegex(SettingError, "--shard: Sequential does not name its transformer blocks"):
            block_classes(torch.nn.Sequential(torch.nn.Linear(2, 2)))
        from test_recipe import tiny_model
        self.assertEqual(block_classes(tiny_model()), {"GPTNeoXLayer"})

    def test_fsdpWithoutADistributedLaunch_isRefusedNamingTheLauncher(self):
        harness.require_chat_tokenizer()
        root = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, root)
        sft, pref = harness.data(root)
        code, err = harness.train(["--model", os.path.join(root, "absent"), "--run-dir", os.path.join(root, "run"),
                                   "--sft", sft, "--pref", pref, "--shard", "fsdp"])
        self.assertEqual(code, 2, err)
        self.assertIn("--shard: fsdp shards the model over the processes of a distributed launch", err)
        self.assertIn("torchrun --nproc_per_node N", err)


if __name__ == "__main__":
    unittest.main()
