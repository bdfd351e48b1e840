"""Golden cases for relu / leaky relu (PyTorch nn.functional.leaky_relu), forward and backward."""
import torch
import torch.nn.functional as F


def cases():
    g = torch.Generator().manual_seed(11)
    x = torch.randn(2, 3, 5, 7, generator=g, dtype=torch.float64).requires_grad_()
    d_y = torch.randn(2, 3, 5, 7, generator=g, dtype=torch.float64)
    out = []
    for name, slope in (("relu", 0.0), ("leaky_relu", 0.2)):
        y = F.leaky_relu(x, slope)
        (d_x,) = torch.autograd.grad(y, x, d_y)
        out.append((name, {"x": x, "d_y": d_y, "y": y, "d_x": d_x, "slope": torch.tensor([slope])}))
    return out
