"""`advisor report`: a run folder or a recommendation → one self-contained HTML file.

`render_report` turns what a run holds (descriptor, recommendation, metrics, explanations, versions) into a view
model of ready-to-show strings and inline SVG charts (`advisor.showing.charts`); `templates/report.html.j2` only lays
them out (autoescaped; no scripts, no external resources). Imports no torch / scikit-learn, so a
recommend-only report works without the ML extras.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, Mapping, Optional, Union

import yaml
from markupsafe import Markup

from advisor.showing import charts
from zoo.io import write_text_atomic
from advisor.units import nbytes as _bytes
from advisor.units import seconds as _seconds

PIECES = (
    ("descriptor", "descriptor.yaml", "the project descriptor"),
    ("recommendation", "recommendation.json", "the recommendation, rule trace, counterfactuals, risks and estimates"),
    ("metrics", "metrics.json", "held-out metrics, confusion matrix, training curves and timings"),
    ("explain", "explain.json", "feature importance, rules, saliency maps and misclassified examples"),
    ("run", "run.json", "library versions and the seed"),
)
COMPARE_PIECE = ("compare", "compare.json", "the family comparison and learning curves (`advisor compare`)")
_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_WHY = re.compile(r"^(.*?)\s*\[([\w.\-]+)\]$", re.S)


class ReportError(ValueError):
    """The report cannot be read or written; the message is one line."""


# ----------------------------------------------------------------------------- loading

def load_run(folder: Union[str, Path]) -> dict[str, Any]:
    """The pieces of a run folder that exist (unreadable ones are listed under "_problems")."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder}: no such run folder")
    result: dict[str, Any] = {"_source": str(folder), "_problems": []}
    for key, name, _ in (*PIECES, COMPARE_PIECE):
        path = folder / name
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
            result[key] = yaml.safe_load(text) if name.endswith(".yaml") else json.loads(text)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            result["_problems"].append(f"{name}: unreadable ({str(exc).splitlines()[0][:120]})")
    if not any(k in result for k, _, _ in (*PIECES, COMPARE_PIECE)):
        raise ReportError(f"{folder}: not a run folder (none of {', '.join(n for _, n, _ in PIECES)} found)")
    return result


def _plain(value: Any) -> Any:
    """Pydantic models / dataclass-like objects → plain dicts."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=True)
    return value


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


def _piece(d: Any) -> Optional[dict[str, Any]]:
    """An explain piece if usable (a dict without "error"), else None."""
    return d if isinstance(d, dict) and "error" not in d else None


# ----------------------------------------------------------------------------- sections

def _descriptor(desc: Optional[Mapping[str, Any]]) -> Optional[dict[str, Any]]:
    if not desc:
        return None
    groups = [("project", [(k, _value(v)) for k, v in desc.items() if not isinstance(v, Mapping)])]
    groups += [(k, _flatten(v)) for k, v in desc.items() if isinstance(v, Mapping)]
    return {"groups": [(name, rows) for name, rows in groups if rows],
            "yaml": yaml.safe_dump(dict(desc), sort_keys=False, allow_unicode=True)}


def _recommendation(rec: Optional[Mapping[str, Any]]) -> Optional[dict[str, Any]]:
    if not rec:
        return None
    excluded = rec.get("excluded") or {}
    scores = rec.get("scores") or {}
    rows = [(a, s, "#cbd5e1" if a in excluded else charts.APPROACH_COLORS.get(a, "#64748b")) for a, s in scores.items()]
    notes = [("  (not applicable)" if a in excluded else "  ◀ pick" if a == rec.get("approach") else "")
             for a in scores]
    why = []
    for line in rec.get("why") or []:
        m = _WHY.match(line)
        why.append({"text": m.group(1) if m else line, "rule": m.group(2) if m else ""})
    conf = float(rec.get("confidence") or 0)
    plan = rec.get("plan") or {}
    return {
        "approach": rec.get("approach", "—"), "architecture": rec.get("architecture", "—"),
        "model": rec.get("model", "—"), "confidence": f"{conf:.2f}", "confidence_style": f"width: {conf:.0%}",
        "strategy": plan.get("strategy", "—"), "steps": plan.get("steps") or [],
        "why": why, "measured": rec.get("measured") or [], "excluded": list(excluded.items()),
        "scores_chart": charts.bar_chart(rows, notes=notes, label="Score per approach (sum of rule points)"),
        "alternatives": [{**a, "score": _value(a.get("score"))} for a in rec.get("alternatives") or []],
        "trace": rec.get("trace") or [],
        "counterfactuals": [{"text": c.get("text", ""), "approach": c.get("approach", ""),
                             "changes": [(k, _value(v)) for k, v in (c.get("changes") or {}).items()]}
                            for c in rec.get("counterfactuals") or []],
        "risks": rec.get("risks") or [],
        "rulebook_version": rec.get("rulebook_version", "—"),
    }


def _costs(rec: Optional[Mapping[str, Any]], metrics: Optional[Mapping[str, Any]],
           compare: Optional[Mapping[str, Any]] = None) -> Optional[dict[str, Any]]:
    if not rec:
        return None
    family = (metrics or {}).get("family")
    measured_s = (metrics or {}).get("train_seconds")
    rows, summary = [], ""
    for e in rec.get("estimates") or []:
        row = {"approach": e.get("approach"), "model": e.get("model") or "—", "device": e.get("device", "—"),
               "minutes": f"~{_minutes(e.get('train_minutes'))}", "memory": f"~{e.get('memory_gb', 0):g} GB",
               "assumptions": "; ".join(e.get("assumptions") or []), "measured": "", "trained": False}
        if family and e.get("approach") == family and isinstance(measured_s, (int, float)):
            row.update(measured=_seconds(measured_s), trained=True)
            est = e.get("train_minutes")
            if isinstance(est, (int, float)) and est > 0:
                ratio = measured_s / 60 / est
                summary = (f"The {family} estimate was ~{_minutes(est)}; training took {_seconds(measured_s)} "
                           f"on {metrics.get('device', '?')} ({ratio:.2g}× the estimate"
                           f"{', well within it' if ratio < 0.5 else ', about as estimated' if ratio < 2 else ''}).")
        measured_row = (compare or {}).get(e.get("approach"))
        if isinstance(measured_row, Mapping) and measured_row.get("status") == "measured":
            row.update(measured=_seconds(measured_row.get("train_seconds")) + (
                f" on {measured_row.get('size', 1):.0%} of the data" if measured_row.get("size", 1) < 1 else ""),
                trained=bool(measured_row.get("predicted")))
        rows.append(row)
    return {"rows": rows, "summary": summary, "trained_model": (metrics or {}).get("model")}


def _curves(metrics: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    if not metrics:
        return {"note": "No training in this report: curves appear after `advisor train`."}
    hist = metrics.get("history")
    if not isinstance(hist, Mapping) or not hist.get("train_loss"):
        return {"note": f"'{metrics.get('model', 'the model')}' is a {metrics.get('family', 'classical')} model "
                        "fitted in one pass, so there are no per-epoch curves."}
    best = hist.get("best_epoch") or None
    out: dict[str, Any] = {"charts": [charts.line_chart(
        [("train loss", hist.get("train_loss") or []), ("validation loss", hist.get("val_loss") or [])],
        label="Loss per epoch", marker=best, marker_label="best" if best else "")]}
    if any(v is not None for v in hist.get("val_metric") or []):
        out["charts"].append(charts.line_chart([("validation metric", hist["val_metric"])],
                                               label="Validation metric per epoch", marker=best,
                                               marker_label="best" if best else ""))
    out["facts"] = [("epochs run", _num(len(hist.get("train_loss") or []))), ("best epoch", _num(best)),
                    ("monitored", hist.get("monitor", "—")), ("stopped because", hist.get("stop_reason", "—")),
                    ("throughput", f"{hist.get('items_per_second', 0):,.0f} items/s"),
                    ("training loop time", _seconds(hist.get("total_seconds")))]
    return out


_CARDS = (("accuracy", "accuracy", 3), ("macro_f1", "macro F1", 3), ("roc_auc", "ROC AUC", 3),
          ("f1_anomaly", "F1 (anomaly)", 3), ("flagged_share", "flagged share", 3),
          ("mae", "MAE", 3), ("rmse", "RMSE", 3), ("r2", "R²", 3))


def _metrics(metrics: Optional[Mapping[str, Any]], explain: Mapping[str, Any]) -> Optional[dict[str, Any]]:
    if not metrics:
        return None
    cards = [(label, _num(metrics[k], d)) for k, label, d in _CARDS if isinstance(metrics.get(k), (int, float))]
    cards.append(("held-out items", _num(metrics.get("n_test"))))
    out: dict[str, Any] = {"cards": cards, "task": metrics.get("task", ""), "per_class": [], "averages": []}
    labels = metrics.get("labels") or []
    per = metrics.get("per_class") or {}
    keys = [(str(x), "per_class") for x in labels] + [(k, "averages") for k in ("macro avg", "weighted avg")]
    for key, target in keys:
        row = per.get(key)
        if isinstance(row, Mapping):
            out[target].append({"label": key, "precision": _num(row.get("precision")),
                                "recall": _num(row.get("recall")), "f1": _num(row.get("f1-score")),
                                "support": _num(int(row.get("support") or 0))})
    if metrics.get("confusion_matrix") and labels:
        out["confusion"] = charts.heatmap(metrics["confusion_matrix"], labels,
                                          label="Confusion matrix (rows: true class, columns: predicted)")
    roc = metrics.get("roc_curve")
    if isinstance(roc, Mapping) and roc.get("fpr"):
        out["roc"] = charts.roc_chart(roc["fpr"], roc["tpr"], label="ROC curve on the held-out split")
        out["roc_note"] = (f"positive class: {roc.get('positive', '?')}; AUC "
                           f"{_num(metrics.get('roc_auc'))}")
    fc = _piece(explain.get("forecast"))
    if fc:
        xs = [i * fc.get("step", 1) + 1 for i in range(len(fc.get("actual", [])))]
        out["forecast"] = charts.line_chart([("actual", fc.get("actual", [])), ("forecast", fc.get("predicted", []))],
                                            xs=xs, x_label="step after the training data", width=1000,
                                            label="Forecast vs actual on the held-out period", height=300)
    if metrics.get("unseen_test_labels"):
        out["unseen"] = ", ".join(map(str, metrics["unseen_test_labels"]))
    return out


def _importance_chart(piece: Mapping[str, Any], label: str, signed: bool = False) -> Markup:
    feats = piece.get("features") or []
    if signed:
        rows = [(f["name"], f["value"], "#2563eb" if f["value"] >= 0 else "#ea580c") for f in feats]
    else:
        rows = [(f["name"], f["value"], "#0f766e") for f in feats]
    errors = [f.get("std", 0) for f in feats] if any("std" in f for f in feats) else None
    return charts.bar_chart(rows, errors=errors, label=label)


def _interpretability(explain: Mapping[str, Any], metrics: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    titles = {"importance": "Permutation importance (held-out)", "coefficients": "Linear coefficients",
              "model_importance": "Model's own feature importance", "head_importance": "Hybrid head: importance "
              "over learned features", "rules": "Decision rules", "top_terms": "Top terms per class",
              "saliency": "Where the model looks", "misclassified": "Misclassified examples",
              "largest_errors": "Largest errors", "forecast": "Forecast"}
    errors = [(titles.get(k, k), v["error"]) for k, v in explain.items() if isinstance(v, dict) and "error" in v]
    if isinstance(explain.get("error"), str):
        errors.append(("explanations", explain["error"]))
    p = _piece(explain.get("importance"))
    if p and p.get("features"):
        panels.append({"title": titles["importance"], "note": p.get("note", ""),
                       "chart": _importance_chart(p, "Permutation importance, mean ± std")})
    elif p and p.get("skipped"):
        panels.append({"title": titles["importance"], "note": p["skipped"]})
    p = _piece(explain.get("coefficients"))
    if p:
        panels.append({"title": titles["coefficients"], "note": p.get("note", ""),
                       "chart": _importance_chart(p, "Coefficients", signed=bool(p.get("signed")))})
    p = _piece(explain.get("model_importance"))
    if p:
        panels.append({"title": titles["model_importance"], "note": p.get("note", ""),
                       "chart": _importance_chart(p, "Impurity importance")})
        if p.get("groups"):
            rows = [(g["name"], g["value"], "#7c3aed") for g in p["groups"]]
            panels.append({"title": "Importance by feature group", "note": "Sum of the importances of each "
                           "hand-crafted feature family.", "chart": charts.bar_chart(rows, label="By group")})
    p = _piece(explain.get("head_importance"))
    if p:
        panels.append({"title": titles["head_importance"], "note": p.get("note", ""),
                       "chart": _importance_chart(p, "Head importance")})
    p = _piece(explain.get("rules"))
    if p and p.get("text"):
        panels.append({"title": titles["rules"], "pre": p["text"],
                       "note": "The fitted tree, read top-down" + (" (first 200 lines)" if p.get("truncated") else "")})
    p = _piece(explain.get("top_terms"))
    if p and p.get("classes"):
        panels.append({"title": titles["top_terms"], "note": "Largest TF-IDF weights pushing towards each class.",
                       "terms": [{"label": c["label"], "terms": [(t, f"{w:+.2f}") for t, w in c["terms"]]}
                                 for c in p["classes"]]})
    p = _piece(explain.get("saliency"))
    if p and p.get("items"):
        panels.append({"title": titles["saliency"] + f" ({p.get('method', '')})", "note": p.get("note", ""),
                       "images": _images(p["items"], metrics)})
    note = ""
    if not explain:
        note = "No explanations in this report (explain.json is written by `advisor train`)."
    elif not panels and not errors:
        note = "No feature-level explanation is available for this model" + (
            "; see the misclassified examples below." if explain.get("misclassified") else ".")
    return {"panels": panels, "errors": errors, "note": note, "seconds": explain.get("seconds")}


def _images(items: list[Mapping[str, Any]], metrics: Optional[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for it in items:
        png = it.get("png")
        if not isinstance(png, str) or not _B64.fullmatch(png):
            continue
        conf = it.get("confidence")
        out.append({"src": Markup("data:image/png;base64,") + png, "true": str(it.get("true")),
                    "pred": str(it.get("pred")), "ok": str(it.get("true")) == str(it.get("pred")),
                    "confidence": f"{conf:.0%}" if isinstance(conf, (int, float)) else ""})
    return out


def _gallery(explain: Mapping[str, Any], metrics: Optional[Mapping[str, Any]]) -> Optional[dict[str, Any]]:
    p = _piece(explain.get("misclassified"))
    if p:
        shown = len(p.get("items") or [])
        out: dict[str, Any] = {"summary": f"{p.get('total', 0):,} of {p.get('n_items', 0):,} held-out items "
                                          f"misclassified" + (f"; the {shown} shown are ordered "
                                                              f"{p.get('order', '')}" if shown else "."),
                               "kind": p.get("kind"), "columns": p.get("columns") or []}
        items = p.get("items") or []
        if p.get("kind") == "image":
            out["images"] = _images(items, metrics)
        elif p.get("kind") == "text":
            out["texts"] = [{"text": it.get("text", ""), "true": str(it.get("true")), "pred": str(it.get("pred")),
                             "confidence": f"{it['confidence']:.0%}" if isinstance(it.get("confidence"), float) else ""}
                            for it in items]
        else:
            out["rows"] = [{"true": str(it.get("true")), "pred": str(it.get("pred")),
                            "confidence": f"{it['confidence']:.0%}" if isinstance(it.get("confidence"), float) else "—",
                            "values": [_value((it.get("values") or {}).get(c)) for c in out["columns"]]}
                           for it in items]
        return out
    p = _piece(explain.get("largest_errors"))
    if p:
        return {"summary": "Held-out items with the largest absolute errors.", "kind": "regression",
                "errors": [{k: _num(v) for k, v in it.items()} for it in p.get("items") or []]}
    return None


def _environment(metrics: Optional[Mapping[str, Any]], run: Optional[Mapping[str, Any]],
                 rec: Optional[Mapping[str, Any]], explain: Mapping[str, Any]) -> dict[str, Any]:
    m, r = metrics or {}, run or {}
    hist = m.get("history") if isinstance(m.get("history"), Mapping) else {}
    facts = [(k, v) for k, v in [
        ("device", m.get("device")), ("device choice", hist.get("device_reason")),
        ("seed", _num(r.get("seed", m.get("seed"))) if ("seed" in r or "seed" in m) else None),
        ("finished", r.get("finished")),
        ("train items / held-out items", f"{_num(m.get('n_train'))} / {_num(m.get('n_test'))}" if m else None),
        ("training time", _seconds(m.get("train_seconds")) if m else None),
        ("inference", f"{m['inference_ms_per_item']:.3f} ms per item" if isinstance(m.get("inference_ms_per_item"),
                                                                                     (int, float)) else None),
        ("model size", _bytes(m.get("model_size_bytes")) if m else None),
        ("explanations computed in", _seconds(explain.get("seconds")) if explain else None),
        ("inputs skipped (unreadable)", _num(m.get("skipped_inputs")) if m.get("skipped_inputs") else None),
        ("rulebook version", (rec or {}).get("rulebook_version")),
    ] if v not in (None, "", "—")]
    versions = sorted((r.get("versions") or {}).items())
    return {"facts": facts, "versions": versions}


# ----------------------------------------------------------------------------- comparison (`advisor compare`)

def _comparison(cmp: Optional[Mapping[str, Any]]) -> Optional[dict[str, Any]]:
    """compare.json → the table rows, agreement, learning-curve chart, crossover and skipped runs, as strings."""
    if not isinstance(cmp, Mapping) or "metric" not in cmp:
        return None
    from advisor.showing.tables import LABELS, table_rows

    metric = cmp["metric"]
    curves = (cmp.get("learning_curves") or {}).get("families") or {}
    series, points = [], []
    for fam, pts in curves.items():
        ok = [p for p in pts if p.get("mean") is not None]
        series.append((fam, charts.APPROACH_COLORS.get(fam, "#64748b"), [p["n_train"] for p in ok],
                       [p["mean"] for p in ok], [p["min"] for p in ok], [p["max"] for p in ok]))
        points += [{"family": fam, "n_train": _num(p["n_train"]), "size": f"{p['size']:.0%}", "seeds": p["seeds"],
                    "mean": _num(p.get("mean")), "spread": f"{_num(p.get('min'))} – {_num(p.get('max'))}",
                    "std": _num(p.get("std"))} for p in pts]
    cross = (cmp.get("crossover") or {}).get("by_family") or {}
    markers = [(c["n_train"], f"{fam} overtakes") for fam, c in cross.items()
               if c.get("status") == "inside" and isinstance(c.get("n_train"), (int, float))]
    agreement = cmp.get("agreement") or {}
    b = cmp.get("budget") or {}
    data = cmp.get("data") or {}
    return {
        "rows": table_rows(dict(cmp)), "metric_keys": [(k, LABELS.get(k, k)) for k in metric.get("shown", [])],
        "metric_label": metric.get("label", ""), "verdict": agreement.get("verdict", ""),
        "agreement": agreement.get("text", ""), "predicted": (cmp.get("predicted") or {}).get("family", ""),
        "chart": charts.curve_chart(series, label=f"Learning curves: held-out {metric.get('label', '')} vs "
                                    "training-set size (mean over seeds; band = min to max)",
                                    x_label="training items (log scale)", y_label=metric.get("label", ""),
                                    markers=markers, width=880, height=320),
        "points": points, "crossover": (cmp.get("crossover") or {}).get("summary", ""),
        "crossovers": [c.get("text", "") for c in cross.values()],
        "skipped": [(s.get("family", ""), s.get("reason", "")) for s in cmp.get("skipped") or []],
        "facts": [("held-out test items", _num(data.get("test"))), ("training split", _num(data.get("train"))),
                  ("split seed", _num(data.get("split_seed"))), ("seeds per size", _num(cmp.get("seeds"))),
                  ("sizes", ", ".join(f"{x:.0%}" for x in cmp.get("sizes") or [])),
                  ("runs", f"{_num(b.get('runs'))} measured, {_num(b.get('runs_skipped'))} skipped"),
                  ("wall time", _seconds(b.get("used_seconds"))),
                  ("time budget", _minutes(b.get("minutes")) if b.get("minutes") else "none")],
        "direction": "higher is better" if metric.get("higher_is_better", True) else "lower is better",
    }


# ----------------------------------------------------------------------------- entry points

def build_context(result: Union[str, Path, Mapping[str, Any]]) -> dict[str, Any]:
    """The report's view model: strings and SVG only (the template does no arithmetic)."""
    data = load_run(result) if isinstance(result, (str, Path)) else {k: _plain(v) for k, v in result.items()}
    desc, rec, metrics = data.get("descriptor"), data.get("recommendation"), data.get("metrics")
    explain, run = data.get("explain") or {}, data.get("run")
    if not isinstance(explain, Mapping):
        explain = {}
    comparison = _comparison(data.get("compare"))                      # `advisor compare` result
    if comparison and not run:
        run = {"versions": data["compare"].get("versions"), "finished": data["compare"].get("finished")}
    is_run = (bool(metrics) or "_source" in data) and not comparison
    missing = [f"{name} — {what}" for key, name, what in PIECES if not data.get(key)] if is_run else []
    name = (rec or {}).get("name") or (desc or {}).get("name") or Path(str(data.get("_source", "run"))).name
    headline: list[tuple[str, str]] = []
    if rec:
        headline += [("approach", rec.get("approach", "—")), ("model", rec.get("model", "—")),
                     ("confidence", f"{float(rec.get('confidence') or 0):.2f}")]
    if metrics:
        if metrics.get("model") and metrics.get("model") != (rec or {}).get("model"):
            headline.append(("trained model", str(metrics["model"])))
        for key, label, d in _CARDS:
            if isinstance(metrics.get(key), (int, float)):
                headline.append((label, _num(metrics[key], d)))
                break
        headline.append(("training time", _seconds(metrics.get("train_seconds"))))
    if comparison:
        headline += [("measured best", (data["compare"].get("agreement") or {}).get("best") or "—"),
                     ("measurement", comparison["verdict"] or "—")]
    try:
        from importlib.metadata import version

        advisor_version = version("ml-advisor")
    except Exception:  # noqa: BLE001 - not installed (running from a checkout)
        advisor_version = ""
    return {
        "title": name, "kind": "compare" if comparison else "run" if is_run else "recommendation",
        "advisor_version": advisor_version, "comparison": comparison,
        "generated": time.strftime("%Y-%m-%d %H:%M"), "source": data.get("_source", ""),
        "missing": missing, "problems": data.get("_problems", []), "headline": headline,
        "approach": (rec or {}).get("approach", ""),
        "descriptor": _descriptor(desc), "rec": _recommendation(rec),
        "costs": _costs(rec, metrics, data.get("compare")),
        "curves": _curves(metrics), "metrics": _metrics(metrics, explain),
        "interp": _interpretability(explain, metrics) if is_run else None,
        "gallery": _gallery(explain, metrics), "env": _environment(metrics, run, rec, explain),
        "gallery_title": {"classification": "Misclassified examples", "regression": "Largest errors"}.get(
            (metrics or {}).get("task") or (rec or {}).get("task") or (desc or {}).get("task"), ""),
    }


def _environment_jinja() -> Any:
    from importlib import resources

    from jinja2 import Environment, FileSystemLoader

    folder = Path(str(resources.files("templates")))
    return Environment(loader=FileSystemLoader(str(folder)), autoescape=True, trim_blocks=True, lstrip_blocks=True)


def render_report(result: Union[str, Path, Mapping[str, Any]]) -> str:
    """A run folder path, or a dict with any of descriptor / recommendation / metrics / explain / run → HTML."""
    return _environment_jinja().get_template("report.html.j2").render(**build_context(result))


def write_report(html: str, path: Union[str, Path]) -> Path:
    """Write the report atomically; a missing folder or an unwritable place → ReportError (one line)."""
    path = Path(path)
    if path.is_dir():
        raise ReportError(f"{path}: is a folder; give a file name such as {path / 'report.html'}")
    if not path.parent.is_dir():
        raise ReportError(f"{path}: folder {path.parent} does not exist")
    try:
        write_text_atomic(path, html)
    except OSError as exc:
        raise ReportError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path
