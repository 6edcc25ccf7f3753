"""Data loading and splitting: CSV / Parquet tables, text CSVs, image folders, CSVs of image paths, .npz arrays,
folders or CSVs of audio and video clips.

Every loader returns a `Dataset` and refuses garbage with one clear line (`DataError`): a missing path or
column, a single class, a class too small to split, unreadable images beyond a small share, and so on.
"""

from __future__ import annotations

import os
import stat
import warnings
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from zoo.images import IMAGE_SUFFIXES, TOO_LARGE, image_path_column, loops_back, too_large
from zoo.io import UnreadableFile, check_readable, memory_bytes

MAX_NAMES = 10            # names listed in a message; the rest are counted ("… and 99,990 more")
MAX_BAD_IMAGE_SHARE = 0.1  # more unreadable images than this is an error, not a skip
MIN_PER_CLASS = 2
FILLS = ("interpolate", "ffill", "drop")   # data.fill: how missing targets of a time series are filled
_FILL_WORDS = {"interpolate": "by linear interpolation", "ffill": "by carrying the last value forward"}


class DataError(ValueError):
    """The data cannot be used as given; the message is one line saying what and how to fix it."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).splitlines()))   # column and file names may hold line breaks


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
    groups: Optional[np.ndarray] = None      # who/what each item comes from (a speaker): held out whole by the split

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
        return replace(self, X=X, y=None if self.y is None else self.y[index],
                       groups=None if self.groups is None else self.groups[index])


def _decode_line(line: bytes) -> tuple[str, bool]:
    """One line as UTF-8, else as Windows-1252 (latin-1 with € and curly quotes), else as latin-1; and whether it
    fell back."""
    for encoding in ("utf-8", "cp1252"):
        try:
            return line.decode(encoding), encoding != "utf-8"
        except UnicodeDecodeError:
            pass
    return line.decode("latin-1"), True


def _decode_lines(raw: bytes) -> tuple[str, int, int]:
    """Text of a file that is not all UTF-8, line by line (a file pasted together from two sources keeps both
    right); returns the text, how many lines were not UTF-8, and the first of them."""
    lines, fallback, first = [], 0, 0
    for number, line in enumerate(raw.split(b"\n"), start=1):
        text, fell_back = _decode_line(line)
        lines.append(text)
        if fell_back:
            fallback, first = fallback + 1, first or number
    return "\n".join(lines), fallback, first


def _read_table(path: Path) -> tuple[Any, list[str]]:
    """The table at `path`, and notes on how it was read."""
    import io

    import pandas as pd

    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path), []
        try:
            return pd.read_csv(path), []
        except UnicodeDecodeError:
            text, fallback, first = _decode_lines(path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
            note = (f"{fallback:,} line(s) are not UTF-8 (first: line {first}) and were read as Windows-1252/"
                    "latin-1; save the file as UTF-8 to be sure")
            return pd.read_csv(io.StringIO(text)), [note]
    except (pd.errors.EmptyDataError, pd.errors.ParserError, ValueError, OSError) as exc:
        raise DataError(f"{path}: cannot read as a table ({(str(exc).splitlines() or [type(exc).__name__])[0]})") \
            from None


def names_text(names: Sequence[Any], limit: int = MAX_NAMES) -> str:
    """Names for a message: the first `limit`, then how many more ('a, b, c … and 99,990 more'); each name cut
    to 60 characters (a 100,000-column table must not print a line of megabytes)."""
    shown = [str(n) if len(str(n)) <= 60 else str(n)[:59] + "…" for n in list(names[:limit])]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" … and {more:,} more" if more > 0 else "")


def _column(df: Any, wanted: Optional[str], defaults: Sequence[str], what: str, path: Path) -> str:
    if wanted:
        if wanted not in df.columns:
            raise DataError(f"{path}: {what} column {wanted!r} not found; columns are: {names_text(df.columns)}")
        return wanted
    for name in defaults:
        if name in df.columns:
            return name
    raise DataError(f"{path}: say which column is the {what} (data.{'target' if what == 'target' else 'text_column'}); "
                    f"columns are: {names_text(df.columns)}")


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value (so messages show 3, not np.int64(3))."""
    return value.item() if isinstance(value, np.generic) else value


def _labels(values: Any, task: str, source: str) -> np.ndarray:
    """Class labels as a clean array; refuse continuous floats, NaN labels, single classes, singleton classes."""
    import pandas as pd

    series = pd.Series(values)
    if task == "generation":                  # labels are optional side information (class coverage checks)
        return series.to_numpy()
    if len(series) and series.isna().all():
        raise DataError(f"{source}: the target is empty (all {len(series):,} values are missing)")
    if series.isna().any():
        raise DataError(f"{source}: {int(series.isna().sum())} rows have no label; drop or fill them first")
    if task != "classification":
        try:
            return series.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError(f"{source}: target must be numeric for {task}; got values like {series.iloc[0]!r}") from None
    if pd.api.types.is_float_dtype(series):
        fractional = series[series % 1 != 0]
        if len(fractional):
            raise DataError(f"{source}: the target holds {fractional.nunique():,} distinct non-integer numbers "
                            f"(e.g. {_plain(fractional.iloc[0])!r}); that is a regression target "
                            "(set task: regression), not class labels")
        if (series.abs() < 2**53).all():                      # 1.0, 2.0: integer labels written as floats
            series = series.astype(np.int64)
    counts = series.value_counts()
    if len(counts) < 2:
        raise DataError(f"{source}: only one class ({_plain(counts.index[0])!r}); classification needs at least 2")
    small = counts[counts < MIN_PER_CLASS]
    if len(small) == len(counts) == len(series):
        raise DataError(f"{source}: every one of the {len(series):,} examples has its own class (e.g. "
                        f"{_plain(small.index[0])!r}); a stratified split needs at least {MIN_PER_CLASS} per class "
                        "(is the target an ID column?)")
    if len(small):
        more = f" (and {len(small) - 1:,} more of {len(counts):,} classes)" if len(small) > 1 else ""
        raise DataError(f"{source}: class {_plain(small.index[0])!r} has {int(small.iloc[0])} example(s){more}; "
                        f"need at least {MIN_PER_CLASS} per class to hold some out for testing")
    return series.to_numpy()


def image_problem(path: Path) -> Optional[str]:
    """Why the image at `path` cannot be used (None: it can). Decodes it whole, so truncated pixel data is caught
    here and not mid-training (JPEGs decode at 1/8 size, cheap); more than zoo.images.MAX_PIXELS pixels is
    refused from the header, before decoding."""
    from PIL import Image

    if not path.is_file():                # a dangling link, a symlink loop, a FIFO (opening it would block)
        return "not a file"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if too_large(img):
                    return TOO_LARGE
                img.draft("RGB", (64, 64))
                img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return TOO_LARGE
    except Exception:  # noqa: BLE001 - any decoder failure (truncated, not an image, ...) means unusable
        return "cannot be decoded"
    return None


def _check_images(paths: list[Path], labels: list[Any], source: str) -> tuple[list[str], list[Any], list[str],
                                                                             str]:
    """The usable images and their labels, the skipped paths, and why they were skipped (for the message)."""
    good, good_labels, bad, reasons = [], [], [], Counter()
    for p, label in zip(paths, labels):
        problem = image_problem(p)
        if problem is None:
            good.append(str(p))
            good_labels.append(label)
        else:
            bad.append(str(p))
            reasons[problem] += 1
    why = ", ".join(f"{n:,} {r}" for r, n in sorted(reasons.items(), key=lambda item: (-item[1], item[0])))
    why = f"{why}; e.g. {bad[0]}" if bad else ""
    if not good:
        raise DataError(f"{source}: no readable images found" + (f" ({why})" if bad else ""))
    if len(bad) > MAX_BAD_IMAGE_SHARE * (len(good) + len(bad)):
        raise DataError(f"{source}: {len(bad)} of {len(good) + len(bad)} images cannot be read ({why}); "
                        "fix or remove them")
    return good, good_labels, bad, why


def _class_folders(root: Path) -> tuple[list[str], list[str]]:
    """Class sub-folders of `root`, and those skipped because they link back to `root` or above (a symlink loop
    would otherwise be walked again under another label)."""
    classes, loops = [], []
    top = root.resolve()
    for name in sorted(os.listdir(root)):
        folder = root / name
        if name.startswith(".") or not folder.is_dir():
            continue
        if loops_back(folder, top):
            loops.append(name)
        else:
            classes.append(name)
    return classes, loops


def _class_files(root: Path, classes: Sequence[str], suffixes: Any, what: str) -> tuple[list[Path], list[str]]:
    """The files with one of `suffixes` under each class folder of `root` (links not followed), and their
    labels; none at all is one line."""
    paths, labels = [], []
    for cls in classes:
        for dirpath, _, files in os.walk(root / cls, followlinks=False):
            for name in sorted(files):
                if Path(name).suffix.lower() in suffixes:
                    paths.append(Path(dirpath) / name)
                    labels.append(cls)
    if not paths:
        raise DataError(f"{root}: no {what} files ({', '.join(sorted(suffixes))}) in the class folders")
    return paths, labels


def _flat_image_folder(root: Path) -> Dataset:
    """A folder of images with no class sub-folders (generation needs no labels): its images, unlabelled."""
    paths = [root / n for n in sorted(os.listdir(root)) if Path(n).suffix.lower() in IMAGE_SUFFIXES]
    good, _, bad, why = _check_images(paths, [None] * len(paths), str(root))
    notes = [f"skipped {len(bad)} unreadable image(s) ({why})"] if bad else []
    return Dataset("image", good, None, str(root), skipped=bad, notes=notes)


def _image_folder(root: Path, task: str) -> Dataset:
    classes, loops = _class_folders(root)
    if not classes and task == "generation":
        return _flat_image_folder(root)
    if not classes:
        raise DataError(f"{root}: expected one sub-folder per class (ImageFolder layout), found none"
                        + (f" (skipped {names_text(loops)}: a link back into the data folder)" if loops else ""))
    paths, labels = _class_files(root, classes, IMAGE_SUFFIXES, "image")
    good, good_labels, bad, why = _check_images(paths, labels, str(root))
    y = _labels(good_labels, task, str(root))
    notes = [f"skipped {len(bad)} unreadable image(s) ({why})"] if bad else []
    if loops:
        notes.append(f"skipped class folder(s) {names_text(loops)}: a symlink back into the data folder")
    return Dataset("image", good, y, str(root), skipped=bad, notes=notes)


def _image_csv(path: Path, target: Optional[str], task: str) -> Dataset:
    df, notes = _read_table(path)
    if len(df) == 0:
        raise DataError(f"{path}: has a header but no rows")
    tgt = _column(df, target, ("label", "target", "class"), "target", path)
    col = image_path_column(df, exclude=[tgt])
    if col == tgt:
        raise DataError(f"{path}: needs an image path column besides the target {tgt!r}")
    paths = [(path.parent / str(p)) if not Path(str(p)).is_absolute() else Path(str(p)) for p in df[col]]
    good, good_labels, bad, why = _check_images(paths, list(df[tgt]), str(path))
    notes += [f"skipped {len(bad)} unreadable image(s) ({why})"] if bad else []
    return Dataset("image", good, _labels(good_labels, task, str(path)), str(path), target=tgt, skipped=bad,
                   notes=notes)


def _npz_labels(path: Path, X: np.ndarray, y: np.ndarray, classes: Optional[np.ndarray]) -> np.ndarray:
    """`y` checked against `X` (one label per row; X is rows × features or N images), and mapped through
    `classes` when it holds codes: every mismatch is one DataError line naming the array."""
    if X.ndim not in (2, 3, 4):
        raise DataError(f"{path}: X has shape {X.shape}; expected 2-D (rows × features) or 3-/4-D "
                        "(N × H × W [× C] images)")
    if y.ndim != 1 or len(y) != len(X):
        raise DataError(f"{path}: y has shape {y.shape} but X has {len(X):,} rows; expected one label per row, "
                        f"shape ({len(X):,},)")
    if classes is None or not np.issubdtype(y.dtype, np.integer):
        return y
    if classes.ndim != 1 or (len(y) and (y.min() < 0 or y.max() >= len(classes))):
        raise DataError(f"{path}: classes has shape {classes.shape} but y holds label codes "
                        f"{int(y.min()) if len(y) else 0} to {int(y.max()) if len(y) else 0}; expected one name "
                        "per code 0 .. max(y)")
    return classes[y]


def _npz(path: Path, task: str) -> Dataset:
    import zipfile

    try:
        with np.load(path, allow_pickle=False) as data:
            if "X" not in data or "y" not in data:
                raise DataError(f"{path}: an .npz dataset needs arrays 'X' and 'y' (and optionally 'classes')")
            unpacked, memory = sum(info.file_size for info in data.zip.infolist()), memory_bytes()
            if memory and unpacked > memory:          # a zip bomb: a few KB that unpack to more than RAM
                raise DataError(f"{path}: its arrays unpack to {unpacked / 2**30:,.1f} GiB, more than this "
                                f"machine's {memory / 2**30:,.1f} GiB of memory")
            X, y = data["X"], data["y"]
            classes = data["classes"] if "classes" in data else None
    except DataError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        why = ("it holds Python objects, which are never unpickled; save numeric or string arrays"
               if "pickle" in str(exc) else (str(exc).splitlines() or [type(exc).__name__])[0])
        raise DataError(f"{path}: cannot read as .npz arrays ({why})") from None
    y = _npz_labels(path, X, y, classes)
    modality = "image" if X.ndim in (3, 4) else "tabular"
    if modality == "tabular":
        import pandas as pd
        X = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    return Dataset(modality, X, _labels(y, task, str(path)), str(path))


def _clip_files(path: Path, folder: bool, suffixes: Any, what: str, target: Optional[str], path_column: Any
                ) -> tuple[list[Path], list[Any], Optional[str], Optional[list[str]], list[str]]:
    """The clip files of a folder of class sub-folders or of a CSV of paths and labels (and optionally a
    `speaker` / `group` column): (paths, labels, the CSV's target column, its groups, notes)."""
    if folder:
        classes, loops = _class_folders(path)
        if not classes:
            raise DataError(f"{path}: expected one sub-folder per class (clips of each class in its folder), found "
                            "none")
        paths, labels = _class_files(path, classes, suffixes, what)
        notes = [f"skipped class folder(s) {names_text(loops)}: a symlink back into the data folder"] if loops else []
        return paths, labels, None, None, notes
    df, notes = _read_table(path)
    if len(df) == 0:
        raise DataError(f"{path}: has a header but no rows")
    tgt = _column(df, target, ("label", "target", "class"), "target", path)
    group_col = next((c for c in df.columns if str(c).strip().lower() in ("speaker", "group")), None)
    col = path_column(df, exclude=[tgt, group_col])
    paths = [Path(str(p)) if Path(str(p)).is_absolute() else path.parent / str(p) for p in df[col]]
    groups = None if group_col is None else [str(g) for g in df[group_col]]
    return paths, list(df[tgt]), tgt, groups, notes


def _readable_clips(path: Path, paths: list[Path], problem: Any, what: str) -> tuple[list[int], list[int], str]:
    """Indices of the usable and the unusable clips, and why (for the note); none usable, or more than
    MAX_BAD_IMAGE_SHARE unusable, is one DataError line."""
    good, bad, reasons = [], [], Counter()
    for i, p in enumerate(paths):
        why = problem(p)
        (good if why is None else bad).append(i)
        reasons.update([why] if why else [])
    why = ", ".join(f"{n:,} {r}" for r, n in reasons.most_common()) + (f"; e.g. {paths[bad[0]]}" if bad else "")
    if not good:
        raise DataError(f"{path}: no readable {what} files" + (f" ({why})" if bad else ""))
    if len(bad) > MAX_BAD_IMAGE_SHARE * len(paths):
        raise DataError(f"{path}: {len(bad)} of {len(paths)} {what} files cannot be read ({why}); fix or remove them")
    return good, bad, why


def _audio(path: Path, task: str, target: Optional[str], folder: bool) -> Dataset:
    """Audio clips: a folder of class sub-folders, or a CSV of clip paths and labels (and optionally a
    `speaker` / `group` column). Unreadable clips are skipped as unreadable images are; speakers (a column, or
    Speech Commands' `<speaker>_nohash_<n>` file names) become the dataset's groups."""
    from zoo.audio import AUDIO_SUFFIXES, audio_path_column, audio_problem, clip_group

    paths, labels, tgt, groups, notes = _clip_files(path, folder, AUDIO_SUFFIXES, "audio", target, audio_path_column)
    good, bad, why = _readable_clips(path, paths, audio_problem, "audio")
    notes += [f"skipped {len(bad)} unreadable audio file(s) ({why})"] if bad else []
    names = [str(paths[i]) for i in good]
    group_of = [groups[i] for i in good] if groups is not None else [clip_group(n) for n in names]
    if all(group_of) and len(set(group_of)) >= 3:
        notes.append(f"{len(set(group_of))} speakers/groups; the held-out test split takes whole speakers")
    return Dataset("audio", names, _labels([labels[i] for i in good], task, str(path)), str(path),
                   target=tgt, skipped=[str(paths[i]) for i in bad], notes=notes,
                   groups=np.asarray(group_of) if all(group_of) else None)


def _video(path: Path, task: str, target: Optional[str], folder: bool) -> Dataset:
    """Video clips: a folder of class sub-folders, or a CSV of clip paths and labels (and optionally a `group`
    column: e.g. the camera or scene, held out whole by the split). Unreadable clips are skipped as unreadable
    images are."""
    from zoo.video import VIDEO_SUFFIXES, video_path_column, video_problem

    paths, labels, tgt, groups, notes = _clip_files(path, folder, VIDEO_SUFFIXES, "video", target, video_path_column)
    good, bad, why = _readable_clips(path, paths, video_problem, "video")
    notes += [f"skipped {len(bad)} unreadable video file(s) ({why})"] if bad else []
    group_of = [groups[i] for i in good] if groups is not None else None
    if group_of and all(group_of) and len(set(group_of)) >= 3:
        notes.append(f"{len(set(group_of))} groups; the held-out test split takes whole groups")
    return Dataset("video", [str(paths[i]) for i in good], _labels([labels[i] for i in good], task, str(path)),
                   str(path), target=tgt, skipped=[str(paths[i]) for i in bad], notes=notes,
                   groups=np.asarray(group_of) if group_of and all(group_of) else None)


def check_data_path(path: Path) -> os.stat_result:
    """The stat of a data path that may be read: a folder, or a regular file no larger than this machine's
    memory (a FIFO, a device or a file that cannot fit is one DataError line, before anything opens it)."""
    try:
        return check_readable(path, max_bytes=memory_bytes(), what="data (a table, an .npz or a folder of images)",
                              folder_ok=True)
    except UnreadableFile as exc:
        raise DataError(str(exc)) from None


def load_dataset(path: "str | Path", modality: str, *, task: str = "classification", target: Optional[str] = None,
                 text_column: Optional[str] = None, fill: str = "interpolate") -> Dataset:
    """Load the data at `path` for `modality` and `task`; raise DataError with one line if it is unusable.
    `fill` (time series only, one of FILLS) says how missing target values and missing grid steps are filled."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: data path does not exist")
    st = check_data_path(path)
    if modality == "audio":
        return _audio(path, task, target, stat.S_ISDIR(st.st_mode))
    if modality == "video":
        return _video(path, task, target, stat.S_ISDIR(st.st_mode))
    if stat.S_ISDIR(st.st_mode):
        if modality != "image":
            raise DataError(f"{path}: is a folder; {modality} data must be a CSV or Parquet file")
        return _image_folder(path, task)
    if st.st_size == 0:
        raise DataError(f"{path}: file is empty")
    if path.suffix.lower() == ".npz":
        return _npz(path, task)
    if modality == "image":
        return _image_csv(path, target, task)
    df, notes = _read_table(path)
    if len(df) == 0:
        raise DataError(f"{path}: has a header but no rows")
    ds = _table(df, path, modality, task, target, text_column, fill)
    ds.notes[:0] = notes
    return ds


def table_dataset(df: Any, modality: str, *, task: str = "classification", target: Optional[str] = None,
                  text_column: Optional[str] = None, fill: str = "interpolate", source: str = "DataFrame") -> Dataset:
    """A table already in memory (a pandas DataFrame) as a Dataset, checked as a file's table is (DataError: one
    line naming `source`). Tabular, text and time-series tables; images come as files."""
    if modality == "image":
        raise DataError(f"{source}: images are read from files; pass their folder or a CSV of their paths")
    if len(df) == 0:
        raise DataError(f"{source}: has no rows")
    return _table(df, Path(source), modality, task, target, text_column, fill)

def _table(df: Any, path: Path, modality: str, task: str, target: Optional[str],
           text_column: Optional[str], fill: str = "interpolate") -> Dataset:
    if modality == "text":
        text_col = _column(df, text_column, ("text", "sentence", "document", "message"), "text", path)
        tgt = _column(df, target, ("label", "target", "class"), "target", path)
        texts = df[text_col].fillna("").astype(str)
        if not texts.str.strip().any():
            raise DataError(f"{path}: the text column {text_col!r} is empty in all {len(df):,} rows")
        return Dataset("text", texts.tolist(), _labels(df[tgt], task, str(path)), str(path), target=tgt)
    if modality == "time_series":
        return _time_series(df, path, target, fill)
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
    if len(all_nan) == X.shape[1]:
        raise DataError(f"{path}: every feature column is empty ({names_text(all_nan)}); nothing to learn from")
    if all_nan:
        X = X.drop(columns=all_nan)
    ds = Dataset("tabular", X, _labels(df[tgt], task, str(path)), str(path), target=tgt)
    if all_nan:
        ds.notes.append(f"dropped {len(all_nan):,} all-empty column(s): {names_text(all_nan)}")
    return ds


TIME_NAMES = ("date", "time", "timestamp", "datetime", "ds", "t", "step", "period", "year", "epoch", "index")


def _time_column(df: Any, tgt: str) -> tuple[Optional[str], bool]:
    """The column giving each row's time, and whether it holds dates: the first column that reads as dates,
    else the first numeric column named like a time (TIME_NAMES, any case); (None, False) when there is none."""
    import pandas as pd

    others = [c for c in df.columns if c != tgt]
    dates = [c for c in others if _looks_like_dates(df[c])]
    if dates:
        return dates[0], True
    numbers = [c for c in others if str(c).strip().lower() in TIME_NAMES and pd.api.types.is_numeric_dtype(df[c])
               and not pd.api.types.is_bool_dtype(df[c])]
    return (numbers[0], False) if numbers else (None, False)


def _time_series(df: Any, path: Path, target: Optional[str], fill: str) -> Dataset:
    """A univariate series: rows sorted by their time column before anything else, duplicate times averaged,
    a regular date grid with its gaps re-indexed, and missing targets filled per `fill` (each step in a note)."""
    import pandas as pd

    if fill not in FILLS:
        raise DataError(f"data.fill: {fill!r} is not one of {', '.join(FILLS)}")
    tgt = _column(df, target, ("value", "target", "y"), "target", path)
    _labels(df[tgt].dropna() if df[tgt].notna().any() else df[tgt], "forecasting", str(path))  # numeric, not empty
    values = pd.to_numeric(df[tgt], errors="coerce").astype(np.float64).to_numpy()
    clock, is_date = _time_column(df, tgt)
    notes: list[str] = []
    if clock is None:
        series, unit = pd.Series(values), "steps"
        if df.shape[1] > 1:
            notes.append("no time column found (dates, or a numeric column named "
                         f"{'/'.join(TIME_NAMES)}); the rows are taken in file order")
    else:
        stamps = _to_datetime(df[clock]) if is_date else pd.to_numeric(df[clock], errors="coerce")
        if stamps.isna().any():
            notes.append(f"dropped {int(stamps.isna().sum()):,} row(s) whose {clock!r} is not a "
                         f"{'date' if is_date else 'number'}")
        keep = stamps.notna().to_numpy()
        index = pd.DatetimeIndex(stamps[keep]) if is_date else pd.Index(stamps[keep].to_numpy())
        series = _time_ordered(pd.Series(values[keep], index=index), clock, notes)
        series, unit = _regular(series) if is_date else (_evenness(series, clock, notes), "steps")
    series = _filled(series, fill, unit, notes)
    if len(series) < 3:
        raise DataError(f"{path}: only {len(series)} usable point(s) in the series; forecasting needs more")
    X = pd.Series(series.index, name=clock) if is_date else None
    return Dataset("time_series", X, series.to_numpy(dtype=np.float64), str(path), target=tgt, notes=notes)


def _time_ordered(series: Any, column: Any, notes: list[str]) -> Any:
    """`series` sorted by its time index (stable), rows that share a time averaged into one; each said in a
    note."""
    if not series.index.is_monotonic_increasing:
        series = series.sort_index(kind="stable")
        notes.append(f"the rows were not in time order; sorted them by {column!r}")
    dup = series.index.duplicated(keep=False)
    if dup.any():
        first = series.index[dup][0]
        n_stamps = series.index[dup].nunique()
        series = series.groupby(level=0).mean()
        notes.append(f"averaged {int(dup.sum()):,} rows that share {n_stamps:,} time(s) into one value each "
                     f"(first: {column!r} {_shown_time(first)})")
    return series


def _evenness(series: Any, column: Any, notes: list[str]) -> Any:
    """`series` (numeric times, sorted) as it is, with a note when its times are unevenly spaced."""
    steps = np.diff(series.index.to_numpy(dtype=np.float64))
    if len(steps) and steps.min() != steps.max():
        notes.append(f"the times in {column!r} are unevenly spaced (steps of {steps.min():g} to {steps.max():g}); "
                     "the rows are taken as consecutive steps")
    return series


def _shown_time(value: Any) -> str:
    """2020-01-04 (a date), 2020-01-04T06:00:00 (a time of day), 17 (a number)."""
    if not hasattr(value, "normalize"):
        return f"{value:g}"
    return value.date().isoformat() if value == value.normalize() else value.isoformat()


def _regular(series: Any) -> tuple[Any, str]:
    """A date-indexed `series` re-indexed to its grid when that has gaps; and the name of its step for notes
    (weeks, days, ... or steps)."""
    import pandas as pd

    from zoo.forecasting import frequency_name

    freq = _grid(series.index)
    if freq is not None:
        grid = pd.date_range(series.index[0], series.index[-1], freq=freq)
        if len(grid) > len(series):
            series = series.reindex(grid)
    name = frequency_name(series.index)
    return series, f"{name}s" if name else "steps"


def _grid(index: Any) -> Any:
    """The regular frequency the timestamps lie on (gaps allowed), or None when they lie on none."""
    import pandas as pd

    if len(index) < 3:
        return None
    inferred = pd.DatetimeIndex(index, freq="infer").freq
    if inferred is not None:
        return inferred
    step = pd.Series(index).diff().min()
    days = step / pd.Timedelta("1D")
    candidates: list[Any] = [step] if days < 28 else []
    candidates += ["MS", "ME"] if 27 <= days <= 31 else ["QS", "QE"] if 88 <= days <= 92 else \
        ["YS", "YE"] if 360 <= days <= 366 else []
    for freq in candidates:
        grid = pd.date_range(index[0], index[-1], freq=freq)
        if len(grid) <= 10 * len(index) and index.isin(grid).all():
            return freq
    return None


def _filled(series: Any, fill: str, unit: str, notes: list[str]) -> Any:
    """`series` with its missing values filled (or dropped) per data.fill, said in a note."""
    missing = int(series.isna().sum())
    if not missing:
        return series
    if series.isna().all():
        raise DataError("the target is empty (every value is missing)")
    if fill == "drop":
        notes.append(f"dropped {missing:,} {unit} with no target value (data.fill: drop); the rest are taken as "
                     "consecutive")
        return series.dropna()
    out = series.interpolate(method="linear", limit_direction="both") if fill == "interpolate" \
        else series.ffill().bfill()
    notes.append(f"filled {missing:,} missing {unit} {_FILL_WORDS[fill]} (data.fill: {fill})")
    return out


def _looks_like_dates(col: Any) -> bool:
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(col):
        return True
    if not (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)):
        return False
    return _to_datetime(col.head(20)).notna().all()


def _to_datetime(col: Any) -> Any:
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.to_datetime(col, errors="coerce")


def split_dataset(ds: Dataset, task: str, *, test_size: float = 0.2, seed: int = 0,
                  horizon: Optional[int] = None) -> tuple[Dataset, Dataset]:
    """Hold out a test split: stratified for classification, random for the other tasks; for forecasting the last
    `horizon` points (default: zoo.forecasting.default_horizon of the series)."""
    n = len(ds)
    n_test = max(1, int(round(n * test_size)))
    if task == "forecasting":
        from zoo.forecasting import default_horizon

        ds = _in_time_order(ds)
        h = int(horizon) if horizon else default_horizon(ds.X, n)
        if not 1 <= h < n - 2:
            raise DataError(f"{ds.source}: data.horizon {h} leaves too little training data ({n:,} points)")
        return ds.subset(np.arange(n - h)), ds.subset(np.arange(n - h, n))
    if ds.groups is not None and task == "classification" and len(set(ds.groups.tolist())) >= 3:
        held = _group_split(ds, test_size, seed)
        if held is not None:
            return held
    from sklearn.model_selection import train_test_split

    stratify = ds.y if task == "classification" else None
    if stratify is not None and n_test < len(ds.classes):
        n_test = len(ds.classes)
    train_idx, test_idx = train_test_split(np.arange(n), test_size=n_test, random_state=seed, stratify=stratify)
    return ds.subset(np.sort(train_idx)), ds.subset(np.sort(test_idx))


def _group_split(ds: Dataset, test_size: float, seed: int) -> Optional[tuple[Dataset, Dataset]]:
    """Whole groups (speakers) held out, classes kept in proportion (StratifiedGroupKFold's first fold of about
    1 / test_size); None when that fold leaves a class out of either side."""
    from sklearn.model_selection import StratifiedGroupKFold

    n_splits = max(2, min(int(round(1 / test_size)), len(set(ds.groups.tolist()))))
    folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    train_idx, test_idx = next(folds.split(np.zeros(len(ds)), ds.y, ds.groups))
    if set(ds.y[train_idx].tolist()) != set(ds.y.tolist()) or set(ds.y[test_idx].tolist()) != set(ds.y.tolist()):
        return None
    return ds.subset(np.sort(train_idx)), ds.subset(np.sort(test_idx))


def _in_time_order(ds: Dataset) -> Dataset:
    """A series whose timestamps (ds.X) are out of order, sorted by them (stable); else `ds` itself. The loader
    already sorts; this keeps the time-ordered split right for a Dataset built by hand."""
    import pandas as pd

    if ds.X is None or len(ds.X) < 2:
        return ds
    stamps = pd.DatetimeIndex(ds.X)
    return ds if stamps.is_monotonic_increasing else ds.subset(np.argsort(stamps.to_numpy(), kind="stable"))
