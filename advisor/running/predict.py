"""`advisor predict`: load a run folder's model in a fresh process and predict on files, folders or CSVs.

:func:`predict` gives a :class:`Predictions`: per-item rows (what `advisor predict` prints), the table
`advisor predict -o` writes (the input's columns, or `path` for images, then `prediction` and one `proba_<class>`
column per class), and, when the input holds the run's target column, the held-out metrics of zoo.metrics on it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from zoo.data import check_data_path, names_text
from zoo.images import IMAGE_SUFFIXES, image_path_column


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _wrong_input(source: Path, meta: dict[str, Any], found: str) -> ValueError:
    """One line: what the run expects (its modality, the columns it reads) and what `source` holds instead."""
    modality, column = meta.get("modality"), meta.get("text_column")
    expects = {"image": "an image file, a folder of images, or a CSV with a column of image paths",
               "audio": "an audio file (.wav/.flac/.ogg), a folder of clips, or a CSV with a column of clip paths",
               "video": "a video file (.mp4/.avi/.webm/.gif/.mov/.mkv), a folder of clips, or a CSV with a column of "
                        "clip paths",
               "text": f"a CSV with the text in column {column!r} (or a .txt file, one text per line)" if column
               else "a CSV with a text column (or a .txt file, one text per line)"}.get(
        str(modality), f"a CSV or Parquet table of {modality} data")
    return ValueError(f"{source}: this run's model takes {modality} data: {expects}; {found}")


TABLE_SUFFIXES = (".csv", ".parquet", ".pq")
FILE_MODALITIES = ("image", "audio", "video")      # one file per item: read from paths, checked one by one


def _file_kind(meta: dict[str, Any]) -> tuple[tuple[str, ...], Any, str]:
    """(file suffixes, the path-column rule, a word) of an image, audio or video run."""
    if meta.get("modality") == "audio":
        from zoo.audio import AUDIO_SUFFIXES, audio_path_column

        return tuple(AUDIO_SUFFIXES), audio_path_column, "audio"
    if meta.get("modality") == "video":
        from zoo.video import VIDEO_SUFFIXES, video_path_column

        return tuple(VIDEO_SUFFIXES), video_path_column, "video"
    return tuple(IMAGE_SUFFIXES), image_path_column, "image"


def _file_inputs(meta: dict[str, Any], source: Path) -> list[str]:
    """The paths of an image, audio or video run's input: the files of a folder, one file, or a table's path column
    (relative paths under the table's folder); a table that names no such file is one line."""
    suffixes, path_column, word = _file_kind(meta)
    if source.is_dir():
        return sorted(str(p) for p in source.rglob("*") if p.suffix.lower() in suffixes)
    if source.suffix.lower() in suffixes:
        return [str(source)]
    if source.suffix.lower() not in TABLE_SUFFIXES:
        raise _wrong_input(source, meta, f"got a {source.suffix or 'suffix-less'} file")
    return _file_paths(meta, _read_table(source), source, source.parent)


def _file_paths(meta: dict[str, Any], df: Any, source: "Path | str", base: Path) -> list[str]:
    """The image (or clip) paths of a table's path column (relative ones under `base`); one line when it names
    none."""
    suffixes, path_column, word = _file_kind(meta)
    if df.empty:
        raise _wrong_input(source, meta, "it holds no rows")
    col = path_column(df, exclude=[meta["target"]] if meta.get("target") else ())
    if not any(Path(p).suffix.lower() in suffixes for p in df[col] if isinstance(p, str)):
        raise _wrong_input(source, meta, f"its column {str(col)!r} names no {word} files "
                                         f"(columns: {names_text(list(df.columns))})")
    return [str(p if Path(str(p)).is_absolute() else base / str(p)) for p in df[col]]


def read_inputs(meta: dict[str, Any], source: Path) -> tuple[list[str], Any]:
    """(names shown per item, model input) read from `source` for the saved model's modality (model.json `meta`)."""
    modality = meta.get("modality")
    if not source.exists():
        raise FileNotFoundError(f"{source}: no such file or folder")
    check_data_path(source)                  # a FIFO or a device is refused, not opened
    if modality in FILE_MODALITIES:
        paths = _file_inputs(meta, source)
        if not paths:
            raise ValueError(f"{source}: no {'images' if modality == 'image' else f'{modality} clips'} found")
        return paths, paths
    readable = TABLE_SUFFIXES + ((".txt",) if modality == "text" else ())
    if source.is_dir() or source.suffix.lower() not in readable:
        raise _wrong_input(source, meta, "got " + ("a folder" if source.is_dir() else f"a {source.suffix} file"))
    if source.suffix.lower() == ".txt":
        texts = [line.rstrip("\n") for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [t[:60] for t in texts], texts
    return table_inputs(meta, _read_table(source), source)


def _read_table(source: Path) -> Any:
    """The CSV or Parquet table at `source`; one line naming the file when it is not one."""
    import pandas as pd

    try:
        return pd.read_parquet(source) if source.suffix.lower() in (".parquet", ".pq") else pd.read_csv(source)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{source}: empty file, no table in it") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{source}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
                         "save the table as UTF-8 CSV") from None
    except (pd.errors.ParserError, ValueError) as exc:        # pyarrow's ArrowInvalid is a ValueError
        raise ValueError(f"{source}: cannot read as a {source.suffix.lstrip('.')} table "
                         f"({' '.join(str(exc).split())[:160]})") from None


def table_inputs(meta: dict[str, Any], df: Any, source: "Path | str" = "the table") -> tuple[list[str], Any]:
    """(names shown per row, model input) of a table (a DataFrame) for the saved model: the target column left
    out; for text, the text column's strings."""
    if meta.get("modality") in FILE_MODALITIES:
        paths = _file_paths(meta, df, source, Path.cwd())
        return paths, paths
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


def _load_run(run_dir: Path, trust: bool) -> tuple[dict[str, Any], Any]:
    """(model.json meta, the unpickled model) of a run folder."""
    import zoo

    meta = zoo.model_meta(run_dir) if (run_dir / "model.json").exists() else {}
    if not meta:
        raise FileNotFoundError(f"{run_dir}: not a run folder (no model.json); run `advisor train` first")
    if meta.get("task") == "generation":
        raise ValueError(f"{run_dir}: holds a generator ('{meta.get('model')}'), which predicts nothing; "
                         f"`advisor generate {run_dir} -n 64 -o samples.png` draws new images")
    return meta, zoo.load_model(run_dir, trust=trust)


@dataclass
class Predictions:
    """What a run's model said about one input: `names` and `predictions` of the items it read (`positions`:
    their rows in `table`, the input as read, when it is a table), `probabilities` (rows in `classes` order) for
    classifiers, `failed` images ({name: why}), and `scores` (zoo.metrics.evaluate) when the input held the
    run's target column (`target`)."""

    meta: dict[str, Any]
    names: list[str]
    predictions: Any
    probabilities: Any = None
    classes: list[Any] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    table: Any = None
    positions: list[int] = field(default_factory=list)
    target: Optional[str] = None
    scores: Optional[dict[str, Any]] = None
    explanations: Optional[list[Optional[list[dict[str, Any]]]]] = None   # --explain: top contributions per item
    saliency: Optional[list[Any]] = None           # --explain on images: a heat-map overlay (uint8 array) per item
    saliency_method: Optional[str] = None

    def write_saliency(self, folder: Path) -> list[Optional[str]]:
        """Write each image's heat map (original | overlay) as PNG into `folder` (published whole, atomically);
        returns each item's file path (None where past the time limit)."""
        from zoo.explain import png_bytes
        from zoo.io import publish_folder

        files = [None if m is None else f"{i:04d}_{Path(n).stem[:60]}.png"
                 for i, (n, m) in enumerate(zip(self.names, self.saliency or []))]

        def build(staging: Path) -> None:
            for name, overlay in zip(files, self.saliency or []):
                if name is not None:
                    (staging / name).write_bytes(png_bytes(overlay))

        publish_folder(folder, build)
        return [None if f is None else str(folder / f) for f in files]

    def rows(self) -> list[dict[str, Any]]:
        """One {"input", "prediction", "probabilities"} per item; unreadable images last, with "error"."""
        rows = []
        for i, name in enumerate(self.names):
            row: dict[str, Any] = {"input": name, "prediction": _plain(self.predictions[i])}
            if self.probabilities is not None:
                row["probabilities"] = {str(_plain(c)): float(p) for c, p in zip(self.classes, self.probabilities[i])}
            if self.explanations is not None:
                row["explanation"] = self.explanations[i]
            rows.append(row)
        return rows + [{"input": name, "prediction": None, "error": why} for name, why in self.failed.items()]

    def frame(self) -> Any:
        """The table `-o` writes: the input's columns (images: `path`), `prediction`, `proba_<class>` per class;
        unreadable images last, with an `error` column."""
        import pandas as pd

        image = self.meta.get("modality") in FILE_MODALITIES          # a file per item: its path
        if self.table is not None and not image:
            out = self.table.iloc[self.positions].reset_index(drop=True)
        else:
            out = pd.DataFrame({"path" if image else "text": self.names})
        added = {"prediction": [_plain(v) for v in self.predictions]}
        if self.probabilities is not None:
            added.update({f"proba_{_plain(c)}": self.probabilities[:, j] for j, c in enumerate(self.classes)})
        for k in range(max((len(e) for e in self.explanations or [] if e), default=0)):
            for part in ("feature", "contribution"):
                added[f"top{k + 1}_{part}"] = [e[k][part] if e and len(e) > k else None
                                               for e in self.explanations or []]
        for name, values in added.items():
            out[_free(name, out.columns)] = values
        if self.failed:
            unread = pd.DataFrame({out.columns[0]: list(self.failed), "error": list(self.failed.values())})
            out = pd.concat([out, unread], ignore_index=True)
        return out


def _free(name: str, taken: Any) -> str:
    """`name`, or `name_1`, `name_2` ... when the input already has a column of that name."""
    taken, candidate, i = {str(c) for c in taken}, name, 0
    while candidate in taken:
        i += 1
        candidate = f"{name}_{i}"
    return candidate


def _inputs(meta: dict[str, Any], source: Path) -> tuple[list[str], Any, Any]:
    """(names, model input, the input table or None) of `source`; a table is read once."""
    if source.exists() and source.is_file() and source.suffix.lower() in TABLE_SUFFIXES:
        check_data_path(source)
        if meta.get("modality") not in FILE_MODALITIES:      # clips and images: a table of their paths
            table = _read_table(source)
            names, X = table_inputs(meta, table, source)
            return names, X, table
        names, X = read_inputs(meta, source)
        return names, X, _read_table(source)
    names, X = read_inputs(meta, source)
    return names, X, None


def _warn(line: str) -> None:
    from zoo.terminal import terminal_safe

    print(terminal_safe(f"advisor: warning: {line}"), file=sys.stderr)


def predict(run_dir: Path, source: Path, *, trust: bool = False,
            warn: Optional[Callable[[str], None]] = None, explain: bool = False) -> Predictions:
    """The run's model on `source` (an image, an image folder, a CSV / Parquet table or a .txt file), scored
    when the input holds the run's target column.

    The model is unpickled only from a folder this user's `advisor train` signed, unchanged, or with
    `trust=True` (else zoo.trust.UntrustedModelError, listing the files). A value the model cannot read (text
    in a column numeric at training) is one `warn` line per row (default: stderr) and is treated as missing.
    ``explain``: each row's top SHAP contributions towards its prediction (zoo.attributions; table models), or
    each image's heat map (zoo.explain.saliency_maps; written by :meth:`Predictions.write_saliency`).
    """
    meta, model = _load_run(run_dir, trust)
    background = _explain_background(run_dir, meta, model) if explain else None
    names, X, table = _inputs(meta, source)
    if meta.get("modality") in ("tabular", "time_series"):
        from zoo.columns import input_problems

        for line in input_problems(model, X, names):
            (warn or _warn)(line)
    failed: dict[str, str] = {}
    positions = list(range(len(names)))
    if meta.get("modality") in FILE_MODALITIES:   # truncated, fake or oversized files: reported, not fatal
        import zoo

        problem = {"image": zoo.image_problem, "audio": zoo.audio_problem,
                   "video": zoo.video_problem}[meta["modality"]]
        failed = {n: why for n in names if (why := problem(Path(n)))}
        if len(failed) == len(names):
            first = next(iter(failed.items()))
            what = "image(s)" if meta.get("modality") == "image" else "clip(s)"
            raise ValueError(f"{source}: none of the {len(names):,} {what} can be read ({first[0]}: {first[1]})")
        positions = [i for i, n in enumerate(names) if n not in failed]
        names = X = [names[i] for i in positions]
    _check_kind(meta, X, source)
    has_proba = hasattr(model, "predict_proba") and meta.get("classes")
    try:
        predictions = model.predict(X)
    except ValueError as exc:                       # e.g. a table without the columns the model was fit on
        if meta.get("modality") != "tabular":
            raise
        raise _wrong_input(source, meta, " ".join(str(exc).split())) from None
    result = Predictions(meta=meta, names=names, predictions=predictions,
                         probabilities=model.predict_proba(X) if has_proba else None,
                         classes=list(getattr(model, "classes_", meta.get("classes") or [])) if has_proba else [],
                         failed=failed, table=table, positions=positions)
    if explain and meta.get("modality") == "image":
        result.saliency, result.saliency_method = _saliency(model, X, warn or _warn)
    elif explain:
        result.explanations = _explanations(model, X, predictions, meta, warn or _warn, background)
    target = meta.get("target")
    if table is not None and target in table.columns and meta.get("task") in SCORED_TASKS:
        result.target, result.scores = target, _score(meta, model, X, table[target].iloc[positions], source)
    return result


SCORED_TASKS = ("classification", "regression", "anomaly_detection")


def _explain_background(run_dir: Path, meta: dict[str, Any], model: Any) -> Any:
    """--explain, checked before any work: a table run's SHAP background (None for tree models without one);
    image runs need none; other kinds are one line."""
    from zoo.attributions import UnsupportedExplanation, check_supported, load_background

    if meta.get("modality") == "image":
        if meta.get("task") != "classification" or not hasattr(model, "predict_proba"):
            raise UnsupportedExplanation("--explain on images draws class heat maps: classification runs only")
        return None
    if meta.get("modality") != "tabular":
        raise UnsupportedExplanation(f"--explain works on table and image runs; this {meta.get('modality')} run's "
                                     "explanations are in its report (`advisor report RUN`)")
    background = load_background(run_dir)
    check_supported(model, background)
    return background


SALIENCY_SECONDS = 30.0     # --explain on images: maps after this are skipped (and counted)


def _saliency(model: Any, X: Any, warn: Callable[[str], None]) -> tuple[list[Any], str]:
    """A heat map per image (zoo.explain.saliency_maps: Grad-CAM for fine-tuned CNNs, else occlusion)."""
    from zoo.explain import saliency_maps

    maps, method, _ = saliency_maps(model, X, list(range(len(X))), seconds=SALIENCY_SECONDS)
    if len(maps) < len(X):
        warn(f"--explain: {len(X) - len(maps):,} image(s) past the {SALIENCY_SECONDS:.0f} s limit got no heat map")
    return [*maps, *[None] * (len(X) - len(maps))], method


def _explanations(model: Any, X: Any, predictions: Any, meta: dict[str, Any], warn: Callable[[str], None],
                  background: Any = None) -> list[Optional[list[dict[str, Any]]]]:
    """Each row's top contributions (None for rows past the time limit, said in one line)."""
    from zoo.attributions import explain_rows

    classifier = meta.get("task") == "classification"
    found = explain_rows(model, X, list(predictions) if classifier else None, background=background)
    if found.skipped:
        warn(f"--explain: {found.skipped:,} row(s) past the time limit were not explained")
    shown = [found.top(i) for i in range(len(found.contributions))]
    return shown + [None] * found.skipped


def _check_kind(meta: dict[str, Any], X: Any, source: Path) -> None:
    """A table model given an empty table: one line, not the estimator's traceback."""
    if meta.get("modality") in ("tabular", "time_series") and hasattr(X, "columns") and len(X) == 0:
        raise _wrong_input(source, meta, "it holds no rows")


def _score(meta: dict[str, Any], model: Any, X: Any, y: Any, source: Path) -> dict[str, Any]:
    """zoo.metrics.evaluate on the rows whose target is filled, labels read as training reads them."""
    import numpy as np

    from zoo.data import Dataset
    from zoo.metrics import evaluate

    task = meta["task"]
    keep = np.flatnonzero(y.notna().to_numpy())
    if not len(keep):
        raise ValueError(f"{source}: the target column {meta['target']!r} is empty; drop it to predict only")
    values = y.iloc[keep]
    if task == "classification" and values.dtype.kind == "f" and (values % 1 == 0).all():
        values = values.astype(np.int64)                # 1.0, 2.0: integer labels written as floats
    data = Dataset(modality=str(meta.get("modality")), X=X, y=values.to_numpy(), source=str(source),
                   target=meta["target"]).subset(keep)
    return evaluate(model, data, task)


def predict_items(run_dir: Path, source: Path, *, trust: bool = False,
                  warn: Optional[Callable[[str], None]] = None) -> list[dict[str, Any]]:
    """One {"input", "prediction", "probabilities"} per item, labels as in the training data; an image that
    cannot be read gets {"input", "prediction": None, "error"} (listed last). See :func:`predict`."""
    return predict(run_dir, source, trust=trust, warn=warn).rows()


OUTPUT_SUFFIXES = (".csv", ".parquet")


def check_output(out: Path, run_dir: Path, source: Path) -> None:
    """Refuse, in one line, an output path `-o` cannot take: another format, a missing folder, a folder, the
    input itself, or anything inside the run folder (its files are the run's own)."""
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ValueError(f"{out}: predictions are written as {' or '.join(OUTPUT_SUFFIXES)}; "
                         f"got {out.suffix or 'no suffix'!r}")
    if not out.parent.is_dir():
        raise ValueError(f"{out}: the folder {out.parent} does not exist")
    if out.is_dir():
        raise ValueError(f"{out}: is a folder; give a file name ending in .csv")
    resolved = out.resolve()
    if source.exists() and resolved == source.resolve():
        raise ValueError(f"{out}: is the input; write the predictions to another file")
    if resolved.is_relative_to(run_dir.resolve()):
        raise ValueError(f"{out}: is inside the run folder {run_dir} (it holds what `advisor train` wrote); "
                         "write the predictions elsewhere")


def write_predictions(frame: Any, out: Path) -> None:
    """Write the predictions table atomically (temp file + rename): CSV, or Parquet for `.parquet`."""
    from zoo.io import write_atomic

    if out.suffix.lower() == ".parquet":
        write_atomic(out, lambda handle: frame.to_parquet(handle, index=False))
    else:
        write_atomic(out, lambda handle: handle.write(frame.to_csv(index=False).encode("utf-8")))
