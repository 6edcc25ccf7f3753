"""Hand-crafted image features with scikit-image, as a scikit-learn transformer.

Groups (each with readable feature names):
``color`` HSV histograms + channel statistics, ``lbp`` uniform local-binary-pattern histograms,
``glcm`` grey-level co-occurrence statistics, ``edges`` Canny density + Sobel magnitude/orientation,
``hog`` histogram of oriented gradients, ``shape`` region descriptors of the largest Otsu region.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from itertools import product
from typing import Any

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from zoo.memo import memo_rows
from zoo.images import as_image_list  # the one image-list rule (re-exported: part of this module's API)

__all__ = ["FEATURE_GROUPS", "HandcraftedImageFeatures", "as_image_list", "extract_features", "feature_names"]

FEATURE_GROUPS: tuple[str, ...] = ("color", "lbp", "glcm", "edges", "hog", "shape")
_LBP_SCALES = ((8, 1), (16, 2))          # (points, radius)
_GLCM_PROPS = ("contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM")
_GLCM_DISTANCES = (1, 3)
_GLCM_LEVELS = 32
_EDGE_BINS = 8
_SHAPE_NAMES = ("otsu_threshold", "foreground_fraction", "n_regions", "area_fraction", "eccentricity",
                "solidity", "extent", "orientation", "compactness", "axis_ratio", "centroid_row", "centroid_col")


def _prepare(img: Any, size: int) -> np.ndarray:
    """One image (array or path) -> (size, size, 3) float RGB in [0, 1]."""
    from skimage.transform import resize
    from skimage.util import img_as_float

    from zoo.images import to_rgb_array

    if isinstance(img, (str, os.PathLike)):
        img = to_rgb_array(os.fspath(img))      # the zoo's shared reader (Pillow, any format -> RGB)
    arr = np.asarray(img)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim == 3 and arr.shape[-1] == 4:
        arr = arr[..., :3]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] == 3)):
        raise ValueError(f"expected an (H,W), (H,W,3) or (H,W,4) image, got shape {arr.shape}")
    arr = np.clip(img_as_float(arr), 0.0, 1.0)
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    if arr.shape[:2] != (size, size):
        arr = resize(arr, (size, size), anti_aliasing=True)
    return np.clip(arr, 0.0, 1.0)


def _hog_grid(size: int, ppc: int) -> int:
    n_blocks = size // ppc - 1
    if n_blocks < 1:
        raise ValueError(f"image_size={size} is too small for hog_pixels_per_cell={ppc}")
    return n_blocks


def feature_names(groups: Sequence[str] = FEATURE_GROUPS, *, image_size: int = 128, hsv_bins: int = 16,
                  hog_orientations: int = 9, hog_pixels_per_cell: int = 16) -> list[str]:
    """Names of the features ``extract_features`` returns, in order."""
    names: list[str] = []
    for g in groups:
        if g == "color":
            names += [f"hsv_{c}_hist{i:02d}" for c in "hsv" for i in range(hsv_bins)]
            names += ["hsv_s_mean", "hsv_s_std", "hsv_v_mean", "hsv_v_std", "rgb_r_mean", "rgb_g_mean", "rgb_b_mean"]
        elif g == "lbp":
            names += [f"lbp_p{p}r{r}_bin{i:02d}" for p, r in _LBP_SCALES for i in range(p + 2)]
        elif g == "glcm":
            names += [f"glcm_{p.lower()}_d{d}" for p in _GLCM_PROPS for d in _GLCM_DISTANCES]
        elif g == "edges":
            names += ["edge_canny_density", "edge_sobel_mean", "edge_sobel_std"]
            names += [f"edge_orient_bin{i}" for i in range(_EDGE_BINS)]
        elif g == "hog":
            nb = _hog_grid(image_size, hog_pixels_per_cell)
            names += [f"hog_blk{r}_{c}_cell{i}{j}_ori{o}"
                      for r, c, i, j, o in product(range(nb), range(nb), range(2), range(2), range(hog_orientations))]
        elif g == "shape":
            names += [f"shape_{n}" for n in _SHAPE_NAMES]
        else:
            raise ValueError(f"unknown feature group {g!r}; choose from {FEATURE_GROUPS}")
    return names


def _shape_features(gray: np.ndarray) -> list[float]:
    from skimage.filters import threshold_otsu
    from skimage.measure import label, regionprops

    if float(gray.max() - gray.min()) < 1e-6:
        return [float(gray.mean())] + [0.0] * (len(_SHAPE_NAMES) - 1)
    t = float(threshold_otsu(gray))
    mask = gray > t
    if mask.mean() > 0.5:                      # assume the object is the smaller phase
        mask = ~mask
    regions = regionprops(label(mask))
    total = float(gray.size)
    big = [r for r in regions if r.area >= 0.001 * total]
    if not big:
        return [t, float(mask.mean())] + [0.0] * (len(_SHAPE_NAMES) - 2)
    r = max(big, key=lambda reg: reg.area)
    major, minor = float(r.axis_major_length), float(r.axis_minor_length)
    h, w = gray.shape
    return [t, float(mask.mean()), float(len(big)), r.area / total, float(r.eccentricity), float(r.solidity),
            float(r.extent), float(r.orientation), float(r.perimeter) ** 2 / (4 * np.pi * r.area),
            minor / major if major > 0 else 0.0, r.centroid[0] / h, r.centroid[1] / w]


def extract_features(img: Any, groups: Sequence[str] = FEATURE_GROUPS, *, image_size: int = 128,
                     hsv_bins: int = 16, hog_orientations: int = 9, hog_pixels_per_cell: int = 16) -> np.ndarray:
    """Feature vector of one image (array or path), matching ``feature_names`` with the same arguments."""
    from skimage.color import rgb2gray, rgb2hsv
    from skimage.feature import canny, graycomatrix, graycoprops, hog, local_binary_pattern
    from skimage.filters import sobel, sobel_h, sobel_v
    from skimage.util import img_as_ubyte

    rgb = _prepare(img, image_size)
    gray = rgb2gray(rgb)
    gray_u8 = img_as_ubyte(gray)
    parts: list[np.ndarray] = []
    for g in groups:
        if g == "color":
            hsv = rgb2hsv(rgb)
            hists = [np.histogram(hsv[..., c], bins=hsv_bins, range=(0.0, 1.0))[0] / gray.size for c in range(3)]
            stats = [hsv[..., 1].mean(), hsv[..., 1].std(), hsv[..., 2].mean(), hsv[..., 2].std(),
                     *rgb.reshape(-1, 3).mean(axis=0)]
            parts += [*hists, np.asarray(stats)]
        elif g == "lbp":
            for p, r in _LBP_SCALES:
                codes = local_binary_pattern(gray_u8, p, r, method="uniform")
                parts.append(np.bincount(codes.astype(np.int64).ravel(), minlength=p + 2)[: p + 2] / gray.size)
        elif g == "glcm":
            q = (gray_u8 // (256 // _GLCM_LEVELS)).astype(np.uint8)
            m = graycomatrix(q, distances=list(_GLCM_DISTANCES), angles=[0, np.pi / 4, np.pi / 2, 3 * np.pi / 4],
                             levels=_GLCM_LEVELS, symmetric=True, normed=True)
            parts += [graycoprops(m, p).mean(axis=1) for p in _GLCM_PROPS]   # mean over angles, per distance
        elif g == "edges":
            mag = sobel(gray)
            angle = np.mod(np.arctan2(sobel_h(gray), sobel_v(gray)), np.pi)
            hist = np.histogram(angle, bins=_EDGE_BINS, range=(0.0, np.pi), weights=mag)[0]
            parts += [np.asarray([canny(gray, sigma=2.0).mean(), mag.mean(), mag.std()]),
                      hist / max(float(hist.sum()), 1e-12)]
        elif g == "hog":
            _hog_grid(image_size, hog_pixels_per_cell)
            parts.append(hog(gray, orientations=hog_orientations, pixels_per_cell=(hog_pixels_per_cell,) * 2,
                             cells_per_block=(2, 2), block_norm="L2-Hys", feature_vector=True))
        elif g == "shape":
            parts.append(np.asarray(_shape_features(gray)))
        else:
            raise ValueError(f"unknown feature group {g!r}; choose from {FEATURE_GROUPS}")
    out = np.concatenate([np.ravel(p).astype(np.float64) for p in parts]) if parts else np.empty(0)
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


def _extract_batch(images: list[Any], kwargs: dict[str, Any]) -> np.ndarray:
    return np.vstack([extract_features(im, **kwargs) for im in images])


class HandcraftedImageFeatures(TransformerMixin, BaseEstimator):
    """Images -> hand-crafted feature matrix (colour, texture, edges, HOG, shape); stateless, parallel via joblib.

    ``X``: (N,H,W,3|4) or (N,H,W) array, or a list of arrays (any sizes) or image paths; every image is
    resized to ``image_size`` x ``image_size``.
    """

    def __init__(self, *, groups: Sequence[str] = FEATURE_GROUPS, image_size: int = 128, hsv_bins: int = 16,
                 hog_orientations: int = 9, hog_pixels_per_cell: int = 16, n_jobs: int | None = -1) -> None:
        self.groups = groups
        self.image_size = image_size
        self.hsv_bins = hsv_bins
        self.hog_orientations = hog_orientations
        self.hog_pixels_per_cell = hog_pixels_per_cell
        self.n_jobs = n_jobs

    def _kwargs(self) -> dict[str, Any]:
        return {"groups": tuple(self.groups), "image_size": int(self.image_size), "hsv_bins": int(self.hsv_bins),
                "hog_orientations": int(self.hog_orientations),
                "hog_pixels_per_cell": int(self.hog_pixels_per_cell)}

    def fit(self, X: Any = None, y: Any = None) -> HandcraftedImageFeatures:
        """Validate the parameters and fix the output feature names (no data is learned)."""
        self.feature_names_out_ = np.asarray(feature_names(**self._kwargs()), dtype=object)
        self.n_features_out_ = len(self.feature_names_out_)
        return self

    def transform(self, X: Iterable[Any]) -> np.ndarray:
        """Feature matrix of shape (n_images, n_features_out_)."""
        check_is_fitted(self, "feature_names_out_")
        images = as_image_list(X)
        if not images:
            return np.empty((0, self.n_features_out_))
        return memo_rows(("handcrafted", repr(self._kwargs())), images, self._extract)

    def _extract(self, images: list[Any]) -> np.ndarray:
        kwargs = self._kwargs()
        n_jobs = min(effective_n_jobs(self.n_jobs), len(images))
        if n_jobs <= 1 or len(images) < 8:
            return _extract_batch(images, kwargs)
        chunks = [list(c) for c in np.array_split(np.arange(len(images)), 4 * n_jobs) if len(c)]
        rows = Parallel(n_jobs=n_jobs)(delayed(_extract_batch)([images[i] for i in c], kwargs) for c in chunks)
        return np.vstack(rows)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Readable names such as ``hsv_h_hist03``, ``lbp_p8r1_bin05``, ``hog_blk0_0_cell01_ori4``."""
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.requires_fit = True
        return tags
