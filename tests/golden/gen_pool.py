"""Golden cases for max pooling (Caffe ceil mode, explicit -inf padding), LRN and softmax (PyTorch), fwd + bwd."""
import torch
import torch.nn.functional as F


def _grads(y, x, g):
    d_y = torch.randn(y.shape, generator=g, dtype=torch.float64)
    (d_x,) = torch.autograd.grad(y, x, d_y)
    return d_y, d_x


def _max_pool_cases(g):
    out = []
    # name, input shape, kernel, stride, symmetric PyTorch padding, ceil_mode
    specs = [
        ("max_pool2d_alexnet_pool1", (2, 3, 55, 55), 3, 2, 0, True),   # AlexNet pool1: 55 -> 27
        ("max_pool2d_ceil_odd", (1, 2, 14, 15), 3, 2, 0, True),        # H: floor 6, ceil 7; W: 7 either way
        ("max_pool2d_ceil_k2_odd", (2, 2, 7, 9), 2, 2, 0, True),       # 7 -> 4, 9 -> 5 (floor: 3, 4)
        ("max_pool2d_ceil_pad_drop", (1, 3, 5, 6), 2, 2, 1, True),     # ceil gives 4, last window dropped -> 3
        ("max_pool2d_floor_k3s3", (1, 2, 10, 11), 3, 3, 1, False),
    ]
    for name, shape, k, s, pad, ceil in specs:
        x = torch.randn(shape, generator=g, dtype=torch.float64).requires_grad_()
        y = F.max_pool2d(x, k, s, pad, ceil_mode=ceil)
        d_y, d_x = _grads(y, x, g)
        params = torch.tensor([k, k, s, s, pad, pad, pad, pad, 1.0 if ceil else 0.0])
        out.append((name, {"x": x, "y": y, "d_y": d_y, "d_x": d_x, "params": params}))
    # MatConvNet-style explicit asymmetric padding: F.pad with -inf, then floor-mode pooling without padding.
    # params: kh, kw, sh, sw, top, bottom, left, right, ceil
    asym = [
        ("max_pool2d_asym_pad", (2, 2, 12, 13), (3, 3), (2, 2), (1, 2, 0, 1)),
        ("max_pool2d_asym_pad_rect", (1, 3, 9, 8), (2, 3), (2, 1), (0, 1, 2, 0)),
    ]
    for name, shape, (kh, kw), (sh, sw), (top, bottom, left, right) in asym:
        x = torch.randn(shape, generator=g, dtype=torch.float64).requires_grad_()
        xp = F.pad(x, (left, right, top, bottom), value=float("-inf"))
        y = F.max_pool2d(xp, (kh, kw), (sh, sw))
        d_y, d_x = _grads(y, x, g)
        params = torch.tensor([kh, kw, sh, sw, top, bottom, left, right, 0.0])
        out.append((name, {"x": x, "y": y, "d_y": d_y, "d_x": d_x, "params": params}))
    return out


def _lrn_cases(g):
    out = []
    # name, shape, input scale, size, alpha (Caffe convention, as PyTorch), beta, k
    specs = [
        ("lrn_alexnet_k1", (2, 7, 5, 6), 20.0, 5, 1e-4, 0.75, 1.0),  # AlexNet/Caffe norm1 values, conv1-sized inputs
        ("lrn_alexnet_k2", (2, 7, 5, 6), 20.0, 5, 1e-4, 0.75, 2.0),  # Krizhevsky's k = 2
        ("lrn_strong", (1, 9, 4, 3), 1.5, 3, 0.9, 0.75, 2.0),        # large alpha: the cross-channel term dominates
    ]
    for name, shape, scale, size, alpha, beta, k in specs:
        x = (scale * torch.randn(shape, generator=g, dtype=torch.float64)).requires_grad_()
        y = F.local_response_norm(x, size, alpha=alpha, beta=beta, k=k)
        d_y, d_x = _grads(y, x, g)
        params = torch.tensor([size, alpha, beta, k], dtype=torch.float64)
        out.append((name, {"x": x, "y": y, "d_y": d_y, "d_x": d_x, "params": params}))
    return out


def _softmax_cases(g):
    out = []
    specs = [
        ("softmax_nchw", (2, 5, 3, 4), 2.0, 0.0),
        ("softmax_nc", (4, 10), 3.0, 0.0),
        ("softmax_large_logits", (2, 6, 2, 2), 5.0, 1000.0),  # exp(1000) overflows unless the max is subtracted
    ]
    for name, shape, scale, offset in specs:
        x = (scale * torch.randn(shape, generator=g, dtype=torch.float64) + offset).requires_grad_()
        y = F.softmax(x, dim=1)
        d_y, d_x = _grads(y, x, g)
        out.append((name, {"x": x, "y": y, "d_y": d_y, "d_x": d_x}))
    return out


def cases():
    g = torch.Generator().manual_seed(23)
    return _max_pool_cases(g) + _lrn_cases(g) + _softmax_cases(g)
