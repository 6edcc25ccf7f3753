"""Every model the advisor can name for a trainable modality is registered in the zoo and can be created."""

from __future__ import annotations

import pytest

import zoo
from advisor import recommend
from advisor.running.measure import prepare
from advisor.deciding.rules import load_rulebook
from advisor.running.train import TRAINABLE_MODALITIES
from conftest import EXAMPLES

pytest.importorskip("sklearn")


def _named_by_examples() -> set[str]:
    names = set()
    for path in EXAMPLES.glob("*.yaml"):
        desc, measured = prepare(path)
        rec = recommend(desc, measured=measured)
        if rec.modality in TRAINABLE_MODALITIES and rec.task != "generation":
            names.add(rec.model)
            names.update(a.model for a in rec.alternatives if a.model)
    return names


def _named_by_rulebook() -> set[str]:
    return {m.model for m in load_rulebook().models
            if m.modality in TRAINABLE_MODALITIES and "generation" not in m.tasks}


def test_every_example_model_is_registered_and_creatable():
    names = _named_by_examples()
    assert len(names) >= 6
    for name in sorted(names):
        estimator = zoo.create_model(name)
        assert hasattr(estimator, "fit") and hasattr(estimator, "get_params"), name


def test_every_trainable_rulebook_model_is_registered():
    missing = _named_by_rulebook() - set(zoo.list_models())
    assert not missing, f"rulebook names models the zoo lacks: {sorted(missing)}"
