"""Compatibility shims for mismatched torch / torchvision builds.

A torchvision wheel built for CUDA torch ships ``_C.so`` linked against
``libc10_cuda.so`` / ``libtorch_cuda.so``.  Beside a CPU-only torch that
library fails to load, torchvision swallows the error, and then
``torchvision/_meta_registrations.py`` calls
``torch.library.register_fake("torchvision::nms")`` at import time, which
raises ``RuntimeError: operator torchvision::nms does not exist``.  Every
package that imports torchvision (timm, some transformers models) fails.

:func:`ensure_torchvision_ops` fixes that by declaring the two op schemas that
torchvision registers fake kernels for at import time, and only when the real
compiled ops cannot be loaded.  The stubs have no kernels: calling
``torchvision.ops.nms`` still fails (clearly), everything else imports.
"""

from __future__ import annotations

from typing import Any

# Keeps the torch.library.Library alive (its definitions vanish when collected)
# and records the outcome so later calls are free.
_STATE: dict[str, Any] = {}

_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)


def _has_nms() -> bool:
    """True if ``torchvision::nms`` is a known operator."""
    import torch

    return hasattr(torch.ops.torchvision, "nms")


def _load_compiled_ops() -> bool:
    """Try to load torchvision's ``_C`` extension without importing torchvision."""
    import importlib.machinery
    import importlib.util

    import torch

    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return False
    loader = (importlib.machinery.ExtensionFileLoader, importlib.machinery.EXTENSION_SUFFIXES)
    for folder in spec.submodule_search_locations:
        ext = importlib.machinery.FileFinder(folder, loader).find_spec("_C")
        if ext is None or not ext.origin:
            continue
        try:
            torch.ops.load_library(ext.origin)
        except (OSError, ImportError, RuntimeError):
            return False
        return _has_nms()
    return False


def ensure_torchvision_ops() -> str:
    """Make ``import torchvision`` work; idempotent.

    Returns ``"native"`` (compiled ops present or loaded), ``"absent"``
    (torchvision not installed, nothing to do) or ``"stub"`` (compiled ops
    unloadable, ``torchvision::nms``/``qnms`` schemas declared instead).
    """
    if "mode" in _STATE:
        return _STATE["mode"]
    import importlib.util

    import torch

    if _has_nms() or _load_compiled_ops():
        mode = "native"
    elif importlib.util.find_spec("torchvision") is None:
        mode = "absent"
    else:
        lib = torch.library.Library("torchvision", "FRAGMENT")
        for schema in _SCHEMAS:
            if not hasattr(torch.ops.torchvision, schema.split("(", 1)[0]):
                lib.define(schema)
        _STATE["lib"] = lib
        mode = "stub"
    _STATE["mode"] = mode
    return mode
