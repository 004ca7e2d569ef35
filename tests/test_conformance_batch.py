"""A batch of engines graded at once: python -m micrograd.conformance --batch CSV -j 2 gives one
row per engine (score, a count per severity, the first WRONG finding) as Markdown, CSV and JSON,
and each engine's own scorecard. The engines are module paths: nothing to install."""

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from micrograd import conformance
from micrograd.testing.conformance.batch import batch_rows, grade_row, slug
from tests.engines.hostile import engine


def test_a_batch_grades_each_engine_in_its_own_process(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # module paths import from the current directory
    (tmp_path / "right.py").write_text(engine())
    wrong = "return self._node(0.0, (self,), (1.0,))"  # relu' = 1 below 0
    (tmp_path / "wrong.py").write_text(engine(wrong))
    (tmp_path / "quits.py").write_text(engine("exit(3)"))
    # A course's CSV names its students: every column but target is carried into the grades.
    (tmp_path / "class.csv").write_text(
        "student,target\nAda,right:Value\nBo,wrong:Value\nCy,quits:Value\n"
    )
    batch = ["--batch", "class.csv", "-j", "2", "--no-speed", "--profile", "course"]
    quick = ["--examples", "5", "--max-depth", "500", "--timeout", "5", "--target-timeout", "60"]
    status = conformance.main([*batch, *quick])
    assert status == 1  # wrong and quits fail the course profile
    with (tmp_path / ".conformance/grades.csv").open() as f:
        rows = {r["target"]: r for r in csv.DictReader(f)}
    assert list(rows) == ["right:Value", "wrong:Value", "quits:Value"]  # the CSV's order
    assert [r["student"] for r in rows.values()] == ["Ada", "Bo", "Cy"]
    assert rows["right:Value"]["WRONG"] == "0"
    assert rows["right:Value"]["CRASH"] == "0"
    assert int(rows["wrong:Value"]["WRONG"]) >= 1
    assert rows["wrong:Value"]["first_wrong"].startswith(
        "random programs vs oracle and finite differences: d/dx0 = 1.0, the oracle says 0.0"
    )
    assert int(rows["quits:Value"]["CRASH"]) >= 1
    grades = json.loads((tmp_path / ".conformance/grades.json").read_text())
    assert [g["target"] for g in grades] == list(rows)
    name = slug("wrong:Value")
    assert (tmp_path / f".conformance/cards/{name}/{name}.md").exists()
    table = (tmp_path / ".conformance/grades.md").read_text()
    assert table.startswith("| student | target | score |"), table
    assert "| Bo | `wrong:Value` |" in table


def test_no_target_names_another_ones_folder():
    # "." once named OUTDIR/venvs itself: its virtualenv, made with clear=True, wiped every
    # other target's, and its scorecard was the hidden file "..md".
    names = [slug(t) for t in [".", "..", "/", "", "micrograd==0.1.0", "pkg.mod:Value"]]
    assert all(n and not n.startswith(".") for n in names), names
    assert len(set(names)) == len(names), names
    assert slug(".") == slug(str(Path.cwd())) == slug("./")  # a path by where it is
    assert slug("pkg.mod:Value").startswith("pkg.mod_Value-")  # readable where it can be


def test_long_targets_keep_their_distinct_ends(tmp_path):
    base = tmp_path / ("a_very_long_directory_name_for_a_course" * 3)
    names = [slug(str(base / "students" / who)) for who in ("alice", "bob")]
    assert names[0] != names[1], names
    assert all(len(n) <= 80 for n in names), names
    assert names[0].rsplit("-", 1)[0].endswith("students_alice"), names


def test_no_install_imports_a_package_folder_from_its_parent(tmp_path):
    from micrograd.conformance import importable

    pkg = tmp_path / "project" / "gradlib"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (tmp_path / "project" / "train.py").write_text("raise SystemExit('a script')\n")
    assert importable(pkg) == ("gradlib", [str(tmp_path / "project")])
    assert importable(tmp_path / "project") == ("gradlib", [str(tmp_path / "project")])


def test_targets_that_differ_only_in_replaced_characters_keep_apart(tmp_path):
    # "Anna Lee" and "Anna_Lee" (or a/b and a_b) once shared a card and a virtualenv: a
    # name is kept verbatim only when nothing in it had to be replaced.
    (tmp_path / "Anna Lee").mkdir()
    (tmp_path / "Anna_Lee").mkdir()
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a_b").mkdir()
    pairs = [("Anna Lee", "Anna_Lee"), ("a/b", "a_b"), ("pkg:Value", "pkg_Value")]
    for left, right in pairs:
        paths = [str(tmp_path / left), str(tmp_path / right)] if ":" not in left else [left, right]
        assert slug(paths[0]) != slug(paths[1]), paths
    assert slug("pkg_Value") == "pkg_Value"
    assert slug("micrograd==0.1.0") == "micrograd==0.1.0"
    assert slug("pkg:Value").startswith("pkg_Value-")  # readable, and a digest of the whole


def test_a_folder_that_is_not_a_pip_project_is_imported_as_it_is(tmp_path):
    # A submission is often an engine.py, or a micrograd/ folder, with no setup.py or
    # pyproject.toml: pip cannot install it, so it was "not checked". It is imported as it is,
    # and the log says so; a folder with no Python in it says that instead.
    from micrograd.conformance import ConformanceError, environment

    bob = tmp_path / "bob"
    bob.mkdir()
    (bob / "engine.py").write_text(engine())
    log: list[str] = []
    python, spec, paths = environment(str(bob), tmp_path / "out" / "venvs", log)
    assert (python, spec, paths) == (sys.executable, "engine", [str(bob)])
    assert "no pyproject.toml, setup.py or setup.cfg: imported as it is" in log[-1], log
    assert not (tmp_path / "out" / "venvs").exists()  # nothing was installed
    (tmp_path / "dave").mkdir()
    with pytest.raises(ConformanceError, match="no Python package or module to import"):
        environment(str(tmp_path / "dave"), tmp_path / "out" / "venvs", log)


def test_a_target_not_checked_says_why_once(tmp_path):
    # The grade once read "not checked: [t] not checked: pip install t failed: pip install t
    # failed (exit status 1): / ...": the CLI's reason, with its prefix, as the batch found it.
    said = "creating a virtualenv\n[sub/t] not checked: pip install t failed (exit status 1):\nERROR: no"
    row = grade_row(
        "sub/t", tmp_path / "none.json", subprocess.CompletedProcess([], 2, "", said), 1.0
    )
    assert row["summary"] == "not checked: pip install t failed (exit status 1): / ERROR: no"


def test_a_batch_reuses_each_projects_virtualenv_while_its_files_are_unchanged(tmp_path):
    # Each engine's virtualenv once lived in its card's folder, which a batch deletes before
    # grading it again: every run installed every submission anew.
    carol = tmp_path / "subs" / "carol"
    carol.mkdir(parents=True)
    (carol / "engine.py").write_text(engine())
    (carol / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "carol-engine"\nversion = "1"\n[tool.setuptools]\npy-modules = ["engine"]\n'
    )
    out = tmp_path / "grades"
    quick = ["--examples", "3", "--max-depth", "100", "--no-speed", "--report-only"]
    run = ["--batch", str(tmp_path / "subs"), "--out", str(out), *quick]
    stamp = out / "venvs" / slug(str(carol)) / "micrograd-runner.json"
    assert conformance.main(run) == 0
    made = stamp.stat().st_mtime_ns
    assert conformance.main(run) == 0
    assert stamp.stat().st_mtime_ns == made  # the same virtualenv: nothing installed again
    (carol / "engine.py").write_text(engine() + "\n# changed\n")
    assert conformance.main(run) == 0
    assert stamp.stat().st_mtime_ns != made  # a changed submission is installed again
    name = slug(str(carol))
    assert (out / "cards" / name / f"{name}.json").exists()


def test_a_projects_digest_is_its_own_files_only(tmp_path):
    # What pip and a run make inside a project (build/, *.egg-info/, .conformance/ with its
    # virtualenvs) once changed its digest, so it was installed again on every run; and a
    # project inside a folder named build/ had no files in its digest at all.
    from micrograd.conformance import content_digest

    project = tmp_path / "build" / "dan"
    project.mkdir(parents=True)
    (project / "engine.py").write_text("x = 1\n")
    before = content_digest(project)
    for made in ["build/lib/engine.py", "dan.egg-info/PKG-INFO", ".conformance/venvs/a/x.py"]:
        (project / made).parent.mkdir(parents=True, exist_ok=True)
        (project / made).write_text("made\n")
    assert content_digest(project) == before
    (project / "engine.py").write_text("x = 2\n")
    assert content_digest(project) != before


def test_an_interrupted_batch_stops_at_once_and_keeps_the_grades_it_has(tmp_path):
    # Ctrl-C once printed a traceback, waited for the engines being graded, and wrote each
    # of them as "not checked: ^^^^ / KeyboardInterrupt".
    (tmp_path / "right.py").write_text(engine())
    (tmp_path / "stuck.py").write_text(
        engine().replace(
            "    def backward(self):",
            "    def backward(self):\n        import time; time.sleep(3600)",
            1,
        )
    )
    (tmp_path / "class.csv").write_text("target\nright:Value\nstuck:Value\n")
    quick = ["--examples", "3", "--max-depth", "100", "--no-speed", "--timeout", "600"]
    cmd = [sys.executable, "-m", "micrograd.conformance", "--batch", "class.csv", "-j", "2"]
    batch = subprocess.Popen([*cmd, *quick], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    grades = tmp_path / ".conformance" / "grades.json"
    deadline = time.monotonic() + 120
    while not (grades.exists() and "right:Value" in grades.read_text()):
        assert batch.poll() is None, batch.communicate()
        assert time.monotonic() < deadline, "the batch never graded right:Value"
        time.sleep(0.2)
    batch.send_signal(signal.SIGINT)
    start = time.monotonic()
    try:
        _, said = batch.communicate(timeout=30)
    finally:
        batch.kill()  # never leave it running, whatever happened
    assert time.monotonic() - start < 10  # the stuck engine is stopped, not waited for
    assert batch.returncode == 130
    assert "Traceback" not in said, said
    assert "interrupted: 1 of 2 engines graded" in said, said
    assert [g["target"] for g in json.loads(grades.read_text())] == ["right:Value"]


def notebook(*cells: tuple[str, str]) -> str:
    """An .ipynb file's text with these (cell type, source) cells."""
    return json.dumps(
        {
            "cells": [
                {"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True)}
                | ({"outputs": [], "execution_count": None} if kind == "code" else {})
                for kind, text in cells
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def test_a_notebook_submission_is_checked_from_its_code_cells(tmp_path, monkeypatch):
    # Students type the lecture in a notebook: a submission that is only an .ipynb was "no
    # Python package or module to import". Its code cells are the engine, run in order; a cell
    # that fails (a plot without matplotlib, a shell or magic line) does not stop the others.
    wrong = "return self._node(max(self.data, 0.0), (self,), (1.0,))"  # relu' = 1 below 0
    eve = tmp_path / "eve"
    eve.mkdir()
    (eve / "micrograd lecture.ipynb").write_text(
        notebook(
            ("markdown", "# My micrograd"),
            ("code", "!pip install graphviz\n%matplotlib inline\nimport math"),
            ("code", engine(wrong)),
            ("code", "import a_plotting_library_not_installed\nplot(1)"),
            ("code", "%%time\nthis is no python"),
            ("code", "x = Value(2.0)\ny = (x * x).relu()\ny.backward()\nprint(x.grad)"),
        )
    )
    out = tmp_path / "out"
    quick = ["--examples", "5", "--max-depth", "200", "--no-speed", "--report-only"]
    monkeypatch.chdir(tmp_path)  # OUTDIR relative, as by default (.conformance)
    assert conformance.main([str(eve / "micrograd lecture.ipynb"), "--out", "out", *quick]) == 0
    card = json.loads((out / f"{slug(str(eve / 'micrograd lecture.ipynb'))}.json").read_text())
    assert card["engine"]["value"] == "micrograd_lecture:Value"
    relu = next(r for r in card["rows"] if r["check"] == "relu: values and derivatives")
    assert relu["severity"] == "WRONG", relu
    add = next(r for r in card["rows"] if r["check"] == "add: values and derivatives")
    assert add["status"] == "PASS", add


def test_a_notebooks_magic_and_shell_lines_are_dropped_and_a_failing_cell_is_kept_apart(tmp_path):
    from micrograd.testing.conformance.notebook import module_source

    path = tmp_path / "2 my work.ipynb"
    path.write_text(
        notebook(
            ("code", "%matplotlib inline\n!pip install x\nK = 3"),
            ("code", "%%bash\necho not python"),
            ("code", "%%time\nJ = K + 1"),
            ("code", "1 / 0"),
            ("markdown", "L = 5"),
            ("code", "M = J * 2"),
        )
    )
    ns: dict = {}
    exec(module_source(path), ns)
    assert (ns["K"], ns["J"], ns["M"]) == (3, 4, 8)
    assert "L" not in ns  # markdown is not code
    assert ns["CELL_ERRORS"] == ["2 my work.ipynb, cell 4: ZeroDivisionError: division by zero"]


def test_a_batch_csvs_paths_are_found_beside_it(tmp_path, monkeypatch):
    # A CSV's relative paths were taken from the current directory: a teacher running
    # --batch /course/class.csv from elsewhere had every submission "not checked".
    course = tmp_path / "course"
    (course / "subs" / "ada").mkdir(parents=True)
    (course / "class.csv").write_text("student,target\nAda,subs/ada\nBo,micrograd==0.1.0\nCy\n")
    monkeypatch.chdir(tmp_path)
    rows = batch_rows(course / "class.csv")
    assert rows == [
        {"student": "Ada", "target": str(course / "subs" / "ada")},
        {"student": "Bo", "target": "micrograd==0.1.0"},  # not a path: as it is
        {"student": "Cy", "target": ""},  # kept, for the run to say it is left out
    ]


def test_a_target_named_twice_is_checked_once(tmp_path, monkeypatch, capsys):
    # A folder batch and a CSV naming the same submission ran it twice at once into one card
    # folder: each run deleted the other's card, and both were "not checked".
    monkeypatch.chdir(tmp_path)
    (tmp_path / "right.py").write_text(engine())
    (tmp_path / "class.csv").write_text("target\nright:Value\n")
    quick = ["--examples", "3", "--max-depth", "100", "--no-speed", "--report-only"]
    assert conformance.main(["right:Value", "--batch", "class.csv", "-j", "2", *quick]) == 0
    assert "warning: right:Value is right:Value again: checked once" in capsys.readouterr().err
    grades = json.loads((tmp_path / ".conformance/grades.json").read_text())
    assert [(g["target"], g["status"]) for g in grades] == [("right:Value", "checked")]
