"""`xright-bridge train`: builds model, data and session on every rank; rank 0 writes run.jsonl and serves the
socket. Settings mirror `xright train` (same defaults where they exist there)."""

import copy
import os
import socket
import sys

import torch

from . import __version__
from .backend import TorchBackend
from .batches import Batches
from .data import Example, ExampleTokenizer, eos_id_of, is_held_out, read_dataset, resolve_prompt_format
from .distributed import Collective
from .errors import DataError, SettingError
from .losses import PreferenceLoss
from .precision import Precision
from .sharding import check_launch, local_and_total_parameters, shard
from .models import check_vocabulary, load_model, load_tokenizer, max_positions
from .resume import save_args
from .runlog import SCHEMA, RunLogWriter, iso_utc_now
from .server import RunServer
from .session import RANKS_FILE, Session
from .strategies import make_strategy
from .telemetry import GPUTelemetry


def fingerprint(sequences):
    """FNV-1a over token ids, as RunSetup.fingerprint: the same data gives the same fingerprint in both engines."""
    mask, prime = (1 << 64) - 1, 0x100000001B3
    h = 0xCBF29CE484222325
    for s in sequences:
        for token in s:
            h = ((h ^ (token & 0xFFFFFFFF)) * prime) & mask
        h = ((h ^ 0xFFFF) * prime) & mask
    return format(h, "x")


def training_config(args):
    if not 0 <= args.eval_fraction < 1:
        raise SettingError("--eval-fraction", f"expected a number in [0, 1), got {args.eval_fraction}")
    if not (args.lr > 0 and args.lr < float("inf")):
        raise SettingError("--lr", f"expected a finite number > 0, got {args.lr}")
    if args.stop_epsilon is not None and (args.optima is None or args.eval_every is None):
        raise SettingError("--stop-epsilon", "needs --optima (what to compare against) and --eval-every "
                                             "(the rule is checked at evaluations)")
    return {
        "strategy": args.strategy, "lambda": args.lam, "seed": args.seed, "maxEpochs": args.epochs,
        "maxSteps": args.max_steps, "maxEvalSteps": args.max_eval_steps if args.max_eval_steps > 0 else None,
        "evalEvery": args.eval_every, "checkpointEvery": args.checkpoint_every,
        "checkpointOnFinish": not args.no_final_checkpoint, "optima": args.optima,
        "stopRule": {"epsilon": args.stop_epsilon, "referenceFront": []} if args.stop_epsilon is not None else None,
        "maxConsecutiveNonFinite": 3,
    }


# The run header's record of the prompt format, as the Swift trainer's (PromptFormatChoice.headerKey).
PROMPT_FORMAT_KEY = "prompt_format"


def check_resume_format(prompt_format, resume):
    """A resume must train in the format the run started with (PromptFormatChoice.checkResume): a changed
    tokenizer_config.json would change every sequence."""
    recorded = resume.header.get("settings", {}).get(PROMPT_FORMAT_KEY)
    if recorded is not None and recorded != prompt_format.description:
        raise SettingError("--resume", f"the run was trained in prompt format {recorded}, but its model and --template "
                                       f"now give {prompt_format.description}; restore the model's chat template or "
                                       "start a new run")


def check_recipe(args):
    """The official recipe's options (as `xright train`'s): SFT data from one place, a reference that exists."""
    if args.sft_from_pref is not None and args.sft is not None:
        raise SettingError("--sft-from-pref", "give --sft or --sft-from-pref, not both (--sft-from-pref takes SFT "
                                              "data from a preference file)")
    if args.ref_model is not None:
        return reference_directory(args.ref_model)
    return None


def reference_directory(path):
    """--ref-model: a model directory, or a run directory standing for its final model."""
    if not os.path.isdir(path):
        raise SettingError("--ref-model", f"{path}: no such directory (expected a model directory or a run directory)")
    if os.path.isfile(os.path.join(path, "run.jsonl")):
        final = os.path.join(path, "final")
        if not os.path.isfile(os.path.join(final, "config.json")):
            raise SettingError("--ref-model", f"{path}: this run has no final model yet (final/config.json)")
        return final
    return path


def data_records(objective, args, kind):
    """(path, records, held-out flags) of one objective. From --sft-from-pref, each pair's chosen response,
    held out when its pair is (the reference stage never trains on a held-out DPO pair's chosen side)."""
    skipped = []
    if objective == "sft" and args.sft_from_pref is not None:
        path = args.sft_from_pref
        pairs = read_dataset(path, "preference", args.format, strict=args.strict, skipped=skipped)
        records = [Example(p.prompt, p.chosen, p.context, p.source) for p in pairs]
        held = [is_held_out(p, args.eval_fraction, args.data_seed) for p in pairs]
    else:
        path = args.sft if objective == "sft" else args.pref
        if path is None:
            return None, [], [], skipped
        records = read_dataset(path, kind, args.format, strict=args.strict, skipped=skipped)
        held = [is_held_out(r, args.eval_fraction, args.data_seed) for r in records]
    cap = args.sft_max_samples if objective == "sft" else args.pref_max_samples
    if cap is not None:
        records, held = records[:cap], held[:cap]
    return path, records, held, skipped


LLAMA_LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def default_lora_targets(model):
    """The engine's defaults (Sources/Engine: GPTNeoX/Llama.defaultLoRATargets), by config.json's model_type."""
    model_type = getattr(model.config, "model_type", "")
    if model_type == "gpt_neox":
        return ["query_key_value"]
    if model_type in ("llama", "qwen2", "mistral"):
        return LLAMA_LORA_TARGETS
    raise SettingError("--lora-targets", f"no default LoRA targets for model_type {model_type!r}; name the modules")


def attach_lora(model, args):
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError:
        raise SettingError("--lora-r", "LoRA needs peft: pip install peft") from None
    targets = [t for t in (args.lora_targets or "").split(",") if t] or default_lora_targets(model)
    config = LoraConfig(r=args.lora_r, lora_alpha=args.lora_alpha or args.lora_r, target_modules=targets,
                        lora_dropout=0.0, bias="none", task_type="CAUSAL_LM")
    try:
        return get_peft_model(model, config)
    except ValueError as error:
        raise SettingError("--lora-targets", f"{args.lora_targets}: {error}") from None


def load_adapters(model, directory):
    try:
        from peft import PeftModel
    except ImportError:
        raise SettingError("--resume", "this run trained LoRA adapters, which needs peft: pip install peft") from None
    return PeftModel.from_pretrained(model, directory, is_trainable=True)


def restore_backend(backend, resume, c):
    """The optimizer's moments, the applied-update count (the LR schedule), and this rank's reference cache and
    torch RNG as the checkpoint holds them."""
    directory = resume.backend_dir
    try:
        backend.load_optimizer_state(torch.load(os.path.join(directory, "optimizer.pt"), map_location=c.device))
        ranks = torch.load(os.path.join(directory, RANKS_FILE))
    except (OSError, RuntimeError, ValueError) as error:
        raise SettingError("--resume", f"{directory}: cannot load the checkpoint ({error})") from None
    if len(ranks) != c.world:
        raise SettingError("--resume", f"{resume.checkpoint} was written by {len(ranks)} process(es) and this launch "
                                       f"has {c.world}; resume with the same number (torchrun --nproc_per_node "
                                       f"{len(ranks)})")
    backend.reference_cache = dict(ranks[c.rank]["referenceCache"])
    torch.set_rng_state(ranks[c.rank]["torchRNG"])
    backend.updates = resume.session.get("updates", resume.session["step"])


def train(args):
    config = training_config(args)
    reference_dir = check_recipe(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    c = Collective()
    check_launch(args.shard, c)
    resume = getattr(args, "resume_point", None)
    tokenizer, tokenizer_path = load_tokenizer(args.tokenizer or args.model)
    # A resumed full fine-tune starts from the checkpoint's weights; LoRA loads its adapters onto the base below.
    precision = Precision(args.precision, c.device)
    model = load_model(resume.backend_dir if resume and not args.lora_r else args.model, precision.storage, c.device)
    check_vocabulary(tokenizer, model, tokenizer_path)
    eos = eos_id_of(tokenizer, tokenizer_path)
    limit = max_positions(model)
    if args.max_len and limit and args.max_len > limit:
        raise SettingError("--max-len", f"{args.max_len} tokens is more than the model's max_position_embeddings "
                                        f"({limit}); give at most {limit}")
    max_len = args.max_len or limit
    prompt_format = resolve_prompt_format(args.template, args.model)
    if resume:
        check_resume_format(prompt_format, resume)
    tok = ExampleTokenizer(tokenizer, eos, prompt_format, max_len, max(1, min(16, max_len // 2)) if max_len else 16)

    probe = make_strategy(args.strategy, 0, 0, 0, args.lam, args.epochs, c)
    sources, held_sft, held_pairs, fingerprints, summary = {"sft": None, "dpo": None}, [], [], {}, []
    for objective, kind in (("sft", "sft"), ("dpo", "preference")):
        path, records, held_flags, skipped = data_records(objective, args, kind)
        if path is None:
            if objective in probe.required:
                raise SettingError(f"--{'sft' if objective == 'sft' else 'pref'}",
                                   f"{args.strategy} needs {'SFT' if objective == 'sft' else 'preference'} data")
            continue
        train_items, held = [], []
        for r, is_held in zip(records, held_flags):
            try:
                item = tok.example(r) if kind == "sft" else tok.pair(r)
            except DataError as error:   # a conversation the chat template rejects, a prompt of no tokens
                if args.strict:
                    raise
                skipped.append(str(error))
                continue
            (held if is_held else train_items).append(item)
        if not train_items:
            raise SettingError(path, "no usable training records after the held-out split")
        if objective == "sft":
            sources["sft"] = Batches(train_items, (args.sft_batch_size or args.batch_size) * args.grad_accum,
                                     args.data_seed + 11)
            held_sft = held
            fingerprints["sft"] = fingerprint([e.ids for e in train_items])
        else:
            sources["dpo"] = Batches(train_items, (args.pref_batch_size or max(1, args.batch_size // 2)) * args.grad_accum,
                                     args.data_seed + 23)
            held_pairs = held
            fingerprints["dpo"] = fingerprint([s.ids for p in train_items for s in p])
        origin = f"chosen responses of {path}" if objective == "sft" and args.sft_from_pref else path
        summary.append(f"{objective}: {len(train_items)} training, {len(held)} held-out, {len(skipped)} skipped ({origin})")

    reference = None
    if reference_dir is not None:
        reference = load_model(reference_dir, precision.storage, c.device).eval()
        if reference.config.vocab_size != model.config.vocab_size:
            raise SettingError("--ref-model", f"{args.ref_model}: vocab_size {reference.config.vocab_size} differs from "
                                              f"the policy's {model.config.vocab_size}; the reference must share the "
                                              "policy's tokenizer")
    if args.lora_r:
        # The adapters' random initialisation must be the same on every rank (and in every repeat of the run).
        torch.manual_seed(args.seed)
        model = load_adapters(model, resume.backend_dir) if resume else attach_lora(model, args)
    elif reference is None:
        # The reference is the starting weights, also when the policy comes from a checkpoint.
        reference = (load_model(args.model, precision.storage, c.device) if resume else copy.deepcopy(model)).eval()
    if reference is not None:
        for p in reference.parameters():
            p.requires_grad_(False)
    model.train()
    if args.shard == "fsdp":
        shard(model, c)
        if reference is not None:
            shard(reference, c)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=args.lr, betas=(0.9, 0.95), eps=1e-8, weight_decay=args.weight_decay)
    backend = TorchBackend(model, reference, optimizer, PreferenceLoss(args.loss, args.beta, args.label_smoothing),
                           eos, c, args.max_grad_norm, args.lr, args.warmup, max(2, args.batch_size), held_sft, held_pairs,
                           micro_batches=args.grad_accum, autocast=precision.autocast,
                           sharded=args.shard == "fsdp")
    if not held_sft or not held_pairs:
        config["evalEvery"], config["stopRule"] = None, None
    if resume:
        restore_backend(backend, resume, c)

    sft_len = sources["sft"].epoch_length if sources["sft"] else 0
    dpo_len = sources["dpo"].epoch_length if sources["dpo"] else 0
    per_epoch = {"sft-only": sft_len, "dpo-only": dpo_len}.get(args.strategy, max(sft_len, dpo_len))
    planned = config["maxSteps"] or (None if args.strategy in ("sft-then-dpo", "dpo-then-sft") else per_epoch * args.epochs)
    telemetry = GPUTelemetry()
    header = resume.header if resume else {
        "type": "header", "schema": SCHEMA, "programVersion": f"xright-bridge {__version__}", "createdAt": iso_utc_now(),
        "seed": args.seed, "config": config, "plannedSteps": planned,
        "modelFingerprint": f"hf:{os.path.abspath(args.model)}", "dataFingerprints": fingerprints,
        "settings": {
            "engine": f"pytorch {torch.__version__}", "model": os.path.abspath(args.model), "tokenizer": os.path.abspath(tokenizer_path),
            "worldSize": str(c.world), "device": c.device.type, "precision": precision.name, "shard": args.shard, "dtype": precision.storage_name, "batchSize": str(args.batch_size),
            "optimizer": "adamw", "learningRate": str(args.lr), "loss": args.loss, "beta": str(args.beta),
            "template": args.template or "", PROMPT_FORMAT_KEY: prompt_format.description, "maxLength": str(max_len), "lora": str(args.lora_r or "none"),
            "trainable_parameters": str(sum(p.numel() for p in trainable)),
            "gpu": "nvml" if telemetry.available else telemetry.reason, "host": socket.gethostname(),
            "data": "; ".join(summary),
            "referenceModel": os.path.abspath(reference_dir) if reference_dir else "the policy's starting weights",
            "sftBatchSize": str(args.sft_batch_size or args.batch_size),
            "prefBatchSize": str(args.pref_batch_size or max(1, args.batch_size // 2)),
            "gradAccum": str(args.grad_accum),
        },
    }

    def save_model(directory, state_dict=None):
        """The weights or LoRA adapters as save_pretrained writes them; sharded, from the gathered state."""
        model.save_pretrained(directory, state_dict=state_dict)

    log = server = None
    if c.is_main:
        os.makedirs(args.run_dir, exist_ok=True)
        log = RunLogWriter(os.path.join(args.run_dir, "run.jsonl"), header, append=resume is not None)
        if not resume:
            save_args(args.run_dir, args)
    c.barrier()     # the run directory exists before any rank writes its trace into it
    session = Session(config, backend, sources, c, args.run_dir, header, telemetry, args.telemetry_seconds, save_model)
    if resume:
        session.restore(resume.session, resume.checkpoint)
    if args.shard == "fsdp":
        held, whole = local_and_total_parameters(model)
        session.note(shard="fsdp", localParameters=held, parameters=whole)
    if c.is_main:
        server = RunServer(args.run_dir, session.live_status)
        server.start()
        for line in summary:
            print(f"xright-bridge: {line}", file=sys.stderr)
        print(f"xright-bridge: run {os.path.abspath(args.run_dir)} · {c.world} process(es) · attach with "
              f"`xright attach {args.run_dir}`", file=sys.stderr)
    try:
        finished = session.run(log, server)
    finally:
        if server:
            server.close()
        c.close()
    if c.is_main:
        print(f"xright-bridge: finished at step {finished['step']}: {finished['reason']} ({finished['message']})",
              file=sys.stderr)
    return finished
