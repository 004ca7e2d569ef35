"""The docs say what the code does."""

import ast
import re
import subprocess
import sys
from pathlib import Path

from micrograd.ops import op_table

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_readme_op_table_is_the_registry():
    shown = re.search(r"<!-- ops -->\n(.*?)\n<!-- /ops -->", README, re.S)
    assert shown, "README has no op table between <!-- ops --> markers"
    assert shown.group(1) == op_table(), "README's op table is stale: paste `python -m micrograd`"


def test_python_m_micrograd_prints_the_table():
    out = subprocess.run(
        [sys.executable, "-m", "micrograd"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == op_table()


def test_ci_runs_the_readme_test_command_exactly():
    command = re.search(r"\| run the tests \| `([^`]+)` \|", README).group(1)
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text()
    assert command in ci.splitlines()


def test_readme_examples_run():
    # Blocks fenced as python are complete programs; fragments are fenced as py.
    for block in re.findall(r"```python\n(.*?)```", README, re.S):
        exec(block, {})


def default_sessions():
    """The nox sessions plain `nox` runs: every @nox.session without default=False."""
    tree = ast.parse((Path(__file__).parent.parent / "noxfile.py").read_text())
    names = []
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        for dec in fn.decorator_list:
            call = dec if isinstance(dec, ast.Call) else None
            target = call.func if call else dec
            if ast.unparse(target) != "nox.session":
                continue
            off = any(
                k.arg == "default" and isinstance(k.value, ast.Constant) and k.value.value is False
                for k in (call.keywords if call else [])
            )
            if not off:
                names.append(fn.name)
    return names


def test_readme_names_the_sessions_plain_nox_runs():
    row = re.search(r"\| run the whole verification \(([^)]*)\) \|", README)
    assert row, "README's table has no 'run the whole verification (...)' row"
    assert row.group(1) == ", ".join(default_sessions()), "README's list of plain nox's sessions"
