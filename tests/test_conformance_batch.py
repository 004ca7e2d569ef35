"""A batch of engines graded at once: python -m micrograd.conformance --batch CSV -j 2 gives one
row per engine (score, a count per severity, the first WRONG finding) as Markdown, CSV and JSON,
and each engine's own scorecard. The engines are module paths: nothing to install."""

import csv
import json
from pathlib import Path

from micrograd import conformance
from micrograd.testing.conformance.batch import slug
from tests.engines.hostile import engine


def test_a_batch_grades_each_engine_in_its_own_process(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # module paths import from the current directory
    (tmp_path / "right.py").write_text(engine())
    wrong = "return self._node(0.0, (self,), (1.0,))"  # relu' = 1 below 0
    (tmp_path / "wrong.py").write_text(engine(wrong))
    (tmp_path / "quits.py").write_text(engine("exit(3)"))
    (tmp_path / "class.csv").write_text("target\nright:Value\nwrong:Value\nquits:Value\n")
    batch = ["--batch", "class.csv", "-j", "2", "--no-speed", "--profile", "course"]
    quick = ["--examples", "5", "--max-depth", "500", "--timeout", "5", "--target-timeout", "60"]
    status = conformance.main([*batch, *quick])
    assert status == 1  # wrong and quits fail the course profile
    with (tmp_path / ".conformance/grades.csv").open() as f:
        rows = {r["target"]: r for r in csv.DictReader(f)}
    assert list(rows) == ["right:Value", "wrong:Value", "quits:Value"]  # the CSV's order
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
    assert "| `wrong:Value` |" in (tmp_path / ".conformance/grades.md").read_text()


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
