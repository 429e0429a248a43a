"""Charts for the reports as inline SVG, written here (WeasyPrint draws inline SVG).

Two charts: the trend of certification rates over the years (one line per group) and the
communes ranked by their rate, each bar in the colour of its map class, so chart and map
read alike. Text is DejaVu Sans like the page, NFC, escaped for XML. Sizes are CSS pixels.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from geoservice.render.classify import css_colour
from geoservice.text import nfc

FONT = "DejaVu Sans"
INK = "#212121"
GRID = "#d0d0d0"
# Colour-blind-safe line colours (Okabe-Ito), one per key group.
LINE_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00")
MARKERS = ("circle", "square", "diamond", "circle", "square")
RANK_ROWS = 30  # more communes than this: the highest and lowest RANK_ROWS / 2 are drawn
ROW_HEIGHT = 13


def _text(x: float, y: float, text: str, size: float = 10, anchor: str = "start",
          weight: str = "normal", fill: str = INK) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-family={quoteattr(FONT)} '
            f'font-size="{size}" font-weight="{weight}" text-anchor="{anchor}" '
            f'fill="{fill}">{escape(nfc(text))}</text>')


def _svg(width: float, height: float, body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
            f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
            f'aria-label={quoteattr(nfc(title))}>' + "".join(body) + "</svg>")


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"/>'
    if kind == "diamond":
        points = f"{x:.1f},{y - 4.5:.1f} {x + 4.5:.1f},{y:.1f} {x:.1f},{y + 4.5:.1f} " \
                 f"{x - 4.5:.1f},{y:.1f}"
        return f'<polygon points="{points}" fill="{colour}"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.8" fill="{colour}"/>'


def trend_chart(trend: list[dict], series: list[tuple[str, str]], title: str, fmt,
                width: float = 660, height: float = 250) -> str:
    """A line chart of rates (0–100 %) per year; `series` is [(key, label)] of `rates`."""
    left, right, top, bottom = 52, 170, 14, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    years = [row["year"] for row in trend]
    body = []
    for tick in range(0, 101, 25):
        y = top + plot_h * (1 - tick / 100)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                    f'stroke="{GRID}" stroke-width="0.8"/>')
        body.append(_text(left - 6, y + 3.5, fmt.rate(tick / 100).replace(",0", "")
                          .replace(".0", ""), 9, "end"))

    def x_of(index: int) -> float:
        return left + (plot_w * (index + 0.5) / len(years) if years else 0)

    for index, year in enumerate(years):
        body.append(_text(x_of(index), top + plot_h + 16, str(year), 10, "middle"))
    for number, (key, label) in enumerate(series):
        colour, marker = LINE_COLOURS[number % 5], MARKERS[number % 5]
        points = [(x_of(i), top + plot_h * (1 - row["rates"][key]))
                  for i, row in enumerate(trend) if row["rates"].get(key) is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                        f'stroke-width="2"/>')
        body += [_marker(marker, x, y, colour) for x, y in points]
        legend_y = top + 12 + number * 34
        body.append(_marker(marker, left + plot_w + 18, legend_y - 3.5, colour))
        for line, part in enumerate(_wrap(label, 22)):
            body.append(_text(left + plot_w + 28, legend_y + line * 12, part, 9.5))
    return _svg(width, height, body, title)


def ranking_chart(rows: list[tuple[str, float | None]], style, title: str, fmt,
                  more_label: str, limits=(), width: float = 660) -> str:
    """Horizontal bars of communes ranked by rate, coloured by the map's classes.

    `rows` are (name, rate); communes without a rate are left out. With more than
    `RANK_ROWS` communes only the highest and lowest halves are drawn, with a gap row
    saying how many are between. `limits` are the class bounds a printed rate must not
    cross (`Formatter.rate`).
    """
    ranked = sorted([(n, r) for n, r in rows if r is not None], key=lambda row: -row[1])
    shown: list = ranked
    hidden = 0
    if len(ranked) > RANK_ROWS:
        half = RANK_ROWS // 2
        hidden = len(ranked) - 2 * half
        shown = [*ranked[:half], None, *ranked[-half:]]
    left, right, top = 170, 56, 18
    plot_w = width - left - right
    height = top + ROW_HEIGHT * len(shown) + 8
    body = []
    for tick in range(0, 101, 25):
        x = left + plot_w * tick / 100
        body.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 6}" '
                    f'stroke="{GRID}" stroke-width="0.8"/>')
        body.append(_text(x, top - 7, fmt.rate(tick / 100).replace(",0", "")
                          .replace(".0", ""), 8.5, "middle"))
    for index, row in enumerate(shown):
        y = top + index * ROW_HEIGHT
        if row is None:
            body.append(_text(left + plot_w / 2, y + 10, more_label.format(count=hidden),
                              8.5, "middle", fill="#616161"))
            continue
        name, exact_rate = row
        rate = float(exact_rate)
        entry = style.entry_for_value(rate)
        colour = css_colour(entry.colour) if entry is not None else GRID
        body.append(_text(left - 6, y + 10, _clip(name, 28), 8.5, "end"))
        body.append(f'<rect x="{left}" y="{y + 2:.1f}" width="{plot_w * rate:.1f}" '
                    f'height="{ROW_HEIGHT - 4}" fill="{colour}" stroke="#9e9e9e" '
                    f'stroke-width="0.4"/>')
        body.append(_text(left + plot_w * rate + 4, y + 10, fmt.rate(exact_rate, limits),
                          8.5))
    return _svg(width, height, body, title)


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[:length - 1] + "…"
