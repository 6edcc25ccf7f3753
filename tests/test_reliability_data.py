"""Data that is quietly wrong, and processes that outlive their parent (issue 13): forecasting rows in any order,
duplicate YAML keys, terminal escapes in printed names, options checked once, long column lists summarised,
Parquet tables, and `compare --workers` pools that die with their parent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import zoo
from advisor.cli import main
from advisor.deciding.schema import DescriptorError, load_descriptor
from advisor.records import parse_record
from conftest import ROOT, run_advisor
from zoo.data import load_dataset, names_text, split_dataset
from zoo.metrics import evaluate
from zoo.terminal import terminal_safe

ESC = "\x1b]0;x\x07"          # sets the terminal title when printed raw


def _cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """`advisor ARGS` through the console entry point, in this process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["advisor", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _one_error_line(code: int, err: str, needle: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("advisor: error: ") and needle in lines[0], err


def _table(tmp_path: Path, name: str = "t.csv", labels: tuple[str, str] = ("a", "b"), n: int = 60) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3))
    df = pd.DataFrame(x, columns=["x1", "x2", "x3"]).assign(target=np.where(x[:, 0] > 0, *labels))
    path = tmp_path / name
    df.to_parquet(path) if path.suffix == ".parquet" else df.to_csv(path, index=False)
    return path


def _descriptor(tmp_path: Path, data: Path, name: str = "t", task: str = "classification",
                modality: str = "tabular", target: str = "target") -> Path:
    path = tmp_path / "d.yaml"
    path.write_text(f"name: {json.dumps(name)}\ntask: {task}\ndata:\n  modality: {modality}\n"
                    f"  path: {json.dumps(str(data))}\n  target: {json.dumps(target)}\n", encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- A. forecasting data order

def _weekly(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.DataFrame({"date": pd.date_range("2020-01-05", periods=n, freq="W-SUN"),
                         "value": 20 + 0.1 * t + 3 * np.sin(2 * np.pi * t / 13) + rng.normal(0, 0.3, n)})


def _load_split(df: pd.DataFrame, path: Path):
    df.to_csv(path, index=False)
    ds = load_dataset(path, "time_series", task="forecasting")
    return ds, *split_dataset(ds, "forecasting")


@pytest.mark.parametrize("clock", ["date", "t", "Year"])
def test_shuffled_rows_give_the_same_series_split_and_metrics(tmp_path: Path, clock: str) -> None:
    df = _weekly()
    if clock != "date":                                  # a numeric time column, named like one
        df = df.drop(columns="date").assign(**{clock: np.arange(len(df)) + (1900 if clock == "Year" else 0)})
    _, train, test = _load_split(df, tmp_path / "sorted.csv")
    shuffled, strain, stest = _load_split(df.sample(frac=1.0, random_state=3), tmp_path / "shuffled.csv")
    assert np.array_equal(train.y, strain.y) and np.array_equal(test.y, stest.y)
    if clock == "date":
        assert list(pd.DatetimeIndex(test.X)) == list(pd.DatetimeIndex(stest.X))
    assert any(f"sorted them by {clock!r}" in note for note in shuffled.notes), shuffled.notes
    scores = [evaluate(zoo.create_model("ts_direct_linear").fit(tr.X, tr.y), te, "forecasting", train=tr)
              for tr, te in ((train, test), (strain, stest))]
    assert scores[0]["mase"] == scores[1]["mase"] and scores[0]["r2"] == scores[1]["r2"]


@pytest.mark.parametrize("clock", ["date", "t"])
def test_a_hundred_duplicated_rows_are_averaged_with_a_line_saying_so(tmp_path: Path, clock: str) -> None:
    df = _weekly()
    if clock == "t":
        df = df.drop(columns="date").assign(t=np.arange(len(df)))
    sorted_ds, _, test = _load_split(df, tmp_path / "sorted.csv")
    doubled = pd.concat([df, df.iloc[:100]]).sample(frac=1.0, random_state=1)
    ds, _, dtest = _load_split(doubled, tmp_path / "doubled.csv")
    assert np.allclose(ds.y, sorted_ds.y) and np.array_equal(test.y, dtest.y)
    first = "2020-01-05" if clock == "date" else "0"
    assert f"averaged 200 rows that share 100 time(s) into one value each (first: {clock!r} {first})" in ds.notes
    clash = pd.concat([df, df.iloc[[7]].assign(value=df["value"].iloc[7] + 10)])      # differing values: the mean
    clash.to_csv(tmp_path / "c.csv", index=False)
    averaged = load_dataset(tmp_path / "c.csv", "time_series", task="forecasting")
    assert averaged.y[7] == pytest.approx(df["value"].iloc[7] + 5) and len(averaged) == len(df)


def test_without_a_time_column_the_file_order_is_said(tmp_path: Path) -> None:
    df = _weekly().drop(columns="date").assign(other=1.0)
    ds, _, _ = _load_split(df, tmp_path / "s.csv")
    assert ds.X is None and any("no time column found" in n and "file order" in n for n in ds.notes), ds.notes
    only, _, _ = _load_split(df[["value"]], tmp_path / "v.csv")
    assert only.notes == []                                  # a single column: nothing to say


def test_unevenly_spaced_numeric_times_are_said(tmp_path: Path) -> None:
    df = _weekly(20).drop(columns="date").assign(year=[*range(1900, 1910), *range(1911, 1921)])
    ds, _, _ = _load_split(df, tmp_path / "y.csv")
    assert "the times in 'year' are unevenly spaced (steps of 1 to 2); the rows are taken as consecutive steps" \
        in ds.notes
    even, _, _ = _load_split(df.assign(year=range(20)), tmp_path / "e.csv")
    assert even.notes == []


def test_the_time_ordered_split_sorts_a_series_built_out_of_order(tmp_path: Path) -> None:
    df = _weekly()
    ds, train, test = _load_split(df, tmp_path / "s.csv")
    order = np.random.default_rng(0).permutation(len(ds))
    str_, ste = split_dataset(ds.subset(order), "forecasting")
    assert np.array_equal(str_.y, train.y) and np.array_equal(ste.y, test.y)


# ----------------------------------------------------------------------------- B. duplicate YAML keys

DESCRIPTOR = "name: p\ntask: classification\ndata:\n  modality: tabular\n  n_samples: 100\n"


@pytest.mark.parametrize("text, key, line, first", [
    (DESCRIPTOR + "  n_samples: 200\n", "n_samples", 6, 5),
    (DESCRIPTOR + "name: q\n", "name", 6, 1),
    ("name: p\nname: p\ntask: classification\ndata: {modality: tabular, n_samples: 1}\n", "name", 2, 1),
    (DESCRIPTOR + "needs: {regulated: true, regulated: false}\n", "regulated", 6, 6),
])
def test_duplicate_keys_are_refused_with_the_key_and_line(write_yaml, text: str, key: str, line: int,
                                                          first: int) -> None:
    with pytest.raises(DescriptorError) as info:
        load_descriptor(write_yaml(text))
    message = str(info.value)
    assert f"at line {line}," in message and f"duplicate key '{key}'" in message
    assert f"first on line {first}" in message


def test_merge_keys_may_still_override_and_the_rulebook_has_no_duplicates() -> None:
    from advisor.deciding.rules import load_rulebook
    from advisor.deciding.yamlsafe import load_yaml

    text = "base: &b {modality: tabular, n_samples: 5}\ndata:\n  <<: *b\n  n_samples: 7\n"
    assert load_yaml(text)["data"] == {"modality": "tabular", "n_samples": 7}
    assert load_yaml("[1, {a: 1}, {a: 2}]") == [1, {"a": 1}, {"a": 2}]          # equal keys, other mappings
    assert load_rulebook().rules


def test_duplicate_keys_in_a_run_folders_descriptor_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate key 'task'"):
        parse_record("descriptor", DESCRIPTOR + "task: regression\n", "descriptor.yaml")


def test_duplicate_key_on_the_command_line_is_one_line(monkeypatch, capsys, write_yaml) -> None:
    code, _, err = _cli(monkeypatch, capsys, "recommend", str(write_yaml(DESCRIPTOR + "  n_samples: 9\n")))
    _one_error_line(code, err, "duplicate key 'n_samples'")


# ----------------------------------------------------------------------------- C. terminal escapes

def test_terminal_safe_escapes_c0_del_c1_but_keeps_lines_and_tabs() -> None:
    assert terminal_safe(f"a{ESC}\tb\nc\x7f\x9b\r é") == "a\\x1b]0;x\\x07\tb\nc\\x7f\\x9b\\x0d é"
    assert json.loads(terminal_safe(json.dumps("\x9b\x7f", ensure_ascii=False), json_text=True)) == "\x9b\x7f"


def test_warnings_are_escaped_too(monkeypatch, capsys) -> None:
    import warnings

    from advisor.cli import _show_warning

    monkeypatch.setattr(warnings, "showwarning", _show_warning)
    warnings.warn(f"column {ESC} looks odd", UserWarning)
    err = capsys.readouterr().err
    assert "column \\x1b]0;x\\x07 looks odd" in err and "\x1b" not in err


def _no_raw_controls(*texts: str) -> None:
    for text in texts:
        assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text, text[:500]


def test_recommend_prints_no_raw_escape(monkeypatch, capsys, write_yaml) -> None:
    desc = write_yaml(f"name: {json.dumps('p' + ESC)}\ntask: classification\ndata:\n  modality: tabular\n"
                      "  n_samples: 100\n")
    code, out, err = _cli(monkeypatch, capsys, "recommend", str(desc))
    assert code == 0 and "p\\x1b]0;x\\x07" in out
    _no_raw_controls(out, err)
    code, out, err = _cli(monkeypatch, capsys, "recommend", str(desc), "--json")
    assert code == 0 and json.loads(out)["name"] == "p" + ESC
    _no_raw_controls(out, err)
    code, out, err = _cli(monkeypatch, capsys, "recommend", str(desc), "--data", str(Path(desc.parent, ESC)))
    _no_raw_controls(out, err)


@pytest.fixture(scope="module")
def escaped_run(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """A model trained from a Parquet table whose class labels and run folder name hold a terminal escape."""
    tmp = tmp_path_factory.mktemp("escapes")
    data = _table(tmp, "t.parquet", labels=("yes" + ESC, "no" + ESC))
    out = tmp / ("run" + ESC)
    result = run_advisor("train", str(_descriptor(tmp, data, name="p" + ESC)), "--rules-only", "--quiet",
                         "--out", str(out))
    return out, data, result


def test_train_and_predict_print_no_raw_escape(escaped_run) -> None:
    out, data, result = escaped_run
    assert result.returncode == 0, result.stderr
    _no_raw_controls(result.stdout, result.stderr)
    assert "run\\x1b]0;x\\x07" in result.stdout
    predicted = run_advisor("predict", str(out), str(data))
    assert predicted.returncode == 0, predicted.stderr
    _no_raw_controls(predicted.stdout, predicted.stderr)
    rows = predicted.stdout.strip().splitlines()          # from the Parquet table it was trained on
    assert len(rows) == 60 and rows[0].startswith("row 0\t")
    assert {r.split("\t")[1].split(" (")[0] for r in rows} <= {"yes\\x1b]0;x\\x07", "no\\x1b]0;x\\x07"}


def test_error_lines_escape_a_path_and_a_column(monkeypatch, capsys, tmp_path: Path) -> None:
    cases = {"gone\\x1b]0;x\\x07.csv": lambda: _descriptor(tmp_path, tmp_path / ("gone" + ESC + ".csv")),
             "'gone\\x1b]0;x\\x07'": lambda: _descriptor(tmp_path, _table(tmp_path), target="gone" + ESC)}
    for needle, make in cases.items():
        desc = make()
        code, out, err = _cli(monkeypatch, capsys, "train", str(desc), "--rules-only", "--out", str(tmp_path / "r"))
        _no_raw_controls(out, err)
        _one_error_line(code, err.strip().splitlines()[-1], needle)


# ----------------------------------------------------------------------------- D. options, once for all commands

BAD_BUDGETS = ("-1", "nan", "inf", "1e-9", "0", "soon")


@pytest.mark.parametrize("command", [("train",), ("compare",), ("recommend", "--measure")])
def test_bad_time_budgets_are_refused_by_every_command(monkeypatch, capsys, tmp_path: Path, command) -> None:
    desc = str(_descriptor(tmp_path, _table(tmp_path)))
    for budget in BAD_BUDGETS:
        code, _, err = _cli(monkeypatch, capsys, command[0], desc, *command[1:], "--time-budget", budget,
                            "--out" if command[0] != "recommend" else "--data", str(tmp_path / "o")
                            if command[0] != "recommend" else str(tmp_path / "t.csv"))
        _one_error_line(code, err, f"'--time-budget': {budget!r}")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args, needle", [
    (("train", "--device", "bogus"), "'--device': 'bogus'"),
    (("compare", "--device", "gpu0"), "'--device': 'gpu0'"),
    (("train", "--seed", "-1"), "'--seed'"),
    (("train", "--nproc", "0"), "'--nproc'"),
    (("compare", "--seeds", "0"), "'--seeds'"),
    (("compare", "--workers", "0"), "'--workers'"),
    (("compare", "--sizes", "0.5,nan"), "'--sizes'"),
    (("compare", "--families", "quantum"), "'--families'"),
])
def test_bad_options_are_one_line_for_every_model_family(monkeypatch, capsys, tmp_path: Path, args, needle) -> None:
    desc = str(_descriptor(tmp_path, _table(tmp_path)))           # a table: the scikit-learn models' data
    code, _, err = _cli(monkeypatch, capsys, args[0], desc, *args[1:], "--out", str(tmp_path / "o"))
    _one_error_line(code, err, needle)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", ["train", "compare"])
def test_a_bad_device_in_the_environment_is_one_line(monkeypatch, capsys, tmp_path: Path, command) -> None:
    monkeypatch.setenv("ML_ADVISOR_DEVICE", "bogus")
    desc = str(_descriptor(tmp_path, _table(tmp_path)))
    code, _, err = _cli(monkeypatch, capsys, command, desc, "--out", str(tmp_path / "o"))
    _one_error_line(code, err, "'bogus'")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("device", ["auto", "CPU", "cuda", "cuda:1", "mps"])
def test_device_words_are_read_alike_everywhere(device: str) -> None:
    from advisor.cli import DEVICE

    assert DEVICE.convert(device, None, None) == device.lower()


# ----------------------------------------------------------------------------- E. long column lists

def test_a_hundred_thousand_columns_and_a_wrong_target_is_a_short_line(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    header = ",".join(f"column_{i}" for i in range(100_000))
    path.write_text(header + "\n" + ",".join(["1"] * 100_000) + "\n", encoding="utf-8")
    with pytest.raises(zoo.DataError) as info:
        load_dataset(path, "tabular", target="nope")
    message = str(info.value)
    assert len(message) < 500 and "column_9 … and 99,990 more" in message and "column_10," not in message


def test_names_text_caps_count_and_length() -> None:
    assert names_text(["a", "b"]) == "a, b"
    assert names_text([f"c{i}" for i in range(12)]) == "c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 … and 2 more"
    assert len(names_text(["x" * 10_000])) == 60


def test_predict_with_missing_columns_lists_a_few(tmp_path: Path) -> None:
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(40, 30)), columns=[f"f{i}" for i in range(30)])
    model = zoo.create_model("tabular_linear").fit(df, np.arange(40) % 2)
    with pytest.raises(ValueError) as info:
        model.predict(df[["f0"]])
    assert "missing 29 column(s) seen in fit: f1, f2" in str(info.value) and "… and 19 more" in str(info.value)


# ----------------------------------------------------------------------------- F. Parquet

def test_parquet_tables_load_like_csv(tmp_path: Path) -> None:
    csv, parquet = _table(tmp_path, "t.csv"), _table(tmp_path, "t.parquet")
    a, b = load_dataset(csv, "tabular"), load_dataset(parquet, "tabular")
    assert np.array_equal(a.y, b.y) and np.allclose(a.X.to_numpy(), b.X.to_numpy())
    series = tmp_path / "s.pq"
    _weekly().sample(frac=1.0, random_state=0).to_parquet(series)
    ds = load_dataset(series, "time_series", task="forecasting")
    assert pd.DatetimeIndex(ds.X).is_monotonic_increasing and len(ds) == 120


# ----------------------------------------------------------------------------- G. workers die with the parent

def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _workers(pid: int) -> list[int]:
    """The loky worker processes of `pid` (not its resource tracker)."""
    found = []
    for child in _children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_text(errors="replace")
        except OSError:
            continue
        if "loky" in cmdline and "resource_tracker" not in cmdline:
            found.append(child)
    return found


def _compare_with_workers(tmp_path: Path, family: str) -> subprocess.Popen:
    """`advisor compare --workers 2` in its own session (stdout and stderr on one pipe), once its two workers
    exist."""
    desc = _descriptor(tmp_path, _table(tmp_path, n=200))
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen([sys.executable, "-m", "advisor.cli", "compare", str(desc), "--families", family,
                             "--sizes", "1.0", "--seeds", "4", "--workers", "2", "--quiet", "--out",
                             str(tmp_path / "c")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT, env=env,
                            start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(_workers(proc.pid)) < 2 and proc.poll() is None:
        time.sleep(0.05)
    assert len(_workers(proc.pid)) == 2 and proc.poll() is None, "the workers never started"
    return proc


def _read_to_eof(proc: subprocess.Popen, seconds: float) -> "str | None":
    """All of `proc`'s output, or None when the pipe is still open after `seconds`."""
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(proc.stdout.read()), daemon=True)
    reader.start()
    reader.join(seconds)
    return got[0].decode("utf-8", "replace") if got else None


def _kill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_compare_workers_die_with_a_killed_parent_and_the_pipe_closes(tmp_path: Path) -> None:
    """Each deep run takes 10 s or more here, so a worker left to finish its run outlives the 8 s allowed."""
    proc = _compare_with_workers(tmp_path, "deep")
    everyone = _children(proc.pid)
    try:
        time.sleep(3)                                        # at work: importing torch, training
        everyone = _children(proc.pid)
        proc.kill()
        assert _read_to_eof(proc, 8) is not None, "the output pipe stayed open after the parent was killed"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(p) for p in everyone):
            time.sleep(0.1)
        assert not [p for p in everyone if _alive(p)]
    finally:
        _kill_all([proc.pid, *everyone])
        proc.wait()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_ctrl_c_stops_compare_workers_without_tracebacks_or_leak_warnings(tmp_path: Path) -> None:
    proc = _compare_with_workers(tmp_path, "classical")
    everyone = _children(proc.pid)
    try:
        time.sleep(0.5)                                      # the workers are still starting up
        os.killpg(proc.pid, signal.SIGINT)                   # Ctrl-C reaches the terminal's whole process group
        out = _read_to_eof(proc, 30)
        assert out is not None and proc.wait(10) == 130
        assert out.rstrip().endswith("advisor: aborted") and "Traceback" not in out and "leaked" not in out, out
    finally:
        _kill_all([proc.pid, *everyone])
        proc.wait()
