"""Hostile data through the zoo's loaders and `advisor train` / `advisor recommend`.

What a user gets: a few bad images are skipped and counted (with why, and an example) in the dataset's notes, which
`advisor train` prints; nothing usable, or an impossible task, is one DataError line (exit 2 from the CLI); an
image claiming 400 megapixels is refused before it is decoded; mixed encodings are read without mojibake and said;
symlink loops are not walked; nothing hangs or prints a traceback.
"""

from __future__ import annotations

import json
import os
import struct
import threading
import time
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("PIL")

from click.testing import CliRunner  # noqa: E402
from PIL import Image  # noqa: E402

from advisor.cli import cli  # noqa: E402
from zoo import DataError, load_dataset, split_dataset  # noqa: E402
from zoo.images import TOO_LARGE, to_rgb_array  # noqa: E402


# ----------------------------------------------------------------------------------------------- helpers
def _image(path: Path, seed: int, fmt: str = "PNG") -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(path, fmt)
    return path


def _folder(root: Path, classes: dict[str, int]) -> Path:
    """An ImageFolder: one sub-folder per class with that many small valid images (JPEG and PNG)."""
    for c, (name, n) in enumerate(classes.items()):
        (root / name).mkdir(parents=True)
        for i in range(n):
            fmt = "JPEG" if i % 2 else "PNG"
            _image(root / name / f"{i}.{fmt.lower().replace('jpeg', 'jpg')}", seed=c * 1000 + i, fmt=fmt)
    return root


def _png_header(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims width x height RGB pixels: a decompression bomb costs nothing to make."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def _truncated(path: Path, src: Path, fraction: float) -> Path:
    raw = src.read_bytes()
    path.write_bytes(raw[: int(len(raw) * fraction)])
    return path


def _within(seconds: float, fn: Callable[[], Any]) -> Any:
    """fn() run in a thread; fails (instead of hanging the suite) when it takes longer than `seconds`."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in the test's thread
            box["error"] = exc
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s (a hang)"
    if "error" in box:
        raise box["error"]
    return box["value"]


def _one_line(exc: BaseException) -> str:
    message = str(exc)
    assert message and message.splitlines() == [message], repr(message)
    assert len(message) < 600, message
    return message


def _csv(path: Path, text: "str | bytes") -> Path:
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def _descriptor(tmp_path: Path, data: Path, modality: str, target: str = "target") -> Path:
    desc = tmp_path / "project.yaml"
    desc.write_text(f"name: hostile\ntask: classification\ndata:\n  modality: {modality}\n"
                    f"  path: {json.dumps(str(data))}\n  target: {target}\n", encoding="utf-8")
    return desc


def _invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def _exit_2_one_line(result, needle: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exc_info)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("advisor: error: ") and needle in last, result.stderr
    return last


# ----------------------------------------------------------------------------------------------- images
def test_a_few_bad_images_are_skipped_and_counted(tmp_path: Path) -> None:
    root = _folder(tmp_path / "imgs", {"cat": 20, "dog": 20})
    bad = {
        _truncated(root / "cat" / "cut.jpg", root / "cat" / "1.jpg", 0.6),   # JPEG verify() alone passes this
        _truncated(root / "dog" / "cut.png", root / "dog" / "0.png", 0.9),
        _csv(root / "dog" / "empty.png", b""),
        _csv(root / "cat" / "notes.jpg", "not an image at all\n"),
    }
    ds = load_dataset(root, "image")
    assert len(ds) == 40 and sorted(ds.classes) == ["cat", "dog"]
    assert {Path(p) for p in ds.skipped} == bad
    assert ds.notes == [f"skipped 4 unreadable image(s) (4 cannot be decoded; e.g. {ds.skipped[0]})"]
    assert all(to_rgb_array(p).shape == (16, 16, 3) for p in ds.X)   # everything kept decodes: no surprise later
    train, test = split_dataset(ds, "classification")
    assert len(train) + len(test) == 40


def test_too_many_or_only_bad_images_is_one_line(tmp_path: Path) -> None:
    root = _folder(tmp_path / "imgs", {"cat": 5, "dog": 5})
    for i in range(3):
        _csv(root / "cat" / f"zero{i}.jpg", b"")
    with pytest.raises(DataError) as info:
        load_dataset(root, "image")
    assert "3 of 13 images cannot be read (3 cannot be decoded; e.g." in _one_line(info.value)
    only_bad = tmp_path / "bad"
    for cls in ("a", "b"):
        (only_bad / cls).mkdir(parents=True)
        _csv(only_bad / cls / "x.png", "text")
    with pytest.raises(DataError) as info:
        load_dataset(only_bad, "image")
    assert "no readable images found (2 cannot be decoded; e.g." in _one_line(info.value)


def test_decompression_bomb_is_refused_without_decoding(tmp_path: Path) -> None:
    root = _folder(tmp_path / "imgs", {"cat": 10, "dog": 10})
    bomb = root / "cat" / "bomb.png"
    bomb.write_bytes(_png_header(20_000, 20_000))                 # claims 400 MP in 120 bytes
    assert bomb.stat().st_size < 200
    start = time.perf_counter()
    ds = load_dataset(root, "image")
    assert time.perf_counter() - start < 5
    limit = TOO_LARGE                                             # 32 MP, below Pillow's own limit
    assert ds.skipped == [str(bomb)] and len(ds) == 20
    assert ds.notes == [f"skipped 1 unreadable image(s) (1 {limit}; e.g. {bomb})"]
    with pytest.raises(ValueError) as info:
        to_rgb_array(bomb)
    assert str(bomb) in _one_line(info.value) and "decompression bomb" in str(info.value)   # Pillow refuses first

    lonely = tmp_path / "lonely"
    for cls, (w, h) in {"a": (20_000, 20_000), "b": (10_000, 10_000)}.items():   # 100 MP: over the cap too
        (lonely / cls).mkdir(parents=True)
        (lonely / cls / "big.png").write_bytes(_png_header(w, h))
    with pytest.raises(DataError) as info:
        load_dataset(lonely, "image")
    assert f"no readable images found (2 {limit}; e.g." in _one_line(info.value)


def test_images_listed_in_a_csv_get_the_same_checks(tmp_path: Path) -> None:
    root = _folder(tmp_path / "imgs", {"cat": 10, "dog": 10})
    (root / "bomb.png").write_bytes(_png_header(20_000, 20_000))
    rows = [f"{c}/{i}.{'jpg' if i % 2 else 'png'},{c}" for c in ("cat", "dog") for i in range(10)]
    table = _csv(root / "list.csv", "path,label\n" + "\n".join(rows + ["bomb.png,cat"]) + "\n")
    ds = load_dataset(table, "image")
    assert len(ds) == 20 and ds.skipped == [str(root / "bomb.png")] and TOO_LARGE in ds.notes[0]
    with pytest.raises(DataError, match="has a header but no rows"):
        load_dataset(_csv(root / "empty.csv", "path,label\n"), "image")


def test_truncated_or_fake_image_at_predict_time_is_a_one_line_value_error(tmp_path: Path) -> None:
    src = _image(tmp_path / "ok.jpg", 1, "JPEG")
    for bad in (_truncated(tmp_path / "cut.jpg", src, 0.5), _csv(tmp_path / "t.png", "hello"),
                _csv(tmp_path / "z.png", b""), tmp_path / "missing.png"):
        with pytest.raises(ValueError) as info:
            to_rgb_array(bad)
        assert _one_line(info.value).startswith(f"{bad}: cannot read as an image (")


def test_unicode_class_names(tmp_path: Path) -> None:
    names = ["猫", "🐶 dog", "été", "Ωmega"]
    root = _folder(tmp_path / "données", {n: 3 for n in names})
    ds = load_dataset(root, "image")
    assert ds.classes == sorted(names) and len(ds) == 12 and not ds.skipped
    assert {str(label) for label in ds.y} == set(names)
    assert all(Path(p).is_file() and Path(p).parent.name == label for p, label in zip(ds.X, ds.y))


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_symlink_loops_are_not_followed(tmp_path: Path) -> None:
    root = _folder(tmp_path / "imgs", {"cat": 20, "dog": 20})
    os.symlink(root, root / "loop")                               # a "class" that is the data folder itself
    os.symlink(tmp_path, root / "parent")                         # ... or above it
    os.symlink(root / "cat", root / "cat" / "again")             # a folder inside a class that loops back
    os.symlink("self.png", root / "dog" / "self.png")            # a file link that points at itself
    os.symlink("gone.png", root / "dog" / "dangling.png")
    (root / "knot").symlink_to(root / "knot2")
    (root / "knot2").symlink_to(root / "knot")                    # a two-link cycle named like a class
    ds = _within(30, lambda: load_dataset(root, "image"))
    assert ds.classes == ["cat", "dog"] and len(ds) == 40
    assert sorted(Path(p).name for p in ds.skipped) == ["dangling.png", "self.png"]
    assert ds.notes[0] == f"skipped 2 unreadable image(s) (2 not a file; e.g. {ds.skipped[0]})"
    assert ds.notes[1] == "skipped class folder(s) loop, parent: a symlink back into the data folder"

    from advisor.running.measure import _count_folder       # what `advisor recommend` measures: image names, not decoded
    assert _within(30, lambda: _count_folder(root)) == (42, 2)       # not 3 classes and twice the images


def test_a_fifo_never_blocks(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    root = _folder(tmp_path / "imgs", {"cat": 20, "dog": 20})
    os.mkfifo(root / "cat" / "pipe.png")
    ds = _within(30, lambda: load_dataset(root, "image"))
    assert [Path(p).name for p in ds.skipped] == ["pipe.png"] and "not a file" in ds.notes[0]
    os.mkfifo(tmp_path / "table.csv")
    with pytest.raises(DataError) as info:
        _within(30, lambda: load_dataset(tmp_path / "table.csv", "tabular"))
    assert "not a regular file or folder" in _one_line(info.value)
    desc = _descriptor(tmp_path, tmp_path / "table.csv", "tabular")
    result = _within(30, lambda: _invoke("recommend", str(desc), "--json"))     # measuring must not open it
    assert result.exit_code == 0 and json.loads(result.stdout)["measured"] == [], result.output


# ----------------------------------------------------------------------------------------------- tables
def test_mixed_encodings_are_read_without_mojibake(tmp_path: Path) -> None:
    rows = ["crème,1,éléphant".encode("utf-8"), "crème,2,éléphant".encode("latin-1"), b"rouge,3,chat",
            "crème,4,chat".encode("utf-8"), "bleu,5,éléphant".encode("latin-1")]
    path = _csv(tmp_path / "mixed.csv", b"\n".join([b"colour,size,target", *rows * 3]) + b"\n")
    ds = load_dataset(path, "tabular", target="target")
    assert set(ds.X["colour"]) == {"crème", "rouge", "bleu"}                 # not 'crÃ¨me'
    assert ds.classes == ["chat", "éléphant"] and len(ds) == 15
    assert ds.notes == ["6 line(s) are not UTF-8 (first: line 3) and were read as Windows-1252/latin-1; save the "
                        "file as UTF-8 to be sure"]
    windows = _csv(tmp_path / "win.csv", "price,target\n5 €,a\n6 €,a\n‘7’,b\n8,b\n".encode("cp1252"))
    assert set(load_dataset(windows, "tabular").X["price"]) == {"5 €", "6 €", "‘7’", "8"}
    clean = _csv(tmp_path / "bom.csv", b"\xef\xbb\xbf" + "target,x\nchat,1\nchat,2\nchien,3\nchien,4\n".encode())
    ds = load_dataset(clean, "tabular", target="target")                     # a UTF-8 BOM is not part of a name
    assert list(ds.X.columns) == ["x"] and ds.classes == ["chat", "chien"] and not ds.notes


def test_header_only_csv(tmp_path: Path) -> None:
    for modality, header in (("tabular", "a,target\n"), ("text", "text,label\n"), ("image", "path,label\n")):
        with pytest.raises(DataError) as info:
            load_dataset(_csv(tmp_path / f"{modality}.csv", header), modality)
        assert _one_line(info.value).endswith("has a header but no rows")


def test_all_nan_columns(tmp_path: Path) -> None:
    ds = load_dataset(_csv(tmp_path / "a.csv", "x,empty,target\n1,,a\n2,,a\n3,,b\n4,,b\n"), "tabular")
    assert list(ds.X.columns) == ["x"] and ds.notes == ["dropped 1 all-empty column(s): empty"]
    cases = {
        "every feature column is empty (e1, e2); nothing to learn from": "e1,e2,target\n,,a\n,,a\n,,b\n,,b\n",
        "the target is empty (all 4 values are missing)": "x,target\n1,\n2,\n3,\n4,\n",
        "1 rows have no label": "x,target\n1,a\n2,a\n3,b\n4,b\n5,\n",
    }
    for needle, text in cases.items():
        with pytest.raises(DataError) as info:
            load_dataset(_csv(tmp_path / "bad.csv", text), "tabular")
        assert needle in _one_line(info.value)
    with pytest.raises(DataError) as info:
        load_dataset(_csv(tmp_path / "t.csv", "text,label\n,a\n,b\n ,a\n,b\n"), "text")
    assert "the text column 'text' is empty in all 4 rows" in _one_line(info.value)


def test_float_labels(tmp_path: Path) -> None:
    ds = load_dataset(_csv(tmp_path / "f.csv", "x,target\n1,1.0\n2,1.0\n3,2.0\n4,2.0\n"), "tabular")
    assert ds.classes == [1, 2] and ds.y.dtype == np.int64                   # integer classes written as floats
    with pytest.raises(DataError) as info:
        load_dataset(_csv(tmp_path / "g.csv", "x,target\n1,1.0\n2,1.0\n3,2.5\n4,2.0\n5,0.25\n"), "tabular")
    assert ("the target holds 2 distinct non-integer numbers (e.g. 2.5); that is a regression target "
            "(set task: regression)") in _one_line(info.value)
    reg = load_dataset(tmp_path / "g.csv", "tabular", task="regression")
    assert reg.y.dtype == np.float64 and reg.y[2] == 2.5


def test_ten_thousand_classes_of_one_sample(tmp_path: Path) -> None:
    rows = "\n".join(f"{i},class_{i:05d}" for i in range(10_000))
    ids = _csv(tmp_path / "ids.csv", "x,target\n" + rows + "\n")
    start = time.perf_counter()
    with pytest.raises(DataError) as info:
        load_dataset(ids, "tabular")
    assert time.perf_counter() - start < 10
    assert ("every one of the 10,000 examples has its own class (e.g. 'class_00000'); a stratified split needs "
            "at least 2 per class (is the target an ID column?)") in _one_line(info.value)
    mostly = _csv(tmp_path / "mostly.csv", "x,target\n" + rows + "\n" + "\n".join(f"{i},big" for i in range(50)))
    with pytest.raises(DataError) as info:
        load_dataset(mostly, "tabular")
    assert "has 1 example(s) (and 9,999 more of 10,001 classes); need at least 2 per class" in _one_line(info.value)
    _exit_2_one_line(_invoke("train", str(_descriptor(tmp_path, ids, "tabular")), "--out", str(tmp_path / "run"),
                             "--quiet"), "its own class")
    assert not (tmp_path / "run").exists()


# ----------------------------------------------------------------------------------------------- the CLI
def test_recommend_measures_hostile_data_paths_without_crashing(tmp_path: Path) -> None:
    pickled = tmp_path / "objects.npz"
    np.savez(pickled, X=np.zeros((2, 2)), y=np.array([object(), 1], dtype=object))
    long_field = _csv(tmp_path / "long.csv", 'text,label\n"' + "word " * 40_000 + '",a\nshort,b\n')
    not_zip = _csv(tmp_path / "fake.npz", "not a zip")
    for data, modality in ((pickled, "tabular"), (long_field, "text"), (not_zip, "tabular")):
        result = _invoke("recommend", str(_descriptor(tmp_path, data, modality, target="label")), "--json")
        assert result.exit_code == 0, (data, result.output, result.exc_info)
        measured = json.loads(result.stdout)["measured"]
        expected = ["data.n_samples = 2 measured from long.csv", "data.n_classes = 2 measured from long.csv"]
        assert measured == (expected if data == long_field else []), measured   # a 200 KB field is counted too
    for data, needle in ((pickled, "holds Python objects, which are never unpickled"),
                         (not_zip, "cannot read as .npz")):
        with pytest.raises(DataError) as info:
            load_dataset(data, "tabular")
        assert needle in _one_line(info.value)


def test_train_cli_prints_the_skip_count_and_the_encoding_note(tmp_path: Path) -> None:
    root = _folder(tmp_path / "photos", {"猫": 12, "chien": 12})
    _truncated(root / "猫" / "cut.jpg", root / "猫" / "1.jpg", 0.5)
    (root / "chien" / "bomb.png").write_bytes(_png_header(20_000, 20_000))
    result = _invoke("train", str(_descriptor(tmp_path, root, "image")), "--model", "image_handcrafted_forest",
                     "--out", str(tmp_path / "run"), "--quiet")
    assert result.exit_code == 0, (result.output, result.exc_info)
    assert f"data: skipped 2 unreadable image(s) (1 cannot be decoded, 1 {TOO_LARGE}; e.g." in result.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["skipped_inputs"] == 2 and set(metrics["labels"]) == {"猫", "chien"}

    table = _csv(tmp_path / "t.csv", b"\n".join([b"x,target"] + [b"%d,caf\xc3\xa9" % i for i in range(20)]
                                                 + [b"%d,th\xe9" % i for i in range(20, 40)]) + b"\n")
    result = _invoke("train", str(_descriptor(tmp_path, table, "tabular")), "--model", "tabular_linear",
                     "--out", str(tmp_path / "tab"), "--quiet")
    assert result.exit_code == 0, (result.output, result.exc_info)
    assert "data: 20 line(s) are not UTF-8 (first: line 22) and were read as Windows-1252/latin-1" in result.stderr
    metrics = json.loads((tmp_path / "tab" / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["labels"]) == {"café", "thé"}
