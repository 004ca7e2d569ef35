"""Gradient accumulation: the semantics of PyTorch, and the classic bugs they rule out.

- `=` for `+=`: a shared node (a + a, a * a, diamonds) keeps one contribution only.
- over-counting: a second backward() re-propagates gradient already accumulated in
  intermediate nodes (the original micrograd: x*2*3 twice gives 18, not 12).
- missing zero_grad: gradients of an earlier loss leak into the next step.
"""

from hypothesis import given
from hypothesis import strategies as st

from micrograd import Value
from micrograd.nn import MLP, SGD
from micrograd.testing import programs, run_engine


def test_shared_inputs_add_their_contributions():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0
    b = Value(3.0)
    (b * b).backward()
    assert b.grad == 6.0
    c = Value(-2.0)
    (c * c * c).backward()
    assert c.grad == 12.0  # 3 c**2


def test_diamond():
    a = Value(2.0)
    b, c = a * 3.0, a.exp()
    d = b * c  # d = 3a e**a, dd/da = 3 e**a (1 + a)
    d.backward()
    assert abs(a.grad - 3 * c.data * 3.0) <= 1e-12 * a.grad
    assert b.grad == c.data
    assert c.grad == b.data


def test_second_backward_adds_the_same_again():
    x = Value(1.0)
    h = x * 2
    y = h * 3
    y.backward()
    first = (x.grad, h.grad, y.grad)
    y.backward()
    assert (x.grad, h.grad, y.grad) == tuple(2 * g for g in first) == (12.0, 6.0, 2.0)


@given(programs(), st.integers(1, 5))
def test_k_backward_calls_add_exactly_k_times_on_every_node(program, k):
    _, out = run_engine(program)
    out.backward()
    once = {id(v): v.grad for v in _nodes(out)}
    for _ in range(k - 1):
        out.backward()
    for v in _nodes(out):
        expected = 0.0
        for _ in range(k):
            expected += once[id(v)]  # the same float additions the engine performs
        assert v.grad == expected


@given(programs())
def test_zero_grad_on_a_graph_resets_every_node_and_backward_repeats(program):
    _, out = run_engine(program)
    out.backward()
    before = [v.grad for v in _nodes(out)]
    out.zero_grad()
    assert all(v.grad == 0.0 for v in _nodes(out))
    out.backward()
    assert [v.grad for v in _nodes(out)] == before


def test_zero_grad_on_a_module_and_the_optimizer():
    model = MLP(2, [4, 1], seed=0)
    model([1.0, -1.0]).backward()
    assert any(p.grad for p in model.parameters())
    model.zero_grad()
    assert not any(p.grad for p in model.parameters())
    model([1.0, -1.0]).backward()
    SGD(model.parameters()).zero_grad()
    assert not any(p.grad for p in model.parameters())


def test_without_zero_grad_gradients_of_two_steps_add():
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    model([0.5, 0.5]).backward()
    first = [p.grad for p in model.parameters()]
    model([0.5, 0.5]).backward()
    assert [p.grad for p in model.parameters()] == [g + g for g in first]


def test_two_losses_over_shared_parameters():
    model = MLP(2, [3, 1], activation="tanh", seed=4)

    def grads(*losses):
        model.zero_grad()
        for loss in losses:
            loss.backward()
        return [p.grad for p in model.parameters()]

    l1 = lambda: model([1.0, 2.0]) * 2.0  # noqa: E731
    l2 = lambda: (model([-1.0, 0.5]) - 1.0) ** 2  # noqa: E731
    g1, g2 = grads(l1()), grads(l2())
    assert grads(l1(), l2()) == [a + b for a, b in zip(g1, g2, strict=True)]
    both = grads(l1() + l2())  # one graph: the same sums in another order
    assert all(
        abs(g - (a + b)) <= 1e-14 * (abs(a) + abs(b)) for g, a, b in zip(both, g1, g2, strict=True)
    )


def test_backward_from_an_intermediate_node_leaves_the_rest():
    x = Value(0.5)
    h = x.tanh()
    y = h * h + x
    h.backward()
    assert x.grad == h._partials[0]
    assert (h.grad, y.grad) == (1.0, 0.0)
    y.backward()
    assert y.grad == 1.0
    assert h.grad == 1.0 + 2 * h.data


def _nodes(out):
    seen, stack, nodes = {id(out)}, [out], []
    while stack:
        v = stack.pop()
        nodes.append(v)
        for p in v._parents:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return nodes
