"""The shared fitting path (advisor.running.fitting) and the comparison's budget plan (ComparePlan)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import zoo
from advisor.running import fitting
from advisor.running.compare import ComparePlan, choose_models
from advisor.running.fitting import TrainError, build_estimator, check_model_serves, fit_for_task, serves


# ----------------------------------------------------------------------------- does the model serve the data?

def test_check_model_serves_accepts_a_fitting_model_and_returns_its_info():
    info = check_model_serves("tabular_linear", "tabular", "classification")
    assert info.family == "classical"
    assert check_model_serves("ts_lag_gradient_boosting", "time_series", "forecasting").family == "classical"


@pytest.mark.parametrize("modality, task, needle", [
    ("image", "classification", "model 'tabular_linear' is for tabular, time_series data, but data.modality is image"),
    ("tabular", "anomaly_detection", "model 'tabular_linear' does not do anomaly_detection (it does: "
                                     "classification, regression)"),
])
def test_check_model_serves_rejects_in_one_line(modality, task, needle):
    with pytest.raises(TrainError) as err:
        check_model_serves("tabular_linear", modality, task)
    assert str(err.value) == needle and "\n" not in str(err.value)


def test_serves_reads_several_modalities_when_the_catalogue_has_them():
    multi = SimpleNamespace(modality="tabular", modalities=("tabular", "text"), tasks=("classification",))
    assert serves(multi, "text", "classification") is None
    assert "is for tabular, text data" in serves(multi, "time_series", "classification")   # only what it lists
    assert "is for tabular, text data" in serves(multi, "image", "classification")
    single = SimpleNamespace(modality="image", tasks=("classification",))  # today's model_info: no .modalities
    assert serves(single, "image", "classification") is None
    assert serves(single, "time_series", "classification") == "is for image data, but data.modality is time_series"


def test_train_and_compare_share_the_check(monkeypatch):
    """Both callers go through fitting.check_model_serves: the compare skip reason is its message."""
    rec = SimpleNamespace(approach="classical", model="tabular_linear", model_note="", alternatives=[], excluded={})
    picks, skipped = choose_models(rec, ["classical"], "anomaly_detection", "tabular")
    assert picks == {} and "does not do anomaly_detection" in skipped["classical"]["reason"]
    calls = []
    real = fitting.check_model_serves
    monkeypatch.setattr("advisor.running.compare.check_model_serves",
                        lambda *a: calls.append(a) or real(*a))
    assert choose_models(rec, ["classical"], "classification", "tabular")[0] == {"classical": "tabular_linear"}
    assert calls == [("tabular_linear", "tabular", "classification")]
    from advisor.running import train
    assert train.check_model_serves is fitting.check_model_serves and train.TrainError is TrainError
    assert callable(train.check_trainable)


# ----------------------------------------------------------------------------- build and fit

def test_build_estimator_sets_only_the_settings_the_model_has():
    est = build_estimator("tabular_linear", "regression", device="cuda", time_budget_s=5.0, seed=7)
    params = est.get_params(deep=False)
    assert params["task"] == "regression" and params["random_state"] == 7 and "device" not in params
    forest = build_estimator("tabular_isolation_forest", "anomaly_detection", seed=3)
    assert forest.get_params(deep=False)["random_state"] == 3 and type(forest) is type(
        zoo.create_model("tabular_isolation_forest"))


def test_fit_for_task_fits_anomaly_detection_on_the_inputs_alone():
    class Recorder:
        def fit(self, *args):
            self.args = args
            return None                    # a fit that forgets to return self: still the estimator back

    data = SimpleNamespace(X=np.zeros((3, 2)), y=np.array([0, 1, 0]))
    est = Recorder()
    assert fit_for_task(est, data, "anomaly_detection") is est and len(est.args) == 1
    assert fit_for_task(est, data, "classification") is est and est.args[1] is data.y


# ----------------------------------------------------------------------------- the comparison's budget plan

def _plan(**kw):
    base = dict(n_items={0.5: 100, 1.0: 200}, n_data=250, estimates={"classical": 10.0, "deep": 500.0})
    return ComparePlan.grid(["classical", "deep"], [0.5, 1.0], 2, **{**base, **kw})


def test_plan_costs_start_from_the_advisor_estimate_then_follow_measurements():
    plan = _plan()
    assert plan.runs[:4] == [("classical", 0.5, 0), ("deep", 0.5, 0), ("classical", 1.0, 0), ("deep", 1.0, 0)]
    assert len(plan.runs) == 8
    assert plan.cost("deep", 1.0) == pytest.approx(500.0 * 200 / 250)     # prior, scaled to the subsample
    plan.measured("deep", 100, 2.0)
    assert plan.cost("deep", 1.0) == pytest.approx(4.0)                  # time ∝ size from one measurement
    assert ComparePlan([], {1.0: 10}, 10).cost("hybrid", 1.0) == 0.0     # no estimate, nothing measured


def test_plan_keeps_one_seed_of_every_family_at_the_smallest_size_first():
    plan = _plan(budget_s=300.0, estimates={"classical": 10.0, "deep": 500.0})   # deep: 200 s at 0.5, 400 s at 1
    drops = plan.fit_budget(300.0, anything_measured=False)
    assert plan.runs == [("classical", 0.5, 0), ("deep", 0.5, 0), ("classical", 1.0, 0), ("classical", 0.5, 1),
                         ("classical", 1.0, 1)]
    assert [d["family"] for d in drops] == ["deep"] and drops[0]["runs_skipped"] == 3
    assert drops[0]["sizes"] == [0.5, 1.0] and "time budget" in drops[0]["reason"]
    assert sum(d["runs_skipped"] for d in plan.fit_budget(0.0, anything_measured=False)) == 4  # the first goes
    assert plan.runs == [("classical", 0.5, 0)]
    assert plan.fit_budget(0.0, anything_measured=True)[0]["family"] == "classical" and plan.runs == []


def test_plan_shares_the_budget_in_proportion_to_cost():
    plan = _plan(budget_s=100.0, estimates={"classical": 250.0, "deep": 250.0})
    (run, share) = plan.next_run(80.0)
    assert run == ("classical", 0.5, 0) and share == pytest.approx(80.0 * 100 / 1200)
    shares = _plan(budget_s=100.0, estimates={"classical": 250.0, "deep": 250.0}).shares(workers=2)
    assert shares[("deep", 1.0, 1)] == pytest.approx(200.0 * 200 / 1200) and len(shares) == 8
    assert set(_plan().shares(workers=2).values()) == {None}
    assert _plan().next_run(10.0)[1] is None


def test_plan_drop_family_removes_only_that_familys_remaining_runs():
    plan = _plan()
    plan.next_run(0.0)
    rest = plan.drop_family("classical")
    assert rest == [("classical", 1.0, 0), ("classical", 0.5, 1), ("classical", 1.0, 1)]
    assert all(f == "deep" for f, _, _ in plan.runs) and len(plan.runs) == 4
