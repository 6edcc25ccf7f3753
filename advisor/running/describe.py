"""`advisor.describe`: a project descriptor built from the data itself, with each measured fact said in a line.

The data may be a pandas DataFrame, arrays `(X, y)`, a table file (CSV / Parquet / .npz) or an image folder.
Modality, task (classification or regression, from the target), counts and classes are measured; every other
field takes its schema default unless given as a keyword (`interpretability="required"`, `time_budget=60`).
A table in memory is checked and kept as a zoo Dataset, so training needs no file written.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from advisor.deciding.schema import DescriptorError, ProjectDescriptor, parse_descriptor

__all__ = ["Described", "describe", "describe_data"]

_SOURCE = "advisor.describe"
_TABLE_SUFFIXES = (".csv", ".tsv", ".txt")                # read as zoo.data reads them
_TARGET_NAMES = ("target", "label", "class", "y")          # zoo.data's defaults for a table's target
_TEXT_NAMES = ("text", "sentence", "document", "message")  # and for its text column
_SECTIONS = {section: tuple(ProjectDescriptor.model_fields[section].annotation.model_fields)  # type: ignore[union-attr]
             for section in ("data", "resources", "needs")}
_ARGUMENTS = ("path", "target")       # given as describe's own arguments, not as needs


@dataclass(frozen=True)
class Described:
    """A descriptor built from data: what was measured (one line each), and the data itself when in memory."""

    descriptor: ProjectDescriptor
    measured: list[str]
    dataset: Any = None      # a zoo Dataset (tables in memory); None: training loads data.path


def describe(data: Any, target: Any = None, **needs: Any) -> ProjectDescriptor:
    """A ProjectDescriptor for `data`: a DataFrame, `(X, y)`, `X` with `target=y`, a table file or an image folder.

    `target`: the target column's name, or the labels themselves. `**needs`: any descriptor field by its name
    (`interpretability`, `inference`, `accelerator`, `task`, `modality`, `name`, ...) or `time_budget` in
    seconds; an unknown name or a bad value raises DescriptorError naming the field."""
    return describe_data(data, target, **needs).descriptor


def describe_data(data: Any, target: Any = None, **needs: Any) -> Described:
    """`describe`, also returning the measured facts and the in-memory Dataset (see :class:`Described`)."""
    given = _sections(needs)
    if isinstance(data, (str, Path)):
        return _from_path(Path(data), target, given)
    frame, target_name, source = _as_frame(data, target)
    return _from_frame(frame, target_name, source, given)


def _sections(needs: dict[str, Any]) -> dict[str, Any]:
    """The keywords placed in their descriptor sections; an unknown one is a DescriptorError naming it."""
    out: dict[str, Any] = {"data": {}, "resources": {}, "needs": {}}
    for key, value in needs.items():
        if key == "time_budget":
            if value is not None:
                out["resources"]["time_budget_minutes"] = _seconds(value) / 60
        elif key in ("name", "task"):
            out[key] = value
        elif key in _ARGUMENTS:
            raise DescriptorError(f"{_SOURCE}: data.{key}: give it as the data argument"
                                  + (" or target=" if key == "target" else ""))
        else:
            section = next((s for s, names in _SECTIONS.items() if key in names), None)
            if section is None:
                allowed = ["name", "task", "time_budget", *(n for names in _SECTIONS.values() for n in names
                                                             if n not in _ARGUMENTS)]
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise DescriptorError(f"{_SOURCE}: {key}: unknown need{hint} (allowed: {', '.join(allowed)})")
            out[section][key] = value
    return out


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise DescriptorError(f"{_SOURCE}: time_budget: got {value!r}; must be a number of seconds > 0")
    return float(value)


def _as_frame(data: Any, target: Any) -> tuple[Any, Optional[str], str]:
    """(a DataFrame holding the features and the target, the target's column name, how to name the source)."""
    import numpy as np
    import pandas as pd

    if isinstance(data, tuple) and len(data) == 2 and target is None:
        data, target = data
    if isinstance(data, pd.DataFrame) and (target is None or isinstance(target, str)):
        return data, target, "DataFrame"
    if target is None or isinstance(target, str):
        raise DescriptorError(f"{_SOURCE}: data: expected a DataFrame, (X, y), a file or a folder; got "
                              f"{type(data).__name__}" + (" without its labels (pass target=y)" if target is None
                                                          else f" with target={target!r}"))
    X = data if isinstance(data, pd.DataFrame) else np.asarray(data)
    y = pd.Series(target).reset_index(drop=True)
    if len(X) != len(y):
        raise DescriptorError(f"{_SOURCE}: data: X has {len(X):,} rows but y has {len(y):,}")
    if isinstance(X, np.ndarray) and X.ndim == 1 and X.dtype.kind in "OUS":
        frame = pd.DataFrame({"text": X.astype(str)})
    elif isinstance(X, np.ndarray) and X.ndim == 2:
        frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])     # as zoo loads an .npz
    elif isinstance(X, pd.DataFrame):
        frame = X.reset_index(drop=True).copy()
    elif X.ndim in (3, 4):
        raise DescriptorError(f"{_SOURCE}: data: images of shape {X.shape} are read from files; save them with "
                              "numpy.savez(path, X=X, y=y) or as a folder, and pass the path")
    else:
        raise DescriptorError(f"{_SOURCE}: data: X of shape {X.shape}; expected rows of features (2-D) or texts")
    name = str(y.name) if y.name is not None and y.name not in frame.columns else "target"
    while name in frame.columns:
        name = f"_{name}"
    frame[name] = y.to_numpy()
    return frame, name, "DataFrame" if isinstance(X, pd.DataFrame) else "arrays"


def _target_column(frame: Any, target: Optional[str], source: str) -> Optional[str]:
    if target is not None:
        if target not in frame.columns:
            raise DescriptorError(f"{_SOURCE}: data.target: column {target!r} not in the {source}; columns are: "
                                  f"{', '.join(map(str, frame.columns))}")
        return target
    return next((n for n in _TARGET_NAMES if n in frame.columns), None)


def _free_text(col: Any) -> bool:
    """A column of sentences (five words or more in the median row), not of categories."""
    import pandas as pd

    if not (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)):
        return False
    words = col.dropna().astype(str).str.split().str.len()
    return len(words) > 0 and float(words.median()) >= 5


def _task_of(y: Any) -> tuple[str, str]:
    """The task a target column implies (advisor.running.measure.guess_task; text, categories and booleans are
    labels)."""
    import pandas as pd

    from advisor.running.measure import guess_task

    values = pd.Series(y).dropna()
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return "classification", f"{values.nunique():,} distinct labels"
    return guess_task(values.tolist())


def _image_paths(col: Any) -> bool:
    """A column of image file names (most values end in .png, .jpg, ...)."""
    from zoo.images import IMAGE_SUFFIXES

    values = col.dropna().astype(str).str.lower()
    return len(values) > 0 and float(values.map(lambda v: Path(v).suffix in IMAGE_SUFFIXES).mean()) > 0.5


def _guesses(frame: Any, target: Optional[str], given: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Modality, task and text column measured from a table where `given` leaves them out, each said."""
    data, notes = dict(given["data"]), []
    task = given.get("task")
    if task is None and target is not None:
        task, why = _task_of(frame[target])
        notes.append(f"task = {task} from the target {target!r} ({why}); task=... overrides")
    if task is None:
        from zoo.data import names_text

        raise DescriptorError(f"{_SOURCE}: data.target: say which column is the target (target=...); columns "
                              f"are: {names_text(list(frame.columns))}")
    if "modality" not in data:
        features = [c for c in frame.columns if c != target]
        texts = [c for c in features if c in _TEXT_NAMES or _free_text(frame[c])]
        if str(task) == "forecasting":
            data["modality"] = "time_series"
        elif any(_image_paths(frame[c]) for c in features if frame[c].dtype == object):
            data["modality"] = "image"
            notes.append("data.modality = image: a table of image paths")
        elif data.get("text_column") or (len(features) == 1 and texts):
            data["modality"] = "text"
            data.setdefault("text_column", texts[0] if texts else None)
            notes.append(f"data.modality = text: column {data['text_column']!r} holds the text")
        else:
            data["modality"] = "tabular"
    return {**given, "task": task, "data": data}, notes


def _build(raw: dict[str, Any]) -> ProjectDescriptor:
    raw = {k: v for k, v in raw.items() if v is not None}
    raw["data"] = {k: v for k, v in raw["data"].items() if v is not None}
    return parse_descriptor(raw, source=_SOURCE)


def _from_frame(frame: Any, target: Optional[str], source: str, given: dict[str, Any]) -> Described:
    """A table in memory: measured, checked as zoo.data checks a file's table, and kept as a zoo Dataset."""
    import zoo

    target = _target_column(frame, target, source)
    raw, notes = _guesses(frame, target, given)
    raw.setdefault("name", source.lower())
    raw["data"] = {**raw["data"], "target": target, "n_samples": raw["data"].get("n_samples") or len(frame)}
    desc = _build(raw)                                  # a bad need fails here, before any data is checked
    data = desc.data
    dataset = zoo.table_dataset(frame, data.modality.value, task=desc.task.value, target=data.target,
                                text_column=data.text_column, fill=data.fill.value, source=source)
    found = {"n_samples": len(dataset)}
    if desc.task.value == "classification":
        found["n_classes"] = len(dataset.classes)
    if data.modality.value == "tabular":
        found["n_features"] = int(dataset.X.shape[1])
    updates = {k: v for k, v in found.items() if k not in given["data"]}
    desc = desc.model_copy(update={"data": data.model_copy(update=updates)})
    notes += [f"data.{k} = {v:,} measured from the {source}" for k, v in updates.items()]
    return Described(desc, notes, dataset)


def _from_path(path: Path, target: Any, given: dict[str, Any]) -> Described:
    """A file or folder: measured as `advisor recommend --data` measures it; training loads it from data.path."""
    from advisor.running.measure import measure

    if target is not None and not isinstance(target, str):
        raise DescriptorError(f"{_SOURCE}: data.target: with a file, name the target column (target='...')")
    path = path.resolve()
    if not path.exists():
        raise DescriptorError(f"{_SOURCE}: data.path: {path}: no such file or folder")
    raw, notes = dict(given), []
    raw.setdefault("name", path.stem or "data")
    if path.is_dir():
        raw.setdefault("task", "classification")
        raw["data"] = {"modality": "image", **raw["data"]}
        notes.append("data.modality = image: a folder of class sub-folders")
    else:
        frame = _read(path)
        target = _target_column(frame, target, path.name)
        raw, notes = _guesses(frame, target, raw)
        if path.suffix.lower() in (".parquet", ".pq"):          # measure() counts a CSV's rows, not these
            raw["data"] = {"n_samples": len(frame), **raw["data"]}
            notes.append(f"data.n_samples = {len(frame):,} measured from {path.name}")
        if path.suffix.lower() != ".npz":
            raw["data"] = {**raw["data"], "target": target}
        elif frame.attrs["images"]:
            raw["data"]["modality"] = given["data"].get("modality", "image")
    raw["data"] = {**raw["data"], "path": str(path)}
    desc, measured = measure(_build(raw))
    return Described(desc, notes + measured)


def _read(path: Path) -> Any:
    """The table at `path` (an .npz: its y beside one placeholder column), for measuring only."""
    import numpy as np
    import pandas as pd

    import zoo

    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as arrays:
                if "y" not in arrays or "X" not in arrays:
                    raise zoo.DataError(f"{path}: an .npz dataset needs arrays 'X' and 'y'")
                frame = pd.DataFrame({"y": arrays["y"]})
                frame.attrs["images"] = arrays["X"].ndim in (3, 4)
                return frame
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in _TABLE_SUFFIXES:
            return pd.read_csv(path)
    except zoo.DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the file holds; the loader names it the same way
        raise zoo.DataError(f"{path}: cannot read as a table ({(str(exc).splitlines() or [type(exc).__name__])[0]})"
                            ) from None
    raise DescriptorError(f"{_SOURCE}: data.path: {path}: expected a CSV, Parquet or .npz file, or an image folder")
