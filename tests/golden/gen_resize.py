"""Golden resamplings for resize_antialiased (tests/test_image_ops.cpp): torch.nn.functional.interpolate,
bilinear, align_corners=False, antialias=True (PIL's triangle filter), in float64, shrinking by non-integer
factors, by more than 4x, and enlarging."""
import torch
import torch.nn.functional as F


def cases():
    g = torch.Generator().manual_seed(31)
    x = torch.rand(1, 3, 37, 53, generator=g, dtype=torch.float64) * 255
    out = {"x": x}
    for name, size in {"shrink": (12, 17), "shrink5x": (7, 10), "grow": (50, 70), "mixed": (20, 80)}.items():
        out[name] = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
    return [("resize_antialiased", out)]
