"""How the checks reach an engine: in this process, or through the adapter in a worker process."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ... import runner
from .. import adapter

ADAPTER_SOURCE = Path(adapter.__file__).read_text()
OURS = str(Path(runner.__file__).resolve().parent)  # this package's folder
# Seconds an engine may take to answer one request: a check's request takes well under a
# second on any engine (the nn twin's training, the slowest, about 0.1 s on 0.1.0).
REQUEST_TIMEOUT = 30.0


class ConformanceError(RuntimeError):
    """The target could not be installed, started or found."""


class Target:
    """How the checks reach an engine: ``request`` answers the adapter's protocol."""

    describe: dict[str, Any]

    def request(self, req: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def probe(self, req: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Answer ``req`` where a crash, a hang or a deep recursion cannot harm the run."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop the worker, if any."""


class InProcess(Target):
    """An engine in this process, e.g. a Value class defined in a test."""

    def __init__(self, value: type, mlp: type | None = None, dot: Any = None) -> None:
        where = f"{value.__module__}:{value.__qualname__}"
        mlp_where = f"{mlp.__module__}:{mlp.__qualname__}" if mlp else ""
        self.engine = adapter.Engine(value, where, dot, mlp, mlp_where)
        self.describe = self.engine.describe()

    def request(self, req: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(json.dumps(adapter.handle(self.engine, req)))
        return answer  # as through the pipe

    def probe(self, req: dict[str, Any], timeout: float) -> dict[str, Any]:
        return self.request(req)  # in-process: a RecursionError is caught like any error


class Worker(Target):
    """The adapter in its own process (micrograd.runner.Worker), started from its source with
    ``python -s -c`` in a clean environment: the engine's own ``micrograd`` (if it has one)
    cannot meet ours (adapter.Refuse). A
    request that crashes the engine, or gets no answer within ``timeout`` seconds, is answered
    ``{"ok": False, "error": "Crash" | "Timeout", ...}``, and the next one starts it again.
    ``seed`` is the process's PYTHONHASHSEED. A ``foreign`` engine (every target; not our own
    engine timed beside it) cannot import this package: what it imports as ``micrograd`` is
    its own, or an ImportError says why."""

    def __init__(
        self,
        python: str,
        spec: str,
        paths: Sequence[str] = (),
        timeout: float = REQUEST_TIMEOUT,
        maps: dict[str, str] | None = None,
        seed: int = 0,
        foreign: bool = True,
    ) -> None:
        names = [f"--map={ours}={theirs}" for ours, theirs in (maps or {}).items()]
        if foreign:  # the engine never imports this package (adapter.Refuse)
            names.append(f"--not-from={OURS}")
        # Isolated as -I isolates (no user site-packages, no PYTHON* variables, the current
        # directory off sys.path: the adapter drops it), but for a fixed hash seed, which -I
        # would ignore: the order of a set of strings is the same in every run with this seed
        # (another seed per --repeat run exposes engines that depend on it).
        self.cmd = [python, "-s", "-c", ADAPTER_SOURCE, spec, *names, *paths]
        clean = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        self.env = {**clean, "PYTHONHASHSEED": str(seed)}
        self.process = runner.Worker(
            self.cmd, cwd=Path.home(), env=self.env, timeout=timeout, hello=True
        )
        hello = self.process.start()
        if not hello.get("ok"):
            self.close()
            detail = hello.get("stderr") if hello.get("error") == "Crash" else ""
            raise ConformanceError(
                f"{spec}: {hello.get('error')}: {hello.get('message')}"
                + (f"\n{detail}" if detail else "")
            )
        self.describe = hello

    def request(self, req: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """The answer to ``req``, within ``timeout`` seconds (default: the worker's)."""
        return self.process.ask(req, timeout)

    def probe(self, req: dict[str, Any], timeout: float) -> dict[str, Any]:
        return runner.once(self.cmd, req, timeout, cwd=Path.home(), env=self.env, hello=True)

    def close(self) -> None:
        self.process.close()
