"""Image generation: the VAE and the GAN train and sample, the metrics are right on known cases, the checks flag
copying and collapsed generators, `advisor generate` refuses bad input in one line, and train + generate run end
to end from the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_advisor
from zoo.generative import ImageGAN, ImageVAE, generation_images
from zoo.generative_metrics import (diversity, exact_copies, frechet_distance, memorisation, precision_recall,
                                    score_generator, trivial_samples)


def _squares(n: int, size: int = 28, rgb: bool = False, seed: int = 0) -> np.ndarray:
    """Dark images, each with one bright square at a random place (and colour when rgb)."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, size, size, 3) if rgb else (n, size, size), dtype=np.uint8)
    for img in X:
        side = rng.integers(5, size // 2)
        r, c = rng.integers(0, size - side, size=2)
        img[r:r + side, c:c + side] = rng.integers(80, 256, size=3) if rgb else rng.integers(80, 256)
    return X


@pytest.mark.parametrize("cls", [ImageVAE, ImageGAN])
@pytest.mark.parametrize("rgb,size", [(False, 28), (True, 32)])
def test_each_generator_fits_one_epoch_and_samples_images(cls, rgb, size):
    X = _squares(64, size, rgb)
    model = cls(image_size=size, epochs=1, batch_size=16, device="cpu", verbose=False)
    assert model.fit(X) is model
    samples = model.sample(5, seed=3)
    assert samples.dtype == np.uint8
    assert samples.shape == ((5, size, size, 3) if rgb else (5, size, size))
    assert model.channels_ == (3 if rgb else 1)
    np.testing.assert_array_equal(samples, model.sample(5, seed=3))        # a seed repeats
    assert not np.array_equal(samples, model.sample(5, seed=4))
    assert all(len(v) == 1 and np.isfinite(v[0]) for v in model.loss_curves_.values() if v)
    assert len(model.epoch_seconds_) == 1 and model.device_ == "cpu" and model.stop_reason_ == "completed"


def test_generator_params_follow_the_sklearn_convention():
    from sklearn.base import clone

    for cls in (ImageVAE, ImageGAN):
        est = cls(epochs=2, latent_dim=8)
        assert clone(est).get_params() == est.get_params()
        with pytest.raises(ValueError, match="multiple of 4"):
            cls(image_size=30, epochs=1).fit(_squares(8))


def test_images_are_resized_and_gray_is_detected():
    imgs, c = generation_images(_squares(3, 40), 28)
    assert imgs.shape == (3, 1, 28, 28) and c == 1
    imgs, c = generation_images(_squares(3, 32, rgb=True), 32)
    assert imgs.shape == (3, 3, 32, 32) and c == 3


def test_frechet_distance_is_zero_on_itself_grows_with_a_shift_and_matches_the_matrix_formula():
    from scipy import linalg

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(200, 20)), rng.normal(size=(150, 20))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    shifts = [frechet_distance(a, b + s) for s in (0.0, 0.5, 1.0)]
    assert shifts[0] < shifts[1] < shifts[2]
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    ref = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(ca + cb - 2 * linalg.sqrtm(ca @ cb).real)
    assert frechet_distance(a, b) == pytest.approx(ref, rel=1e-6)


def test_precision_and_recall_of_identical_sets_are_one_and_of_far_sets_zero():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(200, 2))
    assert precision_recall(real, real) == (1.0, 1.0)
    assert precision_recall(real, real + 100.0) == (0.0, 0.0)
    # samples from one corner of the real cloud: faithful (high precision) but not covering (low recall)
    corner = real[real[:, 0] > 1.0]
    precision, recall = precision_recall(real, corner)
    assert precision == 1.0 and recall < 0.5


def test_memorisation_flags_a_generator_that_returns_training_items():
    rng = np.random.default_rng(2)
    train, heldout, fresh = (rng.normal(size=(300, 16)) for _ in range(3))
    copying = memorisation(train[:100], train, heldout)
    honest = memorisation(fresh[:100], train, heldout)
    assert copying["flagged"] and copying["share_too_close"] == 1.0
    assert not honest["flagged"] and honest["share_too_close"] < 0.2
    imgs = _squares(10)
    assert exact_copies(imgs[:4], imgs) == 4 and exact_copies(_squares(4, seed=9), imgs) == 0


def test_mode_collapse_flags_a_generator_that_returns_one_image():
    rng = np.random.default_rng(3)
    real = rng.normal(size=(200, 16))
    one = np.repeat(real[:1], 100, axis=0)
    assert diversity(one, real)["flagged"] and diversity(one, real)["diversity_ratio"] == pytest.approx(0, abs=1e-6)
    assert not diversity(rng.normal(size=(100, 16)), real)["flagged"]
    classify = lambda f: (f[:, 0] > 0).astype(int) + 2 * (f[:, 1] > 0).astype(int)  # noqa: E731 - 4 quadrants
    varied = diversity(rng.normal(size=(200, 16)), real, classify, 4)
    one_class = diversity(np.abs(rng.normal(size=(200, 16))), real, classify, 4)
    assert varied["classes_covered"] == 4 and not varied["flagged"]
    assert one_class["classes_covered"] == 1 and one_class["flagged"]


def test_trivial_samples_keep_shape_and_dtype():
    imgs = _squares(20)
    for kind in ("noise", "uniform"):
        out = trivial_samples(imgs, 7, kind, seed=0)
        assert out.shape == (7, 28, 28) and out.dtype == np.uint8
    with pytest.raises(ValueError):
        trivial_samples(imgs, 3, "mean")


class _Fixed:
    """A 'generator' that returns given images (the first n, cycling)."""

    def __init__(self, images: np.ndarray) -> None:
        self.images = images

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        return self.images[np.arange(n) % len(self.images)]


def test_score_generator_flags_copying_and_collapse_with_the_real_features():
    train, test = _squares(60, seed=0), _squares(30, seed=1)
    labels = np.array(["small" if (img > 0).sum() < 100 else "large" for img in train])
    copier = score_generator(_Fixed(train), train, test, train_labels=labels)
    assert copier["checks"]["memorisation"] and copier["model"]["exact_copies"] == 30
    collapsed = score_generator(_Fixed(train[:1]), train, test, train_labels=labels)
    assert collapsed["checks"]["mode_collapse"] and collapsed["model"]["diversity_ratio"] == pytest.approx(0, abs=1e-6)
    floor = copier["baselines"]["real images (training, same count)"]["frechet_distance"]
    noise = copier["baselines"]["uniform random pixels"]["frechet_distance"]
    assert floor < noise and copier["model"]["frechet_distance"] < noise
    assert "not Inception" in copier["feature_space"]


def test_a_flat_image_folder_loads_unlabelled_for_generation(tmp_path):
    from PIL import Image

    from zoo.data import load_dataset

    for i, img in enumerate(_squares(6)):
        Image.fromarray(img).save(tmp_path / f"{i}.png")
    ds = load_dataset(tmp_path, "image", task="generation")
    assert len(ds) == 6 and ds.y is None


# ----------------------------------------------------------------------------- command line

def test_generate_refuses_bad_input_in_one_line(tmp_path):
    fake = tmp_path / "clf"
    fake.mkdir()
    (fake / "model.joblib").write_bytes(b"not a pickle")
    (fake / "model.json").write_text(json.dumps({"model": "tabular_linear", "task": "classification"}))
    cases = [((str(tmp_path / "nope"), "-o", str(tmp_path / "a.png")), "not a run folder"),
             ((str(fake), "-o", str(tmp_path / "a.png")), "needs a generation run"),
             ((str(fake), "-o", str(tmp_path / "a.jpg")), "PNG"),
             ((str(fake), "-o", str(tmp_path / "missing" / "a.png")), "does not exist"),
             ((str(fake), "-n", "0", "-o", str(tmp_path / "a.png")), "-n")]
    for args, words in cases:
        result = run_advisor("generate", *args)
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("advisor: error:") and words in lines[0], (args, lines)
    assert not list(tmp_path.glob("*.png"))
    gen = tmp_path / "gen"
    gen.mkdir()
    (gen / "model.joblib").write_bytes(b"not a pickle")
    (gen / "model.json").write_text(json.dumps({"model": "image_gan", "task": "generation"}))
    result = run_advisor("predict", str(gen), str(tmp_path))
    assert result.returncode == 2 and "advisor generate" in result.stderr and "Traceback" not in result.stderr


def _descriptor(tmp_path):
    np.savez(tmp_path / "squares.npz", X=_squares(80), y=np.array([i % 2 for i in range(80)]))
    (tmp_path / "gen.yaml").write_text("name: squares\ntask: generation\ndata:\n  modality: image\n"
                                       "  path: squares.npz\nresources:\n  accelerator: none\n")
    return tmp_path / "gen.yaml"


def test_train_refuses_refit_full_for_a_generator(tmp_path):
    result = run_advisor("train", str(_descriptor(tmp_path)), "--out", str(tmp_path / "run"), "--refit-full")
    assert result.returncode == 2 and "drop --refit-full" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()


def test_compare_refuses_generation_in_one_line(tmp_path):
    result = run_advisor("compare", str(_descriptor(tmp_path)), "--out", str(tmp_path / "cmp"))
    assert result.returncode == 2 and "--model image_vae" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "cmp").exists()


@pytest.mark.slow
def test_train_then_generate_end_to_end(tmp_path):
    _descriptor(tmp_path)
    run = tmp_path / "run"
    result = run_advisor("train", str(tmp_path / "gen.yaml"), "--out", str(run), "--quiet", "--report")
    assert result.returncode == 0, result.stderr
    assert "image_gan: Fréchet distance" in result.stdout and "mode collapse:" in result.stdout
    metrics = json.loads((run / "metrics.json").read_text())
    gen = metrics["generation"]
    assert metrics["task"] == "generation" and gen["n_real"] == metrics["n_test"] == 16
    assert set(gen["baselines"]) == {"real images (training, same count)", "pixel noise (training mean ± sd)",
                                     "uniform random pixels"}
    assert len(gen["loss_curves"]["generator loss"]) == gen["epochs_run"] > 0
    rec = json.loads((run / "recommendation.json").read_text())
    assert "measured.mode_collapse" in {r["id"] for r in rec["risks"]}
    assert (run / "samples.png").is_file() and 'id="sample-grid"' in (run / "report.html").read_text()
    out = tmp_path / "more.png"
    result = run_advisor("generate", str(run), "-n", "9", "-o", str(out), "--seed", "2")
    assert result.returncode == 0, result.stderr
    from PIL import Image

    with Image.open(out) as img:
        assert img.format == "PNG" and img.size == (2 * (3 * 29 + 1), 2 * (3 * 29 + 1))
