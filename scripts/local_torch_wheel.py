#!/usr/bin/env python3
"""Prints the newest CPU build of torch among the wheels in the given directories that the running interpreter
can install, or nothing. scripts/setup-python installs that wheel by path: `pip install torch` from PyPI pulls the
CUDA build (GBs), and pip would prefer PyPI's higher version over a local `+cpu` wheel in find-links.

Usage: python local_torch_wheel.py DIR...   (run it with the interpreter torch is for)"""

import os
import platform
import re
import sys

WHEEL = re.compile(r"^torch-(?P<version>[^-]+)-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$")
# PEP 600 names for the older manylinux tags: the glibc each one needs.
LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def platform_fits(plat_tags, machine, glibc):
    """`plat_tags` may be a compressed set ("manylinux_2_17_x86_64.manylinux2014_x86_64"); one fitting is enough."""
    for plat in plat_tags.split("."):
        if plat == f"linux_{machine}":
            return True
        match = re.fullmatch(rf"manylinux_(\d+)_(\d+)_{re.escape(machine)}", plat)
        needs = (int(match[1]), int(match[2])) if match else next(
            (v for k, v in LEGACY_MANYLINUX.items() if plat == f"{k}_{machine}"), None)
        if needs is not None and glibc is not None and needs <= glibc:
            return True
    return False


def version_key(version):
    """2.13.0+cpu → (2, 13, 0): the release numbers, compared as numbers."""
    public = version.split("+")[0]
    return tuple(int(part) if part.isdigit() else -1 for part in re.split(r"[.]", public))


def find(directories, python_tag, machine, glibc):
    candidates = []
    for directory in directories:
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            match = WHEEL.match(name)
            if not match or "+cpu" not in match["version"]:
                continue
            if python_tag not in match["py"].split(".") or match["abi"] not in (python_tag, "abi3"):
                continue
            if platform_fits(match["plat"], machine, glibc):
                candidates.append((version_key(match["version"]), os.path.join(directory, name)))
    return max(candidates)[1] if candidates else None


def running_glibc():
    libc, version = platform.libc_ver()
    if libc != "glibc" or not version:
        return None
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


if __name__ == "__main__":
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    wheel = find(sys.argv[1:], tag, platform.machine(), running_glibc())
    if wheel:
        print(wheel)
