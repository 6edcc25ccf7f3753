"""`advisor predict`: load a run folder's model in a fresh process and predict on files, folders or CSVs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo.data import check_data_path, names_text
from zoo.images import IMAGE_SUFFIXES, image_path_column


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _wrong_input(source: Path, meta: dict[str, Any], found: str) -> ValueError:
    """One line: what the run expects (its modality, the columns it reads) and what `source` holds instead."""
    modality, column = meta.get("modality"), meta.get("text_column")
    expects = {"image": "an image file, a folder of images, or a CSV with a column of image paths",
               "audio": "an audio file (.wav/.flac/.ogg), a folder of clips, or a CSV with a column of clip paths",
               "text": f"a CSV with the text in column {column!r} (or a .txt file, one text per line)" if column
               else "a CSV with a text column (or a .txt file, one text per line)"}.get(
        str(modality), f"a CSV or Parquet table of {modality} data")
    return ValueError(f"{source}: this run's model takes {modality} data: {expects}; {found}")


def _image_inputs(meta: dict[str, Any], source: Path) -> list[str]:
    if source.is_dir():
        return sorted(str(p) for p in source.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if source.suffix.lower() != ".csv":
        return [str(source)]
    import pandas as pd
    df = pd.read_csv(source)
    col = image_path_column(df, exclude=[meta["target"]] if meta.get("target") else ())
    if not any(Path(str(p)).suffix.lower() in IMAGE_SUFFIXES for p in df[col]):
        raise _wrong_input(source, meta, f"its column {str(col)!r} names no image files (columns: {names_text(list(df.columns))})")
    return [str(p if Path(str(p)).is_absolute() else source.parent / str(p)) for p in df[col]]


def _audio_inputs(meta: dict[str, Any], source: Path) -> list[str]:
    from zoo.audio import AUDIO_SUFFIXES, audio_path_column

    if source.is_dir():
        return sorted(str(p) for p in source.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
    if source.suffix.lower() != ".csv":
        return [str(source)]
    import pandas as pd
    df = pd.read_csv(source)
    col = audio_path_column(df, exclude=[meta["target"]] if meta.get("target") else ())
    return [str(p if Path(str(p)).is_absolute() else source.parent / str(p)) for p in df[col]]


def read_inputs(meta: dict[str, Any], source: Path) -> tuple[list[str], Any]:
    """(names shown per item, model input) read from `source` for the saved model's modality (model.json `meta`)."""
    modality = meta.get("modality")
    if not source.exists():
        raise FileNotFoundError(f"{source}: no such file or folder")
    check_data_path(source)                  # a FIFO or a device is refused, not opened
    if modality == "audio":
        paths = _audio_inputs(meta, source)
        if not paths:
            raise ValueError(f"{source}: no audio clips found")
        return paths, paths
    if modality == "image":
        paths = _image_inputs(meta, source)
        if not paths:
            raise ValueError(f"{source}: no images found")
        return paths, paths
    if source.is_dir() or source.suffix.lower() not in (".csv", ".parquet", ".pq", ".txt"):
        raise _wrong_input(source, meta, "got " + ("a folder" if source.is_dir() else f"a {source.suffix} file"))
    import pandas as pd
    if source.suffix.lower() == ".txt":
        texts = [line.rstrip("\n") for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [t[:60] for t in texts], texts
    return table_inputs(meta, pd.read_parquet(source) if source.suffix.lower() in (".parquet", ".pq")
                        else pd.read_csv(source), source)


def table_inputs(meta: dict[str, Any], df: Any, source: "Path | str" = "the table") -> tuple[list[str], Any]:
    """(names shown per row, model input) of a table (a DataFrame) for the saved model: the target column left
    out; for text, the text column's strings."""
    if meta.get("target") in df.columns:
        df = df.drop(columns=[meta["target"]])
    if meta.get("modality") == "text":
        col = meta.get("text_column") or next((c for c in ("text", "sentence", "document", "message")
                                                if c in df.columns), df.columns[0])
        if col not in df.columns:
            raise _wrong_input(source, meta, f"its columns are {names_text(list(df.columns))}")
        texts = df[col].fillna("").astype(str).tolist()
        return [t[:60] for t in texts], texts
    return [f"row {i}" for i in range(len(df))], df


def predict_items(run_dir: Path, source: Path, *, trust: bool = False) -> list[dict[str, Any]]:
    """One {"input", "prediction", "probabilities"} per item, labels as in the training data; an image that
    cannot be read gets {"input", "prediction": None, "error"} (listed last).

    The model is unpickled only from a folder this user's `advisor train` signed, unchanged, or with
    `trust=True` (else zoo.trust.UntrustedModelError, listing the files).
    """
    import zoo

    meta = zoo.model_meta(run_dir) if (run_dir / "model.json").exists() else {}
    if not meta:
        raise FileNotFoundError(f"{run_dir}: not a run folder (no model.json); run `advisor train` first")
    model = zoo.load_model(run_dir, trust=trust)
    names, X = read_inputs(meta, source)
    failed: dict[str, str] = {}
    if meta.get("modality") in ("image", "audio"):   # truncated, fake or oversized files: reported, not fatal
        problem = zoo.image_problem if meta.get("modality") == "image" else zoo.audio_problem
        failed = {n: why for n in names if (why := problem(Path(n)))}
        if len(failed) == len(names):
            first = next(iter(failed.items()))
            what = "image(s)" if meta.get("modality") == "image" else "clip(s)"
            raise ValueError(f"{source}: none of the {len(names):,} {what} can be read ({first[0]}: {first[1]})")
        names = X = [n for n in names if n not in failed]
    predictions = model.predict(X)
    probabilities = model.predict_proba(X) if hasattr(model, "predict_proba") and meta.get("classes") else None
    rows = []
    for i, name in enumerate(names):
        row: dict[str, Any] = {"input": name, "prediction": _plain(predictions[i])}
        if probabilities is not None:
            row["probabilities"] = {str(_plain(c)): float(p) for c, p in zip(model.classes_, probabilities[i])}
        rows.append(row)
    rows += [{"input": name, "prediction": None, "error": why} for name, why in failed.items()]
    return rows
