#!/usr/bin/python3
"""Converts published CNN weights to preimage's safetensors format (docs/weights.md).

Run by `preimage convert-weights` with Debian's Python (/usr/bin/python3: python3-numpy, python3-scipy,
python3-torch, python3-onnx), which first writes the model definition (layers/models.cpp, Network::spec_json) to
--spec and afterwards loads the written file with the C++ reader to validate it. Sources:

  matconvnet   MatConvNet simplenn .mat (imagenet-caffe-alex, imagenet-caffe-ref, imagenet-vgg-m,
               imagenet-vgg-verydeep-16): `layers` cell (new `weights` or old `filters`/`biases` fields),
               `meta.normalization` (or the old top-level `normalization`); DagNN .mat files (`vars`, `params`,
               `layers` struct array) are read too, layers taken in array order.
               Filters H x W x Cin x Cout -> [Cout, Cin, H, W]; fc layers are convolutions; LRN `param` is
               [N kappa alpha/N beta]; images are RGB 0-255 minus meta.normalization.averageImage.
  torchvision  a vgg16 state_dict (.pth): features.N / classifier.N; RGB, x/255 normalised by mean/std.
               torchvision's AlexNet is a different network (64-192-384-256-256 filters, no LRN, no groups) and is
               refused.
  onnx         ONNX model zoo (bvlcalexnet, caffenet: Caffe, BGR 0-255 minus the ILSVRC mean; vgg16:
               torchvision preprocessing). Weights are taken from the initializers in the order the graph's nodes
               use them (Conv, Gemm, MatMul + Add).

The structure found in the source (layer kinds and order, strides, paddings, groups, pooling windows, LRN
parameters) is checked against the definition wherever the source records it; a mismatch is an error naming the
layer, never a silently different network. Output: tensors "<layer>.weight" (conv [out, in/groups, kh, kw], fc
[out, in*kh*kw] with the input flattened C, H, W) and "<layer>.bias" [out], float32; metadata (all strings):
  preimage.model, preimage.fc_width, preimage.num_classes, preimage.input_size "[h, w]",
  preimage.input_order "RGB" | "BGR" (the channel order conv1 expects), preimage.mean "[m0, m1, m2]" (0-255 scale,
  in input_order) or the tensor "preimage.mean_image" [3, H, W] (in input_order), preimage.input_scale "[s0, s1, s2]"
  (network input = (pixel - mean) * scale, in input_order), preimage.source, and preimage.class_names (a JSON
  array of strings) when the source names its classes (MatConvNet meta.classes.description).
Exit status: 0 on success, 2 with the reason on stderr (3 for an unexpected layout); the output is written to a temporary
name and renamed, so a failed conversion leaves no file.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

CONVERTER_VERSION = "1"
# Caffe's ILSVRC 2012 mean image (ilsvrc_2012_mean.binaryproto) averaged over its pixels, BGR.
CAFFE_MEAN_BGR = [104.00698793, 116.66876762, 122.67891434]
TORCHVISION_MEAN = [0.485, 0.456, 0.406]
TORCHVISION_STD = [0.229, 0.224, 0.225]


class ConvertError(Exception):
    pass


class SrcLayer:
    """One layer of a source network. kind: conv, fc, relu, lrn, pool, softmax, dropout. Attributes that the source
    does not record are None (then they are not checked)."""

    def __init__(self, kind, name, weight=None, bias=None, **attrs):
        self.kind, self.name, self.weight, self.bias = kind, name, weight, bias
        self.stride = attrs.get("stride")      # (sh, sw)
        self.pad = attrs.get("pad")            # (top, bottom, left, right)
        self.groups = attrs.get("groups")
        self.kernel = attrs.get("kernel")      # pooling window (kh, kw)
        self.ceil_mode = attrs.get("ceil_mode")
        self.lrn = attrs.get("lrn")            # (size, alpha in Caffe's convention, beta, k)


class Source:
    def __init__(self, layers, order, mean, scale, input_size, description, structure_known):
        self.layers = layers
        self.order = order                  # "RGB" or "BGR"
        self.mean = mean                    # np array (3,) or (3, H, W), in `order`, 0-255 scale
        self.scale = scale                  # list of 3, in `order`
        self.input_size = input_size        # (h, w) or None
        self.description = description
        self.structure_known = structure_known  # False when only the parametric layers are known (state_dict)
        self.class_names = None             # list of str when the file names its classes (MatConvNet meta.classes)


# ---------------------------------------------------------------------------------------------------- helpers

def pair(v, what):
    v = np.asarray(v, dtype=np.float64).ravel()
    if v.size == 1:
        return (int(v[0]), int(v[0]))
    if v.size == 2:
        return (int(v[0]), int(v[1]))
    raise ConvertError("%s: expected 1 or 2 values, got %s" % (what, v.tolist()))


def quad(v, what):
    v = np.asarray(v, dtype=np.float64).ravel()
    if v.size == 1:
        return (int(v[0]),) * 4
    if v.size == 4:
        return tuple(int(x) for x in v)
    raise ConvertError("%s: expected 1 or 4 padding values, got %s" % (what, v.tolist()))


def as_float32(a, what):
    a = np.asarray(a)
    if a.dtype.kind not in "fiu":
        raise ConvertError("%s: not a numeric array (dtype %s)" % (what, a.dtype))
    a = a.astype(np.float32)
    if not np.all(np.isfinite(a)):
        raise ConvertError("%s: contains NaN or infinite values" % what)
    return a


# ---------------------------------------------------------------------------------------------------- MatConvNet

def _mat_field(s, name, default=None):
    return getattr(s, name, default) if name in getattr(s, "_fieldnames", []) else default


def _mat_str(v):
    v = np.asarray(v)
    if v.size == 0:
        return ""
    if v.dtype.kind == "U":
        return str(v.ravel()[0])
    if v.dtype == object:
        return _mat_str(v.ravel()[0])
    return str(v)


def _mat_struct(v):
    """A MATLAB struct loaded with struct_as_record=False, squeeze_me=False: a (1, 1) object array."""
    v = np.asarray(v) if not hasattr(v, "_fieldnames") else v
    while not hasattr(v, "_fieldnames"):
        if not isinstance(v, np.ndarray) or v.size != 1:
            raise ConvertError("expected a MATLAB struct, found %r" % (type(v),))
        v = v.ravel()[0]
    return v


def _mat_list(v):
    """Elements of a cell array or struct array, in MATLAB's linear order."""
    v = np.asarray(v)
    return [x for x in v.ravel(order="F")]


def _object_array(items):
    a = np.empty(len(items), dtype=object)  # np.array() would stack equal-shaped arrays into one
    for i, x in enumerate(items):
        a[i] = x
    return a


def _mat_filters(f, name):
    f = np.asarray(f)
    if f.ndim == 2:  # MATLAB drops trailing singleton dims: H x W x 1 x 1
        f = f[:, :, None, None]
    elif f.ndim == 3:
        f = f[:, :, :, None]
    if f.ndim != 4:
        raise ConvertError("layer %s: filters must be H x W x Cin x Cout, got shape %s" % (name, f.shape))
    return as_float32(f.transpose(3, 2, 0, 1), "layer %s filters" % name)  # -> [Cout, Cin, H, W]


def _mat_layer(kind_raw, name, get):
    """get(field) returns the raw field value or None."""
    kind_raw = kind_raw.lower()
    if kind_raw in ("conv", "dagnn.conv"):
        w, b = get("filters"), get("biases")
        if w is None:
            ws = _mat_list(get("weights")) if get("weights") is not None else []
            if len(ws) != 2:
                raise ConvertError("layer %s: a conv layer needs weights {filters, biases}" % name)
            w, b = ws
        filters = _mat_filters(w, name)
        bias = as_float32(np.asarray(b).ravel(), "layer %s biases" % name)
        stride = pair(get("stride") if get("stride") is not None else 1, "layer %s stride" % name)
        pad = quad(get("pad") if get("pad") is not None else 0, "layer %s pad" % name)
        return SrcLayer("conv", name, filters, bias, stride=stride, pad=pad)
    if kind_raw in ("relu", "dagnn.relu"):
        return SrcLayer("relu", name)
    if kind_raw in ("lrn", "normalize", "dagnn.lrn"):
        p = np.asarray(get("param"), dtype=np.float64).ravel()
        if p.size != 4:
            raise ConvertError("layer %s: LRN param must be [N kappa alpha beta], got %s" % (name, p.tolist()))
        n = int(p[0])
        return SrcLayer("lrn", name, lrn=(n, float(p[2]) * n, float(p[3]), float(p[1])))  # alpha stored / N
    if kind_raw in ("pool", "dagnn.pooling"):
        method = _mat_str(get("method")) if get("method") is not None else "max"
        if method != "max":
            raise ConvertError("layer %s: pooling method '%s' (only max pooling occurs in these networks)"
                               % (name, method))
        size = get("pool") if get("pool") is not None else get("poolSize")
        return SrcLayer("pool", name, kernel=pair(size, "layer %s pool" % name),
                        stride=pair(get("stride") if get("stride") is not None else 1, "layer %s stride" % name),
                        pad=quad(get("pad") if get("pad") is not None else 0, "layer %s pad" % name),
                        ceil_mode=False)
    if kind_raw in ("softmax", "dagnn.softmax"):
        return SrcLayer("softmax", name)
    if kind_raw in ("dropout", "dagnn.dropout"):
        return SrcLayer("dropout", name)
    raise ConvertError("layer %s: unsupported MatConvNet layer type '%s'" % (name, kind_raw))


def read_matconvnet(path):
    try:
        import scipy.io
    except ImportError as e:
        raise ConvertError("scipy is needed for .mat files (Debian: apt install python3-scipy): %s" % e)
    try:
        with open(path, "rb") as f:
            head = f.read(128)
    except OSError as e:
        raise ConvertError("cannot read %s: %s" % (path, e))
    if b"MATLAB 7.3" in head:
        raise ConvertError("%s is a MATLAB v7.3 (HDF5) file; re-save it in MATLAB with save(file, '-struct', "
                           "'net', '-v7') and convert that" % path)
    try:
        d = scipy.io.loadmat(path, squeeze_me=False, struct_as_record=False)
    except Exception as e:  # scipy raises ValueError, TypeError, OSError ... on corrupt files
        raise ConvertError("%s is not a readable MATLAB .mat file (%s: %s)" % (path, type(e).__name__, e))
    if "layers" not in d and "net" in d:
        net = _mat_struct(d["net"])
        d = {k: getattr(net, k) for k in net._fieldnames}
    if "layers" not in d:
        raise ConvertError("%s has no 'layers' variable: not a MatConvNet network" % path)

    layers = []
    if "params" in d and "vars" in d:  # DagNN: layers struct array with blocks; params by name
        params = {}
        for p in _mat_list(d["params"]):
            p = _mat_struct(p)
            params[_mat_str(p.name)] = p.value
        for l in _mat_list(d["layers"]):
            l = _mat_struct(l)
            name, block = _mat_str(l.name), _mat_struct(l.block)
            pnames = [_mat_str(x) for x in _mat_list(l.params)] if _mat_field(l, "params") is not None else []

            def get(field, block=block, pnames=pnames):
                if field == "weights":
                    return _object_array([params[p] for p in pnames]) if pnames else None
                if field == "pool":
                    return _mat_field(block, "poolSize")
                return _mat_field(block, field)
            layers.append(_mat_layer(_mat_str(l.type), name, get))
        meta = _mat_struct(d["meta"]) if "meta" in d else None
    else:
        for i, l in enumerate(_mat_list(d["layers"])):
            l = _mat_struct(l)
            name = _mat_str(_mat_field(l, "name", "layer%d" % (i + 1))) or "layer%d" % (i + 1)
            layers.append(_mat_layer(_mat_str(l.type), name, lambda field, l=l: _mat_field(l, field)))
        meta = _mat_struct(d["meta"]) if "meta" in d else None

    norm = None
    if meta is not None and _mat_field(meta, "normalization") is not None:
        norm = _mat_struct(meta.normalization)
    elif "normalization" in d:
        norm = _mat_struct(d["normalization"])
    if norm is None or _mat_field(norm, "averageImage") is None:
        raise ConvertError("%s has no meta.normalization.averageImage: cannot know the input mean" % path)
    avg = as_float32(norm.averageImage, "averageImage")
    if avg.size == 3:
        mean = avg.ravel()
    elif avg.ndim == 3 and avg.shape[2] == 3:
        mean = avg.transpose(2, 0, 1).copy()  # H x W x 3 -> [3, H, W]
    else:
        raise ConvertError("averageImage has shape %s; expected 3 values or H x W x 3" % (avg.shape,))
    size = None
    if _mat_field(norm, "imageSize") is not None:
        s = np.asarray(norm.imageSize, dtype=np.float64).ravel()
        if s.size >= 2:
            size = (int(s[0]), int(s[1]))
    src = Source(layers, "RGB", mean, [1.0, 1.0, 1.0], size, "matconvnet:" + os.path.basename(path), True)
    # MatConvNet's ImageNet models name their classes in meta.classes.description (a cell array of strings).
    classes = _mat_field(meta, "classes") if meta is not None else None
    if classes is not None and _mat_field(_mat_struct(classes), "description") is not None:
        src.class_names = [_mat_str(x) for x in _mat_list(_mat_struct(classes).description)]
    return src


# ---------------------------------------------------------------------------------------------------- torchvision

def read_torchvision(path, model):
    try:
        import torch
    except ImportError as e:
        raise ConvertError("torch is needed for .pth files (Debian: apt install python3-torch): %s" % e)
    try:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except TypeError:  # a torch without weights_only
            obj = torch.load(path, map_location="cpu")
    except Exception as e:
        raise ConvertError("%s is not a readable PyTorch state_dict (%s: %s); if it is a pickled model, save "
                           "model.state_dict() instead" % (path, type(e).__name__, str(e).splitlines()[0] if str(e) else ""))
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(hasattr(v, "shape") for v in obj.values()):
        raise ConvertError("%s does not hold a state_dict (a mapping of names to tensors)" % path)
    sd = {(k[7:] if k.startswith("module.") else k): v for k, v in obj.items()}
    first = sd.get("features.0.weight")
    if first is not None and tuple(first.shape) == (64, 3, 11, 11):
        raise ConvertError("this is torchvision's AlexNet, a different network from Caffe's (64-192-384-256-256 "
                           "filters, no LRN, no groups, adaptive pooling): it is not one of the networks of the "
                           "papers. Use Caffe's AlexNet (MatConvNet imagenet-caffe-alex.mat or the ONNX zoo's "
                           "bvlcalexnet)")
    if any(k.endswith("running_mean") for k in sd):
        raise ConvertError("the state_dict has batch-norm layers (vgg16_bn?): only the plain vgg16 is supported")
    if model != "vgg-vd-16":
        raise ConvertError("torchvision state_dicts are supported for vgg-vd-16 (vgg16) only, not %s" % model)
    layers = []
    keys = list(sd.keys())
    i = 0
    while i < len(keys):
        k = keys[i]
        if not k.endswith(".weight"):
            raise ConvertError("unexpected entry '%s' in the state_dict (expected <module>.weight then "
                               "<module>.bias)" % k)
        base = k[: -len(".weight")]
        if i + 1 >= len(keys) or keys[i + 1] != base + ".bias":
            raise ConvertError("state_dict entry %s.weight is not followed by %s.bias" % (base, base))
        w = as_float32(sd[k].detach().cpu().numpy(), k)
        b = as_float32(sd[base + ".bias"].detach().cpu().numpy(), base + ".bias")
        layers.append(SrcLayer("conv" if w.ndim == 4 else "fc", base, w, b))
        i += 2
    mean = np.array([255.0 * m for m in TORCHVISION_MEAN], dtype=np.float32)
    scale = [1.0 / (255.0 * s) for s in TORCHVISION_STD]
    return Source(layers, "RGB", mean, scale, None, "torchvision:" + os.path.basename(path), False)


# ---------------------------------------------------------------------------------------------------- ONNX

def read_onnx(path):
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError as e:
        raise ConvertError("the onnx package is needed for .onnx files (Debian: apt install python3-onnx): %s" % e)
    try:
        model = onnx.load(path)
    except Exception as e:
        raise ConvertError("%s is not a readable ONNX model (%s: %s)" % (path, type(e).__name__, e))
    g = model.graph
    if len(g.node) == 0:
        raise ConvertError("%s: the ONNX graph has no nodes (not an ONNX model?)" % path)
    consts = {}
    for t in g.initializer:
        consts[t.name] = numpy_helper.to_array(t)
    for n in g.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    consts[n.output[0]] = numpy_helper.to_array(a.t)

    def attrs(n):
        return {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}

    def const(n, i, what):
        if i >= len(n.input) or n.input[i] not in consts:
            raise ConvertError("node %s (%s): %s is not a constant initializer" % (n.name, n.op_type, what))
        return consts[n.input[i]]

    layers = []
    pending_matmul = None
    skip = {"Flatten", "Reshape", "Identity", "Squeeze", "Unsqueeze", "Constant", "Shape", "Gather", "Concat",
            "Cast"}
    for n in g.node:
        op, a, label = n.op_type, attrs(n), n.name or n.output[0]
        if pending_matmul is not None and op != "Add":
            raise ConvertError("node %s: a MatMul weight without a following bias Add" % pending_matmul.name)
        if op == "Conv":
            if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
                raise ConvertError("node %s: Conv auto_pad=%s is not supported" % (label, a["auto_pad"]))
            if any(d != 1 for d in a.get("dilations", [1, 1])):
                raise ConvertError("node %s: dilated convolution" % label)
            w = as_float32(const(n, 1, "the weight"), label + " weight")
            b = as_float32(const(n, 2, "the bias"), label + " bias") if len(n.input) > 2 else None
            if b is None:
                raise ConvertError("node %s: Conv without a bias" % label)
            p = a.get("pads", [0, 0, 0, 0])  # ONNX: [top, left, bottom, right]
            layers.append(SrcLayer("conv", label, w, b, stride=tuple(a.get("strides", [1, 1])),
                                   pad=(p[0], p[2], p[1], p[3]), groups=a.get("group", 1)))
        elif op == "Gemm":
            if a.get("transA", 0) != 0 or abs(a.get("alpha", 1.0) - 1) > 0 or abs(a.get("beta", 1.0) - 1) > 0:
                raise ConvertError("node %s: Gemm with transA/alpha/beta other than 0/1/1" % label)
            w = as_float32(const(n, 1, "the weight"), label + " weight")
            if a.get("transB", 0) == 0:
                w = w.T.copy()  # stored [in, out]
            b = as_float32(const(n, 2, "the bias"), label + " bias").ravel()
            layers.append(SrcLayer("fc", label, w, b))
        elif op == "MatMul":
            pending_matmul = n
        elif op == "Add" and pending_matmul is not None:
            w = as_float32(const(pending_matmul, 1, "the weight"), label + " weight").T.copy()
            bias_input = 1 if n.input[1] in consts else 0
            b = as_float32(const(n, bias_input, "the bias"), label + " bias").ravel()
            layers.append(SrcLayer("fc", pending_matmul.name or label, w, b))
            pending_matmul = None
        elif op == "Relu":
            layers.append(SrcLayer("relu", label))
        elif op == "LRN":
            layers.append(SrcLayer("lrn", label, lrn=(int(a["size"]), float(a.get("alpha", 1e-4)),
                                                      float(a.get("beta", 0.75)), float(a.get("bias", 1.0)))))
        elif op == "MaxPool":
            if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
                raise ConvertError("node %s: MaxPool auto_pad=%s is not supported" % (label, a["auto_pad"]))
            p = a.get("pads", [0, 0, 0, 0])
            layers.append(SrcLayer("pool", label, kernel=tuple(a["kernel_shape"]),
                                   stride=tuple(a.get("strides", [1, 1])), pad=(p[0], p[2], p[1], p[3]),
                                   ceil_mode=bool(a.get("ceil_mode", 0))))
        elif op == "AveragePool" and all(k == 1 for k in a.get("kernel_shape", [])):
            continue  # torchvision's adaptive pooling at the nominal size exports as a 1x1 average: identity
        elif op == "Dropout":
            layers.append(SrcLayer("dropout", label))
        elif op == "Softmax":
            layers.append(SrcLayer("softmax", label))
        elif op in skip:
            continue
        else:
            raise ConvertError("node %s: unsupported ONNX operator %s in a network of this kind" % (label, op))
    size = None
    init_names = set(consts)
    for i in g.input:
        if i.name in init_names:
            continue
        dims = [d.dim_value for d in i.type.tensor_type.shape.dim]
        if len(dims) == 4 and dims[2] > 0 and dims[3] > 0:
            size = (dims[2], dims[3])
        break
    return Source(layers, None, None, None, size, "onnx:" + os.path.basename(path), True)


# ---------------------------------------------------------------------------------------------------- matching

def pool_out(h, k, s, pt, pb, ceil_mode):
    span = h + pt + pb - k
    if span < 0:
        return 0
    o = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (o - 1) * s >= h + pt:
        o -= 1
    return o


def nominal_sizes(spec, size):
    """Map height/width before each layer for an input of `size` (h, w)."""
    h, w = size
    sizes = []
    for l in spec["layers"]:
        sizes.append((h, w))
        if l["kind"] in ("conv", "fc"):
            kh, kw = l["kernel"]
            (sh, sw), (pt, pb, pl, pr) = l["stride"], l["pad"]
            h, w = (h + pt + pb - kh) // sh + 1, (w + pl + pr - kw) // sw + 1
        elif l["kind"] == "pool":
            (kh, kw), (sh, sw), (pt, pb, pl, pr) = l["kernel"], l["stride"], l["pad"]
            h, w = pool_out(h, kh, sh, pt, pb, l["ceil_mode"]), pool_out(w, kw, sw, pl, pr, l["ceil_mode"])
    return sizes


def check_input_size(spec, size):
    """The source may declare another input size than the definition's (the ONNX zoo's AlexNet takes 224x224,
    Caffe's 227x227): fine as long as fc6's kernel covers the pool5 map at that size, as it does for both."""
    sizes = nominal_sizes(spec, size)
    for l, (h, w) in zip(spec["layers"], sizes):
        if l["kind"] == "fc":
            if (h, w) != tuple(l["kernel"]):
                raise ConvertError("the source network's input is %dx%d, which gives a %dx%d map before %s; %s's "
                                   "%s needs %dx%d (definition input %dx%d)"
                                   % (size[0], size[1], h, w, l["name"], spec["model"], l["name"], l["kernel"][0],
                                      l["kernel"][1], spec["input_size"][0], spec["input_size"][1]))
            return


def check_structure(spec, src, size):
    model = spec["model"]

    def seq(kinds):
        return ["linear" if k in ("conv", "fc") else k for k in kinds if k not in ("dropout", "softmax")]

    spec_layers = [l for l in spec["layers"] if l["kind"] not in ("dropout", "softmax")]
    src_layers = [l for l in src.layers if l.kind not in ("dropout", "softmax")]
    a, b = seq(l["kind"] for l in spec_layers), seq(l.kind for l in src_layers)
    if a != b:
        raise ConvertError("the source's layers do not follow %s's structure (a different network, e.g. AlexNet "
                           "vs CaffeNet's pool/norm order?):\n  %s expects: %s\n  source has:   %s"
                           % (model, model, " ".join(a), " ".join(b)))
    sizes = dict(zip((l["name"] for l in spec["layers"]), nominal_sizes(spec, size)))
    for sl, l in zip(spec_layers, src_layers):
        where = "layer %s (source '%s')" % (sl["name"], l.name)
        if sl["kind"] == "conv" or (sl["kind"] == "fc" and l.kind == "conv"):
            if l.stride is not None and tuple(l.stride) != tuple(sl["stride"]):
                raise ConvertError("%s: stride %s, %s expects %s" % (where, tuple(l.stride), model,
                                                                     tuple(sl["stride"])))
            if l.pad is not None and tuple(l.pad) != tuple(sl["pad"]):
                raise ConvertError("%s: padding (top, bottom, left, right) %s, %s expects %s"
                                   % (where, tuple(l.pad), model, tuple(sl["pad"])))
            if l.groups is not None and l.groups != sl["groups"]:
                raise ConvertError("%s: %d groups, %s expects %d" % (where, l.groups, model, sl["groups"]))
        elif sl["kind"] == "pool":
            if tuple(l.kernel) != tuple(sl["kernel"]) or tuple(l.stride) != tuple(sl["stride"]):
                raise ConvertError("%s: pooling %s stride %s, %s expects %s stride %s"
                                   % (where, tuple(l.kernel), tuple(l.stride), model, tuple(sl["kernel"]),
                                      tuple(sl["stride"])))
            # Explicit bottom/right padding (MatConvNet) or floor mode (torchvision) are the same windows as
            # Caffe's ceil mode when they give the same output at the nominal input size.
            h, w = sizes[sl["name"]]
            (kh, kw), (sh, sw) = sl["kernel"], sl["stride"]
            pt, pb, pl, pr = l.pad
            spt, spb, spl, spr = sl["pad"]
            same = (pt == spt and pl == spl and
                    pool_out(h, kh, sh, pt, pb, bool(l.ceil_mode)) == pool_out(h, kh, sh, spt, spb, sl["ceil_mode"])
                    and pool_out(w, kw, sw, pl, pr, bool(l.ceil_mode)) == pool_out(w, kw, sw, spl, spr,
                                                                                   sl["ceil_mode"]))
            if not same:
                raise ConvertError("%s: padding %s (ceil mode %s) gives other windows than %s's %s (ceil mode %s) "
                                   "at the %dx%d input" % (where, tuple(l.pad), bool(l.ceil_mode), model,
                                                          tuple(sl["pad"]), sl["ceil_mode"], size[0], size[1]))
        elif sl["kind"] == "lrn":
            n, alpha, beta, k = l.lrn
            if (n != sl["size"] or abs(alpha - sl["alpha"]) > 1e-4 * sl["alpha"] or abs(beta - sl["beta"]) > 1e-6
                    or abs(k - sl["k"]) > 1e-6):
                raise ConvertError("%s: LRN size %d alpha %g (Caffe convention) beta %g k %g, %s expects %d %g %g %g"
                                   % (where, n, alpha, beta, k, model, sl["size"], sl["alpha"], sl["beta"], sl["k"]))


def match_weights(spec, src):
    model = spec["model"]
    want = [l for l in spec["layers"] if l["kind"] in ("conv", "fc")]
    have = [l for l in src.layers if l.kind in ("conv", "fc")]
    if len(want) != len(have):
        raise ConvertError("the source has %d weighted layers (%s), %s has %d (%s)"
                           % (len(have), ", ".join(l.name for l in have), model, len(want),
                              ", ".join(l["name"] for l in want)))
    out = []
    for sl, l in zip(want, have):
        w = l.weight
        if sl["kind"] == "fc" and w.ndim == 4:
            w = w.reshape(w.shape[0], -1)  # [out, C, kh, kw] -> [out, C*kh*kw]: C, H, W flattening order
        if sl["kind"] == "conv" and w.ndim != 4:
            raise ConvertError("layer %s (source '%s'): a convolution needs a 4-d weight, got shape %s"
                               % (sl["name"], l.name, tuple(w.shape)))
        if tuple(w.shape) != tuple(sl["weight_shape"]):
            raise ConvertError("layer %s (source '%s'): weight has shape %s, %s expects %s"
                               % (sl["name"], l.name, tuple(l.weight.shape), model, tuple(sl["weight_shape"])))
        b = l.bias.ravel()
        if tuple(b.shape) != tuple(sl["bias_shape"]):
            raise ConvertError("layer %s (source '%s'): bias has shape %s, %s expects %s"
                               % (sl["name"], l.name, tuple(b.shape), model, tuple(sl["bias_shape"])))
        out.append((sl["weight"], np.ascontiguousarray(w, dtype=np.float32)))
        out.append((sl["bias"], np.ascontiguousarray(b, dtype=np.float32)))
    return out


# ---------------------------------------------------------------------------------------------------- output

def write_safetensors(path, tensors, metadata):
    header, offset = {}, 0
    for name, a in tensors:
        nbytes = a.size * 4
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp-%d" % os.getpid()
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(h)))
            f.write(h)
            for _, a in tensors:
                f.write(np.ascontiguousarray(a, dtype="<f4").tobytes())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def detect_format(path):
    with open(path, "rb") as f:
        head = f.read(128)
    if head.startswith(b"MATLAB"):
        return "matconvnet"
    if head.startswith(b"PK") or head[:2] == b"\x80\x02":
        return "torchvision"
    ext = os.path.splitext(path)[1].lower()
    if ext == ".onnx":
        return "onnx"
    if ext == ".mat":
        return "matconvnet"
    if ext in (".pth", ".pt"):
        return "torchvision"
    raise ConvertError("cannot tell the format of %s (expected a MatConvNet .mat, a torchvision .pth or an "
                       ".onnx file); pass --format" % path)


def convert(args):
    with open(args.spec) as f:
        spec = json.load(f)
    model = spec["model"]
    if not os.path.isfile(args.input):
        raise ConvertError("no such file: %s" % args.input)
    fmt = args.format if args.format != "auto" else detect_format(args.input)
    if fmt == "matconvnet":
        src = read_matconvnet(args.input)
    elif fmt == "torchvision":
        src = read_torchvision(args.input, model)
    elif fmt == "onnx":
        src = read_onnx(args.input)
    else:
        raise ConvertError("unknown format %s" % fmt)

    preset = args.preset
    if preset == "auto" and src.order is None:  # ONNX files carry no preprocessing
        preset = "torchvision" if model == "vgg-vd-16" else "caffe"
    if preset == "caffe":
        src.order, src.mean, src.scale = "BGR", np.array(CAFFE_MEAN_BGR, dtype=np.float32), [1.0, 1.0, 1.0]
    elif preset == "torchvision":
        src.order = "RGB"
        src.mean = np.array([255.0 * m for m in TORCHVISION_MEAN], dtype=np.float32)
        src.scale = [1.0 / (255.0 * s) for s in TORCHVISION_STD]
    elif preset != "auto":
        raise ConvertError("unknown preset %s (auto, caffe, torchvision)" % preset)
    if args.mean:
        rgb = [float(v) for v in args.mean.split(",")]
        if len(rgb) != 3:
            raise ConvertError("--mean takes three comma-separated values (R,G,B), got %r" % args.mean)
        src.mean = np.array(rgb[::-1] if src.order == "BGR" else rgb, dtype=np.float32)

    size = tuple(src.input_size or spec["input_size"])
    check_input_size(spec, size)
    if src.structure_known:
        check_structure(spec, src, size)
    tensors = match_weights(spec, src)
    fc = [l for l in spec["layers"] if l["kind"] == "fc"]
    meta = {
        "preimage.model": model,
        "preimage.fc_width": str(fc[0]["out_channels"]),
        "preimage.num_classes": str(fc[-1]["out_channels"]),
        "preimage.input_size": json.dumps([int(size[0]), int(size[1])]),
        "preimage.input_order": src.order,
        "preimage.input_scale": json.dumps([float(s) for s in src.scale]),
        "preimage.source": src.description,
        "preimage.converter": CONVERTER_VERSION,
    }
    if src.class_names is not None:
        if len(src.class_names) != fc[-1]["out_channels"]:
            raise ConvertError("the file names %d classes but its last layer has %d outputs"
                               % (len(src.class_names), fc[-1]["out_channels"]))
        meta["preimage.class_names"] = json.dumps(src.class_names)
    if src.mean.ndim == 1:
        meta["preimage.mean"] = json.dumps([float(m) for m in src.mean])
    else:
        tensors.append(("preimage.mean_image", np.ascontiguousarray(src.mean, dtype=np.float32)))
    write_safetensors(args.output, tensors, meta)
    return len(tensors)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", required=True, help="model definition JSON written by preimage")
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--format", default="auto", choices=["auto", "matconvnet", "torchvision", "onnx"])
    ap.add_argument("--preset", default="auto", choices=["auto", "caffe", "torchvision"],
                    help="input preprocessing for sources that do not record it (ONNX): caffe = BGR 0-255 minus "
                         "the ILSVRC mean pixel; torchvision = RGB x/255 normalised by ImageNet mean/std")
    ap.add_argument("--mean", default="", help="override the mean pixel: R,G,B on the 0-255 scale")
    args = ap.parse_args(argv)
    try:
        n = convert(args)
    except ConvertError as e:
        print(str(e), file=sys.stderr)
        return 2
    except Exception as e:  # a layout the readers do not expect: report it without a traceback wall
        print("unexpected %s while converting %s: %s (a malformed file, or a layout this converter does not "
              "know)" % (type(e).__name__, args.input, e), file=sys.stderr)
        return 3
    print("wrote %d tensors to %s" % (n, args.output), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
