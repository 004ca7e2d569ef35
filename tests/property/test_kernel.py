"""The kernel (micrograd/kernel.py) against its specification, reference_backward: the same
floats, bit for bit and sign of zero included, on random programs and on MLPs (fused nodes,
relus that are off), for k calls on grads set beforehand, and for passes interrupted anywhere.

Error model: none. Both add the same products in the same order, so every float must be equal;
a tolerance here would hide a reordered sum.
"""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd import OpError, Value
from micrograd.nn import MLP
from micrograd.testing import programs, reference_backward, run_engine
from micrograd.viz import trace
from tests.helpers import same_float

GRADIENTS = st.floats(-1e3, 1e3) | st.sampled_from([1.0, 0.0, -0.0])
PRESET = st.floats(-1e6, 1e6) | st.just(-0.0)  # a grad left from an earlier pass, or by hand


def nodes_of(root: Value) -> list[Value]:
    """Every node root was computed from, root included, in a fixed order."""
    return trace(root)[0]


@st.composite
def graphs(draw: st.DrawFn) -> Value:
    """A random program's output, or an MLP's summed outputs (fused neurons, relus off)."""
    if draw(st.booleans()):
        return run_engine(draw(programs()))[1]
    nin = draw(st.integers(1, 3))
    model = MLP(
        nin,
        draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)),
        seed=draw(st.integers(0, 99)),
    )
    out = model([draw(st.floats(-3, 3)) for _ in range(nin)])
    return sum(out, Value(0.0)) if isinstance(out, list) else out


def expected_grads(root, gradient, preset, k):
    """What k calls of root.backward(gradient) leave on each node, by the reference."""
    spec = reference_backward(root, gradient)
    want = []
    for v, g in zip(nodes_of(root), preset, strict=True):
        for _ in range(k if v in spec else 0):
            g += spec[v]
        want.append(g)
    return want


def assert_grads(root, want, why):
    got = [v.grad for v in nodes_of(root)]
    bad = [
        (i, a, b) for i, (a, b) in enumerate(zip(got, want, strict=True)) if not same_float(a, b)
    ]
    assert not bad, f"{why}: (node, kernel, reference) differ at {bad[:3]}"
    marked = [v for v in nodes_of(root) if v._pass_grad is not None]
    assert not marked, f"{why}: {len(marked)} nodes left marked (I1)"


@given(graphs(), GRADIENTS, st.data(), st.integers(1, 3))
def test_backward_adds_the_reference_gradients_bit_for_bit(root, gradient, data, k):
    nodes = nodes_of(root)
    preset = data.draw(st.lists(PRESET, min_size=len(nodes), max_size=len(nodes)))
    for v, g in zip(nodes, preset, strict=True):
        v.grad = g
    want = expected_grads(root, gradient, preset, k)
    for _ in range(k):
        root.backward(gradient)
    assert_grads(root, want, f"{k} backward({gradient!r})")


class Tripwire(tuple):
    """A node's partials that raise KeyboardInterrupt (a Ctrl-C) on the n-th read: reach and
    propagate read partials, so a drawn n stops the pass in either."""

    reads_left = 0

    def __iter__(self):
        Tripwire.trip()
        return super().__iter__()

    def __getitem__(self, i):
        Tripwire.trip()
        return super().__getitem__(i)

    @staticmethod
    def trip():
        Tripwire.reads_left -= 1
        if Tripwire.reads_left == 0:
            raise KeyboardInterrupt


class TripwireGrad(float):
    """A grad whose next addition raises KeyboardInterrupt: stops the pass in commit."""

    def __add__(self, other):
        raise KeyboardInterrupt


@given(graphs(), GRADIENTS, st.data())
def test_an_interrupted_pass_leaves_every_grad_and_mark_as_it_was(root, gradient, data):
    nodes = nodes_of(root)
    preset = data.draw(st.lists(PRESET, min_size=len(nodes), max_size=len(nodes)))
    for v, g in zip(nodes, preset, strict=True):
        v.grad = g
    want = expected_grads(root, gradient, preset, 1)
    victim = data.draw(st.sampled_from(nodes))
    where = data.draw(st.sampled_from(["partials", "grad"]))
    if where == "partials":
        kept = victim._partials
        victim._partials = Tripwire(kept)
        Tripwire.reads_left = data.draw(st.integers(1, 4))
    else:
        victim.grad = TripwireGrad(victim.grad)
    try:
        root.backward(gradient)
    except KeyboardInterrupt:
        interrupted = True
    else:
        interrupted = False  # the pass did not read the partials that often, or not at all
    finally:
        if where == "partials":
            victim._partials = kept
        else:
            victim.grad = float(victim.grad)
    if interrupted:
        assert_grads(root, preset, f"interrupted at the {where} of a node")
        root.backward(gradient)  # and the next pass is a whole pass
    else:
        reached = victim in reference_backward(root, gradient)
        assert where == "partials" or not reached, "commit never added to the tripwire grad"
    assert_grads(root, want, f"backward({gradient!r}) after an interrupt at the {where}")


@pytest.mark.parametrize("seed", [-1e300, 1e300])
def test_a_pass_that_overflows_is_refused_and_changes_nothing(seed):
    x = Value(1e10)
    y = (x * x).tanh() + x * 1e10  # d y / d x = 2e10 tanh'(1e20) + 1e10: times 1e300 overflows
    assert not math.isfinite(reference_backward(y, seed)[x])
    x.grad = 1.0
    before = [v.grad for v in nodes_of(y)]
    with pytest.raises(OpError):
        y.backward(seed)
    assert_grads(y, before, "a refused pass")


def test_an_interrupt_at_the_roots_own_partials_leaves_it_unmarked():
    # Found by the test above: reach read the root's partials outside any handler, so a Ctrl-C
    # there left the root marked, and its next backward() added nothing (I1, I5).
    x = Value(1.0)
    y = x * 2.0
    y._partials = Tripwire(y._partials)
    Tripwire.reads_left = 1
    with pytest.raises(KeyboardInterrupt):
        y.backward()
    y._partials = tuple(y._partials)
    assert_grads(y, [0.0, 0.0, 0.0], "interrupted at the root's partials")
    y.backward()
    assert x.grad == 2.0
