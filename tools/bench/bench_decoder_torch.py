"""PyTorch side of tools/bench/bench_decoder.cpp (run with Debian's /usr/bin/python3: torch CPU with oneDNN).

bench_decoder starts this script as a child process and drives it over stdin/stdout, one line per command, so that
the two implementations are timed in turn in the same run:
    setup THREADS    torch.set_num_threads(THREADS); weights back to the ones bench_decoder wrote, a fresh
                     torch.optim.Adam; -> {"ok", "threads"}
    check PATH       one training step; writes the gradients and the updated weights as float32 safetensors
                     ("grad.<name>", "param.<name>") to PATH, and those of the same step computed in float64
                     ("grad64.<name>", "param64.<name>", rounded to float32); -> {"loss", "loss_float64",
                     "leaky_relu_sign_flips_vs_float64": {row: count}}
    decode PATH      one decode of the batch (no gradients); writes the reconstructions to PATH; -> {"shape"}
    step             one timed training step; -> {"ms": wall time, "cpu_ms": process CPU time, "loss"}
    time_decode      one timed decode of the batch; -> {"ms", "cpu_ms"}
    phases           one training step timed by phase; -> {"forward_ms", "backward_ms", "adam_ms"} and *_cpu_ms
    quit
On start it prints {"torch": version, "mkldnn": available, "rows": count}. Each answer is one JSON line.

The network is built from the description bench_decoder sends (--spec: the decoder table's rows with their scaled
channel counts, kernels, strides and paddings) with the weights, features and images it wrote (--tensors), so both
sides run the same layers on the same numbers. One training step is what solvers::train_step does, written as torch
users write it: forward, F.mse_loss (mean of (y - target)^2, target = (image - 128) / 64), backward,
torch.optim.Adam (betas 0.9 / 0.999, eps 1e-8). Decoding is the forward under no_grad and 128 + 64 y clamped to
0..255, as solvers::decode_batch.

Up-convolution rows are conv_transpose2d with the weight layout [in, out, K, K]. Their padding may be asymmetric
(top/left P, bottom/right Q, Q <= P): that is torch's padding=P with output_padding=P-Q (the extra row and column
go to the bottom/right), exact whenever P-Q is smaller than the stride; otherwise the full output is cropped.
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
            raise SystemExit("bench_decoder_torch: %s: tensor %s has dtype %s, expected F32"
                             % (path, name, info["dtype"]))
        begin, end = info["data_offsets"]
        a = np.fromfile(path, dtype="<f4", count=(end - begin) // 4, offset=base + begin)
        tensors[name] = torch.from_numpy(a.reshape(info["shape"]))
    return tensors


def write_safetensors(path, tensors):
    # the same layout, float32 little-endian, tensors in the given order
    header, blobs, offset = {}, [], 0
    for name, t in tensors:
        a = np.ascontiguousarray(t.detach().numpy(), dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)


def upconv(row):
    """x, w, b -> the row's transposed convolution, with its (possibly asymmetric) padding."""
    pt, pb, pl, pr = row["pad"]
    s = row["stride"]
    if pt - pb in range(s) and pl - pr in range(s):
        op = (pt - pb, pl - pr)
        return lambda x, w, b: F.conv_transpose2d(x, w, b, stride=s, padding=(pt, pl), output_padding=op)

    def cropped(x, w, b):
        y = F.conv_transpose2d(x, w, b, stride=s)
        return y[:, :, pt:y.shape[2] - pb, pl:y.shape[3] - pr]
    return cropped


def build(spec, params):
    """features -> image [N, 3, H, W], row by row as the spec lists them."""
    slope = spec["leaky_slope"]
    rows = spec["rows"]
    steps = []
    for row in rows:
        kind = row["kind"]
        if kind == "conv":
            pt, pb, pl, pr = row["pad"]
            if pt != pb or pl != pr:
                raise SystemExit("bench_decoder_torch: %s: asymmetric conv padding is not supported" % row["name"])
            s = row["stride"]
            op = lambda x, w, b, s=s, p=(pt, pl): F.conv2d(x, w, b, stride=s, padding=p)
        elif kind == "upconv":
            op = upconv(row)
        elif kind == "fc":
            op = lambda x, w, b: F.linear(x.flatten(1), w, b)
        elif kind == "reshape":
            op = lambda x, c=row["channels"], side=row["side"]: x.reshape(x.shape[0], c, side, side)
        else:
            raise SystemExit("bench_decoder_torch: unknown row kind %r" % kind)
        w = params[row["weight"]] if "weight" in row else None
        b = params[row["bias"]] if "bias" in row else None
        steps.append((row, op, w, b))

    def forward(features, check_shapes=False, record=None):
        outs = {"input": features}
        y = features
        for row, op, w, b in steps:
            ins = [outs[name] for name in row["inputs"]]
            x = ins[0] if len(ins) == 1 else torch.cat(ins, dim=1)
            y = op(x) if row["kind"] == "reshape" else op(x, w, b)
            if check_shapes and list(y.shape) != row["shape"]:
                raise SystemExit("bench_decoder_torch: row %s gives %s, bench_decoder expects %s"
                                 % (row["name"], list(y.shape), row["shape"]))
            if row["activation"]:
                if record is not None:
                    record[row["name"]] = y.detach()
                y = F.leaky_relu(y, slope)
            outs[row["name"]] = y
        return y
    return forward


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", required=True, help="the decoder's rows as bench_decoder writes them")
    ap.add_argument("--tensors", required=True, help="safetensors: the parameters, 'features', 'images'")
    a = ap.parse_args()
    with open(a.spec) as f:
        spec = json.load(f)
    t = read_safetensors(a.tensors)
    names = spec["parameters"]
    initial = {n: t[n].clone() for n in names}
    params = {n: t[n].clone().requires_grad_(True) for n in names}
    plist = [params[n] for n in names]
    forward = build(spec, params)
    features = t["features"].contiguous()
    target = ((t["images"] - 128.0) / 64.0).contiguous()
    hp = spec["adam"]
    opt = None

    def fresh():
        nonlocal opt
        with torch.no_grad():
            for n in names:
                params[n].copy_(initial[n])
                params[n].grad = None
        opt = torch.optim.Adam(plist, lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"])

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.mse_loss(forward(features), target)
        loss.backward()
        opt.step()
        return loss

    def decode():
        with torch.no_grad():
            return (128.0 + 64.0 * forward(features)).clamp_(0.0, 255.0)

    def timed(f):
        t0, c0 = time.perf_counter(), time.process_time()
        r = f()
        return r, 1000.0 * (time.perf_counter() - t0), 1000.0 * (time.process_time() - c0)

    fresh()
    print(json.dumps({"torch": torch.__version__, "mkldnn": torch.backends.mkldnn.is_available(),
                      "rows": len(spec["rows"])}), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "setup":
            torch.set_num_threads(int(cmd[1]))
            fresh()
            answer = {"ok": True, "threads": torch.get_num_threads()}
        elif cmd[0] == "check":
            opt.zero_grad(set_to_none=True)
            pre32, pre64 = {}, {}
            y = forward(features, check_shapes=True, record=pre32)
            if list(y.shape) != spec["output_shape"]:
                raise SystemExit("bench_decoder_torch: output %s, expected %s" % (list(y.shape), spec["output_shape"]))
            loss = F.mse_loss(y, target)
            loss.backward()
            opt.step()
            out = [("grad." + n, params[n].grad) for n in names] + [("param." + n, params[n]) for n in names]
            # The same step in float64 from the same weights: the reference both float32 results are measured
            # against (how far each side's rounding takes it), not timed.
            p64 = {n: initial[n].double().requires_grad_(True) for n in names}
            f64 = build(spec, p64)
            opt64 = torch.optim.Adam([p64[n] for n in names], lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]),
                                     eps=hp["eps"])
            loss64 = F.mse_loss(f64(features.double(), record=pre64), target.double())
            loss64.backward()
            opt64.step()
            out += [("grad64." + n, p64[n].grad.float()) for n in names]
            out += [("param64." + n, p64[n].float()) for n in names]
            write_safetensors(cmd[1], out)
            # Pre-activations whose sign float32 and float64 decide differently: each takes leaky ReLU's other
            # slope, and the gradient behind it changes by a step, not by rounding.
            flips = {n: int(((pre32[n] > 0) != (pre64[n] > 0)).sum()) for n in pre32}
            answer = {"loss": loss.item(), "loss_float64": loss64.item(),
                      "leaky_relu_sign_flips_vs_float64": {n: c for n, c in flips.items() if c}}
        elif cmd[0] == "decode":
            y = decode()
            write_safetensors(cmd[1], [("decoded", y)])
            answer = {"shape": list(y.shape)}
        elif cmd[0] == "step":
            loss, ms, cpu = timed(step)
            answer = {"ms": ms, "cpu_ms": cpu, "loss": loss.item()}
        elif cmd[0] == "time_decode":
            _, ms, cpu = timed(decode)
            answer = {"ms": ms, "cpu_ms": cpu}
        elif cmd[0] == "phases":
            opt.zero_grad(set_to_none=True)
            loss, f_ms, f_cpu = timed(lambda: F.mse_loss(forward(features), target))
            _, b_ms, b_cpu = timed(loss.backward)
            _, a_ms, a_cpu = timed(opt.step)
            answer = {"forward_ms": f_ms, "backward_ms": b_ms, "adam_ms": a_ms,
                      "forward_cpu_ms": f_cpu, "backward_cpu_ms": b_cpu, "adam_cpu_ms": a_cpu}
        elif cmd[0] == "quit":
            break
        else:
            raise SystemExit("bench_decoder_torch: unknown command %r" % line)
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
