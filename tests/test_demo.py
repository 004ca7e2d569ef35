"""The demo: trains to 100% on the moons and writes its pictures."""

from micrograd.demo import main, train


def test_training_reaches_full_accuracy_with_falling_loss():
    _, _, _, history = train(steps=100, progress=False)
    assert history[-1][1] == 1.0
    assert history[-1][0] < history[0][0] / 10


def test_main_writes_the_boundary_and_the_graph(tmp_path, capsys):
    out, graph = tmp_path / "moons.png", tmp_path / "neuron.svg"
    assert main(["--steps", "3", "--quiet", "--out", str(out), "--graph", str(graph)]) == 0
    assert out.read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in graph.read_bytes()
    assert "training accuracy" in capsys.readouterr().out
