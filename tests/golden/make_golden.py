#!/usr/bin/python3
"""Writes the PyTorch golden files the C++ tests compare against.

Run with Debian's Python (python3-torch):  /usr/bin/python3 tests/golden/make_golden.py --out build/golden
Every gen_*.py module beside this file defines cases(); each case returns (name, {tensor_name: tensor}).
Format (read by tests/support.cpp): b"PIGOLD01", uint32 count, then per tensor: uint32 name length, name bytes,
uint32 ndim, int64 dims, float32 data, all little endian. Inputs are seeded, so files are reproducible.
"""
import argparse
import importlib.util
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def write_golden(path, tensors):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"PIGOLD01")
        f.write(struct.pack("<I", len(tensors)))
        for name, t in tensors.items():
            a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
            a = np.ascontiguousarray(a, dtype="<f4")
            nb = name.encode()
            f.write(struct.pack("<I", len(nb)))
            f.write(nb)
            f.write(struct.pack("<I", a.ndim))
            f.write(struct.pack("<%dq" % a.ndim, *a.shape))
            f.write(a.tobytes())
    os.replace(tmp, path)


def load_generators():
    mods = []
    for fn in sorted(os.listdir(HERE)):
        if fn.startswith("gen_") and fn.endswith(".py"):
            spec = importlib.util.spec_from_file_location(fn[:-3], os.path.join(HERE, fn))
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            mods.append(mod)
    return mods


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    n = 0
    for mod in load_generators():
        for name, tensors in mod.cases():
            write_golden(os.path.join(args.out, name + ".bin"), tensors)
            n += 1
    print("wrote %d golden files to %s" % (n, args.out), file=sys.stderr)


if __name__ == "__main__":
    main()
