#!/usr/bin/env python3
"""Writes the tiny safetensors fixtures the Swift reader is tested against, with the reference writer
(`safetensors.torch.save_file`), so the tests check our reader against files we did not write ourselves.

    python3 scripts/goldens/make_safetensors_fixtures.py   # -> Tests/EngineTests/Fixtures/safetensors/

halfs.safetensors: F16 and BF16 bit patterns chosen to cover zeros, normals, the largest finite value, the
smallest normal, subnormals, infinities and NaNs, each next to its exact float32 value as numpy/torch widen it
(`<dtype>_expected` is F32). mixed.safetensors: an F32 matrix, a scalar, an empty tensor, F64, an I64 tensor
(readable only as raw bytes) and `__metadata__`.
"""
import os

import numpy as np
import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "EngineTests", "Fixtures", "safetensors")

F16_BITS = [
    0x0000, 0x8000,          # +0, -0
    0x3C00, 0xC100, 0x3555,  # 1, -2.5, 0.33325
    0x7BFF, 0xFBFF,          # ±65504, the largest finite
    0x0400,                  # 2^-14, smallest normal
    0x0001, 0x8001, 0x03FF, 0x0200,  # subnormals: ±2^-24, largest, 2^-15
    0x7C00, 0xFC00,          # ±inf
    0x7E00, 0xFE00, 0x7E5A,  # quiet NaNs (with sign, with payload)
]
BF16_BITS = [
    0x0000, 0x8000,          # +0, -0
    0x3F80, 0xC020, 0x3EAB,  # 1, -2.5, 0.333984
    0x7F7F, 0xFF7F,          # ±3.3895e38, the largest finite
    0x0080,                  # 2^-126, smallest normal
    0x0001, 0x8001, 0x007F,  # subnormals
    0x7F80, 0xFF80,          # ±inf
    0x7FC0, 0xFFC0, 0x7FC5,  # quiet NaNs
]


def from_bits(bits, dtype):
    return torch.from_numpy(np.array(bits, dtype=np.uint16).view(np.int16)).view(dtype)


def main():
    os.makedirs(OUT, exist_ok=True)
    f16 = from_bits(F16_BITS, torch.float16)
    bf16 = from_bits(BF16_BITS, torch.bfloat16)
    # numpy's float16 -> float32 is the reference widening for F16; torch's for BF16.
    f16_expected = torch.from_numpy(np.array(F16_BITS, dtype=np.uint16).view(np.float16).astype(np.float32))
    bf16_expected = bf16.float()
    matrix16 = torch.tensor([[1.5, -0.25, 3.0], [1e-3, 6e4, -7.0]], dtype=torch.float16)
    save_file({
        "f16": f16, "f16_expected": f16_expected,
        "bf16": bf16, "bf16_expected": bf16_expected,
        "f16_matrix": matrix16, "f16_matrix_expected": matrix16.float(),
    }, os.path.join(OUT, "halfs.safetensors"))

    save_file({
        "matrix": torch.tensor([[1.0, -2.0, 3.5], [0.1, 1e-30, -4e30]], dtype=torch.float32),
        "scalar": torch.tensor(42.5, dtype=torch.float32),
        "empty": torch.zeros((0, 3), dtype=torch.float32),
        "double": torch.tensor([0.1, -1e-300, 1e300, 2.0 ** -149], dtype=torch.float64),
        "ids": torch.tensor([[1, 2], [3, 4]], dtype=torch.int64),
    }, os.path.join(OUT, "mixed.safetensors"), metadata={"format": "pt", "note": "made by make_safetensors_fixtures.py"})
    for name in sorted(os.listdir(OUT)):
        print(name, os.path.getsize(os.path.join(OUT, name)), "bytes")


if __name__ == "__main__":
    main()
