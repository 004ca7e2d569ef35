"""The docs say what the code does."""

import ast
import contextlib
import importlib.util
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from micrograd.ops import op_table

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def test_the_docs_op_table_is_generated_from_the_registry():
    # docs/hooks.py (an MkDocs hook) fills the ops page's table at build time
    spec = importlib.util.spec_from_file_location("hooks", ROOT / "docs" / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    page = (ROOT / "docs" / "ops.md").read_text()
    assert "<!-- ops -->" in page
    assert f"<!-- ops -->\n{op_table()}\n<!-- /ops -->" in hooks.on_page_markdown(page)


def test_python_m_micrograd_prints_the_table():
    out = subprocess.run(
        [sys.executable, "-m", "micrograd"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == op_table()


def test_ci_runs_the_readme_test_command_exactly():
    command = re.search(r"\| run the tests \| `([^`]+)` \|", README).group(1)
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text()
    assert command in ci.splitlines()


PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_examples_run_and_print_what_the_page_says(page):
    # Blocks fenced as python are complete programs; fragments are fenced as py. A block
    # followed by "prints" and a text block must print exactly that.
    text = page.read_text()
    for m in re.finditer(r"```python\n(.*?)```(\s*prints\s*```text\n(.*?)```)?", text, re.S):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(m.group(1), {})
        if m.group(3) is not None:
            assert out.getvalue() == m.group(3), f"{page.name}: the example prints otherwise"


def test_the_readme_is_a_front_page_whose_links_exist():
    assert len(README.splitlines()) <= 200, "README.md is the front page: move detail to docs/"
    for target in re.findall(r"\]\(((?:docs/)?[\w./-]+)\)", README):
        assert (ROOT / target).exists(), f"README links to {target}, which does not exist"


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
