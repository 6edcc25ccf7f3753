"""`advisor train/compare --mlflow`: a real local sqlite store, read back with MlflowClient."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

mlflow = pytest.importorskip("mlflow")
import mlflow.sklearn  # noqa: E402
import mlflow.tracking  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _advisor(args: list[str], cwd: Path, uri: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["PYTHONPATH"] = str(ROOT)
    if uri:
        env["MLFLOW_TRACKING_URI"] = uri
    return subprocess.run([sys.executable, "-m", "advisor.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_train_logs_params_tags_metrics_artifacts_and_model(tmp_path):
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    run_dir = tmp_path / "run"
    proc = _advisor(["train", str(ROOT / "examples/medical_diagnosis_clinical.yaml"), "--model", "tabular_linear",
                     "--out", str(run_dir), "--quiet"], tmp_path, uri)
    assert proc.returncode == 0, proc.stderr
    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    (exp,) = [e for e in client.search_experiments() if e.name != "Default"]
    (run,) = client.search_runs([exp.experiment_id])
    assert run.data.params["data.modality"] == "tabular"
    assert run.data.tags["advisor.approach"] and run.data.tags["advisor.rules"]
    assert 0 <= run.data.metrics["accuracy"] <= 1 and run.data.metrics["n_test"] > 0
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"report.html", "run"} <= names
    assert "metrics.json" in {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "run")}
    import pandas as pd

    mlflow.set_tracking_uri(uri)
    model = mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    table = pd.read_csv(ROOT / "examples/data/breast_cancer.csv").drop(columns=["target"]).head(5)
    assert len(model.predict(table)) == 5


def test_no_mlflow_opts_out_and_no_store_written(tmp_path):
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    proc = _advisor(["train", str(ROOT / "examples/medical_diagnosis_clinical.yaml"), "--model", "tabular_linear",
                     "--out", str(tmp_path / "run"), "--quiet", "--no-mlflow"], tmp_path, uri)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "store.db").exists()


def test_without_mlflow_installed_the_flag_is_one_line_exit_2(tmp_path):
    """A stub `mlflow` that fails to import stands for the package being absent."""
    (tmp_path / "mlflow").mkdir()
    (tmp_path / "mlflow" / "__init__.py").write_text("raise ImportError('no mlflow here')\n")
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["PYTHONPATH"] = f"{tmp_path}{os.pathsep}{ROOT}"
    code = ("import sys; from advisor.running import tracking\n"
            "try:\n    tracking.log_train(sys.argv[1], lambda d: d)\n"
            "except tracking.TrackingError as e:\n    print(e); sys.exit(2)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout.strip() == "--mlflow needs MLflow: pip install 'ml-advisor[tracking]'"


def test_compare_logs_a_parent_run_with_one_nested_run_per_row(tmp_path):
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    proc = _advisor(["compare", str(ROOT / "examples/medical_diagnosis_clinical.yaml"), "--families", "classical",
                     "--sizes", "0.5,1.0", "--seeds", "1", "--out", str(tmp_path / "cmp"), "--quiet", "--mlflow"],
                    tmp_path, uri)
    assert proc.returncode == 0, proc.stderr
    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    (exp,) = [e for e in client.search_experiments() if e.name != "Default"]
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(parents) == 1 and len(children) == 2
    assert {c.data.params["size"] for c in children} == {"0.5", "1.0"}
    assert all("metric" in c.data.metrics for c in children)


def test_missing_mlflow_is_found_before_any_training(monkeypatch):
    import importlib.util

    from advisor.running import tracking

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking.check_ready(None) is False and tracking.check_ready(False) is False
    with pytest.raises(tracking.TrackingError, match="pip install 'ml-advisor\\[tracking\\]'"):
        tracking.check_ready(True)


def test_advisor_fit_logs_to_mlflow_too(tmp_path, monkeypatch):
    """The library call tracks as the CLI does: the run id on the Run, the model loadable through MLflow."""
    import pandas as pd

    import advisor

    uri = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)                     # MLflow puts the artifacts under ./mlruns
    frame = pd.read_csv(ROOT / "examples/data/breast_cancer.csv")
    run = advisor.fit(frame, target="target", model="tabular_linear", out=tmp_path / "run")
    assert run.mlflow_run_id
    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    logged = client.get_run(run.mlflow_run_id)
    assert logged.data.metrics["n_test"] == run.metrics.n_test
    assert "report.html" in {a.path for a in client.list_artifacts(run.mlflow_run_id)}
    model = mlflow.sklearn.load_model(f"runs:/{run.mlflow_run_id}/model")
    assert list(model.predict(frame.drop(columns="target").head(5))) == list(run.predict(frame.head(5)))
    assert not (tmp_path / "run.report.html").exists()
    untracked = advisor.fit(frame, target="target", model="tabular_linear", mlflow=False)
    assert untracked.mlflow_run_id is None
