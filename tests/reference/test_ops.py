"""Every registered op against PyTorch, generated from the registry's reference names.

PyTorch evaluates some derivatives with formulas that cancel (tanh: 1 - y**2, sigmoid:
y (1 - y)); those are accurate to a few EPS in absolute terms, where ours are accurate relative
to the result (checked against mpmath in tests/property). So values and gradients must agree to
64 EPS (|result| + 1): a few ulps of either implementation, and nothing a wrong formula meets.
"""

import itertools
import struct

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from micrograd import OPS, apply
from micrograd.ops import VARIADIC
from micrograd.testing import EPS, op_params, points
from tests.helpers import each_op
from tests.property.test_ops import input_domains
from tests.reference.common import torch_op
from tests.test_registry import PYTORCH_AT_KINKS, kink_points


def close(ours, theirs):
    return abs(ours - theirs) <= 64 * EPS * (abs(theirs) + 1)


@each_op
@given(data=st.data())
def test_value_and_gradient_match_pytorch(op, data):
    params = data.draw(op_params(op))
    xs = [data.draw(points(d, op.kinks, scale=10.0)) for d in input_domains(op, params, data)]
    out = apply(op, *xs, params=params)
    out.backward()
    ts = [torch.tensor(x, requires_grad=True) for x in xs]
    y = torch_op(op, ts, params)
    y.backward()
    assert close(out.data, y.item()), (op.name, xs, params, out.data, y.item())
    for i, (p, t) in enumerate(zip(out._parents, ts, strict=True)):
        assert close(p.grad, t.grad.item()), (op.name, xs, params, i, p.grad, t.grad.item())


# At the points where conventions live -- every kink, +0.0 and -0.0 -- the answer is not "within
# a few ulps" but PyTorch's, exactly: the value bit for bit (the sign of zero included, since it
# flows on: 1 / relu(-0.0) is -inf), and each gradient bit for bit as PyTorch accumulates it into
# a zero-initialised grad (x.grad = 0 first, i.e. zero_grad(set_to_none=False)), which is what
# micrograd's grad, starting at 0.0, is. The local partials must equal PyTorch's gradient as
# numbers; their sign of zero is not compared, because it never reaches a grad (backward adds
# nothing through a zero partial, and 0.0 + -0.0 is 0.0): PyTorch's own sign there depends on
# its kernels (d/dx x**1.5 at -0.0 is -0.0, by sqrt; x**2.5 gives 0.0).
REGULAR = (1.0, -1.0, 0.5, 2.0)  # partners for the other inputs of a multi-input op


def bits(x):
    return struct.pack("<d", x).hex()


def special_inputs(op, params):
    """Every input tuple in the domain with an input at a kink or at +-0.0."""
    domains = op.domains(*params) * (2 if op.arity == VARIADIC else 1)
    special = list({bits(x): x for x in (0.0, -0.0, *kink_points(op))}.values())
    choices = [*special, *REGULAR]
    for xs in itertools.product(choices, repeat=len(domains)):
        if any(x in special for x in xs) and all(x in d for x, d in zip(xs, domains, strict=True)):
            yield list(xs)


@each_op
def test_kinks_and_signed_zeros_are_pytorchs_exactly(op):
    checked = 0
    for params in itertools.product(*op.params.values()):
        for xs in special_inputs(op, params):
            out = apply(op, *xs, params=params)
            out.backward()
            ts = [torch.tensor(x, requires_grad=True) for x in xs]
            y = torch_op(op, ts, params)
            y.backward()
            zs = [torch.tensor(x, requires_grad=True) for x in xs]
            for z in zs:
                z.grad = torch.zeros(())
            torch_op(op, zs, params).backward()
            where = f"{op.name}{tuple(xs) + params}"
            assert bits(out.data) == bits(y.item()), f"{where} = {out.data!r}, PyTorch {y.item()!r}"
            for i, (p, d, t, z) in enumerate(zip(out._parents, out._partials, ts, zs, strict=True)):
                assert d == t.grad.item(), (
                    f"d {where} / d input {i + 1}: {d!r}, PyTorch {t.grad.item()!r}"
                )
                assert bits(p.grad) == bits(z.grad.item()), (
                    f"grad of input {i + 1} of {where}: {p.grad!r}, PyTorch {z.grad.item()!r}"
                )
            checked += 1
    in_domain = any(
        x in d
        for params in itertools.product(*op.params.values())
        for d in op.domains(*params)
        for x in (0.0, *op.kinks)
    )
    assert checked or not in_domain, f"{op.name}: no input at a kink or +-0.0 was checked"


@pytest.mark.parametrize("name", list(PYTORCH_AT_KINKS))
def test_the_recorded_kink_conventions_are_pytorchs(name):
    # tests/test_registry.py pins the registry to this record without torch; here, the record
    # is what torch 2.13.0 gives.
    for x, value, d in PYTORCH_AT_KINKS[name]:
        t = torch.tensor(x, requires_grad=True)
        y = torch_op(OPS[name], [t], ())
        y.backward()
        assert (bits(y.item()), bits(t.grad.item())) == (bits(value), bits(d)), (
            f"PyTorch's {name} at {x!r}: {y.item()!r}, d/dx {t.grad.item()!r}; recorded "
            f"{value!r}, {d!r}"
        )
