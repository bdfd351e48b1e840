#!/usr/bin/python3
"""Markdown tables of per-layer CNN inversion errors from the output folders of `preimage invert --model`, next to
seed 001 (Mahendran & Vedaldi, IJCV 2016) Table 5 (AlexNet, 100 ILSVRC validation images, trained weights).

Each run folder is RUN/<layer>/metrics.json as written by `preimage invert --model F --layer <layer> --out ...`;
the error of a target is its `feature_error` (||Phi(x*) - Phi0|| / ||Phi0||, restart 0), reported in % as mean +-
std over the targets (std with ddof = 0; the paper does not say which it uses). Targets that failed are counted and
left out.

Usage:
  deep_table.py rule RUN          one column, C from each layer's metrics (the per-layer rule), with the paper's
                                  value at that C as reference (labelled RANDOM WEIGHTS when the model file was)
  deep_table.py grid C=RUN ...    a column per C (ours | paper), as Table 5
  deep_table.py json RUN ...      the raw numbers (mean, std, n, C, seconds) as JSON, one object per run
"""
import json
import math
import os
import sys

LAYERS = ["conv1", "relu1", "norm1", "pool1", "conv2", "relu2", "norm2", "pool2", "conv3", "relu3", "conv4",
          "relu4", "conv5", "relu5", "pool5", "fc6", "relu6", "fc7", "relu7", "fc8"]

# IJCV 2016 Table 5, mean and std (%) per layer in LAYERS order, for each C.
PAPER = {
    1: ([69.5, 69.0, 61.4, 59.2, 57.0, 52.0, 50.4, 45.6, 37.3, 39.1, 32.2, 34.5, 24.9, 29.0, 26.4, 19.0, 24.6, 18.5,
         21.4, 13.6],
        [10.3, 10.6, 8.1, 7.7, 8.5, 6.8, 6.4, 5.7, 4.9, 5.2, 4.3, 4.6, 3.5, 4.2, 4.0, 2.5, 4.0, 3.5, 3.9, 2.9]),
    20: ([35.3, 34.9, 32.6, 28.5, 22.7, 23.0, 23.3, 20.4, 16.5, 17.5, 15.0, 16.6, 12.1, 17.3, 16.3, 12.4, 19.4, 15.1,
          17.0, 11.3],
         [7.6, 7.9, 6.1, 4.9, 4.3, 4.7, 4.9, 4.0, 3.1, 3.3, 2.5, 2.8, 1.8, 3.1, 3.4, 1.8, 4.2, 3.0, 3.0, 2.4]),
    100: ([21.1, 20.9, 19.9, 18.6, 13.2, 14.4, 14.9, 13.0, 11.3, 12.9, 11.6, 13.7, 9.6, 16.6, 16.3, 11.3, 19.7, 13.7,
           15.6, 9.6],
          [5.9, 6.2, 5.0, 3.6, 3.0, 3.9, 4.2, 3.4, 2.7, 3.3, 2.7, 3.5, 1.9, 4.1, 4.5, 1.9, 5.3, 2.6, 3.3, 2.1]),
    300: ([14.2, 14.1, 13.6, 14.5, 9.6, 11.1, 11.6, 10.6, 9.9, 12.0, 11.0, 13.4, 9.0, 17.3, 17.5, 11.2, 20.2, 12.9,
           14.9, 9.0],
          [5.0, 5.3, 4.5, 2.9, 2.5, 3.5, 3.8, 3.4, 2.9, 4.0, 3.4, 4.4, 2.1, 5.2, 5.6, 2.1, 6.1, 2.6, 3.5, 2.0]),
}


def paper(C, layer):
    if C not in PAPER or layer not in LAYERS:
        return "-"
    i = LAYERS.index(layer)
    return f"{PAPER[C][0][i]:.1f} ± {PAPER[C][1][i]:.1f}"


def layer_stats(run, layer):
    """mean/std of feature_error (%) over the targets of RUN/<layer>, or None when the layer was not run."""
    path = os.path.join(run, layer, "metrics.json")
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        m = json.load(f)
    errs, secs, C, iters = [], [], None, None
    for t in m["images"]:
        if "feature_error" not in t:
            continue
        errs.append(100.0 * t["feature_error"])
        secs.append(t.get("seconds", float("nan")))
        C = t["objective"]["C"]
    n = len(errs)
    mean = sum(errs) / n if n else float("nan")
    std = math.sqrt(sum((e - mean) ** 2 for e in errs) / n) if n else float("nan")
    cfg_path = os.path.join(run, layer, "config.json")
    random = bool(m.get("random_weights", False))
    if os.path.isfile(cfg_path):
        with open(cfg_path) as f:
            cfg = json.load(f)
        solver = cfg.get("solver", {})
        iters = solver.get("iterations")
    return {"layer": layer, "mean": mean, "std": std, "n": n, "failed": len(m["images"]) - n,
            "C": C, "seconds_per_target": sum(secs) / n if n else float("nan"), "random_weights": random,
            "errors": errs, "iterations": iters}


def fmt(s):
    if s is None:
        return "-"
    if s["n"] == 0:
        return f"failed ({s['failed']})"
    txt = f"{s['mean']:.1f} ± {s['std']:.1f}"
    return txt + (f" ({s['failed']} failed)" if s["failed"] else "")


def c_label(C):
    return f"{C:g}" if C is not None else "-"


def rule_table(run):
    stats = [layer_stats(run, l) for l in LAYERS]
    random = any(s and s["random_weights"] for s in stats)
    ours = "ours, RANDOM WEIGHTS (%)" if random else "ours (%)"
    ref = "IJCV Table 5 at that C, trained AlexNet (%)" + (" - not comparable" if random else "")
    print(f"| layer | C | {ours} | n | s / image | {ref} |")
    print("|---|---|---|---|---|---|")
    for l, s in zip(LAYERS, stats):
        if s is None:
            continue
        C = int(s["C"]) if s["C"] is not None and float(s["C"]).is_integer() else s["C"]
        print(f"| {l} | {c_label(s['C'])} | {fmt(s)} | {s['n']} | {s['seconds_per_target']:.0f} | {paper(C, l)} |")


def grid_table(pairs):
    cols = []
    for p in pairs:
        c, run = p.split("=", 1)
        cols.append((int(c), run))
    if any(s and s["random_weights"] for _, run in cols for s in (layer_stats(run, l) for l in LAYERS)):
        print("**RANDOM WEIGHTS**: 'ours' comes from a random-weight network file (`preimage init-weights`); the "
              "paper's numbers are for the trained AlexNet and are not comparable.\n")
    head = "| layer | " + " | ".join(f"C = {c} ours | C = {c} paper" for c, _ in cols) + " |"
    print(head)
    print("|---|" + "---|---|" * len(cols))
    for l in LAYERS:
        cells = []
        any_run = False
        for c, run in cols:
            s = layer_stats(run, l)
            any_run |= s is not None
            cells += [fmt(s), paper(c, l)]
        if any_run:
            print(f"| {l} | " + " | ".join(cells) + " |")


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("rule", "grid", "json"):
        sys.exit(__doc__)
    if sys.argv[1] == "rule":
        rule_table(sys.argv[2])
    elif sys.argv[1] == "grid":
        grid_table(sys.argv[2:])
    else:
        print(json.dumps({run: [s for s in (layer_stats(run, l) for l in LAYERS) if s] for run in sys.argv[2:]},
                         indent=1))


if __name__ == "__main__":
    main()
