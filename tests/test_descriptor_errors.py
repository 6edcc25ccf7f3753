"""Bad input: one line on stderr naming the field, the value and what is allowed; exit 2; no traceback."""

from __future__ import annotations

import pytest

from advisor import DescriptorError, load_descriptor
from conftest import run_advisor

GOOD = """\
name: x
task: classification
data:
  modality: image
  n_samples: 2000
  n_classes: 2
"""

CASES = [
    ("malformed", "name: x\ntask: [classification\n", ["not valid YAML", "line"]),
    ("unknown key", GOOD.replace("n_samples", "n_sample"), ["data.n_sample", "unknown key", "n_samples"]),
    ("unknown top key", GOOD + "need: {}\n", ["need", "unknown key", "needs"]),
    ("wrong enum", GOOD.replace("modality: image", "modality: imag"), ["data.modality", "'imag'", "tabular", "image"]),
    ("negative n", GOOD.replace("2000", "-5"), ["data.n_samples", "-5", ">= 1"]),
    ("zero n", GOOD.replace("2000", "0"), ["data.n_samples", "0", ">= 1"]),
    ("one class", GOOD.replace("n_classes: 2", "n_classes: 1"), ["data.n_classes", "1", "at least 2"]),
    ("empty", "", ["empty"]),
    ("not a mapping", "- a\n- b\n", ["mapping", "list"]),
    ("missing task", GOOD.replace("task: classification\n", ""), ["task", "missing"]),
    ("no count, no path", GOOD.replace("  n_samples: 2000\n", ""), ["data.n_samples", "data.path"]),
]


@pytest.mark.parametrize("label,text,needles", CASES, ids=[c[0] for c in CASES])
def test_bad_descriptor_library(label, text, needles, write_yaml):
    path = write_yaml(text)
    with pytest.raises(DescriptorError) as info:
        load_descriptor(path)
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, (needle, message)


@pytest.mark.parametrize("label,text,needles", CASES[:5], ids=[c[0] for c in CASES[:5]])
def test_bad_descriptor_cli_exit_2(label, text, needles, write_yaml):
    result = run_advisor("recommend", str(write_yaml(text)))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert all(n in lines[0] for n in needles)


def test_missing_file_and_directory(tmp_path):
    missing = run_advisor("recommend", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "no such file" in missing.stderr and len(missing.stderr.splitlines()) == 1
    folder = run_advisor("recommend", str(tmp_path))
    assert folder.returncode == 2 and "is a directory" in folder.stderr and len(folder.stderr.splitlines()) == 1


def test_yaml_is_loaded_safely(write_yaml):
    path = write_yaml("!!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(DescriptorError, match="not valid YAML"):
        load_descriptor(path)


def test_valid_descriptor_defaults(write_yaml):
    desc = load_descriptor(write_yaml(GOOD))
    assert desc.resources.accelerator.value == "none"
    assert desc.needs.interpretability.value == "preferred"
