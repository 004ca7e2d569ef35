"""draw_dot(): the expression graph of a Value, drawn by Graphviz (the ``viz`` extra)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from .engine import Value
from .extras import missing

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


MAX_NODES = 250  # beyond this Graphviz takes seconds to lay out and the text is unreadable


def draw_dot(
    root: Value,
    format: Literal["svg", "png"] = "svg",
    rankdir: Literal["LR", "TB"] = "LR",
    max_nodes: int | None = MAX_NODES,
) -> graphviz.Digraph:
    """A graphviz.Digraph of ``root``'s graph as the lecture draws it: a record
    ``label | data | grad`` per Value and an ellipse with the op's symbol (``+``, ``*``,
    ``tanh``) for each op, left to right (``rankdir="TB"``: top to bottom).

    A graph of more than ``max_nodes`` Values raises ValueError (``max_nodes=None`` draws it
    anyway). Render it with ``.render()`` or ``.pipe()``; a notebook shows it as is.
    """
    if format not in ("svg", "png"):
        raise ValueError(f"format must be 'svg' or 'png', got {format!r}")
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"rankdir must be 'LR' or 'TB', got {rankdir!r}")
    if max_nodes is not None and type(max_nodes) is not int:
        raise TypeError(f"max_nodes must be a positive int or None, got {max_nodes!r}")
    if max_nodes is not None and max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int or None, got {max_nodes!r}")
    if not isinstance(root, Value):
        raise TypeError(
            f"draw_dot draws a Value's graph: root must be a Value, got {type(root).__name__}"
        )
    try:
        import graphviz
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise missing("draw_dot", "viz", e) from e
    nodes, edges = trace(root)
    if max_nodes is not None and len(nodes) > max_nodes:
        raise ValueError(
            f"the graph has {len(nodes)} Values, more than max_nodes={max_nodes}: Graphviz "
            "needs seconds to lay it out and the drawing is unreadably small. Draw a part "
            "(a neuron's output, one example's loss) or pass max_nodes=None"
        )
    dot = graphviz.Digraph(format=format, graph_attr={"rankdir": rankdir})
    for v in nodes:
        uid = str(id(v))
        dot.node(
            uid, f"{{ {_escape(v.label)} | data {v.data:.4f} | grad {v.grad:.4f} }}", shape="record"
        )
        if v._parents:
            dot.node(uid + "op", v._op)
            dot.edge(uid + "op", uid)
    for p, v in edges:
        dot.edge(str(id(p)), str(id(v)) + "op")
    return dot


def _escape(text: str) -> str:
    """``text`` as a literal inside a Graphviz record label; a NUL (which ends Graphviz's
    input) and a lone surrogate (not UTF-8) are shown as their escapes."""
    text = text.replace("\0", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join("\\" + c if c in "\\|{}<> " else c for c in text)
