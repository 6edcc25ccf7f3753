"""The engine's answer: what to build, why, what could go wrong, and what would change the answer."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, Field

from advisor.deciding.rules import APPROACHES, PlanStep, Risk
from advisor.deciding.schema import Modality, Task, WordEnum


class Approach(WordEnum):
    """What to build: the three families of the framework (and of the zoo). Compares equal to its string."""

    classical = "classical"
    hybrid = "hybrid"
    deep = "deep"


assert tuple(a.value for a in Approach) == APPROACHES, "Approach must list rules.APPROACHES in tie-break order"


class TraceEntry(BaseModel):
    """One fired rule, as the report and CLI show it."""

    id: str
    factor: str
    section: str
    effect: str
    reason: str


class TrainingPlan(BaseModel):
    strategy: str = Field(description="fit | fine_tune | frozen_features | train_from_scratch")
    steps: list[PlanStep] = Field(default_factory=list)


class Estimate(BaseModel):
    """A rough cost of training one approach on the declared hardware."""

    approach: Approach
    model: Optional[str]
    device: str
    train_minutes: float
    memory_gb: float
    assumptions: list[str]


class Alternative(BaseModel):
    approach: Approach
    architecture: str
    model: Optional[str] = Field(description="the zoo model that builds it; None when the zoo has none yet")
    model_note: str = Field("", description="when model is None: what is missing and the closest trainable model")
    score: float
    why_not: str = ""


class Counterfactual(BaseModel):
    """A smallest change to the descriptor that flips the approach, found by re-running the engine."""

    changes: dict[str, Any]
    approach: Approach
    text: str


class Recommendation(BaseModel):
    name: str
    task: Task
    modality: Modality
    approach: Approach
    architecture: str
    model: Optional[str] = Field(description="the zoo model that builds the pick; None when the zoo has none yet")
    model_note: str = Field("", description="when model is None: what is missing and the closest trainable model")
    plan: TrainingPlan
    scores: dict[str, float]
    excluded: dict[str, str] = Field(default_factory=dict, description="approach -> why it cannot serve")
    confidence: Optional[float] = Field(
        None, ge=0, le=1, description="measured, not voted: the share of the project's evidence-suite datasets "
        "of this modality and size band (else the modality, else all) where the advisor's final pick scored "
        "within 0.02 of the best zoo model (forecasting: within 2 % of the best error); None without evidence")
    confidence_basis: str = Field("", description="what the confidence counts, in words: how many datasets, "
                                  "which ones, and whether the basis was widened")
    rule_margin: float = Field(0.0, ge=0, le=1, description="how far the rules' points favour the pick over its "
                               "live rivals (softmax of rule points, temperature 2); not a probability of "
                               "being right")
    why: list[str]
    trace: list[TraceEntry]
    risks: list[Risk]
    alternatives: list[Alternative]
    counterfactuals: list[Counterfactual]
    estimates: list[Estimate]
    measured: list[str] = Field(default_factory=list, description="facts measured from data.path, not declared")
    rulebook_version: str
