"""Video classification: decoding, the loader, the named motion features, the classical and hybrid models on a few
generated clips, that the motion features (not single frames) carry the shipped set's labels, and `advisor train`
/ `advisor predict` end to end on the shipped clips."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av")

import zoo  # noqa: E402
from conftest import EXAMPLES, ROOT, run_advisor  # noqa: E402
from zoo.video import read_frames, sample_indices, video_problem  # noqa: E402
from zoo.video_features import VideoMotionFeatures, motion_feature_names  # noqa: E402

MOTION = EXAMPLES / "data" / "motion_clips"


def _script():
    spec = importlib.util.spec_from_file_location("make_motion_clips", ROOT / "scripts" / "make_motion_clips.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    """Three tiny clips (8 frames, 32 px) per class made by the shipped script, and one file that is no video."""
    root = tmp_path_factory.mktemp("clips") / "motion"
    _script().make_dataset(root, per_class=3, frames=8, size=32, seed=1)
    (root / "left" / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video")
    return root


def test_sample_indices_take_segment_centres():
    assert sample_indices(16, 8).tolist() == [1, 3, 5, 7, 9, 11, 13, 15]
    assert sample_indices(3, 6).tolist() == [0, 0, 1, 1, 2, 2]           # short clips repeat frames
    with pytest.raises(ValueError):
        sample_indices(0, 8)


def test_read_frames_from_files_and_arrays(clips, tmp_path):
    frames = read_frames(clips / "right" / "right_000.mp4", n_frames=4, size=24)
    assert frames.shape == (4, 24, 24, 3) and frames.dtype == np.uint8 and frames.std() > 0
    raw = np.random.default_rng(0).random((10, 20, 30))                 # grey floats in [0, 1]
    assert read_frames(raw, n_frames=5, size=16).shape == (5, 16, 16, 3)
    from PIL import Image                                               # an animated GIF, decoded by PyAV too

    pics = [Image.fromarray(np.full((16, 16, 3), 40 * k, dtype=np.uint8)) for k in range(6)]
    pics[0].save(tmp_path / "fade.gif", save_all=True, append_images=pics[1:], duration=100)
    gif = read_frames(tmp_path / "fade.gif", n_frames=3, size=16)
    assert gif.shape == (3, 16, 16, 3) and gif[0].mean() < gif[-1].mean()       # in time order
    with pytest.raises(ValueError, match="cannot read as video"):
        read_frames(tmp_path / "missing.mp4")


def test_folder_loader_skips_unreadable_clips(clips):
    ds = zoo.load_dataset(clips, "video")
    assert ds.modality == "video" and len(ds) == 12 and ds.classes == ["left", "right", "rotating", "still"]
    assert ds.skipped == [str(clips / "left" / "broken.mp4")]
    assert any("skipped 1 unreadable video file" in n and "cannot be decoded" in n for n in ds.notes)
    assert video_problem(clips / "left" / "broken.mp4") == "cannot be decoded"
    assert video_problem(clips / "left" / "left_000.mp4") is None


def test_csv_loader_and_mostly_unreadable_folder(clips, tmp_path):
    rows = [f"{p},{p.parent.name}" for p in sorted(clips.rglob("*_00*.mp4"))]
    (tmp_path / "clips.csv").write_text("path,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    ds = zoo.load_dataset(tmp_path / "clips.csv", "video")
    assert len(ds) == 12 and ds.target == "label"
    for label in ("a", "b"):
        (tmp_path / "bad" / label).mkdir(parents=True)
        for k in range(3):
            (tmp_path / "bad" / label / f"{k}.avi").write_bytes(b"junk")
    with pytest.raises(zoo.DataError, match="6 of 6 video files|no readable video files"):
        zoo.load_dataset(tmp_path / "bad", "video")


def test_motion_features_are_named_and_signed(clips):
    ds = zoo.load_dataset(clips, "video")
    feats = VideoMotionFeatures(n_frames=8, frame_size=32).fit()
    F, names = feats.transform(ds.X), list(feats.get_feature_names_out())
    assert F.shape == (12, len(names)) == (12, len(motion_feature_names())) and np.isfinite(F).all()
    dx = F[:, names.index("centroid_dx_mean")]
    assert dx[ds.y == "right"].min() > 0.5 > -0.5 > dx[ds.y == "left"].max()      # right is +x, left is -x
    energy = F[:, names.index("motion_energy_mean")]
    assert energy[ds.y == "still"].max() < energy[ds.y != "still"].min()
    with pytest.raises(ValueError, match="n_frames >= 2"):
        VideoMotionFeatures(n_frames=1).fit()


def test_forest_fits_predicts_and_ranks_named_features(clips):
    ds = zoo.load_dataset(clips, "video")
    model = zoo.create_model("video_motion_forest", n_frames=8, frame_size=32, n_estimators=50, n_jobs=1)
    model.fit(ds.X, ds.y)
    assert list(model.classes_) == ds.classes and (model.predict(ds.X) == ds.y).all()
    proba = model.predict_proba(ds.X[:3])
    assert proba.shape == (3, 4) and np.allclose(proba.sum(axis=1), 1.0)
    imp = dict(zip(model.feature_names_out_, model.feature_importances_))
    assert len(imp) == len(motion_feature_names()) and abs(sum(imp.values()) - 1.0) < 1e-6


def test_hybrid_fits_and_predicts_on_a_few_clips(clips):
    pytest.importorskip("torch")
    from zoo._compat import ensure_torchvision_ops

    ensure_torchvision_ops()                    # before timm is imported (as zoo.hybrid's extractor does)
    pytest.importorskip("timm")
    ds = zoo.load_dataset(clips, "video")
    model = zoo.create_model("video_effnet_lite0_features_linear", n_frames=4, frame_size=32, image_size=64,
                             verbose=False).fit(ds.X, ds.y)
    F = model.extract_features(ds.X[:2])
    assert F.shape == (2, 4 * 1280) and model.feature_names_out_[-1] == "cnn_1279_diff"
    assert set(model.predict(ds.X)) <= set(ds.classes) and model.predict_proba(ds.X).shape == (12, 4)
    assert (model.predict(ds.X) == ds.y).mean() > 0.5                 # fits its own training clips


def test_deep_segment_model_fits_predicts_and_pickles(clips):
    pytest.importorskip("torch")
    from zoo._compat import ensure_torchvision_ops

    ensure_torchvision_ops()
    pytest.importorskip("timm")
    import joblib

    ds = zoo.load_dataset(clips, "video")
    model = zoo.create_model("video_effnet_lite0_finetune", frame_size=32, image_size=64, n_segments=2, epochs=1,
                             batch_size=4, verbose=False, device="cpu").fit(ds.X, ds.y)
    proba = model.predict_proba(ds.X)
    assert list(model.classes_) == ds.classes and proba.shape == (12, 4) and np.allclose(proba.sum(axis=1), 1.0)
    assert model.history_.epochs_run == 1 and set(model.predict(ds.X[:3])) <= set(ds.classes)
    joblib.dump(model, clips.parent / "deep.joblib")
    assert np.allclose(joblib.load(clips.parent / "deep.joblib").predict_proba(ds.X), proba, atol=1e-5)
    with pytest.raises(ValueError, match="n_frames >= 3"):
        zoo.create_model("video_effnet_lite0_finetune", n_frames=2).fit(ds.X, ds.y)


def test_motion_features_carry_the_label_single_frames_do_not():
    """On the shipped clips, the forest on motion features beats chance by far and beats the same forest on the
    features of one frame, which sits near chance (no single frame tells how the object moves)."""
    ds = zoo.load_dataset(MOTION, "video")
    train, test = zoo.split_dataset(ds, "classification", seed=0)
    majority = max(np.mean(test.y == c) for c in ds.classes)
    scores = {}
    for name, params in (("motion", {}), ("one frame", {"n_frames": 1, "feature_groups": ("frame",)})):
        model = zoo.create_model("video_motion_forest", n_estimators=200, **params).fit(train.X, train.y)
        scores[name] = float(np.mean(model.predict(test.X) == test.y))
    assert scores["motion"] >= majority + 0.5, scores
    assert scores["motion"] >= scores["one frame"] + 0.4, scores
    assert scores["one frame"] <= majority + 0.25, scores


@pytest.mark.slow
def test_train_and_predict_end_to_end(tmp_path):
    """`advisor train` on the shipped clips beats the majority baseline; importances over the named features;
    `advisor predict` takes a folder of clips, an unreadable one reported, not fatal; the report renders."""
    run = tmp_path / "run"
    result = run_advisor("train", str(EXAMPLES / "motion_clips.yaml"), "--out", str(run))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "'video_motion_forest'" in result.stdout + result.stderr
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["n_test"] == 32 and metrics["accuracy"] >= 0.25 + 0.5, metrics["accuracy"]
    explained = json.loads((run / "explain.json").read_text(encoding="utf-8"))
    assert {f["name"] for f in explained["importance"]["features"]} <= set(motion_feature_names())
    for item in explained["misclassified"]["items"]:                  # each shown as a strip of its 8 frames
        import base64
        import io

        from PIL import Image

        strip = Image.open(io.BytesIO(base64.b64decode(item["png"])))
        assert strip.width == 8 * strip.height

    folder = tmp_path / "clips"
    folder.mkdir()
    for name in ("left/left_001.mp4", "rotating/rotating_003.mp4"):
        (folder / Path(name).name).write_bytes((MOTION / name).read_bytes())
    (folder / "noise.mp4").write_bytes(b"not a video")
    out = run_advisor("predict", str(run), str(folder))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "noise.mp4\tnot predicted: cannot be decoded" in out.stdout
    assert len([line for line in out.stdout.splitlines() if line.endswith(")")]) == 2
    assert run_advisor("report", str(run)).returncode == 0 and (run / "report.html").is_file()
