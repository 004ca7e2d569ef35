"""Running registry ops and programs on PyTorch (float64)."""

import torch

from micrograd import Op
from micrograd.testing import Program


def torch_op(op: Op, args, params):
    """``op`` applied to tensors through its registry reference."""
    if callable(op.torch):
        return op.torch(torch, *args, *params)
    fn = torch
    for part in op.torch.split("."):
        fn = getattr(fn, part)
    return fn(*args, *params)


def run_torch(program: Program):
    """(leaf tensors, output tensor) of ``program``, leaves requiring grad."""
    return program.run(
        lambda x: torch.tensor(x, dtype=torch.float64, requires_grad=True),
        torch_op,
        const=lambda c: torch.tensor(c, dtype=torch.float64),
    )
