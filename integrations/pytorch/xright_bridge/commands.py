"""Session commands as the run log and the socket spell them (Sources/Training/SessionCommand.swift)."""

import math

STRATEGIES = ("alright", "maxright", "mix", "sft-then-dpo", "dpo-then-sft", "sft-only", "dpo-only")
COMMAND_NAMES = ("set-lambda", "pause", "resume", "step-once", "evaluate-now", "checkpoint-now", "stop",
                 "switch-strategy")


class CommandError(ValueError):
    pass


def parse_lambda(value, where="lambda"):
    """λ, the weight of DPO: a finite number in [0, 1] (0 = SFT only, 1 = DPO only)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CommandError(f"{where}: λ must be a number in [0, 1], e.g. 0.5; got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise CommandError(f"{where}: λ must be a finite number in [0, 1]; got {value}")
    if not 0 <= value <= 1:
        raise CommandError(f"{where}: λ must lie in [0, 1] (0 = SFT only, 1 = DPO only); got {value}")
    return value


def parse_command(obj):
    """A command object ({"name": …, "lambda"|"strategy": …}) checked and normalised; CommandError names the
    field and what it expected."""
    if not isinstance(obj, dict):
        raise CommandError(f"field command: expected an object with a \"name\"; found {type(obj).__name__}")
    name = obj.get("name")
    if name not in COMMAND_NAMES:
        raise CommandError(f"unknown command '{name}'; expected one of {', '.join(COMMAND_NAMES)}")
    if name == "set-lambda":
        return {"name": name, "lambda": parse_lambda(obj.get("lambda"), "field command.lambda")}
    if name == "switch-strategy":
        strategy = obj.get("strategy")
        if strategy not in STRATEGIES:
            raise CommandError(f"field command.strategy: expected one of {', '.join(STRATEGIES)}; got {strategy!r}")
        return {"name": name, "strategy": strategy}
    return {"name": name}


def describe(command):
    """What replies and logs show (SessionCommand.description): `set-lambda 0.2`, `pause`, …"""
    if command["name"] == "set-lambda":
        return f"set-lambda {float(command['lambda'])!r}"
    if command["name"] == "switch-strategy":
        return f"switch-strategy {command['strategy']}"
    return command["name"]
