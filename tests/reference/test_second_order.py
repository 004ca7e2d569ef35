"""Second derivatives against PyTorch (float64): every op of the registry, random programs,
the points where conventions live, accumulation with create_graph, and a tiny MLP's Hessian.

Tolerances, as for first order (tests/reference/test_ops.py, test_graphs.py): PyTorch's
second derivatives come from its own formulas (tanh'' from 1 - y**2, which cancels), accurate
to a few EPS absolutely where ours are accurate relative to the result (checked against mpmath
in tests/property/test_second_order.py); both pass through at most a few ops per derivative,
so one op's results agree to 64 EPS (|result| + 1) and a program's to 1e-8 of its largest
value (the first-order reasoning: ~20 ops, condition below ~1e4).
"""

import itertools
import math

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from micrograd import OpError, Value, apply, grad, nn
from micrograd.testing import EPS, Instr, Program, op_params, points, programs, run_engine
from tests.helpers import each_op
from tests.property.test_ops import input_domains
from tests.reference.common import torch_op
from tests.reference.test_mlp import torch_params, torch_twin
from tests.reference.test_ops import special_inputs


def close(ours, theirs):
    return abs(ours - theirs) <= 64 * EPS * (abs(theirs) + 1)


def our_hessian(op, xs, params, first=None):
    """The Hessian of ``op`` at ``xs``; the gradients create_graph built are appended to
    ``first`` (their data)."""
    leaves = [Value(x) for x in xs]
    gs = grad(apply(op, *leaves, params=params), leaves, create_graph=True)
    if first is not None:
        first.extend(g.data for g in gs)
    return [list(grad(g, leaves, materialize_grads=True)) for g in gs]


def torch_hessian(f, xs, first=None):
    """d2 f / d x_i d x_j by torch.autograd.grad with create_graph, each row a second pass; the
    first derivatives are appended to ``first``."""
    ts = [torch.tensor(x, requires_grad=True) for x in xs]
    out = f(ts)
    if not out.requires_grad:  # it depends on constants alone
        return [[0.0] * len(ts) for _ in ts]
    gs = torch.autograd.grad(out, ts, create_graph=True, allow_unused=True, materialize_grads=True)
    if first is not None:
        first.extend(g.item() for g in gs)
    rows = []
    for g in gs:
        if not g.requires_grad:  # a constant gradient: its row is zero
            rows.append([0.0] * len(ts))
            continue
        hs = torch.autograd.grad(g, ts, retain_graph=True, allow_unused=True)
        rows.append([0.0 if h is None else h.item() for h in hs])
    return rows


# PyTorch's pow masks its derivative in the base to 0 where the exponent is exactly 0 (so that
# 0 ** 0 has gradient 0, not nan); the mask is a constant, so the derivative of that partial in
# the exponent is lost there: PyTorch's Hessian of a ** b at b = 0 is not symmetric (d2/da db
# = 0, d2/db da = 1/a; the mathematical value of both is a**(b - 1) (1 + b log a) = 1/a). Ours
# is the mathematical one (against mpmath in tests/property); here PyTorch's masked entry is
# replaced by its unmasked twin, after checking that the mask is still there (and
# gradgradcheck, which fails there, is not asked).
def masked(op, xs):
    return op.name == "powv" and xs[1] == 0.0


def unmasked(op, xs, theirs):
    if masked(op, xs):
        assert theirs[0][1] == 0.0, "PyTorch no longer masks d/da a ** b at b = 0: drop this"
        assert theirs[1][0] == 1 / xs[0]
        theirs[0][1] = theirs[1][0]
    return theirs


@each_op
@given(data=st.data())
def test_every_ops_second_derivatives_match_pytorch(op, data):
    params = data.draw(op_params(op))
    xs = [data.draw(points(d, op.kinks)) for d in input_domains(op, params, data)]
    ours = our_hessian(op, xs, params)
    theirs = unmasked(op, xs, torch_hessian(lambda ts: torch_op(op, ts, params), xs))
    for i, j in itertools.product(range(len(xs)), repeat=2):
        assert close(ours[i][j], theirs[i][j]), (op.name, xs, params, i, j, ours, theirs)
    # the twin itself is right there: PyTorch's own second-order check of its formulas
    ts = [torch.tensor(x, requires_grad=True) for x in xs]
    assert masked(op, xs) or torch.autograd.gradgradcheck(
        lambda *ts: torch_op(op, list(ts), params), ts
    )


@each_op
def test_second_derivatives_at_kinks_and_signed_zeros_are_pytorchs_exactly(op):
    # Where PyTorch's second derivative is finite ours is the same float (the sign of zero is
    # not compared: a second derivative of zero adds nothing); where it is not (x**1.5 at 0),
    # ours raises OpError naming the op.
    for params in itertools.product(*op.params.values()):
        for xs in special_inputs(op, params):
            tfirst, ofirst = [], []
            theirs = torch_hessian(lambda ts, params=params: torch_op(op, ts, params), xs, tfirst)
            theirs = unmasked(op, xs, theirs)
            finite = all(map(math.isfinite, itertools.chain(*theirs)))
            if not finite:
                with pytest.raises(OpError, match=op.name):
                    our_hessian(op, xs, params)
                continue
            ours = our_hessian(op, xs, params, ofirst)
            assert ofirst == tfirst, f"d {op.name}{tuple(xs) + params}: {ofirst}, PyTorch {tfirst}"
            assert ours == theirs, f"{op.name}{tuple(xs) + params}: {ours}, PyTorch {theirs}"


def meets_the_mask(program):
    """Whether the program raises something to an exponent that is exactly 0 (powv), where
    PyTorch's second derivative is masked (see unmasked): there PyTorch is not a reference,
    and tests/property checks the program against the oracle instead."""
    exponents = []

    def call(op, args, params):
        if op.name == "powv":
            exponents.append(args[1])
        return op.f(*args, *params)[0]

    program.run(float, call)
    return 0.0 in exponents


MASKED = Program((0.0, 1.0), (Instr("powv", ("x1", "x0")),))  # found by the test below


def test_the_mask_is_recognised_in_a_program():
    assert meets_the_mask(MASKED)
    assert not meets_the_mask(Program((0.5, 1.0), (Instr("powv", ("x1", "x0")),)))


@given(programs())
def test_program_hessians_match_pytorch(program):
    assume(not meets_the_mask(program))
    leaves, out = run_engine(program)
    gs = grad(out, leaves, create_graph=True, materialize_grads=True)
    ours = [list(grad(g, leaves, materialize_grads=True)) for g in gs]
    theirs = torch_hessian(
        lambda ts: program.run(lambda t: t, torch_op, const=torch.tensor, leaves=ts)[1],
        list(program.leaves),
    )
    scale = max(1.0, abs(out.data), *map(abs, itertools.chain(*theirs)))
    for i, j in itertools.product(range(len(leaves)), repeat=2):
        assert abs(ours[i][j] - theirs[i][j]) <= 1e-8 * scale, (
            f"d2/dx{i}dx{j}: {ours[i][j]!r} vs PyTorch {theirs[i][j]!r}\n{program}"
        )


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")
def test_accumulation_with_create_graph_is_pytorchs():
    # Three calls on one graph: create_graph, plain, create_graph. PyTorch accumulates into a
    # zeroed grad out of place with create_graph and in place without; either way .grad's value
    # is the sum, and its history is that of the create_graph terms.
    x = Value(0.7)
    y = (x * x).tanh() * x
    t = torch.tensor(0.7, requires_grad=True)
    t.grad = torch.zeros(())
    ty = torch.tanh(t * t) * t
    for create_graph in (True, False, True):
        y.backward(create_graph=create_graph)
        ty.backward(create_graph=create_graph, retain_graph=True)
        assert close(x.grad.data, t.grad.item())
    (h,) = grad(x.grad, [x])
    (th,) = torch.autograd.grad(t.grad, t)
    assert close(h, th.item())


def test_a_tiny_mlps_loss_hessian_matches_pytorch():
    # Float64 both sides, the same operations in another order: entries agree to ~1e-15 of the
    # largest; 1e-10 of it is far from rounding and from any wrong second derivative.
    X, ys = [[0.5, -1.0], [1.5, 0.2], [-0.3, 0.8]], [1.0, -1.0, 0.5]
    model = nn.MLP(2, [3, 1], activation="tanh", seed=3)
    params = model.parameters()
    loss = nn.mse_loss([model(x) for x in X], ys)
    gs = grad(loss, params, create_graph=True)
    ours = [list(grad(g, params, materialize_grads=True)) for g in gs]

    net = torch_twin(model, 2, [3, 1], "tanh", "linear")
    slots = torch_params(net)
    tloss = ((net(torch.tensor(X)).squeeze(1) - torch.tensor(ys)) ** 2).mean()
    tps = list(net.parameters())
    tg = torch.autograd.grad(tloss, tps, create_graph=True)
    by_param = {id(p): g for p, g in zip(tps, tg, strict=True)}
    theirs = []
    for t, idx in slots:
        row = torch.autograd.grad(by_param[id(t)][idx], tps, retain_graph=True)
        by_row = {id(p): r for p, r in zip(tps, row, strict=True)}
        theirs.append([by_row[id(u)][jdx].item() for u, jdx in slots])
    scale = max(abs(v) for v in itertools.chain(*theirs))
    assert len(ours) == len(theirs) == 13
    for i, j in itertools.product(range(13), repeat=2):
        assert abs(ours[i][j] - theirs[i][j]) <= 1e-10 * scale, (i, j, ours[i][j], theirs[i][j])
