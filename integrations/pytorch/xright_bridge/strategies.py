"""The paper's strategies with the Swift session's exact semantics (Sources/Training/*Strategy*.swift).
A strategy decides what each optimizer step trains on through a StepContext; decisions that depend on chance
(ALRIGHT's draw) are made on rank 0 and broadcast, and those that depend on losses use all-reduced losses, so
every rank takes the same decision at the same step."""

from .rng import Xoshiro256, alright_generator

JOINT = ("alright", "maxright", "mix")


def sequential_objective(first, lam, budget, epoch):
    """The budget T split by λ: round(λT) DPO epochs and T − round(λT) SFT epochs, in the strategy's order.
    Python's round() is banker's rounding; Swift's .rounded() rounds half away from zero: use the latter."""
    x = lam * budget
    dpo_epochs = int(x + 0.5) if x >= 0 else -int(-x + 0.5)
    sft_epochs = budget - dpo_epochs
    first_epochs = sft_epochs if first == "sft" else dpo_epochs
    return first if epoch < first_epochs else ("dpo" if first == "sft" else "sft")


class Alright:
    """Each step draws DPO with probability λ, else SFT (u ∈ [0,1): λ = 0 never draws DPO, λ = 1 always);
    only the drawn loader advances. The generator lives on rank 0."""
    name = "alright"
    required = ("sft", "dpo")

    def __init__(self, seed, step, collective):
        self.rng = alright_generator(seed, step) if collective.is_main else None
        self.c = collective

    def begin_epoch(self, epoch, lam, budget):
        return ["sft", "dpo"]

    def step(self, ctx):
        choice = None
        if self.c.is_main:
            choice = "dpo" if self.rng.next_unit_interval() < ctx.lam else "sft"
        ctx.train(self.c.broadcast(choice), 1.0)
        return {}

    def state(self):
        return {"name": self.name, "rng": self.rng.hex_state() if self.rng else None}

    def restore(self, state):
        if self.c.is_main:
            self.rng = Xoshiro256(state=[int(word, 16) for word in state["rng"]])


class Maxright:
    """Stale weighted gaps g_sft = (1−λ)(f_sft − f_sft*), g_dpo = λ(f_dpo − f_dpo*), recomputed without gradient
    at the first step and every k-th step of an epoch; step on argmax g (SFT on a tie); refresh the stepped
    objective's gap with its pre-update loss. Both loaders advance every step."""
    name = "maxright"
    required = ("sft", "dpo")

    def __init__(self):
        self.excess = None

    def begin_epoch(self, epoch, lam, budget):
        return ["sft", "dpo"]

    def step(self, ctx):
        periodic = ctx.max_eval_steps is not None and ctx.step_in_epoch % ctx.max_eval_steps == 0
        evaluate = self.excess is None or periodic
        if evaluate:
            self.excess = {"sft": ctx.measure("sft")["loss"] - ctx.optima["sft"],
                           "dpo": ctx.measure("dpo")["loss"] - ctx.optima["dpo"]}
        gaps = {"sft": (1 - ctx.lam) * self.excess["sft"], "dpo": ctx.lam * self.excess["dpo"]}
        chosen = "dpo" if gaps["dpo"] > gaps["sft"] else "sft"
        metrics = ctx.train(chosen, 1.0)
        ctx.skip("sft" if chosen == "dpo" else "dpo")
        loss = metrics["loss"]
        if loss == loss and abs(loss) != float("inf"):
            self.excess[chosen] = loss - ctx.optima[chosen]
        return {"gaps": gaps, "gapsEvaluated": evaluate}

    def state(self):
        return {"name": self.name, "staleExcess": self.excess}

    def restore(self, state):
        self.excess = state["staleExcess"]


class Mix:
    """Both batches every step, one update from ∇[(1−λ)·f_sft + λ·f_dpo]."""
    name = "mix"
    required = ("sft", "dpo")

    def begin_epoch(self, epoch, lam, budget):
        return ["sft", "dpo"]

    def step(self, ctx):
        ctx.train("sft", 1 - ctx.lam)
        ctx.train("dpo", ctx.lam)
        return {}

    def state(self):
        return {"name": self.name}

    def restore(self, state):
        pass    # nothing carried between steps


class Phased:
    """One objective per epoch: sft-then-dpo / dpo-then-sft (the budget split by λ) and sft-only / dpo-only."""

    def __init__(self, name, epoch, lam, budget):
        self.name = name
        self.required = {"sft-only": ("sft",), "dpo-only": ("dpo",)}.get(name, ("sft", "dpo"))
        self.phase = self.objective(epoch, lam, budget)

    def objective(self, epoch, lam, budget):
        if self.name == "sft-only":
            return "sft"
        if self.name == "dpo-only":
            return "dpo"
        return sequential_objective("dpo" if self.name == "dpo-then-sft" else "sft", lam, budget, epoch)

    def begin_epoch(self, epoch, lam, budget):
        self.phase = self.objective(epoch, lam, budget)
        return [self.phase]

    def step(self, ctx):
        ctx.train(self.phase, 1.0)
        return {}

    def state(self):
        return {"name": self.name, "phase": self.phase}

    def restore(self, state):
        self.phase = state["phase"]


def make_strategy(name, seed, step, epoch, lam, budget, collective):
    """A new strategy starting at `step` of `epoch` (the run's start, or a switch mid-run)."""
    if name == "alright":
        return Alright(seed, step, collective)
    if name == "maxright":
        return Maxright()
    if name == "mix":
        return Mix()
    return Phased(name, epoch, lam, budget)
