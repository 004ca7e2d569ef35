"""The two expressions of micrograd 0.1.0's own test file, checked against PyTorch (float64).

Each expression is written once, as a function of the two leaves, and run on micrograd Values
and on 0-d float64 tensors, so a typo cannot make both sides agree.
"""

import pytest
import torch

from micrograd import Value


def sanity_check(x):
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    return h + q + q * x


def more_ops(a, b):
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    return g + 10.0 / f


@pytest.mark.parametrize(
    ("expr", "leaves"),
    [(sanity_check, [-4.0]), (more_ops, [-4.0, 2.0])],
    ids=["sanity", "more_ops"],
)
def test_value_and_gradients_match_pytorch(expr, leaves):
    ours = [Value(x) for x in leaves]
    out = expr(*ours)
    out.backward()
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in leaves]
    tout = expr(*theirs)
    tout.backward()
    # The same float64 operations in the same order, except where an op's formula differs
    # (x**3 as pow vs x*x*x): a few ulps, far below 1e-12 relative.
    assert out.data == pytest.approx(tout.item(), rel=1e-12, abs=0)
    for v, t in zip(ours, theirs, strict=True):
        assert v.grad == pytest.approx(t.grad.item(), rel=1e-12, abs=0)
