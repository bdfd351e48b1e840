#!/usr/bin/python3
"""Composes the figure of docs/results/shallow.md (like IJCV 2016 Figure 4): per row, original | HOG glyph |
HOG^-1 | HOGb^-1 | DSIFT^-1, from the output folder of tools/results/shallow_inversion.sh.
Usage: shallow_figure.py OUT_DIR FIGURE.png [stem ...]"""
import glob
import os
import sys

import numpy as np
from skimage import io, transform

SIZE, GAP = 227, 4


def load_gray(path):
    im = io.imread(path).astype(np.float64)
    if im.ndim == 3:
        im = im[..., :3] @ np.array([0.299, 0.587, 0.114])
    return im


def original(out, stem):
    """The inverted input: gray, centre square, 227x227 (as `preimage invert --size 227`)."""
    (path,) = glob.glob(os.path.join(out, "photos", stem + ".*"))
    im = load_gray(path)
    h, w = im.shape
    s = min(h, w)
    im = im[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    return transform.resize(im, (SIZE, SIZE), order=1, anti_aliasing=True, preserve_range=True)


def tile(path):
    return transform.resize(load_gray(path), (SIZE, SIZE), order=1, anti_aliasing=True, preserve_range=True)


def main():
    out, fig = sys.argv[1], sys.argv[2]
    stems = sys.argv[3:] or ["astronaut", "chelsea", "coffee", "LadyBird", "YellowFlower", "motorcycle_left"]
    rows = []
    for s in stems:
        tiles = [original(out, s), tile(os.path.join(out, "hog", s + "_features.png"))]
        tiles += [tile(os.path.join(out, rep, s + ".png")) for rep in ("hog", "hogb", "dsift")]
        row = np.full((SIZE, len(tiles) * (SIZE + GAP) - GAP), 255.0)
        for i, t in enumerate(tiles):
            row[:, i * (SIZE + GAP):i * (SIZE + GAP) + SIZE] = t
        rows.append(row)
    figure = np.full((len(rows) * (SIZE + GAP) - GAP, rows[0].shape[1]), 255.0)
    for i, r in enumerate(rows):
        figure[i * (SIZE + GAP):i * (SIZE + GAP) + SIZE] = r
    io.imsave(fig, np.clip(np.round(figure), 0, 255).astype(np.uint8), check_contrast=False)


if __name__ == "__main__":
    main()
