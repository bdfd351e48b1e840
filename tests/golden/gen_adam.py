"""Golden case for the decoder trainer's Adam (torch.optim.Adam, betas (0.9, 0.999), eps 1e-8, bias-corrected)
with the trainer's learning-rate schedule (solvers/lr_schedule.h: constant for 70 % of the steps, then halved at
70, 80 and 90 %), on a fixed non-quadratic problem in float32. The test replays the recorded gradients through
solvers::adam_update and compares the parameters after every step."""
import math

import torch

STEPS = 10


def schedule(base, step, total):
    # the C++ integer arithmetic: tenth = (10 * (step - 1)) // total, halved once per tenth from the 7th on
    tenth = (10 * (step - 1)) // total
    lr = base
    for _ in range(7, tenth + 1):
        lr *= 0.5
    return lr


def cases():
    g = torch.Generator().manual_seed(23)
    a = torch.rand(3, 17, generator=g) + 0.5
    x0 = torch.randn(3, 17, generator=g)
    # a second parameter of another shape, as a decoder has many
    y0 = torch.randn(5, generator=g)
    x = x0.clone().requires_grad_()
    y = y0.clone().requires_grad_()
    opt = torch.optim.Adam([x, y], lr=1e-2, betas=(0.9, 0.999), eps=1e-8)
    out = {"x0": x0, "y0": y0, "lr": torch.tensor([schedule(1e-2, s, STEPS) for s in range(1, STEPS + 1)])}
    for s in range(1, STEPS + 1):
        for group in opt.param_groups:
            group["lr"] = schedule(1e-2, s, STEPS)
        opt.zero_grad()
        loss = (a * x * x).sum() + torch.sin(3 * x).sum() + (y ** 4).sum() - y.sum()
        loss.backward()
        out["gx%d" % s] = x.grad.detach().clone()
        out["gy%d" % s] = y.grad.detach().clone()
        opt.step()
        out["x%d" % s] = x.detach().clone()
        out["y%d" % s] = y.detach().clone()
    assert not math.isnan(float(loss))
    return [("adam_decoder", out)]
