"""`advisor predict -o` (a predictions table, written atomically, scored when the target is there), `advisor train
--refit-full` (the saved model refit on all rows, the held-out scores those of the training-split model), and
kind mismatches between a run and what it is given (one line, exit 2)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from advisor.cli import cli
from conftest import EXAMPLES, ROOT

pytest.importorskip("sklearn")


def _cli(*args: str):
    return CliRunner().invoke(cli, list(args))


def _exit_2(result, needle: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exc_info)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("advisor: error: ") and needle in lines[-1], result.stderr
    assert "Traceback" not in result.output
    return lines[-1]


def _train(root: Path, name: str, *extra: str, model: str = "tabular_linear") -> Path:
    out = root / name
    result = subprocess.run([sys.executable, "-m", "advisor.cli", "train", str(root / "iris.yaml"), "--out", str(out),
                             "--model", model, "--quiet", *extra],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def iris(tmp_path_factory) -> Path:
    """iris (150 rows, 3 named classes) as a CSV with its descriptor, and `split`: a linear model's run."""
    from sklearn.datasets import load_iris

    root = tmp_path_factory.mktemp("iris")
    bunch = load_iris(as_frame=True)
    frame = bunch.frame.drop(columns="target").assign(species=bunch.target_names[bunch.target])
    frame.to_csv(root / "iris.csv", index=False)
    (root / "iris.yaml").write_text("name: iris\ntask: classification\ndata:\n  modality: tabular\n"
                                    "  path: iris.csv\n  target: species\n")
    _train(root, "split")
    return root


@pytest.fixture(scope="module")
def full(iris) -> Path:
    """The same model and seed as `split`, trained with --refit-full (and its report)."""
    return _train(iris, "full", "--refit-full", "--report")


def test_predict_output_writes_the_input_columns_a_prediction_and_probabilities(iris, tmp_path):
    source = iris / "iris.csv"
    result = _cli("predict", str(iris / "split"), str(source), "-o", str(tmp_path / "p.csv"))
    assert result.exit_code == 0, result.output
    table, given = pd.read_csv(tmp_path / "p.csv"), pd.read_csv(source)
    proba = ["proba_setosa", "proba_versicolor", "proba_virginica"]
    assert list(table.columns) == [*given.columns, "prediction", *proba]
    pd.testing.assert_frame_equal(table[given.columns], given)
    np.testing.assert_allclose(table[proba].sum(axis=1), 1.0, atol=1e-6)
    assert (table["prediction"] == table[proba].idxmax(axis=1).str.removeprefix("proba_")).all()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.csv"]          # no temp file left beside it
    assert result.stdout.startswith(f"{tmp_path / 'p.csv'}: 150 rows")
    parquet = _cli("predict", str(iris / "split"), str(source), "-o", str(tmp_path / "p.parquet"))
    assert parquet.exit_code == 0, parquet.output
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "p.parquet"), table)


def test_predict_scores_against_the_target_with_the_training_metrics(iris, tmp_path):
    import zoo

    result = _cli("predict", str(iris / "split"), str(iris / "iris.csv"), "-o", str(tmp_path / "p.csv"), "--json")
    assert result.exit_code == 0, result.output
    said = json.loads(result.stdout)
    assert said["rows"] == 150 and said["target"] == "species" and said["columns"][-4] == "prediction"
    data = zoo.load_dataset(iris / "iris.csv", "tabular", target="species")
    expected = zoo.evaluate(zoo.load_model(iris / "split"), data, "classification")
    for key in ("accuracy", "macro_f1", "confusion_matrix", "labels", "n_test"):
        assert said["scores"][key] == expected[key], key
    plain = _cli("predict", str(iris / "split"), str(iris / "iris.csv"))       # no -o: rows as before, scores
    assert plain.exit_code == 0 and plain.stdout.splitlines()[0].startswith("row 0\tsetosa (")
    assert f"scores against column 'species' (150 rows): accuracy {expected['accuracy']:.3f}" in plain.stderr
    pd.read_csv(iris / "iris.csv").drop(columns="species").to_csv(tmp_path / "x.csv", index=False)
    unlabelled = _cli("predict", str(iris / "split"), str(tmp_path / "x.csv"), "-o", str(tmp_path / "q.csv"),
                      "--json")
    assert unlabelled.exit_code == 0 and json.loads(unlabelled.stdout)["scores"] is None
    assert "scores" not in _cli("predict", str(iris / "split"), str(tmp_path / "x.csv")).stderr


def test_predict_output_refuses_bad_paths_and_leaves_existing_files_alone(iris, tmp_path, monkeypatch):
    run, source = iris / "split", iris / "iris.csv"
    kept = tmp_path / "p.csv"
    kept.write_text("keep me\n")
    _exit_2(_cli("predict", str(run), str(source), "-o", str(tmp_path / "p.json")), "written as .csv or .parquet")
    _exit_2(_cli("predict", str(run), str(source), "-o", str(tmp_path / "no" / "p.csv")), "does not exist")
    _exit_2(_cli("predict", str(run), str(source), "-o", str(tmp_path)), "written as .csv")
    _exit_2(_cli("predict", str(run), str(source), "-o", str(run / "p.csv")), "inside the run folder")
    before = source.read_bytes()
    _exit_2(_cli("predict", str(run), str(source), "-o", str(source)), "is the input")
    assert source.read_bytes() == before
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")                      # the model's columns are missing
    _exit_2(_cli("predict", str(run), str(tmp_path / "other.csv"), "-o", str(kept)), "takes tabular data")

    import errno

    def full_disk(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    _exit_2(_cli("predict", str(run), str(source), "-o", str(kept)), "No space left on device")
    assert kept.read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.csv", "p.csv"]


def test_refit_full_saves_the_model_fit_on_all_rows_and_says_so(iris, full):
    from sklearn.base import clone

    import zoo

    split, full = (json.loads((iris / name / "metrics.json").read_text()) for name in ("split", "full"))
    assert full["refit_full"] is True and full["n_refit"] == 150 and full["n_train"] == 120
    assert not split.get("refit_full") and split.get("n_refit") is None          # defaults left out
    for key in ("accuracy", "macro_f1", "confusion_matrix"):          # held-out scores: the training-split model
        assert full[key] == split[key], key
    data = zoo.load_dataset(iris / "iris.csv", "tabular", target="species")
    saved, split_model = zoo.load_model(iris / "full"), zoo.load_model(iris / "split")
    on_all = clone(split_model).fit(data.X, data.y)
    np.testing.assert_allclose(saved.predict_proba(data.X), on_all.predict_proba(data.X), atol=1e-9)
    assert np.abs(saved.predict_proba(data.X) - split_model.predict_proba(data.X)).max() > 1e-4
    html = (iris / "full" / "report.html").read_text(encoding="utf-8")
    assert "refit on all 150 items after scoring" in html and "fit on the 120 training items" in html
    assert "refit on all" not in _report_of(iris / "split")


def _report_of(run: Path) -> str:
    from advisor.showing.report import render_report

    return render_report(run)


def test_refit_full_forecasting_refits_on_the_whole_series(tmp_path):
    import zoo

    out = tmp_path / "w"
    result = subprocess.run([sys.executable, "-m", "advisor.cli", "train", str(EXAMPLES / "weather_forecasting.yaml"),
                             "--out", str(out), "--model", "ts_seasonal_naive", "--refit-full", "--quiet"],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["refit_full"] and metrics["n_refit"] == metrics["n_train"] + metrics["n_test"]
    assert len(zoo.load_model(out).series_) == metrics["n_refit"]
    assert "refit: the saved model was refit on all" in result.stdout


@pytest.mark.slow
def test_refit_full_deep_trains_for_the_chosen_epochs_on_all_rows(iris):
    import zoo

    out = _train(iris, "mlp", "--refit-full", model="tabular_mlp")
    metrics = json.loads((out / "metrics.json").read_text())
    saved = zoo.load_model(out)
    chosen = metrics["history"]["best_epoch"] or len(metrics["history"]["train_loss"])
    assert metrics["refit_full"] and metrics["n_refit"] == 150
    assert saved.epochs == chosen and saved.patience is None and saved.val_fraction == 0.0
    assert saved.history_.epochs_run == chosen


def test_api_fit_refit_full(iris):
    import advisor

    frame = pd.read_csv(iris / "iris.csv")
    run = advisor.fit(frame, "species", model="tabular_linear", refit_full=True)
    assert run.metrics.refit_full and run.metrics.n_refit == 150 and run.metrics.n_train == 120
    assert any(line.startswith("refit: done") for line in run.log)


# ----------------------------------------------------------------------------------------------- kind mismatches
@pytest.fixture(scope="module")
def runs(iris, tmp_path_factory) -> dict[str, Path]:
    """An image run, a text run (column 'review') and the tabular iris run, saved as `advisor train` saves them."""
    from PIL import Image

    import zoo

    root = tmp_path_factory.mktemp("kinds")
    for cls, colour in (("red", (220, 20, 20)), ("blue", (20, 20, 220))):
        (root / "imgs" / cls).mkdir(parents=True)
        for i in range(6):
            shade = tuple(min(255, c + 5 * i) for c in colour)
            Image.new("RGB", (32, 32), shade).save(root / "imgs" / cls / f"{i}.png")
    ds = zoo.load_dataset(root / "imgs", "image")
    image = zoo.create_model("image_handcrafted_logistic", image_size=32, n_jobs=1).fit(ds.X, ds.y)
    zoo.save_model(image, root / "image", name="image_handcrafted_logistic",
                   extra={"modality": "image", "task": "classification", "target": None, "text_column": None})
    texts = [f"{'great fun' if i % 2 else 'dull and slow'} film {i}" for i in range(20)]
    text = zoo.create_model("text_tfidf_linear").fit(texts, np.array(["pos" if i % 2 else "neg" for i in range(20)]))
    zoo.save_model(text, root / "text", name="text_tfidf_linear",
                   extra={"modality": "text", "task": "classification", "target": "label", "text_column": "review"})
    return {"image": root / "image", "text": root / "text", "tabular": iris / "split", "imgs": root / "imgs"}


@pytest.mark.parametrize("run,given,needle", [
    ("image", "wine.csv", "names no image files"),
    ("image", "wine.parquet", "names no image files"),
    ("image", "notes.txt", "got a .txt file"),
    ("image", "arrays.npz", "got a .npz file"),
    ("image", "empty.csv", "it holds no rows"),
    ("tabular", "imgs", "got a folder"),
    ("tabular", "one.png", "got a .png file"),
    ("tabular", "notes.txt", "got a .txt file"),
    ("tabular", "wine.csv", "X is missing 4 column(s)"),
    ("text", "one.png", "got a .png file"),
    ("text", "wine.csv", "its columns are"),
    ("text", "imgs", "got a folder"),
])
def test_kind_mismatches_are_one_line_exit_2(runs, tmp_path, run, given, needle):
    from sklearn.datasets import load_wine

    wine = load_wine(as_frame=True).frame
    wine.to_csv(tmp_path / "wine.csv", index=False)
    wine.to_parquet(tmp_path / "wine.parquet")
    (tmp_path / "notes.txt").write_text("great fun\ndull\n")
    np.savez(tmp_path / "arrays.npz", X=np.zeros((3, 4)))
    (tmp_path / "empty.csv").write_text("path,label\n")
    shutil.copy(runs["imgs"] / "red" / "0.png", tmp_path / "one.png")
    shutil.copytree(runs["imgs"], tmp_path / "imgs")
    kind = "tabular" if run == "tabular" else run
    line = _exit_2(_cli("predict", str(runs[run]), str(tmp_path / given)), f"this run's model takes {kind} data")
    assert needle in line and line.startswith(f"advisor: error: {tmp_path / given}: ")


def test_unreadable_tables_are_one_line_naming_the_file(runs, tmp_path):
    (tmp_path / "junk.csv").write_bytes(b"a,b\n\xff\xfe,1\n")
    for run in ("image", "text", "tabular"):
        _exit_2(_cli("predict", str(runs[run]), str(tmp_path / "junk.csv")), f"{tmp_path / 'junk.csv'}: not UTF-8")


def test_an_image_run_given_a_numeric_table_in_python_says_it_takes_images(runs):
    from sklearn.datasets import load_wine

    import advisor

    run = advisor.load(runs["image"])
    with pytest.raises(ValueError, match="this run's model takes image data: .*names no image files"):
        run.predict(load_wine(as_frame=True).frame)
