"""SFT and DPO as the Swift engine defines them (NeoXBackend.swift, PreferenceLoss.swift): the loss covers the
response tokens and eos; log π(y|x) is the *sum* of their log-probabilities; DPO (Rafailov et al. 2023) with
z = (log π(y_w) − log π(y_l)) − (log π_ref(y_w) − log π_ref(y_l)): sigmoid −(1−ε)·log σ(βz) − ε·log σ(−βz),
IPO (Azar et al. 2023) (z − 1/(2β))². `xright-bridge score` and training both go through these functions."""

import torch
import torch.nn.functional as F

from .errors import SettingError

IGNORE = -100


class PreferenceLoss:
    KINDS = ("sigmoid", "ipo")

    def __init__(self, kind="sigmoid", beta=0.1, label_smoothing=0.0):
        if kind not in self.KINDS:
            raise SettingError("--loss", f"expected one of {', '.join(self.KINDS)}; got '{kind}'")
        if not (beta == beta and 0 < beta < float("inf")):
            raise SettingError("--beta", f"expected a finite number > 0; got {beta}")
        if not 0 <= label_smoothing < 0.5:
            raise SettingError("--label-smoothing", f"expected a number in [0, 0.5); got {label_smoothing}")
        self.kind, self.beta, self.label_smoothing = kind, beta, label_smoothing

    def __call__(self, policy_chosen, policy_rejected, ref_chosen, ref_rejected):
        """Per-pair losses (float64) from sequence log-probabilities."""
        z = (policy_chosen - policy_rejected) - (ref_chosen - ref_rejected)
        if self.kind == "ipo":
            return (z - 1 / (2 * self.beta)) ** 2
        e, bz = self.label_smoothing, self.beta * z
        return -(1 - e) * F.logsigmoid(bz) - e * F.logsigmoid(-bz)


def pad_batch(sequences, pad_id, device):
    """input_ids, attention_mask and labels [B, L] (right padding); labels[b, t] is the token that position t
    predicts when it is scored (t + 1 ≥ response_start), else IGNORE."""
    length = max(len(s.ids) for s in sequences)
    ids = torch.full((len(sequences), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), length), dtype=torch.long)
    labels = torch.full((len(sequences), length), IGNORE, dtype=torch.long)
    for b, s in enumerate(sequences):
        n = len(s.ids)
        ids[b, :n] = torch.tensor(s.ids, dtype=torch.long)
        mask[b, :n] = 1
        start = max(1, s.response_start)
        labels[b, start - 1:n - 1] = torch.tensor(s.ids[start:n], dtype=torch.long)
    return ids.to(device), mask.to(device), labels.to(device)


def sequence_logps(model, sequences, pad_id, device):
    """Σ log p over each sequence's scored tokens (float64, differentiable when grad is enabled), and their count."""
    ids, mask, labels = pad_batch(sequences, pad_id, device)
    logits = model(input_ids=ids, attention_mask=mask).logits
    vocab = logits.shape[-1]
    token_logp = -F.cross_entropy(logits.float().reshape(-1, vocab), labels.reshape(-1), ignore_index=IGNORE,
                                  reduction="none").view(labels.shape)
    scored = labels != IGNORE
    sums = (token_logp.double() * scored).sum(dim=1)
    return sums, scored.sum(dim=1)


def token_count(sequences):
    return sum(len(s.ids) for s in sequences)
