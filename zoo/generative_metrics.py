"""How good, how new and how varied generated images are, measured in the frozen EfficientNet-Lite0 feature space.

* :func:`frechet_distance` - the Fréchet distance between Gaussians fitted to two feature sets (Heusel et al.
  2017's formula). Computed on EfficientNet-Lite0 features (1280-d, ImageNet weights shipped locally), so it is
  NOT the Inception-v3 FID of the literature and its values are not comparable with published FIDs; it is
  comparable between runs of this project at the same feature size and sample counts (the statistic is biased
  upwards for small samples, so every score is shown beside a real-vs-real floor of the same size).
* :func:`precision_recall` - improved precision and recall (Kynkäänniemi et al. 2019): the share of generated
  images inside the k-NN manifold of the real ones (fidelity), and of real images inside the generated
  manifold (coverage).
* :func:`memorisation` - the share of generated images closer to their nearest training image than almost all
  held-out real images are (a generator that copies its training set scores near 1, an honest one near
  ``quantile``), plus the exact pixel copies of training images.
* :func:`diversity` - mode collapse: the mean pairwise feature distance of the samples over that of real
  images, and, with labels, how many classes a classifier trained on the training features finds among them.

:func:`score_generator` puts them together beside the baselines (the real floor, pixel noise around the training
mean, uniform random pixels) for `advisor train`.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

__all__ = ["FEATURE_SPACE", "diversity", "exact_copies", "frechet_distance", "image_features", "memorisation",
           "precision_recall", "score_generator", "trivial_samples"]

FEATURE_IMAGE_SIZE = 64
FEATURE_SPACE = (f"EfficientNet-Lite0 (ImageNet) pooled features, 1280-d, images at {FEATURE_IMAGE_SIZE} px; "
                 "not Inception-v3, so not comparable with published FID")
MEMO_QUANTILE = 0.05        # a sample is 'too close' when nearer its nearest training image than 95 % of real ones
MEMO_FLAG = 0.25            # more than this share too close: memorisation flagged (an honest generator: ~0.05)
DIVERSITY_FLAG = 0.6        # samples less than 60 % as spread as real images: mode collapse flagged
COVERAGE_SHARE = 0.25       # a class is covered when it gets at least a quarter of its fair share of samples


def image_features(images: Any, *, device: Optional[str] = None, weights_path: Any = None) -> np.ndarray:
    """Frozen EfficientNet-Lite0 features (float64, (N, 1280)) of images (arrays or paths), the whole image
    squashed to FEATURE_IMAGE_SIZE px."""
    from zoo.hybrid import CnnFeatures

    ext = CnnFeatures(image_size=FEATURE_IMAGE_SIZE, resize_mode="squash", device=device, weights_path=weights_path,
                      verbose=False)
    return ext.fit().transform(images).astype(np.float64)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(C_a + C_b - 2 (C_a C_b)^(1/2)) of two feature sets (rows = items).

    Tr (C_a C_b)^(1/2) is the sum of the singular values of A B^T / sqrt((n_a - 1)(n_b - 1)) for the centred
    feature matrices A, B: exact, and it never forms a d x d square root."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("the Fréchet distance needs at least 2 items on each side")
    ca, cb = a - a.mean(0), b - b.mean(0)
    scale = np.sqrt((len(a) - 1) * (len(b) - 1))
    cross = np.linalg.svd(ca @ cb.T / scale, compute_uv=False).sum()
    tr_a, tr_b = (ca ** 2).sum() / (len(a) - 1), (cb ** 2).sum() / (len(b) - 1)
    value = float(((a.mean(0) - b.mean(0)) ** 2).sum() + tr_a + tr_b - 2.0 * cross)
    return max(value, 0.0)


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def _knn_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Squared distance of each row to its k-th nearest other row."""
    d = _sq_dists(x, x)
    np.fill_diagonal(d, np.inf)
    k = min(k, len(x) - 1)
    return np.partition(d, k - 1, axis=1)[:, k - 1]


def _inside(points: np.ndarray, manifold: np.ndarray, radii: np.ndarray) -> float:
    """Share of ``points`` inside at least one ball (manifold row, its k-NN radius)."""
    d = _sq_dists(points, manifold)
    return float((d <= radii[None, :] * (1 + 1e-9) + 1e-9).any(axis=1).mean())


def precision_recall(real: np.ndarray, generated: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Improved precision (generated inside the real k-NN manifold) and recall (real inside the generated one)."""
    real, generated = np.asarray(real, dtype=np.float64), np.asarray(generated, dtype=np.float64)
    if len(real) < 2 or len(generated) < 2:
        raise ValueError("precision and recall need at least 2 items on each side")
    return (_inside(generated, real, _knn_radii(real, k)), _inside(real, generated, _knn_radii(generated, k)))


def _nearest(points: np.ndarray, pool: np.ndarray, exclude_self: bool = False) -> np.ndarray:
    """Euclidean distance of each point to its nearest row of ``pool`` (in chunks)."""
    out = np.empty(len(points))
    for s in range(0, len(points), 512):
        d = _sq_dists(points[s:s + 512], pool)
        out[s:s + 512] = np.sqrt(d.min(axis=1))
    return out


def exact_copies(samples: np.ndarray, train_images: np.ndarray) -> int:
    """How many samples are byte-for-byte a training image (same shape and dtype compared)."""
    seen = {np.ascontiguousarray(img).tobytes() for img in np.asarray(train_images)}
    return sum(np.ascontiguousarray(img).tobytes() in seen for img in np.asarray(samples))


def memorisation(generated: np.ndarray, train: np.ndarray, heldout: np.ndarray,
                 quantile: float = MEMO_QUANTILE) -> dict[str, Any]:
    """Share of generated items nearer their nearest training item than the ``quantile`` of held-out real
    items' nearest-training distances (expected ≈ ``quantile`` for a generator that does not copy)."""
    threshold = float(np.quantile(_nearest(heldout, train), quantile))
    gen = _nearest(generated, train)
    share = float((gen < threshold).mean())
    return {"share_too_close": share, "expected_share": quantile, "threshold": threshold,
            "median_nearest_train": float(np.median(gen)), "flagged": share > MEMO_FLAG}


def _mean_pairwise(x: np.ndarray, limit: int = 1000) -> float:
    x = x[:limit]
    d = np.sqrt(_sq_dists(x, x))
    return float(d.sum() / max(len(x) * (len(x) - 1), 1))


def diversity(generated: np.ndarray, real: np.ndarray, classify: Optional[Callable[[np.ndarray], np.ndarray]] = None,
              n_classes: int = 0) -> dict[str, Any]:
    """Mode collapse check: spread of the samples relative to real images (1 ≈ as varied), and the classes a
    classifier finds among them (``classify``: features -> labels; with ``n_classes`` known)."""
    ratio = _mean_pairwise(generated) / max(_mean_pairwise(real), 1e-12)
    out: dict[str, Any] = {"diversity_ratio": ratio, "classes_covered": None, "n_classes": n_classes or None}
    flagged = ratio < DIVERSITY_FLAG
    if classify is not None and n_classes:
        _, counts = np.unique(classify(generated), return_counts=True)
        covered = int((counts >= COVERAGE_SHARE * len(generated) / n_classes).sum())
        out["classes_covered"] = covered
        flagged = flagged or covered < (n_classes + 1) // 2
    out["flagged"] = bool(flagged)
    return out


def trivial_samples(train_images: np.ndarray, n: int, kind: str, seed: int = 0) -> np.ndarray:
    """Baseline generators: ``"noise"`` - each pixel drawn from a normal with the training set's per-pixel
    mean and spread; ``"uniform"`` - uniform random pixels. Same shape and dtype as the training images."""
    rng = np.random.default_rng(seed)
    x = np.asarray(train_images, dtype=np.float64)
    shape = (n,) + x.shape[1:]
    if kind == "noise":
        out = rng.normal(x.mean(0), x.std(0), size=shape)
    elif kind == "uniform":
        out = rng.uniform(0, 256, size=shape)
    else:
        raise ValueError(f"kind must be 'noise' or 'uniform', got {kind!r}")
    return np.clip(out, 0, 255).astype(np.uint8)


MAX_TRAIN_FEATURES = 5000   # training images embedded for the memorisation check and the classifier (a sample)
MAX_SCORED = 2000           # held-out images scored (a sample), and as many generated ones


def _scores(feats: np.ndarray, test_f: np.ndarray) -> dict[str, float]:
    precision, recall = precision_recall(test_f, feats)
    return {"frechet_distance": frechet_distance(feats, test_f), "precision": precision, "recall": recall,
            "diversity_ratio": diversity(feats, test_f)["diversity_ratio"]}


def _class_model(train_f: np.ndarray, labels: Optional[np.ndarray]) -> tuple[Any, int]:
    """A standardised logistic regression on the training features (None without two or more classes)."""
    if labels is None or len(np.unique(labels)) < 2:
        return None, 0
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=300))
    return clf.fit(train_f, labels), len(np.unique(labels))


def score_generator(model: Any, train_images: np.ndarray, test_images: np.ndarray, *,
                    train_labels: Optional[np.ndarray] = None, seed: int = 0, device: Optional[str] = None,
                    weights_path: Any = None) -> dict[str, Any]:
    """The fitted generator ``model`` (``sample(n, seed)``) against the held-out ``test_images``, beside its
    baselines; images are uint8 in the model's output layout. Samples as many images as there are test ones
    (at most MAX_SCORED; more held-out images are subsampled)."""
    pick = np.random.default_rng([seed, 1]).permutation(len(test_images))[:MAX_SCORED]
    test_images = np.asarray(test_images)[np.sort(pick)]
    rng = np.random.default_rng(seed)
    n = len(test_images)
    keep = np.sort(rng.permutation(len(train_images))[:MAX_TRAIN_FEATURES])
    train_images = np.asarray(train_images)[keep]
    train_labels = None if train_labels is None else np.asarray(train_labels)[keep]
    embed = lambda imgs: image_features(imgs, device=device, weights_path=weights_path)  # noqa: E731
    train_f, test_f = embed(train_images), embed(test_images)
    samples = model.sample(n, seed=seed + 1)
    gen_f = embed(samples)
    clf, k = _class_model(train_f, train_labels)
    model_scores = _scores(gen_f, test_f)
    model_scores.update(memorisation=memorisation(gen_f, train_f, test_f),
                        mode_collapse=diversity(gen_f, test_f, clf.predict if clf else None, k),
                        exact_copies=exact_copies(samples, train_images))
    floor_idx = rng.permutation(len(train_images))[:n]
    baselines = {
        "real images (training, same count)": _scores(train_f[floor_idx], test_f),
        "pixel noise (training mean ± sd)": _scores(embed(trivial_samples(train_images, n, "noise", seed)), test_f),
        "uniform random pixels": _scores(embed(trivial_samples(train_images, n, "uniform", seed)), test_f),
    }
    if clf is not None:
        real_cov = diversity(test_f, test_f, clf.predict, k)["classes_covered"]
        baselines["real images (training, same count)"]["classes_covered"] = real_cov
    return {"feature_space": FEATURE_SPACE, "n_samples": n, "n_real": n, "n_train_embedded": len(train_images),
            "model": model_scores, "baselines": baselines,
            "checks": {"mode_collapse": model_scores["mode_collapse"]["flagged"],
                       "memorisation": model_scores["memorisation"]["flagged"]}}
