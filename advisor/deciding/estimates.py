"""A rough cost model: training time and memory per approach on the declared hardware.

Throughputs are per item on a 2-core CPU, taken from runs on this project's reference machine
(EfficientNet-Lite0 at 128 px, all-MiniLM-L6-v2 at 64 tokens, scikit-learn 1.9); GPU speed-ups are
conservative guesses for one mid-range GPU. The numbers are for planning, not promises; `advisor compare`
measures the real thing.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from advisor.deciding.recommendation import Estimate
from zoo import catalogue

# (approach, modality) -> seconds per item per pass on 2 CPU cores, passes (epochs), memory GB, what was timed.
# Calibrated on `python -m benchmarks quality` (2-core CPU, 2026-11-24): the zoo's default settings.
_CPU_COST: dict[tuple[str, str], tuple[float, int, float, str]] = {
    ("classical", "tabular"): (2e-5, 1, 0.5, "tabular_gradient_boosting: 100 iterations, ~30 columns"),
    ("classical", "time_series"): (5e-5, 1, 0.5, "ts_lag_gradient_boosting: lag and calendar features"),
    ("classical", "text"): (1e-3, 1, 1.0, "text_tfidf_linear: 1-2 grams"),
    ("classical", "image"): (0.009, 1, 1.0, "image_handcrafted_forest: 128 px"),
    ("hybrid", "image"): (0.005, 1, 1.5, "image_effnet_lite0_features_linear: one frozen pass at 128 px"),
    ("hybrid", "text"): (0.011, 1, 1.5, "text_minilm_features_linear: one frozen pass at 128 tokens"),
    # video: timed on the shipped motion clips (examples/motion_clips.yaml, 2-core CPU, 2026-12-02)
    ("classical", "video"): (0.06, 1, 1.0, "video_motion_forest: 8 frames a clip at 64 px"),
    ("hybrid", "video"): (0.6, 1, 1.5, "video_effnet_lite0_features_linear: one frozen pass over 8 frames at 128 px"),
    ("deep", "tabular"): (2e-5, 20, 1.0, "tabular_mlp: ~20 epochs with early stopping"),
    ("deep", "time_series"): (2e-4, 30, 1.0, "ts_gru: 32-step windows, 30 epochs"),
    ("deep", "image"): (0.0065, 3, 3.0, "image_effnet_lite0_finetune: 128 px, batch 32, 3 epochs"),
    ("deep", "text"): (0.05, 2, 2.5, "text_minilm_finetune: 128 tokens, batch 16, 2 epochs"),
}
# Start-up seconds whatever the size: loading a pretrained network and its first batches, else small overheads.
_FIXED_S = {"pretrained": 2.0, "other": 0.1}
_FALLBACK = (0.05, 10, 4.0, "no measured figure for this modality; assumed 4x an image fine-tune step")
_GPU_SPEEDUP = {"classical": 1.0, "hybrid": 20.0, "deep": 25.0}
_FROM_SCRATCH_EPOCHS = 30
_ASSUMED_SAMPLES = 1000


def cpu_seconds(approach: str, modality: str, n: int, passes: Optional[int] = None) -> float:
    """Unrounded training seconds on 2 CPU cores: n items x `passes` (default: the assumed epochs) + start-up."""
    per_item, assumed, _memory, _what = _CPU_COST.get((approach, modality), _FALLBACK)
    pretrained_net = approach != "classical" and modality in ("image", "text", "audio", "video")
    return n * per_item * (assumed if passes is None else passes) + _FIXED_S["pretrained" if pretrained_net else "other"]


def _model_words(model: Optional[str], timed: str) -> list[str]:
    """What the estimate is for (the model as the catalogue describes it) and what the figure was timed on."""
    timed_model = timed.split(":")[0]
    entry = catalogue.entry(model) if model else None
    if entry is None:
        return [f"timed on {timed}"]
    said = f"{entry.name}: {entry.description.rstrip('.')}"
    return [said, f"timed: {timed.split(': ', 1)[-1]}" if entry.name == timed_model
            else f"time scaled from {timed} (no figure of its own)"]


def estimate(approach: str, model: Optional[str], facts: Mapping[str, Any]) -> Estimate:
    """Rough train time and memory for one approach, with the assumptions behind them."""
    modality, accelerator = facts["data.modality"], facts["resources.accelerator"]
    n = facts["data.n_samples"]
    assumptions = []
    if n is None:
        n = _ASSUMED_SAMPLES
        assumptions.append(f"sample count unknown; assumed {n:,}")
    per_item, passes, memory, what = _CPU_COST.get((approach, modality), _FALLBACK)
    assumptions += _model_words(model, what)
    if approach == "deep" and not facts.get("pretrained") and modality not in ("tabular", "time_series"):
        passes = _FROM_SCRATCH_EPOCHS
        assumptions.append(f"no pretrained weights: {passes} epochs from scratch")
    if facts["task"] == "generation":
        passes = max(passes, 50)
        assumptions.append("generative training: at least 50 epochs")
    seconds = cpu_seconds(approach, modality, n, passes)
    device = "cpu (2 cores)"
    if accelerator != "none":
        gpus = 4 if accelerator == "multi_gpu" else 1
        speedup = _GPU_SPEEDUP[approach] * (gpus * 0.85 if gpus > 1 else 1)
        seconds /= speedup
        device = f"{gpus} GPU" + ("s" if gpus > 1 else "")
        assumptions.append(f"GPU speed-up x{speedup:g} over 2 CPU cores" if speedup > 1 else "runs on CPU anyway")
    return Estimate(approach=approach, model=model, device=device, train_minutes=float(f"{seconds / 60:.2g}"),
                    memory_gb=memory, assumptions=assumptions)
