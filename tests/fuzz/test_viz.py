"""Fuzz micrograd.viz: draw_dot's arguments and labels.

The contract: tests/fuzz/strategies.py."""

from hypothesis import example, given, settings
from hypothesis import strategies as st

from micrograd import Value
from micrograd.viz import draw_dot
from tests.fuzz.strategies import (
    TYPE,
    VALUE,
    anything,
    finite,
    raises_documented,
    size_errors,
)
from tests.helpers import needs_dot

# draw_dot


@given(
    root=st.one_of(st.builds(Value, finite, label=st.text(max_size=3)), anything),
    fmt=st.one_of(st.sampled_from(["svg", "png"]), anything),
    rankdir=st.one_of(st.sampled_from(["LR", "TB"]), anything),
    max_nodes=st.one_of(st.none(), st.integers(-1, 4), st.booleans(), st.floats(), anything),
    depth=st.integers(0, 4),
)
@example(root=Value(1.0), fmt="svg", rankdir="LR", max_nodes=True, depth=0)
@example(root=5, fmt="svg", rankdir="LR", max_nodes=None, depth=0)
@example(root=Value(1.0), fmt="svg", rankdir="TB", max_nodes=None, depth=2)  # drawn: counted
def test_draw_dot(root, fmt, rankdir, max_nodes, depth):
    errors = []
    if not isinstance(root, Value):
        errors.append((TYPE, ["root"]))
    if not (isinstance(fmt, str) and fmt in ("svg", "png")):
        errors.append((VALUE, ["format"]))
    if not (isinstance(rankdir, str) and rankdir in ("LR", "TB")):
        errors.append((VALUE, ["rankdir"]))
    if max_nodes is not None:
        errors += size_errors("max_nodes", max_nodes)
    built = 0  # Values in the graph, counted as they are made (root is a leaf)
    if isinstance(root, Value):
        built = 1
        for _ in range(depth):
            root = root.tanh() * 2.0  # bounded: no overflow whatever the leaf
            built += 3  # the tanh, the constant 2.0 and the product
        if type(max_nodes) is int and 1 <= max_nodes < built:
            errors.append((VALUE, ["max_nodes"]))
    ok, dot = raises_documented(lambda: draw_dot(root, fmt, rankdir, max_nodes), errors)
    assert not (ok and errors), dot
    if ok:
        assert dot.source.count("shape=record") == built
        assert dot.source.count(" -> ") == 2 * depth + 3 * depth  # op -> node; input -> op


@needs_dot
@settings(max_examples=max(5, settings.default.max_examples // 6))
@given(label=st.text(max_size=6), fmt=st.sampled_from(["svg", "png"]))
@example(label="\x00", fmt="svg").via("a NUL in a label: Graphviz failed on the DOT source")
@example(label="\ud800", fmt="svg").via("a lone surrogate: a bare UnicodeEncodeError")
@example(label='a"b|{c}<d>\\', fmt="png")
def test_draw_dot_renders_any_label(label, fmt):
    v = Value(1.5, label=label)
    out = v * 2.0
    out.label = label
    out.backward()
    picture = draw_dot(out, format=fmt).pipe()
    assert picture.startswith(b"\x89PNG" if fmt == "png" else b"<?xml")
