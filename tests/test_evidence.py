"""The shipped evidence suite (advisor/deciding/evidence.json) and the confidence the advisor reads from it."""

from __future__ import annotations

import json
import statistics

import pytest

from advisor import recommend
from advisor.deciding.evidence import (EVIDENCE_PATH, MIN_DATASETS, TOLERANCE, DatasetEvidence, EvidenceSuite,
                                       ModelScore, Pick, load_evidence, pick_confidence, size_band)


def _ds(name: str, modality: str, n: int, regret: float, higher: bool = True, best: float = 0.9) -> DatasetEvidence:
    return DatasetEvidence(name=name, source="test", modality=modality, task="classification", n=n,
                           band=size_band(n) or "", metric="macro_f1" if higher else "mae", higher_is_better=higher,
                           best="m", best_score=best, final_pick=Pick(model="m", mean=best - regret, regret=regret))


def test_shipped_json_validates_against_the_record():
    raw = json.loads(EVIDENCE_PATH.read_text(encoding="utf-8"))
    suite = EvidenceSuite.model_validate(raw)
    assert suite.schema_version == 1 and suite.date and suite.command.startswith("python -m benchmarks evidence")
    assert suite.machine.cpu_count and suite.versions.get("scikit-learn")
    assert len(suite.datasets) >= MIN_DATASETS
    assert {d.modality for d in suite.datasets} >= {"tabular", "text", "image", "time_series"}
    assert isinstance(load_evidence().datasets[0], DatasetEvidence)       # readers get objects, not dicts


def test_shipped_figures_are_consistent():
    """Every stored summary follows from the per-seed scores it summarises."""
    for d in load_evidence().datasets:
        assert d.band == size_band(d.n), d.name
        scored = [m for m in d.models if m.mean is not None]
        assert scored, d.name
        for m in scored:
            assert m.mean == pytest.approx(statistics.fmean(m.scores)) and len(m.scores) == len(m.seeds)
        best = (max if d.higher_is_better else min)(scored, key=lambda m: m.mean)
        assert d.best == best.name and d.best_score == pytest.approx(best.mean)
        for pick in (d.rules_pick, d.final_pick):
            if pick.mean is not None:
                gap = (d.best_score - pick.mean) if d.higher_is_better else (pick.mean - d.best_score)
                assert pick.regret == pytest.approx(gap), d.name


def test_confidence_is_the_counted_share_in_the_band():
    suite = EvidenceSuite(datasets=[
        _ds("a", "image", 1500, 0.0), _ds("b", "image", 2000, 0.01), _ds("c", "image", 5000, 0.05),
        _ds("d", "image", 9000, TOLERANCE), _ds("e", "image", 500, 0.3), _ds("f", "tabular", 1500, 0.3)])
    conf = pick_confidence("image", 3000, suite)
    assert (conf.value, conf.n_within, conf.n_datasets, conf.band, conf.scope) == (0.75, 3, 4, "1k–10k", "band")
    assert conf.basis_text == ("measured: the advisor's pick was within 0.02 of the best model on 3 of 4 image "
                               "datasets of 1k–10k items in the project's evidence suite")


def test_confidence_widens_to_the_modality_then_to_everything_and_says_so():
    suite = EvidenceSuite(datasets=[
        _ds("a", "image", 1500, 0.0), _ds("b", "image", 200, 0.1), _ds("c", "image", 300, 0.0),
        _ds("d", "text", 2000, 0.0)])
    wide = pick_confidence("image", 50_000, suite)                     # no image dataset of >= 10k items
    assert (wide.value, wide.scope, wide.band) == (0.67, "modality", None)
    assert "2 of 3 image datasets" in wide.basis_text and "fewer than 3 of ≥ 10k items" in wide.basis_text
    everything = pick_confidence("text", 2000, suite)                  # one text dataset only
    assert (everything.value, everything.scope, everything.n_datasets) == (0.75, "all", 4)
    assert "fewer than 3 text ones" in everything.basis_text
    unknown = pick_confidence("image", None, suite)                    # size not given: the modality
    assert unknown.scope == "modality" and unknown.value == 0.67
    assert pick_confidence("image", 10, EvidenceSuite()).value is None


def test_forecasting_tolerance_is_relative_to_the_best_error():
    """Lower is better there: within when the pick's error is at most 2 % above the best error."""
    close = _ds("s", "time_series", 300, regret=0.19, higher=False, best=10.0)     # error 10.19 vs 10
    far = _ds("t", "time_series", 300, regret=0.3, higher=False, best=10.0)        # error 10.3 vs 10
    assert close.tolerance() == pytest.approx(0.2) and close.within() and not far.within()


def test_a_pick_without_a_score_is_a_miss():
    d = _ds("a", "tabular", 100, 0.0)
    d.final_pick = Pick(error="TrainError: no zoo model")
    assert not d.within() and pick_confidence("tabular", 100, EvidenceSuite(datasets=[d] * 3)).value == 0


def test_recommendation_carries_the_measured_confidence():
    desc = {"name": "x", "task": "classification", "data": {"modality": "image", "n_samples": 2500,
                                                             "n_classes": 3}}
    rec = recommend(desc)
    measured = pick_confidence("image", 2500)
    assert rec.confidence == measured.value and rec.confidence_basis == measured.basis_text
    assert rec.confidence_basis.startswith("measured: ")
    assert 0 < rec.rule_margin <= 1


def test_model_score_record_refuses_junk():
    with pytest.raises(ValueError):
        ModelScore.model_validate({"name": "m", "family": "classical", "scores": ["high"]})
    with pytest.raises(ValueError):
        EvidenceSuite.model_validate({"schema_version": 2})
