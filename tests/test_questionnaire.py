"""`advisor ask`: defaults for every question, --data measured first, paths relative to the YAML, `back`, prefix
answers, 1,000 as a number, --from, validation errors named and re-asked; driven in a real terminal (tmux)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import click
from click.testing import CliRunner
import pytest
import yaml

from conftest import EXAMPLES, ROOT, run_advisor
from advisor.cli import cli
from advisor.deciding.engine import fact_names
from advisor.deciding.questionnaire import ask_descriptor, questions
from advisor.deciding.schema import DescriptorError, load_descriptor

BLANKS = "\n" * 40
IMAGES = EXAMPLES / "data" / "demo_images"


class Script:
    """Answers typed one by one; the prompts seen; running out is click.Abort, as on a closed pipe."""

    def __init__(self, *answers: str) -> None:
        self.answers, self.prompts, self.lines = list(answers), [], []

    def read(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.answers:
            raise click.Abort()
        return self.answers.pop(0)

    def echo(self, line: str) -> None:
        self.lines.append(click.unstyle(line))

    def ask(self, **kwargs):
        return ask_descriptor(read=self.read, echo=self.echo, **kwargs)


def advisor(*args: str, input: str | None = None, cwd: Path | None = None):
    """The CLI in this process (click's runner: fast); the real entry point is run_advisor."""
    old = os.getcwd()
    os.chdir(cwd or ROOT)
    try:
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    finally:
        os.chdir(old)


def _photos(root: Path) -> Path:
    """A folder of class sub-folders holding real PNG photos (copied from the shipped demo images)."""
    files = sorted(IMAGES.glob("*.png"))
    for i, f in enumerate(files):
        (root / "photos" / ("a" if i % 2 else "b")).mkdir(parents=True, exist_ok=True)
        shutil.copy(f, root / "photos" / ("a" if i % 2 else "b") / f.name)
    return root / "photos"


def test_the_questions_are_the_schema():
    assert [q.name for q in questions()] == fact_names()


def test_all_defaults_on_a_pipe_write_a_valid_descriptor(tmp_path):
    out = tmp_path / "wine.yaml"
    result = run_advisor("ask", "-o", str(out), input=BLANKS)
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load(out.read_text())
    assert data["name"] == "wine" and data["task"] == "classification"
    assert data["data"] == {"modality": "tabular", "n_samples": 1000}
    assert run_advisor("recommend", str(out)).returncode == 0


def test_name_defaults_to_project_without_output():
    result = advisor("ask", input=BLANKS)
    assert result.exit_code == 0, result.stderr
    assert "\n# descriptor\nname: project\ntask: classification\n" in result.stdout


def test_a_blank_answer_without_a_default_is_asked_again():
    script = Script("", "pets", *[""] * 30)
    assert script.ask().name == "pets"
    assert script.lines[1] == "  name: an answer is needed" and script.prompts[:2] == ["name", "name"]


def test_a_validation_error_names_the_field_and_asks_it_again():
    script = Script("pets", "", "", "image", "", "1", *[""] * 16, "3")
    desc = script.ask()
    assert desc.data.n_classes == 3
    assert "  data.n_classes: got 1; classification needs at least 2 classes" in "\n".join(script.lines)
    assert script.prompts[-1] == "data.n_classes [1; - clears]"


def test_a_validation_error_with_no_input_left_is_one_line_exit_2(tmp_path):
    out = tmp_path / "never.yaml"
    answers = "pets\n\n\nimage\n\n1\n" + "\n" * 16
    result = run_advisor("ask", "-o", str(out), input=answers)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "advisor: error: data.n_classes: got 1; classification needs at least 2 classes"]
    assert not out.exists()


def test_same_error_in_process_is_a_descriptor_error():
    with pytest.raises(DescriptorError, match=r"^data\.n_classes: got 1"):
        Script("pets", "", "", "image", "", "1", *[""] * 16).ask()


def test_back_returns_to_the_previous_question_with_its_answer_as_default():
    script = Script("pets", "regression", "back", "back", "back", "", "class", "", "text", "back", "", "500",
                    *[""] * 30)
    desc = script.ask()
    assert desc.task == "classification" and desc.data.modality == "text" and desc.data.n_samples == 500
    assert "  (this is the first question)" in script.lines
    task = "task (classification/regression/anomaly_detection/forecasting/generation)"
    assert script.prompts[:6] == ["name", f"{task} [classification]", "data.path [empty: skip]",
                                  f"{task} [regression]", "name [pets]", "name [pets]"]
    assert script.prompts[10] == "data.modality (tabular/image/text/audio/time_series/video) [text]"


def test_unique_prefixes_pick_a_choice_and_an_ambiguous_one_lists_the_matches():
    script = Script("x", "class", "", "t", "ima", "20", "", "hi", "y", *[""] * 30)
    desc = script.ask()
    assert (desc.task, desc.data.modality, desc.data.labeling_cost.value) == ("classification", "image", "high")
    assert desc.data.unlabeled_available is True
    assert "  data.modality: 't' is ambiguous: tabular, text, time_series" in script.lines


@pytest.mark.parametrize("typed, count", [("1,000", 1000), ("1_000", 1000), ("12,345,678", 12345678)])
def test_thousands_separators_are_numbers(typed, count):
    assert Script("x", "", "", "", typed, *[""] * 30).ask().data.n_samples == count


def test_a_decimal_comma_is_not_a_thousands_separator():
    script = Script("x", "", "", "", "1,5", "15", *[""] * 30)
    assert script.ask().data.n_samples == 15
    assert any(line.startswith("  data.n_samples: ") for line in script.lines)


@pytest.mark.parametrize("task", ["classification", "forecasting"])
def test_every_enum_and_yes_no_prompt_shows_its_choices(task):
    named = {"name": "x", "task": task, "resources.accelerator": "gpu"}
    prompts = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        return named.get(prompt.split(" ")[0], "")

    ask_descriptor(read=read, echo=lambda line: None)
    shown = {p.split(" ")[0]: p for p in prompts}
    asked = [q for q in questions() if q.choices and q.name in shown]
    for q in asked:
        assert f"({'/'.join(q.choices)})" in shown[q.name], q.name
    assert {"needs.regulated", "resources.accelerator", "data.unlabeled_available"} <= {q.name for q in asked}
    assert ("data.fill" in shown) == (task == "forecasting")


def test_a_typed_data_path_is_written_relative_to_the_yaml(tmp_path):
    _photos(tmp_path)
    (tmp_path / "sub").mkdir()
    result = advisor("ask", "-o", "sub/p.yaml", input="pets\n\nphotos\n" + BLANKS, cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    data = yaml.safe_load((tmp_path / "sub" / "p.yaml").read_text())
    assert data["data"]["path"] == "../photos" and data["data"]["modality"] == "image"
    check = advisor("recommend", "sub/p.yaml", cwd=tmp_path)
    assert check.exit_code == 0, check.stderr
    assert "measured: data.n_samples = 10 measured from photos" in check.stdout


def test_a_missing_path_is_warned_about_at_once_and_kept(tmp_path):
    script = Script("x", "", "nope", *[""] * 30)
    desc = script.ask(folder=tmp_path)
    warning = "  warning: nope does not exist (kept; type `back` to change it)"
    assert script.lines.index(warning) < next(i for i, line in enumerate(script.lines) if "data.modality" in line)
    assert Path(tmp_path, desc.data.path).resolve() == Path("nope").resolve()


def test_data_is_measured_first_and_answers_are_skipped(tmp_path):
    photos = _photos(tmp_path)
    result = advisor("ask", "--data", str(photos), "-o", str(tmp_path / "p.yaml"), input=BLANKS)
    assert result.exit_code == 0, result.stderr
    assert "data.n_samples: 10 (measured from the data)" in result.stdout
    assert "data.n_classes: 2 (measured from the data)" in result.stdout
    assert "data.n_samples [" not in result.stdout and "data.path [" not in result.stdout
    assert yaml.safe_load((tmp_path / "p.yaml").read_text())["data"]["modality"] == "image"


@pytest.mark.parametrize("data", ["photos", str(EXAMPLES / "data" / "breast_cancer.csv"),
                                  str(EXAMPLES / "data" / "austen_paragraphs.csv")])
def test_ask_and_recommend_on_the_file_agree(tmp_path, data):
    if data == "photos":
        data = str(_photos(tmp_path))
    out = tmp_path / "p.yaml"
    asked = advisor("ask", "--data", data, "-o", str(out), input=BLANKS)
    assert asked.exit_code == 0, asked.stderr
    recommended = advisor("recommend", str(out))
    head = recommended.stdout.splitlines()[0]
    assert head in asked.stdout.splitlines()                   # same approach, model and confidence
    assert "measured: data.n_samples" in recommended.stdout and "(confidence " in head
    assert [line for line in asked.stdout.splitlines() if line.startswith("  measured: ")] == [
        line for line in recommended.stdout.splitlines() if line.startswith("  measured: ")]


def test_data_guesses_modality_target_and_text_column(tmp_path):
    out = tmp_path / "a.yaml"
    result = advisor("ask", "--data", str(EXAMPLES / "data" / "austen_paragraphs.csv"), "-o", str(out),
                         input=BLANKS)
    assert result.exit_code == 0, result.stderr
    data = yaml.safe_load(out.read_text())["data"]
    assert (data["modality"], data["target"], data["text_column"]) == ("text", "label", "text")


def test_a_missing_data_option_is_one_line(tmp_path):
    result = advisor("ask", "--data", str(tmp_path / "nope"), "-o", str(tmp_path / "x.yaml"), input=BLANKS)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "does not exist" in result.stderr


def test_from_an_old_descriptor_its_values_are_the_defaults(tmp_path):
    old = EXAMPLES / "fashion_mnist_demo.yaml"
    out = tmp_path / "again.yaml"
    result = advisor("ask", "--from", str(old), "-o", str(out), input=BLANKS)
    assert result.exit_code == 0, result.stderr
    new, before = load_descriptor(out).model_dump(), load_descriptor(old).model_dump()
    assert (tmp_path / new["data"].pop("path")).resolve() == (old.parent / before["data"].pop("path")).resolve()
    assert new == before
    assert "name [fashion-mnist-demo]" in result.stdout


def test_from_a_bad_descriptor_is_one_line(write_yaml, tmp_path):
    bad = write_yaml("name: x\ntask: sorting\n")
    result = advisor("ask", "--from", str(bad), "-o", str(tmp_path / "x.yaml"), input=BLANKS)
    assert result.exit_code == 2 and "task: got 'sorting'" in result.stderr and "Traceback" not in result.stderr


# --- a real terminal: tmux drives `advisor ask` keystroke by keystroke ---
class Terminal:
    def __init__(self, cwd: Path, command: str) -> None:
        self.tmux = [shutil.which("tmux") or "tmux", "-L", f"advisor-ask-{os.getpid()}", "-f", os.devnull]
        env = f"PYTHONPATH={ROOT} PYTHONIOENCODING=utf-8"
        subprocess.run([*self.tmux, "new-session", "-d", "-s", "ask", "-x", "200", "-y", "50", "-c", str(cwd),
                        f"env {env} {sys.executable} -m advisor.cli {command}; echo EXIT $?; sleep 60"], check=True)

    def screen(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p", "-J", "-S", "-2000", "-t", "ask"],
                              capture_output=True, text=True).stdout

    def wait(self, prompt: str, timeout: float = 30) -> None:
        """Until the cursor waits after `prompt:`."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            lines = [line for line in self.screen().splitlines() if line.strip()]
            if lines and lines[-1].rstrip().endswith(f"{prompt}:"):
                return
            time.sleep(0.05)
        raise AssertionError(f"no prompt {prompt!r} on screen:\n{self.screen()}")

    def type(self, prompt: str, text: str) -> None:
        self.wait(prompt)
        if text:
            subprocess.run([*self.tmux, "send-keys", "-t", "ask", "-l", text], check=True)
        subprocess.run([*self.tmux, "send-keys", "-t", "ask", "Enter"], check=True)

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_ask_in_a_real_terminal(tmp_path):
    _photos(tmp_path)
    (tmp_path / "sub").mkdir()
    term = Terminal(tmp_path, "ask -o sub/p.yaml")
    try:
        term.type("name [p]", "pets")
        term.type("[classification]", "class")
        term.type("data.path [empty: skip]", "photos")
        term.type("(tabular/image/text/audio/time_series/video) [image]", "back")
        term.type("data.path [photos; - clears]", "")
        term.type("(tabular/image/text/audio/time_series/video) [image]", "ima")
        term.type("data.labeling_cost (low/high) [low]", "hi")
        term.type("data.unlabeled_available (yes/no) [no]", "y")
        for prompt in ("features_well_defined (yes/no) [empty: skip]", "distribution_shift (unlikely/expected) "
                       "[unlikely]", "[none]", "time_budget_minutes [empty: skip]"):
            term.type(prompt, "")
        term.type("weights_path [empty: skip]", "")
        term.type("pretrained_available (yes/no) [empty: skip]", "")
        for prompt in ("[preferred]", "regulated (yes/no) [no]", "[standard]", "[batch]", "dev_time_days "
                       "[empty: skip]", "security_critical (yes/no) [no]"):
            term.type(prompt, "1.5" if prompt.startswith("dev_time") else "")
        end = time.monotonic() + 30
        while "EXIT " not in term.screen() and time.monotonic() < end:
            time.sleep(0.1)
        screen = term.screen()
    finally:
        term.close()
    assert "EXIT 0" in screen, screen
    assert "data.n_samples: 10 (measured from the data)" in screen
    data = yaml.safe_load((tmp_path / "sub" / "p.yaml").read_text())
    assert data["name"] == "pets" and data["task"] == "classification"
    assert data["data"] == {"path": "../photos", "modality": "image", "labeling_cost": "high",
                            "unlabeled_available": True}
    assert data["needs"] == {"dev_time_days": 1.5}


def test_a_dash_empties_an_optional_field_that_has_a_default():
    named = {"name": "x", "resources.time_budget_minutes": "-"}
    prompts = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        return named.get(prompt.split(" ")[0], "")

    desc = ask_descriptor(defaults={"resources.time_budget_minutes": 5.0, "needs.dev_time_days": 2.0}, read=read,
                          echo=lambda line: None)
    assert desc.resources.time_budget_minutes is None and desc.needs.dev_time_days == 2.0
    assert "resources.time_budget_minutes [5.0; - clears]" in prompts


def test_data_given_up_front_suggests_the_task(tmp_path):
    import csv

    with open(EXAMPLES / "data" / "breast_cancer.csv", newline="") as handle:   # predict the tumour's area
        rows = list(csv.reader(handle))
    area, label = rows[0].index("mean area"), rows[0].index("target")
    table = [["target" if i == area else name for i, name in enumerate(row)] if n == 0 else row for n, row in
             enumerate(rows)]
    with open(tmp_path / "area.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([[v for i, v in enumerate(row) if i != label] for row in table])
    out = tmp_path / "area.yaml"
    asked = advisor("ask", "--data", str(tmp_path / "area.csv"), "-o", str(out), input=BLANKS)
    assert asked.exit_code == 0, asked.stderr
    assert "[regression]" in asked.stdout and "data.n_classes" not in asked.stdout
    assert yaml.safe_load(out.read_text())["task"] == "regression"
    recommended = advisor("recommend", str(out))
    assert recommended.stdout.splitlines()[0] in asked.stdout.splitlines()
    assert "measured: data.n_samples = 569 measured from area.csv" in recommended.stdout
