"""Fuzz micrograd.testing: gradcheck, check_program and the programs' checks.

The contract: tests/fuzz/strategies.py."""

import math

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from micrograd import OPS
from micrograd.testing import GradcheckError, Instr, Program, check_program, gradcheck, run_engine
from tests.fuzz.strategies import (
    TYPE,
    VALUE,
    anything,
    element_errors,
    finite,
    finite_graph,
    huge_ints,
    junk,
    moderate,
    must_raise,
    raises_documented,
    real_numbers,
)

# The testing helpers

FUNCTIONS = {  # a function of Values with its arity
    "x * y": (lambda x, y: x * y, 2),
    "tanh(x) / (1 + y**2)": (lambda x, y: x.tanh() / (1.0 + y**2), 2),
    "exp": (lambda x: x.exp(), 1),
    "log": (lambda x: x.log(), 1),
    "relu": (lambda x: x.relu(), 1),
    "sigmoid": (lambda x: x.sigmoid(), 1),
}


@given(name=st.sampled_from(sorted(FUNCTIONS)), data=st.data())
@example(name="relu", data=None).via("relu at its kink")
def test_gradcheck_passes_a_correct_function_or_says_where_it_cannot(name, data):
    fn, arity = FUNCTIONS[name]
    inputs = [0.0] if data is None else [data.draw(moderate, label="x") for _ in range(arity)]
    ok, out = raises_documented(
        lambda: gradcheck(fn, *inputs),
        [(GradcheckError, ["is at a kink", "is near a kink"])],  # only relu near 0 is (near) one
        ops=sorted(OPS),  # a finite-difference step may leave a domain (log near 0)
    )
    if ok:
        assert len(out) == arity
        assert all(map(math.isfinite, out))
    elif isinstance(out, GradcheckError):
        # Finite differences straddle the kink at 0 when x is within a step (EPS**(1/3)) of it.
        assert name == "relu"
        assert abs(inputs[0]) < 1e-5


@given(name=st.sampled_from(sorted(FUNCTIONS)), data=st.data())
def test_gradcheck_names_a_bad_input(name, data):
    fn, arity = FUNCTIONS[name]
    inputs = [data.draw(moderate | anything, label="input") for _ in range(arity)]
    errors = element_errors(inputs, ["input"])
    assume(errors)
    ok, out = raises_documented(lambda: gradcheck(fn, *inputs), errors)
    assert not ok, out


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: gradcheck(5, 1.0), TYPE, ["fn"]),  # 'int' object is not callable
        (lambda: gradcheck(lambda x: 1.0, 1.0), TYPE, ["fn"]),  # AttributeError: no backward
        (lambda: gradcheck(lambda x: x, "a"), TYPE, ["input"]),  # could not convert string
        (lambda: gradcheck(lambda x: x, None), TYPE, ["input"]),  # float() argument must be
        (lambda: gradcheck(lambda x: x, 10**400), VALUE, ["input"]),  # bare OverflowError
        (lambda: check_program(5), TYPE, ["program"]),  # AttributeError: no attribute 'run'
        (lambda: check_program(None), TYPE, ["program"]),
        (  # "backward gives 1.0, finite differences 0.5049": within a step of the kink at 0
            lambda: gradcheck(lambda x: x.relu(), 5.960464477539063e-08),
            GradcheckError,
            ["kink"],
        ),
        (  # a constant beyond float64: a bare OverflowError when the program runs
            lambda: run_engine(Program((), (Instr("exp", (10**400,)),))),
            VALUE,
            ["input", "constant"],
        ),
        (  # "d/dx0 = 0.0, the oracle says 0.5": not a word about the kink
            lambda: check_program(Program((0.0,), (Instr("relu", ("x0",)),))),
            GradcheckError,
            ["kink"],
        ),
    ],
    ids=[
        "gradcheck-fn-5",
        "gradcheck-fn-returns-float",
        "gradcheck-input-str",
        "gradcheck-input-None",
        "gradcheck-input-huge-int",
        "check_program-5",
        "check_program-None",
        "gradcheck-near-a-kink",
        "program-constant-huge-int",
        "check_program-at-a-kink",
    ],
)
def test_testing_helpers_name_what_is_wrong(call, error, words):
    must_raise(call, error, words)


@given(
    leaves=st.one_of(st.lists(real_numbers | junk, max_size=2).map(tuple), anything),
    op=st.sampled_from([*sorted(OPS), "nope"]),
    args=st.lists(
        st.sampled_from(["x0", "x1", "v0", "v9"]) | finite | huge_ints | junk, max_size=3
    ),
    params=st.lists(anything, max_size=1).map(tuple),
)
@example(leaves=(1.0,), op="pow", args=["x0"], params=("a",)).via("bare: must be real number")
@example(leaves=(1.0,), op="pow", args=["x0"], params=(math.nan,)).via("bare: int(nan)")
@example(leaves=(math.nan,), op="exp", args=["x0"], params=())
@example(leaves=(), op="exp", args=[10**400], params=()).via("bare OverflowError when run")
def test_programs_are_checked_or_name_what_is_wrong(leaves, op, args, params):
    """Building a Program and running it on the engine: the program, or a named error."""
    ok, program = raises_documented(
        lambda: Program(leaves, (Instr(op, tuple(args), params),)),
        [(TYPE, ["Program"]), (VALUE, ["Program"])],
    )
    if not ok:
        return
    leaf_errors = element_errors(program.leaves, ["data"])
    const_errors = element_errors([a for a in args if not isinstance(a, str)], ["input"])
    ok, out = raises_documented(
        lambda: run_engine(program),
        [*leaf_errors, *const_errors, *element_errors(params, ["param"])],
        ops=[op],
    )
    if ok:
        finite_graph(out[1])
