"""Hybrid zoo models: frozen pretrained networks (EfficientNet-Lite0, MiniLM) feeding scikit-learn heads.

CPU only, offline (weights come from the pip packages that ship them), well under a minute in all.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("torch")

from zoo._compat import ensure_torchvision_ops  # noqa: E402

ensure_torchvision_ops()                      # before timm / transformers import torchvision
pytest.importorskip("timm")

from sklearn.base import clone  # noqa: E402

import zoo  # noqa: E402
from zoo.hybrid import (  # noqa: E402
    CnnFeatures,
    ImageCnnFeaturesClassifier,
    ImageCnnFeaturesIsolationForest,
    TextMiniLMFeaturesClassifier,
    TransformerFeatures,
    clear_backbone_cache,
)

HYBRID = ("image_effnet_lite0_features_linear", "image_effnet_lite0_features_iforest", "text_minilm_features_linear")


# ----------------------------------------------------------------------------- data

def _crops(photo: np.ndarray, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``n`` random square crops (96..200 px, random horizontal flip) of one photo."""
    h, w = photo.shape[:2]
    out = []
    for _ in range(n):
        size = int(rng.integers(96, min(200, h, w)))
        y, x = int(rng.integers(0, h - size)), int(rng.integers(0, w - size))
        crop = photo[y:y + size, x:x + size]
        out.append(np.ascontiguousarray(crop[:, ::-1] if rng.random() < 0.5 else crop))
    return out


@pytest.fixture(scope="module")
def photos() -> dict[str, np.ndarray]:
    data = pytest.importorskip("skimage.data")
    return {"cat": data.chelsea(), "coffee": data.coffee(), "astronaut": data.astronaut()}


@pytest.fixture(scope="module")
def crops(photos):
    """Train / held-out random crops of three photos, labelled by photo (string labels)."""
    rng = np.random.default_rng(0)
    X_train, y_train, X_test, y_test = [], [], [], []
    for label, photo in photos.items():
        items = _crops(photo, 22, rng)
        X_train += items[:14]
        y_train += [label] * 14
        X_test += items[14:]
        y_test += [label] * 8
    return X_train, np.asarray(y_train), X_test, np.asarray(y_test)


@pytest.fixture(scope="module")
def cnn(photos) -> CnnFeatures:
    return CnnFeatures(verbose=False).fit()


@pytest.fixture(scope="module")
def image_model(crops) -> ImageCnnFeaturesClassifier:
    X_train, y_train, _, _ = crops
    return zoo.create_model("image_effnet_lite0_features_linear", verbose=False).fit(X_train, y_train)


# ----------------------------------------------------------------------------- registry / sklearn contract

def test_registered_as_hybrid_and_cloneable():
    for name in HYBRID:
        info = zoo.model_info(name)
        assert info.family == "hybrid" and info.module == "zoo.hybrid"
        est = zoo.create_model(name, verbose=False)
        params = est.get_params()
        assert {"device", "weights_path", "verbose", "random_state"} <= set(params)
        twin = clone(est)
        assert twin is not est and twin.get_params() == params
    assert zoo.model_info(HYBRID[0]).modality == "image" and zoo.model_info(HYBRID[2]).modality == "text"
    assert zoo.model_info(HYBRID[1]).tasks == ("anomaly_detection",)
    assert isinstance(zoo.create_model(HYBRID[0]), ImageCnnFeaturesClassifier)
    assert isinstance(zoo.create_model(HYBRID[1]), ImageCnnFeaturesIsolationForest)
    assert isinstance(zoo.create_model(HYBRID[2]), TextMiniLMFeaturesClassifier)
    est = zoo.create_model(HYBRID[0], head="random_forest", C=0.5)
    assert est.set_params(device="cpu").get_params()["device"] == "cpu"
    assert clone(CnnFeatures(image_size=96)).get_params()["image_size"] == 96
    with pytest.raises(ValueError, match="head must be"):
        zoo.create_model(HYBRID[0], head="svm", verbose=False).fit([np.zeros((40, 40, 3), np.uint8)] * 2, ["a", "b"])


# ----------------------------------------------------------------------------- CnnFeatures

def test_cnn_features_shape_dtype_deterministic(cnn, photos):
    imgs = [photos["cat"], photos["coffee"], photos["astronaut"]]
    a = cnn.transform(imgs)
    assert a.shape == (3, 1280) and a.dtype == np.float32 and np.isfinite(a).all()
    np.testing.assert_array_equal(a, cnn.transform(imgs))
    assert cnn.get_feature_names_out()[0] == "cnn_0000" and cnn.device_ == "cpu"
    # batching and memory format do not change the features (beyond float rounding)
    small = CnnFeatures(batch_size=2, channels_last=False, verbose=False).fit().transform(imgs)
    np.testing.assert_allclose(small, a, atol=1e-4)
    assert cnn.transform(np.zeros((0, 32, 32, 3), np.uint8)).shape == (0, 1280)


def test_cnn_features_accept_gray_rgb_rgba_float_and_paths(cnn, photos, tmp_path):
    from PIL import Image

    rgb = photos["cat"][:160, :200]
    gray = rgb.mean(axis=2).astype(np.uint8)
    path = tmp_path / "cat.png"
    Image.fromarray(rgb).save(path)
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    feats = cnn.transform([rgb, gray, str(path), path, rgba, rgb.astype(np.float32) / 255.0])
    assert feats.shape == (6, 1280)
    np.testing.assert_allclose(feats[2], feats[0], atol=1e-5)      # PNG is lossless
    np.testing.assert_allclose(feats[3], feats[0], atol=1e-5)
    np.testing.assert_allclose(feats[4], feats[0], atol=1e-5)
    assert np.abs(feats[1] - feats[0]).max() > 1e-3                  # gray is replicated, not ignored
    stack = cnn.transform(np.stack([gray, gray]))                     # (N, H, W) uint8 array
    np.testing.assert_allclose(stack[0], feats[1], atol=1e-5)
    one = cnn.transform(str(path))                                    # a single path is one image
    assert one.shape == (1, 1280)
    np.testing.assert_allclose(one[0], feats[2], atol=1e-5)


def test_cnn_features_equal_the_backbone_through_timms_eval_transform(cnn, photos):
    """One preprocessing per backbone: the hybrid's frozen features are the backbone's output on timm's own eval
    transform (resolved from its pretrained_cfg), the transform the fine-tuned model uses too."""
    import torch
    from PIL import Image
    from timm.data import create_transform, resolve_data_config

    from zoo.deep import ImageEffnetLite0Finetune
    from zoo.weights import create_timm_backbone

    imgs = [photos["cat"], photos["coffee"][:200, :350], photos["astronaut"][:180]]
    net = create_timm_backbone(num_classes=0).eval()
    cfg = resolve_data_config(model=net)
    cfg["input_size"] = (3, cnn.image_size, cnn.image_size)
    tf = create_transform(**cfg, is_training=False)
    with torch.inference_mode():
        expected = net(torch.stack([tf(Image.fromarray(im)) for im in imgs])).numpy()
    np.testing.assert_allclose(cnn.transform(imgs), expected, rtol=1e-4, atol=1e-4)
    deep = ImageEffnetLite0Finetune(image_size=cnn.image_size)
    deep.data_config_ = {**cfg}
    for im in imgs:                                    # the fine-tuned model's eval transform is the same one
        pil = Image.fromarray(im)
        np.testing.assert_allclose(deep._transform(training=False)(pil), tf(pil), atol=1e-6)


def test_cnn_features_pickle_without_network(cnn, photos):
    blob = pickle.dumps(cnn)
    assert len(blob) < 10_000
    back = pickle.loads(blob)
    assert "_net" not in back.__dict__
    np.testing.assert_array_equal(back.transform([photos["coffee"]]), cnn.transform([photos["coffee"]]))


# ----------------------------------------------------------------------------- image classifier

def test_image_classifier_on_photo_crops(image_model, crops):
    _, _, X_test, y_test = crops
    assert list(image_model.classes_) == ["astronaut", "cat", "coffee"]
    acc = image_model.score(X_test, y_test)
    assert acc >= 0.9, acc
    proba = image_model.predict_proba(X_test)
    assert proba.shape == (len(X_test), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert set(image_model.predict(X_test)) <= set(image_model.classes_)
    assert image_model.device_ == "cpu"


def test_image_classifier_pickles_small_and_predicts_identically(image_model, crops):
    _, _, X_test, _ = crops
    before_proba = image_model.predict_proba(X_test)
    blob = pickle.dumps(image_model)
    assert len(blob) < 1_000_000, len(blob)
    clear_backbone_cache()                     # the unpickled model must reload the network by itself
    back = pickle.loads(blob)
    np.testing.assert_array_equal(back.predict(X_test), image_model.predict(X_test))
    np.testing.assert_allclose(back.predict_proba(X_test), before_proba, atol=1e-6)


def test_image_classifier_importances(image_model, crops):
    _, _, X_test, y_test = crops
    imp = image_model.feature_importances_
    names = image_model.feature_names_out_
    assert imp.shape == names.shape == (1280,)
    assert np.isclose(imp.sum(), 1.0) and (imp >= 0).all()
    F = image_model.extract_features(X_test)
    perm = image_model.permutation_importance(X_test, y_test, n_repeats=1, top=10, features=F)
    assert len(perm) == 10 and perm.index[0].startswith("cnn_")
    assert perm.is_monotonic_decreasing


def test_image_random_forest_head(image_model, crops):
    X_train, y_train, X_test, y_test = crops
    F_train, F_test = image_model.extract_features(X_train), image_model.extract_features(X_test)
    rf = ImageCnnFeaturesClassifier(head="random_forest", n_estimators=100, verbose=False)
    rf.fit_features(F_train, y_train)
    assert list(rf.classes_) == ["astronaut", "cat", "coffee"]
    assert rf.score(X_test, y_test) >= 0.8
    assert rf.feature_importances_.shape == (1280,)


# ----------------------------------------------------------------------------- image anomaly detection

def test_iforest_flags_images_from_another_source(photos):
    rng = np.random.default_rng(1)
    normal = _crops(photos["cat"], 50, rng)
    other = _crops(photos["coffee"], 10, rng)
    model = zoo.create_model("image_effnet_lite0_features_iforest", verbose=False).fit(normal[:40])
    X_test = normal[40:] + other
    y_test = np.r_[np.zeros(10, int), np.ones(10, int)]
    auc = model.score(X_test, y_test)
    assert auc > 0.8, auc
    pred = model.predict(X_test)
    assert set(np.unique(pred)) <= {-1, 1} and (pred[10:] == -1).mean() > (pred[:10] == -1).mean()
    np.testing.assert_allclose(model.anomaly_score(X_test), -model.score_samples(X_test))
    back = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(back.score_samples(X_test), model.score_samples(X_test))


# ----------------------------------------------------------------------------- text

SPACE = [
    "The telescope captured a distant galaxy spiralling through space.",
    "Astronomers discovered a new exoplanet orbiting a red dwarf star.",
    "The rocket launched the satellite into a low Earth orbit.",
    "A comet will pass close to the Sun next spring.",
    "Jupiter has dozens of moons, the largest being Ganymede.",
    "The astronauts performed a spacewalk outside the station.",
    "Black holes bend light with their enormous gravity.",
    "The Mars rover drilled into a rock to look for ancient water.",
    "A supernova can outshine an entire galaxy for weeks.",
    "The lunar module landed gently on the Moon's surface.",
    "Neutron stars spin hundreds of times per second.",
    "The space probe sent back images of Saturn's rings.",
    "Meteor showers happen when Earth crosses a comet's debris trail.",
    "The observatory dome opened as the night sky cleared.",
    "Light from that nebula took thousands of years to reach us.",
    "Engineers tested the heat shield for the capsule's re-entry.",
]
COOKING = [
    "Whisk the eggs with sugar until the mixture turns pale.",
    "Simmer the tomato sauce slowly with garlic and basil.",
    "Knead the bread dough for ten minutes, then let it rise.",
    "Season the steak with salt and pepper before grilling it.",
    "Chop the onions finely and fry them in olive oil.",
    "Bake the chocolate cake at 180 degrees for forty minutes.",
    "Add a pinch of cinnamon to the apple pie filling.",
    "Boil the pasta in salted water until it is al dente.",
    "Marinate the chicken overnight in yoghurt and spices.",
    "Stir the risotto constantly while adding warm stock.",
    "Roast the vegetables with rosemary until golden.",
    "Melt the butter and fold it gently into the batter.",
    "Serve the soup hot with a swirl of cream on top.",
    "Grate some parmesan over the salad just before serving.",
    "Let the cookies cool on a rack before icing them.",
    "Slice the cucumbers thinly for a quick pickle.",
]


def test_transformer_features_shape_and_norm():
    pytest.importorskip("transformers")
    feats = TransformerFeatures(verbose=False).fit()
    emb = feats.transform(SPACE[:3] + ["", "short"])
    assert emb.shape == (5, 384) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    # order is kept although batches are formed by length
    np.testing.assert_allclose(feats.transform([SPACE[1]])[0], emb[1], atol=1e-5)
    assert len(pickle.dumps(feats)) < 10_000


def test_minilm_features_separate_topics():
    pytest.importorskip("transformers")
    X_train = SPACE[:10] + COOKING[:10]
    y_train = ["space"] * 10 + ["cooking"] * 10
    X_test = SPACE[10:] + COOKING[10:]
    y_test = ["space"] * 6 + ["cooking"] * 6
    model = zoo.create_model("text_minilm_features_linear", verbose=False).fit(X_train, y_train)
    assert list(model.classes_) == ["cooking", "space"]
    assert model.score(X_test, y_test) >= 0.9
    assert model.predict_proba(X_test).shape == (12, 2)
    assert model.feature_importances_.shape == (384,)
    back = pickle.loads(pickle.dumps(model))
    assert len(pickle.dumps(model)) < 1_000_000
    np.testing.assert_allclose(back.predict_proba(X_test), model.predict_proba(X_test), atol=1e-6)
