"""The project's own evidence suite, as the advisor ships it, and the confidence read from it.

``evidence.json`` beside this module is written by ``python -m benchmarks evidence``: every zoo model swept on
real offline datasets, the rules' pick and the advisor's final pick scored on the same held-out splits.
:func:`pick_confidence` turns it into a measured frequency: the share of evidence datasets of that modality and
size band where the advisor's final pick landed within :data:`TOLERANCE` of the best model.

Light on purpose (pydantic and json only): it is read on the `advisor recommend` path.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, Field

__all__ = ["SCHEMA_VERSION", "TOLERANCE", "MIN_DATASETS", "EVIDENCE_PATH", "ModelScore", "Pick", "DatasetEvidence",
           "Machine", "EvidenceSuite", "Confidence", "size_band", "load_evidence", "pick_confidence"]

SCHEMA_VERSION = 1
TOLERANCE = 0.02        # macro-F1 / R² points; for forecasting errors (lower is better): 2 % of the best error
MIN_DATASETS = 3        # fewer datasets than this in a band (then a modality) and confidence widens its basis
EVIDENCE_PATH = Path(__file__).resolve().parent / "evidence.json"
BANDS: tuple[tuple[Optional[int], str], ...] = ((1_000, "< 1k"), (10_000, "1k–10k"), (None, "≥ 10k"))


class ModelScore(BaseModel):
    """One zoo model on one dataset: its held-out score per seed."""

    name: str
    family: str
    scores: list[float] = Field(default_factory=list, description="held-out score per seed, in `seeds` order")
    seeds: list[int] = Field(default_factory=list)
    mean: Optional[float] = None
    std: Optional[float] = Field(None, description="spread across seeds (population std; 0 for one seed)")
    seconds: Optional[float] = Field(None, description="mean wall seconds of one fit")
    error: Optional[str] = Field(None, description="why the model could not be fit or scored, one line")


class Pick(BaseModel):
    """A model the advisor chose (the rules' or the final one) and how far it fell from the best."""

    model: Optional[str] = None
    models: list[str] = Field(default_factory=list, description="the final pick per seed (it may differ by seed)")
    scores: list[float] = Field(default_factory=list)
    mean: Optional[float] = None
    regret: Optional[float] = Field(None, description="how much worse than the best model's mean, in the metric's "
                                    "units (>= 0 is worse; negative: better than every swept model)")
    seconds: Optional[float] = Field(None, description="mean train seconds (the final pick: `advisor train`'s)")
    selection_seconds: Optional[float] = Field(
        None, description="the final pick: mean seconds of the measurement before training (probe included)")
    probe_seconds: Optional[float] = Field(None, description="the final pick: mean seconds of the probe alone")
    error: Optional[str] = None


class DatasetEvidence(BaseModel):
    name: str
    source: str = Field(description="where the data came from")
    modality: str
    task: str
    n: int = Field(ge=1, description="items (rows, images, documents, time steps)")
    band: str = Field(description="size band of n: " + ", ".join(b for _, b in BANDS))
    metric: str = Field(description="macro_f1 | r2 | mase | mae")
    higher_is_better: bool
    models: list[ModelScore] = Field(default_factory=list)
    best: Optional[str] = None
    best_score: Optional[float] = None
    rules_pick: Pick = Field(default_factory=Pick)
    final_pick: Pick = Field(default_factory=Pick)
    notes: list[str] = Field(default_factory=list)

    def tolerance(self) -> float:
        """How close to the best counts as 'as good': TOLERANCE points, or TOLERANCE x the best error."""
        if self.higher_is_better or self.best_score is None:
            return TOLERANCE
        return TOLERANCE * abs(self.best_score)

    def within(self, pick: Literal["rules", "final"] = "final") -> bool:
        """The pick landed within the tolerance of the best (a pick without a score never does)."""
        chosen = self.final_pick if pick == "final" else self.rules_pick
        return chosen.regret is not None and chosen.regret <= self.tolerance() + 1e-12


class Machine(BaseModel):
    cpu_count: Optional[int] = None
    platform: str = ""
    python: str = ""
    threads: Optional[int] = Field(None, description="threads per library (OpenMP / BLAS / torch) the suite ran with")
    loadavg: Optional[list[float]] = Field(None, description="1/5/15-minute load when the run started")


class EvidenceSuite(BaseModel):
    schema_version: Literal[1] = SCHEMA_VERSION
    date: str = ""
    machine: Machine = Field(default_factory=Machine)
    command: str = Field("", description="the last run's command (a --sets rerun merges into the file)")
    versions: dict[str, str] = Field(default_factory=dict)
    tolerance: float = TOLERANCE
    seconds: Optional[float] = Field(None, description="wall seconds of the last full run")
    datasets: list[DatasetEvidence] = Field(default_factory=list)


class Confidence(BaseModel):
    """How often the advisor's final pick was as good as the best model, on evidence like this project."""

    value: Optional[float] = Field(None, ge=0, le=1, description="the measured share; None without evidence")
    n_datasets: int = 0
    n_within: int = 0
    band: Optional[str] = Field(None, description="the size band counted, None when wider than one band")
    scope: Literal["band", "modality", "all", "none"] = "none"
    basis_text: str = ""


def size_band(n: Optional[int]) -> Optional[str]:
    """The size band of `n` items, or None when `n` is unknown."""
    if n is None:
        return None
    return next(label for limit, label in BANDS if limit is None or n < limit)


@lru_cache(maxsize=4)
def _load(path: str, stamp: float) -> EvidenceSuite:
    return EvidenceSuite.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))


def load_evidence(path: "str | Path | None" = None) -> EvidenceSuite:
    """The evidence suite at `path` (default: the one shipped with the advisor); empty when there is none."""
    file = Path(path) if path is not None else EVIDENCE_PATH
    if not file.is_file():
        return EvidenceSuite()
    return _load(str(file), file.stat().st_mtime)


def _share(datasets: list[DatasetEvidence]) -> tuple[int, int]:
    scored = [d for d in datasets if d.best_score is not None]
    return sum(d.within("final") for d in scored), len(scored)


def pick_confidence(modality: str, n_samples: Optional[int], evidence: Optional[EvidenceSuite] = None
                    ) -> Confidence:
    """The measured share of evidence datasets of this modality and size band (else the modality, else all
    datasets, when fewer than MIN_DATASETS) where the advisor's final pick was within the tolerance of the best."""
    suite = evidence if evidence is not None else load_evidence()
    band = size_band(n_samples)
    same = [d for d in suite.datasets if d.modality == modality]
    levels = [("band", [d for d in same if d.band == band], f"{modality} datasets of {band} items", ""),
              ("modality", same, f"{modality} datasets", f"; fewer than {MIN_DATASETS} of {band} items"),
              ("all", list(suite.datasets), "datasets of every kind", f"; fewer than {MIN_DATASETS} {modality} ones")]
    for scope, pool, what, why_wider in levels:
        if scope == "band" and band is None:
            continue
        within, total = _share(pool)
        if total >= MIN_DATASETS or (scope == "all" and total):
            close = f"within {suite.tolerance:g} of the best model" + (
                f" (forecasts: within {suite.tolerance:.0%} of the best error)"
                if any(not d.higher_is_better for d in pool) else "")
            text = (f"measured: the advisor's pick was {close} on {within} of "
                    f"{total} {what} in the project's evidence suite{why_wider if band or scope == 'all' else ''}")
            return Confidence(value=round(within / total, 2), n_datasets=total, n_within=within,
                              band=band if scope == "band" else None, scope=scope,  # type: ignore[arg-type]
                              basis_text=text)
    return Confidence(basis_text="not measured: the advisor ships no evidence suite (python -m benchmarks evidence)")
