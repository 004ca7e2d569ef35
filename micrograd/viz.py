"""draw_dot(): the expression graph of a Value, drawn by Graphviz (``pip install micrograd[viz]``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from .engine import Value

if TYPE_CHECKING:
    import graphviz


def trace(root: Value) -> tuple[list[Value], list[tuple[Value, Value]]]:
    """Every node ``root`` depends on (root first) and every edge (parent, child)."""
    nodes, edges, seen, stack = [], [], {root}, [root]
    while stack:
        v = stack.pop()
        nodes.append(v)
        for p in v._parents:
            edges.append((p, v))
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return nodes, edges


def draw_dot(
    root: Value, format: Literal["svg", "png"] = "svg", rankdir: Literal["LR", "TB"] = "LR"
) -> graphviz.Digraph:
    """A graphviz.Digraph of ``root``'s graph: a record per Value (data, grad), a dot per op.

    Render it with ``.render()`` or ``.pipe()``; a notebook shows it as is.
    """
    try:
        import graphviz
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "draw_dot needs the graphviz package: pip install 'micrograd[viz]'"
        ) from e
    dot = graphviz.Digraph(format=format, graph_attr={"rankdir": rankdir})
    nodes, edges = trace(root)
    for v in nodes:
        uid = str(id(v))
        dot.node(uid, f"{{ data {v.data:.4f} | grad {v.grad:.4f} }}", shape="record")
        if v._op is not None:
            dot.node(uid + v._op.name, v._op.name, shape="ellipse")
            dot.edge(uid + v._op.name, uid)
    for p, v in edges:
        dot.edge(str(id(p)), str(id(v)) + v._op.name)  # type: ignore[union-attr]
    return dot
