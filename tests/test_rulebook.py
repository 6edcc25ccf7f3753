"""The rulebook is data: complete over the framework's factors, cites real sections, compiles safely."""

from __future__ import annotations

import re

import pytest

from advisor.deciding.engine import fact_names
from advisor.deciding.rules import APPROACHES, RuleSyntaxError, compile_condition, load_rulebook
from conftest import SEED

REQUIRED_FACTORS = {"data_type", "dataset_size", "pretrained_models", "performance", "compute", "interpretability",
                    "development_time", "inference", "distribution_shift", "labeling_cost", "features",
                    "task_architecture", "security"}


def test_every_factor_has_a_rule():
    book = load_rulebook()
    assert REQUIRED_FACTORS <= {r.factor for r in book.rules}


# Every architecture each approach can end up with: the defaults plus what any rule can set. Fixed and explicit,
# so a rule that gives an approach a foreign architecture (a forest for deep, a CNN for classical) or a typo fails.
EXPECTED_ARCHITECTURES = {
    "classical": {"gradient_boosting", "decision_tree", "linear", "random_forest", "isolation_forest"},
    "hybrid": {"cnn_features_linear", "transformer_features_linear", "rnn_features_linear", "audio_features_linear",
               "cnn_features_isolation_forest"},
    "deep": {"mlp", "cnn", "rnn", "transformer", "gan", "autoencoder"},
}
EFFECTS = ("scores", "exclude", "architecture", "strategy", "plan", "risks")
# Architectures the zoo trains only as forecasting baselines or as candidates measured inside a family (by the
# rolling-origin backtest); no rule names them.
# Architectures the rules never name but the measured choice tries among a family's candidates.
CANDIDATE_ONLY = {"classical": {"naive", "seasonal_naive", "exponential_smoothing", "extra_trees", "svm"},
                  "deep": {"vae"}}          # image_vae: trained with --model; the rules name the GAN


def _raw_rulebook() -> dict:
    """The YAML as written (before pydantic), so a bad key is seen even if a model would coerce it."""
    from importlib import resources

    import yaml
    return yaml.safe_load(resources.files("advisor.deciding").joinpath("rulebook.yaml").read_text(encoding="utf-8"))


def test_every_task_architecture_the_framework_names_is_reachable():
    book = load_rulebook()
    assert set(book.defaults) == set(APPROACHES)
    settable = {a: {book.defaults[a]["architecture"]} for a in APPROACHES}
    for rule in book.rules:
        for approach, arch in rule.architecture.items():
            settable[approach].add(arch)
    assert settable == EXPECTED_ARCHITECTURES
    # the architectures the framework itself names are each reachable for the approach that owns them
    for approach, arch in [("deep", "cnn"), ("deep", "rnn"), ("deep", "transformer"), ("deep", "gan"),
                           ("deep", "autoencoder"), ("deep", "mlp"), ("classical", "gradient_boosting"),
                           ("classical", "decision_tree"), ("classical", "linear"), ("classical", "random_forest"),
                           ("hybrid", "cnn_features_linear")]:
        assert arch in settable[approach], (approach, arch)


def test_catalogue_and_rulebook_agree_on_architectures():
    """Every catalogue architecture is reachable by the rules; the rest are the ones the zoo does not train yet."""
    from zoo import catalogue

    for approach, archs in EXPECTED_ARCHITECTURES.items():
        trained = set(catalogue.ARCHITECTURES[approach]) - CANDIDATE_ONLY.get(approach, set())
        assert trained <= archs, (approach, trained - archs)
    untrained = {(a, arch) for a, archs in EXPECTED_ARCHITECTURES.items() for arch in archs
                 if arch not in catalogue.ARCHITECTURES[a]}
    assert untrained == {("hybrid", "rnn_features_linear")}


def test_rule_effect_keys_are_approaches():
    raw = _raw_rulebook()
    assert set(raw["defaults"]) == set(APPROACHES)
    for rule in raw["rules"]:
        assert set(rule) <= {"id", "factor", "section", "when", "reason", *EFFECTS}, rule["id"]
        for effect in ("scores", "architecture", "strategy", "plan", "risks"):
            assert set(rule.get(effect, {})) <= set(APPROACHES), (rule["id"], effect)
        assert set(rule.get("exclude", [])) <= set(APPROACHES), rule["id"]
        for value in rule.get("scores", {}).values():
            assert isinstance(value, (int, float)) and not isinstance(value, bool), rule["id"]
    for rule in load_rulebook().rules:
        assert not set(rule.exclude) & set(rule.scores), f"{rule.id} scores an approach it excludes"


def test_every_rule_cites_a_listed_section():
    book = load_rulebook()
    raw = _raw_rulebook()
    assert len(set(raw["sections"])) == len(raw["sections"])
    for rule in raw["rules"]:
        assert rule["section"] in raw["sections"], (rule["id"], rule["section"])
    assert {r.section for r in book.rules} <= set(book.sections)


def _seed_headings(text: str) -> set[str]:
    """The seed's non-blank lines. A heading is a whole line, or the tail of a line the text extraction glued it
    onto (``...over interpretabilityDifference 5: Best Use Cases``)."""
    return {line.strip() for line in text.splitlines() if line.strip()}


def _is_heading(section: str, lines: set[str]) -> bool:
    for line in lines:
        if line == section:
            return True
        if line.endswith(section) and not line[: -len(section)][-1:].isspace():
            return True  # glued to the previous paragraph without a space: a heading, not a phrase in a sentence
    return False


@pytest.mark.skipif(not SEED.exists(), reason="framework seed text not present (../shared/seed)")
def test_rule_sections_are_seed_headings():
    lines = _seed_headings(SEED.read_text(encoding="utf-8"))
    for rule in load_rulebook().rules:
        assert _is_heading(rule.section, lines), (rule.id, rule.section)
    assert not _is_heading("Difference 7: Nothing", lines)


def test_rules_have_ids_sections_reasons():
    for rule in load_rulebook().rules:
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+", rule.id), rule.id
        assert rule.reason.strip() and len(rule.reason) < 200
        assert rule.scores or rule.exclude or rule.architecture or rule.plan or rule.risks or rule.strategy


@pytest.mark.skipif(not SEED.exists(), reason="framework seed text not present (../shared/seed)")
def test_sections_are_headings_of_the_seed():
    text = SEED.read_text(encoding="utf-8")
    lines = _seed_headings(text)
    for section in load_rulebook().sections:
        assert _is_heading(section, lines), section


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
