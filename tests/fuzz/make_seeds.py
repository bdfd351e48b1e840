#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (tests/fuzz/corpus/<target>/): tiny valid inputs of every accepted kind, so the
fuzzers start past the format checks. Made from the project's own files and code, never downloaded.
Usage: /usr/bin/python3 tests/fuzz/make_seeds.py [--decoder weights/decoders/hog.safetensors]"""
import argparse, io, json, os, struct

import numpy as np
from PIL import Image

root = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(root, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def images():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    gray = rgb[:, :, 0]
    for name, img, fmt, kw in [("rgb.png", rgb, "PNG", {}), ("gray.png", gray, "PNG", {}),
                               ("rgb.jpg", rgb, "JPEG", {"quality": 90}), ("gray.jpg", gray, "JPEG", {}),
                               ("rgb.bmp", rgb, "BMP", {}), ("rgb.ppm", rgb, "PPM", {}), ("gray.pgm", gray, "PPM", {})]:
        b = io.BytesIO()
        Image.fromarray(img).save(b, fmt, **kw)
        put("image", name, b.getvalue())
    b = io.BytesIO()
    Image.fromarray((gray.astype(np.uint16) * 257)).save(b, "PNG")  # 16 bits per sample
    put("image", "gray16.png", b.getvalue())
    b = io.BytesIO()
    Image.fromarray(np.dstack([rgb, gray])).save(b, "PNG")  # RGBA
    put("image", "rgba.png", b.getvalue())


def safetensors(tensors, metadata):
    header, blobs, off = {}, [], 0
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def read_metadata(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n)).get("__metadata__", {})


def safetensors_seeds(decoder):
    f32 = lambda *shape: ("F32", list(shape), np.arange(np.prod(shape), dtype="<f4").tobytes())
    put("safetensors", "plain.safetensors", safetensors({"a": f32(2, 3), "b": f32(1)}, {"note": "x"}))
    put("safetensors", "dtypes.safetensors", safetensors({
        "f16": ("F16", [3], np.array([1, -2, 65504], dtype="<f2").tobytes()),
        "bf16": ("BF16", [2], (np.array([1.5, -3], dtype="<f4").view("<u4") >> 16).astype("<u2").tobytes()),
        "f64": ("F64", [2], np.array([0.25, 1e300], dtype="<f8").tobytes()),
        "empty": ("F32", [0, 4], b"")}, {}))
    meta = read_metadata(decoder)  # a real decoder's metadata on tiny tensors: past the metadata checks
    put("safetensors", "decoder_meta.safetensors", safetensors({"param.conv1.weight": f32(2, 1, 1, 1)}, meta))
    ckpt = dict(meta, **{"preimage.kind": "decoder-checkpoint", "preimage.step": "3", "preimage.adam_step": "3",
                         "preimage.config": "{}"})
    put("safetensors", "checkpoint_meta.safetensors",
        safetensors({"param.conv1.weight": f32(1), "adam_m.conv1.weight": f32(1), "adam_v.conv1.weight": f32(1)}, ckpt))
    net = {"preimage.kind": "network", "preimage.model": "alexnet", "preimage.input_order": "RGB",
           "preimage.scale": "1", "preimage.mean": "[123.68, 116.78, 103.94]"}
    put("safetensors", "network_meta.safetensors", safetensors({"conv1.weight": f32(96, 3, 1, 1)}, net))


def golden():
    def tensor(name, arr):
        arr = np.asarray(arr, dtype="<f4")
        return (struct.pack("<I", len(name)) + name.encode() + struct.pack("<I", arr.ndim) +
                struct.pack("<%dq" % arr.ndim, *arr.shape) + arr.tobytes())
    put("golden", "two.bin", b"PIGOLD01" + struct.pack("<I", 2) + tensor("x", [[1, 2], [3, 4]]) + tensor("s", 0.5))
    put("golden", "empty.bin", b"PIGOLD01" + struct.pack("<I", 0))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--decoder", default=os.path.join(root, "..", "..", "weights", "decoders", "hog.safetensors"))
    a = ap.parse_args()
    images()
    safetensors_seeds(a.decoder)
    golden()
