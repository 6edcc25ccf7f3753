"""Every shipped example gives the approach the seed text implies for that scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor import recommend
from advisor.running.measure import prepare
from conftest import EXAMPLES

EXPECTED = {
    # file: (approach, architecture)
    "cats_dogs_2000": ("classical", "random_forest"),       # "When traditional ML wins": 2,000 images, explain, no GPU
    "cats_dogs_20000": ("deep", "cnn"),                     # "When deep learning wins": 20,000+, GPU, accuracy first
    "spam_detection": ("classical", "linear"),              # the seed's traditional-ML workflow example
    "medical_imaging_transfer": ("deep", "cnn"),            # transfer learning: fine-tune on 1K scans
    "medical_diagnosis_clinical": ("classical", None),      # listed under traditional ML best applications
    "credit_scoring": ("classical", None),
    "customer_churn": ("classical", "gradient_boosting"),
    "fraud_detection": ("classical", None),                 # "fraud detection (with explanations)"
    "sales_forecasting": ("classical", "gradient_boosting"),
    "speech_recognition": ("deep", "rnn"),                  # RNN applications; end-to-end deep
    "machine_translation": ("deep", "transformer"),
    "image_anomaly_detection": ("deep", "autoencoder"),
    "autonomous_driving_vision": ("deep", "cnn"),
    "image_generation": ("deep", "gan"),
    "fashion_mnist_generation": ("deep", "gan"),            # GANs: the shipped demo images, trained from scratch
    "product_photos_hybrid": ("hybrid", "cnn_features_linear"),  # moderate data, CPU, explanations welcome
    "sentiment_reviews": ("deep", "transformer"),
    "fashion_mnist_demo": ("hybrid", "cnn_features_linear"),
    "speech_commands": ("hybrid", "audio_features_linear"),   # 240 clips, CPU: spectrograms into a frozen CNN
    "motion_clips": ("classical", "random_forest"),   # 160 clips, CPU, explanations welcome: named motion features
    "novel_authorship": ("hybrid", "transformer_features_linear"),  # 2,400 paragraphs, CPU, 2 days
    "weather_forecasting": ("classical", "gradient_boosting"),      # a single series: lag features + boosting  # the embedded demo: 3,000 images, CPU, 2 days
}


def test_every_example_is_covered():
    assert {p.stem for p in EXAMPLES.glob("*.yaml")} == set(EXPECTED)


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_example_approach(stem):
    desc, measured = prepare(EXAMPLES / f"{stem}.yaml")
    rec = recommend(desc, measured=measured)
    approach, architecture = EXPECTED[stem]
    assert rec.approach == approach, rec.why
    if architecture:
        assert rec.architecture == architecture
    assert 3 <= len(rec.why) <= 6
    assert rec.model or rec.model_note.startswith("no zoo model trains")


def test_image_generation_names_a_trainable_gan_with_its_risk():
    for stem in ("image_generation", "fashion_mnist_generation"):
        desc, measured = prepare(EXAMPLES / f"{stem}.yaml")
        rec = recommend(desc, measured=measured)
        assert rec.model == "image_gan" and rec.plan.strategy == "train_from_scratch"
        assert "mode_collapse" in {r.id for r in rec.risks}


def test_regulated_tabular_is_readable():
    for stem in ("credit_scoring", "medical_diagnosis_clinical"):
        assert recommend(EXAMPLES / f"{stem}.yaml").architecture in ("linear", "decision_tree")


def test_autonomous_driving_flags_shift_and_attacks():
    risks = {r.id for r in recommend(EXAMPLES / "autonomous_driving_vision.yaml").risks}
    assert {"distribution_shift", "adversarial"} <= risks


def test_demo_counts_are_measured_from_the_shipped_data():
    desc, measured = prepare(EXAMPLES / "fashion_mnist_demo.yaml")
    assert desc.data.n_samples == 3000 and desc.data.n_classes == 10
    rec = recommend(desc, measured=measured)
    assert any("n_samples" in m for m in rec.measured)


def test_readme_descriptor_section_names_every_field():
    """The README's descriptor block is a valid descriptor and shows every field the schema has."""
    import re

    import yaml

    from advisor import ProjectDescriptor
    from conftest import ROOT

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## The descriptor\n+```yaml\n(.*?)```", text, re.S).group(1)
    doc = yaml.safe_load(block)
    ProjectDescriptor.model_validate(doc)
    schema = ProjectDescriptor.model_json_schema()
    for section, ref in (("data", "DataSpec"), ("resources", "Resources"), ("needs", "Needs")):
        fields = set(schema["$defs"][ref]["properties"])
        assert fields <= set(doc[section]), f"README descriptor misses {section}.{sorted(fields - set(doc[section]))}"
