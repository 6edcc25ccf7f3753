"""The rulebook is data: complete over the framework's factors, cites real sections, compiles safely."""

from __future__ import annotations

import re

import pytest

from advisor.deciding.engine import fact_names
from advisor.deciding.rules import RuleSyntaxError, compile_condition, load_rulebook
from conftest import SEED

REQUIRED_FACTORS = {"data_type", "dataset_size", "pretrained_models", "performance", "compute", "interpretability",
                    "development_time", "inference", "distribution_shift", "labeling_cost", "features",
                    "task_architecture", "security"}


def test_every_factor_has_a_rule():
    book = load_rulebook()
    assert REQUIRED_FACTORS <= {r.factor for r in book.rules}


def test_every_task_architecture_the_framework_names_is_reachable():
    archs = {a for r in load_rulebook().rules for a in r.architecture.values()}
    assert {"cnn", "rnn", "transformer", "gan", "autoencoder", "mlp", "gradient_boosting", "decision_tree",
            "linear", "random_forest", "cnn_features_linear"} <= archs | {"mlp"}


def test_rules_have_ids_sections_reasons():
    for rule in load_rulebook().rules:
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+", rule.id), rule.id
        assert rule.reason.strip() and len(rule.reason) < 200
        assert rule.scores or rule.exclude or rule.architecture or rule.plan or rule.risks or rule.strategy


@pytest.mark.skipif(not SEED.exists(), reason="framework seed text not present (../shared/seed)")
def test_sections_are_headings_of_the_seed():
    text = SEED.read_text(encoding="utf-8")
    for section in load_rulebook().sections:
        assert section in text, section


@pytest.mark.skipif(not SEED.exists(), reason="framework seed text not present (../shared/seed)")
def test_reasons_are_our_own_words():
    """No reason copies a run of 8+ words from the seed."""
    seed_words = re.findall(r"[a-z0-9]+", SEED.read_text(encoding="utf-8").lower())
    grams = {" ".join(seed_words[i:i + 8]) for i in range(len(seed_words) - 7)}
    for rule in load_rulebook().rules:
        words = re.findall(r"[a-z0-9]+", rule.reason.lower())
        for i in range(len(words) - 7):
            assert " ".join(words[i:i + 8]) not in grams, rule.id


KNOWN = frozenset(fact_names()) | {"unstructured"}


@pytest.mark.parametrize("bad", [
    "__import__('os').system('x')", "data.modality.upper()", "data.n_samples + 1 > 2", "lambda: 1",
    "data.nope == 1", "data.modality in [data.n_samples]", "x if y else z",
])
def test_condition_language_rejects(bad):
    with pytest.raises(RuleSyntaxError):
        compile_condition(bad, KNOWN)


def test_condition_language_semantics():
    cond = compile_condition("1000 <= data.n_samples < 10000 and data.modality in ('image', 'text')", KNOWN)
    assert cond({"data.n_samples": 2000, "data.modality": "image"})
    assert not cond({"data.n_samples": 20000, "data.modality": "image"})
    assert not cond({"data.n_samples": None, "data.modality": "image"})
    assert compile_condition("not unstructured", KNOWN)({"unstructured": False})
