"""The digest's charts, drawn with matplotlib (Agg, no display, no pyplot state):

- `trend_chart_png(weeks, locale)`: the 8-week trend — bars for reviews per week, a line for
  the win-win share (0–100 % on its own axis) — with a title, a legend and axis labels in the
  manager's language.
- `mix_chart_png(weeks, mix, locale)`: the team's recommendation mix over the same 8 weeks,
  stacked bars per recommendation, labelled with the coach's own recommendation names.
- `digest_image_png(...)`: both in one compact, palette-quantised image for the Teams card
  (an Adaptive Card image travels inside the card, which Teams keeps small).

Wording (titles, legend, axes, alt texts) is in `prompts/<locale>/coaching.yaml`
(`chart_*`) and `prompts/<locale>/digest/strings.yaml` (`text.chart_alt`); recommendation
names come from the question bank's labels. `chart_alt_text` / `mix_alt_text` say in words
what the charts show, for screen readers and clients that show no images. `chart_helps`
decides whether a chart is worth sending: at least two weeks with reviews in the window.
Rendering is deterministic (no timestamps in the PNG): the same data gives the same bytes.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Protocol

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from dealcoach.coach.bank import LOCALES, load_bank
from dealcoach.digest.render import text
from dealcoach.ui_text import translate

WIDTH, HEIGHT = 800, 400  # pixels of each Slack chart
DPI = 100
MIN_WEEKS_WITH_REVIEWS = 2
RECOMMENDATIONS = ("pursue", "strengthen", "renegotiate", "walk_away")

BAR = "#4a80c8"
LINE = "#1e9650"
MIX_COLOURS = {
    "pursue": "#1e9650",
    "strengthen": "#e0a020",
    "renegotiate": "#8e44ad",
    "walk_away": "#c0392b",
}
_PNG_METADATA = {"Software": None}  # no version string: same bytes across runs


class TrendPoint(Protocol):
    """What the charts read of a week (`compose.WeekPoint`)."""

    @property
    def week(self) -> str: ...

    @property
    def reviews(self) -> int: ...

    @property
    def win_win_share(self) -> float | None: ...


def _locale(locale: str) -> str:
    return locale if locale in LOCALES else "en"


def ct(locale: str, key: str, **values: object) -> str:
    return translate("coaching", _locale(locale), key, **values)


def chart_helps(weeks: Sequence[TrendPoint]) -> bool:
    """Attach a chart only when at least two weeks of the window had reviews."""
    return sum(1 for p in weeks if p.reviews > 0) >= MIN_WEEKS_WITH_REVIEWS


def _week_label(week: str) -> str:
    """`2026-W46` → `W46`."""
    return "W" + week.rsplit("W", 1)[-1] if "W" in week else week


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)}%"


def chart_alt_text(weeks: Sequence[TrendPoint], locale: str) -> str:
    """The trend chart in words."""
    reviews = ", ".join(f"{_week_label(p.week)} {p.reviews}" for p in weeks)
    shares = ", ".join(f"{_week_label(p.week)} {_percent(p.win_win_share)}" for p in weeks)
    return text(locale, "chart_alt", reviews=reviews, shares=shares)


def recommendation_names(locale: str) -> dict[str, str]:
    labels = load_bank(_locale(locale)).labels.recommendations
    return {k: str(labels.get(k, k)) for k in RECOMMENDATIONS}  # type: ignore[call-overload]


def mix_alt_text(weeks: Sequence[TrendPoint], mix: Sequence[Mapping[str, int]], locale: str) -> str:
    """The recommendation-mix chart in words."""
    names = recommendation_names(locale)
    parts = []
    for point, counts in zip(weeks, mix, strict=False):
        shown = ", ".join(f"{names[k]} {counts[k]}" for k in RECOMMENDATIONS if counts.get(k))
        parts.append(f"{_week_label(point.week)} {shown or '0'}")
    return ct(locale, "chart_mix_alt", weeks="; ".join(parts))


# --- drawing ----------------------------------------------------------------------------------


def _draw_trend(fig: Figure, ax: object, weeks: Sequence[TrendPoint], locale: str) -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    xs = list(range(len(weeks)))
    label = ct(locale, "chart_reviews")
    bars = ax.bar(xs, [p.reviews for p in weeks], color=BAR, width=0.6, label=label)
    ax.set_xticks(xs, [_week_label(p.week) for p in weeks])
    ax.set_xlabel(ct(locale, "chart_week"))
    ax.set_ylabel(ct(locale, "chart_count_axis"))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    peak = max((p.reviews for p in weeks), default=0)
    ax.set_ylim(0, max(peak, 1) * 1.35)  # room for the legend
    share = ax.twinx()
    ys = [None if p.win_win_share is None else p.win_win_share * 100 for p in weeks]
    (line,) = share.plot(
        xs,
        [float("nan") if y is None else y for y in ys],
        color=LINE,
        marker="o",
        linewidth=2,
        label=ct(locale, "chart_win_win"),
    )
    share.set_ylim(0, 135)
    share.set_yticks([0, 25, 50, 75, 100])
    share.set_ylabel(ct(locale, "chart_share_axis"))
    ax.set_title(ct(locale, "chart_trend_title"))
    ax.legend(handles=[bars, line], loc="upper left", frameon=False, fontsize="small")
    ax.spines[["top"]].set_visible(False)
    share.spines[["top"]].set_visible(False)


def _draw_mix(
    ax: object, weeks: Sequence[TrendPoint], mix: Sequence[Mapping[str, int]], locale: str
) -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    names = recommendation_names(locale)
    xs = list(range(len(weeks)))
    bottom = [0] * len(weeks)
    for key in RECOMMENDATIONS:
        values = [int((mix[i] if i < len(mix) else {}).get(key, 0)) for i in xs]
        ax.bar(xs, values, bottom=bottom, color=MIX_COLOURS[key], width=0.6, label=names[key])
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xticks(xs, [_week_label(p.week) for p in weeks])
    ax.set_xlabel(ct(locale, "chart_week"))
    ax.set_ylabel(ct(locale, "chart_count_axis"))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max(max(bottom, default=0), 1) * 1.3)
    ax.set_title(ct(locale, "chart_mix_title"))
    ax.legend(loc="upper left", ncols=4, frameon=False, fontsize="small")
    ax.spines[["top", "right"]].set_visible(False)


def trend_figure(weeks: Sequence[TrendPoint], locale: str = "en") -> Figure:
    fig = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, layout="tight")
    _draw_trend(fig, fig.add_subplot(), weeks, locale)
    return fig


def mix_figure(
    weeks: Sequence[TrendPoint], mix: Sequence[Mapping[str, int]], locale: str = "en"
) -> Figure:
    fig = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, layout="tight")
    _draw_mix(fig.add_subplot(), weeks, mix, locale)
    return fig


def _png(fig: Figure, *, palette: bool = False) -> bytes:
    FigureCanvasAgg(fig)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=fig.dpi, metadata=_PNG_METADATA)
    data = out.getvalue()
    if not palette:
        return data
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB").quantize(colors=32)
    small = io.BytesIO()
    image.save(small, format="PNG", optimize=True)
    return small.getvalue()


def trend_chart_png(weeks: Sequence[TrendPoint], locale: str = "en") -> bytes:
    """A WIDTH×HEIGHT PNG of the 8-week trend (oldest week first)."""
    return _png(trend_figure(weeks, locale))


def mix_chart_png(
    weeks: Sequence[TrendPoint], mix: Sequence[Mapping[str, int]], locale: str = "en"
) -> bytes:
    """A WIDTH×HEIGHT PNG of the recommendation mix per week (same weeks as the trend)."""
    return _png(mix_figure(weeks, mix, locale))


def digest_image_png(
    weeks: Sequence[TrendPoint], mix: Sequence[Mapping[str, int]], locale: str = "en"
) -> bytes:
    """Both charts, one above the other, small and palette-quantised (for the Teams card)."""
    fig = Figure(figsize=(6.4, 6.0), dpi=80, layout="tight")
    top, bottom = fig.subplots(2, 1)
    _draw_trend(fig, top, weeks, locale)
    _draw_mix(bottom, weeks, mix, locale)
    return _png(fig, palette=True)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
