"""`advisor export`: read a run folder's model and write it as a portable ONNX file (zoo.export does the work)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    return side
