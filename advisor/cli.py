"""The `advisor` command line: recommend, ask, rules, schema, train, compare, predict, generate, report."""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path
from typing import Any, Optional

import click

from zoo.io import write_text_atomic
from zoo.terminal import terminal_safe
from advisor.deciding.engine import recommend
from advisor.deciding.recommendation import Recommendation
from advisor.deciding.rules import load_rulebook
from advisor.deciding.schema import DescriptorError, descriptor_json_schema, load_descriptor
from advisor.units import duration


def _say(text: object = "", err: bool = False, *, json_text: bool = False) -> None:
    """Print one message (stdout, or stderr with err): everything the CLI prints goes through here."""
    click.echo(terminal_safe(str(text), json_text=json_text), err=err)


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
                  line: Optional[str] = None) -> None:
    """warnings.showwarning for the CLI: a library's warning may quote a column or label, so it goes through
    _say too."""
    import warnings

    _say(warnings.formatwarning(message, category, filename, lineno, line).rstrip("\n"), err=True)


def _fail(message: str) -> None:
    """One clear line on stderr, exit code 2."""
    _say(f"advisor: error: {message}", err=True)
    sys.exit(2)


def _fmt(x: float) -> str:
    return f"{x:g}"


def confidence_text(rec: Recommendation) -> str:
    """'confidence 0.78' (measured on the evidence suite), or 'confidence not measured'."""
    return "confidence not measured" if rec.confidence is None else f"confidence {rec.confidence:.2f}"


def summary(rec: Recommendation) -> str:
    """The readable answer: the pick, why, what would change it, risks, costs."""
    scores = " · ".join(f"{a} {_fmt(s)}" + (" (n/a)" if a in rec.excluded else "") for a, s in rec.scores.items())
    built = f"zoo model '{rec.model}'" if rec.model else "no zoo model yet"
    lines = [
        f"{rec.name}: {rec.approach.upper()} — {rec.architecture} → {built} ({confidence_text(rec)})",
        *([f"  confidence: {rec.confidence_basis}"] if rec.confidence_basis else []),
        *([f"  note: {rec.model_note}"] if rec.model_note else []),
        f"  scores: {scores}",
        f"  plan: {rec.plan.strategy}" + "".join(f"; {s.id}" for s in rec.plan.steps),
        *[f"  measured: {m}" for m in rec.measured],
        "", "Why:",
        *[f"  - {w}" for w in rec.why],
    ]
    if rec.counterfactuals:
        lines += ["", "What would change the answer:", *[f"  - {c.text}" for c in rec.counterfactuals]]
    if rec.risks:
        lines += ["", "Risks:", *[f"  - {r.id}: {r.detail} Mitigation: {r.mitigation}" for r in rec.risks]]
    if rec.alternatives:
        lines += ["", "Alternatives:", *[f"  - {a.approach} ({_fmt(a.score)}): {a.architecture} → "
                                         + (a.model or f"none yet ({a.model_note})") for a in rec.alternatives]]
    lines += ["", "Rough training cost on the declared hardware:"]
    lines += [f"  - {e.approach}: ~{duration(e.train_minutes * 60)}, ~{e.memory_gb:g} GB on {e.device} "
              f"({'; '.join(e.assumptions)})" for e in rec.estimates]
    lines += ["", f"{len(rec.trace)} rules fired; `advisor recommend --json` shows the full trace."]
    return "\n".join(lines)


def _folder_name(name: str) -> str:
    """The project name as one safe folder name under runs/ ('../x' or 'a/b' must not leave it)."""
    safe = re.sub(r"[^\w.-]+", "-", name).strip(".-")
    return safe[:100] or "project"


# --- option types: each kind of option is checked once, the same way for every command (bad value: one line, exit 2)
MIN_BUDGET_S = 1.0     # a time budget under a second cannot fit one fit; it is a typo (seconds for minutes?)


class Minutes(click.ParamType):
    """A time budget in minutes: a finite number, at least MIN_BUDGET_S seconds."""

    name = "minutes"

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        try:
            minutes = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of minutes", param, ctx)
        if not math.isfinite(minutes) or minutes * 60 < MIN_BUDGET_S:
            self.fail(f"{value!r} must be a finite number of minutes, at least {MIN_BUDGET_S:g} s "
                      f"({MIN_BUDGET_S / 60:.3g} min)", param, ctx)
        return minutes


class Device(click.ParamType):
    """auto, cpu, cuda, cuda:N or mps (checked for every model family, not only the torch ones)."""

    name = "device"
    _FORM = re.compile(r"auto|cpu|mps|cuda(:\d{1,3})?")

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        word = str(value).strip().lower()
        if not self._FORM.fullmatch(word):
            self.fail(f"{value!r} is not one of auto, cpu, cuda, cuda:N, mps", param, ctx)
        return word


class CommaList(click.ParamType):
    """A comma-separated list read by `parse` (which raises ValueError with the message)."""

    def __init__(self, name: str, parse: str) -> None:
        self.name, self._parse = name, parse

    def convert(self, value: Any, param: Any, ctx: Any) -> list[Any]:
        if isinstance(value, list):
            return value
        import importlib

        module, func = self._parse.split(":")
        try:
            return getattr(importlib.import_module(module), func)(str(value))
        except ValueError as exc:
            self.fail(str(exc).split(": ", 1)[-1], param, ctx)


MINUTES, DEVICE = Minutes(), Device()
COUNT = click.IntRange(1)                        # workers, seeds, processes
SEED = click.IntRange(0, 2**32 - 1)              # numpy's and torch's seed range
FAMILIES = CommaList("families", "advisor.running.compare:parse_families")
SIZES = CommaList("sizes", "advisor.running.compare:parse_sizes")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ml-advisor", prog_name="ml-advisor")
def cli() -> None:
    """ml-advisor: classical ML, deep learning, or both? Explained, rule by rule."""


@cli.command("recommend")
@click.argument("descriptor", metavar="FILE.yaml")
@click.option("--json", "as_json", is_flag=True, help="Print the full Recommendation as JSON.")
@click.option("--report", "report", metavar="OUT.html", help="Also write a self-contained HTML report here.")
@click.option("--data", "data", help="Data path (overrides data.path); counts are measured from it.")
@click.option("--measure", is_flag=True,
              help="Also measure on the data what `advisor train` measures before training (probe across "
                   "families, cross-validated candidates; training split only). Loads the ML libraries.")
@click.option("--time-budget", type=MINUTES, help="Minutes the measurement may assume (with --measure).")
def recommend_cmd(descriptor: str, as_json: bool, report: Optional[str], data: Optional[str], measure: bool,
                  time_budget: Optional[float]) -> None:
    """Recommend an approach for a YAML project descriptor.

    Without --measure this is the rules alone: fast, and no ML library is imported.
    """
    desc, rec = _load(descriptor, data)
    if measure:
        from advisor.running.train import TrainError, measure_choice

        try:
            rec, choice = measure_choice(desc, rec, time_budget_minutes=time_budget,
                                         echo=lambda line: _say(line, err=True))
        except (TrainError, ValueError, FileNotFoundError, ImportError) as exc:
            _fail(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        for entry in rec.trace:
            if entry.id.startswith("measured.") and entry.factor == "measured":
                _say(f"{entry.id}: {entry.effect} — {entry.reason}", err=True)
        if choice is not None:
            settings = ", ".join(f"{k}={v}" for k, v in choice.params.items())
            _say(f"measured pick: {choice.model} ({choice.family}{'; ' + settings if settings else ''}); "
                       f"the rules alone: {rec.model} — `advisor train` trains the measured pick", err=True)
    if report:
        path = _report({"descriptor": desc.model_dump(mode="json", exclude_none=True), "recommendation": rec}, report)
        _say(f"report: {path}", err=True)
    _say(rec.model_dump_json(indent=2) if as_json else summary(rec), json_text=as_json)


# --- HTML report (advisor.showing.report; imports no ML library) ---
def _report(result: object, out: "str | Path") -> Path:
    """Render and write a report atomically, or exit 2 with one line."""
    from advisor.showing.report import ReportError, render_report, write_report

    try:
        path = write_report(render_report(result), out)  # type: ignore[arg-type]
    except ReportError as exc:
        _fail(str(exc))
    return path


@cli.command("report")
@click.argument("run_dir", metavar="RUN_DIR")
@click.option("-o", "--output", metavar="OUT.html", help="Where to write (default RUN_DIR/report.html).")
def report_cmd(run_dir: str, output: Optional[str]) -> None:
    """Write the HTML report of a run folder made by `advisor train`.

    Reads only the folder's JSON and YAML (yaml.safe_load); it never unpickles the model, so it needs no
    --trust, even for a folder from elsewhere.
    """
    from advisor.showing.report import ReportError, load_run

    try:
        records = load_run(run_dir)
    except ReportError as exc:
        _fail(str(exc))
    for problem in records.problems:
        _say(f"advisor: warning: {problem}; the report lists it and shows the rest", err=True)
    _say(f"report: {_report(records, output or Path(run_dir) / 'report.html')}")


def _load(descriptor: str, data: Optional[str] = None):
    """Descriptor + measured facts + recommendation, or exit 2 with one line."""
    from advisor.running.measure import prepare

    try:
        desc, measured = prepare(descriptor, data)
        return desc, recommend(desc, measured=measured)
    except DescriptorError as exc:
        _fail(str(exc))


def _launch_torchrun(desc: Any, rec: Any, descriptor: str, nproc: int, **opts: Any) -> None:
    """Re-run this `advisor train` under `torchrun --nproc-per-node N` (PyTorch DDP) and exit with its code."""
    import subprocess

    import zoo
    from zoo import distributed

    name = opts["model"] or rec.model
    if name is None:
        _fail(f"{rec.model_note} (pick a zoo model with --model)")
    try:
        family = zoo.model_info(name).family
    except ValueError as exc:
        _fail(str(exc).splitlines()[0])
    if family != "deep":
        _fail(f"--launcher torchrun: data-parallel training is for deep models; '{name}' is {family} "
              "(drop --launcher, or pick a deep model with --model)")
    argv = ["train", descriptor]
    for key, flag in (("data", "--data"), ("out", "--out"), ("device", "--device"), ("model", "--model"),
                      ("time_budget", "--time-budget"), ("seed", "--seed")):
        if opts[key] is not None:
            argv += [flag, str(opts[key])]
    argv += [flag for key, flag in (("quiet", "--quiet"), ("report", "--report"), ("fresh", "--fresh")) if opts[key]]
    cmd = distributed.launch_command(nproc, argv)
    _say(f"advisor: launching {nproc} processes: torchrun --standalone --nproc-per-node={nproc} "
               f"-m advisor.cli {' '.join(argv)}", err=True)
    sys.exit(subprocess.run(cmd).returncode)


@cli.command("train")
@click.argument("descriptor", metavar="DESCRIPTOR.yaml")
@click.option("--data", "data", help="Data path (overrides data.path): CSV/Parquet, image folder, or .npz.")
@click.option("--out", "out", type=click.Path(file_okay=False), help="Run folder to write (default runs/NAME).")
@click.option("--device", type=DEVICE, envvar="ML_ADVISOR_DEVICE",
              help="auto (default), cpu, cuda, cuda:N or mps (default: $ML_ADVISOR_DEVICE when set).")
@click.option("--model", "model_name", help="Train this zoo model instead of the advisor's pick.")
@click.option("--time-budget", type=MINUTES, help="Minutes for training (overrides resources.time_budget_minutes).")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seed of the split, the folds and the model: the same seed, data and settings give the same run.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--report", "report", is_flag=True, help="Also write RUN_DIR/report.html and print its path.")
@click.option("--fresh", is_flag=True,
              help="Ignore the checkpoint of an interrupted run of this RUN_DIR and start over.")
@click.option("--rules-only", is_flag=True,
              help="Train the rules' pick as it is: no probe across families, no cross-validated choice.")
@click.option("--launcher", type=click.Choice(["none", "torchrun"]), default="none", show_default=True,
              help="torchrun: data-parallel training of a deep model (PyTorch DDP) in --nproc processes.")
@click.option("--nproc", type=COUNT, default=2, show_default=True,
              help="Processes for --launcher torchrun (one per GPU; gloo on CPU).")
@click.option("--refit-full", is_flag=True,
              help="After scoring the held-out split, refit the chosen model (same settings) on all the data and "
                   "save that one; the scores shown stay those of the model fit on the training split.")
@click.option("--mlflow/--no-mlflow", "mlflow", default=None,
              help="Log the finished run to MLflow (default: on when $MLFLOW_TRACKING_URI is set).")
def train_cmd(descriptor: str, data: Optional[str], out: Optional[str], device: Optional[str],
              model_name: Optional[str], time_budget: Optional[float], seed: int, quiet: bool,
              report: bool, fresh: bool, rules_only: bool, launcher: str, nproc: int, refit_full: bool,
              mlflow: Optional[bool] = None) -> None:
    """Train the advisor's pick on the data, evaluate on a held-out split, save a run folder.

    The rules propose; a measurement on the training split settles: a quick probe of the rules' top approaches
    on a subsample (about 15 % of the time budget), then every catalogue model of the winning family
    cross-validated and the best one's settings lightly searched. The held-out split is scored once, at the
    end. --model NAME or --rules-only skip the measurement.

    The run folder is built aside and renamed into place: it holds a complete run or is left as it was.
    Interrupted (Ctrl-C, exit 130)? A deep model's state after its last complete epoch stays in the hidden
    sibling .RUN_DIR.checkpoint/; the same command resumes from it when the model and its settings, the data
    and the seed match (else it is removed and training starts clean, saying so; --fresh forces that).
    Classical and hybrid models start clean. A full disk or other write error exits 2 with one line, the
    previous run left intact.
    """
    from advisor.running.train import TrainError, TrainInterrupted, train_run
    from zoo import distributed

    _tracking_ready(mlflow)
    desc, rec = _load(descriptor, data)
    if launcher == "torchrun" and refit_full:
        _fail("--refit-full is for one process; drop --launcher torchrun or --refit-full")
    if launcher == "torchrun":
        _launch_torchrun(desc, rec, descriptor, nproc, data=data, out=out, device=device, model=model_name,
                         time_budget=time_budget, seed=seed, quiet=quiet, report=report, fresh=fresh)
    main = distributed.is_main()                 # under torchrun, only rank 0 speaks and writes

    def say(line: str) -> None:
        if main:
            _say(line, err=True)

    for note in rec.measured:
        say(f"measured: {note}")
    say(f"advisor: {rec.approach} / {rec.architecture} → " + (f"'{model_name or rec.model}'" if model_name or rec.model
                                                             else "no zoo model yet"))
    run_dir = Path(out or Path("runs") / _folder_name(desc.name))
    try:
        metrics = train_run(desc, rec, out=run_dir, model_name=model_name, device=device,
                            time_budget_minutes=time_budget, seed=seed, quiet=quiet or not main, fresh=fresh,
                            select=not rules_only, echo=say, refit_full=refit_full)
    except TrainInterrupted as exc:
        _say(f"\nadvisor: interrupted: {exc}", err=True)
        sys.exit(130)
    except (TrainError, ValueError, FileNotFoundError, ImportError) as exc:
        _fail(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    except OSError as exc:
        where = run_dir if run_dir.exists() else None
        _fail(f"{exc.filename or run_dir}: {exc.strerror or exc}"
              + (f"; {where} left as it was" if where else f"; nothing written to {run_dir}"))
    if not main:
        return
    from advisor.showing.tables import run_summary

    for line in run_summary(metrics):
        _say(line)
    if metrics.get("refit_full"):
        _say(f"refit: the saved model was refit on all {metrics['n_refit']:,} items; the scores above are of the "
             f"model fit on the {metrics['n_train']:,} training items")
    _say(f"run folder: {run_dir}")
    if report:
        _say(f"report: {_report(run_dir, run_dir / 'report.html')}")
    _track(mlflow, "train", run_dir)


# --- advisor compare (advisor.running.compare): classical vs hybrid vs deep on the user's data ---
@cli.command("compare")
@click.argument("descriptor", metavar="DESCRIPTOR.yaml")
@click.option("--data", "data", help="Data path (overrides data.path).")
@click.option("--out", "out", type=click.Path(file_okay=False), help="Folder to write (default runs/NAME-compare).")
@click.option("--families", type=FAMILIES, default="classical,deep,hybrid", show_default=True,
              help="Comma-separated families to compare.")
@click.option("--sizes", type=SIZES, default="0.1,0.25,0.5,1.0", show_default=True,
              help="Training-set fractions for the learning curves; the largest fills the table.")
@click.option("--seeds", type=COUNT, default=2, show_default=True, help="Seeds per size (mean ± spread).")
@click.option("--time-budget", type=MINUTES,
              help="Minutes for all runs together (overrides resources.time_budget_minutes).")
@click.option("--device", type=DEVICE, envvar="ML_ADVISOR_DEVICE",
              help="auto (default), cpu, cuda, cuda:N or mps (default: $ML_ADVISOR_DEVICE when set).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--workers", type=COUNT, default=1, show_default=True,
              help="Run the family x size x seed grid on this many joblib processes (or dask workers).")
@click.option("--scheduler", metavar="ADDRESS",
              help="A dask.distributed scheduler (tcp://host:8786): fan the grid out over its machines.")
@click.option("--mlflow/--no-mlflow", "mlflow", default=None,
              help="Log the finished run to MLflow (default: on when $MLFLOW_TRACKING_URI is set).")
def compare_cmd(descriptor: str, data: Optional[str], out: Optional[str], families: list[str], sizes: list[float],
                seeds: int, time_budget: Optional[float], device: Optional[str], quiet: bool, workers: int,
                scheduler: Optional[str], mlflow: Optional[bool] = None) -> None:
    """Measure classical vs hybrid vs deep on the data: a side-by-side table, learning curves, an HTML report."""
    from advisor.running.compare import CompareError, compare_run
    from advisor.showing.tables import format_table
    from advisor.running.train import TrainError

    _tracking_ready(mlflow)
    desc, rec = _load(descriptor, data)
    pick = f"'{rec.model}'" if rec.model else "no zoo model yet"
    _say(f"advisor: {rec.approach} / {rec.architecture} → {pick}; comparing {', '.join(families)}", err=True)
    run_dir = Path(out or Path("runs") / f"{_folder_name(desc.name)}-compare")
    backend = "loky"
    if scheduler:
        try:
            from dask.distributed import Client
        except ImportError:
            _fail("--scheduler needs dask.distributed: pip install 'dask[distributed]'")
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            _fail(f"--scheduler {scheduler}: cannot connect ({str(exc).splitlines()[0] if str(exc) else exc})")
        backend, workers = "dask", max(workers, len(client.scheduler_info().get("workers", {})) or 1)
    try:
        result = compare_run(desc, rec, out=run_dir, families=families, sizes=sizes, seeds=seeds,
                             time_budget_minutes=time_budget, device=device, quiet=quiet, workers=workers,
                             backend=backend, echo=lambda line: _say(line, err=True))
    except (CompareError, TrainError, ValueError, FileNotFoundError, ImportError) as exc:
        _fail(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    except OSError as exc:
        _fail(f"{exc.filename or run_dir}: {exc.strerror or exc}")
    _say(format_table(result))
    _say(f"report: {_report(run_dir, run_dir / 'report.html')}")
    _track(mlflow, "compare", run_dir)


def _tracking_ready(flag: Optional[bool]) -> None:
    """--mlflow without MLflow installed: one line, exit 2, before any training."""
    from advisor.running import tracking

    try:
        tracking.check_ready(flag)
    except tracking.TrackingError as exc:
        _fail(str(exc))


def _track(flag: Optional[bool], kind: str, run_dir: Path) -> None:
    """--mlflow: log the finished run folder (advisor.running.tracking); a failure is one line, exit 2."""
    from advisor.running import tracking

    if not tracking.wanted(flag):
        return
    echo = lambda line: _say(line, err=True)  # noqa: E731
    try:
        if kind == "train":
            tracking.log_train(run_dir, lambda d: _report(d, d / "report.html"), echo=echo)
        else:
            tracking.log_compare(run_dir, echo=echo)
    except tracking.TrackingError as exc:
        _fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - a store that cannot be written: one line
        _fail(f"mlflow: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}")


@cli.command("predict")
@click.argument("model_dir", type=click.Path(file_okay=False))
@click.argument("inputs", metavar="INPUT")
@click.option("-o", "--output", metavar="PREDICTIONS.csv",
              help="Write a table instead (.csv or .parquet): the input's columns (images: path), prediction, and "
                   "proba_CLASS per class; written atomically.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of {input, prediction, probabilities} "
                                                        "(with -o: {output, rows, columns, scores}).")
@click.option("--trust", is_flag=True,
              help="Unpickle the model even though your `advisor train` did not sign it (another user's or "
                   "machine's run, or changed since): only for folders whose source you trust.")
@click.option("--explain", is_flag=True,
              help="Tables: add each row's top 3 SHAP contributions towards its prediction (an indented line, "
                   "JSON 'explanation', or -o columns top1_feature, top1_contribution, ...). Images (with -o): "
                   "a heat map per image (Grad-CAM or occlusion) in the folder PREDICTIONS_saliency/ beside it, "
                   "and a 'saliency' column.")
def predict_cmd(model_dir: str, inputs: str, output: Optional[str], as_json: bool, trust: bool,
                explain: bool) -> None:
    """Predict with a saved run: INPUT is an image, a folder of images, or a CSV.

    When INPUT is a table holding the run's target column, the predictions are also scored with the metrics
    `advisor train` reports (on stderr; with -o on stdout).

    Loading the model unpickles MODEL_DIR/model.joblib, which can run code. Without --trust, only folders signed
    by your own `advisor train` (signature.json: an HMAC, under a key private to you, of the unchanged file)
    and owned by you are loaded; anything else lists the files and exits 2.
    """
    from advisor.running.predict import check_output, predict, write_predictions
    from zoo.persist import PICKLED_FILES
    from zoo.trust import describe_files, is_trusted

    out = Path(output) if output else None
    pickles = list(PICKLED_FILES)
    try:
        if out is not None:
            check_output(out, Path(model_dir), Path(inputs))
        elif explain and _run_modality(Path(model_dir)) == "image":
            raise ValueError("--explain on an image run writes a heat map per image beside the -o table: "
                             "add -o predictions.csv")
        if trust and (Path(model_dir) / pickles[0]).is_file() and not is_trusted(model_dir, pickles):
            for line in describe_files(model_dir, pickles):
                _say(f"advisor: --trust: unpickling unsigned {line}", err=True)
        result = predict(Path(model_dir), Path(inputs), trust=trust, explain=explain)
        if out is not None:
            frame = result.frame()
            if result.saliency is not None:
                maps = result.write_saliency(out.with_name(f"{out.stem}_saliency"))
                frame["saliency"] = maps + [None] * (len(frame) - len(maps))
            write_predictions(frame, out)
    except (ValueError, OSError, ImportError) as exc:          # UntrustedModelError is an OSError
        _fail_run_call(exc, out)
    scores = _scores_line(result.scores, result.target) if result.scores else None
    if out is not None:
        if as_json:
            _say(json.dumps({"output": str(out), "rows": len(frame), "columns": [str(c) for c in frame.columns],
                             "target": result.target, "scores": result.scores}, indent=2, default=str),
                 json_text=True)
            return
        from zoo.data import names_text

        _say(f"{out}: {len(frame):,} rows; columns {names_text(list(frame.columns))}")
        if scores:
            _say(scores)
        return
    if scores:
        _say(scores, err=True)
    rows = result.rows()
    if as_json:
        _say(json.dumps(rows, indent=2, default=str), json_text=True)
        return
    for row in rows:
        if row.get("error"):
            _say(f"{row['input']}\tnot predicted: {row['error']}")
            continue
        best = f" ({max(row['probabilities'].values()):.2f})" if row.get("probabilities") else ""
        _say(f"{row['input']}\t{row['prediction']}{best}")
        if row.get("explanation"):
            _say("\t" + ", ".join(f"{e['feature']}={e['value']} {e['contribution']:+.3f}" for e in row["explanation"]))


def _fail_run_call(exc: BaseException, out: Optional[Path]) -> None:
    """One line, exit 2, for what predicting or generating from a run folder raised: an unsigned model lists
    the files it would unpickle first; a write that failed names the file."""
    from zoo.trust import UntrustedModelError

    if isinstance(exc, UntrustedModelError):
        for line in exc.files:
            _say(f"advisor: would unpickle {line}", err=True)
        _fail(str(exc))
    if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
        _fail(f"{exc.filename or out}: {exc.strerror or exc}; nothing written")
    _fail(str(exc).strip().splitlines()[0])


def _run_modality(run_dir: Path) -> Optional[str]:
    """The run folder's modality from model.json (None when it is not a run folder: predict says so)."""
    import zoo

    try:
        return zoo.model_meta(run_dir).get("modality")
    except (OSError, ValueError):
        return None


@cli.command("generate")
@click.argument("run_dir", metavar="RUN_DIR", type=click.Path(file_okay=False))
@click.option("-n", "n", type=COUNT, default=64, show_default=True, help="Images to generate.")
@click.option("-o", "--output", metavar="SAMPLES.png", required=True, help="The PNG grid to write (atomically).")
@click.option("--seed", type=SEED, default=0, show_default=True, help="The same seed gives the same images.")
@click.option("--trust", is_flag=True, help="Unpickle an unsigned run folder (as `advisor predict --trust`).")
def generate_cmd(run_dir: str, n: int, output: str, seed: int, trust: bool) -> None:
    """Sample new images from a generation run (`task: generation`) as one PNG grid."""
    from advisor.running.generating import generate_grid

    try:
        path = generate_grid(Path(run_dir), n, Path(output), seed=seed, trust=trust)
    except (ValueError, OSError, ImportError) as exc:
        _fail_run_call(exc, Path(output))
    _say(f"{path}: {n:,} generated images (seed {seed})")


def _scores_line(scores: dict[str, Any], target: Optional[str]) -> str:
    """One line of the scores `advisor predict` measured against the input's target column."""
    keys = ("accuracy", "macro_f1", "roc_auc", "mae", "rmse", "r2", "f1_anomaly")
    shown = ", ".join(f"{k} {scores[k]:.3f}" for k in keys if isinstance(scores.get(k), float))
    return f"scores against column {target!r} ({scores.get('n_test', 0):,} rows): {shown}"


@cli.command("export")
@click.argument("run_dir", metavar="RUN_DIR", type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["onnx"]), default="onnx", show_default=True)
@click.option("-o", "--output", metavar="MODEL.onnx", required=True, help="Where to write (plus MODEL.onnx.json).")
@click.option("--trust", is_flag=True, help="Unpickle an unsigned run folder (as `advisor predict --trust`).")
def export_cmd(run_dir: str, fmt: str, output: str, trust: bool) -> None:
    """Export a run's model to a portable ONNX file that runs under onnxruntime without ml-advisor."""
    from advisor.running.export import export_run
    from zoo.trust import UntrustedModelError

    try:
        side = export_run(Path(run_dir), Path(output), fmt=fmt, trust=trust)
    except (UntrustedModelError, ValueError, FileNotFoundError, ImportError) as exc:
        _fail(str(exc).strip().splitlines()[0])
    _say(f"{output}: {side['model']} as ONNX ({Path(output).stat().st_size / 1e3:,.1f} kB), inputs and classes "
         f"in {Path(output).name}.json")
    check = side.get("check") or {}
    if check:
        agree = f", labels equal on {check['labels_equal']:.0%}" if check.get("labels_equal") is not None else ""
        _say(f"checked under onnxruntime on {check['rows']:,} items: max |diff| {check['max_abs_diff']:.1e}{agree}; "
             f"{check['onnx_ms_per_item']:.3f} ms per item vs {check['native_ms_per_item']:.3f} native "
             f"(recorded in {Path(run_dir) / 'export.json'})")


@cli.command("ask")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the descriptor to this YAML file.")
@click.option("--data", "data", metavar="PATH",
              help="Measure this data first (counts and classes; guesses at task, modality and target) and skip "
                   "what it answers.")
@click.option("--from", "source", metavar="OLD.yaml", help="Start from this descriptor: its values are the defaults.")
@click.option("--json", "as_json", is_flag=True, help="Print the Recommendation as JSON at the end.")
def ask_cmd(output: Optional[str], data: Optional[str], source: Optional[str], as_json: bool) -> None:
    """Answer a few questions; get a descriptor and a recommendation.

    Enter takes the default in brackets (the project name: the output file's name); `back` returns to the
    previous question; `-` empties an optional answer; a unique prefix picks a choice (`class` for
    classification); 1,000 is a number. Paths are typed from the current folder and written relative to the
    descriptor's folder; one that does not exist is warned about and kept. An answer the descriptor rejects is
    named and asked again (with no input left: one line, exit 2).

    \b
    Examples:
      advisor ask -o my_project.yaml
      advisor ask --data photos -o my_project.yaml
      advisor ask --from my_project.yaml -o v2.yaml
    """
    import yaml

    from advisor.deciding.questionnaire import ask_descriptor, defaults_from
    from advisor.running.measure import measure, prepare, survey

    if output and not Path(output).resolve().parent.is_dir():
        _fail(f"{output}: folder {Path(output).parent} does not exist")
    if data and not Path(data).exists():
        _fail(f"--data {data}: does not exist")
    defaults: dict[str, Any] = {"name": Path(output).stem if output else "project"}
    try:
        if source:
            defaults.update(defaults_from(load_descriptor(source), Path(source).parent))
        desc = ask_descriptor(defaults=defaults, given={"data.path": data} if data else {}, survey=survey,
                              folder=Path(output).parent if output else None)
    except click.Abort:
        _fail("questionnaire ended before all questions were answered (no input left)")
    except ValueError as exc:
        _fail(str(exc).splitlines()[0])
    text = yaml.safe_dump(desc.model_dump(mode="json", exclude_defaults=True), sort_keys=False)
    if output:
        try:
            write_text_atomic(Path(output), text)
        except OSError as exc:
            _fail(f"{output}: cannot write ({exc.strerror or exc})")
        _say(f"\nwrote {output}", err=True)
        desc, measured = prepare(output)         # exactly what `advisor recommend` on the file does
    else:
        _say("\n# descriptor\n" + text)
        desc, measured = measure(desc)
    rec = recommend(desc, measured=measured)
    _say(rec.model_dump_json(indent=2) if as_json else "\n" + summary(rec), json_text=as_json)


@cli.command("rules")
@click.option("--json", "as_json", is_flag=True, help="Print the rulebook as JSON.")
def rules_cmd(as_json: bool) -> None:
    """List the rulebook: every rule's id, condition, effect, section and reason."""
    book = load_rulebook()
    if as_json:
        _say(book.model_dump_json(indent=2), json_text=True)
        return
    _say(f"rulebook {book.version}: {len(book.rules)} rules\n")
    for rule in book.rules:
        _say(f"{rule.id}  [{rule.factor}] ({rule.section})\n  when   {rule.when}\n  effect {rule.effect_text()}"
                   f"\n  why    {rule.reason}\n")


@cli.command("models")
@click.argument("pattern", required=False, default="*")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue records as JSON.")
def models_cmd(pattern: str, as_json: bool) -> None:
    """List the zoo's models (the catalogue), optionally those matching a PATTERN such as '*text*'.

    Any timm image model trains as timm/NAME and any Hugging Face text model as hf/ID (local weights, or the
    hub when online).
    """
    import zoo

    records = [zoo.model_info(n) for n in zoo.list_models(pattern)]
    if as_json:
        _say(json.dumps([r.to_dict() for r in records], indent=2), json_text=True)
        return
    if not records:
        _fail(f"models: no zoo model matches {pattern!r} (try '*' for all)")
    width = max(len(r.name) for r in records)
    for r in records:
        _say(f"{r.name.ljust(width)}  {r.family:9s} {r.architecture:30s} {'/'.join(r.modalities)}: "
                   f"{', '.join(r.tasks)}\n{' ' * width}  {r.description}")


@cli.command("schema")
def schema_cmd() -> None:
    """Print the descriptor's JSON schema."""
    _say(json.dumps(descriptor_json_schema(), indent=2), json_text=True)


HELP_EXAMPLES: dict[str, tuple[str, ...]] = {
    "recommend": ("advisor recommend examples/credit_scoring.yaml",
                  "advisor recommend examples/novel_authorship.yaml --measure",
                  "advisor recommend examples/cats_dogs_2000.yaml --json --report cats.html"),
    "ask": ("advisor ask -o my_project.yaml",
            "advisor ask --data examples/data/breast_cancer.csv -o cancer.yaml",
            "advisor ask --from cancer.yaml -o cancer_v2.yaml"),
    "train": ("advisor train examples/medical_diagnosis_clinical.yaml --out runs/med --report",
              "advisor train my_project.yaml --data photos/ --time-budget 10",
              "advisor train my_project.yaml --model tabular_linear --seed 3 --refit-full"),
    "compare": ("advisor compare examples/fashion_mnist_demo.yaml --families classical,hybrid --sizes 0.1,0.25",
                "advisor compare my_project.yaml --time-budget 30 --workers 2"),
    "predict": ("advisor predict runs/med examples/data/breast_cancer.csv -o predictions.csv",
                "advisor predict runs/med examples/data/breast_cancer.csv --explain",
                "advisor predict runs/demo examples/data/demo_images --json"),
    "generate": ("advisor generate runs/fashion-mnist-generation -n 64 -o samples.png",
                 "advisor generate runs/fashion-mnist-generation -n 16 -o more.png --seed 7"),
    "report": ("advisor report runs/med", "advisor report runs/med -o med.html"),
    "export": ("advisor export runs/med --format onnx -o med.onnx",),
    "models": ("advisor models", "advisor models '*text*'", "advisor models 'tabular_*' --json"),
    "rules": ("advisor rules", "advisor rules --json"),
    "schema": ("advisor schema > descriptor.schema.json",),
}


def _add_examples(group: click.Group) -> None:
    """Each command's --help ends with a few commands to copy (click keeps lines after \\b as written)."""
    for name, lines in HELP_EXAMPLES.items():
        group.commands[name].epilog = "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


_add_examples(cli)


def main() -> None:
    """Console entry point; click's own usage errors (bad option values, unknown options) are one line, exit 2."""
    import warnings

    warnings.showwarning = _show_warning
    try:
        cli.main(prog_name="advisor", standalone_mode=False)
    except click.exceptions.Abort:
        _say("advisor: aborted", err=True)
        sys.exit(130)
    except getattr(click.exceptions, "NoArgsIsHelpError", ()) as exc:   # bare `advisor` (click ≥ 8.2): help, exit 0
        _say(exc.ctx.get_help() if exc.ctx else str(exc))
    except click.UsageError as exc:
        where = f"{exc.ctx.info_name}: " if exc.ctx and exc.ctx.parent else ""
        _fail(f"{where}{exc.format_message()} (--help for usage)")
    except click.ClickException as exc:
        _fail(exc.format_message())


if __name__ == "__main__":
    main()
