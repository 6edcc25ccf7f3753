"""The comparison as rows of strings: shared by the CLI's plain-text table and the HTML report."""

from __future__ import annotations

from typing import Any

from advisor.units import nbytes as _size
from advisor.units import seconds as _secs

LABELS = {"macro_f1": "macro F1", "accuracy": "accuracy", "roc_auc": "ROC AUC", "r2": "R²", "mae": "MAE",
          "rmse": "RMSE", "f1_anomaly": "F1 (anomaly)", "balanced_accuracy": "balanced accuracy", "f1": "F1",
          "pr_auc": "PR AUC", "mase": "MASE", "recall": "recall", "precision": "precision"}
SHOWN = ("accuracy", "balanced_accuracy", "macro_f1", "f1", "recall", "roc_auc", "pr_auc", "mae", "rmse", "r2",
         "mase", "f1_anomaly")


def run_summary(metrics: dict[str, Any]) -> list[str]:
    """What `advisor train` prints after a run (metrics.json as a dict): the headline metric first, the other
    held-out numbers, the baselines beside it, and a line when the model does not beat its best baseline."""
    if metrics.get("generation"):
        return generation_summary(metrics)
    head = metrics.get("headline") or {}
    key = head.get("metric")
    pos = f" of '{metrics['positive_class']}'" if metrics.get("positive_class") is not None else ""
    rest = [f"{k}{pos if k in ('f1', 'recall', 'precision') else ''} {metrics[k]:.3f}" for k in SHOWN
            if k != key and isinstance(metrics.get(k), float)]
    first = f"{key} {head['value']:.3f}" + (pos if key in ("f1",) else "") if isinstance(head.get("value"), float) \
        else ""
    procs = f" × {metrics['processes']} processes" if metrics.get("processes", 1) > 1 else ""
    lines = [f"{metrics['model']}: {', '.join(x for x in [first, *rest] if x)} on {metrics['n_test']:,} held-out "
             f"items; trained in {metrics['train_seconds']:.1f} s on {metrics['device']}{procs}"]
    bases = metrics.get("baselines") or {}
    shown = key if key and all(isinstance(b.get(key), float) for b in bases.values()) else "mae"
    if bases and all(isinstance(b.get(shown), float) for b in bases.values()):
        where = "horizon" if metrics.get("task") == "forecasting" else "held-out items"
        lines.append(f"baselines on the same {where}: " + ", ".join(
            f"{name.replace('_', ' ')} {shown} {b[shown]:.3f}" for name, b in bases.items()))
    if head.get("beats_baseline") is False:
        lines.append(f"warning: {metrics['model']} does not beat the {head['baseline'].replace('_', ' ')} baseline "
                     f"on {key} ({head['value']:.3f} vs {head['baseline_value']:.3f})")
    return lines


def _gen_scores(s: dict[str, Any]) -> str:
    return (f"Fréchet distance {s['frechet_distance']:.1f}, precision {s['precision']:.2f}, "
            f"recall {s['recall']:.2f}")


def generation_summary(metrics: dict[str, Any]) -> list[str]:
    """What `advisor train` prints after a generation run: the generator's scores, each baseline's, the checks."""
    gen = metrics["generation"]
    model, mem, mc = gen["model"], gen["model"]["memorisation"], gen["model"]["mode_collapse"]
    lines = [f"{metrics['model']}: {_gen_scores(model)} ({gen['n_samples']:,} samples vs {gen['n_real']:,} held-out "
             f"images; {gen['feature_space'].split(';')[0]}); trained in {metrics['train_seconds']:.1f} s on "
             f"{metrics['device']}"]
    secs = gen.get("epoch_seconds") or []
    if secs:
        lines.append(f"  {len(secs)} epochs ({gen.get('stop_reason') or 'completed'}), "
                     f"{sum(secs) / len(secs):.1f} s per epoch")
    lines += [f"  baseline {name}: {_gen_scores(s)}" for name, s in gen["baselines"].items()]
    classes = f", classes covered {mc['classes_covered']}/{mc['n_classes']}" if mc.get("classes_covered") is not None \
        else ""
    lines.append(f"mode collapse: {'FLAGGED' if mc['flagged'] else 'not flagged'} (diversity {mc['diversity_ratio']:.2f}"
                 f" of real{classes})")
    lines.append(f"memorisation: {'FLAGGED' if mem['flagged'] else 'not flagged'} ({mem['share_too_close']:.1%} of "
                 f"samples closer to a training image than {1 - mem['expected_share']:.0%} of held-out images are; "
                 f"{model.get('exact_copies', 0)} exact copies)")
    head = metrics.get("headline") or {}
    if head.get("beats_baseline") is False:
        lines.append(f"warning: {metrics['model']} is not closer to the real images than the {head['baseline']} "
                     "baseline")
    return lines


def table_rows(result: dict[str, Any]) -> list[dict[str, str]]:
    """One row of ready-to-show strings per requested family (measured or skipped)."""
    keys = result["metric"]["shown"]
    rows = []
    for fam in result.get("families", ("classical", "hybrid", "deep")):
        r = result.get(fam)
        if not isinstance(r, dict):
            continue
        row = {"family": fam, "model": r.get("model") or "—", "predicted": "yes" if fam == result["predicted"][
            "family"] else "", "status": r["status"]}
        if r["status"] != "measured":
            rows.append({**row, "note": r.get("reason", "")})
            continue
        m = r["metric"]
        spread = f" ± {m['std']:.3f}" if r["seeds"] > 1 and m["std"] is not None else ""
        for k in keys:
            row[k] = f"{r[k]:.3f}" if isinstance(r.get(k), float) else "—"
        row[keys[0]] = (f"{m['mean']:.3f}{spread}" if m["mean"] is not None else "—")
        frac = r["n_train"] / max(result["data"]["train"], 1)
        est = r.get("estimated_train_minutes")
        row.update(train=_secs(r["train_seconds"]), estimate=f"~{_secs(est * 60)}" if est is not None else "—",
                   infer=(f"{r['inference_ms_per_item']:.2f} ms" if r.get("inference_ms_per_item") is not None
                          else "—"),
                   size=_size(r.get("model_size_bytes")), data=f"{r['n_train']:,} ({frac:.0%})",
                   device=r["device"], explain=r["interpretability"], seeds=str(r["seeds"]),
                   note="; ".join(r.get("partial") or []))
        rows.append(row)
    return rows


def format_table(result: dict[str, Any]) -> str:
    """The comparison as plain text: table, agreement, crossover, skipped runs, budget."""
    keys = result["metric"]["shown"]
    cols = [("family", "family"), ("model", "model"), *[(k, LABELS.get(k, k)) for k in keys],
            ("train", "train time"), ("infer", "infer/item"), ("size", "size"), ("data", "data used"),
            ("device", "device")]
    rows = [r for r in table_rows(result) if r["status"] == "measured"]
    for r in rows:
        r["family"] += " *" if r["predicted"] else ""
    widths = [max(len(label), *(len(r.get(k, "—")) for r in rows)) for k, label in cols]
    lines = ["  ".join(label.ljust(w) for (_, label), w in zip(cols, widths))]
    lines += ["  ".join(r.get(k, "—").ljust(w) for (k, _), w in zip(cols, widths)) for r in rows]
    lines.append(f"* the advisor's pick ({result['predicted']['family']}, '{result['predicted']['model']}'); "
                 f"{result['metric']['label']} on the same {result['data']['test']:,} held-out items, mean over "
                 f"{result['seeds']} seed(s)")
    lines += [f"explanations, {r['family'].rstrip(' *')}: {r['explain']}" for r in rows]
    lines.append(f"measurement {result['agreement']['text']}")
    lines.append(f"crossover: {result['crossover']['summary']}")
    lines += [f"skipped {s['family']}: {s['reason']}" for s in result["skipped"]]
    b = result["budget"]
    where = f" on {b['workers']} {b['backend']} workers" if b.get("workers", 1) > 1 else ""
    lines.append(f"{b['runs']} run(s) in {_secs(b['used_seconds'])}{where}" + (
        f" of a {b['minutes']:g} min budget" if b.get("minutes") else " (no time budget)"))
    return "\n".join(lines)
