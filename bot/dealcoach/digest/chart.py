"""The digest's 8-week trend as a small PNG: bars for reviews per week, a line for the win-win
share (0–100 %), drawn in pure Python (no image library) and encoded by `encode_png`.

`trend_chart_png(weeks, locale)` is a pure function of the points (`DigestModel.history`,
oldest first, the digest's week last): the same data gives the same bytes. Labels are a built-in
3×5 pixel font (digits, `W`, `%`): the peak review count at the top left, the share scale on the
right, `W39`…`W46` under the bars. Everything else a reader needs — what the colours mean, the
numbers — is in `chart_alt_text`, which the notifier sends as the image's alt text.

`chart_helps(weeks)` decides whether a chart is worth attaching: at least two weeks with
reviews in the window (a chart of zeros, or of a single bar, helps nobody).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from typing import Protocol

from dealcoach.digest.render import text

WIDTH, HEIGHT = 640, 240
MIN_WEEKS_WITH_REVIEWS = 2

RGB = tuple[int, int, int]
BACKGROUND: RGB = (255, 255, 255)
BAR: RGB = (74, 128, 200)
LINE: RGB = (30, 150, 80)
AXIS: RGB = (70, 70, 70)
GRID: RGB = (225, 225, 225)
LABEL: RGB = (90, 90, 90)

# plot area (pixels): labels left, right and below
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 596, 16, 208
_SCALE = 2  # font pixel size
_FONT = {  # 3×5 (W: 5×5), rows top to bottom
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
    "W": ("10001", "10001", "10101", "10101", "01010"),
    "%": ("101", "001", "010", "100", "101"),
}

class TrendPoint(Protocol):
    """What the chart reads of a week (`compose.WeekPoint`)."""

    @property
    def week(self) -> str: ...

    @property
    def reviews(self) -> int: ...

    @property
    def win_win_share(self) -> float | None: ...


def chart_helps(weeks: Sequence[TrendPoint]) -> bool:
    """Attach a chart only when at least two weeks of the window had reviews."""
    return sum(1 for p in weeks if p.reviews > 0) >= MIN_WEEKS_WITH_REVIEWS


def chart_alt_text(weeks: Sequence[TrendPoint], locale: str) -> str:
    """The chart in words, for screen readers and clients that show no images."""
    reviews = ", ".join(f"{_week_label(p.week)} {p.reviews}" for p in weeks)
    shares = ", ".join(
        f"{_week_label(p.week)} "
        + ("–" if p.win_win_share is None else f"{round(p.win_win_share * 100)}%")
        for p in weeks
    )
    # Wording in prompts/<locale>/digest/strings.yaml (text.chart_alt).
    return text(locale, "chart_alt", reviews=reviews, shares=shares)


# --- PNG ----------------------------------------------------------------------------------------


def encode_png(width: int, height: int, rgb: bytes | bytearray) -> bytes:
    """An 8-bit RGB PNG (colour type 2, no interlace, filter "none" on every row) of
    `width`×`height` from `rgb`, row-major, 3 bytes a pixel. Deterministic."""
    stride = width * 3
    if width <= 0 or height <= 0 or len(rgb) != stride * height:
        raise ValueError(f"expected {stride * height} bytes for {width}×{height}, got {len(rgb)}")
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        raw.extend(rgb[y * stride : (y + 1) * stride])

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


class _Canvas:
    def __init__(self, width: int, height: int, fill: RGB) -> None:
        self.width, self.height = width, height
        self.px = bytearray(bytes(fill) * (width * height))

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: RGB) -> None:
        """Fill [x0, x1) × [y0, y1), clipped to the canvas."""
        x0, x1 = max(0, x0), min(self.width, x1)
        y0, y1 = max(0, y0), min(self.height, y1)
        if x0 >= x1 or y0 >= y1:
            return
        run = bytes(color) * (x1 - x0)
        for y in range(y0, y1):
            start = (y * self.width + x0) * 3
            self.px[start : start + len(run)] = run

    def dot(self, x: int, y: int, radius: int, color: RGB) -> None:
        self.rect(x - radius, y - radius, x + radius + 1, y + radius + 1, color)

    def line(self, x0: int, y0: int, x1: int, y1: int, radius: int, color: RGB) -> None:
        """A thick line: a square brush stepped along the longer axis."""
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for i in range(steps + 1):
            x = x0 + round((x1 - x0) * i / steps)
            y = y0 + round((y1 - y0) * i / steps)
            self.dot(x, y, radius, color)

    def text(self, x: int, y: int, value: str, color: RGB) -> None:
        """`value` in the 3×5 font, top-left at (x, y); unknown characters leave a gap."""
        for char in value:
            glyph = _FONT.get(char)
            if glyph is not None:
                for row, bits in enumerate(glyph):
                    for col, bit in enumerate(bits):
                        if bit == "1":
                            self.rect(
                                x + col * _SCALE,
                                y + row * _SCALE,
                                x + (col + 1) * _SCALE,
                                y + (row + 1) * _SCALE,
                                color,
                            )
            x += _advance(char)

    @staticmethod
    def text_width(value: str) -> int:
        return max(0, sum(_advance(c) for c in value) - _SCALE)


def _advance(char: str) -> int:
    glyph = _FONT.get(char)
    return ((len(glyph[0]) if glyph else 3) + 1) * _SCALE


def _week_label(week: str) -> str:
    """`2026-W46` → `W46`."""
    return "W" + week.rsplit("W", 1)[-1] if "W" in week else week


def trend_chart_png(weeks: Sequence[TrendPoint], locale: str = "en") -> bytes:
    """A 640×240 PNG of `weeks` (oldest first): review bars, the win-win share line, a
    baseline, and 3×5-pixel labels. `locale` is accepted for the labels' sake; they are digits,
    `W` and `%`, the same in every locale we ship, so today it changes nothing."""
    del locale  # labels are locale-neutral (see docstring)
    canvas = _Canvas(WIDTH, HEIGHT, BACKGROUND)
    plot_h = _BOTTOM - _TOP
    n = max(len(weeks), 1)
    slot = (_RIGHT - _LEFT) / n
    bar_w = max(2, round(slot * 0.6))
    peak = max((p.reviews for p in weeks), default=0)

    # grid at 50 % and 100 % of the share scale (= half and full peak), dotted
    for frac in (0.5, 1.0):
        y = _BOTTOM - round(plot_h * frac)
        for x in range(_LEFT, _RIGHT, 4):
            canvas.rect(x, y, x + 2, y + 1, GRID)

    centres: list[int] = []
    for i, point in enumerate(weeks):
        cx = round(_LEFT + slot * (i + 0.5))
        centres.append(cx)
        if peak and point.reviews > 0:
            h = max(2, round(point.reviews / peak * plot_h))
            canvas.rect(cx - bar_w // 2, _BOTTOM - h, cx - bar_w // 2 + bar_w, _BOTTOM, BAR)
        label = _week_label(point.week)
        canvas.text(cx - canvas.text_width(label) // 2, _BOTTOM + 10, label, LABEL)

    # baseline (drawn after the bars so it stays one continuous line)
    canvas.rect(_LEFT - 4, _BOTTOM, _RIGHT + 4, _BOTTOM + 2, AXIS)

    # win-win share: line segments between consecutive weeks that had reviews, a dot on each
    previous: tuple[int, int] | None = None
    for cx, point in zip(centres, weeks, strict=True):
        share = point.win_win_share
        if share is None:
            previous = None
            continue
        y = _BOTTOM - round(max(0.0, min(1.0, share)) * plot_h)
        if previous is not None:
            canvas.line(previous[0], previous[1], cx, y, 1, LINE)
        canvas.dot(cx, y, 4, LINE)
        previous = (cx, y)

    # scales: the peak review count (bars) on the left, the share on the right
    canvas.text(_LEFT - 8 - canvas.text_width(str(peak)), _TOP - 5, str(peak), BAR)
    canvas.text(_LEFT - 8 - canvas.text_width("0"), _BOTTOM - 5, "0", BAR)
    for frac, label in ((1.0, "100%"), (0.5, "50%"), (0.0, "0%")):
        # Right-aligned to the image edge, so "100%" is never cut off.
        x = WIDTH - 2 - _Canvas.text_width(label)
        canvas.text(x, _BOTTOM - round(plot_h * frac) - 5, label, LINE)

    return encode_png(WIDTH, HEIGHT, canvas.px)
