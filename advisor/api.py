"""`advisor.fit`, `advisor.load` and the `Run` they return: the way in from Python and notebooks.

A thin layer over the calls `advisor train` makes, as advisor/cli.py is: the data described and measured
(advisor.running.describe), the rules' recommendation with those facts, then `train_run` (the measured choice,
the final fit, the held-out split scored once, the run folder). A :class:`Run` is that run folder with its model
loaded back through zoo.load_model, under the same trust rules as `advisor predict`.
"""

from __future__ import annotations

import html
import shutil
import sys
import tempfile
import weakref
from pathlib import Path
from typing import Any, Callable, Optional

from advisor.deciding.recommendation import Recommendation
from advisor.deciding.schema import ProjectDescriptor
from advisor.records import LeaderboardRow, RunMetrics, read_record

__all__ = ["Run", "fit", "load"]


class Run:
    """A trained run: its folder (`path`), the fitted scikit-learn-style `model`, and the records beside it:
    `descriptor`, `recommendation` (with the measured choice's trace entries), `metrics` (held-out RunMetrics,
    and how the model was chosen), `leaderboard`; `log` holds the progress lines of a run fitted here."""

    descriptor: Optional[ProjectDescriptor]
    recommendation: Optional[Recommendation]
    metrics: Optional[RunMetrics]
    mlflow_run_id: Optional[str] = None

    def __init__(self, path: "str | Path", model: Any, *, log: Optional[list[str]] = None,
                 temporary: bool = False) -> None:
        import zoo

        self.path = Path(path)
        self.model = model
        self.log = list(log or [])
        self._meta = zoo.model_meta(self.path)
        self.descriptor = read_record(self.path, "descriptor")  # type: ignore[assignment]
        self.recommendation = read_record(self.path, "recommendation")  # type: ignore[assignment]
        self.metrics = read_record(self.path, "metrics")  # type: ignore[assignment]
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.path.parent), True) if temporary else None

    @property
    def leaderboard(self) -> list[LeaderboardRow]:
        """Every model measured on the training split: the probe across families, then the candidates and the
        search inside the winning family (empty when the model was named, not measured)."""
        selection = self.metrics.selection if self.metrics is not None else None
        return [] if selection is None else [*selection.probe, *selection.leaderboard]

    @property
    def classes(self) -> Optional[list[Any]]:
        return self._meta.get("classes")

    def predict(self, data: Any) -> Any:
        """Predictions for `data`: a DataFrame (the target column, if present, is left out), an array, a list of
        texts or image paths, or a path as `advisor predict` reads it."""
        return self.model.predict(self._inputs(data))

    @property
    def predict_proba(self) -> Callable[[Any], Any]:
        """Class probabilities for `data` (columns in `model.classes_` order); only where the model has them."""
        if self.classes is None or not hasattr(self.model, "predict_proba"):
            raise AttributeError(f"{self._meta.get('model')!r} gives no class probabilities")
        return lambda data: self.model.predict_proba(self._inputs(data))

    def _inputs(self, data: Any) -> Any:
        """The model's input for `data`, read as `advisor predict` reads files and tables."""
        from advisor.running.predict import read_inputs, table_inputs

        if isinstance(data, (str, Path)):
            return read_inputs(self._meta, Path(data))[1]
        if hasattr(data, "columns"):                                    # a DataFrame
            return table_inputs(self._meta, data)[1]
        return [str(t) for t in data] if self._meta.get("modality") in ("text", "image") else data

    def save(self, path: "str | Path") -> Path:
        """Copy the run folder to `path` (atomically; a run folder already there is replaced whole, any other folder
        is refused, as with `advisor train --out`); a run in a temporary
        folder then lives at `path`. `advisor.load(path)` and `advisor predict` read it back."""
        import shutil

        from advisor.running.outfolder import claim_out
        from zoo.io import publish_folder

        dest = Path(path)
        if dest.resolve() == self.path.resolve():
            return dest
        claim_out(dest, "train")              # the same output-folder contract as `advisor train --out`
        publish_folder(dest, lambda staging: shutil.copytree(self.path, staging, dirs_exist_ok=True))
        self.path = dest
        if self._cleanup is not None:
            self._cleanup()
            self._cleanup = None
        return dest

    def report(self) -> str:
        """The run's HTML report (what `advisor report` writes), as a string."""
        from advisor.showing.report import render_report

        return render_report(self.path)

    def _repr_html_(self) -> str:
        """The report inline in a notebook, in a sandboxed iframe so that its styles stay inside it."""
        return (f'<iframe srcdoc="{html.escape(self.report(), quote=True)}" sandbox="" '
                'style="width: 100%; height: 720px; border: 1px solid #ddd"></iframe>')

    def __repr__(self) -> str:
        metrics = self.metrics
        if metrics is None:
            return f"Run({self._meta.get('model')!r}, path={str(self.path)!r})"
        keys = ("macro_f1", "accuracy", "r2", "mae", "mase", "roc_auc", "f1_anomaly")
        score = next((f"{k}={getattr(metrics, k):.3f}" for k in keys if getattr(metrics, k, None) is not None), "")
        return (f"Run({metrics.model!r}, {metrics.task}, {score} on {metrics.n_test:,} held-out items, "
                f"path={str(self.path)!r})")


def fit(data: Any, target: Any = None, *, time_budget: Optional[float] = None, seed: int = 0,
        out: "str | Path | None" = None, model: Optional[str] = None, device: Optional[str] = None,
        verbose: bool = False, refit_full: bool = False, mlflow: Optional[bool] = None, **needs: Any) -> Run:
    """Describe `data` (see advisor.describe), recommend, and train as `advisor train` does; the fitted Run.

    `data`, `target`: a DataFrame and its target column, `(X, y)` or `X, y`, a table file or an image folder.
    `time_budget`: seconds for the measurement and the fit together. `out`: the run folder to write (default: a
    temporary one, removed at the end of the process or with the Run unless `Run.save` moved it). `model`: train this zoo model as it is
    instead of the measured choice (`--model`). `**needs`: descriptor fields such as `interpretability="required"`.
    `verbose`: print the progress lines (always kept in `Run.log`). `refit_full`: after the held-out scoring,
    refit the chosen model on all the data and keep that one (`--refit-full`; `Run.metrics` stay the
    training-split model's held-out scores, with `refit_full` and `n_refit` set). `mlflow`: log the run to MLflow
    as `advisor train --mlflow` does (None: when MLFLOW_TRACKING_URI is set); its id is `Run.mlflow_run_id`."""
    import zoo
    from advisor.deciding.engine import recommend
    from advisor.running import tracking
    from advisor.running.describe import describe_data
    from advisor.running.train import train_run

    tracking.check_ready(mlflow)                # MLflow asked for but missing: TrackingError before any work
    described = describe_data(data, target, time_budget=time_budget, **needs)
    desc = described.descriptor
    rec = recommend(desc, measured=described.measured)
    log: list[str] = [f"measured: {note}" for note in described.measured]

    def echo(line: str) -> None:
        log.append(line)
        if verbose:
            print(line, file=sys.stderr)

    run_dir = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="advisor-run-")) / "run"
    try:
        train_run(desc, rec, out=run_dir, model_name=model, device=device, seed=seed, quiet=not verbose,
                  echo=echo, dataset=described.dataset, refit_full=refit_full)
    except BaseException:
        if out is None:
            shutil.rmtree(run_dir.parent, ignore_errors=True)
        raise
    run = Run(run_dir, zoo.load_model(run_dir), log=log, temporary=out is None)
    if tracking.wanted(mlflow):
        with tempfile.TemporaryDirectory() as scratch:     # the report is logged from here: the signed run
            report = Path(scratch) / "report.html"          # folder stays as trained
            report.write_text(run.report(), encoding="utf-8")
            run.mlflow_run_id = tracking.log_train(run_dir, lambda folder: report, echo=echo)
    return run


def load(path: "str | Path", *, trust: bool = False) -> Run:
    """The Run saved at `path`. The model is unpickled only from a folder this user's `advisor train` (or
    `Run.save`) signed and nobody changed since, or with `trust=True` (else zoo.UntrustedModelError)."""
    import zoo

    path = Path(path)
    if not (path / "model.json").is_file():
        raise FileNotFoundError(f"{path}: not a run folder (no model.json); train one with advisor.fit")
    return Run(path, zoo.load_model(path, trust=trust))
