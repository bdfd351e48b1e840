"""PyTorch side of tools/bench/bench_cnn.cpp (run with Debian's /usr/bin/python3: torch CPU with oneDNN).

bench_cnn starts this script as a child process and drives it over stdin/stdout, one line per command, so that
the two implementations are timed in turn in the same run:
    layer NAME THREADS   build the network up to NAME (from the spec), torch.set_num_threads(THREADS); -> {"ok"}
    check PATH           one iteration; writes d loss / d input (float32, C order) to PATH; -> {"loss", "shape"}
    time                 one timed iteration; -> {"ms": wall time, "cpu_ms": process CPU time}
    quit
On start it prints {"torch": version, "mkldnn": available}. Each answer is one JSON line. One iteration is what an inversion step costs (seed 001 eq. 3): forward to the
layer, l = ||phi(x) - phi0||^2 / ||phi0||^2, backward to the input image (the weights do not require gradients).
The network is built from the engine's own definition (Network::spec_json) with the weights, input and targets
the engine wrote (safetensors, read here with numpy): the same layers, shapes and numbers as bench_cnn runs.
Fully connected layers run as torch users write them: flatten + linear.
"""
import argparse
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def read_safetensors(path):
    # u64 little-endian header length | JSON header | data buffer (offsets relative to the buffer); F32 only here
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        base = 8 + n
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit("bench_cnn_torch: %s: tensor %s has dtype %s, expected F32" % (path, name, info["dtype"]))
        begin, end = info["data_offsets"]
        a = np.fromfile(path, dtype="<f4", count=(end - begin) // 4, offset=base + begin)
        tensors[name] = torch.from_numpy(a.reshape(info["shape"]))
    return tensors


def build(spec, params, layer):
    """A function x -> output of `layer` (layers 0..layer of the spec)."""
    names = [l["name"] for l in spec["layers"]]
    if layer not in names:
        raise SystemExit("bench_cnn_torch: no layer %s in %s" % (layer, spec["model"]))
    steps = []
    for l in spec["layers"][:names.index(layer) + 1]:
        kind = l["kind"]
        if kind == "conv":
            pt, pb, pl, pr = l["pad"]
            if pt != pb or pl != pr:
                raise SystemExit("bench_cnn_torch: %s: asymmetric padding is not supported here" % l["name"])
            w, b = params[l["weight"]], params[l["bias"]]
            steps.append(lambda x, w=w, b=b, l=l, p=(pt, pl): F.conv2d(x, w, b, tuple(l["stride"]), p,
                                                                         groups=l["groups"]))
        elif kind == "fc":
            w, b = params[l["weight"]], params[l["bias"]]
            w2 = w.reshape(w.shape[0], -1).contiguous()
            steps.append(lambda x, w=w2, b=b: F.linear(x.flatten(1), w, b))
        elif kind == "relu":
            steps.append(F.relu)
        elif kind == "lrn":
            steps.append(lambda x, l=l: F.local_response_norm(x, l["size"], l["alpha"], l["beta"], l["k"]))
        elif kind == "pool":
            pt, pb, pl, pr = l["pad"]
            if pt != pb or pl != pr:
                raise SystemExit("bench_cnn_torch: %s: asymmetric padding is not supported here" % l["name"])
            steps.append(lambda x, l=l, p=(pt, pl): F.max_pool2d(x, tuple(l["kernel"]), tuple(l["stride"]), p,
                                                                  ceil_mode=l["ceil_mode"]))
        elif kind == "dropout":
            pass  # eval mode: identity
        elif kind == "softmax":
            steps.append(lambda x: F.softmax(x, dim=1))

    def run(x):
        for s in steps:
            x = s(x)
        return x
    return run


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", required=True, help="Network::spec_json() of the model")
    ap.add_argument("--tensors", required=True, help="safetensors: weights, 'input', 'target.<layer>'")
    a = ap.parse_args()
    with open(a.spec) as f:
        spec = json.load(f)
    t = read_safetensors(a.tensors)
    torch.set_grad_enabled(True)
    x = t["input"].clone().requires_grad_(True)
    forward, target, denom = None, None, None
    print(json.dumps({"torch": torch.__version__, "mkldnn": torch.backends.mkldnn.is_available()}), flush=True)

    def iteration():
        x.grad = None
        y = forward(x).reshape(target.shape)
        loss = ((y - target) ** 2).sum() / denom
        loss.backward()
        return loss

    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "layer":
            torch.set_num_threads(int(cmd[2]))
            forward = build(spec, t, cmd[1])
            target = t["target." + cmd[1]]
            denom = (target.double() ** 2).sum().item()
            answer = {"ok": True, "threads": torch.get_num_threads()}
        elif cmd[0] == "check":
            loss = iteration()
            x.grad.detach().numpy().astype("<f4").tofile(cmd[1])
            answer = {"loss": loss.item(), "shape": list(x.shape)}
        elif cmd[0] == "time":
            t0, c0 = time.perf_counter(), time.process_time()
            iteration()
            answer = {"ms": 1000.0 * (time.perf_counter() - t0), "cpu_ms": 1000.0 * (time.process_time() - c0)}
        elif cmd[0] == "quit":
            break
        else:
            raise SystemExit("bench_cnn_torch: unknown command %r" % line)
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
