"""The data checks before training a tabular model: each column's type, missing share and cardinality on the
training split (zoo.columns), one line per column dropped (ID-like, constant) or turned into calendar features,
and a warning per column that alone predicts the target almost perfectly (a possible leak, kept).

The drops and date features themselves happen inside the model (zoo.columns.ColumnPrep, fitted first by every
tabular zoo model), so `advisor predict` applies them too; this module only measures and says them.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from advisor.records import ColumnCheck, DataChecks
from advisor.showing.columns import METRIC_LABELS, format_checks

SUPERVISED = ("classification", "regression")


def _lines(checks: DataChecks) -> list[str]:
    metric = METRIC_LABELS.get(str(checks.metric), checks.metric)
    lines = []
    for c in checks.columns:
        if c.action == "dropped_id":
            lines.append(f"data: dropped column {c.name!r}: ID-like ({c.distinct:,} distinct values, one per row)")
        elif c.action == "dropped_constant":
            lines.append(f"data: dropped column {c.name!r}: constant (one value in every row)")
        elif c.action == "calendar":
            lines.append(f"data: column {c.name!r} holds dates: parsed into calendar features "
                         f"({', '.join(c.features)})")
    lines += [f"warning: column {c.name!r} alone predicts the target ({metric} {c.leak_score:.3f}, "
              f"{checks.folds}-fold CV on the training split): a possible leak; is it known before the outcome? "
              "(kept)" for c in checks.columns if c.leak and c.leak_score is not None]
    from zoo.columns import MAX_LEAK_COLUMNS

    unscored = [c.name for c in checks.columns if c.leak_score is None and not c.action.startswith("dropped")]
    if checks.folds and unscored:
        lines.append(f"data: {len(unscored):,} column(s) not scored for leaks (e.g. {unscored[0]!r}; the check "
                     f"takes the first {MAX_LEAK_COLUMNS:,} columns)")
    return lines


def check_data(train: Any, task: str, modality: str, *, seed: int = 0,
               echo: Callable[[str], None] = print) -> Optional[DataChecks]:
    """The data checks of a tabular training split (None for other data), said through `echo`: the table, then
    one line per drop, date column and possible leak."""
    import pandas as pd

    if modality != "tabular" or not isinstance(train.X, pd.DataFrame) or len(train.X) == 0:
        return None
    from zoo.columns import LEAK_THRESHOLD, leak_scores, profile_columns

    if task in SUPERVISED and train.y is not None:
        profiles, metric, folds = leak_scores(train.X, train.y, task, seed=seed)
    else:
        profiles, metric, folds = profile_columns(train.X), None, 0
    columns = [ColumnCheck(name=p.name, kind=p.kind, missing_share=p.missing_share, distinct=p.distinct,
                           action=p.action, features=p.features, leak_score=p.leak_score,
                           leak=p.leak_score is not None and p.leak_score >= LEAK_THRESHOLD) for p in profiles]
    checks = DataChecks(rows=len(train.X), columns=columns, metric=metric, folds=folds,
                        leak_threshold=LEAK_THRESHOLD)
    checks.lines = _lines(checks)
    echo(format_checks(checks))
    for line in checks.lines:
        echo(line)
    return checks
