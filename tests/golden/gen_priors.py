"""Golden cases for the image priors, losses and shape ops (kernels/regularisers.h, losses.h, shape_ops.h).

The formulas are written out here in torch float64 and differentiated by autograd, independently of the C++
derivations: alpha-norm of the mean-subtracted image (CVPR 2015 sect. 3), isotropic N_alpha (IJCV 2016 eq. 5 with
exponent alpha/2), TV^beta with a replicated border (IJCV sect. 3.2.2), normalised masked L2 per sample (eqs. 2-3),
inner product loss (eq. 4), torch.cat(dim=1) and slicing. Scalar losses are differentiated with a seed d_y != 1 so
that the C++ backward is checked to scale by d_y.
"""
import torch
import torch.nn.functional as F

D = torch.float64


def alpha_norm(x, alpha):
    m = x.mean(dim=(2, 3), keepdim=True)
    return ((x - m).abs() ** alpha).sum()


def isotropic_alpha_norm(x, alpha, B):
    s = (x ** 2).sum(dim=1)  # [N, H, W]
    return ((s / B ** 2) ** (alpha / 2)).sum() / (x.shape[2] * x.shape[3])


def tv_beta(x, beta, V):
    # differences past the last column / row are zero (replicated border)
    du = F.pad(x[:, :, :, 1:] - x[:, :, :, :-1], (0, 1))
    dv = F.pad(x[:, :, 1:, :] - x[:, :, :-1, :], (0, 0, 0, 1))
    q = (du ** 2 + dv ** 2) / V ** 2
    # q = 0 (flat regions, the bottom-right corner): value 0, gradient 0 (for beta < 2 autograd would give nan)
    pos = q > 0
    safe = torch.where(pos, q, torch.ones_like(q))
    return torch.where(pos, safe ** (beta / 2), torch.zeros_like(q)).sum() / (x.shape[2] * x.shape[3])


def normalised_l2(phi, phi0, mask):
    n = phi.shape[0]
    r = ((phi - phi0) * mask).reshape(n, -1)
    e = (phi0 * mask).reshape(n, -1)
    return ((r ** 2).sum(1) / (e ** 2).sum(1)).sum()


def inner_product(phi, phi0, Z):
    return -(phi * phi0).sum() / Z


def scalar(v):
    return torch.tensor([float(v)], dtype=D)


def grad(value, x, d_y):
    seed = d_y if isinstance(d_y, torch.Tensor) else torch.tensor(d_y, dtype=D)
    (g,) = torch.autograd.grad(value, x, seed)
    return g


def randn(*shape, g, scale=1.0, shift=0.0):
    # rounded to float32 first: the golden file stores inputs as float32, and the references must be computed from
    # exactly the stored values
    return (torch.randn(*shape, generator=g, dtype=D) * scale + shift).float().to(D)


def cases():
    g = torch.Generator().manual_seed(23)
    out = []
    d_y = 0.75

    # alpha-norm: odd spatial size, C = 3, alpha in {2, 6}
    x = randn(2, 3, 5, 7, g=g, scale=0.8, shift=0.3).requires_grad_()
    t = {"x": x, "d_y": scalar(d_y)}
    for a in (2, 6):
        v = alpha_norm(x, a)
        t["value_a%d" % a] = v.reshape(1)
        t["d_x_a%d" % a] = grad(v, x, d_y)
    out.append(("alpha_norm", t))

    # isotropic N_alpha: RGB-like values around the scale B
    B = 2.0
    x = randn(2, 3, 5, 7, g=g, scale=1.5).requires_grad_()
    t = {"x": x, "d_y": scalar(d_y), "B": scalar(B)}
    for a in (1, 2, 6):
        v = isotropic_alpha_norm(x, a, B)
        t["value_a%d" % a] = v.reshape(1)
        t["d_x_a%d" % a] = grad(v, x, d_y)
    out.append(("isotropic_alpha_norm", t))

    # TV^beta: a flat patch gives zero differences inside it (the kink convention for beta < 2 is exercised)
    V = 0.5
    x0 = randn(2, 3, 6, 5, g=g)
    x0[:, :, 1:4, 0:3] = 0.25
    x = x0.clone().requires_grad_()
    t = {"x": x, "d_y": scalar(d_y), "V": scalar(V)}
    for b, name in ((1.0, "1"), (1.5, "1.5"), (2.0, "2"), (3.0, "3")):
        v = tv_beta(x, b, V)
        t["value_b" + name] = v.reshape(1)
        t["d_x_b" + name] = grad(v, x, d_y)
    out.append(("tv_beta", t))

    # normalised L2, per sample, with and without a binary mask
    phi = randn(2, 4, 3, 5, g=g).requires_grad_()
    phi0 = randn(2, 4, 3, 5, g=g)
    mask = (torch.rand(2, 4, 3, 5, generator=g, dtype=D) > 0.4).to(D)
    v_mask = normalised_l2(phi, phi0, mask)
    v_plain = normalised_l2(phi, phi0, torch.ones_like(phi0))
    out.append(("normalised_l2", {
        "phi": phi, "phi0": phi0, "mask": mask, "d_y": scalar(d_y),
        "value_mask": v_mask.reshape(1), "d_phi_mask": grad(v_mask, phi, d_y),
        "value_plain": v_plain.reshape(1), "d_phi_plain": grad(v_plain, phi, d_y)}))

    # inner product loss
    Z = 3.5
    phi = randn(2, 6, 3, 3, g=g).requires_grad_()
    phi0 = torch.rand(2, 6, 3, 3, generator=g, dtype=D).float().to(D)
    v = inner_product(phi, phi0, Z)
    out.append(("inner_product", {"phi": phi, "phi0": phi0, "Z": scalar(Z), "d_y": scalar(d_y),
                                  "value": v.reshape(1), "d_phi": grad(v, phi, d_y)}))

    # concat along channels (C = 1, 3, 2) and crop, backward with a random d_y
    xs = [torch.randn(2, c, 3, 5, generator=g, dtype=D).requires_grad_() for c in (1, 3, 2)]
    y = torch.cat(xs, dim=1)
    dy = torch.randn(y.shape, generator=g, dtype=D)
    gs = torch.autograd.grad(y, xs, dy)
    out.append(("concat_channels", {"x0": xs[0], "x1": xs[1], "x2": xs[2], "y": y, "d_y": dy,
                                    "d_x0": gs[0], "d_x1": gs[1], "d_x2": gs[2]}))

    x = torch.randn(2, 3, 7, 9, generator=g, dtype=D).requires_grad_()
    y = x[:, :, 2:6, 3:8]
    dy = torch.randn(y.shape, generator=g, dtype=D)
    out.append(("crop", {"x": x, "y": y, "d_y": dy, "d_x": grad(y, x, dy),
                         "top": scalar(2), "left": scalar(3)}))
    return out
