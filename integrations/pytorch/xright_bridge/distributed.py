"""The process group: torchrun and `accelerate launch` both set RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and
MASTER_PORT, so `init_process_group("env://")` serves both. One process without them is a world of one."""

import os

import torch
import torch.distributed as dist


class Collective:
    def __init__(self, backend=None):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if torch.cuda.is_available():
            self.device = torch.device("cuda", self.local_rank)
            torch.cuda.set_device(self.device)
        else:
            self.device = torch.device("cpu")
        self.active = self.world > 1
        if self.active and not dist.is_initialized():
            dist.init_process_group(backend or ("nccl" if self.device.type == "cuda" else "gloo"))

    @property
    def is_main(self):
        return self.rank == 0

    def all_reduce_sum(self, values):
        """Sums a float64 vector over ranks; every rank gets the same (bitwise) result."""
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        if self.active:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor.tolist()

    def all_reduce_max(self, value):
        """The largest of every rank's integer."""
        if not self.active:
            return value
        tensor = torch.tensor([value], dtype=torch.int64, device=self.device)
        dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
        return int(tensor.item())

    def all_reduce_tensor(self, tensor):
        if self.active:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def broadcast(self, obj):
        """Rank 0's object on every rank (commands, ALRIGHT's draw): all ranks act on the same decision."""
        if not self.active:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0, device=self.device if self.device.type == "cuda" else None)
        return box[0]

    def gather(self, obj):
        if not self.active:
            return [obj]
        out = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def barrier(self):
        if self.active:
            dist.barrier()

    def close(self):
        if self.active and dist.is_initialized():
            # Rank 0 hosts the group's store: no rank tears the group down while another may still be using it
            # (seen as "terminate called without an active exception" on rank 1 when rank 0 left first).
            dist.barrier()
            dist.destroy_process_group()
