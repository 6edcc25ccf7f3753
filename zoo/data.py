"""Data loading and splitting: CSV / Parquet tables, text CSVs, image folders, CSVs of image paths, .npz arrays.

Every loader returns a `Dataset` and refuses garbage with one clear line (`DataError`): a missing path or
column, a single class, a class too small to split, unreadable images beyond a small share, and so on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
MAX_BAD_IMAGE_SHARE = 0.1  # more unreadable images than this is an error, not a skip
MIN_PER_CLASS = 2


class DataError(ValueError):
    """The data cannot be used as given; the message is one line saying what and how to fix it."""


@dataclass
class Dataset:
    """Inputs `X` and targets `y` of one modality, with where they came from."""

    modality: str
    X: Any
    y: Optional[np.ndarray]
    source: str
    target: Optional[str] = None
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.y) if self.y is not None else len(self.X)

    @property
    def classes(self) -> list[Any]:
        return sorted(set(self.y.tolist())) if self.y is not None else []

    def subset(self, index: np.ndarray) -> "Dataset":
        """Rows `index` of this dataset (keeps order)."""
        X = self.X
        if hasattr(X, "iloc"):
            X = X.iloc[index].reset_index(drop=True)
        elif isinstance(X, np.ndarray):
            X = X[index]
        elif X is not None:
            X = [X[i] for i in index]
        return replace(self, X=X, y=None if self.y is None else self.y[index])


def _read_table(path: Path) -> Any:
    import pandas as pd

    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        try:
            return pd.read_csv(path)
        except UnicodeDecodeError:
            return pd.read_csv(path, encoding="latin-1")
    except (pd.errors.EmptyDataError, pd.errors.ParserError, ValueError, OSError) as exc:
        raise DataError(f"{path}: cannot read as a table ({str(exc).splitlines()[0]})") from None


def _column(df: Any, wanted: Optional[str], defaults: Sequence[str], what: str, path: Path) -> str:
    if wanted:
        if wanted not in df.columns:
            raise DataError(f"{path}: {what} column {wanted!r} not found; columns are: {', '.join(map(str, df.columns))}")
        return wanted
    for name in defaults:
        if name in df.columns:
            return name
    raise DataError(f"{path}: say which column is the {what} (data.{'target' if what == 'target' else 'text_column'}); "
                    f"columns are: {', '.join(map(str, df.columns))}")


def _labels(values: Any, task: str, source: str) -> np.ndarray:
    """Class labels as a clean array; refuse continuous floats, NaN labels, single classes, singleton classes."""
    import pandas as pd

    series = pd.Series(values)
    if series.isna().any():
        raise DataError(f"{source}: {int(series.isna().sum())} rows have no label; drop or fill them first")
    if task != "classification":
        try:
            return series.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError(f"{source}: target must be numeric for {task}; got values like {series.iloc[0]!r}") from None
    if pd.api.types.is_float_dtype(series):
        if (series % 1 == 0).all():
            series = series.astype(np.int64)
        else:
            raise DataError(f"{source}: the target holds {series.nunique()} distinct non-integer numbers; "
                            "that is a regression target (set task: regression), not class labels")
    counts = series.value_counts()
    if len(counts) < 2:
        raise DataError(f"{source}: only one class ({counts.index[0]!r}); classification needs at least 2")
    small = counts[counts < MIN_PER_CLASS]
    if len(small):
        raise DataError(f"{source}: class {small.index[0]!r} has {int(small.iloc[0])} example(s); "
                        f"need at least {MIN_PER_CLASS} per class to hold some out for testing")
    return series.to_numpy()


def _readable_image(path: Path) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.verify()
        return True
    except Exception:  # noqa: BLE001 - any decoder failure (truncated, not an image, bomb) means unusable
        return False


def _check_images(paths: list[Path], labels: list[Any], source: str) -> tuple[list[str], list[Any], list[str]]:
    good, good_labels, bad = [], [], []
    for p, label in zip(paths, labels):
        if _readable_image(p):
            good.append(str(p))
            good_labels.append(label)
        else:
            bad.append(str(p))
    if not good:
        raise DataError(f"{source}: no readable images found")
    if len(bad) > MAX_BAD_IMAGE_SHARE * (len(good) + len(bad)):
        raise DataError(f"{source}: {len(bad)} of {len(good) + len(bad)} images cannot be read "
                        f"(e.g. {bad[0]}); fix or remove them")
    return good, good_labels, bad


def _image_folder(root: Path, task: str) -> Dataset:
    paths, labels = [], []
    classes = sorted(d for d in os.listdir(root) if (root / d).is_dir() and not d.startswith("."))
    if not classes:
        raise DataError(f"{root}: expected one sub-folder per class (ImageFolder layout), found none")
    for cls in classes:
        for dirpath, _, files in os.walk(root / cls, followlinks=False):
            for name in sorted(files):
                if Path(name).suffix.lower() in IMAGE_SUFFIXES:
                    paths.append(Path(dirpath) / name)
                    labels.append(cls)
    if not paths:
        raise DataError(f"{root}: no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) in the class folders")
    good, good_labels, bad = _check_images(paths, labels, str(root))
    y = _labels(good_labels, task, str(root))
    notes = [f"skipped {len(bad)} unreadable image(s)"] if bad else []
    return Dataset("image", good, y, str(root), skipped=bad, notes=notes)


def _image_csv(path: Path, target: Optional[str], task: str) -> Dataset:
    df = _read_table(path)
    col = _column(df, None, ("path", "image", "file", "filename"), "image path", path)
    tgt = _column(df, target, ("label", "target", "class"), "target", path)
    paths = [(path.parent / str(p)) if not Path(str(p)).is_absolute() else Path(str(p)) for p in df[col]]
    good, good_labels, bad = _check_images(paths, list(df[tgt]), str(path))
    notes = [f"skipped {len(bad)} unreadable image(s)"] if bad else []
    return Dataset("image", good, _labels(good_labels, task, str(path)), str(path), target=tgt, skipped=bad,
                   notes=notes)


def _npz(path: Path, task: str) -> Dataset:
    with np.load(path, allow_pickle=False) as data:
        if "X" not in data or "y" not in data:
            raise DataError(f"{path}: an .npz dataset needs arrays 'X' and 'y' (and optionally 'classes')")
        X, y = data["X"], data["y"]
        classes = data["classes"] if "classes" in data else None
    if classes is not None and np.issubdtype(y.dtype, np.integer):
        y = np.asarray(classes)[y]
    modality = "image" if X.ndim in (3, 4) else "tabular"
    if modality == "tabular":
        import pandas as pd
        X = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    return Dataset(modality, X, _labels(y, task, str(path)), str(path))


def load_dataset(path: "str | Path", modality: str, *, task: str = "classification", target: Optional[str] = None,
                 text_column: Optional[str] = None) -> Dataset:
    """Load the data at `path` for `modality` and `task`; raise DataError with one line if it is unusable."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: data path does not exist")
    if path.is_dir():
        if modality != "image":
            raise DataError(f"{path}: is a folder; {modality} data must be a CSV or Parquet file")
        return _image_folder(path, task)
    if path.stat().st_size == 0:
        raise DataError(f"{path}: file is empty")
    if path.suffix.lower() == ".npz":
        return _npz(path, task)
    if modality == "image":
        return _image_csv(path, target, task)
    df = _read_table(path)
    if len(df) == 0:
        raise DataError(f"{path}: has a header but no rows")
    if modality == "text":
        text_col = _column(df, text_column, ("text", "sentence", "document", "message"), "text", path)
        tgt = _column(df, target, ("label", "target", "class"), "target", path)
        return Dataset("text", df[text_col].fillna("").astype(str).tolist(), _labels(df[tgt], task, str(path)),
                       str(path), target=tgt)
    if modality == "time_series":
        tgt = _column(df, target, ("value", "target", "y"), "target", path)
        dates = [c for c in df.columns if c != tgt and _looks_like_dates(df[c])]
        X = _to_datetime(df[dates[0]]) if dates else None
        return Dataset("time_series", X, _labels(df[tgt], "forecasting", str(path)), str(path), target=tgt)
    if modality != "tabular":
        raise DataError(f"{path}: the zoo does not load {modality} data yet")
    if task == "anomaly_detection":
        tgt = target if target in df.columns else None
        y = None if tgt is None else df[tgt].to_numpy()
        return Dataset("tabular", df.drop(columns=[tgt]) if tgt else df, y, str(path), target=tgt)
    tgt = _column(df, target, ("target", "label", "class", "y"), "target", path)
    X = df.drop(columns=[tgt])
    if X.shape[1] == 0:
        raise DataError(f"{path}: no feature columns besides the target {tgt!r}")
    all_nan = [c for c in X.columns if X[c].isna().all()]
    if all_nan:
        X = X.drop(columns=all_nan)
    ds = Dataset("tabular", X, _labels(df[tgt], task, str(path)), str(path), target=tgt)
    if all_nan:
        ds.notes.append(f"dropped {len(all_nan)} all-empty column(s): {', '.join(map(str, all_nan))}")
    return ds


def _looks_like_dates(col: Any) -> bool:
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(col):
        return True
    if not (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)):
        return False
    return _to_datetime(col.head(20)).notna().all()


def _to_datetime(col: Any) -> Any:
    import pandas as pd
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.to_datetime(col, errors="coerce")


def split_dataset(ds: Dataset, task: str, *, test_size: float = 0.2, seed: int = 0) -> tuple[Dataset, Dataset]:
    """Hold out a test split: stratified for classification, the last points for forecasting, random otherwise."""
    n = len(ds)
    n_test = max(1, int(round(n * test_size)))
    if task == "forecasting":
        cut = n - n_test
        return ds.subset(np.arange(cut)), ds.subset(np.arange(cut, n))
    from sklearn.model_selection import train_test_split

    stratify = ds.y if task == "classification" else None
    if stratify is not None and n_test < len(ds.classes):
        n_test = len(ds.classes)
    train_idx, test_idx = train_test_split(np.arange(n), test_size=n_test, random_state=seed, stratify=stratify)
    return ds.subset(np.sort(train_idx)), ds.subset(np.sort(test_idx))
