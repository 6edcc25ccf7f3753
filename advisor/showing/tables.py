"""The comparison as rows of strings: shared by the CLI's plain-text table and the HTML report."""

from __future__ import annotations

from typing import Any

from advisor.units import nbytes as _size
from advisor.units import seconds as _secs

LABELS = {"macro_f1": "macro F1", "accuracy": "accuracy", "roc_auc": "ROC AUC", "r2": "R²", "mae": "MAE",
          "rmse": "RMSE", "f1_anomaly": "F1 (anomaly)"}


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
