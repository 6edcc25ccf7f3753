#!/usr/bin/env python3
"""Build the tabular and time-series demo CSVs shipped in examples/data/.

1. breast_cancer.csv  -- tabular binary classification.
   From scikit-learn's bundled copy of the UCI "Breast Cancer Wisconsin
   (Diagnostic)" data set (sklearn.datasets.load_breast_cancer, no network):
   the 30 numeric features under their scikit-learn names, then a ``target``
   column holding the class name ("malignant" / "benign").

2. seattle_weather.csv  -- daily time series for forecasting (2012-2015).
   From the vega_datasets package's bundled seattle-weather.csv (NOAA data,
   public domain). Looked for first in Debian's ``python3-vega-datasets``
   (/usr/lib/python3/dist-packages/vega_datasets/_data/), then in an importable
   ``vega_datasets`` (PyPI); skipped with a message if neither is there.
   Dates are rewritten as ISO YYYY-MM-DD; values are copied unchanged.

    apt-get install python3-vega-datasets     # only for seattle_weather.csv
    python scripts/make_demo_tabular.py
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT_DIR = REPO / "examples" / "data"
VEGA_DEBIAN = Path("/usr/lib/python3/dist-packages/vega_datasets/_data/seattle-weather.csv")


def breast_cancer() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    ds = load_breast_cancer(as_frame=True)
    df = ds.frame.copy()
    df["target"] = pd.Categorical.from_codes(df["target"], categories=list(ds.target_names)).astype(str)
    return df


def find_seattle_weather() -> Path | None:
    if VEGA_DEBIAN.exists():
        return VEGA_DEBIAN
    try:
        import vega_datasets  # type: ignore
    except ImportError:
        return None
    p = Path(vega_datasets.__file__).parent / "_data" / "seattle-weather.csv"
    return p if p.exists() else None


def seattle_weather(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path)
    expected = ["date", "precipitation", "temp_max", "temp_min", "wind", "weather"]
    if list(df.columns) != expected:
        raise ValueError(f"{path}: unexpected columns {list(df.columns)}")
    dates = pd.to_datetime(df["date"], format="%Y/%m/%d")
    full = pd.date_range(dates.min(), dates.max(), freq="D")
    if len(full) != len(dates) or not (dates.values == full.values).all():
        raise ValueError(f"{path}: dates are not one row per consecutive day")
    df["date"] = dates.dt.strftime("%Y-%m-%d")
    return df


def _write(df: pd.DataFrame, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False, lineterminator="\n")
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    print(f"wrote {out} ({out.stat().st_size:,} bytes, {len(df)} rows x {df.shape[1]} cols) sha256={digest}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    args = ap.parse_args(argv)

    bc = breast_cancer()
    _write(bc, args.out_dir / "breast_cancer.csv")
    print("  target:", {str(k): int(v) for k, v in bc["target"].value_counts().items()})

    src = find_seattle_weather()
    if src is None:
        print("skipped seattle_weather.csv: install python3-vega-datasets (Debian) or vega_datasets (PyPI)")
    else:
        sw = seattle_weather(src)
        _write(sw, args.out_dir / "seattle_weather.csv")
        print(f"  from {src}; {sw['date'].iloc[0]} .. {sw['date'].iloc[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
