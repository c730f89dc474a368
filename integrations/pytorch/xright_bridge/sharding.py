"""`--shard fsdp`: parameters, gradients and AdamW state sharded over the ranks with PyTorch FSDP2
(`torch.distributed.fsdp.fully_shard`), for models whose weights and optimizer state do not fit one device.

Each transformer block (the classes a Hugging Face model lists in `_no_split_modules`) is one FSDP unit, the rest
(embeddings, final norm, head) the root's: a rank keeps 1/world of every tensor, gathers a unit's weights just
before its forward and backward and frees them after, and receives its shard of the gradients reduce-scattered. The
reduction *sums* (divide factor 1), the bridge's convention: each rank already scaled its share by the global
count. The reference model is sharded the same way. Checkpoints hold gathered (full) weights and optimizer state,
so they are the unsharded run's files; a resume shards them again."""

import torch

from .errors import SettingError

SHARDINGS = ("none", "fsdp")


def check_launch(shard, collective):
    """FSDP shards over the processes of a distributed launch; one process has nothing to shard over."""
    if shard == "fsdp" and not collective.active:
        raise SettingError("--shard", "fsdp shards the model over the processes of a distributed launch, and this "
                                      "is a single process; launch with torchrun --nproc_per_node N -m xright_bridge "
                                      "train … (or accelerate launch), or leave --shard out")


def block_classes(model):
    """The class names of the model's transformer blocks (`_no_split_modules` of the Hugging Face model inside)."""
    for module in model.modules():
        names = getattr(module, "_no_split_modules", None)
        if names:
            return set(names)
    raise SettingError("--shard", f"{type(model).__name__} does not name its transformer blocks (_no_split_modules), "
                                  "so xright_bridge cannot tell what to shard")


def shard(model, collective):
    """Shards `model` in place (every block, then the root) over all ranks; returns it."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    mesh = init_device_mesh(collective.device.type, (collective.world,))
    names = block_classes(model)
    units = [m for m in model.modules() if type(m).__name__ in names]
    for unit in units:
        fully_shard(unit, mesh=mesh)
    fully_shard(model, mesh=mesh)
    for unit in units + [model]:
        # A plain sum (divide by 1), with SUM itself: gloo has neither AVG nor PREMUL_SUM.
        unit.set_gradient_divide_factor(1.0)
        unit.set_force_sum_reduction_for_comms(True)
    return model


def local_and_total_parameters(model):
    """(elements this rank holds, elements of the whole model)."""
    local = total = 0
    for p in model.parameters():
        total += p.numel()
        local += p.to_local().numel() if hasattr(p, "to_local") else p.numel()
    return local, total


def full(tensor):
    """A DTensor's whole value (a plain tensor as it is)."""
    return tensor.full_tensor() if hasattr(tensor, "full_tensor") else tensor


def gathered_state(model, optimizer):
    """(model state dict, optimizer state dict), full, on rank 0's CPU (empty elsewhere); a collective."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict
    return get_state_dict(model, optimizer, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def load_optimizer(model, optimizer, state):
    """Gives every rank its shard of a gathered optimizer state (each rank read the whole file)."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict
    set_optimizer_state_dict(model, optimizer, optim_state_dict=state, options=StateDictOptions(full_state_dict=True))


def total_norm(gradients):
    """The global 2-norm of sharded gradients (every rank gets the same)."""
    return full(torch.nn.utils.get_total_norm(gradients, 2.0))
