#!/usr/bin/env python3
"""Assembles what scripts/experiments/real-data measured into results.json and results.md (standard library only).

Reads, under the output directory OUT: settings.json; runs/reference, runs/main/* and runs/extra/* (each run's
run.jsonl: strategy, λ, steps, held-out evaluations along the run); runs/main/optima.json; logs/main.csv and
logs/extra.csv (`xright sweep --csv`: seconds in optimizer steps, wall and CPU); eval/<run>.json (`xright eval
--json`: the final model's held-out figures against the reference) and probes/<run>.jsonl (`xright generate
--json`). The optima f_sft* and f_dpo* are the sft-only and dpo-only runs' `xright eval` figures, so every
number in the table comes from the same evaluation.
"""
import csv
import json
import math
import os
import sys


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def number(x):
    """A JSON figure as a float (xright writes non-finite numbers as strings)."""
    if x is None:
        return None
    return float(x)


def run_log(run_dir):
    """Strategy, λ, steps, evaluations and phase boundaries of one run, from its run.jsonl."""
    events = read_jsonl(os.path.join(run_dir, "run.jsonl"))
    header = next(e for e in events if e.get("type") == "header")
    config = header.get("config", {})
    steps = [e for e in events if e.get("type") == "step"]
    evaluations = {}
    for e in events:
        if e.get("type") == "eval":  # a step evaluated again after a resume replaces the earlier figures
            evaluations[e["step"]] = {"step": e["step"],
                                      "f_sft": number(e.get("sft", {}).get("loss")),
                                      "f_dpo": number(e.get("dpo", {}).get("loss"))}
    last_sft_step = max((e["step"] for e in steps if "sft" in e.get("objectives", [])), default=None)
    last_dpo_step = max((e["step"] for e in steps if "dpo" in e.get("objectives", [])), default=None)
    return {
        "strategy": config.get("strategy"),
        "lambda": number(config.get("lambda")),
        "steps": max((e["step"] for e in steps), default=0),
        "sft_steps": sum(1 for e in steps if "sft" in e.get("objectives", [])),
        "dpo_steps": sum(1 for e in steps if "dpo" in e.get("objectives", [])),
        "last_sft_step": last_sft_step,
        "last_dpo_step": last_dpo_step,
        "step_wall_s": sum(number(e.get("stepSeconds", 0)) for e in steps),
        "run_wall_s": max((number(e.get("time", 0)) for e in events), default=0.0),
        "trajectory": [evaluations[s] for s in sorted(evaluations)],
    }


def sweep_rows(path):
    if not os.path.exists(path):
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {os.path.realpath(row["run_dir"]): row for row in csv.DictReader(f)}


def main(out):
    settings = json.load(open(os.path.join(out, "settings.json"), encoding="utf-8"))
    optima_record = json.load(open(os.path.join(out, "runs", "main", "optima.json"), encoding="utf-8"))
    timing = {}
    for name in ("main", "extra"):
        for run_dir, row in sweep_rows(os.path.join(out, "logs", f"{name}.csv")).items():
            timing[run_dir] = dict(row, sweep=name)

    # logs/timing.csv: a second `xright sweep` of the same strategy runs (same settings, seed and optima), kept
    # only for its CPU times when the first sweep's were not measured right (docs/RESULTS.md says when).
    rerun = {}
    for row in sweep_rows(os.path.join(out, "logs", "timing.csv")).values():
        rerun[(row["strategy"], float(row["lambda"]))] = row

    run_dirs = [os.path.join(out, "runs", "reference")]
    for group in ("main", "extra"):
        root = os.path.join(out, "runs", group)
        if os.path.isdir(root):
            run_dirs += sorted(os.path.join(root, d) for d in os.listdir(root)
                               if os.path.isfile(os.path.join(root, d, "run.jsonl")))

    runs = []
    for run_dir in run_dirs:
        name = os.path.basename(run_dir)
        log = run_log(run_dir)
        evaluation = json.load(open(os.path.join(out, "eval", f"{name}.json"), encoding="utf-8"))
        probes = read_jsonl(os.path.join(out, "probes", f"{name}.jsonl"))
        row = timing.get(os.path.realpath(run_dir))
        role = ("reference" if run_dir.endswith(os.sep + "reference")
                else "optimum" if log["strategy"] in ("sft-only", "dpo-only") else "strategy")
        runs.append({
            "name": name,
            "role": role,
            "sweep": row["sweep"] if row else None,
            "run_dir": os.path.relpath(run_dir, out),
            "strategy": log["strategy"],
            "lambda": log["lambda"],
            "steps": log["steps"],
            "sft_steps": log["sft_steps"],
            "dpo_steps": log["dpo_steps"],
            "f_sft": number(evaluation["sft"]["loss"]),
            "f_dpo": number(evaluation["preference"]["loss"]),
            "pref_accuracy": number(evaluation["preference"]["accuracy"]),
            "pref_margin": number(evaluation["preference"]["margin"]),
            "heldout_sft_examples": evaluation["sft"]["examples"],
            "heldout_pairs": evaluation["preference"]["pairs"],
            # Seconds in optimizer steps (the sweep's table; for runs outside a sweep, the log's step times).
            "train_wall_s": float(row["train_s"]) if row else log["step_wall_s"],
            "train_cpu_s": float(row["train_cpu_s"]) if row else None,
            "run_wall_s": float(row["wall_s"]) if row else log["run_wall_s"],
            "timing_rerun": None,
            "last_sft_step": log["last_sft_step"],
            "last_dpo_step": log["last_dpo_step"],
            "trajectory": log["trajectory"],
            "probes": [{"prompt": p["prompt"], "reply": p["reply"]} for p in probes],
        })

    for r in runs:
        again = rerun.get((r["strategy"], r["lambda"])) if r["role"] == "strategy" and r["sweep"] == "main" else None
        if again:
            r["timing_rerun"] = {"run_dir": os.path.relpath(again["run_dir"], out), "steps": int(again["steps"]),
                                 "train_wall_s": float(again["train_s"]), "train_cpu_s": float(again["train_cpu_s"]),
                                 "run_wall_s": float(again["wall_s"]),
                                 "f_sft_logged": float(again["f_sft"]), "f_dpo_logged": float(again["f_dpo"]),
                                 "first_sweep_train_cpu_s": r["train_cpu_s"]}
            r["train_cpu_s"] = float(again["train_cpu_s"])

    def by_dir(path):
        real = os.path.realpath(path)
        return next(r for r in runs if os.path.realpath(os.path.join(out, r["run_dir"])) == real)

    sft_opt_run, dpo_opt_run = by_dir(optima_record["sft_run"]), by_dir(optima_record["dpo_run"])
    optima = {"f_sft": sft_opt_run["f_sft"], "f_dpo": dpo_opt_run["f_dpo"],
              "sft_run": sft_opt_run["name"], "dpo_run": dpo_opt_run["name"],
              "sweep_optima": {"f_sft": optima_record["sft_opt"], "f_dpo": optima_record["dpo_opt"]}}

    for r in runs:
        r["ideal_distance"] = math.hypot(r["f_sft"] - optima["f_sft"], r["f_dpo"] - optima["f_dpo"])
        for point in r["trajectory"]:
            if point["f_sft"] is not None and point["f_dpo"] is not None:
                point["ideal_distance"] = math.hypot(point["f_sft"] - optima["f_sft"], point["f_dpo"] - optima["f_dpo"])
        # Where a sequential run switched objectives: its figures at the last evaluation of the first phase.
        if r["strategy"] in ("sft-then-dpo", "dpo-then-sft"):
            end = r["last_sft_step"] if r["strategy"] == "sft-then-dpo" else r["last_dpo_step"]
            before = [p for p in r["trajectory"] if end is not None and p["step"] <= end]
            r["first_phase_end"] = before[-1] if before else None
        sequential = next((s for s in runs if s["strategy"] == "sft-then-dpo" and s["lambda"] == r["lambda"]
                           and s["sweep"] == r["sweep"] and r["sweep"] is not None), None)
        r["wall_vs_sft_then_dpo"] = r["train_wall_s"] / sequential["train_wall_s"] if sequential else None
        r["cpu_vs_sft_then_dpo"] = (r["train_cpu_s"] / sequential["train_cpu_s"]
                                    if sequential and r["train_cpu_s"] is not None else None)

    order = ["sft-only", "dpo-only", "alright", "maxright", "mix", "sft-then-dpo", "dpo-then-sft"]
    roles = ["reference", "optimum", "strategy"]
    runs.sort(key=lambda r: (roles.index(r["role"]), r["sweep"] or "", r["lambda"] if r["role"] == "strategy" else 0,
                             order.index(r["strategy"]) if r["strategy"] in order else len(order)))
    commands = {}
    times = os.path.join(out, "logs", "times.tsv")
    if os.path.exists(times):
        with open(times, encoding="utf-8") as f:
            for line in f:
                label, seconds = line.rstrip("\n").split("\t")
                commands[label] = float(seconds)
    results = {"settings": settings, "optima": optima, "runs": runs, "command_wall_s": commands,
               "total_wall_s": sum(commands.values()),
               "figure": "tradeoff.svg" if os.path.exists(os.path.join(out, "tradeoff.svg")) else None}
    with open(os.path.join(out, "results.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1, ensure_ascii=False, allow_nan=False)
        f.write("\n")
    with open(os.path.join(out, "results.md"), "w", encoding="utf-8") as f:
        f.write(markdown(results))


def markdown(results):
    def f(x, digits=4):
        return "" if x is None else f"{x:.{digits}f}"

    optima, s = results["optima"], results["settings"]
    lines = [f"# Real-data experiment ({s['model']}, {s['date']})", "",
             f"optima (xright eval of the optimum runs): f_sft* = {f(optima['f_sft'])} ({optima['sft_run']}), "
             f"f_dpo* = {f(optima['f_dpo'])} ({optima['dpo_run']})", "",
             f"whole experiment: {results['total_wall_s'] / 60:.1f} min wall on {s['machine']} ({s['cores']} cores)", "",
             "| run | strategy | λ | steps (sft/dpo) | f_sft | f_dpo | ideal distance | pref. accuracy "
             "| train wall s | × s→d (wall) | train CPU s | × s→d (CPU) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results["runs"]:
        lines.append(f"| {r['role']} | {r['strategy']} | {f(r['lambda'], 2)} | {r['steps']} ({r['sft_steps']}/{r['dpo_steps']}) "
                     f"| {f(r['f_sft'])} | {f(r['f_dpo'])} | {f(r['ideal_distance'])} | {f(r['pref_accuracy'], 3)} "
                     f"| {f(r['train_wall_s'], 1)} | {f(r['wall_vs_sft_then_dpo'], 3)} "
                     f"| {f(r['train_cpu_s'], 1)} | {f(r['cpu_vs_sft_then_dpo'], 3)} |")
    if any(r["timing_rerun"] for r in results["runs"]):
        lines += ["", "CPU seconds: from the timing rerun of the strategy runs (logs/timing.csv); its final "
                  "held-out losses as the sweep logged them: " + ", ".join(
                      f"{r['strategy']} {r['timing_rerun']['f_sft_logged']:.4f}/{r['timing_rerun']['f_dpo_logged']:.4f}"
                      for r in results["runs"] if r["timing_rerun"]) + "; train wall s in the rerun: " + ", ".join(
                      f"{r['strategy']} {r['timing_rerun']['train_wall_s']:.1f}" for r in results["runs"] if r["timing_rerun"])]
    lines.append("")
    for r in results["runs"]:
        if r.get("first_phase_end"):
            p = r["first_phase_end"]
            lines.append(f"- {r['strategy']} λ {f(r['lambda'], 2)}: at step {p['step']} (end of its first phase) "
                         f"f_sft {f(p['f_sft'])}, f_dpo {f(p['f_dpo'])}; at the end f_sft {f(r['f_sft'])}, "
                         f"f_dpo {f(r['f_dpo'])}")
    lines += ["", "## Probe replies (greedy)", ""]
    for r in results["runs"]:
        lines.append(f"### {r['role']}: {r['strategy']} λ {f(r['lambda'], 2)} ({r['name']})")
        lines.append("")
        for p in r["probes"]:
            reply = " ".join(p["reply"].split())
            lines.append(f"- *{p['prompt']}* → {reply}")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: real-data-results.py OUT_DIR")
    main(sys.argv[1])
