"""A notebook submission as a module: its code cells in order, each run on its own, so that a
cell that fails (a plot without matplotlib, a shell line, a cell magic that is not Python) does
not stop the others. Standard library only: the module runs in the engine's worker."""

from __future__ import annotations

import json
import re
from pathlib import Path

# A cell's first line that makes the rest of it Python run another way: kept, the line dropped.
PYTHON_CELL_MAGICS = ("%%time", "%%timeit", "%%capture")

CELL = """
try:
    exec(compile({source!r}, {where!r}, "exec"), globals())
except Exception as error:
    CELL_ERRORS.append(f"{where}: {{type(error).__name__}}: {{error}}")
"""


def module_name(path: Path) -> str:
    """A Python name for the notebook at ``path``: ``micrograd lecture.ipynb`` is
    ``micrograd_lecture``."""
    name = re.sub(r"\W+", "_", path.stem).strip("_") or "notebook"
    return f"nb_{name}" if name[0].isdigit() else name


def cell_python(lines: list[str]) -> str | None:
    """A code cell's Python: IPython's ``%line`` magics and ``!shell`` lines become blank lines
    (so line numbers stay); a cell magic other than timing drops the cell."""
    if lines and lines[0].startswith("%%"):
        if lines[0].split()[0] not in PYTHON_CELL_MAGICS:
            return None
        lines = ["\n", *lines[1:]]
    kept = ["\n" if line.lstrip().startswith(("%", "!")) else line for line in lines]
    return "".join(kept)


def module_source(path: Path) -> str:
    """The module of the notebook at ``path``: each code cell as Python, in a try of its own;
    the errors of the cells that failed are kept in CELL_ERRORS."""
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    parts = [
        f'"""The code cells of {path.name}, made by micrograd.conformance."""\n',
        "CELL_ERRORS = []\n",
    ]
    for i, cell in enumerate(cells, 1):
        source = cell.get("source", [])
        lines = source.splitlines(keepends=True) if isinstance(source, str) else list(source)
        python = cell_python(lines) if cell.get("cell_type") == "code" else None
        if python is not None and python.strip():
            parts.append(CELL.format(source=python, where=f"{path.name}, cell {i}"))
    return "".join(parts)


def write_modules(notebooks: list[Path], into: Path) -> list[str]:
    """Each notebook's module written into ``into`` (made afresh); their names."""
    into.mkdir(parents=True, exist_ok=True)
    for old in into.glob("*.py"):
        old.unlink()
    names = []
    for path in notebooks:
        name = module_name(path)
        (into / f"{name}.py").write_text(module_source(path), encoding="utf-8")
        names.append(name)
    return names
