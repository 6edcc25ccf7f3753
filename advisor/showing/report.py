"""`advisor report`: a run folder or a recommendation → one self-contained HTML file.

`render_report` turns what a run holds (descriptor, recommendation, metrics, explanations, versions) into a view
model of ready-to-show strings and inline SVG charts (`advisor.showing.charts`); `templates/report.html.j2` only lays
them out (autoescaped; no scripts, no external resources). Imports no torch / scikit-learn, so a
recommend-only report works without the ML extras.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Mapping, Optional, Union

import yaml
from markupsafe import Markup

from advisor.deciding.recommendation import Recommendation
from advisor.deciding.schema import ProjectDescriptor
from advisor.records import (FILES, CompareResult, DataChecks, ExportCheck, Explanation, MeasuredFamily, RecordError, RunInfo,
                             RunMetrics, RunRecords, Unparsable, coerce_record, read_record)
from advisor.showing import charts
from zoo.io import write_text_atomic
from advisor.units import nbytes as _bytes
from advisor.units import seconds as _seconds
from advisor.units import times as _times

PIECES = (
    ("descriptor", "descriptor.yaml", "the project descriptor"),
    ("recommendation", "recommendation.json", "the recommendation, rule trace, counterfactuals, risks and estimates"),
    ("metrics", "metrics.json", "held-out metrics, confusion matrix, training curves and timings"),
    ("explain", "explain.json", "feature importance, rules, saliency maps and misclassified examples"),
    ("run", "run.json", "library versions and the seed"),
)
COMPARE_PIECE = ("compare", "compare.json", "the family comparison and learning curves (`advisor compare`)")
CHECKS_PIECE = ("checks", "data_checks.json", "each column's type, missing share, cardinality, drops and leaks")
EXPORT_PIECE = ("export", "export.json", "the last ONNX export, checked under onnxruntime (`advisor export`)")
_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_WHY = re.compile(r"^(.*?)\s*\[([\w.\-]+)\]$", re.S)


class ReportError(ValueError):
    """The report cannot be read or written; the message is one line."""


# ----------------------------------------------------------------------------- loading

def load_run(folder: Union[str, Path]) -> RunRecords:
    """The typed pieces of a run folder that exist; unreadable ones (not JSON/YAML) are listed in `problems`.

    A piece that is JSON of the wrong shape raises ReportError: one line naming the file and the field."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder}: no such run folder")
    found: dict[str, Any] = {}
    problems: list[str] = []
    for key, name, _ in (*PIECES, COMPARE_PIECE, CHECKS_PIECE, EXPORT_PIECE):
        try:
            found[key] = read_record(folder, key)
        except Unparsable as exc:
            problems.append(str(exc))
        except RecordError as exc:
            raise ReportError(f"{folder / name}: {str(exc).split(': ', 1)[1]}") from None
    if not problems and all(v is None for v in found.values()):
        raise ReportError(f"{folder}: not a run folder (none of {', '.join(n for _, n, _ in PIECES)} found)")
    return RunRecords(**found, source=str(folder), problems=problems)


def as_records(result: Union[str, Path, RunRecords, Mapping[str, Any]]) -> RunRecords:
    """A run folder path, RunRecords, or a mapping of pieces (models or plain dicts) → RunRecords."""
    if isinstance(result, RunRecords):
        return result
    if isinstance(result, (str, Path)):
        return load_run(result)
    pieces = {}
    for key in FILES:
        try:
            pieces[key] = coerce_record(key, result.get(key) or None)
        except RecordError as exc:
            raise ReportError(str(exc)) from None
    return RunRecords(**pieces, source=result.get("_source"), problems=list(result.get("_problems") or []))


# ----------------------------------------------------------------------------- formatting

def _num(x: Any, digits: int = 3) -> str:
    if isinstance(x, bool) or x is None:
        return "—" if x is None else ("yes" if x else "no")
    if isinstance(x, (int, float)):
        return f"{x:,}" if isinstance(x, int) else f"{x:.{digits}f}"
    return str(x)


def _minutes(m: Any) -> str:
    if not isinstance(m, (int, float)):
        return "—"
    return _seconds(m * 60)


def _value(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return ", ".join(_value(x) for x in v) or "—"
    if isinstance(v, float):
        return f"{v:g}"
    return _num(v)


def _flatten(d: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for k, v in d.items():
        if isinstance(v, Mapping):
            rows += _flatten(v, f"{prefix}{k}.")
        else:
            rows.append((f"{prefix}{k}", _value(v)))
    return rows


# ----------------------------------------------------------------------------- sections

def _descriptor(desc: Optional[ProjectDescriptor]) -> Optional[dict[str, Any]]:
    if desc is None:
        return None
    plain = desc.model_dump(mode="json", exclude_none=True)
    groups = [("project", [(k, _value(v)) for k, v in plain.items() if not isinstance(v, Mapping)])]
    groups += [(k, _flatten(v)) for k, v in plain.items() if isinstance(v, Mapping)]
    return {"groups": [(name, rows) for name, rows in groups if rows],
            "yaml": yaml.safe_dump(plain, sort_keys=False, allow_unicode=True)}


def _recommendation(rec: Optional[Recommendation]) -> Optional[dict[str, Any]]:
    if rec is None:
        return None
    excluded = rec.excluded
    rows = [(a, s, "#cbd5e1" if a in excluded else charts.APPROACH_COLORS.get(a, "#64748b"))
            for a, s in rec.scores.items()]
    notes = [("  (not applicable)" if a in excluded else "  ◀ pick" if a == rec.approach else "")
             for a in rec.scores]
    why = []
    for line in rec.why:
        m = _WHY.match(line)
        why.append({"text": m.group(1) if m else line, "rule": m.group(2) if m else ""})
    conf = float(rec.confidence or 0)
    shown = "not measured" if rec.confidence is None else f"{conf:.2f}"
    return {
        "approach": str(rec.approach), "architecture": rec.architecture,
        "model": rec.model, "confidence": shown, "confidence_style": f"width: {conf:.0%}",
        "confidence_basis": rec.confidence_basis,
        "strategy": rec.plan.strategy, "steps": rec.plan.steps,
        "why": why, "measured": rec.measured, "excluded": list(excluded.items()),
        "scores_chart": charts.bar_chart(rows, notes=notes, label="Score per approach (sum of rule points)"),
        "alternatives": [{**a.model_dump(mode="json"), "score": _value(a.score)} for a in rec.alternatives],
        "trace": rec.trace,
        "counterfactuals": [{"text": c.text, "approach": str(c.approach),
                             "changes": [(k, _value(v)) for k, v in c.changes.items()]}
                            for c in rec.counterfactuals],
        "risks": rec.risks,
        "rulebook_version": rec.rulebook_version,
    }


def _costs(rec: Optional[Recommendation], metrics: Optional[RunMetrics],
           compare: Optional[CompareResult] = None) -> Optional[dict[str, Any]]:
    if rec is None:
        return None
    family = metrics.family if metrics else None
    measured_s = metrics.train_seconds if metrics else None
    rows, summary = [], ""
    for e in rec.estimates:
        row = {"approach": str(e.approach), "model": e.model or "—", "device": e.device,
               "minutes": f"~{_minutes(e.train_minutes)}", "memory": f"~{e.memory_gb:g} GB",
               "assumptions": "; ".join(e.assumptions), "measured": "", "trained": False}
        if metrics and e.approach == family and measured_s is not None:
            row.update(measured=_seconds(measured_s), trained=True)
            est = e.train_minutes
            if est > 0:
                ratio = measured_s / 60 / est
                summary = (f"The {family} estimate was ~{_minutes(est)}; training took {_seconds(measured_s)} "
                           f"on {metrics.device} ({_times(ratio)} the estimate"
                           f"{', well within it' if ratio < 0.5 else ', about as estimated' if ratio < 2 else ''}).")
        measured_row = compare.row(e.approach) if compare else None
        if isinstance(measured_row, MeasuredFamily):
            row.update(measured=_seconds(measured_row.train_seconds) + (
                f" on {measured_row.size:.0%} of the data" if measured_row.size < 1 else ""),
                trained=measured_row.predicted)
        rows.append(row)
    return {"rows": rows, "summary": summary, "trained_model": metrics.model if metrics else None}


def _generation_curves(gen: Any) -> dict[str, Any]:
    """A generator's per-epoch curves: the losses on one chart, a GAN's discriminator outputs on another."""
    losses = [(k, v) for k, v in gen.loss_curves.items() if "loss" in k]
    probs = [(k, v) for k, v in gen.loss_curves.items() if "loss" not in k]
    out = [charts.line_chart(losses, label="Loss per epoch")]
    if probs:
        out.append(charts.line_chart(probs, label="Discriminator's mean output per epoch", y_range=(0.0, 1.0)))
    secs = gen.epoch_seconds
    facts = [("epochs run", _num(gen.epochs_run)), ("stopped because", gen.stop_reason or "—"),
             ("seconds per epoch", f"{sum(secs) / len(secs):.1f}" if secs else "—")]
    return {"charts": [c for c in out if c], "facts": facts}


def _curves(metrics: Optional[RunMetrics]) -> dict[str, Any]:
    if metrics is None:
        return {"note": "No training in this report: curves appear after `advisor train`."}
    if metrics.generation is not None and metrics.generation.loss_curves:
        return _generation_curves(metrics.generation)
    hist = metrics.history
    if hist is None or not hist.train_loss:
        return {"note": f"'{metrics.model}' is a {metrics.family} model "
                        "fitted in one pass, so there are no per-epoch curves."}
    best = hist.best_epoch or None
    out: dict[str, Any] = {"charts": [charts.line_chart(
        [("train loss", hist.train_loss), ("validation loss", hist.val_loss)],
        label="Loss per epoch", marker=best, marker_label="best" if best else "")]}
    if any(v is not None for v in hist.val_metric):
        out["charts"].append(charts.line_chart([("validation metric", hist.val_metric)],
                                               label="Validation metric per epoch", marker=best,
                                               marker_label="best" if best else ""))
    out["facts"] = [("epochs run", _num(len(hist.train_loss))), ("best epoch", _num(best)),
                    ("monitored", hist.monitor), ("stopped because", hist.stop_reason),
                    ("throughput", f"{hist.items_per_second:,.0f} items/s"),
                    ("training loop time", _seconds(hist.total_seconds))]
    return out


_CARDS = (("accuracy", "accuracy", 3), ("balanced_accuracy", "balanced accuracy", 3), ("macro_f1", "macro F1", 3),
          ("f1", "F1 (positive)", 3), ("recall", "recall (positive)", 3), ("precision", "precision (positive)", 3),
          ("roc_auc", "ROC AUC", 3), ("pr_auc", "PR AUC", 3),
          ("f1_anomaly", "F1 (anomaly)", 3), ("flagged_share", "flagged share", 3),
          ("mae", "MAE", 3), ("rmse", "RMSE", 3), ("r2", "R²", 3), ("mase", "MASE", 3), ("smape", "sMAPE %", 1))


_LABEL = {k: label for k, label, _ in _CARDS}


def _cards(metrics: RunMetrics) -> list[tuple[str, str]]:
    """(label, value) of the task's metrics present: the headline metric first, the rest in _CARDS order."""
    if metrics.generation is not None:
        m = metrics.generation.model
        return [("Fréchet distance (EfficientNet-Lite0)", _num(m.frechet_distance, 1)),
                ("precision", _num(m.precision)), ("recall", _num(m.recall))]
    head = metrics.headline.metric if metrics.headline else None
    cards = [(label, _num(getattr(metrics, k), d)) for k, label, d in _CARDS
             if isinstance(getattr(metrics, k), (int, float))]
    first = [c for c in cards if c[0] == _LABEL.get(head)]
    return first + [c for c in cards if c not in first]


def _baselines(metrics: RunMetrics) -> Optional[dict[str, Any]]:
    """The model beside its baselines on the same held-out split, by the headline metric (and, for
    classification, accuracy and balanced accuracy); `beaten` False flags the model in red."""
    head, bases = metrics.headline, metrics.baselines or {}
    if not bases:
        return None
    keys = [head.metric] if head and head.metric else []
    keys += [k for k in ("accuracy", "balanced_accuracy", "mae") if k not in keys and
             any(getattr(b, k, None) is not None for b in bases.values())]
    keys = [k for k in keys if getattr(metrics, k, None) is not None]
    rows = [{"name": f"{metrics.model} (this model)", "cells": [_num(getattr(metrics, k)) for k in keys],
             "model": True}]
    season = f" (season {metrics.season})" if metrics.season else ""
    rows += [{"name": name.replace("_", " ") + (season if name == "seasonal_naive" else ""),
              "cells": [_num(getattr(b, k, None)) for k in keys], "model": False} for name, b in bases.items()]
    beaten = head.beats_baseline if head else None
    text = (f"{metrics.model} does not beat the {str(head.baseline).replace('_', ' ')} baseline on "
            f"{_LABEL.get(head.metric, head.metric)} ({_num(head.value)} vs {_num(head.baseline_value)})"
            if head and beaten is False else "")
    return {"columns": [_LABEL.get(k, k) for k in keys], "rows": rows, "beaten": beaten, "text": text}


def _balance_notes(metrics: RunMetrics) -> list[str]:
    """How imbalance was handled: the class weights, the tuned threshold, the metric's source."""
    notes = []
    if metrics.headline:
        why = {"descriptor": "needs.metric", "default, imbalanced": "the default for imbalanced binary labels"}
        notes.append(f"deciding metric: {_LABEL.get(metrics.headline.metric, metrics.headline.metric)} "
                     f"({why.get(metrics.metric_source or '', 'the task default')})")
    if metrics.positive_class is not None:
        notes.append(f"positive class: {metrics.positive_class}")
    if metrics.balance and metrics.balance.note:
        notes.append(metrics.balance.note)
    t = metrics.threshold
    if t and t.value is not None:
        notes.append(f"decision threshold {t.value:.3f} on the positive class's probability, tuned for {t.metric} "
                     f"on {t.folds} training folds ({_num(t.score)} there vs {_num(t.default_score)} at 0.5)")
    elif t and t.skipped:
        notes.append(f"decision threshold not tuned: {t.skipped}")
    return notes


def _check_line(flagged: bool, what: str, text: str) -> dict[str, Any]:
    return {"flagged": flagged, "text": f"{what}: {'FLAGGED' if flagged else 'not flagged'} — {text}"}


def _generation(metrics: RunMetrics) -> Optional[dict[str, Any]]:
    """A generation run: the generator beside its baselines, the checks, and its sample grid."""
    gen = metrics.generation
    if gen is None:
        return None
    rows = [{"name": f"{metrics.model} (this model)", "model": True, "s": gen.model}]
    rows += [{"name": name, "model": False, "s": b} for name, b in gen.baselines.items()]
    table = [{"name": r["name"], "model": r["model"],
              "cells": [_num(r["s"].frechet_distance, 1), _num(r["s"].precision), _num(r["s"].recall),
                        _num(r["s"].diversity_ratio, 2), _num(r["s"].classes_covered)]} for r in rows]
    mem, mc = gen.model.memorisation, gen.model.mode_collapse
    checks = [
        _check_line(bool(mc.get("flagged")), "mode collapse",
                    f"sample diversity {_num(mc.get('diversity_ratio'), 2)} of the real images'"
                    + (f", {mc['classes_covered']} of {mc['n_classes']} classes found among the samples by a "
                       "classifier trained on the training features" if mc.get("classes_covered") is not None else "")),
        _check_line(bool(mem.get("flagged")), "memorisation",
                    f"{_num(mem.get('share_too_close'))} of the samples are nearer a training image than "
                    f"{1 - (mem.get('expected_share') or 0):.0%} of held-out real images are (expected "
                    f"{_num(mem.get('expected_share'), 2)} for a generator that does not copy); "
                    f"{gen.model.exact_copies} exact copies of training images")]
    png = gen.sample_grid_png
    grid = Markup("data:image/png;base64,") + png if isinstance(png, str) and _B64.fullmatch(png) else None
    return {"rows": table, "checks": checks, "grid": grid, "space": gen.feature_space,
            "counts": f"{gen.n_samples:,} generated images vs {gen.n_real:,} held-out real images",
            "beaten": metrics.headline.beats_baseline if metrics.headline else None}


def _metrics(metrics: Optional[RunMetrics], explain: Explanation) -> Optional[dict[str, Any]]:
    if metrics is None:
        return None
    cards = _cards(metrics)
    cards.append(("held-out items", _num(metrics.n_test)))
    out: dict[str, Any] = {"cards": cards, "task": str(metrics.task), "per_class": [], "averages": [],
                           "baselines": _baselines(metrics), "notes": _balance_notes(metrics),
                           "warning": metrics.balance.warning if metrics.balance else None,
                           "generation": _generation(metrics)}
    labels = metrics.labels or []
    per = metrics.per_class or {}
    keys = [(str(x), "per_class") for x in labels] + [(k, "averages") for k in ("macro avg", "weighted avg")]
    for key, target in keys:
        row = per.get(key)
        if row is not None and not isinstance(row, (int, float)):
            out[target].append({"label": key, "precision": _num(row.precision), "recall": _num(row.recall),
                                "f1": _num(row.f1_score),
                                "support": "—" if row.support is None else f"{row.support:,.0f}"})
    if metrics.confusion_matrix and labels and all(len(r) == len(labels) for r in metrics.confusion_matrix):
        out["confusion"] = charts.heatmap(metrics.confusion_matrix, labels,
                                          label="Confusion matrix (rows: true class, columns: predicted)")
    roc = metrics.roc_curve
    if roc is not None and roc.fpr:
        out["roc"] = charts.roc_chart(roc.fpr, roc.tpr, label="ROC curve on the held-out split")
        out["roc_note"] = (f"positive class: {'?' if roc.positive is None else roc.positive}; AUC "
                           f"{_num(metrics.roc_auc)}")
    elif metrics.roc_curves:
        out["roc"] = charts.unit_curves_chart(
            [(f"{name} (AUC {_num(c.auc)})", c.fpr, c.tpr) for name, c in metrics.roc_curves.items()],
            label="One-vs-rest ROC curves on the held-out split", x_label="false positive rate",
            y_label="true positive rate", diagonal=True)
        out["roc_note"] = f"one curve per class against the rest; macro AUC {_num(metrics.roc_auc)}"
    pr = metrics.pr_curve
    if pr is not None and pr.recall:
        out["pr"] = charts.unit_curves_chart(
            [(f"{pr.positive}", pr.recall, pr.precision)], label="Precision-recall curve on the held-out split",
            x_label="recall", y_label="precision", level=pr.prevalence, level_label="guessing: the prevalence")
        out["pr_note"] = (f"positive class: {pr.positive}; average precision {_num(metrics.pr_auc)}; the dashed "
                          f"line is guessing (prevalence {_num(pr.prevalence)})")
    fc = explain.usable("forecast")
    if fc:
        xs = [i * fc.step + 1 for i in range(len(fc.actual))]
        out["forecast"] = charts.line_chart([("actual", fc.actual), ("forecast", fc.predicted)],
                                            xs=xs, x_label="step after the training data", width=1000,
                                            label="Forecast vs actual on the held-out period", height=300)
    if metrics.unseen_test_labels:
        out["unseen"] = ", ".join(map(str, metrics.unseen_test_labels))
    return out


def _importance_chart(piece: Any, label: str, signed: bool = False) -> Markup:
    feats = piece.features
    if signed:
        rows = [(f.name, f.value, "#2563eb" if f.value >= 0 else "#ea580c") for f in feats]
    else:
        rows = [(f.name, f.value, "#0f766e") for f in feats]
    errors = [f.std or 0 for f in feats] if any(f.std is not None for f in feats) else None
    return charts.bar_chart(rows, errors=errors, label=label)


_TITLES = {"importance": "Permutation importance (held-out)", "shap": "SHAP summary (held-out rows)",
           "coefficients": "Linear coefficients",
           "model_importance": "Model's own feature importance", "head_importance": "Hybrid head: importance "
           "over learned features", "rules": "Decision rules", "top_terms": "Top terms per class",
           "saliency": "Where the model looks", "misclassified": "Misclassified examples",
           "largest_errors": "Largest errors", "forecast": "Forecast"}


def _interpretability(explain: Explanation, present: bool) -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    titles = _TITLES
    errors = [(titles.get(k, k), p.error) for k, p in explain.pieces().items() if p.error is not None]
    if explain.error:
        errors.append(("explanations", explain.error))
    p = explain.usable("importance")
    if p and p.features:
        panels.append({"title": titles["importance"], "note": p.note,
                       "chart": _importance_chart(p, "Permutation importance, mean ± std")})
    elif p and p.skipped:
        panels.append({"title": titles["importance"], "note": p.skipped})
    p = explain.usable("shap")
    if p and p.features:
        skipped = f" {p.skipped:,} row(s) past the time limit were left out." if p.skipped else ""
        panels.append({"title": titles["shap"], "note": p.note + skipped,
                       "chart": charts.beeswarm([(f.name, f.points) for f in p.features],
                                                label=f"SHAP values ({p.output})")})
    p = explain.usable("coefficients")
    if p:
        panels.append({"title": titles["coefficients"], "note": p.note,
                       "chart": _importance_chart(p, "Coefficients", signed=p.signed)})
    p = explain.usable("model_importance")
    if p:
        panels.append({"title": titles["model_importance"], "note": p.note,
                       "chart": _importance_chart(p, "Impurity importance")})
        if p.groups:
            rows = [(g.name, g.value, "#7c3aed") for g in p.groups]
            panels.append({"title": "Importance by feature group", "note": "Sum of the importances of each "
                           "hand-crafted feature family.", "chart": charts.bar_chart(rows, label="By group")})
    p = explain.usable("head_importance")
    if p:
        panels.append({"title": titles["head_importance"], "note": p.note,
                       "chart": _importance_chart(p, "Head importance")})
    p = explain.usable("rules")
    if p and p.text:
        panels.append({"title": titles["rules"], "pre": p.text,
                       "note": "The fitted tree, read top-down" + (" (first 200 lines)" if p.truncated else "")})
    p = explain.usable("top_terms")
    if p and p.classes:
        panels.append({"title": titles["top_terms"], "note": "Largest TF-IDF weights pushing towards each class.",
                       "terms": [{"label": c.label, "terms": [(t, f"{w:+.2f}") for t, w in c.terms]}
                                 for c in p.classes]})
    p = explain.usable("saliency")
    if p and p.items:
        panels.append({"title": titles["saliency"] + f" ({p.method})", "note": p.note,
                       "images": _images(p.items)})
    note = ""
    if not present:
        note = "No explanations in this report (explain.json is written by `advisor train`)."
    elif not panels and not errors:
        note = "No feature-level explanation is available for this model" + (
            "; see the misclassified examples below." if explain.misclassified is not None else ".")
    return {"panels": panels, "errors": errors, "note": note, "seconds": explain.seconds}


def _confidence(conf: Optional[float], absent: str = "") -> str:
    return f"{conf:.0%}" if isinstance(conf, (int, float)) else absent


def _images(items: list[Any]) -> list[dict[str, Any]]:
    out = []
    for it in items:
        png = it.png
        if not isinstance(png, str) or not _B64.fullmatch(png):
            continue
        out.append({"src": Markup("data:image/png;base64,") + png, "true": str(it.true),
                    "pred": str(it.pred), "ok": str(it.true) == str(it.pred),
                    "confidence": _confidence(it.confidence)})
    return out


def _gallery(explain: Explanation) -> Optional[dict[str, Any]]:
    p = explain.usable("misclassified")
    if p:
        shown = len(p.items)
        out: dict[str, Any] = {"summary": f"{p.total:,} of {p.n_items:,} held-out items "
                                          f"misclassified" + (f"; the {shown} shown are ordered "
                                                              f"{p.order}" if shown else "."),
                               "kind": p.kind, "columns": p.columns}
        if p.kind in ("image", "video"):                # a video's item is a strip of its sampled frames
            out["images"] = _images(p.items)
        elif p.kind == "text":
            out["texts"] = [{"text": it.text or "", "true": str(it.true), "pred": str(it.pred),
                             "confidence": _confidence(it.confidence)} for it in p.items]
        else:
            out["rows"] = [{"true": str(it.true), "pred": str(it.pred), "confidence": _confidence(it.confidence, "—"),
                            "values": [_value((it.values or {}).get(c)) for c in out["columns"]]}
                           for it in p.items]
        return out
    p = explain.usable("largest_errors")
    if p:
        return {"summary": "Held-out items with the largest absolute errors.", "kind": "regression",
                "errors": [{k: _num(v) for k, v in it.model_dump().items()} for it in p.items]}
    return None


def _splits(data: Any) -> str:
    """'3 (one per seed: repeated stratified hold-out)' or 'one (seed 0)'."""
    seeds = data.split_seeds or ([data.split_seed] if data.split_seed is not None else [])
    return f"{len(seeds)} (one per seed: repeated hold-out)" if len(seeds) > 1 else f"one (seed {_num(seeds[0] if seeds else 0)})"


def _seeds_run(cmp: CompareResult) -> str:
    """Seeds asked for, and how many ran at the largest size of each measured family."""
    ran = {str(f): len(points[-1].values) for f, points in cmp.learning_curves.families.items() if points}
    if not ran or all(n == cmp.seeds for n in ran.values()):
        return _num(cmp.seeds)
    return f"{_num(cmp.seeds)} asked; ran at the largest size: " + ", ".join(f"{f} {n}" for f, n in ran.items())


def _model_size(m: RunMetrics) -> str:
    """model.joblib's size; for a hybrid also the frozen backbone it loads beside it, and the sum."""
    if m.backbone is None:
        return _bytes(m.model_size_bytes)
    if m.backbone_size_bytes is None:
        return f"{_bytes(m.model_size_bytes)} + the {m.backbone} backbone (loaded from its package)"
    total = (m.model_size_bytes or 0) + m.backbone_size_bytes
    return (f"{_bytes(total)} in all: {_bytes(m.model_size_bytes)} model.joblib + {_bytes(m.backbone_size_bytes)} "
            f"{m.backbone} backbone (frozen, loaded from its package)")


def _environment(metrics: Optional[RunMetrics], run: Optional[RunInfo], rec: Optional[Recommendation],
                 explain: Optional[Explanation]) -> dict[str, Any]:
    m = metrics
    hist = m.history if m else None
    seed = run.seed if run and run.seed is not None else m.seed if m else None
    facts = [(k, v) for k, v in [
        ("device", m.device if m else None), ("device choice", hist.device_reason if hist else None),
        ("seed", _num(seed) if seed is not None else None),
        ("finished", run.finished if run else None),
        ("train items / held-out items", f"{_num(m.n_train)} / {_num(m.n_test)}" if m else None),
        ("refit on all data", f"the saved model was refit on all {_num(m.n_refit)} items after scoring; the "
         f"held-out scores are those of the model fit on the {_num(m.n_train)} training items"
         if m and m.refit_full else None),
        ("training time", _seconds(m.train_seconds) if m else None),
        ("inference", f"{m.inference_ms_per_item:.3f} ms per item"
         if m and m.inference_ms_per_item is not None else None),
        ("model size", _model_size(m) if m else None),
        ("explanations computed in", _seconds(explain.seconds) if explain else None),
        ("inputs skipped (unreadable)", _num(m.skipped_inputs) if m and m.skipped_inputs else None),
        ("rulebook version", rec.rulebook_version if rec else None),
    ] if v not in (None, "", "—")]
    versions = sorted((run.versions if run else {}).items())
    return {"facts": facts, "versions": versions}


# ----------------------------------------------------------------------------- comparison (`advisor compare`)

def _comparison(cmp: Optional[CompareResult]) -> Optional[dict[str, Any]]:
    """compare.json → the table rows, agreement, learning-curve chart, crossover and skipped runs, as strings."""
    if cmp is None:
        return None
    from advisor.showing.tables import LABELS, table_rows

    metric = cmp.metric
    series, points = [], []
    for fam, pts in cmp.learning_curves.families.items():
        ok = [p for p in pts if p.mean is not None]
        series.append((str(fam), charts.APPROACH_COLORS.get(fam, "#64748b"), [p.n_train for p in ok],
                       [p.mean for p in ok], [p.min for p in ok], [p.max for p in ok]))
        points += [{"family": str(fam), "n_train": _num(p.n_train), "size": f"{p.size:.0%}", "seeds": p.seeds,
                    "mean": _num(p.mean), "spread": f"{_num(p.min)} – {_num(p.max)}",
                    "std": _num(p.std)} for p in pts]
    cross = cmp.crossover.by_family
    markers = [(c.n_train, f"{fam} overtakes") for fam, c in cross.items()
               if c.status == "inside" and c.n_train is not None]
    b, data = cmp.budget, cmp.data
    return {
        "rows": table_rows(cmp.model_dump(mode="json", by_alias=True)),
        "metric_keys": [(k, LABELS.get(k, k)) for k in metric.shown],
        "metric_label": metric.label, "verdict": cmp.agreement.verdict,
        "agreement": cmp.agreement.text, "predicted": str(cmp.predicted.family),
        "chart": charts.curve_chart(series, label=f"Learning curves: held-out {metric.label} vs "
                                    "training-set size (mean over seeds; band = min to max)",
                                    x_label="training items (log scale)", y_label=metric.label,
                                    markers=markers, width=880, height=320),
        "points": points, "crossover": cmp.crossover.summary,
        "crossovers": [c.text for c in cross.values()],
        "skipped": [(str(s.family), s.reason) for s in cmp.skipped],
        "facts": [("held-out test items", _num(data.test)), ("training split", _num(data.train)),
                  ("held-out splits", _splits(data)), ("seeds per size", _seeds_run(cmp)),
                  ("sizes", ", ".join(f"{x:.0%}" for x in cmp.sizes)),
                  ("runs", f"{_num(b.runs)} measured, {_num(b.runs_skipped)} skipped"),
                  ("wall time", _seconds(b.used_seconds)),
                  ("time budget", _minutes(b.minutes) if b.minutes else "none")],
        "direction": "higher is better" if metric.higher_is_better else "lower is better",
    }


# ----------------------------------------------------------------------------- entry points

def _model_card(name: Optional[str], note: str) -> Optional[dict[str, str]]:
    """What the zoo's catalogue says about the model (the report describes models from the catalogue only)."""
    from zoo import catalogue

    if not name:
        return {"name": "—", "text": note} if note else None
    record = catalogue.entry(name)
    if record is None:
        return {"name": name, "text": "not in this version's catalogue"}
    cfg = record.pretrained_cfg or {}
    weights = (f"; pretrained weights: {cfg.get('hub_id') or record.pretrained} from the "
               f"{cfg.get('package')} package ({cfg.get('licence')})" if cfg.get("package") else "")
    return {"name": record.name, "text": f"{record.family} · {record.architecture} · {'/'.join(record.modalities)}: "
                                         f"{', '.join(record.tasks)} — {record.description.rstrip('.')}{weights}."}


def _score_of(rows: list[Any], name: Optional[str], params: Optional[dict[str, Any]] = None) -> Optional[Any]:
    """The scored row of model `name` with `params` (none: its defaults); a leaderboard row outranks the probe's."""
    return next((r for r in reversed(rows) if r.model == name and r.mean is not None
                 and r.params == (params or {})), None)


def _verdict(sel: Any, chosen: Optional[Any]) -> str:
    """One sentence: what the rules said and what the measurement on the training split found."""
    how = f"{sel.metric}, training split only"
    same = _score_of(sel.leaderboard, sel.rules_model)             # the rules' pick among the same folds
    if sel.model == sel.rules_model:
        shown = f"{chosen.mean:.3f}" if chosen is not None else "—"
        return f"The rules' pick {sel.model} also measured best ({shown}; {sel.folds}; {how})."
    if same is not None and chosen is not None:
        return (f"The rules said {sel.rules_model}; on your data {sel.model} scored {chosen.mean - same.mean:+.3f} "
                f"higher ({chosen.mean:.3f} vs {same.mean:.3f}; {sel.folds}; {how}).")
    probed = {r.family: r for r in sel.probe if r.mean is not None}
    rules_row = _score_of(sel.probe, sel.rules_model)
    won = probed.get(sel.family)
    if rules_row is not None and won is not None:
        return (f"The rules said {sel.rules_model} ({rules_row.family}); the probe measured {won.family} "
                f"{won.mean - rules_row.mean:+.3f} higher ({won.mean:.3f} vs {rules_row.mean:.3f} on a subsample; "
                f"{how}), and {sel.model} was chosen inside {won.family}.")
    return f"The rules said {sel.rules_model}; the measurement chose {sel.model} ({how})."


def _selection(metrics: Optional[RunMetrics]) -> Optional[dict[str, Any]]:
    """The measured choice: the verdict against the rules' pick, the probe and the leaderboard."""
    sel = metrics.selection if metrics else None
    if sel is None:
        return None
    everything = list(sel.probe) + list(sel.leaderboard)
    chosen = _score_of(sel.leaderboard, sel.model, sel.params) or _score_of(sel.probe, sel.model)
    verdict = _verdict(sel, chosen)
    rows = [{"model": r.model, "family": str(r.family), "stage": r.stage,
             "params": ", ".join(f"{k}={_value(v)}" for k, v in r.params.items()) or "defaults",
             "score": "—" if r.mean is None else f"{r.mean:.3f} ± {r.std or 0:.3f}", "folds": r.folds,
             "seconds": _seconds(r.seconds), "note": r.error or r.stopped or "",
             "chosen": r is chosen} for r in everything]
    base = sel.baseline
    facts = [("measured in", _seconds(sel.seconds)), ("probe across families", _seconds(sel.probe_seconds))]
    if base is not None and base.mean is not None:
        facts.append((f"baseline ({base.name})", f"{base.mean:.3f} ± {base.std or 0:.3f}"))
    if sel.params:
        facts.append(("settings adopted", ", ".join(f"{k}={_value(v)}" for k, v in sel.params.items())))
    if sel.readability_price is not None:
        facts.append(("price of readability", f"{sel.readability_price:.3f} below the best model overall"))
    return {"verdict": verdict, "rows": rows, "facts": facts}


def _export(check: Optional[ExportCheck]) -> Optional[list[tuple[str, str]]]:
    """The last ONNX export beside the native model (export.json), as key-value rows."""
    if check is None:
        return None
    native = _bytes(check.native_size_bytes) if check.native_size_bytes else "—"
    if check.backbone_size_bytes:
        native += f" + {_bytes(check.backbone_size_bytes)} backbone loaded from its package"
    agree = f"; labels equal on {check.labels_equal:.1%}" if check.labels_equal is not None else ""
    return [("file", f"{check.path} ({check.format}, {_bytes(check.size_bytes)}, self-contained)"),
            ("native model", native),
            ("per item", f"onnxruntime {check.onnx_ms_per_item:.3f} ms, native {check.native_ms_per_item:.3f} ms"
                         + (f" (native ÷ onnxruntime: {_times(check.native_ms_per_item / check.onnx_ms_per_item)})"
                            if check.onnx_ms_per_item else "")),
            ("agreement", f"max |difference| {check.max_abs_diff:.1e}{agree}"),
            ("checked on", check.sample),
            ("when", f"{check.exported or '—'}, onnxruntime {check.onnxruntime or '—'}")]


def _checks(checks: Optional[DataChecks]) -> Optional[dict[str, Any]]:
    """The data checks of a tabular run (data_checks.json) as table rows and a summary."""
    if checks is None:
        return None
    from advisor.showing.columns import METRIC_LABELS, check_rows

    rows = check_rows(checks)
    dropped = sum(1 for r in rows if r["dropped"])
    dates = sum(1 for c in checks.columns if c.action == "calendar")
    metric = METRIC_LABELS.get(str(checks.metric), checks.metric)
    summary = (f"{len(rows):,} columns on the {checks.rows:,} rows of the training split: {dropped:,} dropped, "
               f"{dates:,} date column(s) as calendar features.")
    if checks.folds:
        summary += f" 'alone': each kept column's {checks.folds}-fold CV {metric} on its own."
    return {"rows": rows, "summary": summary, "lines": checks.lines,
            "leaks": [c.name for c in checks.columns if c.leak],
            "leak_rule": f"{metric} ≥ {checks.leak_threshold:g} on its own, {checks.folds}-fold CV"}


def build_context(result: Union[str, Path, RunRecords, Mapping[str, Any]]) -> dict[str, Any]:
    """The report's view model: strings and SVG only (the template does no arithmetic).

    `result`: a run folder, the RunRecords of one, or a mapping with any of descriptor / recommendation /
    metrics / explain / run / compare (record models or plain dicts)."""
    data = as_records(result)
    desc, rec, metrics, run, cmp = data.descriptor, data.recommendation, data.metrics, data.run, data.compare
    explain = data.explain or Explanation()
    comparison = _comparison(cmp)                      # `advisor compare` result
    if cmp is not None and run is None:
        run = RunInfo(versions=cmp.versions, finished=cmp.finished)
    is_run = (metrics is not None or data.source is not None) and not comparison
    unexplained = metrics is not None and metrics.task == "generation"     # a generator has no explain.json
    missing = [f"{name} — {what}" for key, name, what in PIECES if getattr(data, key) is None
               and not (key == "explain" and unexplained)] if is_run else []
    name = (rec.name if rec else None) or (desc.name if desc else None) or Path(str(data.source or "run")).name
    headline: list[tuple[str, str]] = []
    if rec:
        headline += [("approach", str(rec.approach)), ("model", rec.model or "none in the zoo yet"),
                     ("confidence", "not measured" if rec.confidence is None else f"{rec.confidence:.2f}")]
    if metrics:
        if metrics.model != (rec.model if rec else None):
            headline.append(("trained model", metrics.model))
        headline += _cards(metrics)[:1]
        head = metrics.headline
        if head and head.baseline and head.baseline_value is not None:
            headline.append((f"{head.baseline.replace('_', ' ')} baseline", _num(head.baseline_value)))
        headline.append(("training time", _seconds(metrics.train_seconds)))
    if comparison and cmp is not None:
        headline += [("measured best", str(cmp.agreement.best or "—")), ("measurement", comparison["verdict"] or "—")]
    try:
        from importlib.metadata import version

        advisor_version = version("ml-advisor")
    except Exception:  # noqa: BLE001 - not installed (running from a checkout)
        advisor_version = ""
    task = (metrics.task if metrics else None) or (rec.task if rec else None) or (desc.task if desc else None)
    return {
        "title": name, "kind": "compare" if comparison else "run" if is_run else "recommendation",
        "advisor_version": advisor_version, "comparison": comparison,
        "generated": time.strftime("%Y-%m-%d %H:%M"), "source": data.source or "",
        "missing": missing, "problems": data.problems, "headline": headline,
        "approach": str(rec.approach) if rec else "",
        "model_card": _model_card((metrics.model if metrics else None) or (rec.model if rec else None),
                                  rec.model_note if rec else ""),
        "descriptor": _descriptor(desc), "rec": _recommendation(rec),
        "costs": _costs(rec, metrics, cmp),
        "checks": _checks(data.checks),
        "export": _export(data.export),
        "curves": _curves(metrics), "metrics": _metrics(metrics, explain), "selection": _selection(metrics),
        "interp": ({"note": "A generator explains no predictions: judge it by its samples, the memorisation and "
                            "mode-collapse checks above.", "panels": [], "errors": []} if unexplained else
                   _interpretability(explain, data.explain is not None) if is_run else None),
        "gallery": _gallery(explain), "env": _environment(metrics, run, rec, data.explain),
        "gallery_title": {"classification": "Misclassified examples", "regression": "Largest errors"}.get(
            str(task) if task else "", ""),
    }


def _environment_jinja() -> Any:
    from importlib import resources

    from jinja2 import Environment, FileSystemLoader

    folder = Path(str(resources.files("templates")))
    return Environment(loader=FileSystemLoader(str(folder)), autoescape=True, trim_blocks=True, lstrip_blocks=True)


def render_report(result: Union[str, Path, RunRecords, Mapping[str, Any]]) -> str:
    """A run folder path, its RunRecords, or a dict with any of descriptor / recommendation / metrics / explain /
    run / compare (models or plain dicts) → HTML."""
    return _environment_jinja().get_template("report.html.j2").render(**build_context(result))


def write_report(html: str, path: Union[str, Path]) -> Path:
    """Write the report atomically; a missing folder or an unwritable place → ReportError (one line).

    Only an .html (.htm) name is written, so a report never replaces a descriptor, a data file or a run's model."""
    path = Path(path)
    if path.is_dir():
        raise ReportError(f"{path}: is a folder; give a file name such as {path / 'report.html'}")
    if path.suffix.lower() not in (".html", ".htm"):
        raise ReportError(f"{path}: a report is written only to an .html file (it would replace what is there "
                          f"otherwise); give a name such as {path.with_suffix('.html').name}")
    if not path.parent.is_dir():
        raise ReportError(f"{path}: folder {path.parent} does not exist")
    try:
        write_text_atomic(path, html)
    except OSError as exc:
        raise ReportError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path
