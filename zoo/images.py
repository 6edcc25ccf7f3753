"""Image inputs shared by every image model: arrays or file paths in, RGB uint8 arrays out."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence, Union

import numpy as np

ImageItem = Union[str, Path, np.ndarray]


def to_rgb_array(item: ImageItem) -> np.ndarray:
    """One image as an (H, W, 3) uint8 array, from a path (any Pillow format) or an array (gray or RGB[A]).

    A path that is not a readable image (missing, truncated, not an image, over Pillow's decompression-bomb limit)
    raises ValueError with one line naming it.
    """
    if isinstance(item, (str, Path)):
        from PIL import Image

        try:
            with Image.open(item) as img:
                return np.asarray(img.convert("RGB"), dtype=np.uint8)
        except (OSError, Image.DecompressionBombError, SyntaxError) as exc:   # truncated, not an image, too big
            why = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise ValueError(f"{item}: cannot read as an image ({why})") from None
    arr = np.asarray(item)
    if arr.dtype != np.uint8:
        arr = np.clip(arr * (255.0 if arr.max(initial=0) <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[:, :, :3]
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {arr.shape}")
    return arr


def as_image_list(X: Any) -> Sequence[ImageItem]:
    """Accept an (N, H, W[, C]) array, or a sequence of paths/arrays; return an indexable sequence of items."""
    if isinstance(X, np.ndarray) and X.ndim in (3, 4):
        return X
    if isinstance(X, (list, tuple)) or hasattr(X, "__getitem__"):
        return list(X)
    raise ValueError("images must be an (N, H, W[, C]) array or a list of image paths / arrays")
