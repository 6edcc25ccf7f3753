"""Inline SVG charts for the HTML report: bars, lines, a heat map, ROC and precision-recall curves, a SHAP
beeswarm. Pure Python; every text is escaped.

Each function returns `markupsafe.Markup` (safe to drop into an autoescaped template) or "" when there is
nothing to draw. Colours come from the report's palette; sizes are in SVG user units (the SVG scales to fit).
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

from markupsafe import Markup, escape

INK, MUTED, GRID = "#1f2937", "#6b7280", "#e5e7eb"
APPROACH_COLORS = {"classical": "#0f766e", "hybrid": "#7c3aed", "deep": "#c2410c"}
SERIES = ("#2563eb", "#ea580c", "#16a34a", "#9333ea")


def _e(text: object) -> str:
    return str(escape(str(text)))


def _short(text: object, n: int = 28) -> str:
    s = str(text)
    return s if len(s) <= n else s[: n - 1] + "…"


def _num(x: float) -> str:
    if x == 0:
        return "0"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:.1f}".rstrip("0").rstrip(".")
    if a >= 0.01:
        return f"{x:.3f}".rstrip("0").rstrip(".")
    return f"{x:.2g}"


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About `n` round tick values covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0]
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(n - 1, 1)
    try:                    # values from a run file may be huge or tiny: no overflow, and at most 4n ticks
        mag = 10.0 ** math.floor(math.log10(raw))
        step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
        start = math.floor(lo / step) * step
        count = int(math.floor((hi - start) / step + 0.5)) + 1
    except (OverflowError, ValueError, ZeroDivisionError, StopIteration):
        return [lo, hi]
    return [round(start + i * step, 10) for i in range(min(count, 4 * n))]


def _svg(width: int, height: int, body: list[str], label: str) -> Markup:
    return Markup(f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
                  f'role="img" aria-label="{_e(label)}" xmlns="http://www.w3.org/2000/svg">'
                  f'<title>{_e(label)}</title>{"".join(body)}</svg>')


def bar_chart(rows: Sequence[tuple[str, float, str]], *, label: str, errors: Optional[Sequence[float]] = None,
              notes: Optional[Sequence[str]] = None, width: int = 500, bar: int = 20) -> Markup:
    """Horizontal bars: (name, value, colour) per row; negative values grow left of the zero line."""
    rows = [(n, float(v), c) for n, v, c in rows if v is not None and math.isfinite(float(v))]
    if not rows:
        return Markup("")
    errs = [float(e or 0) for e in errors] if errors else [0.0] * len(rows)
    left = int(min(190, 14 + 6.4 * max(len(_short(n)) for n, _, _ in rows)))
    right, top = 60 + 6 * max((len(x) for x in notes or [""]), default=0), 8
    lo = min(0.0, *(v - e for (_, v, _), e in zip(rows, errs)))
    hi = max(0.0, *(v + e for (_, v, _), e in zip(rows, errs)))
    if hi == lo:
        hi = lo + 1
    plot = width - left - right
    x = lambda v: left + (v - lo) / (hi - lo) * plot  # noqa: E731
    step = bar + 10
    height = top + step * len(rows) + 22
    body = [f'<line x1="{x(0):.1f}" y1="{top - 4}" x2="{x(0):.1f}" y2="{top + step * len(rows)}" '
            f'stroke="{MUTED}" stroke-width="1"/>']
    for t in nice_ticks(lo, hi, 5):
        if lo <= t <= hi:
            body.append(f'<line x1="{x(t):.1f}" y1="{top - 4}" x2="{x(t):.1f}" y2="{top + step * len(rows)}" '
                        f'stroke="{GRID}" stroke-dasharray="2 3"/><text x="{x(t):.1f}" '
                        f'y="{height - 6}" class="tick" text-anchor="middle">{_e(_num(t))}</text>')
    for i, ((name, v, colour), err) in enumerate(zip(rows, errs)):
        y = top + i * step
        x0, x1 = sorted((x(0), x(v)))
        note = notes[i] if notes and notes[i] else ""
        body.append(f'<g><title>{_e(name)}: {_e(_num(v))}{_e(note)}</title>'
                    f'<text x="{left - 8}" y="{y + bar * 0.7:.1f}" text-anchor="end" class="lbl">'
                    f'{_e(_short(name))}</text>'
                    f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1.5):.1f}" height="{bar}" rx="3" '
                    f'fill="{colour}"/>')
        if err:
            body.append(f'<line x1="{x(v - err):.1f}" x2="{x(v + err):.1f}" y1="{y + bar / 2}" y2="{y + bar / 2}" '
                        f'stroke="{INK}" stroke-width="1.2"/>')
        tx = max(x(v + err), x(0)) + 6
        body.append(f'<text x="{tx:.1f}" y="{y + bar * 0.7:.1f}" class="val">{_e(_num(v))}{_e(note)}</text></g>')
    return _svg(width, height, body, label)


def line_chart(series: Sequence[tuple[str, Sequence[Optional[float]]]], *, label: str, x_label: str = "epoch",
               xs: Optional[Sequence[float]] = None, marker: Optional[float] = None, marker_label: str = "",
               width: int = 520, height: int = 250, y_range: Optional[tuple[float, float]] = None) -> Markup:
    """Lines over a shared x axis (default 1..n); None values break a line. `marker` draws a dashed x line."""
    series = [(n, list(ys)) for n, ys in series if any(v is not None for v in ys)]
    if not series:
        return Markup("")
    n = max(len(ys) for _, ys in series)
    xs = list(xs) if xs is not None else list(range(1, n + 1))
    vals = [float(v) for _, ys in series for v in ys if v is not None and math.isfinite(float(v))]
    if not vals:
        return Markup("")
    lo, hi = y_range or (min(vals), max(vals))
    if hi == lo:
        lo, hi = lo - (abs(lo) * 0.1 or 1), hi + (abs(hi) * 0.1 or 1)
    yt = nice_ticks(lo, hi, 5)
    lo, hi = min(lo, yt[0]), max(hi, yt[-1])
    x_lo, x_hi = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    left, right, top, bottom = 56, 16, 30, 36
    pw, ph = width - left - right, height - top - bottom
    fx = lambda v: left + (v - x_lo) / (x_hi - x_lo) * pw  # noqa: E731
    fy = lambda v: top + ph - (v - lo) / (hi - lo) * ph  # noqa: E731
    body = []
    for t in yt:
        body.append(f'<line x1="{left}" x2="{left + pw}" y1="{fy(t):.1f}" y2="{fy(t):.1f}" stroke="{GRID}"/>'
                    f'<text x="{left - 6}" y="{fy(t) + 4:.1f}" text-anchor="end" class="tick">{_e(_num(t))}</text>')
    for t in nice_ticks(x_lo, x_hi, 6):
        if x_lo <= t <= x_hi:
            body.append(f'<text x="{fx(t):.1f}" y="{top + ph + 16}" text-anchor="middle" class="tick">'
                        f'{_e(_num(t))}</text>')
    body.append(f'<text x="{left + pw / 2:.1f}" y="{height - 4}" text-anchor="middle" class="axis">'
                f'{_e(x_label)}</text>')
    if marker is not None:
        body.append(f'<line x1="{fx(marker):.1f}" x2="{fx(marker):.1f}" y1="{top}" y2="{top + ph}" stroke="{MUTED}" '
                    f'stroke-dasharray="4 4"/><text x="{fx(marker) + 4:.1f}" y="{top + 10}" class="tick">'
                    f'{_e(marker_label)}</text>')
    for k, (name, ys) in enumerate(series):
        colour = SERIES[k % len(SERIES)]
        pts = [(fx(x), fy(float(v))) for x, v in zip(xs, ys) if v is not None and math.isfinite(float(v))]
        path = " ".join(f"{'M' if i == 0 else 'L'}{px:.1f},{py:.1f}" for i, (px, py) in enumerate(pts))
        body.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        if len(pts) <= 60:
            body += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.6" fill="{colour}"/>' for px, py in pts]
        lx = left + k * 150
        body.append(f'<rect x="{lx}" y="8" width="12" height="4" rx="1" fill="{colour}"/>'
                    f'<text x="{lx + 17}" y="14" class="tick">{_e(name)}</text>')
    return _svg(width, height, body, label)


def heatmap(matrix: Sequence[Sequence[int]], labels: Sequence[object], *, label: str) -> Markup:
    """Confusion matrix: rows = true, columns = predicted; colour = share of the row (blue right, red wrong)."""
    k = len(labels)
    if not k or len(matrix) != k:
        return Markup("")
    cell = max(22, min(64, 480 // k))
    names = [_short(x, 18) for x in labels]
    left = 16 + min(150, 7 * max(len(s) for s in names))
    top = 28 + min(120, 6 * max(len(s) for s in names))
    width, height = left + cell * k + 10, top + cell * k + 36
    body = [f'<text x="{left + cell * k / 2:.1f}" y="14" text-anchor="middle" class="axis">predicted</text>',
            f'<text x="12" y="{top + cell * k / 2:.1f}" class="axis" text-anchor="middle" '
            f'transform="rotate(-90 12 {top + cell * k / 2:.1f})">true</text>']
    font = 11 if cell >= 34 else 9
    for j, name in enumerate(names):
        cx = left + j * cell + cell / 2
        body.append(f'<text x="{cx:.1f}" y="{top - 6}" class="tick" text-anchor="start" '
                    f'transform="rotate(-45 {cx:.1f} {top - 6})"><title>{_e(labels[j])}</title>{_e(name)}</text>')
    for i, row in enumerate(matrix):
        total = max(sum(row), 1)
        y = top + i * cell
        body.append(f'<text x="{left - 6}" y="{y + cell / 2 + 4:.1f}" text-anchor="end" class="tick">'
                    f'<title>{_e(labels[i])}</title>{_e(names[i])}</text>')
        for j, count in enumerate(row):
            share = count / total
            if i == j:
                fill = f"rgba(37,99,235,{0.08 + 0.85 * share:.3f})"
            else:
                fill = f"rgba(220,38,38,{0.06 + 0.9 * share:.3f})" if count else "#f9fafb"
            colour = "#fff" if share > 0.55 else INK
            body.append(f'<g><title>true {_e(labels[i])} → predicted {_e(labels[j])}: {count} '
                        f'({share:.0%} of the row)</title><rect x="{left + j * cell}" y="{y}" width="{cell - 2}" '
                        f'height="{cell - 2}" rx="3" fill="{fill}"/>'
                        f'<text x="{left + j * cell + cell / 2 - 1:.1f}" y="{y + cell / 2 + 4:.1f}" '
                        f'text-anchor="middle" font-size="{font}" fill="{colour}">{count}</text></g>')
    return _svg(width, height, body, label)


def roc_chart(fpr: Sequence[float], tpr: Sequence[float], *, label: str, width: int = 320) -> Markup:
    """ROC curve in a unit square with the chance diagonal."""
    if not fpr or len(fpr) != len(tpr):
        return Markup("")
    left, top, size = 44, 10, width - 60
    fx = lambda v: left + v * size  # noqa: E731
    fy = lambda v: top + size - v * size  # noqa: E731
    body = [f'<rect x="{left}" y="{top}" width="{size}" height="{size}" fill="#fff" stroke="{GRID}"/>',
            f'<line x1="{fx(0)}" y1="{fy(0)}" x2="{fx(1)}" y2="{fy(1)}" stroke="{MUTED}" stroke-dasharray="4 4"/>']
    for t in (0, 0.25, 0.5, 0.75, 1):
        body.append(f'<text x="{fx(t):.1f}" y="{top + size + 14}" text-anchor="middle" class="tick">{t:g}</text>'
                    f'<text x="{left - 6}" y="{fy(t) + 4:.1f}" text-anchor="end" class="tick">{t:g}</text>')
    path = " ".join(f"{'M' if i == 0 else 'L'}{fx(a):.1f},{fy(b):.1f}" for i, (a, b) in enumerate(zip(fpr, tpr)))
    area = path + f" L{fx(1):.1f},{fy(0):.1f} L{fx(0):.1f},{fy(0):.1f} Z"
    body += [f'<path d="{area}" fill="rgba(37,99,235,0.10)"/>',
             f'<path d="{path}" fill="none" stroke="{SERIES[0]}" stroke-width="2.2"/>',
             f'<text x="{left + size / 2}" y="{top + size + 30}" text-anchor="middle" class="axis">'
             f'false positive rate</text>',
             f'<text x="12" y="{top + size / 2}" text-anchor="middle" class="axis" '
             f'transform="rotate(-90 12 {top + size / 2})">true positive rate</text>']
    return _svg(width, top + size + 38, body, label)


def unit_curves_chart(series: Sequence[tuple[str, Sequence[float], Sequence[float]]], *, label: str,
                      x_label: str, y_label: str, diagonal: bool = False, level: Optional[float] = None,
                      level_label: str = "", width: int = 320) -> Markup:
    """(name, xs, ys) curves in a unit square: one-vs-rest ROC curves (with the chance diagonal) or a
    precision-recall curve (with the `level` of guessing, the positive class's prevalence)."""
    series = [s for s in series if s[1] and len(s[1]) == len(s[2])]
    if not series:
        return Markup("")
    left, top, size = 44, 10 + 16 * (len(series) > 1) * ((len(series) + 1) // 2), width - 60
    fx = lambda v: left + v * size  # noqa: E731
    fy = lambda v: top + size - v * size  # noqa: E731
    body = [f'<rect x="{left}" y="{top}" width="{size}" height="{size}" fill="#fff" stroke="{GRID}"/>']
    if diagonal:
        body.append(f'<line x1="{fx(0)}" y1="{fy(0)}" x2="{fx(1)}" y2="{fy(1)}" stroke="{MUTED}" '
                    'stroke-dasharray="4 4"/>')
    if level is not None and math.isfinite(level):
        body.append(f'<line x1="{fx(0)}" y1="{fy(level):.1f}" x2="{fx(1)}" y2="{fy(level):.1f}" stroke="{MUTED}" '
                    f'stroke-dasharray="4 4"><title>{_e(level_label)}</title></line>')
    for t in (0, 0.25, 0.5, 0.75, 1):
        body.append(f'<text x="{fx(t):.1f}" y="{top + size + 14}" text-anchor="middle" class="tick">{t:g}</text>'
                    f'<text x="{left - 6}" y="{fy(t) + 4:.1f}" text-anchor="end" class="tick">{t:g}</text>')
    for k, (name, xs, ys) in enumerate(series):
        colour = SERIES[k % len(SERIES)]
        path = " ".join(f"{'M' if i == 0 else 'L'}{fx(a):.1f},{fy(b):.1f}" for i, (a, b) in enumerate(zip(xs, ys)))
        body.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2.2"><title>{_e(name)}</title>'
                    '</path>')
        if len(series) > 1:
            lx, ly = left + (k % 2) * (size // 2), 12 + 16 * (k // 2)
            body.append(f'<rect x="{lx}" y="{ly - 6}" width="12" height="4" rx="1" fill="{colour}"/>'
                        f'<text x="{lx + 17}" y="{ly}" class="tick">{_e(_short(name, 22))}</text>')
    body += [f'<text x="{left + size / 2}" y="{top + size + 30}" text-anchor="middle" class="axis">{_e(x_label)}'
             f'</text><text x="12" y="{top + size / 2}" text-anchor="middle" class="axis" '
             f'transform="rotate(-90 12 {top + size / 2})">{_e(y_label)}</text>']
    return _svg(width, top + size + 38, body, label)


# --- learning curves for `advisor compare` (log-scale x, one line per family, a spread band) ---
def curve_chart(series: Sequence[tuple[str, str, Sequence[float], Sequence[float], Sequence[float], Sequence[float]]],
                *, label: str, x_label: str, y_label: str, markers: Sequence[tuple[float, str]] = (),
                width: int = 640, height: int = 300) -> Markup:
    """(name, colour, xs, means, lows, highs) per line over a log x axis; the band spans lows..highs."""
    series = [s for s in series if len(s[2]) and len(s[2]) == len(s[3]) and all(x > 0 for x in s[2])]
    if not series:
        return Markup("")
    xs_all = sorted({float(x) for s in series for x in s[2]})
    ys_all = [float(v) for s in series for v in (*s[3], *s[4], *s[5]) if v is not None and math.isfinite(float(v))]
    if not ys_all:
        return Markup("")
    lx_lo, lx_hi = math.log10(xs_all[0]), math.log10(xs_all[-1])
    pad = (lx_hi - lx_lo) * 0.06 or 0.5
    lx_lo, lx_hi = lx_lo - pad, lx_hi + pad
    lo, hi = min(ys_all), max(ys_all)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.05, hi + 0.05
    yt = nice_ticks(lo, hi, 5)
    lo, hi = min(lo, yt[0]), max(hi, yt[-1])
    left, right, top, bottom = 56, 16, 30, 40
    pw, ph = width - left - right, height - top - bottom
    fx = lambda v: left + (math.log10(v) - lx_lo) / (lx_hi - lx_lo) * pw  # noqa: E731
    fy = lambda v: top + ph - (v - lo) / (hi - lo) * ph  # noqa: E731
    body = []
    for t in yt:
        body.append(f'<line x1="{left}" x2="{left + pw}" y1="{fy(t):.1f}" y2="{fy(t):.1f}" stroke="{GRID}"/>'
                    f'<text x="{left - 6}" y="{fy(t) + 4:.1f}" text-anchor="end" class="tick">{_e(_num(t))}</text>')
    last = -1e9
    for x in xs_all:                                           # ticks at the measured sizes (log axis)
        if fx(x) - last >= 34:
            body.append(f'<line x1="{fx(x):.1f}" x2="{fx(x):.1f}" y1="{top}" y2="{top + ph}" stroke="{GRID}" '
                        f'stroke-dasharray="2 3"/><text x="{fx(x):.1f}" y="{top + ph + 16}" text-anchor="middle" '
                        f'class="tick">{_e(_num(x))}</text>')
            last = fx(x)
    body.append(f'<text x="{left + pw / 2:.1f}" y="{height - 4}" text-anchor="middle" class="axis">{_e(x_label)}'
                f'</text><text x="12" y="{top + ph / 2:.1f}" text-anchor="middle" class="axis" '
                f'transform="rotate(-90 12 {top + ph / 2:.1f})">{_e(y_label)}</text>')
    for x, text in markers:
        if xs_all[0] <= x <= xs_all[-1]:
            body.append(f'<line x1="{fx(x):.1f}" x2="{fx(x):.1f}" y1="{top}" y2="{top + ph}" stroke="{MUTED}" '
                        f'stroke-dasharray="4 4"/><text x="{fx(x) + 4:.1f}" y="{top + 10}" class="tick">'
                        f'{_e(text)}</text>')
    for k, (name, colour, xs, ys, lows, highs) in enumerate(series):
        pts = [(fx(float(x)), fy(float(y))) for x, y in zip(xs, ys)]
        band = [(fx(float(x)), fy(float(y if h is None else h))) for x, y, h in zip(xs, ys, highs)]
        band += [(fx(float(x)), fy(float(y if lw is None else lw)))
                 for x, y, lw in reversed(list(zip(xs, ys, lows)))]
        if len(pts) > 1:
            body.append(f'<path d="M{" L".join(f"{a:.1f},{b:.1f}" for a, b in band)} Z" fill="{colour}" '
                        f'fill-opacity="0.14" stroke="none"/>')
        else:
            body.append(f'<line x1="{band[0][0]:.1f}" x2="{band[1][0]:.1f}" y1="{band[0][1]:.1f}" '
                        f'y2="{band[1][1]:.1f}" stroke="{colour}" stroke-opacity="0.5" stroke-width="6"/>')
        path = " ".join(f"{'M' if i == 0 else 'L'}{a:.1f},{b:.1f}" for i, (a, b) in enumerate(pts))
        body.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2.2"/>')
        body += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colour}"><title>{_e(name)}: n={_e(_num(float(x)))}'
                 f', {_e(_num(float(y)))}</title></circle>' for (a, b), x, y in zip(pts, xs, ys)]
        lx = left + k * 160
        body.append(f'<rect x="{lx}" y="8" width="12" height="4" rx="1" fill="{colour}"/>'
                    f'<text x="{lx + 17}" y="14" class="tick">{_e(name)}</text>')
    return _svg(width, height, body, label)


def _rank_colour(rank: Optional[float]) -> str:
    """Blue (low) to red (high) for a value's percentile; grey when it has none (categories, missing)."""
    if rank is None or not math.isfinite(rank):
        return "#9ca3af"
    r = min(max(rank, 0.0), 1.0)
    blue, red = (37, 99, 235), (220, 38, 38)
    return "#" + "".join(f"{round(b + (c - b) * r):02x}" for b, c in zip(blue, red))


def beeswarm(rows: Sequence[tuple[str, Sequence[tuple[float, Optional[float]]]]], *, label: str,
             width: int = 560, band: int = 22) -> Markup:
    """SHAP summary: one band per feature (name, [(value, percentile or None), ...]); each dot a row at its
    SHAP value, stacked where dots would overlap, coloured by the feature value's rank."""
    rows = [(n, [(float(v), r) for v, r in pts if math.isfinite(float(v))]) for n, pts in rows]
    rows = [(n, pts) for n, pts in rows if pts]
    if not rows:
        return Markup("")
    left, right, top = int(min(190, 14 + 6.4 * max(len(_short(n)) for n, _ in rows))), 16, 8
    values = [v for _, pts in rows for v, _ in pts]
    lo, hi = min(0.0, *values), max(0.0, *values)
    if hi == lo:
        hi = lo + 1
    plot = width - left - right
    x = lambda v: left + (v - lo) / (hi - lo) * plot  # noqa: E731
    height = top + band * len(rows) + 22
    body = [f'<line x1="{x(0):.1f}" y1="{top - 4}" x2="{x(0):.1f}" y2="{top + band * len(rows)}" '
            f'stroke="{MUTED}" stroke-width="1"/>']
    for t in nice_ticks(lo, hi, 5):
        if lo <= t <= hi:
            body.append(f'<text x="{x(t):.1f}" y="{height - 6}" class="tick" text-anchor="middle">{_e(_num(t))}</text>')
    for i, (name, pts) in enumerate(rows):
        mid = top + i * band + band / 2
        body.append(f'<text x="{left - 8}" y="{mid + 4:.1f}" text-anchor="end" class="lbl"><title>{_e(name)}'
                    f'</title>{_e(_short(name))}</text>')
        stacks: dict[int, int] = {}
        for v, rank in pts:
            px = x(v)
            slot = stacks.get(int(px // 3), 0)
            stacks[int(px // 3)] = slot + 1
            dy = (slot + 1) // 2 * 2.2 * (1 if slot % 2 else -1)
            if abs(dy) > band / 2 - 2:
                dy = (band / 2 - 2) * (1 if dy > 0 else -1)
            body.append(f'<circle cx="{px:.1f}" cy="{mid + dy:.1f}" r="1.8" fill="{_rank_colour(rank)}" '
                        f'fill-opacity="0.8"/>')
    return _svg(width, height, body, label)
