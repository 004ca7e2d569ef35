"""Adding an op to the registry is enough: random programs draw it and the suite checks it."""

import math

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from micrograd import Op, Value
from micrograd.testing import (
    GradcheckError,
    check_program,
    check_second_order,
    programs,
    registered,
)
from tests import test_registry
from tests.property import test_ops, test_second_order

GENERATED = [  # the tests generated for every op of the registry
    test_registry.test_f_takes_the_inputs_then_the_params,
    test_registry.test_syntax_has_a_field_per_input_and_param,
    test_registry.test_references_are_declared,
    test_registry.test_domains_are_declared_per_input_and_not_empty,
    test_registry.test_kinks_map_points_to_the_derivative_there,
    test_registry.test_f_returns_the_declared_derivative_at_each_kink,
    test_registry.test_value_api_dispatches_through_the_registry,
    test_ops.test_value_and_partials_match_mpmath,
    test_ops.test_any_finite_input_gives_the_right_answer_or_a_clear_error,
    test_second_order.test_partials_as_values_match_mpmath,
    test_second_order.test_second_derivatives_match_the_oracle_and_finite_differences,
]


def softplus(a):
    e = math.exp(-abs(a))
    return max(a, 0.0) + math.log1p(e), (1 / (1 + e) if a >= 0 else e / (1 + e),)


# softplus under another name: docs/adding-an-op.md walks a user through adding the real one to ops.py.
SOFTPLUS = Op(
    "smoothrelu",
    1,
    softplus,
    "{}.smoothrelu()",
    symbol="smoothrelu",
    torch="nn.functional.softplus",
    mp=lambda mp, a: mp.log1p(mp.exp(a)),
    partials=lambda y, a: (a.sigmoid(),),
)
WRONG = Op(
    "wrongplus",
    1,
    lambda a: (softplus(a)[0], (0.5,)),
    "{}.wrongplus()",
    torch="nn.functional.softplus",
    mp=lambda mp, a: mp.log1p(mp.exp(a)),
)

# Its partials= has the right value but is a constant: its second derivative is lost.
FLAT = Op(
    "flatplus",
    1,
    softplus,
    "{}.flatplus()",
    torch="nn.functional.softplus",
    mp=lambda mp, a: mp.log1p(mp.exp(a)),
    partials=lambda y, a: (a.sigmoid().data,),
)


def at_most(n, test):
    """``test`` (a generated test, given ``data`` if it draws) drawing at most n examples,
    whatever the profile: here they show that a new op gets its tests, which the registry's
    own ops run at the profile's size."""
    inner = getattr(getattr(test, "hypothesis", None), "inner_test", None)
    if inner is None:
        return test
    return settings(max_examples=n, database=None)(given(data=st.data())(inner))


def test_a_new_op_is_drawn_into_programs_and_checked():
    with registered(SOFTPLUS):
        assert Value(0.0).smoothrelu().data == math.log(2)  # a Value method, from the syntax
        seen = []

        @settings(max_examples=100, database=None)
        @given(programs())
        def check(program):
            seen.extend(ins for ins in program.instrs if ins.op == "smoothrelu")
            check_program(program)
            check_second_order(program)

        check()
        assert seen, "100 programs never used the new op"
        for test in GENERATED:
            at_most(100, test)(op=SOFTPLUS)
    assert not hasattr(Value, "smoothrelu")


def test_a_wrong_derivative_fails_the_suite():
    with registered(WRONG):

        def wrong(program):
            try:
                check_program(program)
            except GradcheckError:
                return True
            return False

        program = find(programs(), wrong, settings=settings(max_examples=500, database=None))
        assert any(ins.op == "wrongplus" for ins in program.instrs)
        with pytest.raises(GradcheckError, match="wrongplus"):
            check_program(program)
        with pytest.raises(AssertionError, match=r"wrongplus\(.*\): d/dx0 0\.5, exact"):
            test_ops.test_value_and_partials_match_mpmath(op=WRONG)


def test_a_wrong_second_derivative_fails_the_suite():
    with registered(FLAT):
        at_most(100, test_second_order.test_partials_as_values_match_mpmath)(
            op=FLAT
        )  # values: right
        with pytest.raises(GradcheckError, match=r"d2/dx0dx0 = 0.0, the oracle says"):
            at_most(
                100,
                test_second_order.test_second_derivatives_match_the_oracle_and_finite_differences,
            )(op=FLAT)
