"""The op registry: every entry is complete, and the Value API dispatches through it.

Each test runs once per registered op (the id is the op's name), so an incomplete entry fails
with its name in the test id and the message says what is missing.
"""

import inspect
import itertools
import math
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

import micrograd.engine
from micrograd import OPS, Domain, Op, Value, dot
from micrograd.engine import register
from micrograd.ops import VARIADIC, registry
from micrograd.testing import op_params, points, spell

each_op = pytest.mark.parametrize("op", list(OPS.values()), ids=lambda op: op.name)


def param_sets(op):
    return list(itertools.product(*op.params.values()))


def n_inputs(op):
    return 2 if op.arity == VARIADIC else op.arity


@each_op
def test_f_takes_the_inputs_then_the_params(op):
    kinds = [p.kind for p in inspect.signature(op.f).parameters.values()]
    if op.arity == VARIADIC or inspect.Parameter.VAR_POSITIONAL in kinds:
        assert inspect.Parameter.VAR_POSITIONAL in kinds, f"{op.name}: a variadic f takes *inputs"
    else:
        assert len(kinds) == op.arity + len(op.params), (
            f"{op.name}: f takes {len(kinds)} arguments, arity {op.arity} + params {list(op.params)}"
        )


@each_op
def test_syntax_has_a_field_per_input_and_param(op):
    fields = [f for _, f, _, _ in string.Formatter().parse(op.syntax) if f is not None]
    expected = 2 if op.arity == VARIADIC else op.arity + len(op.params)
    assert len(fields) == expected, f"{op.name}: syntax {op.syntax!r} needs {expected} fields"


@each_op
def test_references_are_declared(op):
    assert op.torch, f"{op.name}: no PyTorch reference (torch=...)"
    assert op.mp is not None, f"{op.name}: no high-precision reference (mp=...)"


@each_op
def test_params_have_finite_test_values(op):
    for name, values in op.params.items():
        assert values, f"{op.name}: param {name!r} lists no test values"
        assert all(isinstance(v, float) and math.isfinite(v) for v in values), name


@each_op
def test_domains_are_declared_per_input_and_not_empty(op):
    for params in param_sets(op):
        domains = op.domains(*params)
        assert len(domains) == max(op.arity, 1), f"{op.name}{params}: {len(domains)} domains"
        for d in domains:
            assert d.lo < d.hi, f"{op.name}{params}: empty domain {d}"
            assert all(k in d for k in op.kinks), f"{op.name}: a kink lies outside {d}"


@each_op
@given(data=st.data())
def test_value_api_dispatches_through_the_registry(op, data):
    params = data.draw(op_params(op))
    domains = op.domains(*params) * (
        2 * data.draw(st.integers(1, 3)) if op.arity == VARIADIC else 1
    )
    xs = [data.draw(points(d, op.kinks)) for d in domains]
    env = {f"a{i}": Value(x) for i, x in enumerate(xs)}
    out = eval(spell(op, list(env), params), {"dot": dot}, env)
    assert out._fn is op, f"{spell(op, list(env), params)} did not go through OPS[{op.name!r}]"
    assert all(p is v for p, v in zip(out._parents, env.values(), strict=True))
    assert out.data == op.f(*xs, *params)[0]


def test_a_name_is_declared_once():
    assert list(registry(OPS["neg"], OPS["exp"])) == ["neg", "exp"]
    op = OPS["neg"]
    with pytest.raises(ValueError, match="declared twice"):
        registry(op, op)
    with pytest.raises(ValueError, match="already registered"):
        register(op)


def test_a_registered_method_op_becomes_a_value_method(monkeypatch):
    op = Op(
        "square",
        1,
        lambda a: (a * a, (2 * a,)),
        "{}.square()",
        torch="square",
        mp=lambda mp, a: a * a,
    )
    monkeypatch.setattr(micrograd.engine, "OPS", dict(OPS))
    try:
        register(op)
        x = Value(3.0)
        y = x.square()
        y.backward()
        assert (y.data, x.grad, y._fn) == (9.0, 6.0, op)
    finally:
        del Value.square


def test_only_ops_spelled_as_methods_become_methods():
    for op in OPS.values():
        assert hasattr(Value, op.name) == (op.syntax == "{}." + op.name + "()"), op.name


def test_domains_print_as_their_conditions():
    assert str(Domain()) == "any finite x"
    assert str(Domain(lo=0.0)) == "0 < x"
    assert str(Domain(lo=0.0, closed=True)) == "0 <= x"
    assert str(Domain(lo=-1.0, hi=1.0, holes=(0.0,))) == "-1 < x and x < 1 and x != 0"


def test_registry_keeps_the_ops_it_is_given():
    table = registry(OPS["neg"], OPS["exp"])
    assert table["neg"] is OPS["neg"]
    assert table["exp"] is OPS["exp"]
