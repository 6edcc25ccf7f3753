"""Explanations computed at train time, saved as `explain.json` for the report.

What each model can honestly offer: permutation importance on the held-out split (any tabular model),
impurity importances, signed linear coefficients, a decision tree's rules, top terms per class (TF-IDF),
importance over a hybrid head's unnamed feature dimensions, Grad-CAM (fine-tuned CNNs) or occlusion maps
(any image classifier), the most confident mistakes (thumbnails / snippets / rows), and forecast vs actual.
Every piece is computed on its own; one that fails becomes ``{"error": "..."}`` and never breaks training.
"""

from __future__ import annotations

import base64
import contextlib
import io
import time
from typing import Any, Callable, Iterator

import numpy as np

from zoo.data import Dataset

TOP = 15            # features shown in an importance chart
THUMB = 64          # gallery thumbnail side (px)
PANEL = 112         # saliency panel side (px)
MAX_ROWS = 2000     # test rows used for permutation importance / predictions
SALIENCY_ITEMS = 4
SALIENCY_SECONDS = 30.0
GRADCAM_BATCH = 16


def _item(x: Any) -> Any:
    return x.item() if hasattr(x, "item") else x


def png_bytes(arr: np.ndarray) -> bytes:
    """uint8 (H, W[, 3]) array -> PNG file content."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _png(arr: np.ndarray) -> str:
    """uint8 (H, W[, 3]) array -> base64 PNG."""
    return base64.b64encode(png_bytes(arr)).decode("ascii")


def _resize(arr: np.ndarray, side: int) -> np.ndarray:
    """RGB uint8 image scaled so its longer side is `side` (nearest for upscaling small images: crisp pixels)."""
    from PIL import Image

    img = Image.fromarray(arr)
    scale = side / max(img.size)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    resample = Image.Resampling.NEAREST if scale >= 2 else Image.Resampling.BILINEAR
    return np.asarray(img.resize(size, resample))


def _heat_overlay(rgb: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """Original | heat-map overlay side by side; `heat` in [0, 1] at any resolution."""
    from PIL import Image

    base = _resize(rgb, PANEL)
    h, w = base.shape[:2]
    hm = np.asarray(Image.fromarray(heat.astype(np.float32), mode="F").resize((w, h), Image.Resampling.BILINEAR))
    hm = np.clip(hm, 0, 1)[..., None]
    gray = base.mean(axis=2, keepdims=True).repeat(3, axis=2) * 0.7 + 20
    hot = np.array([255, 200, 0], float) * (1 - hm) + np.array([225, 20, 30], float) * hm
    alpha = 0.8 * np.clip((hm - 0.15) / 0.85, 0, 1) ** 0.8
    over = (gray * (1 - alpha) + hot * alpha).clip(0, 255).astype(np.uint8)
    gap = np.full((h, 4, 3), 255, np.uint8)
    return np.concatenate([base, gap, over], axis=1)


@contextlib.contextmanager
def _quiet(model: Any) -> Iterator[None]:
    """No progress bars while explaining (restores `verbose`)."""
    old = getattr(model, "verbose", None)
    if isinstance(old, bool):
        model.verbose = False
    try:
        yield
    finally:
        if isinstance(old, bool):
            model.verbose = old


class _Ctx:
    """The test split (capped at MAX_ROWS) and predictions, computed once and shared by the pieces."""

    def __init__(self, model: Any, test: Dataset, task: str, seed: int) -> None:
        self.model, self.task = model, task
        n = len(test)
        idx = np.arange(n)
        if n > MAX_ROWS and task != "forecasting":
            idx = np.sort(np.random.default_rng(seed).choice(n, MAX_ROWS, replace=False))
        self.test = test if len(idx) == n else test.subset(idx)
        self._pred: Any = None

    @property
    def pred(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(predicted labels, confidence of the prediction or None)."""
        if self._pred is None:
            X = self.test.X
            if hasattr(self.model, "predict_proba") and self.task == "classification":
                proba = np.asarray(self.model.predict_proba(X))
                classes = np.asarray(self.model.classes_)
                labels = np.asarray(self.model.predict(X))      # a tuned threshold decides, not the arg-max
                index = {c: i for i, c in enumerate(classes.tolist())}
                column = [index[v] for v in labels.tolist()]
                self._pred = (labels, proba[np.arange(len(labels)), column])
            else:
                self._pred = (np.asarray(self.model.predict(X)), None)
        return self._pred


def _names(model: Any, n: int) -> list[str]:
    names = getattr(model, "feature_names_out_", None)
    names = [str(x) for x in names] if names is not None and len(names) == n else [f"x{i}" for i in range(n)]
    return names


def _ranked(names: list[str], values: np.ndarray, std: np.ndarray | None = None, key: Any = None) -> list[dict]:
    order = [i for i in np.argsort(-(np.abs(values) if key == "abs" else values)) if abs(values[i]) > 1e-12][:TOP]
    return [{"name": names[i], "value": float(values[i]), **({"std": float(std[i])} if std is not None else {})}
            for i in order]


# ----------------------------------------------------------------------------- pieces

def _permutation(ctx: _Ctx) -> dict[str, Any]:
    from sklearn.inspection import permutation_importance
    from threadpoolctl import threadpool_limits

    X, y = ctx.test.X, ctx.test.y
    cols = [str(c) for c in getattr(X, "columns", range(np.shape(X)[1]))]
    if len(cols) > 500:
        return {"skipped": f"{len(cols)} columns; permutation importance is limited to 500"}
    repeats = 5 if len(cols) <= 100 else 2
    with threadpool_limits(1, user_api="openmp"):      # many small predictions: threads only spin-wait
        res = permutation_importance(ctx.model, X, y, n_repeats=repeats, random_state=0)
    metric = "accuracy" if ctx.task == "classification" else "R²"
    return {"method": "permutation", "metric": metric, "n_items": len(y), "repeats": repeats,
            "note": f"Drop in held-out {metric} when one input column is shuffled (mean ± std over {repeats} "
                    f"shuffles of {len(y):,} test items).",
            "features": _ranked(cols, res.importances_mean, res.importances_std)}


def _feature_permutation(ctx: _Ctx) -> dict[str, Any]:
    """Permutation importance over a model's own named features (audio summary features): the features are
    computed once, every column shuffled `repeats` times, and all shuffled copies scored by the head in one call."""
    rng, y = np.random.default_rng(0), np.asarray(ctx.test.y)
    keep = np.sort(rng.permutation(len(y))[:500])                # bounds the shuffled copies' memory
    F, y = np.asarray(ctx.model.extract_features(ctx.test.subset(keep).X)), y[keep]
    n, d, repeats = len(F), F.shape[1], 5
    copies = np.repeat(F[None], d * repeats, axis=0)            # (d * repeats, n, d)
    for k in range(d * repeats):
        copies[k, :, k // repeats] = F[rng.permutation(n), k // repeats]
    pred = np.asarray(ctx.model.head_predict(np.vstack([F, copies.reshape(-1, d)])))
    base = float(np.mean(pred[:n] == y))
    acc = (pred[n:].reshape(d, repeats, n) == y).mean(axis=2)
    drops = base - acc
    return {"method": "permutation", "metric": "accuracy", "n_items": n, "repeats": repeats,
            "note": f"Drop in held-out accuracy when one named feature is shuffled (mean ± std over {repeats} "
                    f"shuffles of {n:,} test items).",
            "features": _ranked(_names(ctx.model, d), drops.mean(axis=1), drops.std(axis=1))}


def _coefficients(ctx: _Ctx) -> dict[str, Any]:
    coef = np.atleast_2d(np.asarray(ctx.model.coef_, dtype=float))
    names = _names(ctx.model, coef.shape[1])
    classes = [_item(c) for c in getattr(ctx.model, "classes_", [])]
    if coef.shape[0] == 1:
        towards = str(classes[1]) if len(classes) == 2 else "a higher prediction"
        return {"method": "coefficients", "signed": True,
                "note": f"Weights on standardised inputs; positive pushes towards {towards}.",
                "features": _ranked(names, coef[0], key="abs")}
    return {"method": "coefficients", "signed": False,
            "note": "Mean |weight| over classes, on standardised inputs.",
            "features": _ranked(names, np.abs(coef).mean(axis=0))}


def _model_importance(ctx: _Ctx) -> dict[str, Any]:
    imp = np.asarray(ctx.model.feature_importances_, dtype=float)
    names = _names(ctx.model, len(imp))
    out: dict[str, Any] = {"method": "impurity", "n_features": len(imp), "features": _ranked(names, imp)}
    prefixes = {n.split("_")[0] for n in names}
    if len(prefixes) > 1 and len(prefixes) < len(names) / 2:                # hand-crafted feature groups
        groups = {p: float(sum(v for n, v in zip(names, imp) if n.split("_")[0] == p)) for p in prefixes}
        out["groups"] = [{"name": k, "value": v} for k, v in sorted(groups.items(), key=lambda kv: -kv[1])]
    out["note"] = "Share of the model's splits (impurity decrease) each feature accounts for."
    return out


def _hybrid_head(ctx: _Ctx) -> dict[str, Any]:
    imp = np.asarray(ctx.model.feature_importances_, dtype=float)
    names = _names(ctx.model, len(imp))
    est = ctx.model.pipeline_[-1] if hasattr(ctx.model, "pipeline_") else None
    head = type(est).__name__ if est is not None else "head"
    how = "mean |coefficient| over classes, inputs standardised" if hasattr(est, "coef_") else "impurity decrease"
    share = float(np.sort(imp)[::-1][:TOP].sum() / max(imp.sum(), 1e-12))
    return {"method": "head", "head": head, "n_features": len(imp), "top_share": share,
            "note": f"Importance ({how}) of the {len(imp):,} frozen-network feature dimensions feeding the "
                    f"{head} head; the top {TOP} carry {share:.0%} of the total. The dimensions have no "
                    "human names: the head is readable, the features are not.",
            "features": _ranked(names, imp)}


def _rules(ctx: _Ctx) -> dict[str, Any]:
    text = ctx.model.export_rules()
    lines = text.splitlines()
    return {"text": "\n".join(lines[:200]), "truncated": len(lines) > 200, "n_lines": len(lines)}


def _top_terms(ctx: _Ctx) -> dict[str, Any]:
    terms = ctx.model.top_terms(10)
    return {"classes": [{"label": _item(k), "terms": [[t, float(w)] for t, w in v]}
                        for k, v in list(terms.items())[:20]]}


def _image(X: Any, i: int) -> np.ndarray:
    from zoo.images import to_rgb_array

    return to_rgb_array(X[i])


def _pick(ctx: _Ctx, k: int) -> list[int]:
    """Up to k test items of distinct true classes (correct ones first)."""
    pred, _ = ctx.pred
    y = ctx.test.y
    seen: set[Any] = set()
    chosen: list[int] = []
    for i in [*np.flatnonzero(pred == y), *np.flatnonzero(pred != y)]:
        if _item(y[i]) not in seen:
            seen.add(_item(y[i]))
            chosen.append(int(i))
        if len(chosen) == k:
            break
    return chosen


def _gradcam(model: Any, X: Any, idx: list[int]) -> tuple[list[np.ndarray], str]:
    """Grad-CAM of the predicted class on a fine-tuned timm CNN: the last stage of `net.blocks` whose map is at
    least 7 px wide (finer than the final stride-32 map), else the last one."""
    import torch

    net = model.model_
    stages = list(getattr(net, "blocks", []))
    if not stages:
        raise ValueError("no conv stages to attach Grad-CAM to")
    ds = model._dataset([X[i] for i in idx], None, training=False)
    x = torch.stack([ds[j][0] for j in range(len(idx))]).to(next(net.parameters()).device)
    acts: list[Any] = []
    hooks = [s.register_forward_hook(lambda _m, _i, o: acts.append(o)) for s in stages]
    try:
        with torch.enable_grad():
            logits = net(x.requires_grad_(True))
            pick = next((k for k in range(len(acts) - 1, -1, -1) if acts[k].shape[-1] >= 7), len(acts) - 1)
            target = acts[pick]
            (grad,) = torch.autograd.grad(logits.gather(1, logits.argmax(1)[:, None]).sum(), target)
            cams = torch.relu((grad.mean(dim=(2, 3), keepdim=True) * target).sum(dim=1)).detach().cpu().numpy()
    finally:
        for h in hooks:
            h.remove()
    cfg = model.data_config_
    mean, std = (torch.tensor(cfg[k]).view(1, 3, 1, 1) for k in ("mean", "std"))
    shown = ((x.detach().cpu() * std + mean).clamp(0, 1) * 255).byte().permute(0, 2, 3, 1).numpy()
    where = f"stage {pick + 1}/{len(stages)}, {cams.shape[-1]}×{cams.shape[-1]} map"
    return [_heat_overlay(rgb, _unit(cam)) for cam, rgb in zip(cams, shown)], where


def _unit(a: np.ndarray) -> np.ndarray:
    lo, hi = float(a.min()), float(a.max())
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)


def _occlusion(model: Any, X: Any, idx: list[int], grid: int = 7,
               seconds: float | None = None) -> list[np.ndarray]:
    """Drop in the predicted class's probability when a patch is greyed out (model-agnostic)."""
    out, start = [], time.perf_counter()
    for i in idx:
        orig = np.asarray(X[i]) if isinstance(X, np.ndarray) else _image(X, i)
        h, w = orig.shape[:2]
        sh, sw = -(-h // grid), -(-w // grid)
        fill = orig.mean(axis=(0, 1)).astype(orig.dtype)
        batch = [orig]
        for r in range(grid):
            for c in range(grid):
                img = orig.copy()
                rows = slice(max(0, r * sh - sh // 2), r * sh + sh + sh // 2)
                img[rows, max(0, c * sw - sw // 2): c * sw + sw + sw // 2] = fill
                batch.append(img)
        proba = np.asarray(model.predict_proba(np.stack(batch) if isinstance(X, np.ndarray) else batch))
        k = int(proba[0].argmax())
        heat = np.clip(proba[0, k] - proba[1:, k], 0, None).reshape(grid, grid)
        out.append(_heat_overlay(_image(X, i), _unit(heat)))
        if time.perf_counter() - start > (SALIENCY_SECONDS if seconds is None else seconds):
            break
    return out


OCCLUSION_NOTE = ("Grey patches slid over the image; red marks where hiding the patch lowers the predicted "
                  "class's probability most.")


def saliency_maps(model: Any, X: Any, idx: list[int], *,
                  seconds: float | None = None) -> tuple[list[np.ndarray], str, str]:
    """(original | heat-map overlay per image `X[i]` for i in `idx`, method, a sentence on what it shows):
    Grad-CAM on a fine-tuned CNN, else occlusion (any image classifier: hybrids and hand-made features too).
    Occlusion stops after `seconds` (default SALIENCY_SECONDS), so fewer maps than `idx` may come back."""
    if hasattr(getattr(model, "model_", None), "forward_features") and hasattr(model, "_dataset"):
        try:
            panels, start = [], time.perf_counter()
            for chunk in range(0, len(idx), GRADCAM_BATCH):          # bounded memory for a folder of images
                maps, where = _gradcam(model, X, idx[chunk:chunk + GRADCAM_BATCH])
                panels += maps
                if time.perf_counter() - start > (SALIENCY_SECONDS if seconds is None else seconds):
                    break
            return panels, "grad-cam", (f"Grad-CAM ({where}): red marks the regions whose activations raised "
                                        "the predicted class's score, on the cropped input the network saw.")
        except Exception:  # noqa: BLE001 - fall back to the model-agnostic map
            pass
    return _occlusion(model, X, idx, seconds=seconds), "occlusion", OCCLUSION_NOTE


def _saliency(ctx: _Ctx) -> dict[str, Any]:
    idx = _pick(ctx, SALIENCY_ITEMS)
    pred, conf = ctx.pred
    panels, method, note = saliency_maps(ctx.model, ctx.test.X, idx)
    items = [{"png": _png(p), "true": _item(ctx.test.y[i]), "pred": _item(pred[i]),
              "confidence": None if conf is None else float(conf[i])} for i, p in zip(idx, panels)]
    return {"method": method, "note": note, "items": items}


def _frame_strip(clip: Any, n_frames: int = 8) -> np.ndarray:
    """A clip's `n_frames` uniformly sampled frames side by side, each THUMB pixels a side: what the video models
    saw of it, in time order."""
    from zoo.video import read_frames

    return np.concatenate(list(read_frames(clip, n_frames=n_frames, size=THUMB)), axis=1)


def _misclassified(ctx: _Ctx, max_items: int, importance: dict[str, Any] | None) -> dict[str, Any]:
    pred, conf = ctx.pred
    y, X = ctx.test.y, ctx.test.X
    wrong = np.flatnonzero(pred != y)
    if conf is not None:
        wrong = wrong[np.argsort(-conf[wrong], kind="stable")]
    out: dict[str, Any] = {"total": int(len(wrong)), "n_items": len(y), "kind": ctx.test.modality, "items": [],
                           "order": "most confident first" if conf is not None else "test order"}
    cols: list[str] = []
    if ctx.test.modality in ("tabular", "time_series") and hasattr(X, "columns"):
        ranked = [f["name"] for f in (importance or {}).get("features", [])]
        cols = [c for c in ranked if c in X.columns][:5] or [str(c) for c in X.columns[:5]]
        out["columns"] = cols
    for i in wrong[:max_items]:
        item: dict[str, Any] = {"true": _item(y[i]), "pred": _item(pred[i]),
                                "confidence": None if conf is None else float(conf[i])}
        if ctx.test.modality == "image":
            item["png"] = _png(_resize(_image(X, int(i)), THUMB))
        elif ctx.test.modality == "video":
            item["png"] = _png(_frame_strip(X[int(i)]))
        elif ctx.test.modality == "text":
            text = str(X.iloc[i] if hasattr(X, "iloc") else X[i])
            item["text"] = text[:400] + ("…" if len(text) > 400 else "")
        elif cols:
            item["values"] = {c: _item(X.iloc[i][c]) for c in cols}
        out["items"].append(item)
    return out


SHAP_ROWS = 200        # held-out rows in the report's SHAP summary
SHAP_FEATURES = 12     # columns shown, by mean |contribution|
SHAP_SECONDS = 8.0        # tree and linear explainers take well under a second; the permutation one ~0.1 s a row


def _shap_summary(ctx: _Ctx, background: Any) -> dict[str, Any]:
    """SHAP values of held-out rows (zoo.attributions) for the report's summary plot: per column the mean
    |contribution| and each row's (contribution, the value's percentile in the explained rows). Binary tasks
    explain the positive class for every row, multi-class ones each row's predicted class."""
    import pandas as pd

    from zoo.attributions import explain_rows, method

    X = ctx.test.X.iloc[:SHAP_ROWS]
    classes = list(getattr(ctx.model, "classes_", []))
    towards = None
    if ctx.task == "classification":
        positive = getattr(ctx.model, "positive_class_", None)
        towards = (classes[-1] if positive is None else positive) if len(classes) == 2 else None
        predicted = [towards] * len(X) if towards is not None else list(ctx.model.predict(X))
    found = explain_rows(ctx.model, X, predicted if ctx.task == "classification" else None,
                         background=background, seconds=SHAP_SECONDS)
    n = len(found.contributions)
    mean_abs = np.abs(found.contributions).mean(axis=0)
    features = []
    for j in np.argsort(-mean_abs, kind="stable")[:SHAP_FEATURES]:
        values = X[found.columns[j]].iloc[:n]
        rank = (pd.to_numeric(values, errors="coerce").rank(pct=True) if pd.api.types.is_numeric_dtype(values)
                else pd.Series([np.nan] * n))
        features.append({"name": found.columns[j], "mean_abs": float(mean_abs[j]),
                         "points": [[round(float(c), 6), None if r != r else round(float(r), 3)]
                                    for c, r in zip(found.contributions[:, j], rank)]})
    what = (f"towards '{_item(towards)}'" if towards is not None else
            "towards each row's predicted class" if ctx.task == "classification" else "on the predicted value")
    return {"method": method(ctx.model), "output": found.output, "towards": _item(towards), "n_items": n,
            "skipped": found.skipped, "features": features,
            "note": f"SHAP values of {n:,} held-out rows {what}, in {found.output} "
                    f"({method(ctx.model)} explainer); colour: the value's rank among them (blue low, red high)."}


def _largest_errors(ctx: _Ctx, max_items: int) -> dict[str, Any]:
    pred, _ = ctx.pred
    err = np.abs(pred.astype(float) - ctx.test.y.astype(float))
    order = np.argsort(-err)[:max_items]
    return {"items": [{"index": int(i), "true": float(ctx.test.y[i]), "pred": float(pred[i]), "error": float(err[i])}
                      for i in order]}


def _forecast(ctx: _Ctx) -> dict[str, Any]:
    X, y = ctx.test.X, ctx.test.y
    pred = np.asarray(ctx.model.predict(X if X is not None else len(y)), dtype=float)
    step = max(1, -(-len(y) // 300))
    return {"actual": [float(v) for v in y[::step]], "predicted": [float(v) for v in pred[::step]],
            "step": step, "n": len(y)}


# ----------------------------------------------------------------------------- entry point

def _safe(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - an explanation must never break training
        msg = str(exc).strip().splitlines()
        return {"error": f"{type(exc).__name__}: {msg[0][:300] if msg else ''}".rstrip(": ")}


def explain(model: Any, name: str, family: str, test: Dataset, task: str, *, max_items: int = 8,
            seed: int = 0, background: Any = None) -> dict[str, Any]:
    """JSON-able explanations of a fitted zoo model on its held-out split (see module doc); `background`
    (training rows) lets the SHAP summary explain models other than trees."""
    start = time.perf_counter()
    out: dict[str, Any] = {"model": name, "family": family, "modality": test.modality, "task": task}
    ctx = _Ctx(model, test, task, seed)
    modality, supervised = test.modality, task in ("classification", "regression")
    with _quiet(model):
        if modality == "tabular" and supervised:
            out["importance"] = _safe(lambda: _permutation(ctx))
            out["shap"] = _safe(lambda: _shap_summary(ctx, background))
        elif family == "classical" and task == "classification" and _has(model, "head_predict"):
            out["importance"] = _safe(lambda: _feature_permutation(ctx))
        if family == "hybrid" and _has(model, "feature_importances_"):
            out["head_importance"] = _safe(lambda: _hybrid_head(ctx))
        elif family == "classical" and supervised and _has(model, "coef_"):
            out["coefficients"] = _safe(lambda: _coefficients(ctx))
        elif family == "classical" and supervised and _has(model, "feature_importances_"):
            out["model_importance"] = _safe(lambda: _model_importance(ctx))
        if hasattr(model, "export_rules"):
            out["rules"] = _safe(lambda: _rules(ctx))
        if hasattr(model, "top_terms"):
            out["top_terms"] = _safe(lambda: _top_terms(ctx))
        if task == "classification" and modality == "image" and hasattr(model, "predict_proba"):
            out["saliency"] = _safe(lambda: _saliency(ctx))
        if task == "classification" and test.y is not None:
            imp = out.get("importance") if isinstance(out.get("importance"), dict) else None
            out["misclassified"] = _safe(lambda: _misclassified(ctx, max_items, imp))
        if task == "regression":
            out["largest_errors"] = _safe(lambda: _largest_errors(ctx, max_items))
        if task == "forecasting":
            out["forecast"] = _safe(lambda: _forecast(ctx))
    out["seconds"] = round(time.perf_counter() - start, 3)
    return out


def _has(model: Any, attr: str) -> bool:
    """hasattr that also treats properties raising (e.g. a head without importances) as absent."""
    try:
        getattr(model, attr)
        return True
    except Exception:  # noqa: BLE001
        return False
