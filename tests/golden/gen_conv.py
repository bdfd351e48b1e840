"""Golden cases for the convolution family (tests/test_conv2d.cpp, test_conv_transpose2d.cpp, test_linear.cpp).

PyTorch nn.functional.conv2d / conv_transpose2d / linear in float64, forward and backward (gradients of
sum(y * d_y)). Asymmetric padding, which PyTorch's conv ops do not take, is built from the symmetric ops:
conv2d = F.pad(x, (left, right, top, bottom)) then an unpadded conv; conv_transpose2d = an unpadded transposed conv
whose output is then cropped by (top, bottom, left, right). Each file carries its parameters in "params":
conv2d [stride_h, stride_w, pad_top, pad_bottom, pad_left, pad_right, groups], conv_transpose2d the same with
[..., out_pad_h, out_pad_w, groups]. Cases without a bias have no "b"/"d_b" tensors.
"""
import torch
import torch.nn.functional as F

# name: (x shape, weight shape, bias?, stride (h, w), padding (top, bottom, left, right), groups)
CONV2D = {
    "conv2d_3x3_pad1": ((2, 3, 9, 8), (4, 3, 3, 3), True, (1, 1), (1, 1, 1, 1), 1),
    "conv2d_groups2_asym": ((1, 4, 13, 11), (6, 2, 5, 3), True, (2, 3), (2, 1, 0, 1), 2),
    "conv2d_11x11_stride4": ((1, 3, 35, 31), (5, 3, 11, 11), True, (4, 4), (0, 0, 0, 0), 1),
    "conv2d_1x1_groups2": ((2, 6, 7, 7), (4, 3, 1, 1), False, (1, 1), (0, 0, 0, 0), 2),
    "conv2d_4x4_stride3x4_asym": ((1, 2, 10, 12), (3, 2, 4, 4), True, (3, 4), (0, 2, 1, 3), 1),
    "conv2d_1x1_stride2_pad": ((1, 3, 6, 5), (2, 3, 1, 1), True, (2, 2), (1, 0, 0, 1), 1),
}

# name: (x shape, weight shape [C, K/g, kh, kw], bias?, stride, padding (t, b, l, r), output padding (h, w), groups)
CONV_TRANSPOSE2D = {
    "conv_transpose2d_4x4_stride2": ((2, 3, 5, 4), (3, 4, 4, 4), True, (2, 2), (1, 1, 1, 1), (0, 0), 1),
    "conv_transpose2d_groups2_outpad": ((1, 4, 6, 5), (4, 3, 3, 5), True, (2, 3), (1, 1, 2, 2), (1, 2), 2),
    "conv_transpose2d_11x11_stride4": ((1, 2, 3, 4), (2, 3, 11, 11), True, (4, 4), (3, 3, 5, 5), (3, 0), 1),
    "conv_transpose2d_1x1_groups2": ((2, 4, 5, 5), (4, 1, 1, 1), False, (1, 1), (0, 0, 0, 0), (0, 0), 2),
    "conv_transpose2d_3x3_stride3_asym": ((1, 3, 4, 6), (3, 2, 3, 3), True, (3, 3), (2, 0, 1, 2), (1, 0), 1),
}

# name: (x shape, out features, bias?)
LINEAR = {
    "linear_7_to_5": ((3, 7), 5, True),
    "linear_flatten": ((2, 3, 2, 2), 4, True),
    "linear_1_to_3_nobias": ((1, 1), 3, False),
}


def _randn(g, shape):
    return torch.randn(*shape, generator=g, dtype=torch.float64).requires_grad_()


def _case(g, y_fn, x, w, b, params):
    y = y_fn(x, w, b)
    d_y = torch.randn(*y.shape, generator=g, dtype=torch.float64)
    inputs = [x, w] + ([b] if b is not None else [])
    grads = torch.autograd.grad(y, inputs, d_y)
    out = {"x": x, "w": w, "y": y, "d_y": d_y, "d_x": grads[0], "d_w": grads[1]}
    if params:
        out["params"] = torch.tensor(params, dtype=torch.float64)
    if b is not None:
        out["b"] = b
        out["d_b"] = grads[2]
    return out


def cases():
    g = torch.Generator().manual_seed(23)
    out = []
    for name, (xs, ws, has_b, stride, pad, groups) in CONV2D.items():
        x, w = _randn(g, xs), _randn(g, ws)
        b = _randn(g, (ws[0],)) if has_b else None
        top, bottom, left, right = pad

        def conv(x, w, b, stride=stride, pad=(left, right, top, bottom), groups=groups):
            return F.conv2d(F.pad(x, pad), w, b, stride=stride, groups=groups)

        out.append((name, _case(g, conv, x, w, b, list(stride) + list(pad) + [groups])))
    for name, (xs, ws, has_b, stride, pad, out_pad, groups) in CONV_TRANSPOSE2D.items():
        x, w = _randn(g, xs), _randn(g, ws)
        b = _randn(g, (ws[1] * groups,)) if has_b else None
        top, bottom, left, right = pad

        def up(x, w, b, stride=stride, pad=pad, out_pad=out_pad, groups=groups):
            top, bottom, left, right = pad
            full = F.conv_transpose2d(x, w, b, stride=stride, output_padding=out_pad, groups=groups)
            return full[:, :, top:full.shape[2] - bottom, left:full.shape[3] - right]

        # The symmetric cases also go through PyTorch's own padding argument, to pin the crop construction to it.
        if top == bottom and left == right:
            direct = F.conv_transpose2d(x, w, b, stride=stride, padding=(top, left), output_padding=out_pad,
                                        groups=groups)
            assert torch.allclose(direct, up(x, w, b)), name
        out.append((name, _case(g, up, x, w, b, list(stride) + list(pad) + list(out_pad) + [groups])))
    for name, (xs, o, has_b) in LINEAR.items():
        x = _randn(g, xs)
        i = 1
        for d in xs[1:]:
            i *= d
        w = _randn(g, (o, i))
        b = _randn(g, (o,)) if has_b else None
        lin = lambda x, w, b: F.linear(x.reshape(x.shape[0], -1), w, b)  # noqa: E731
        out.append((name, _case(g, lin, x, w, b, [])))
    return out
