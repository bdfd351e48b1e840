#!/usr/bin/python3
"""Table and figures of tools/results/decoders_alexnet.sh's runs (docs/results/decoders_alexnet.md).

usage: decoders_alexnet_report.py --out DIR --layers "conv1 ... fc8" --ae-layers "conv2 ..." --scale S
Reads DIR/eval/{dec,ae}_<layer>/<variant>/metrics.json (the normalised error after upsampling the reconstruction
bilinearly to the network's input size, seed 002 sect. 4.1) and writes into DIR/report/: table.md, fig7.png (the
error per layer of each variant, as seed 002 Fig. 7), fig5.png (test photos x layers, as Fig. 5), fig9.png
(perturbed features of each layer, as Fig. 9), and copies of the interpolation strip, the random samples, the
single units and the FC8 top-5 sheets. Every figure says RANDOM WEIGHTS when the network's were."""
import argparse
import glob
import json
import os
import shutil

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from skimage import io, transform  # noqa: E402

VARIANTS = [("plain", "decoder"), ("binarize", "binarised"), ("dropout", "dropout 50 %"),
            ("binarize-dropout", "binarised + dropout 50 %"),
            ("binarize-dropout-least", "binarised + 50 % least dropped")]


def error(path):
    with open(path) as f:
        m = json.load(f)
    return m["at_input_size"]["normalised_error"], m


def tile(path, side):
    a = io.imread(path).astype(np.float64)
    if a.ndim == 2:
        a = np.stack([a] * 3, -1)
    return transform.resize(a[..., :3], (side, side), order=1, anti_aliasing=True, preserve_range=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", required=True)
    ap.add_argument("--ae-layers", default="")
    ap.add_argument("--scale", default="")
    ap.add_argument("--train", help="training photos: the mean-image baseline (what knowing nothing gives)")
    ap.add_argument("--init-iters", default="", help="iteration counts of the eval/iv_{noise,dec}<N> inversions")
    a = ap.parse_args()
    layers, ae_layers = a.layers.split(), a.ae_layers.split()
    ev, rep = os.path.join(a.out, "eval"), os.path.join(a.out, "report")
    os.makedirs(rep, exist_ok=True)

    rows, random_weights, photos, size = {}, False, None, None
    for kind, names in (("dec", layers), ("ae", ae_layers)):
        for layer in names:
            for variant, _ in VARIANTS:
                path = os.path.join(ev, "%s_%s" % (kind, layer), variant, "metrics.json")
                if os.path.exists(path):
                    e, m = error(path)
                    rows[(kind, layer, variant)] = e
                    photos = len(m["images"])
                    size = m["at_input_size"]["size"]
            cfg = os.path.join(ev, "%s_%s" % (kind, layer), "plain", "config.json")
            if os.path.exists(cfg) and "RANDOM WEIGHTS" in open(cfg).read():
                random_weights = True
    label = " [RANDOM WEIGHTS]" if random_weights else ""

    # table.md
    cols = [("dec", v, n) for v, n in VARIANTS] + [("ae", "plain", "autoencoder"), ("ae", "binarize", "autoenc. bin."),
                                                    ("ae", "dropout", "autoenc. dropout")]
    lines = ["%d test photos, normalised error at the network's input size %sx%s%s" % (photos or 0, size, size, label),
             "", "| layer | " + " | ".join(n for _, _, n in cols) + " |", "|---|" + "---|" * len(cols)]
    for layer in layers:
        cells = []
        for kind, v, _ in cols:
            e = rows.get((kind, layer, v))
            cells.append("%.3f" % e if e is not None else "")
        lines.append("| %s | %s |" % (layer, " | ".join(cells)))
    if a.train and size:
        # Baseline: the mean of the training photos' centre squares, against every test window, normalised alike.
        def square(path, n):
            b = io.imread(path).astype(np.float64)
            b = np.stack([b] * 3, -1) if b.ndim == 2 else b[..., :3]
            h, w = b.shape[:2]
            s = min(h, w)
            return transform.resize(b[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s], (n, n),
                                    order=1, anti_aliasing=True, preserve_range=True)
        with open(os.path.join(ev, "dec_%s" % layers[0], "plain", "metrics.json")) as f:
            tests = [square(i["file"], size) for i in json.load(f)["images"]]
        train = sorted(glob.glob(os.path.join(a.train, "*")))
        mean = np.mean([square(p, size) for p in train if p.lower().endswith((".png", ".jpg", ".jpeg"))], axis=0)
        pair = np.mean([np.linalg.norm(p - q) for i, p in enumerate(tests) for q in tests[i + 1:]])
        lines += ["", "Baseline, the mean of the training photos: normalised error %.3f." %
                  (np.mean([np.linalg.norm(t - mean) for t in tests]) / pair)]
    with open(os.path.join(rep, "table.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))

    # fig7.png: error per layer, one curve per variant (seed 002 Fig. 7)
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=100)
    x = np.arange(len(layers))
    for kind, v, name in cols:
        ys = [rows.get((kind, layer, v), np.nan) for layer in layers]
        if np.all(np.isnan(ys)):
            continue
        ax.plot(x, ys, marker="o" if kind == "dec" else "s", linestyle="-" if kind == "dec" else "--", label=name)
    ax.set_xticks(x)
    ax.set_xticklabels([layer.upper() for layer in layers])
    ax.set_ylabel("normalised reconstruction error")
    ax.set_title("Error per layer (seed 002 Fig. 7)%s" % label, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(rep, "fig7.png"))
    plt.close(fig)

    # fig5.png: rows = the first four test photos, columns = original then each layer's reconstruction
    side = 96
    plain = os.path.join(ev, "dec_%s" % layers[0], "plain")
    stems = sorted(os.path.splitext(os.path.basename(p))[0][:-len("_sheet")]
                   for p in glob.glob(os.path.join(plain, "*_sheet.png")))[:4]
    with open(os.path.join(plain, "metrics.json")) as f:
        files = {os.path.splitext(os.path.basename(i["file"]))[0]: i["file"] for i in json.load(f)["images"]}

    def original(stem):
        a = io.imread(files[stem]).astype(np.float64)
        a = np.stack([a] * 3, -1) if a.ndim == 2 else a[..., :3]
        h, w = a.shape[:2]
        s = min(h, w)
        return transform.resize(a[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s], (side, side),
                                order=1, anti_aliasing=True, preserve_range=True)

    def sheet(name, grid):
        g = np.concatenate([np.concatenate(r, axis=1) for r in grid], axis=0)
        io.imsave(os.path.join(rep, name), np.clip(np.rint(g), 0, 255).astype(np.uint8), check_contrast=False)

    sheet("fig5.png", [[original(s)] + [tile(os.path.join(ev, "dec_%s" % l, "plain", s + ".png"), side)
                                        for l in layers] for s in stems])
    # fig9.png: one photo; rows = variants, columns = layers (seed 002 Fig. 9)
    s0 = stems[0]
    sheet("fig9.png", [[tile(os.path.join(ev, "dec_%s" % l, v, s0 + ".png"), side) for l in layers]
                       for v, _ in VARIANTS])
    if ae_layers:
        sheet("fig6_autoencoder.png", [[original(s)] + sum([[tile(os.path.join(ev, "dec_%s" % l, "plain",
                                                                               s + ".png"), side),
                                                            tile(os.path.join(ev, "ae_%s" % l, "plain", s + ".png"),
                                                                 side)] for l in ae_layers], [])
                                       for s in stems])
    for src, dst in (("fc8-interpolate/strip.png", "fig10_fc8_interpolation.png"),
                     ("conv5-interpolate/strip.png", "fig10_conv5_interpolation.png"),
                     ("fc8-sample/samples.png", "fig11_fc8_samples.png"),
                     ("conv5-sample/samples.png", "fig11_conv5_samples.png")):
        if os.path.exists(os.path.join(ev, src)):
            shutil.copy(os.path.join(ev, src), os.path.join(rep, dst))
    for layer in ("fc8", "conv5"):
        units = sorted(glob.glob(os.path.join(ev, "%s-units" % layer, "unit_*.png")))
        if units:
            sheet("units_%s.png" % layer, [[tile(u, side) for u in units]])
    for p in ("top5", "drop-top5"):
        d = os.path.join(ev, "fc8-%s" % p)
        if os.path.isdir(d):
            sheet("fig8_fc8_%s.png" % p, [[original(s), tile(os.path.join(d, s + "_unperturbed.png"), side),
                                            tile(os.path.join(d, s + ".png"), side)] for s in stems])
    # init.md: decoder-initialised optimisation of pool5 (beyond the papers): feature error (metrics.json), image
    # error of <stem>.png against the input window (normalised like the decoders'), wall time of the command.
    iters = a.init_iters.split()
    if iters and os.path.isdir(os.path.join(ev, "iv_dec%s" % iters[0])):
        with open(os.path.join(ev, "iv_dec%s" % iters[0], "metrics.json")) as f:
            imgs = [i for i in json.load(f)["images"] if "runs" in i]
        side_in = io.imread(os.path.join(ev, "iv_dec%s" % iters[0], imgs[0]["stem"] + ".png")).shape[0]
        files_iv = {i["stem"]: i["input"] for i in imgs}
        stems_iv = sorted(files_iv)

        def window(stem):
            b = io.imread(files_iv[stem]).astype(np.float64)
            b = np.stack([b] * 3, -1) if b.ndim == 2 else b[..., :3]
            h, w = b.shape[:2]
            s = min(h, w)
            return transform.resize(b[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s],
                                    (side_in, side_in), order=1, anti_aliasing=True, preserve_range=True)

        xs = {t: window(t) for t in stems_iv}
        pair = np.mean([np.linalg.norm(xs[p] - xs[q]) for i, p in enumerate(stems_iv) for q in stems_iv[i + 1:]])

        def image_error(folder, suffix):
            return np.mean([np.linalg.norm(xs[t] - io.imread(os.path.join(folder, t + suffix)).astype(np.float64)
                                           [..., :3]) for t in stems_iv]) / pair

        def feature_error(folder, key):
            with open(os.path.join(folder, "metrics.json")) as f:
                ms = [i for i in json.load(f)["images"] if "runs" in i]
            return np.mean([m[key] for m in ms])

        def wall(folder):
            with open(os.path.join(folder, "wall_ms.txt")) as f:
                return int(f.read()) / 1000.0

        d0 = os.path.join(ev, "iv_dec%s" % iters[0])
        lines = ["%d test photos, pool5 at %dx%d%s; feature error = ||phi(x) - phi0|| / ||phi0|| (metrics.json), "
                 "image error normalised by the mean pairwise distance (%.1f)" % (len(stems_iv), side_in, side_in,
                                                                                  label, pair), "",
                 "| start | iterations | seconds (whole command) | feature error | normalised image error |",
                 "|---|---|---|---|---|",
                 "| conv5 decoder alone | 0 | - | %.3f | %.3f |" % (feature_error(d0, "init_feature_error"),
                                                                    image_error(d0, "_init.png"))]
        for it in iters:
            for start, name in (("noise", "noise"), ("dec", "conv5 decoder")):
                d = os.path.join(ev, "iv_%s%s" % (start, it))
                lines.append("| %s | %s | %.1f | %.3f | %.3f |" % (name, it, wall(d), feature_error(d, "feature_error"),
                                                                   image_error(d, ".png")))
        with open(os.path.join(rep, "init.md"), "w") as f:
            f.write("\n".join(lines) + "\n")
        print("\n".join(lines))
        last = iters[-1]
        sheet("init_decoder.png", [[xs[t], io.imread(os.path.join(d0, t + "_init.png")).astype(np.float64)[..., :3],
                                    io.imread(os.path.join(ev, "iv_noise%s" % last, t + ".png")).astype(np.float64)
                                    [..., :3],
                                    io.imread(os.path.join(ev, "iv_dec%s" % last, t + ".png")).astype(np.float64)
                                    [..., :3]] for t in stems_iv[:4]])
    print("report: %s (table.md, fig7.png, fig5.png, fig9.png, ...)%s" % (rep, label))


if __name__ == "__main__":
    main()
