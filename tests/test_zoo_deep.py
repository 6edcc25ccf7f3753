"""Deep family of the zoo: the shared training loop and the deep estimators, on CPU with tiny real data."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

import zoo  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from zoo._compat import ensure_torchvision_ops  # noqa: E402
from zoo.training import TrainHistory, fit_torch, make_loader, predict_torch  # noqa: E402

DEEP = ["tabular_mlp", "tabular_autoencoder", "image_effnet_lite0_finetune", "image_conv_autoencoder",
        "text_minilm_finetune", "ts_gru", "video_effnet_lite0_finetune"]
QUIET = dict(verbose=False, device="cpu")


def _need(module: str):
    """importorskip for modules that import torchvision (timm, transformers): guard its ops first."""
    ensure_torchvision_ops()
    return pytest.importorskip(module)


def _roundtrip(model):
    """Through joblib, as ``zoo.save_model`` / ``advisor train`` store fitted models."""
    import joblib

    buf = io.BytesIO()
    joblib.dump(model, buf)
    buf.seek(0)
    return joblib.load(buf)


# ----------------------------------------------------------------------------- sklearn contract

@pytest.mark.parametrize("name", DEEP)
def test_registered_and_sklearn_contract(name):
    info = zoo.model_info(name)
    assert info.family == "deep" and info.module == "zoo.deep"
    est = zoo.create_model(name, epochs=2)
    params = est.get_params()
    for key in ("epochs", "batch_size", "lr", "device", "time_budget_s", "random_state", "verbose", "val_fraction"):
        assert key in params, key
    twin = clone(est)
    assert twin.get_params() == params and twin is not est
    with pytest.raises(NotFittedError):
        est.predict(np.zeros((2, 3)) if info.modality == "tabular" else 2 if name == "ts_gru" else ["a", "b"])


# ----------------------------------------------------------------------------- training loop

def _one_weight_problem():
    """w starts at 0 and is pulled towards 1 by training; validation wants 0.5, so it improves then worsens."""
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)
    one = torch.ones(1, 1)
    train = DataLoader(TensorDataset(one, one), batch_size=1)
    val = DataLoader(TensorDataset(one, 0.5 * one), batch_size=1)
    return model, train, val


def test_early_stopping_restores_best_epoch(tmp_path):
    model, train, val = _one_weight_problem()
    seen: list[float] = []
    hist = fit_torch(model, train, val, loss_fn=nn.MSELoss(), epochs=50, lr=0.1, device="cpu", patience=2,
                     optimizer=torch.optim.SGD(model.parameters(), lr=0.1), scheduler=None, progress=False,
                     on_epoch_end=lambda epoch, m, h: seen.append(m.weight.item()), checkpoint_dir=tmp_path)
    assert isinstance(hist, TrainHistory)
    assert hist.stop_reason == "patience" and hist.stopped_early
    assert hist.best_epoch == 3 and hist.epochs_run == 5           # w: .2 .36 .488 .59 .672
    assert int(np.argmin(hist.val_loss)) + 1 == hist.best_epoch
    assert model.weight.item() == pytest.approx(seen[hist.best_epoch - 1])
    assert model.weight.item() != pytest.approx(seen[-1])
    # the best state was checkpointed atomically: the final file, no temp file left behind
    assert [p.name for p in tmp_path.iterdir()] == ["best.pt"]
    ckpt = torch.load(tmp_path / "best.pt", weights_only=True)
    assert ckpt["epoch"] == 3
    assert float(ckpt["state_dict"]["weight"]) == pytest.approx(model.weight.item())


class _Slow(nn.Module):
    def __init__(self, delay: float) -> None:
        super().__init__()
        self.lin, self.delay = nn.Linear(4, 1), delay

    def forward(self, x):
        time.sleep(self.delay)
        return self.lin(x)


def test_time_budget_stops_in_time():
    budget, delay = 2.0, 0.05
    x = torch.randn(64, 4)
    ds = TensorDataset(x, x.sum(1, keepdim=True))
    train, val = make_loader(ds, 8, True, "cpu"), make_loader(ds, 32, False, "cpu")
    start = time.perf_counter()
    hist = fit_torch(_Slow(delay), train, val, loss_fn=nn.MSELoss(), epochs=1000, device="cpu",
                     time_budget_s=budget, patience=None, progress=False)
    elapsed = time.perf_counter() - start
    assert hist.stop_reason == "time_budget"
    assert elapsed <= 1.1 * budget + delay
    assert hist.total_seconds >= 0.7 * budget                          # used most of it, not stopped at once
    assert hist.best_epoch >= 1 and hist.items_per_second > 0


def test_predict_torch_and_loader():
    loader = make_loader(TensorDataset(torch.arange(10.0)[:, None]), 4, False, "cpu")
    assert loader.num_workers == 0 and not loader.pin_memory
    out = predict_torch(nn.Identity(), loader, "cpu", progress=False)
    assert out.shape == (10, 1) and out[-1, 0] == 9.0


# ----------------------------------------------------------------------------- tabular

@pytest.fixture(scope="module")
def cancer():
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    y = np.where(y == 1, "benign", "malignant")
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def test_tabular_mlp_breast_cancer(cancer):
    X_tr, X_te, y_tr, y_te = cancer
    model = zoo.create_model("tabular_mlp", epochs=20, **QUIET).fit(X_tr, y_tr)
    assert model.score(X_te, y_te) >= 0.9
    assert list(model.classes_) == ["benign", "malignant"]
    proba = model.predict_proba(X_te)
    assert proba.shape == (len(X_te), 2) and np.allclose(proba.sum(1), 1.0)
    assert model.device_ == "cpu" and model.history_.best_epoch >= 1
    assert (_roundtrip(model).predict(X_te) == model.predict(X_te)).all()


def test_tabular_mlp_seeded_runs_identical(cancer):
    X_tr, X_te, y_tr, _ = cancer
    a = zoo.create_model("tabular_mlp", epochs=3, random_state=7, **QUIET).fit(X_tr, y_tr)
    b = zoo.create_model("tabular_mlp", epochs=3, random_state=7, **QUIET).fit(X_tr, y_tr)
    assert a.history_.train_loss == b.history_.train_loss
    assert np.array_equal(a.predict_proba(X_te), b.predict_proba(X_te))


def test_tabular_mlp_regression(cancer):
    X_tr, X_te, _, _ = cancer
    model = zoo.create_model("tabular_mlp", task="regression", epochs=15, **QUIET)
    model.fit(X_tr.iloc[:, 1:], X_tr.iloc[:, 0])
    assert model.score(X_te.iloc[:, 1:], X_te.iloc[:, 0]) > 0.8


def test_tabular_autoencoder_ranks_outliers():
    rng = np.random.default_rng(0)
    mix = rng.normal(size=(3, 10))
    normal = rng.normal(size=(500, 3)) @ mix + 0.1 * rng.normal(size=(500, 10))
    test_normal = rng.normal(size=(100, 3)) @ mix + 0.1 * rng.normal(size=(100, 10))
    outliers = 3.0 * rng.normal(size=(20, 10))
    model = zoo.create_model("tabular_autoencoder", epochs=30, **QUIET).fit(normal)
    X = np.vstack([test_normal, outliers])
    y = np.r_[np.zeros(100), np.ones(20)]
    assert model.score(X, y) > 0.9
    assert np.allclose(model.score_samples(X), -model.anomaly_score(X))   # sklearn sign: lower = abnormal
    assert (model.predict(normal) == -1).mean() == pytest.approx(0.05, abs=0.01)   # sklearn: -1 = outlier
    assert (model.predict(outliers) == -1).mean() > 0.8
    assert np.array_equal(model.predict(X), np.where(model.decision_function(X) < 0, -1, 1))


# ----------------------------------------------------------------------------- images

def _crops(img: np.ndarray, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    out = []
    for _ in range(n):
        s = int(rng.integers(64, 97))
        y0, x0 = rng.integers(0, img.shape[0] - s), rng.integers(0, img.shape[1] - s)
        out.append(img[y0:y0 + s, x0:x0 + s])
    return out


@pytest.mark.slow
def test_effnet_finetune_cat_vs_coffee():
    _need("timm")
    from skimage import data

    rng = np.random.default_rng(0)
    X = _crops(data.chelsea(), 30, rng) + _crops(data.coffee(), 30, rng)
    y = np.array(["cat"] * 30 + ["coffee"] * 30)
    idx = rng.permutation(60)
    tr, te = idx[:40], idx[40:]
    model = zoo.create_model("image_effnet_lite0_finetune", epochs=1, image_size=96, batch_size=8, **QUIET)
    model.fit([X[i] for i in tr], y[tr])
    assert list(model.classes_) == ["cat", "coffee"]
    proba = model.predict_proba([X[i] for i in te])
    assert proba.shape == (20, 2) and np.allclose(proba.sum(1), 1.0)
    assert model.score([X[i] for i in te], y[te]) >= 0.8
    assert model.history_.epochs_run == 1 and model.device_ == "cpu"
    assert np.allclose(_roundtrip(model).predict_proba([X[i] for i in te]), proba, atol=1e-5)


@pytest.mark.slow
def test_conv_autoencoder_ranks_noise_high():
    from skimage import data

    rng = np.random.default_rng(0)
    normal = np.stack([c[:64, :64] for c in _crops(data.coffee(), 80, rng)])
    noise = rng.integers(0, 256, size=(10, 64, 64, 3), dtype=np.uint8)
    model = zoo.create_model("image_conv_autoencoder", epochs=15, batch_size=16, **QUIET).fit(normal[:60])
    X = np.concatenate([normal[60:], noise])
    y = np.r_[np.zeros(20), np.ones(10)]
    assert model.score(X, y) > 0.9
    assert set(np.unique(model.predict(X))) <= {-1, 1}


# ----------------------------------------------------------------------------- text

POS = ["I love this wonderful movie", "what a great and happy day", "this food is delicious and amazing",
       "fantastic performance, truly excellent", "a joyful, brilliant experience", "I really enjoyed it, superb",
       "the best thing ever, wonderful", "lovely, pleasant and kind people", "great service and friendly staff",
       "an excellent, delightful book", "beautiful music, I adore it", "happy and grateful for this gift",
       "outstanding work, very good", "such a nice and charming place", "perfect weather, lovely walk",
       "brilliant idea, well done", "the hotel was great", "awesome game, had fun"]
NEG = ["I hate this terrible movie", "what an awful and sad day", "this food is disgusting and bad",
       "horrible performance, truly dreadful", "a miserable, painful experience", "I really disliked it, awful",
       "the worst thing ever, terrible", "rude, unpleasant and mean people", "bad service and hostile staff",
       "a boring, dreadful book", "ugly noise, I loathe it", "angry and upset about this mess",
       "poor work, very bad", "such a nasty and dirty place", "horrible weather, miserable walk",
       "stupid idea, badly done", "the hotel was awful", "boring game, no fun"]


@pytest.mark.slow
def test_minilm_finetune_separable_sentences():
    _need("transformers")
    texts = np.array(POS + NEG, dtype=object)
    y = np.array(["pos"] * len(POS) + ["neg"] * len(NEG))
    idx = np.random.default_rng(0).permutation(len(texts))
    tr, te = idx[:26], idx[26:]
    model = zoo.create_model("text_minilm_finetune", epochs=2, max_length=32, batch_size=4, lr=3e-4, **QUIET)
    model.fit(list(texts[tr]), y[tr])
    assert list(model.classes_) == ["neg", "pos"]
    assert model.score(list(texts[te]), y[te]) >= 0.8
    assert np.allclose(model.predict_proba(list(texts[te])).sum(1), 1.0)


# ----------------------------------------------------------------------------- time series

@pytest.mark.slow
def test_gru_beats_naive_on_noisy_sine():
    import pandas as pd

    rng = np.random.default_rng(0)
    t = np.arange(400)
    y = np.sin(2 * np.pi * t / 40) + 0.1 * rng.normal(size=len(t))
    series = pd.Series(y, index=pd.date_range("2024-01-01", periods=len(t), freq="h"))
    model = zoo.create_model("ts_gru", window=24, hidden_size=32, epochs=30, **QUIET).fit(series.iloc[:360])
    fc = model.forecast(40)
    assert isinstance(fc.index, pd.DatetimeIndex) and fc.index[0] == series.index[360]
    truth = y[360:]
    assert np.abs(fc.to_numpy() - truth).mean() < 0.6 * np.abs(y[359] - truth).mean()
    assert np.allclose(model.predict(40), fc.to_numpy())
    assert model.score(None, truth) > 0.5
