"""`train --resume RUN_DIR`: what a run needs to go on from its newest checkpoint, as `xright train --resume` does.
The run's own options are kept in `RUN_DIR/bridge-args.json` (written when it starts), so a resume rebuilds the
same model, data, shuffles and settings; the checkpoint gives the weights, the optimizer, the session's position
and every rank's reference cache and torch RNG, which together make the continuation bit-identical on CPU."""

import json
import os

from .errors import SettingError
from .precision import FROM_DTYPE

ARGS_FILE = "bridge-args.json"
# Options a resume may change: they decide how fast, not what is computed.
RESUMABLE_OVERRIDES = ("threads", "telemetry_seconds")
# Not part of what a run is.
NOT_RECORDED = ("command", "resume", "run_dir")
# Recorded as absolute paths: a resume may be launched from another directory.
PATH_OPTIONS = ("model", "tokenizer", "sft", "pref", "sft_from_pref", "ref_model")


def save_args(run_dir, args):
    """Records the options the run was started with (rank 0, before the first step)."""
    recorded = {k: v for k, v in sorted(vars(args).items()) if k not in NOT_RECORDED}
    for key in PATH_OPTIONS:
        if recorded.get(key) is not None:
            recorded[key] = os.path.abspath(recorded[key])
    with open(os.path.join(run_dir, ARGS_FILE), "w", encoding="utf-8") as f:
        json.dump(recorded, f, indent=1, sort_keys=True)
        f.write("\n")


class ResumePoint:
    """A run directory's newest complete checkpoint and the options the run was started with."""

    def __init__(self, run_dir):
        self.run_dir = os.path.abspath(run_dir)
        where = "--resume"
        if not os.path.isdir(self.run_dir):
            raise SettingError(where, f"{self.run_dir}: no such run directory")
        args_path = os.path.join(self.run_dir, ARGS_FILE)
        if not os.path.isfile(args_path):
            raise SettingError(where, f"{self.run_dir}: no {ARGS_FILE}; only runs started by this bridge version "
                                      "can be resumed")
        try:
            with open(args_path, encoding="utf-8") as f:
                self.recorded = json.load(f)
        except (OSError, ValueError) as error:
            raise SettingError(where, f"{args_path}: not readable as JSON ({error})") from None
        latest = os.path.join(self.run_dir, "checkpoints", "latest")
        if not os.path.isdir(latest):
            raise SettingError(where, f"{os.path.join(self.run_dir, 'checkpoints')}: no complete checkpoint to "
                                      "resume from")
        self.checkpoint = os.path.realpath(latest)
        self.backend_dir = os.path.join(self.checkpoint, "backend")
        session_path = os.path.join(self.checkpoint, "session.json")
        try:
            with open(session_path, encoding="utf-8") as f:
                self.session = json.load(f)
        except (OSError, ValueError) as error:
            raise SettingError(where, f"{session_path}: not readable as JSON ({error})") from None
        if self.session.get("format") != 1:
            raise SettingError(where, f"{session_path}: checkpoint format {self.session.get('format')!r} is not "
                                      "supported (this bridge reads format 1)")
        log_path = os.path.join(self.run_dir, "run.jsonl")
        try:
            with open(log_path, encoding="utf-8") as f:
                self.header = json.loads(f.readline())
        except (OSError, ValueError) as error:
            raise SettingError(where, f"{log_path}: cannot read the run header ({error})") from None
        if self.header.get("type") != "header":
            raise SettingError(where, f"{log_path} line 1: expected the run header")

    def merge(self, args, defaults):
        """The recorded options with the run directory and the allowed overrides applied; an option that would
        change the run (anything given that differs from its default, other than the overrides) is refused."""
        for key, value in sorted(vars(args).items()):
            if key in NOT_RECORDED or key in RESUMABLE_OVERRIDES:
                continue
            if value != defaults.get(key):
                flag = "--" + {"lam": "lambda"}.get(key, key).replace("_", "-")
                raise SettingError(flag, "a resumed run keeps the options it was started with "
                                         f"({os.path.join(self.run_dir, ARGS_FILE)}); leave {flag} out")
        # Options added after the run was started take their defaults (what the run did without them).
        merged = dict(defaults)
        merged.update(self.recorded)
        # Before --precision, --dtype chose how the weights were stored; the run goes on as it was.
        legacy = merged.pop("dtype", None)
        if legacy is not None and "precision" not in self.recorded:
            merged["precision"] = FROM_DTYPE.get(legacy, legacy)
        merged["dtype"] = None
        for key in RESUMABLE_OVERRIDES:
            if getattr(args, key) != defaults.get(key):
                merged[key] = getattr(args, key)
        merged["run_dir"] = self.run_dir
        merged["command"] = "train"
        merged["resume"] = self.run_dir
        return merged
