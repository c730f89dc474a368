"""`train --resume RUN_DIR`: what it reads from the run directory, and every way it refuses (without torch work)."""

import json
import os
import shutil
import tempfile
import unittest

from xright_bridge.cli import parser, resolve_train_args
from xright_bridge.errors import SettingError
from xright_bridge.resume import ARGS_FILE, ResumePoint, save_args
from xright_bridge.runlog import RunLogWriter


class ResumeTests(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.root)
        self.run_dir = os.path.join(self.root, "run")

    def start_run(self, checkpoint_step=6):
        """A run directory as a started-then-checkpointed bridge run leaves it."""
        args = parser().parse_args(["train", "--model", "policy", "--run-dir", self.run_dir, "--sft", "s.jsonl",
                                    "--pref", "p.jsonl", "--lr", "1e-3", "--lambda", "0.3"])
        os.makedirs(os.path.join(self.run_dir, "checkpoints", f"step-{checkpoint_step:06d}", "backend"))
        save_args(self.run_dir, args)
        with open(os.path.join(self.run_dir, "checkpoints", f"step-{checkpoint_step:06d}", "session.json"), "w") as f:
            json.dump({"format": 1, "step": checkpoint_step}, f)
        os.symlink(f"step-{checkpoint_step:06d}", os.path.join(self.run_dir, "checkpoints", "latest"))
        with open(os.path.join(self.run_dir, "run.jsonl"), "w") as f:
            f.write('{"schema":"1.1","type":"header"}\n{"step":0,"time":0,"type":"started"}\n')

    def refusal(self, argv):
        with self.assertRaises(SettingError) as caught:
            resolve_train_args(parser().parse_args(["train"] + argv))
        return str(caught.exception)

    def test_resume_takesTheRecordedOptions_withAbsolutePaths_andTheNewestCheckpoint(self):
        self.start_run()
        args = resolve_train_args(parser().parse_args(["train", "--resume", self.run_dir, "--threads", "3"]))
        self.assertEqual(args.lr, 1e-3)
        self.assertEqual(args.lam, 0.3)
        self.assertEqual(args.model, os.path.abspath("policy"))
        self.assertEqual(args.sft, os.path.abspath("s.jsonl"))
        self.assertEqual(args.threads, 3, "how fast may change")
        self.assertEqual(args.run_dir, self.run_dir)
        self.assertEqual(args.resume_point.checkpoint, os.path.join(self.run_dir, "checkpoints", "step-000006"))
        self.assertEqual(args.resume_point.session["step"], 6)
        self.assertEqual(args.resume_point.header["schema"], "1.1")

    def test_resume_ofARunRecordedWithDtype_keepsHowItStoredItsWeights(self):
        self.start_run()
        path = os.path.join(self.run_dir, ARGS_FILE)
        with open(path) as f:
            recorded = json.load(f)
        recorded.pop("precision")
        recorded["dtype"] = "bfloat16"
        with open(path, "w") as f:
            json.dump(recorded, f)
        args = resolve_train_args(parser().parse_args(["train", "--resume", self.run_dir]))
        self.assertEqual((args.precision, args.dtype), ("bf16-pure", None))

    def test_resume_refusesAnOptionThatWouldChangeTheRun(self):
        self.start_run()
        message = self.refusal(["--resume", self.run_dir, "--lr", "0.5"])
        self.assertIn("--lr", message)
        self.assertIn(ARGS_FILE, message)
        self.assertIn("--lambda", self.refusal(["--resume", self.run_dir, "--lambda", "0.9"]))

    def test_resume_namesWhatIsMissing(self):
        self.assertIn("no such run directory", self.refusal(["--resume", self.run_dir]))
        os.makedirs(self.run_dir)
        self.assertIn(f"no {ARGS_FILE}", self.refusal(["--resume", self.run_dir]))
        self.start_run()
        os.unlink(os.path.join(self.run_dir, "checkpoints", "latest"))
        self.assertIn("no complete checkpoint to resume from", self.refusal(["--resume", self.run_dir]))

    def test_resume_refusesAnUnknownCheckpointFormatAndALogWithoutHeader(self):
        self.start_run()
        session = os.path.join(self.run_dir, "checkpoints", "step-000006", "session.json")
        with open(session, "w") as f:
            json.dump({"format": 9, "step": 6}, f)
        self.assertIn("checkpoint format 9 is not supported", self.refusal(["--resume", self.run_dir]))
        with open(session, "w") as f:
            f.write("{not json")
        self.assertIn("session.json: not readable as JSON", self.refusal(["--resume", self.run_dir]))
        with open(session, "w") as f:
            json.dump({"format": 1, "step": 6}, f)
        with open(os.path.join(self.run_dir, "run.jsonl"), "w") as f:
            f.write('{"type":"step"}\n')
        self.assertIn("line 1: expected the run header", self.refusal(["--resume", self.run_dir]))

    def test_aNewRunNeedsModelAndRunDir(self):
        self.assertIn("--model", self.refusal(["--run-dir", self.run_dir]))
        self.assertIn("--run-dir", self.refusal(["--model", "policy"]))

    def test_writer_appendsToAResumedLog_closingALineTheCrashCutShort(self):
        path = os.path.join(self.root, "run.jsonl")
        with open(path, "w") as f:
            f.write('{"type":"header"}\n{"step":7,"ti')
        writer = RunLogWriter(path, None, append=True)
        writer.append({"type": "started", "time": 1.0, "step": 6})
        writer.close()
        with open(path) as f:
            self.assertEqual(f.read().splitlines(),
                             ['{"type":"header"}', '{"step":7,"ti', '{"step":6,"time":1.0,"type":"started"}'])
        with self.assertRaises(FileNotFoundError):
            RunLogWriter(os.path.join(self.root, "none.jsonl"), None, append=True)


if __name__ == "__main__":
    unittest.main()
