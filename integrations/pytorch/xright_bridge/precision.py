"""`--precision`: in which dtype the weights live and the arithmetic runs.

- `fp32`: everything in float32.
- `bf16-mixed` (the standard mixed precision): the parameters, their gradients (also summed over micro-batches and
  ranks) and AdamW's moments stay float32; forward and backward run under `torch.autocast(dtype=bfloat16)`, which
  does the matrix products in bfloat16 and keeps reductions, norms and the loss in float32. An update smaller than
  bfloat16's resolution (2⁻⁸ relative) still moves the float32 weight.
- `bf16-pure` / `fp16-pure`: the parameters themselves, and so AdamW's state, in that dtype (half the memory of the
  weights); an update below the dtype's resolution is lost (a weight of 1.0 does not move by less than 2⁻⁹ in bf16).
"""

import contextlib

import torch

from .errors import SettingError

PRECISIONS = ("fp32", "bf16-mixed", "bf16-pure", "fp16-pure")
# The old `--dtype` values (runs recorded before --precision existed resume with what they did).
FROM_DTYPE = {"float32": "fp32", "bfloat16": "bf16-pure", "float16": "fp16-pure"}


class Precision:
    def __init__(self, name, device):
        if name not in PRECISIONS:
            raise SettingError("--precision", f"expected one of {', '.join(PRECISIONS)}; got '{name}'")
        if name.startswith("bf16") and device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise SettingError("--precision", f"{name}: this GPU ({torch.cuda.get_device_name(device)}) has no "
                                              "bfloat16 arithmetic; use fp32")
        self.name, self.device = name, device
        self.mixed = name == "bf16-mixed"
        # What the weights are stored (and loaded) in.
        self.storage = {"bf16-pure": torch.bfloat16, "fp16-pure": torch.float16}.get(name, torch.float32)

    @property
    def storage_name(self):
        return str(self.storage).replace("torch.", "")

    def autocast(self):
        """The context every forward pass runs in (the backward follows the ops it recorded)."""
        if not self.mixed:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)


def refuse_dtype(dtype):
    """`--dtype` is gone: it stored the weights in bfloat16, which loses small updates. Name what replaces it."""
    if dtype is not None:
        raise SettingError("--dtype", f"replaced by --precision: fp32, bf16-mixed (bfloat16 arithmetic, float32 "
                                      f"weights and optimizer state: the usual choice on GPUs) or bf16-pure / "
                                      f"fp16-pure (weights stored in that dtype, as --dtype {dtype} did; small "
                                      f"updates are lost)")
