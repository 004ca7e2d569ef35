"""viz: the drawing of a graph."""

import pytest

from micrograd import Value
from micrograd.viz import draw_dot, trace
from tests.helpers import needs_dot


def _graph():
    a, b = Value(2.0), Value(-3.0)
    y = (a * b + a).tanh()
    y.backward()
    return a, b, y


def test_trace_finds_every_node_and_edge():
    *_, y = _graph()
    nodes, edges = trace(y)
    assert len(nodes) == 5  # a, b, a*b, a*b + a, tanh
    assert len(edges) == 5  # a->mul, b->mul, mul->add, a->add, add->tanh
    assert nodes[0] is y


def test_draw_dot_labels_data_grad_and_ops():
    _, _, y = _graph()
    source = draw_dot(y).source
    for label in [
        "data 2.0000",
        "data -3.0000",
        "data -4.0000",
        '[label="*"]',
        '[label="+"]',
        "[label=tanh]",
    ]:
        assert label in source
    sech2 = 1 - y.data**2
    for grad in [1.0, sech2, sech2 * -2.0, sech2 * 2.0]:  # y, the sum, a (b + 1 = -2), b (a = 2)
        assert f"grad {grad:.4f}" in source
    assert source.count("->") == 5 + 3  # graph edges, plus one op -> result edge per op


@needs_dot
@pytest.mark.parametrize(("fmt", "magic"), [("svg", b"<svg"), ("png", b"\x89PNG")])
def test_draw_dot_renders(fmt, magic):
    _, _, y = _graph()
    out = draw_dot(y, format=fmt).pipe()
    assert magic in out[:1000]


@needs_dot
def test_a_notebook_shows_the_drawing_inline():
    # Jupyter displays an object through _repr_mimebundle_: graphviz gives an SVG image
    bundle = draw_dot(Value(1.0, label="x") * 2.0)._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]
