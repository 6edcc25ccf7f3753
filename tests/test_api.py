"""`advisor.describe` / `advisor.fit` / `advisor.load` driven as a notebook would, and the README's Python run."""

from __future__ import annotations

import gc
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import EXAMPLES, ROOT

pytest.importorskip("sklearn")
pd = pytest.importorskip("pandas")

import advisor  # noqa: E402
from advisor.deciding.schema import DescriptorError  # noqa: E402


@pytest.fixture(scope="module")
def wine():
    from sklearn.datasets import load_wine

    df = load_wine(as_frame=True).frame
    new = df.groupby("target").tail(6)                                  # rows the run never sees
    return df.drop(index=new.index).reset_index(drop=True), new.reset_index(drop=True)


@pytest.fixture(scope="module")
def wine_run(wine):
    train, _ = wine
    return advisor.fit(train, target="target", time_budget=5)


def test_describe_a_dataframe_measures_modality_task_and_counts(wine):
    train, _ = wine
    desc = advisor.describe(train, target="target", interpretability="required", time_budget=90, regulated=True)
    assert (desc.data.modality, desc.task) == ("tabular", "classification")
    assert (desc.data.n_samples, desc.data.n_classes, desc.data.n_features) == (len(train), 3, 13)
    assert desc.data.target == "target" and desc.data.path is None
    assert desc.needs.interpretability == "required" and desc.needs.regulated is True
    assert desc.resources.time_budget_minutes == 1.5
    assert desc.needs.inference == "batch" and desc.resources.accelerator == "none"       # defaults


def test_describe_arrays_guesses_regression_and_text():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    desc = advisor.describe(X, y)
    assert (desc.task, desc.data.modality, desc.data.n_samples, desc.data.n_features) == \
        ("regression", "tabular", 442, 10)
    assert desc.data.n_classes is None
    assert advisor.describe((X, (y > 140).astype(int))).task == "classification"
    austen = pd.read_csv(EXAMPLES / "data" / "austen_paragraphs.csv")
    desc = advisor.describe(austen, target="label")
    assert (desc.data.modality, desc.data.text_column, desc.data.n_classes) == ("text", "text", 6)


def test_describe_a_file_counts_what_advisor_recommend_measures():
    from advisor.running.measure import measure

    path = EXAMPLES / "data" / "breast_cancer.csv"
    desc = advisor.describe(path)
    assert desc.data.path == str(path.resolve()) and desc.task == "classification"
    cli_view, _ = measure(desc.model_copy(update={"data": desc.data.model_copy(
        update={"n_samples": None, "n_classes": None, "n_features": None})}))
    assert (desc.data.n_samples, desc.data.n_classes, desc.data.n_features) == \
        (cli_view.data.n_samples, cli_view.data.n_classes, cli_view.data.n_features) == (569, 2, 30)
    images = advisor.describe(EXAMPLES / "data" / "fashion_mnist_demo.npz")
    assert (images.data.modality, images.data.n_samples, images.data.n_classes) == ("image", 3000, 10)


def test_describe_a_folder_and_a_parquet_file(wine, tmp_path):
    from PIL import Image

    for label, count in (("cat", 3), ("dog", 4)):
        (tmp_path / "pets" / label).mkdir(parents=True)
        for i in range(count):
            Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(tmp_path / "pets" / label / f"{i}.png")
    pets = advisor.describe(tmp_path / "pets")
    assert (pets.data.modality, pets.task, pets.data.n_samples, pets.data.n_classes) == \
        ("image", "classification", 7, 2)
    train, _ = wine
    train.to_parquet(tmp_path / "wine.parquet")
    desc = advisor.describe(tmp_path / "wine.parquet", target="target", task="classification")
    assert (desc.data.modality, desc.data.target, desc.data.n_samples) == ("tabular", "target", len(train))


@pytest.mark.parametrize("needs, field", [
    ({"interpretabilty": "required"}, "did you mean 'interpretability'"),
    ({"interpretability": "maybe"}, "needs.interpretability: got 'maybe'"),
    ({"accelerator": "tpu"}, "resources.accelerator"),
    ({"time_budget": -5}, "time_budget"),
    ({"path": "elsewhere.csv"}, "data.path"),
])
def test_a_bad_need_is_one_line_naming_the_field(wine, needs, field):
    train, _ = wine
    with pytest.raises(DescriptorError) as err:
        advisor.describe(train, target="target", **needs)
    assert field in str(err.value) and "\n" not in str(err.value)


def test_bad_data_is_one_line(wine):
    train, _ = wine
    with pytest.raises(DescriptorError, match="data.target: column 'nope' not in the DataFrame"):
        advisor.fit(train, target="nope")
    with pytest.raises(DescriptorError, match="images of shape .* are read from files"):
        advisor.describe(np.zeros((6, 8, 8)), np.arange(6) % 2)
    with pytest.raises(DescriptorError, match="X has 6 rows but y has 5"):
        advisor.describe(np.zeros((6, 2)), np.arange(5) % 2)
    lonely = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "target": ["a", "a", "a", "b"]})
    with pytest.raises(ValueError, match="DataFrame: class 'b' has 1 example"):
        advisor.describe(lonely, target="target")


def test_fit_a_dataframe_as_a_notebook_does(wine, wine_run):
    from sklearn.base import is_classifier

    train, new = wine
    run = wine_run
    assert is_classifier(run.model) and run.classes == [0, 1, 2]
    metrics = run.metrics
    assert metrics.n_train + metrics.n_test == len(train) and metrics.task == "classification"
    sel = metrics.selection
    assert sel is not None and sel.baseline is not None and metrics.macro_f1 > sel.baseline.mean + 0.3
    board = run.leaderboard
    assert board and {r.stage for r in board} >= {"probe", "candidate"}
    assert metrics.model in {r.model for r in board} and any(r.mean is not None for r in board)
    assert any(t.id == "measured.selection" for t in run.recommendation.trace)
    predicted = run.predict(new)                                   # the target column is left out
    assert np.mean(predicted == new["target"].to_numpy()) >= 0.8
    proba = run.predict_proba(new.drop(columns="target"))
    assert proba.shape == (len(new), 3) and np.allclose(proba.sum(axis=1), 1)
    assert np.mean(run.model.classes_[proba.argmax(axis=1)] == predicted) > 0.9
    html = run.report()
    assert html.lstrip().lower().startswith("<!doctype html") and "Measured choice" in html
    assert all(r.model in html for r in board)
    inline = run._repr_html_()
    assert inline.startswith("<iframe") and "srcdoc=" in inline and "&lt;!DOCTYPE html&gt;" in inline
    assert metrics.model in repr(run) and any(line.startswith("selection:") for line in run.log)


def test_save_then_load_gives_the_same_predictions_under_the_trust_rules(wine, tmp_path):
    train, new = wine
    run = advisor.fit(train, target="target", model="tabular_linear")
    temporary = run.path.parent
    saved = run.save(tmp_path / "wine")
    assert run.path == saved and not temporary.exists()              # the temporary folder went with the save
    again = advisor.load(saved)
    assert list(again.predict(new)) == list(run.predict(new))
    assert np.allclose(again.predict_proba(new), run.predict_proba(new))
    assert again.metrics == run.metrics and again.descriptor == run.descriptor
    foreign = tmp_path / "foreign"
    shutil.copytree(saved, foreign)
    (foreign / "signature.json").unlink()                           # as from another machine
    with pytest.raises(PermissionError, match="refusing to unpickle model.joblib"):
        advisor.load(foreign)
    assert list(advisor.load(foreign, trust=True).predict(new)) == list(run.predict(new))


def test_fit_arrays_into_a_named_folder(tmp_path):
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    X, y, X_new, y_new = X[order[:150]], y[order[:150]], X[order[150:]], y[order[150:]]
    out = tmp_path / "wine"
    run = advisor.fit(X, y, model="tabular_linear", out=out, seed=1)
    assert run.path == out and (out / "model.joblib").is_file() and run.leaderboard == []
    assert run.metrics.model == "tabular_linear" and run.metrics.accuracy > 0.9
    assert np.mean(run.predict(X_new) == y_new) > 0.9
    csv = tmp_path / "rows.csv"
    pd.DataFrame(X_new, columns=[f"x{i}" for i in range(X.shape[1])]).to_csv(csv, index=False)
    assert list(run.predict(csv)) == list(run.predict(X_new))       # a path, read as `advisor predict` reads it


def test_fit_from_a_file_is_the_cli_path(wine, tmp_path, write_yaml):
    """Same data, model and seed: advisor.fit on a path and `advisor train`'s own calls give the same run."""
    from advisor.deciding.engine import recommend
    from advisor.running.measure import prepare
    from advisor.running.train import train_run

    train, _ = wine
    train.to_csv(tmp_path / "wine.csv", index=False)
    yaml = write_yaml("name: wine\ntask: classification\ndata: {modality: tabular, path: wine.csv, target: target}\n")
    desc, measured = prepare(yaml)
    cli = train_run(desc, recommend(desc, measured=measured), out=tmp_path / "cli", model_name="tabular_linear",
                    quiet=True, echo=lambda line: None)
    run = advisor.fit(tmp_path / "wine.csv", target="target", model="tabular_linear")
    assert run.descriptor.data.path == desc.data.path and run.metrics.n_test == cli["n_test"] == 32
    assert run.metrics.confusion_matrix == cli["confusion_matrix"]


def test_fit_text_in_memory():
    austen = pd.read_csv(EXAMPLES / "data" / "austen_paragraphs.csv")
    seen = austen.groupby("label").head(50)
    new = austen.drop(index=seen.index).groupby("label").head(10)       # paragraphs the run never sees
    run = advisor.fit(seen, target="label", model="text_tfidf_linear")
    assert (run.metrics.modality, run.metrics.n_train + run.metrics.n_test) == ("text", len(seen))
    texts = new["text"].tolist()
    assert list(run.predict(texts)) == list(run.predict(new))          # a list of texts, or the frame
    assert np.mean(run.predict(texts) == new["label"].to_numpy()) > 0.4   # six novels: chance is 0.17


def test_regression_has_no_probabilities(tmp_path):
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    run = advisor.fit(X, y, model="tabular_linear")
    assert run.metrics.task == "regression" and run.metrics.r2 > 0.3
    assert not hasattr(run, "predict_proba") and len(run.predict(X.head(4))) == 4
    temporary = run.path.parent
    assert temporary.is_dir()
    del run
    gc.collect()
    assert not temporary.exists()                   # an unsaved run's folder goes with it (or at exit)


def test_import_advisor_stays_light():
    code = ("import sys, advisor; advisor.describe, advisor.fit, advisor.load, advisor.Run; "
            "print([m for m in ('torch', 'sklearn', 'pandas', 'numpy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
    assert out.strip() == "[]"


_BLOCK = re.compile(r"(<!-- not-run[^>]*-->\s*\n)?```python\n(.*?)```", re.S)


def readme_snippets() -> list[tuple[int, str]]:
    """The README's ```python blocks (line number, code), leaving out those marked `<!-- not-run: why -->`."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [(text[:m.start(2)].count("\n") + 1, m.group(2)) for m in _BLOCK.finditer(text) if not m.group(1)]


def test_readme_marks_what_it_does_not_run():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme_snippets()) >= 3 and text.count("```python") == len(readme_snippets()) + \
        text.count("<!-- not-run")
    assert any("advisor.fit(df" in code and "run.report()" in code for _, code in readme_snippets())


@pytest.mark.parametrize("line, code", readme_snippets(), ids=lambda v: f"README.md:{v}" if isinstance(v, int)
                         else "")
def test_readme_python_snippet_runs(line, code, tmp_path, monkeypatch):
    (tmp_path / "examples").symlink_to(EXAMPLES, target_is_directory=True)     # paths as from the repo root
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "__readme__"})
