"""Save and load fitted zoo models with the library versions they were made with."""

from __future__ import annotations

import errno
import io
import json
import platform
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

from zoo.trust import SIGNATURE_FILE, check_trusted, sign_folder

MODEL_FILE = "model.joblib"
META_FILE = "model.json"
PICKLED_FILES = (MODEL_FILE,)   # what load_model unpickles (and what signature.json must cover)
_TRACKED = ("ml-advisor", "scikit-learn", "numpy", "pandas", "torch", "timm", "transformers", "scikit-image",
            "joblib")


def library_versions() -> dict[str, str]:
    """Versions of the libraries a saved model depends on (absent ones omitted)."""
    found = {"python": platform.python_version()}
    for name in _TRACKED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def _atomic(path: Path, data: bytes) -> None:
    from zoo.io import write_bytes_atomic
    write_bytes_atomic(path, data)


def save_model(model: Any, folder: "str | Path", *, name: str, extra: dict[str, Any] | None = None) -> Path:
    """Write `model.joblib`, `model.json` (zoo name, class labels, versions) and `signature.json` into `folder`.

    Each file is written atomically. `signature.json` (zoo.trust) lets `load_model` unpickle the folder later
    without `trust=True`; when this user's signing key cannot be made, a warning says so and loading will
    need `trust=True`.
    """
    import joblib

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    _atomic(folder / MODEL_FILE, buffer.getvalue())
    classes = getattr(model, "classes_", None)
    meta = {"model": name, "estimator": type(model).__name__,
            "classes": None if classes is None else [c.item() if hasattr(c, "item") else c for c in classes],
            "versions": library_versions(), **(extra or {})}
    _atomic(folder / META_FILE, json.dumps(meta, indent=2, default=str).encode())
    try:
        sign_folder(folder, list(PICKLED_FILES))
    except OSError as exc:
        (folder / SIGNATURE_FILE).unlink(missing_ok=True)
        if getattr(exc, "errno", None) == errno.ENOSPC:
            raise
        warnings.warn(f"{folder}: not signed ({exc}); loading it will need trust=True / --trust", stacklevel=2)
    return folder / MODEL_FILE


def load_model(folder: "str | Path", *, trust: bool = False) -> Any:
    """Load a model saved by `save_model`; warns when library versions differ from the saving ones.

    Unpickling runs code from the file, so without `trust=True` the folder must carry a `signature.json`
    made by this user's key over the unchanged `model.joblib` (see zoo.trust); otherwise
    `zoo.trust.UntrustedModelError` names the file and the reason.
    """
    import joblib

    folder = Path(folder)
    if not (folder / MODEL_FILE).is_file():
        raise FileNotFoundError(f"{folder}: no {MODEL_FILE} here; is this a run folder written by `advisor train`?")
    data = (folder / MODEL_FILE).read_bytes()           # checked and unpickled from the same bytes
    if not trust:
        check_trusted(folder, list(PICKLED_FILES), contents={MODEL_FILE: data})
    meta = model_meta(folder) if (folder / META_FILE).exists() else {}
    saved, now = meta.get("versions") or {}, library_versions()
    changed = [f"{k} {saved[k]} -> {now.get(k, 'missing')}" for k in saved if saved[k] != now.get(k)]
    if changed:
        warnings.warn(f"model saved with other library versions: {', '.join(changed)}", stacklevel=2)
    return joblib.load(io.BytesIO(data))


MAX_META_BYTES = 16 << 20       # model.json lists the classes: megabytes only for a huge label set
_META_FIELDS = {"model": (str,), "estimator": (str,), "modality": (str,), "task": (str,), "classes": (list,),
                "versions": (dict,), "target": (str,), "text_column": (str,)}
_KINDS = {str: "text", list: "a list", dict: "a mapping", int: "a number", float: "a number", bool: "true/false"}


def model_meta(folder: "str | Path") -> dict[str, Any]:
    """The `model.json` written beside a saved model, checked: a bounded regular file holding a JSON object
    whose known fields have their types (null allowed); else zoo.io.UnreadableFile, one line naming the field."""
    from zoo.io import UnreadableFile, read_json

    path = Path(folder) / META_FILE
    meta = read_json(path, max_bytes=MAX_META_BYTES, what=f"a {META_FILE}")
    if not isinstance(meta, dict):
        raise UnreadableFile(f"{path}: expected a JSON object, got {_KINDS.get(type(meta), 'null')}")
    for key, kinds in _META_FIELDS.items():
        value = meta.get(key)
        if value is not None and not isinstance(value, kinds):
            raise UnreadableFile(f"{path}: {key}: expected {_KINDS[kinds[0]]}, got {_KINDS.get(type(value))}")
    if not all(isinstance(v, (str, type(None))) for v in (meta.get("versions") or {}).values()):
        raise UnreadableFile(f"{path}: versions: expected text for each library")
    return meta
