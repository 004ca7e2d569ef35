"""Fuzz micrograd.nn: the modules' constructors and calls, the losses, SGD.

The contract: tests/fuzz/strategies.py."""

import math
import random
from fractions import Fraction

from hypothesis import example, given
from hypothesis import strategies as st

from micrograd import OPS, Value
from micrograd.nn import MLP, SGD, Layer, Neuron, l2, max_margin_loss, mean, mse_loss
from micrograd.ops import REAL
from micrograd.testing.floats import MAX
from tests.fuzz.strategies import (
    TYPE,
    VALUE,
    anything,
    backward_is_finite_or_refused,
    element_errors,
    expect_number,
    finite,
    finite_graph,
    huge_ints,
    moderate,
    raises_documented,
    size_errors,
)

# nn: constructors and calls

sizes = st.one_of(
    st.integers(-2, 3),
    st.sampled_from([0, -(10**400)]),
    st.floats(0, 3),
    st.booleans(),
    st.none(),
    st.text(max_size=1),
    st.just([2]),
)
nouts_ = st.one_of(st.lists(sizes, max_size=3), st.tuples(sizes), sizes, st.text(max_size=2))
activations = st.one_of(
    st.sampled_from(["relu", "tanh", "linear", None, "softplus", "ReLU", "", "sigmoid"]), anything
)
seeds = st.one_of(
    st.none(), st.integers(), huge_ints, st.booleans(), st.floats(), st.text(max_size=2)
)
nonlins = st.one_of(st.none(), st.booleans(), st.integers(0, 1), st.text(max_size=1))
rngs = st.one_of(
    st.none(),
    st.just(random),
    st.builds(random.Random, st.integers()),
    st.integers(),
    st.text(max_size=1),
)
# linear, and every one-input op without params defined on every real (docs/use.md's rule)
ACTIVATIONS = (
    "linear",
    *(n for n, op in OPS.items() if op.arity == 1 and not op.params and op.domains() == (REAL,)),
)


def activation_errors(name, activation, nonlin=None):
    """activation=None is the default; nonlin, when given, must be a bool agreeing with it."""
    errors = []
    if nonlin is not None:
        if not isinstance(nonlin, bool):
            return [(TYPE, ["nonlin"])]
        implied = "relu" if nonlin else "linear"
        if activation is not None and activation != implied:
            errors.append((VALUE, ["nonlin", name]))
        return errors
    if activation is not None and not (isinstance(activation, str) and activation in ACTIVATIONS):
        errors.append((VALUE, [name]))
    return errors


def rng_errors(rng):
    ok = rng is None or rng is random or isinstance(rng, random.Random)
    return [] if ok else [(TYPE, ["rng"])]


@given(
    nin=sizes,
    nouts=nouts_,
    activation=activations,
    seed=seeds,
    output_activation=activations,
)
@example(nin=2, nouts=[], activation="relu", seed=0, output_activation="linear")
@example(nin=2, nouts=[0], activation="relu", seed=0, output_activation="linear")
@example(nin=2, nouts=3, activation="relu", seed=0, output_activation="linear")
@example(nin=2, nouts=[1], activation="relu", seed=0, output_activation=None).via(
    "output_activation=None gave a relu output"
)
@example(nin=1, nouts=[1], activation="relu", seed=None, output_activation=0.0).via(
    "output_activation=0.0 (any falsy value) was taken for linear"
)
def test_mlp_constructor(nin, nouts, activation, seed, output_activation):
    errors = size_errors("nin", nin)
    if not isinstance(nouts, list | tuple):
        errors.append((TYPE, ["nouts"]))
    elif not nouts:
        errors.append((VALUE, ["nouts"]))
    else:
        for i, n in enumerate(nouts):
            errors += size_errors(f"nouts[{i}]", n)
    errors += activation_errors("activation", activation)
    errors += activation_errors("output_activation", output_activation)
    if seed is not None and type(seed) is not int:
        errors.append((TYPE, ["seed"]))
    ok, model = raises_documented(
        lambda: MLP(nin, nouts, activation, seed, output_activation), errors
    )
    assert not (ok and errors), f"MLP accepted it: {model!r}; expected one of {errors}"
    if ok:
        assert [len(layer.neurons) for layer in model.layers] == list(nouts)
        last = model.layers[-1].neurons[0].activation
        assert last == (output_activation or "linear")
        assert repr(model).startswith("MLP(")
        if seed is not None:
            assert [p.data for p in MLP(nin, nouts, seed=seed).parameters()] == [
                p.data for p in MLP(nin, nouts, seed=seed).parameters()
            ]


@given(
    nin=sizes,
    nout=sizes,
    activation=activations,
    rng=rngs,
    nonlin=nonlins,
    layer=st.booleans(),
)
@example(nin=2, nout=1, activation="tanh", rng=5, nonlin=None, layer=False).via(
    "rng=5: a bare AttributeError ('int' object has no attribute 'uniform')"
)
@example(nin=2, nout=1, activation=None, rng="x", nonlin=None, layer=True)
def test_neuron_and_layer_constructors(nin, nout, activation, rng, nonlin, layer):
    errors = size_errors("nin", nin) + activation_errors("activation", activation, nonlin)
    errors += rng_errors(rng)
    if layer:
        errors += size_errors("nout", nout)
        make = lambda: Layer(nin, nout, activation, rng, nonlin=nonlin)  # noqa: E731
    else:
        make = lambda: Neuron(nin, activation, rng, nonlin=nonlin)  # noqa: E731
    ok, module = raises_documented(make, errors)
    assert not (ok and errors), f"accepted: {module!r}; expected one of {errors}"
    if ok:
        params = module.parameters()
        assert len(params) == (nin + 1) * (nout if layer else 1)
        assert all(-1 <= p.data <= 1 for p in params)


inputs_ = st.one_of(
    st.lists(st.one_of(moderate, finite, anything), max_size=4),
    st.tuples(moderate, moderate),
    anything,
    st.lists(moderate.map(Value), min_size=2, max_size=2),
    st.just(range(2)),
)


@given(
    kind=st.sampled_from(["MLP", "Layer", "Neuron"]),
    x=inputs_,
    activation=st.sampled_from(ACTIVATIONS),
)
@example(kind="MLP", x=["a", "b"], activation="relu")
@example(kind="MLP", x=[1e308, 1e308], activation="relu")
@example(kind="Neuron", x=None, activation="relu")
@example(kind="Layer", x=Value(1.0), activation="relu")
@example(kind="MLP", x=(584.0, 584.0), activation="exp").via("dot_exp's OpError: a fused name")
def test_module_calls(kind, x, activation):
    make = {
        "MLP": lambda: MLP(2, [3, 2], activation=activation, seed=0),
        "Layer": lambda: Layer(2, 2, activation, random.Random(0)),
        "Neuron": lambda: Neuron(2, activation, random.Random(0)),
    }[kind]
    module = make()
    errors = []
    if isinstance(x, Value | str | bytes) or not isinstance(x, list | tuple | range):
        errors.append((TYPE, ["input"]))
    elif len(x) != 2:
        errors.append((VALUE, ["input"]))
    else:
        errors += element_errors(x, ["input"])
    # a Neuron's node is named for its fused op: "dot_tanh", "dot_exp" ...
    fused = [f"dot_{a}" for a in ACTIVATIONS]
    ok, out = raises_documented(lambda: module(x), errors, ops=["dot", *ACTIVATIONS, *fused])
    assert not (ok and errors), f"{kind} accepted {x!r}: {out!r}"
    if ok:
        outs = out if isinstance(out, list) else [out]
        assert len(outs) == (1 if kind == "Neuron" else 2)
        total = sum(outs[1:], outs[0]) if len(outs) > 1 else outs[0]
        finite_graph(total)
        backward_is_finite_or_refused(total)
        module.zero_grad()
        assert all(p.grad == 0.0 for p in module.parameters())


# Losses


def value_list(xs):
    return [x if isinstance(x, Value) else float(x) for x in xs]


seq_of = lambda elems: st.one_of(  # noqa: E731
    st.lists(elems, max_size=3),
    st.lists(moderate, min_size=1, max_size=3).map(tuple),
    anything,
    st.just(iter([1.0])),
)
loss_elems = st.one_of(moderate.map(Value), moderate, finite, anything)


def list_errors(name, xs, elements=True):
    if isinstance(xs, str | bytes) or not isinstance(xs, list | tuple):
        return [(TYPE, [name])]
    if not xs:
        return [(VALUE, [name])]
    return element_errors(xs, [f"{name}["]) if elements else []


def lists_of_two_lengths(xs, ys):
    return isinstance(xs, list | tuple) and isinstance(ys, list | tuple) and len(xs) != len(ys)


def sum_check(out, terms):
    """out.data is the mean of terms: finite, and within n roundings of the exact sum
    (the sum's error is at most n * eps * sum|terms|, here with 4x headroom)."""
    want = math.fsum(terms) / len(terms)
    err = 4 * len(terms) * 2**-53 * math.fsum(map(abs, terms)) / len(terms) + 2**-1074
    assert abs(out.data - want) <= err, (out.data, want)


@given(xs=seq_of(loss_elems))
@example(xs=5).via("a bare TypeError: 'int' object is not iterable")
@example(xs=None).via("mean(None) said 'mean of no values'")
@example(xs="ab")
@example(xs=[MAX, MAX])
def test_mean(xs):
    errors = list_errors("xs", xs)
    ok, out = raises_documented(lambda: mean(xs), errors, ops=["add", "mul"])
    assert not (ok and errors), out
    if ok:
        finite_graph(out)
        sum_check(out, [x.data if isinstance(x, Value) else float(x) for x in xs])


@given(preds=seq_of(loss_elems), targets=seq_of(loss_elems))
@example(preds=["a"], targets=[1.0]).via("a bare TypeError: unsupported operand for -")
@example(preds=[1.0], targets=[1e200]).via("a bare OverflowError from float ** 2")
@example(preds=[Value(1.0)], targets=[1.0, 2.0])
def test_mse_loss(preds, targets):
    errors = list_errors("preds", preds) + list_errors("targets", targets)
    if lists_of_two_lengths(preds, targets):
        errors.append((VALUE, ["length"]))
    ok, out = raises_documented(
        lambda: mse_loss(preds, targets), errors, ops=["sub", "pow", "add", "mul"]
    )
    assert not (ok and errors), out
    if ok:
        finite_graph(out)
        backward_is_finite_or_refused(out)
        p = [v.data if isinstance(v, Value) else float(v) for v in preds]
        t = [v.data if isinstance(v, Value) else float(v) for v in targets]
        if all(abs(a) < 1e150 and abs(b) < 1e150 for a, b in zip(p, t, strict=True)):
            sum_check(out, [(a - b) * (a - b) for a, b in zip(p, t, strict=True)])


labels = st.one_of(
    st.sampled_from([1.0, -1.0, 1, -1]), st.sampled_from([0, 2, True, math.nan]), anything
)


@given(scores=seq_of(loss_elems), ys=st.one_of(st.lists(labels, max_size=3), seq_of(labels)))
@example(scores=[1.0], ys=[1]).via("a bare AttributeError: 'float' object has no attribute 'relu'")
@example(scores=["a"], ys=[1])
@example(scores=[Value(1.0)], ys=[2.0])
def test_max_margin_loss(scores, ys):
    errors = list_errors("scores", scores) + list_errors("ys", ys, elements=False)
    if lists_of_two_lengths(scores, ys):
        errors.append((VALUE, ["length"]))
    if isinstance(ys, list | tuple):
        for y in ys:
            if isinstance(y, bool) or not (isinstance(y, int | float) and y in (-1, 1)):
                errors.append((VALUE, ["ys["]))
    ok, out = raises_documented(
        lambda: max_margin_loss(scores, ys), errors, ops=["sub", "mul", "relu", "add"]
    )
    assert not (ok and errors), out
    if ok:
        finite_graph(out)
        backward_is_finite_or_refused(out)
        s = [v.data if isinstance(v, Value) else float(v) for v in scores]
        if all(abs(a) < 1e300 for a in s):
            sum_check(out, [max(0.0, 1 - y * a) for a, y in zip(s, ys, strict=True)])


@given(params=seq_of(loss_elems), alpha=anything)
@example(params=5, alpha=1.0)
@example(params=None, alpha=1.0)
@example(params=[Value(1.0)], alpha="a")
@example(params=[Value(1.0)], alpha=math.nan)
def test_l2(params, alpha):
    errors = list_errors("params", params)
    if not isinstance(alpha, Value) and not isinstance(expect_number(alpha), float):
        errors.append((expect_number(alpha), ["alpha"]))
    ok, out = raises_documented(lambda: l2(params, alpha), errors, ops=["dot", "mul"])
    assert not (ok and errors), out
    if ok:
        finite_graph(out)
        backward_is_finite_or_refused(out)


# SGD


@given(
    params=st.one_of(
        st.lists(st.builds(Value, moderate), max_size=3), st.lists(anything, max_size=2), anything
    ),
    lr=anything,
    grads=st.lists(finite, min_size=3, max_size=3),
)
@example(params=5, lr=0.1, grads=[0.0, 0.0, 0.0]).via("a bare TypeError: not iterable")
@example(params=[Value(1.0)], lr=10**400, grads=[0.0, 0.0, 0.0]).via("a bare OverflowError")
@example(params=[Value(1.0)], lr=Fraction(1, 2), grads=[1.0, 0.0, 0.0])
@example(params=[Value(1.0)], lr=0.1, grads=[MAX, 0.0, 0.0])
def test_sgd(params, lr, grads):
    errors = []
    if isinstance(params, str | bytes | Value) or not hasattr(params, "__iter__"):
        errors.append((TYPE, ["params"]))
    else:
        errors += [(TYPE, ["params["]) for p in params if not isinstance(p, Value)]
    if not isinstance(expect_number(lr), float):
        errors.append((expect_number(lr), ["lr"]))
    ok, opt = raises_documented(lambda: SGD(params, lr), errors)
    assert not (ok and errors), opt
    if not ok:
        return
    for p, g in zip(opt.params, grads, strict=False):
        p.grad = g
    before = [p.data for p in opt.params]
    new = [p.data - opt.lr * p.grad for p in opt.params]  # one step, in plain floats
    ok, e = raises_documented(opt.step, [(VALUE, ["params["])])
    assert ok == all(map(math.isfinite, new)), e
    assert [p.data for p in opt.params] == (new if ok else before)
    opt.zero_grad()
    assert all(p.grad == 0.0 for p in opt.params)
