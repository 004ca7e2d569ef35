"""The adapter over an engine with the micrograd API: it finds the engine and runs snippets of
micrograd-API Python on it, answering JSON.

This module imports nothing from micrograd and only the standard library: the conformance run
starts it by its source (``python -s -c``, in a clean environment) inside the target's
virtualenv, where the engine under test may itself be a package named ``micrograd``. The checks
live on the other side of the pipe.

Protocol: one JSON request per line on stdin, one JSON answer per line on stdout.

- ``{"cmd": "describe"}``: where the engine's Value (and dot, MLP) were found.
- ``{"cmd": "exec", "code": ..., "read": [names]}``: run ``code`` with ``Value`` (and ``dot``,
  ``MLP``, ``random``, ``math``) in scope; answer ``{"ok": true, "nodes": {name: [data, grad]},
  "result": ...}`` (``result``: whatever the code assigned to it) or ``{"ok": false, "error":
  type name, "message": ...}``.
- ``{"cmd": "workload", "path": workloads.py, "name": ..., "rounds": n}``: CPU seconds of each
  round of a benchmark workload.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import pkgutil
import random
import sys
import time
import types
from typing import Any

ENTRY = ("Value", "Scalar")  # class names tried first, in this order


class Engine:
    """A micrograd-API engine: its Value class, and dot / MLP where it has them."""

    def __init__(
        self, value: Any, where: str, dot: Any = None, mlp: Any = None, mlp_where: str = ""
    ) -> None:
        self.value, self.where, self.dot, self.mlp, self.mlp_where = (
            value,
            where,
            dot,
            mlp,
            mlp_where,
        )

    def describe(self) -> dict[str, Any]:
        """Where each part was found, and the import line a counterexample starts with."""
        module, name = self.where.split(":")
        alias = "" if name == "Value" else " as Value"
        imports = [f"from {module} import {name}{alias}"]
        if self.mlp is not None:
            m, n = self.mlp_where.split(":")
            imports.append(f"from {m} import {n}" + ("" if n == "MLP" else " as MLP"))
        return {"value": self.where, "mlp": self.mlp_where or None, "imports": imports}

    def namespace(self) -> dict[str, Any]:
        ns: dict[str, Any] = {"Value": self.value, "random": random, "math": math}
        if self.dot is not None:
            ns["dot"] = self.dot
        if self.mlp is not None:
            ns["MLP"] = self.mlp
        return ns


def _is_value_class(obj: Any) -> bool:
    if not isinstance(obj, type) or not all(
        hasattr(obj, m) for m in ("backward", "__add__", "__mul__")
    ):
        return False
    try:
        v = obj(1.5)
        return isinstance(v.data, int | float) and float(v.data) == 1.5 and hasattr(v, "grad")
    except Exception:
        return False


def _near_misses(mods: list[types.ModuleType]) -> list[str]:
    """For each class with + and * that is not a Value class, what it lacks and what it has
    instead, as a student can act on: "Tensor has backprop(), not backward()"."""
    out = []
    for m in mods:
        for name, obj in vars(m).items():
            if not (isinstance(obj, type) and getattr(obj, "__module__", None) == m.__name__):
                continue
            if not (hasattr(obj, "__add__") and hasattr(obj, "__mul__")):
                continue
            lacks = []
            if not hasattr(obj, "backward"):
                alts = [a for a in dir(obj) if "back" in a.lower() or "prop" in a.lower()]
                lacks.append(
                    f"{name} has {alts[0]}(), not backward()"
                    if alts
                    else f"{name} has no backward()"
                )
            try:
                v = obj(1.5)
            except Exception as e:
                lacks.append(f"{name}(1.5) raises {type(e).__name__}: {e}")
            else:
                for attr, holds in (("data", 1.5), ("grad", 0)):
                    if hasattr(v, attr):
                        continue
                    fields = vars(v) if hasattr(v, "__dict__") else {}
                    near = [
                        a
                        for a, x in fields.items()
                        if isinstance(x, int | float) and not isinstance(x, bool) and x == holds
                    ]
                    lacks.append(
                        f"{name}(1.5) has no .{attr}" + (f": found .{near[0]}" if near else "")
                    )
            if lacks:
                out.append(f"{m.__name__}:{name}: " + "; ".join(lacks))
    return out


IMPORT_ERRORS: list[str] = []  # modules that failed to import, for the discovery error


def _modules(top: str) -> list[types.ModuleType]:
    """``top`` and its submodules, as far as they import (a demo needing a display may not)."""
    found = []
    try:
        root = importlib.import_module(top)
    except Exception as e:
        IMPORT_ERRORS.append(f"import {top}: {type(e).__name__}: {e}")
        return []
    found.append(root)
    for info in pkgutil.walk_packages(getattr(root, "__path__", []), top + "."):
        if info.name.endswith(".__main__"):  # a command line, not a module to import
            continue
        try:
            found.append(importlib.import_module(info.name))
        except Exception as e:
            IMPORT_ERRORS.append(f"import {info.name}: {type(e).__name__}: {e}")
    return found


def discover(spec: str) -> Engine:
    """The engine named by ``spec``: ``module:Attr`` for a class, or top-level module names
    separated by commas, searched for a class named Value (or Scalar) that makes a Value."""
    if ":" in spec:
        module, attr = spec.split(":", 1)
        value = getattr(importlib.import_module(module), attr)
        mods = _modules(module.split(".")[0])
        where = f"{module}:{attr}"
    else:
        mods = [m for top in spec.split(",") for m in _modules(top)]
        candidates = [
            (ENTRY.index(name) if name in ENTRY else len(ENTRY), len(m.__name__), m, name)
            for m in mods
            for name, obj in vars(m).items()
            if getattr(obj, "__module__", None) == m.__name__ and _is_value_class(obj)
        ]
        if not candidates:
            near = _near_misses(mods)
            if not near and IMPORT_ERRORS:  # the cause comes first
                hint = any("ModuleNotFoundError" in e for e in IMPORT_ERRORS)
                raise LookupError(
                    f"{spec}: a module does not import, so no Value class could be found: "
                    + "; ".join(IMPORT_ERRORS[:3])
                    + (" (a package it needs but does not declare?)" if hint else "")
                )
            why = "; ".join([*near[:2], *IMPORT_ERRORS[:3]])
            raise LookupError(
                f"no Value class (with backward, + and *) in {spec}" + (f" ({why})" if why else "")
            )
        _, _, m, name = min(candidates, key=lambda c: c[:2])
        value, where = getattr(m, name), f"{m.__name__}:{name}"
    dot = mlp = None
    mlp_where = ""
    for m in sorted(mods, key=lambda m: len(m.__name__)):
        if (
            dot is None
            and callable(getattr(m, "dot", None))
            and isinstance(m.dot, types.FunctionType)
        ):
            dot = m.dot
        obj = getattr(m, "MLP", None)
        if mlp is None and isinstance(obj, type) and obj.__module__ == m.__name__:
            mlp, mlp_where = obj, f"{m.__name__}:MLP"
    return Engine(value, where, dot, mlp, mlp_where)


def _number(x: Any) -> Any:
    if x is None or isinstance(x, bool):
        return repr(x)
    try:
        return float(x)
    except Exception:
        return repr(x)[:80]


def run(engine: Engine, code: str, read: list[str]) -> dict[str, Any]:
    """Execute ``code`` on the engine; report the named nodes' data and grad, and ``result``."""
    ns = engine.namespace()
    try:
        exec(compile(code, "<conformance>", "exec"), ns)
    except Exception as e:
        return {"ok": False, "error": type(e).__name__, "message": str(e)[:300]}
    nodes = {}
    for name in read:
        v = ns.get(name)
        nodes[name] = [_number(getattr(v, "data", None)), _number(getattr(v, "grad", None))]
    return {"ok": True, "nodes": nodes, "result": ns.get("result")}


def workload(engine: Engine, path: str, name: str, rounds: int) -> dict[str, Any]:
    """CPU seconds of each of ``rounds`` runs of a workload of micrograd/workloads.py (loaded
    by its ``path``: the micrograd installed here, if any, is the engine under test)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("conformance_workloads", path)
    if spec is None or spec.loader is None:
        return {"ok": False, "error": "ImportError", "message": f"cannot load {path}"}
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mg = types.SimpleNamespace(
        engine=types.SimpleNamespace(Value=engine.value), nn=types.SimpleNamespace(MLP=engine.mlp)
    )
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 200_000))  # speed, not depth, is asked
    try:
        fn = mod.WORKLOADS[name](mg)
        fn()  # warm up
        times = []
        for _ in range(rounds):
            start = time.process_time()
            fn()
            times.append(time.process_time() - start)
    except Exception as e:
        return {"ok": False, "error": type(e).__name__, "message": str(e)[:300]}
    return {"ok": True, "times": times}


def handle(engine: Engine, request: dict[str, Any]) -> dict[str, Any]:
    """Answer one protocol request."""
    cmd = request.get("cmd")
    if cmd == "describe":
        return {"ok": True, **engine.describe()}
    if cmd == "exec":
        return run(engine, request["code"], request.get("read", []))
    if cmd == "workload":
        return workload(engine, request["path"], request["name"], request.get("rounds", 3))
    return {"ok": False, "error": "ValueError", "message": f"unknown command {cmd!r}"}


def apply_maps(cls: type, maps: dict[str, str]) -> None:
    """Give ``cls`` the names the checks use, from its own (``--map backward=backprop``): a
    method under our name, or for ``data`` and ``grad`` a property over its own attribute."""
    for ours, theirs in maps.items():
        if ours in ("data", "grad"):
            setattr(cls, ours, _alias(theirs))
        elif hasattr(cls, theirs):
            setattr(cls, ours, getattr(cls, theirs))


def _alias(name: str) -> property:
    """A property reading and writing the attribute ``name``."""

    def get(self: Any) -> Any:
        return getattr(self, name)

    def put(self: Any, x: Any) -> None:
        setattr(self, name, x)

    return property(get, put)


def _mapped(spec: str, maps: dict[str, str]) -> None:
    """Apply ``maps`` to the classes of ``spec`` that could be its Value class (+ and *)."""
    module, _, attr = spec.partition(":")
    mods = (
        [importlib.import_module(module)]
        if attr
        else [m for top in spec.split(",") for m in _modules(top)]
    )
    for m in mods:
        for name, obj in list(vars(m).items()):
            if attr and name != attr:
                continue
            if isinstance(obj, type) and hasattr(obj, "__add__") and hasattr(obj, "__mul__"):
                apply_maps(obj, maps)


class Refuse:
    """A meta path finder that refuses every module found under ``root`` (the checker's own
    package): an engine's import of ``micrograd`` must find the engine's own, never the code
    that checks it, and an ImportError saying so beats a scorecard of the wrong engine."""

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        places = [spec.origin or "", *(spec.submodule_search_locations or [])]
        if any(p and os.path.realpath(p).startswith(self.root + os.sep) for p in places):
            raise ImportError(
                f"{name} is the checker's own package ({self.root}), not the engine's: to "
                "check an engine called micrograd, name its folder (a path target, or "
                "--no-install DIR)",
                name=name,
            )
        return spec


def serve(spec: str, args: list[str]) -> None:
    """Answer requests on stdin until it closes (the worker's main loop). ``args``: paths to
    put first on sys.path, ``--map=OURS=THEIRS`` names (see apply_maps), and
    ``--not-from=DIR``: no module is imported from DIR (Refuse)."""
    maps = dict(a[len("--map=") :].split("=", 1) for a in args if a.startswith("--map="))
    if sys.path and sys.path[0] == "":  # python -c puts the current directory first: not ours
        del sys.path[0]
    for a in args:
        if a.startswith("--not-from="):
            sys.meta_path.insert(0, Refuse(a[len("--not-from=") :]))
    sys.path[:0] = [a for a in args if not a.startswith("--")]
    out = sys.stdout
    sys.stdout = sys.stderr  # an engine that prints must not break the protocol
    try:
        if maps:
            _mapped(spec, maps)
        engine = discover(spec)
    except Exception as e:
        out.write(json.dumps({"ok": False, "error": type(e).__name__, "message": str(e)}) + "\n")
        out.flush()
        return
    out.write(json.dumps({"ok": True, **engine.describe()}) + "\n")
    out.flush()
    for line in sys.stdin:
        out.write(json.dumps(handle(engine, json.loads(line))) + "\n")
        out.flush()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2:])
