"""What predicts a win (issue 15): the statistics and the words. Pure: counts in, lines out.

The store counts closed deals (won / lost / walked away) by their last completed review, per
feature (a flag, or a key answer) and in total (`dealcoach.store.insights`). Here:

- a win rate with its **Wilson score interval** at 90 % (z = 1.6449): for k wins out of n,
  centre (p + z²/2n) / (1 + z²/n), half-width z·√(p(1−p)/n + z²/4n²) / (1 + z²/n). Unlike the
  plain p ± z·√(p(1−p)/n) it stays inside 0..1 and is honest for small n and rates near 0 or 1;
- the **threshold**: a feature's line is shown only when at least `MIN_CLOSED_DEALS` (20)
  closed deals back it — with and without the feature together, i.e. every closed deal in
  scope — and both groups have at least one deal (otherwise there is nothing to compare);
- the line, per locale: "Deals whose economic buyer's agenda was confirmed: won 12 of 15
  (80 %, 90 % interval 60–92 %); not confirmed: 4 of 14 (29 %, 90 % interval 14–49 %)".

Key answers come first (economic buyer confirmed, champion tested, customer ready), then the
flags, the largest gap between the two win rates first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dealcoach.coach.markup import Flavor
from dealcoach.coach.plan_text import escape, text

Z90 = 1.6449
MIN_CLOSED_DEALS = 20
ANSWER_FEATURES = ("economic_buyer_confirmed", "champion_tested", "customer_ready")


def wilson(won: int, deals: int, z: float = Z90) -> tuple[float, float] | None:
    """The Wilson score interval of won/deals (None for no deals)."""
    if deals <= 0:
        return None
    if not 0 <= won <= deals:
        raise ValueError(f"won {won} is not between 0 and {deals}")
    p = won / deals
    z2 = z * z
    denominator = 1 + z2 / deals
    centre = (p + z2 / (2 * deals)) / denominator
    half = z * math.sqrt(p * (1 - p) / deals + z2 / (4 * deals * deals)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def percent(share: float) -> int:
    """A share as a whole percentage, halves rounded up (0.125 → 13)."""
    return math.floor(share * 100 + 0.5)


@dataclass(frozen=True)
class Rate:
    won: int
    deals: int

    @property
    def rate(self) -> float | None:
        return self.won / self.deals if self.deals else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.won, self.deals)


@dataclass(frozen=True)
class FeatureInsight:
    kind: str  # "answer" | "flag"
    feature: str
    with_feature: Rate
    without: Rate

    @property
    def closed(self) -> int:
        return self.with_feature.deals + self.without.deals

    @property
    def shown(self) -> bool:
        return (
            self.closed >= MIN_CLOSED_DEALS
            and self.with_feature.deals > 0
            and self.without.deals > 0
        )

    @property
    def gap(self) -> float:
        a, b = self.with_feature.rate, self.without.rate
        return abs(a - b) if a is not None and b is not None else 0.0


def feature_insights(
    deals: int, won: int, features: Iterable[tuple[str, str, int, int]]
) -> list[FeatureInsight]:
    """From the totals and `(kind, feature, deals_with, won_with)` counts: every feature with
    and without, key answers first (in `ANSWER_FEATURES` order), then flags by gap."""
    out: list[FeatureInsight] = []
    for kind, feature, n, k in features:
        out.append(FeatureInsight(kind, feature, Rate(k, n), Rate(won - k, deals - n)))

    def order(item: FeatureInsight) -> tuple[int, float, str]:
        if item.kind == "answer" and item.feature in ANSWER_FEATURES:
            return (0, float(ANSWER_FEATURES.index(item.feature)), item.feature)
        return (1, -item.gap, item.feature)

    return sorted(out, key=order)


def rate_text(rate: Rate, locale: str | None) -> tuple[str, str]:
    """(`80 %`, `90 % interval 60–92 %`) for a rate; dashes when there are no deals."""
    share, interval = rate.rate, rate.interval
    if share is None or interval is None:
        return "–", "–"
    return (
        text(locale, "insights.rate", pct=percent(share)),
        text(locale, "insights.interval", low=percent(interval[0]), high=percent(interval[1])),
    )


def feature_labels(
    item: FeatureInsight, locale: str | None, flag_labels: Mapping[str, str], flavor: Flavor
) -> tuple[str, str]:
    """(with, without) labels of a feature in the locale."""
    if item.kind == "flag":
        label = escape(flag_labels.get(item.feature, item.feature), flavor)
        return text(locale, "insights.flag", flag=label), text(locale, "insights.flag.without")
    key = f"insights.feature.{item.feature}"
    return text(locale, key), text(locale, f"{key}.without")


def insight_line(
    item: FeatureInsight,
    locale: str | None,
    flag_labels: Mapping[str, str] | None = None,
    flavor: Flavor = "text",
) -> str:
    with_label, without_label = feature_labels(item, locale, flag_labels or {}, flavor)
    rate, interval = rate_text(item.with_feature, locale)
    rate_without, interval_without = rate_text(item.without, locale)
    return text(
        locale,
        "insights.line",
        with_label=with_label,
        won=item.with_feature.won,
        deals=item.with_feature.deals,
        rate=rate,
        interval=interval,
        without_label=without_label,
        won_without=item.without.won,
        deals_without=item.without.deals,
        rate_without=rate_without,
        interval_without=interval_without,
    )


def insight_lines(
    items: Iterable[FeatureInsight],
    locale: str | None,
    flag_labels: Mapping[str, str] | None = None,
    flavor: Flavor = "text",
) -> list[str]:
    """The lines of the features that are shown (see `FeatureInsight.shown`)."""
    return [insight_line(i, locale, flag_labels, flavor) for i in items if i.shown]
