"""The wider zoo: any timm model (`timm/<name>`) or Hugging Face model (`hf/<id>`), weights from a local path,
the Hugging Face cache, or the hub when online; offline and missing is one clear error."""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from conftest import EXAMPLES, run_advisor

torch = pytest.importorskip("torch")
from zoo._compat import ensure_torchvision_ops  # noqa: E402  (before timm: see zoo/_compat.py)

ensure_torchvision_ops()
pytest.importorskip("timm")


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))  # an empty cache: nothing pre-downloaded


def _images(n=8, side=40):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 60, size=(n, side, side, 3), dtype=np.uint8)
    X[n // 2:] += 150  # two visibly different classes
    return X, ["dark"] * (n // 2) + ["light"] * (n // 2)


def test_prefixed_names_resolve_without_import_of_weights():
    info = zoo.model_info("timm/resnet18")
    assert (info.family, info.modality) == ("deep", "image")
    assert zoo.create_model("timm/resnet18").get_params()["backbone"] == "resnet18"
    assert zoo.create_model("hf/distilbert-base-uncased").get_params()["model_id"] == "distilbert-base-uncased"


def test_timm_model_from_a_local_weights_file(tmp_path):
    import timm
    from safetensors.torch import save_file

    file = tmp_path / "resnet18.safetensors"  # stands in for weights a user downloaded once while online
    save_file(timm.create_model("resnet18", pretrained=False).state_dict(), str(file))
    X, y = _images()
    model = zoo.create_model("timm/resnet18", weights_path=str(file), epochs=1, batch_size=4, image_size=32,
                             freeze_epochs=0, verbose=False, val_fraction=0.25)
    model.fit(X, y)
    assert list(model.classes_) == ["dark", "light"]
    assert model.predict_proba(X).shape == (8, 2)


def _one_line_exit_2(result, *needles: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "Traceback" not in result.stderr and last.startswith("advisor: error:")
    assert all(n in last for n in needles), last


def test_timm_model_offline_without_weights_is_one_clear_error(tmp_path):
    """Through the CLI (a fresh process sees HF_HUB_OFFLINE=1 from its start, as a user's shell would)."""
    result = run_advisor("train", str(EXAMPLES / "fashion_mnist_demo.yaml"), "--model", "timm/resnet18",
                         "--out", str(tmp_path / "run"), "--quiet")
    _one_line_exit_2(result, "resnet18", "offline", "weights_path")
    assert not (tmp_path / "run").exists()


def test_unknown_timm_model_names_itself():
    X, y = _images()
    with pytest.raises(ValueError, match="timm has no model"):
        zoo.create_model("timm/not_a_model_xyz", verbose=False).fit(X, y)


def test_hf_model_from_a_local_folder():
    pytest.importorskip("transformers")
    from zoo.weights import minilm_dir

    texts = ["the cat sat on the mat", "stocks fell sharply today"] * 6
    labels = ["pets", "finance"] * 6
    model = zoo.create_model("hf/my-local-minilm", weights_path=str(minilm_dir()), epochs=1, batch_size=4,
                             max_length=16, verbose=False, val_fraction=0.25)
    model.fit(texts, labels)
    assert set(model.predict(texts)) <= {"pets", "finance"}


def test_hf_model_offline_without_weights_is_one_clear_error(tmp_path):
    result = run_advisor("train", str(EXAMPLES / "novel_authorship.yaml"), "--model", "hf/some-org/some-model",
                         "--out", str(tmp_path / "run"), "--quiet")
    _one_line_exit_2(result, "some-org/some-model", "offline")
