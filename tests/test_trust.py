"""Security: a run folder's pickle is unpickled only when this user's `advisor train` signed it, unchanged.

Anything else (changed file, missing or forged signature, another user's key or files) is refused with the
files listed and one line naming --trust; --trust loads it. `advisor report` never unpickles at all.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, run_advisor

pytest.importorskip("sklearn")
joblib = pytest.importorskip("joblib")

CSV = str(EXAMPLES / "data" / "breast_cancer.csv")


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("trust") / "med"
    result = run_advisor("train", str(EXAMPLES / "medical_diagnosis_clinical.yaml"), "--model", "tabular_linear",
                         "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture
def run(trained, tmp_path) -> Path:
    """A private copy of the trained run folder (same files, so its signature still holds)."""
    return Path(shutil.copytree(trained, tmp_path / "run"))


def _refused(result, run: Path, reason: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith(f"advisor: would unpickle {run / 'model.joblib'} (joblib pickle") for line in lines)
    assert lines[-1].startswith("advisor: error:") and "--trust" in lines[-1] and reason in lines[-1], lines[-1]


def test_clean_train_then_predict_needs_no_flag(run):
    import zoo

    assert (run / "signature.json").is_file()
    result = run_advisor("predict", str(run), CSV, "--json")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 569 and "unsigned" not in result.stderr
    assert type(zoo.load_model(run)).__name__ == "TabularLinear"


def test_tampered_model_is_refused_without_trust_and_loads_with_it(run):
    import zoo
    from zoo.trust import UntrustedModelError

    model = zoo.load_model(run)
    model.tampered_ = True
    joblib.dump(model, run / "model.joblib", compress=3)          # a valid pickle, but not the one signed

    _refused(run_advisor("predict", str(run), CSV), run, "changed since it was saved")
    with pytest.raises(UntrustedModelError, match="changed since it was saved") as info:
        zoo.load_model(run)
    assert str(run / "model.joblib") in info.value.files[0]

    trusted = run_advisor("predict", str(run), CSV, "--json", "--trust")
    assert trusted.returncode == 0, trusted.stderr
    assert len(json.loads(trusted.stdout)) == 569
    assert "--trust: unpickling unsigned" in trusted.stderr
    assert zoo.load_model(run, trust=True).tampered_ is True


class _Payload:
    """Unpickling this creates `marker`: the code a hostile pickle would run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_hostile_pickle_never_runs_without_trust_and_report_never_unpickles(run, tmp_path):
    marker = tmp_path / "pwned"
    joblib.dump(_Payload(marker), run / "model.joblib")

    _refused(run_advisor("predict", str(run), CSV), run, "changed since it was saved")
    assert not marker.exists()

    report = run_advisor("report", str(run), "-o", str(tmp_path / "r.html"))
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "r.html").stat().st_size > 1000 and not marker.exists()

    run_advisor("predict", str(run), CSV, "--trust")                 # what --trust means: the file's code runs
    assert marker.exists()


def test_missing_forged_or_foreign_signatures_are_refused(run, tmp_path, monkeypatch):
    import zoo
    from zoo.trust import UntrustedModelError, sign_folder

    sig = json.loads((run / "signature.json").read_text())
    (run / "signature.json").write_text(json.dumps({**sig, "mac": "0" * 64}))            # forged
    _refused(run_advisor("predict", str(run), CSV), run, "not made with your signing key")

    monkeypatch.setenv("ML_ADVISOR_HOME", str(tmp_path / "someone-else"))
    sign_folder(run, ["model.joblib"])                                   # signed, but with another user's key
    monkeypatch.undo()
    with pytest.raises(UntrustedModelError, match="not made with your signing key"):
        zoo.load_model(run)
    _refused(run_advisor("predict", str(run), CSV), run, "not made with your signing key")

    (run / "signature.json").unlink()
    _refused(run_advisor("predict", str(run), CSV), run, "no signature.json")
    assert zoo.load_model(run, trust=True) is not None


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to give files away")
def test_files_owned_by_another_user_are_refused(run):
    os.chown(run / "model.joblib", 54321, 54321)
    _refused(run_advisor("predict", str(run), CSV), run, "owned by uid 54321")


def test_library_save_load_and_a_private_key(tmp_path, monkeypatch):
    from sklearn.linear_model import LogisticRegression

    import zoo
    from zoo.trust import UntrustedModelError, key_path

    monkeypatch.setenv("ML_ADVISOR_HOME", str(tmp_path / "home"))
    est = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    zoo.save_model(est, tmp_path / "m", name="tabular_linear")
    assert key_path().stat().st_mode & 0o777 == 0o600
    assert zoo.load_model(tmp_path / "m").predict([[3.0]])[0] == 1
    key_path().chmod(0o644)                                  # other users could read it, so forge signatures
    with pytest.raises(UntrustedModelError, match="private"):
        zoo.load_model(tmp_path / "m")


def test_source_uses_only_safe_loaders():
    """YAML only through safe_load or the one SafeLoader subclass (advisor/deciding/yamlsafe.py, duplicate keys
    refused), torch.load only with weights_only=True, numpy never allows pickles (its default), and the one
    joblib.load sits behind the signature check."""
    sources = [p for d in ("advisor", "zoo", "benchmarks") for p in (ROOT / d).rglob("*.py")]
    assert len(sources) > 20
    bad = []
    for path in sources:
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT)
        if rel != Path("advisor/deciding/yamlsafe.py"):
            bad += [f"{rel}: {m.group(0)}" for m in re.finditer(r"yaml\.(load|unsafe_load|full_load)\(|Loader\s*=",
                                                                text)]
        bad += [f"{rel}: torch.load without weights_only=True"
                for m in re.finditer(r"torch\.load\(([^()]|\([^()]*\))*\)", text) if "weights_only=True" not in m.group(0)]
        bad += [f"{rel}: {m.group(0)}" for m in re.finditer(r"allow_pickle\s*=\s*True", text)]
        bad += [f"{rel}: {m.group(0)}" for m in re.finditer(r"pickle\.loads?\(|pd\.read_pickle\(", text)]
        if "joblib.load(" in text and rel != Path("zoo/persist.py"):
            bad.append(f"{rel}: joblib.load outside zoo.persist")
    assert not bad, bad
    from advisor.deciding.yamlsafe import UniqueKeyLoader
    import yaml

    assert issubclass(UniqueKeyLoader, yaml.SafeLoader)
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.load("!!python/object/apply:os.system ['true']", Loader=UniqueKeyLoader)  # noqa: S506
    persist = (ROOT / "zoo" / "persist.py").read_text()
    assert persist.index("check_trusted(folder") < persist.index("joblib.load(")
