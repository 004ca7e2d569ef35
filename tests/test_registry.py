"""The op registry: every entry is complete, and the Value API dispatches through it.

Each test runs once per registered op (the id is the op's name), so an incomplete entry fails
with its name in the test id and the message says what is missing.
"""

import inspect
import itertools
import math
import string
from collections.abc import Mapping

import mpmath
import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd import OPS, Domain, Op, Value, dot
from micrograd.ops import (
    VARIADIC,
    on_change,
    op_table,
    register,
    registered,
    registry,
    unregister,
)
from micrograd.testing import EPS, ULPS, op_params, points, spell
from tests.helpers import SQUARE, each_op, same_float


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
    # create_graph builds gradients from it; tests/property/test_second_order.py checks it
    assert op.partials is not None, f"{op.name}: no partials written with Values (partials=...)"
    assert op.symbol, f"{op.name}: no symbol (symbol=...): draw_dot would draw an empty op"


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
    assert out._entry is op, f"{spell(op, list(env), params)} did not go through OPS[{op.name!r}]"
    assert all(p is v for p, v in zip(out._parents, env.values(), strict=True))
    assert out.data == op.f(*xs, *params)[0]


# PyTorch's (x, value, derivative) at every kink of our ops and at its signed twin, recorded
# from torch 2.13.0 (float64): torch.relu(x) and x.grad after backward(). The everyday suite
# pins the registry to it without torch; tests/reference/test_ops.py checks the record against
# torch. (A list, not a dict: 0.0 and -0.0 are the same key.)
PYTORCH_AT_KINKS = {
    "relu": [(0.0, 0.0, 0.0), (-0.0, -0.0, 0.0)],
}


def kink_points(op):
    """Each kink, and -0.0 beside a kink at 0 (the same point, the other sign of zero)."""
    return [y for k in op.kinks for y in ((k, -k) if k == 0 else (k,))]  # no set: 0.0 == -0.0


@each_op
def test_kinks_map_points_to_the_derivative_there(op):
    assert isinstance(op.kinks, Mapping), f"{op.name}: kinks must be a Mapping {{x: d out/dx}}"
    if op.kinks:
        assert op.arity == 1, f"{op.name}: kinks are declared for ops of one input"
    for x, d in op.kinks.items():
        assert isinstance(x, float), f"{op.name}: kink {x!r} is not a float"
        assert math.isfinite(x), f"{op.name}: kink {x!r}"
        assert isinstance(d, float), f"{op.name}: derivative {d!r} at {x} is not a float"
        assert math.isfinite(d), f"{op.name}: derivative {d!r} at {x}"


@each_op
def test_f_returns_the_declared_derivative_at_each_kink(op):
    # Exactly, the sign of zero included, at the kink and at -0.0 for a kink at 0; the value
    # there is the exact one within the op's ULPS (mpmath), the same for both signs of zero.
    for params in param_sets(op):
        for x in kink_points(op):
            y, (d,) = op.f(x, *params)
            want = op.kinks[x]
            assert same_float(d, want), (
                f"{op.name}: f gives d/dx {d!r} at x = {x!r}, the registry declares {want!r}"
            )
            exact = op.mp(mpmath, mpmath.mpf(x), *params)
            assert abs(y - exact) <= ULPS * EPS * abs(exact), f"{op.name}({x!r}) = {y!r}"
            assert y == op.f(abs(x), *params)[0], f"{op.name}: f(-0.0) != f(0.0)"


@pytest.mark.parametrize("name", list(PYTORCH_AT_KINKS))
def test_the_kink_conventions_are_pytorchs(name):
    op = OPS[name]
    recorded = PYTORCH_AT_KINKS[name]
    declared = [(x, op.kinks.get(x)) for x in kink_points(op)]
    assert len(declared) == len(recorded), f"{name}: kinks {dict(op.kinks)}, PyTorch's {recorded}"
    for x, value, d in recorded:
        assert x in op.kinks, f"{name}: PyTorch has a kink at {x!r}, the registry does not"
        assert same_float(op.kinks[x], d), (
            f"{name}: the registry declares d/dx {op.kinks[x]!r} at {x!r}, PyTorch's is {d!r}"
        )
        y, (dy,) = op.f(x)
        assert same_float(y, value), f"{name}({x!r}) = {y!r}, PyTorch gives {value!r}"
        assert same_float(dy, d), f"{name}'({x!r}) = {dy!r}, PyTorch gives {d!r}"


def test_a_name_is_declared_once():
    assert list(registry(OPS["neg"], OPS["exp"])) == ["neg", "exp"]
    op = OPS["neg"]
    with pytest.raises(ValueError, match="declared twice"):
        registry(op, op)
    with pytest.raises(ValueError, match="already registered"):
        register(op)


def test_a_registered_method_op_becomes_a_value_method():
    op = SQUARE
    with registered(op):
        x = Value(3.0)
        y = x.square()
        y.backward()
        assert (y.data, x.grad, y._entry) == (9.0, 6.0, op)
    assert not hasattr(Value, "square")


def test_a_registry_hook_sees_every_op_then_each_change_until_stopped():
    square = Op("square", 1, lambda a: (a * a, (2 * a,)), "square({})", torch="square")
    seen = []
    stop = on_change(lambda op: seen.append(("+", op)), lambda op: seen.append(("-", op)))
    try:
        assert seen == [("+", op) for op in OPS.values()]  # the ops registered already
        seen.clear()
        with registered(square):
            assert seen == [("+", square)]
        assert seen == [("+", square), ("-", square)]
    finally:
        stop()
    with registered(square):
        pass
    assert len(seen) == 2, "a stopped hook was called"


def test_unregistering_an_op_that_is_not_registered_names_it():
    with pytest.raises(KeyError) as raised:
        unregister("nope")
    assert raised.value.args == ("no op 'nope' is registered",)


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


def test_domains_contain_what_they_print():
    d = Domain(lo=-1.0, hi=1.0, holes=(0.0,))
    assert [x in d for x in (-1.0, -0.5, 0.0, 0.5, 1.0)] == [False, True, False, True, False]
    closed = Domain(lo=0.0, hi=1.0, closed=True)  # closed at its lower end only
    assert [x in closed for x in (-1e-300, 0.0, 0.5, 1.0)] == [False, True, True, False]


def test_op_table_shows_an_op_it_was_not_written_for():
    def clip(a, lo):
        return min(max(a, lo), 1.0), (1.0 if lo < a < 1.0 else 0.0,)

    def undocumented(lo):
        return (Domain(),)

    op = Op(
        "clip",
        1,
        clip,
        "{}.clip({!r})",
        domain=undocumented,
        symbol="clip",
        kinks={-1.0: 0.0, 1.0: 0.0},
        torch=lambda torch, a, lo: torch.clamp(a, lo, 1.0),
        params={"lo": (-1.0,)},
    )
    row = op_table({"clip": op}).splitlines()[2]
    assert row == "| clip | `x.clip(lo)` | `clip` | - | x = -1: 0, x = 1: 0 | - |"


def test_op_table_shows_a_dash_for_what_an_op_does_not_declare():
    def unnamed(n):
        return f"**{n}"

    op = Op("bare", 1, lambda a: (a, (1.0,)), "bare({})")
    named = Op("named", 1, lambda a: (a, (1.0,)), "named({})", symbol=unnamed, torch="abs")
    rows = op_table({"bare": op, "named": named}).splitlines()[2:]
    assert rows == [
        "| bare | `bare(x)` | - | any finite x | - | - |",
        "| named | `named(x)` | - | any finite x | - | `torch.abs` |",
    ]
