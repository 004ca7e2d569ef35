"""The public testing tools say what is wrong: malformed programs, kinks, short failures."""

import math

import pytest

from micrograd import Value
from micrograd.ops import Domain
from micrograd.testing import (
    GradcheckError,
    Instr,
    Program,
    check_program,
    edge_points,
    gradcheck,
    one_sided_differences,
)


@pytest.mark.parametrize(
    ("leaves", "instrs", "message"),
    [
        ((1.0,), (Instr("tanhh", ("x0",)),), "instruction 0 .* no op 'tanhh' in the registry"),
        ((1.0,), (Instr("tanh", ("v3",)),), "instruction 0 .* 'v3' is not defined before it"),
        ((1.0,), (Instr("add", ("x0",)),), "instruction 0 .* add takes 2 inputs, got 1"),
        ((1.0,), (Instr("pow", ("x0",)),), r"pow takes 1 params \(n\), got 0"),
        ((1.0,), (Instr("dot", ("x0", "x0", "x0")),), "dot takes an even number of inputs"),
        ((1.0,), (), "at least one instruction"),
        ((1.0,), (Instr("neg", ("x0",)), Instr("neg", ("x1",))), "instruction 1 .* 'x1'"),
    ],
)
def test_a_malformed_program_says_what_is_wrong(leaves, instrs, message):
    with pytest.raises(ValueError, match=message):
        Program(leaves, instrs)


def test_program_leaves_must_be_numbers():
    with pytest.raises(TypeError, match="leaves must be a tuple of floats"):
        Program(("1.0",), (Instr("neg", ("x0",)),))


def test_gradcheck_at_a_kink_says_so_and_names_the_convention():
    with pytest.raises(GradcheckError, match=r"input 0 = 0.0 is at a kink") as e:
        gradcheck(lambda x: x.relu(), 0.0)
    assert "relu's registry entry declares the derivative 0 at 0" in str(e.value)


def test_gradcheck_at_a_kink_of_a_composite_function_says_so():
    with pytest.raises(GradcheckError, match="is at a kink") as e:
        gradcheck(lambda x: (x * 2.0).relu() + x, 0.0)
    assert "registry entry" not in str(e.value)  # not one op: no single convention to name


def test_gradcheck_away_from_kinks_passes_and_a_wrong_gradient_fails_plainly():
    assert gradcheck(lambda x, y: x * y + x.tanh(), 0.5, -1.5)[1] == 0.5

    def wrong(x):  # d/dx of x * x with one factor held constant: half the truth
        return x * Value(x.data)

    with pytest.raises(GradcheckError, match=r"^d/d input 0: backward gives 3.0, finite"):
        gradcheck(wrong, 3.0)


def test_one_sided_differences_see_a_kink():
    left, right, error = one_sided_differences(lambda xs: abs(xs[0]), [0.0], 0)
    assert (left, right) == (-1.0, 1.0)
    assert error < 1e-6


def test_check_program_failure_puts_the_one_line_first():
    program = Program((0.5,), (Instr("tanh", ("x0",)),))

    def wrong(p):  # the engine under test: the right value, a wrong gradient
        return 0.46211715726000974, [1.0]

    with pytest.raises(GradcheckError) as e:
        check_program(program, engine=wrong)
    first, _, rest = str(e.value).partition("\n\n")
    assert first.startswith("d/dx0 = 1.0, the oracle says 0.786447732965927410")  # 20 digits
    assert len(first) < 120
    assert rest.splitlines()[1:3] == ["x0 = Value(0.5)", "v0 = x0.tanh()"]
    assert all(len(line) < 200 for line in str(e.value).splitlines())


@pytest.mark.parametrize(
    ("leaves", "instrs", "error", "message"),
    [
        ((), (Instr("exp", (10**400,)),), ValueError, r"instruction 0 .* constant input 1 .*"),
        ((1.0,), (Instr("exp", (float("inf"),)),), ValueError, "constant input 1 .* got inf"),
        ((float("nan"),), (Instr("exp", ("x0",)),), ValueError, "leaf x0 .* finite .* got nan"),
        ((-(10**400),), (Instr("exp", ("x0",)),), ValueError, "leaf x0 .* beyond float64"),
        ((1.0,), (Instr("pow", ("x0",), (float("nan"),)),), ValueError, "param n .* got nan"),
        ((1.0,), (Instr("pow", ("x0",), ("2",)),), TypeError, "param n must be a real number"),
        ((1.0,), (Instr(["exp"], ("x0",)),), TypeError, "instruction 0 .* op must be .* str"),
        ((1.0,), (Instr("exp", "x0"),), TypeError, "args and params must be tuples"),
        ((1.0,), ("exp",), TypeError, "instruction 0: an instruction must be an Instr"),
    ],
)
def test_a_program_holds_finite_numbers_only(leaves, instrs, error, message):
    with pytest.raises(error, match=message) as e:
        Program(leaves, instrs)
    assert len(str(e.value)) < 200  # a 400-digit int is quoted in brief


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: gradcheck(5, 1.0), TypeError, "^gradcheck: fn must be callable, got int"),
        (lambda: gradcheck(lambda x: 1.0, 1.0), TypeError, "^gradcheck: fn must return a Value"),
        (lambda: gradcheck(lambda x: x, 1.0, value=2), TypeError, "^gradcheck: value must be"),
        (lambda: gradcheck(lambda x: x), TypeError, "^gradcheck: give at least one input"),
        (lambda: gradcheck(lambda x: x, "a"), TypeError, "^gradcheck: input 0 must be a real"),
        (lambda: gradcheck(lambda x, y: x, 1.0, None), TypeError, "^gradcheck: input 1 must"),
        (lambda: gradcheck(lambda x: x, True), TypeError, "^gradcheck: input 0 .* bool"),
        (lambda: gradcheck(lambda x: x, 10**400), ValueError, "input 0 .* beyond float64"),
        (lambda: gradcheck(lambda x: x, float("nan")), ValueError, "input 0 .* got nan"),
        (lambda: check_program(5), TypeError, "^check_program: program must be a Program"),
        (lambda: check_program(None), TypeError, "^check_program: program must be a Program"),
    ],
)
def test_a_wrong_argument_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_gradcheck_takes_a_value_as_its_number():
    assert gradcheck(lambda x: x * x, Value(1.5)) == [3.0]


@pytest.mark.parametrize("x", [5.960464477539063e-08, -5.960464477539063e-08, 3e-7])
def test_gradcheck_within_the_central_step_of_a_kink_says_so(x):
    # The one-sided step (EPS**0.5 ~ 1.5e-8) does not reach the kink from x, the central
    # difference's stencil (up to 2 EPS**(1/3) ~ 1.2e-5) straddles it.
    with pytest.raises(GradcheckError, match=rf"^input 0 = {x!r} is near a kink of fn: the cent"):
        gradcheck(lambda v: v.relu(), x)
    with pytest.raises(GradcheckError, match="relu has a kink at 0, where its registry entry "):
        gradcheck(lambda v: v.relu(), x)


def test_check_program_at_a_kink_gives_the_declared_derivative():
    program = Program((0.3, 1.5), (Instr("sub", ("x0", 0.3)), Instr("relu", ("v0",)),
                                    Instr("mul", ("v1", "x1"))))  # fmt: skip
    with pytest.raises(GradcheckError) as e:
        check_program(program)
    first = str(e.value).split("\n")[0]
    assert first.startswith("d/dx0 = 0.0, the oracle says 0.75")
    assert "v1 = v0.relu() is at 0.0, a kink of relu, where its registry entry declares the " \
        "derivative 0 (PyTorch's convention)" in first  # fmt: skip


def test_check_program_names_a_kink_only_on_the_failing_leafs_path():
    program = Program((0.5, 0.0), (Instr("relu", ("x1",)), Instr("add", ("x0", "v0"))))

    def wrong(p):  # d/dx0 is wrong; relu's kink at x1 is not on x0's path
        return 0.5, [2.0, 0.0]

    with pytest.raises(GradcheckError, match=r"^d/dx0 = 2.0, the oracle says 1.0") as e:
        check_program(program, engine=wrong)
    assert "kink" not in str(e.value)


def test_check_program_near_a_kink_says_the_central_difference_straddles_it():
    program = Program((1e-9,), (Instr("relu", ("x0",)),))
    with pytest.raises(GradcheckError, match=r"^d/dx0 = 1.0, finite differences say 0.50") as e:
        check_program(program)
    assert "but x0 is near a kink: the central difference" in str(e.value).split("\n")[0]


def test_edge_points_keep_both_zeros_and_add_the_ops_own_edges_once():
    points = edge_points(Domain(lo=0.0, hi=5.0, holes=(1.0,)), kinks=(3.0, 0.5))
    signs = [math.copysign(1.0, x) for x in points if x == 0.0]
    assert signs == [1.0, -1.0]  # 0.0 == -0.0, yet each is an edge of its own
    assert {3.0, 5.0} <= set(points)  # a kink and the domain's finite upper end
    assert len(points) == len({(x, math.copysign(1.0, x)) for x in points})  # each once
    assert all(math.isfinite(x) for x in edge_points())  # REAL's ends are not inputs
