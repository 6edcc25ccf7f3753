"""The evidence suite's datasets: every offline one the project can find, as the files the advisor reads.

Each :class:`Spec` says what a user would put in a descriptor (task, modality, target, text column) and how to
materialise the data as a file the advisor loads (CSV for tables, text and series; a folder of class sub-folders
of PNGs, or an .npz, for images) in the cache folder ``benchmarks/.cache/`` (untracked). Nothing is downloaded:
the sources are the shipped examples, scikit-learn's bundled tables, palmerpenguins' and statsmodels' bundled
CSVs, and the shared cats-dogs photos when present.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from benchmarks._common import ROOT

DATA = ROOT / "examples" / "data"
CACHE = Path(__file__).resolve().parent / ".cache"
CATS_DOGS = Path(os.environ.get("ML_ADVISOR_CATS_DOGS", ROOT.parent / "shared" / "data" / "cats-dogs" / "train"))
CATS_DOGS_PER_CLASS = 600


@dataclass(frozen=True)
class Spec:
    name: str
    source: str
    modality: str
    task: str
    make: Callable[[Path], Path]             # cache folder -> the data file or folder (made if missing)
    target: Optional[str] = None
    text_column: Optional[str] = None
    available: Callable[[], Optional[str]] = lambda: None   # why it cannot be had here, or None


def _shipped(name: str) -> Callable[[Path], Path]:
    return lambda cache: DATA / name


def _csv(name: str, frame: Callable[[], Any]) -> Callable[[Path], Path]:
    """Write `frame()` to cache/name.csv once (atomically), and return its path."""
    def make(cache: Path) -> Path:
        path = cache / f"{name}.csv"
        if not path.exists():
            from zoo.io import write_text_atomic

            cache.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, frame().to_csv(index=False))
        return path
    return make


def _sklearn(loader: str, labels: bool) -> Callable[[], Any]:
    def frame() -> Any:
        from sklearn import datasets

        bunch = getattr(datasets, loader)(as_frame=True)
        df = bunch.frame.copy()
        if labels:
            df["target"] = [str(bunch.target_names[i]) for i in bunch.target]
        return df
    return frame


def _weather_table() -> Any:
    import pandas as pd

    return pd.read_csv(DATA / "seattle_weather.csv").drop(columns=["date"])


def _penguins() -> Any:
    from palmerpenguins import load_penguins

    return load_penguins()


def _statsmodels(name: str, shape: Callable[[Any], Any]) -> Callable[[], Any]:
    def frame() -> Any:
        import statsmodels.api as sm

        return shape(getattr(sm.datasets, name).load_pandas().data.copy())
    return frame


def _fair(df: Any) -> Any:
    df["had_affair"] = (df.pop("affairs") > 0).map({True: "yes", False: "no"})
    return df


def _anes96(df: Any) -> Any:
    df["vote"] = df["vote"].map({0.0: "Clinton", 1.0: "Dole"})
    return df.drop(columns=["logpopul"])


def _star98(df: Any) -> Any:
    df["share_above"] = df["NABOVE"] / (df["NABOVE"] + df["NBELOW"])
    return df.drop(columns=["NABOVE", "NBELOW"])


def _sunspots(df: Any) -> Any:
    import pandas as pd

    return pd.DataFrame({"date": [f"{int(y)}-12-31" for y in df["YEAR"]], "sunactivity": df["SUNACTIVITY"]})


def _co2() -> Any:
    import pandas as pd
    import statsmodels.api as sm

    series = sm.datasets.co2.load_pandas().data["co2"].interpolate()
    return pd.DataFrame({"date": series.index.strftime("%Y-%m-%d"), "co2": series.to_numpy()})


def _digits_images(cache: Path) -> Path:
    """scikit-learn's 8x8 digits as 32x32 grayscale PNGs (nearest-neighbour upscale), one folder per class."""
    root = cache / "digits_png"
    if (root / ".done").exists():
        return root
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    bunch = load_digits()
    shutil.rmtree(root, ignore_errors=True)
    for i, (img, label) in enumerate(zip(bunch.images, bunch.target)):
        folder = root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        pixels = (np.asarray(img) * (255.0 / 16.0)).clip(0, 255).astype("uint8")
        Image.fromarray(pixels, mode="L").resize((32, 32), Image.NEAREST).save(folder / f"{i:04d}.png")
    (root / ".done").write_text("")
    return root


def _cats_dogs(cache: Path) -> Path:
    """The first CATS_DOGS_PER_CLASS photos of each class (sorted names), copied into class folders."""
    root = cache / f"cats_dogs_{CATS_DOGS_PER_CLASS}"
    if (root / ".done").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    for cls in sorted(d.name for d in CATS_DOGS.iterdir() if d.is_dir()):
        (root / cls).mkdir(parents=True)
        for f in sorted((CATS_DOGS / cls).iterdir())[:CATS_DOGS_PER_CLASS]:
            shutil.copyfile(f, root / cls / f.name)
    (root / ".done").write_text("")
    return root


def _needs(module: str) -> Callable[[], Optional[str]]:
    def why() -> Optional[str]:
        import importlib.util

        return None if importlib.util.find_spec(module) else f"{module} is not installed (pip install {module})"
    return why


def _cats_dogs_present() -> Optional[str]:
    return None if CATS_DOGS.is_dir() else f"{CATS_DOGS} is absent"


def specs() -> dict[str, Spec]:
    """Every dataset of the suite, by name, in run order (cheap tables first)."""
    sm = _needs("statsmodels")
    sk = "scikit-learn bundled dataset sklearn.datasets."
    out = [
        Spec("breast_cancer", "shipped: examples/data/breast_cancer.csv (= sklearn load_breast_cancer)",
             "tabular", "classification", _shipped("breast_cancer.csv"), target="target"),
        Spec("iris", sk + "load_iris", "tabular", "classification", _csv("iris", _sklearn("load_iris", True)),
             target="target"),
        Spec("wine", sk + "load_wine", "tabular", "classification", _csv("wine", _sklearn("load_wine", True)),
             target="target"),
        Spec("digits_table", sk + "load_digits (64 pixel columns)", "tabular", "classification",
             _csv("digits_table", _sklearn("load_digits", True)), target="target"),
        Spec("diabetes", sk + "load_diabetes", "tabular", "regression",
             _csv("diabetes", _sklearn("load_diabetes", False)), target="target"),
        Spec("penguins", "palmerpenguins package (bundled CSV)", "tabular", "classification",
             _csv("penguins", _penguins), target="species", available=_needs("palmerpenguins")),
        Spec("weather_table", "shipped: examples/data/seattle_weather.csv without the date column",
             "tabular", "classification", _csv("weather_table", _weather_table), target="weather"),
        Spec("fair", "statsmodels bundled dataset fair (target: affairs > 0)", "tabular", "classification",
             _csv("fair", _statsmodels("fair", _fair)), target="had_affair", available=sm),
        Spec("anes96", "statsmodels bundled dataset anes96 (target: vote)", "tabular", "classification",
             _csv("anes96", _statsmodels("anes96", _anes96)), target="vote", available=sm),
        Spec("star98", "statsmodels bundled dataset star98 (target: NABOVE / (NABOVE + NBELOW))", "tabular",
             "regression", _csv("star98", _statsmodels("star98", _star98)), target="share_above", available=sm),
        Spec("randhie", "statsmodels bundled dataset randhie (target: mdvis)", "tabular", "regression",
             _csv("randhie", _statsmodels("randhie", lambda df: df)), target="mdvis", available=sm),
        Spec("austen", "shipped: examples/data/austen_paragraphs.csv", "text", "classification",
             _shipped("austen_paragraphs.csv"), target="label", text_column="text"),
        Spec("fashion_mnist", "shipped: examples/data/fashion_mnist_demo.npz", "image", "classification",
             _shipped("fashion_mnist_demo.npz")),
        Spec("digits_png", sk + "load_digits rendered as 32x32 PNGs in class folders", "image", "classification",
             _digits_images),
        Spec("cats_dogs", "../shared/data/cats-dogs/train (beside the repository), first "
             f"{CATS_DOGS_PER_CLASS} photos per class",
             "image", "classification", _cats_dogs, available=_cats_dogs_present),
        Spec("seattle_temp_max", "shipped: examples/data/seattle_weather.csv (daily)", "time_series",
             "forecasting", _shipped("seattle_weather.csv"), target="temp_max"),
        Spec("sunspots", "statsmodels bundled dataset sunspots (yearly)", "time_series", "forecasting",
             _csv("sunspots", _statsmodels("sunspots", _sunspots)), target="sunactivity", available=sm),
        Spec("co2", "statsmodels bundled dataset co2 (weekly; missing weeks interpolated)", "time_series",
             "forecasting", _csv("co2", _co2), target="co2", available=sm),
    ]
    return {s.name: s for s in out}
