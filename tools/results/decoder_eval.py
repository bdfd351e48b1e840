#!/usr/bin/python3
"""Normalised reconstruction error (seed 002 sect. 2.2) of several methods on the same held-out photos.

usage: decoder_eval.py --test DIR --train DIR --size S NAME=FOLDER [NAME=FOLDER ...]
Each FOLDER holds <stem>.png reconstructions (S x S; gray ones are compared as gray replicated to RGB). The
originals are the test photos' centre squares resized to S x S (here, in numpy, identically for every method), the
error is ||x - r||_2 over RGB 0..255, normalised by the mean pairwise distance of the originals. "mean image" is
the mean of the training photos' centre squares: the baseline that knows nothing about the test photo.
--figure PNG [--figure-photos STEM,...] also writes a figure like seed 002 Fig. 3: one row per photo, the original
then each method's reconstruction, each tile upscaled 2x (nearest) for viewing."""
import argparse
import glob
import itertools
import os

import numpy as np
from skimage import io, transform


def load(path, size):
    a = io.imread(path)
    if a.ndim == 2:
        a = np.stack([a] * 3, -1)
    a = a[..., :3].astype(np.float64)
    h, w = a.shape[:2]
    s = min(h, w)
    a = a[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    return transform.resize(a, (size, size), order=1, anti_aliasing=True, preserve_range=True)


def images(folder):
    return sorted(f for f in glob.glob(os.path.join(folder, "*")) if f.lower().endswith((".png", ".jpg", ".jpeg")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--test", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--figure", help="write the comparison figure to this PNG")
    ap.add_argument("--figure-photos", default="", help="stems of the figure's rows (default: the first 4 photos)")
    ap.add_argument("methods", nargs="+")
    a = ap.parse_args()
    files = images(a.test)
    x = [load(f, a.size) for f in files]
    pair = np.mean([np.linalg.norm(p - q) for p, q in itertools.combinations(x, 2)])
    mean_img = np.mean([load(f, a.size) for f in images(a.train)], axis=0)
    rows = [("mean image (training photos)", np.mean([np.linalg.norm(xi - mean_img) for xi in x]))]
    stems = [os.path.splitext(os.path.basename(f))[0] for f in files]
    recon = {}  # (method, stem) -> S x S x 3
    for m in a.methods:
        name, folder = m.split("=", 1)
        errs = []
        for stem, xi in zip(stems, x):
            r = io.imread(os.path.join(folder, stem + ".png")).astype(np.float64)
            if r.ndim == 2:
                r = np.stack([r] * 3, -1)
            recon[(name, stem)] = r[..., :3]
            errs.append(np.linalg.norm(xi - r[..., :3]))
        rows.append((name, np.mean(errs)))
    if a.figure:
        shown = a.figure_photos.split(",") if a.figure_photos else stems[:4]
        missing = [t for t in shown if t not in stems]
        if missing:
            raise SystemExit("decoder_eval: --figure-photos names no test photo: " + ", ".join(missing))
        names = [m.split("=", 1)[0] for m in a.methods]
        grid = np.concatenate([np.concatenate([x[stems.index(t)]] + [recon[(n, t)] for n in names], axis=1)
                               for t in shown], axis=0)
        grid = np.repeat(np.repeat(np.clip(np.rint(grid), 0, 255).astype(np.uint8), 2, 0), 2, 1)
        io.imsave(a.figure, grid, check_contrast=False)
        print("figure: rows %s; columns original, %s" % (", ".join(shown), ", ".join(names)))
    print("%d test photos, %dx%d, mean pairwise distance %.1f" % (len(files), a.size, a.size, pair))
    print("| method | mean error | normalised error |")
    print("|---|---|---|")
    for name, e in rows:
        print("| %s | %.1f | %.3f |" % (name, e, e / pair))


if __name__ == "__main__":
    main()
