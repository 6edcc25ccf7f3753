"""Cheap facts measured from `data.path` when the descriptor leaves them out (file counts, CSV header and rows).

Light on purpose: the standard library and numpy only, so `advisor recommend` stays fast.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

from advisor.deciding.schema import ProjectDescriptor
from zoo.audio import AUDIO_SUFFIXES
from zoo.images import IMAGE_SUFFIXES, loops_back
from zoo.video import VIDEO_SUFFIXES

_TARGET_NAMES = ("target", "label", "class", "y", "value")


def resolve_data_path(desc: ProjectDescriptor, descriptor_file: Optional[Path],
                      override: Optional[str] = None) -> ProjectDescriptor:
    """Absolute data path: `override` relative to the working folder, else data.path relative to the YAML file."""
    if override:
        path = Path(override).resolve()
    elif desc.data.path:
        path = Path(desc.data.path)
        if not path.is_absolute() and descriptor_file is not None:
            path = (Path(descriptor_file).resolve().parent / path)
    else:
        return desc
    return desc.model_copy(update={"data": desc.data.model_copy(update={"path": str(path)})})


def _count_folder(root: Path, suffixes: "frozenset[str]" = IMAGE_SUFFIXES) -> tuple[int, int]:
    top = root.resolve()
    classes = [d for d in sorted(os.listdir(root))
               if (root / d).is_dir() and not d.startswith(".") and not loops_back(root / d, top)]
    total = 0
    for cls in classes:
        for _, _, files in os.walk(root / cls, followlinks=False):
            total += sum(Path(f).suffix.lower() in suffixes for f in files)
    return total, len(classes)


def _scan_csv(path: Path, target: Optional[str], extra_non_features: int) -> tuple[int, int, Optional[int]]:
    limit = csv.field_size_limit(2**31 - 1)         # long documents in a text CSV are fields > 128 KB
    try:
        return _scan_rows(path, target, extra_non_features)
    finally:
        csv.field_size_limit(limit)


def _scan_rows(path: Path, target: Optional[str], extra_non_features: int) -> tuple[int, int, Optional[int]]:
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        col = target if target in header else next((n for n in _TARGET_NAMES if n in header), None)
        index = header.index(col) if col else None
        rows, values = 0, set()
        for row in reader:
            if not row:
                continue
            rows += 1
            if index is not None and index < len(row) and len(values) <= 1000:
                values.add(row[index])
    n_features = max(len(header) - 1 - extra_non_features, 0)
    return rows, n_features, (len(values) if index is not None and len(values) <= 1000 else None)


def prepare(descriptor: "str | Path", data_override: Optional[str] = None) -> tuple[ProjectDescriptor, list[str]]:
    """Load a descriptor file, resolve its data path, and measure what it leaves out."""
    from advisor.deciding.schema import load_descriptor

    desc = resolve_data_path(load_descriptor(descriptor), Path(descriptor), data_override)
    weights = desc.resources.weights_path
    if weights and not Path(weights).is_absolute():
        weights = str(Path(descriptor).resolve().parent / weights)
        desc = desc.model_copy(update={"resources": desc.resources.model_copy(update={"weights_path": weights})})
    return measure(desc)


def measure(desc: ProjectDescriptor) -> tuple[ProjectDescriptor, list[str]]:
    """Fill n_samples / n_classes / n_features from data.path where they are missing; say what was measured.

    Best effort: a path that is missing, not a plain file or folder (a FIFO would block), or unreadable is left
    unmeasured; loading the data for training says what is wrong with it.
    """
    data = desc.data
    if data.n_samples is not None and data.n_classes is not None and (
            data.n_features is not None or data.modality.value != "tabular"):
        return desc, []
    try:
        return _measure(desc)
    except Exception:  # noqa: BLE001 - whatever the file holds (pickles in an .npz, broken zip, NUL bytes, ...)
        return desc, []


def _counts(path: Path, modality: str, target: Optional[str]) -> dict[str, Optional[int]]:
    """n_samples / n_classes (/ n_features for tables) counted from a folder, an .npz or a CSV."""
    found: dict[str, Optional[int]] = {}
    if path.is_dir():
        suffixes = {"audio": AUDIO_SUFFIXES, "video": VIDEO_SUFFIXES}.get(modality, IMAGE_SUFFIXES)
        found["n_samples"], found["n_classes"] = _count_folder(path, suffixes)
    elif path.suffix.lower() == ".npz":
        import numpy as np

        with np.load(path, allow_pickle=False) as arrays:
            y = arrays["y"] if "y" in arrays else None
            if y is not None:
                found["n_samples"], found["n_classes"] = int(len(y)), int(len(np.unique(y)))
    elif path.suffix.lower() in (".csv", ".tsv", ".txt"):
        rows, n_features, n_classes = _scan_csv(path, target, 1 if modality == "text" else 0)
        found["n_samples"] = rows
        found["n_classes"] = n_classes
        if modality == "tabular":
            found["n_features"] = n_features
    return found


def _measure(desc: ProjectDescriptor) -> tuple[ProjectDescriptor, list[str]]:
    data = desc.data
    path = Path(data.path or "")
    if not data.path or not (path.is_dir() or path.is_file()):
        return desc, []
    found = _counts(path, data.modality.value, data.target)
    updates = {k: v for k, v in found.items() if v and getattr(data, k) is None}
    if desc.task.value != "classification" or (updates.get("n_classes") or 2) < 2:
        updates.pop("n_classes", None)
    if not updates:
        return desc, []
    notes = [f"data.{k} = {v:,} measured from {path.name}" for k, v in updates.items()]
    return desc.model_copy(update={"data": data.model_copy(update=updates)}), notes


_TEXT_NAMES = ("text", "sentence", "document", "message")


def survey(path: "str | Path", answers: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the data at `path` answers before the questionnaire asks it (`advisor ask --data`): the counts that
    `measure` fills in (dotted names; not asked), and guesses at task (regression for a numeric target with
    fractions or over 20 values), data.modality, data.target and data.text_column (offered as defaults). Best
    effort: nothing for a path that cannot be read."""
    try:
        return _survey(Path(path), answers.get("task"))
    except Exception:  # noqa: BLE001 - whatever the file holds; loading it for training says what is wrong
        return {}, {}


def _survey(path: Path, task: Optional[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    if not (path.is_dir() or path.is_file()):
        return {}, {}
    guessed: dict[str, Any] = {}
    if path.is_dir():
        guessed["data.modality"], guessed["task"] = "image", "classification"    # a folder per class
    elif path.suffix.lower() == ".npz":
        import numpy as np

        with np.load(path, allow_pickle=False) as arrays:
            guessed["data.modality"] = "image" if "X" in arrays and arrays["X"].ndim >= 3 else "tabular"
            if "y" in arrays:
                guessed["task"] = guess_task(arrays["y"][:200].tolist())[0]
    elif path.suffix.lower() in (".csv", ".tsv", ".txt", ".parquet"):
        header, rows = _head(path) if path.suffix.lower() != ".parquet" else ([], [])
        target = next((n for n in _TARGET_NAMES if n in header), None)
        if target:
            guessed["task"] = guess_task([row[header.index(target)] for row in rows
                                         if header.index(target) < len(row)])[0]
        text = _text_column([c for c in header if c != target], header, rows)
        guessed["data.modality"] = "text" if text else "time_series" if task == "forecasting" else "tabular"
        guessed.update({k: v for k, v in (("data.target", target), ("data.text_column", text)) if v})
    modality, task = str(guessed.get("data.modality", "tabular")), task or guessed.get("task")
    counts = _counts(path, modality, guessed.get("data.target"))
    measured = {f"data.{k}": v for k, v in counts.items() if v}
    if task != "classification" or (measured.get("data.n_classes") or 2) < 2:
        measured.pop("data.n_classes", None)
    return measured, guessed


MAX_CLASSES = 20      # a whole-number target with more distinct values than this is taken as a quantity


def guess_task(values: Iterable[Any]) -> tuple[str, str]:
    """'classification' or 'regression' for target values (numbers, or their text as a CSV holds them), and why
    in a few words: regression for numbers with fractions or more than MAX_CLASSES distinct whole numbers."""
    present = [v for v in values if not (v is None or (isinstance(v, float) and math.isnan(v))
                                         or (isinstance(v, str) and not v.strip()))]
    try:
        numbers = {float(v) for v in present if not isinstance(v, bool)} if present else set()
    except (TypeError, ValueError):
        numbers = None
    if numbers is None or any(isinstance(v, bool) for v in present):
        return "classification", f"{len(set(present)):,} distinct labels"
    if any(math.isfinite(x) and x != int(x) for x in numbers):
        return "regression", f"{len(numbers):,} distinct numbers, not all whole"
    if len(numbers) > MAX_CLASSES:
        return "regression", f"{len(numbers):,} distinct whole numbers (more than {MAX_CLASSES})"
    return "classification", f"{len(numbers):,} distinct whole numbers"


def _head(path: Path, n: int = 200) -> tuple[list[str], list[list[str]]]:
    """The header and the first `n` rows of a CSV."""
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        return header, [row for _, row in zip(range(n), reader) if row]


def _text_column(candidates: list[str], header: list[str], rows: list[list[str]]) -> Optional[str]:
    """The column of free text: a conventional name, else one whose values are mostly sentences."""
    for name in _TEXT_NAMES:
        if name in candidates:
            return name
    for name in candidates:
        values = [row[header.index(name)] for row in rows if header.index(name) < len(row)]
        if values and sum(v.count(" ") >= 3 for v in values) >= len(values) / 2 \
                and sum(map(len, values)) / len(values) >= 30:
            return name
    return None
