"""The training loop of TrainingLoop.swift, run by every rank in lock step. Rank 0 owns the run log and the
socket; at each step boundary it broadcasts the commands it received, and every rank applies them in the same
order, so a λ change or a pause takes effect at the same step on all ranks. Every rank appends its own
decisions to `ranks/rank-R.jsonl` (what it trained, under which λ), which shows they stayed in step."""

import json
import math
import os
import shutil
import socket
import threading
import time
import traceback

import torch

from .batches import Cursor
from .commands import describe
from .strategies import make_strategy

CLEAN_ENDS = ("max-steps", "epoch-budget", "stopped", "optimum-reached")
# In a checkpoint's backend/: every rank's reference cache and torch RNG, in rank order (train --resume).
RANKS_FILE = "ranks.pt"


class StepContext:
    """What a strategy may do within one step (StepContext.swift): train, measure, skip."""

    def __init__(self, session):
        s = session
        self.s, self.lam, self.step_in_epoch = s, s.lam, s.step_in_epoch
        self.max_eval_steps = s.config["maxEvalSteps"]
        self.optima = s.config.get("optima") or {"sft": 0.0, "dpo": 0.0}
        self.trained, self.order, self.tokens = {}, [], 0

    def _run(self, objective, weight):
        batch, ids = self.s.cursors[objective].current(self.s.sources[objective])
        b = self.s.backend
        return b.sft(batch, weight) if objective == "sft" else b.dpo(batch, ids, weight)

    def train(self, objective, weight):
        metrics = self._run(objective, weight)
        self.s.cursors[objective].advance()
        self.trained[objective] = metrics
        self.order.append(objective)
        self.tokens += metrics["tokens"]
        return metrics

    def measure(self, objective):
        metrics = self._run(objective, None)
        self.tokens += metrics["tokens"]
        return metrics

    def skip(self, objective):
        self.s.cursors[objective].advance()


class Session:
    def __init__(self, config, backend, sources, collective, run_dir, header, telemetry=None,
                 telemetry_seconds=10.0, save_model=None):
        self.config, self.backend, self.sources, self.c = config, backend, sources, collective
        self.run_dir, self.header, self.telemetry = run_dir, header, telemetry
        self.telemetry_seconds, self.save_model = telemetry_seconds, save_model
        self.lam = config["lambda"]
        self.step = self.epoch = self.step_in_epoch = self.epoch_length = 0
        self.cursors = {"sft": Cursor(), "dpo": Cursor()}
        self.strategy = make_strategy(config["strategy"], config["seed"], 0, 0, self.lam, config["maxEpochs"], collective)
        self.paused, self.step_once_budget, self.finishing = False, 0, None
        self.consecutive_non_finite, self.tokens_seen = 0, 0
        self.checkpoint_current = False
        self.log = self.server = None
        self._status_lock = threading.Lock()
        self._finished = None
        self.elapsed_before, self.resumed_from = 0.0, None
        os.makedirs(os.path.join(run_dir, "ranks"), exist_ok=True)
        # Appended to: a resumed run goes on in the same file (steps after the checkpoint appear again).
        self.trace = open(os.path.join(run_dir, "ranks", f"rank-{collective.rank}.jsonl"), "a", encoding="utf-8")

    def restore(self, state, checkpoint):
        """Goes on from a checkpoint's session.json (save_checkpoint writes it): the position in the budget, λ,
        the strategy and its state, both loaders, the token count and the run clock."""
        self.step, self.epoch = state["step"], state["epoch"]
        self.step_in_epoch, self.epoch_length = state["stepInEpoch"], state["epochLength"]
        self.lam = state["lambda"]
        saved = state["strategy"]
        self.strategy = make_strategy(saved["name"], self.config["seed"], self.step, self.epoch, self.lam,
                                      self.config["maxEpochs"], self.c)
        self.strategy.restore(saved)
        self.cursors = {k: Cursor.from_json(v) for k, v in state["cursors"].items()}
        self.tokens_seen = state["tokensSeen"]
        self.elapsed_before, self.resumed_from = state["elapsedSeconds"], checkpoint
        self.checkpoint_current = True

    # -- events (rank 0 only) -------------------------------------------------------------------------------

    def emit(self, event):
        if not self.c.is_main:
            return
        record = {"time": self.elapsed, **event}
        if self.log:
            self.log.append(record)
        if self.server:
            self.server.publish(record)

    @property
    def elapsed(self):
        return time.monotonic() - self.started_at

    def live_status(self):
        with self._status_lock:
            return {"step": self.step, "epoch": self.epoch, "lambda": self.lam, "strategy": self.strategy.name,
                    "paused": self.paused, "finished": self._finished}

    def note(self, **fields):
        """A line of this rank's own in its trace (how much of the model it holds, sharded)."""
        self._trace(**fields)

    def _trace(self, **fields):
        self.trace.write(json.dumps(fields, sort_keys=True) + "\n")
        self.trace.flush()

    # -- the loop --------------------------------------------------------------------------------------------

    def run(self, log=None, server=None):
        self.log, self.server = log, server
        self.started_at = time.monotonic() - self.elapsed_before    # the run's clock goes on across resumes
        if server:
            server.publish(self.header)
        self.emit({"type": "started", "step": self.step, "strategy": self.strategy.name, "lambda": self.lam,
                   "resumedFrom": self.resumed_from})
        next_sample = 0.0
        while self.finishing is None:
            sample_gpus = self.telemetry is not None and self.c.is_main and self.elapsed >= next_sample
            plan = self.c.broadcast({"commands": server.take_commands() if server else [],
                                     "telemetry": sample_gpus} if self.c.is_main else None)
            for command in plan["commands"]:
                self.apply(command)
            if plan["telemetry"]:
                next_sample = self.elapsed + self.telemetry_seconds
                self.sample_telemetry()
            if self.log:
                self.log.tick()
            if self.finishing is not None:
                break
            if self.paused and self.step_once_budget == 0:
                time.sleep(0.05)
                continue
            try:
                reached = self.bound_reached()
                if reached:
                    self.finish(*reached)
                    break
                self.begin_epoch_if_needed()
                self.take_step()
                if self.step_once_budget > 0:
                    self.step_once_budget -= 1
                self.after_step()
            except Exception as error:   # an engine or data error ends the run with its message, on every rank
                traceback.print_exc()
                self.finish("failed", f"step {self.step + 1}: {type(error).__name__}: {error}")
        return self.conclude()

    def finish(self, reason, message):
        if self.finishing is None:
            self.finishing = {"step": self.step, "reason": reason, "message": message}

    def bound_reached(self):
        max_steps = self.config.get("maxSteps")
        if max_steps is not None and self.step >= max_steps:
            return "max-steps", f"reached maxSteps = {max_steps}"
        if self.epoch_length > 0 and self.step_in_epoch >= self.epoch_length:
            self.epoch += 1
            self.step_in_epoch = self.epoch_length = 0
        if self.epoch >= self.config["maxEpochs"]:
            return "epoch-budget", f"completed the epoch budget of {self.config['maxEpochs']}"
        return None

    def begin_epoch_if_needed(self):
        if self.epoch_length:
            return
        objectives = self.strategy.begin_epoch(self.epoch, self.lam, self.config["maxEpochs"])
        for objective in objectives:
            self.cursors[objective].begin_epoch()
        self.epoch_length = self.sources[objectives[0]].epoch_length

    def take_step(self):
        started = time.monotonic()
        ctx = StepContext(self)
        note = self.strategy.step(ctx)
        learning_rate = self.backend.learning_rate
        applied, norm, warning = False, None, None
        non_finite = [o for o in ctx.order if not math.isfinite(ctx.trained[o]["loss"])]
        if non_finite:
            self.backend.discard_gradients()
            warning = ("non-finite-loss", f"non-finite {' and '.join(non_finite)} loss")
        else:
            norm = self.backend.apply_update()
            applied = norm is not None
            if not applied:
                warning = ("non-finite-gradient", "non-finite gradient (gradient norm is not finite)")
        with self._status_lock:
            self.step += 1
        self.step_in_epoch += 1
        self.tokens_seen += ctx.tokens
        self.consecutive_non_finite = 0 if applied else self.consecutive_non_finite + 1
        self.checkpoint_current = False
        seconds = time.monotonic() - started
        self._trace(step=self.step, epoch=self.epoch, objectives=ctx.order, strategy=self.strategy.name,
                    **{"lambda": self.lam})
        self.emit({"type": "step", "step": self.step, "epoch": self.epoch, "strategy": self.strategy.name,
                   "objectives": ctx.order, "sft": ctx.trained.get("sft"), "dpo": ctx.trained.get("dpo"),
                   "lambda": self.lam, "learningRate": learning_rate, "tokens": ctx.tokens,
                   "tokensPerSecond": ctx.tokens / seconds if seconds > 0 else 0.0, "stepSeconds": seconds,
                   "elapsedSeconds": self.elapsed, "updateApplied": applied, "gradientNorm": norm,
                   "gaps": note.get("gaps"), "gapsEvaluated": note.get("gapsEvaluated")})
        if warning:
            self.emit({"type": "warning", "step": self.step, "kind": warning[0], "message":
                       f"step {self.step}: {warning[1]}; update skipped ({self.consecutive_non_finite} in a row, "
                       f"the run stops at {self.config['maxConsecutiveNonFinite']})"})

    def after_step(self):
        limit = self.config["maxConsecutiveNonFinite"]
        if self.consecutive_non_finite >= limit:
            self.finish("non-finite", f"{self.consecutive_non_finite} non-finite updates in a row (steps "
                                      f"{self.step - self.consecutive_non_finite + 1}–{self.step}); the last good "
                                      "checkpoint is kept")
            return
        every = self.config.get("evalEvery")
        if every and (self.step == 1 or self.step % every == 0):
            event = self.evaluate_held_out()
            rule, optima = self.config.get("stopRule"), self.config.get("optima")
            if event and rule and optima and event.get("sft") and event.get("dpo"):
                sft, dpo, eps = event["sft"]["loss"], event["dpo"]["loss"], rule["epsilon"]
                near_front = any(sft - p["sft"] <= eps and dpo - p["dpo"] <= eps for p in rule.get("referenceFront", []))
                if sft - optima["sft"] <= eps or dpo - optima["dpo"] <= eps or near_front:
                    self.finish("optimum-reached", f"held-out losses ({sft}, {dpo}) within ε = {eps} of an optimum "
                                                   "or a reference Pareto point")
        every = self.config.get("checkpointEvery")
        if every and self.step % every == 0 and self.consecutive_non_finite == 0:
            self.save_checkpoint()

    def evaluate_held_out(self):
        started = time.monotonic()
        results = {}
        try:
            for objective, data in (("sft", self.backend.held_out_sft), ("dpo", self.backend.held_out_pairs)):
                if data:
                    results[objective] = self.backend.evaluate_held_out(objective)
        except Exception as error:
            self.emit({"type": "warning", "step": self.step, "kind": "evaluation-failed",
                       "message": f"held-out evaluation failed: {error}"})
            return None
        optima = self.config.get("optima")
        distance = None
        if optima and "sft" in results and "dpo" in results:
            distance = math.hypot(results["sft"]["loss"] - optima["sft"], results["dpo"]["loss"] - optima["dpo"])
        event = {"type": "eval", "step": self.step, "sft": results.get("sft"), "dpo": results.get("dpo"),
                 "idealDistance": distance, "seconds": time.monotonic() - started}
        self.emit(event)
        return event

    # -- commands (every rank applies the same list in the same order) --------------------------------------

    def refusal(self, command):
        name = command["name"]
        if name == "pause" and self.paused:
            return "already paused"
        if name == "resume" and not self.paused:
            return "not paused"
        if name == "step-once" and not self.paused:
            return "step-once applies while paused; pause first"
        if name == "checkpoint-now" and self.save_model is None:
            return "this run writes no checkpoints"
        if name == "switch-strategy":
            target = command["strategy"]
            if target == self.strategy.name:
                return f"already running {target}"
            probe = make_strategy(target, 0, 0, 0, self.lam, self.config["maxEpochs"], self.c)
            missing = [o for o in probe.required if self.sources.get(o) is None]
            if missing:
                return f"{target} needs {'SFT' if missing[0] == 'sft' else 'preference'} training data, which this run does not have"
        return None

    def apply(self, command):
        reason = self.refusal(command)
        self._trace(step=self.step, command=describe(command), applied=reason is None)
        if reason:
            self.emit({"type": "command-refused", "step": self.step, "command": command, "reason": reason})
            return
        self.emit({"type": "command-applied", "step": self.step, "command": command})
        name = command["name"]
        if name == "set-lambda":
            previous = self.lam
            with self._status_lock:
                self.lam = command["lambda"]
            self.checkpoint_current = False
            self.emit({"type": "lambda-changed", "step": self.step, "from": previous, "to": self.lam})
        elif name == "pause":
            with self._status_lock:
                self.paused = True
            self.emit({"type": "paused", "step": self.step})
            if self.log:
                self.log.flush()
        elif name == "resume":
            with self._status_lock:
                self.paused = False
            self.step_once_budget = 0
            self.emit({"type": "resumed", "step": self.step})
        elif name == "step-once":
            self.step_once_budget += 1
        elif name == "evaluate-now":
            self.evaluate_held_out()
        elif name == "checkpoint-now":
            self.save_checkpoint()
        elif name == "stop":
            self.finish("stopped", f"stopped by command at step {self.step}")
        elif name == "switch-strategy":
            previous = self.strategy.name
            with self._status_lock:
                self.strategy = make_strategy(command["strategy"], self.config["seed"], self.step, self.epoch,
                                              self.lam, self.config["maxEpochs"], self.c)
            self.checkpoint_current = False
            self.emit({"type": "strategy-changed", "step": self.step, "from": previous, "to": command["strategy"]})

    # -- telemetry, checkpoints, the end -------------------------------------------------------------------

    def sample_telemetry(self):
        """Every rank reports its own device; rank 0 writes one `telemetry` event with all of them."""
        t = self.telemetry
        local = t.sample(socket.gethostname(), self.c.rank, self.c.local_rank if self.c.device.type == "cuda" else None)
        gathered = self.c.gather(local)
        gpus = [g for part in gathered for g in part]
        event = {"type": "telemetry", "step": self.step, "gpus": gpus}
        if not gpus:
            event["note"] = t.reason or "no GPU"
            self.telemetry = None    # recorded once: nothing will change
        self.emit(event)

    def save_checkpoint(self):
        """checkpoints/step-NNNNNN/ (backend/ with the weights or adapters and the optimizer, session.json),
        written into a .tmp- directory and renamed into place by rank 0."""
        if self.save_model is None:
            return False
        # Each rank's reference log-probs were computed in its own batches: a resume must reuse them, not recompute.
        ranks = self.c.gather({"referenceCache": self.backend.reference_cache, "torchRNG": torch.get_rng_state()})
        # Sharded, the weights and optimizer state are gathered to rank 0 (all ranks take part).
        model_state, optimizer_state = self.backend.checkpoint_state()
        saved = self._write_checkpoint(ranks, model_state, optimizer_state) if self.c.is_main else None
        # Every rank learns whether it was written: the final checkpoint is then taken (or not) by all of them,
        # never by some ranks waiting in its collectives for the others.
        saved = self.c.broadcast(saved)
        if saved:
            self.checkpoint_current = True
        return saved

    def _write_checkpoint(self, ranks, model_state, optimizer_state):
        started = time.monotonic()
        root = os.path.join(self.run_dir, "checkpoints")
        final = os.path.join(root, f"step-{self.step:06d}")
        tmp = os.path.join(root, f".tmp-step-{self.step:06d}")
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            os.makedirs(os.path.join(tmp, "backend"))
            self.save_model(os.path.join(tmp, "backend"), model_state)
            torch.save(optimizer_state, os.path.join(tmp, "backend", "optimizer.pt"))
            torch.save(ranks, os.path.join(tmp, "backend", RANKS_FILE))
            with open(os.path.join(tmp, "session.json"), "w") as f:
                json.dump({"format": 1, "step": self.step, "epoch": self.epoch, "stepInEpoch": self.step_in_epoch,
                           "epochLength": self.epoch_length, "lambda": self.lam, "strategy": self.strategy.state(),
                           "cursors": {k: v.to_json() for k, v in self.cursors.items()},
                           "tokensSeen": self.tokens_seen, "elapsedSeconds": self.elapsed,
                           "updates": self.backend.updates,
                           "optima": self.config.get("optima")}, f, indent=1, sort_keys=True)
            shutil.rmtree(final, ignore_errors=True)
            os.rename(tmp, final)
            latest = os.path.join(root, "latest")
            if os.path.islink(latest) or os.path.exists(latest):
                os.unlink(latest)
            os.symlink(os.path.basename(final), latest)
        except OSError as error:
            self.emit({"type": "warning", "step": self.step, "kind": "checkpoint-failed",
                       "message": f"{final}: {error}"})
            return False
        self.emit({"type": "checkpoint-saved", "step": self.step, "path": os.path.abspath(final),
                   "seconds": time.monotonic() - started})
        return True

    def conclude(self):
        finished = self.finishing or {"step": self.step, "reason": "failed", "message": "ended without a reason"}
        if (finished["reason"] in CLEAN_ENDS and self.config["checkpointOnFinish"] and not self.checkpoint_current
                and self.consecutive_non_finite == 0 and self.step > 0):
            self.save_checkpoint()
        self._trace(step=self.step, finished=finished["reason"])
        self.trace.close()
        self.emit({"type": "finished", **finished})
        with self._status_lock:
            self._finished = finished
        if self.log:
            self.log.close()
        return finished
