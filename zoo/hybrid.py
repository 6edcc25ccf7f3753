"""Hybrid models of the zoo: a frozen pretrained network as a feature extractor feeding a scikit-learn head.

Images -> EfficientNet-Lite0 (timm, ImageNet weights, classifier removed) -> 1280 pooled features -> logistic
regression / random forest / isolation forest.  Texts -> all-MiniLM-L6-v2 (mean-pooled, L2-normalised sentence
embeddings, 384 dims) -> logistic regression.  The network is never trained: one forward pass per item, so these
models train in seconds to minutes on a CPU and need far fewer labels than fine-tuning.

Imported lazily by ``zoo.create_model``.  torch / timm / transformers are imported inside functions only.

Conventions (same as ``zoo.classical``): keyword-only ``__init__`` storing params, ``fit`` returns ``self``,
learned state in ``trailing_underscore_`` attributes, ``clone`` / ``get_params`` / ``set_params`` work.
The pretrained network is *not* part of a pickle (``__getstate__`` drops it): saved models stay small (the head
only) and reload the network on first use from the same offline source (``weights_path`` ->
``$ML_ADVISOR_WEIGHTS_*`` -> the pip package that ships the weights; see ``zoo.weights``).

Reading importance over the classical head's inputs (the 1280 / 384 feature dimensions):

* ``model.feature_importances_`` - aligned with ``model.feature_names_out_`` (``cnn_0000`` ... /
  ``minilm_000`` ...), summing to 1: mean |coefficient| over classes for the logistic head (its inputs are
  standardised, so coefficients are comparable), impurity importance for the random-forest head;
* ``model.permutation_importance(X, y)`` - drop in ``score`` when one feature dimension is shuffled, as a
  ``pd.Series`` sorted descending; the network runs once, only the head is re-scored;
* ``model.extract_features(X)`` - the feature matrix itself, for any other sklearn inspection tool.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, OutlierMixin, RegressorMixin, TransformerMixin
from sklearn.ensemble import HistGradientBoostingRegressor, IsolationForest, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from zoo.audio import DURATION, SAMPLE_RATE
from zoo.catalogue import EFFNET
from zoo.images import as_image_list
from zoo.imbalance import predict_labels
from zoo.memo import memo_rows
from zoo.video import FRAME_SIZE, N_FRAMES

__all__ = [
    "AudioCnnFeaturesClassifier",
    "CnnFeatures",
    "ImageCnnFeaturesClassifier",
    "ImageCnnFeaturesIsolationForest",
    "ImageCnnFeaturesRegressor",
    "TextMiniLMFeaturesClassifier",
    "TextMiniLMFeaturesRegressor",
    "TransformerFeatures",
    "VideoCnnFeaturesClassifier",
    "clear_backbone_cache",
]

_HEADS = ("logistic", "random_forest")

# Loaded networks shared by every extractor in the process (clones, CV folds, several models): loading
# EfficientNet-Lite0 costs ~2 s on a CPU, MiniLM ~1 s.  Keyed by everything that changes the loaded object.
_CACHE: dict[tuple[Any, ...], Any] = {}
_CACHE_LOCK = threading.Lock()


def clear_backbone_cache() -> None:
    """Forget the networks loaded so far (frees their memory once no extractor holds them)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _cached(key: tuple[Any, ...], load: Any) -> Any:
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = load()
        return _CACHE[key]


def _progress(total: int, desc: str, verbose: bool) -> Any:
    from tqdm.auto import tqdm

    # None: tqdm hides the bar when stderr is not a terminal; delay: only loops longer than a second show one
    return tqdm(total=total, desc=desc, unit="item", disable=(not verbose or total == 0) or None, leave=False,
                delay=1.0)


def _resolve_device(device: str | None) -> str:
    from zoo.devices import pick_device

    return pick_device(device).device


# ----------------------------------------------------------------------------- transformers

class CnnFeatures(TransformerMixin, BaseEstimator):
    """Frozen timm CNN (default EfficientNet-Lite0, ImageNet weights) as a transformer: images -> pooled features.

    ``transform`` returns float32 ``(N, num_features)`` (1280 for EfficientNet-Lite0).  Images are resized with
    timm's resolved data config for the backbone (interpolation, crop_pct, mean/std) at ``image_size`` pixels,
    ``resize_mode="center_crop"`` (timm's eval transform) or ``"squash"`` (whole image, aspect ignored).
    Inference runs in batches under ``torch.inference_mode``; ``channels_last`` memory format (about 2x faster
    on CPU), bf16 autocast on CUDA.  The network is loaded in ``fit`` (shared by all instances in the process),
    dropped from pickles and reloaded on demand.
    """

    def __init__(self, *, backbone: str = EFFNET, image_size: int = 128, batch_size: int = 64,
                 device: str | None = None, weights_path: str | os.PathLike[str] | None = None,
                 channels_last: bool = True, resize_mode: str = "center_crop", verbose: bool = True) -> None:
        self.backbone = backbone
        self.image_size = image_size
        self.batch_size = batch_size
        self.device = device
        self.weights_path = weights_path
        self.channels_last = channels_last
        self.resize_mode = resize_mode
        self.verbose = verbose

    # -- network ------------------------------------------------------------------------------------------
    def _load(self, device: str) -> Any:
        from zoo._compat import ensure_torchvision_ops

        ensure_torchvision_ops()
        import torch

        from zoo.weights import create_timm_backbone

        wp = None if self.weights_path is None else os.fspath(self.weights_path)

        def load() -> Any:
            model = create_timm_backbone(self.backbone, num_classes=0, weights_path=wp).eval()
            for p in model.parameters():
                p.requires_grad_(False)
            model = model.to(device)
            if self.channels_last:
                model = model.to(memory_format=torch.channels_last)
            return model

        return _cached(("timm", self.backbone, wp, device, bool(self.channels_last)), load)

    def _network(self) -> Any:
        net = self.__dict__.get("_net")
        if net is None:                        # after unpickling: reload from the offline weight sources
            check_is_fitted(self, "data_config_")
            self.device_ = _resolve_device(self.device)
            net = self._net = self._load(self.device_)
        return net

    def network(self) -> Any:
        """The frozen torch network (eval mode): a normalised ``(N, 3, size, size)`` batch -> pooled features."""
        check_is_fitted(self, "data_config_")
        return self._network()

    def fit(self, X: Any = None, y: Any = None) -> CnnFeatures:
        """Load the pretrained network and resolve its data config; ``X`` / ``y`` are ignored (nothing learnt)."""
        from zoo.weights import RESIZE_MODES, timm_data_config, timm_transform

        if self.resize_mode not in RESIZE_MODES:
            raise ValueError(f"resize_mode must be one of {RESIZE_MODES}, got {self.resize_mode!r}")
        if int(self.image_size) < 32:
            raise ValueError(f"image_size must be >= 32, got {self.image_size!r}")

        self.device_ = _resolve_device(self.device)
        self._net = self._load(self.device_)
        size = int(self.image_size)
        cfg = timm_data_config(self._net, input_size=(3, size, size))
        self.data_config_ = {k: (tuple(v) if isinstance(v, (list, tuple)) else v) for k, v in cfg.items()}
        self._tf = timm_transform(self.data_config_, resize_mode=self.resize_mode)
        self.n_features_out_ = int(self._net.num_features)
        return self

    # -- inference ----------------------------------------------------------------------------------------
    def _preprocess(self) -> Any:
        """timm's eval transform for the backbone's data config (``zoo.weights.timm_transform``, shared with the
        fine-tuned model): PIL image -> normalised float tensor (3, size, size)."""
        tf = self.__dict__.get("_tf")
        if tf is None:                         # after unpickling
            from zoo.weights import timm_transform

            tf = self._tf = timm_transform(self.data_config_, resize_mode=self.resize_mode)
        return tf

    def _batches(self, images: Sequence[Any]) -> Iterator[Any]:
        import torch
        from PIL import Image

        from zoo.images import to_rgb_array

        tf = self._preprocess()
        step = max(1, int(self.batch_size))
        for start in range(0, len(images), step):
            yield torch.stack([tf(Image.fromarray(to_rgb_array(images[i])))
                               for i in range(start, min(start + step, len(images)))])

    def transform(self, X: Any) -> np.ndarray:
        """Images ((N,H,W[,C]) array or list of arrays / paths) -> float32 features ``(N, n_features_out_)``."""
        check_is_fitted(self, "data_config_")
        config = ("cnn", self.backbone, str(self.weights_path), repr(self.data_config_), self.resize_mode)
        return memo_rows(config, as_image_list(X), self._forward)

    def _forward(self, images: list[Any]) -> np.ndarray:
        import torch

        net = self._network()
        device = torch.device(self.device_)
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        out = np.empty((len(images), self.n_features_out_), dtype=np.float32)
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()
        done = 0
        with torch.inference_mode(), autocast, _progress(len(images), "CNN features", self.verbose) as bar:
            for batch in self._batches(images):
                x = batch.to(device, non_blocking=True).contiguous(memory_format=fmt)
                feats = net(x)
                out[done:done + len(batch)] = feats.float().cpu().numpy()
                done += len(batch)
                bar.update(len(batch))
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``cnn_0000`` ... ``cnn_1279``."""
        check_is_fitted(self, "n_features_out_")
        return np.asarray([f"cnn_{i:04d}" for i in range(self.n_features_out_)], dtype=object)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_net", None)                # the network stays out of pickles; reloaded on demand
        state.pop("_tf", None)                 # rebuilt from data_config_
        return state

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags


def _cnn_features(est: Any) -> "CnnFeatures":
    """The frozen-backbone extractor an image hybrid's parameters describe."""
    return CnnFeatures(backbone=est.backbone, image_size=est.image_size, batch_size=est.batch_size,
                       device=est.device, weights_path=est.weights_path, channels_last=est.channels_last,
                       resize_mode=est.resize_mode, verbose=est.verbose)


def _minilm_features(est: Any) -> "TransformerFeatures":
    """The frozen-encoder extractor a text hybrid's parameters describe."""
    return TransformerFeatures(max_length=est.max_length, batch_size=est.batch_size, pooling=est.pooling,
                               device=est.device, weights_path=est.weights_path, verbose=est.verbose)


class TransformerFeatures(TransformerMixin, BaseEstimator):
    """Frozen all-MiniLM-L6-v2 sentence embeddings as a transformer: texts -> float32 ``(N, 384)``.

    ``pooling="mean"`` (attention-masked mean of the token states, as sentence-transformers) or ``"cls"``;
    ``normalize=True`` L2-normalises each vector.  Texts longer than ``max_length`` tokens are truncated.
    Loaded offline with ``AutoTokenizer`` / ``AutoModel`` from ``zoo.weights.minilm_dir``; dropped from pickles.
    """

    def __init__(self, *, max_length: int = 128, batch_size: int = 64, pooling: str = "mean",
                 normalize: bool = True, device: str | None = None,
                 weights_path: str | os.PathLike[str] | None = None, verbose: bool = True) -> None:
        self.max_length = max_length
        self.batch_size = batch_size
        self.pooling = pooling
        self.normalize = normalize
        self.device = device
        self.weights_path = weights_path
        self.verbose = verbose

    def _load(self, device: str) -> tuple[Any, Any]:
        from zoo._compat import ensure_torchvision_ops

        ensure_torchvision_ops()
        from zoo.weights import minilm_dir, quiet_hf_loading

        source = minilm_dir(self.weights_path)
        local = not isinstance(source, str)

        def load() -> tuple[Any, Any]:
            from transformers import AutoModel, AutoTokenizer

            with quiet_hf_loading():
                tok = AutoTokenizer.from_pretrained(str(source), local_files_only=local)
                model = AutoModel.from_pretrained(str(source), local_files_only=local).eval().to(device)
            for p in model.parameters():
                p.requires_grad_(False)
            return tok, model

        return _cached(("hf", str(source), device), load)

    def _network(self) -> tuple[Any, Any]:
        net = self.__dict__.get("_net")
        if net is None:
            check_is_fitted(self, "n_features_out_")
            self.device_ = _resolve_device(self.device)
            net = self._net = self._load(self.device_)
        return net

    def fit(self, X: Any = None, y: Any = None) -> TransformerFeatures:
        """Load tokenizer and model; ``X`` / ``y`` are ignored (nothing learnt)."""
        if self.pooling not in ("mean", "cls"):
            raise ValueError(f"pooling must be 'mean' or 'cls', got {self.pooling!r}")
        self.device_ = _resolve_device(self.device)
        self._net = self._load(self.device_)
        self.n_features_out_ = int(self._net[1].config.hidden_size)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Texts -> float32 embeddings ``(N, 384)``; batches are formed by length (less padding), order kept."""
        check_is_fitted(self, "n_features_out_")
        from zoo.classical import _as_texts

        config = ("text", str(self.weights_path), int(self.max_length), self.pooling, bool(self.normalize))
        return memo_rows(config, _as_texts(X), self._embed)

    def _embed(self, texts: list[str]) -> np.ndarray:
        import torch

        tok, model = self._network()
        device = torch.device(self.device_)
        out = np.empty((len(texts), self.n_features_out_), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        step = max(1, int(self.batch_size))
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()
        with torch.inference_mode(), autocast, _progress(len(texts), "MiniLM features", self.verbose) as bar:
            for start in range(0, len(texts), step):
                idx = order[start:start + step]
                enc = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=int(self.max_length),
                          return_tensors="pt").to(device)
                hidden = model(**enc).last_hidden_state.float()
                if self.pooling == "cls":
                    emb = hidden[:, 0]
                else:
                    mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                    emb = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                if self.normalize:
                    emb = torch.nn.functional.normalize(emb, p=2, dim=1)
                out[idx] = emb.cpu().numpy()
                bar.update(len(idx))
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``minilm_000`` ... ``minilm_383``."""
        check_is_fitted(self, "n_features_out_")
        return np.asarray([f"minilm_{i:03d}" for i in range(self.n_features_out_)], dtype=object)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_net", None)
        return state

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


# ----------------------------------------------------------------------------- estimators

class _FeatureHeadMixin:
    """Shared by the hybrid estimators: ``pipeline_ = [("features", extractor), ..., ("model", head)]``."""

    pipeline_: Pipeline

    @property
    def device_(self) -> str:
        """Device the feature extractor runs on."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_[0].device_

    def extract_features(self, X: Any) -> np.ndarray:
        """The frozen network's feature matrix for ``X`` (columns named by ``feature_names_out_``)."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_[0].transform(X)

    @property
    def feature_names_out_(self) -> np.ndarray:
        """Names of the head's inputs: the network's feature dimensions (``cnn_0000`` / ``minilm_000`` ...)."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_[0].get_feature_names_out()

    @property
    def feature_importances_(self) -> np.ndarray:
        """Importance of each head input, summing to 1, aligned with ``feature_names_out_``.

        Logistic head: mean |coefficient| over classes (inputs are standardised, so comparable); random-forest
        head: impurity importance.
        """
        check_is_fitted(self, "pipeline_")
        head = self.pipeline_[-1]
        if hasattr(head, "feature_importances_"):
            imp = np.asarray(head.feature_importances_, dtype=np.float64)
        elif hasattr(head, "coef_"):
            imp = np.abs(np.atleast_2d(head.coef_)).mean(axis=0)
        else:
            raise AttributeError(f"{type(head).__name__} head has no importances; use permutation_importance")
        return imp / max(float(imp.sum()), 1e-12)

    def _head_score(self, F: np.ndarray, y: Any) -> float:
        raise NotImplementedError

    def permutation_importance(self, X: Any, y: Any, *, n_repeats: int = 5, top: int | None = None,
                               random_state: int | None = 0, features: np.ndarray | None = None) -> Any:
        """Drop in ``score`` when each feature dimension is shuffled (network run once, head re-scored).

        Returns a ``pd.Series`` indexed by ``feature_names_out_``, sorted descending (the ``top`` largest if
        given).  Pass ``features=extract_features(X)`` to reuse a feature matrix already computed.
        """
        import pandas as pd

        check_is_fitted(self, "pipeline_")
        F = self.extract_features(X) if features is None else np.asarray(features, dtype=np.float32)
        base = self._head_score(F, y)
        rng = np.random.default_rng(random_state)
        drops = np.zeros(F.shape[1])
        Fp = F.copy()
        for j in range(F.shape[1]):
            col = F[:, j].copy()
            for _ in range(int(n_repeats)):
                Fp[:, j] = col[rng.permutation(len(col))]
                drops[j] += base - self._head_score(Fp, y)
            Fp[:, j] = col
        s = pd.Series(drops / max(int(n_repeats), 1), index=self.feature_names_out_, name="importance")
        s = s.sort_values(ascending=False)
        return s.head(top) if top else s


def _classifier_head(head: str, *, C: float, max_iter: int, n_estimators: int, class_weight: Any,
                     n_jobs: int | None, random_state: int | None) -> list[tuple[str, Any]]:
    if head == "logistic":
        return [("scale", StandardScaler()),
                ("model", LogisticRegression(C=C, max_iter=max_iter, class_weight=class_weight,
                                             random_state=random_state))]
    if head == "random_forest":
        return [("model", RandomForestClassifier(n_estimators=n_estimators, class_weight=class_weight,
                                                 n_jobs=n_jobs, random_state=random_state))]
    raise ValueError(f"head must be one of {_HEADS}, got {head!r}")


class _HybridClassifier(_FeatureHeadMixin, ClassifierMixin, BaseEstimator):
    """Feature extractor + classifier head; subclasses build the extractor."""

    def _extractor(self) -> Any:
        raise NotImplementedError

    def fit(self, X: Any, y: Any) -> Any:
        """Extract features (one network pass) and fit the head on labels ``y`` (any labels, e.g. strings)."""
        y_arr = np.asarray(y)
        if y_arr.ndim != 1:
            y_arr = y_arr.ravel()
        head = _classifier_head(self.head, C=self.C, max_iter=self.max_iter, n_estimators=self.n_estimators,
                                class_weight=self.class_weight, n_jobs=self.n_jobs,
                                random_state=self.random_state)
        self.pipeline_ = Pipeline([("features", self._extractor()), *head]).fit(X, y_arr)
        self.classes_ = self.pipeline_[-1].classes_
        self.n_features_in_ = 1
        return self

    def fit_features(self, F: np.ndarray, y: Any) -> Any:
        """Fit only the head on a feature matrix from ``extract_features`` (e.g. to try ``C`` cheaply)."""
        head = _classifier_head(self.head, C=self.C, max_iter=self.max_iter, n_estimators=self.n_estimators,
                                class_weight=self.class_weight, n_jobs=self.n_jobs,
                                random_state=self.random_state)
        extractor = self._extractor().fit()
        rest = Pipeline(head).fit(np.asarray(F, dtype=np.float32), np.asarray(y).ravel())
        self.pipeline_ = Pipeline([("features", extractor), *rest.steps])
        self.classes_ = self.pipeline_[-1].classes_
        self.n_features_in_ = 1
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (as given to ``fit``; at ``decision_threshold_`` when set)."""
        check_is_fitted(self, "pipeline_")
        return predict_labels(self, X, self.pipeline_.predict)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns ordered as ``classes_``."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict_proba(X)

    def _head_score(self, F: np.ndarray, y: Any) -> float:
        return float(self.pipeline_[1:].score(F, np.asarray(y)))


class ImageCnnFeaturesClassifier(_HybridClassifier):
    """Frozen EfficientNet-Lite0 features (1280-d) + standardised logistic regression (or random forest).

    The advisor's hybrid pick for image classification with few labels or a CPU budget: transfer learning
    without fine-tuning.  ``head="logistic"`` (default; 0.96 accuracy on cats-vs-dogs where the forest scored
    lower) or ``"random_forest"``.  See the module docstring for reading importances over the 1280 inputs.
    """

    def __init__(self, *, head: str = "logistic", C: float = 1.0, max_iter: int = 2000, n_estimators: int = 300,
                 class_weight: Any = None, backbone: str = EFFNET, image_size: int = 128, batch_size: int = 64,
                 resize_mode: str = "center_crop", channels_last: bool = True, device: str | None = None,
                 weights_path: str | os.PathLike[str] | None = None, n_jobs: int | None = -1,
                 random_state: int | None = 0, verbose: bool = True) -> None:
        self.head = head
        self.C = C
        self.max_iter = max_iter
        self.n_estimators = n_estimators
        self.class_weight = class_weight
        self.backbone = backbone
        self.image_size = image_size
        self.batch_size = batch_size
        self.resize_mode = resize_mode
        self.channels_last = channels_last
        self.device = device
        self.weights_path = weights_path
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _extractor(self) -> CnnFeatures:
        return _cnn_features(self)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags


class TextMiniLMFeaturesClassifier(_HybridClassifier):
    """Frozen all-MiniLM-L6-v2 sentence embeddings (384-d) + standardised logistic regression.

    The advisor's hybrid pick for text classification with few labels: meaning-aware features (synonyms,
    paraphrases) that TF-IDF lacks, at one small-transformer pass per text.
    """

    def __init__(self, *, head: str = "logistic", C: float = 1.0, max_iter: int = 2000, n_estimators: int = 300,
                 class_weight: Any = None, max_length: int = 128, batch_size: int = 64, pooling: str = "mean",
                 device: str | None = None, weights_path: str | os.PathLike[str] | None = None,
                 n_jobs: int | None = -1, random_state: int | None = 0, verbose: bool = True) -> None:
        self.head = head
        self.C = C
        self.max_iter = max_iter
        self.n_estimators = n_estimators
        self.class_weight = class_weight
        self.max_length = max_length
        self.batch_size = batch_size
        self.pooling = pooling
        self.device = device
        self.weights_path = weights_path
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _extractor(self) -> TransformerFeatures:
        return _minilm_features(self)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


class AudioCnnFeaturesClassifier(_HybridClassifier):
    """Log-mel spectrograms rendered as images -> frozen EfficientNet-Lite0 features (1280-d) -> standardised
    logistic regression (or random forest): ImageNet transfer to audio clips (``zoo.audio.AudioCnnFeatures``).
    ``X``: clip paths or 1-D arrays at ``sample_rate``; every clip padded / cropped to ``duration`` seconds."""

    def __init__(self, *, head: str = "logistic", C: float = 1.0, max_iter: int = 2000, n_estimators: int = 300,
                 class_weight: Any = None, sample_rate: int = SAMPLE_RATE, duration: float = DURATION,
                 n_mels: int = 128,
                 backbone: str = EFFNET, image_size: int = 128, batch_size: int = 64, device: str | None = None,
                 weights_path: str | os.PathLike[str] | None = None, n_jobs: int | None = -1,
                 random_state: int | None = 0, verbose: bool = True) -> None:
        self.head = head
        self.C = C
        self.max_iter = max_iter
        self.n_estimators = n_estimators
        self.class_weight = class_weight
        self.sample_rate = sample_rate
        self.duration = duration
        self.n_mels = n_mels
        self.backbone = backbone
        self.image_size = image_size
        self.batch_size = batch_size
        self.device = device
        self.weights_path = weights_path
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _extractor(self) -> Any:
        from zoo.audio_features import AudioCnnFeatures

        cnn = CnnFeatures(backbone=self.backbone, image_size=self.image_size, batch_size=self.batch_size,
                          device=self.device, weights_path=self.weights_path, resize_mode="squash",
                          verbose=self.verbose)
        return AudioCnnFeatures(cnn=cnn, sample_rate=self.sample_rate, duration=self.duration, n_mels=self.n_mels)


class VideoCnnFeaturesClassifier(_HybridClassifier):
    """Frozen EfficientNet-Lite0 features of every sampled frame, pooled over time (mean, max, and the mean
    absolute and signed change between consecutive frames: ``zoo.video_features.VideoCnnFeatures``) ->
    standardised logistic regression (or random forest): ImageNet transfer to clips. ``X``: clip paths or
    ``(T, H, W, 3)`` frame arrays; ``n_frames`` frames sampled uniformly, each ``frame_size`` pixels a side before
    the network's own resize to ``image_size``."""

    def __init__(self, *, head: str = "logistic", C: float = 1.0, max_iter: int = 2000, n_estimators: int = 300,
                 class_weight: Any = None, n_frames: int = N_FRAMES, frame_size: int = FRAME_SIZE,
                 backbone: str = EFFNET, image_size: int = 128, batch_size: int = 64, device: str | None = None,
                 weights_path: str | os.PathLike[str] | None = None, n_jobs: int | None = -1,
                 random_state: int | None = 0, verbose: bool = True) -> None:
        self.head = head
        self.C = C
        self.max_iter = max_iter
        self.n_estimators = n_estimators
        self.class_weight = class_weight
        self.n_frames = n_frames
        self.frame_size = frame_size
        self.backbone = backbone
        self.image_size = image_size
        self.batch_size = batch_size
        self.device = device
        self.weights_path = weights_path
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _extractor(self) -> Any:
        from zoo.video_features import VideoCnnFeatures

        cnn = CnnFeatures(backbone=self.backbone, image_size=self.image_size, batch_size=self.batch_size,
                          device=self.device, weights_path=self.weights_path, resize_mode="squash",
                          verbose=self.verbose)
        return VideoCnnFeatures(cnn=cnn, n_frames=self.n_frames, frame_size=self.frame_size)


class ImageCnnFeaturesIsolationForest(_FeatureHeadMixin, OutlierMixin, BaseEstimator):
    """Frozen EfficientNet-Lite0 features + isolation forest: unsupervised image anomaly detection.

    Same conventions as ``zoo.classical.TabularIsolationForest`` (scikit-learn's): ``predict`` returns +1 = inlier,
    -1 = outlier; ``score_samples`` / ``decision_function`` keep scikit-learn's sign (lower = more abnormal,
    ``decision_function < 0`` = anomaly); ``anomaly_score = -score_samples``; ``score(X, y)`` is the ROC AUC of
    ``anomaly_score`` with y = 1 for anomaly.  ``n_components`` (optional) puts a PCA between features and forest.
    """

    def __init__(self, *, n_estimators: int = 200, max_samples: Any = "auto", contamination: Any = "auto",
                 max_features: float = 1.0, n_components: int | None = None, backbone: str = EFFNET,
                 image_size: int = 128, batch_size: int = 64, resize_mode: str = "center_crop",
                 channels_last: bool = True, device: str | None = None,
                 weights_path: str | os.PathLike[str] | None = None, n_jobs: int | None = -1,
                 random_state: int | None = 0, verbose: bool = True) -> None:
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.contamination = contamination
        self.max_features = max_features
        self.n_components = n_components
        self.backbone = backbone
        self.image_size = image_size
        self.batch_size = batch_size
        self.resize_mode = resize_mode
        self.channels_last = channels_last
        self.device = device
        self.weights_path = weights_path
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X: Any, y: Any = None) -> ImageCnnFeaturesIsolationForest:
        """Fit on (mostly normal) images; ``y`` is ignored."""
        steps: list[tuple[str, Any]] = [("features", _cnn_features(self))]
        if self.n_components:
            from sklearn.decomposition import PCA

            steps.append(("pca", PCA(n_components=self.n_components, random_state=self.random_state)))
        steps.append(("model", IsolationForest(n_estimators=self.n_estimators, max_samples=self.max_samples,
                                               contamination=self.contamination, max_features=self.max_features,
                                               n_jobs=self.n_jobs, random_state=self.random_state)))
        self.pipeline_ = Pipeline(steps).fit(X)
        self.n_features_in_ = 1
        return self

    def score_samples(self, X: Any) -> np.ndarray:
        """scikit-learn convention: the lower, the more abnormal."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.score_samples(X)

    def decision_function(self, X: Any) -> np.ndarray:
        """``score_samples`` minus the fitted threshold; < 0 means anomaly."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.decision_function(X)

    @property
    def offset_(self) -> float:
        """scikit-learn convention: ``decision_function = score_samples - offset_``."""
        check_is_fitted(self, "pipeline_")
        return float(self.pipeline_[-1].offset_)

    def anomaly_score(self, X: Any) -> np.ndarray:
        """``-score_samples``: the higher, the more anomalous."""
        return -self.score_samples(X)

    def predict(self, X: Any) -> np.ndarray:
        """scikit-learn convention: +1 = inlier (normal), -1 = outlier (anomaly)."""
        from zoo.classical import outlier_labels

        return outlier_labels(self.decision_function(X))

    def score(self, X: Any, y: Any) -> float:
        """ROC AUC of the anomaly score against labels ``y`` (1/True = anomaly, any other label normal)."""
        from zoo.classical import anomaly_auc

        return anomaly_auc(y, self.anomaly_score(X))

    def _head_score(self, F: np.ndarray, y: Any) -> float:
        from zoo.classical import anomaly_auc

        return anomaly_auc(y, -self.pipeline_[1:].score_samples(F))

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags


# ----------------------------------------------------------------------------- regression heads

_RIDGE_ALPHAS = tuple(10.0 ** k for k in range(-2, 5))


def _regressor_head(head: str, *, alphas: Sequence[float], max_iter: int,
                    random_state: int | None) -> list[tuple[str, Any]]:
    if head == "ridge":
        return [("scale", StandardScaler()), ("model", RidgeCV(alphas=np.asarray(alphas, dtype=np.float64)))]
    if head == "gradient_boosting":
        return [("model", HistGradientBoostingRegressor(max_iter=max_iter, random_state=random_state))]
    raise ValueError(f"head must be one of ('ridge', 'gradient_boosting'), got {head!r}")


class _HybridRegressor(_FeatureHeadMixin, RegressorMixin, BaseEstimator):
    """Feature extractor + regression head (ridge with alpha chosen by efficient leave-one-out CV, or boosting)."""

    def _extractor(self) -> Any:
        raise NotImplementedError

    def _head(self) -> list[tuple[str, Any]]:
        return _regressor_head(self.head, alphas=self.alphas, max_iter=self.max_iter,
                               random_state=self.random_state)

    def fit(self, X: Any, y: Any) -> Any:
        """Extract features (one network pass) and fit the head on the numeric target ``y``."""
        y_arr = np.asarray(y, dtype=np.float64).ravel()
        self.pipeline_ = Pipeline([("features", self._extractor()), *self._head()]).fit(X, y_arr)
        self.n_features_in_ = 1
        return self

    def fit_features(self, F: np.ndarray, y: Any) -> Any:
        """Fit only the head on a feature matrix from ``extract_features``."""
        rest = Pipeline(self._head()).fit(np.asarray(F, dtype=np.float32), np.asarray(y, dtype=np.float64).ravel())
        self.pipeline_ = Pipeline([("features", self._extractor().fit()), *rest.steps])
        self.n_features_in_ = 1
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict(X)

    def _head_score(self, F: np.ndarray, y: Any) -> float:
        return float(self.pipeline_[1:].score(F, np.asarray(y, dtype=np.float64)))


class ImageCnnFeaturesRegressor(_HybridRegressor):
    """Frozen EfficientNet-Lite0 features (1280-d) + ridge regression: the hybrid for image regression."""

    def __init__(self, *, head: str = "ridge", alphas: Sequence[float] = _RIDGE_ALPHAS, max_iter: int = 300,
                 backbone: str = EFFNET, image_size: int = 128, batch_size: int = 64,
                 resize_mode: str = "center_crop", channels_last: bool = True, device: str | None = None,
                 weights_path: str | os.PathLike[str] | None = None, random_state: int | None = 0,
                 verbose: bool = True) -> None:
        self.head = head
        self.alphas = alphas
        self.max_iter = max_iter
        self.backbone = backbone
        self.image_size = image_size
        self.batch_size = batch_size
        self.resize_mode = resize_mode
        self.channels_last = channels_last
        self.device = device
        self.weights_path = weights_path
        self.random_state = random_state
        self.verbose = verbose

    def _extractor(self) -> CnnFeatures:
        return _cnn_features(self)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags


class TextMiniLMFeaturesRegressor(_HybridRegressor):
    """Frozen all-MiniLM-L6-v2 sentence embeddings (384-d) + ridge regression: the hybrid for text regression."""

    def __init__(self, *, head: str = "ridge", alphas: Sequence[float] = _RIDGE_ALPHAS, max_iter: int = 300,
                 max_length: int = 128, batch_size: int = 64, pooling: str = "mean", device: str | None = None,
                 weights_path: str | os.PathLike[str] | None = None, random_state: int | None = 0,
                 verbose: bool = True) -> None:
        self.head = head
        self.alphas = alphas
        self.max_iter = max_iter
        self.max_length = max_length
        self.batch_size = batch_size
        self.pooling = pooling
        self.device = device
        self.weights_path = weights_path
        self.random_state = random_state
        self.verbose = verbose

    def _extractor(self) -> TransformerFeatures:
        return _minilm_features(self)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
