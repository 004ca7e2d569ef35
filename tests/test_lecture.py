"""The lecture's workflow and micrograd 0.1.0's API, typed as a learner types them.

Labels, ``_prev``, ``_op``, manual backpropagation with ``node._backward()``, the lecture's own
``draw_dot``, ``nn`` as a drop-in for 0.1.0 (``nonlin=``, weights from the global ``random``),
the lecture's all-tanh MLP, and the first loss of 0.1.0's demo.
"""

import math
import random

import pytest

from micrograd import Value
from micrograd.nn import MLP, Layer, Neuron
from micrograd.viz import draw_dot, trace
from tests.helpers import needs_dot


def lecture_expression():
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    c = Value(10.0, label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    f = Value(-2.0, label="f")
    L = d * f
    L.label = "L"
    return a, b, c, d, e, f, L


def test_labels_prev_and_op_symbols():
    a, b, c, d, e, f, L = lecture_expression()
    assert [v.label for v in (a, b, c, d, e, f, L)] == ["a", "b", "c", "d", "e", "f", "L"]
    assert L._prev == {d, f}
    assert isinstance(L._prev, set)
    assert (L._op, d._op, a._op) == ("*", "+", "")
    assert Value(1.0).label == ""


@pytest.mark.parametrize(
    ("expr", "symbol"),
    [
        (lambda x, y: x + y, "+"),
        (lambda x, y: x * y, "*"),
        (lambda x, y: x - y, "-"),
        (lambda x, y: x / y, "/"),
        (lambda x, y: -x, "-"),
        (lambda x, y: x**2, "**2"),
        (lambda x, y: x**-1, "**-1"),
        (lambda x, y: x**0.5, "**0.5"),
        (lambda x, y: x**y, "**"),
        (lambda x, y: x.tanh(), "tanh"),
        (lambda x, y: x.exp(), "exp"),
        (lambda x, y: x.log(), "log"),
        (lambda x, y: x.relu(), "ReLU"),
        (lambda x, y: x.sigmoid(), "sigmoid"),
    ],
)
def test_op_is_the_symbol_the_lecture_prints(expr, symbol):
    # 0.1.0 spells x ** 2 as f"**{other}" -> "**2"; relu as "ReLU"; the lecture's + * tanh exp.
    assert expr(Value(2.0), Value(3.0))._op == symbol


def test_manual_backpropagation_gives_the_lectures_numbers():
    a, b, c, d, e, f, L = lecture_expression()
    L.grad = 1.0
    for node in (L, d, e, c, f, a, b):  # leaves do nothing
        node._backward()
    # dL/dd = f, dL/df = d, dL/de = dL/dc = f, dL/da = f b, dL/db = f a: exact in floats.
    assert (d.grad, f.grad, e.grad, c.grad, a.grad, b.grad) == (-2.0, 4.0, -2.0, -2.0, 6.0, -4.0)


def neuron():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return locals()


def build_topo(root):
    # The lecture's topological sort, recursion and all (fine for a graph this small).
    topo, visited = [], set()

    def build(v):
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build(child)
            topo.append(v)

    build(root)
    return topo


# n = atanh(1/sqrt 2), so o = 1/sqrt 2 and do/dn = 1 - o**2 = 1/2: do/dx1 = w1/2 = -1.5,
# do/dw1 = x1/2 = 1, do/dx2 = w2/2 = 0.5, do/dw2 = x2/2 = 0. b is n rounded to 17 digits and
# tanh' is computed as sech**2, so the grads are these within a few ulps (1e-15 relative).
NEURON_GRADS = {"n": 0.5, "b": 0.5, "x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0}


@pytest.mark.parametrize("how", ["by hand", "lecture topo", "backward"])
def test_the_tanh_neuron_backpropagates_to_the_closed_form(how):
    v = neuron()
    o = v["o"]
    if how == "by hand":
        o.grad = 1.0
        for name in ["o", "n", "b", "x1w1x2w2", "x2w2", "x1w1", "x2", "w2", "x1", "w1"]:
            v[name]._backward()
    elif how == "lecture topo":
        o.grad = 1.0
        for node in reversed(build_topo(o)):
            node._backward()
    else:
        o.backward()
    assert o.data == pytest.approx(1 / math.sqrt(2), rel=1e-15, abs=0)
    for name, grad in NEURON_GRADS.items():
        assert v[name].grad == pytest.approx(grad, rel=1e-15, abs=0.0), name


def test_assigning_a_backward_closure_points_to_the_registry():
    a = Value(2.0)
    with pytest.raises(TypeError, match=r"registry.*micrograd/ops\.py.*help\(micrograd\.ops\)"):
        a._backward = lambda: None


def test_building_a_node_by_hand_points_to_the_registry():
    a, b = Value(2.0), Value(3.0)
    with pytest.raises(TypeError, match=r"micrograd/ops\.py.*help\(micrograd\.ops\)"):
        Value(6.0, (a, b), "*")
    with pytest.raises(TypeError, match="label must be a str"):
        Value(1.0, label=3)


def test_backward_accumulates_exactly_after_manual_steps():
    # backward() does not go through _backward: k calls still add exactly k times.
    *_, L = lecture_expression()
    a = next(v for v in build_topo(L) if v.label == "a")
    L.backward()
    L.backward()
    assert (a.grad, L.grad) == (12.0, 2.0)


def lecture_draw_dot(root):
    # The lecture's own drawing code, as learners type it.
    from graphviz import Digraph

    nodes, edges = set(), set()

    def build(v):
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                build(child)

    build(root)
    dot = Digraph(format="svg", graph_attr={"rankdir": "LR"})
    for n in nodes:
        uid = str(id(n))
        dot.node(
            name=uid,
            label="{ %s | data %.4f | grad %.4f }" % (n.label, n.data, n.grad),  # noqa: UP031 (the lecture's code)
            shape="record",
        )
        if n._op:
            dot.node(name=uid + n._op, label=n._op)
            dot.edge(uid + n._op, uid)
    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)
    return dot


@needs_dot
@pytest.mark.parametrize("draw", [draw_dot, lecture_draw_dot], ids=["ours", "the lecture's"])
def test_draw_dot_shows_labels_data_grads_and_symbols(draw):
    v = neuron()
    v["o"].backward()
    source = draw(v["o"]).source
    for text in ["{ x1 | data 2.0000 | grad -1.5000 }", "{ n | data 0.8814 | grad 0.5000 }"]:
        assert text in source
    for symbol in ['label="*"', 'label="+"', "label=tanh"]:
        assert symbol in source
    assert "rankdir=LR" in source
    assert b"<svg" in draw(v["o"]).pipe()[:1000]


def test_nn_takes_0_1_0_arguments_and_prints_readably():
    assert Neuron(3, nonlin=False)([1.0, 2.0, 3.0])._op == "dot"
    # One node: the activation of the dot (0.1.0 has a ReLU node over a chain of + and *)
    assert Neuron(3, nonlin=True)([1.0, 2.0, 3.0])._op == "ReLU(dot)"
    assert Neuron(3, "tanh")([1.0, 2.0, 3.0])._op == "tanh(dot)"
    assert Neuron(3).activation == "relu"
    assert Neuron(3, nonlin=False).nonlin is False
    layer = Layer(2, 3, nonlin=False)
    assert [n.activation for n in layer.neurons] == ["linear"] * 3
    assert repr(layer) == "Layer(2, 3, activation='linear')"
    assert repr(MLP(2, [16, 16, 1])) == (
        "MLP(2, [16, 16, 1], activation='relu', output_activation='linear')"
    )
    with pytest.raises(ValueError, match="contradicts"):
        Neuron(2, "tanh", nonlin=True)


def test_without_a_seed_weights_come_from_the_global_random_in_0_1_0_order():
    # 0.1.0: each neuron draws its nin weights with random.uniform(-1, 1), layer by layer;
    # biases start at 0 and draw nothing.
    random.seed(1337)
    model = MLP(2, [3, 1])
    rng = random.Random(1337)
    expected = []
    for nin, nout in [(2, 3), (3, 1)]:
        for _ in range(nout):
            expected += [rng.uniform(-1, 1) for _ in range(nin)] + [0.0]
    assert [p.data for p in model.parameters()] == expected
    assert random.random() == rng.random()  # the global state moved on exactly as 0.1.0's
    assert [p.data for p in MLP(2, [3, 1], seed=5).parameters()] == [
        p.data for p in MLP(2, [3, 1], seed=5).parameters()
    ]


def test_the_original_demo_reproduces_its_first_loss():
    # micrograd 0.1.0's demo.ipynb, cell by cell; it prints Value(data=0.8958441028683222, ...).
    np = pytest.importorskip("numpy")
    make_moons = pytest.importorskip("sklearn.datasets").make_moons
    np.random.seed(1337)
    random.seed(1337)
    X, y = make_moons(n_samples=100, noise=0.1)
    y = y * 2 - 1
    model = MLP(2, [16, 16, 1])
    assert len(model.parameters()) == 337

    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores, strict=True)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores, strict=True)]
    # Bias 0 makes our fused dot sum in 0.1.0's order, so the float result is identical.
    assert total_loss.data == 0.8958441028683222
    assert sum(accuracy) / len(accuracy) == 0.5


def test_the_lectures_mlp_trains_with_squared_error():
    random.seed(0)
    mlp = MLP(3, [4, 4, 1], activation="tanh", output_activation="tanh")
    assert all(n.activation == "tanh" for layer in mlp.layers for n in layer.neurons)
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    assert len(mlp.parameters()) == 41
    losses = []
    for _ in range(50):
        ypred = [mlp(x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred, strict=True))
        for p in mlp.parameters():
            p.grad = 0.0
        loss.backward()
        for p in mlp.parameters():
            p.data += -0.05 * p.grad
        losses.append(loss.data)
    assert all(-1 < y.data < 1 for y in ypred)  # tanh on the output
    assert losses[-1] < 0.1 * losses[0]
    assert all(math.copysign(1, p.data) == y for p, y in zip(ypred, ys, strict=True))


def test_the_docs_lecture_page_runs_and_prints_its_numbers(capsys):
    import re
    from pathlib import Path

    section = (Path(__file__).parents[1] / "docs" / "coming-from-the-lecture.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    random.seed(0)
    for block in blocks:
        exec(block, {})
    lines = capsys.readouterr().out.splitlines()
    grads = [float(g) for g in lines[1].split()]
    # The page promises -1.5 1.0 0.5 0.0 to the last digit or two: 1e-15 relative (see above).
    assert grads == pytest.approx([-1.5, 1.0, 0.5, 0.0], rel=1e-15, abs=0.0)
    losses = [float(line.split()[1]) for line in lines[2:]]
    assert len(losses) == 20
    assert losses[-1] < losses[0] / 10


def test_the_lectures_neuron_with_x2_zero_draws_every_input():
    # x2 = 0 makes d out / d w2 = 0: w2 is still an input of x2*w2, in _prev and in the drawing.
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x2w2 = x2 * w2
    o = (x1 * w1 + x2w2 + b).tanh()
    assert x2w2._prev == {x2, w2}
    everyone = {"x1", "x2", "w1", "w2", "b"}
    assert everyone <= {v.label for v in build_topo(o)}  # the lecture's code walks _prev
    assert everyone <= {v.label for v in trace(o)[0]}  # draw_dot's
