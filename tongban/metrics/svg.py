"""Small bar and line charts as inline SVG, drawn on the server from the figures, for the PDF
report (ECharts runs in a browser; WeasyPrint draws SVG itself). Pure functions over numbers:
no database, no request. Text is escaped; sizes are in SVG user units (the PDF scales them)."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

FONT = "Noto Sans CJK SC, sans-serif"
INK, MUTED, LINE = "#1f2933", "#52606d", "#d9e2ec"
PALETTE = ("#b3261e", "#0b5cad", "#1e7d32", "#b7791f", "#6b46c1")


def _fmt(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.1f}%"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def bar_chart_svg(
    *,
    labels: Sequence[str],
    values: Sequence[float | None],
    colours: Sequence[str] | None = None,
    percent: bool = False,
    title: str = "",
    width: int = 640,
) -> str:
    """Horizontal bars, one row per label, the value written at the end of each bar; a bar with
    no value is left empty and marked "—"."""
    row, left, right, top = 22, 150, 70, 24 if title else 6
    height = top + row * max(len(labels), 1) + 6
    scale_max = max([v for v in values if v is not None] or [0]) or 1.0
    if percent:
        scale_max = max(scale_max, 1.0)
    span = width - left - right
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="11" role="img">'
    ]
    if title:
        parts.append(f'<text x="0" y="14" fill="{INK}" font-weight="700">{escape(title)}</text>')
    for n, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + n * row
        colour = colours[n] if colours else PALETTE[0]
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" fill="{INK}" text-anchor="end">'
            f"{escape(label[:12])}</text>"
        )
        parts.append(
            f'<rect x="{left}" y="{y + 4}" width="{span}" height="14" fill="{LINE}" '
            'fill-opacity="0.4"/>'
        )
        if value is None:
            parts.append(f'<text x="{left + 4}" y="{y + 15}" fill="{MUTED}">—</text>')
            continue
        bar = max(span * value / scale_max, 1)
        parts.append(
            f'<rect x="{left}" y="{y + 4}" width="{bar:.1f}" height="14" fill="{colour}"/>'
        )
        parts.append(
            f'<text x="{left + bar + 4:.1f}" y="{y + 15}" fill="{INK}">'
            f"{escape(_fmt(value, percent))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart_svg(
    *,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    percent: bool = False,
    title: str = "",
    width: int = 640,
    height: int = 220,
) -> str:
    """Lines over the same labels (months), with a legend; a point with no value breaks its
    line. The value axis starts at 0 and ends at 100 % for shares."""
    left, right, top, bottom = 44, 12, 40 if title else 24, 26
    values = [v for _name, points in series for v in points if v is not None]
    top_value = 1.0 if percent else (max(values or [0]) or 1.0) * 1.1
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return left + (i * step if len(labels) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / top_value

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="10" role="img">'
    ]
    if title:
        parts.append(
            f'<text x="0" y="13" fill="{INK}" font-size="11" font-weight="700">'
            f"{escape(title)}</text>"
        )
    for tick in range(5):
        v = top_value * tick / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
            f'stroke="{LINE}"/>'
        )
        parts.append(
            f'<text x="{left - 4}" y="{y(v) + 3:.1f}" fill="{MUTED}" text-anchor="end">'
            f"{escape(_fmt(v, percent) if percent else f'{v:.0f}')}</text>"
        )
    for i, label in enumerate(labels):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - 8}" fill="{MUTED}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    legend_x = left
    for n, (name, points) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        ly = top - 12
        parts.append(f'<rect x="{legend_x}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{legend_x + 14}" y="{ly + 1}" fill="{INK}">{escape(name)}</text>')
        legend_x += 24 + 11 * len(name)
        path: list[str] = []
        for i, point in enumerate(points):
            if point is None:
                if len(path) > 1:
                    parts.append(_polyline(path, colour))
                path = []
                continue
            path.append(f"{x(i):.1f},{y(point):.1f}")
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(point):.1f}" r="2.2" fill="{colour}"/>')
        if len(path) > 1:
            parts.append(_polyline(path, colour))
    parts.append("</svg>")
    return "".join(parts)


def _polyline(points: list[str], colour: str) -> str:
    return (
        f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="1.6"/>'
    )
