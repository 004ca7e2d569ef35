"""The public testing tools say what is wrong: malformed programs, kinks, short failures."""

import pytest

from micrograd import Value
from micrograd.testing import (
    GradcheckError,
    Instr,
    Program,
    check_program,
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
