"""Audio inputs shared by every audio model, the loader and ``advisor predict``: files or arrays in, fixed-length
mono float32 clips out.

The one home of the audio file suffixes (``AUDIO_SUFFIXES``), the decode rule (``read_clip``: soundfile, mixed
down to mono, resampled with librosa/soxr to one rate, zero-padded or centre-cropped to a fixed length), the
readability check (``audio_problem``), the clip-list rule (``as_clip_list``), the speaker of a clip
(``clip_group``) and the path column of a CSV of clips (``audio_path_column``). Features live in
``zoo.audio_features``.

numpy only at import time; soundfile and librosa are imported inside functions (the advisor path stays light).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

__all__ = ["AUDIO_SUFFIXES", "DURATION", "SAMPLE_RATE", "as_clip_list", "audio_path_column", "audio_problem",
           "clip_group", "read_clip"]

ClipItem = Union[str, os.PathLike, np.ndarray]

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg"})
AUDIO_PATH_COLUMNS = ("path", "audio", "file", "filename", "clip")
SAMPLE_RATE = 16_000
DURATION = 1.0               # seconds every clip is padded or cropped to
MAX_SECONDS = 600.0          # a longer file is refused from its header, before decoding
_GROUP = re.compile(r"^(.+?)_nohash_")


def _fix_length(audio: np.ndarray, n: int) -> np.ndarray:
    """`audio` zero-padded at the end, or centre-cropped, to exactly `n` samples."""
    if len(audio) >= n:
        start = (len(audio) - n) // 2
        return audio[start:start + n]
    return np.pad(audio, (0, n - len(audio)))


def read_clip(item: ClipItem, *, sample_rate: int = SAMPLE_RATE, duration: float = DURATION) -> np.ndarray:
    """One clip as mono float32 at `sample_rate`, exactly `duration` seconds: from a file (WAV/FLAC/OGG, any rate,
    any channels) or from a 1-D array already at `sample_rate`. An unreadable file raises ValueError (one line)."""
    n = int(round(sample_rate * duration))
    if isinstance(item, (str, os.PathLike)):
        import soundfile as sf

        try:
            audio, sr = sf.read(os.fspath(item), dtype="float32", always_2d=True)
        except Exception as exc:  # noqa: BLE001 - libsndfile errors, missing files, not audio
            why = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise ValueError(f"{item}: cannot read as audio ({why})") from None
        audio = audio.mean(axis=1)
        if sr != sample_rate and len(audio):
            import librosa

            audio = librosa.resample(audio, orig_sr=sr, target_sr=sample_rate)
    else:
        audio = np.asarray(item, dtype=np.float32)
        if audio.ndim != 1:
            raise ValueError(f"expected a 1-D clip (samples), got shape {audio.shape}")
    audio = np.nan_to_num(audio.astype(np.float32, copy=False))
    return _fix_length(audio, n)


def audio_problem(path: Path) -> Optional[str]:
    """Why the audio file at `path` cannot be used (None: it can). Decodes it whole, so a truncated file is caught
    here and not mid-training; a file over MAX_SECONDS is refused from its header."""
    import soundfile as sf

    if not Path(path).is_file():
        return "not a file"
    try:
        info = sf.info(os.fspath(path))
        if info.frames <= 0:
            return "no samples"
        if info.frames / max(info.samplerate, 1) > MAX_SECONDS:
            return f"over the {MAX_SECONDS:,.0f}-second limit"
        sf.read(os.fspath(path), dtype="float32", frames=-1)
    except Exception:  # noqa: BLE001 - any decoder failure (truncated, not audio, ...) means unusable
        return "cannot be decoded"
    return None


def clip_group(path: Any) -> str:
    """The speaker of a clip named like Google Speech Commands' ``<speaker>_nohash_<n>.wav``, else ''."""
    match = _GROUP.match(Path(str(path)).name)
    return match.group(1) if match else ""


def audio_path_column(df: Any, exclude: Sequence[Any] = ()) -> Any:
    """The column of a table of clips holding the paths: one named ``path`` / ``audio`` / ``file`` /
    ``filename`` / ``clip`` (case and blanks ignored), else the first column not in ``exclude``."""
    columns = [c for c in df.columns if c not in set(exclude)]
    if not columns:
        raise ValueError("the table has no column for the audio paths")
    named = {str(c).strip().lower(): c for c in reversed(columns)}
    return next((named[n] for n in AUDIO_PATH_COLUMNS if n in named), columns[0])


def as_clip_list(X: Any) -> list[Any]:
    """Clips as a list: paths, 1-D arrays, or the rows of a 2-D array (N, samples)."""
    if isinstance(X, (str, os.PathLike)):
        return [X]
    if isinstance(X, np.ndarray):
        if X.ndim == 1 and X.dtype.kind in "fiu":
            return [X]
        if X.ndim == 2:
            return list(X)
    return list(X)
