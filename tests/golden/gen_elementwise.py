"""Golden case for the elementwise tape ops: L = mean(a*b) + sum(3a) + sum(a*mask) + sum(a+b)/4 and its gradients."""
import torch


def cases():
    g = torch.Generator().manual_seed(21)
    a = torch.randn(2, 3, 5, 7, generator=g, dtype=torch.float64).float().double().requires_grad_()
    b = torch.randn(2, 3, 5, 7, generator=g, dtype=torch.float64).float().double().requires_grad_()
    mask = (torch.rand(2, 3, 5, 7, generator=g, dtype=torch.float64) > 0.5).double()
    L = (a * b).mean() + (3 * a).sum() + (a * mask).sum() + (a + b).sum() / 4
    d_a, d_b = torch.autograd.grad(L, (a, b))
    return [("elementwise", {"a": a, "b": b, "mask": mask, "L": L.reshape(1), "d_a": d_a, "d_b": d_b})]
