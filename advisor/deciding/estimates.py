"""A rough cost model: training time and memory per approach on the declared hardware.

Throughputs are per item on a 2-core CPU, taken from runs on this project's reference machine
(EfficientNet-Lite0 at 128 px, all-MiniLM-L6-v2 at 64 tokens, scikit-learn 1.9); GPU speed-ups are
conservative guesses for one mid-range GPU. The numbers are for planning, not promises; `advisor compare`
measures the real thing.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from advisor.deciding.recommendation import Estimate

# (approach, modality) -> seconds per item per pass on 2 CPU cores, passes (epochs), memory GB, what is assumed.
# Calibrated on `python -m benchmarks quality` (2-core CPU, 2026-11-24): the zoo's default settings.
_CPU_COST: dict[tuple[str, str], tuple[float, int, float, str]] = {
    ("classical", "tabular"): (2e-5, 1, 0.5, "gradient boosting, 100 iterations, ~30 columns"),
    ("classical", "time_series"): (5e-5, 1, 0.5, "boosting on lag and calendar features"),
    ("classical", "text"): (1e-3, 1, 1.0, "TF-IDF (1-2 grams) + logistic regression"),
    ("classical", "image"): (0.009, 1, 1.0, "colour/texture/edge/shape features at 128 px + forest"),
    ("hybrid", "image"): (0.005, 1, 1.5, "one frozen EfficientNet-Lite0 pass at 128 px + logistic head"),
    ("hybrid", "text"): (0.011, 1, 1.5, "one frozen MiniLM pass at 128 tokens + logistic head"),
    ("deep", "tabular"): (2e-5, 20, 1.0, "MLP, ~20 epochs with early stopping"),
    ("deep", "time_series"): (2e-4, 30, 1.0, "GRU over 32-step windows, 30 epochs"),
    ("deep", "image"): (0.0065, 3, 3.0, "EfficientNet-Lite0 fine-tune at 128 px, batch 32, 3 epochs"),
    ("deep", "text"): (0.05, 2, 2.5, "MiniLM fine-tune at 128 tokens, batch 16, 2 epochs"),
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
    pretrained_net = approach != "classical" and modality in ("image", "text", "audio")
    return n * per_item * (assumed if passes is None else passes) + _FIXED_S["pretrained" if pretrained_net else "other"]


def estimate(approach: str, model: Optional[str], facts: Mapping[str, Any]) -> Estimate:
    """Rough train time and memory for one approach, with the assumptions behind them."""
    modality, accelerator = facts["data.modality"], facts["resources.accelerator"]
    n = facts["data.n_samples"]
    assumptions = []
    if n is None:
        n = _ASSUMED_SAMPLES
        assumptions.append(f"sample count unknown; assumed {n:,}")
    per_item, passes, memory, what = _CPU_COST.get((approach, modality), _FALLBACK)
    assumptions.append(what)
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
