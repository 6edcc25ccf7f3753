"""The command line: recommend (text and JSON), rules, schema, ask on a pipe; the light import path."""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import EXAMPLES, run_advisor


def test_recommend_text():
    result = run_advisor("recommend", str(EXAMPLES / "cats_dogs_20000.yaml"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "DEEP" in out and "Why:" in out and "What would change the answer:" in out
    why = out.split("Why:")[1].split("\n\n")[0].strip().splitlines()
    assert 3 <= len(why) <= 6


def test_recommend_json_keys():
    result = run_advisor("recommend", "--json", str(EXAMPLES / "credit_scoring.yaml"))
    data = json.loads(result.stdout)
    assert {"approach", "architecture", "model", "scores", "confidence", "trace", "counterfactuals"} <= set(data)
    assert data["approach"] == "classical"
    assert data["confidence_basis"].startswith("measured: ") and "rule_margin" in data


def test_recommend_says_what_confidence_counts():
    out = run_advisor("recommend", str(EXAMPLES / "credit_scoring.yaml")).stdout
    head, basis = out.splitlines()[:2]
    assert "(confidence " in head
    assert basis.startswith("  confidence: measured: the advisor's pick was within 0.02 of the best model on ")


def test_rules_and_schema():
    rules = run_advisor("rules")
    assert rules.returncode == 0 and "interpretability.required" in rules.stdout
    schema = json.loads(run_advisor("schema").stdout)
    assert schema["title"] == "ProjectDescriptor"
    assert "description" in schema["$defs"]["DataSpec"]["properties"]["modality"]
    rules_json = json.loads(run_advisor("rules", "--json").stdout)
    assert len(rules_json["rules"]) >= 30


ANSWERS = "\n".join([
    "pets",            # name
    "classification",  # task
    "",                # data.path (asked first: the data it points at answers what follows)
    "image",           # data.modality
    "2500",            # data.n_samples
    "2",               # data.n_classes (asked: classification)
    "",                # labeling_cost (default)
    "",                # unlabeled_available
    "",                # features_well_defined
    "",                # distribution_shift
    "gpu",             # resources.accelerator
    "12",              # gpu_memory_gb (asked: gpu)
    "", "", "", "",    # time budget, weights path, pretrained, interpretability
    "", "", "", "", "",  # regulated, performance, inference, dev_time, security
]) + "\n"


def test_ask_on_a_pipe_writes_valid_descriptor(tmp_path):
    out = tmp_path / "asked.yaml"
    result = run_advisor("ask", "-o", str(out), input=ANSWERS)
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load(out.read_text())
    assert data["data"] == {"modality": "image", "n_samples": 2500, "n_classes": 2}
    assert data["resources"] == {"accelerator": "gpu", "gpu_memory_gb": 12.0}
    assert "What would change the answer" in result.stdout
    # the written file is itself a valid descriptor
    assert run_advisor("recommend", str(out)).returncode == 0


def test_ask_reasks_bad_answers_and_skips_irrelevant(tmp_path):
    answers = ANSWERS.replace("image\n2500\n2\n", "imag\nimage\n-3\n2500\n2\n", 1)
    answers = answers.replace("gpu\n12\n", "none\n", 1)  # gpu_memory_gb is not asked without a GPU
    result = run_advisor("ask", "-o", str(tmp_path / "a.yaml"), input=answers)
    assert result.returncode == 0, result.stderr
    assert "gpu_memory_gb" not in result.stdout


def test_ask_running_out_of_input_is_one_line(tmp_path):
    out = tmp_path / "never.yaml"
    result = run_advisor("ask", "-o", str(out), input="pets\n")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert not out.exists()


def test_ask_into_missing_folder(tmp_path):
    result = run_advisor("ask", "-o", str(tmp_path / "nope" / "x.yaml"), input=ANSWERS)
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_recommend_does_not_import_heavy_libraries():
    code = ("import sys; from advisor.cli import cli\n"
            "try:\n    cli(['recommend', sys.argv[1]], standalone_mode=False)\nexcept SystemExit: pass\n"
            "heavy = [m for m in ('torch', 'timm', 'transformers', 'sklearn', 'zoo.classical', 'mlflow', 'librosa', 'soundfile', 'shap', 'av') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-c", code, str(EXAMPLES / "cats_dogs_2000.yaml")],
                            capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


def test_default_run_folder_stays_under_runs():
    from advisor.cli import _folder_name

    assert _folder_name("../../etc") == "etc" and _folder_name("a/b") == "a-b"
    assert _folder_name("x\ny") == "x-y" and _folder_name("...") == "project"
    assert _folder_name("cats-vs-dogs_2") == "cats-vs-dogs_2" and _folder_name("été 猫") == "été-猫"


@pytest.mark.parametrize("args, needle", [
    (("compare", str(EXAMPLES / "medical_diagnosis_clinical.yaml"), "--workers", "0"),
     "compare: Invalid value for '--workers'"),
    (("train", "x.yaml", "--bogus"), "train: No such option '--bogus'"),
    (("recommend",), "recommend: Missing argument"),
    (("nosuch",), "No such command 'nosuch'"),
])
def test_click_usage_errors_are_one_line_exit_2(args, needle):
    result = run_advisor(*args)
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0, result.stderr
    assert result.stderr.startswith("advisor: error: ") and needle in result.stderr


def test_bare_advisor_prints_help_and_version_is_known():
    bare = run_advisor()
    assert bare.returncode == 0 and bare.stdout.startswith("Usage: advisor") and bare.stderr == ""
    version = run_advisor("--version")
    assert version.returncode == 0 and version.stdout.startswith("ml-advisor, version ")


def test_every_command_help_ends_with_examples_that_parse():
    """`advisor CMD --help` shows examples; each names a real command and only options that command has."""
    import shlex

    from advisor.cli import cli

    for name, cmd in cli.commands.items():
        assert cmd.epilog and "Examples:" in cmd.epilog, f"`advisor {name} --help` has no examples"
        known = {opt for param in cmd.params for opt in getattr(param, "opts", [])}
        for line in cmd.epilog.splitlines()[2:]:
            words = shlex.split(line.split(">")[0])
            assert words[:2] == ["advisor", name], line
            unknown = [w for w in words if w.startswith("-") and w not in known]
            assert not unknown, f"{line!r}: {unknown} not options of `advisor {name}`"
    assert "Examples:" in run_advisor("train", "--help").stdout
