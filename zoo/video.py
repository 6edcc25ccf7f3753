"""Video inputs shared by every video model, the loader and ``advisor predict``: clip files or frame arrays in,
``k`` uniformly sampled RGB uint8 frames out.

The one home of the video file suffixes (``VIDEO_SUFFIXES``), the decode rule (``read_frames``: PyAV, whose
wheels ship FFmpeg, so no system ffmpeg is needed; ``k`` frames at the centres of ``k`` equal segments of the
clip, as TSN samples them, each resized to ``size`` x ``size``), the readability check (``video_problem``), the
clip-list rule (``as_video_list``) and the path column of a CSV of clips (``video_path_column``).
Features live in ``zoo.video_features``.

numpy only at import time; av is imported inside functions (the advisor path stays light).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

__all__ = ["FRAME_SIZE", "N_FRAMES", "VIDEO_SUFFIXES", "as_video_list", "read_frames", "sample_indices",
           "video_path_column", "video_problem"]

VideoItem = Union[str, os.PathLike, np.ndarray]

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".webm", ".gif", ".mov", ".mkv"})
VIDEO_PATH_COLUMNS = ("path", "video", "file", "filename", "clip")
N_FRAMES = 8                 # frames sampled per clip
FRAME_SIZE = 64              # each frame resized (squashed) to this many pixels a side
MAX_SECONDS = 600.0          # a longer clip is refused from its header, before decoding
MAX_DECODED = 20_000         # frames decoded at most from a clip whose header gives no frame count


def sample_indices(n_total: int, k: int) -> np.ndarray:
    """The frame at the centre of each of `k` equal segments of `n_total` frames (repeats when `n_total` < k)."""
    if n_total < 1 or k < 1:
        raise ValueError(f"cannot sample {k} frame(s) from {n_total}")
    return np.minimum(((np.arange(k) + 0.5) * n_total / k).astype(int), n_total - 1)


def _resized(frames: np.ndarray, size: int) -> np.ndarray:
    """(T, H, W, 3) uint8 frames squashed to (T, size, size, 3) with Pillow's bilinear filter."""
    from PIL import Image

    if frames.shape[1:3] == (size, size):
        return frames
    return np.stack([np.asarray(Image.fromarray(f).resize((size, size), Image.BILINEAR)) for f in frames])


def _decode(path: str, k: int, size: int) -> np.ndarray:
    """`k` frames of the clip at `path`, sampled by ``sample_indices`` over the header's frame count (only those
    are converted to RGB), else over every decoded frame."""
    import av

    with av.open(path) as container:
        if not container.streams.video:
            raise ValueError("no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        idx = sample_indices(stream.frames, k) if stream.frames else None      # the header's frame count
        frames: dict[int, np.ndarray] = {}
        for i, frame in enumerate(container.decode(stream)):
            if idx is None or i in idx:
                frames[i] = frame.to_ndarray(format="rgb24", width=size, height=size)
            if i + 1 >= MAX_DECODED or (idx is not None and i >= idx[-1]):
                break
    if idx is not None and all(i in frames for i in idx):
        return np.stack([frames[i] for i in idx])
    if not frames:
        raise ValueError("no frames")
    kept = sorted(frames)                       # no count, or a header that over-counts: sample what was decoded
    return np.stack([frames[kept[j]] for j in sample_indices(len(kept), k)])


def read_frames(item: VideoItem, *, n_frames: int = N_FRAMES, size: int = FRAME_SIZE) -> np.ndarray:
    """One clip as ``(n_frames, size, size, 3)`` uint8 RGB: from a file (any container and codec FFmpeg reads) or
    from a ``(T, H, W[, 3])`` array of frames. An unreadable file raises ValueError (one line)."""
    if isinstance(item, (str, os.PathLike)):
        try:
            return _decode(os.fspath(item), int(n_frames), int(size))
        except Exception as exc:  # noqa: BLE001 - FFmpeg errors, missing files, not a video
            why = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise ValueError(f"{item}: cannot read as video ({why})") from None
    frames = np.asarray(item)
    if frames.ndim == 3:
        frames = np.repeat(frames[..., None], 3, axis=3)
    if frames.ndim != 4 or frames.shape[3] not in (3, 4) or not len(frames):
        raise ValueError(f"expected frames of shape (T, H, W) or (T, H, W, 3), got {frames.shape}")
    if frames.dtype != np.uint8:
        frames = np.clip(frames * (255.0 if frames.max(initial=0) <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    frames = frames[sample_indices(len(frames), int(n_frames)), :, :, :3]
    return _resized(np.ascontiguousarray(frames), int(size))


def video_problem(path: Path) -> Optional[str]:
    """Why the clip at `path` cannot be used (None: it can). Decodes every frame (at low cost: no colour
    conversion), so a truncated file is caught here and not mid-training; a clip longer than MAX_SECONDS is
    refused from its header."""
    import av

    if not Path(path).is_file():
        return "not a file"
    try:
        with av.open(os.fspath(path)) as container:
            if not container.streams.video:
                return "no video stream"
            stream = container.streams.video[0]
            seconds = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
            if seconds > MAX_SECONDS or (container.duration or 0) / 1e6 > MAX_SECONDS:
                return f"over the {MAX_SECONDS:,.0f}-second limit"
            n = sum(1 for _ in zip(range(MAX_DECODED), container.decode(stream)))
    except Exception:  # noqa: BLE001 - any decoder failure (truncated, not a video, ...) means unusable
        return "cannot be decoded"
    return None if n else "no frames"


def video_path_column(df: Any, exclude: Sequence[Any] = ()) -> Any:
    """The column of a table of clips holding the paths: one named ``path`` / ``video`` / ``file`` /
    ``filename`` / ``clip`` (case and blanks ignored), else the first column not in ``exclude``."""
    columns = [c for c in df.columns if c not in set(exclude)]
    if not columns:
        raise ValueError("the table has no column for the video paths")
    named = {str(c).strip().lower(): c for c in reversed(columns)}
    return next((named[n] for n in VIDEO_PATH_COLUMNS if n in named), columns[0])


def as_video_list(X: Any) -> list[Any]:
    """Clips as a list: one path, a ``(N, T, H, W, 3)`` array of clips, or any sequence of paths / frame arrays."""
    if isinstance(X, (str, os.PathLike)):
        return [X]
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim not in (4, 5):
            raise ValueError(f"expected (N, T, H, W[, 3]) clips, got an array of shape {X.shape}")
        return list(X)
    if isinstance(X, (bytes, dict)) or not hasattr(X, "__iter__"):
        raise ValueError("clips must be a path, a list of clip paths / frame arrays, or an (N, T, H, W, 3) array")
    return list(np.ravel(X)) if isinstance(X, np.ndarray) else list(X)
