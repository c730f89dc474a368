"""`xright-bridge train | score | tiny-model` (also `python -m xright_bridge …`). Launch `train` with
`torchrun --nproc_per_node N -m xright_bridge train …` or `accelerate launch -m xright_bridge train …`."""

import argparse
import copy
import json
import os
import sys

from . import __version__
from .errors import BridgeError, SettingError
from .commands import STRATEGIES, CommandError, parse_lambda
from .precision import PRECISIONS, refuse_dtype
from .sharding import SHARDINGS


def _positive(name):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} expects an integer ≥ 1, got '{text}'") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{name} expects an integer ≥ 1, got {value}")
        return value
    return parse


def _lambda(text):
    try:
        return parse_lambda(float(text), "--lambda")
    except (ValueError, CommandError) as error:
        raise argparse.ArgumentTypeError(str(error) if isinstance(error, CommandError)
                                         else f"--lambda expects a number in [0, 1], got '{text}'") from None


def _optima(text):
    try:
        sft, dpo = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--optima expects 'F_SFT,F_DPO' (two numbers), got '{text}'") from None
    return {"sft": sft, "dpo": dpo}


def parser():
    p = argparse.ArgumentParser(prog="xright-bridge", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="Train a Hugging Face causal LM with SFT and DPO jointly; writes run.jsonl "
                                     "and serves the run socket (xright attach / ctl / ls).")
    t.add_argument("--model", help="Hugging Face model directory (config.json, weights). Required unless --resume.")
    t.add_argument("--tokenizer", help="tokenizer.json (default: the model directory's).")
    t.add_argument("--run-dir", help="New run directory (run.jsonl, control.sock, checkpoints/). Required unless "
                                     "--resume.")
    t.add_argument("--resume", metavar="RUN_DIR",
                   help="Continue RUN_DIR from its newest checkpoint with the options it was started with (only "
                        "--threads and --telemetry-seconds may be given); appends to its run.jsonl.")
    t.add_argument("--sft", help="SFT data (alpaca or prompt/response; JSON array or JSONL, gzip ok).")
    t.add_argument("--pref", help="Preference data (prompt/chosen/rejected, hh or sharegpt).")
    t.add_argument("--sft-from-pref", metavar="FILE",
                   help="SFT on the chosen responses of this preference file (the official recipe's reference stage, "
                        "train_sft_pref); instead of --sft.")
    t.add_argument("--sft-max-samples", type=_positive("--sft-max-samples"),
                   help="Use only the first N SFT records (before the held-out split).")
    t.add_argument("--pref-max-samples", type=_positive("--pref-max-samples"),
                   help="Use only the first N preference records (before the held-out split).")
    t.add_argument("--format", choices=("alpaca", "prompt-response", "prompt-chosen-rejected", "hh", "sharegpt"),
                   help="Record format (default: detected from the first record's keys).")
    t.add_argument("--template", default=None,
                   help="Prompt format: a chat family (chatml, llama3, llama2, mistral, alpaca; rendered with the "
                        "model's BOS/EOS tokens), a text template (xright, raw, hh) or a custom text with {prompt}. "
                        "Default: the model's chat template (tokenizer_config.json), else xright.")
    t.add_argument("--max-len", type=_positive("--max-len"), help="Truncate sequences to this many tokens "
                                                                  "(default: the model's max positions).")
    t.add_argument("--eval-fraction", type=float, default=0.05, help="Held-out share of each data set.")
    t.add_argument("--data-seed", type=int, default=0, help="Seeds the held-out split and the shuffles.")
    t.add_argument("--strict", action="store_true", help="Stop at the first bad record instead of skipping it.")
    t.add_argument("--strategy", default="alright", choices=STRATEGIES)
    t.add_argument("--lambda", dest="lam", type=_lambda, default=0.5, help="Weight of DPO in [0, 1].")
    t.add_argument("--seed", type=int, default=42, help="Seeds ALRIGHT's draws.")
    t.add_argument("--epochs", type=_positive("--epochs"), default=1, help="The epoch budget T.")
    t.add_argument("--max-steps", type=_positive("--max-steps"))
    t.add_argument("--max-eval-steps", type=int, default=10, help="MAXRIGHT's k (≤ 0: never re-evaluate).")
    t.add_argument("--eval-every", type=_positive("--eval-every"))
    t.add_argument("--checkpoint-every", type=_positive("--checkpoint-every"))
    t.add_argument("--no-final-checkpoint", action="store_true")
    t.add_argument("--optima", type=_optima, help="f_sft*,f_dpo* for MAXRIGHT's gaps and the ideal distance.")
    t.add_argument("--stop-epsilon", type=float, help="Stop when a held-out loss is within ε of its optimum.")
    t.add_argument("--batch-size", type=_positive("--batch-size"), default=16,
                   help="Global SFT batch (DPO: half as many pairs), split over the ranks.")
    t.add_argument("--sft-batch-size", type=_positive("--sft-batch-size"),
                   help="Global SFT sequences per micro-batch (default: --batch-size).")
    t.add_argument("--pref-batch-size", type=_positive("--pref-batch-size"),
                   help="Global preference pairs per micro-batch (default: --batch-size // 2).")
    t.add_argument("--grad-accum", type=_positive("--grad-accum"), default=1,
                   help="Micro-batches per optimizer step (gradients summed: the update of N × the batch).")
    t.add_argument("--ref-model", metavar="DIR",
                   help="DPO's reference policy: a Hugging Face model directory, or a run directory (its final/ "
                        "model). Default: the policy's starting weights.")
    t.add_argument("--lr", type=float, default=5e-5)
    t.add_argument("--warmup", type=int, default=0)
    t.add_argument("--weight-decay", type=float, default=0.0)
    t.add_argument("--max-grad-norm", type=float, default=1.0)
    t.add_argument("--loss", default="sigmoid", choices=("sigmoid", "ipo"))
    t.add_argument("--beta", type=float, default=0.1)
    t.add_argument("--label-smoothing", type=float, default=0.0)
    t.add_argument("--lora-r", type=_positive("--lora-r"), help="Train LoRA adapters of this rank (needs peft).")
    t.add_argument("--lora-alpha", type=float, help="LoRA α (default: r).")
    t.add_argument("--lora-targets", default=None,
                   help="Comma-separated module names (default: the architecture's, as xright's engine: "
                        "query_key_value for gpt_neox; q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj "
                        "for llama, qwen2, mistral).")
    t.add_argument("--precision", default="fp32", choices=PRECISIONS,
                   help="fp32; bf16-mixed: bfloat16 autocast with float32 weights, gradients and AdamW state (the "
                        "usual choice on GPUs); bf16-pure / fp16-pure: the weights themselves in that dtype (half "
                        "their memory; updates below the dtype's resolution are lost).")
    t.add_argument("--shard", default="none", choices=SHARDINGS,
                   help="fsdp: shard parameters, gradients and AdamW state over the ranks with PyTorch FSDP2 "
                        "(fully_shard per transformer block); needs a distributed launch. Default: none (every "
                        "rank holds the whole model; gradients all-reduced).")
    t.add_argument("--dtype", help=argparse.SUPPRESS)     # replaced by --precision; refused with a pointer to it
    t.add_argument("--threads", type=_positive("--threads"), help="torch threads per process.")
    t.add_argument("--telemetry-seconds", type=float, default=10.0, help="GPU sampling period.")

    s = sub.add_parser("score", help="Per-record SFT loss and DPO log-probs/loss, the JSON of `xright score`.")
    s.add_argument("--model", required=True)
    s.add_argument("--ref-model")
    s.add_argument("--tokenizer")
    s.add_argument("--sft")
    s.add_argument("--pref")
    s.add_argument("--template", help="Prompt format, as for train (default: the model's chat template, else raw).")
    s.add_argument("--beta", type=float, default=0.1)
    s.add_argument("--json", action="store_true", help="Accepted for symmetry with xright score (always JSON).")

    m = sub.add_parser("tiny-model", help="Write a tiny seeded GPT-NeoX model directory (tests, demos).")
    m.add_argument("out")
    m.add_argument("--tokenizer", required=True, help="tokenizer.json to copy into the directory.")
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--hidden", type=int, default=32)
    m.add_argument("--layers", type=int, default=2)
    m.add_argument("--max-positions", type=int, default=128)
    return p


def resolve_train_args(args):
    """A new run needs --model and --run-dir; a resume takes the run's recorded options instead."""
    if args.resume is None:
        refuse_dtype(args.dtype)
        for flag, value in (("--model", args.model), ("--run-dir", args.run_dir)):
            if value is None:
                raise SettingError(flag, "required to start a run (or give --resume RUN_DIR to continue one)")
        return args
    from .resume import ResumePoint
    point = ResumePoint(args.resume)
    defaults = vars(parser().parse_args(["train"]))
    args = argparse.Namespace(**point.merge(args, defaults))
    args.resume_point = point
    return args


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        if args.command == "train":
            from .train import train
            finished = train(resolve_train_args(args))
            return 0 if finished["reason"] in ("max-steps", "epoch-budget", "stopped", "optimum-reached") else 1
        if args.command == "score":
            from .score import score
            print(json.dumps(score(args), sort_keys=True))
            return 0
        from .tiny import write_tiny_model
        write_tiny_model(args.out, args.tokenizer, args.seed, args.hidden, args.layers, args.max_positions)
        return 0
    except BridgeError as error:
        print(f"xright-bridge: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
