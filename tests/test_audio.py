"""Audio classification: the loader, the clip reader, named features, the classical model's scikit-learn contract,
the hybrid on spectrogram images, and `advisor train` / `advisor predict` end to end on the shipped clips."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("librosa")
sf = pytest.importorskip("soundfile")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import zoo  # noqa: E402
from conftest import EXAMPLES, run_advisor  # noqa: E402
from zoo.audio import audio_problem, clip_group, read_clip  # noqa: E402
from zoo.audio_features import feature_names  # noqa: E402
from zoo.classical import AudioFeaturesClassifier  # noqa: E402

SPEECH = EXAMPLES / "data" / "speech_commands"
RATE = 16_000


def _tone(freq: float, seconds: float = 0.5, rate: int = RATE, seed: int = 0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    noise = 0.05 * np.random.default_rng(seed).standard_normal(len(t))
    return (0.5 * np.sin(2 * np.pi * freq * t) + noise).astype(np.float32)


@pytest.fixture
def tone_folder(tmp_path: Path) -> Path:
    """Two classes (low / high tones), three speakers each, one file that is not audio at all."""
    root = tmp_path / "clips"
    for label, freq in (("low", 300.0), ("high", 3000.0)):
        (root / label).mkdir(parents=True)
        for s in range(3):
            for k in range(4):
                sf.write(root / label / f"spk{s}_nohash_{k}.wav", _tone(freq * (1 + 0.03 * k), seed=s * 10 + k),
                         RATE)
    (root / "low" / "broken.wav").write_bytes(b"RIFF not really a wave file")
    return root


def test_read_clip_mixes_down_resamples_and_fixes_length(tmp_path):
    stereo = np.stack([_tone(440.0, 2.0, 44_100), _tone(440.0, 2.0, 44_100)], axis=1)
    sf.write(tmp_path / "long.flac", stereo, 44_100)
    clip = read_clip(tmp_path / "long.flac", sample_rate=RATE, duration=1.0)
    assert clip.shape == (RATE,) and clip.dtype == np.float32 and np.abs(clip).max() > 0.3   # centre of the tone
    short = read_clip(_tone(440.0, 0.25), duration=1.0)
    assert short.shape == (RATE,) and not short[RATE // 4 + 1:].any()                       # zero-padded at the end
    with pytest.raises(ValueError, match="cannot read as audio"):
        read_clip(tmp_path / "missing.wav")


def test_folder_loader_skips_unreadable_clips_and_knows_the_speakers(tone_folder):
    ds = zoo.load_dataset(tone_folder, "audio")
    assert ds.modality == "audio" and len(ds) == 24 and ds.classes == ["high", "low"]
    assert ds.skipped == [str(tone_folder / "low" / "broken.wav")]
    assert any("skipped 1 unreadable audio file" in n and "cannot be decoded" in n for n in ds.notes)
    assert sorted(set(ds.groups.tolist())) == ["spk0", "spk1", "spk2"]
    assert audio_problem(tone_folder / "low" / "broken.wav") == "cannot be decoded"
    assert clip_group("a/b/en-us-f2_nohash_3.flac") == "en-us-f2" and clip_group("x.wav") == ""


def test_mostly_unreadable_folder_is_one_clear_error(tmp_path):
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        for k in range(3):
            (tmp_path / label / f"{k}.wav").write_bytes(b"junk")
    sf.write(tmp_path / "a" / "good.wav", _tone(300.0), RATE)
    with pytest.raises(zoo.DataError, match="6 of 7 audio files cannot be read"):
        zoo.load_dataset(tmp_path, "audio")


def test_csv_loader_reads_paths_labels_and_speaker_column(tone_folder, tmp_path):
    rows = [f"{p.relative_to(tone_folder.parent)},{p.parent.name},{p.name.split('_')[0]}"
            for p in sorted(tone_folder.rglob("spk*.wav"))]
    csv = tone_folder.parent / "clips.csv"
    csv.write_text("file,label,speaker\n" + "\n".join(rows) + "\n", encoding="utf-8")
    ds = zoo.load_dataset(csv, "audio")
    assert len(ds) == 24 and ds.target == "label" and set(ds.groups.tolist()) == {"spk0", "spk1", "spk2"}


def test_split_holds_out_whole_speakers():
    ds = zoo.load_dataset(SPEECH, "audio")
    assert len(ds) == 240 and len(ds.classes) == 6 and len(set(ds.groups.tolist())) == 8
    train, test = zoo.split_dataset(ds, "classification", seed=0)
    assert not set(train.groups.tolist()) & set(test.groups.tolist())
    assert set(test.y.tolist()) == set(ds.classes) and 0.15 <= len(test) / len(ds) <= 0.35


def test_feature_names_match_the_columns(tone_folder):
    ds = zoo.load_dataset(tone_folder, "audio")
    model = AudioFeaturesClassifier(head="logistic").fit(ds.X, ds.y)
    names = list(model.feature_names_out_)
    F = model.extract_features(ds.X)
    assert F.shape == (len(ds), len(names)) and len(set(names)) == len(names) and np.isfinite(F).all()
    for name in ("mfcc00_mean", "mfcc19_std", "mfcc05_delta_mean", "spectral_centroid_mean",
                 "spectral_bandwidth_std", "spectral_rolloff_mean", "zero_crossing_rate_mean", "rms_mean"):
        assert name in names
    centroid = F[:, names.index("spectral_centroid_mean")]
    assert centroid[ds.y == "high"].min() > centroid[ds.y == "low"].max()      # the features mean what they say
    assert (model.predict(ds.X) == ds.y).mean() == 1.0


@parametrize_with_checks([AudioFeaturesClassifier(head="logistic", duration=0.05, n_jobs=1)])
def test_sklearn_contract(estimator, check):
    """Rows of a 2-D array are clips: scikit-learn's estimator checks all pass."""
    with threadpool_limits(1):
        check(estimator)


def test_hybrid_on_spectrogram_images_learns_from_a_small_subset():
    pytest.importorskip("torch")
    from zoo._compat import ensure_torchvision_ops

    ensure_torchvision_ops()                    # before timm is imported (as zoo.hybrid's extractor does)
    pytest.importorskip("timm")
    from zoo.hybrid import AudioCnnFeaturesClassifier

    ds = zoo.load_dataset(SPEECH, "audio")
    voices = sorted(set(ds.groups.tolist()))
    train = ds.subset(np.flatnonzero(np.isin(ds.groups, voices[:3])))
    test = ds.subset(np.flatnonzero(ds.groups == voices[3]))
    model = AudioCnnFeaturesClassifier(verbose=False).fit(train.X, train.y)
    assert model.extract_features(test.X[:2]).shape == (2, 1280)
    accuracy = float((model.predict(test.X) == test.y).mean())
    majority = max(np.mean(test.y == c) for c in ds.classes)
    assert accuracy >= majority + 0.3, (accuracy, majority)       # 90 clips of 3 voices, tested on a 4th voice


def test_train_and_predict_end_to_end(tmp_path):
    """`advisor train` on the shipped clips beats the majority baseline on voices it never heard; `advisor
    predict` takes a folder of clips, an unreadable one reported, not fatal."""
    run = tmp_path / "run"
    result = run_advisor("train", str(EXAMPLES / "speech_commands.yaml"), "--model", "audio_features_forest",
                         "--out", str(run))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "held-out test split takes whole speakers" in result.stdout + result.stderr
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    majority = 10 / 60                                     # balanced classes: 10 of each word among 60 test clips
    assert metrics["n_test"] == 60 and metrics["accuracy"] >= majority + 0.45, metrics["accuracy"]
    explained = json.loads((run / "explain.json").read_text(encoding="utf-8"))
    top = [f["name"] for f in explained["importance"]["features"]]
    assert top and set(top) <= set(feature_names())                 # importances over the named features

    clips = tmp_path / "clips"
    clips.mkdir()
    for word in ("left", "up"):
        (clips / f"{word}.flac").write_bytes((SPEECH / word / "en-gb-x-rp-f4_nohash_1.flac").read_bytes())
    (clips / "noise.wav").write_bytes(b"not audio")
    out = run_advisor("predict", str(run), str(clips))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "noise.wav\tnot predicted: cannot be decoded" in out.stdout
    assert len([line for line in out.stdout.splitlines() if line.endswith(")")]) == 2
    assert run_advisor("report", str(run)).returncode == 0 and (run / "report.html").is_file()


def test_specaugment_masks_bands_and_keeps_the_shape():
    torch = pytest.importorskip("torch")
    from zoo.deep import SpecAugment

    x = torch.ones(3, 64, 100)
    torch.manual_seed(0)
    out = SpecAugment(freq_masks=2, time_masks=2, width=0.2, shift=0.0)(x)
    assert out.shape == x.shape and (out == 0).any() and (out == 1).any() and (x == 1).all()
    zero_rows = (out == 0).all(dim=2).all(dim=0)             # whole frequency bands masked
    zero_cols = (out == 0).all(dim=1).all(dim=0)             # whole time steps masked
    assert zero_rows.any() or zero_cols.any()
    assert torch.equal(SpecAugment(0, 0, 0.2, shift=0.0)(x), x)
    ramp = torch.arange(100.0).expand(3, 64, 100)
    torch.manual_seed(1)
    shifted = SpecAugment(0, 0, 0.2, shift=0.1)(ramp)
    assert sorted(shifted[0, 0].tolist()) == list(range(100))  # a circular shift: nothing lost


def test_the_mfcc_gru_learns_tones_of_an_unseen_speaker(tone_folder):
    """The GRU over MFCC frames separates low from high tones of a speaker it did not train on."""
    pytest.importorskip("torch")
    ds = zoo.load_dataset(tone_folder, "audio")
    train = ds.subset(np.flatnonzero(ds.groups != "spk2"))
    test = ds.subset(np.flatnonzero(ds.groups == "spk2"))
    model = zoo.create_model("audio_mfcc_gru", verbose=False, val_fraction=0.0, epochs=25,
                             patience=None).fit(train.X, train.y)
    proba = model.predict_proba(test.X)
    assert proba.shape == (len(test), 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert float((model.predict(test.X) == test.y).mean()) == 1.0


def test_the_spectrogram_cnn_fine_tunes_on_squashed_log_mels_with_specaugment(tone_folder):
    """The fine-tune trains on log-mel images (squashed to the square input, SpecAugment in training only) and
    answers with class probabilities. (Its accuracy on 16 clips depends on torch's thread count: measured on
    the shipped clips instead, see benchmarks/README.md.)"""
    torch = pytest.importorskip("torch")
    from PIL import Image

    from zoo.deep import SpecAugment

    ds = zoo.load_dataset(tone_folder, "audio")
    model = zoo.create_model("audio_effnet_lite0_finetune", verbose=False, val_fraction=0.0, epochs=2,
                             image_size=64, batch_size=8).fit(ds.X, ds.y)
    assert isinstance(model._transform(True).second, SpecAugment)
    assert not isinstance(model._transform(False), type(model._transform(True)))
    image = model._images(ds.X[:1])[0]
    assert image.shape == (128, 126, 3) and image.dtype == np.uint8                # 128 mels x 126 frames
    assert model._transform(False)(Image.fromarray(image)).shape == torch.Size([3, 64, 64])
    proba = model.predict_proba(ds.X)
    assert proba.shape == (len(ds), 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(ds.X)) <= {"low", "high"}
