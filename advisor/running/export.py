"""`advisor export`: read a run folder's model and write it as a portable ONNX file (zoo.export does the work)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

FORMATS = ("onnx",)


def export_run(run_dir: Path, output: Path, *, fmt: str = "onnx", trust: bool = False) -> dict[str, Any]:
    """Export the model of `run_dir` to `output` (+ `output.json` beside it); returns the side JSON's content.

    Raises FileNotFoundError (not a run folder), zoo.trust.UntrustedModelError (as `advisor predict`),
    ImportError (the `export` extra is not installed) or zoo.export.NotExportable (one line naming why).
    """
    import zoo

    if fmt not in FORMATS:
        raise ValueError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")
    if not (run_dir / "model.json").is_file():
        raise FileNotFoundError(f"{run_dir}: not a run folder (no model.json); run `advisor train` first")
    meta = zoo.model_meta(run_dir)
    model = zoo.load_model(run_dir, trust=trust)
    try:
        from zoo.export import export_onnx
        import skl2onnx  # noqa: F401  (checked here so the message names the extra)
    except ImportError as exc:
        raise ImportError(f"ONNX export needs the `export` extra: pip install 'ml-advisor[export]' ({exc.name} "
                          "is missing)") from exc
    side = export_onnx(model, output, name=meta.get("model", type(model).__name__))
    side["check"] = _check(run_dir, model, output, side)
    return side


SAMPLE_IMAGES = 8           # random images the check feeds an image export (latency does not depend on content)


def _check(run_dir: Path, model: Any, output: Path, side: dict[str, Any]) -> dict[str, Any]:
    """Check the export beside the native model (zoo.export.check_export) on the run's SHAP background rows
    (tables) or random images, and record it in the run folder's export.json (the report shows it)."""
    import time

    import numpy as np
    import onnxruntime

    from advisor.records import ExportCheck, dump_record
    from zoo.attributions import load_background
    from zoo.export import check_export
    from zoo.io import write_text_atomic

    if side.get("modality") == "image":
        size = int(side["inputs"][0]["shape"][-1])
        rng = np.random.default_rng(0)
        sample: Any = [rng.integers(0, 256, (size + 32, size + 32, 3), dtype=np.uint8) for _ in range(SAMPLE_IMAGES)]
        what = f"{SAMPLE_IMAGES} random {size + 32}-px images (ONNX timed on the preprocessed tensor)"
    else:
        sample = load_background(run_dir)
        if sample is None:
            return {}
        what = f"{len(sample)} training rows kept in the run folder (shap_background.parquet)"
    found = check_export(model, output, side, sample)
    joblib = run_dir / "model.joblib"
    record = ExportCheck(path=str(output), size_bytes=output.stat().st_size,
                         native_size_bytes=joblib.stat().st_size if joblib.is_file() else None,
                         backbone_size_bytes=_backbone_bytes(run_dir), sample=what, onnxruntime=onnxruntime.__version__,
                         exported=time.strftime("%Y-%m-%dT%H:%M:%S"), **found)
    write_text_atomic(run_dir / "export.json", dump_record(record))
    return found


def _backbone_bytes(run_dir: Path) -> Optional[int]:
    from advisor.records import read_record

    metrics = read_record(run_dir, "metrics")
    return getattr(metrics, "backbone_size_bytes", None) if metrics is not None else None
