"""Parity fixtures for whole networks (tests/test_models.cpp), without the real weights.

For each model (alexnet, caffenet, vgg-m, vgg-vd-16) a PyTorch network with seeded random weights (He-normal, so
filters are not symmetric) and a reduced fully connected head (fc6/fc7 width FC, fc8 CLASSES; the convolutional
part is the published one) is
  1. saved in the source formats users have, laid out as the published files are:
       <golden>/models/<model>.mat          MatConvNet simplenn (layers cell, meta.normalization); caffenet uses
                                            the old layout (filters/biases fields, 'normalize', top-level
                                            normalization); vgg-m also as DagNN (<model>_dagnn.mat)
       <golden>/models/<model>.onnx         torch.onnx.export (alexnet, caffenet: Caffe/BGR, declared input
                                            224x224 like the zoo's files; vgg-vd-16: torchvision)
       <golden>/models/<model>.pth          torchvision vgg16 state_dict (vgg-vd-16 only)
       <golden>/models/torchvision_alexnet.pth   torchvision's AlexNet, which the converter must refuse
  2. run in float64 (the float32-rounded weights promoted) on one input z of the network, recording every layer's
     output, the gradient of sum(c * top) with respect to the input, and how much that gradient moves when the
     near-ties of max-pooling windows and ReLUs fall the other way (TIE_DELTA below).
The test converts each file with tools/convert_weights.py, loads it and compares. All formats of a model share z:
each format's raw image is image.<fmt> = P_fmt^-1(z), P being that source's preprocessing (MatConvNet: minus the
mean image/pixel; Caffe ONNX: RGB->BGR minus the BGR mean; torchvision: (x/255 - mean)/std), and d_image.<fmt> the
gradient pulled back through P. So a loader that skips the BGR swap, the mean or the scale sees another input.
z is a smooth coloured pattern (channels differ, no symmetry), so transposed/flipped filters or swapped channels
change the outputs.
Sizes (float64 PyTorch convolution is slow, ~0.25 GFLOP/s here): alexnet/caffenet at 227 and vgg-m at 224 whole;
vgg-vd-16's convolutional part at 32x32 (pool5 1x1), its head fc6..prob separately on a random [1, 512, 7, 7]
pool5-shaped input (head.* in the golden file).
"""
import argparse
import os
import warnings

import numpy as np
import scipy.io
import torch
import torch.nn as nn
import torch.nn.functional as F

FC = 32
CLASSES = 10
CAFFE_MEAN_BGR = [104.00698793, 116.66876762, 122.67891434]
TV_MEAN = [0.485, 0.456, 0.406]
TV_STD = [0.229, 0.224, 0.225]


def _out_dir():
    # make_golden.py's --out (cases() takes no arguments); the source-format files go beside the golden files.
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--out", default=os.environ.get("PREIMAGE_GOLDEN_DIR", "."))
    return ap.parse_known_args()[0].out


# ------------------------------------------------------------------------------------------------ definitions
# (name, kind, params): conv (out, k, stride, pad, groups); lrn (size, alpha Caffe, beta, k); pool (k, stride);
# fc (out); relu/dropout/softmax ().

def alexnet_layers(pool_before_norm):
    lrn = ("lrn", (5, 1e-4, 0.75, 1.0))
    L = [("conv1", "conv", (96, 11, 4, 0, 1)), ("relu1", "relu", ())]
    L += [("pool1", "pool", (3, 2)), ("norm1",) + lrn] if pool_before_norm else [("norm1",) + lrn, ("pool1", "pool", (3, 2))]
    L += [("conv2", "conv", (256, 5, 1, 2, 2)), ("relu2", "relu", ())]
    L += [("pool2", "pool", (3, 2)), ("norm2",) + lrn] if pool_before_norm else [("norm2",) + lrn, ("pool2", "pool", (3, 2))]
    L += [("conv3", "conv", (384, 3, 1, 1, 1)), ("relu3", "relu", ()), ("conv4", "conv", (384, 3, 1, 1, 2)),
          ("relu4", "relu", ()), ("conv5", "conv", (256, 3, 1, 1, 2)), ("relu5", "relu", ()),
          ("pool5", "pool", (3, 2))]
    return L + head_layers()


def vggm_layers():
    lrn = ("lrn", (5, 5e-4, 0.75, 2.0))
    L = [("conv1", "conv", (96, 7, 2, 0, 1)), ("relu1", "relu", ()), ("norm1",) + lrn, ("pool1", "pool", (3, 2)),
         ("conv2", "conv", (256, 5, 2, 1, 1)), ("relu2", "relu", ()), ("norm2",) + lrn, ("pool2", "pool", (3, 2))]
    for i in (3, 4, 5):
        L += [("conv%d" % i, "conv", (512, 3, 1, 1, 1)), ("relu%d" % i, "relu", ())]
    return L + [("pool5", "pool", (3, 2))] + head_layers()


def vgg16_layers():
    L = []
    for blk, (width, depth) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], start=1):
        for j in range(1, depth + 1):
            L += [("conv%d_%d" % (blk, j), "conv", (width, 3, 1, 1, 1)), ("relu%d_%d" % (blk, j), "relu", ())]
        L.append(("pool%d" % blk, "pool", (2, 2)))
    return L + head_layers()


def head_layers():
    return [("fc6", "fc", (FC,)), ("relu6", "relu", ()), ("drop6", "dropout", ()), ("fc7", "fc", (FC,)),
            ("relu7", "relu", ()), ("drop7", "dropout", ()), ("fc8", "fc", (CLASSES,)), ("prob", "softmax", ())]


MODELS = {
    "alexnet": (alexnet_layers(False), 227),
    "caffenet": (alexnet_layers(True), 227),
    "vgg-m": (vggm_layers(), 224),
    "vgg-vd-16": (vgg16_layers(), 224),
}


def pool_out(h, k, s, ceil_mode=True):
    o = (-(-(h - k) // s) if ceil_mode else (h - k) // s) + 1
    if ceil_mode and (o - 1) * s >= h:
        o -= 1
    return o


def make_weights(layers, size, seed):
    """float32 weights; also returns the map size before each layer at the nominal size."""
    g = torch.Generator().manual_seed(seed)
    c, h = 3, size
    weights, shapes = {}, {}
    for name, kind, p in layers:
        shapes[name] = (c, h)
        if kind == "conv":
            out, k, s, pad, groups = p
            fan_in = c // groups * k * k
            weights[name] = (torch.randn(out, c // groups, k, k, generator=g) * (2.0 / fan_in) ** 0.5,
                             0.1 + 0.01 * torch.randn(out, generator=g))
            c, h = out, (h + 2 * pad - k) // s + 1
        elif kind == "fc":
            (out,) = p
            fan_in = c * h * h
            weights[name] = (torch.randn(out, fan_in, generator=g) * (2.0 / fan_in) ** 0.5,
                             0.1 + 0.01 * torch.randn(out, generator=g))
            c, h = out, 1
        elif kind == "pool":
            h = pool_out(h, p[0], p[1])
    return weights, shapes


# ------------------------------------------------------------------------------------------------ PyTorch runs

class LrnFn(torch.autograd.Function):
    """F.local_response_norm, exported to ONNX as one LRN node (its traced form is avg_pool3d/pow/div)."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        return F.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def symbolic(g, x, size, alpha, beta, k):
        return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)


class Lrn(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        return LrnFn.apply(x, *self.p)


def torch_modules(layers, weights):
    """nn modules in order (a Flatten before fc6) with the given weights, float32."""
    mods = []
    for name, kind, p in layers:
        if kind == "conv":
            out, k, s, pad, groups = p
            w, b = weights[name]
            m = nn.Conv2d(w.shape[1] * groups, out, k, s, pad, groups=groups)
            m.weight.data.copy_(w), m.bias.data.copy_(b)
            mods.append(m)
        elif kind == "fc":
            w, b = weights[name]
            if name == "fc6":
                mods.append(nn.Flatten())
            m = nn.Linear(w.shape[1], w.shape[0])
            m.weight.data.copy_(w), m.bias.data.copy_(b)
            mods.append(m)
        elif kind == "relu":
            mods.append(nn.ReLU())
        elif kind == "lrn":
            mods.append(Lrn(p))
        elif kind == "pool":
            mods.append(nn.MaxPool2d(p[0], p[1], ceil_mode=True))
        elif kind == "dropout":
            mods.append(nn.Dropout(0.5))
        elif kind == "softmax":
            mods.append(nn.Softmax(dim=1))
    return nn.Sequential(*mods).eval()


# Near-ties. The network is piecewise smooth: a max-pooling window whose two largest inputs differ by less than
# the float32 error of the engine under test, or a ReLU input that close to 0, may fall on either side in float32,
# and the input gradient then moves (the receptive field of that unit gets another unit's gradient) although both
# answers are right to rounding. Which side is taken depends on the machine's arithmetic (FMA or not, vector width,
# summation order), so a gradient tolerance over all elements would be machine-dependent. For each delta in
# TIE_DELTAS the golden file marks the input elements whose gradient changes when every tie within delta * max|layer
# input| falls the other way ("tie<k>.*", 1 = depends on a tie); the test measures its own worst forward error e
# (relative to each layer's scale), and since no margin above 2e can flip, compares the gradient where the mask
# of the smallest delta >= 2e is 0 (tests/test_models.cpp). Windows of ReLU zeros are exact ties in float32 as well
# and are not counted.
TIE_DELTAS = [1e-6, 2e-6, 4e-6, 8e-6]


def pool_windows(y, k, s):
    """[N, C, Ho, Wo, k*k]: the windows of max_pool2d(y, k, s, ceil_mode=True), -inf beyond the border."""
    n, c, h, w = y.shape
    ho, wo = pool_out(h, k, s), pool_out(w, k, s)
    y = F.pad(y, (0, (wo - 1) * s + k - w, 0, (ho - 1) * s + k - h), value=float("-inf"))
    return y.unfold(2, k, s).unfold(3, k, s).reshape(n, c, ho, wo, k * k)


def switched(kind, y, p, flip, delta):
    """ReLU or max-pooling with its switches explicit. flip=True routes the gradient through the other side of
    every near-tie; the value is the same either way (straight-through), so the two backward passes differ only
    where a tie matters."""
    tol = delta * y.detach().abs().max()
    if kind == "relu":
        on = y.detach() > 0
        out = y * on
        if flip:
            out = out.detach() + (y * (on ^ (y.detach().abs() < tol)) - (y * on).detach())
        return out
    win = pool_windows(y, *p)
    top = win.detach().topk(2, dim=-1)
    out = win.gather(-1, top.indices[..., :1]).squeeze(-1)
    if flip:
        near = ((top.values[..., 0] - top.values[..., 1]) < tol) & (top.values[..., 0] != 0)
        other = win.gather(-1, torch.where(near[..., None], top.indices[..., 1:2], top.indices[..., :1])).squeeze(-1)
        out = out.detach() + (other - other.detach())
    return out


def run_float64(layers, weights, x, first, last, c_seed, flip=False, delta=0.0):
    """Outputs of layers first..last on input x (float64) and d(sum(c * out_last))/dx; flip: see switched()."""
    names = [l[0] for l in layers]
    a, b = names.index(first), names.index(last)
    x = x.clone().double().requires_grad_()
    outs, y = {}, x
    for name, kind, p in layers[a:b + 1]:
        if kind == "conv":
            _, k, s, pad, groups = p
            w, bias = weights[name]
            y = F.conv2d(y, w.double(), bias.double(), stride=s, padding=pad, groups=groups)
        elif kind == "fc":
            w, bias = weights[name]
            y = F.linear(y.flatten(1), w.double(), bias.double())
        elif kind == "relu":
            y = switched(kind, y, p, flip, delta)
        elif kind == "lrn":
            y = F.local_response_norm(y, *p)
        elif kind == "pool":
            ref = F.max_pool2d(y.detach(), p[0], p[1], ceil_mode=True)
            y = switched(kind, y, p, flip, delta)
            assert torch.equal(y.detach(), ref), name  # the explicit windows are PyTorch's max_pool2d
        elif kind == "softmax":
            y = F.softmax(y, dim=1)
        outs[name] = y
    top = outs[last] if layers[b][1] != "softmax" else outs[names[b - 1]]
    c = torch.randn(top.shape, generator=torch.Generator().manual_seed(c_seed), dtype=torch.float64)
    (d_x,) = torch.autograd.grad((c * top).sum(), x)
    return outs, c, d_x


def pattern(h, w, seed):
    """A smooth, coloured, asymmetric RGB image on the 0-255 scale, [3, h, w]."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h, dtype=torch.float64),
                            torch.linspace(0, 1, w, dtype=torch.float64), indexing="ij")
    r = 200 * xx + 30 * torch.sin(9 * yy)
    gch = 60 + 150 * yy * yy + 25 * torch.cos(7 * xx + 3 * yy)
    b = 128 + 90 * torch.sin(5 * xx * yy + 2 * xx)
    img = torch.stack([r, gch, b]) + 12 * torch.randn(3, h, w, generator=g, dtype=torch.float64)
    return img.clamp(0, 255)


def smooth_mean_image(h, w, seed):
    m = pattern(h, w, seed)
    return (0.5 * m + 0.5 * torch.tensor([122.7, 116.7, 104.0], dtype=torch.float64)[:, None, None])


def centre_crop(img, h, w):
    top, left = (img.shape[1] - h) // 2, (img.shape[2] - w) // 2
    return img[:, top:top + h, left:left + w]


# ------------------------------------------------------------------------------------------------ writers

def cell(items):
    a = np.empty((1, len(items)), dtype=object)
    for i, x in enumerate(items):
        a[0, i] = x
    return a


def mat_pool_pad(h, k, s):
    """MatConvNet files carry Caffe's ceil mode as explicit bottom/right padding."""
    extra = max(0, (pool_out(h, k, s) - 1) * s + k - h)
    return [0, extra, 0, extra]


def matconvnet_layers(layers, weights, shapes, old=False):
    out = []
    for name, kind, p in layers:
        c, h = shapes[name]
        if kind in ("conv", "fc"):
            w, b = weights[name]
            if kind == "fc":
                w = w.reshape(w.shape[0], c, h, h)
            f = w.permute(2, 3, 1, 0).numpy()  # [out, in, kh, kw] -> H x W x Cin x Cout
            stride, pad = (p[2], p[3]) if kind == "conv" else (1, 0)
            d = {"name": name, "type": "conv", "stride": np.array([stride, stride], dtype=float),
                 "pad": np.array([pad] * 4, dtype=float)}
            if old:
                d["filters"], d["biases"] = f, b.numpy()[None, :]
            else:
                d["weights"] = cell([f, b.numpy()[:, None]])
            out.append(d)
        elif kind == "relu":
            out.append({"name": name, "type": "relu"})
        elif kind == "lrn":
            n, alpha, beta, k = p
            out.append({"name": name, "type": "normalize" if old else "lrn",
                        "param": np.array([n, k, alpha / n, beta], dtype=float)})
        elif kind == "pool":
            out.append({"name": name, "type": "pool", "method": "max", "pool": np.array([p[0], p[0]], dtype=float),
                        "stride": np.array([p[1], p[1]], dtype=float),
                        "pad": np.array(mat_pool_pad(h, p[0], p[1]), dtype=float)})
        elif kind == "softmax":
            out.append({"name": name, "type": "softmax"})
        # dropout: MatConvNet's deployed ImageNet models have none
    return out


def save_matconvnet(path, layers, weights, shapes, mean_hwc, size, old=False):
    norm = {"averageImage": mean_hwc, "imageSize": np.array([size, size, 3], dtype=float),
            "interpolation": "bilinear", "keepAspect": 1.0}
    lay = cell(matconvnet_layers(layers, weights, shapes, old))
    if old:
        scipy.io.savemat(path, {"layers": lay, "normalization": norm}, format="5")
    else:
        scipy.io.savemat(path, {"layers": lay, "meta": {"normalization": norm,
                                                         "classes": {"name": cell(["c%d" % i for i in range(CLASSES)]),
                                                                     "description": cell(["fixture class %d" % i for i in range(CLASSES)])}}},
                         format="5")


def save_dagnn(path, layers, weights, shapes, mean_hwc, size):
    simple = matconvnet_layers(layers, weights, shapes)
    dag_type = {"conv": "dagnn.Conv", "relu": "dagnn.ReLU", "lrn": "dagnn.LRN", "pool": "dagnn.Pooling",
                "softmax": "dagnn.SoftMax"}
    L = np.zeros((1, len(simple)), dtype=[("name", object), ("type", object), ("inputs", object),
                                          ("outputs", object), ("params", object), ("block", object)])
    params = []
    prev = "input"
    for i, d in enumerate(simple):
        block, pnames = {}, []
        if d["type"] == "conv":
            f, b = d["weights"][0, 0], d["weights"][0, 1]
            pnames = [d["name"] + "_filter", d["name"] + "_bias"]
            params += [(pnames[0], f), (pnames[1], b)]
            block = {"size": np.array(f.shape, dtype=float), "hasBias": True, "pad": d["pad"], "stride": d["stride"]}
        elif d["type"] == "lrn":
            block = {"param": d["param"]}
        elif d["type"] == "pool":
            block = {"method": "max", "poolSize": d["pool"], "pad": d["pad"], "stride": d["stride"]}
        L[0, i] = (d["name"], dag_type[d["type"]], cell([prev]), cell([d["name"]]), cell(pnames), block)
        prev = d["name"]
    P = np.zeros((1, len(params)), dtype=[("name", object), ("value", object)])
    for i, (n, v) in enumerate(params):
        P[0, i] = (n, v)
    V = np.zeros((1, 1), dtype=[("name", object)])
    V[0, 0] = ("input",)
    norm = {"averageImage": mean_hwc, "imageSize": np.array([size, size, 3], dtype=float)}
    scipy.io.savemat(path, {"vars": V, "params": P, "layers": L, "meta": {"normalization": norm}}, format="5")


def export_onnx(path, layers, weights, size):
    m = torch_modules(layers, weights)
    x = torch.zeros(1, 3, size, size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch 1.13 flags g.op in custom symbolics as deprecated; it works
        torch.onnx.export(m, x, path, opset_version=11, do_constant_folding=True, input_names=["data_0"],
                          output_names=["prob_1"])


def torchvision_vgg16(weights):
    import torchvision
    m = torchvision.models.vgg16(weights=None)
    m.classifier[0] = nn.Linear(512 * 7 * 7, FC)
    m.classifier[3] = nn.Linear(FC, FC)
    m.classifier[6] = nn.Linear(FC, CLASSES)
    convs = [mod for mod in m.features if isinstance(mod, nn.Conv2d)] + \
            [mod for mod in m.classifier if isinstance(mod, nn.Linear)]
    names = [n for n, k, _ in vgg16_layers() if k in ("conv", "fc")]
    for mod, name in zip(convs, names):
        mod.weight.data.copy_(weights[name][0])
        mod.bias.data.copy_(weights[name][1])
    return m.eval()


# ------------------------------------------------------------------------------------------------ preprocessing

def from_network_input(z, fmt, mean):
    """The raw RGB image that source format `fmt` maps to the network input z; and d_image from d_z."""
    if fmt == "mat":
        return z + mean, lambda d: d
    if fmt == "caffe":
        m = torch.tensor(CAFFE_MEAN_BGR, dtype=torch.float64)[:, None, None]
        return (z + m).flip(0), lambda d: d.flip(0)
    if fmt == "torchvision":
        s = torch.tensor([255.0 * v for v in TV_STD], dtype=torch.float64)[:, None, None]
        m = torch.tensor([255.0 * v for v in TV_MEAN], dtype=torch.float64)[:, None, None]
        return z * s + m, lambda d: d / s
    raise ValueError(fmt)


def golden_entries(layers, weights, z, first, last, prefix, c_seed):
    """Outputs, c, d_z and, per TIE_DELTAS, the mask of the elements of d_z that depend on a tie."""
    outs, c, d_z = run_float64(layers, weights, z[None], first, last, c_seed)
    g = {prefix + "out." + n: v.detach() for n, v in outs.items()}
    g[prefix + "c"] = c
    ties = []
    for delta in TIE_DELTAS:
        _, _, d_flip = run_float64(layers, weights, z[None], first, last, c_seed, flip=True, delta=delta)
        ties.append(((d_z - d_flip).abs() > 1e-9 * d_z.abs().max()).double()[0])
        print("  %s%s: %.1f%% of the input gradient depends on ties within %.0e" %
              (prefix, last, 100 * ties[-1].mean().item(), delta))
    return g, d_z[0], ties


def cases():
    out = os.path.join(_out_dir(), "models")
    os.makedirs(out, exist_ok=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))  # restored below for the other generators
    result = []
    for seed, (model, (layers, size)) in enumerate(MODELS.items()):
        weights, shapes = make_weights(layers, size, 100 + seed)
        base = os.path.join(out, model)
        conv_size = 32 if model == "vgg-vd-16" else size
        img = pattern(conv_size, conv_size, 200 + seed)
        # each model's MatConvNet file: its kind of mean (image at the input size, a larger image, or a pixel)
        if model == "vgg-vd-16":
            mean = torch.tensor([123.68, 116.779, 103.939], dtype=torch.float64)[:, None, None]
            mean_mat = mean.reshape(1, 1, 3).numpy().astype(np.float32)
            mean_full = mean
        else:
            msize = 256 if model == "caffenet" else size
            mean_img = smooth_mean_image(msize, msize, 300 + seed)
            mean_mat = mean_img.permute(1, 2, 0).numpy().astype(np.float32)  # H x W x 3
            mean_full = centre_crop(mean_img, conv_size, conv_size)
            # the file stores float32: the test subtracts the float32 mean
            mean_full = mean_full.float().double()
        z = img - mean_full

        save_matconvnet(base + ".mat", layers, weights, shapes, mean_mat, size, old=(model == "caffenet"))
        formats = {"mat": "mat"}
        if model == "vgg-m":
            save_dagnn(base + "_dagnn.mat", layers, weights, shapes, mean_mat, size)
            formats["dagnn"] = "mat"
        if model in ("alexnet", "caffenet"):
            export_onnx(base + ".onnx", layers, weights, 224)  # the ONNX zoo's Caffe models declare 224x224
            formats["onnx"] = "caffe"
        if model == "vgg-vd-16":
            tv = torchvision_vgg16(weights)
            torch.save(tv.state_dict(), base + ".pth")
            torch.onnx.export(tv, torch.zeros(1, 3, size, size), base + ".onnx", opset_version=11,
                              do_constant_folding=True)
            formats["pth"] = "torchvision"
            formats["onnx"] = "torchvision"

        last = "pool5" if model == "vgg-vd-16" else "prob"
        g, d_z, ties = golden_entries(layers, weights, z, layers[0][0], last, "", 400 + seed)
        for fmt, kind in formats.items():
            image, pull = from_network_input(z, kind, mean_full)
            g["image." + fmt] = image[None]
            g["d_image." + fmt] = pull(d_z)[None]
            for k, tie in enumerate(ties):
                g["tie%d.%s" % (k, fmt)] = (pull(tie) != 0).double()[None]
        if model == "vgg-vd-16":
            head_in = torch.relu(torch.randn(1, 512, 7, 7, generator=torch.Generator().manual_seed(7),
                                             dtype=torch.float64) * 50)
            gh, d_head, ties_head = golden_entries(layers, weights, head_in[0], "fc6", "prob", "head.", 500 + seed)
            g.update(gh)
            g["head.in"] = head_in
            g["head.d_in"] = d_head[None]
            for k, tie in enumerate(ties_head):
                g["head.tie%d" % k] = tie[None]
        g["tie_deltas"] = torch.tensor(TIE_DELTAS, dtype=torch.float64)
        result.append(("models_" + model, g))

    import torchvision
    tv_alex = torchvision.models.alexnet(weights=None)
    tv_alex.classifier = nn.Sequential(nn.Linear(256 * 6 * 6, 4))  # only its features matter (and size)
    torch.save(tv_alex.state_dict(), os.path.join(out, "torchvision_alexnet.pth"))
    torch.set_num_threads(threads)
    return result
