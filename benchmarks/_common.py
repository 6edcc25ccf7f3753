"""Shared helpers of the benchmarks: interleaved timing, ratio statistics, machine facts, results.json.

Every speed figure is a *ratio* of two things timed side by side in one process, interleaved (A, B, B, A, A,
B, ...: the order flips each repeat so neither side always runs first), so a busy machine slows both alike.
Statistics are over the per-repeat ratios: median with min and max.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run output goes under runs/ (ignored by git), never into the tracked tree: the recorded figures live in
# benchmarks/README.md. $ML_ADVISOR_BENCH_OUT names another folder.
RESULTS = Path(os.environ.get("ML_ADVISOR_BENCH_OUT") or ROOT / "runs" / "benchmarks") / "results.json"


def interleaved(fns: dict[str, Callable[[], Any]], repeats: int, warmup: int = 1) -> dict[str, list[float]]:
    """Wall seconds of each zero-argument callable, ``repeats`` times each, interleaved; the order of the
    callables is reversed every other repeat. ``warmup`` untimed rounds run first (same interleaving)."""
    names = list(fns)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(warmup + repeats):
        order = names if r % 2 == 0 else names[::-1]
        for n in order:
            start = time.perf_counter()
            fns[n]()
            elapsed = time.perf_counter() - start
            if r >= warmup:
                times[n].append(elapsed)
    return times


def stats(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def ratio_stats(num: list[float], den: list[float]) -> dict[str, float]:
    """Median / min / max of the per-repeat ratios ``num[i] / den[i]`` (paired: same repeat, side by side)."""
    return stats([a / b for a, b in zip(num, den)])


def fmt_ratio(r: dict[str, float]) -> str:
    return f"{r['median']:.3f} (min {r['min']:.3f}, max {r['max']:.3f}, n={r['n']})"


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine() -> dict[str, Any]:
    """What the figures were measured on: CPU, cores, memory, load, library versions, date."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    versions = {"python": platform.python_version()}
    for mod in ("numpy", "sklearn", "torch", "timm", "transformers"):
        m = sys.modules.get(mod)
        if m is not None:
            versions[mod] = getattr(m, "__version__", "?")
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": mem_gb, "os": platform.platform(),
            "loadavg_1_5_15": loadavg(), "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "versions": versions}


def torch_threads() -> int | None:
    m = sys.modules.get("torch")
    return m.get_num_threads() if m is not None else None


def save_results(section: str, data: Any, path: Path = RESULTS, merge: bool = False) -> None:
    """Put ``{section: data}`` into results.json (other sections kept), written atomically. ``merge``: update
    the section's keys instead of replacing it (a run of a subset keeps the other parts' last figures)."""
    try:
        current = json.loads(path.read_text()) if path.exists() else {}
    except (OSError, ValueError):
        current = {}
    if merge and isinstance(current.get(section), dict) and isinstance(data, dict):
        current[section] = {**current[section], **data}
    else:
        current[section] = data
    from zoo.io import write_text_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(current, indent=2, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


def table(rows: list[list[Any]], header: list[str]) -> str:
    """A plain-text table with right-aligned numeric columns."""
    cells = [[str(c) for c in header]] + [[_cell(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    numeric = [all(_isnum(r[i]) for r in rows) and rows for i in range(len(header))]
    out = []
    for k, r in enumerate(cells):
        out.append("  ".join(c.rjust(w) if numeric[i] else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in out)


def _isnum(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) or v is None


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if abs(v) >= 100:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        return f"{v:.3f}"
    return str(v)
