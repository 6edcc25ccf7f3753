"""The engine: deterministic, complete, counterfactuals that really flip, and a property test over descriptors."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor import ProjectDescriptor, recommend
from advisor.deciding.engine import descriptor_facts, fact_names
from advisor.deciding.estimates import estimate
from advisor.deciding.rules import APPROACHES, compile_condition, load_rulebook
from advisor.deciding.schema import Accelerator, Inference, Interpretability, LabelingCost, Modality, Performance, Shift, Task
from conftest import EXAMPLES

CATS = {"name": "cats", "task": "classification",
        "data": {"modality": "image", "n_samples": 2000, "n_classes": 2},
        "needs": {"interpretability": "required", "inference": "realtime"}}


def test_deterministic():
    first = recommend(CATS).model_dump_json()
    assert all(recommend(copy.deepcopy(CATS)).model_dump_json() == first for _ in range(3))


def test_recommendation_is_complete_json():
    data = recommend(CATS).model_dump(mode="json")
    for key in ("approach", "architecture", "model", "task", "modality", "rulebook_version"):
        assert isinstance(data[key], str) and data[key].strip(), key
    for key in ("trace", "counterfactuals", "risks", "alternatives", "estimates", "why"):
        assert isinstance(data[key], list) and data[key], f"{key} is empty"          # [] is not "set"
    assert set(data["scores"]) == {"classical", "hybrid", "deep"}
    assert data["plan"]["strategy"] in ("fit", "fine_tune", "frozen_features", "train_from_scratch")
    assert 0 <= data["confidence"] <= 1 and data["confidence_basis"].startswith("measured: ")   # the shipped suite
    assert 0 < data["rule_margin"] <= 1
    for entry in data["trace"]:
        assert set(entry) == {"id", "factor", "section", "effect", "reason"}
        assert all(isinstance(v, str) and v.strip() for v in entry.values()), entry
    live = [a for a in ("classical", "hybrid", "deep") if a not in data["excluded"]]
    assert data["approach"] in live
    assert [e["approach"] for e in data["estimates"]] == live
    assert all(e["train_minutes"] > 0 and e["memory_gb"] > 0 and e["assumptions"] for e in data["estimates"])
    assert {a["approach"] for a in data["alternatives"]} == set(live) - {data["approach"]}
    assert all(a["model"] and a["architecture"] and a["why_not"] for a in data["alternatives"])
    assert all(c["changes"] and c["approach"] != data["approach"] for c in data["counterfactuals"])
    fired = {t["id"] for t in data["trace"]}
    assert all(line.startswith("Architecture ") or line.rsplit("[", 1)[-1].rstrip("]") in fired
               for line in data["why"]), data["why"]
    assert all(r["id"] and r["detail"] and r["mitigation"] for r in data["risks"])


def _apply(raw: dict, changes: dict) -> dict:
    raw = copy.deepcopy(raw)
    for dotted, value in changes.items():
        node = raw
        *parents, leaf = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return raw


@pytest.mark.parametrize("stem", ["cats_dogs_2000", "cats_dogs_20000", "customer_churn", "medical_imaging_transfer"])
def test_counterfactuals_really_flip(stem):
    import yaml
    raw = yaml.safe_load((EXAMPLES / f"{stem}.yaml").read_text())
    rec = recommend(raw)
    assert rec.counterfactuals, "expected at least one counterfactual"
    for cf in rec.counterfactuals:
        flipped = recommend(_apply(raw, cf.changes))
        assert flipped.approach == cf.approach != rec.approach
        assert cf.approach in cf.text


def test_counterfactual_more_data_and_gpu_gives_deep():
    """The seed's own contrast: with 20,000 images and a GPU, deep learning wins."""
    rec = recommend(_apply(CATS, {"data.n_samples": 20000, "resources.accelerator": "gpu",
                                  "needs.interpretability": "none", "needs.inference": "batch"}))
    assert rec.approach == "deep"


def test_single_field_counterfactuals_are_minimal():
    rec = recommend(CATS)
    singles = [c for c in rec.counterfactuals if len(c.changes) == 1]
    assert singles and all(len(c.changes) == 1 for c in rec.counterfactuals[: len(singles)])


def test_generation_excludes_classical():
    rec = recommend({"name": "g", "task": "generation", "data": {"modality": "image", "n_samples": 500}})
    assert rec.approach == "deep" and rec.architecture == "gan"
    assert "classical" in rec.excluded and "hybrid" in rec.excluded


def test_tabular_never_hybrid():
    rec = recommend({"name": "t", "task": "regression", "data": {"modality": "tabular", "n_samples": 500}})
    assert "hybrid" in rec.excluded and all(a.approach != "hybrid" for a in rec.alternatives)


def test_trace_rules_match_facts():
    rec = recommend(CATS)
    ids = {t.id for t in rec.trace}
    assert "interpretability.required" in ids and "size.small" in ids and "size.huge" not in ids


def test_unknown_size_fires_no_size_rule():
    rec = recommend({"name": "p", "task": "classification", "data": {"modality": "image", "path": "photos/"}})
    assert not any(t.factor == "dataset_size" and t.id.startswith("size.") for t in rec.trace)
    assert any("assumed" in a for e in rec.estimates for a in e.assumptions)


def test_estimates_scale_with_hardware():
    cpu = {e.approach: e for e in recommend(_apply(CATS, {"data.n_samples": 20000})).estimates}
    gpu = {e.approach: e for e in recommend(_apply(CATS, {"data.n_samples": 20000,
                                                          "resources.accelerator": "gpu"})).estimates}
    assert gpu["deep"].train_minutes < cpu["deep"].train_minutes / 10
    assert cpu["deep"].train_minutes > cpu["classical"].train_minutes


def _enum(e):
    return st.sampled_from([m.value for m in e])


descriptors = st.fixed_dictionaries(
    {"name": st.text(min_size=1, max_size=10), "task": _enum(Task),
     "data": st.fixed_dictionaries(
         {"modality": _enum(Modality)},
         optional={"n_samples": st.integers(1, 10**8), "n_features": st.integers(1, 10**4),
                   "labeling_cost": _enum(LabelingCost), "unlabeled_available": st.booleans(),
                   "features_well_defined": st.none() | st.booleans(), "distribution_shift": _enum(Shift),
                   "path": st.just("data/x")}),
     "resources": st.fixed_dictionaries(
         {}, optional={"accelerator": _enum(Accelerator), "gpu_memory_gb": st.floats(0, 200),
                       "time_budget_minutes": st.floats(0.1, 10**4), "pretrained_available": st.none() | st.booleans()}),
     "needs": st.fixed_dictionaries(
         {}, optional={"interpretability": _enum(Interpretability), "performance": _enum(Performance),
                       "inference": _enum(Inference), "dev_time_days": st.floats(0.1, 1000),
                       "regulated": st.booleans(), "security_critical": st.booleans()})})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(descriptors)
def test_property_engine_never_raises_and_is_complete(raw):
    if "n_samples" not in raw["data"] and "path" not in raw["data"]:
        raw["data"]["n_samples"] = 100
    desc = ProjectDescriptor.model_validate(raw)
    rec = recommend(desc)
    assert rec.approach in ("classical", "hybrid", "deep") and rec.approach not in rec.excluded
    assert rec.architecture and (rec.model is None) == bool(rec.model_note)
    assert 0 <= rec.confidence <= 1 and 0 < rec.rule_margin <= 1
    assert rec.trace and rec.why and rec.estimates
    assert rec.scores[rec.approach] == max(s for a, s in rec.scores.items() if a not in rec.excluded)
    for cf in rec.counterfactuals:
        assert cf.approach != rec.approach
    assert descriptor_facts(desc)["data.modality"] == rec.modality


# ------------------------------------------------------------------------------------ concrete outcomes

def test_tiny_tabular_is_classical():
    rec = recommend({"name": "t", "task": "classification",
                     "data": {"modality": "tabular", "n_samples": 300, "n_features": 8}})
    assert rec.approach == "classical" and rec.architecture == "gradient_boosting"
    assert rec.model == "tabular_gradient_boosting"
    assert rec.scores["classical"] > rec.scores["deep"]


def test_large_image_dataset_on_gpu_is_deep_cnn():
    rec = recommend({"name": "big", "task": "classification",
                     "data": {"modality": "image", "n_samples": 200_000, "n_classes": 10},
                     "resources": {"accelerator": "gpu"},
                     "needs": {"interpretability": "none", "performance": "critical"}})
    assert rec.approach == "deep" and rec.architecture == "cnn"
    assert rec.scores["deep"] > rec.scores["hybrid"] > rec.scores["classical"]
    assert rec.rule_margin > 0.5                      # the rules agree strongly; confidence is measured apart


# ------------------------------------------------------------------------------------ the trace is the rules that fired

def _fired_independently(raw: dict) -> list[str]:
    """Which rule ids hold for a descriptor, evaluated here from the rulebook text, not by the engine."""
    book = load_rulebook()
    facts = descriptor_facts(ProjectDescriptor.model_validate(raw))
    known = set(fact_names())
    for name, text in book.derived.items():
        facts[name] = compile_condition(text, frozenset(known))(facts)
        known.add(name)
    for approach in APPROACHES:                     # the budget rules compare the cost estimates
        facts[f"cost.{approach}_minutes"] = estimate(approach, None, facts).train_minutes
    days = facts["needs.dev_time_days"]
    facts["budget_minutes"] = facts["resources.time_budget_minutes"] or (days * 8 * 60 if days else None)
    known |= {f"cost.{a}_minutes" for a in APPROACHES} | {"budget_minutes"}
    return [r.id for r in book.rules if compile_condition(r.when, frozenset(known))(facts)]


BIG_TEXT_ON_CPU = {"name": "t50k", "task": "classification", "data": {"modality": "text", "n_samples": 50_000},
                   "resources": {"pretrained_available": False, "time_budget_minutes": 60}}


def test_a_pick_that_cannot_finish_in_the_budget_is_never_the_answer():
    """50,000 texts on 2 CPU cores without pretrained weights: a ~22 h fine-tune against a 60 min budget."""
    rec = recommend(BIG_TEXT_ON_CPU)
    assert rec.approach == "classical" and "deep" in rec.excluded
    line = next(t for t in rec.trace if t.id == "budget.deep_cannot_finish")
    assert "deep ~22 h" in line.effect and "budget ~60 min" in line.effect, line.effect
    fits = {e.approach: e.train_minutes for e in rec.estimates}
    assert fits["classical"] <= 60
    generous = recommend({**BIG_TEXT_ON_CPU, "resources": {"pretrained_available": False,
                                                           "time_budget_minutes": 3000}})
    assert "deep" not in generous.excluded
    days = recommend({**BIG_TEXT_ON_CPU, "resources": {"pretrained_available": False},
                      "needs": {"dev_time_days": 1}})
    assert "deep" in days.excluded          # one working day (8 h) cannot hold a 22 h fine-tune


TRACE_CASES = [CATS, BIG_TEXT_ON_CPU,
               {"name": "t", "task": "regression", "data": {"modality": "tabular", "n_samples": 500}},
               {"name": "g", "task": "generation", "data": {"modality": "image", "n_samples": 500}},
               {"name": "w", "task": "forecasting", "data": {"modality": "time_series", "n_samples": 50_000},
                "resources": {"accelerator": "gpu"}, "needs": {"regulated": True, "security_critical": True}}]


@pytest.mark.parametrize("raw", TRACE_CASES, ids=["cats", "big_text", "tabular", "generation", "series"])
def test_trace_is_exactly_the_fired_rules_and_scores_add_up(raw):
    rec = recommend(raw)
    book = {r.id: r for r in load_rulebook().rules}
    assert [t.id for t in rec.trace] == _fired_independently(raw)
    for a in APPROACHES:
        assert rec.scores[a] == pytest.approx(sum(book[t.id].scores.get(a, 0.0) for t in rec.trace)), a
    for t in rec.trace:
        rule = book[t.id]
        assert (t.factor, t.section, t.reason) == (rule.factor, rule.section, rule.reason)
        for a, v in rule.scores.items():
            assert f"{a} {v:+g}" in t.effect, (t.id, t.effect)
        for a in rule.exclude:
            assert f"{a} not applicable" in t.effect, (t.id, t.effect)
        for a, arch in rule.architecture.items():
            assert f"{a} architecture = {arch}" in t.effect, (t.id, t.effect)
        if not rule.scores:
            assert not any(f"{a} +" in t.effect or f"{a} -" in t.effect for a in APPROACHES), t.effect
    excluded = {a for t in rec.trace for a in book[t.id].exclude}
    assert set(rec.excluded) == excluded - ({"classical"} if excluded == set(APPROACHES) else set())


# ------------------------------------------------------------------------------------ interpretability only hurts deep

@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(descriptors, _enum(Interpretability))
def test_property_requiring_interpretability_never_raises_deep(raw, level):
    if "n_samples" not in raw["data"] and "path" not in raw["data"]:
        raw["data"]["n_samples"] = 100
    lower = recommend(_apply(raw, {"needs.interpretability": level}))
    required = recommend(_apply(raw, {"needs.interpretability": "required"}))
    assert required.scores["deep"] <= lower.scores["deep"]
    assert required.scores["deep"] - required.scores["classical"] <= lower.scores["deep"] - lower.scores["classical"]
    if lower.approach != "deep":
        assert required.approach != "deep"
