#!/usr/bin/python3
"""Tables of docs/results/shallow.md from a tools/results/shallow_inversion.sh output folder.

Three IJCV errors per representation: 'float' is metrics.json's feature_error (VLFeat-exact features of the
optimiser's floating-point image, as the authors' code measured it), '16-bit' is `preimage eval` on the lossless
<stem>_16bit.png files and '8-bit' on the 8-bit PNGs.
Usage: tools/results/shallow_table.py OUT
"""
import json
import statistics
import sys

out = sys.argv[1]
reps = ["hog", "hogb", "dsift"]
paper_ijcv = {"hog": 36.6, "hogb": 11.5, "dsift": 9.4}
paper_cvpr = {"hog": 28.1, "hogb": 10.67, "dsift": 10.89}
floats, pngs, p16s, evals, secs = {}, {}, {}, {}, {}
for r in reps:
    m = json.load(open(f"{out}/{r}/metrics.json"))["images"]
    floats[r] = {i["stem"]: 100 * i["feature_error"] for i in m}
    secs[r] = statistics.mean(i["runs"][0]["seconds"] for i in m)
    evals[r] = json.load(open(f"{out}/eval_{r}.json"))
    assert all(p["file"].endswith("_16bit.png") for p in evals[r]["per_image"]), r
    p16s[r] = {p["image"]: 100 * p["ijcv_error"] for p in evals[r]["per_image"]}
    pngs[r] = {p["image"]: 100 * p["ijcv_error"] for p in json.load(open(f"{out}/eval8_{r}.json"))["per_image"]}


def ms(values):
    v = list(values)
    return f"{statistics.mean(v):.1f} ± {statistics.pstdev(v):.1f}"


print("| representation | IJCV error, float image | IJCV error, 16-bit PNG | IJCV error, 8-bit PNG | IJCV Table 4 "
      "| CVPR error, 16-bit PNG | CVPR Table 1 | s / image |")
print("|---|---|---|---|---|---|---|---|")
for r in reps:
    c = evals[r]["cvpr"]
    print(f"| {r.upper().replace('HOGB', 'HOGb')} | {ms(floats[r].values())} | {ms(p16s[r].values())} | "
          f"{ms(pngs[r].values())} | {paper_ijcv[r]} | {100 * c['mean']:.1f} ± {100 * c['std']:.1f} | "
          f"{paper_cvpr[r]} | {secs[r]:.1f} |")
print()
print("| photo | " + " | ".join(f"{r.upper().replace('HOGB', 'HOGb')} float / 16-bit / 8-bit" for r in reps) + " |")
print("|---|" + "---|" * len(reps))
for s in sorted(floats["hog"]):
    print(f"| {s} | " + " | ".join(f"{floats[r][s]:.1f} / {p16s[r][s]:.1f} / {pngs[r][s]:.1f}" for r in reps) + " |")
