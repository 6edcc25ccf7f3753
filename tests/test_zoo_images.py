"""The zoo's shared image-input rules (zoo.images): one list rule, one suffix set, one loop check, one path column."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zoo import images


def test_a_single_path_is_one_image():
    from zoo.features import as_image_list as features_list

    for fn in (images.as_image_list, features_list):
        assert fn("cat.png") == ["cat.png"]
        assert fn(Path("cat.png")) == [Path("cat.png")]
        assert fn(["a.png", "b.png"]) == ["a.png", "b.png"]
        assert len(fn(np.zeros((2, 8, 8, 3), np.uint8))) == 2
        assert len(fn(np.zeros((2, 8, 8), np.uint8))) == 2
        assert fn(np.array(["a.png", "b.png"], dtype=object)) == ["a.png", "b.png"]
        assert fn(pd.Series(["a.png"])) == ["a.png"]
        with pytest.raises(ValueError, match="wrap a single image"):
            fn(np.zeros((8, 8), np.uint8))


def test_one_home_for_suffixes_and_loop_check():
    import advisor.running.measure as measure
    import advisor.running.predict as predict
    import zoo.data as data

    assert data.IMAGE_SUFFIXES is images.IMAGE_SUFFIXES is predict.IMAGE_SUFFIXES
    assert measure.IMAGE_SUFFIXES is images.IMAGE_SUFFIXES
    assert measure.loops_back is images.loops_back is data.loops_back
    root = Path(__file__).resolve().parents[1]
    for folder in ("zoo", "advisor"):
        for path in (root / folder).rglob("*.py"):
            if path.name == "images.py":
                continue
            text = path.read_text(encoding="utf-8")
            assert '".jpeg"' not in text, f"{path} has its own copy of the image suffixes"
            assert "resolve(strict=True)" not in text, f"{path} has its own copy of the symlink-loop check"


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_loops_back(tmp_path):
    top = tmp_path.resolve()
    (tmp_path / "cat").mkdir()
    os.symlink(tmp_path, tmp_path / "loop")
    (tmp_path / "knot").symlink_to(tmp_path / "knot2")
    (tmp_path / "knot2").symlink_to(tmp_path / "knot")
    assert not images.loops_back(tmp_path / "cat", top)
    assert images.loops_back(tmp_path / "loop", top)
    assert images.loops_back(tmp_path / "knot", top)


@pytest.mark.parametrize("columns, expected", [
    (["label", "path"], "path"), (["Image ", "label"], "Image "), (["file", "path"], "path"),
    (["filename", "x"], "filename"), (["where", "label"], "where"), (["label", "where"], "where"),
])
def test_image_path_column(columns, expected):
    df = pd.DataFrame([[f"v{i}" for i in range(len(columns))]], columns=columns)
    assert images.image_path_column(df, exclude=["label"]) == expected


def _png(path: Path, value: int) -> None:
    from PIL import Image

    Image.fromarray(np.full((16, 16, 3), value, np.uint8)).save(path)


def test_loader_and_predict_read_the_same_column(tmp_path):
    """A CSV whose path column is neither first nor called `path`: loader and `advisor predict` agree."""
    from advisor.running.predict import read_inputs
    from zoo.data import load_dataset

    for i in range(6):
        _png(tmp_path / f"im{i}.png", 40 * i)
    csv = tmp_path / "images.csv"
    pd.DataFrame({"label": ["a", "b"] * 3, "image": [f"im{i}.png" for i in range(6)]}).to_csv(csv, index=False)
    ds = load_dataset(csv, "image")
    names, _ = read_inputs({"modality": "image", "target": "label"}, csv)
    assert [Path(p).name for p in ds.X] == [Path(p).name for p in names] == [f"im{i}.png" for i in range(6)]
    # no conventional name: the first column that is not the target, for both
    pd.DataFrame({"label": ["a", "b"] * 3, "where": [f"im{i}.png" for i in range(6)]}).to_csv(csv, index=False)
    ds = load_dataset(csv, "image")
    names, _ = read_inputs({"modality": "image", "target": "label"}, csv)
    assert [Path(p).name for p in ds.X] == [Path(p).name for p in names] == [f"im{i}.png" for i in range(6)]


def test_forecasters_keep_observations_in_series_and_history_is_a_training_curve():
    from zoo.classical import TsLagGradientBoosting

    y = np.sin(np.arange(80) / 4.0)
    est = TsLagGradientBoosting(lags=4, rolling_windows=(3,), max_iter=5).fit(None, y)
    np.testing.assert_array_equal(est.series_, y)
    assert not hasattr(est, "history_")
    state = est.__getstate__()
    state["history_"] = state.pop("series_")                # a model pickled before the rename still loads
    old = TsLagGradientBoosting.__new__(TsLagGradientBoosting)
    old.__setstate__(state)
    np.testing.assert_array_equal(old.predict(3), est.predict(3))
