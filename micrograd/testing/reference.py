"""The meaning of ``Value.backward``, written plainly: the specification the kernel is tested
against (micrograd/kernel.py; tests/property/test_kernel.py checks they agree bit for bit).

It is ``micrograd.autograd.gradients`` on floats, the shape of tinygrad's
``compute_gradient``: sort the nodes the root's gradient reaches, then walk them from the root,
adding ``partial * gradient`` to each input's entry of a dict. It touches no node. It is
slower than the kernel (a dict lookup per edge, a list per node), which is why it is not the
kernel; ``micrograd.grad`` runs it.
"""

from __future__ import annotations

from typing import Any

from ..autograd import gradients


def reference_backward(root: Any, gradient: float = 1.0) -> dict[Any, float]:
    """d root / d node times ``gradient``, for every node reached through non-zero partials
    (every other node's is exactly zero). ``backward(gradient)`` adds these to the grads."""
    return gradients([root], [gradient])


__all__ = ["reference_backward"]
