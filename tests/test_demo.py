"""The demo: trains to 100% on the moons, writes its pictures under one directory, and says
what is missing when it cannot run."""

import sys

import pytest

from micrograd.demo import draw_neuron, main, train
from tests.helpers import needs_dot


@pytest.fixture(scope="module")
def trained():
    return train(steps=100, progress=False)


def test_training_reaches_full_accuracy_with_falling_loss(trained):
    _, _, _, history = trained
    assert len(history) == 100
    assert history[-1][1] == 1.0
    assert history[-1][0] < history[0][0] / 10


def test_training_is_reproducible():
    first = train(steps=2, progress=False)[3]
    assert train(steps=2, progress=False)[3] == first
    assert train(steps=2, seed=2, progress=False)[3] != first


@needs_dot
def test_main_writes_everything_under_the_output_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["--steps", "2", "--quiet", "--graph"]) == 0
    out = tmp_path / "demo-output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-output"]
    assert sorted(p.name for p in out.iterdir()) == ["moons.png", "neuron.svg", "training.png"]
    for name in ("moons.png", "training.png"):
        assert (out / name).read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in (out / "neuron.svg").read_bytes()
    printed = capsys.readouterr().out
    assert "training accuracy" in printed
    assert "demo-output/moons.png" in printed


@needs_dot
def test_out_dir_and_graph_file(tmp_path, capsys):
    out = tmp_path / "pictures" / "new"
    assert main(["--steps", "1", "--quiet", "--out-dir", str(out), "--graph", "n.png"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["moons.png", "n.png", "training.png"]
    assert (out / "n.png").read_bytes().startswith(b"\x89PNG")


@needs_dot
def test_the_graph_names_its_boxes_and_shows_one_points_grads(trained):
    model, data, _, _ = trained
    # After training, the parameters hold the last step's loss gradients (stale for a drawing).
    picture, caption = draw_neuron(model, data, "svg")
    svg = picture.decode()
    for label in ("w1", "w2", "x1", "x2", "out"):
        assert f">{label}</text>" in svg, label
    assert ">b</text>" in svg
    assert "zeroed before its backward" in svg
    (neuron,) = [n for n in model.layers[0].neurons if n.w[0].label == "w1"]
    point = data[int(caption.split("training point ")[1].split(" ")[0]) - 1]
    # d relu(w . x + b) / d w_j = x_j and d / d b = 1 exactly where the relu is active.
    assert [w.grad for w in neuron.w] == point
    assert neuron.b.grad == 1.0


@pytest.mark.parametrize("module", ["sklearn", "matplotlib", "tqdm"])
def test_a_missing_dependency_names_the_extra(module, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, module, None)  # import raises ModuleNotFoundError
    assert main(["--out-dir", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "pip install -e '.[demo]' (in a clone of micrograd-verified)" in err
    assert {"sklearn": "scikit-learn"}.get(module, module) in err
    assert not (tmp_path / "out").exists()


def test_graph_without_graphviz_names_what_is_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    assert main(["--graph", "--out-dir", str(tmp_path)]) == 1
    assert "graphviz" in capsys.readouterr().err
    monkeypatch.delitem(sys.modules, "graphviz")
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot program
    assert main(["--graph", "--out-dir", str(tmp_path)]) == 1
    assert "Graphviz's dot program" in capsys.readouterr().err


def test_help_names_every_option_and_output(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--help"])
    assert exit.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    text = text.replace("- ", "-")  # argparse wraps lines at hyphens too
    for word in ("--steps", "--seed", "--out-dir", "--graph", "--quiet", "demo-output"):
        assert word in text
    for word in (
        "moons.png",
        "training.png",
        "neuron.svg",
        "pip install -e '.[demo]' (in a clone of micrograd-verified)",
    ):
        assert word in text


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--steps", "0"], "argument --steps: must be a positive int, got '0'"),
        (["--steps", "ten"], "argument --steps: must be a positive int, got 'ten'"),
        (["--graph", "n.pdf"], "--graph FILE must end in .svg"),
    ],
)
def test_bad_options_are_named(argv, says, capsys):
    with pytest.raises(SystemExit) as exit:
        main(argv)
    assert exit.value.code == 2
    assert says in capsys.readouterr().err
