"""The PyTorch training backend: a Hugging Face causal LM policy (or its LoRA adapters), a frozen reference
whose log-probabilities are computed once per pair and cached, AdamW, and gradients summed over ranks (each rank
scales its share by the *global* count, so the sum is exactly the gradient of the global batch mean)."""

import contextlib
import math

import torch

from . import sharding
from .losses import sequence_logps, token_count


class Metrics(dict):
    """ObjectiveMetrics: {"loss", "tokens", "preference"?} as the run log writes them."""


class TorchBackend:
    def __init__(self, model, reference, optimizer, preference, pad_id, collective, max_grad_norm=1.0,
                 learning_rate=5e-5, warmup_steps=0, eval_batch_size=16, held_out_sft=(), held_out_pairs=(),
                 micro_batches=1, autocast=None, sharded=False):
        self.model, self.reference, self.optimizer = model, reference, optimizer
        self.preference, self.pad_id, self.c = preference, pad_id, collective
        self.max_grad_norm, self.base_lr, self.warmup = max_grad_norm, learning_rate, warmup_steps
        self.eval_batch_size = max(2, eval_batch_size)
        self.held_out_sft, self.held_out_pairs = list(held_out_sft), list(held_out_pairs)
        self.trainable = [p for p in model.parameters() if p.requires_grad]
        self.reference_cache = {}   # pair id → (log π_ref(chosen), log π_ref(rejected)); held-out ids < 0
        # Gradient accumulation: each rank computes its share of a batch in this many slices, one after the other.
        self.micro_batches = micro_batches
        # The context of every forward pass (bf16 autocast under --precision bf16-mixed; nothing otherwise).
        self.autocast = autocast or contextlib.nullcontext
        # --shard fsdp: every forward and backward is a collective (weights gathered, gradients reduce-scattered),
        # so every rank runs as many as the busiest one, an idle rank on one pad token (it contributes zero).
        self.sharded = sharded
        self.updates = 0

    @property
    def learning_rate(self):
        step = self.updates + 1
        return self.base_lr * (min(1.0, step / self.warmup) if self.warmup > 0 else 1.0)

    def _logps(self, model, sequences):
        """Σ log p and scored-token counts per sequence (losses.sequence_logps) under the run's precision."""
        with self.autocast():
            if sequences or not self.sharded:
                return sequence_logps(model, sequences, self.pad_id, self.c.device)
            logits = model(input_ids=torch.full((1, 1), self.pad_id, dtype=torch.long, device=self.c.device)).logits
            nothing = (logits.float().sum() * 0).reshape(1)[:0].double()   # empty, but on the graph for backward
            return nothing, torch.zeros(0, dtype=torch.long, device=self.c.device)

    def _slices(self, items):
        """`items` in micro-batch slices; sharded, padded with empty slices to the busiest rank's count."""
        slices = micro_slices(items, self.micro_batches)
        if self.sharded:
            slices += [[] for _ in range(self.c.all_reduce_max(len(slices)) - len(slices))]
        return slices

    def _chunks(self, items, size):
        """`items` in chunks of `size`; sharded, padded with empty chunks to the busiest rank's count."""
        chunks = [items[start:start + size] for start in range(0, len(items), size)]
        if self.sharded:
            chunks += [[] for _ in range(self.c.all_reduce_max(len(chunks)) - len(chunks))]
        return chunks

    def _share(self, items):
        """This rank's part of a global batch: every world-th item."""
        return items[self.c.rank::self.c.world]

    # -- SFT ---------------------------------------------------------------------------------------------------

    def sft(self, examples, weight):
        """Pre-update metrics of a global batch of examples; with `weight`, accumulates weight · ∇f_sft where
        f_sft = −Σ log p / (scored tokens of the whole batch)."""
        local = self._share(examples)
        if self.micro_batches > 1:
            return self._sft_accumulated(local, weight)
        with torch.set_grad_enabled(weight is not None):
            if local or self.sharded:
                sums, counts = self._logps(self.model, local)
                local_sum, local_count = sums.sum(), int(counts.sum())
            else:
                local_sum, local_count = None, 0
            total_sum, total_count, tokens = self.c.all_reduce_sum(
                [float(local_sum.detach()) if local_sum is not None else 0.0, local_count, token_count(local)])
            if weight is not None and local_sum is not None and total_count > 0:
                (-weight * local_sum / total_count).backward()
        return Metrics(loss=-total_sum / max(1, total_count), tokens=int(tokens))

    def _sft_accumulated(self, local, weight):
        """As `sft`, slice by slice: the global scored-token count is known before any forward pass (it depends
        on the tokens only), so each slice's gradient is scaled by it and their sum is the whole batch's."""
        total_count = self.c.all_reduce_sum([scored_tokens(local)])[0]
        local_sum = 0.0
        for part in self._slices(local):
            with torch.set_grad_enabled(weight is not None):
                sums, _ = self._logps(self.model, part)
                part_sum = sums.sum()
                if weight is not None and total_count > 0:
                    (-weight * part_sum / total_count).backward()
            local_sum += float(part_sum.detach())
        total_sum, tokens = self.c.all_reduce_sum([local_sum, token_count(local)])
        return Metrics(loss=-total_sum / max(1, total_count), tokens=int(tokens))

    # -- DPO ---------------------------------------------------------------------------------------------------

    def reference_logps(self, pairs, ids):
        missing = [i for i in range(len(pairs)) if ids[i] not in self.reference_cache]
        if missing or self.sharded:
            sequences = [s for i in missing for s in pairs[i]]
            with torch.no_grad(), self._reference_model() as reference:
                sums, _ = self._logps(reference, sequences)
            for k, i in enumerate(missing):
                self.reference_cache[ids[i]] = (float(sums[2 * k]), float(sums[2 * k + 1]))
        return [self.reference_cache[i] for i in ids]

    def _reference_model(self):
        """The frozen reference: a copy of the starting weights, or the base model with LoRA adapters disabled."""
        if self.reference is not None:
            return _Same(self.reference)
        return _AdaptersDisabled(self.model)

    def _pair_terms(self, pairs, ids, weight, pair_total):
        """Sums over this rank's pairs: [loss, chosen reward, rejected reward, correct, pairs, tokens]."""
        if not pairs and not self.sharded:
            return [0.0] * 6
        refs = torch.tensor(self.reference_logps(pairs, ids), dtype=torch.float64, device=self.c.device).reshape(-1, 2)
        with torch.set_grad_enabled(weight is not None):
            sums, _ = self._logps(self.model, [s for p in pairs for s in p])
            chosen, rejected = sums[0::2], sums[1::2]
            losses = self.preference(chosen, rejected, refs[:, 0], refs[:, 1])
            if weight is not None:
                (weight * losses.sum() / pair_total).backward()
        beta = self.preference.beta
        chosen_reward = beta * (chosen.detach() - refs[:, 0])
        rejected_reward = beta * (rejected.detach() - refs[:, 1])
        return [float(losses.detach().sum()), float(chosen_reward.sum()), float(rejected_reward.sum()),
                float((chosen_reward > rejected_reward).sum()), len(pairs),
                sum(len(a.ids) + len(b.ids) for a, b in pairs)]

    @staticmethod
    def _pair_metrics(totals):
        loss, chosen, rejected, correct, count, tokens = totals
        n = max(1.0, count)
        return Metrics(loss=loss / n, tokens=int(tokens), preference={
            "chosenReward": chosen / n, "rejectedReward": rejected / n, "rewardAccuracy": correct / n,
            "margin": (chosen - rejected) / n})

    def dpo(self, pairs, ids, weight):
        mine, my_ids = self._share(pairs), self._share(ids)
        local = [0.0] * 6
        # Each slice's gradient is scaled by the global pair count: the slices sum to the batch mean's gradient.
        for part, part_ids in zip(self._slices(mine), self._slices(my_ids)):
            local = [a + b for a, b in zip(local, self._pair_terms(part, part_ids, weight, len(pairs)))]
        return self._pair_metrics(self.c.all_reduce_sum(local))

    # -- the update ----------------------------------------------------------------------------------------

    def apply_update(self):
        """Sums gradients over ranks, clips the global norm, steps AdamW. Returns the norm, or None when it is not
        finite (the update is skipped, as the Swift session does)."""
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.trainable]
        if self.sharded:    # FSDP already summed them into each rank's shard
            for p, g in zip(self.trainable, grads):
                p.grad = g
        elif self.c.active:
            flat = torch.cat([g.reshape(-1).float() for g in grads])
            self.c.all_reduce_tensor(flat)
            offset = 0
            for p, g in zip(self.trainable, grads):
                p.grad = flat[offset:offset + g.numel()].view_as(p).to(p.dtype)
                offset += g.numel()
        else:
            for p, g in zip(self.trainable, grads):
                p.grad = g
        if self.sharded:
            norm = float(sharding.total_norm([p.grad for p in self.trainable]))
            coefficient = self.max_grad_norm / (norm + 1e-6)     # as clip_grad_norm_ computes it
            if self.max_grad_norm > 0 and math.isfinite(norm) and coefficient < 1:
                for p in self.trainable:
                    p.grad.mul_(coefficient)
        elif self.max_grad_norm > 0:
            norm = float(torch.nn.utils.clip_grad_norm_(self.trainable, self.max_grad_norm))
        else:
            norm = math.sqrt(sum(float(p.grad.double().pow(2).sum()) for p in self.trainable))
        if not math.isfinite(norm):
            self.discard_gradients()
            return None
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate
        self.optimizer.step()
        self.discard_gradients()
        self.updates += 1
        return norm

    def discard_gradients(self):
        self.optimizer.zero_grad(set_to_none=True)

    # -- checkpoints -----------------------------------------------------------------------------------------

    def checkpoint_state(self):
        """(model state dict or None for the model's own, optimizer state dict) to write; called on every rank
        (sharded, gathering is a collective; the full state lands on rank 0)."""
        if self.sharded:
            return sharding.gathered_state(self.model, self.optimizer)
        return None, self.optimizer.state_dict()

    def load_optimizer_state(self, state):
        if self.sharded:
            sharding.load_optimizer(self.model, self.optimizer, state)
        else:
            self.optimizer.load_state_dict(state)

    # -- held-out evaluation (sharded over ranks) ---------------------------------------------------------------

    def evaluate_held_out(self, objective):
        size = self.eval_batch_size
        with torch.no_grad():
            if objective == "sft":
                totals = [0.0, 0.0, 0.0]
                for chunk in self._chunks(self._share(self.held_out_sft), size):
                    sums, counts = self._logps(self.model, chunk)
                    totals[0] += float(sums.sum())
                    totals[1] += int(counts.sum())
                    totals[2] += token_count(chunk)
                total_sum, count, tokens = self.c.all_reduce_sum(totals)
                return Metrics(loss=-total_sum / max(1, count), tokens=int(tokens))
            ids = list(range(-1, -1 - len(self.held_out_pairs), -1))
            mine, my_ids = self._share(self.held_out_pairs), self._share(ids)
            totals = [0.0] * 6
            step = max(1, size // 2)
            for part_pairs, part_ids in zip(self._chunks(mine, step), self._chunks(my_ids, step)):
                part = self._pair_terms(part_pairs, part_ids, None, 1)
                totals = [a + b for a, b in zip(totals, part)]
            return self._pair_metrics(self.c.all_reduce_sum(totals))


def micro_slices(items, parts):
    """`items` in `parts` contiguous slices as even as they can be (fewer when there are fewer items), as the
    Swift engine slices them (EngineBackend.microBatchRanges)."""
    n = max(1, min(parts, len(items)))
    return [items[k * len(items) // n:(k + 1) * len(items) // n] for k in range(n)]


def scored_tokens(sequences):
    """Tokens the loss covers, as `pad_batch` labels them: positions max(1, response_start) … len − 1."""
    return sum(max(0, len(s.ids) - max(1, s.response_start)) for s in sequences)


class _Same:
    def __init__(self, model):
        self.model = model

    def __enter__(self):
        return self.model

    def __exit__(self, *exc):
        return False


class _AdaptersDisabled:
    def __init__(self, peft_model):
        self.model = peft_model
        self.context = peft_model.disable_adapter()

    def __enter__(self):
        self.context.__enter__()
        return self.model

    def __exit__(self, *exc):
        return self.context.__exit__(*exc)
