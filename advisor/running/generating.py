"""`advisor train` for `task: generation`, and `advisor generate`: a generator trained, scored and sampled.

The generator (zoo.generative) trains on the training split only; the held-out split is touched once, at the
end, by zoo.generative_metrics.score_generator: Fréchet distance, precision and recall in EfficientNet-Lite0
feature space beside a real-image floor and two trivial generators, the memorisation check and the
mode-collapse check (whose result joins the recommendation's risks). The run folder holds the checkpoint
(model.joblib, signed as every run's), samples.png (a grid of 64 samples), metrics.json, the descriptor, the
recommendation and run.json; it is built aside and swapped in whole.
"""

from __future__ import annotations

import base64
import json
import math
import time
from pathlib import Path
from typing import Any, Callable, Optional

import yaml

from advisor.deciding.recommendation import Recommendation
from advisor.deciding.rules import Risk
from advisor.deciding.schema import ProjectDescriptor
from advisor.records import RunInfo, RunMetrics, dump_record
from advisor.running.fitting import TrainError, build_estimator
from advisor.running.outfolder import MARKERS
from zoo.io import publish_folder, write_bytes_atomic, write_text_atomic

__all__ = ["GRID_FILE", "GenerateError", "generate_grid", "grid_png", "train_generation"]

GRID_FILE = "samples.png"
GRID_SAMPLES = 64
MAX_GENERATE = 4096


class GenerateError(ValueError):
    """`advisor generate` cannot run as asked; the message is one line."""


def grid_png(images: Any, columns: Optional[int] = None, scale: int = 2) -> bytes:
    """uint8 images ((n, S, S) or (n, S, S, 3)) tiled into one PNG, ``columns`` wide (default: a square),
    1-pixel gaps, each image enlarged ``scale`` times (nearest neighbour)."""
    import io

    import numpy as np
    from PIL import Image

    imgs = np.asarray(images, dtype=np.uint8)
    if imgs.ndim == 3:
        imgs = imgs[..., None]
    n, h, w, c = imgs.shape
    cols = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    canvas = np.full((rows * (h + 1) + 1, cols * (w + 1) + 1, c), 255, dtype=np.uint8)
    for i, img in enumerate(imgs):
        r, k = divmod(i, cols)
        canvas[1 + r * (h + 1):1 + r * (h + 1) + h, 1 + k * (w + 1):1 + k * (w + 1) + w] = img
    pil = Image.fromarray(canvas[..., 0] if c == 1 else canvas)
    pil = pil.resize((pil.width * scale, pil.height * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    pil.save(buf, format="PNG")
    return buf.getvalue()


def _curves(estimator: Any) -> dict[str, Any]:
    return {"loss_curves": {k: [float(v) for v in vals] for k, vals in estimator.loss_curves_.items()},
            "epoch_seconds": [float(s) for s in estimator.epoch_seconds_],
            "epochs_run": len(estimator.epoch_seconds_), "stop_reason": estimator.stop_reason_}


def _headline(scores: dict[str, Any]) -> dict[str, Any]:
    """The Fréchet distance (lower is better) beside the better of the two trivial generators."""
    value = scores["model"]["frechet_distance"]
    trivial = {k: v["frechet_distance"] for k, v in scores["baselines"].items() if not k.startswith("real")}
    best = min(trivial, key=trivial.get)
    return {"metric": "frechet_distance", "value": value, "higher_is_better": False, "baseline": best,
            "baseline_value": trivial[best], "beats_baseline": value < trivial[best]}


def _collapse_risk(name: str, scores: dict[str, Any]) -> Risk:
    """The measured mode-collapse check as a line of the run's risks."""
    mc = scores["model"]["mode_collapse"]
    floor = scores["baselines"]["real images (training, same count)"]
    classes = (f", classes found by a classifier on its samples {mc['classes_covered']} of {mc['n_classes']} "
               f"(real images: {floor.get('classes_covered')})" if mc.get("classes_covered") is not None else "")
    verdict = "COLLAPSED" if mc["flagged"] else "not collapsed"
    detail = (f"measured on {scores['n_samples']:,} samples of '{name}': {verdict} — sample diversity "
              f"{mc['diversity_ratio']:.2f} of real images'{classes}.")
    mitigation = ("Retrain with another --seed or more epochs, or train the VAE (--model image_vae)."
                  if mc["flagged"] else "None needed at these numbers; check the sample grid by eye.")
    return Risk(id="measured.mode_collapse", detail=detail, mitigation=mitigation)


def _images(ds: Any, estimator: Any) -> Any:
    from zoo.generative import generation_images

    imgs, _ = generation_images(ds.X, int(estimator.image_size), estimator.channels_)
    return imgs[:, 0] if imgs.shape[1] == 1 else imgs.transpose(0, 2, 3, 1)


def train_generation(desc: ProjectDescriptor, rec: Recommendation, *, out: Path, name: str, info: Any,
                     train: Any, test: Any, device: Optional[str], budget_minutes: Optional[float], seed: int,
                     quiet: bool, echo: Callable[[str], None]) -> dict[str, Any]:
    """Fit generator `name` on `train`, score it once against `test`, write the run folder `out`."""
    import zoo
    from zoo.devices import announce_device
    from zoo.generative_metrics import score_generator

    if desc.data.modality.value != "image":
        raise TrainError(f"generation: the zoo trains image generators only; data.modality is "
                         f"{desc.data.modality.value}")
    announce_device(zoo.pick_device(device), echo)
    estimator = build_estimator(name, "generation", device=device, seed=seed, verbose=not quiet,
                                time_budget_s=budget_minutes * 60 * 0.8 if budget_minutes else None)
    echo(f"training {info.family} model '{name}' from scratch on {len(train):,} images ...")
    start = time.perf_counter()
    estimator.fit(train.X)
    train_seconds = time.perf_counter() - start
    echo(f"scoring {name} against the {len(test):,} held-out images (EfficientNet-Lite0 features) ...")
    scores = score_generator(estimator, _images(train, estimator), _images(test, estimator),
                             train_labels=train.y, seed=seed, device=device,
                             weights_path=desc.resources.weights_path)
    png = grid_png(estimator.sample(GRID_SAMPLES, seed=seed))
    metrics = {"model": name, "family": info.family, "task": "generation", "modality": "image",
               "train_seconds": train_seconds, "n_train": len(train), "n_test": len(test),
               "device": getattr(estimator, "device_", "cpu"), "seed": seed,
               "history": getattr(estimator, "history_", None), "skipped_inputs": 0,
               "headline": _headline(scores),
               "generation": {**scores, **_curves(estimator), "samples_file": GRID_FILE,
                              "sample_grid_png": base64.b64encode(png).decode("ascii")}}
    rec = rec.model_copy(update={"risks": [r for r in rec.risks if r.id != "measured.mode_collapse"]
                                 + [_collapse_risk(name, scores)]})
    _write(out, estimator, name, desc, rec, metrics, png)
    return metrics


def _write(out: Path, estimator: Any, name: str, desc: ProjectDescriptor, rec: Recommendation,
           metrics: dict[str, Any], png: bytes) -> None:
    """The run folder, built aside and swapped in whole."""
    from dataclasses import asdict, is_dataclass

    import zoo

    hist = metrics.get("history")
    metrics["history"] = asdict(hist) if is_dataclass(hist) else None

    def build(staging: Path) -> None:
        zoo.save_model(estimator, staging, name=name, extra={"modality": "image", "task": "generation"})
        metrics["model_size_bytes"] = (staging / "model.joblib").stat().st_size
        record = RunMetrics.model_validate(json.loads(json.dumps(metrics, default=str)))
        write_text_atomic(staging / "metrics.json", dump_record(record))
        write_bytes_atomic(staging / GRID_FILE, png)
        write_text_atomic(staging / "descriptor.yaml",
                          yaml.safe_dump(desc.model_dump(mode="json", exclude_none=True), sort_keys=False))
        write_text_atomic(staging / "recommendation.json", rec.model_dump_json(indent=2))
        info = RunInfo(seed=metrics["seed"], versions=zoo.library_versions(), classes=[],
                       finished=time.strftime("%Y-%m-%dT%H:%M:%S"))
        write_text_atomic(staging / MARKERS["train"], dump_record(info))

    publish_folder(Path(out), build)


def generate_grid(run: Path, n: int, output: Path, *, seed: int = 0, trust: bool = False) -> Path:
    """Sample `n` images from the generator saved in run folder `run` and write them as one PNG grid to
    `output`, atomically; GenerateError (one line) when the run is not a generator or the output is wrong."""
    import zoo

    run, output = Path(run), Path(output)
    if not 1 <= n <= MAX_GENERATE:
        raise GenerateError(f"-n {n}: give between 1 and {MAX_GENERATE:,} images")
    if output.suffix.lower() != ".png":
        raise GenerateError(f"{output}: the grid is written as PNG; give a name ending in .png")
    if output.is_dir() or not output.resolve().parent.is_dir():
        raise GenerateError(f"{output}: " + ("is a folder" if output.is_dir()
                                              else f"folder {output.parent} does not exist"))
    if not run.is_dir() or not (run / "model.joblib").is_file():
        raise GenerateError(f"{run}: not a run folder of `advisor train` (no model.joblib)")
    meta = zoo.model_meta(run)
    if meta.get("task") != "generation":
        raise GenerateError(f"{run}: holds a {meta.get('task') or 'non-generative'} model "
                            f"'{meta.get('model', '?')}'; `advisor generate` needs a generation run "
                            "(`advisor predict` serves the others)")
    model = zoo.load_model(run, trust=trust)
    write_bytes_atomic(output, grid_png(model.sample(n, seed=seed)))
    return output
