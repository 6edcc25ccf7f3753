"""The data checks (data_checks.json) as rows of strings: shared by the console table of `advisor train` and the
report's "Data checks" section."""

from __future__ import annotations

from advisor.records import ColumnCheck, DataChecks

KIND_LABELS = {"numeric": "numeric", "categorical": "categorical", "date": "date", "text": "text", "id": "ID"}
METRIC_LABELS = {"balanced_accuracy": "balanced accuracy", "r2": "R²"}
MAX_CONSOLE_ROWS = 40       # a wide table prints this many rows, then a count (data_checks.json has them all)
_PARTS = ("day_of_week", "day_of_year", "year", "month", "day")      # zoo.columns.CALENDAR, longest first


def _part(feature: str) -> str:
    """'signup_day_of_week' -> 'day of week'."""
    return next((p.replace("_", " ") for p in _PARTS if feature.endswith("_" + p)), feature)


def action_text(col: ColumnCheck, checks: DataChecks) -> str:
    """What training does with the column, in words."""
    if col.action == "dropped_id":
        return "dropped: ID-like (unique per row)"
    if col.action == "dropped_constant":
        return "dropped: constant (one value)"
    text = "kept"
    if col.action == "calendar":
        text = "calendar features: " + ", ".join(_part(f) for f in col.features)
    if col.leak:
        text += f"; possible leak (alone: {METRIC_LABELS.get(str(checks.metric), checks.metric)} " \
                f"{col.leak_score:.3f})"
    return text


def _share(x: float) -> str:
    """0%, 0.4%, 12%: a small share is not shown as 0%."""
    return f"{x:.1%}" if 0 < x < 0.1 else f"{x:.0%}"


def check_rows(checks: DataChecks) -> list[dict[str, str]]:
    """One row of ready-to-show strings per column: column, type, missing, distinct, action, leak flag."""
    return [{"column": c.name, "type": KIND_LABELS.get(c.kind, c.kind), "missing": _share(c.missing_share),
             "distinct": f"{c.distinct:,}", "action": action_text(c, checks), "leak": "yes" if c.leak else "",
             "dropped": "yes" if c.action.startswith("dropped") else "",
             "alone": f"{c.leak_score:.3f}" if c.leak_score is not None else "—"} for c in checks.columns]


def format_checks(checks: DataChecks) -> str:
    """The column table as plain text, headed by what it was computed on."""
    cols = [("column", "column"), ("type", "type"), ("missing", "missing"), ("distinct", "distinct"),
            ("action", "action")]
    rows = check_rows(checks)
    shown = [{k: (v if len(v) <= 40 or k == "action" else v[:39] + "…") for k, v in r.items()}
             for r in rows[:MAX_CONSOLE_ROWS]]
    widths = [max(len(label), *(len(r[k]) for r in shown)) for k, label in cols]
    lines = [f"data checks on the training split ({checks.rows:,} rows, {len(rows):,} columns):",
             "  " + "  ".join(label.ljust(w) for (_, label), w in zip(cols, widths)).rstrip()]
    lines += ["  " + "  ".join(r[k].ljust(w) for (k, _), w in zip(cols, widths)).rstrip() for r in shown]
    if len(rows) > len(shown):
        lines.append(f"  … and {len(rows) - len(shown):,} more columns (data_checks.json lists them all)")
    return "\n".join(lines)
