"""Deep models of the zoo: scikit-learn-style estimators around torch networks, all trained by ``fit_torch``.

Imported lazily by ``zoo.create_model``. Every estimator takes ``epochs``, ``batch_size``, ``lr``, ``device``
(None = auto: CUDA > MPS > CPU), ``time_budget_s`` (whole ``fit``), ``random_state``, ``verbose`` and
``val_fraction`` (a validation split carved from the data given to ``fit``, stratified for classifiers, the
latest windows for forecasting, used for early stopping). After ``fit``: ``model_`` (the network, kept on the
CPU between calls), ``history_`` (:class:`zoo.training.TrainHistory`) and ``device_`` (where it trained).
Anomaly detectors follow scikit-learn's outlier convention: ``predict`` +1 = inlier, -1 = outlier,
``score_samples`` lower = more abnormal (= -reconstruction error), ``decision_function < 0`` = outlier;
``anomaly_score`` = reconstruction error.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin, OutlierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.utils import ClassifierTags, RegressorTags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, column_or_1d
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from zoo._compat import ensure_torchvision_ops
from zoo.audio import DURATION, SAMPLE_RATE, as_clip_list, read_clip
from zoo.audio_features import log_mel_image
from zoo.classical import _as_texts, _preprocessor, _TabularMixin, anomaly_auc, outlier_labels
from zoo.forecasting import has_trend, season_length, series_input
from zoo.images import as_image_list, to_rgb_array
from zoo.imbalance import predict_labels
from zoo.training import TrainHistory, fit_torch, make_loader, predict_torch, resolve_device, seed_everything
from zoo.video import FRAME_SIZE, N_FRAMES
from zoo.weights import (EFFNET, MINILM, WeightsNotFoundError, create_timm_backbone, hub_access, hub_online,
                         minilm_dir, quiet_hf_loading, timm_data_config, timm_transform)

ensure_torchvision_ops()  # before anything imports timm / transformers (torchvision may lack its compiled ops)

__all__ = [
    "AudioEffnetLite0Finetune",
    "AudioMfccGRU",
    "ImageConvAutoencoder",
    "ImageEffnetLite0Finetune",
    "ImageEffnetLite0Regressor",
    "TabularAutoencoder",
    "TabularMLP",
    "TextMiniLMFinetune",
    "TextMiniLMRegressor",
    "TsGRU",
    "VideoEffnetLite0Finetune",
]

_TASKS = ("classification", "regression")


# ----------------------------------------------------------------------------- shared plumbing

def _val_split(n: int, y: np.ndarray | None, frac: float, seed: int | None,
               temporal: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Train / validation indices; stratified on ``y`` when every class can be split, none for tiny data."""
    idx = np.arange(n)
    n_val = int(round(frac * n)) if frac else 0
    if n_val < 2 or n - n_val < 2:
        return idx, None
    if temporal:
        return idx[:-n_val], idx[-n_val:]
    strat = None
    if y is not None:
        _, counts = np.unique(y, return_counts=True)
        if counts.min() >= 2 and len(counts) <= min(n_val, n - n_val):
            strat = y
    tr, va = train_test_split(idx, test_size=n_val, random_state=seed, stratify=strat)
    return np.sort(tr), np.sort(va)


def _accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    return float((logits.argmax(1) == y).mean())


def _mse_1d(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MSE between a one-output head and a 1-D target (the regressors' loss)."""
    return F.mse_loss(out.reshape(-1).float(), target.reshape(-1).float())


class _StandardisedTarget:
    """Regression plumbing for the deep regressors: train on ``(y - mean) / std``, predict back in units of y."""

    y_mean_: float
    y_scale_: float

    def _scale_target(self, y: Any) -> np.ndarray:
        yf = column_or_1d(np.asarray(y, dtype=np.float64), warn=True)
        if not np.isfinite(yf).all():
            raise ValueError("the regression target has missing or infinite values")
        self.y_mean_, self.y_scale_ = float(yf.mean()), float(yf.std() or 1.0)
        return ((yf - self.y_mean_) / self.y_scale_).astype(np.float32)

    def _unscale(self, out: np.ndarray) -> np.ndarray:
        return out.reshape(len(out), -1)[:, 0].astype(np.float64) * self.y_scale_ + self.y_mean_


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


class _TorchEstimator(BaseEstimator):
    """Common fit / predict plumbing around :func:`fit_torch` and :func:`predict_torch`."""

    epochs: int
    batch_size: int
    lr: float
    patience: int | None
    device: str | None
    time_budget_s: float | None
    random_state: int | None
    verbose: bool
    val_fraction: float
    _channels_last = False

    def _train(self, model: nn.Module, train_ds: Dataset, val_ds: Dataset | None, t0: float, *,
               collate_fn: Any = None, num_workers: int | None = None, **kw: Any) -> nn.Module:
        """Run ``fit_torch``; sets ``history_``/``device_``; returns the model (best weights) on the CPU."""
        choice = resolve_device(self.device)
        budget = None if not self.time_budget_s else max(1.0, float(self.time_budget_s) - (time.perf_counter() - t0))
        n, bs = len(train_ds), int(self.batch_size)  # type: ignore[arg-type]
        train_loader = make_loader(train_ds, bs, True, choice, collate_fn=collate_fn, num_workers=num_workers,
                                   drop_last=n > bs and n % bs == 1)  # BatchNorm cannot train on one item
        val_loader = (make_loader(val_ds, 2 * bs, False, choice, collate_fn=collate_fn, num_workers=num_workers)
                      if val_ds is not None else None)
        kw.setdefault("patience", self.patience)
        self.history_: TrainHistory = fit_torch(
            model, train_loader, val_loader, epochs=int(self.epochs), lr=float(self.lr), device=choice,
            time_budget_s=budget, channels_last=self._channels_last, progress=bool(self.verbose),
            seed=self.random_state, **kw)
        self.device_ = self.history_.device
        return model.to("cpu").eval()

    def _outputs(self, model: nn.Module, ds: Dataset, *, collate_fn: Any = None,
                 num_workers: int | None = None) -> np.ndarray:
        """Network outputs for a dataset, on the estimator's device; the model goes back to the CPU."""
        choice = resolve_device(self.device)
        loader = make_loader(ds, 2 * int(self.batch_size), False, choice, collate_fn=collate_fn,
                             num_workers=num_workers)
        try:
            return predict_torch(model, loader, choice, channels_last=self._channels_last, progress=bool(self.verbose))
        finally:
            model.to("cpu")


class _ClassifierMixin:
    """Label handling for the deep classifiers: ``classes_`` keeps the original labels (strings allowed)."""

    classes_: np.ndarray

    def _encode(self, y: Any) -> np.ndarray:
        y_arr = column_or_1d(np.asarray(y), warn=True)
        self.classes_, codes = np.unique(y_arr, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"need at least 2 classes, got {len(self.classes_)}")
        return codes.astype(np.int64)

    def _logits(self, X: Any) -> np.ndarray:
        raise NotImplementedError

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns ordered as ``classes_``."""
        return _softmax(self._logits(X).astype(np.float64))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (from ``classes_``; at ``decision_threshold_`` when set)."""
        def argmax(X: Any) -> np.ndarray:
            logits = self._logits(X)                     # checks the model is fitted, before classes_ is read
            return self.classes_[logits.argmax(axis=1)]

        return predict_labels(self, X, argmax)


class _ReconError(nn.Module):
    """Per-item mean squared reconstruction error of an autoencoder (inputs uint8 images or floats)."""

    def __init__(self, ae: nn.Module) -> None:
        super().__init__()
        self.ae = ae

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        target = x.float() / 255.0 if x.dtype == torch.uint8 else x
        return (self.ae(x).float() - target.float()).pow(2).flatten(1).mean(1)


def _recon_loss(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(out.float(), target.float() / 255.0 if target.dtype == torch.uint8 else target.float())


class _AnomalyMixin:
    """Threshold and sign conventions shared by the autoencoders (see the module docstring)."""

    contamination: float
    threshold_: float
    offset_: float

    def _errors(self, X: Any) -> np.ndarray:
        raise NotImplementedError

    def _set_threshold(self, errors: np.ndarray) -> None:
        if not 0.0 < float(self.contamination) < 0.5:
            raise ValueError(f"contamination must be in (0, 0.5), got {self.contamination!r}")
        self.threshold_ = float(np.quantile(errors, 1.0 - float(self.contamination)))
        self.offset_ = -self.threshold_

    def anomaly_score(self, X: Any) -> np.ndarray:
        """Reconstruction error: the higher, the more anomalous."""
        return self._errors(X)

    def score_samples(self, X: Any) -> np.ndarray:
        """scikit-learn sign (as IsolationForest): ``-reconstruction error``, the lower the more abnormal."""
        return -self._errors(X)

    def decision_function(self, X: Any) -> np.ndarray:
        """``score_samples - offset_``: below 0 means anomaly."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """scikit-learn convention: -1 = outlier (error above the training ``1 - contamination`` quantile),
        +1 = inlier."""
        return outlier_labels(self.decision_function(X))

    def score(self, X: Any, y: Any) -> float:
        """ROC AUC of ``anomaly_score`` against labels ``y`` (1/True = anomaly, any other label normal)."""
        return anomaly_auc(y, self.anomaly_score(X))


def _mlp(sizes: Sequence[int], dropout: float, out: int, act: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), act()] + ([nn.Dropout(dropout)] if dropout else [])
    layers.append(nn.Linear(sizes[-1], out))
    return nn.Sequential(*layers)


def _tensor_ds(*arrays: np.ndarray) -> TensorDataset:
    return TensorDataset(*[torch.from_numpy(np.ascontiguousarray(a)) for a in arrays])


# ----------------------------------------------------------------------------- tabular

class _TabularTorch(_TabularMixin, _TorchEstimator):
    """DataFrame / array input through the classical preprocessing (impute + scale numeric, one-hot categorical)."""

    def _prepare(self, X: Any, y: np.ndarray | None, stratify: bool) -> tuple[np.ndarray, np.ndarray,
                                                                                np.ndarray | None]:
        """Fit the preprocessing on the training part; returns features, train and validation indices."""
        df = self._frame_fit(X)
        tr, va = _val_split(len(df), y if stratify else None, self.val_fraction, self.random_state)
        pre = _preprocessor(self.numeric_features_, self.categorical_features_, encoding="onehot", scale=True)
        pre.fit(df.iloc[tr])
        self.pipeline_ = Pipeline([("preprocess", pre)])
        return self._transform(df, fitted=True), tr, va

    def _transform(self, X: Any, fitted: bool = False) -> np.ndarray:
        df = X if fitted else self._frame(X)
        return np.asarray(self.pipeline_.transform(df), dtype=np.float32)

    @property
    def feature_names_out_(self) -> np.ndarray:
        """Feature names after preprocessing (one-hot columns, missing indicators, ...)."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.get_feature_names_out()

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags


class TabularMLP(_TabularTorch):
    """Multi-layer perceptron for tabular classification or regression (``task``); AdamW, early stopping."""

    def __init__(self, *, task: str = "classification", hidden_layer_sizes: Sequence[int] = (256, 128),
                 dropout: float = 0.1, epochs: int = 30, batch_size: int = 128, lr: float = 1e-3,
                 weight_decay: float = 1e-4, patience: int | None = 5, device: str | None = None,
                 time_budget_s: float | None = None, random_state: int | None = 0, verbose: bool = True,
                 val_fraction: float = 0.15) -> None:
        self.task = task
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.device = device
        self.time_budget_s = time_budget_s
        self.random_state = random_state
        self.verbose = verbose
        self.val_fraction = val_fraction

    def _is_classifier(self) -> bool:
        return self.task == "classification"

    def fit(self, X: Any, y: Any) -> TabularMLP:
        """Fit on a DataFrame / 2-D array ``X`` and target ``y``; returns ``self``."""
        t0 = time.perf_counter()
        if self.task not in _TASKS:
            raise ValueError(f"task must be one of {_TASKS}, got {self.task!r}")
        if y is None:
            raise ValueError("TabularMLP requires y to be passed, but the target y is None")
        y_arr = column_or_1d(np.asarray(y), warn=True)
        if self._is_classifier():
            self.classes_, codes = np.unique(y_arr, return_inverse=True)
            target: np.ndarray = codes.astype(np.int64)
            n_out, loss_fn, metric = len(self.classes_), nn.CrossEntropyLoss(), _accuracy
        else:
            yf = y_arr.astype(np.float64)
            self.y_mean_, self.y_scale_ = float(yf.mean()), float(yf.std() or 1.0)
            target = ((yf - self.y_mean_) / self.y_scale_).astype(np.float32)[:, None]
            n_out, loss_fn, metric = 1, nn.MSELoss(), None
        feats, tr, va = self._prepare(X, y_arr, stratify=self._is_classifier())
        if len(target) != len(feats):
            raise ValueError(f"X has {len(feats)} samples but y has {len(target)}")
        seed_everything(self.random_state)
        net = _mlp([feats.shape[1], *self.hidden_layer_sizes], self.dropout, n_out)
        val = _tensor_ds(feats[va], target[va]) if va is not None else None
        self.model_ = self._train(net, _tensor_ds(feats[tr], target[tr]), val, t0, loss_fn=loss_fn,
                                  metric_fn=metric, weight_decay=self.weight_decay)
        return self

    def _raw(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self._outputs(self.model_, _tensor_ds(self._transform(X)))

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (classification) or values (regression)."""
        if self._is_classifier():
            return predict_labels(self, X, self._argmax)
        out = self._raw(X)
        return out[:, 0].astype(np.float64) * self.y_scale_ + self.y_mean_

    def _argmax(self, X: Any) -> np.ndarray:
        out = self._raw(X)                               # checks the model is fitted, before classes_ is read
        return self.classes_[out.argmax(axis=1)]

    @available_if(_is_classifier)
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns ordered as ``classes_`` (classification only)."""
        return _softmax(self._raw(X).astype(np.float64))

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy (classification) or R² (regression)."""
        metric = accuracy_score if self._is_classifier() else r2_score
        return float(metric(y, self.predict(X), sample_weight=sample_weight))

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        if self.task == "regression":
            tags.estimator_type, tags.regressor_tags = "regressor", RegressorTags()
        else:
            tags.estimator_type, tags.classifier_tags = "classifier", ClassifierTags()
        return tags


class TabularAutoencoder(_AnomalyMixin, OutlierMixin, _TabularTorch):
    """Dense autoencoder for tabular anomaly detection: reconstruction error of standardised features."""

    def __init__(self, *, hidden_layer_sizes: Sequence[int] = (64,), encoding_dim: int = 8,
                 contamination: float = 0.05, epochs: int = 50, batch_size: int = 128, lr: float = 1e-3,
                 weight_decay: float = 1e-5, patience: int | None = 5, device: str | None = None,
                 time_budget_s: float | None = None, random_state: int | None = 0, verbose: bool = True,
                 val_fraction: float = 0.15) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.encoding_dim = encoding_dim
        self.contamination = contamination
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.device = device
        self.time_budget_s = time_budget_s
        self.random_state = random_state
        self.verbose = verbose
        self.val_fraction = val_fraction

    def fit(self, X: Any, y: Any = None) -> TabularAutoencoder:
        """Fit on (mostly normal) data; ``y`` is ignored. The threshold flags ``contamination`` of it."""
        t0 = time.perf_counter()
        feats, tr, va = self._prepare(X, None, stratify=False)
        seed_everything(self.random_state)
        d, hidden = feats.shape[1], list(self.hidden_layer_sizes)
        net = nn.Sequential(_mlp([d, *hidden], 0.0, int(self.encoding_dim)), nn.ReLU(),
                            _mlp([int(self.encoding_dim), *hidden[::-1]], 0.0, d))
        val = _tensor_ds(feats[va], feats[va]) if va is not None else None
        self.model_ = self._train(net, _tensor_ds(feats[tr], feats[tr]), val, t0, loss_fn=_recon_loss,
                                  weight_decay=self.weight_decay)
        self._set_threshold(self._outputs(_ReconError(self.model_), _tensor_ds(feats)))
        return self

    def _errors(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self._outputs(_ReconError(self.model_), _tensor_ds(self._transform(X))).astype(np.float64)


# ----------------------------------------------------------------------------- images

def _open_image(item: Any, side: int) -> Any:
    """PIL RGB image, shrunk so its shorter side is about ``side`` (JPEGs decode at reduced size)."""
    from PIL import Image

    if isinstance(item, (str, Path)):
        with Image.open(item) as im:
            im.draft("RGB", (side, side))
            img = im.convert("RGB")
    else:
        img = Image.fromarray(to_rgb_array(item))
    scale = side / min(img.size)
    if scale < 1.0:
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                         Image.Resampling.BICUBIC)
    return img


class _ImageDataset(Dataset):
    """Images (paths or arrays) -> ``transform(PIL image)``, label; decoded images are cached up to a budget."""

    def __init__(self, items: Sequence[Any], labels: np.ndarray | None, transform: Any, side: int,
                 cache_bytes: int = 1 << 30) -> None:
        self.items, self.labels, self.transform, self.side = items, labels, transform, side
        self.cache: dict[int, Any] = {}
        self.cache_left = cache_bytes

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        img = self.cache.get(i)
        if img is None:
            img = _open_image(self.items[i], self.side)
            size = img.width * img.height * 3
            if size <= self.cache_left:
                self.cache[i], self.cache_left = img, self.cache_left - size
        return self.transform(img), self.labels[i] if self.labels is not None else 0


def _image_uint8(X: Any, size: int) -> np.ndarray:
    """All images as one (N, 3, size, size) uint8 array (resized, aspect not kept)."""
    from PIL import Image

    items = as_image_list(X)
    out = np.empty((len(items), 3, size, size), dtype=np.uint8)
    for i, item in enumerate(items):
        img = _open_image(item, 2 * size).resize((size, size), Image.Resampling.BILINEAR)
        out[i] = np.asarray(img, dtype=np.uint8).transpose(2, 0, 1)
    return out


class _FinetuneNet(nn.Module):
    """A timm classifier whose backbone can be frozen (weights fixed, BatchNorm statistics kept in eval mode)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.frozen = False

    def head_params(self) -> list[nn.Parameter]:
        return list(self.net.get_classifier().parameters())

    def set_frozen(self, frozen: bool) -> None:
        head = {id(p) for p in self.head_params()}
        for p in self.net.parameters():
            if id(p) not in head:
                p.requires_grad_(not frozen)
        self.frozen = frozen
        self.train(self.training)

    def train(self, mode: bool = True) -> _FinetuneNet:
        super().train(mode)
        if self.frozen and mode:
            self.net.eval()
            self.net.get_classifier().train()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class _ImageFinetune(_TorchEstimator):
    """EfficientNet-Lite0 fine-tuning shared by the image classifier and regressor.

    Preprocessing follows timm's data config of the model at ``image_size``; training uses random resized
    crops, flips and mild colour jitter (``augment``). The first ``freeze_epochs`` epochs train the head only
    (backbone frozen), then the whole net with the backbone at ``lr * backbone_lr_scale``. AdamW, cosine
    schedule, channels_last.
    """

    _channels_last = True
    backbone: str
    image_size: int
    backbone_lr_scale: float
    weight_decay: float
    freeze_epochs: int
    drop_rate: float
    augment: bool
    weights_path: str | None

    def _transform(self, training: bool) -> Any:
        if training and self.augment:
            return timm_transform(self.data_config_, training=True, scale=(0.35, 1.0), hflip=0.5, color_jitter=0.2)
        return timm_transform(self.data_config_)              # the same eval transform as zoo.hybrid.CnnFeatures

    def _dataset(self, items: Sequence[Any], labels: np.ndarray | None, training: bool) -> _ImageDataset:
        side = int(round(self.image_size / self.data_config_["crop_pct"] * (1.25 if training else 1.0)))
        return _ImageDataset(items, labels, self._transform(training), side)

    def _backbone(self, n_out: int) -> nn.Module:
        """The pretrained backbone with a fresh ``n_out``-output head (small weights); sets ``data_config_``."""
        seed_everything(self.random_state)
        net = create_timm_backbone(self.backbone, num_classes=n_out, weights_path=self.weights_path,
                                   drop_rate=self.drop_rate)
        head_layer = net.get_classifier()           # timm's init gives 2-class heads huge logits: start small
        nn.init.normal_(head_layer.weight, std=0.01)
        nn.init.zeros_(head_layer.bias)
        cfg = timm_data_config(net)
        self.data_config_ = {**cfg, "input_size": (3, int(self.image_size), int(self.image_size))}
        return net

    def _finetune(self, model: _FinetuneNet, train_ds: Dataset, val_ds: Dataset | None, loss_fn: Any,
                  metric_fn: Any, t0: float) -> _FinetuneNet:
        """Train ``model``: the head alone for ``freeze_epochs`` epochs, then end to end with the backbone at
        ``lr * backbone_lr_scale``; returns it unfrozen, holding the best weights."""
        head = {id(p) for p in model.head_params()}
        groups = [{"params": model.head_params(), "lr": self.lr},
                  {"params": [p for p in model.net.parameters() if id(p) not in head],
                   "lr": self.lr * self.backbone_lr_scale}]
        freeze = int(self.freeze_epochs)
        model.set_frozen(freeze > 0)

        def unfreeze(epoch: int, m: nn.Module, hist: TrainHistory) -> None:
            if epoch == freeze:
                model.set_frozen(False)

        self._train(model, train_ds, val_ds, t0, loss_fn=loss_fn, metric_fn=metric_fn, optimizer=groups,
                    weight_decay=self.weight_decay, on_epoch_end=unfreeze)
        model.set_frozen(False)
        return model

    def _fit_images(self, X: Any, target: np.ndarray, n_out: int, loss_fn: Any, metric_fn: Any,
                    strata: np.ndarray | None, t0: float) -> None:
        """Build the backbone with ``n_out`` outputs and fine-tune it on images ``X`` and ``target``."""
        items = as_image_list(X)
        if len(target) != len(items):
            raise ValueError(f"{len(items)} images but {len(target)} labels")
        net = self._backbone(n_out)
        tr, va = _val_split(len(items), strata, self.val_fraction, self.random_state)
        train_ds = self._dataset([items[i] for i in tr], target[tr], training=True)
        val_ds = self._dataset([items[i] for i in va], target[va], training=False) if va is not None else None
        self.model_ = self._finetune(_FinetuneNet(net), train_ds, val_ds, loss_fn, metric_fn, t0).net.eval()

    def _raw(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self._outputs(self.model_, self._dataset(as_image_list(X), None, training=False))

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags


class ImageEffnetLite0Finetune(_ClassifierMixin, ClassifierMixin, _ImageFinetune):
    """EfficientNet-Lite0 (ImageNet weights) fine-tuned end to end with a new head; the deep image classifier.

    See ``_ImageFinetune`` for preprocessing, augmentation and unfreezing; adds label smoothing.
    """

    def __init__(self, *, backbone: str = EFFNET, image_size: int = 128, epochs: int = 3, batch_size: int = 32,
                 lr: float = 1e-3, backbone_lr_scale: float = 0.1, weight_decay: float = 0.01, freeze_epochs: int = 1,
                 label_smoothing: float = 0.1, drop_rate: float = 0.2, augment: bool = True,
                 patience: int | None = 3, weights_path: str | None = None, device: str | None = None,
                 time_budget_s: float | None = None, random_state: int | None = 0, verbose: bool = True,
                 val_fraction: float = 0.15) -> None:
        self.backbone = backbone
        self.image_size = image_size
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.backbone_lr_scale = backbone_lr_scale
        self.weight_decay = weight_decay
        self.freeze_epochs = freeze_epochs
        self.label_smoothing = label_smoothing
        self.drop_rate = drop_rate
        self.augment = augment
        self.patience = patience
        self.weights_path = weights_path
        self.device = device
        self.time_budget_s = time_budget_s
        self.random_state = random_state
        self.verbose = verbose
        self.val_fraction = val_fraction

    def fit(self, X: Any, y: Any) -> ImageEffnetLite0Finetune:
        """Fit on images (array (N,H,W[,C]) or list of arrays / paths) and labels ``y``."""
        t0 = time.perf_counter()
        codes = self._encode(y)
        self._fit_images(X, codes, len(self.classes_), nn.CrossEntropyLoss(label_smoothing=self.label_smoothing),
                         _accuracy, codes, t0)
        return self

    def _logits(self, X: Any) -> np.ndarray:
        return self._raw(X)


class ImageEffnetLite0Regressor(_StandardisedTarget, RegressorMixin, _ImageFinetune):
    """EfficientNet-Lite0 (ImageNet weights) fine-tuned end to end with a one-output head: image regression.

    The target is standardised for training (MSE) and predictions are returned in its own units.
    """

    def __init__(self, *, backbone: str = EFFNET, image_size: int = 128, epochs: int = 5, batch_size: int = 32,
                 lr: float = 1e-3, backbone_lr_scale: float = 0.1, weight_decay: float = 0.01, freeze_epochs: int = 1,
                 drop_rate: float = 0.2, augment: bool = True, patience: int | None = 3,
                 weights_path: str | None = None, device: str | None = None, time_budget_s: float | None = None,
                 random_state: int | None = 0, verbose: bool = True, val_fraction: float = 0.15) -> None:
        self.backbone = backbone
        self.image_size = image_size
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.backbone_lr_scale = backbone_lr_scale
        self.weight_decay = weight_decay
        self.freeze_epochs = freeze_epochs
        self.drop_rate = drop_rate
        self.augment = augment
        self.patience = patience
        self.weights_path = weights_path
        self.device = device
        self.time_budget_s = time_budget_s
        self.random_state = random_state
        self.verbose = verbose
        self.val_fraction = val_fraction

    def fit(self, X: Any, y: Any) -> ImageEffnetLite0Regressor:
        """Fit on images (array (N,H,W[,C]) or list of arrays / paths) and a numeric target ``y``."""
        t0 = time.perf_counter()
        self._fit_images(X, self._scale_target(y), 1, _mse_1d, None, None, t0)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values, in the target's units."""
        return self._unscale(self._raw(X))


# ----------------------------------------------------------------------------- video

def _snippets(frames: np.ndarray, n_segments: int) -> list[np.ndarray]:
    """(k, H, W, 3) uint8 frames -> `n_segments` (H, W, 3) uint8 snippets, one per equal segment of the clip: three
    consecutive frames in grey, stacked as the three channels (the snippet shows how the frames change)."""
    from zoo.video import sample_indices

    grey = np.clip(frames.astype(np.float32) @ np.asarray([0.299, 0.587, 0.114], dtype=np.float32), 0, 255)
    starts = sample_indices(max(1, len(frames) - 2), int(n_segments))
    last = len(frames) - 1
    return [np.stack([grey[min(j + d, last)] for d in range(3)], axis=-1).astype(np.uint8) for j in starts]


class _SnippetDataset(Dataset):
    """Clips as decoded frames -> ``(n_segments, 3, S, S)`` snippet tensors (each through ``transform``), label."""

    def __init__(self, clips: Sequence[np.ndarray], labels: np.ndarray | None, transform: Any,
                 n_segments: int) -> None:
        self.clips, self.labels, self.transform, self.n_segments = clips, labels, transform, n_segments

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        from PIL import Image

        snippets = [self.transform(Image.fromarray(s)) for s in _snippets(self.clips[i], self.n_segments)]
        return torch.stack(snippets), self.labels[i] if self.labels is not None else 0


class _SegmentNet(_FinetuneNet):
    """One network over every snippet of a clip, its logits averaged over the snippets (TSN's consensus)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n = x.shape[:2]
        return self.net(x.flatten(0, 1)).view(b, n, -1).mean(dim=1)


class VideoEffnetLite0Finetune(_ClassifierMixin, ClassifierMixin, _ImageFinetune):
    """EfficientNet-Lite0 (ImageNet weights) fine-tuned on clips, segment-based as in TSN: ``n_frames`` frames
    sampled uniformly, ``n_segments`` snippets per clip (three consecutive sampled frames in grey stacked as the
    image's channels, so each snippet carries short-term motion, like TSN's RGB-difference input), one shared
    network over the snippets, logits averaged (segmental consensus). Head-first unfreezing and label smoothing as
    the image model; augmentation is random resized crops only (a flip would turn ``left`` into ``right``)."""

    def __init__(self, *, backbone: str = EFFNET, n_frames: int = N_FRAMES, n_segments: int = 3,
                 frame_size: int = FRAME_SIZE, image_size: int = 96, epochs: int = 8, batch_size: int = 16,
                 lr: float = 1e-3, backbone_lr_scale: float = 0.3, weight_decay: float = 0.01, freeze_epochs: int = 1,
                 label_smoothing: float = 0.1, drop_rate: float = 0.2, augment: bool = True,
                 patience: int | None = 3, weights_path: str | None = None, device: str | None = None,
                 time_budget_s: float | None = None, random_state: int | None = 0, verbose: bool = True,
                 val_fraction: float = 0.15) -> None:
        self.backbone = backbone
        self.n_frames = n_frames
        self.n_segments = n_segments
        self.frame_size = frame_size
        self.image_size = image_size
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.backbone_lr_scale = backbone_lr_scale
        self.weight_decay = weight_decay
        self.freeze_epochs = freeze_epochs
        self.label_smoothing = label_smoothing
        self.drop_rate = drop_rate
        self.augment = augment
        self.patience = patience
        self.weights_path = weights_path
        self.device = device
        self.time_budget_s = time_budget_s
        self.random_state = random_state
        self.verbose = verbose
        self.val_fraction = val_fraction

    def _transform(self, training: bool) -> Any:
        if training and self.augment:
            return timm_transform(self.data_config_, training=True, scale=(0.5, 1.0), hflip=0.0, color_jitter=None)
        return timm_transform(self.data_config_, resize_mode="squash")

    def _clips(self, X: Any) -> list[np.ndarray]:
        from zoo.video import as_video_list, read_frames

        return [read_frames(c, n_frames=int(self.n_frames), size=int(self.frame_size)) for c in as_video_list(X)]

    def fit(self, X: Any, y: Any) -> VideoEffnetLite0Finetune:
        """Fit on clips (paths or (T, H, W, 3) frame arrays) and labels ``y``."""
        t0 = time.perf_counter()
        if int(self.n_segments) < 1 or int(self.n_frames) < 3:
            raise ValueError(f"need n_segments >= 1 and n_frames >= 3, got {self.n_segments!r}, {self.n_frames!r}")
        codes = self._encode(y)
        clips = self._clips(X)
        if len(codes) != len(clips):
            raise ValueError(f"{len(clips)} clips but {len(codes)} labels")
        net = self._backbone(len(self.classes_))
        tr, va = _val_split(len(clips), codes, self.val_fraction, self.random_state)
        seg = int(self.n_segments)
        train_ds = _SnippetDataset([clips[i] for i in tr], codes[tr], self._transform(True), seg)
        val_ds = None if va is None else _SnippetDataset([clips[i] for i in va], codes[va], self._transform(False),
                                                         seg)
        loss = nn.CrossEntropyLoss(label_smoothing=self.label_smoothing)
        self.model_ = self._finetune(_SegmentNet(net), train_ds, val_ds, loss, _accuracy, t0).eval()
        return self

    def _logits(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        ds = _SnippetDataset(self._clips(X), None, self._transform(False), int(self.n_segments))
        return self._outputs(self.model_, ds)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = False
        return tags


class _ConvAE(nn.Module):
    """Conv encoder (3 stride-2 convs) -> dense bottleneck -> transposed-conv decoder, sigmoid output."""

    def __init__(self, size: int, width: int, latent: int) -> None:
        super().__init__()
        c, s = width, size // 8
        self.shape = (4 * c, s, s)

        def block(a: int, b: int) -> list[nn.Module]:
            return [nn.Conv2d(a, b, 3, stride=2, padding=1), nn.BatchNorm2d(b), nn.ReLU()]

        self.encoder = nn.Sequential(*block(3, c), *block(c, 2 * c), *block(2 * c, 4 * c), nn.Flatten(),
                                     nn.Linear(4 * c * s * s, latent))
        self.expand = nn.Linear(latent, 4 * c * s * s)
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(4 * c, 2 * c, 4, stride=2, padding=1), nn.BatchNorm2d(2 * c), nn.ReLU(),
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1), nn.BatchNorm2d(c), nn.ReLU(),
            nn.ConvTranspose2d(c, 3, 4, stride=2, padding=1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float() / 255.0 if x.dtype == torch.uint8 else x
        z = self.expand(torch.relu(self.encoder(x))).view(-1, *self.shape)
        return self.decoder(z)


class ImageConvAutoencoder(_AnomalyMixin, OutlierMixin, _TorchEstimator):
    """Small convolutional autoencoder for image anomaly detection (reconstruction error at ``image_size``)."""

    _channels_last = True

    def __init__(self, *, image_size: int = 64, width: int = 16, latent_dim: int = 64,
                 contamination: float = 0.05, epochs: int = 30, batch_size: int = 64, lr: float = 2e-3,
                 weight_decay: float = 1e-5, patience: int | None = 5, device: str | None = None,
                 time_budget_s: float | None = None, random_state: int | None = 0, verbose: bool = True,
                 val_fraction: float = 0.15) -> None:
        self.image_size = image_size
        self.width = width
        self.latent_dim = latent_dim
        self.contamination = contamination
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.device = device
        self.time_budget_s = time_budget_s
        self.random_state = random_state
        self.verbose = verbose
        self.val_fraction = val_fraction

    def fit(self, X: Any, y: Any = None) -> ImageConvAutoencoder:
        """Fit on (mostly normal) images; ``y`` is ignored."""
        t0 = time.perf_counter()
        if int(self.image_size) % 8:
            raise ValueError(f"image_size must be a multiple of 8, got {self.image_size}")
        imgs = _image_uint8(X, int(self.image_size))
        tr, va = _val_split(len(imgs), None, self.val_fraction, self.random_state)
        seed_everything(self.random_state)
        net = _ConvAE(int(self.image_size), int(self.width), int(self.latent_dim))
        val = _tensor_ds(imgs[va], imgs[va]) if va is not None else None
        self.model_ = self._train(net, _tensor_ds(imgs[tr], imgs[tr]), val, t0, loss_fn=_recon_loss,
                                  weight_decay=self.weight_decay)
        self._set_threshold(self._outputs(_ReconError(self.model_), _tensor_ds(imgs)))
        return self

    def _errors(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        imgs = _image_uint8(X, int(self.image_size))
        return self._outputs(_ReconError(self.model_), _tensor_ds(imgs)).astype(np.float64)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags


# ----------------------------------------------------------------------------- text

class _TextDataset(Dataset):
    def __init__(self, texts: list[str], labels: np.ndarray | None) -> None:
        self.texts, self.labels = texts, labels

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, i: int) -> tuple[str, Any]:
        return self.texts[i], self.labels[i] if self.labels is not None else 0


class _TextCollate:
    """Tokenise a batch with dynamic padding: ``(dict of tensors, labels)``."""

    def __init__(self, tokenizer: Any, max_length: int) -> None:
        self.tokenizer, self.max_length = tokenizer, max_length

    def __call__(self, batch: list[tuple[str, int]]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        texts, labels = zip(*batch)
        enc = self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.max_length,
                             return_tensors="pt")
        return dict(enc), torch.as_tensor(np.asarray(labels))


class _HFLogits(nn.Module):
    """A transformers sequence classifier returning plain logits."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, **inputs: torch.Tensor) -> torch.Tensor:
        return self.model(**inputs).logits


class _TextFinetune(_TorchEstimator):
    """all-MiniLM-L6-v2 (or ``model_id``) fine-tuning shared by the text classifier and regressor.

    AdamW, cosine schedule, gradient clipping; texts are tokenised per batch (dynamic padding, truncated to
    ``max_length`` tokens).
    """

    model_id: str | None
    max_length: int
    weight_decay: float
    grad_clip: float | None
    weights_path: str | None

    def _pretrained(self, n_out: int, labels: Sequence[Any] | None) -> nn.Module:
        """Tokeniser (``tokenizer_``) and a sequence model with ``n_out`` outputs, from local weights first."""
        ensure_torchvision_ops()
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        path = self.weights_path or self.model_id if self.model_id else minilm_dir(self.weights_path)
        try:
            with hub_access():
                self.tokenizer_ = AutoTokenizer.from_pretrained(path)
        except OSError:
            raise WeightsNotFoundError(
                f"no weights for {path!r}: not a local folder, not in the Hugging Face cache, and the hub is "
                f"{'offline' if not hub_online() else 'unreachable'}; pass weights_path=... or go online") from None
        kw: dict[str, Any] = {"num_labels": n_out}
        if labels is not None:
            kw.update(id2label={i: str(c) for i, c in enumerate(labels)},
                      label2id={str(c): i for i, c in enumerate(labels)})
        with quiet_hf_loading():
            return AutoModelForSequenceClassification.from_pretrained(path, **kw)

    def _fit_texts(self, X: Any, target: np.ndarray, n_out: int, loss_fn: Any, metric_fn: Any,
                   strata: np.ndarray | None, labels: Sequence[Any] | None, t0: float) -> None:
        """Fine-tune the pretrained encoder with ``n_out`` outputs on texts ``X`` and ``target``."""
        texts = _as_texts(X)
        if len(target) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(target)} labels")
        seed_everything(self.random_state)
        hf = self._pretrained(n_out, labels)
        tr, va = _val_split(len(texts), strata, self.val_fraction, self.random_state)
        collate = _TextCollate(self.tokenizer_, int(self.max_length))
        train_ds = _TextDataset([texts[i] for i in tr], target[tr])
        val_ds = _TextDataset([texts[i] for i in va], target[va]) if va is not None else None
        self.model_ = self._train(_HFLogits(hf), train_ds, val_ds, t0, collate_fn=collate, num_workers=0,
                                  loss_fn=loss_fn, metric_fn=metric_fn, weight_decay=self.weight_decay,
                                  grad_clip=self.grad_clip)
        self.n_features_in_ = 1

    def _raw(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self._outputs(self.model_, _TextDataset(_as_texts(X), None),
                             collate_fn=_TextCollate(self.tokenizer_, int(self.max_length)), num_workers=0)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


class TextMiniLMFinetune(_ClassifierMixin, ClassifierMixin, _TextFinetune):
    """all-MiniLM-L6-v2 fine-tuned end to end with a new classification head (transformers, offline weights).

    ``lr=5e-5`` suits a few thousand texts; tiny sets need more (e.g. 3e-4).
    """

    def __init__(self, *, model_id: str | None = None, max_length: int = 128, epochs: int = 2, batch_size: int = 16,
                 lr: float = 5e-5,
                 weight_decay: float = 0.01, grad_clip: float | None = 1.0, patience: int | None = 2,
                 weights_path: str | None = None, device: str | None = None, time_budget_s: float | None = None,
                 random_state: int | None = 0, verbose: bool = True, val_fraction: float = 0.15) -> None:
        self.model_id = model_id
        self.max_length = max_length
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.grad_clip = grad_clip
        self.patience = patience
        self.weights_path = weights_path
        self.device = device
        self.time_budget_s = time_budget_s
        self.random_state = random_state
        self.verbose = verbose
        self.val_fraction = val_fraction

    def fit(self, X: Any, y: Any) -> TextMiniLMFinetune:
        """Fit on a list/array/Series of strings (or a 1-column DataFrame) and labels ``y``."""
        t0 = time.perf_counter()
        codes = self._encode(y)
        self._fit_texts(X, codes, len(self.classes_), nn.CrossEntropyLoss(), _accuracy, codes, self.classes_, t0)
        return self

    def _logits(self, X: Any) -> np.ndarray:
        return self._raw(X)


class TextMiniLMRegressor(_StandardisedTarget, RegressorMixin, _TextFinetune):
    """all-MiniLM-L6-v2 fine-tuned end to end with a one-output head: text regression (standardised MSE)."""

    def __init__(self, *, model_id: str | None = None, max_length: int = 128, epochs: int = 4, batch_size: int = 16,
                 lr: float = 1e-4, weight_decay: float = 0.01, grad_clip: float | None = 1.0,
                 patience: int | None = 2, weights_path: str | None = None, device: str | None = None,
                 time_budget_s: float | None = None, random_state: int | None = 0, verbose: bool = True,
                 val_fraction: float = 0.15) -> None:
        self.model_id = model_id
        self.max_length = max_length
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.grad_clip = grad_clip
        self.patience = patience
        self.weights_path = weights_path
        self.device = device
        self.time_budget_s = time_budget_s
        self.random_state = random_state
        self.verbose = verbose
        self.val_fraction = val_fraction

    def fit(self, X: Any, y: Any) -> TextMiniLMRegressor:
        """Fit on a list/array/Series of strings (or a 1-column DataFrame) and a numeric target ``y``."""
        t0 = time.perf_counter()
        self._fit_texts(X, self._scale_target(y), 1, _mse_1d, None, None, None, t0)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values, in the target's units."""
        return self._unscale(self._raw(X))


# ----------------------------------------------------------------------------- time series

class _GRUNet(nn.Module):
    def __init__(self, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.gru = nn.GRU(1, hidden, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x.unsqueeze(-1))
        return self.head(out[:, -1]).squeeze(-1)


class TsGRU(RegressorMixin, _TorchEstimator):
    """GRU forecaster over sliding windows of a univariate series, recursive multi-step forecasts.

    Same API as ``TsLagGradientBoosting``: ``fit(X_timestamps_or_None, y)`` or ``fit(series)``,
    ``forecast(steps)`` (pd.Series indexed by future time), ``predict(X)`` (future timestamps or an int number
    of steps), ``score`` = R² over that horizon. The series is standardised (and differenced when
    ``difference=True``, or with ``"auto"`` when ``zoo.forecasting.has_trend`` finds a trend: ``difference_``);
    the training observations are in ``series_`` (as in ``TsLagGradientBoosting``) and
    ``history_`` is the training curve, as for every torch model.
    Patience is long on purpose: one-step validation loss flattens at the noise level well before the
    recursive multi-step forecasts stop improving.
    """

    def __init__(self, *, window: int = 32, hidden_size: int = 64, num_layers: int = 1, dropout: float = 0.0,
                 difference: bool | str = "auto", epochs: int = 40, batch_size: int = 64, lr: float = 3e-3,
                 weight_decay: float = 0.0, patience: int | None = 10, device: str | None = None,
                 time_budget_s: float | None = None, random_state: int | None = 0, verbose: bool = True,
                 val_fraction: float = 0.15) -> None:
        self.window = window
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.difference = difference
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.device = device
        self.time_budget_s = time_budget_s
        self.random_state = random_state
        self.verbose = verbose
        self.val_fraction = val_fraction

    def fit(self, X: Any = None, y: Any = None) -> TsGRU:
        """Fit on the series ``y`` (time order) with optional timestamps ``X``; ``fit(series)`` also accepted."""
        t0 = time.perf_counter()
        ts, v = series_input(X, y)
        self.difference_ = (has_trend(v, season_length(ts, v)) if self.difference == "auto"
                            else bool(self.difference))
        w = np.diff(v) if self.difference_ else v
        self.window_ = int(min(int(self.window), max(2, len(w) // 3)))
        if len(w) - self.window_ < 10:
            raise ValueError(f"series too short ({len(v)} points) for window={self.window}")
        self.mean_, self.scale_ = float(w.mean()), float(w.std() or 1.0)
        z = ((w - self.mean_) / self.scale_).astype(np.float32)
        windows = np.lib.stride_tricks.sliding_window_view(z[:-1], self.window_)
        targets = z[self.window_:]
        tr, va = _val_split(len(targets), None, self.val_fraction, self.random_state, temporal=True)
        seed_everything(self.random_state)
        net = _GRUNet(int(self.hidden_size), int(self.num_layers), float(self.dropout))
        val = _tensor_ds(windows[va], targets[va]) if va is not None else None
        self.model_ = self._train(net, _tensor_ds(windows[tr], targets[tr]), val, t0, loss_fn=nn.MSELoss(),
                                  weight_decay=self.weight_decay, grad_clip=1.0)
        self.series_ = v
        self.index_ = ts
        if ts is not None:
            freq = ts.freq or (pd.DatetimeIndex(ts, freq="infer").freq if len(ts) >= 3 else None)
            self.freq_ = freq if freq is not None else pd.Series(ts).diff().median()
        return self

    def _future_index(self, steps: int) -> pd.Index:
        if self.index_ is None:
            return pd.RangeIndex(len(self.series_), len(self.series_) + steps)
        return pd.DatetimeIndex([self.index_[-1] + (i + 1) * self.freq_ for i in range(steps)])

    def _recursive(self, steps: int) -> np.ndarray:
        check_is_fitted(self, "model_")
        w = np.diff(self.series_) if self.difference_ else self.series_
        hist = list(((w[-self.window_:] - self.mean_) / self.scale_).astype(np.float32))
        self.model_.to("cpu").eval()
        with torch.no_grad():                            # one-step calls: the CPU is fastest here
            for _ in range(steps):
                x = torch.tensor(hist[-self.window_:], dtype=torch.float32)[None]
                hist.append(float(self.model_(x)[0]))
        out = np.asarray(hist[self.window_:], dtype=np.float64) * self.scale_ + self.mean_
        return self.series_[-1] + np.cumsum(out) if self.difference_ else out

    def forecast(self, steps: int) -> pd.Series:
        """Recursive forecast of the next ``steps`` points after the training data, indexed by future time."""
        if int(steps) < 1:
            raise ValueError("steps must be >= 1")
        return pd.Series(self._recursive(int(steps)), index=self._future_index(int(steps)), name="forecast")

    def predict(self, X: Any) -> np.ndarray:
        """Forecast ``len(X)`` steps after the training data (X = future timestamps), or ``X`` steps if an int."""
        check_is_fitted(self, "model_")
        steps = int(X) if isinstance(X, (int, np.integer)) else len(X)
        return self._recursive(steps)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R² of the forecast over the horizon right after the training data (``X`` = its timestamps or None)."""
        y_true = np.asarray(y, dtype=np.float64).ravel()
        y_pred = self.predict(len(y_true) if X is None else X)
        return float(r2_score(y_true, y_pred, sample_weight=sample_weight))

# ----------------------------------------------------------------------------- audio
# AudioEffnetLite0Finetune: each clip becomes its log-mel image (zoo.audio_features.log_mel_image, the hybrid's
# input) and EfficientNet-Lite0 is fine-tuned on those images as ImageEffnetLite0Finetune is, with the image
# augmentations replaced by the spectrogram ones: a random time shift, then frequency and time masking
# (SpecAugment, Park et al. 2019). Spectrograms are squashed to the square input, never cropped (a crop would cut
# the start or the end of the word). AudioMfccGRU: the framework's recurrent route, a bidirectional GRU over the
# clip's MFCC frames (standardised per coefficient on the training clips), mean- and max-pooled over time.

class SpecAugment:
    """On a normalised (C, F, T) spectrogram tensor: a circular time shift of up to ``shift`` of the width, then
    ``freq_masks`` bands of up to ``width`` of the height and ``time_masks`` of up to ``width`` of the width set
    to 0 (the normalised mean). Draws from torch's generator, which the training loop seeds."""

    def __init__(self, freq_masks: int = 2, time_masks: int = 2, width: float = 0.15, shift: float = 0.1) -> None:
        self.freq_masks, self.time_masks, self.width, self.shift = freq_masks, time_masks, width, shift

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = x.clone()
        _, f, t = x.shape
        roll = int(torch.randint(-int(self.shift * t), int(self.shift * t) + 1, ()).item()) if self.shift else 0
        x = torch.roll(x, shifts=roll, dims=2)
        for axis, count, size in ((1, self.freq_masks, f), (2, self.time_masks, t)):
            for _ in range(count):
                w = int(torch.randint(0, max(1, int(self.width * size)) + 1, ()).item())
                start = int(torch.randint(0, max(1, size - w) + 1, ()).item())
                if axis == 1:
                    x[:, start:start + w, :] = 0.0
                else:
                    x[:, :, start:start + w] = 0.0
        return x


class _Then:
    """``second(first(img))``: the eval transform, then SpecAugment."""

    def __init__(self, first: Any, second: Any) -> None:
        self.first, self.second = first, second

    def __call__(self, img: Any) -> torch.Tensor:
        return self.second(self.first(img))


class AudioEffnetLite0Finetune(ImageEffnetLite0Finetune):
    """EfficientNet-Lite0 (ImageNet weights) fine-tuned on log-mel spectrograms with SpecAugment: the deep audio
    classifier. Parameters as ``ImageEffnetLite0Finetune``, plus the spectrogram's (``sample_rate``,
    ``duration``, ``n_mels``) and SpecAugment's (``freq_masks``, ``time_masks``, ``mask_width``)."""

    def __init__(self, *, backbone: str = EFFNET, image_size: int = 128, epochs: int = 8, batch_size: int = 32,
                 lr: float = 1e-3, backbone_lr_scale: float = 0.3, weight_decay: float = 0.01, freeze_epochs: int = 1,
                 label_smoothing: float = 0.1, drop_rate: float = 0.2, augment: bool = True,
                 patience: int | None = 3, weights_path: str | None = None, device: str | None = None,
                 time_budget_s: float | None = None, random_state: int | None = 0, verbose: bool = True,
                 val_fraction: float = 0.15, sample_rate: int = SAMPLE_RATE, duration: float = DURATION,
                 n_mels: int = 128, freq_masks: int = 2, time_masks: int = 2, mask_width: float = 0.15) -> None:
        super().__init__(backbone=backbone, image_size=image_size, epochs=epochs, batch_size=batch_size, lr=lr,
                         backbone_lr_scale=backbone_lr_scale, weight_decay=weight_decay,
                         freeze_epochs=freeze_epochs, label_smoothing=label_smoothing, drop_rate=drop_rate,
                         augment=augment, patience=patience, weights_path=weights_path, device=device,
                         time_budget_s=time_budget_s, random_state=random_state, verbose=verbose,
                         val_fraction=val_fraction)
        self.sample_rate = sample_rate
        self.duration = duration
        self.n_mels = n_mels
        self.freq_masks = freq_masks
        self.time_masks = time_masks
        self.mask_width = mask_width

    def _images(self, X: Any) -> list[np.ndarray]:
        sr = int(self.sample_rate)
        return [log_mel_image(read_clip(c, sample_rate=sr, duration=float(self.duration)), sr, int(self.n_mels))
                for c in as_clip_list(X)]

    def _transform(self, training: bool) -> Any:
        squash = timm_transform(self.data_config_, resize_mode="squash")
        if training and self.augment:
            return _Then(squash, SpecAugment(int(self.freq_masks), int(self.time_masks), float(self.mask_width)))
        return squash

    def fit(self, X: Any, y: Any) -> AudioEffnetLite0Finetune:
        """Fit on clips (paths, or (samples,) float arrays at ``sample_rate``) and labels ``y``."""
        return super().fit(self._images(X), y)  # type: ignore[return-value]

    def _logits(self, X: Any) -> np.ndarray:
        return self._raw(self._images(X))

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = False
        return tags


def mfcc_frames(clip: np.ndarray, sample_rate: int = SAMPLE_RATE, n_mfcc: int = 40) -> np.ndarray:
    """(frames, n_mfcc) MFCCs of a clip (25 ms windows every 10 ms)."""
    import librosa

    m = librosa.feature.mfcc(y=clip, sr=sample_rate, n_mfcc=n_mfcc, n_fft=400, hop_length=160)
    return m.T.astype(np.float32)


class _GRUClassifier(nn.Module):
    def __init__(self, n_in: int, hidden: int, layers: int, dropout: float, n_out: int) -> None:
        super().__init__()
        self.gru = nn.GRU(n_in, hidden, num_layers=layers, batch_first=True, bidirectional=True,
                          dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(4 * hidden, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.gru(x)                                    # (batch, frames, 2 * hidden)
        pooled = torch.cat([h.mean(dim=1), h.amax(dim=1)], dim=1)
        return self.out(self.drop(pooled))


class AudioMfccGRU(_ClassifierMixin, ClassifierMixin, _TorchEstimator):
    """Bidirectional GRU over MFCC frames, mean+max pooled over time; AdamW, early stopping on a validation
    split of the training clips."""

    def __init__(self, *, n_mfcc: int = 40, hidden_size: int = 64, num_layers: int = 1, dropout: float = 0.2,
                 epochs: int = 40, batch_size: int = 32, lr: float = 3e-3, weight_decay: float = 1e-4,
                 patience: int | None = 8, sample_rate: int = SAMPLE_RATE, duration: float = DURATION,
                 device: str | None = None, time_budget_s: float | None = None, random_state: int | None = 0,
                 verbose: bool = True, val_fraction: float = 0.15) -> None:
        self.n_mfcc = n_mfcc
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.sample_rate = sample_rate
        self.duration = duration
        self.device = device
        self.time_budget_s = time_budget_s
        self.random_state = random_state
        self.verbose = verbose
        self.val_fraction = val_fraction

    def _frames(self, X: Any) -> np.ndarray:
        sr = int(self.sample_rate)
        return np.stack([mfcc_frames(read_clip(c, sample_rate=sr, duration=float(self.duration)), sr,
                                     int(self.n_mfcc)) for c in as_clip_list(X)])

    def fit(self, X: Any, y: Any) -> AudioMfccGRU:
        """Fit on clips (paths, or (samples,) float arrays at ``sample_rate``) and labels ``y``."""
        t0 = time.perf_counter()
        codes = self._encode(y)
        frames = self._frames(X)
        if len(frames) != len(codes):
            raise ValueError(f"{len(frames)} clips but {len(codes)} labels")
        self.mfcc_mean_ = frames.mean(axis=(0, 1))
        self.mfcc_scale_ = frames.std(axis=(0, 1)) + 1e-6
        feats = ((frames - self.mfcc_mean_) / self.mfcc_scale_).astype(np.float32)
        tr, va = _val_split(len(feats), codes, self.val_fraction, self.random_state)
        seed_everything(self.random_state)
        net = _GRUClassifier(feats.shape[2], int(self.hidden_size), int(self.num_layers), float(self.dropout),
                             len(self.classes_))
        val = _tensor_ds(feats[va], codes[va]) if va is not None else None
        self.model_ = self._train(net, _tensor_ds(feats[tr], codes[tr]), val, t0, loss_fn=nn.CrossEntropyLoss(),
                                  metric_fn=_accuracy, weight_decay=self.weight_decay)
        return self

    def _logits(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        feats = ((self._frames(X) - self.mfcc_mean_) / self.mfcc_scale_).astype(np.float32)
        return self._outputs(self.model_, _tensor_ds(feats))
