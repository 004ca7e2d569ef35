"""micrograd: a scalar autograd engine with an op registry, a small neural-net library and the
tools to verify both."""

from . import nn
from .autograd import grad, hessian, hvp
from .engine import OpError, Value, apply, dot
from .gcpause import gc_paused
from .ops import OPS, Domain, Op

__all__ = [
    "OPS",
    "Domain",
    "Op",
    "OpError",
    "Value",
    "apply",
    "dot",
    "gc_paused",
    "grad",
    "hessian",
    "hvp",
    "nn",
]
__version__ = "0.2.0"
