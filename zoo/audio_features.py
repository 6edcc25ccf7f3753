"""Audio features as scikit-learn transformers: what the classical and hybrid audio models see of a clip.

* ``AudioFeatures``: named summary features (MFCC means/stds and their deltas, spectral centroid / bandwidth /
  roll-off / flatness, zero-crossing rate, RMS), the classical models' inputs;
* ``LogMelImages`` / ``AudioCnnFeatures``: the log-mel spectrogram rendered as an RGB image, fed to the frozen
  EfficientNet-Lite0 (``zoo.hybrid.CnnFeatures``, reused as is), the hybrid models' inputs.

Clips come through ``zoo.audio.read_clip``; librosa is imported inside functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from zoo.audio import DURATION, SAMPLE_RATE, as_clip_list, read_clip
from zoo.memo import memo_rows

__all__ = ["AudioCnnFeatures", "AudioFeatures", "LogMelImages", "feature_names", "log_mel_image",
           "summary_features"]

N_MFCC = 20
_SPECTRAL = ("spectral_centroid", "spectral_bandwidth", "spectral_rolloff", "spectral_flatness",
             "zero_crossing_rate", "rms")



def feature_names(n_mfcc: int = N_MFCC) -> list[str]:
    """Names of the summary features, in order (``mfcc03_mean``, ``mfcc03_delta_std``, ``rms_mean`` ...)."""
    names = [f"mfcc{i:02d}_{s}" for s in ("mean", "std") for i in range(n_mfcc)]
    names += [f"mfcc{i:02d}_delta_{s}" for s in ("mean", "std") for i in range(n_mfcc)]
    names += [f"{f}_{s}" for f in _SPECTRAL for s in ("mean", "std")]
    return names + ["rms_max", "duration_voiced"]


def summary_features(clip: np.ndarray, sample_rate: int = SAMPLE_RATE, n_mfcc: int = N_MFCC) -> np.ndarray:
    """The summary features of one clip (float32, aligned with ``feature_names``)."""
    import librosa

    hop, n_fft = 160, 512                               # 10 ms hops, 32 ms windows at 16 kHz
    S = np.abs(librosa.stft(clip, n_fft=n_fft, hop_length=hop)) ** 2
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(librosa.feature.melspectrogram(S=S, sr=sample_rate)),
                                n_mfcc=n_mfcc)
    delta = librosa.feature.delta(mfcc, width=min(9, mfcc.shape[1] - (1 - mfcc.shape[1] % 2)))
    rms = librosa.feature.rms(S=S, frame_length=n_fft)[0]
    spectral = [librosa.feature.spectral_centroid(S=S, sr=sample_rate)[0],
                librosa.feature.spectral_bandwidth(S=S, sr=sample_rate)[0],
                librosa.feature.spectral_rolloff(S=S, sr=sample_rate)[0],
                librosa.feature.spectral_flatness(S=S)[0],
                librosa.feature.zero_crossing_rate(clip, frame_length=n_fft, hop_length=hop)[0], rms]
    voiced = float(np.mean(rms > 0.25 * rms.max())) if rms.max() > 0 else 0.0
    parts = [mfcc.mean(1), mfcc.std(1), delta.mean(1), delta.std(1),
             np.ravel([[f.mean(), f.std()] for f in spectral]), [rms.max(), voiced]]
    return np.nan_to_num(np.concatenate(parts).astype(np.float32))


class AudioFeatures(TransformerMixin, BaseEstimator):
    """Clips (paths or arrays) -> named summary features; stateless (``fit`` only fixes the names)."""

    def __init__(self, *, sample_rate: int = SAMPLE_RATE, duration: float = DURATION, n_mfcc: int = N_MFCC) -> None:
        self.sample_rate = sample_rate
        self.duration = duration
        self.n_mfcc = n_mfcc

    def fit(self, X: Any = None, y: Any = None) -> "AudioFeatures":
        """Fix the output feature names (no data is learned)."""
        if int(self.n_mfcc) < 1:
            raise ValueError(f"n_mfcc must be >= 1, got {self.n_mfcc!r}")
        self.feature_names_out_ = np.asarray(feature_names(int(self.n_mfcc)), dtype=object)
        self.n_features_out_ = len(self.feature_names_out_)
        return self

    def transform(self, X: Iterable[Any]) -> np.ndarray:
        """Feature matrix (n_clips, n_features_out_)."""
        check_is_fitted(self, "feature_names_out_")
        clips = as_clip_list(X)
        if not clips:
            return np.empty((0, self.n_features_out_), dtype=np.float32)
        config = ("audio_summary", int(self.sample_rate), float(self.duration), int(self.n_mfcc))
        return memo_rows(config, clips, self._extract)

    def _extract(self, clips: list[Any]) -> np.ndarray:
        sr = int(self.sample_rate)
        return np.vstack([summary_features(read_clip(c, sample_rate=sr, duration=self.duration), sr,
                                           int(self.n_mfcc)) for c in clips])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Readable names such as ``mfcc03_mean``, ``spectral_centroid_std``, ``zero_crossing_rate_mean``."""
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        return tags


# ----------------------------------------------------------------------------- spectrogram images

def log_mel_image(clip: np.ndarray, sample_rate: int = SAMPLE_RATE, n_mels: int = 128) -> np.ndarray:
    """The clip's log-mel spectrogram (80 dB range, low frequencies at the bottom) as an (n_mels, frames, 3) uint8
    image: the same grey in all three channels, the input the ImageNet CNN expects."""
    import librosa

    mel = librosa.feature.melspectrogram(y=clip, sr=sample_rate, n_fft=512, hop_length=128, n_mels=n_mels)
    db = librosa.power_to_db(mel, ref=max(float(mel.max()), 1e-10), top_db=80.0)
    grey = np.clip((db + 80.0) / 80.0 * 255.0, 0, 255).astype(np.uint8)[::-1]
    return np.repeat(grey[:, :, None], 3, axis=2)


class LogMelImages(TransformerMixin, BaseEstimator):
    """Clips -> list of log-mel spectrogram images (``log_mel_image``)."""

    def __init__(self, *, sample_rate: int = SAMPLE_RATE, duration: float = DURATION, n_mels: int = 128) -> None:
        self.sample_rate = sample_rate
        self.duration = duration
        self.n_mels = n_mels

    def fit(self, X: Any = None, y: Any = None) -> "LogMelImages":
        self.fitted_ = True
        return self

    def transform(self, X: Any) -> list[np.ndarray]:
        sr = int(self.sample_rate)
        return [log_mel_image(read_clip(c, sample_rate=sr, duration=self.duration), sr, int(self.n_mels))
                for c in as_clip_list(X)]


class AudioCnnFeatures(TransformerMixin, BaseEstimator):
    """Clips -> log-mel images -> frozen CNN features (``zoo.hybrid.CnnFeatures``, EfficientNet-Lite0 by default).

    ``cnn`` is an unfitted ``CnnFeatures`` (None: the default one); ``transform`` returns float32
    ``(N, 1280)``, memoised per clip like every frozen extractor."""

    def __init__(self, *, cnn: Any = None, sample_rate: int = SAMPLE_RATE, duration: float = DURATION,
                 n_mels: int = 128) -> None:
        self.cnn = cnn
        self.sample_rate = sample_rate
        self.duration = duration
        self.n_mels = n_mels

    def fit(self, X: Any = None, y: Any = None) -> "AudioCnnFeatures":
        """Load the frozen network (nothing is learned)."""
        from sklearn.base import clone

        from zoo.hybrid import CnnFeatures

        self.images_ = LogMelImages(sample_rate=self.sample_rate, duration=self.duration, n_mels=self.n_mels).fit()
        self.cnn_ = (CnnFeatures(resize_mode="squash") if self.cnn is None else clone(self.cnn)).fit()
        self.n_features_out_ = self.cnn_.n_features_out_
        return self

    @property
    def device_(self) -> str:
        check_is_fitted(self, "cnn_")
        return self.cnn_.device_

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "cnn_")
        config = ("audio_cnn", int(self.sample_rate), float(self.duration), int(self.n_mels),
                  repr(self.cnn_.get_params()))
        return memo_rows(config, as_clip_list(X), lambda clips: self.cnn_.transform(self.images_.transform(clips)))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``cnn_0000`` ... (the frozen network's unnamed dimensions)."""
        check_is_fitted(self, "cnn_")
        return self.cnn_.get_feature_names_out()
