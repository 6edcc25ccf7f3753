"""Image inputs shared by every image model and loader: arrays or file paths in, RGB uint8 arrays out.

The one home of the image file suffixes (``IMAGE_SUFFIXES``), the pixel cap (``MAX_PIXELS``, ``too_large``), the
image-list rule (``as_image_list``), the symlink-loop check for class folders (``loops_back``) and the image-path
column of a CSV (``image_path_column``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence, Union

import numpy as np

ImageItem = Union[str, Path, np.ndarray]

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
IMAGE_PATH_COLUMNS = ("path", "image", "file", "filename")
MAX_PIXELS = 32_000_000    # decoded as RGB that is 96 MB; below Pillow's own bomb limit (about 89 MP)
TOO_LARGE = f"over the {MAX_PIXELS:,}-pixel limit"


def too_large(img: Any) -> str:
    """'W×H pixels, over the limit' for an opened Pillow image with more than MAX_PIXELS pixels, else ''
    (its header says the size: nothing is decoded)."""
    return f"{img.width:,}×{img.height:,} pixels, {TOO_LARGE}" if img.width * img.height > MAX_PIXELS else ""


def to_rgb_array(item: ImageItem) -> np.ndarray:
    """One image as an (H, W, 3) uint8 array, from a path (any Pillow format) or an array (gray or RGB[A]).

    A path that is not a readable image (missing, truncated, not an image, over MAX_PIXELS)
    raises ValueError with one line naming it.
    """
    if isinstance(item, (str, os.PathLike)):
        from PIL import Image

        try:
            with Image.open(item) as img:
                if too_large(img):
                    raise ValueError(f"{item}: cannot read as an image ({too_large(img)})")
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


def as_image_list(X: Any) -> list[ImageItem]:
    """Images as a list of items (paths or arrays).

    A single path (``str`` / ``os.PathLike``) is one image; an (N, H, W) or (N, H, W, C) array is N images; an
    object array or any other sequence (list, tuple, Series) is one image per element. A single (H, W) image
    array must be wrapped in a list (it is refused rather than read as H images).
    """
    if isinstance(X, (str, os.PathLike)):
        return [X]
    if isinstance(X, np.ndarray):
        if X.dtype == object:
            return list(X.ravel())
        if X.ndim not in (3, 4):
            raise ValueError(f"expected (N,H,W) or (N,H,W,C) images, got an array of shape {X.shape}; "
                             "wrap a single image in a list")
        return list(X)
    if isinstance(X, (bytes, dict)) or not hasattr(X, "__iter__"):
        raise ValueError("images must be an (N, H, W[, C]) array, a path, or a list of image paths / arrays")
    return list(X)


def loops_back(folder: Path, top: Path) -> bool:
    """Whether ``folder`` (a class folder under the data folder whose resolved path is ``top``) cannot be walked
    safely: it is a dangling link or a link loop, or it resolves to the data folder or above it (its images
    would count twice, or the walk would never end)."""
    try:
        target = Path(folder).resolve(strict=True)
    except (OSError, RuntimeError):
        return True
    return top == target or top.is_relative_to(target)


def image_path_column(df: Any, exclude: Sequence[Any] = ()) -> Any:
    """The column of a table of images that holds the paths, one rule for the loader and ``advisor predict``:
    a column named ``path`` / ``image`` / ``file`` / ``filename`` (in that order; case and surrounding blanks
    ignored), else the first column not in ``exclude`` (e.g. the target)."""
    columns = [c for c in df.columns if c not in set(exclude)]
    if not columns:
        raise ValueError("the table has no column for the image paths")
    named = {str(c).strip().lower(): c for c in reversed(columns)}
    for name in IMAGE_PATH_COLUMNS:
        if name in named:
            return named[name]
    return columns[0]
