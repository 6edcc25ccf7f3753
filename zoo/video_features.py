"""Video features as scikit-learn transformers: what the classical and hybrid video models see of a clip.

* ``VideoMotionFeatures``: named features, the classical models' inputs: per-frame colour / texture statistics
  (group ``frame``) and motion from frame differences (group ``motion``: motion energy, the moving area, and the
  signed shift between consecutive frames from phase correlation and from the centroid of the moving pixels),
  each pooled over time by mean / std / max;
* ``VideoCnnFeatures``: the frozen EfficientNet-Lite0 (``zoo.hybrid.CnnFeatures``, reused as is) on every sampled
  frame, pooled over time (mean, max, and the mean absolute and signed change between consecutive frames, so
  the head sees motion), the hybrid models' inputs.

Signs: ``*_dx`` > 0 is motion to the right, ``*_dy`` > 0 motion down (image coordinates). Clips come through
``zoo.video.read_frames``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from zoo.memo import memo_rows
from zoo.video import FRAME_SIZE, N_FRAMES, as_video_list, read_frames

__all__ = ["FRAME_FEATURES", "MOTION_FEATURES", "VIDEO_FEATURE_GROUPS", "VideoCnnFeatures", "VideoMotionFeatures",
           "frame_statistics", "motion_statistics", "motion_feature_names"]

FRAME_FEATURES = ("red_mean", "green_mean", "blue_mean", "red_std", "green_std", "blue_std", "saturation_mean",
                  "gradient_mean", "edge_density")
MOTION_FEATURES = ("motion_energy", "motion_area", "foreground_area", "phase_dx", "phase_dy", "phase_peak",
                   "centroid_dx", "centroid_dy")
VIDEO_FEATURE_GROUPS = ("frame", "motion")
_POOLS = ("mean", "std", "max")
_CHANGED = 12.0              # grey levels: a pixel differing by more has moved (above sensor noise and coding)


def motion_feature_names(groups: Sequence[str] = VIDEO_FEATURE_GROUPS) -> list[str]:
    """Names of the pooled features, in order (``red_mean_mean``, ``phase_dx_mean``, ``motion_energy_max`` ...)."""
    bases = (FRAME_FEATURES if "frame" in groups else ()) + (MOTION_FEATURES if "motion" in groups else ())
    return [f"{b}_{p}" for b in bases for p in _POOLS]


def _grey(frames: np.ndarray) -> np.ndarray:
    return frames.astype(np.float32) @ np.asarray([0.299, 0.587, 0.114], dtype=np.float32)


def frame_statistics(frames: np.ndarray) -> np.ndarray:
    """Per-frame colour / texture statistics of (T, H, W, 3) uint8 frames: (T, len(FRAME_FEATURES))."""
    rgb = frames.astype(np.float32)
    grey = _grey(frames)
    gy, gx = np.gradient(grey, axis=(1, 2))
    magnitude = np.hypot(gx, gy)
    saturation = (rgb.max(axis=3) - rgb.min(axis=3)) / np.maximum(rgb.max(axis=3), 1.0)
    return np.column_stack([rgb.mean(axis=(1, 2)), rgb.std(axis=(1, 2)), saturation.mean(axis=(1, 2)),
                            magnitude.mean(axis=(1, 2)), (magnitude > 20.0).mean(axis=(1, 2))])


def _phase_shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """(dx, dy, peak) of the translation taking image `a` to image `b`, by phase correlation."""
    cross = np.fft.fft2(b) * np.conj(np.fft.fft2(a))
    surface = np.real(np.fft.ifft2(cross / np.maximum(np.abs(cross), 1e-6)))
    dy, dx = np.unravel_index(int(np.argmax(surface)), surface.shape)
    h, w = surface.shape
    return float(dx - w if dx > w // 2 else dx), float(dy - h if dy > h // 2 else dy), float(surface.max())


def _centroid(weights: np.ndarray) -> tuple[float, float]:
    total = float(weights.sum())
    if total <= 0:
        return np.nan, np.nan
    ys, xs = np.indices(weights.shape)
    return float((weights * xs).sum() / total), float((weights * ys).sum() / total)


def motion_statistics(frames: np.ndarray) -> np.ndarray:
    """Per-step motion of (T, H, W, 3) uint8 frames (T >= 2): (T - 1, len(MOTION_FEATURES)). The foreground is
    each frame minus the clip's median frame (the static background), so a moving object's shift is measured,
    not the background's zero shift."""
    grey = _grey(frames)
    foreground = grey - np.median(grey, axis=0)
    window = np.outer(np.hanning(grey.shape[1]), np.hanning(grey.shape[2])).astype(np.float32)
    weights = np.maximum(np.abs(foreground) - _CHANGED, 0.0)
    centres = np.asarray([_centroid(w) for w in weights])
    rows = []
    for t in range(len(grey) - 1):
        change = np.abs(grey[t + 1] - grey[t])
        dx, dy, peak = _phase_shift(foreground[t] * window, foreground[t + 1] * window)
        step = centres[t + 1] - centres[t]
        rows.append([change.mean(), (change > _CHANGED).mean(), (weights[t] > 0).mean(), dx, dy, peak,
                     *np.nan_to_num(step)])
    return np.asarray(rows, dtype=np.float32)


def _pooled(series: np.ndarray) -> np.ndarray:
    """(T, F) per-time features -> (F * 3,) mean / std / max of each, feature by feature."""
    return np.stack([series.mean(axis=0), series.std(axis=0), series.max(axis=0)], axis=1).ravel()


class VideoMotionFeatures(TransformerMixin, BaseEstimator):
    """Clips (paths or frame arrays) -> named frame and motion features, pooled over `n_frames` sampled frames;
    stateless (``fit`` only fixes the names). ``feature_groups``: any of ``frame`` and ``motion``."""

    def __init__(self, *, n_frames: int = N_FRAMES, frame_size: int = FRAME_SIZE,
                 feature_groups: Sequence[str] = VIDEO_FEATURE_GROUPS) -> None:
        self.n_frames = n_frames
        self.frame_size = frame_size
        self.feature_groups = feature_groups

    def fit(self, X: Any = None, y: Any = None) -> "VideoMotionFeatures":
        """Check the settings and fix the output feature names (no data is learned)."""
        groups = tuple(self.feature_groups)
        if not groups or set(groups) - set(VIDEO_FEATURE_GROUPS):
            raise ValueError(f"feature_groups must be a non-empty subset of {VIDEO_FEATURE_GROUPS}, got {groups!r}")
        if "motion" in groups and int(self.n_frames) < 2:
            raise ValueError(f"motion features need n_frames >= 2, got {self.n_frames!r}")
        self.feature_names_out_ = np.asarray(motion_feature_names(groups), dtype=object)
        self.n_features_out_ = len(self.feature_names_out_)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Feature matrix (n_clips, n_features_out_)."""
        check_is_fitted(self, "feature_names_out_")
        clips = as_video_list(X)
        if not clips:
            return np.empty((0, self.n_features_out_), dtype=np.float32)
        config = ("video_motion", int(self.n_frames), int(self.frame_size), tuple(self.feature_groups))
        return memo_rows(config, clips, self._extract)

    def _extract(self, clips: list[Any]) -> np.ndarray:
        return np.vstack([self._one(read_frames(c, n_frames=int(self.n_frames), size=int(self.frame_size)))
                          for c in clips])

    def _one(self, frames: np.ndarray) -> np.ndarray:
        parts = [_pooled(frame_statistics(frames))] if "frame" in self.feature_groups else []
        if "motion" in self.feature_groups:
            parts.append(_pooled(motion_statistics(frames)))
        return np.nan_to_num(np.concatenate(parts).astype(np.float32))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Readable names such as ``phase_dx_mean``, ``motion_energy_max``, ``saturation_mean_std``."""
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()


class VideoCnnFeatures(TransformerMixin, BaseEstimator):
    """Clips -> `n_frames` sampled frames -> frozen CNN features per frame (``zoo.hybrid.CnnFeatures``,
    EfficientNet-Lite0 by default) -> pooled over time: mean, max, mean |change| and mean signed change between
    consecutive frames; float32 ``(N, 4 * 1280)``, memoised per clip like every frozen extractor."""

    def __init__(self, *, cnn: Any = None, n_frames: int = N_FRAMES, frame_size: int = FRAME_SIZE) -> None:
        self.cnn = cnn
        self.n_frames = n_frames
        self.frame_size = frame_size

    def fit(self, X: Any = None, y: Any = None) -> "VideoCnnFeatures":
        """Load the frozen network (nothing is learned)."""
        from sklearn.base import clone

        from zoo.hybrid import CnnFeatures

        if int(self.n_frames) < 2:
            raise ValueError(f"n_frames must be >= 2 (the change between frames is pooled), got {self.n_frames!r}")
        self.cnn_ = (CnnFeatures(resize_mode="squash") if self.cnn is None else clone(self.cnn)).fit()
        self.n_features_out_ = 4 * self.cnn_.n_features_out_
        return self

    @property
    def device_(self) -> str:
        check_is_fitted(self, "cnn_")
        return self.cnn_.device_

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "cnn_")
        config = ("video_cnn", int(self.n_frames), int(self.frame_size), repr(self.cnn_.get_params()))
        return memo_rows(config, as_video_list(X), self._extract)

    def _extract(self, clips: list[Any]) -> np.ndarray:
        k = int(self.n_frames)
        frames = [f for c in clips for f in read_frames(c, n_frames=k, size=int(self.frame_size))]
        per_frame = self.cnn_.transform(frames).reshape(len(clips), k, -1)   # one batched pass over every frame
        change = np.diff(per_frame, axis=1)
        return np.concatenate([per_frame.mean(axis=1), per_frame.max(axis=1), np.abs(change).mean(axis=1),
                               change.mean(axis=1)], axis=1).astype(np.float32)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``cnn_0000_mean`` ... ``cnn_0000_max``, ``cnn_0000_absdiff``, ``cnn_0000_diff`` (the network's unnamed
        dimensions, by pooling)."""
        check_is_fitted(self, "cnn_")
        names = self.cnn_.get_feature_names_out()
        return np.asarray([f"{n}_{p}" for p in ("mean", "max", "absdiff", "diff") for n in names], dtype=object)
