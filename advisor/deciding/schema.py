"""The project descriptor: one typed schema, its enums, and YAML loading with one-line errors."""

from __future__ import annotations

import difflib
import reprlib
import unicodedata
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import yaml
from pydantic import (BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from advisor.deciding.yamlsafe import load_yaml


class WordEnum(str, Enum):
    """A str-valued enum that reads as its value everywhere: ``==``, dict keys, JSON, str() and f-strings
    (a plain ``(str, Enum)`` formats as ``Task.classification`` in f-strings on Python 3.11+)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Task(WordEnum):
    classification = "classification"
    regression = "regression"
    anomaly_detection = "anomaly_detection"
    forecasting = "forecasting"
    generation = "generation"


class Modality(WordEnum):
    tabular = "tabular"
    image = "image"
    text = "text"
    audio = "audio"
    time_series = "time_series"
    video = "video"


class Fill(str, Enum):
    interpolate = "interpolate"
    ffill = "ffill"
    drop = "drop"


class Metric(WordEnum):
    accuracy = "accuracy"
    balanced_accuracy = "balanced_accuracy"
    f1 = "f1"
    roc_auc = "roc_auc"
    pr_auc = "pr_auc"
    mae = "mae"
    rmse = "rmse"
    r2 = "r2"
    mase = "mase"


CLASSIFICATION_METRICS = ("accuracy", "balanced_accuracy", "f1", "roc_auc", "pr_auc")
BINARY_ONLY_METRICS = ("pr_auc",)           # one positive class; roc_auc is macro one-vs-rest beyond two
METRICS_FOR_TASK: dict[str, tuple[str, ...]] = {
    "classification": CLASSIFICATION_METRICS,
    "regression": ("mae", "rmse", "r2"),
    "forecasting": ("mae", "rmse", "r2", "mase"),
}


class Accelerator(str, Enum):
    none = "none"
    gpu = "gpu"
    multi_gpu = "multi_gpu"


class Interpretability(str, Enum):
    required = "required"
    preferred = "preferred"
    none = "none"


class Performance(str, Enum):
    critical = "critical"
    standard = "standard"


class Inference(str, Enum):
    batch = "batch"
    realtime = "realtime"
    edge = "edge"


class LabelingCost(str, Enum):
    low = "low"
    high = "high"


class Shift(str, Enum):
    unlikely = "unlikely"
    expected = "expected"


MAX_COUNT = 10**15  # counts beyond this are typos (or fuzz), and would overflow the float cost estimates


def _ask_if(condition: str) -> dict[str, Any]:
    """Schema extra: the questionnaire asks the field only when `condition` holds (rule language)."""
    return {"ask_if": condition}


EXPERT = "False"        # an ask_if that never holds: a setting for the YAML, not a question


def _ask_default(value: Any, condition: str) -> dict[str, Any]:
    """Schema extra: the questionnaire's suggestion for an optional field while `condition` holds (a count is
    needed when there is no data.path to measure; the cost estimates assume as many when it is unknown)."""
    return {"ask_default": value, "ask_default_if": condition}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False, validate_default=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _enum_takes_a_word(cls, value: Any, info: ValidationInfo) -> Any:
        """Refuse a list or mapping for an enum field here: Enum's own error would repr it, and YAML aliases can
        make that repr exponentially long (billion laughs)."""
        kind = cls.model_fields[info.field_name].annotation if info.field_name else None
        if isinstance(value, (list, dict, set, tuple)) and isinstance(kind, type) and issubclass(kind, Enum):
            raise ValueError(f"got a {type(value).__name__}; allowed: {', '.join(e.value for e in kind)}")
        return value


class DataSpec(_Strict):
    """What the data is and how much of it there is."""

    path: Optional[str] = Field(
        default=None, description="Where the data lives: a CSV file, or a folder of class sub-folders of images.")
    modality: Modality = Field(description="Kind of data: tables, images, free text, audio, time series or video.")
    n_samples: Optional[int] = Field(
        default=None, ge=1, le=MAX_COUNT,
        description="Labelled examples available (rows, images, documents, time steps). "
        "Leave empty when data.path is given and it can be counted.",
        json_schema_extra=_ask_default(1000, "not data.path"))
    n_classes: Optional[int] = Field(
        default=None, ge=1, le=MAX_COUNT, description="Number of classes, for classification.",
        json_schema_extra=_ask_if("task == 'classification'"))
    n_features: Optional[int] = Field(
        default=None, ge=1, le=MAX_COUNT, description="Number of input columns, for tabular data.",
        json_schema_extra=_ask_if("data.modality in ('tabular', 'time_series')"))
    target: Optional[str] = Field(
        default=None, description="Label / target column in a CSV.",
        json_schema_extra=_ask_if("data.modality in ('tabular', 'text', 'time_series')"))
    text_column: Optional[str] = Field(
        default=None, description="Column holding the text, for text data in a CSV.",
        json_schema_extra=_ask_if("data.modality == 'text'"))
    horizon: Optional[int] = Field(
        default=None, ge=1, le=MAX_COUNT,
        description="Forecasting: steps ahead to forecast; the last this many points are the held-out test. "
        "Empty: from the sampling frequency (hourly 48, daily 14, weekly 13, monthly 18, quarterly 8, yearly 6, "
        "else 10), at most a fifth of the series.",
        json_schema_extra=_ask_if("task == 'forecasting'"))
    fill: Fill = Field(
        default=Fill.interpolate,
        description="Forecasting: how missing target values and missing time steps are filled: interpolate "
        "(linearly, the default), ffill (carry the last value forward) or drop (leave them out). Before that, "
        "the rows are sorted by their time column (the first column of dates, else a numeric column named t, "
        "step, year, time, period, ...) and rows that share a time are averaged into one, each said in a line.",
        json_schema_extra=_ask_if("task == 'forecasting'"))
    labeling_cost: LabelingCost = Field(
        default=LabelingCost.low, description="How costly more labels are (experts needed, rare cases, privacy).")
    unlabeled_available: bool = Field(
        default=False, description="Plenty of unlabelled examples exist beside the labelled ones.")
    features_well_defined: Optional[bool] = Field(
        default=None, description="Experts already know which measured features matter. "
        "Empty: assumed yes for tabular and time series, no otherwise.")
    distribution_shift: Shift = Field(
        default=Shift.unlikely,
        description="Will production data differ from training data (new sites, seasons, sensors, weather)?")
    positive_class: Optional[str] = Field(
        default=None, description="Binary classification: the class that counts as positive (fraud, disease, "
        "churn) for F1, precision-recall, ROC and the decision threshold. Empty: the rarer class of the training "
        "labels.",
        json_schema_extra=_ask_if(EXPERT))


    @field_validator("positive_class", mode="before")
    @classmethod
    def _label_as_text(cls, value: Any) -> Any:
        """A label YAML reads as a number or a boolean (1, true) is matched by its text, as in the CSV."""
        return str(value) if isinstance(value, (bool, int, float)) else value


class Resources(_Strict):
    """The hardware and time available to train."""

    accelerator: Accelerator = Field(default=Accelerator.none, description="GPUs available for training.")
    gpu_memory_gb: Optional[float] = Field(
        default=None, ge=0, description="Memory per GPU in GB.",
        json_schema_extra=_ask_if("resources.accelerator != 'none'"))
    time_budget_minutes: Optional[float] = Field(
        default=None, gt=0, description="Wall-clock budget for one training run, in minutes.")
    weights_path: Optional[str] = Field(
        default=None, description="Local file or folder of pretrained weights for the chosen deep or hybrid "
        "model (else: $ML_ADVISOR_WEIGHTS_<MODEL>, then the packaged weights, then the hub when online).")
    pretrained_available: Optional[bool] = Field(
        default=None, description="A pretrained model exists for this kind of data. "
        "Empty: assumed yes for images, text and audio, no otherwise.")


class Needs(_Strict):
    """What the result must satisfy."""

    interpretability: Interpretability = Field(
        default=Interpretability.preferred, description="Must each decision be explainable?")
    regulated: bool = Field(
        default=False, description="A regulated domain (credit, insurance, healthcare) where decisions are audited.")
    performance: Performance = Field(
        default=Performance.standard, description="Is the best achievable accuracy worth much more time and cost?")
    inference: Inference = Field(
        default=Inference.batch, description="How predictions are served: offline batches, real time, or on a device.")
    dev_time_days: Optional[float] = Field(
        default=None, gt=0, description="Days available to build the first working model.")
    security_critical: bool = Field(
        default=False, description="Attackers may craft inputs to fool the model (fraud, malware, safety).")
    metric: Optional[Metric] = Field(
        default=None, description="The held-out number that decides: model selection maximises it and the "
        "report leads with it. Classification: accuracy, balanced_accuracy, f1 (of the positive class), roc_auc, "
        "pr_auc; regression: mae, rmse, r2; forecasting: mae, rmse, r2, mase. Empty: macro F1, R² or MASE; "
        "balanced_accuracy for binary data whose rarer class is under 20 %.",
        json_schema_extra=_ask_if(EXPERT))


class ProjectDescriptor(_Strict):
    """A machine-learning project, described well enough to choose classical ML, deep learning or a hybrid."""

    name: str = Field(min_length=1, description="A short name for the project.")
    task: Task = Field(description="What the model must do.")
    data: DataSpec
    resources: Resources = Field(default_factory=Resources)
    needs: Needs = Field(default_factory=Needs)

    @model_validator(mode="after")
    def _coherent(self) -> "ProjectDescriptor":
        n_classes = self.data.n_classes
        if self.task == Task.classification and n_classes is not None and n_classes < 2:
            raise ValueError(f"data.n_classes: got {n_classes}; classification needs at least 2 classes")
        metric, task = self.needs.metric, self.task.value
        if metric is not None and task in METRICS_FOR_TASK and metric.value not in METRICS_FOR_TASK[task]:
            raise ValueError(f"needs.metric: got {metric.value}, which is not a {task} metric; allowed: "
                             f"{', '.join(METRICS_FOR_TASK[task])}")
        if metric is not None and task not in METRICS_FOR_TASK:
            raise ValueError(f"needs.metric: got {metric.value}; {task} has no selectable metric (leave it empty)")
        if metric is not None and metric.value in BINARY_ONLY_METRICS and (n_classes or 2) > 2:
            raise ValueError(f"needs.metric: {metric.value} needs two classes, data.n_classes is {n_classes}")
        if self.data.n_samples is None and not self.data.path:
            raise ValueError("data.n_samples: missing; give a count (>= 1), or data.path so it can be measured")
        return self


MAX_MESSAGE = 1000  # characters; a hostile descriptor cannot print megabytes

_short = reprlib.Repr()
_short.maxstring, _short.maxother, _short.maxlevel = 60, 60, 2
_short.maxlist = _short.maxtuple = _short.maxdict = _short.maxset = _short.maxfrozenset = 4


def _show(value: Any) -> str:
    """A bounded repr: YAML aliases can make huge or cyclic values, and huge ints refuse str()."""
    try:
        return _short.repr(value)
    except ValueError:
        return f"<{type(value).__name__}>"


def _single_line(text: str) -> str:
    """`text` with line breaks and other control characters escaped (\\n, \\x1b, ...), its middle cut to fit
    MAX_MESSAGE (the end says what is wrong)."""
    out = "".join(repr(c)[1:-1] if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    half = MAX_MESSAGE // 2
    return out if len(out) <= MAX_MESSAGE else out[:half - 1] + "…" + out[-half:]


class DescriptorError(ValueError):
    """A descriptor that cannot be used; the message is one line naming the field, the value and what is allowed."""

    def __init__(self, message: str) -> None:
        super().__init__(_single_line(str(message)))


def _allowed(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names allowed at `loc` (the parent of the offending key)."""
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _plain_key(key: Any) -> bool:
    """A key that reads unquoted in 'data.key: ...' (else it is shown quoted: '', 'a:b', 'x\\ny', 7)."""
    return (isinstance(key, str) and key == key.strip() and key.isprintable() and 0 < len(key) <= 60
            and not any(c in key for c in ".:'\""))


def _one_line(error: dict[str, Any]) -> str:
    """Turn one pydantic error into 'field: got X; allowed Y'."""
    loc = tuple(error.get("loc", ()))
    where = ".".join(p if _plain_key(p) else _short.repr(p) for p in loc) or "descriptor"
    kind, ctx = error["type"], error.get("ctx") or {}
    given = _show(error.get("input"))
    if kind in ("extra_forbidden", "invalid_key"):        # invalid_key: a number, date or null as a key
        allowed = _allowed(ProjectDescriptor, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"{where}: unknown key{hint} (allowed: {', '.join(allowed)})"
    if kind == "missing":
        return f"{where}: missing (required)"
    if kind == "enum":
        return f"{where}: got {given}; allowed: {ctx.get('expected', '').replace(chr(39), '')}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal"):
        op = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<="}[kind]
        return f"{where}: got {given}; must be {op} {ctx.get('ge', ctx.get('gt', ctx.get('le')))}"
    if kind == "value_error":                              # a validator's message; a field's names no field
        text = str(ctx.get("error", error.get("msg")))
        return f"{where}: {text}" if loc else text
    return f"{where}: got {given}; {error.get('msg', 'invalid').lower()}"


def parse_descriptor(raw: Any, source: str = "descriptor") -> ProjectDescriptor:
    """Validate a mapping (e.g. parsed YAML) into a ProjectDescriptor, or raise DescriptorError."""
    if raw is None:
        raise DescriptorError(f"{source}: empty; expected a mapping with name, task, data (see `advisor schema`)")
    if not isinstance(raw, dict):
        raise DescriptorError(f"{source}: expected a mapping at the top level, got {type(raw).__name__}")
    try:
        return ProjectDescriptor.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise DescriptorError(f"{source}: {_one_line(errors[0])}{more}") from None


MAX_DESCRIPTOR_BYTES = 1 << 20   # a descriptor is a few hundred bytes; run folders hold one too


def _read_text(path: Path) -> str:
    """The text of a descriptor file (UTF-8, a BOM allowed), read only if it is a regular file of at most
    MAX_DESCRIPTOR_BYTES (a FIFO or /dev/zero would block or fill memory); else DescriptorError, one line."""
    from zoo.io import UnreadableFile, read_text

    try:
        return read_text(path, max_bytes=MAX_DESCRIPTOR_BYTES, what="a YAML descriptor file")
    except UnreadableFile as exc:
        raise DescriptorError(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise DescriptorError(f"{path}: cannot read: not UTF-8 text (byte {exc.object[exc.start]:#04x} at "
                              f"offset {exc.start}); save the descriptor as UTF-8") from None


def load_descriptor(source: "str | Path | dict[str, Any] | ProjectDescriptor") -> ProjectDescriptor:
    """Load a descriptor from a YAML file path, a mapping, or pass one through."""
    if isinstance(source, ProjectDescriptor):
        return source
    if isinstance(source, dict):
        return parse_descriptor(source)
    path = Path(source)
    text = _read_text(path)
    try:
        raw = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
        raise DescriptorError(f"{path}: not valid YAML{where}: {problem}") from None
    except RecursionError:
        raise DescriptorError(f"{path}: not valid YAML: nested too deeply for a descriptor") from None
    except Exception as exc:  # noqa: BLE001 - safe_load's constructors raise plain errors on values like 2020-13-45
        raise DescriptorError(f"{path}: not valid YAML: a value cannot be read ({exc.__class__.__name__}: "
                              f"{_show(str(exc))[1:-1]})") from None
    return parse_descriptor(raw, source=str(path))


def descriptor_json_schema() -> dict[str, Any]:
    """The JSON schema of the descriptor (field descriptions included)."""
    return ProjectDescriptor.model_json_schema()
