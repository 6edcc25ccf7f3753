"""Registry + classical zoo: sklearn contract and real accuracy checks (about 30 s on 2 CPU cores)."""

from __future__ import annotations

import inspect
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import zoo
from zoo import registry

DATA_DIR = Path(__file__).resolve().parents[1] / "examples" / "data"
CLASSICAL = [
    "audio_features_boosting", "audio_features_forest", "audio_features_logistic", "image_handcrafted_boosting", "image_handcrafted_forest", "image_handcrafted_forest_regressor",
    "image_handcrafted_iforest", "image_handcrafted_logistic", "tabular_decision_tree", "tabular_extra_trees",
    "tabular_gradient_boosting", "tabular_isolation_forest", "tabular_linear", "tabular_random_forest",
    "tabular_svm", "text_tfidf_char_linear", "text_tfidf_char_ridge", "text_tfidf_linear", "text_tfidf_ridge",
    "ts_lag_gradient_boosting", "video_motion_forest",
]
PLANNED = {
    "deep": ["tabular_mlp", "tabular_autoencoder", "image_effnet_lite0_finetune", "image_effnet_lite0_regressor",
             "image_conv_autoencoder", "text_minilm_finetune", "text_minilm_regressor", "ts_gru",
             "video_effnet_lite0_finetune"],
    "hybrid": ["audio_effnet_lite0_features_linear", "image_effnet_lite0_features_linear", "image_effnet_lite0_features_ridge",
               "image_effnet_lite0_features_iforest", "text_minilm_features_linear", "text_minilm_features_ridge",
               "video_effnet_lite0_features_linear"],
}


# ----------------------------------------------------------------------------- registry

def test_import_zoo_is_light() -> None:
    code = ("import sys, time; t = time.perf_counter(); import zoo; dt = time.perf_counter() - t; "
            "zoo.list_models(); heavy = [m for m in ('sklearn', 'torch', 'skimage', 'pandas') if m in sys.modules]; "
            "print(dt, heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split(" ", 1)
    assert float(out[0]) < 0.2
    assert out[1].strip() == "[]"


def test_list_models_patterns() -> None:
    everything = zoo.list_models()
    assert everything == sorted(everything)
    assert set(CLASSICAL) | {n for names in PLANNED.values() for n in names} <= set(everything)
    assert zoo.list_models(module="zoo.classical") == CLASSICAL
    assert zoo.list_models("tabular_*") == ["tabular_autoencoder", "tabular_decision_tree", "tabular_extra_trees",
                                            "tabular_gradient_boosting", "tabular_isolation_forest", "tabular_linear",
                                            "tabular_mlp", "tabular_random_forest", "tabular_svm"]
    assert zoo.list_models(["ts_*", "text_tfidf_*"]) == ["text_tfidf_char_linear", "text_tfidf_char_ridge",
                                                         "text_tfidf_linear", "text_tfidf_ridge", "ts_direct_linear",
                                                         "ts_ets", "ts_gru", "ts_lag_gradient_boosting", "ts_naive",
                                                         "ts_seasonal_naive"]
    assert zoo.list_models("image_*effnet*", module="zoo.hybrid") == ["image_effnet_lite0_features_iforest",
                                                                "image_effnet_lite0_features_linear",
                                                                "image_effnet_lite0_features_ridge"]
    assert zoo.list_models(family="hybrid") == sorted(PLANNED["hybrid"])
    assert zoo.list_models("no_such_*") == []


def test_unknown_model_lists_close_matches() -> None:
    with pytest.raises(zoo.UnknownModelError) as err:
        zoo.create_model("tabular_gradient_boost")
    msg = str(err.value)
    assert isinstance(err.value, ValueError) and "\n" not in msg
    assert "tabular_gradient_boosting" in msg and "did you mean" in msg
    with pytest.raises(ValueError, match="tabular_random_forest"):
        zoo.model_info("random_forest")
    with pytest.raises(ValueError, match="list_models"):
        zoo.create_model("zzzzzz")


def test_missing_family_module_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from zoo import catalogue

    future = catalogue.Entry(name="future_model", family="deep", architecture="cnn", modalities=("image",),
                             tasks=("classification",), entry_point="zoo._module_not_written_yet:Net",
                             description="not written yet")
    monkeypatch.setattr(catalogue, "CATALOGUE", (*catalogue.CATALOGUE, future))
    monkeypatch.setattr(catalogue, "_BY_NAME", {**catalogue._BY_NAME, "future_model": future})
    assert "future_model" in zoo.list_models()
    with pytest.raises(zoo.ModelUnavailableError, match="zoo._module_not_written_yet"):
        zoo.create_model("future_model")


def test_register_create_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_RUNTIME", dict(registry._RUNTIME))

    @zoo.register_model(family="hybrid", modality="image", tasks=("classification",),
                        pretrained_cfg={"weights": "demo", "input_size": [3, 224, 224]})
    def demo_model(**params: Any) -> dict[str, Any]:
        """A demo entry."""
        return {"built_with": params}

    assert zoo.create_model("demo_model", alpha=2) == {"built_with": {"alpha": 2}}
    info = zoo.model_info("demo_model")
    assert (info.family, info.modality, info.tasks, info.description) == (
        "hybrid", "image", ("classification",), "A demo entry.")
    assert info.to_dict()["pretrained_cfg"] == {"weights": "demo", "input_size": [3, 224, 224]}
    with pytest.raises(TypeError):
        info.pretrained_cfg["weights"] = "other"  # type: ignore[index]
    assert "demo_model" in zoo.list_models("demo_*")
    with pytest.raises(ValueError, match="family"):
        zoo.register_model(family="quantum", modality="image", tasks=("classification",))


@pytest.mark.parametrize("name", CLASSICAL)
def test_classical_entries_metadata(name: str) -> None:
    info = zoo.model_info(name)
    assert info.family == "classical" and info.module == "zoo.classical" and info.description
    est = zoo.create_model(name)
    assert type(est).__name__ in zoo.__all__ and type(est).__name__ == info.class_name
    if "random_state" in est.get_params():
        assert zoo.create_model(name, random_state=1).get_params()["random_state"] == 1


# ----------------------------------------------------------------------------- sklearn contract

def _tiny_data(name: str) -> tuple[Any, Any, dict[str, Any]]:
    rng = np.random.default_rng(0)
    if name.startswith("tabular"):
        X = rng.normal(size=(60, 4))
        return X, (X[:, 0] > 0).astype(int), {}
    if name.startswith("text"):
        return ["good great fine", "bad awful poor"] * 10, [1, 0] * 10, {}
    if name.startswith("audio"):                 # 12 clips of 0.1 s at 16 kHz: a low and a high tone
        t = np.arange(1600) / 16_000
        clips = np.stack([np.sin(2 * np.pi * (300 if k % 2 else 3000) * t) + 0.1 * rng.normal(size=t.size)
                          for k in range(12)])
        return clips, [0, 1] * 6, {"duration": 0.1, "n_estimators": 10, "max_iter": 10, "n_jobs": 1}
    if name.startswith("video"):                 # 12 clips of 4 frames, 16 px: a bright square moving left or right
        clips = np.zeros((12, 4, 16, 16, 3), dtype=np.uint8)
        for k in range(12):
            for t in range(4):
                x = 2 + 3 * t if k % 2 else 11 - 3 * t
                clips[k, t, 6:10, x:x + 3] = 200 + rng.integers(0, 50)
        return clips, [0, 1] * 6, {"n_frames": 4, "frame_size": 16, "n_estimators": 10, "n_jobs": 1}
    if name.startswith("image"):
        imgs = rng.integers(0, 255, size=(12, 40, 40, 3), dtype=np.uint8)
        return imgs, [0, 1] * 6, {"image_size": 32, "n_estimators": 10, "n_jobs": 1}
    return None, np.sin(np.arange(80) / 3.0), {"max_iter": 20}


# A change per model that must alter what the fitted model outputs on the tiny data.
CHANGES: dict[str, dict[str, Any]] = {
    "image_handcrafted_forest": {"n_estimators": 2},
    "image_handcrafted_forest_regressor": {"n_estimators": 2},
    "image_handcrafted_iforest": {"n_estimators": 3},
    "tabular_decision_tree": {"min_samples_leaf": 40},          # no split possible on 60 rows: class priors
    "tabular_gradient_boosting": {"max_iter": 2},
    "tabular_isolation_forest": {"n_estimators": 3},
    "tabular_linear": {"C": 1e-4},
    "tabular_random_forest": {"n_estimators": 2},
    "text_tfidf_linear": {"C": 1e-3},
    "text_tfidf_ridge": {"alphas": (1e4,)},
    "ts_lag_gradient_boosting": {"lags": 2},
    "image_handcrafted_boosting": {"head": "random_forest"},      # 12 images: too few for a boosting split
    "audio_features_boosting": {"head": "logistic", "C": 1e-4},   # 12 clips: too few for a boosting split
    "audio_features_forest": {"n_estimators": 2},
    "audio_features_logistic": {"C": 1e-4},
    "video_motion_forest": {"n_estimators": 2},
    "image_handcrafted_logistic": {"C": 1e-4},
    "tabular_extra_trees": {"min_samples_leaf": 25},
    "tabular_svm": {"C": 1e-3},
    "text_tfidf_char_linear": {"C": 1e-3},
    "text_tfidf_char_ridge": {"alphas": (1e4,)},
}


def _outputs(est: Any, X: Any) -> np.ndarray:
    if hasattr(est, "forecast"):
        return np.asarray(est.forecast(5), dtype=float)
    if hasattr(est, "predict_proba"):
        return np.asarray(est.predict_proba(X), dtype=float)
    if not hasattr(est, "decision_function"):                 # regressors
        return np.asarray(est.predict(X), dtype=float)
    return np.asarray(est.decision_function(X), dtype=float)


def _init_kwargs(cls: type) -> set[str]:
    sig = inspect.signature(cls.__init__)
    return {n for n, p in sig.parameters.items() if n != "self" and p.kind is not p.VAR_KEYWORD}


def test_every_classical_model_has_a_change() -> None:
    assert set(CHANGES) == set(CLASSICAL)


@pytest.mark.parametrize("name", CLASSICAL)
def test_params_are_init_kwargs_and_set_params_changes_behaviour(name: str) -> None:
    from sklearn.base import clone

    X, y, params = _tiny_data(name)
    est = zoo.create_model(name, **params)
    assert set(est.get_params(deep=False)) == _init_kwargs(type(est))
    for k, v in params.items():
        assert est.get_params()[k] == v                       # create_model's kwargs reach the estimator
    before = _outputs(est.fit(X, y), X)

    change = CHANGES[name]
    assert all(est.get_params()[k] != v for k, v in change.items()), "the change must differ from the current"
    assert est.set_params(**change) is est
    for k, v in change.items():
        assert getattr(est, k) == v and est.get_params()[k] == v
    after = _outputs(est.fit(X, y), X)
    assert before.shape == after.shape and not np.allclose(before, after), "set_params did not change the fit"

    twin = clone(est)
    for k, v in est.get_params(deep=False).items():
        assert type(twin.get_params()[k]) is type(v) and twin.get_params()[k] == v, k
    assert np.allclose(_outputs(twin.fit(X, y), X), after)   # the clone, refitted, is the same model
    with pytest.raises(ValueError):
        est.set_params(no_such_param=1)


@pytest.mark.parametrize("name", CLASSICAL)
def test_sklearn_contract(name: str) -> None:
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    X, y, params = _tiny_data(name)
    est = zoo.create_model(name, **params)
    assert not [k for k in vars(est) if k.endswith("_") and not k.startswith("__")]
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    twin = clone(est)
    assert twin is not est and twin.get_params() == est.get_params()
    key = next(iter(est.get_params()))
    assert est.set_params(**{key: est.get_params()[key]}) is est
    assert est.fit(X, y) is est
    check_is_fitted(est)
    assert [k for k in vars(clone(est)) if k.endswith("_")] == []
    est = pickle.loads(pickle.dumps(est))                               # run folders store models with joblib
    if name.endswith("isolation_forest") or name.endswith("iforest"):
        assert set(est.predict(X)) <= {-1, 1}                           # scikit-learn: -1 = outlier
    elif name == "ts_lag_gradient_boosting":
        assert est.forecast(5).shape == (5,)
    else:
        assert len(est.predict(X)) == len(y)
        if "regressor" in name or "ridge" in name:
            assert not hasattr(est, "predict_proba") and np.issubdtype(est.predict(X).dtype, np.floating)
        else:
            assert np.allclose(est.predict_proba(X).sum(axis=1), 1.0)


def test_task_switches_estimator_type() -> None:
    from sklearn.base import is_classifier, is_regressor

    est = zoo.create_model("tabular_linear")
    assert is_classifier(est) and hasattr(est, "predict_proba")
    est.set_params(task="regression")
    assert is_regressor(est) and not hasattr(est, "predict_proba")
    with pytest.raises(ValueError, match="task"):
        zoo.create_model("tabular_random_forest", task="ranking").fit(np.zeros((20, 2)), np.arange(20))


# ----------------------------------------------------------------------------- tabular on real data

@pytest.fixture(scope="module")
def breast_cancer() -> tuple[pd.DataFrame, pd.Series]:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    return data.data, data.target.map(dict(enumerate(data.target_names)))   # string labels


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_breast_cancer_gradient_boosting(breast_cancer: tuple[pd.DataFrame, pd.Series], seed: int) -> None:
    from sklearn.model_selection import train_test_split

    X, y = breast_cancer
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    est = zoo.create_model("tabular_gradient_boosting").fit(Xtr, ytr)
    assert list(est.classes_) == ["benign", "malignant"]
    assert est.score(Xte, yte) >= 0.93
    assert est.score(Xte.to_numpy(), yte) == est.score(Xte, yte)      # arrays accepted after a DataFrame fit


def test_breast_cancer_tree_rules_and_importances(breast_cancer: tuple[pd.DataFrame, pd.Series]) -> None:
    from sklearn.model_selection import train_test_split

    X, y = breast_cancer
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    tree = zoo.create_model("tabular_decision_tree", max_depth=3).fit(Xtr, ytr)
    rules = tree.export_rules()
    assert any(f"|--- {col} <=" in rules for col in X.columns)
    assert "class: malignant" in rules and "class: benign" in rules
    assert tree.score(Xte, yte) >= 0.88

    forest = zoo.create_model("tabular_random_forest", n_estimators=100).fit(Xtr, ytr)
    assert forest.score(Xte, yte) >= 0.93
    imp = pd.Series(forest.feature_importances_, index=forest.feature_names_out_)
    assert len(imp) == X.shape[1] and imp.idxmax() in X.columns
    perm = zoo.create_model("tabular_gradient_boosting").fit(Xtr, ytr).permutation_importance(Xte, yte, n_repeats=3)
    assert set(perm.index) == set(X.columns) and perm.iloc[0] > 0


def _mixed_frame(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "age": rng.normal(40, 10, n),
        "city": rng.choice(np.array(["paris", "rome", "oslo", None], dtype=object), n),
        "member": rng.random(n) > 0.5,
        "signup": pd.date_range("2020-01-01", periods=n, freq="D"),
    })
    y = np.where((df["city"] == "rome") | (df["age"] > 50), "yes", "no")
    df.loc[rng.random(n) < 0.1, "age"] = np.nan
    return df, y


@pytest.mark.parametrize("name", ["tabular_gradient_boosting", "tabular_random_forest", "tabular_linear",
                                  "tabular_decision_tree"])
def test_categoricals_and_missing_values(name: str) -> None:
    df, y = _mixed_frame(400, seed=0)
    est = zoo.create_model(name).fit(df.iloc[:300], y[:300])
    assert est.categorical_features_ == ["city"] and "age" in est.numeric_features_
    assert est.score(df.iloc[300:], y[300:]) >= 0.9
    new = df.iloc[:4].copy()
    new["city"] = ["tokyo", None, "rome", "oslo"]            # unseen + missing categories
    new.loc[new.index[0], "age"] = np.nan
    assert est.predict(new)[2] == "yes"
    names = list(est.feature_names_out_)
    assert "age" in names and any(n.startswith("city") for n in names)


def test_diabetes_regression() -> None:
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import KFold, cross_val_score, train_test_split

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    assert zoo.create_model("tabular_linear", task="regression").fit(Xtr, ytr).score(Xte, yte) > 0.3
    gb = zoo.create_model("tabular_gradient_boosting", task="regression")
    assert cross_val_score(gb, X, y, cv=KFold(5, shuffle=True, random_state=0)).mean() > 0.3


def test_isolation_forest_finds_planted_outliers() -> None:
    from sklearn.datasets import load_wine

    X = load_wine(as_frame=True).data
    rng = np.random.default_rng(0)
    planted = X.sample(12, random_state=0).to_numpy() + rng.choice([-1, 1], size=(12, X.shape[1])) * 6 * X.std().to_numpy()
    Xa = pd.concat([X, pd.DataFrame(planted, columns=X.columns)], ignore_index=True)
    labels = np.r_[np.zeros(len(X)), np.ones(12)]
    est = zoo.create_model("tabular_isolation_forest").fit(Xa)
    assert est.score(Xa, labels) > 0.9
    pred = est.predict(Xa)                                   # scikit-learn: -1 = outlier, +1 = inlier
    assert set(np.unique(pred)) <= {-1, 1}
    assert (pred[-12:] == -1).mean() >= 0.9 and (pred[:-12] == -1).mean() < 0.2
    assert np.array_equal(pred, np.where(est.decision_function(Xa) < 0, -1, 1))
    assert np.allclose(est.anomaly_score(Xa), -est.score_samples(Xa))   # score_samples keeps sklearn's sign


# ----------------------------------------------------------------------------- text

def test_text_separable_sanity() -> None:
    pos = ["what a great and fun movie", "wonderful acting, great film", "loved it, great fun", "a wonderful story"]
    neg = ["terrible boring movie", "awful acting, bad film", "hated it, so boring", "a terrible story"]
    est = zoo.create_model("text_tfidf_linear", char_ngram_range=(2, 4)).fit(pd.Series(pos + neg), ["pos"] * 4 + ["neg"] * 4)
    assert list(est.predict(["great fun", "boring and terrible"])) == ["pos", "neg"]
    top = est.top_terms(3)
    assert set(top) == {"pos", "neg"} and "great" in [t for t, _ in top["pos"]]


@pytest.mark.skipif(not (DATA_DIR / "austen_paragraphs.csv").exists(), reason="examples/data text CSV not present")
def test_text_austen_novels() -> None:
    from sklearn.model_selection import train_test_split

    df = pd.read_csv(DATA_DIR / "austen_paragraphs.csv")
    Xtr, Xte, ytr, yte = train_test_split(df["text"], df["label"], test_size=0.25, stratify=df["label"], random_state=0)
    est = zoo.create_model("text_tfidf_linear").fit(Xtr, ytr)
    assert est.score(Xte, yte) >= 0.7                       # 6 classes: chance is 0.17
    top = est.top_terms(5)
    assert "emma" in [t for t, _ in top["Emma"]] and "elizabeth" in [t for t, _ in top["Pride & Prejudice"]]


# ----------------------------------------------------------------------------- images

def _crops(img: np.ndarray, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    out = []
    h, w = img.shape[:2]
    for _ in range(n):
        s = int(rng.integers(min(h, w) // 3, min(h, w)))
        r, c = int(rng.integers(0, h - s + 1)), int(rng.integers(0, w - s + 1))
        patch = np.rot90(img[r:r + s, c:c + s][:, ::-1] if rng.random() < 0.5 else img[r:r + s, c:c + s],
                         int(rng.integers(0, 4)))
        out.append(np.clip(patch * rng.uniform(0.7, 1.3), 0, 255).astype(np.uint8))
    return out


def test_handcrafted_features_shapes_and_names(tmp_path: Path) -> None:
    from skimage import data, io

    from zoo.features import HandcraftedImageFeatures

    rgba = np.dstack([data.coffee()[:90, :120], np.full((90, 120), 255, np.uint8)])
    path = tmp_path / "rocket.png"
    io.imsave(path, data.rocket()[::4, ::4])
    images = [data.chelsea(), data.camera(), rgba, np.zeros((20, 30), np.uint8), data.horse(), str(path)]
    feats = HandcraftedImageFeatures(n_jobs=1).fit(images)
    names = feats.get_feature_names_out()
    F = feats.transform(images)
    assert F.shape == (len(images), len(names)) and len(set(names)) == len(names)
    assert np.isfinite(F).all()
    for prefix in ("hsv_", "lbp_", "glcm_", "edge_", "hog_", "shape_"):
        assert any(n.startswith(prefix) for n in names)
    stack = np.stack([data.camera()[:200, :200], data.coins()[:200, :200]])        # (N, H, W) grayscale
    assert feats.transform(stack).shape == (2, len(names))
    parallel = HandcraftedImageFeatures(n_jobs=2).fit(None).transform(images * 3)
    assert np.allclose(parallel, np.vstack([F] * 3))
    small = HandcraftedImageFeatures(groups=("color", "shape"), image_size=64).fit(None)
    assert small.transform(images[:2]).shape == (2, len(small.get_feature_names_out())) == (2, 3 * 16 + 7 + 12)


@pytest.mark.parametrize("head", ["random_forest", "gradient_boosting"])
def test_handcrafted_cat_vs_coffee(head: str) -> None:
    from skimage import data

    rng = np.random.default_rng(0)
    cat, coffee = data.chelsea(), data.coffee()
    Xtr = _crops(cat, 30, rng) + _crops(coffee, 30, rng)
    Xte = _crops(cat, 20, rng) + _crops(coffee, 20, rng)
    ytr, yte = ["cat"] * 30 + ["coffee"] * 30, ["cat"] * 20 + ["coffee"] * 20
    est = zoo.create_model("image_handcrafted_forest", head=head).fit(Xtr, ytr)
    assert est.score(Xte, yte) >= 0.9
    assert est.extract_features(Xte[:2]).shape == (2, len(est.feature_names_out_))
    if head == "random_forest":
        assert len(est.feature_importances_) == len(est.feature_names_out_)
    else:
        assert not hasattr(est, "feature_importances_")


# ----------------------------------------------------------------------------- time series

def test_temporal_split_keeps_order() -> None:
    from zoo.classical import temporal_train_test_split

    Xtr, Xte, ytr, yte = temporal_train_test_split(None, np.arange(10), test_size=0.3)
    assert Xtr is None and Xte is None and list(ytr) == list(range(7)) and list(yte) == [7, 8, 9]
    s = pd.Series(np.arange(5.0), index=pd.date_range("2024-01-01", periods=5))
    assert temporal_train_test_split(s.index, s, test_size=2)[3].index[0] == pd.Timestamp("2024-01-04")


def test_lag_gbm_beats_naive_on_seasonal_series() -> None:
    from zoo.classical import temporal_train_test_split

    rng = np.random.default_rng(0)
    t = np.arange(300)
    y = 10 + 3 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.5, t.size)
    _, _, ytr, yte = temporal_train_test_split(None, y, test_size=60)
    est = zoo.create_model("ts_lag_gradient_boosting").fit(None, ytr)
    mae = np.abs(est.forecast(60).to_numpy() - yte).mean()
    assert mae < 0.5 * np.abs(ytr[-1] - yte).mean()              # naive last-value forecast
    assert est.score(None, yte) > 0.7                            # R² over the held-out horizon

    idx = pd.date_range("2000-01-01", periods=300, freq="MS")
    series = pd.Series(y, index=idx)
    monthly = zoo.create_model("ts_lag_gradient_boosting").fit(series.iloc[:240])
    fc = monthly.forecast(3)
    assert list(fc.index) == list(idx[240:243]) and monthly.calendar_features_ == ["month"]
    assert np.allclose(monthly.predict(idx[240:243]), fc.to_numpy())

    trend = y + 0.1 * t                                          # differencing handles a trend
    diff = zoo.create_model("ts_lag_gradient_boosting", difference=True).fit(None, trend[:240])
    plain = zoo.create_model("ts_lag_gradient_boosting", difference=False).fit(None, trend[:240])
    assert np.abs(diff.forecast(60) - trend[240:]).mean() < np.abs(plain.forecast(60) - trend[240:]).mean()


@pytest.mark.skipif(not (DATA_DIR / "seattle_weather.csv").exists(), reason="examples/data weather CSV not present")
def test_lag_gbm_seattle_temperature() -> None:
    from zoo.classical import temporal_train_test_split

    df = pd.read_csv(DATA_DIR / "seattle_weather.csv", parse_dates=["date"])
    Xtr, Xte, ytr, yte = temporal_train_test_split(df[["date"]], df["temp_max"], test_size=90)
    est = zoo.create_model("ts_lag_gradient_boosting").fit(Xtr, ytr)
    assert "day_of_year" in est.calendar_features_
    assert np.abs(est.predict(Xte) - yte.to_numpy()).mean() < 0.7 * np.abs(ytr.iloc[-1] - yte.to_numpy()).mean()
