"""`xright-bridge score`: the JSON `xright score` prints, computed with the training loss functions, for checking
the two engines against each other. No truncation; the prompt format by `xright score`'s rules: `--template`, else
the model's chat template, else none (ids = tok(prompt) ++ tok(response) ++ [eos])."""

import torch

from .data import ExampleTokenizer, eos_id_of, read_dataset, resolve_prompt_format
from .errors import SettingError
from .losses import PreferenceLoss, sequence_logps
from .models import check_vocabulary, load_model, load_tokenizer, max_positions


def score(args, batch_size=16):
    if not args.sft and not args.pref:
        raise SettingError("score", "give --sft FILE, --pref FILE, or both")
    preference = PreferenceLoss("sigmoid", args.beta)
    policy = load_model(args.model).eval()
    reference = load_model(args.ref_model).eval() if args.ref_model else policy
    tokenizer, tokenizer_path = load_tokenizer(args.tokenizer or args.model)
    check_vocabulary(tokenizer, policy, tokenizer_path)
    eos = eos_id_of(tokenizer, tokenizer_path)
    tok = ExampleTokenizer(tokenizer, eos, resolve_prompt_format(getattr(args, "template", None), args.model, "raw"))
    limit = max_positions(policy)
    out = {}

    def logps(model, sequences):
        sums, counts = [], []
        with torch.no_grad():
            for start in range(0, len(sequences), batch_size):
                s, c = sequence_logps(model, sequences[start:start + batch_size], eos, "cpu")
                sums += s.tolist()
                counts += c.tolist()
        return sums, counts

    def check(sequences, path):
        for i, s in enumerate(sequences):
            if limit and len(s.ids) > limit:
                raise SettingError(path, f"record {i + 1} has {len(s.ids)} tokens, more than the model's "
                                         f"max_position_embeddings {limit}")

    if args.sft:
        examples = [tok.example(e) for e in read_dataset(args.sft, "sft", "prompt-response")]
        check(examples, args.sft)
        sums, counts = logps(policy, examples)
        out["sft_loss"] = [-s / max(1, c) for s, c in zip(sums, counts)]
    if args.pref:
        pairs = [tok.pair(p) for p in read_dataset(args.pref, "preference", "prompt-chosen-rejected")]
        sequences = [s for p in pairs for s in p]
        check(sequences, args.pref)
        policy_sums, _ = logps(policy, sequences)
        reference_sums, _ = logps(reference, sequences)
        out["chosen_logp"], out["rejected_logp"] = policy_sums[0::2], policy_sums[1::2]
        out["ref_chosen_logp"], out["ref_rejected_logp"] = reference_sums[0::2], reference_sums[1::2]
        t = lambda v: torch.tensor(v, dtype=torch.float64)
        out["dpo_loss"] = preference(t(out["chosen_logp"]), t(out["rejected_logp"]), t(out["ref_chosen_logp"]),
                                     t(out["ref_rejected_logp"])).tolist()
    return out
