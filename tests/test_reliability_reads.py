"""Every file the project reads is validated and bounded: run files, model files, descriptors, data, images.

A run folder may come from someone else, so `advisor report` and `advisor predict` treat each of its files as
hostile: a value of the wrong type, a list for an object, 100,000 nested brackets, a truncated or non-UTF-8
file, a huge file, a FIFO or a device in its place is one line naming the file, exit 2 (a file that is not
JSON/YAML at all is listed in the report, with a warning line, and the rest is shown). Nothing hangs: special
files are refused before they are opened (each of those tests runs under a timeout). Images are decoded whole
when checked (valid CRCs over short pixel data are caught) and capped in pixels; `.npz` arrays are checked
against each other; a run given the wrong kind of input says what it expects.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from conftest import ROOT

pytest.importorskip("sklearn")
pytest.importorskip("PIL")

from click.testing import CliRunner  # noqa: E402
from PIL import Image  # noqa: E402

from advisor.cli import cli  # noqa: E402
from advisor.deciding.schema import MAX_DESCRIPTOR_BYTES  # noqa: E402
from advisor.records import MAX_RECORD_BYTES  # noqa: E402
from zoo import DataError, load_dataset  # noqa: E402
from zoo.images import MAX_PIXELS, to_rgb_array  # noqa: E402
from zoo.persist import MAX_META_BYTES  # noqa: E402

FIFO = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")


# ----------------------------------------------------------------------------------------------- helpers
def _cli(*args: str):
    return CliRunner().invoke(cli, list(args))


def _exit_2(result, needle: str) -> str:
    """Exit 2, no traceback, and the last stderr line is the one error line, naming `needle`."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exc_info)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("advisor: error: ") and needle in lines[-1], result.stderr
    assert len(lines[-1]) < 600 and "Traceback" not in result.output
    return lines[-1]


def _within(seconds: float, *args: str):
    """`advisor ARGS` run in a daemon thread that must finish within `seconds`: a command that blocks (on a FIFO,
    in a loop) fails the test instead of hanging the suite."""
    box: dict[str, object] = {}
    worker = threading.Thread(target=lambda: box.update(result=_cli(*args)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"advisor {' '.join(args)}: still running after {seconds} s (a hang)"
    return box["result"]


def _at_once(needle: str, *args: str) -> str:
    """`advisor ARGS` exits 2 within 30 s, its last line the error naming `needle`."""
    return _exit_2(_within(30, *args), needle)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _short_png(path: Path, size: int = 32) -> Path:
    """A PNG whose chunks all carry valid CRCs but whose IDAT holds half the compressed pixels: verify() passes."""
    rows = b"".join(b"\0" + bytes(np.random.default_rng(i).integers(0, 255, size * 3, dtype=np.uint8))
                    for i in range(size))
    packed = zlib.compress(rows)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
                     + _chunk(b"IDAT", packed[: len(packed) // 2]) + _chunk(b"IEND", b""))
    with Image.open(path) as img:
        img.verify()                                      # what the old check relied on
    return path


def _big_png(path: Path) -> Path:
    """A 9,000 × 9,000 1-bit PNG: about 10 KB on disk, 81 megapixels decoded."""
    Image.new("1", (9000, 9000)).save(path)
    assert path.stat().st_size < 20_000
    return path


def _images(root: Path, n: int = 12) -> Path:
    rng = np.random.default_rng(0)
    for c, name in enumerate(("cat", "dog")):
        (root / name).mkdir(parents=True)
        for i in range(n):
            pixels = rng.integers(0, 120, (16, 16, 3), dtype=np.uint8) + 120 * c
            Image.fromarray(pixels.astype(np.uint8)).save(root / name / f"{i}.png")
    return root


def _sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as handle:
        handle.truncate(size)                              # a hole: huge on paper, nothing written
    return path


# ----------------------------------------------------------------------------------------------- runs
@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """One small real run: a 60-row table, the rules' classical pick, plus a compare.json beside it."""
    root = tmp_path_factory.mktemp("reads")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    lines = ["a,b,c,target"] + [f"{r[0]:.3f},{r[1]:.3f},{r[2]:.3f},{int(r[0] > 0)}" for r in X]
    (root / "t.csv").write_text("\n".join(lines) + "\n")
    (root / "t.yaml").write_text("name: tiny\ntask: classification\ndata:\n  modality: tabular\n  path: t.csv\n"
                                 "  target: target\n")
    out = root / "run"
    result = subprocess.run([sys.executable, "-m", "advisor.cli", "train", str(root / "t.yaml"), "--out", str(out),
                             "--rules-only", "--quiet"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    (out / "compare.json").write_text(json.dumps(
        {"name": "tiny", "task": "classification", "modality": "tabular", "metric": {"key": "macro_f1"},
         "data": {"train": 48, "test": 12}, "predicted": {"family": "classical"}, "families": ["classical"],
         "classical": {"status": "skipped", "reason": "not run"}}))
    return out


@pytest.fixture
def run(trained, tmp_path) -> Path:
    """A private copy of the trained run (its signature still holds)."""
    return Path(shutil.copytree(trained, tmp_path / "run"))


def _edit(path: Path, change: Callable[[dict], None]) -> bytes:
    data = json.loads(path.read_text())
    change(data)
    return json.dumps(data).encode()


def _set(*keys: str, value: object) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        for key in keys[:-1]:
            data = data[key]
        data[keys[-1]] = value
    return change


DEEP = b"[" * 100_000
# one typed edit per file: (a string where a number goes, a list where an object goes), and the field named
EDITS = {
    "metrics.json": ((_set("train_seconds", value="abc"), "train_seconds"),
                     (_set("roc_curve", value=[1, 2]), "roc_curve")),
    "recommendation.json": ((_set("scores", "classical", value="high"), "scores.classical"),
                            (_set("plan", value=[1, 2]), "plan")),
    "explain.json": ((_set("seconds", value="abc"), "seconds"), (_set("importance", value=[1, 2]), "importance")),
    "run.json": ((_set("seed", value="abc"), "seed"), (_set("versions", value=[1, 2]), "versions")),
    "compare.json": ((_set("data", "train", value="all"), "data.train"), (_set("data", value=[1, 2]), "data")),
    "data_checks.json": ((_set("rows", value="abc"), "rows"), (_set("columns", value=[1, 2]), "columns")),
}
YAML_EDITS = ((b"n_samples: 60", b"n_samples: many", "data.n_samples"), (b"modality: tabular", b"modality: [1, 2]",
                                                                          "data.modality"))


def _corruptions(run: Path, name: str) -> list[tuple[str, bytes, str]]:
    """(label, new file bytes, what the error line must name besides the file) for one run file."""
    path, raw = run / name, (run / name).read_bytes()
    if name.endswith(".yaml"):
        typed = [(f"wrong type {field}", raw.replace(old, new), field) for old, new, field in YAML_EDITS]
        assert all(raw != data for _, data, _ in typed)
    else:
        typed = [(f"wrong type {field}", _edit(path, change), field) for change, field in EDITS[name]]
        nested = json.loads(raw)
        nested["deep"] = None
        typed.append(("deep value", json.dumps(nested).replace('"deep": null', '"deep": ' + "[" * 50_000 + "]"
                                                                 * 50_000).encode(), "nested too deeply"))
    return typed + [("deep file", DEEP, "nested too deeply"), ("top-level list", b"[1, 2]", "")]


RUN_FILES = ("descriptor.yaml", "recommendation.json", "metrics.json", "explain.json", "run.json", "compare.json",
             "data_checks.json")


@pytest.mark.parametrize("name", RUN_FILES)
def test_every_corruption_of_a_run_file_is_one_line_exit_2(run, name):
    assert _cli("report", str(run)).exit_code == 0                       # the intact folder renders
    for label, data, field in _corruptions(run, name):
        (run / name).write_bytes(data)
        line = _exit_2(_cli("report", str(run)), name)
        assert field in line, (label, line)
    limit = MAX_DESCRIPTOR_BYTES if name.endswith(".yaml") else MAX_RECORD_BYTES
    _sparse(run / name, limit + 1)
    start = time.perf_counter()
    assert "limit" in _exit_2(_cli("report", str(run)), name)
    assert time.perf_counter() - start < 5                             # refused from its size, never read


@pytest.mark.parametrize("name", RUN_FILES)
def test_a_run_file_that_is_not_text_is_listed_with_a_warning(run, name):
    for data in (b"\xff\xfe\x00 not text", (run / name).read_bytes()[:40]):    # non-UTF-8, truncated
        (run / name).write_bytes(data)
        result = _cli("report", str(run))
        if result.exit_code == 2:                                        # a YAML cut short may still parse
            _exit_2(result, name)
            continue
        assert result.exit_code == 0, (result.output, result.exc_info)
        warnings = result.stderr.strip().splitlines()
        assert len(warnings) == 1 and warnings[0].startswith(f"advisor: warning: {name}: unreadable"), warnings
        assert f"{name}: unreadable" in (run / "report.html").read_text(encoding="utf-8")


def test_an_alias_bomb_in_the_run_descriptor_fails_fast(run):
    laughs = "x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 9)}]\n" for i in range(1, 10))      # 9**10 leaves, 600 bytes
    original = (run / "descriptor.yaml").read_text()
    for field, old in (("name", "name: tiny"), ("data.modality", "modality: tabular"), ("data.path", "path: ")):
        line = next(x for x in original.splitlines() if x.strip().startswith(old.strip()))
        key = line.split(":")[0]
        (run / "descriptor.yaml").write_text(laughs + original.replace(line, f"{key}: *x9"))
        start = time.perf_counter()
        assert field in _exit_2(_cli("report", str(run)), "descriptor.yaml")
        assert time.perf_counter() - start < 5


ODD_BUT_VALID = (("metrics.json", _set("per_class", "0", "support", value=float("inf"))),
                 ("metrics.json", _set("per_class", "1", "support", value=float("nan"))),
                 ("explain.json", _set("importance", "features", 0, "std", value=1e308)),
                 ("explain.json", _set("importance", "features", 0, "value", value=-1e308)),
                 ("compare.json", _set("learning_curves", value={"families": {"classical": [
                     {"size": 0.5, "n_train": 24, "seeds": 1, "mean": 0.9, "min": None, "max": None},
                     {"size": 1.0, "n_train": 48, "seeds": 1, "mean": 0.95, "min": 0.9, "max": 1.0}]}})),
                 ("compare.json", _set("learning_curves", value={"families": {"classical": [
                     {"size": 0.5, "n_train": 24, "seeds": 1, "mean": 1e17, "min": 1e17, "max": 1e17},
                     {"size": 1.0, "n_train": 48, "seeds": 1, "mean": 1e17 + 16, "min": 1e17, "max": 1e17 + 16}]}})))


@pytest.mark.parametrize("name, change", ODD_BUT_VALID, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ODD_BUT_VALID)])
def test_odd_but_valid_numbers_render(run, name, change):
    """NaN, infinities and extreme magnitudes are valid JSON numbers a record accepts: the charts and tables
    must draw them (an infinite support, a 1e308 spread and a band without min/max crashed the report)."""
    (run / name).write_bytes(_edit(run / name, change))
    result = _within(30, "report", str(run))
    assert result.exit_code == 0, (result.output, result.exc_info)
    assert (run / "report.html").stat().st_size > 1000


@FIFO
def test_special_files_in_a_run_folder_are_refused_at_once(run):
    os.unlink(run / "metrics.json")
    os.mkfifo(run / "metrics.json")
    line = _at_once("metrics.json", "report", str(run))
    assert "FIFO" in line
    os.unlink(run / "metrics.json")
    os.symlink("/dev/zero", run / "metrics.json")
    assert "character device" in _at_once("metrics.json", "report", str(run))


# ----------------------------------------------------------------------------------------------- predict's files
MODEL_JSON = ((b"[1, 2]", "expected a JSON object"), (DEEP, "nested too deeply"),
              (b'{"modality": ["image"]}', "modality: expected text"), (b'{"classes": "ab"}', "classes"),
              (b'{"versions": [1]}', "versions"), (b'{"versions": {"numpy": [1]}}', "versions"),
              (b"\xff\xfe{}", "not UTF-8"), (b'{"model": "tab', "not JSON"))


@pytest.mark.parametrize("trust", [False, True])
def test_a_corrupt_model_json_is_one_line_exit_2(run, trust):
    table = str(run.parent / "rows.csv")
    Path(table).write_text("a,b,c\n0.1,0.2,0.3\n")
    flags = ["--trust"] if trust else []
    for data, needle in MODEL_JSON:
        (run / "model.json").write_bytes(data)
        line = _exit_2(_cli("predict", str(run), table, *flags), "model.json")
        assert needle in line, (data[:20], line)
    _sparse(run / "model.json", MAX_META_BYTES + 1)
    assert "limit" in _exit_2(_cli("predict", str(run), table, *flags), "model.json")


def test_a_corrupt_signature_is_refused_in_one_line_naming_it(run):
    table = str(run.parent / "rows.csv")
    Path(table).write_text("a,b,c\n0.1,0.2,0.3\n")
    for data in (DEEP, b"[1, 2]", b'{"files": [1]}', b"\xff\xfe", b'{"files": {"model.joblib": '):
        (run / "signature.json").write_bytes(data)
        line = _exit_2(_cli("predict", str(run), table), "signature.json")
        assert "--trust" in line
    result = _cli("predict", str(run), table, "--trust")                # trusted anyway: it predicts
    assert result.exit_code == 0 and result.stdout.startswith("row 0\t"), result.output


@FIFO
def test_special_files_as_predict_inputs_or_model_files_are_refused_at_once(run, tmp_path):
    os.mkfifo(tmp_path / "fifo.csv")
    assert "FIFO" in _at_once("fifo.csv", "predict", str(run), str(tmp_path / "fifo.csv"))
    assert "character device" in _at_once("/dev/zero", "predict", str(run), "/dev/zero")
    os.unlink(run / "model.json")
    os.mkfifo(run / "model.json")
    assert "FIFO" in _at_once("model.json", "predict", str(run), str(tmp_path / "fifo.csv"))


# ----------------------------------------------------------------------------------------------- descriptors, data
@FIFO
def test_a_descriptor_that_is_a_fifo_or_a_device_is_refused_at_once(tmp_path):
    os.mkfifo(tmp_path / "fifo.yaml")
    for command in ("recommend", "train", "compare"):
        assert "FIFO" in _at_once("fifo.yaml", command, str(tmp_path / "fifo.yaml"))
    for device in ("/dev/zero", "/dev/urandom"):
        assert "character device" in _at_once(device, "recommend", device)
    _sparse(tmp_path / "huge.yaml", MAX_DESCRIPTOR_BYTES + 1)
    assert "limit" in _at_once("huge.yaml", "recommend", str(tmp_path / "huge.yaml"))


@FIFO
def test_a_data_path_that_is_a_fifo_or_a_device_is_refused_at_once(tmp_path):
    os.mkfifo(tmp_path / "fifo.csv")
    for data in (str(tmp_path / "fifo.csv"), "/dev/zero"):
        desc = tmp_path / "d.yaml"
        desc.write_text(f"name: t\ntask: classification\ndata:\n  modality: tabular\n  path: {data}\n"
                        "  n_samples: 10\n")
        _at_once(data, "train", str(desc), "--out", str(tmp_path / "out"), "--rules-only")
    assert not (tmp_path / "out").exists()


def test_a_data_file_larger_than_memory_is_refused_before_reading(tmp_path, monkeypatch):
    import zoo.data

    monkeypatch.setattr(zoo.data, "memory_bytes", lambda: 1000)
    table = tmp_path / "t.csv"
    table.write_text("a,target\n" + "1,0\n" * 400)
    with pytest.raises(DataError, match=r"t.csv: not read: 1,609 bytes, over the 1,000 bytes limit for data"):
        load_dataset(table, "tabular")


NPZ = {
    "lengths": (dict(X=np.zeros((100, 3)), y=np.arange(100)[:80] % 2), "y has shape (80,) but X has 100 rows"),
    "1-D X": (dict(X=np.arange(100.0), y=np.arange(100) % 2), "X has shape (100,); expected 2-D"),
    "5-D X": (dict(X=np.zeros((4, 1, 1, 1, 1)), y=np.arange(4) % 2), "X has shape (4, 1, 1, 1, 1)"),
    "2-D y": (dict(X=np.zeros((10, 3)), y=np.zeros((10, 2))), "y has shape (10, 2)"),
    "short classes": (dict(X=np.zeros((10, 3)), y=np.arange(10) % 3, classes=np.array(["a", "b"])),
                      "classes has shape (2,) but y holds label codes 0 to 2"),
    "negative code": (dict(X=np.zeros((10, 3)), y=np.arange(10) % 3 - 1, classes=np.array(["a", "b", "c"])),
                      "y holds label codes -1 to 1"),
}


@pytest.mark.parametrize("case", sorted(NPZ))
def test_npz_arrays_that_do_not_fit_together_are_one_line(tmp_path, case):
    arrays, needle = NPZ[case]
    np.savez(tmp_path / "d.npz", **arrays)
    with pytest.raises(DataError) as info:
        load_dataset(tmp_path / "d.npz", "tabular")
    message = str(info.value)
    assert message.splitlines() == [message] and message.startswith(f"{tmp_path / 'd.npz'}: ") and needle in message


def test_npz_through_train_is_exit_2_and_good_codes_map_to_names(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros((100, 3)), y=np.arange(80) % 2)
    desc = tmp_path / "d.yaml"
    desc.write_text(f"name: t\ntask: classification\ndata:\n  modality: tabular\n  path: {tmp_path / 'd.npz'}\n")
    _exit_2(_cli("train", str(desc), "--out", str(tmp_path / "out"), "--rules-only"), "y has shape (80,)")
    np.savez(tmp_path / "ok.npz", X=np.zeros((10, 3)), y=np.arange(10) % 2, classes=np.array(["no", "yes"]))
    assert load_dataset(tmp_path / "ok.npz", "tabular").classes == ["no", "yes"]


# ----------------------------------------------------------------------------------------------- images
def test_short_pixel_data_and_huge_images_are_skipped_and_counted(tmp_path):
    root = _images(tmp_path / "imgs")
    short, big = _short_png(root / "cat" / "short.png"), _big_png(root / "dog" / "big.png")
    start = time.perf_counter()
    ds = load_dataset(root, "image")
    assert time.perf_counter() - start < 10                             # the 81 MP image is never decoded
    assert sorted(ds.skipped) == sorted([str(short), str(big)]) and len(ds) == 24
    assert ds.notes == [f"skipped 2 unreadable image(s) (1 cannot be decoded, 1 over the {MAX_PIXELS:,}-pixel "
                        f"limit; e.g. {ds.skipped[0]})"]
    for path, needle in ((big, "9,000×9,000 pixels, over the"), (short, "truncated")):
        with pytest.raises(ValueError, match=needle) as info:
            to_rgb_array(path)
        assert str(info.value).startswith(f"{path}: cannot read as an image")


@pytest.fixture(scope="module")
def image_run(tmp_path_factory) -> Path:
    """A real image classifier (hand-made features + logistic head) saved as `advisor train` saves one."""
    import zoo

    root = _images(tmp_path_factory.mktemp("imgrun") / "imgs")
    ds = load_dataset(root, "image")
    model = zoo.create_model("image_handcrafted_logistic", image_size=32, n_jobs=1).fit(ds.X, ds.y)
    zoo.save_model(model, root.parent / "run", name="image_handcrafted_logistic",
                   extra={"modality": "image", "task": "classification", "target": None, "text_column": None})
    return root.parent / "run"


def test_predict_lists_unreadable_images_and_predicts_the_rest(image_run, tmp_path):
    inputs = _images(tmp_path / "new", n=2)
    short, big = _short_png(inputs / "cat" / "short.png"), _big_png(inputs / "dog" / "big.png")
    result = _cli("predict", str(image_run), str(inputs), "--json")
    assert result.exit_code == 0, (result.output, result.exc_info)
    rows = json.loads(result.stdout)
    assert [r["prediction"] in ("cat", "dog") for r in rows] == [True] * 4 + [False] * 2
    assert sorted((r["input"], r["error"]) for r in rows[4:]) == [
        (str(short), "cannot be decoded"), (str(big), f"over the {MAX_PIXELS:,}-pixel limit")]


# ----------------------------------------------------------------------------------------------- wrong modality
@pytest.fixture(scope="module")
def text_run(tmp_path_factory) -> Path:
    """A real TF-IDF text classifier saved with its text column, as `advisor train` saves one."""
    import zoo

    texts = [f"{'great fun' if i % 2 else 'dull and slow'} film {i}" for i in range(20)]
    labels = np.array(["pos" if i % 2 else "neg" for i in range(20)])
    folder = tmp_path_factory.mktemp("txtrun") / "run"
    zoo.save_model(zoo.create_model("text_tfidf_linear").fit(texts, labels), folder, name="text_tfidf_linear",
                   extra={"modality": "text", "task": "classification", "target": "label", "text_column": "review"})
    return folder


def test_wrong_modality_input_says_what_the_run_expects(image_run, text_run, trained, tmp_path):
    table = tmp_path / "rows.csv"
    table.write_text("a,b,c\n0.1,0.2,0.3\n0.4,0.5,0.6\n")
    line = _exit_2(_cli("predict", str(image_run), str(table)), "takes image data")
    assert "a CSV with a column of image paths" in line and "columns: a, b, c" in line
    line = _exit_2(_cli("predict", str(text_run), str(table)), "takes text data")
    assert "in column 'review'" in line and "its columns are a, b, c" in line
    folder = _images(tmp_path / "imgs", n=1)
    for run in (text_run, trained):
        assert "got a folder" in _exit_2(_cli("predict", str(run), str(folder)), "data")
    (tmp_path / "reviews.csv").write_text("review,label\ngreat fun,pos\ndull and slow,neg\n")
    result = _cli("predict", str(text_run), str(tmp_path / "reviews.csv"))
    assert result.exit_code == 0 and result.stdout.splitlines()[0].startswith("great fun\tpos"), result.output
