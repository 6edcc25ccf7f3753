"""Typed run records: one pydantic model per file of a run folder, and their one-line read errors.

`advisor train` writes metrics.json (:class:`RunMetrics`), run.json (:class:`RunInfo`), explain.json
(:class:`Explanation`) beside descriptor.yaml (``ProjectDescriptor``) and recommendation.json
(``Recommendation``); `advisor compare` writes compare.json (:class:`CompareResult`). The running layer writes
them with :func:`dump_record`; the report reads them back with :func:`read_record` into :class:`RunRecords`.

This module sits at the top of the package, beside the layers rather than inside one, and imports only pydantic
and ``advisor.deciding``: the showing layer (the report) must not import the running layer, yet both need the
same record classes: the writer and the reader share one definition here.

Compatibility: records are lenient on read. Keys a model does not know are kept (``extra="allow"``) and fields a
previous release did not write default; a value of the wrong type is an error, reported in one line naming the
file and the field (``metrics.json: train_seconds: expected a number, got 'abc'``).
"""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from advisor.deciding.recommendation import Approach, Recommendation
from advisor.deciding.schema import Modality, ProjectDescriptor, Task
from advisor.deciding.yamlsafe import load_yaml

Family = Approach       # a zoo model's family is one of the advisor's approaches: classical | hybrid | deep
Label = Union[bool, int, float, str, None]      # a class label as JSON holds it


class Record(BaseModel):
    """Base of every record: unknown keys kept (newer or older writers), NaN/inf allowed on read."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


# ----------------------------------------------------------------------------- metrics.json

class TrainingHistory(Record):
    """A deep or hybrid model's training loop (zoo.training.TrainHistory): one list entry per epoch run."""

    train_loss: list[Optional[float]] = Field(default_factory=list, description="Training loss per epoch.")
    val_loss: list[Optional[float]] = Field(default_factory=list, description="Validation loss per epoch.")
    val_metric: list[Optional[float]] = Field(default_factory=list, description="Validation metric per epoch.")
    epoch_seconds: list[Optional[float]] = Field(default_factory=list, description="Wall seconds per epoch.")
    lr: list[Optional[float]] = Field(default_factory=list, description="Learning rate per epoch.")
    best_epoch: int = Field(default=0, description="1-based epoch whose weights were kept (0: none).")
    best_score: Optional[float] = Field(default=None, description="The monitored value at the best epoch.")
    monitor: str = Field(default="val_loss", description="What early stopping watched.")
    stop_reason: str = Field(default="completed", description="completed | patience | time_budget")
    device: str = Field(default="cpu", description="Where the loop ran.")
    device_reason: str = Field(default="", description="Why that device was chosen.")
    items_per_second: float = Field(default=0.0, description="Training throughput.")
    total_seconds: float = Field(default=0.0, description="Wall seconds of the whole loop.")
    checkpoint: Optional[str] = Field(default=None, description="Best-weights checkpoint file, if kept.")
    resumed_epoch: int = Field(default=0, description="Epochs restored from an interrupted run (0: none).")


class ClassScores(Record):
    """One row of scikit-learn's classification report."""

    precision: Optional[float] = None
    recall: Optional[float] = None
    f1_score: Optional[float] = Field(default=None, alias="f1-score")
    support: Optional[float] = Field(default=None, description="Held-out items of the class.")


class RocCurve(Record):
    """The held-out ROC curve of a binary classifier (at most 50 points)."""

    fpr: list[float] = Field(default_factory=list, description="False positive rates.")
    tpr: list[float] = Field(default_factory=list, description="True positive rates.")
    positive: Label = Field(default=None, description="The class counted as positive.")


class RocCurveAuc(RocCurve):
    """One class's one-vs-rest ROC curve (multi-class) and its area."""

    auc: Optional[float] = Field(default=None, description="Area under this class's one-vs-rest curve.")


class PrCurve(Record):
    """The held-out precision-recall curve of a binary classifier's positive class (at most 50 points)."""

    recall: list[float] = Field(default_factory=list, description="Recall of the positive class.")
    precision: list[float] = Field(default_factory=list, description="Precision of the positive class.")
    positive: Label = Field(default=None, description="The class counted as positive.")
    prevalence: Optional[float] = Field(default=None, description="Share of the positive class in the test "
                                        "split: the precision of guessing.")


class Headline(Record):
    """The held-out number that decides, beside the best baseline by the same number."""

    metric: str = Field(description="The metric (needs.metric, else the task's default).")
    value: Optional[float] = Field(default=None, description="The model's held-out score.")
    higher_is_better: bool = True
    baseline: Optional[str] = Field(default=None, description="The best baseline by this metric.")
    baseline_value: Optional[float] = Field(default=None, description="Its held-out score.")
    beats_baseline: Optional[bool] = Field(default=None, description="The model does better than that baseline.")


class Threshold(Record):
    """A binary classifier's decision threshold, tuned on the training split's folds (never the test)."""

    value: Optional[float] = Field(default=None, description="Probability of the positive class from which it "
                                   "is predicted; None: the model's own rule (0.5).")
    metric: Optional[str] = Field(default=None, description="What the threshold maximises.")
    score: Optional[float] = Field(default=None, description="That metric out of fold at the threshold.")
    default_score: Optional[float] = Field(default=None, description="The same at 0.5.")
    folds: Optional[int] = Field(default=None, description="Stratified training folds used.")
    tuned_on: Optional[str] = Field(default=None, description="Where the probabilities came from.")
    skipped: Optional[str] = Field(default=None, description="Why no threshold was tuned, if so.")


class Balance(Record):
    """The class balance of the training labels and what was done about it."""

    minority: Label = Field(default=None, description="The rarest class.")
    minority_share: Optional[float] = Field(default=None, description="Its share of the training labels.")
    imbalanced: bool = Field(default=False, description="The rarest class is under 20 %.")
    class_weight: Optional[str] = Field(default=None, description="The class weights the model trained with.")
    note: str = Field(default="", description="What was done, in a sentence.")
    warning: Optional[str] = Field(default=None, description="The imbalance warning, if any.")


class LeaderboardRow(Record):
    """One measured candidate: a model (and settings) cross-validated on the training split."""

    model: str = Field(description="Zoo model name.")
    family: Family = Field(description="The model's family.")
    stage: Literal["probe", "candidate", "tuned"] = Field(
        description="probe: across families on a subsample; candidate: inside the family; tuned: a searched setting.")
    params: dict[str, Any] = Field(default_factory=dict, description="Settings other than the catalogue defaults.")
    mean: Optional[float] = Field(default=None, description="Mean fold score (higher is better); None: not scored.")
    std: Optional[float] = Field(default=None, description="Spread of the fold scores (standard deviation).")
    scores: list[float] = Field(default_factory=list, description="The fold scores, in fold order.")
    folds: int = Field(default=0, description="Folds scored.")
    seconds: float = Field(default=0.0, description="Wall seconds of all its fits and scores.")
    readable: bool = Field(default=False, description="A person can read the fitted model itself.")
    error: Optional[str] = Field(default=None, description="Why it could not be fitted, if so.")
    stopped: Optional[str] = Field(default=None, description="Why fewer folds ran than planned, if so.")


class BaselineScore(Record):
    """The reference a candidate must beat, scored on the same folds."""

    name: str = Field(description="majority class | training mean | seasonal naive ...")
    mean: Optional[float] = Field(default=None, description="Mean fold score.")
    std: Optional[float] = Field(default=None, description="Spread of the fold scores.")
    folds: int = Field(default=0, description="Folds scored.")


class Selection(Record):
    """How the trained model was chosen: the probe across families and the leaderboard inside one."""

    model: str = Field(description="The model chosen.")
    family: Family = Field(description="Its family.")
    params: dict[str, Any] = Field(default_factory=dict, description="Settings adopted from the search.")
    metric: str = Field(description="What was maximised (needs.metric, else macro_f1, r2, neg_mase; "
                        "balanced_accuracy for imbalanced binary labels; an error metric as neg_NAME).")
    folds: str = Field(default="", description="How the training split was cut into folds.")
    seconds: float = Field(default=0.0, description="Wall seconds of the whole measurement.")
    probe_seconds: float = Field(default=0.0, description="Wall seconds of the probe across families.")
    rules_model: Optional[str] = Field(default=None, description="The model the rules alone picked.")
    readability_price: Optional[float] = Field(
        default=None, description="interpretability required: best model overall minus best readable model.")
    baseline: Optional[BaselineScore] = Field(default=None, description="The baseline on the same folds.")
    leaderboard: list[LeaderboardRow] = Field(default_factory=list, description="Candidates inside the family.")
    probe: list[LeaderboardRow] = Field(default_factory=list, description="The probe across families.")


class ForecastScores(Record):
    """A baseline's held-out scores (zoo.metrics.evaluate): a forecast's errors over the horizon, a dummy
    classifier's or regressor's scores on the test split; only its task's numbers are present."""

    mae: Optional[float] = Field(default=None, description="Mean absolute error.")
    mase: Optional[float] = Field(
        default=None, description="MAE over the in-sample seasonal-naive MAE of the training series (< 1: better "
        "than that one-season-ahead benchmark); empty when that scale is 0.")
    smape: Optional[float] = Field(default=None, description="Symmetric mean absolute percentage error, 0-200.")
    rmse: Optional[float] = Field(default=None, description="Root mean squared error.")
    r2: Optional[float] = Field(default=None, description="Coefficient of determination.")
    accuracy: Optional[float] = Field(default=None, description="Share predicted right.")
    balanced_accuracy: Optional[float] = Field(default=None, description="Mean recall over the classes.")
    macro_f1: Optional[float] = Field(default=None, description="F1 averaged over classes.")
    f1: Optional[float] = Field(default=None, description="F1 of the positive class (binary).")
    roc_auc: Optional[float] = Field(default=None, description="Area under the ROC curve.")
    pr_auc: Optional[float] = Field(default=None, description="Average precision of the positive class.")


class GenerationScores(Record):
    """One generator's (or baseline's) held-out scores in the frozen feature space (zoo.generative_metrics)."""

    frechet_distance: Optional[float] = Field(default=None, description="Fréchet distance to the held-out real "
                                              "images' features (lower is better; not Inception FID).")
    precision: Optional[float] = Field(default=None, description="Share of samples inside the real k-NN manifold.")
    recall: Optional[float] = Field(default=None, description="Share of real images inside the samples' manifold.")
    diversity_ratio: Optional[float] = Field(default=None, description="Mean pairwise feature distance of the "
                                             "samples over that of the real images (1: as varied).")
    classes_covered: Optional[int] = Field(default=None, description="Classes a classifier finds among them.")


class GeneratorScores(GenerationScores):
    """The trained generator's scores, with its memorisation and mode-collapse checks."""

    memorisation: dict[str, Any] = Field(default_factory=dict, description="share_too_close (of samples nearer "
                                         "a training image than 95 % of held-out real ones), expected_share, "
                                         "threshold, flagged.")
    mode_collapse: dict[str, Any] = Field(default_factory=dict, description="diversity_ratio, classes_covered, "
                                          "n_classes, flagged.")
    exact_copies: int = Field(default=0, description="Samples that are byte-for-byte a training image.")


class GenerationMetrics(Record):
    """Generation runs: the generator beside its baselines, its checks, loss curves and a sample grid."""

    feature_space: str = Field(description="The frozen network and image size the scores are measured in.")
    n_samples: int = Field(description="Generated images scored.")
    n_real: int = Field(description="Held-out real images they are scored against.")
    model: GeneratorScores = Field(description="The trained generator.")
    baselines: dict[str, GenerationScores] = Field(default_factory=dict, description="Real training images (the "
                                                   "floor) and trivial generators, same counts.")
    checks: dict[str, bool] = Field(default_factory=dict, description="mode_collapse, memorisation: flagged.")
    loss_curves: dict[str, list[Optional[float]]] = Field(default_factory=dict, description="Per-epoch curves.")
    epoch_seconds: list[float] = Field(default_factory=list, description="Wall seconds per epoch.")
    epochs_run: int = Field(default=0, description="Epochs trained.")
    stop_reason: Optional[str] = Field(default=None, description="completed | patience | time_budget")
    samples_file: Optional[str] = Field(default=None, description="The sample grid PNG in the run folder.")
    sample_grid_png: Optional[str] = Field(default=None, description="The same grid, base64 PNG (for the report).")


class RunMetrics(Record):
    """metrics.json: what was trained, on what, how long it took, and the held-out scores of its task
    (zoo.metrics.evaluate); the task's metrics are present, the others absent."""

    model: str = Field(description="Zoo model name.")
    family: Family = Field(description="The model's family.")
    task: Task = Field(description="The task trained for.")
    modality: Modality = Field(description="The data's modality.")
    train_seconds: float = Field(description="Wall seconds of `fit`.")
    n_train: int = Field(description="Training items.")
    n_test: int = Field(description="Held-out items scored.")
    device: str = Field(default="cpu", description="Where the model trained (cpu, cuda:0, mps).")
    seed: int = Field(default=0, description="Seed of the split and the model.")
    estimated_train_minutes: Optional[float] = Field(
        default=None, description="The advisor's estimate for this family, to compare with train_seconds.")
    history: Optional[TrainingHistory] = Field(default=None, description="Per-epoch curves (deep and hybrid).")
    skipped_inputs: int = Field(default=0, description="Inputs that could not be read and were left out.")
    resumed_after_epoch: Optional[int] = Field(
        default=None, description="Last epoch restored from an interrupted run's checkpoint, if resumed.")
    processes: int = Field(default=1, description="Training processes (torchrun data parallel: more than 1).")
    selection: Optional[Selection] = Field(default=None, description="How the model was chosen, measured.")
    refit_full: bool = Field(default=False, description="The saved model was refit on all the data (train + "
                             "held-out test) after the held-out scoring; the scores are the training-split model's.")
    n_refit: Optional[int] = Field(default=None, description="Items the saved model was refit on (refit_full).")
    model_size_bytes: Optional[int] = Field(default=None, description="Size of model.joblib.")
    backbone: Optional[str] = Field(
        default=None, description="Hybrid: the frozen pretrained network the model needs beside model.joblib.")
    backbone_size_bytes: Optional[int] = Field(
        default=None, description="Hybrid: size of that network's weights (loaded from its package, not saved).")
    inference_ms_per_item: Optional[float] = Field(default=None, description="Held-out prediction time per item.")
    # classification
    accuracy: Optional[float] = Field(default=None, description="Classification: share predicted right.")
    macro_f1: Optional[float] = Field(default=None, description="Classification: F1 averaged over classes.")
    per_class: Optional[dict[str, Union[ClassScores, float]]] = Field(
        default=None, description="Classification: scikit-learn's classification report (per class, averages).")
    confusion_matrix: Optional[list[list[int]]] = Field(
        default=None, description="Classification: rows true class, columns predicted, in `labels` order.")
    labels: Optional[list[Label]] = Field(default=None, description="Classification: the classes, in order.")
    unseen_test_labels: Optional[list[Label]] = Field(
        default=None, description="Classification: held-out classes never seen in training.")
    roc_auc: Optional[float] = Field(default=None, description="Binary classification or anomaly detection.")
    roc_curve: Optional[RocCurve] = Field(default=None, description="Binary classification: the ROC curve.")
    roc_auc_average: Optional[str] = Field(default=None, description="Multi-class: how roc_auc averages the "
                                           "one-vs-rest areas (macro).")
    roc_curves: Optional[dict[str, RocCurveAuc]] = Field(
        default=None, description="Multi-class: each class's one-vs-rest ROC curve.")
    balanced_accuracy: Optional[float] = Field(default=None, description="Classification: mean recall over classes.")
    positive_class: Label = Field(default=None, description="Binary classification: the class counted as positive.")
    f1: Optional[float] = Field(default=None, description="Binary classification: F1 of the positive class.")
    precision: Optional[float] = Field(default=None, description="Binary classification: precision of the positive "
                                       "class.")
    recall: Optional[float] = Field(default=None, description="Binary classification: recall of the positive class.")
    pr_auc: Optional[float] = Field(default=None, description="Binary classification: average precision.")
    pr_curve: Optional[PrCurve] = Field(default=None, description="Binary classification: precision-recall curve.")
    headline: Optional[Headline] = Field(default=None, description="The deciding metric beside its best baseline.")
    metric_source: Optional[str] = Field(default=None, description="descriptor | default | default, imbalanced")
    balance: Optional[Balance] = Field(default=None, description="Classification: class balance and weights.")
    threshold: Optional[Threshold] = Field(default=None, description="Binary classification: decision threshold.")
    # regression and forecasting
    mae: Optional[float] = Field(default=None, description="Regression / forecasting: mean absolute error.")
    rmse: Optional[float] = Field(default=None, description="Regression / forecasting: root mean squared error.")
    r2: Optional[float] = Field(default=None, description="Regression / forecasting: coefficient of determination.")
    horizon: Optional[int] = Field(default=None, description="Forecasting: steps forecast.")
    mase: Optional[float] = Field(
        default=None, description="Forecasting: mean absolute scaled error (MAE over the training series' "
        "in-sample seasonal-naive MAE).")
    smape: Optional[float] = Field(default=None, description="Forecasting: symmetric MAPE in percent (0-200).")
    season: Optional[int] = Field(default=None, description="Forecasting: season length measured on the "
                                  "training series (1: none).")
    baselines: Optional[dict[str, ForecastScores]] = Field(
        default=None, description="Inputs-blind references scored on the same held-out split: majority class and "
        "stratified (classification), mean and median (regression), naive and seasonal naive fitted on the "
        "training series (forecasting).")
    # anomaly detection
    flagged_share: Optional[float] = Field(default=None, description="Anomaly detection: share flagged.")
    anomaly_label: Label = Field(default=None, description="Anomaly detection: the label taken as anomalous.")
    f1_anomaly: Optional[float] = Field(default=None, description="Anomaly detection: F1 of the anomaly class.")
    # generation
    generation: Optional[GenerationMetrics] = Field(default=None, description="Generation: held-out scores, "
                                                    "baselines, checks, loss curves, sample grid.")


# ----------------------------------------------------------------------------- run.json

class RunInfo(Record):
    """run.json: the environment of a run."""

    seed: Optional[int] = Field(default=None, description="Seed of the split and the model.")
    versions: dict[str, Optional[str]] = Field(default_factory=dict, description="Library -> version.")
    classes: list[Label] = Field(default_factory=list, description="Classes of the data (classification).")
    finished: Optional[str] = Field(default=None, description="Local time the run finished, ISO 8601.")


# ----------------------------------------------------------------------------- data_checks.json

class ColumnCheck(Record):
    """One column of a table as the checks before training saw it (zoo.columns.ColumnProfile)."""

    name: str = Field(description="The column.")
    kind: Literal["numeric", "categorical", "date", "text", "id"] = Field(description="Inferred type.")
    missing_share: float = Field(default=0.0, description="Share of rows with no value, 0-1.")
    distinct: int = Field(default=0, description="Distinct values (cardinality), missing not counted.")
    action: Literal["kept", "dropped_id", "dropped_constant", "calendar"] = Field(
        default="kept", description="dropped_id / dropped_constant: left out of training; calendar: a date "
        "column turned into `features`.")
    features: list[str] = Field(default_factory=list, description="Calendar features made from a date column.")
    leak_score: Optional[float] = Field(
        default=None, description="Cross-validated score of this column alone (see DataChecks.metric).")
    leak: bool = Field(default=False, description="leak_score reached DataChecks.leak_threshold: a possible leak.")


class DataChecks(Record):
    """data_checks.json: each column's type, missing share and cardinality on the training split, what training
    did with it, and the columns that alone predict the target (possible leaks, kept)."""

    rows: int = Field(description="Training-split rows checked.")
    columns: list[ColumnCheck] = Field(default_factory=list)
    metric: Optional[str] = Field(default=None, description="Leak score: balanced_accuracy or r2.")
    folds: int = Field(default=0, description="Cross-validation folds of the leak scores (0: not scored).")
    leak_threshold: float = Field(default=0.99, description="A column alone scoring this is flagged.")
    lines: list[str] = Field(default_factory=list, description="What was said about the columns, one line each.")


# ----------------------------------------------------------------------------- explain.json

class Piece(Record):
    """One explanation; a piece that failed holds only `error`."""

    error: Optional[str] = Field(default=None, description="Why the piece could not be computed.")
    note: str = Field(default="", description="What the piece shows, in a sentence.")


class FeatureScore(Record):
    name: str
    value: float
    std: Optional[float] = None


class ImportancePiece(Piece):
    """Permutation importance, coefficients, impurity importance or a hybrid head's importance."""

    method: Optional[str] = None
    features: list[FeatureScore] = Field(default_factory=list, description="Top features, largest first.")
    signed: bool = Field(default=False, description="Coefficients: values keep their sign.")
    groups: list[FeatureScore] = Field(default_factory=list, description="Impurity importance per feature group.")
    skipped: Optional[str] = Field(default=None, description="Why permutation importance was not computed.")


class ShapFeature(Record):
    name: str
    mean_abs: float = Field(description="Mean |SHAP value| over the explained rows.")
    points: list[tuple[float, Optional[float]]] = Field(
        default_factory=list, description="Per row: (SHAP value, the value's percentile among the rows; None for "
                                          "categories and missing values).")


class ShapPiece(Piece):
    """SHAP values of held-out rows, for the summary plot."""

    method: Optional[str] = Field(default=None, description="tree | linear | permutation (zoo.attributions).")
    output: Optional[str] = Field(default=None, description="What the values add up to: log-odds, probability, "
                                  "value.")
    towards: Label = Field(default=None, description="The class explained (binary tasks).")
    n_items: int = 0
    skipped: int = Field(default=0, description="Rows past the time limit.")
    features: list[ShapFeature] = Field(default_factory=list, description="Columns, largest mean |SHAP| first.")


class RulesPiece(Piece):
    text: str = Field(default="", description="A decision tree's rules, one per line (first 200).")
    truncated: bool = False
    n_lines: Optional[int] = None


class ClassTerms(Record):
    label: Label = None
    terms: list[tuple[str, float]] = Field(default_factory=list, description="(term, weight), largest first.")


class TopTermsPiece(Piece):
    classes: list[ClassTerms] = Field(default_factory=list)


class Example(Record):
    """A held-out item shown in a saliency panel or the misclassified gallery."""

    true: Label = None
    pred: Label = None
    confidence: Optional[float] = None
    png: Optional[str] = Field(default=None, description="Base64 PNG (image items).")
    text: Optional[str] = Field(default=None, description="The text, cut to 400 characters (text items).")
    values: Optional[dict[str, Any]] = Field(default=None, description="Input values by column (table rows).")


class SaliencyPiece(Piece):
    method: str = ""
    items: list[Example] = Field(default_factory=list)


class MisclassifiedPiece(Piece):
    total: int = Field(default=0, description="Held-out items misclassified.")
    n_items: int = Field(default=0, description="Held-out items examined.")
    kind: Optional[str] = Field(default=None, description="image | text | tabular | time_series | video")
    order: str = ""
    columns: list[str] = Field(default_factory=list, description="Columns shown for table rows.")
    items: list[Example] = Field(default_factory=list)


class ErrorItem(Record):
    index: int
    true: float
    pred: float
    error: float


class LargestErrorsPiece(Piece):
    items: list[ErrorItem] = Field(default_factory=list)


class ForecastPiece(Piece):
    actual: list[Optional[float]] = Field(default_factory=list)
    predicted: list[Optional[float]] = Field(default_factory=list)
    step: int = Field(default=1, description="Every `step`-th point is kept (at most ~300).")
    n: Optional[int] = None


class Explanation(Record):
    """explain.json: what zoo.explain could compute for the fitted model; each piece is present only where it
    applies, and a piece that failed holds its `error`. `error` at the top: explaining failed altogether."""

    model: Optional[str] = None
    family: Optional[Family] = None
    modality: Optional[Modality] = None
    task: Optional[Task] = None
    seconds: Optional[float] = Field(default=None, description="Wall seconds spent explaining.")
    error: Optional[str] = Field(default=None, description="Why no explanation at all could be computed.")
    importance: Optional[ImportancePiece] = Field(default=None, description="Permutation importance (tabular).")
    shap: Optional[ShapPiece] = Field(default=None, description="SHAP values of held-out rows (tabular).")
    coefficients: Optional[ImportancePiece] = Field(default=None, description="A linear model's coefficients.")
    model_importance: Optional[ImportancePiece] = Field(default=None, description="Impurity importance.")
    head_importance: Optional[ImportancePiece] = Field(default=None, description="A hybrid head's importance.")
    rules: Optional[RulesPiece] = None
    top_terms: Optional[TopTermsPiece] = None
    saliency: Optional[SaliencyPiece] = None
    misclassified: Optional[MisclassifiedPiece] = None
    largest_errors: Optional[LargestErrorsPiece] = None
    forecast: Optional[ForecastPiece] = None

    def pieces(self) -> dict[str, Piece]:
        """The pieces present, by name."""
        return {k: v for k, v in ((k, getattr(self, k)) for k in PIECE_NAMES) if isinstance(v, Piece)}

    def usable(self, name: str) -> Any:
        """Piece `name` if present and not failed, else None."""
        piece = getattr(self, name, None)
        return piece if isinstance(piece, Piece) and piece.error is None else None


PIECE_NAMES = ("importance", "shap", "coefficients", "model_importance", "head_importance", "rules", "top_terms",
               "saliency", "misclassified", "largest_errors", "forecast")


# ----------------------------------------------------------------------------- compare.json

class MetricSpec(Record):
    key: str = Field(description="The metric that decides.")
    label: str = ""
    higher_is_better: bool = True
    shown: list[str] = Field(default_factory=list, description="Metrics in the table, the deciding one first.")


class CompareData(Record):
    items: Optional[int] = None
    train: int = Field(description="Items in the training split (the largest size uses all).")
    test: int = Field(description="Held-out items, the same for every family.")
    source: Optional[str] = None
    split_seed: Optional[int] = None
    split_seeds: list[int] = Field(default_factory=list, description="One held-out split per seed (repeated "
                                   "stratified hold-out; forecasting: the one time split).")


class Predicted(Record):
    family: Family
    model: Optional[str] = None


class MetricSummary(Record):
    mean: Optional[float] = None
    std: Optional[float] = None
    min: Optional[float] = None
    max: Optional[float] = None


class _Scores(Record):
    """The per-task metrics a comparison can show (zoo.metrics names)."""

    macro_f1: Optional[float] = None
    accuracy: Optional[float] = None
    balanced_accuracy: Optional[float] = None
    f1: Optional[float] = None
    roc_auc: Optional[float] = None
    pr_auc: Optional[float] = None
    r2: Optional[float] = None
    mae: Optional[float] = None
    rmse: Optional[float] = None
    f1_anomaly: Optional[float] = None


class MeasuredFamily(_Scores):
    """A family's row: its runs at the largest size measured, means over seeds."""

    status: Literal["measured"]
    model: str
    size: float = Field(description="Fraction of the training split.")
    n_train: int
    seeds: int
    metric: MetricSummary = Field(description="The deciding metric over seeds.")
    train_seconds: Optional[float] = None
    wall_seconds: Optional[float] = None
    inference_ms_per_item: Optional[float] = None
    model_size_bytes: Optional[float] = None
    device: str = "cpu"
    interpretability: str = ""
    predicted: bool = Field(default=False, description="The advisor's pick.")
    estimated_train_minutes: Optional[float] = None
    partial: list[str] = Field(default_factory=list, description="Why some of its runs were skipped.")


class SkippedFamily(Record):
    status: Literal["skipped"]
    model: Optional[str] = None
    reason: str = ""


FamilyRow = Annotated[Union[MeasuredFamily, SkippedFamily], Field(discriminator="status")]


class CurvePoint(MetricSummary):
    size: float
    n_train: int
    seeds: int
    values: list[Optional[float]] = Field(default_factory=list, description="The metric, one per seed.")
    one_class: bool = Field(default=False, description="A seed's model answered one class for every item.")


class LearningCurves(Record):
    metric: Optional[str] = None
    x: str = "n_train"
    families: dict[Family, list[CurvePoint]] = Field(default_factory=dict)


class Agreement(Record):
    predicted: Optional[Family] = None
    metric: Optional[str] = None
    best: Optional[Family] = None
    delta: Optional[float] = None
    verdict: str = Field(default="", description="agrees | tie | disagrees | unchallenged | not measured")
    text: str = ""


class Crossover(Record):
    status: Literal["inside", "below_range", "extrapolated", "tie", "none"]
    n_train: Optional[float] = None
    holds: Optional[bool] = None
    text: str = ""


class Crossovers(Record):
    by_family: dict[Family, Crossover] = Field(default_factory=dict)
    summary: str = ""


class SkippedRuns(Record):
    family: Family
    model: Optional[str] = None
    reason: str = ""
    runs_skipped: Optional[int] = None
    sizes: Optional[list[float]] = None


class Budget(Record):
    minutes: Optional[float] = None
    used_seconds: Optional[float] = None
    workers: int = 1
    backend: str = "sequential"
    runs: int = 0
    runs_skipped: int = 0


class CompareRun(_Scores):
    """One (family, size, seed) run."""

    family: Family
    model: str
    size: float
    seed: int
    n_train: int
    metric: Optional[float] = None
    train_seconds: Optional[float] = None
    wall_seconds: Optional[float] = None
    inference_ms_per_item: Optional[float] = None
    model_size_bytes: Optional[int] = None
    device: str = "cpu"
    interpretability: str = ""
    pid: Optional[int] = None
    one_class: bool = Field(default=False, description="The model answered one class for every held-out item.")


class CompareResult(Record):
    """compare.json: every family trained at several sizes and seeds, scored on one held-out split."""

    name: str = Field(description="The project's name.")
    task: Task
    modality: Modality
    metric: MetricSpec
    data: CompareData
    sizes: list[float] = Field(default_factory=list, description="Training-split fractions measured.")
    seeds: int = Field(default=1, description="Seeds per size.")
    predicted: Predicted = Field(description="The advisor's pick.")
    families: list[Family] = Field(default_factory=list, description="Families requested, in run order.")
    classical: Optional[FamilyRow] = None
    hybrid: Optional[FamilyRow] = None
    deep: Optional[FamilyRow] = None
    learning_curves: LearningCurves = Field(default_factory=LearningCurves)
    agreement: Agreement = Field(default_factory=Agreement)
    crossover: Crossovers = Field(default_factory=Crossovers)
    skipped: list[SkippedRuns] = Field(default_factory=list)
    budget: Budget = Field(default_factory=Budget)
    runs: list[CompareRun] = Field(default_factory=list)
    finished: Optional[str] = None
    versions: dict[str, Optional[str]] = Field(default_factory=dict)

    def row(self, family: str) -> Optional[FamilyRow]:
        """The row of `family` (classical | hybrid | deep), if requested."""
        return getattr(self, str(family), None) if str(family) in {a.value for a in Approach} else None


# ----------------------------------------------------------------------------- export.json

class ExportCheck(Record):
    """export.json: the last `advisor export` of the run, checked under onnxruntime beside the native model."""

    format: str = Field(default="onnx", description="The export's format.")
    path: str = Field(description="Where the export was written.")
    size_bytes: int = Field(description="The export's size (the .onnx file).")
    native_size_bytes: Optional[int] = Field(default=None, description="model.joblib's size.")
    backbone_size_bytes: Optional[int] = Field(default=None, description="A hybrid's frozen network, which "
                                               "model.joblib leaves out and the export holds.")
    sample: str = Field(description="What the check ran on.")
    rows: int = Field(description="Items in that sample.")
    max_abs_diff: float = Field(description="Largest |native - ONNX| over probabilities (regression: values).")
    labels_equal: Optional[float] = Field(default=None, description="Share of items given the same label.")
    native_ms_per_item: float = Field(description="Native predict_proba / predict, per item, on the sample.")
    onnx_ms_per_item: float = Field(description="onnxruntime, per item, on the same items.")
    onnxruntime: Optional[str] = Field(default=None, description="onnxruntime's version.")
    exported: Optional[str] = Field(default=None, description="When (local time, ISO 8601).")


# ----------------------------------------------------------------------------- a run folder

class RunRecords(BaseModel):
    """What a run folder (or a recommendation) holds, each piece typed; absent pieces are None."""

    descriptor: Optional[ProjectDescriptor] = None
    recommendation: Optional[Recommendation] = None
    metrics: Optional[RunMetrics] = None
    explain: Optional[Explanation] = None
    run: Optional[RunInfo] = None
    compare: Optional[CompareResult] = None
    checks: Optional[DataChecks] = None
    export: Optional[ExportCheck] = None
    source: Optional[str] = Field(default=None, description="The run folder read, if any.")
    problems: list[str] = Field(default_factory=list, description="Files present but unreadable, one line each.")


FILES: dict[str, tuple[str, type[BaseModel]]] = {
    "descriptor": ("descriptor.yaml", ProjectDescriptor),
    "recommendation": ("recommendation.json", Recommendation),
    "metrics": ("metrics.json", RunMetrics),
    "explain": ("explain.json", Explanation),
    "run": ("run.json", RunInfo),
    "compare": ("compare.json", CompareResult),
    "checks": ("data_checks.json", DataChecks),
    "export": ("export.json", ExportCheck),
}


# ----------------------------------------------------------------------------- writing and reading

def dump_record(record: BaseModel, indent: int = 2) -> str:
    """The JSON text of a record, as the run folder holds it: the keys that were set (absent metrics stay
    absent), aliases as written by their source (e.g. scikit-learn's "f1-score")."""
    return record.model_dump_json(indent=indent, by_alias=True, exclude_unset=True)


class RecordError(ValueError):
    """A record file that cannot be used; the message is one line naming the file and the field."""


class Unparsable(RecordError):
    """The file is not JSON at all (truncated, or not text); the message is one line."""


_short = reprlib.Repr()
_short.maxstring, _short.maxother, _short.maxlevel = 40, 40, 1
_short.maxlist = _short.maxtuple = _short.maxdict = _short.maxset = 3

_EXPECTED = {"float": "a number", "int": "a whole number", "string": "text", "bool": "true or false",
             "list": "a list", "dict": "a mapping (JSON object)", "model": "a mapping (JSON object)",
             "tuple": "a list", "model_attributes": "a mapping (JSON object)"}
_KIND = {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list", dict: "a mapping",
         type(None): "null"}


def _show(value: Any) -> str:
    """A short, bounded, single-line rendering of an offending value."""
    if isinstance(value, (list, dict)):
        return _KIND[type(value)]
    try:
        text = _short.repr(value)
    except Exception:  # noqa: BLE001 - huge ints refuse str()
        text = f"<{type(value).__name__}>"
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _where(loc: tuple[Any, ...], data: Any, missing: bool = False) -> str:
    """Dotted field path of `loc`, leaving out the union tags pydantic inserts ('ClassScores', 'float',
    'measured'): the path walks the input alongside, and a part the input does not hold is a tag, except the
    last one of a missing field."""
    parts: list[str] = []
    node = data
    for i, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif not (missing and i == len(loc) - 1) and data is not None:
            continue
        parts.append(f"[{part}]" if isinstance(part, int) else str(part))
    text = "".join(p if p.startswith("[") else f".{p}" for p in parts).lstrip(".")
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)     # keys come from the file
    return text if len(text) <= 80 else text[:40] + "…" + text[-39:]


def explain_error(exc: ValidationError, data: Any = None) -> str:
    """The first error of a validation, in one line: 'field.path: expected X, got Y' (and N more)."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    kind, loc = err["type"], tuple(err.get("loc", ()))
    where = _where(loc, data, missing=kind == "missing")
    given = err.get("input")
    head = f"{where}: " if where else ""
    base = kind.split("_")[0] if kind.endswith(("_type", "_parsing")) else kind
    if kind == "missing":
        text = "missing (required)"
    elif base in _EXPECTED:
        text = f"expected {_EXPECTED[base]}, got {_show(given)}"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        text = f"expected a mapping (JSON object), got {_show(given)}"
    elif kind in ("int_from_float",):
        text = f"expected a whole number, got {_show(given)}"
    elif kind == "enum":
        text = f"got {_show(given)}; allowed: {(err.get('ctx') or {}).get('expected', '')}".replace("'", "")
    elif kind in ("literal_error", "union_tag_invalid"):
        allowed = (err.get("ctx") or {}).get("expected", (err.get("ctx") or {}).get("expected_tags", ""))
        text = f"got {_show(given if kind == 'literal_error' else (err.get('ctx') or {}).get('tag'))}; " \
               f"allowed: {allowed}".replace("'", "")
    elif kind == "union_tag_not_found":
        text = "missing its status (measured or skipped)"
    else:
        text = f"{str(err.get('msg', 'invalid')).splitlines()[0][:120].lower()}, got {_show(given)}"
    others = {_where(tuple(e.get("loc", ())), data, e["type"] == "missing") for e in errors[1:]} - {where}
    more = f" (and {len(others)} more)" if others else ""
    return f"{head}{text}{more}"


def _known_only(model: type[BaseModel], raw: Any) -> Any:
    """`raw` without the keys the (strict) model does not know, recursively: older and newer descriptors load."""
    if not isinstance(raw, dict):
        return raw
    out = {}
    for key, value in raw.items():
        field = model.model_fields.get(key) if isinstance(key, str) else None
        if field is None:
            continue
        kind = field.annotation
        out[key] = _known_only(kind, value) if isinstance(kind, type) and issubclass(kind, BaseModel) else value
    return out


def parse_record(kind: str, text: str, name: Optional[str] = None) -> BaseModel:
    """Validate the text of a record file (`kind`: a key of FILES) into its model.

    Raises :class:`Unparsable` (not JSON / YAML at all) or :class:`RecordError` (JSON of the wrong shape, or
    nested beyond any record); both carry one line starting with the file name."""
    import pydantic_core

    name = name or FILES[kind][0]
    model = FILES[kind][1]
    if kind == "descriptor":
        return _parse_descriptor(text, name)
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        if first["type"] != "json_invalid":
            try:
                data = pydantic_core.from_json(text)
            except ValueError:
                data = None
            raise RecordError(f"{name}: {explain_error(exc, data)}") from None
        why = str((first.get("ctx") or {}).get("error", "not JSON"))[:120]
        if "recursion limit" in why:
            raise RecordError(f"{name}: not a run record: nested too deeply ({why})") from None
        raise Unparsable(f"{name}: unreadable (not JSON: {why})") from None


def _parse_descriptor(text: str, name: str) -> ProjectDescriptor:
    import yaml

    try:
        raw = load_yaml(text)
    except RecursionError:
        raise RecordError(f"{name}: not a run record: nested too deeply") from None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
        raise Unparsable(f"{name}: unreadable (not YAML: {str(problem)[:120]})") from None
    except Exception as exc:  # noqa: BLE001 - safe_load's constructors raise plain errors on values like 2020-13-45
        raise Unparsable(f"{name}: unreadable (a value cannot be read: {type(exc).__name__})") from None
    if not isinstance(raw, dict):
        raise RecordError(f"{name}: expected a mapping, got {_show(raw)}")
    raw = _known_only(ProjectDescriptor, raw)
    try:
        return ProjectDescriptor.model_validate(raw)
    except ValidationError as exc:
        raise RecordError(f"{name}: {explain_error(exc, raw)}") from None


def coerce_record(kind: str, value: Any) -> Optional[BaseModel]:
    """A piece handed over from Python (the model itself, or a mapping) as its record model."""
    name, model = FILES[kind]
    if value is None or isinstance(value, model):
        return value
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True)
    if kind == "descriptor":
        value = _known_only(ProjectDescriptor, value)
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise RecordError(f"{name}: {explain_error(exc, value)}") from None


MAX_RECORD_BYTES = 64 << 20     # explain.json with its base64 images is a few MB; anything this big is not ours


def read_record(folder: Union[str, Path], kind: str) -> Optional[BaseModel]:
    """The record `kind` of a run folder, or None when the file is absent (errors as parse_record).

    A path that is there but not a regular file (a FIFO, a device, a folder) or larger than its limit
    (MAX_RECORD_BYTES; a descriptor's own for descriptor.yaml) is a RecordError, not a hang."""
    from advisor.deciding.schema import MAX_DESCRIPTOR_BYTES
    from zoo.io import UnreadableFile, read_text

    name = FILES[kind][0]
    path = Path(folder) / name
    if not path.exists() and not path.is_symlink():
        return None
    limit = MAX_DESCRIPTOR_BYTES if kind == "descriptor" else MAX_RECORD_BYTES
    try:
        text = read_text(path, max_bytes=limit, what="a run record")
    except UnicodeDecodeError as exc:
        raise Unparsable(f"{name}: unreadable (not UTF-8 text: a byte at offset {exc.start:,})") from None
    except UnreadableFile as exc:
        raise RecordError(f"{name}: {str(exc).split(': ', 1)[-1]}") from None
    return parse_record(kind, text, name)
