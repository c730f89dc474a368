#!/usr/bin/env python3
"""Reads TensorBoard event files back with TensorBoard's own reader and checks every value against the run log.

usage: check_tensorboard.py TB_RUN_DIR RUN_JSONL

The expected values are computed here from run.jsonl with the json module, independently of xright's Swift code,
following the tag table in docs/TENSORBOARD.md. Prints one JSON line of counts; exits 1 naming the first difference.
"""
import json
import math
import sys

from tensorboard.backend.event_processing import plugin_event_accumulator as pea
from tensorboard.util import tensor_util


def number(value):
    if isinstance(value, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[value]
    return float(value)


def expected_items(event):
    """(step, [(tag, kind, value)]) for one run-log event, as the tag table says."""
    kind = event["type"]
    items = []
    if kind == "step":
        def scalar(tag, value):
            items.append((tag, "scalars", number(value)))
        if "sft" in event:
            scalar("sft/loss", event["sft"]["loss"])
        if "dpo" in event:
            scalar("dpo/loss", event["dpo"]["loss"])
            pref = event["dpo"].get("preference")
            if pref:
                scalar("dpo/chosen_reward", pref["chosenReward"])
                scalar("dpo/rejected_reward", pref["rejectedReward"])
                scalar("dpo/reward_accuracy", pref["rewardAccuracy"])
                scalar("dpo/margin", pref["margin"])
        scalar("train/lambda", event["lambda"])
        scalar("train/learning_rate", event["learningRate"])
        if "gradientNorm" in event:
            scalar("train/gradient_norm", event["gradientNorm"])
        scalar("train/tokens_per_second", event["tokensPerSecond"])
        scalar("objective/sft", 1.0 if "sft" in event["objectives"] else 0.0)
        scalar("objective/dpo", 1.0 if "dpo" in event["objectives"] else 0.0)
        if "gaps" in event:
            scalar("maxright/gap_sft", event["gaps"]["sft"])
            scalar("maxright/gap_dpo", event["gaps"]["dpo"])
    elif kind == "eval":
        if "sft" in event:
            items.append(("eval/sft_loss", "scalars", number(event["sft"]["loss"])))
        if "dpo" in event:
            items.append(("eval/dpo_loss", "scalars", number(event["dpo"]["loss"])))
        if "idealDistance" in event:
            items.append(("eval/ideal_distance", "scalars", number(event["idealDistance"])))
    elif kind == "telemetry":
        for gpu in event["gpus"]:
            prefix = "gpu/%s-%d" % (gpu["host"], gpu["index"])
            for key, tag in (("utilization", "utilization"), ("memoryUsedBytes", "memory_used_bytes"),
                             ("temperatureC", "temperature_c"), ("powerWatts", "power_watts")):
                if key in gpu:
                    items.append(("%s/%s" % (prefix, tag), "scalars", number(gpu[key])))
    elif kind == "sample":
        items.append(("samples/probe_%d" % event["probe"], "text", None))
    elif kind == "warning":
        items.append(("run/warnings", "text", None))
    elif kind in ("command-applied", "command-refused"):
        items.append(("run/commands", "text", None))
    elif kind in ("started", "strategy-changed", "finished"):
        items.append(("run/events", "text", None))
    elif kind == "header":
        return 0, [("run/settings", "text", None)]
    return event.get("step", 0), items


def expected(log_path):
    with open(log_path, encoding="utf-8") as f:
        events = [json.loads(line) for line in f if line.strip()]
    kept = []
    for event in events:
        # A resumed run's repeated steps supersede the first attempt's (docs/RUNLOG.md, "Resuming").
        if event["type"] == "started" and event.get("resumedFrom"):
            kept = [e for e in kept if expected_items(e)[0] <= event["step"]]
        kept.append(event)
    series = {}
    for event in kept:
        step, items = expected_items(event)
        for tag, plugin, value in items:
            series.setdefault(tag, (plugin, []))[1].append((step, value))
    return series


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def main():
    tb_dir, log_path = sys.argv[1], sys.argv[2]
    accumulator = pea.EventAccumulator(tb_dir, size_guidance={pea.TENSORS: 0})
    accumulator.Reload()
    tags = set(accumulator.Tags()["tensors"])
    want = expected(log_path)
    if tags != set(want):
        sys.exit("tags differ: only in TensorBoard %s, only in the log %s" % (sorted(tags - set(want)), sorted(set(want) - tags)))
    values = 0
    for tag, (plugin, points) in sorted(want.items()):
        metadata = accumulator.SummaryMetadata(tag)
        if metadata.plugin_data.plugin_name != plugin:
            sys.exit("%s: plugin %r, expected %r" % (tag, metadata.plugin_data.plugin_name, plugin))
        got = accumulator.Tensors(tag)
        if [e.step for e in got] != [s for s, _ in points]:
            sys.exit("%s: steps %s, the log has %s" % (tag, [e.step for e in got], [s for s, _ in points]))
        for event, (step, value) in zip(got, points):
            array = tensor_util.make_ndarray(event.tensor_proto)
            if plugin == "scalars":
                if array.shape != () or not same(float(array.item()), value):
                    sys.exit("%s at step %d: TensorBoard has %r, the log %r" % (tag, step, array, value))
            elif not array.item().decode("utf-8"):
                sys.exit("%s at step %d: empty text" % (tag, step))
            values += 1
    print(json.dumps({"tags": len(want), "values": values}))


if __name__ == "__main__":
    main()
