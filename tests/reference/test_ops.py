"""Every registered op against PyTorch, generated from the registry's reference names.

PyTorch evaluates some derivatives with formulas that cancel (tanh: 1 - y**2, sigmoid:
y (1 - y)); those are accurate to a few EPS in absolute terms, where ours are accurate relative
to the result (checked against mpmath in tests/property). So values and gradients must agree to
64 EPS (|result| + 1): a few ulps of either implementation, and nothing a wrong formula meets.
"""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from micrograd import OPS, apply
from micrograd.ops import VARIADIC
from micrograd.testing import EPS, op_params, points
from tests.reference.common import torch_op

each_op = pytest.mark.parametrize("op", list(OPS.values()), ids=lambda op: op.name)


def close(ours, theirs):
    return abs(ours - theirs) <= 64 * EPS * (abs(theirs) + 1)


@each_op
@given(data=st.data())
def test_value_and_gradient_match_pytorch(op, data):
    params = data.draw(op_params(op))
    domains = op.domains(*params)
    if op.arity == VARIADIC:
        domains = domains * (2 * data.draw(st.integers(1, 3)))
    xs = [data.draw(points(d, op.kinks, scale=10.0)) for d in domains]
    out = apply(op, *xs, params=params)
    out.backward()
    ts = [torch.tensor(x, requires_grad=True) for x in xs]
    y = torch_op(op, ts, params)
    y.backward()
    assert close(out.data, y.item()), (op.name, xs, params, out.data, y.item())
    for i, (p, t) in enumerate(zip(out._parents, ts, strict=True)):
        assert close(p.grad, t.grad.item()), (op.name, xs, params, i, p.grad, t.grad.item())
