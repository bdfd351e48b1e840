#!/usr/bin/python3
"""Writes the synthetic photos of the decoder CLI tests: smooth colour gradients with a few discs and bars,
96 x 80 in tests/data/decoder_photos/ and 240 x 232 in tests/data/decoder_photos_large/ (network decoders need
windows of the network's input size, 227), so that tests train and decode without any real photo (the real test
photos are held out for docs/results/decoders.md). Deterministic; run once, the PNGs are committed."""
import math
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
def png(path, rows):
    H, W = len(rows), len(rows[0]) // 3
    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def photo(k, W=96, H=80):
    rows = []
    for y in range(H):
        row = []
        for x in range(W):
            r = 60 + 120 * x / W + 30 * math.sin(0.1 * (k + 1) * y)
            g = 50 + 140 * y / H
            b = 90 + 60 * math.cos(0.07 * (x + 11 * k))
            cx, cy = (20 + 15 * k) * W / 96, (25 + 9 * k) * H / 80
            if (x - cx) ** 2 + (y - cy) ** 2 < ((10 + 2 * k) * W / 96) ** 2:
                r, g, b = 240 - 40 * k, 40 + 50 * k, 70
            if (x + 2 * y + 7 * k) % 37 < 4:
                r, g, b = r * 0.3, g * 0.3, b * 0.3
            row += [max(0, min(255, int(v))) for v in (r, g, b)]
        rows.append(row)
    return rows


if __name__ == "__main__":
    out = os.path.join(HERE, "decoder_photos")
    os.makedirs(out, exist_ok=True)
    for k in range(4):
        png(os.path.join(out, "synthetic_%d.png" % k), photo(k))
    out = os.path.join(HERE, "decoder_photos_large")
    os.makedirs(out, exist_ok=True)
    for k in range(3):
        png(os.path.join(out, "synthetic_%d.png" % k), photo(k, 240, 232))
